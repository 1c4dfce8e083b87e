//! Parsing one chunk of records into column builders, on one rayon worker.
//!
//! Paths are resolved through a per-chunk trie rather than by hashing a dotted path per leaf:
//! each trie node remembers where its last matched child was, and records in an export mostly
//! share one shape, so the next key is nearly always found at the first probe (PERF-NOTES:
//! this alone took a prototype from 5.0 to 4.0 s).

use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use simd_json::{Buffers, Node, StaticNode, Tape};

use super::normalise::{self, Member};
use super::validate::{self, Finding, Rule};
use crate::store::{same_bytes, ColumnBuilder, FastMap, FastSet, RowSource};

mod fast;

/// JSON nested deeper than this many levels (a record's own braces are the first) is a parse
/// error, "JSON nested deeper than 127 levels". It is what serde_json's default recursion
/// limit of 128 allows, so the reference, the `-0` fallback of [`twin_from_bytes`] and the
/// store agree on what is loadable; it was 128 for simd-json, which let a record of exactly
/// 128 levels load that serde_json then could not read back.
///
/// [`twin_from_bytes`]: super::twin_from_bytes
pub const MAX_JSON_DEPTH: usize = 127;

/// Per-thread scratch reused across records: the parser's buffers, a padded copy of the
/// record (simd-json unescapes strings in place) and the tape.
struct Scratch {
    buffers: Buffers,
    line: Vec<u8>,
    tape: Option<Tape<'static>>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
        buffers: Buffers::with_max_depth(4096, MAX_JSON_DEPTH),
        line: Vec::with_capacity(4096),
        tape: Some(Tape::null()),
    });
}

/// Parses one record with the thread's scratch and hands its tape to `f`.
pub fn with_tape<R>(record: &[u8], f: impl FnOnce(&[Node<'_>]) -> R) -> Result<R, String> {
    SCRATCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let scratch = &mut *guard;
        scratch.line.clear();
        scratch.line.extend_from_slice(record);
        let len = scratch.line.len();
        scratch.line.resize(len + simd_json::INPUT_PADDING, b' ');
        let mut tape = scratch.tape.take().unwrap_or_else(Tape::null).reset();
        let result = match simd_json::fill_tape_padded(
            &mut scratch.line,
            len,
            &mut scratch.buffers,
            &mut tape,
        ) {
            Ok(()) => Ok(f(&tape.0)),
            Err(e) => Err(describe_json_error(&e)),
        };
        scratch.tape = Some(tape.reset());
        result
    })
}

fn describe_json_error(e: &simd_json::Error) -> String {
    if matches!(e.error(), simd_json::ErrorType::DepthLimitExceeded) {
        return format!("JSON nested deeper than {MAX_JSON_DEPTH} levels");
    }
    let text = e.to_string();
    if text.contains("Utf8") || text.contains("UTF") {
        format!("invalid UTF-8 ({text})")
    } else {
        format!("invalid JSON ({text})")
    }
}

/// A record read from an input: its byte range within the input.
#[derive(Clone, Copy)]
pub struct RecordSpan {
    pub start: usize,
    pub end: usize,
}

/// A per-chunk path trie: node 0 is the twin itself.
///
/// Besides resolving keys without hashing, the trie finds keys that collide by case without
/// comparing strings per record: siblings whose keys are equal under `to_lowercase` share a
/// *fold group* (decided once, when a node is created), and each object visit stamps the
/// nodes and groups it reaches. A second visit with the same stamp is a repeated key or a case
/// collision.
///
/// Keys are found by prediction first (`hints`, `next`), then by a linear scan of a node's
/// children while it has at most [`SCAN_CHILDREN`] of them, and by hash beyond that: an input
/// with a distinct key per record, or one object with 100,000 keys, made the scan quadratic
/// (100,000 records each with its own tag took 76 s to parse). The hash is std's keyed SipHash
/// rather than the store's FxHash because the keys are the input's: a crafted set of colliding
/// keys must not bring the quadratic scan back. It is only computed off the fast path.
#[derive(Default)]
struct Trie {
    nodes: Vec<TrieNode>,
    parents: Vec<u32>,
    children: Vec<Vec<u32>>,
    fold_stamp: Vec<u32>,
    stamp: u32,
    /// Per node: a hash of its whole path, the same in every chunk of a load (the load's
    /// [`PathCensus`] counts distinct paths by it).
    path_hash: Vec<u64>,
    /// Path hash -> the newest node with that hash; older ones are chained through
    /// `same_hash` (an intrusive table, so that a lookup allocates nothing).
    by_hash: FastMap<u64, u32>,
    same_hash: Vec<u32>,
    hasher: RandomState,
    /// (parent, lower-cased key) -> fold group, for nodes created later.
    folds: HashMap<(u32, Box<str>), u32>,
    /// Keys compared off the predicted path (tests assert that it stays linear).
    #[cfg(test)]
    compares: std::cell::Cell<u64>,
}

