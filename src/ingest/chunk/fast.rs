//! The fast path: one pass over a record's bytes that resolves keys through the chunk's trie
//! and collects its column values, with no parser tape in between.
//!
//! A tape parse alone costs as much as the whole load is allowed to (PERF-NOTES: the target
//! is 1.5× the bare parse, and walking a tape afterwards doubled it). Records in an export are
//! plain: compact, with keys the trie predicts. This scanner handles such records, checks
//! them against SPEC §1.3 as it goes, and *declines* anything else — an exponent, a long
//! number, a `-0`, a repeated or case-colliding key, a record that would have a finding,
//! normalisation rules it does not model — before a single column has changed: values are
//! collected as [`Event`]s and pushed only once the whole record has been read (a batch of
//! records at a time, column by column: [`batch`]). A declined record goes through the tape
//! path ([`ChunkBuilder::add`]), which handles everything, so the fast path only ever has to
//! be right about what it accepts.
//! Tests load the same inputs with the fast path on and off and require identical stores and
//! reports.
//!
//! What it accepts, and why the result is the tape path's:
//! - The record is valid UTF-8 (checked once, as a whole) and its JSON is read by RFC 8259's
//!   grammar, with the four white-space bytes between tokens.
//! - Strings without control characters: their text is their bytes, as on the tape, or, with
//!   escapes, unescaped by RFC 8259 (a lone surrogate is declined). Keys at the top level and
//!   in `authentication`, and strings in arrays, are declined when they have escapes.
//! - Numbers of at most 17 digits without an exponent: integers the tape holds as `I64`/`U64`
//!   (pushed as `i64`); with a fraction, at most 15 digits in all, computed as the tape does
//!   for them (`significand / 10^fraction`, both exact, so one correctly rounded division).
//! - Arrays of such strings, integers and booleans (stored as compact JSON, which for them is
//!   the tokens joined by commas).
//! - Normalisation as [`normalise::members`](super::normalise::members): export names
//!   renamed when the record has `id` and no `deviceId` (told by the first member when that
//!   is `id` or `deviceId`, else guessed from the previous record; checked at the end), `authentication.type` and `.x509Thumbprint` lifted to the top level,
//!   `authentication`'s other members and `importMode` read but not stored. When a twin name
//!   is also spelled out, both land on one trie node: a repeat, and the record is declined.

mod batch;

pub(super) use batch::Batch;

use crate::store::ColumnBuilder;
use crate::swar::{quote_or_backslash, ONES};

use super::{
    validate, ChunkBuilder, Metadata, MetadataSpan, RecordSpan, Trie, Visit, DEFERRABLE,
    IN_DEFERRABLE, KEY_OK, META, NONE, PLAIN, REPORTED,
};

/// A value found for a trie node, pushed into its column when the record is accepted.
#[derive(Clone, Copy)]
struct Event {
    node: u32,
    kind: Ev,
    /// Strings: a [`Piece`]; arrays: start and length (`start << 32 | len`) in
    /// [`Fast::arrays`]; numbers: `i64` or `f64` bits.
    x: u64,
}

#[derive(Clone, Copy)]
enum Ev {
    Str,
    Int,
    Float,
    True,
    False,
    Null,
    Object,
    Array,
}

/// The fast path's scratch, reused across a chunk's records.
#[derive(Default)]
pub(super) struct Fast {
    events: Vec<Event>,
    /// Compact JSON of the record's arrays.
    arrays: String,
    /// The record's strings that had escapes, unescaped.
    unescaped: String,
    /// Whether the last record read to its end was in export shape.
    export: bool,
    /// Records added by the fast path.
    pub(super) records: u64,
    /// The record's deferred `$metadata` objects: start, and length with
    /// [`MetadataSpan`]'s section bit.
    spans: Vec<(u32, u32, bool)>,
}

/// Depth of JSON nesting the fast path reads (the tape path allows 127).
const MAX_NESTING: u32 = 64;
/// A value's place relative to a section (`tags`, `properties.desired`/`.reported`): outside.
const NO_SECTION: u32 = u32::MAX;
/// Exact powers of ten for fractions of up to 15 digits.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

