//! Chunk builders into one column: a [`ColumnAssembler`] takes each chunk's builder in chunk
//! order as soon as the chunk is parsed (so that a chunk's memory is reused by the next one
//! while it is still in cache), and [`ColumnAssembler::finish`] makes the column.

use std::sync::OnceLock;

use roaring::RoaringBitmap;

use super::{
    width_for, write_text, Column, ColumnBuilder, Data, Decoded, FastMap, Kind, KindBytes, Kinds,
    Parts, Payloads, RankIndex, KINDS,
};
use crate::store::buf::Buf;

/// Above this many distinct strings a merged column gives up its dictionary.
const GLOBAL_DICT_MAX: usize = 1 << 16;

/// A dictionary under construction: codes by value, values by code.
type Dictionary = (FastMap<Box<str>, u32>, Vec<Box<str>>);

/// How a chunk of one kind maps its payloads into the merged column.
#[derive(Clone, Copy)]
enum Step<'a> {
    Same,
    /// Arena offsets, moved by where the chunk's arena lands.
    Offset(u64),
    /// Dictionary codes, renumbered into the merged dictionary.
    Remap(&'a [u32]),
}

impl Step<'_> {
    /// A payload mapped.
    fn map(self, d: u64) -> u64 {
        match self {
            Step::Same => d,
            Step::Offset(base) => d + base,
            Step::Remap(codes) => u64::from(codes[d as usize]),
        }
    }

    /// Appends `data` mapped and narrowed to `out`; returns the largest mapped payload.
    fn copy<S: Copy + Into<u64>, T>(
        self,
        data: &[S],
        out: &mut Vec<T>,
        narrow: impl Fn(u64) -> T,
    ) -> u64 {
        let mut max = 0;
        let mut put = |d: u64| {
            max = max.max(d);
            narrow(d)
        };
        match self {
            Step::Same => out.extend(data.iter().map(|&d| put(d.into()))),
            Step::Offset(base) => out.extend(data.iter().map(|&d| put(d.into() + base))),
            Step::Remap(codes) => out.extend(
                data.iter()
                    .map(|&d| put(u64::from(codes[d.into() as usize]))),
            ),
        }
        max
    }

    /// A bound on the payloads it maps `data` to: offsets are below the end of the arena
    /// they point into (`arena_end`), codes below the length of their dictionary, and other
    /// payloads are what they are (their largest found by a pass over the chunk's, in cache).
    fn bound<S: Copy + Into<u64>>(self, data: &[S], dict_len: usize, arena_end: u64) -> u64 {
        match self {
            Step::Same => data.iter().map(|&d| d.into()).max().unwrap_or(0),
            Step::Offset(_) => arena_end,
            Step::Remap(_) => dict_len as u64,
        }
    }
}

impl Data {
    /// Appends a chunk's payloads mapped by `step`, bounded by [`Step::bound`]; returns the
    /// largest.
    fn copy_mapped<S: Copy + Into<u64>>(
        &mut self,
        step: Step,
        data: &[S],
        dict_len: usize,
        arena_end: u64,
    ) -> u64 {
        let bound = step.bound(data, dict_len, arena_end);
        // A zero form takes its first payloads at the narrowest width (zeros written out).
        self.fit(bound.max(1));
        match self {
            Data::U8(v) => step.copy(data, v, |d| d as u8),
            Data::U16(v) => step.copy(data, v, |d| d as u16),
            Data::U32(v) => step.copy(data, v, |d| d as u32),
            Data::U64(v) => step.copy(data, v, |d| d),
            // Widened above.
            Data::Zero { .. } => 0,
        }
    }

    /// The payloads of a finished column, at the width of the largest.
    fn finish(self, max: u64) -> Payloads {
        let width = width_for(max);
        if width == 0 {
            return Payloads::Zero;
        }
        let mut data = self;
        if data.width() != width {
            // Wider than needed (a chunk's bound was above its payloads): narrowed in a copy.
            let old = std::mem::take(&mut data);
            data = Data::Zero {
                len: 0,
                room: old.len(),
            };
            data.widen_to(width);
            for i in 0..old.len() {
                data.push(old.get(i));
            }
        }
        // Vectors grown by doubling give back what they did not use (in place: cheap).
        fn shrunk<T>(mut v: Vec<T>) -> Buf<T> {
            v.shrink_to_fit();
            v.into()
        }
        match data {
            Data::Zero { .. } => Payloads::Zero,
            Data::U8(v) => Payloads::U8(shrunk(v)),
            Data::U16(v) => Payloads::U16(shrunk(v)),
            Data::U32(v) => Payloads::U32(shrunk(v)),
            Data::U64(v) => Payloads::U64(shrunk(v)),
        }
    }
}

