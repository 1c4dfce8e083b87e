//! A minimal streaming JSON writer into a reused `Vec<u8>`: compact (JSON Lines) or pretty
//! (2-space indent, `"key": value`, `[]`/`{}` when empty — what `az iot hub query` prints).
//!
//! It formats integers, fixed-point decimals and timestamps by hand: no `f64` ever reaches the
//! output, so the bytes cannot depend on a float formatter's version.

/// 100-nanosecond ticks since 1970-01-01T00:00:00Z, the resolution of IoT Hub timestamps.
pub(crate) type Ticks = u64;
pub(crate) const TICKS_PER_SEC: u64 = 10_000_000;

pub(crate) struct JsonWriter {
    pub(crate) buf: Vec<u8>,
    pretty: bool,
    depth: usize,
    /// No element written yet in the innermost open container.
    empty: bool,
    /// A key was just written; the next value follows it without a separator.
    after_key: bool,
    /// Primitive values written so far (array elements included, containers not).
    pub(crate) leaves: u64,
}

impl JsonWriter {
    pub(crate) fn new(pretty: bool) -> JsonWriter {
        JsonWriter {
            buf: Vec::with_capacity(1 << 17),
            pretty,
            depth: 0,
            empty: true,
            after_key: false,
            leaves: 0,
        }
    }

    /// Start a top-level record at `depth` (1 inside a pretty array, else 0); the caller has
    /// written whatever separates it from the previous record.
    pub(crate) fn start_record(&mut self, depth: usize) {
        self.depth = depth;
        self.empty = true;
        // The record's opening brace takes no separator, like a value after its key.
        self.after_key = true;
    }

    fn newline_indent(&mut self) {
        self.buf.push(b'\n');
        for _ in 0..self.depth {
            self.buf.extend_from_slice(b"  ");
        }
    }

    /// Separator before a value or key.
    fn sep(&mut self) {
        if self.after_key {
            self.after_key = false;
            return;
        }
        if !self.empty {
            self.buf.push(b',');
        }
        self.empty = false;
        if self.pretty {
            self.newline_indent();
        }
    }

    pub(crate) fn open_object(&mut self) {
        self.sep();
        self.buf.push(b'{');
        self.depth += 1;
        self.empty = true;
    }

    pub(crate) fn open_array(&mut self) {
        self.sep();
        self.buf.push(b'[');
        self.depth += 1;
        self.empty = true;
    }

    fn close(&mut self, c: u8) {
        self.depth -= 1;
        if !self.empty && self.pretty {
            self.newline_indent();
        }
        self.buf.push(c);
        self.empty = false;
    }

    pub(crate) fn close_object(&mut self) {
        self.close(b'}');
    }

    pub(crate) fn close_array(&mut self) {
        self.close(b']');
    }

    /// A key that needs no escaping (all keys the generator uses are plain ASCII). Returns
    /// where the key starts in `buf`, after any separator.
    pub(crate) fn key(&mut self, k: &str) -> usize {
        debug_assert!(!k.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20));
        self.sep();
        let start = self.buf.len();
        self.buf.push(b'"');
        self.buf.extend_from_slice(k.as_bytes());
        self.buf
            .extend_from_slice(if self.pretty { b"\": " } else { b"\":" });
        self.after_key = true;
        start
    }

    /// `"key":{` in one call.
    pub(crate) fn key_object(&mut self, k: &str) {
        self.key(k);
        self.open_object();
    }

    /// A string value, escaped per RFC 8259 (`"`, `\`, and control characters; other
    /// characters, non-ASCII included, pass through as UTF-8).
    pub(crate) fn str(&mut self, s: &str) {
        self.sep();
        self.leaves += 1;
        self.buf.push(b'"');
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let esc: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0..=0x1f => b"",
                _ => continue,
            };
            self.buf.extend_from_slice(&bytes[start..i]);
            if esc.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.buf.extend_from_slice(b"\\u00");
                self.buf.push(HEX[usize::from(b >> 4)]);
                self.buf.push(HEX[usize::from(b & 0xf)]);
            } else {
                self.buf.extend_from_slice(esc);
            }
            start = i + 1;
        }
        self.buf.extend_from_slice(&bytes[start..]);
        self.buf.push(b'"');
    }

    /// A string value made of bytes that need no escaping (ids, base64, hex).
    pub(crate) fn raw_str(&mut self, s: &[u8]) {
        debug_assert!(!s.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20));
        self.sep();
        self.leaves += 1;
        self.buf.push(b'"');
        self.buf.extend_from_slice(s);
        self.buf.push(b'"');
    }

    pub(crate) fn uint(&mut self, n: u64) {
        self.sep();
        self.leaves += 1;
        push_u64(&mut self.buf, n);
    }

    pub(crate) fn int(&mut self, n: i64) {
        self.sep();
        self.leaves += 1;
        if n < 0 {
            self.buf.push(b'-');
        }
        push_u64(&mut self.buf, n.unsigned_abs());
    }

    /// `tenths / 10` as a decimal with exactly one fractional digit: `875` → `87.5`, `50` → `5.0`.
    pub(crate) fn tenths(&mut self, tenths: u64) {
        self.sep();
        self.leaves += 1;
        push_u64(&mut self.buf, tenths / 10);
        self.buf.push(b'.');
        self.buf.push(b'0' + (tenths % 10) as u8);
    }

    pub(crate) fn bool(&mut self, b: bool) {
        self.sep();
        self.leaves += 1;
        self.buf
            .extend_from_slice(if b { b"true" } else { b"false" });
    }

    pub(crate) fn null(&mut self) {
        self.sep();
        self.leaves += 1;
        self.buf.extend_from_slice(b"null");
    }

    /// A timestamp string `YYYY-MM-DDThh:mm:ss.fffffffZ` (7 fractional digits).
    pub(crate) fn timestamp(&mut self, t: Ticks) {
        self.sep();
        self.leaves += 1;
        self.buf.push(b'"');
        push_timestamp(&mut self.buf, t);
        self.buf.push(b'"');
    }
}

