//! Roaring bitmap indexes, built once at load. Every answer is a [`RoaringBitmap`] of rows.
//!
//! A column gets a value index when it has at most [`MAX_INDEXED_VALUES`] distinct primitive
//! values (or is one of the [`FORCED`] system paths, indexed whatever their cardinality). The
//! index holds one bitmap per distinct primitive value, sorted in the cross-type order of SPEC
//! §2.2 (null < false < true < numbers < strings, strings by bytes), so that equality, `IN`,
//! ranges and string prefixes are unions of contiguous runs of bitmaps. Objects and arrays are
//! never indexed; "is defined" is the column's presence bitmap.

mod bytes;
mod sorted;

use std::cmp::Ordering;
use std::sync::OnceLock;

use rayon::prelude::*;
use roaring::{MultiOps, RoaringBitmap};

use crate::store::{Column, FastMap, Kind, ValueRef};

pub use sorted::SortedStrings;

/// Columns with more distinct primitive values than this are not indexed (unless forced).
/// 1,024 keeps the index of a million-row column to at most a few MB while covering the
/// enum-like paths people group and filter by (regions, rings, firmware versions, statuses).
pub const MAX_INDEXED_VALUES: usize = 1024;

/// Whole numbers in `-SMALL_WHOLE..SMALL_WHOLE` are keyed by a table while an index is built.
const SMALL_WHOLE: usize = 2048;

/// System paths indexed whatever their cardinality (issue #2).
pub const FORCED: &[&str] = &[
    "status",
    "connectionState",
    "authenticationType",
    "capabilities.iotEdge",
    "deviceScope",
    "modelId",
];

/// A primitive value as an index key.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexKey {
    Null,
    Bool(bool),
    Number(f64),
    String(Box<str>),
}

impl IndexKey {
    fn rank(&self) -> u8 {
        match self {
            IndexKey::Null => 0,
            IndexKey::Bool(_) => 1,
            IndexKey::Number(_) => 2,
            IndexKey::String(_) => 3,
        }
    }

    /// The cross-type order of SPEC §2.2.
    pub fn cmp_key(&self, other: &IndexKey) -> Ordering {
        match (self, other) {
            (IndexKey::Bool(a), IndexKey::Bool(b)) => a.cmp(b),
            (IndexKey::Number(a), IndexKey::Number(b)) => a.total_cmp(b),
            (IndexKey::String(a), IndexKey::String(b)) => a.as_bytes().cmp(b.as_bytes()),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    pub fn from_value(v: ValueRef<'_>) -> Option<IndexKey> {
        Some(match v {
            ValueRef::Null => IndexKey::Null,
            ValueRef::Bool(b) => IndexKey::Bool(b),
            // -0 and 0 are equal under `=`, so they share a key.
            ValueRef::Number(n) => {
                let n = n.as_f64();
                IndexKey::Number(if n == 0.0 { 0.0 } else { n })
            }
            ValueRef::String(s) => IndexKey::String(s.into()),
            ValueRef::Time(t) => IndexKey::String((*t.text()).into()),
            ValueRef::Object | ValueRef::Array(_) => return None,
        })
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            IndexKey::Null => serde_json::Value::Null,
            IndexKey::Bool(b) => serde_json::Value::Bool(*b),
            IndexKey::Number(n) => {
                crate::model::number_to_json(*n).unwrap_or(serde_json::Value::Null)
            }
            IndexKey::String(s) => serde_json::Value::String(s.to_string()),
        }
    }
}

/// One bitmap per distinct primitive value of a column, in key order.
pub struct ValueIndex {
    entries: Vec<(IndexKey, RoaringBitmap)>,
    /// Per entry, how its rows split between the store's modules and devices (computed on
    /// first use by [`ValueIndex::split`]).
    split: OnceLock<Vec<Split>>,
}

/// How one index entry's rows split between a fixed part of the store (its module rows) and
/// the rest: enough to count a GROUP BY over a whole collection without touching a bitmap.
#[derive(Debug, Clone, Copy)]
pub struct Split {
    /// Rows in the part.
    pub inside: u64,
    /// Rows outside it.
    pub outside: u64,
    pub first_inside: Option<u32>,
    pub first_outside: Option<u32>,
}

impl ValueIndex {
    /// An index of entries already in key order (as a snapshot stores them).
    pub(crate) fn from_sorted(entries: Vec<(IndexKey, RoaringBitmap)>) -> ValueIndex {
        ValueIndex {
            entries,
            split: OnceLock::new(),
        }
    }