impl<'c> ChunkBuilder<'c> {
    /// Adds the record by the fast path; false (nothing changed) when it declines. Its
    /// values join the batch ([`batch`]), or in [`Metadata::Alone`] are pushed at once.
    pub(super) fn add_fast(&mut self, record: &'c [u8], span: RecordSpan) -> bool {
        let Ok(text) = simdutf8::basic::from_utf8(record) else {
            return false;
        };
        let mut fast = std::mem::take(&mut self.fast);
        fast.events.clear();
        fast.spans.clear();
        // The batch's strings and arrays so far stay: its values index them.
        let kept = (fast.arrays.len(), fast.unescaped.len());
        let guess = fast.export;
        let mut scan = Scan::new(text, &mut self.trie, &mut fast, self.metadata);
        let accepted = scan.record(guess);
        if let Some(export) = scan.export_seen {
            fast.export = export;
        }
        let Some(module) = accepted else {
            fast.arrays.truncate(kept.0);
            fast.unescaped.truncate(kept.1);
            self.fast = fast;
            return false;
        };
        let row = self.new_row(span);
        for &(start, len, reported) in &fast.spans {
            let span = MetadataSpan::new(row, start, len, reported);
            self.out.metadata_spans.push(span);
        }
        if self.metadata == Metadata::Alone {
            self.replay(row, &fast.events, text, &fast);
            fast.arrays.clear();
            fast.unescaped.clear();
        } else {
            self.batch.add(row, text, &fast.events);
        }
        if module {
            self.out.modules.push(row);
        }
        fast.records += 1;
        // Pieces are 31-bit offsets: records are at most 16 MiB, so 128 of them stay below
        // 2^31, but a batch is pushed well before that.
        let full = self.batch.is_full() || fast.arrays.len().max(fast.unescaped.len()) >= 1 << 30;
        self.fast = fast;
        if full {
            self.push_batch();
        }
        true
    }

    /// Pushes the batch's values into their columns, column by column, and empties it.
    pub(super) fn push_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let mut batch = std::mem::take(&mut self.batch);
        let mut fast = std::mem::take(&mut self.fast);
        for (node, run) in batch.runs() {
            let first = batch.first_row + u32::from(run[0].record);
            let col = self.column(node, first);
            for v in run {
                let text = batch.texts[usize::from(v.record)];
                let row = batch.first_row + u32::from(v.record);
                push_value(col, row, v.kind, v.x, text, &fast);
            }
        }
        batch.clear();
        fast.arrays.clear();
        fast.unescaped.clear();
        self.batch = batch;
        self.fast = fast;
    }
}

/// Pushes a value the scan found into its column; `text` is the record its pieces index.
#[inline(always)]
fn push_value(col: &mut ColumnBuilder, row: u32, kind: Ev, x: u64, text: &str, fast: &Fast) {
    match kind {
        Ev::Str => col.push_str(row, Piece(x).text(text, &fast.unescaped)),
        Ev::Int => col.push_int(row, x as i64),
        Ev::Float => col.push_float(row, f64::from_bits(x)),
        Ev::True => col.push_bool(row, true),
        Ev::False => col.push_bool(row, false),
        Ev::Null => col.push_null(row),
        Ev::Object => col.push_object(row),
        // Arrays are written from whole strings and ASCII punctuation.
        Ev::Array => col.push_array(row, &fast.arrays[range(x)]),
    }
}

