//! Results as compact JSON text, one string per row: what `--format json|jsonl` prints.
//!
//! `SELECT *` writes each twin straight from its record's tape, and a select list of plain
//! paths writes each row from its column values (no `serde_json::Value` with its per-node
//! allocations and hashed maps); every other shape serializes the row value. The text is byte
//! for byte what serializing the [`Results`] row gives (the property and golden tests check).

use std::borrow::Cow;
use std::collections::VecDeque;

use rayon::prelude::*;

use super::value::Val;
use super::{shape_row, shape_rows_as, Members, Results, BATCH};
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
        let star = matches!(r.plan.shape, Shape::Star);
        if !(star || matches!(r.plan.shape, Shape::Rows(_)))
            || r.buffer.len() > 0
            || r.done.len() > 0
        {
            return r.next().map(|v| v.to_string());
        }
        if self.buffer.is_empty() {
            let batch: Vec<u32> = r.rows.by_ref().take(BATCH).collect();
            let (store, plan) = (r.store, &r.plan);
            let shape = |rows: &[u32]| -> Vec<String> {
                if star {
                    rows.iter().map(|&row| twin_text(store, row)).collect()
                } else {
                    shape_rows_as(
                        store,
                        plan,
                        rows,
                        &|row| shape_row(store, plan, row).to_string(),
                        &|members| object_text(members),
                    )
                }
            };
            if batch.len() > 64 && (star || !r.cheap_rows) {
                self.buffer
                    .par_extend(batch.par_chunks(256).flat_map_iter(shape));
            } else {
                self.buffer.extend(shape(&batch));
            }
        }
        self.buffer.pop_front()
    }
}

/// A row of members as a JSON object's text. Two members with one output key (possible when
/// two select items bind to one document spelling) go through a map, which keeps the first
/// position and the last value, as the value path does.
fn object_text(members: &mut Members<'_, '_>) -> String {
    // The members on the stack (a select list is short), past that in a vector.
    const INLINE: usize = 8;
    let mut inline: [Option<(Cow<'_, str>, Val<'_>)>; INLINE] = Default::default();
    let mut spill = Vec::new();
    let mut n = 0;
    for m in members.filter(|(_, v)| v.is_defined()) {
        match inline.get_mut(n) {
            Some(slot) => *slot = Some(m),
            None => spill.push(m),
        }
        n += 1;
    }
    let all = || inline.iter().flatten().chain(&spill);
    let repeated = all()
        .enumerate()
        .any(|(i, (k, _))| all().take(i).any(|(j, _)| j == k));
    if repeated {
        let mut map = serde_json::Map::new();
        for (k, v) in all() {
            if let Some(v) = v.to_json() {
                map.insert(k.to_string(), v);
            }
        }
        return serde_json::Value::Object(map).to_string();
    }
    let mut out = Vec::with_capacity(16 + 32 * n);
    out.push(b'{');
    for (key, v) in all() {
        let start = out.len();
        if start > 1 {
            out.push(b',');
        }
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, key.as_ref());
        out.push(b':');
        if !v.write_json(&mut out) {
            out.truncate(start);
        }
    }
    out.push(b'}');
    // Only whole UTF-8 strings and ASCII punctuation were written.
    String::from_utf8(out).unwrap_or_else(|_| "null".to_string())
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