/// What the walks read of a node at every visit, kept together: one bounds check and one
/// cache line per key instead of one per field.
struct TrieNode {
    key: Box<str>,
    /// The child that came first in its object last time.
    hint: u32,
    /// The sibling that followed it in its object last time.
    next: u32,
    /// Its fold group: siblings whose keys are equal ignoring case share one.
    fold: u32,
    /// The stamp of the object visit that last reached it.
    stamp: u32,
    /// What the fast path needs to know of its key ([`PLAIN`], [`KEY_OK`], [`META`]).
    flags: u8,
}

impl TrieNode {
    fn new(key: &str, fold: u32) -> TrieNode {
        TrieNode {
            key: key.into(),
            hint: NONE,
            next: NONE,
            fold,
            stamp: 0,
            flags: key_flags(key),
        }
    }
}

/// Children of one node scanned linearly before the trie looks them up by hash: a twin has
/// ~20 top-level members, and a scan of them is cheaper than a keyed hash (callgrind: 8 made
/// the 20k-fleet load 3.5% slower than 32).
const SCAN_CHILDREN: usize = 32;

/// No node.
const NONE: u32 = u32::MAX;

/// What visiting a member found.
enum Visit {
    First,
    /// The same key again in one object.
    Repeated,
    /// A different key equal to an earlier one ignoring case.
    CaseCollision,
}

impl Trie {
    fn new(hasher: RandomState) -> Trie {
        let mut t = Trie {
            hasher,
            ..Trie::default()
        };
        t.nodes.push(TrieNode {
            flags: 0,
            ..TrieNode::new("", 0)
        });
        t.parents.push(u32::MAX);
        t.children.push(Vec::new());
        t.fold_stamp.push(0);
        t.same_hash.push(NONE);
        t.path_hash.push(0);
        t
    }

    /// A fresh stamp for visiting one object's members.
    #[inline]
    fn begin_object(&mut self) -> u32 {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            // After 2^32 objects in one chunk, old stamps could alias: clear them.
            self.nodes.iter_mut().for_each(|n| n.stamp = 0);
            self.fold_stamp.fill(0);
            self.stamp = 1;
        }
        self.stamp
    }

    #[inline]
    fn visit(&mut self, node: u32, stamp: u32) -> Visit {
        let n = &mut self.nodes[node as usize];
        if n.stamp == stamp {
            return Visit::Repeated;
        }
        n.stamp = stamp;
        let g = n.fold as usize;
        if self.fold_stamp[g] == stamp {
            return Visit::CaseCollision;
        }
        self.fold_stamp[g] = stamp;
        Visit::First
    }

    /// The child of `parent` named `key`. `prev` is the sibling matched just before in the
    /// same object (or [`NONE`] for its first member): the trie remembers which key followed
    /// it last time, so records shaped like the previous one hit on the first comparison, even
    /// when optional members come and go elsewhere.
    #[inline(always)]
    fn child(&mut self, parent: u32, prev: u32, key: &str) -> u32 {
        let guess = if prev == NONE {
            self.nodes[parent as usize].hint
        } else {
            self.nodes[prev as usize].next
        };
        if guess != NONE && same_key(&self.nodes[guess as usize].key, key) {
            return guess;
        }
        self.child_unpredicted(parent, prev, key)
    }

    /// [`Trie::child`] when the remembered key was not the one: out of line, so that the
    /// predicted path stays small enough to inline into the walk.
    #[inline(never)]
    fn child_unpredicted(&mut self, parent: u32, prev: u32, key: &str) -> u32 {
        let p = parent as usize;
        let c = if self.children[p].len() <= SCAN_CHILDREN {
            match self.children[p].iter().copied().find(|&c| {
                #[cfg(test)]
                self.compares.set(self.compares.get() + 1);
                same_key(&self.nodes[c as usize].key, key)
            }) {
                Some(c) => c,
                None => self.insert(parent, key, self.hash(parent, key)),
            }
        } else {
            let hash = self.hash(parent, key);
            match self.find_hashed(parent, key, hash) {
                Some(c) => c,
                None => self.insert(parent, key, hash),
            }
        };
        if prev == NONE {
            self.nodes[p].hint = c;
        } else {
            self.nodes[prev as usize].next = c;
        }
        c
    }

    /// The path hash of `parent`'s child `key`.
    #[inline]
    fn hash(&self, parent: u32, key: &str) -> u64 {
        self.hasher.hash_one((self.path_hash[parent as usize], key))
    }

    /// The child of `parent` named `key` through the hash table.
    fn find_hashed(&self, parent: u32, key: &str, hash: u64) -> Option<u32> {
        let mut c = self.by_hash.get(&hash).copied().unwrap_or(NONE);
        while c != NONE {
            let i = c as usize;
            #[cfg(test)]
            self.compares.set(self.compares.get() + 1);
            if self.parents[i] == parent && same_key(&self.nodes[i].key, key) {
                return Some(c);
            }
            c = self.same_hash[i];
        }
        None
    }

    #[cold]
    #[inline(never)]
    fn insert(&mut self, parent: u32, key: &str, hash: u64) -> u32 {
        let p = parent as usize;
        let next_group = self.fold_stamp.len() as u32;
        let fold = *self
            .folds
            .entry((parent, key.to_lowercase().into_boxed_str()))
            .or_insert(next_group);
        if fold == next_group {
            self.fold_stamp.push(0);
        }
        let id = self.nodes.len() as u32;
        let mut node = TrieNode::new(key, fold);
        if self.nodes[p].flags & (DEFERRABLE | IN_DEFERRABLE) != 0 {
            node.flags |= IN_DEFERRABLE;
        } else if key == "$metadata" && self.is_section(parent) {
            node.flags |= DEFERRABLE;
            if &*self.nodes[p].key == "reported" {
                node.flags |= REPORTED;
            }
        }
        self.nodes.push(node);
        self.parents.push(parent);
        self.children.push(Vec::new());
        self.same_hash
            .push(self.by_hash.insert(hash, id).unwrap_or(NONE));
        self.path_hash.push(hash);
        self.children[p].push(id);
        id
    }

    /// Whether a node is `properties.desired` or `properties.reported` (twin names).
    fn is_section(&self, node: u32) -> bool {
        let n = node as usize;
        let up = self.parents[n];
        matches!(&*self.nodes[n].key, "desired" | "reported")
            && up != NONE
            && &*self.nodes[up as usize].key == "properties"
            && self.parents[up as usize] == 0
    }

    fn path(&self, mut node: u32) -> Vec<Box<str>> {
        let mut segs = Vec::new();
        while node != 0 {
            segs.push(self.nodes[node as usize].key.clone());
            node = self.parents[node as usize];
        }
        segs.reverse();
        segs
    }
}

