//! Indexes of columns whose values differ by one byte: statuses, connection states, booleans,
//! regions, rings, firmware versions, small counts — most of what a load indexes.
//!
//! Built as lists of rows per value, such a column cost 3–5 ns a row: each row pushed onto its
//! value's list, the next push of the same value waiting on the last, and every list turned into
//! a bitmap after. Here each value's bitmap is made 64 values at a time straight from the bytes
//! (eight at a time by a word-wide compare), spread onto the rows the column has values in (a
//! `pdep` a word; sparse columns stay with the lists on CPUs without BMI2), and handed to
//! roaring whole. On 1M devices, one thread: `status` 5.6 →
//! 1.0 ms, `capabilities.iotEdge` 4.5 → 1.1, `properties.reported.connectivity` 3.2 → 0.9; the
//! index phase 71 → 62 ms. Each value costs a pass over the bytes, so columns of more than
//! [`MAX_KEYS`] values stay with the lists (at 9 to 16 values the two were even).

use roaring::RoaringBitmap;

use super::{IndexKey, ValueIndex};
use crate::store::{Column, Kind};
use crate::swar::bytes_equal;

/// At most this many distinct values in a column indexed here (each costs a pass over the
/// bytes).
const MAX_KEYS: usize = 8;

/// The index of a column whose values are told apart by one byte ([`Column::byte_values`])
/// and has at most [`MAX_KEYS`] of them, keyed as [`build_by_rows`](super::build_by_rows)
/// keys them; `None` for any other column.
pub(super) fn build(c: &Column) -> Option<ValueIndex> {
    let v = c.byte_values()?;
    if v.rows.is_some() && !can_spread() {
        return None;
    }
    let mut seen = [false; 256];
    let mut distinct = Vec::new();
    for &b in v.bytes {
        if !seen[usize::from(b)] {
            seen[usize::from(b)] = true;
            distinct.push(b);
            if distinct.len() > MAX_KEYS {
                return None;
            }
        }
    }
    let dict = c.dictionary();
    // Only kinds whose keys the byte alone tells; any other column (objects among nulls,
    // timestamps, strings without a dictionary) is left to the lists of rows.
    let key = |b: u8| -> Option<IndexKey> {
        Some(match v.kind {
            None => match Kind::of_byte(usize::from(b)) {
                Kind::Null => IndexKey::Null,
                Kind::False => IndexKey::Bool(false),
                Kind::True => IndexKey::Bool(true),
                _ => return None,
            },
            Some(Kind::String) => IndexKey::String(dict?.get(usize::from(b))?.clone()),
            Some(k @ (Kind::Int | Kind::UInt)) => {
                IndexKey::from_value(c.decode_value(k as u8, u64::from(b)))?
            }
            _ => return None,
        })
    };
    let keys: Vec<(IndexKey, u8)> = distinct
        .iter()
        .map(|&b| key(b).map(|k| (k, b)))
        .collect::<Option<_>>()?;
    let mut entries: Vec<(IndexKey, RoaringBitmap)> = keys
        .into_iter()
        .map(|(k, b)| -> Option<(IndexKey, RoaringBitmap)> {
            let values = positions_of(v.bytes, b);
            let rows = match v.rows {
                None => values,
                Some(present) => spread(&values, present)?,
            };
            Some((k, bitmap_of_words(&rows)))
        })
        .collect::<Option<_>>()?;
    entries.sort_unstable_by(|a, b| a.0.cmp_key(&b.0));
    Some(ValueIndex::from_sorted(entries))
}

/// A bit per byte of `bytes`, set where it is `b`, 64 to a word, eight bytes at a time
/// ([`bytes_equal`]: 0.13 ns a byte against 0.5 for a per-byte compare the compiler did not
/// vectorise).
fn positions_of(bytes: &[u8], b: u8) -> Vec<u64> {
    bytes
        .chunks(64)
        .map(|block| {
            let mut words = block.chunks_exact(8);
            let mut m = 0u64;
            let mut at = 0;
            for w in &mut words {
                m |= bytes_equal(u64::from_le_bytes(w.try_into().unwrap_or_default()), b) << at;
                at += 8;
            }
            for (i, &x) in words.remainder().iter().enumerate() {
                m |= u64::from(x == b) << (at + i);
            }
            m
        })
        .collect()
}

fn bitmap_of_words(words: &[u64]) -> RoaringBitmap {
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    RoaringBitmap::from_lsb0_bytes(0, &bytes)
}

/// Whether [`spread`] can run here: sparse columns are left to the lists of rows where it
/// cannot.
pub(super) fn can_spread() -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("bmi2") {
        return true;
    }
    false
}

