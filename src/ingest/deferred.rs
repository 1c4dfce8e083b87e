//! `$metadata` members columnised on demand.
//!
//! By default a load reads `properties.desired.$metadata` and `properties.reported.$metadata`
//! only as JSON ([`Metadata::Deferred`]): checked like the rest of the record, the object
//! itself marked present, its members not turned into columns. They are a third of an
//! export's bytes and a quarter of its values, and rarely queried (PERF-NOTES); building them
//! was ~15% of a load. The store keeps every row's record addressable anyway (for
//! `SELECT *`), and the load notes where the fast path found each deferred object
//! ([`MetadataSpan`]), so when a query first names a path inside one,
//! [`Deferral::columnise`] reads those objects again ([`Metadata::Alone`]: the same scanner,
//! keeping only their members' columns; records the tape path deferred, or whose objects the
//! scanner now declines, are read whole, by the tape when need be) and the store adds the
//! columns, their indexes and the rows found irregular inside them. The result is what a
//! load with `defer_metadata` off builds; the tests hold the two equal.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;
use roaring::RoaringBitmap;

use super::chunk::{ChunkBuilder, ChunkOutput, Metadata, MetadataSpan, PathCensus, RecordSpan};
use super::delivery;
use crate::source::SourceFile;
use crate::store::{Column, ColumnAssembler, RowSource};

/// How a load deferred its `$metadata` members: what reading them again needs.
#[derive(Debug)]
pub(crate) struct Deferral {
    pub fast_path: bool,
    pub max_paths: usize,
    pub chunk_bytes: usize,
    /// Where the deferred objects the fast path read are, in row order; freed when the
    /// columns are built.
    pub spans: Mutex<Vec<MetadataSpan>>,
    /// Rows whose deferred objects the tape path read: read whole.
    pub whole_rows: RoaringBitmap,
}

/// The deferred members' columns (indexed), and the rows they make irregular.
pub(crate) struct MetadataColumns {
    pub columns: Vec<Column>,
    /// Rows with keys colliding by case in what was read again (the deferred objects, or
    /// whole records), or whose records no longer read as they did at the load.
    pub irregular: RoaringBitmap,
}

impl Deferral {
    /// Reads the deferred objects again (whole records where need be) and builds the columns
    /// of their members.
    ///
    /// Never fails: a record that no longer reads as it did (its input changed on disk)
    /// becomes an irregular row, which queries answer from its twin, and reading the twin
    /// says what is wrong; more distinct paths than the load allows (possible only where a
    /// load without deferral would have failed) leaves no columns and every row irregular.
    pub(crate) fn columnise(&self, files: &[SourceFile], rows: &[RowSource]) -> MetadataColumns {
        let census = PathCensus::new(self.max_paths);
        // Freed once the columns are built, not before: a pass that did not finish (a panic)
        // must leave them for the next try.
        let mut held = self.spans.lock().unwrap_or_else(PoisonError::into_inner);
        let spans = &held[..];
        // Each task's output is appended soon after it is read, while others are read.
        let assembly = delivery::in_order(
            &tasks(rows, self.chunk_bytes),
            Assembly::default(),
            |task| {
                let base = task.start as u32;
                let first = spans.partition_point(|m| m.row < base);
                let last = spans.partition_point(|m| (m.row as usize) < task.end);
                let out = self.read_again(
                    files,
                    &rows[task.clone()],
                    base,
                    &spans[first..last],
                    &census,
                );
                (base, out)
            },
        );
        *held = Vec::new();
        drop(held);
        let total = rows.len() as u32;
        if census.exceeded() {
            return MetadataColumns {
                columns: Vec::new(),
                irregular: crate::index::all_rows(total),
            };
        }
        let Assembly {
            irregular, columns, ..
        } = assembly;
        let mut columns: Vec<Column> = columns.into_par_iter().map(|c| c.finish(total)).collect();
        crate::index::build_indexes(&mut columns);
        MetadataColumns { columns, irregular }
    }

    /// Bytes held until the columns are built (the spans).
    pub(crate) fn heap_bytes(&self) -> usize {
        let spans = self.spans.lock().unwrap_or_else(PoisonError::into_inner);
        spans.capacity() * std::mem::size_of::<MetadataSpan>() + self.whole_rows.serialized_size()
    }

    /// One task's rows (the first is row `base`), with the spans of its deferred objects:
    /// only those members kept.
    fn read_again(
        &self,
        files: &[SourceFile],
        rows: &[RowSource],
        base: u32,
        spans: &[MetadataSpan],
        census: &PathCensus,
    ) -> ChunkOutput {
        let file = rows.first().map_or(0, |r| r.file);
        let mut b = ChunkBuilder::new(file, 0, census, self.fast_path, Metadata::Alone);
        b.expect_rows(rows.len());
        let bytes: &[u8] = files.get(file as usize).map_or(&[], |f| f);
        let mut at = 0;
        for (row, r) in (base..).zip(rows) {
            let start = r.offset as usize;
            let span = RecordSpan {
                start,
                end: start.saturating_add(r.len as usize),
            };
            let first = at;
            while spans.get(at).is_some_and(|m| m.row == row) {
                at += 1;
            }
            let record = bytes.get(span.start..span.end);
            if b.stopped() {
                b.unreadable_row(span);
                continue;
            }
            if !self.whole_rows.contains(row) {
                if first == at {
                    b.empty_row(span);
                    continue;
                }
                if record.is_some_and(|r| b.add_metadata(r, &spans[first..at], span)) {
                    continue;
                }
            }
            let before = b.rows();
            if record.is_some() {
                b.add(bytes, span);
            }
            if b.rows() == before {
                b.unreadable_row(span);
            }
        }
        b.finish()
    }
}

/// The deferred columns under assembly: each task's output appended in row order.
#[derive(Default)]
struct Assembly {
    irregular: RoaringBitmap,
    path_ids: HashMap<Vec<Box<str>>, usize>,
    columns: Vec<ColumnAssembler>,
}

impl delivery::Append for Assembly {
    /// A task's first row and what it read.
    type Output = (u32, ChunkOutput);

    fn append(&mut self, (base, out): (u32, ChunkOutput)) {
        self.irregular
            .extend(out.irregular.iter().map(|r| r + base));
        for (path, builder) in out.columns {
            let id = match self.path_ids.get(&path) {
                Some(&id) => id,
                None => {
                    self.path_ids.insert(path.clone(), self.columns.len());
                    self.columns.push(ColumnAssembler::new(path));
                    self.columns.len() - 1
                }
            };
            self.columns[id].append(base, builder);
        }
    }
}

/// Consecutive rows of one input, about `chunk_bytes` of records each.
fn tasks(rows: &[RowSource], chunk_bytes: usize) -> Vec<Range<usize>> {
    let mut tasks = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, r) in rows.iter().enumerate() {
        if i > start && (r.file != rows[start].file || bytes >= chunk_bytes) {
            tasks.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += r.len as usize;
    }
    if start < rows.len() {
        tasks.push(start..rows.len());
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(file: u32, len: u32) -> RowSource {
        RowSource {
            file,
            len,
            offset: 0,
        }
    }

    #[test]
    fn tasks_keep_to_one_input_and_about_the_chunk_size() {
        let rows = [
            row(0, 5),
            row(0, 5),
            row(0, 5),
            row(1, 5),
            row(1, 20),
            row(1, 1),
        ];
        assert_eq!(tasks(&rows, 10), vec![0..2, 2..3, 3..5, 5..6]);
        assert_eq!(tasks(&rows, 1000), vec![0..3, 3..6]);
        assert!(tasks(&[], 10).is_empty());
    }
}