    /// Per entry, its rows inside and outside `part`, computed once and kept: `part` must be
    /// the same bitmap on every call (the store's module rows; the store is immutable).
    pub(crate) fn split(&self, part: &RoaringBitmap) -> &[Split] {
        self.split.get_or_init(|| {
            self.entries
                .iter()
                .map(|(_, b)| {
                    let inside = b.intersection_len(part);
                    let first = b.min();
                    let first_in = |r: Option<u32>| r.filter(|r| part.contains(*r));
                    let first_out = |r: Option<u32>| r.filter(|r| !part.contains(*r));
                    Split {
                        inside,
                        outside: b.len() - inside,
                        first_inside: first_in(first).or_else(|| (b & part).min()),
                        first_outside: first_out(first).or_else(|| (b - part).min()),
                    }
                })
                .collect()
        })
    }

    pub fn entries(&self) -> &[(IndexKey, RoaringBitmap)] {
        &self.entries
    }

    /// Rows whose value equals `key` under `=` (NaN never does).
    pub fn eq(&self, key: &IndexKey) -> RoaringBitmap {
        self.get(key).cloned().unwrap_or_default()
    }

    /// The bitmap of rows equal to `key`, without copying it; `None` when no row is.
    pub fn get(&self, key: &IndexKey) -> Option<&RoaringBitmap> {
        if matches!(key, IndexKey::Number(n) if n.is_nan()) {
            return None;
        }
        let zero = IndexKey::Number(0.0);
        let key = match key {
            IndexKey::Number(n) if *n == 0.0 => &zero,
            k => k,
        };
        self.entries
            .binary_search_by(|(k, _)| k.cmp_key(key))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// Rows whose value has the same type as `key` and lies in the range (SPEC §2.2:
    /// comparisons across types are undefined, so they never match).
    pub fn range(&self, key: &IndexKey, op: RangeOp) -> RoaringBitmap {
        self.entries[self.positions(key, Some(op))]
            .iter()
            .map(|(_, b)| b)
            .union()
    }

    /// The entries whose rows satisfy `value op key` (`=` for `None`): always one contiguous
    /// run, since entries are in key order and a comparison only holds within one type.
    pub fn positions(&self, key: &IndexKey, op: Option<RangeOp>) -> std::ops::Range<usize> {
        if matches!(key, IndexKey::Number(n) if n.is_nan()) {
            return 0..0;
        }
        let zero = IndexKey::Number(0.0);
        let key = match key {
            IndexKey::Number(n) if *n == 0.0 => &zero,
            k => k,
        };
        let lo = self.entries.partition_point(|(k, _)| k.rank() < key.rank());
        let hi = self
            .entries
            .partition_point(|(k, _)| k.rank() <= key.rank());
        let slice = &self.entries[lo..hi];
        let below = lo + slice.partition_point(|(k, _)| k.cmp_key(key) == Ordering::Less);
        let upto = lo + slice.partition_point(|(k, _)| k.cmp_key(key) != Ordering::Greater);
        match (key, op) {
            (_, None) => below..upto,
            // null <= null and null >= null are true (SPEC §4.4); null < null is not.
            (IndexKey::Null, Some(RangeOp::LtEq | RangeOp::GtEq)) => lo..hi,
            (IndexKey::Null, Some(_)) => 0..0,
            (_, Some(RangeOp::Lt)) => lo..below,
            (_, Some(RangeOp::LtEq)) => lo..upto,
            (_, Some(RangeOp::Gt)) => upto..hi,
            (_, Some(RangeOp::GtEq)) => below..hi,
        }
    }

    /// Rows whose string value starts with `prefix`.
    pub fn prefix(&self, prefix: &str) -> RoaringBitmap {
        self.entries[self.prefix_positions(prefix)]
            .iter()
            .map(|(_, b)| b)
            .union()
    }

    /// The entries of strings starting with `prefix` (one contiguous run).
    pub fn prefix_positions(&self, prefix: &str) -> std::ops::Range<usize> {
        let start = self.entries.partition_point(|(k, _)| match k {
            IndexKey::String(s) => s.as_bytes() < prefix.as_bytes(),
            _ => true,
        });
        let len = self.entries[start..]
            .iter()
            .take_while(|(k, _)| matches!(k, IndexKey::String(s) if s.starts_with(prefix)))
            .count();
        start..start + len
    }

    /// Rows holding any primitive value (the union of all bitmaps).
    pub fn any(&self) -> RoaringBitmap {
        self.entries.iter().map(|(_, b)| b).union()
    }

    pub fn heap_bytes(&self) -> usize {
        self.entries
            .iter()
            .map(|(k, b)| {
                b.serialized_size()
                    + 32
                    + match k {
                        IndexKey::String(s) => s.len(),
                        _ => 0,
                    }
            })
            .sum()
    }
}

/// Every row in `0..n`, in bitmap containers. roaring keeps a full range as run containers,
/// which every `AND` with an array then searches value by value (an indexed count over the
/// devices, `region = 'US' AND connectionState = 'Connected'`: 0.042 ms with bitmap
/// containers, 0.070 ms with runs).
pub fn all_rows(n: u32) -> RoaringBitmap {
    let mut b = RoaringBitmap::new();
    b.insert_range(0..n);
    b.remove_run_compression();
    b
}

/// A bitmap of ascending rows. Dense sets are built through a bitset: roaring's `push` into a
/// bitmap container looks for the container's maximum on every call, which made bitmap
/// building the largest single cost of a load (15% of instructions on a generated export).
pub fn bitmap_from_sorted(rows: &[u32]) -> RoaringBitmap {
    let (Some(&first), Some(&last)) = (rows.first(), rows.last()) else {
        return RoaringBitmap::new();
    };
    let base = first & !7;
    let span = (last - base) as usize + 1;
    if rows.len() * 64 < span {
        // Sparse: array containers, where push is cheap.
        let mut b = RoaringBitmap::new();
        for &r in rows {
            let _ = b.try_push(r); // a repeated row is already in
        }
        return b;
    }
    let mut bits = vec![0u8; span.div_ceil(8)];
    for &r in rows {
        let i = (r - base) as usize;
        bits[i >> 3] |= 1 << (i & 7);
    }
    RoaringBitmap::from_lsb0_bytes(base, &bits)
}

/// The entries of several indexes (the spellings of one path) merged by key, in key order;
/// a key present in one index only borrows its bitmap (so one index costs no copy at all).
pub fn merged_entries<'a>(
    indexes: impl IntoIterator<Item = &'a ValueIndex>,
) -> Vec<(&'a IndexKey, std::borrow::Cow<'a, RoaringBitmap>)> {
    let indexes: Vec<&ValueIndex> = indexes.into_iter().collect();
    let mut all: Vec<(&IndexKey, &RoaringBitmap)> = indexes
        .iter()
        .flat_map(|ix| ix.entries().iter().map(|(k, b)| (k, b)))
        .collect();
    if indexes.len() > 1 {
        // Each index is in key order already; one sort brings equal keys together.
        all.sort_by(|a, b| a.0.cmp_key(b.0));
    }
    let mut merged: Vec<(&IndexKey, std::borrow::Cow<'_, RoaringBitmap>)> =
        Vec::with_capacity(all.len());
    for (k, b) in all {
        match merged.last_mut() {
            Some((m, mb)) if m.cmp_key(k) == Ordering::Equal => *mb.to_mut() |= b,
            _ => merged.push((k, std::borrow::Cow::Borrowed(b))),
        }
    }
    merged
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOp {
    Lt,
    LtEq,
    Gt,
    GtEq,
}

/// Builds the index of every column that qualifies, in parallel.
pub fn build_indexes(columns: &mut [Column]) {
    columns.par_iter_mut().for_each(|c| {
        let forced = FORCED.contains(&c.dotted());
        let index = build(c, forced);
        c.set_index(index);
    });
}

fn build(c: &Column, forced: bool) -> Option<ValueIndex> {
    bytes::build(c).or_else(|| build_by_rows(c, forced))
}

/// Any column's index, from a list of rows per value.
fn build_by_rows(c: &Column, forced: bool) -> Option<ValueIndex> {
    let counts = c.kind_counts();
    let objects = counts[Kind::Object as usize] + counts[Kind::Array as usize];
    let times: u32 = counts[Kind::Time as usize..].iter().sum();
    if objects as usize == c.len() {
        return None;
    }
    let limit = if forced {
        usize::MAX
    } else {
        MAX_INDEXED_VALUES
    };
    // Strings: a dictionary gives codes for free; without one (or with timestamps, which are
    // nearly unique) a column is indexed only when forced.
    let mut by_code: Vec<Vec<u32>> = Vec::new();
    let dict = c.dictionary();
    if counts[Kind::String as usize] > 0 || times > 0 {
        match dict {
            Some(d) if d.len() <= limit && times == 0 => by_code = vec![Vec::new(); d.len()],
            _ if forced => {}
            _ => return None,
        }
    }
    let use_codes = !by_code.is_empty();
    let mut nulls = Vec::new();
    let mut falses = Vec::new();
    let mut trues = Vec::new();
    let mut numbers: FastMap<u64, Vec<u32>> = FastMap::default();
    // Whole numbers near zero (counts, versions, codes, levels: most indexed numbers) are
    // kept by value in a table, not hashed.
    let mut small: Vec<Vec<u32>> = Vec::new();
    let mut small_keys = 0;
    let mut strings: FastMap<String, Vec<u32>> = FastMap::default();
    // Whether a number is whole is told by a cast: `fract` is a call into libm on targets
    // without SSE4.1's rounding. False once the column has more keys than `limit`.
    let mut add_number = |row: u32, n: f64| {
        if n.abs() < SMALL_WHOLE as f64 && n == (n as i64) as f64 {
            if small.is_empty() {
                small.resize_with(2 * SMALL_WHOLE, Vec::new);
            }
            let rows = &mut small[(n as i64 + SMALL_WHOLE as i64) as usize];
            if rows.is_empty() {
                small_keys += 1;
            }
            rows.push(row);
        } else {
            numbers.entry(n.to_bits()).or_default().push(row);
        }
        numbers.len() + small_keys <= limit
    };
    let read = use_codes && c.for_each_code(|row, code| by_code[code as usize].push(row));
    let read = read
        || match c.for_each_int(|row, n| add_number(row, n as f64)) {
            Some(true) => true,
            Some(false) => return None,
            None => false,
        };
    let slots = (!read).then(|| c.slots()).into_iter().flatten();
    for (row, slot) in slots {
        match c.kind_at(slot) {
            Kind::Null => nulls.push(row),
            Kind::False => falses.push(row),
            Kind::True => trues.push(row),
            Kind::Int | Kind::UInt | Kind::Float => {
                let ValueRef::Number(n) = c.value_at(slot) else {
                    continue;
                };
                let n = n.as_f64();
                if n.is_nan() {
                    continue;
                }
                if !add_number(row, n) {
                    return None;
                }
            }
            Kind::String | Kind::Time => match c.code_at(slot).filter(|_| use_codes) {
                Some(code) => by_code[code as usize].push(row),
                None => {
                    let Some(s) = c.value_at(slot).as_str().map(|s| s.into_owned()) else {
                        continue;
                    };
                    strings.entry(s).or_default().push(row);
                }
            },
            Kind::Object | Kind::Array => {}
        }
    }
    let mut keyed: Vec<(IndexKey, Vec<u32>)> = Vec::new();
    for (key, rows) in [
        (IndexKey::Null, nulls),
        (IndexKey::Bool(false), falses),
        (IndexKey::Bool(true), trues),
    ] {
        if !rows.is_empty() {
            keyed.push((key, rows));
        }
    }
    keyed.extend(
        small
            .into_iter()
            .enumerate()
            .filter(|(_, rows)| !rows.is_empty())
            .map(|(i, rows)| {
                let n = i as i64 - SMALL_WHOLE as i64;
                (IndexKey::Number(n as f64), rows)
            }),
    );
    keyed.extend(
        numbers
            .into_iter()
            .map(|(bits, rows)| (IndexKey::Number(f64::from_bits(bits)), rows)),
    );
    if let Some(d) = dict {
        keyed.extend(
            by_code
                .into_iter()
                .enumerate()
                .filter(|(_, rows)| !rows.is_empty())
                .map(|(i, rows)| (IndexKey::String(d[i].clone()), rows)),
        );
    }
    keyed.extend(
        strings
            .into_iter()
            .map(|(s, rows)| (IndexKey::String(s.into()), rows)),
    );
    if keyed.len() > limit {
        return None;
    }
    // Keys are distinct: no need for a stable sort.
    keyed.sort_unstable_by(|a, b| a.0.cmp_key(&b.0));
    let entries = keyed
        .into_iter()
        .map(|(k, rows)| (k, bitmap_from_sorted(&rows)))
        .collect();
    Some(ValueIndex::from_sorted(entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{merge_column, ColumnBuilder};

    /// Numbers equal as numbers share one entry whichever way they are stored, on both
    /// sides of the table of small whole numbers and at its edges.
    #[test]
    fn number_keys_are_values() {
        let edge = SMALL_WHOLE as i64;
        let pushes: Vec<(u32, f64, bool)> = [
            (5.0, true),
            (5.0, false),
            (-0.0, false),
            (0.0, true),
            ((edge - 1) as f64, true),
            ((edge - 1) as f64, false),
            ((1 - edge) as f64, true),
            (edge as f64, true),
            (edge as f64, false),
            (-edge as f64, true),
            (2.5, false),
            (1e300, false),
            (-7.0, false),
            (-7.0, true),
        ]
        .into_iter()
        .enumerate()
        .map(|(row, (n, int))| (row as u32, n, int))
        .collect();
        let mut b = ColumnBuilder::new();
        for &(row, n, int) in &pushes {
            match int {
                true => b.push_int(row, n as i64),
                false => b.push_float(row, n),
            }
        }
        // An integer above `i64::MAX`, and the float of the same value.
        let rows = pushes.len() as u32;
        b.push_uint(rows, u64::MAX);
        b.push_float(rows + 1, u64::MAX as f64);
        let c = merge_column(vec!["n".into()], vec![(0, b)], rows + 2);
        let index = build(&c, false).expect("indexed");
        let big = [(rows, u64::MAX as f64), (rows + 1, u64::MAX as f64)];
        let want = by_number(pushes.iter().map(|&(row, n, _)| (row, n)).chain(big));
        assert_eq!(number_entries(&index), want);
    }

    /// The rows of each number, in key order (`-0` is `0`).
    fn by_number(values: impl Iterator<Item = (u32, f64)>) -> Vec<(f64, Vec<u32>)> {
        let mut want: Vec<(f64, Vec<u32>)> = Vec::new();
        for (row, n) in values {
            let n = if n == 0.0 { 0.0 } else { n };
            match want.iter_mut().find(|(k, _)| *k == n) {
                Some((_, rows)) => rows.push(row),
                None => want.push((n, vec![row])),
            }
        }
        want.sort_by(|a, b| a.0.total_cmp(&b.0));
        want
    }

    /// An index of numbers as (number, rows).
    fn number_entries(index: &ValueIndex) -> Vec<(f64, Vec<u32>)> {
        index
            .entries()
            .iter()
            .map(|(k, rows)| match k {
                IndexKey::Number(n) => (*n, rows.iter().collect()),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    /// A column of integers only is read payload by payload: the same keys, and no index
    /// past the limit on distinct values, dense or sparse.
    #[test]
    fn integer_columns_are_indexed_by_value() {
        let values: Vec<i64> = vec![5, -3, 2047, -2047, 2048, -2048, 100_000, 5, -3, 0, 2048];
        for gap in [1u32, 3] {
            let mut b = ColumnBuilder::new();
            for (i, &n) in values.iter().enumerate() {
                b.push_int(i as u32 * gap, n);
            }
            let total = values.len() as u32 * gap;
            let c = merge_column(vec!["n".into()], vec![(0, b)], total);
            let index = build(&c, false).expect("indexed");
            let want = by_number(
                values
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| (i as u32 * gap, n as f64)),
            );
            assert_eq!(number_entries(&index), want, "gap {gap}");
        }
        for spread in [1i64, 1000] {
            let mut b = ColumnBuilder::new();
            for i in 0..=MAX_INDEXED_VALUES as u32 {
                b.push_int(i, i64::from(i) * spread);
            }
            let c = merge_column(
                vec!["n".into()],
                vec![(0, b)],
                MAX_INDEXED_VALUES as u32 + 1,
            );
            assert!(build(&c, false).is_none(), "spread {spread}");
            assert!(build(&c, true).is_some(), "spread {spread}");
        }
    }

    /// The index as (key, rows), for comparing two builds.
    fn entries_of(index: &ValueIndex) -> Vec<(IndexKey, Vec<u32>)> {
        index
            .entries()
            .iter()
            .map(|(k, rows)| (k.clone(), rows.iter().collect()))
            .collect()
    }

    /// Columns whose values are told apart by one byte are indexed from the bytes
    /// (`bytes::build`), with a value in every row or in some, with the keys and rows the
    /// lists of rows give; any other column is left to the lists.
    #[test]
    fn byte_columns_index_as_lists_of_rows_do() {
        type Push = fn(&mut ColumnBuilder, u32, u32);
        let cases: [(&str, Push, bool); 9] = [
            (
                "codes",
                |b, r, i| b.push_str(r, ["on", "off", "idle"][(i % 7 % 3) as usize]),
                true,
            ),
            ("ints", |b, r, i| b.push_int(r, i64::from(i % 5) - 2), true),
            (
                "uints",
                |b, r, i| b.push_uint(r, u64::from(i % 3) + (1 << 63)),
                false,
            ),
            (
                "bools and nulls",
                |b, r, i| match i % 3 {
                    0 => b.push_null(r),
                    1 => b.push_bool(r, true),
                    _ => b.push_bool(r, false),
                },
                true,
            ),
            (
                "8 codes",
                |b, r, i| b.push_str(r, &format!("v{}", i % 8)),
                true,
            ),
            (
                "9 codes",
                |b, r, i| b.push_str(r, &format!("v{}", i % 9)),
                false,
            ),
            (
                "objects among nulls",
                |b, r, i| match i % 2 {
                    0 => b.push_null(r),
                    _ => b.push_object(r),
                },
                false,
            ),
            (
                "timestamps",
                |b, r, _| b.push_str(r, "2024-01-01T00:00:00Z"),
                false,
            ),
            (
                "mixed",
                |b, r, i| match i % 2 {
                    0 => b.push_int(r, 1),
                    _ => b.push_str(r, "one"),
                },
                false,
            ),
        ];
        // Values in every row, every other row and every third (sparse columns with a bitset
        // of their rows), 130 values in two chunks: whole blocks of 64 and a remainder, and
        // rows of a second chunk.
        for (name, push, by_bytes) in cases {
            for gap in [1u32, 2, 3] {
                for forced in [false, true] {
                    let mut chunks = Vec::new();
                    for (first, n) in [(0u32, 100u32), (100, 30)] {
                        let mut b = ColumnBuilder::new();
                        for i in first..first + n {
                            push(&mut b, (i - first) * gap, i);
                        }
                        chunks.push((first * gap, b));
                    }
                    let c = merge_column(vec!["c".into()], chunks, 130 * gap);
                    let by_rows = build_by_rows(&c, forced);
                    // Sparse columns only where the CPU can spread their bits.
                    let expected = by_bytes && (gap == 1 || bytes::can_spread());
                    assert_eq!(bytes::build(&c).is_some(), expected, "{name} gap {gap}");
                    let got = build(&c, forced);
                    assert_eq!(
                        got.as_ref().map(entries_of),
                        by_rows.as_ref().map(entries_of),
                        "{name} gap {gap} forced {forced}"
                    );
                }
            }
        }
    }

    #[test]
    fn bitmaps_from_sorted_rows_dense_and_sparse() {
        for rows in [
            vec![],
            vec![7],
            (3..200_000).collect::<Vec<u32>>(),
            (0..1000).map(|i| i * 1000 + 5).collect(),
            (0..100_000).filter(|i| i % 3 != 0).collect(),
            vec![u32::MAX - 1, u32::MAX],
        ] {
            let b = bitmap_from_sorted(&rows);
            assert_eq!(b.iter().collect::<Vec<u32>>(), rows);
        }
    }
}