/// Bits of values (the `i`-th bit for the `i`-th value) moved onto the rows that hold the
/// values (`present`, a bit per row): the `i`-th value's bit lands on the `i`-th present row.
/// By BMI2's `pdep`, one instruction a word; `None` without it. Depositing bit by bit
/// instead, the load's index phase took 68–77 ms against 58–64 (5 runs each, 1M devices):
/// slower than the lists of rows (71 ms), so the `unsafe` call pays for itself and a CPU
/// without BMI2 indexes sparse columns by the lists.
fn spread(values: &[u64], present: &[u64]) -> Option<Vec<u64>> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("bmi2") {
        // SAFETY: `spread_bmi2` only needs the CPU to have BMI2 (for `pdep`), checked just
        // above; it is otherwise safe code.
        return Some(unsafe { spread_bmi2(values, present) });
    }
    let _ = (values, present);
    None
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2")]
fn spread_bmi2(values: &[u64], present: &[u64]) -> Vec<u64> {
    spread_with(values, present, |bits, mask| {
        std::arch::x86_64::_pdep_u64(bits, mask)
    })
}

#[cfg(any(target_arch = "x86_64", test))]
#[inline(always)]
fn spread_with(values: &[u64], present: &[u64], pdep: impl Fn(u64, u64) -> u64) -> Vec<u64> {
    let mut taken = 0usize;
    present
        .iter()
        .map(|&mask| {
            let n = mask.count_ones() as usize;
            let bits = take(values, taken, n);
            taken += n;
            pdep(bits, mask)
        })
        .collect()
}

/// `n` (at most 64) bits of `words` from bit `at`, as the low bits of a word (bits past the
/// end read as zero).
#[inline(always)]
fn take(words: &[u64], at: usize, n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    let (i, off) = (at / 64, at % 64);
    let lo = words.get(i).copied().unwrap_or(0) >> off;
    let hi = match off {
        0 => 0,
        _ => words.get(i + 1).copied().unwrap_or(0) << (64 - off),
    };
    let all = lo | hi;
    if n == 64 {
        all
    } else {
        all & ((1 << n) - 1)
    }
}

/// The low bits of `bits` placed, in order, on the set bits of `mask` (what `pdep` does): the
/// tests' reference for it.
#[cfg(test)]
fn deposit(mut bits: u64, mask: u64) -> u64 {
    let mut out = 0;
    let mut m = mask;
    while m != 0 {
        let low = m & m.wrapping_neg();
        out |= low & (bits & 1).wrapping_neg();
        bits >>= 1;
        m ^= low;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Spreading puts the `i`-th value's bit on the `i`-th present row, by `pdep` (where
        /// the CPU has it) as bit by bit.
        #[test]
        fn spread_puts_each_value_on_its_row(
            present in prop::collection::vec(any::<u64>(), 0..40),
            seed in any::<u64>(),
        ) {
            let rows: Vec<u32> = (0..present.len() as u32 * 64)
                .filter(|&r| present[r as usize / 64] >> (r % 64) & 1 == 1)
                .collect();
            // Value i is set when bit i of a simple sequence from the seed is.
            let set: Vec<bool> = (0..rows.len() as u64)
                .map(|i| (seed.rotate_left((i % 64) as u32) ^ i.wrapping_mul(0x9E37)) & 1 == 1)
                .collect();
            let mut values = vec![0u64; rows.len().div_ceil(64)];
            for (i, _) in set.iter().enumerate().filter(|(_, &s)| s) {
                values[i / 64] |= 1 << (i % 64);
            }
            let want: Vec<u32> = rows.iter().zip(&set).filter(|(_, &s)| s).map(|(&r, _)| r).collect();
            let got = |words: Vec<u64>| -> Vec<u32> {
                (0..words.len() as u32 * 64)
                    .filter(|&r| words[r as usize / 64] >> (r % 64) & 1 == 1)
                    .collect()
            };
            prop_assert_eq!(got(spread_with(&values, &present, deposit)), want.clone());
            if let Some(words) = spread(&values, &present) {
                prop_assert_eq!(got(words), want);
            }
        }
    }

    #[test]
    fn take_reads_across_words_and_stops_at_the_end() {
        let words = [u64::MAX, 0b1011];
        assert_eq!(take(&words, 0, 64), u64::MAX);
        assert_eq!(take(&words, 62, 4), 0b1111);
        assert_eq!(take(&words, 63, 3), 0b111);
        assert_eq!(take(&words, 64, 4), 0b1011);
        assert_eq!(take(&words, 126, 10), 0);
        assert_eq!(take(&words, 5, 0), 0);
    }
}
