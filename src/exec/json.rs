//! Results as compact JSON text, one string per row: what `--format json|jsonl` prints.
//!
//! `SELECT *` writes each twin straight from its record's tape (no `serde_json::Value` with
//! its per-node allocations and hashed maps); every other shape serializes the row value. The
//! text is byte for byte what serializing the [`Results`] row gives (a test checks it).

use std::collections::VecDeque;

use rayon::prelude::*;

use super::{Results, BATCH};
use crate::plan::Shape;
use crate::store::Store;

/// The rows of [`Results`] as compact JSON text, in the same order; see [`Results::json`].
pub struct JsonRows<'s> {
    results: Results<'s>,
    buffer: VecDeque<String>,
}

impl<'s> Results<'s> {
    /// These results as compact JSON text, one string per row. Faster than serializing each
    /// row value for `SELECT *`, whose twins are written straight from their records.
    pub fn json(self) -> JsonRows<'s> {
        JsonRows {
            results: self,
            buffer: VecDeque::new(),
        }
    }
}

impl Iterator for JsonRows<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let r = &mut self.results;
        if !matches!(r.plan.shape, Shape::Star) || r.buffer.len() > 0 || r.done.len() > 0 {
            return r.next().map(|v| v.to_string());
        }
        if self.buffer.is_empty() {
            let batch: Vec<u32> = r.rows.by_ref().take(BATCH).collect();
            let store = r.store;
            if batch.len() > 64 {
                self.buffer
                    .par_extend(batch.par_iter().map(|&row| twin_text(store, row)));
            } else {
                self.buffer
                    .extend(batch.iter().map(|&row| twin_text(store, row)));
            }
        }
        self.buffer.pop_front()
    }
}

/// A row's twin as JSON text; `null` when it cannot be read, as the value path gives.
fn twin_text(store: &Store, row: u32) -> String {
    let mut out = Vec::with_capacity(2048);
    match store.twin_text(row, &mut out) {
        // The writer only ever writes whole UTF-8 strings and ASCII punctuation.
        Ok(()) => String::from_utf8(out).unwrap_or_else(|_| "null".to_string()),
        Err(_) => "null".to_string(),
    }
}
