//! Parsing one chunk of records into column builders, on one rayon worker.
//!
//! Paths are resolved through a per-chunk trie rather than by hashing a dotted path per leaf:
//! each trie node remembers where its last matched child was, and records in an export mostly
//! share one shape, so the next key is nearly always found at the first probe (PERF-NOTES:
//! this alone took a prototype from 5.0 to 4.0 s).

use std::cell::RefCell;

use simd_json::{Buffers, Node, StaticNode, Tape};

use super::normalise::{self, Member};
use super::validate::{self, Finding, Rule};
use crate::store::{ColumnBuilder, RowSource};

/// JSON nesting deeper than this is a parse error (serde_json's default limit too, so the
/// reference and the store agree on what is loadable).
pub const MAX_JSON_DEPTH: usize = 128;

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
#[derive(Default)]
struct Trie {
    keys: Vec<Box<str>>,
    parents: Vec<u32>,
    children: Vec<Vec<u32>>,
    hints: Vec<u32>,
}

impl Trie {
    fn new() -> Trie {
        let mut t = Trie::default();
        t.keys.push("".into());
        t.parents.push(u32::MAX);
        t.children.push(Vec::new());
        t.hints.push(0);
        t
    }

    #[inline]
    fn child(&mut self, parent: u32, key: &str) -> u32 {
        let p = parent as usize;
        let kids = &self.children[p];
        let n = kids.len();
        let start = self.hints[p] as usize;
        for k in 0..n {
            let i = (start + k) % n;
            let c = kids[i];
            if &*self.keys[c as usize] == key {
                self.hints[p] = ((i + 1) % n.max(1)) as u32;
                return c;
            }
        }
        let id = self.keys.len() as u32;
        self.keys.push(key.into());
        self.parents.push(parent);
        self.children.push(Vec::new());
        self.hints.push(0);
        self.children[p].push(id);
        self.hints[p] = 0;
        id
    }

    fn path(&self, mut node: u32) -> Vec<Box<str>> {
        let mut segs = Vec::new();
        while node != 0 {
            segs.push(self.keys[node as usize].clone());
            node = self.parents[node as usize];
        }
        segs.reverse();
        segs
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
}

/// Builds columns for the records of one chunk.
pub struct ChunkBuilder {
    file: u32,
    trie: Trie,
    columns: Vec<Option<ColumnBuilder>>,
    out: ChunkOutput,
    json_buf: String,
    keep_findings: usize,
}

impl ChunkBuilder {
    pub fn new(file: u32, keep_findings: usize) -> ChunkBuilder {
        ChunkBuilder {
            file,
            trie: Trie::new(),
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
            },
            json_buf: String::new(),
            keep_findings,
        }
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
    pub fn add(&mut self, bytes: &[u8], span: RecordSpan) {
        let record = &bytes[span.start..span.end];
        let result = with_tape(record, |tape| self.add_tape(tape, span));
        match result {
            Ok(Ok(())) => {}
            Ok(Err(reason)) | Err(reason) => {
                self.finding(span, Rule::Skipped, String::new(), reason);
            }
        }
    }