impl ChunkBuilder<'_> {
    /// Pushes a record's events into the columns (in [`Metadata::Alone`], only those below
    /// a deferred `$metadata`); `text` is what their pieces index.
    #[inline(always)]
    fn replay(&mut self, row: u32, events: &[Event], text: &str, fast: &Fast) {
        let alone = self.metadata == Metadata::Alone;
        for e in events {
            if alone && self.trie.nodes[e.node as usize].flags & IN_DEFERRABLE == 0 {
                continue;
            }
            push_value(self.column(e.node, row), row, e.kind, e.x, text, fast);
        }
    }

    /// Adds a row holding the deferred `$metadata` objects of `record` found at `spans` by
    /// the load ([`Metadata::Alone`] from them alone, not the whole record); false (nothing
    /// changed) when the fast path declines one, or the bytes are no longer an object there.
    pub(super) fn add_metadata_fast(
        &mut self,
        record: &[u8],
        spans: &[MetadataSpan],
        span: RecordSpan,
    ) -> bool {
        // One for `desired`, one for `reported`: a repeated key is declined at the load.
        // Each object's events and the text their pieces index.
        let mut read_so = [(0..0, ""), (0..0, "")];
        if spans.len() > read_so.len() {
            return false;
        }
        // Only in `Metadata::Alone`, which pushes each record's values at once.
        debug_assert!(self.batch.is_empty());
        let mut fast = std::mem::take(&mut self.fast);
        fast.events.clear();
        fast.arrays.clear();
        fast.unescaped.clear();
        let mut read = true;
        for (m, at) in spans.iter().zip(&mut read_so) {
            let (start, end) = (m.start as usize, m.start as usize + m.len() as usize);
            let Some(Ok(text)) = record.get(start..end).map(simdutf8::basic::from_utf8) else {
                read = false;
                break;
            };
            let node = self.metadata_node(m.reported());
            let first = fast.events.len();
            // Read in full: nothing inside is skipped.
            let mut scan = Scan::new(text, &mut self.trie, &mut fast, Metadata::Columns);
            // Where the load found it: a member of a section, three levels in.
            if text.as_bytes().first() != Some(&b'{')
                || scan.value(node, NO_SECTION, 3).is_none()
                || scan.i != text.len()
            {
                read = false;
                break;
            }
            *at = (first..fast.events.len(), text);
        }
        if read {
            let row = self.new_row(span);
            let events = std::mem::take(&mut fast.events);
            for (range, text) in &read_so[..spans.len()] {
                self.replay(row, &events[range.clone()], text, &fast);
            }
            fast.events = events;
        }
        self.fast = fast;
        read
    }

    /// The trie node of `properties.desired.$metadata` or `properties.reported.$metadata`.
    fn metadata_node(&mut self, reported: bool) -> u32 {
        let properties = self.trie.child(0, NONE, "properties");
        let section = if reported { "reported" } else { "desired" };
        let section = self.trie.child(properties, NONE, section);
        self.trie.child(section, NONE, "$metadata")
    }
}

#[inline]
fn range(x: u64) -> std::ops::Range<usize> {
    let (start, len) = (
        ((x >> 32) & 0x7fff_ffff) as usize,
        (x & 0xffff_ffff) as usize,
    );
    start..start + len
}

/// A string's text: a range of the record, or (top bit set) of [`Fast::unescaped`].
#[derive(Clone, Copy)]
struct Piece(u64);

impl Piece {
    const UNESCAPED: u64 = 1 << 63;

    fn plain(start: usize, len: usize) -> Piece {
        Piece(pack(start, len))
    }

    fn unescaped(start: usize, len: usize) -> Piece {
        Piece(pack(start, len) | Piece::UNESCAPED)
    }

    /// Its length in bytes.
    fn len(self) -> usize {
        (self.0 & 0xffff_ffff) as usize
    }

    // Pieces start after a `"` and end at one, or are whole strings pushed onto the
    // unescaped text: their ends are character boundaries.
    #[inline]
    fn text<'t>(self, record: &'t str, unescaped: &'t str) -> &'t str {
        if self.0 & Piece::UNESCAPED == 0 {
            &record[range(self.0)]
        } else {
            &unescaped[range(self.0)]
        }
    }
}

#[inline]
fn pack(start: usize, len: usize) -> u64 {
    ((start as u64) << 32) | len as u64
}

/// Reading one record. `None` from any step declines the record.
struct Scan<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    trie: &'a mut Trie,
    events: &'a mut Vec<Event>,
    arrays: &'a mut String,
    unescaped: &'a mut String,
    /// Whether the record is in export shape, once it has been read to its end.
    export_seen: Option<bool>,
    /// Skip the members of `$metadata` objects at a section's root ([`Metadata::Deferred`]).
    defer: bool,
    /// Where they were: start, length, and whether in `reported`.
    spans: &'a mut Vec<(u32, u32, bool)>,
    /// Read only what [`Metadata::Alone`] keeps (the ids that decide whether the record is
    /// plain, and the `$metadata` objects of the sections); skip the rest.
    alone: bool,
}

/// Top-level keys the fast path treats apart, told by length and then by words (a `match` on
/// the strings compared through calls to `memcmp`: 1.5% of a load's samples).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Top {
    Id,
    DeviceId,
    ModuleId,
    Authentication,
    ImportMode,
    ETag,
    TwinETag,
    Tags,
    Properties,
    Other,
}

