//! The fast path's accepted records, pushed into their columns a batch at a time, column by
//! column.
//!
//! Pushed as each record is read, a record's ~30 values go to ~30 column builders in turn:
//! every push meets a different builder, value kind, payload width and dictionary, and the
//! branches that pick among them are mispredicted from one push to the next. Pushed column by
//! column over [`RECORDS`] records, each builder takes a run of values of the same kind. The
//! values wait here, each column's in the order they were read (so its rows stay in order). A
//! record the fast path declines is read by the tape path, which pushes straight into the
//! columns: the batch is pushed first.
//!
//! Measured on 1M generated devices (`examples/load`, 6 alternating pairs): 1.125 → 1.079 s
//! with batches of 128 records sorted by column when pushed, and a further −1.7% with each
//! column's values kept apart as they come instead. Batches of 64 to 256 records are alike;
//! 512 and 2048 are slower (1.18 and 1.32 s: the batch no longer fits the core's cache).

use super::{Ev, Event};

/// Records in a full batch.
pub(super) const RECORDS: usize = 128;

/// A value of a record in the batch, waiting to be pushed.
#[derive(Clone, Copy)]
pub(super) struct Value {
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
    /// Per trie node, its values in the order they were read (kept, emptied, between
    /// batches).
    by_node: Vec<Vec<Value>>,
    /// The nodes with values, in the order they first had one in this batch.
    nodes: Vec<u32>,
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
        for e in events {
            let i = e.node as usize;
            if self.by_node.len() <= i {
                self.by_node.resize_with(i + 1, Vec::new);
            }
            let values = &mut self.by_node[i];
            if values.is_empty() {
                self.nodes.push(e.node);
            }
            values.push(Value {
                record,
                kind: e.kind,
                x: e.x,
            });
        }
    }

    /// Each node with values, and its values in the order they were read.
    pub(super) fn runs(&self) -> impl Iterator<Item = (u32, &[Value])> {
        self.nodes
            .iter()
            .map(|&n| (n, &self.by_node[n as usize][..]))
    }

    /// Empties the batch, keeping its memory.
    pub(super) fn clear(&mut self) {
        self.texts.clear();
        for &n in &self.nodes {
            self.by_node[n as usize].clear();
        }
        self.nodes.clear();
    }
}
