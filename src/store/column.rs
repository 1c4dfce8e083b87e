//! One column: the values of one spelled path across all rows that have it.
//!
//! Layout: a sorted row list (omitted when every row has a value), a kind byte and a 64-bit
//! payload per value. Numbers keep their `f64` bits, booleans and null live in the kind,
//! strings are either codes into a dictionary (decided per column: only when few distinct
//! values repeat, because hashing nearly-unique text was 30% of a naive build, PERF-NOTES)
//! or offsets of length-prefixed text in one arena per column; arrays are compact JSON text
//! in the same arena.

use std::collections::HashMap;

use roaring::RoaringBitmap;

use crate::index::ValueIndex;

/// The JSON type of one stored value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    Null = 0,
    False = 1,
    True = 2,
    /// A number written as an integer that fits `i64`.
    Int = 3,
    /// A number written as an integer above `i64::MAX`.
    UInt = 4,
    /// A number written with a fraction or exponent.
    Float = 5,
    String = 6,
    Object = 7,
    Array = 8,
}

/// How many kinds there are.
pub const KINDS: usize = 9;

impl Kind {
    fn from_u8(b: u8) -> Kind {
        match b {
            0 => Kind::Null,
            1 => Kind::False,
            2 => Kind::True,
            3 => Kind::Int,
            4 => Kind::UInt,
            5 => Kind::Float,
            6 => Kind::String,
            7 => Kind::Object,
            _ => Kind::Array,
        }
    }

    pub fn is_number(self) -> bool {
        matches!(self, Kind::Int | Kind::UInt | Kind::Float)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::False | Kind::True => "bool",
            Kind::Int | Kind::UInt => "integer",
            Kind::Float => "float",
            Kind::String => "string",
            Kind::Object => "object",
            Kind::Array => "array",
        }
    }
}

/// A stored number, exactly as the document wrote it: `5` and `5.0` compare equal but print
/// differently, and integers above 2^53 keep every digit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i64),
    UInt(u64),
    Float(f64),
}

impl Num {
    #[inline]
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(n) => n as f64,
            Num::UInt(n) => n as f64,
            Num::Float(f) => f,
        }
    }

    pub fn to_json(self) -> serde_json::Value {
        match self {
            Num::Int(n) => n.into(),
            Num::UInt(n) => n.into(),
            Num::Float(f) => {
                serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
            }
        }
    }
}

