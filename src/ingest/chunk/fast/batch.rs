//! The fast path's accepted records, pushed into their columns a batch at a time, column by
//! column.
//!
//! Pushed as each record is read, a record's ~30 values go to ~30 column builders in turn:
//! every push meets a different builder, value kind, payload width and dictionary, and the
//! branches that pick among them are mispredicted from one push to the next. Pushed column by
//! column over [`RECORDS`] records, each builder takes a run of values of the same kind. The
//! values wait here in the order they were read and are sorted by column (stably, so each
//! column's rows stay in order) when the batch is pushed. A record the fast path declines is
//! read by the tape path, which pushes straight into the columns: the batch is pushed first.
//!
//! Measured on 1M generated devices (`examples/load`, 5 alternating runs): 1.163 → 1.107 s
//! with batches of 128 records; 64 and 192 are the same, 512 and 2048 are slower (1.18 and
//! 1.32 s: the batch no longer fits the core's cache).

use super::{Ev, Event};

/// Records in a full batch.
pub(super) const RECORDS: usize = 128;

/// A value of a record in the batch, waiting to be pushed.
#[derive(Clone, Copy)]
pub(super) struct Value {
    pub(super) node: u32,
    /// The record's place in the batch (its row is the batch's first row plus this).
    pub(super) record: u16,
    pub(super) kind: Ev,
    /// As in [`Event`].
    pub(super) x: u64,
}

/// Records accepted by the fast path whose values are not in the columns yet.
#[derive(Default)]
pub(in crate::ingest::chunk) struct Batch<'c> {
    /// The records' texts, which their values' string pieces index.
    pub(super) texts: Vec<&'c str>,
    /// The row of the first record; the records' rows follow it.
    pub(super) first_row: u32,
    /// In the order they were read.
    values: Vec<Value>,
    /// `values` sorted by node, by [`Batch::sort_by_node`].
    pub(super) sorted: Vec<Value>,
    /// Per trie node, where its values go in `sorted` (a counting sort).
    starts: Vec<u32>,
}

impl<'c> Batch<'c> {
    pub(super) fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    pub(super) fn is_full(&self) -> bool {
        self.texts.len() >= RECORDS
    }

    /// Adds the record `text`, row `row`, with its values `events`.
    pub(super) fn add(&mut self, row: u32, text: &'c str, events: &[Event]) {
        if self.texts.is_empty() {
            self.first_row = row;
        }
        debug_assert_eq!(row, self.first_row + self.texts.len() as u32);
        let record = self.texts.len() as u16;
        self.texts.push(text);
        self.values.extend(events.iter().map(|e| Value {
            node: e.node,
            record,
            kind: e.kind,
            x: e.x,
        }));
    }

    /// Sorts the values by node into [`Batch::sorted`], each node's in the order they were
    /// read; `nodes` bounds the nodes.
    pub(super) fn sort_by_node(&mut self, nodes: usize) {
        let n = self.values.len();
        self.sorted.clear();
        if nodes <= 4 * n {
            // A counting sort: one pass to count, one to place.
            self.starts.clear();
            self.starts.resize(nodes + 1, 0);
            for v in &self.values {
                self.starts[v.node as usize + 1] += 1;
            }
            for i in 1..self.starts.len() {
                self.starts[i] += self.starts[i - 1];
            }
            let blank = Value {
                node: 0,
                record: 0,
                kind: Ev::Null,
                x: 0,
            };
            self.sorted.resize(n, blank);
            for v in &self.values {
                let at = &mut self.starts[v.node as usize];
                self.sorted[*at as usize] = *v;
                *at += 1;
            }
        } else {
            // Far more paths than values (a chunk of records each unlike the last): a
            // comparison sort, not a pass over every node per batch.
            self.sorted.extend_from_slice(&self.values);
            self.sorted.sort_by_key(|v| v.node);
        }
    }

    /// Empties the batch, keeping its memory.
    pub(super) fn clear(&mut self) {
        self.texts.clear();
        self.values.clear();
    }
}

/// The runs of `sorted` that share a node.
pub(super) fn runs(sorted: &[Value]) -> impl Iterator<Item = &[Value]> {
    sorted.chunk_by(|a, b| a.node == b.node)
}
