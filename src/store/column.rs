//! One column: the values of one spelled path across all rows that have it.
//!
//! Layout: a presence bitmap (the `i`-th present row holds value `i`), a kind byte per value
//! (one for the whole column when all agree) and a payload per value, 32 or 64 bits wide or
//! absent as the column allows. Numbers keep their exact form (zigzag integers, `f64` bits),
//! booleans, null and objects live in the kind alone, timestamps are packed into 8 bytes,
//! strings are either codes into a dictionary (decided per column: only when few distinct
//! values repeat, because hashing nearly-unique text was 30% of a naive build, PERF-NOTES)
//! or offsets of length-prefixed text in one arena per column; arrays are compact JSON text
//! in the same arena.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use hashbrown::HashTable;
use std::sync::OnceLock;

use roaring::RoaringBitmap;

use super::buf::Buf;
use super::timestamp::Timestamp;
use crate::index::{SortedStrings, ValueIndex};

mod merge;
pub use merge::{merge_column, ColumnAssembler};

/// The JSON type of one stored value, and how it is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Kind {
    Null = 0,
    False = 1,
    True = 2,
    /// A number written as an integer that fits `i64` (payload: zigzag).
    Int = 3,
    /// A number written as an integer above `i64::MAX`.
    UInt = 4,
    /// A number written with a fraction or exponent (payload: `f64` bits).
    Float = 5,
    /// A string (payload: dictionary code or arena offset).
    String = 6,
    Object = 7,
    /// Compact JSON text in the arena.
    Array = 8,
    /// A string that is an ISO 8601 UTC timestamp, packed ([`Timestamp`]); the kind byte is
    /// `Time + fraction digits` (9 to 16).
    Time = 9,
}

/// How many kind bytes there are (the timestamp kinds included).
pub const KINDS: usize = 17;

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
            8 => Kind::Array,
            _ => Kind::Time,
        }
    }

    /// The kind of a kind byte (every timestamp byte is [`Kind::Time`]).
    pub fn of_byte(b: usize) -> Kind {
        Kind::from_u8(b as u8)
    }

    pub fn is_number(self) -> bool {
        matches!(self, Kind::Int | Kind::UInt | Kind::Float)
    }

    /// The JSON type name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::False | Kind::True => "bool",
            Kind::Int | Kind::UInt => "integer",
            Kind::Float => "float",
            Kind::String | Kind::Time => "string",
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

/// The (row, slot) pairs of a column, in row order ([`Column::slots`]).
pub enum Slots<'a> {
    Dense(std::ops::Range<usize>),
    Sparse(std::iter::Enumerate<PresentRows<'a>>),
}

impl Iterator for Slots<'_> {
    type Item = (u32, usize);

    #[inline]
    fn next(&mut self) -> Option<(u32, usize)> {
        match self {
            Slots::Dense(r) => r.next().map(|s| (s as u32, s)),
            Slots::Sparse(it) => it.next().map(|(slot, row)| (row, slot)),
        }
    }
}

/// The present rows of a sparse column, in order: read from its rank index, whose bitset
/// words or row list step several times faster than roaring's iterator (which was a sixth
/// of building the load's indexes).
pub enum PresentRows<'a> {
    Words {
        words: &'a [u64],
        /// Index of the word after `word`.
        next: usize,
        /// The bits of the current word not yet returned.
        word: u64,
    },
    Sorted(std::iter::Copied<std::slice::Iter<'a, u32>>),
    Bitmap(roaring::bitmap::Iter<'a>),
}

impl<'a> PresentRows<'a> {
    fn of(p: &'a Decoded) -> PresentRows<'a> {
        match &p.ranks {
            Some(RankIndex::Bits { words, .. }) => PresentRows::Words {
                words,
                next: 0,
                word: 0,
            },
            Some(RankIndex::Sorted(rows)) => PresentRows::Sorted(rows.iter().copied()),
            None => PresentRows::Bitmap(p.present.iter()),
        }
    }
}

impl Iterator for PresentRows<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        match self {
            PresentRows::Words { words, next, word } => {
                while *word == 0 {
                    *word = *words.get(*next)?;
                    *next += 1;
                }
                let bit = word.trailing_zeros();
                *word &= *word - 1;
                Some(((*next - 1) * 64) as u32 + bit)
            }
            PresentRows::Sorted(rows) => rows.next(),
            PresentRows::Bitmap(it) => it.next(),
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
    /// A string stored packed; [`Timestamp::text`] gives it back.
    Time(Timestamp),
    Object,
    /// Compact JSON text of the array.
    Array(&'a str),
}

impl ValueRef<'_> {
    /// The text of a string value (borrowed, or rebuilt for a packed timestamp).
    pub fn as_str(&self) -> Option<Cow<'_, str>> {
        match self {
            ValueRef::String(s) => Some(Cow::Borrowed(s)),
            ValueRef::Time(t) => Some(Cow::Owned(t.text().to_string())),
            _ => None,
        }
    }
}

/// A column's values as one byte each ([`Column::byte_values`]).
pub(crate) struct ByteValues<'a> {
    /// The kind of every value, or `None` when the bytes are the values' kind bytes.
    pub kind: Option<Kind>,
    /// One byte per value, in row order.
    pub bytes: &'a [u8],
    /// The rows that have a value, a bit per row of the store (`None`: every row).
    pub rows: Option<&'a [u64]>,
}

/// Kind bytes: one for the whole column when every value has the same, else one per value.
pub(crate) enum Kinds {
    Uniform(u8),
    Each(Buf<u8>),
}

/// Payloads, as narrow as the column allows: none when every payload is zero (objects,
/// booleans, nulls), else 8, 16, 32 or 64 bits, as the largest needs.
pub(crate) enum Payloads {
    Zero,
    U8(Buf<u8>),
    U16(Buf<u16>),
    U32(Buf<u32>),
    U64(Buf<u64>),
}

/// The parts of a column that a snapshot keeps in a portable encoding (roaring bitmaps,
/// dictionary text) and decodes on first use rather than at open.
pub(crate) struct Decoded {
    /// Every row of the store has a value, so a row is its own slot.
    pub dense: bool,
    /// Rows that have a value; the `i`-th of them holds value `i` (its *slot*).
    pub present: RoaringBitmap,
    /// For sparse columns: constant-time row → slot (roaring's `rank` popcounts up to a whole
    /// 8 KB container per call, which dominated row-at-a-time scans).
    pub ranks: Option<RankIndex>,
    /// When set, string payloads are codes into it.
    pub dict: Option<Vec<Box<str>>>,
    pub index: Option<ValueIndex>,
}

