//! The immutable columnar store.
//!
//! Every row is one twin (device or module). Every member path that occurs in any twin
//! (`status`, `tags.location.region`, `properties.reported.$metadata.battery.$lastUpdated`, ...)
//! has a [`Column`] keyed by its exact spelling; objects and arrays have columns too (objects
//! as a presence marker, arrays as compact JSON text), so that `IS_DEFINED`, `IS_OBJECT` and
//! projections of whole arrays need no reparse. Lookups by path are case-insensitive through
//! [`Store::columns_for`], which returns every spelling of a path.
//!
//! A record that has two keys differing only by case in one object is *irregular*: the
//! winner then depends on how the query spells the path (SPEC §2.1), which columns cannot
//! express. Such rows are listed in [`Store::irregular`] and the executor evaluates them
//! from their full twin instead of from columns and bitmaps.
//!
//! The full twin of a row (for `SELECT *`) is rebuilt from the record's bytes, which the store
//! keeps addressable (a range of the mapped input) rather than copying.

mod column;
mod timestamp;

use std::collections::HashMap;
use std::sync::Arc;

use roaring::RoaringBitmap;

pub use column::{merge_column, Column, ColumnBuilder, Kind, Num, ValueRef, KINDS};
pub use timestamp::{TimeText, Timestamp};

use crate::error::LoadError;
use crate::source::SourceFile;

/// Where a row's record lives: a byte range of one of the store's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSource {
    pub file: u32,
    pub len: u32,
    pub offset: u64,
}

/// Identifies a column within its store.
pub type ColumnId = u32;

/// An immutable, `Send + Sync` columnar store of twins.
pub struct Store {
    pub(crate) files: Arc<Vec<SourceFile>>,
    pub(crate) rows: Vec<RowSource>,
    pub(crate) modules: RoaringBitmap,
    pub(crate) irregular: RoaringBitmap,
    pub(crate) columns: Vec<Column>,
    /// Lower-cased path segments → every column spelled that way.
    pub(crate) by_lower: HashMap<Vec<String>, Vec<ColumnId>>,
    /// Per collection (devices, modules): all its rows, and those that are not irregular.
    collections: [(RoaringBitmap, RoaringBitmap); 2],
}

impl Store {
    pub(crate) fn new(
        files: Arc<Vec<SourceFile>>,
        rows: Vec<RowSource>,
        modules: RoaringBitmap,
        irregular: RoaringBitmap,
        columns: Vec<Column>,
    ) -> Store {
        let mut by_lower: HashMap<Vec<String>, Vec<ColumnId>> = HashMap::new();
        for (i, c) in columns.iter().enumerate() {
            let key = c.segments().iter().map(|s| s.to_lowercase()).collect();
            by_lower.entry(key).or_default().push(i as ColumnId);
        }
        let mut devices = RoaringBitmap::new();
        devices.insert_range(0..rows.len() as u32);
        devices -= &modules;
        let collections = [
            (devices.clone(), devices - &irregular),
            (modules.clone(), &modules - &irregular),
        ];
        Store {
            files,
            rows,
            modules,
            irregular,
            columns,
            by_lower,
            collections,
        }
    }

    /// Number of rows (twins).
    pub fn len(&self) -> u32 {
        self.rows.len() as u32
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Every row id.
    pub fn all_rows(&self) -> RoaringBitmap {
        let mut b = RoaringBitmap::new();
        b.insert_range(0..self.len());
        b
    }

    /// Rows that are module twins (they have `moduleId`).
    pub fn modules(&self) -> &RoaringBitmap {
        &self.modules
    }

    /// A collection's rows, and those of them that are regular (no keys colliding by case).
    pub fn collection_rows(&self, c: crate::sql::Collection) -> (&RoaringBitmap, &RoaringBitmap) {
        let (all, regular) = match c {
            crate::sql::Collection::Devices => &self.collections[0],
            crate::sql::Collection::Modules => &self.collections[1],
        };
        (all, regular)
    }

    /// Rows whose record has keys that differ only by case within one object.
    pub fn irregular(&self) -> &RoaringBitmap {
        &self.irregular
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn column(&self, id: ColumnId) -> &Column {
        &self.columns[id as usize]
    }

    /// Every column whose path equals `segments` ignoring case (SPEC §2.1, §4.1).
    pub fn columns_for<S: AsRef<str>>(&self, segments: &[S]) -> &[ColumnId] {
        let key: Vec<String> = segments.iter().map(|s| s.as_ref().to_lowercase()).collect();
        self.by_lower.get(&key).map_or(&[], Vec::as_slice)
    }

    /// The column spelled exactly so, if any.
    pub fn column_exact<S: AsRef<str>>(&self, segments: &[S]) -> Option<&Column> {
        self.columns_for(segments)
            .iter()
            .map(|&id| self.column(id))
            .find(|c| {
                c.segments().len() == segments.len()
                    && c.segments()
                        .iter()
                        .zip(segments)
                        .all(|(a, b)| &**a == b.as_ref())
            })
    }

    /// The input name and byte range of a row's record.
    pub fn row_source(&self, row: u32) -> (&str, RowSource) {
        let src = self.rows[row as usize];
        (&self.files[src.file as usize].name, src)
    }

    /// The raw bytes of a row's record as read from its input.
    pub(crate) fn raw(&self, row: u32) -> &[u8] {
        let src = self.rows[row as usize];
        let bytes: &[u8] = &self.files[src.file as usize];
        let start = src.offset as usize;
        &bytes[start..start + src.len as usize]
    }

    /// The full normalised twin of a row (SPEC §1.2, key order of §2.4), secrets removed.
    ///
    /// Fails only if an input changed on disk after it was loaded.
    pub fn twin(&self, row: u32) -> Result<serde_json::Value, LoadError> {
        crate::ingest::twin_from_bytes(self.raw(row)).map_err(|reason| {
            let (file, src) = self.row_source(row);
            LoadError::Record {
                at: crate::error::Location {
                    file: file.to_string(),
                    line: 0,
                    byte: src.offset,
                },
                reason: format!("record changed since it was loaded: {reason}"),
            }
        })
    }

    /// The value at an exact (document-spelled) path of a row's twin, built from that subtree
    /// only; `None` when the path is not there (or the input changed since the load).
    pub fn subtree<S: AsRef<str>>(&self, row: u32, path: &[S]) -> Option<serde_json::Value> {
        crate::ingest::subtree_from_bytes(self.raw(row), path)
            .ok()
            .flatten()
    }

    /// Bytes held by columns and indexes (excluding the inputs' mapped pages).
    pub fn heap_bytes(&self) -> usize {
        let cols: usize = self.columns.iter().map(Column::heap_bytes).sum();
        cols + self.rows.capacity() * std::mem::size_of::<RowSource>()
            + self.modules.serialized_size()
            + self.irregular.serialized_size()
    }

    /// Bytes of inputs held in memory rather than mapped (decompressed `.gz`, standard input).
    pub fn owned_input_bytes(&self) -> usize {
        self.files
            .iter()
            .filter(|f| !f.is_mapped())
            .map(|f| f.len())
            .sum()
    }
}