impl KindBytes {
    /// Appends the kinds of `other`, keeping one byte while all agree.
    fn append(&mut self, other: &KindBytes) {
        if other.is_empty() {
            return;
        }
        if self.each.is_empty() {
            match other.uniform() {
                Some(k) if self.len == 0 || k == self.first => {
                    self.first = k;
                    self.len += other.len;
                    return;
                }
                _ => self.each = vec![self.first; self.len],
            }
        }
        match other.uniform() {
            Some(k) => self.each.extend(std::iter::repeat_n(k, other.len)),
            None => self.each.extend_from_slice(&other.each),
        }
        self.len += other.len;
    }
}

/// One column under assembly from chunk builders given in row order.
pub struct ColumnAssembler {
    segments: Vec<Box<str>>,
    /// Values so far.
    n: usize,
    /// The present rows, written only once they stop being `0..n` (while a column has a
    /// value in every row so far, as most do, its rows are implied).
    scattered: Option<Scattered>,
    kinds: KindBytes,
    data: Data,
    arena: Vec<u8>,
    /// Kept while every chunk kept a dictionary and their union stays small.
    dict: Option<Dictionary>,
    kind_counts: [u32; KINDS],
    max: u64,
}

impl ColumnAssembler {
    pub fn new(segments: Vec<Box<str>>) -> ColumnAssembler {
        ColumnAssembler {
            segments,
            n: 0,
            scattered: None,
            kinds: KindBytes::default(),
            data: Data::default(),
            arena: Vec::new(),
            dict: Some(Default::default()),
            kind_counts: [0; KINDS],
            max: 0,
        }
    }

    /// Sizes the column for `scale` times the values of `p`, the first chunk to hold it
    /// (of `rows` rows), when `p` has a value in at least half of them: such a column likely
    /// has as many in every chunk, and growing it by doubling copied it a dozen times (3% of
    /// a load). Room it does not use is given back by [`ColumnAssembler::finish`]; sparser
    /// columns grow as they go, so that the room reserved stays within the input's size.
    pub fn reserve_like(&mut self, p: &ColumnBuilder, rows: usize, scale: f64) {
        if p.len() * 2 < rows {
            return;
        }
        let values = (p.len() as f64 * scale) as usize;
        self.data.reserve(values);
        self.arena.reserve((p.arena.len() as f64 * scale) as usize);
    }

    /// Appends a chunk's builder whose first row has id `base` in the store; chunks come in
    /// row order.
    pub fn append(&mut self, base: u32, p: ColumnBuilder) {
        self.append_rows(base, &p);
        self.kinds.append(&p.kinds);

        let mut remap: Vec<u32> = Vec::new();
        if p.uses_dictionary() {
            if let Some((map, values)) = &mut self.dict {
                remap = p
                    .dict_values
                    .iter()
                    .map(|s| {
                        *map.entry(s.clone()).or_insert_with(|| {
                            values.push(s.clone());
                            (values.len() - 1) as u32
                        })
                    })
                    .collect();
                if values.len() > GLOBAL_DICT_MAX {
                    self.drop_dictionary();
                }
            }
        } else if self.dict.is_some() {
            self.drop_dictionary();
        }

        let arena_base = self.arena.len() as u64;
        self.arena.extend_from_slice(&p.arena);
        // A chunk whose values all have one kind (most do) is copied by a loop without a
        // branch per value; a mixed chunk, or strings spilled from a chunk's dictionary, take
        // the general loop.
        let dict_len = self.dict.as_ref().map_or(0, |(_, v)| v.len());
        let arena_end = self.arena.len() as u64;
        let step = match p.kinds.uniform() {
            Some(k) if k == Kind::Array as u8 => Some(Step::Offset(arena_base)),
            Some(k) if k == Kind::String as u8 => match (&self.dict, p.uses_dictionary()) {
                (Some(_), _) => Some(Step::Remap(&remap)),
                (None, false) => Some(Step::Offset(arena_base)),
                (None, true) => None,
            },
            Some(_) => Some(Step::Same),
            None => None,
        };
        if let Some(step) = step {
            self.kind_counts[p.kinds.get(0) as usize] += p.kinds.len() as u32;
            let max = match &p.data {
                // All zero, so all mapped to one payload (zero again, but for the first
                // array of a chunk or a remapped first dictionary code).
                &Data::Zero { len, .. } => {
                    let d = step.map(0);
                    self.data.push_n(d, len);
                    d
                }
                Data::U8(d) => self.data.copy_mapped(step, d, dict_len, arena_end),
                Data::U16(d) => self.data.copy_mapped(step, d, dict_len, arena_end),
                Data::U32(d) => self.data.copy_mapped(step, d, dict_len, arena_end),
                Data::U64(d) => self.data.copy_mapped(step, d, dict_len, arena_end),
            };
            self.max = self.max.max(max);
        } else {
            for i in 0..p.kinds.len() {
                let (k, d) = (p.kinds.get(i), p.data.get(i));
                self.kind_counts[k as usize] += 1;
                let d = if k == Kind::Array as u8 {
                    d + arena_base
                } else if k == Kind::String as u8 {
                    if self.dict.is_some() {
                        u64::from(remap[d as usize])
                    } else if p.uses_dictionary() {
                        self.spill(&p.dict_values[d as usize])
                    } else {
                        d + arena_base
                    }
                } else {
                    d
                };
                self.max = self.max.max(d);
                self.data.push(d);
            }
        }
        self.n += p.len();
    }