    fn add_tape(&mut self, tape: &[Node<'_>], span: RecordSpan) -> Result<(), String> {
        let mut members: Vec<Member<'_, '_>> = Vec::with_capacity(24);
        normalise::members(tape, &mut members).map_err(str::to_string)?;
        let row = self.out.rows.len() as u32;
        let mut findings = Vec::new();
        validate::record(&members, &mut findings);
        if !findings.is_empty() {
            self.out.invalid_records += 1;
            for (rule, path, detail) in findings {
                self.finding(span, rule, path, detail);
            }
        }
        self.out.rows.push(RowSource {
            file: self.file,
            len: (span.end - span.start) as u32,
            offset: span.start as u64,
        });
        let mut irregular = has_case_collision(members.iter().map(|m| m.key));
        for (i, m) in members.iter().enumerate() {
            // A repeated top-level key: the first occurrence feeds the columns (the twin keeps
            // the last value, as JSON parsers do; the row is irregular either way).
            if members[..i].iter().any(|p| p.key == m.key) {
                continue;
            }
            let node = self.trie.child(0, m.key);
            irregular |= self.walk(m.value, node, row);
        }
        // A module twin has a top-level `moduleId` that is not null (the reference's rule).
        if members
            .iter()
            .any(|m| m.key == "moduleId" && !matches!(m.value[0], Node::Static(StaticNode::Null)))
        {
            self.out.modules.push(row);
        }
        if irregular {
            self.out.irregular.push(row);
        }
        Ok(())
    }

    fn column(&mut self, node: u32) -> &mut ColumnBuilder {
        let i = node as usize;
        if self.columns.len() <= i {
            self.columns.resize_with(i + 1, || None);
        }
        self.columns[i].get_or_insert_with(ColumnBuilder::new)
    }

    /// Pushes a value and everything below it; returns whether an object below had keys that
    /// collide ignoring case.
    fn walk(&mut self, tape: &[Node<'_>], node: u32, row: u32) -> bool {
        match tape[0] {
            Node::String(s) => self.column(node).push_str(row, s),
            Node::Static(StaticNode::Null) => self.column(node).push_null(row),
            Node::Static(StaticNode::Bool(b)) => self.column(node).push_bool(row, b),
            Node::Static(StaticNode::I64(n)) => self.column(node).push_int(row, n),
            Node::Static(StaticNode::U64(n)) => match i64::try_from(n) {
                Ok(i) => self.column(node).push_int(row, i),
                Err(_) => self.column(node).push_uint(row, n),
            },
            Node::Static(StaticNode::F64(n)) => self.column(node).push_float(row, n),
            Node::Array { .. } => {
                let mut buf = std::mem::take(&mut self.json_buf);
                buf.clear();
                write_json(tape, &mut buf);
                self.column(node).push_array(row, &buf);
                self.json_buf = buf;
            }
            Node::Object { len, .. } => {
                self.column(node).push_object(row);
                let mut irregular = false;
                if len > 1 {
                    irregular = has_case_collision(normalise::object_members(tape).map(|(k, _)| k));
                }
                for (i, (key, value)) in normalise::object_members(tape).enumerate() {
                    if irregular
                        && normalise::object_members(tape)
                            .take(i)
                            .any(|(k, _)| k == key)
                    {
                        continue;
                    }
                    let child = self.trie.child(node, key);
                    irregular |= self.walk(value, child, row);
                }
                return irregular;
            }
        }
        false
    }

    pub fn finish(mut self) -> ChunkOutput {
        for (node, col) in self.columns.into_iter().enumerate() {
            if let Some(col) = col {
                self.out.columns.push((self.trie.path(node as u32), col));
            }
        }
        self.out
    }
}

/// True when two keys are equal ignoring case (SPEC §2.1: Unicode lower-casing).
fn has_case_collision<'a>(keys: impl Iterator<Item = &'a str> + Clone) -> bool {
    let mut rest = keys.clone();
    for (i, a) in keys.enumerate() {
        rest.next();
        let _ = i;
        for b in rest.clone() {
            if a.len() == b.len() && a.eq_ignore_ascii_case(b) {
                return true;
            }
            if (!a.is_ascii() || !b.is_ascii()) && a.to_lowercase() == b.to_lowercase() {
                return true;
            }
        }
    }
    false
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
    fn collisions_ignore_case_including_unicode() {
        assert!(has_case_collision(["a", "b", "A"].into_iter()));
        assert!(has_case_collision(["Ärger", "ärger"].into_iter()));
        assert!(has_case_collision(["x", "x"].into_iter()));
        assert!(!has_case_collision(["a", "b", "ab"].into_iter()));
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