/// A value read from a column. Objects carry no payload: their members have columns of their
/// own, and the whole object comes from the row's twin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Bool(bool),
    Number(Num),
    String(&'a str),
    Object,
    /// Compact JSON text of the array.
    Array(&'a str),
}

/// A finished, immutable column.
pub struct Column {
    segments: Vec<Box<str>>,
    dotted: String,
    /// Sorted rows that have a value; empty when `dense`.
    rows: Vec<u32>,
    dense: bool,
    kinds: Vec<u8>,
    data: Vec<u64>,
    /// When set, string payloads are codes into it.
    dict: Option<Vec<Box<str>>>,
    /// Length-prefixed text: strings when there is no dictionary, and arrays.
    arena: Vec<u8>,
    present: RoaringBitmap,
    kind_counts: [u32; KINDS],
    pub(crate) index: Option<ValueIndex>,
}

impl Column {
    /// The path as spelled in the documents.
    pub fn segments(&self) -> &[Box<str>] {
        &self.segments
    }

    /// The path joined with dots (for display only: names may contain dots).
    pub fn dotted(&self) -> &str {
        &self.dotted
    }

    /// Rows that have a value here.
    pub fn present(&self) -> &RoaringBitmap {
        &self.present
    }

    /// How many values of each kind (indexed by `Kind as usize`).
    pub fn kind_counts(&self) -> [u32; KINDS] {
        self.kind_counts
    }

    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// Whether strings are dictionary-coded, and how many distinct ones there are.
    pub fn dictionary_len(&self) -> Option<usize> {
        self.dict.as_ref().map(Vec::len)
    }

    /// The bitmap index of this column's values, if it was low-cardinality (or forced).
    pub fn index(&self) -> Option<&ValueIndex> {
        self.index.as_ref()
    }

    /// The position of `row`'s value, if it has one.
    #[inline]
    pub fn slot(&self, row: u32) -> Option<usize> {
        if self.dense {
            ((row as usize) < self.kinds.len()).then_some(row as usize)
        } else {
            self.rows.binary_search(&row).ok()
        }
    }

    #[inline]
    pub fn get(&self, row: u32) -> Option<ValueRef<'_>> {
        self.slot(row).map(|i| self.value_at(i))
    }

    /// The row of the value at a position.
    #[inline]
    pub fn row_at(&self, slot: usize) -> u32 {
        if self.dense {
            slot as u32
        } else {
            self.rows[slot]
        }
    }

    #[inline]
    pub fn kind_at(&self, slot: usize) -> Kind {
        Kind::from_u8(self.kinds[slot])
    }

    /// The dictionary code of a string value, when the column has a dictionary.
    #[inline]
    pub fn code_at(&self, slot: usize) -> Option<u32> {
        (self.dict.is_some() && self.kinds[slot] == Kind::String as u8)
            .then(|| self.data[slot] as u32)
    }

    pub fn dictionary(&self) -> Option<&[Box<str>]> {
        self.dict.as_deref()
    }

    #[inline]
    pub fn value_at(&self, slot: usize) -> ValueRef<'_> {
        let d = self.data[slot];
        match Kind::from_u8(self.kinds[slot]) {
            Kind::Null => ValueRef::Null,
            Kind::False => ValueRef::Bool(false),
            Kind::True => ValueRef::Bool(true),
            Kind::Int => ValueRef::Number(Num::Int(d as i64)),
            Kind::UInt => ValueRef::Number(Num::UInt(d)),
            Kind::Float => ValueRef::Number(Num::Float(f64::from_bits(d))),
            Kind::String => match &self.dict {
                Some(dict) => ValueRef::String(&dict[d as usize]),
                None => ValueRef::String(arena_str(&self.arena, d)),
            },
            Kind::Object => ValueRef::Object,
            Kind::Array => ValueRef::Array(arena_str(&self.arena, d)),
        }
    }

    /// Every (row, value) in row order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, ValueRef<'_>)> + '_ {
        (0..self.kinds.len()).map(move |i| (self.row_at(i), self.value_at(i)))
    }

    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * 4
            + self.kinds.capacity()
            + self.data.capacity() * 8
            + self.arena.capacity()
            + self
                .dict
                .as_ref()
                .map_or(0, |d| d.iter().map(|s| s.len() + 16).sum())
            + self.present.serialized_size()
            + self.index.as_ref().map_or(0, ValueIndex::heap_bytes)
    }
}

fn arena_str(arena: &[u8], offset: u64) -> &str {
    let (len, body) = read_varint(&arena[offset as usize..]);
    // The arena only ever receives `&str` bytes, and offsets come from its own writer.
    std::str::from_utf8(&body[..len]).unwrap_or_default()
}

fn write_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(bytes: &[u8]) -> (usize, &[u8]) {
    let mut v = 0usize;
    let mut shift = 0;
    for (i, &b) in bytes.iter().enumerate() {
        v |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return (v.min(bytes.len() - i - 1), &bytes[i + 1..]);
        }
        shift += 7;
    }
    (0, &[])
}

/// Above this many distinct strings a chunk stops dictionary-coding a column, unless the
/// strings repeat at least four times on average.
const DICT_MIN_DISTINCT: usize = 256;
const DICT_MIN_REPEAT: usize = 4;

/// Builds one column for one chunk of rows (row ids are local to the chunk).
#[derive(Default)]
pub struct ColumnBuilder {
    rows: Vec<u32>,
    kinds: Vec<u8>,
    data: Vec<u64>,
    arena: Vec<u8>,
    dict: Option<HashMap<Box<str>, u32>>,
    dict_values: Vec<Box<str>>,
    dict_abandoned: bool,
    strings: usize,
}

impl ColumnBuilder {
    pub fn new() -> ColumnBuilder {
        ColumnBuilder::default()
    }

