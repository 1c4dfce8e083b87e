//! A sorted permutation of a column's string values, for the columns that have no value
//! index because their strings are nearly unique (`deviceId`, `etag`, timestamps, free-text
//! tags): `STARTSWITH`, `=` and the ranges `< <= > >=` against a string constant become a
//! binary search to one contiguous run of rows, instead of a scan of every value.
//!
//! Built lazily, on the first query that needs it ([`crate::store::Column::sorted_strings`]):
//! a load pays nothing for it (the load is what issue #2 is fighting for), a snapshot stores
//! nothing for it, and a column nobody filters that way never holds it. The price is paid once
//! per column, by the first such query: 113–240 ms for the 1,187,751 `deviceId`s of the
//! generated million-device fleet on 2 shared cores, about four of the 18–50 ms column scans
//! it replaces (after which a prefix, equality or range costs microseconds to a few ms,
//! depending on how many rows match); then 4 bytes per string value of memory. Building it
//! eagerly at load would add that to every load, for a query most loads never see.
//!
//! Order is SPEC §2.2's for strings: ordinal, by UTF-8 bytes, case-sensitive. Packed
//! timestamps are strings too and take part by their text.

use std::cmp::Ordering;

use rayon::prelude::*;
use roaring::RoaringBitmap;

use super::{bitmap_from_sorted, RangeOp};
use crate::store::{Column, Kind, ValueRef};

/// The rows of a column's string values, ordered by the value's bytes (ties by row).
pub struct SortedStrings {
    rows: Vec<u32>,
    /// Every row that holds a string.
    strings: RoaringBitmap,
}

/// The text of a string value (a packed timestamp's text is rebuilt on the stack).
fn with_text<R>(v: ValueRef<'_>, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    match v {
        ValueRef::String(s) => Some(f(s.as_bytes())),
        ValueRef::Time(t) => Some(f(t.text().as_bytes())),
        _ => None,
    }
}

/// The first 16 bytes of `s` as a big-endian number: comparing two of them orders the
/// strings by their first 16 bytes (a shorter string is padded with zeros, so equal keys
/// still need the full comparison).
fn key16(s: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    let n = s.len().min(16);
    b[..n].copy_from_slice(&s[..n]);
    u128::from_be_bytes(b)
}

/// A bitmap of rows in any order, none above `max`: a few are sorted, many are set in a
/// bitset (no sort; one byte array of `max / 8` bytes).
fn bitmap_of(rows: &[u32], max: u32) -> RoaringBitmap {
    // Ids often sort in file order (`dev-000001`, `dev-000002`, ...): then a run of them is
    // in row order already.
    if rows.is_sorted() {
        return bitmap_from_sorted(rows);
    }
    if rows.len() < 4096 || rows.len() * 64 < max as usize {
        let mut sorted = rows.to_vec();
        sorted.sort_unstable();
        return bitmap_from_sorted(&sorted);
    }
    let mut bits = vec![0u8; max as usize / 8 + 1];
    for &r in rows {
        bits[r as usize >> 3] |= 1 << (r & 7);
    }
    RoaringBitmap::from_lsb0_bytes(0, &bits)
}

impl SortedStrings {
    /// Sorts the string values of `col`; `None` when it has none.
    pub fn build(col: &Column) -> Option<SortedStrings> {
        let counts = col.kind_counts();
        let strings: u32 =
            counts[Kind::String as usize] + counts[Kind::Time as usize..].iter().sum::<u32>();
        if strings == 0 {
            return None;
        }
        // Sorting by a fixed-width prefix first keeps most comparisons off the arena (two
        // cache misses each); only strings sharing their first 16 bytes compare in full.
        let mut keyed: Vec<(u128, u32, u32)> = Vec::with_capacity(strings as usize);
        for (row, slot) in col.slots() {
            if let Some(k) = with_text(col.value_at(slot), key16) {
                keyed.push((k, slot as u32, row));
            }
        }
        let text_cmp = |a: u32, b: u32| -> Ordering {
            with_text(col.value_at(a as usize), |x| {
                with_text(col.value_at(b as usize), |y| x.cmp(y)).unwrap_or(Ordering::Equal)
            })
            .unwrap_or(Ordering::Equal)
        };
        keyed.par_sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| text_cmp(a.1, b.1))
                .then(a.2.cmp(&b.2))
        });
        let rows: Vec<u32> = keyed.iter().map(|k| k.2).collect();
        drop(keyed);
        let strings = if strings as usize == col.len() {
            col.present().clone()
        } else {
            bitmap_of(&rows, col.present().max().unwrap_or(0))
        };
        Some(SortedStrings { rows, strings })
    }

    /// Rows holding a string.
    pub fn strings(&self) -> &RoaringBitmap {
        &self.strings
    }

    /// The first position whose text is not `below` the probe.
    fn partition(&self, col: &Column, below: impl Fn(&[u8]) -> bool) -> usize {
        self.rows.partition_point(|&row| {
            col.get(row)
                .and_then(|v| with_text(v, &below))
                .unwrap_or(false)
        })
    }

    /// Rows whose string starts with `prefix` (byte-wise, case-sensitive).
    pub fn prefix(&self, col: &Column, prefix: &str) -> RoaringBitmap {
        let p = prefix.as_bytes();
        let lo = self.partition(col, |s| s < p);
        // Past the run: strings that are >= prefix and start with it.
        let hi = lo
            + self.rows[lo..].partition_point(|&row| {
                col.get(row)
                    .and_then(|v| with_text(v, |s| s.starts_with(p)))
                    .unwrap_or(false)
            });
        self.bitmap(lo, hi)
    }

    /// Rows whose string is `op` the constant (`=` with [`None`]).
    pub fn compare(&self, col: &Column, c: &str, op: Option<RangeOp>) -> RoaringBitmap {
        let c = c.as_bytes();
        let lt = self.partition(col, |s| s < c);
        let le = lt
            + self.rows[lt..].partition_point(|&row| {
                col.get(row)
                    .and_then(|v| with_text(v, |s| s == c))
                    .unwrap_or(false)
            });
        let n = self.rows.len();
        match op {
            None => self.bitmap(lt, le),
            Some(RangeOp::Lt) => self.bitmap(0, lt),
            Some(RangeOp::LtEq) => self.bitmap(0, le),
            Some(RangeOp::Gt) => self.bitmap(le, n),
            Some(RangeOp::GtEq) => self.bitmap(lt, n),
        }
    }

    /// The rows at positions `lo..hi`, as a bitmap.
    fn bitmap(&self, lo: usize, hi: usize) -> RoaringBitmap {
        let max = self.strings.max().unwrap_or(0);
        if (hi - lo) * 2 > self.rows.len() {
            // Most of the strings: the complement is the cheaper part to collect.
            let rest = bitmap_of(&self.rows[..lo], max) | bitmap_of(&self.rows[hi..], max);
            return &self.strings - rest;
        }
        bitmap_of(&self.rows[lo..hi], max)
    }

    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * 4 + self.strings.serialized_size()
    }
}