/// The key reads the same in the document as unescaped: it has no `"`, `\` or control
/// character, so the fast path may compare a record's bytes with it directly.
const PLAIN: u8 = 1;
/// The key breaks no naming rule inside a section (SPEC §1.3).
const KEY_OK: u8 = 2;
/// `$metadata` or `$version`: not checked nor counted at a section's root.
const META: u8 = 4;
/// `properties.desired.$metadata` or `properties.reported.$metadata` (spelled so): its
/// members are left for later when the chunk defers them ([`Metadata::Deferred`]).
const DEFERRABLE: u8 = 8;
/// Below a [`DEFERRABLE`] node.
const IN_DEFERRABLE: u8 = 16;
/// A [`DEFERRABLE`] node in `properties.reported`.
const REPORTED: u8 = 32;

/// What a chunk does with the members of `properties.desired.$metadata` and
/// `properties.reported.$metadata`: a third of an export's bytes, a quarter of its values,
/// and rarely queried (PERF-NOTES).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metadata {
    /// Columns for them, like for any other member.
    Columns,
    /// Read and checked as JSON, the `$metadata` object itself marked present, its members
    /// left for [`Metadata::Alone`] to columnise when a query first needs them.
    Deferred,
    /// Columns for them only: the deferred pass over rows a [`Metadata::Deferred`] load
    /// accepted, reading each object where the load found it ([`MetadataSpan`]) or, where
    /// that does not do, the whole record with everything else skipped.
    Alone,
}

fn key_flags(key: &str) -> u8 {
    let mut f = 0;
    if !key.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        f |= PLAIN;
    }
    if validate::key_allowed(key) {
        f |= KEY_OK;
    }
    if key == "$metadata" || key == "$version" {
        f |= META;
    }
    f
}