    /// Notes the rows of `p`'s values, `base` on from the ones so far.
    fn append_rows(&mut self, base: u32, p: &ColumnBuilder) {
        let consecutive_from_here = !p.scattered && base as usize + p.first_row as usize == self.n;
        let scattered = match &mut self.scattered {
            None if consecutive_from_here => return,
            None => self.scattered.insert(Scattered::first(self.n as u32)),
            Some(s) => s,
        };
        let Some(last) = p.rows().last() else {
            return;
        };
        scattered.fit(self.n + p.len(), base + last);
        match scattered {
            Scattered::Rows(rows) => rows.extend(p.rows().map(|r| r + base)),
            Scattered::Bits(words) if !p.scattered => {
                let first = base + p.first_row;
                set_bits(words, first..first + p.len() as u32);
            }
            Scattered::Bits(words) => {
                // A scattered builder's rows are all in its list; `fit` made room for them.
                // Each word's bits are gathered in a register and stored once: or-ing each row
                // into memory made every row wait on the store of the one before (half of the
                // appends' time).
                let mut word = p.rows.first().map_or(0, |&r| (r + base) as usize >> 6);
                let mut bits = 0u64;
                for &r in &p.rows {
                    let r = (r + base) as usize;
                    if r >> 6 != word {
                        words[word] |= bits;
                        (word, bits) = (r >> 6, 0);
                    }
                    bits |= 1 << (r & 63);
                }
                words[word] |= bits;
            }
        }
    }

    /// Writes `s` to the arena; returns its offset.
    fn spill(&mut self, s: &str) -> u64 {
        write_text(&mut self.arena, s)
    }

    /// Gives up the dictionary: the strings so far move to the arena.
    fn drop_dictionary(&mut self) {
        let Some((_, values)) = self.dict.take() else {
            return;
        };
        for i in 0..self.n {
            if self.kinds.get(i) == Kind::String as u8 {
                let off = self.spill(&values[self.data.get(i) as usize]);
                self.max = self.max.max(off);
                self.data.set(i, off);
            }
        }
    }

    /// The column over a store of `total_rows` rows.
    pub fn finish(self, total_rows: u32) -> Column {
        let n = self.n;
        let dense = self.scattered.is_none() && n == total_rows as usize;
        let (present, ranks) = match self.scattered {
            _ if dense => (crate::index::all_rows(total_rows), None),
            Some(Scattered::Bits(mut words)) => {
                words.resize((total_rows as usize).div_ceil(64), 0);
                words.shrink_to_fit();
                let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
                let present = RoaringBitmap::from_lsb0_bytes(0, &bytes);
                let ranks = RankIndex::from_words(words, &present, total_rows);
                (present, Some(ranks))
            }
            scattered => {
                let rows = match scattered {
                    Some(Scattered::Rows(mut rows)) => {
                        rows.shrink_to_fit();
                        rows
                    }
                    _ => (0..n as u32).collect(),
                };
                (
                    crate::index::bitmap_from_sorted(&rows),
                    Some(RankIndex::new(rows, total_rows)),
                )
            }
        };
        // Vectors grown by doubling give back what they did not use (in place: cheap).
        let mut arena = self.arena;
        arena.shrink_to_fit();
        let kinds = match (self.kinds.uniform(), self.kinds.each) {
            (Some(k), _) => Kinds::Uniform(k),
            (None, each) if each.is_empty() => Kinds::Uniform(Kind::Null as u8),
            (None, mut each) => {
                each.shrink_to_fit();
                Kinds::Each(each.into())
            }
        };
        let data = self.data.finish(self.max);
        let dotted = self.segments.join(".");
        Column {
            segments: self.segments,
            dotted,
            parts: Parts::Built(Decoded {
                dense,
                present,
                ranks,
                dict: self.dict.map(|(_, v)| v),
                index: None,
            }),
            len: n,
            kinds,
            data,
            arena: arena.into(),
            kind_counts: self.kind_counts,
            sorted: OnceLock::new(),
        }
    }
}