impl Decoded {
    /// What a column whose bytes failed verification reads as: no values.
    fn unusable() -> Decoded {
        Decoded {
            dense: false,
            present: RoaringBitmap::new(),
            ranks: None,
            dict: None,
            index: None,
        }
    }
}

/// Where a snapshot column's [`Decoded`] parts come from. Decoding also verifies the
/// checksums of every byte the column reads (kinds, payloads and arena included), so a column
/// that decodes is a column whose bytes are as written.
pub(crate) trait ColumnSource: Send + Sync {
    fn decode(&self) -> Result<Decoded, String>;
}

/// Decodes a snapshot column, keeping the error (and an unusable, empty column) on failure.
fn decode(source: &dyn ColumnSource) -> (Decoded, Option<String>) {
    match source.decode() {
        Ok(d) => (d, None),
        Err(e) => (Decoded::unusable(), Some(e)),
    }
}

enum Parts {
    /// Built by a load.
    Built(Decoded),
    /// From a snapshot: decoded once, on first use (see [`Column::prepare`]).
    Deferred {
        source: Box<dyn ColumnSource>,
        cell: OnceLock<(Decoded, Option<String>)>,
    },
}

/// A finished, immutable column.
pub struct Column {
    segments: Vec<Box<str>>,
    dotted: String,
    parts: Parts,
    len: usize,
    kinds: Kinds,
    data: Payloads,
    /// Length-prefixed text: strings when there is no dictionary, and arrays.
    arena: Buf<u8>,
    kind_counts: [u32; KINDS],
    /// The string values in order, built on first use ([`Column::sorted_strings`]).
    sorted: OnceLock<Option<SortedStrings>>,
}