impl Top {
    #[inline]
    fn of(key: &str) -> Top {
        let k = key.as_bytes();
        let is = |lit: &str| super::same_bytes(k, lit.as_bytes());
        match k.len() {
            2 if is("id") => Top::Id,
            4 if is("eTag") => Top::ETag,
            4 if is("tags") => Top::Tags,
            8 if is("deviceId") => Top::DeviceId,
            8 if is("moduleId") => Top::ModuleId,
            8 if is("twinETag") => Top::TwinETag,
            10 if is("importMode") => Top::ImportMode,
            10 if is("properties") => Top::Properties,
            14 if is("authentication") => Top::Authentication,
            _ => Top::Other,
        }
    }
}

/// Top-level members that decide how a record normalises.
#[derive(Default)]
struct Seen {
    id: bool,
    device_id: bool,
    /// A `deviceId` value (either spelling) that is a string breaking no rule.
    device_id_ok: bool,
    module: bool,
    authentication: bool,
}

impl<'a> Scan<'a> {
    /// A scan of `text` from its start, collecting into `fast`'s scratch.
    fn new(text: &'a str, trie: &'a mut Trie, fast: &'a mut Fast, metadata: Metadata) -> Scan<'a> {
        Scan {
            text,
            b: text.as_bytes(),
            i: 0,
            trie,
            events: &mut fast.events,
            arrays: &mut fast.arrays,
            unescaped: &mut fast.unescaped,
            export_seen: None,
            spans: &mut fast.spans,
            defer: metadata == Metadata::Deferred,
            alone: metadata == Metadata::Alone,
        }
    }

    #[inline]
    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    #[inline]
    fn ws(&mut self) {
        while matches!(self.peek(), b' ' | b'\n' | b'\r' | b'\t') {
            self.i += 1;
        }
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek() == c).then(|| self.i += 1)
    }

    #[inline]
    fn push(&mut self, node: u32, kind: Ev, x: u64) {
        self.events.push(Event { node, kind, x });
    }

    /// After a member's value: `,` (and white space) for another member, or `}`. Returns
    /// whether the object goes on.
    #[inline]
    fn next_member(&mut self) -> Option<bool> {
        self.next_item(b'}')
    }

    /// [`Scan::next_member`] for an array's elements: `,` or `]`.
    #[inline]
    fn next_element(&mut self) -> Option<bool> {
        self.next_item(b']')
    }