/// Whether the text holds a bare `-0` value (not `-0.5`, `-0e1`, nor `-0` in a string): the
/// tape cannot tell it from `0`.
///
/// Every record has dozens of `-` (dates, ids), so this first walks them with one `memchr`
/// pass and looks at the neighbours; only a record with a look-alike (`"a:-0"`, rare) is
/// then read token by token to see whether it stands outside every string. Exact, so that
/// the tape path marks the same rows irregular as the fast path, which declines every `-0`
/// value and reads strings for what they are. Callers holding the tape ask only when it has
/// an integer zero ([`tape_has_zero`]).
pub fn has_negative_zero(record: &[u8]) -> bool {
    let bare_at = |i: usize| {
        record.get(i + 1) == Some(&b'0')
            && !matches!(record.get(i + 2), Some(b'0'..=b'9' | b'.' | b'e' | b'E'))
            && record[..i]
                .iter()
                .rev()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|b| matches!(b, b':' | b',' | b'['))
    };
    if !memchr::memchr_iter(b'-', record).any(bare_at) {
        return false;
    }
    let mut in_string = false;
    let mut i = 0;
    while i < record.len() {
        match record[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'-' if !in_string && bare_at(i) => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Whether a tape holds an integer zero, the only node a `-0` in the text can have become.
pub fn tape_has_zero(tape: &[Node<'_>]) -> bool {
    tape.iter()
        .any(|n| matches!(n, Node::Static(StaticNode::I64(0) | StaticNode::U64(0))))
}

/// Key equality without a call into `memcmp` for the short keys twins are made of: whole
/// words, the last one overlapping the one before.
#[inline]
fn same_key(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// The distinct paths of one load, shared by its chunks: a load whose inputs hold more than
/// `limit` of them stops (every chunk, at its next record) before their columns take the
/// machine's memory. Chunks report their new paths once per record, so a lock is taken only
/// by records that bring a path the chunk has not seen.
pub struct PathCensus {
    hasher: RandomState,
    seen: Mutex<FastSet<u64>>,
    limit: usize,
    exceeded: AtomicBool,
}

impl PathCensus {
    pub fn new(limit: usize) -> PathCensus {
        PathCensus {
            hasher: RandomState::new(),
            seen: Mutex::new(FastSet::default()),
            limit,
            exceeded: AtomicBool::new(false),
        }
    }

    /// Whether some chunk found more paths than the limit.
    #[inline]
    pub fn exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Relaxed)
    }

    /// Adds paths by their hashes; false when the load now has more than the limit. Two
    /// paths whose 64-bit keyed hashes collide count once: the limit can only be reached
    /// later, never early.
    fn note(&self, hashes: &[u64]) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.extend(hashes);
        if seen.len() > self.limit {
            self.exceeded.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }
}

/// Where a deferred `$metadata` object lies in its row's record, so that building its columns
/// reads only it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataSpan {
    pub row: u32,
    /// Offset of its `{` in the record.
    pub start: u32,
    /// Its length, with [`MetadataSpan::REPORTED`] set for `properties.reported`'s.
    len: u32,
}

impl MetadataSpan {
    const REPORTED: u32 = 1 << 31;

    /// Records are at most [`MAX_RECORD_BYTES`](super::MAX_RECORD_BYTES), far below 2^31.
    fn new(row: u32, start: u32, len: u32, reported: bool) -> MetadataSpan {
        let bit = if reported { MetadataSpan::REPORTED } else { 0 };
        MetadataSpan {
            row,
            start,
            len: len | bit,
        }
    }

    pub fn len(&self) -> u32 {
        self.len & !MetadataSpan::REPORTED
    }

    /// The same span of a row `base` rows further on.
    pub fn moved(self, base: u32) -> MetadataSpan {
        MetadataSpan {
            row: self.row + base,
            ..self
        }
    }

    pub fn reported(&self) -> bool {
        self.len & MetadataSpan::REPORTED != 0
    }
}

/// What a chunk produced: rows, column builders by local path, and what it found wrong.
pub struct ChunkOutput {
    pub rows: Vec<RowSource>,
    pub modules: Vec<u32>,
    pub irregular: Vec<u32>,
    /// (path segments, builder) for every path seen in this chunk.
    pub columns: Vec<(Vec<Box<str>>, ColumnBuilder)>,
    pub findings: Vec<Finding>,
    pub skipped: u64,
    pub invalid_records: u64,
    /// Findings per rule (all of them, not only the ones kept in `findings`).
    pub rule_counts: std::collections::BTreeMap<Rule, u64>,
    /// Blank lines (not records, not skipped).
    pub blank: u64,
    /// Lines (JSON Lines) or elements (arrays) read, including skipped and blank ones.
    pub lines: u32,
    /// The record that took the load past its limit on distinct paths (the chunk stopped
    /// there).
    pub too_many_paths: Option<RecordSpan>,
    /// Records added by the fast path (the rest went through the parser's tape).
    pub fast_records: u64,
    /// `$metadata` objects whose members were deferred ([`Metadata::Deferred`]).
    pub deferred: u64,
    /// Where the fast path's deferred objects are.
    pub metadata_spans: Vec<MetadataSpan>,
    /// Rows whose `$metadata` the tape path deferred (it knows no byte offsets): their
    /// records are read whole when the columns are built.
    pub whole_rows: Vec<u32>,
}

/// Builds columns for the records of one chunk.
pub struct ChunkBuilder<'c> {
    file: u32,
    census: &'c PathCensus,
    /// Trie nodes already reported to the census.
    noted: usize,
    trie: Trie,
    columns: Vec<Option<ColumnBuilder>>,
    out: ChunkOutput,
    json_buf: String,
    keep_findings: usize,
    expected_rows: usize,
    /// Whether to try [`fast`] before the tape.
    use_fast: bool,
    fast: fast::Fast,
    /// The fast path's records whose values are not pushed yet.
    batch: fast::Batch<'c>,
    metadata: Metadata,
}