/// A column's storage, for the snapshot writer.
pub(crate) struct RawColumn<'a> {
    pub dense: bool,
    pub kinds: &'a Kinds,
    pub data: &'a Payloads,
    pub arena: &'a [u8],
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

    /// A column read from a snapshot: cheap parts now, the rest decoded on first use.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_snapshot(
        segments: Vec<Box<str>>,
        len: usize,
        kinds: Kinds,
        data: Payloads,
        arena: Buf<u8>,
        kind_counts: [u32; KINDS],
        source: Box<dyn ColumnSource>,
    ) -> Column {
        let dotted = segments.join(".");
        Column {
            segments,
            dotted,
            parts: Parts::Deferred {
                source,
                cell: OnceLock::new(),
            },
            len,
            kinds,
            data,
            arena,
            kind_counts,
            sorted: OnceLock::new(),
        }
    }

    /// Decodes (and verifies) a snapshot column now; an error names what is wrong. Built
    /// columns are always ready. The planner prepares every column a query binds, so that a
    /// corrupt snapshot fails the query instead of answering it wrongly; a column read
    /// without being prepared decodes itself on first use, and reads as having no values if
    /// that fails.
    pub fn prepare(&self) -> Result<(), String> {
        match &self.parts {
            Parts::Built(_) => Ok(()),
            Parts::Deferred { source, cell } => match &cell.get_or_init(|| decode(&**source)).1 {
                None => Ok(()),
                Some(e) => Err(e.clone()),
            },
        }
    }

    #[inline]
    fn parts(&self) -> &Decoded {
        match &self.parts {
            Parts::Built(d) => d,
            Parts::Deferred { source, cell } => &cell.get_or_init(|| decode(&**source)).0,
        }
    }

    /// Whether the column's lazily decoded parts are in memory (always, for a built column).
    pub(crate) fn is_decoded(&self) -> bool {
        match &self.parts {
            Parts::Built(_) => true,
            Parts::Deferred { cell, .. } => cell.get().is_some(),
        }
    }

    pub(crate) fn set_index(&mut self, index: Option<ValueIndex>) {
        match &mut self.parts {
            Parts::Built(d) => d.index = index,
            Parts::Deferred { cell, .. } => {
                if let Some((d, _)) = cell.get_mut() {
                    d.index = index;
                }
            }
        }
    }

    pub(crate) fn raw(&self) -> RawColumn<'_> {
        RawColumn {
            dense: self.parts().dense,
            kinds: &self.kinds,
            data: &self.data,
            arena: &self.arena,
        }
    }

    /// Rows that have a value here.
    pub fn present(&self) -> &RoaringBitmap {
        &self.parts().present
    }

    /// How many values of each kind byte (`Kind as usize`, timestamps at 9 and up).
    pub fn kind_counts(&self) -> [u32; KINDS] {
        self.kind_counts
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether strings are dictionary-coded, and how many distinct ones there are.
    pub fn dictionary_len(&self) -> Option<usize> {
        self.parts().dict.as_ref().map(Vec::len)
    }

    /// The bitmap index of this column's values, if it was low-cardinality (or forced).
    pub fn index(&self) -> Option<&ValueIndex> {
        self.parts().index.as_ref()
    }

    /// The column's string values in byte order, for prefix, equality and range searches on
    /// columns without a value index; sorted by the first caller (thread-safe: others wait
    /// for it), kept for the store's lifetime. `None` when the column holds no string.
    pub fn sorted_strings(&self) -> Option<&SortedStrings> {
        self.sorted
            .get_or_init(|| SortedStrings::build(self))
            .as_ref()
    }

    /// The slot of `row`'s value, if it has one.
    #[inline]
    pub fn slot(&self, row: u32) -> Option<usize> {
        let parts = self.parts();
        if parts.dense {
            ((row as usize) < self.len).then_some(row as usize)
        } else if let Some(r) = &parts.ranks {
            r.slot(row)
        } else if parts.present.contains(row) {
            Some(parts.present.rank(row) as usize - 1)
        } else {
            None
        }
    }

    #[inline]
    pub fn get(&self, row: u32) -> Option<ValueRef<'_>> {
        self.slot(row).map(|i| self.value_at(i))
    }

    #[inline]
    fn kind_byte(&self, slot: usize) -> u8 {
        match &self.kinds {
            Kinds::Uniform(k) => *k,
            Kinds::Each(v) => v[slot],
        }
    }

    /// Calls `f(row, code)` for every value, in row order, when every value is a
    /// dictionary-coded string (index builds read them so, without a kind dispatch and a
    /// payload decode per value); false, calling nothing, for any other column.
    pub(crate) fn for_each_code(&self, mut f: impl FnMut(u32, u32)) -> bool {
        let p = self.parts();
        if p.dict.is_none() || !matches!(self.kinds, Kinds::Uniform(k) if k == Kind::String as u8) {
            return false;
        }
        self.for_each_payload(|row, d| {
            f(row, d as u32);
            true
        });
        true
    }

    /// Calls `f(row, n)` for every value, in row order, while it returns true, when every
    /// value is an integer written as one that fits `i64` (index builds read them so, like
    /// [`for_each_code`]); `None`, calling nothing, for any other column, else whether every
    /// call returned true.
    ///
    /// [`for_each_code`]: Column::for_each_code
    pub(crate) fn for_each_int(&self, mut f: impl FnMut(u32, i64) -> bool) -> Option<bool> {
        if !matches!(self.kinds, Kinds::Uniform(k) if k == Kind::Int as u8) {
            return None;
        }
        Some(self.for_each_payload(|row, d| f(row, unzigzag(d))))
    }

    /// One byte per value that tells it apart, for a column whose values differ by one byte
    /// alone: its kind bytes when every payload is zero (nulls and booleans), else its
    /// one-byte payloads when every value has the same kind (codes of a small dictionary,
    /// small integers). Index builds read such a column a vector at a time. `None` for any
    /// other column, and for a sparse one without a bitset of its rows.
    pub(crate) fn byte_values(&self) -> Option<ByteValues<'_>> {
        let p = self.parts();
        let rows = match (&p.ranks, p.dense) {
            (_, true) => None,
            (Some(RankIndex::Bits { words, .. }), false) => Some(&words[..]),
            _ => return None,
        };
        let (kind, bytes) = match (&self.kinds, &self.data) {
            (Kinds::Each(kinds), Payloads::Zero) => (None, &kinds[..]),
            (Kinds::Uniform(k), Payloads::U8(data)) => (Some(Kind::from_u8(*k)), &data[..]),
            _ => return None,
        };
        Some(ByteValues { kind, bytes, rows })
    }

    /// Calls `f(row, payload)` for every value, in row order, while it returns true; whether
    /// it always did.
    fn for_each_payload(&self, mut f: impl FnMut(u32, u64) -> bool) -> bool {
        let p = self.parts();
        fn each(
            p: &Decoded,
            data: impl Iterator<Item = u64>,
            f: &mut impl FnMut(u32, u64) -> bool,
        ) -> bool {
            if p.dense {
                data.enumerate().all(|(row, d)| f(row as u32, d))
            } else {
                PresentRows::of(p).zip(data).all(|(row, d)| f(row, d))
            }
        }
        match &self.data {
            Payloads::Zero => each(p, std::iter::repeat_n(0, self.len), &mut f),
            Payloads::U8(v) => each(p, v.iter().map(|&d| u64::from(d)), &mut f),
            Payloads::U16(v) => each(p, v.iter().map(|&d| u64::from(d)), &mut f),
            Payloads::U32(v) => each(p, v.iter().map(|&d| u64::from(d)), &mut f),
            Payloads::U64(v) => each(p, v.iter().copied(), &mut f),
        }
    }

    #[inline]
    fn payload(&self, slot: usize) -> u64 {
        match &self.data {
            Payloads::Zero => 0,
            Payloads::U8(v) => u64::from(v[slot]),
            Payloads::U16(v) => u64::from(v[slot]),
            Payloads::U32(v) => u64::from(v[slot]),
            Payloads::U64(v) => v[slot],
        }
    }

    #[inline]
    pub fn kind_at(&self, slot: usize) -> Kind {
        Kind::from_u8(self.kind_byte(slot))
    }

    /// The dictionary code of a string value, when the column has a dictionary.
    #[inline]
    pub fn code_at(&self, slot: usize) -> Option<u32> {
        (self.parts().dict.is_some() && self.kind_byte(slot) == Kind::String as u8)
            .then(|| self.payload(slot) as u32)
    }

    pub fn dictionary(&self) -> Option<&[Box<str>]> {
        self.parts().dict.as_deref()
    }

    #[inline]
    pub fn value_at(&self, slot: usize) -> ValueRef<'_> {
        self.decode_value(self.kind_byte(slot), self.payload(slot))
    }

    /// The bytes of a string value, not checked to be UTF-8 again (they were `&str`s when
    /// stored; a snapshot's arena is checksummed): for writers that check their output as a
    /// whole. `None` for every other kind, packed timestamps included.
    #[inline]
    pub fn string_bytes_at(&self, slot: usize) -> Option<&[u8]> {
        if self.kind_byte(slot) != Kind::String as u8 {
            return None;
        }
        let d = self.payload(slot);
        Some(match &self.parts().dict {
            Some(dict) => dict.get(d as usize).map_or(b"", |s| s.as_bytes()),
            None => arena_bytes(&self.arena, d),
        })
    }

    /// The values at many slots. The payloads are all read first, then the text they point
    /// to: for scattered slots each read is a cache miss, and two passes of independent
    /// reads overlap them where one value at a time waits for each in turn.
    pub fn values_at(&self, slots: &[usize]) -> Vec<ValueRef<'_>> {
        let raw: Vec<(u8, u64)> = slots
            .iter()
            .map(|&s| (self.kind_byte(s), self.payload(s)))
            .collect();
        raw.into_iter()
            .map(|(k, d)| self.decode_value(k, d))
            .collect()
    }

    /// The value of kind byte `k` with payload `d`.
    #[inline]
    pub(crate) fn decode_value(&self, k: u8, d: u64) -> ValueRef<'_> {
        match Kind::from_u8(k) {
            Kind::Null => ValueRef::Null,
            Kind::False => ValueRef::Bool(false),
            Kind::True => ValueRef::Bool(true),
            Kind::Int => ValueRef::Number(Num::Int(unzigzag(d))),
            Kind::UInt => ValueRef::Number(Num::UInt(d)),
            Kind::Float => ValueRef::Number(Num::Float(f64::from_bits(d))),
            Kind::String => match &self.parts().dict {
                // Codes are checked against the dictionary when a snapshot column is decoded.
                Some(dict) => ValueRef::String(dict.get(d as usize).map_or("", |s| s)),
                None => ValueRef::String(arena_str(&self.arena, d)),
            },
            Kind::Object => ValueRef::Object,
            Kind::Array => ValueRef::Array(arena_str(&self.arena, d)),
            Kind::Time => ValueRef::Time(Timestamp {
                ticks: d,
                digits: k - Kind::Time as u8,
            }),
        }
    }

    /// Every (row, value) in row order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, ValueRef<'_>)> + '_ {
        self.slots()
            .map(move |(row, slot)| (row, self.value_at(slot)))
    }

    /// Every (row, slot) in row order: counted for a column with a value in every row (no
    /// bitmap iterator to step per value).
    pub fn slots(&self) -> Slots<'_> {
        let p = self.parts();
        if p.dense {
            Slots::Dense(0..self.len)
        } else {
            Slots::Sparse(PresentRows::of(p).enumerate())
        }
    }

    pub fn heap_bytes(&self) -> usize {
        let kinds = match &self.kinds {
            Kinds::Uniform(_) => 0,
            Kinds::Each(v) => v.heap_bytes(),
        };
        let data = match &self.data {
            Payloads::Zero => 0,
            Payloads::U8(v) => v.heap_bytes(),
            Payloads::U16(v) => v.heap_bytes(),
            Payloads::U32(v) => v.heap_bytes(),
            Payloads::U64(v) => v.heap_bytes(),
        };
        // A snapshot column not yet used holds nothing decoded; don't decode it to say so.
        let decoded = if self.is_decoded() {
            let p = self.parts();
            p.dict
                .as_ref()
                .map_or(0, |d| d.iter().map(|s| s.len() + 16).sum())
                + p.present.serialized_size()
                + p.ranks.as_ref().map_or(0, RankIndex::heap_bytes)
                + p.index.as_ref().map_or(0, ValueIndex::heap_bytes)
        } else {
            0
        };
        let sorted = self
            .sorted
            .get()
            .and_then(Option::as_ref)
            .map_or(0, SortedStrings::heap_bytes);
        kinds + data + self.arena.heap_bytes() + decoded + sorted
    }
}

