//! Results as compact JSON text, one row at a time: what `--format json|jsonl` prints.
//!
//! `SELECT *` writes each twin straight from its record's tape, and a select list of plain
//! paths writes each row from its column values (no `serde_json::Value` with its per-node
//! allocations and hashed maps); every other shape serializes the row value. The text is byte
//! for byte what serializing the [`Results`] row gives (the property and golden tests check).
//!
//! Rows are written per batch into a few shared buffers (one per parallel part), so
//! [`JsonRows::next_row`] hands out borrowed text without an allocation per row; the
//! `Iterator` impl copies each row into a `String`.

use std::borrow::Cow;
use std::cell::RefCell;

use rayon::prelude::*;

use super::value::Val;
use super::{shape_row, shape_rows_as, Members, Results, BATCH};
use crate::plan::Shape;

/// The rows of [`Results`] as compact JSON text, in the same order; see [`Results::json`].
pub struct JsonRows<'s> {
    results: Results<'s>,
    /// The current batch: parts of rows' text, each with the end offset of every row in it.
    parts: Vec<Part>,
    /// The next row: its part, and its index within that part.
    part: usize,
    row: usize,
    /// Text of a row taken from the value path (aggregates, groups, other shapes).
    single: String,
}

/// Consecutive rows' text and where each ends.
#[derive(Default)]
struct Part {
    text: Vec<u8>,
    ends: Vec<usize>,
}

impl Part {
    fn end_row(&mut self) {
        self.ends.push(self.text.len());
    }
}

impl<'s> Results<'s> {
    /// These results as compact JSON text, one row at a time. Faster than serializing each
    /// row value for `SELECT *`, whose twins are written straight from their records, and for
    /// projections of plain paths.
    pub fn json(self) -> JsonRows<'s> {
        JsonRows {
            results: self,
            parts: Vec::new(),
            part: 0,
            row: 0,
            single: String::new(),
        }
    }
}

impl JsonRows<'_> {
    /// The next row's text, valid until the next call: no allocation per row.
    pub fn next_row(&mut self) -> Option<&str> {
        let r = &mut self.results;
        let star = matches!(r.plan.shape, Shape::Star);
        if !(star || matches!(r.plan.shape, Shape::Rows(_)))
            || r.buffer.len() > 0
            || r.done.len() > 0
        {
            self.single = r.next()?.to_string();
            return Some(&self.single);
        }
        while self
            .parts
            .get(self.part)
            .is_some_and(|p| self.row == p.ends.len())
        {
            self.part += 1;
            self.row = 0;
        }
        if self.part == self.parts.len() {
            self.fill(star);
            if self.parts.is_empty() {
                return None;
            }
        }
        let p = &self.parts[self.part];
        let start = match self.row {
            0 => 0,
            i => p.ends[i - 1],
        };
        let text = &p.text[start..p.ends[self.row]];
        self.row += 1;
        // Only whole UTF-8 strings and ASCII punctuation are ever written.
        Some(std::str::from_utf8(text).unwrap_or("null"))
    }

    /// Shapes the next batch of rows into `parts` (empty when there are no more rows).
    fn fill(&mut self, star: bool) {
        let r = &mut self.results;
        let batch: Vec<u32> = r.rows.by_ref().take(BATCH).collect();
        let (store, plan) = (r.store, &r.plan);
        let shape = |rows: &[u32]| -> Part {
            let part = RefCell::new(Part {
                text: Vec::with_capacity(rows.len() * if star { 2048 } else { 32 }),
                ends: Vec::with_capacity(rows.len()),
            });
            if star {
                let mut p = part.borrow_mut();
                for &row in rows {
                    let start = p.text.len();
                    if store.twin_text(row, &mut p.text).is_err() {
                        // `null`, as the value path gives for a twin it cannot read.
                        p.text.truncate(start);
                        p.text.extend_from_slice(b"null");
                    }
                    p.end_row();
                }
            } else {
                shape_rows_as(
                    store,
                    plan,
                    rows,
                    &|row| {
                        let mut p = part.borrow_mut();
                        let value = shape_row(store, plan, row);
                        // Writing into a Vec cannot fail.
                        let _ = serde_json::to_writer(&mut p.text, &value);
                        p.end_row();
                    },
                    &|members| {
                        let mut p = part.borrow_mut();
                        write_object(members, &mut p.text);
                        p.end_row();
                    },
                );
            }
            part.into_inner()
        };
        self.parts.clear();
        if batch.len() > 64 && (star || !r.cheap_rows) {
            self.parts.par_extend(
                batch
                    .par_chunks(256)
                    .map(shape)
                    .filter(|p| !p.ends.is_empty()),
            );
        } else if !batch.is_empty() {
            self.parts.push(shape(&batch));
        }
        self.part = 0;
        self.row = 0;
    }
}

impl Iterator for JsonRows<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        self.next_row().map(str::to_owned)
    }
}

/// Writes a row of members as a JSON object. Two members with one output key (the planner
/// rejects duplicate names, so this is only a guard) go through a map, which keeps the first
/// position and the last value, as the value path does.
fn write_object(members: &mut Members<'_, '_>, out: &mut Vec<u8>) {
    // The members on the stack (a select list is short), past that in a vector.
    const INLINE: usize = 8;
    let mut inline: [Option<(Cow<'_, str>, Val<'_>)>; INLINE] = Default::default();
    let mut spill = Vec::new();
    for (n, m) in members.filter(|(_, v)| v.is_defined()).enumerate() {
        match inline.get_mut(n) {
            Some(slot) => *slot = Some(m),
            None => spill.push(m),
        }
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
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(out, &serde_json::Value::Object(map));
        return;
    }
    let open = out.len();
    out.push(b'{');
    for (key, v) in all() {
        let start = out.len();
        if start > open + 1 {
            out.push(b',');
        }
        crate::ingest::normalise::write_str(key, out);
        out.push(b':');
        if !v.write_json(out) {
            out.truncate(start);
        }
    }
    out.push(b'}');
}