    #[inline(always)]
    fn next_item(&mut self, close: u8) -> Option<bool> {
        self.ws();
        match self.peek() {
            b',' => {
                self.i += 1;
                self.ws();
                Some(true)
            }
            c if c == close => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// A string after its opening quote, up to and past its closing quote: its range in the
    /// record. Declines escapes and control characters.
    #[inline]
    fn string(&mut self) -> Option<(usize, usize)> {
        let (start, end) = self.scan_string()?;
        (self.b[end] == b'"').then(|| {
            self.i = end + 1;
            (start, end)
        })
    }

    /// [`Scan::string`] that also reads escapes: a [`Piece`] of the record, or of
    /// [`Fast::unescaped`] when the string has escapes.
    #[inline(always)]
    fn string_piece(&mut self) -> Option<Piece> {
        let (start, end) = self.scan_string()?;
        if self.b[end] == b'"' {
            self.i = end + 1;
            return Some(Piece::plain(start, end - start));
        }
        self.unescape(start, end)
    }

    /// From a string's first byte to the first `"` or `\\` (its position); `None` at a
    /// control character or the record's end.
    #[inline(always)]
    fn scan_string(&self) -> Option<(usize, usize)> {
        let start = self.i;
        let rest = self.b.get(start..)?;
        let mut words = rest.chunks_exact(8);
        let mut at = start;
        for word in &mut words {
            let w = u64::from_le_bytes(word.try_into().ok()?);
            let m = special_bytes(w);
            if m != 0 {
                let bit = m.trailing_zeros();
                let byte = (w >> (bit & !7)) as u8;
                return (byte >= 0x20).then_some((start, at + (bit / 8) as usize));
            }
            at += 8;
        }
        for &c in words.remainder() {
            if c == b'"' || c == b'\\' {
                return Some((start, at));
            }
            if c < 0x20 {
                return None;
            }
            at += 1;
        }
        None
    }

    /// The rest of a string from its first `\\` at `at`, unescaped into
    /// [`Fast::unescaped`]. Declines what RFC 8259 does not allow and lone surrogates.
    #[cold]
    fn unescape(&mut self, start: usize, mut at: usize) -> Option<Piece> {
        let from = self.unescaped.len();
        self.unescaped.push_str(&self.text[start..at]);
        loop {
            // At a backslash.
            let c = *self.b.get(at + 1)?;
            at += 2;
            let ch = match c {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let unit = self.hex4(at)?;
                    at += 4;
                    match unit {
                        0xd800..=0xdbff => {
                            if self.b.get(at..at + 2)? != b"\\u" {
                                return None;
                            }
                            let low = self.hex4(at + 2)?;
                            if !(0xdc00..=0xdfff).contains(&low) {
                                return None;
                            }
                            at += 6;
                            char::from_u32(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00))?
                        }
                        0xdc00..=0xdfff => return None,
                        _ => char::from_u32(unit)?,
                    }
                }
                _ => return None,
            };
            self.unescaped.push(ch);
            self.i = at;
            let (run, end) = self.scan_string()?;
            self.unescaped.push_str(&self.text[run..end]);
            at = end;
            if self.b[end] == b'"' {
                self.i = end + 1;
                let len = self.unescaped.len() - from;
                return Some(Piece::unescaped(from, len));
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.text.get(at..at + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    }

    /// The text of a piece.
    #[inline]
    fn text_of(&self, p: Piece) -> &str {
        p.text(self.text, self.unescaped)
    }

    /// The trie child for the key starting here (after its opening quote), through the
    /// trie's prediction compared with the record's bytes in place.
    #[inline(always)]
    fn child(&mut self, parent: u32, prev: u32) -> Option<u32> {
        let t = &*self.trie;
        let guess = if prev == NONE {
            t.nodes[parent as usize].hint
        } else {
            t.nodes[prev as usize].next
        };
        // The predicted key, then the one that followed it (the predicted member is
        // optional and absent this time).
        let mut guess = guess;
        for _ in 0..2 {
            let Some(node) = t.nodes.get(guess as usize) else {
                break;
            };
            if node.flags & PLAIN != 0 {
                let key = node.key.as_bytes();
                let end = self.i + key.len();
                if self.b.get(end) == Some(&b'"') && super::same_bytes(&self.b[self.i..end], key) {
                    self.i = end + 1;
                    return Some(guess);
                }
            }
            guess = node.next;
        }
        let key = self.string_piece()?.text(self.text, self.unescaped);
        Some(self.trie.child_unpredicted(parent, prev, key))
    }

    /// A whole record; returns whether it is a module.
    fn record(&mut self, mut export: bool) -> Option<bool> {
        self.ws();
        self.eat(b'{')?;
        let stamp = self.trie.begin_object();
        let mut prev = NONE;
        let mut seen = Seen::default();
        self.ws();
        if self.peek() == b'}' {
            return None;
        }
        loop {
            self.eat(b'"')?;
            let (s, e) = self.string()?;
            let key = &self.text[s..e];
            self.ws();
            self.eat(b':')?;
            self.ws();
            let top = Top::of(key);
            let name = match top {
                // The first member says the shape, where it is `id` or `deviceId`.
                Top::Id if prev == NONE && !seen.authentication => {
                    seen.id = true;
                    export = true;
                    Some(("deviceId", Top::DeviceId))
                }
                Top::DeviceId if prev == NONE && !seen.authentication => {
                    seen.device_id = true;
                    export = false;
                    Some((key, top))
                }
                Top::Authentication => {
                    if std::mem::replace(&mut seen.authentication, true) {
                        return None;
                    }
                    self.authentication(&mut prev, stamp)?;
                    None
                }
                Top::ImportMode => {
                    self.skip(1)?;
                    None
                }
                Top::Id => {
                    seen.id = true;
                    Some(if export {
                        ("deviceId", Top::DeviceId)
                    } else {
                        ("id", Top::Other)
                    })
                }
                Top::DeviceId => {
                    seen.device_id = true;
                    Some((key, top))
                }
                Top::ETag if export => Some(("deviceEtag", Top::Other)),
                Top::TwinETag if export => Some(("etag", Top::Other)),
                _ => Some((key, top)),
            };
            if let Some((name, top)) = name {
                let child = self.trie.child(0, prev, name);
                prev = child;
                if !matches!(self.trie.visit(child, stamp), Visit::First) {
                    return None;
                }
                match top {
                    Top::DeviceId => {
                        self.id(child)?;
                        seen.device_id_ok = true;
                    }
                    Top::ModuleId => {
                        self.id(child)?;
                        seen.module = true;
                    }
                    _ if self.alone && top != Top::Properties => self.skip(1)?,
                    Top::Tags => {
                        if self.value(child, 0, 1)? > validate::TAGS_LIMIT {
                            return None;
                        }
                    }
                    Top::Properties if self.peek() == b'{' => {
                        self.i += 1;
                        self.push(child, Ev::Object, 0);
                        self.properties(child)?;
                    }
                    _ => {
                        self.value(child, NO_SECTION, 1)?;
                    }
                }
            }
            if !self.next_member()? {
                break;
            }
        }
        self.ws();
        if self.i != self.b.len() {
            return None;
        }
        let actual = seen.id && !seen.device_id;
        self.export_seen = Some(actual);
        (actual == export && seen.device_id_ok).then_some(seen.module)
    }

    /// `deviceId` or `moduleId`: a string that breaks no rule.
    fn id(&mut self, node: u32) -> Option<()> {
        self.eat(b'"')?;
        let p = self.string_piece()?;
        validate::id_allowed(self.text_of(p)).then_some(())?;
        self.push(node, Ev::Str, p.0);
        Some(())
    }

    /// `authentication`: `type` and `x509Thumbprint` become top-level members; the rest
    /// (the symmetric keys) is read and dropped.
    fn authentication(&mut self, prev: &mut u32, stamp: u32) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.eat(b'"')?;
            let (s, e) = self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            let twin = match &self.text[s..e] {
                "type" => Some("authenticationType"),
                "x509Thumbprint" => Some("x509Thumbprint"),
                _ => None,
            };
            match twin {
                Some(name) => {
                    let child = self.trie.child(0, *prev, name);
                    *prev = child;
                    if !matches!(self.trie.visit(child, stamp), Visit::First) {
                        return None;
                    }
                    self.value(child, NO_SECTION, 2)?;
                }
                None => self.skip(2)?,
            }
            if !self.next_member()? {
                return Some(());
            }
        }
    }

    /// A member's key, from its opening quote to past the `:`: its trie node, visited
    /// (declined when it repeats a key of the object or collides with one by case).
    #[inline(always)]
    fn member(&mut self, parent: u32, prev: &mut u32, stamp: u32) -> Option<u32> {
        self.eat(b'"')?;
        let child = self.child(parent, *prev)?;
        *prev = child;
        if !matches!(self.trie.visit(child, stamp), Visit::First) {
            return None;
        }
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(child)
    }

    /// The `properties` object after its `{`: `desired` and `reported` are sections.
    fn properties(&mut self, parent: u32) -> Option<()> {
        let stamp = self.trie.begin_object();
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        let mut prev = NONE;
        loop {
            let child = self.member(parent, &mut prev, stamp)?;
            let key = &*self.trie.nodes[child as usize].key;
            if key == "desired" || key == "reported" {
                if self.value(child, 0, 2)? > validate::PROPERTY_LIMIT {
                    return None;
                }
            } else {
                self.value(child, NO_SECTION, 2)?;
            }
            if !self.next_member()? {
                return Some(());
            }
        }
    }

    /// One value for `node`, `depth` levels into the record. `sec` is its depth in a section
    /// (the section's own value is 0; objects count, arrays do not) or [`NO_SECTION`].
    /// Returns the value's size as the section-size rule counts it.
    fn value(&mut self, node: u32, sec: u32, depth: u32) -> Option<usize> {
        let checked = sec != NO_SECTION;
        match self.peek() {
            b'"' => {
                self.i += 1;
                let p = self.string_piece()?;
                if checked && p.len() > validate::MAX_STRING_BYTES {
                    return None;
                }
                self.push(node, Ev::Str, p.0);
                Some(p.len() + 2)
            }
            b'{' => {
                if (checked && sec as usize >= validate::MAX_DEPTH) || depth >= MAX_NESTING {
                    return None;
                }
                self.i += 1;
                self.push(node, Ev::Object, 0);
                self.object(node, sec, depth + 1)
            }
            b'[' => self.array(node, checked),
            b't' => self.literal(b"true", node, Ev::True),
            b'f' => self.literal(b"false", node, Ev::False),
            b'n' => self.literal(b"null", node, Ev::Null),
            b'-' | b'0'..=b'9' => {
                let (kind, x) = self.number()?;
                if checked && out_of_range(kind, x) {
                    return None;
                }
                self.push(node, kind, x);
                Some(20)
            }
            _ => None,
        }
    }

    #[inline]
    fn literal(&mut self, word: &[u8], node: u32, kind: Ev) -> Option<usize> {
        self.skip_word(word)?;
        self.push(node, kind, 0);
        Some(5)
    }

    /// An object's members after its `{`.
    fn object(&mut self, parent: u32, sec: u32, depth: u32) -> Option<usize> {
        let stamp = self.trie.begin_object();
        let mut size = 2;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(size);
        }
        let mut prev = NONE;
        loop {
            let child = self.member(parent, &mut prev, stamp)?;
            let flags = self.trie.nodes[child as usize].flags;
            // `$metadata` and `$version` at a section's root are system members: neither
            // checked nor counted.
            let child_sec = if sec == NO_SECTION || (sec == 0 && flags & META != 0) {
                NO_SECTION
            } else if flags & KEY_OK == 0 {
                return None;
            } else {
                sec + 1
            };
            if self.alone && sec == 0 && flags & DEFERRABLE == 0 {
                // `tags` is skipped whole, so this is `desired` or `reported`.
                self.skip(depth)?;
                if !self.next_member()? {
                    return Some(size);
                }
                continue;
            }
            if self.defer && flags & DEFERRABLE != 0 && self.peek() == b'{' {
                // Read as `value` would (the same nesting limit), its members not kept.
                self.push(child, Ev::Object, 0);
                let start = self.i;
                self.skip(depth)?;
                let reported = flags & REPORTED != 0;
                self.spans
                    .push((start as u32, (self.i - start) as u32, reported));
                if !self.next_member()? {
                    return Some(size);
                }
                continue;
            }
            let n = self.value(child, child_sec, depth)?;
            if child_sec != NO_SECTION {
                size += self.trie.nodes[child as usize].key.len() + 4 + n;
            }
            if !self.next_member()? {
                return Some(size);
            }
        }
    }