    #[inline]
    fn push_raw(&mut self, row: u32, kind: Kind, data: u64) {
        self.rows.push(row);
        self.kinds.push(kind as u8);
        self.data.push(data);
    }

    pub fn push_null(&mut self, row: u32) {
        self.push_raw(row, Kind::Null, 0);
    }

    pub fn push_bool(&mut self, row: u32, b: bool) {
        self.push_raw(row, if b { Kind::True } else { Kind::False }, 0);
    }

    pub fn push_int(&mut self, row: u32, n: i64) {
        self.push_raw(row, Kind::Int, n as u64);
    }

    pub fn push_uint(&mut self, row: u32, n: u64) {
        self.push_raw(row, Kind::UInt, n);
    }

    pub fn push_float(&mut self, row: u32, n: f64) {
        self.push_raw(row, Kind::Float, n.to_bits());
    }

    pub fn push_object(&mut self, row: u32) {
        self.push_raw(row, Kind::Object, 0);
    }

    /// `json` is the array's compact JSON text.
    pub fn push_array(&mut self, row: u32, json: &str) {
        let off = self.arena.len() as u64;
        write_varint(&mut self.arena, json.len());
        self.arena.extend_from_slice(json.as_bytes());
        self.push_raw(row, Kind::Array, off);
    }

    pub fn push_str(&mut self, row: u32, s: &str) {
        self.strings += 1;
        if !self.dict_abandoned {
            let dict = self.dict.get_or_insert_with(HashMap::new);
            let next = self.dict_values.len() as u32;
            let code = match dict.get(s) {
                Some(&c) => c,
                None => {
                    dict.insert(s.into(), next);
                    self.dict_values.push(s.into());
                    next
                }
            };
            let distinct = self.dict_values.len();
            if distinct > DICT_MIN_DISTINCT && distinct * DICT_MIN_REPEAT > self.strings {
                self.abandon_dictionary();
            } else {
                self.push_raw(row, Kind::String, code as u64);
                return;
            }
        }
        let off = self.arena.len() as u64;
        write_varint(&mut self.arena, s.len());
        self.arena.extend_from_slice(s.as_bytes());
        self.push_raw(row, Kind::String, off);
    }

    /// Rewrites the dictionary codes pushed so far as arena text.
    fn abandon_dictionary(&mut self) {
        self.dict_abandoned = true;
        self.dict = None;
        let values = std::mem::take(&mut self.dict_values);
        for (k, d) in self.kinds.iter().zip(self.data.iter_mut()) {
            if *k == Kind::String as u8 {
                let s = &values[*d as usize];
                let off = self.arena.len() as u64;
                write_varint(&mut self.arena, s.len());
                self.arena.extend_from_slice(s.as_bytes());
                *d = off;
            }
        }
    }

    fn uses_dictionary(&self) -> bool {
        !self.dict_abandoned
    }

    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }
}

/// Above this many distinct strings a merged column gives up its dictionary.
const GLOBAL_DICT_MAX: usize = 1 << 16;

/// A dictionary under construction: codes by value, values by code.
type Dictionary = (HashMap<Box<str>, u32>, Vec<Box<str>>);

