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
use super::{eval, shape_row, shape_rows_as, Members, Results, BATCH};
use crate::ingest::normalise::{write_str, write_str_bytes};
use crate::plan::{BExpr, OutKey, Plan, Shape};
use crate::store::{Column, Store, ValueRef, View};

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
        loop {
            match self.parts.get(self.part) {
                Some(p) if self.row < p.ends.len() => break,
                Some(_) => {
                    self.part += 1;
                    self.row = 0;
                }
                None => {
                    if !self.fill(star) {
                        return None;
                    }
                }
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

    /// Shapes the next batch of rows into `parts`, reusing their buffers (fresh ones would be
    /// fresh pages for every batch); `false` when there are no more rows.
    fn fill(&mut self, star: bool) -> bool {
        let r = &mut self.results;
        let (store, plan) = (r.store, &r.plan);
        let plain = PlainColumns::new(store, plan);
        // A plain row is a few bytes: larger batches, fewer hand-offs between threads (each
        // wakes the pool, tens of µs: 19,114 ids took 0.93 ms in batches of 2,048, 0.73-1.1
        // in 8,192, 0.58 in 32,768 rows).
        let size = if plain.is_some() { 16 * BATCH } else { BATCH };
        let batch: Vec<u32> = r.rows.by_ref().take(size).collect();
        if batch.is_empty() {
            return false;
        }
        let shape = |part: &mut Part, rows: &[u32]| {
            part.text.clear();
            part.ends.clear();
            if star {
                for &row in rows {
                    let start = part.text.len();
                    if store.twin_text(row, &mut part.text).is_err() {
                        // `null`, as the value path gives for a twin it cannot read.
                        part.text.truncate(start);
                        part.text.extend_from_slice(b"null");
                    }
                    part.end_row();
                }
                return;
            }
            if let Some(plain) = &plain {
                if plain.write(store, rows, part) {
                    return;
                }
            }
            let cell = RefCell::new(std::mem::take(part));
            shape_rows_as(
                store,
                plan,
                rows,
                &|row| {
                    let mut p = cell.borrow_mut();
                    let value = shape_row(store, plan, row);
                    // Writing into a Vec cannot fail.
                    let _ = serde_json::to_writer(&mut p.text, &value);
                    p.end_row();
                },
                &|members| {
                    let mut p = cell.borrow_mut();
                    write_object(members, &mut p.text);
                    p.end_row();
                },
            );
            *part = cell.into_inner();
        };
        // Text rows allocate nothing per row, so cheap rows are worth sharing out too (as
        // values they are not: see `Results::cheap_rows`), in fewer, larger parts.
        let (parallel, part_rows) = if star || !r.cheap_rows {
            (batch.len() > 64, 256)
        } else if plain.is_some() {
            let threads = rayon::current_num_threads().max(1);
            (batch.len() >= 512, batch.len().div_ceil(threads))
        } else {
            (false, batch.len())
        };
        let chunks: Vec<&[u32]> = if parallel {
            batch.chunks(part_rows).collect()
        } else {
            vec![&batch[..]]
        };
        if self.parts.len() < chunks.len() {
            self.parts.resize_with(chunks.len(), Part::default);
        }
        let (used, rest) = self.parts.split_at_mut(chunks.len());
        for p in rest {
            p.text.clear();
            p.ends.clear();
        }
        if parallel {
            used.par_iter_mut()
                .zip(chunks.par_iter())
                .for_each(|(p, rows)| shape(p, rows));
        } else {
            shape(&mut used[0], &batch);
        }
        self.part = 0;
        self.row = 0;
        true
    }
}

impl Iterator for JsonRows<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        self.next_row().map(str::to_owned)
    }
}

/// A select list of plain paths, each to one column (the usual case: one spelling in the
/// data), written column by column straight from the columns' values: no [`Val`], no member
/// iterator, each output key written once per select list instead of once per row.
struct PlainColumns<'s> {
    /// Each item's column and its key as JSON text with the colon (`"deviceId":`).
    items: Vec<(&'s Column, Vec<u8>)>,
    /// The plan's irregular rows.
    view: View,
}

impl<'s> PlainColumns<'s> {
    /// `None` when the select list is anything else, or when two items' keys are equal (then
    /// the member path's map decides which value a key keeps).
    fn new(store: &'s Store, plan: &Plan) -> Option<PlainColumns<'s>> {
        let Shape::Rows(items) = &plan.shape else {
            return None;
        };
        let mut out: Vec<(&Column, Vec<u8>)> = Vec::with_capacity(items.len());
        for item in items {
            let (OutKey::Spelled(..), BExpr::Path(p)) = (&item.key, &item.expr) else {
                return None;
            };
            let bp = &plan.paths[*p];
            let ([c], false, true) = (bp.columns.as_slice(), bp.has_tail(), bp.head > 0) else {
                return None;
            };
            let col = store.column(*c);
            // The key is the data's spelling of the last name, as the member path gives it.
            let name = col.segments().get(bp.head - 1)?;
            let mut key = Vec::with_capacity(name.len() + 3);
            crate::ingest::normalise::write_str(name, &mut key);
            key.push(b':');
            if out.iter().any(|(_, k)| *k == key) {
                return None;
            }
            out.push((col, key));
        }
        Some(PlainColumns {
            items: out,
            view: plan.view,
        })
    }

    /// Writes `rows` into `part`; `false` (nothing written) when one of them has keys that
    /// collide by case, which the member path reads from the whole twin.
    fn write(&self, store: &Store, rows: &[u32], part: &mut Part) -> bool {
        let irregular = store.irregular_in(self.view);
        if !irregular.is_empty() && rows.iter().any(|&r| irregular.contains(r)) {
            return false;
        }
        let out = &mut part.text;
        for &row in rows {
            let open = out.len();
            out.push(b'{');
            for (col, key) in &self.items {
                let Some(slot) = col.slot(row) else { continue };
                let start = out.len();
                if start > open + 1 {
                    out.push(b',');
                }
                out.extend_from_slice(key);
                // Strings as bytes: `next_row` checks each row's text is UTF-8 anyway.
                if let Some(s) = col.string_bytes_at(slot) {
                    write_str_bytes(s, out);
                } else if !write_value(store, col, row, col.value_at(slot), out) {
                    out.truncate(start);
                }
            }
            out.push(b'}');
            part.ends.push(out.len());
        }
        true
    }
}

/// Writes one column value that is not a plain string as JSON: its [`eval::column_val`]'s
/// text, except that a packed timestamp's text is written from the stack (the value would
/// own a copy); `false` when it is undefined.
fn write_value(store: &Store, col: &Column, row: u32, v: ValueRef<'_>, out: &mut Vec<u8>) -> bool {
    match v {
        ValueRef::Time(t) => {
            write_str(&t.text(), out);
            true
        }
        _ => eval::column_val(store, col, row, v).write_json(out),
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