    /// An array of strings, integers and booleans, written as compact JSON.
    fn array(&mut self, node: u32, checked: bool) -> Option<usize> {
        self.i += 1;
        let start = self.arrays.len();
        self.arrays.push('[');
        let mut size = 2;
        self.ws();
        if self.eat(b']').is_none() {
            loop {
                match self.peek() {
                    b'"' => {
                        self.i += 1;
                        let (s, e) = self.string()?;
                        if checked && e - s > validate::MAX_STRING_BYTES {
                            return None;
                        }
                        self.arrays.push_str(&self.text[s - 1..e + 1]);
                        size += e - s + 3;
                    }
                    b't' | b'f' => {
                        let word: &str = if self.peek() == b't' { "true" } else { "false" };
                        self.skip_word(word.as_bytes())?;
                        self.arrays.push_str(word);
                        size += 6;
                    }
                    b'-' | b'0'..=b'9' => {
                        let s = self.i;
                        let (kind, x) = self.number()?;
                        // Floats print differently from how they were written.
                        if !matches!(kind, Ev::Int) || (checked && out_of_range(kind, x)) {
                            return None;
                        }
                        self.arrays.push_str(&self.text[s..self.i]);
                        size += 21;
                    }
                    // Nulls (a finding in sections), objects, nested arrays: the tape path.
                    _ => return None,
                }
                if !self.next_element()? {
                    break;
                }
                self.arrays.push(',');
            }
        }
        self.arrays.push(']');
        let len = self.arrays.len() - start;
        self.push(node, Ev::Array, pack(start, len));
        Some(size)
    }