/// Where a column's present rows are written once they are not `0..n`: as a list while the
/// column is sparse, as a bitset over the store's rows while it has a value in at least one
/// row in 32 (the bitset is then no larger than the list, and appending a chunk that is
/// dense in it writes words rather than a row per value: the row lists of sparse columns were
/// 72 MB of the 1M fleet's load, faulted in, and read twice more to finish). A column is
/// moved between the two as its density crosses 1/32 and 1/128, so that neither form grows
/// past four times the other's size.
enum Scattered {
    Rows(Vec<u32>),
    Bits(Vec<u64>),
}

impl Scattered {
    /// Rows `0..n`, the values before the first gap.
    fn first(n: u32) -> Scattered {
        let mut words = Vec::new();
        set_bits(&mut words, 0..n);
        Scattered::Bits(words)
    }

    /// Takes the form that suits `values` values up to row `last`, with room for `last`.
    fn fit(&mut self, values: usize, last: u32) {
        let words = last as usize / 64 + 1;
        let list = values * 4;
        match self {
            Scattered::Bits(w) if words * 8 > list * 4 => {
                let rows = w
                    .iter()
                    .enumerate()
                    .flat_map(|(i, &word)| bits_of(word).map(move |b| (i * 64 + b) as u32))
                    .collect();
                *self = Scattered::Rows(rows);
            }
            Scattered::Rows(rows) if words * 8 <= list => {
                let mut w = vec![0u64; words];
                for &r in rows.iter() {
                    w[r as usize >> 6] |= 1 << (r & 63);
                }
                *self = Scattered::Bits(w);
            }
            _ => {}
        }
        if let Scattered::Bits(w) = self {
            if w.len() < words {
                w.resize(words, 0);
            }
        }
    }
}

/// The positions of the set bits of a word, lowest first.
fn bits_of(mut word: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (word != 0).then(|| {
            let b = word.trailing_zeros() as usize;
            word &= word - 1;
            b
        })
    })
}

/// Sets bits `range` of `words`, growing it as needed.
fn set_bits(words: &mut Vec<u64>, range: std::ops::Range<u32>) {
    if range.is_empty() {
        return;
    }
    let (start, end) = (range.start as usize, range.end as usize);
    if words.len() < end.div_ceil(64) {
        words.resize(end.div_ceil(64), 0);
    }
    let (first, last) = (start >> 6, (end - 1) >> 6);
    let head = !0u64 << (start & 63);
    let tail = !0u64 >> (63 - ((end - 1) & 63));
    if first == last {
        words[first] |= head & tail;
    } else {
        words[first] |= head;
        words[first + 1..last].fill(!0);
        words[last] |= tail;
    }
}

/// Concatenates chunk builders (in chunk order, each with the row id of its first row) into
/// one column over `total_rows` rows.
pub fn merge_column(
    segments: Vec<Box<str>>,
    parts: Vec<(u32, ColumnBuilder)>,
    total_rows: u32,
) -> Column {
    let mut a = ColumnAssembler::new(segments);
    for (base, p) in parts {
        a.append(base, p);
    }
    a.finish(total_rows)
}

#[cfg(test)]
mod tests {
    use super::super::tests::seg;
    use super::super::{Num, ValueRef};
    use super::*;