/// Row -> slot for a sparse column, in one of two forms, whichever is smaller:
///
/// - a plain bitset with the count of set bits before each word, where a row's slot is one
///   load and one popcount (12 bytes per 64 rows of the *store*);
/// - the present rows in order, where a slot is a binary search (4 bytes per present row).
///
/// The bitset alone made memory grow with columns × rows: 100,000 records each with its own
/// tag key built 100,000 bitsets of 100,000 rows (1.9 GB for a 5 MB input). With the smaller
/// form, a column's rank index is never larger than 4 bytes per value it holds.
pub(crate) enum RankIndex {
    Bits { words: Vec<u64>, before: Vec<u32> },
    Sorted(Vec<u32>),
}

impl RankIndex {
    fn new(rows: Vec<u32>, total_rows: u32) -> RankIndex {
        if RankIndex::sorted_is_smaller(rows.len(), total_rows) {
            RankIndex::Sorted(rows)
        } else {
            RankIndex::from_rows(rows.into_iter(), total_rows)
        }
    }

    /// From a bitset of the present rows (`present` holds the same rows), whichever form is
    /// smaller.
    fn from_words(words: Vec<u64>, present: &RoaringBitmap, total_rows: u32) -> RankIndex {
        if RankIndex::sorted_is_smaller(present.len() as usize, total_rows) {
            return RankIndex::Sorted(present.iter().collect());
        }
        RankIndex::bits(words)
    }

    /// From the rows of a presence bitmap (a snapshot column, on first use).
    pub(crate) fn from_bitmap(present: &RoaringBitmap, total_rows: u32) -> RankIndex {
        if RankIndex::sorted_is_smaller(present.len() as usize, total_rows) {
            RankIndex::Sorted(present.iter().collect())
        } else {
            RankIndex::from_rows(present.iter(), total_rows)
        }
    }

    fn sorted_is_smaller(present: usize, total_rows: u32) -> bool {
        present.saturating_mul(4) < (total_rows as usize).div_ceil(64) * 12
    }

    fn from_rows(rows: impl Iterator<Item = u32>, total_rows: u32) -> RankIndex {
        let mut words = vec![0u64; (total_rows as usize).div_ceil(64)];
        for r in rows {
            if let Some(w) = words.get_mut(r as usize >> 6) {
                *w |= 1 << (r & 63);
            }
        }
        RankIndex::bits(words)
    }

    /// The bitset form over `words`, with the count of set bits before each.
    fn bits(words: Vec<u64>) -> RankIndex {
        let mut before = Vec::with_capacity(words.len());
        let mut acc = 0u32;
        for w in &words {
            before.push(acc);
            acc += w.count_ones();
        }
        RankIndex::Bits { words, before }
    }

    #[inline]
    fn slot(&self, row: u32) -> Option<usize> {
        match self {
            RankIndex::Bits { words, before } => {
                let w = row as usize >> 6;
                let word = *words.get(w)?;
                let bit = 1u64 << (row & 63);
                if word & bit == 0 {
                    return None;
                }
                Some(before[w] as usize + (word & (bit - 1)).count_ones() as usize)
            }
            RankIndex::Sorted(rows) => rows.binary_search(&row).ok(),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            RankIndex::Bits { words, before } => words.capacity() * 8 + before.capacity() * 4,
            RankIndex::Sorted(rows) => rows.capacity() * 4,
        }
    }
}

#[inline]
fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

#[inline]
fn unzigzag(d: u64) -> i64 {
    ((d >> 1) as i64) ^ -((d & 1) as i64)
}

fn arena_str(arena: &[u8], offset: u64) -> &str {
    // The arena only ever receives `&str` bytes, and offsets come from its own writer.
    std::str::from_utf8(arena_bytes(arena, offset)).unwrap_or_default()
}

fn arena_bytes(arena: &[u8], offset: u64) -> &[u8] {
    // Offsets of a snapshot column are checksummed, not each validated: stay in bounds.
    let at = usize::try_from(offset).unwrap_or(usize::MAX);
    let (len, body) = read_varint(arena.get(at..).unwrap_or_default());
    body.get(..len).unwrap_or_default()
}