impl<'c> ChunkBuilder<'c> {
    /// `fast_path`: try the one-pass scanner ([`fast`]) before the parser's tape.
    pub fn new(
        file: u32,
        keep_findings: usize,
        census: &'c PathCensus,
        fast_path: bool,
        metadata: Metadata,
    ) -> ChunkBuilder<'c> {
        ChunkBuilder {
            file,
            census,
            noted: 1,
            trie: Trie::new(census.hasher.clone()),
            columns: Vec::new(),
            out: ChunkOutput {
                rows: Vec::new(),
                modules: Vec::new(),
                irregular: Vec::new(),
                columns: Vec::new(),
                findings: Vec::new(),
                skipped: 0,
                invalid_records: 0,
                rule_counts: Default::default(),
                blank: 0,
                lines: 0,
                too_many_paths: None,
                fast_records: 0,
                deferred: 0,
                metadata_spans: Vec::new(),
                whole_rows: Vec::new(),
            },
            json_buf: String::new(),
            keep_findings,
            expected_rows: 0,
            use_fast: fast_path,
            fast: fast::Fast::default(),
            batch: fast::Batch::default(),
            metadata,
        }
    }

    /// Whether to stop adding records: this load has more distinct paths than its limit.
    #[inline]
    pub fn stopped(&self) -> bool {
        self.census.exceeded()
    }

    pub fn note_lines(&mut self, lines: u32, blank: u64) {
        self.out.lines = lines;
        self.out.blank = blank;
    }

    /// Records a problem with a record (skipped or invalid).
    pub fn finding(&mut self, span: RecordSpan, rule: Rule, path: String, detail: String) {
        if rule == Rule::Skipped {
            self.out.skipped += 1;
        }
        *self.out.rule_counts.entry(rule).or_insert(0) += 1;
        if self.out.findings.len() < self.keep_findings {
            self.out.findings.push(Finding {
                file: self.file,
                byte: span.start as u64,
                line: 0,
                rule,
                path,
                detail,
            });
        }
    }

    /// Parses and adds one record; a record that is not loadable is counted as skipped.
    pub fn add(&mut self, bytes: &'c [u8], span: RecordSpan) {
        let record = &bytes[span.start..span.end];
        if !(self.use_fast && self.add_fast(record, span)) {
            // The tape pushes straight into the columns, after the records before.
            self.push_batch();
            let result = with_tape(record, |tape| {
                let negative_zero = tape_has_zero(tape) && has_negative_zero(record);
                self.add_tape(tape, span, negative_zero)
            });
            if let Ok(Err(reason)) | Err(reason) = result {
                self.finding(span, Rule::Skipped, String::new(), reason);
            }
        }
        self.note_paths(span);
    }

    /// Tells the load's census of the paths the chunk found since last time.
    fn note_paths(&mut self, span: RecordSpan) {
        if self.trie.nodes.len() > self.noted {
            let fresh = &self.trie.path_hash[self.noted..];
            self.noted = self.trie.nodes.len();
            if !self.census.note(fresh) {
                self.out.too_many_paths = Some(span);
            }
        }
    }

    fn add_tape(
        &mut self,
        tape: &[Node<'_>],
        span: RecordSpan,
        negative_zero: bool,
    ) -> Result<(), String> {
        let mut members: Vec<Member<'_, '_>> = Vec::with_capacity(24);
        normalise::members(tape, &mut members).map_err(str::to_string)?;
        let mut findings = Vec::new();
        validate::record(&members, &mut findings);
        if !findings.is_empty() {
            self.out.invalid_records += 1;
            for (rule, path, detail) in findings {
                self.finding(span, rule, path, detail);
            }
        }
        let row = self.new_row(span);
        // A `-0` reads as the integer 0 on the tape, but as the float -0.0 in JSON readers
        // that build values (and in the reference); such rare rows answer from their twin.
        let mut irregular = negative_zero;
        irregular |= self.walk_members(0, members.iter().map(|m| (m.key, m.value)), row);
        // A module twin has a top-level `moduleId` that is not null (the reference's rule);
        // of repeated members the last counts.
        if members
            .iter()
            .rev()
            .find(|m| m.key == "moduleId")
            .is_some_and(|m| !matches!(m.value[0], Node::Static(StaticNode::Null)))
        {
            self.out.modules.push(row);
        }
        if irregular {
            self.out.irregular.push(row);
        }
        Ok(())
    }

    /// Adds the row of a record (by both paths); returns its id in the chunk.
    fn new_row(&mut self, span: RecordSpan) -> u32 {
        let row = self.out.rows.len() as u32;
        self.out.rows.push(RowSource {
            file: self.file,
            len: (span.end - span.start) as u32,
            offset: span.start as u64,
        });
        row
    }

    /// The column of `node`, which is about to take a value in row `row`.
    #[inline]
    fn column(&mut self, node: u32, row: u32) -> &mut ColumnBuilder {
        let i = node as usize;
        if self.columns.len() <= i {
            self.columns.resize_with(i + 1, || None);
        }
        // Paths of the chunk's first record are likely in every record: size them for the
        // whole chunk instead of growing (and copying) them a dozen times.
        let expected = self.expected_rows;
        self.columns[i].get_or_insert_with(|| {
            ColumnBuilder::with_capacity(if row == 0 { expected } else { 0 })
        })
    }

    /// Rows added so far.
    pub fn rows(&self) -> usize {
        self.out.rows.len()
    }

    /// Adds the row of a record with nothing to read (no deferred `$metadata`).
    pub fn empty_row(&mut self, span: RecordSpan) {
        self.new_row(span);
    }

    /// Adds the row of a record by its deferred `$metadata` objects alone
    /// ([`Metadata::Alone`]); false, nothing added, when that does not do (the caller then
    /// reads the record whole, by [`ChunkBuilder::add`]).
    pub fn add_metadata(
        &mut self,
        record: &[u8],
        spans: &[MetadataSpan],
        span: RecordSpan,
    ) -> bool {
        let added = self.use_fast && self.add_metadata_fast(record, spans, span);
        if added {
            self.note_paths(span);
        }
        added
    }

    /// Adds a row for a record that no longer reads as it did (its input changed since the
    /// load): irregular, so that queries answer it from its twin, which says what is wrong.
    pub fn unreadable_row(&mut self, span: RecordSpan) {
        let row = self.new_row(span);
        self.out.irregular.push(row);
    }

    /// How many records the chunk is likely to hold (an estimate for sizing columns).
    pub fn expect_rows(&mut self, rows: usize) {
        self.expected_rows = rows;
    }

    /// Pushes a value and everything below it; returns whether an object below had keys that
    /// collide ignoring case.
    ///
    /// Inlined into [`ChunkBuilder::walk_object`]'s loop, so that only objects cost a call (a
    /// call per leaf, saving and restoring the walk's registers, was a tenth of its
    /// instructions).
    #[inline(always)]
    fn walk(&mut self, tape: &[Node<'_>], node: u32, row: u32) -> bool {
        match tape[0] {
            Node::String(s) => self.column(node, row).push_str(row, s),
            Node::Static(StaticNode::Null) => self.column(node, row).push_null(row),
            Node::Static(StaticNode::Bool(b)) => self.column(node, row).push_bool(row, b),
            Node::Static(StaticNode::I64(n)) => self.column(node, row).push_int(row, n),
            Node::Static(StaticNode::U64(n)) => match i64::try_from(n) {
                Ok(i) => self.column(node, row).push_int(row, i),
                Err(_) => self.column(node, row).push_uint(row, n),
            },
            Node::Static(StaticNode::F64(n)) => self.column(node, row).push_float(row, n),
            Node::Array { .. } => {
                let mut buf = std::mem::take(&mut self.json_buf);
                buf.clear();
                write_json(tape, &mut buf);
                self.column(node, row).push_array(row, &buf);
                self.json_buf = buf;
            }
            Node::Object { .. } => return self.walk_object(tape, node, row),
        }
        false
    }

    /// [`ChunkBuilder::walk`] for an object: pushes it and each member.
    fn walk_object(&mut self, tape: &[Node<'_>], node: u32, row: u32) -> bool {
        self.column(node, row).push_object(row);
        self.walk_members(node, normalise::object_members(tape), row)
    }

    /// Walks the members of one object (the record's top level, or an object below `parent`);
    /// returns whether a key repeats or collides with another by case here or below.
    #[inline(always)]
    fn walk_members<'t, 'i: 't>(
        &mut self,
        parent: u32,
        members: impl Iterator<Item = (&'t str, &'t [Node<'i>])>,
        row: u32,
    ) -> bool {
        let mut irregular = false;
        let stamp = self.trie.begin_object();
        let mut prev = NONE;
        for (key, value) in members {
            let child = self.trie.child(parent, prev, key);
            prev = child;
            match self.trie.visit(child, stamp) {
                Visit::First => {}
                // A repeated key: the first occurrence feeds the columns (the twin keeps the
                // last value, as JSON parsers do; the row is irregular either way).
                Visit::Repeated => {
                    irregular = true;
                    continue;
                }
                Visit::CaseCollision => irregular = true,
            }
            if self.metadata == Metadata::Deferred
                && self.trie.nodes[child as usize].flags & DEFERRABLE != 0
                && matches!(value[0], Node::Object { .. })
            {
                // Keys colliding inside are found when it is columnised.
                self.column(child, row).push_object(row);
                self.out.deferred += 1;
                if self.out.whole_rows.last() != Some(&row) {
                    self.out.whole_rows.push(row);
                }
                continue;
            }
            irregular |= self.walk(value, child, row);
        }
        irregular
    }

    pub fn finish(mut self) -> ChunkOutput {
        self.push_batch();
        self.out.fast_records = self.fast.records;
        self.out.deferred += self.out.metadata_spans.len() as u64;
        let alone = self.metadata == Metadata::Alone;
        for (node, col) in self.columns.into_iter().enumerate() {
            if alone && self.trie.nodes[node].flags & IN_DEFERRABLE == 0 {
                continue;
            }
            if let Some(col) = col {
                self.out.columns.push((self.trie.path(node as u32), col));
            }
        }
        self.out
    }
}

/// Compact JSON text of a tape value.
pub fn write_json(tape: &[Node<'_>], out: &mut String) {
    use std::fmt::Write;
    match tape[0] {
        Node::String(s) => write_json_string(s, out),
        Node::Static(StaticNode::Null) => out.push_str("null"),
        Node::Static(StaticNode::Bool(b)) => out.push_str(if b { "true" } else { "false" }),
        Node::Static(StaticNode::I64(n)) => {
            let _ = write!(out, "{n}");
        }
        Node::Static(StaticNode::U64(n)) => {
            let _ = write!(out, "{n}");
        }
        Node::Static(StaticNode::F64(_)) => {
            out.push_str(
                &normalise::static_to_json(match tape[0] {
                    Node::Static(s) => s,
                    _ => StaticNode::Null,
                })
                .to_string(),
            );
        }
        Node::Array { len, .. } => {
            out.push('[');
            let mut i = 1;
            for k in 0..len {
                if k > 0 {
                    out.push(',');
                }
                let n = normalise::span(&tape[i..]);
                write_json(&tape[i..i + n], out);
                i += n;
            }
            out.push(']');
        }
        Node::Object { .. } => {
            out.push('{');
            for (k, (key, value)) in normalise::object_members(tape).enumerate() {
                if k > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_json(value, out);
            }
            out.push('}');
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_spans_keep_length_and_section_apart() {
        let m = MetadataSpan::new(3, 40, (1 << 24) + 5, true);
        assert_eq!((m.len(), m.reported()), ((1 << 24) + 5, true));
        let m = MetadataSpan::new(3, 40, 7, false).moved(10);
        assert_eq!((m.row, m.start, m.len(), m.reported()), (13, 40, 7, false));
    }

    #[test]
    fn negative_zero_is_found_at_every_position() {
        // Each place in and around a 64-byte block, and at the very end of the text.
        for pad in 0..140 {
            let head = format!("{{\"k\":\"{}\",\"a\":", "x".repeat(pad));
            for (tail, want) in [
                ("-0}", true),
                ("-0", true),
                ("-0.5}", false),
                ("-01}", false),
            ] {
                let text = format!("{head}{tail}");
                assert_eq!(has_negative_zero(text.as_bytes()), want, "{text}");
            }
            let text = format!("{{\"k\":\"{}-0\"}}", "x".repeat(pad));
            assert!(!has_negative_zero(text.as_bytes()), "{text}");
        }
        assert!(!has_negative_zero(b""));
        assert!(!has_negative_zero(b"-"));
        assert!(!has_negative_zero(b"-0"), "nothing precedes it");
        assert!(has_negative_zero(b"[-0"));
    }

    #[test]
    fn negative_zero_is_found_only_as_a_value() {
        assert!(has_negative_zero(br#"{"a":-0}"#));
        assert!(has_negative_zero(br#"{"a":[1, -0 ]}"#));
        assert!(!has_negative_zero(
            br#"{"a":-0.5,"b":-0e1,"c":"dev-0","d":"2024-05-0\u0031"}"#
        ));
        // Look-alikes inside strings, escaped quotes included (a fuzzer found the tape path
        // marking such a row irregular where the fast path did not).
        assert!(!has_negative_zero(br#"{"deviceId":":-0,m1","a":0}"#));
        assert!(!has_negative_zero(br#"{"k":"x\":-0","a":0}"#));
        assert!(has_negative_zero(br#"{"k":"x\\","a":-0}"#));
        assert!(has_negative_zero(br#"{"k":":-0","a":-0}"#));
    }

    #[test]
    fn trie_finds_repeats_and_case_collisions() {
        let mut t = Trie::new(RandomState::new());
        let stamp = t.begin_object();
        let a = t.child(0, NONE, "a");
        let upper = t.child(0, a, "A");
        let b = t.child(0, upper, "b");
        let umlaut = t.child(0, b, "Ärger");
        let umlaut_lower = t.child(0, umlaut, "ärger");
        assert!(matches!(t.visit(a, stamp), Visit::First));
        assert!(matches!(t.visit(b, stamp), Visit::First));
        assert!(matches!(t.visit(upper, stamp), Visit::CaseCollision));
        assert!(matches!(t.visit(a, stamp), Visit::Repeated));
        assert!(matches!(t.visit(umlaut, stamp), Visit::First));
        assert!(matches!(t.visit(umlaut_lower, stamp), Visit::CaseCollision));
        let next = t.begin_object();
        assert!(matches!(t.visit(upper, next), Visit::First));
        assert_eq!(t.child(0, NONE, "a"), a);
        assert_eq!(t.child(0, a, "b"), b);
        assert_eq!(t.child(0, b, "A"), upper);
    }

    /// Past [`SCAN_CHILDREN`] siblings keys are found by hash: the same nodes, repeats and case
    /// collisions as by scanning, under two parents that share key names.
    #[test]
    fn trie_with_many_siblings_finds_keys_by_hash() {
        let mut t = Trie::new(RandomState::new());
        let n = 10 * SCAN_CHILDREN;
        let mut first = Vec::new();
        for parent in [0, 1] {
            let mut prev = NONE;
            let ids: Vec<u32> = (0..n)
                .map(|i| {
                    prev = t.child(parent, prev, &format!("k{i}"));
                    prev
                })
                .collect();
            first.push(ids);
        }
        assert_eq!(first[0][0], 1, "node 1 is the first child of the root");
        for (parent, ids) in first.iter().enumerate() {
            // Out of order, so that the prediction misses and the table answers.
            for i in (0..n).rev().step_by(3) {
                assert_eq!(t.child(parent as u32, NONE, &format!("k{i}")), ids[i]);
            }
        }
        let upper = t.child(0, NONE, "K7");
        assert!(!first[0].contains(&upper));
        let stamp = t.begin_object();
        assert!(matches!(t.visit(first[0][7], stamp), Visit::First));
        assert!(matches!(t.visit(first[1][7], stamp), Visit::First));
        assert!(matches!(t.visit(upper, stamp), Visit::CaseCollision));
        assert!(matches!(t.visit(first[0][7], stamp), Visit::Repeated));
        assert!(matches!(t.visit(first[0][8], stamp), Visit::First));
    }

    /// 20,000 siblings created and then looked up out of order: a constant number of key
    /// comparisons each, where scanning the siblings took 200 million.
    #[test]
    fn trie_lookups_stay_linear_in_siblings() {
        let mut t = Trie::new(RandomState::new());
        let n = 20_000;
        let ids: Vec<u32> = (0..n).map(|i| t.child(0, NONE, &format!("k{i}"))).collect();
        for i in (0..n).rev() {
            assert_eq!(t.child(0, NONE, &format!("k{i}")), ids[i]);
        }
        // Case variants of every key: new nodes in existing fold groups, found by map.
        for (i, &id) in ids.iter().enumerate() {
            let upper = t.child(0, NONE, &format!("K{i}"));
            assert_eq!(t.nodes[upper as usize].fold, t.nodes[id as usize].fold);
        }
        let compares = t.compares.get();
        assert!(compares < 4 * 3 * n as u64, "{compares} key comparisons");
    }

    /// The record's own braces are the first level: 127 levels load, as serde_json (the
    /// reference) reads them too, and the 128th is an error that says so.
    #[test]
    fn json_depth_limit_is_127_levels_and_says_so() {
        let nested = |levels: usize| {
            format!(
                "{{\"a\":{}1{}}}",
                "[".repeat(levels - 1),
                "]".repeat(levels - 1)
            )
        };
        let at_limit = nested(MAX_JSON_DEPTH);
        assert!(with_tape(at_limit.as_bytes(), |_| ()).is_ok());
        assert!(serde_json::from_str::<serde_json::Value>(&at_limit).is_ok());
        let over = nested(MAX_JSON_DEPTH + 1);
        assert_eq!(
            with_tape(over.as_bytes(), |_| ()).err().as_deref(),
            Some("JSON nested deeper than 127 levels")
        );
        assert!(serde_json::from_str::<serde_json::Value>(&over).is_err());
    }

    #[test]
    fn same_key_compares_every_byte() {
        let keys = [
            "",
            "a",
            "b",
            "ab",
            "abc",
            "abd",
            "abcd",
            "abce",
            "abcdefg",
            "abcdefh",
            "bbcdefg",
            "abcdefgh",
            "abcdefgi",
            "abcdefghi",
            "abcdefghj",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "Abcdefghijklmnop",
            "abcdefghijklmnopq",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(same_key(a, b), a == b, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn compact_json_round_trips() {
        let text = br#"[1, -2, 2.5, "a\"b\u0001\\", {"k": [true, null]}, 18446744073709551615]"#;
        let mut out = String::new();
        with_tape(text, |t| write_json(t, &mut out)).unwrap();
        let a: serde_json::Value = serde_json::from_str(&out).unwrap();
        let b: serde_json::Value = serde_json::from_slice(text).unwrap();
        assert_eq!(a, b);
    }
}
