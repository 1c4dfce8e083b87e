//! Eight bytes at a time: the first byte of a kind in a little-endian `u64` word, for the
//! scans that look for a few bytes among many (the fast path's strings, a JSON array's
//! element boundaries).

pub(super) const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of the first zero byte of `x` (and possibly of later bytes: a borrow only
/// travels upwards from a zero byte).
#[inline(always)]
pub(super) fn first_zero(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & (ONES << 7)
}

/// Marks the first `"` or `\` of a word.
#[inline(always)]
pub(super) fn quote_or_backslash(w: u64) -> u64 {
    first_zero(w ^ (ONES * u64::from(b'"'))) | first_zero(w ^ (ONES * u64::from(b'\\')))
}

/// The index of the first byte at or after `i` that `is` picks, or the end: eight bytes at a
/// time through `word`, which marks the first picked byte of a word in its high bit (later
/// marks may be false).
#[inline(always)]
pub(super) fn find(
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