    /// Present rows kept as a list or a bitset as the column's density changes, both ways,
    /// give back every value at its row (by iteration and by lookup) and nothing elsewhere.
    #[test]
    fn scattered_rows_change_form_with_density() {
        // (base, first row in the chunk, values, gap between them)
        let plans: &[&[(u32, u32, u32, u32)]] = &[
            // Dense, a gap, dense again: a bitset throughout.
            &[(0, 0, 100, 1), (100, 5, 50, 1), (200, 0, 64, 2)],
            // Then a value far away: a list.
            &[(0, 0, 100, 1), (100, 3, 10, 1), (1_000_000, 7, 1, 1)],
            // A list first (a lone value, then one far away), then dense again: a bitset.
            &[
                (0, 3, 1, 1),
                (5_000, 0, 1, 1),
                (5_001, 0, 4_000, 1),
                (9_001, 0, 3_000, 2),
            ],
            // Sparse chunks, each scattered inside, crossing back and forth.
            &[
                (0, 1, 40, 3),
                (200, 0, 2, 500),
                (300_000, 0, 20, 7),
                (300_200, 0, 30_000, 1),
                (400_000, 63, 5, 64),
            ],
        ];
        for plan in plans {
            let mut a = ColumnAssembler::new(seg("x"));
            let mut want = Vec::new();
            let mut total = 0;
            for &(base, first, n, gap) in *plan {
                let mut b = ColumnBuilder::new();
                for i in 0..n {
                    let row = first + i * gap;
                    b.push_int(row, i64::from(base + row));
                    want.push(base + row);
                }
                total = base + first + n * gap + 3;
                a.append(base, b);
            }
            let c = a.finish(total);
            let got: Vec<(u32, String)> = c.iter().map(|(r, v)| (r, format!("{v:?}"))).collect();
            let expect: Vec<(u32, String)> = want
                .iter()
                .map(|&r| (r, format!("{:?}", ValueRef::Number(Num::Int(i64::from(r))))))
                .collect();
            assert_eq!(got, expect, "{plan:?}");
            assert_eq!(c.present().len(), want.len() as u64, "{plan:?}");
            let present: std::collections::BTreeSet<u32> = want.iter().copied().collect();
            for row in (0..total).step_by(37).chain(want.iter().copied()) {
                let v = c.get(row).map(|v| format!("{v:?}"));
                let e = present
                    .contains(&row)
                    .then(|| format!("{:?}", ValueRef::Number(Num::Int(i64::from(row)))));
                assert_eq!(v, e, "row {row} of {plan:?}");
            }
        }
    }

    /// Each density rule on its own: where the present rows end up.
    #[test]
    fn scattered_forms() {
        let mut s = Scattered::first(100);
        s.fit(101, 1_000_000);
        assert!(matches!(s, Scattered::Rows(ref r) if r.len() == 100));
        s.fit(200_000, 1_000_000);
        assert!(matches!(s, Scattered::Bits(ref w) if w.len() == 1_000_000 / 64 + 1));
        let mut w = Vec::new();
        set_bits(&mut w, 3..130);
        assert_eq!(w.len(), 3);
        let set: Vec<usize> = w
            .iter()
            .enumerate()
            .flat_map(|(i, &x)| bits_of(x).map(move |b| i * 64 + b))
            .collect();
        assert_eq!(set, (3..130).collect::<Vec<_>>());
        set_bits(&mut w, 64..64);
        set_bits(&mut w, 191..192);
        assert_eq!(w[2] >> 63, 1);
        assert_eq!(w.len(), 3);
    }

    /// Room reserved for a column from its first chunk is given back when it finishes: the
    /// same values cost the same memory, reserved or not; sparse first chunks reserve nothing.
    #[test]
    fn reserved_room_is_given_back() {
        let chunk = |first: u32, wide: bool| {
            let mut b = ColumnBuilder::new();
            for row in 0..100 {
                match wide {
                    true => b.push_float(row, f64::from(first + row) + 0.5),
                    false => b.push_str(row, &format!("id-{}", first + row)),
                }
            }
            b
        };
        for wide in [false, true] {
            let build = |scale: f64| {
                let mut a = ColumnAssembler::new(seg("x"));
                let first = chunk(0, wide);
                a.reserve_like(&first, 100, scale);
                a.append(0, first);
                a.append(100, chunk(100, wide));
                a.finish(200)
            };
            let (plain, reserved) = (build(0.0), build(50.0));
            assert_eq!(plain.heap_bytes(), reserved.heap_bytes(), "wide {wide}");
            let got: Vec<_> = reserved
                .iter()
                .map(|(r, v)| (r, format!("{v:?}")))
                .collect();
            let want: Vec<_> = plain.iter().map(|(r, v)| (r, format!("{v:?}"))).collect();
            assert_eq!(got, want);
        }
        let mut sparse = ColumnAssembler::new(seg("x"));
        sparse.reserve_like(&chunk(0, false), 1000, 50.0);
        assert_eq!(sparse.arena.capacity(), 0);
    }
}