/// Writes `text` to `arena` after its length; returns where it starts. Short texts (most
/// strings of a twin: ids, etags, serial numbers) are copied by an inlined loop rather than a
/// call to `memcpy`: −1.5% for a load of 1M devices (16 alternating pairs).
#[inline]
fn write_text(arena: &mut Vec<u8>, text: &str) -> u64 {
    let off = arena.len() as u64;
    write_varint(arena, text.len());
    let b = text.as_bytes();
    if b.len() <= 32 {
        arena.extend(b.iter().copied());
    } else {
        arena.extend_from_slice(b);
    }
    off
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

/// The hash of a dictionary value in a chunk builder's table.
#[inline]
fn dict_hash(s: &str) -> u64 {
    BuildHasherDefault::<FxHasher>::default().hash_one(s)
}

/// Above this many distinct strings a chunk stops dictionary-coding a column, unless the
/// strings repeat at least four times on average.
const DICT_MIN_DISTINCT: usize = 256;
const DICT_MIN_REPEAT: usize = 4;

/// A builder's kind bytes: one for all values while they agree (most columns), one per value
/// from the first that differs.
#[derive(Default)]
struct KindBytes {
    len: usize,
    first: u8,
    /// Empty while every value has kind `first`.
    each: Vec<u8>,
}

impl KindBytes {
    #[inline]
    fn push(&mut self, k: u8) {
        if !self.each.is_empty() {
            self.each.push(k);
        } else if self.len == 0 {
            self.first = k;
        } else if k != self.first {
            self.spread(k);
            return;
        }
        self.len += 1;
    }

    /// Writes out one byte per value so far, then `k`.
    #[cold]
    fn spread(&mut self, k: u8) {
        self.each = vec![self.first; self.len];
        self.each.push(k);
        self.len += 1;
    }

    fn get(&self, i: usize) -> u8 {
        if self.each.is_empty() {
            self.first
        } else {
            self.each[i]
        }
    }

    /// The kind of every value, if they agree (none for an empty builder).
    fn uniform(&self) -> Option<u8> {
        (self.len > 0 && self.each.is_empty()).then_some(self.first)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Payloads under construction, a chunk builder's and a merged column's: none while they are
/// all zero, then as narrow as the largest so far allows — 8, 16, 32 or 64 bits each — all
/// widened when one needs more (once per width at most). The codes of small dictionaries and
/// small integers, most indexed columns, take one or two bytes; a third of an export's values
/// (objects, nulls, booleans) have no payload, and their columns never write one.
enum Data {
    /// `len` payloads, all zero; `room` is how many to make room for when one is not.
    Zero {
        len: usize,
        room: usize,
    },
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
}

impl Default for Data {
    fn default() -> Data {
        Data::Zero { len: 0, room: 0 }
    }
}

/// Bytes per payload for payloads up to `max` (0 for all-zero).
fn width_for(max: u64) -> usize {
    match max {
        0 => 0,
        1..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xffff_ffff => 4,
        _ => 8,
    }
}

impl Data {
    /// Inlined into every push, without a call: the changes of form are out of line (not
    /// recursive, which would make the push a call again).
    #[inline(always)]
    fn push(&mut self, d: u64) {
        match self {
            Data::Zero { len, .. } if d == 0 => *len += 1,
            Data::U8(v) if d <= 0xff => v.push(d as u8),
            Data::U16(v) if d <= 0xffff => v.push(d as u16),
            Data::U32(v) if d <= u64::from(u32::MAX) => v.push(d as u32),
            Data::U64(v) => v.push(d),
            _ => self.push_changing_form(d),
        }
    }

    /// [`Data::push`] of a payload the form cannot hold.
    #[cold]
    #[inline(never)]
    fn push_changing_form(&mut self, d: u64) {
        self.push_n(d, 1);
    }

    /// Pushes `d` `n` times.
    fn push_n(&mut self, d: u64, n: usize) {
        self.fit(d);
        match self {
            Data::Zero { len, .. } => *len += n,
            Data::U8(v) => v.extend(std::iter::repeat_n(d as u8, n)),
            Data::U16(v) => v.extend(std::iter::repeat_n(d as u16, n)),
            Data::U32(v) => v.extend(std::iter::repeat_n(d as u32, n)),
            Data::U64(v) => v.extend(std::iter::repeat_n(d, n)),
        }
    }

    fn len(&self) -> usize {
        match self {
            Data::Zero { len, .. } => *len,
            Data::U8(v) => v.len(),
            Data::U16(v) => v.len(),
            Data::U32(v) => v.len(),
            Data::U64(v) => v.len(),
        }
    }

    fn capacity(&self) -> usize {
        match self {
            Data::Zero { len, room } => (*len).max(*room),
            Data::U8(v) => v.capacity(),
            Data::U16(v) => v.capacity(),
            Data::U32(v) => v.capacity(),
            Data::U64(v) => v.capacity(),
        }
    }

    /// Room for `additional` more payloads.
    fn reserve(&mut self, additional: usize) {
        match self {
            Data::Zero { len, room } => *room = (*room).max(*len + additional),
            Data::U8(v) => v.reserve(additional),
            Data::U16(v) => v.reserve(additional),
            Data::U32(v) => v.reserve(additional),
            Data::U64(v) => v.reserve(additional),
        }
    }

    /// Bytes per payload of the form (0 while all are zero).
    fn width(&self) -> usize {
        match self {
            Data::Zero { .. } => 0,
            Data::U8(_) => 1,
            Data::U16(_) => 2,
            Data::U32(_) => 4,
            Data::U64(_) => 8,
        }
    }

    fn get(&self, i: usize) -> u64 {
        match self {
            Data::Zero { .. } => 0,
            Data::U8(v) => u64::from(v[i]),
            Data::U16(v) => u64::from(v[i]),
            Data::U32(v) => u64::from(v[i]),
            Data::U64(v) => v[i],
        }
    }

    fn set(&mut self, i: usize, d: u64) {
        self.fit(d);
        match self {
            Data::Zero { .. } => {}
            Data::U8(v) => v[i] = d as u8,
            Data::U16(v) => v[i] = d as u16,
            Data::U32(v) => v[i] = d as u32,
            Data::U64(v) => v[i] = d,
        }
    }

    /// Widens the payloads so far (keeping their room) to hold payloads up to `max`.
    #[inline]
    fn fit(&mut self, max: u64) {
        if width_for(max) > self.width() {
            self.widen_to(width_for(max));
        }
    }

    /// The payloads so far at `width` bytes each (at least as wide as the largest), with the
    /// room they had.
    #[cold]
    fn widen_to(&mut self, width: usize) {
        let (len, room) = (self.len(), self.capacity().max(self.len() + 1));
        let old = std::mem::take(self);
        fn with<T>(len: usize, room: usize, each: impl Fn(usize) -> T) -> Vec<T> {
            let mut v = Vec::with_capacity(room);
            v.extend((0..len).map(each));
            v
        }
        *self = match width {
            1 => Data::U8(with(len, room, |i| old.get(i) as u8)),
            2 => Data::U16(with(len, room, |i| old.get(i) as u16)),
            4 => Data::U32(with(len, room, |i| old.get(i) as u32)),
            _ => Data::U64(with(len, room, |i| old.get(i))),
        };
    }
}

/// Builds one column for one chunk of rows (row ids are local to the chunk).
#[derive(Default)]
pub struct ColumnBuilder {
    /// The rows of the values, kept only once they stop being consecutive: most columns
    /// have a value in every row from their first on (then `rows` stays empty).
    rows: Vec<u32>,
    /// The row of the first value.
    first_row: u32,
    /// Whether `rows` has been written (the values' rows are not consecutive).
    scattered: bool,
    kinds: KindBytes,
    data: Data,
    arena: Vec<u8>,
    /// Codes by the hash of their value (`dict_values[code]`), compared without `memcmp`.
    dict: Option<HashTable<u32>>,
    dict_values: Vec<Box<str>>,
    dict_abandoned: bool,
    /// The dictionary code pushed last.
    last_code: u32,
    strings: usize,
}

impl ColumnBuilder {
    pub fn new() -> ColumnBuilder {
        ColumnBuilder::default()
    }

    /// A builder with room for `values` values before its vectors grow.
    pub fn with_capacity(values: usize) -> ColumnBuilder {
        ColumnBuilder {
            data: Data::Zero {
                len: 0,
                room: values,
            },
            ..ColumnBuilder::default()
        }
    }

    #[inline(always)]
    fn push_raw(&mut self, row: u32, kind: u8, data: u64) {
        if self.scattered {
            self.rows.push(row);
        } else if self.kinds.is_empty() {
            self.first_row = row;
        } else if row != self.first_row + self.kinds.len() as u32 {
            self.scatter(row);
        }
        self.kinds.push(kind);
        self.data.push(data);
    }

    #[inline]
    pub fn push_null(&mut self, row: u32) {
        self.push_raw(row, Kind::Null as u8, 0);
    }

    #[inline]
    pub fn push_bool(&mut self, row: u32, b: bool) {
        let k = if b { Kind::True } else { Kind::False };
        self.push_raw(row, k as u8, 0);
    }

    #[inline]
    pub fn push_int(&mut self, row: u32, n: i64) {
        self.push_raw(row, Kind::Int as u8, zigzag(n));
    }

    #[inline]
    pub fn push_uint(&mut self, row: u32, n: u64) {
        self.push_raw(row, Kind::UInt as u8, n);
    }

    #[inline]
    pub fn push_float(&mut self, row: u32, n: f64) {
        self.push_raw(row, Kind::Float as u8, n.to_bits());
    }

    #[inline]
    pub fn push_object(&mut self, row: u32) {
        self.push_raw(row, Kind::Object as u8, 0);
    }

    /// `json` is the array's compact JSON text.
    pub fn push_array(&mut self, row: u32, json: &str) {
        let off = write_text(&mut self.arena, json);
        self.push_raw(row, Kind::Array as u8, off);
    }

    pub fn push_str(&mut self, row: u32, s: &str) {
        if let Some(t) = Timestamp::parse(s) {
            self.push_raw(row, Kind::Time as u8 + t.digits, t.ticks);
            return;
        }
        self.strings += 1;
        if !self.dict_abandoned {
            let code = match self.dict_values.get(self.last_code as usize) {
                // Values often repeat the previous row's: no hashing then.
                Some(last) if same_bytes(last.as_bytes(), s.as_bytes()) => self.last_code,
                _ => {
                    let dict = self.dict.get_or_insert_with(HashTable::new);
                    let values = &mut self.dict_values;
                    let hash = dict_hash(s);
                    let same = |&c: &u32| same_bytes(values[c as usize].as_bytes(), s.as_bytes());
                    match dict.find(hash, same) {
                        Some(&c) => c,
                        None => {
                            let next = values.len() as u32;
                            values.push(s.into());
                            let values = &*values;
                            dict.insert_unique(hash, next, |&c| dict_hash(&values[c as usize]));
                            next
                        }
                    }
                }
            };
            self.last_code = code;
            let distinct = self.dict_values.len();
            if distinct > DICT_MIN_DISTINCT && distinct * DICT_MIN_REPEAT > self.strings {
                self.abandon_dictionary();
            } else {
                self.push_raw(row, Kind::String as u8, code as u64);
                return;
            }
        }
        let off = write_text(&mut self.arena, s);
        self.push_raw(row, Kind::String as u8, off);
    }

    /// Writes down the rows of the values so far (consecutive from `first_row`) and `row`.
    #[cold]
    fn scatter(&mut self, row: u32) {
        self.scattered = true;
        let n = self.kinds.len() as u32;
        self.rows.reserve(self.data.capacity());
        self.rows.extend(self.first_row..self.first_row + n);
        self.rows.push(row);
    }

    /// The row of every value, in order.
    fn rows(&self) -> impl Iterator<Item = u32> + '_ {
        let n = if self.scattered {
            0
        } else {
            self.kinds.len() as u32
        };
        (self.first_row..self.first_row + n).chain(self.rows.iter().copied())
    }

    /// Rewrites the dictionary codes pushed so far as arena text.
    fn abandon_dictionary(&mut self) {
        self.dict_abandoned = true;
        self.dict = None;
        let values = std::mem::take(&mut self.dict_values);
        for i in 0..self.kinds.len() {
            if self.kinds.get(i) == Kind::String as u8 {
                let off = write_text(&mut self.arena, &values[self.data.get(i) as usize]);
                self.data.set(i, off);
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

/// Byte-string equality without a call into `memcmp` for the short strings twins are made
/// of (keys, enum-like values): whole words, the last one overlapping the one before.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
    let half = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().unwrap_or_default());
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            if word(a, i) != word(b, i) {
                return false;
            }
            i += 8;
        }
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
}

/// A hash map with a fast, non-cryptographic hasher: dictionary keys are data, not attacker
/// controlled in a way that matters here (a collision flood would only slow one load).
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
pub(crate) type FastSet<K> = std::collections::HashSet<K, BuildHasherDefault<FxHasher>>;

/// The Fx hash (as used by rustc): a multiply and rotate per word.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.hash = (self.hash.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    #[inline]
    fn write_u8(&mut self, b: u8) {
        self.write(&[b]);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn seg(p: &str) -> Vec<Box<str>> {
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

    /// Each way a chunk's payloads move into the merged column: one kind copied as is,
    /// arena offsets moved, dictionary codes renumbered, dictionary strings spilled into the
    /// arena when the merged column has no dictionary, and mixed chunks; rows consecutive or
    /// not; payloads that are all zero (kept as a count) in a chunk, in the merged column, or
    /// in both, and mapped to other payloads there.
    #[test]
    fn merges_every_kind_of_chunk_value_for_value() {
        type Push = fn(&mut ColumnBuilder, u32, u32);
        type Expect = fn(u32) -> String;
        let pushes: [(Push, Expect); 10] = [
            (
                |b, row, i| b.push_int(row, i64::from(i) * 7 - 3),
                |i| format!("{}", i64::from(i) * 7 - 3),
            ),
            (
                |b, row, i| b.push_str(row, ["a", "b", "c"][i as usize % 3]),
                |i| ["a", "b", "c"][i as usize % 3].to_string(),
            ),
            (
                |b, row, i| b.push_array(row, &format!("[{i}]")),
                |i| format!("[{i}]"),
            ),
            (
                |b, row, i| b.push_str(row, &format!("s{i}")),
                |i| format!("s{i}"),
            ),
            // Narrow payloads that widen part-way (a float's bits need 64).
            (
                |b, row, i| match i % 4 {
                    3 => b.push_float(row, f64::from(i) + 0.5),
                    _ => b.push_int(row, i64::from(i)),
                },
                |i| match i % 4 {
                    3 => format!("{}", f64::from(i) + 0.5),
                    _ => i.to_string(),
                },
            ),
            // 5 and 9: one string, dictionary code 0 (or arena offset 0) throughout.
            (|b, row, _| b.push_str(row, "z"), |_| "z".to_string()),
            // 6: no payloads at all.
            (
                |b, row, i| match i % 2 {
                    0 => b.push_null(row),
                    _ => b.push_object(row),
                },
                |i| match i % 2 {
                    0 => format!("{:?}", ValueRef::Null),
                    _ => format!("{:?}", ValueRef::Object),
                },
            ),
            // 7: zero payloads, then others.
            (
                |b, row, i| b.push_int(row, i64::from(i.saturating_sub(4))),
                |i| i.saturating_sub(4).to_string(),
            ),
            // 8: zero payloads, then 64-bit ones.
            (
                |b, row, i| match i {
                    0..3 => b.push_null(row),
                    _ => b.push_float(row, f64::from(i) + 0.25),
                },
                |i| match i {
                    0..3 => format!("{:?}", ValueRef::Null),
                    _ => format!("{}", f64::from(i) + 0.25),
                },
            ),
            (|b, row, _| b.push_str(row, "y"), |_| "y".to_string()),
        ];
        let show = |v: ValueRef<'_>| match v {
            ValueRef::Number(Num::Int(n)) => n.to_string(),
            ValueRef::Number(Num::Float(f)) => f.to_string(),
            ValueRef::String(s) | ValueRef::Array(s) => s.to_string(),
            other => format!("{other:?}"),
        };
        // (which push, abandon the dictionary, rows per chunk, gap between rows)
        let plans: &[&[(usize, bool, u32, u32)]] = &[
            &[(0, false, 50, 1), (0, false, 40, 3)],
            &[(1, false, 30, 1), (1, false, 30, 2)],
            &[(2, false, 10, 1), (2, false, 10, 1)],
            &[(3, true, 20, 1), (3, true, 20, 5)],
            &[(1, false, 20, 1), (3, true, 20, 1)],
            &[(1, false, 20, 1), (0, false, 5, 1), (2, false, 5, 2)],
            &[(4, false, 12, 1), (0, false, 3, 1), (4, false, 2, 3)],
            // A chunk without a dictionary first: the next one's strings are spilled.
            &[(3, true, 20, 1), (1, false, 20, 1)],
            &[
                (0, false, 5, 1),
                (1, false, 6, 1),
                (3, true, 7, 2),
                (2, false, 3, 1),
            ],
            &[(5, false, 10, 1), (5, false, 10, 2)],
            &[(5, false, 5, 1), (9, false, 5, 1), (5, false, 5, 1)],
            // Merged codes all 0, then strings spilled to the arena.
            &[(5, false, 5, 1), (3, true, 5, 1)],
            // Code 0 of the chunk is code 3 merged.
            &[(1, false, 10, 1), (5, false, 10, 1), (5, false, 3, 1)],
            &[(5, true, 10, 1), (5, false, 10, 1), (5, true, 4, 1)],
            &[(6, false, 10, 1), (0, false, 5, 1), (6, false, 4, 2)],
            &[(6, false, 10, 1), (6, false, 10, 3)],
            // Chunks of one array, at offset 0 of their arenas.
            &[(2, false, 1, 1), (2, false, 1, 1), (2, false, 1, 3)],
            &[(7, false, 10, 1), (6, false, 3, 1), (7, false, 3, 1)],
            &[(8, false, 8, 1), (6, false, 3, 2), (8, false, 8, 1)],
            &[(6, false, 3, 1), (8, false, 2, 1)],
        ];
        for plan in plans {
            let mut parts = Vec::new();
            let mut want = Vec::new();
            let mut base = 0;
            for &(which, abandon, n, gap) in *plan {
                let mut b = ColumnBuilder::new();
                b.dict_abandoned = abandon;
                for i in 0..n {
                    let row = i * gap;
                    (pushes[which].0)(&mut b, row, i);
                    want.push((base + row, (pushes[which].1)(i)));
                }
                parts.push((base, b));
                base += n * gap + 1;
            }
            let c = merge_column(seg("x"), parts, base);
            let got: Vec<(u32, String)> = c.iter().map(|(r, v)| (r, show(v))).collect();
            assert_eq!(got, want, "{plan:?}");
            assert_eq!(c.kind_counts().iter().sum::<u32>() as usize, want.len());
        }
    }

    /// A sparse column's present rows read from either form of its rank index are its
    /// presence bitmap's, and its slots count them.
    #[test]
    fn present_rows_from_rank_indexes() {
        // (rows in the store, every how many rows a value): a bitset index, then a list.
        for (total, every) in [
            (1000u32, 2u32),
            (1000, 3),
            (200_000, 97),
            (1_000_000, 100_003),
        ] {
            let mut b = ColumnBuilder::new();
            let rows: Vec<u32> = (5..total).step_by(every as usize).collect();
            for &r in &rows {
                b.push_int(r, 1);
            }
            let c = merge_column(seg("x"), vec![(0, b)], total);
            let ranks = c.parts().ranks.as_ref().expect("sparse");
            let bits = matches!(ranks, RankIndex::Bits { .. });
            assert_eq!(bits, every < 32, "total {total} every {every}");
            let got: Vec<u32> = PresentRows::of(c.parts()).collect();
            assert_eq!(got, c.present().iter().collect::<Vec<_>>());
            assert_eq!(got, rows);
            let slots: Vec<(u32, usize)> = c.slots().collect();
            assert_eq!(
                slots,
                rows.iter()
                    .enumerate()
                    .map(|(s, &r)| (r, s))
                    .collect::<Vec<_>>()
            );
        }
    }

    /// Dictionary codes by row for dense and sparse columns, one value (payloads all zero)
    /// or several, and nothing for columns that are not all coded strings.
    #[test]
    fn codes_are_visited_by_row() {
        let codes = |c: &Column| {
            let mut seen = Vec::new();
            let dict = c.dictionary().map(<[Box<str>]>::to_vec);
            c.for_each_code(|row, code| {
                seen.push((row, dict.as_ref().unwrap()[code as usize].clone()))
            })
            .then_some(seen)
        };
        let build = |rows: &[(u32, &str)], total: u32| {
            let mut b = ColumnBuilder::new();
            for &(row, v) in rows {
                b.push_str(row, v);
            }
            merge_column(seg("x"), vec![(0, b)], total)
        };
        for (rows, total) in [
            (&[(0, "a"), (1, "b"), (2, "a")][..], 3),
            (&[(0, "a"), (1, "a"), (2, "a")][..], 3),
            (&[(1, "b"), (5, "a"), (6, "b")][..], 10),
            (&[(4, "only")][..], 10),
        ] {
            let want: Vec<(u32, Box<str>)> = rows.iter().map(|&(r, v)| (r, v.into())).collect();
            assert_eq!(codes(&build(rows, total)), Some(want), "{rows:?}");
        }
        let mut mixed = ColumnBuilder::new();
        mixed.push_str(0, "a");
        mixed.push_int(1, 5);
        assert_eq!(codes(&merge_column(seg("x"), vec![(0, mixed)], 2)), None);
    }

    /// A merged column's payloads take the width of its largest: each chunk that brings a
    /// larger one widens those before it, by the uniform copy and by the mixed-kind loop.
    #[test]
    fn payloads_take_the_width_of_the_largest() {
        // Integers are stored zigzagged: n takes the width of 2n.
        let chunks: [&[i64]; 5] = [&[1, 5, -3], &[300, 2], &[-70_000], &[1 << 40, 7], &[9]];
        let width = |data: &Payloads| match data {
            Payloads::Zero => 0,
            Payloads::U8(_) => 1,
            Payloads::U16(_) => 2,
            Payloads::U32(_) => 4,
            Payloads::U64(_) => 8,
        };
        for (take, want) in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8)] {
            let (mut parts, mut values, mut row) = (Vec::new(), Vec::new(), 0u32);
            for (i, chunk) in chunks.iter().take(take).enumerate() {
                let mut b = ColumnBuilder::new();
                for (j, &n) in chunk.iter().enumerate() {
                    // The second chunk's first value a null: a mixed chunk.
                    if i == 1 && j == 0 {
                        b.push_null(row);
                        values.push(ValueRef::Null);
                        row += 1;
                    }
                    b.push_int(row, n);
                    values.push(ValueRef::Number(Num::Int(n)));
                    row += 1;
                }
                parts.push((0, b));
            }
            let c = merge_column(seg("n"), parts, row);
            assert_eq!(width(&c.data), want, "{take} chunks");
            let got: Vec<_> = (0..row).map(|r| c.get(r)).collect();
            let want: Vec<_> = values.into_iter().map(Some).collect();
            assert_eq!(got, want, "{take} chunks");
        }
        let mut zeros = ColumnBuilder::new();
        zeros.push_int(0, 0);
        let c = merge_column(seg("n"), vec![(0, zeros)], 1);
        assert!(matches!(c.data, Payloads::Zero));
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
        assert!(c.parts().dense);
        // Offsets into an arena of about 8 KB: 16 bits each.
        assert!(matches!(c.data, Payloads::U16(_)));
    }

    /// Chunks that each keep a small dictionary, whose union outgrows the merged column's
    /// limit part-way: the codes appended so far become arena text, values unchanged.
    #[test]
    fn a_dictionary_outgrowing_the_merged_limit_moves_to_the_arena() {
        let (chunks, per_chunk) = (300u32, 256u32);
        let value = |chunk: u32, i: u32| format!("v{}", chunk * per_chunk + i % per_chunk);
        let mut parts = Vec::new();
        for chunk in 0..chunks {
            let mut b = ColumnBuilder::new();
            // Each value four times: the chunk keeps its dictionary.
            for i in 0..per_chunk * 4 {
                b.push_str(i, &value(chunk, i));
            }
            assert!(b.uses_dictionary());
            parts.push((chunk * per_chunk * 4, b));
        }
        let total = chunks * per_chunk * 4;
        let c = merge_column(seg("x"), parts, total);
        assert_eq!(c.dictionary_len(), None);
        assert_eq!(c.len(), total as usize);
        assert!(c.parts().dense);
        for row in (0..total).step_by(997) {
            let want = value(row / (per_chunk * 4), row % (per_chunk * 4));
            assert_eq!(c.get(row), Some(ValueRef::String(&want)), "row {row}");
        }
    }

    /// Values in rows `0..n` of a store with more rows: present rows implied while they
    /// run from 0, written out when the column finishes.
    #[test]
    fn a_column_ending_before_the_last_row_is_sparse() {
        let mut a = ColumnBuilder::new();
        let mut b = ColumnBuilder::new();
        for row in 0..5 {
            a.push_int(row, i64::from(row));
            b.push_int(row, i64::from(row) + 5);
        }
        let c = merge_column(seg("x"), vec![(0, a), (5, b)], 12);
        assert!(!c.parts().dense);
        assert_eq!(
            c.present().iter().collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        assert_eq!(c.get(9), Some(ValueRef::Number(Num::Int(9))));
        assert_eq!(c.get(10), None);
    }

    /// A column with a few values among many rows must not cost memory per row of the store:
    /// with one column per distinct key, that was columns × rows.
    #[test]
    fn a_rare_column_ranks_rows_in_memory_per_value_not_per_row() {
        let total = 1_000_000;
        let mut a = ColumnBuilder::new();
        a.push_int(3, 1);
        a.push_int(700_000, 2);
        let rare = merge_column(seg("tags.k1"), vec![(0, a)], total);
        assert!(matches!(rare.parts().ranks, Some(RankIndex::Sorted(_))));
        let ranks = rare.parts().ranks.as_ref().map_or(0, RankIndex::heap_bytes);
        assert!(ranks <= 16, "rank index of 2 values takes {ranks} bytes");
        assert_eq!(rare.get(3), Some(ValueRef::Number(Num::Int(1))));
        assert_eq!(rare.get(700_000), Some(ValueRef::Number(Num::Int(2))));
        assert_eq!(rare.get(4), None);
        assert_eq!(rare.get(total), None);

        let mut b = ColumnBuilder::new();
        for row in (0..total).step_by(2) {
            b.push_int(row, i64::from(row));
        }
        let half = merge_column(seg("tags.k2"), vec![(0, b)], total);
        assert!(matches!(half.parts().ranks, Some(RankIndex::Bits { .. })));
        assert_eq!(half.get(4242), Some(ValueRef::Number(Num::Int(4242))));
        assert_eq!(half.get(4243), None);
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
