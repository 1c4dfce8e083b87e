//! Eight bytes at a time in a little-endian `u64` word: the first byte of a kind, for the
//! scans that look for a few bytes among many (the fast path's strings, a JSON array's
//! element boundaries), and every byte of a value, for index builds over one-byte columns.

pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of the first zero byte of `x` (and possibly of later bytes: a borrow only
/// travels upwards from a zero byte).
#[inline(always)]
pub(crate) fn first_zero(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & (ONES << 7)
}

/// Marks the first `"` or `\` of a word.
#[inline(always)]
pub(crate) fn quote_or_backslash(w: u64) -> u64 {
    first_zero(w ^ (ONES * u64::from(b'"'))) | first_zero(w ^ (ONES * u64::from(b'\\')))
}

/// The index of the first byte at or after `i` that `is` picks, or the end: eight bytes at a
/// time through `word`, which marks the first picked byte of a word in its high bit (later
/// marks may be false).
#[inline(always)]
pub(crate) fn find(
    bytes: &[u8],
    mut i: usize,
    word: impl Fn(u64) -> u64,
    is: impl Fn(u8) -> bool,
) -> usize {
    while let Some(w) = bytes.get(i..i + 8) {
        let m = word(u64::from_le_bytes(w.try_into().unwrap_or_default()));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && !is(bytes[i]) {
        i += 1;
    }
    i
}
/// Bit `i` set where byte `i` of `w` is `b` (an exact zero-byte test on `w ^ b`, no borrow
/// crossing bytes, whose eight flags a multiply gathers into one byte).
#[inline(always)]
pub(crate) fn bytes_equal(w: u64, b: u8) -> u64 {
    const LOW7: u64 = ONES * 0x7f;
    // Multiplying the flags (bit 0 of each byte) by this puts byte `i`'s flag at bit `56 + i`.
    const GATHER: u64 = 0x0102_0408_1020_4080;
    let x = w ^ (ONES * u64::from(b));
    let zero = !(((x & LOW7) + LOW7) | x) & !LOW7;
    (zero >> 7).wrapping_mul(GATHER) >> 56
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_equal_marks_every_matching_byte_and_no_other() {
        let words = [
            0u64,
            u64::MAX,
            0x0001_0203_0405_0607,
            0x8000_7f01_0080_ff00,
            0x0101_0101_0101_0101,
            0x3132_0033_3400_3536,
        ];
        for w in words {
            for b in [0u8, 1, 0x7f, 0x80, 0xff, b'3'] {
                let want = (0..8)
                    .filter(|&i| (w >> (8 * i)) as u8 == b)
                    .fold(0u64, |m, i| m | 1 << i);
                assert_eq!(bytes_equal(w, b), want, "{w:#x} {b:#x}");
            }
        }
    }
}
