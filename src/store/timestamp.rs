//! ISO 8601 UTC timestamps (`2024-05-01T12:34:56.1234567Z`) packed into 8 bytes.
//!
//! Twins carry many timestamps (`lastActivityTime`, every `$metadata` `$lastUpdated`); kept as
//! text they were about a third of the store. A string that matches exactly
//! `YYYY-MM-DDTHH:MM:SS[.f{1,7}]Z` is stored as a count of 100 ns ticks in a mixed radix
//! (not a calendar: no date arithmetic is done, and so no date is ever "corrected") plus the
//! number of fraction digits written, which makes the encoding lossless: [`Timestamp::text`]
//! gives back the original bytes. Anything else stays an ordinary string.

use std::fmt;
use std::ops::Deref;

/// A packed timestamp: ticks in the mixed radix below, and how many fraction digits the text
/// had (0–7; 0 means no `.` at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub(crate) ticks: u64,
    pub(crate) digits: u8,
}

const TEXT_MAX: usize = 28;

/// A timestamp's text, on the stack.
#[derive(Clone, Copy)]
pub struct TimeText {
    buf: [u8; TEXT_MAX],
    len: u8,
}

impl Deref for TimeText {
    type Target = str;

    fn deref(&self) -> &str {
        // Only ASCII digits and `-T:.Z` are ever written into the buffer.
        std::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or_default()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

fn digits(b: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    Some(v)
}

impl Timestamp {
    /// Parses the exact form `YYYY-MM-DDTHH:MM:SS[.f{1,7}]Z`; anything else is `None`.
    #[inline]
    pub fn parse(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if !(20..=TEXT_MAX).contains(&b.len()) || b[b.len() - 1] != b'Z' {
            return None;
        }
        if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let year = digits(&b[0..4])?;
        let month = digits(&b[5..7])?;
        let day = digits(&b[8..10])?;
        let hour = digits(&b[11..13])?;
        let min = digits(&b[14..16])?;
        let sec = digits(&b[17..19])?;
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || min > 59
            || sec > 60
        {
            return None;
        }
        let (frac, ndigits) = match b.len() {
            20 => (0, 0),
            n if b[19] == b'.' && n >= 22 => {
                let f = &b[20..n - 1];
                let mut v = digits(f)?;
                for _ in f.len()..7 {
                    v *= 10;
                }
                (v, f.len() as u8)
            }
            _ => return None,
        };
        let secs =
            ((((year * 12 + (month - 1)) * 31 + (day - 1)) * 24 + hour) * 60 + min) * 61 + sec;
        Some(Timestamp {
            ticks: secs * 10_000_000 + frac,
            digits: ndigits,
        })
    }

    /// The original text.
    pub fn text(&self) -> TimeText {
        let mut t = self.ticks;
        let frac = t % 10_000_000;
        t /= 10_000_000;
        let sec = t % 61;
        t /= 61;
        let min = t % 60;
        t /= 60;
        let hour = t % 24;
        t /= 24;
        let day = t % 31 + 1;
        t /= 31;
        let month = t % 12 + 1;
        let year = t / 12;
        let mut buf = [0u8; TEXT_MAX];
        let mut put = |at: usize, v: u64, width: usize| {
            let mut v = v;
            for i in (0..width).rev() {
                buf[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, year, 4);
        put(5, month, 2);
        put(8, day, 2);
        put(11, hour, 2);
        put(14, min, 2);
        put(17, sec, 2);
        let mut len = 19;
        if self.digits > 0 {
            let d = self.digits as usize;
            let mut f = frac;
            for _ in d..7 {
                f /= 10;
            }
            put(20, f, d);
            len = 20 + d;
        }
        let mut text = TimeText {
            buf,
            len: (len + 1) as u8,
        };
        text.buf[4] = b'-';
        text.buf[7] = b'-';
        text.buf[10] = b'T';
        text.buf[13] = b':';
        text.buf[16] = b':';
        if self.digits > 0 {
            text.buf[19] = b'.';
        }
        text.buf[len] = b'Z';
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_fraction_width() {
        for s in [
            "2024-05-01T12:34:56.1234567Z",
            "2024-05-01T12:34:56.1230000Z",
            "2024-05-01T12:34:56.123Z",
            "2024-05-01T12:34:56.0Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:60.9999999Z",
            "2023-02-31T00:00:00Z",
        ] {
            let t = Timestamp::parse(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(&*t.text(), s);
        }
    }

    #[test]
    fn other_forms_stay_strings() {
        for s in [
            "2024-05-01T12:34:56.12345678Z",
            "2024-05-01T12:34:56+00:00",
            "2024-05-01 12:34:56Z",
            "2024-13-01T12:34:56Z",
            "2024-05-01T12:34:56.Z",
            "2024-05-01t12:34:56Z",
            "２０２４-05-01T12:34:56Z",
            "",
        ] {
            assert_eq!(Timestamp::parse(s), None, "{s}");
        }
    }
}