pub(crate) fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// `n` in exactly `width` decimal digits, zero-padded (higher digits are dropped).
pub(crate) fn push_padded(buf: &mut Vec<u8>, n: u64, width: usize) {
    let start = buf.len();
    buf.resize(start + width, b'0');
    fill_padded(&mut buf[start..], n);
}

/// `n` in the decimal digits of `slot`, zero-padded (higher digits are dropped).
pub(crate) fn fill_padded(slot: &mut [u8], mut n: u64) {
    for d in slot.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant, "chrono-compatible
/// low-level date algorithms").
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

pub(crate) fn push_timestamp(buf: &mut Vec<u8>, t: Ticks) {
    let secs = t / TICKS_PER_SEC;
    let (y, mo, d) = civil_from_days(secs / 86_400);
    let sod = secs % 86_400;
    push_padded(buf, y, 4);
    buf.push(b'-');
    push_padded(buf, mo, 2);
    buf.push(b'-');
    push_padded(buf, d, 2);
    buf.push(b'T');
    push_padded(buf, sod / 3600, 2);
    buf.push(b':');
    push_padded(buf, sod / 60 % 60, 2);
    buf.push(b':');
    push_padded(buf, sod % 60, 2);
    buf.push(b'.');
    push_padded(buf, t % TICKS_PER_SEC, 7);
    buf.push(b'Z');
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn push_base64(buf: &mut Vec<u8>, data: &[u8]) {
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                buf.push(BASE64[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                buf.push(b'=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(t: Ticks) -> String {
        let mut b = Vec::new();
        push_timestamp(&mut b, t);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn timestamps_format_as_iso_utc_with_seven_digits() {
        assert_eq!(ts(0), "1970-01-01T00:00:00.0000000Z");
        // 2024-02-29T23:59:59.1234567Z (leap day)
        assert_eq!(
            ts(1_709_251_199 * TICKS_PER_SEC + 1_234_567),
            "2024-02-29T23:59:59.1234567Z"
        );
        assert_eq!(
            ts(1_672_531_200 * TICKS_PER_SEC),
            "2023-01-01T00:00:00.0000000Z"
        );
        assert_eq!(
            ts(1_767_225_599 * TICKS_PER_SEC + 9_999_999),
            "2025-12-31T23:59:59.9999999Z"
        );
    }

    #[test]
    fn timestamps_agree_with_chrono() {
        for secs in (0..4_102_444_800u64).step_by(86_400 * 37 + 3_607) {
            let c = chrono::DateTime::from_timestamp(secs as i64, 0).unwrap();
            let expected = c.format("%Y-%m-%dT%H:%M:%S.0000000Z").to_string();
            assert_eq!(ts(secs * TICKS_PER_SEC), expected);
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, out) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut b = Vec::new();
            push_base64(&mut b, input.as_bytes());
            assert_eq!(b, out.as_bytes());
        }
    }

    #[test]
    fn strings_escape_like_json() {
        let mut w = JsonWriter::new(false);
        w.str("a\"b\\c\nd\u{1}é");
        let text = std::str::from_utf8(&w.buf).unwrap();
        assert_eq!(text, r#""a\"b\\c\nd\u0001é""#);
        let back: String = serde_json::from_str(text).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn pretty_layout_matches_two_space_indent() {
        let mut w = JsonWriter::new(true);
        w.start_record(0);
        w.open_object();
        w.key("a");
        w.uint(1);
        w.key_object("b");
        w.close_object();
        w.key("c");
        w.open_array();
        w.str("x");
        w.tenths(50);
        w.close_array();
        w.close_object();
        assert_eq!(
            std::str::from_utf8(&w.buf).unwrap(),
            "{\n  \"a\": 1,\n  \"b\": {},\n  \"c\": [\n    \"x\",\n    5.0\n  ]\n}"
        );
    }
}