/// Concatenates chunk builders (in chunk order, each with the row id of its first row) into
/// one column over `total_rows` rows.
pub fn merge_column(
    segments: Vec<Box<str>>,
    parts: Vec<(u32, ColumnBuilder)>,
    total_rows: u32,
) -> Column {
    let n: usize = parts.iter().map(|(_, p)| p.len()).sum();
    let dense = n == total_rows as usize;
    let mut rows = Vec::with_capacity(if dense { 0 } else { n });
    let mut kinds = Vec::with_capacity(n);
    let mut data = Vec::with_capacity(n);
    let mut arena = Vec::with_capacity(parts.iter().map(|(_, p)| p.arena.len()).sum());

    // A dictionary survives only if every chunk kept one and the union stays small.
    let mut dict: Option<Dictionary> = parts
        .iter()
        .all(|(_, p)| p.uses_dictionary())
        .then(Default::default);
    let mut remaps: Vec<Vec<u32>> = Vec::new();
    if let Some((map, values)) = &mut dict {
        for (_, p) in &parts {
            let remap = p
                .dict_values
                .iter()
                .map(|s| {
                    *map.entry(s.clone()).or_insert_with(|| {
                        values.push(s.clone());
                        (values.len() - 1) as u32
                    })
                })
                .collect();
            remaps.push(remap);
        }
        if values.len() > GLOBAL_DICT_MAX {
            dict = None;
        }
    }

    let mut kind_counts = [0u32; KINDS];
    for (pi, (base, p)) in parts.into_iter().enumerate() {
        if !dense {
            rows.extend(p.rows.iter().map(|r| r + base));
        }
        let arena_base = arena.len() as u64;
        arena.extend_from_slice(&p.arena);
        for (&k, &d) in p.kinds.iter().zip(&p.data) {
            kind_counts[k as usize] += 1;
            let d = if k == Kind::Array as u8 {
                d + arena_base
            } else if k == Kind::String as u8 {
                if dict.is_some() {
                    remaps[pi][d as usize] as u64
                } else if p.uses_dictionary() {
                    let s = &p.dict_values[d as usize];
                    let off = arena.len() as u64;
                    write_varint(&mut arena, s.len());
                    arena.extend_from_slice(s.as_bytes());
                    off
                } else {
                    d + arena_base
                }
            } else {
                d
            };
            kinds.push(k);
            data.push(d);
        }
    }
    let present = if dense {
        let mut b = RoaringBitmap::new();
        b.insert_range(0..total_rows);
        b
    } else {
        RoaringBitmap::from_sorted_iter(rows.iter().copied())
            .expect("chunk rows are increasing and chunks are in row order")
    };
    arena.shrink_to_fit();
    let dotted = segments.join(".");
    Column {
        segments,
        dotted,
        rows,
        dense,
        kinds,
        data,
        dict: dict.map(|(_, v)| v),
        arena,
        present,
        kind_counts,
        index: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(p: &str) -> Vec<Box<str>> {
        p.split('.').map(Into::into).collect()
    }

    #[test]
    fn merges_chunks_in_row_order_with_mixed_kinds() {
        let mut a = ColumnBuilder::new();
        a.push_str(0, "x");
        a.push_float(2, 5.0);
        let mut b = ColumnBuilder::new();
        b.push_str(1, "y");
        b.push_array(2, "[1,2]");
        b.push_bool(3, true);
        let c = merge_column(seg("tags.a"), vec![(0, a), (10, b)], 20);
        let got: Vec<_> = c.iter().collect();
        assert_eq!(
            got,
            vec![
                (0, ValueRef::String("x")),
                (2, ValueRef::Number(Num::Float(5.0))),
                (11, ValueRef::String("y")),
                (12, ValueRef::Array("[1,2]")),
                (13, ValueRef::Bool(true)),
            ]
        );
        assert_eq!(c.get(11), Some(ValueRef::String("y")));
        assert_eq!(c.get(5), None);
        assert_eq!(c.dictionary_len(), Some(2));
        assert_eq!(c.present().len(), 5);
    }

    #[test]
    fn nearly_unique_strings_abandon_the_dictionary() {
        let mut a = ColumnBuilder::new();
        for i in 0..1000u32 {
            a.push_str(i, &format!("id-{i}"));
        }
        let mut b = ColumnBuilder::new();
        b.push_str(0, "short");
        let c = merge_column(seg("deviceId"), vec![(0, a), (1000, b)], 1001);
        assert_eq!(c.dictionary_len(), None);
        assert_eq!(c.get(999), Some(ValueRef::String("id-999")));
        assert_eq!(c.get(1000), Some(ValueRef::String("short")));
        assert!(c.dense);
    }

    #[test]
    fn long_strings_survive_the_varint() {
        let long = "é".repeat(100_000);
        let mut a = ColumnBuilder::new();
        a.dict_abandoned = true;
        a.push_str(0, &long);
        let c = merge_column(seg("x"), vec![(0, a)], 1);
        assert_eq!(c.get(0), Some(ValueRef::String(&long)));
    }
}