    /// A number: `Int` (as `i64` bits) or `Float` (as `f64` bits), the value the tape holds.
    fn number(&mut self) -> Option<(Ev, u64)> {
        let b = self.b;
        let mut i = self.i;
        let negative = b[i] == b'-';
        i += usize::from(negative);
        let first = i;
        let mut n: u64 = match b.get(i) {
            Some(b'0') => {
                i += 1;
                0
            }
            Some(&c @ b'1'..=b'9') => {
                i += 1;
                let mut n = u64::from(c - b'0');
                while let Some(&c @ b'0'..=b'9') = b.get(i) {
                    n = n.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                    i += 1;
                }
                n
            }
            _ => return None,
        };
        let int_digits = i - first;
        let mut fraction = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let from = i;
            while let Some(&c @ b'0'..=b'9') = b.get(i) {
                n = n.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                i += 1;
            }
            fraction = i - from;
            if fraction == 0 || int_digits + fraction > 15 {
                return None;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E' | b'0'..=b'9')) || int_digits > 17 {
            return None;
        }
        self.i = i;
        if fraction > 0 {
            let f = n as f64 / POW10[fraction];
            return Some((Ev::Float, (if negative { -f } else { f }).to_bits()));
        }
        if negative && n == 0 {
            // `-0`: an integer zero on the tape, the float -0.0 to JSON readers that build
            // values; the tape path marks such rows irregular.
            return None;
        }
        let v = if negative { -(n as i64) } else { n as i64 };
        Some((Ev::Int, v as u64))
    }

    /// Reads a value without storing it (the symmetric keys, `importMode`).
    fn skip(&mut self, depth: u32) -> Option<()> {
        match self.peek() {
            b'"' => {
                self.i += 1;
                self.string_piece().map(drop)
            }
            b't' => self.skip_word(b"true"),
            b'f' => self.skip_word(b"false"),
            b'n' => self.skip_word(b"null"),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            b'{' if depth < MAX_NESTING => {
                self.i += 1;
                self.ws();
                if self.eat(b'}').is_some() {
                    return Some(());
                }
                loop {
                    self.eat(b'"')?;
                    self.string_piece()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    self.skip(depth + 1)?;
                    if !self.next_member()? {
                        return Some(());
                    }
                }
            }
            b'[' if depth < MAX_NESTING => {
                self.i += 1;
                self.ws();
                if self.eat(b']').is_some() {
                    return Some(());
                }
                loop {
                    self.skip(depth + 1)?;
                    if !self.next_element()? {
                        return Some(());
                    }
                }
            }
            _ => None,
        }
    }

    /// `true`, `false` or `null` (`word`), compared as one or two 32-bit words rather than
    /// by a call to `memcmp`.
    #[inline]
    fn skip_word(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        let got = self.b.get(self.i..end)?;
        let tail = |s: &[u8]| u32::from_le_bytes(s[s.len() - 4..].try_into().unwrap_or_default());
        (got[0] == word[0] && tail(got) == tail(word)).then(|| self.i = end)
    }
}

/// Whether a number breaks the ±2^52 rule (checked inside sections).
fn out_of_range(kind: Ev, x: u64) -> bool {
    let v = match kind {
        Ev::Float => f64::from_bits(x),
        _ => x as i64 as f64,
    };
    v.abs() > validate::MAX_SAFE_INT
}

/// The bytes of `w` (little-endian) that are `"`, `\` or below 0x20 have their high bit set
/// in the result; the lowest set bit is exact (later ones may be false alarms, as a borrow
/// only travels upwards from a byte that matched).
#[inline]
fn special_bytes(w: u64) -> u64 {
    let control = w.wrapping_sub(ONES * 0x20) & !w & (ONES << 7);
    quote_or_backslash(w) | control
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_bytes_finds_the_first_quote_backslash_or_control() {
        for pos in 0..8 {
            for c in [b'"', b'\\', 0u8, 0x1f, b'\n'] {
                for filler in [b'a', 0x7f, 0x80, 0xff, b' ', b'!'] {
                    let mut w = [filler; 8];
                    w[pos] = c;
                    // Specials after the first must not move it.
                    if pos + 1 < 8 {
                        w[7] = b'"';
                    }
                    let m = special_bytes(u64::from_le_bytes(w));
                    assert_eq!(m.trailing_zeros() / 8, pos as u32, "{w:?}");
                }
            }
        }
        for filler in [b'a', 0x7f, 0x80, 0xff, b' ', b'!', 0x21, 0x5b, 0x5d] {
            assert_eq!(
                special_bytes(u64::from_le_bytes([filler; 8])),
                0,
                "{filler}"
            );
        }
    }
}
