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
//! The members of `properties.desired.$metadata` and `.reported.$metadata` may have been
//! deferred by the load ([`crate::ingest::LoadOptions::defer_metadata`]): their columns are
//! then built on first use — when [`Store::columns_for`] is asked for a path inside one, when
//! every column is listed ([`Store::columns`]), or by [`Store::decode_deferred`] — and added
//! after the load's columns, with the rows they make irregular. Until then
//! [`Store::irregular`] lists the rows irregular outside them, which is what every query that
//! reads no such path needs.
//!
//! The full twin of a row (for `SELECT *`) is rebuilt from the record's bytes, which the store
//! keeps addressable (a range of the mapped input) rather than copying; a store opened from a
//! snapshot reads it from the snapshot's compressed twin blocks instead.
//!
//! Typed vectors are `Buf`s: owned after a load, views into the memory map after a snapshot
//! is opened. Parts that a snapshot keeps encoded (bitmaps, dictionaries) are decoded, and
//! every snapshot byte verified, on first use; [`Store::prepare`] does it up front and reports
//! corruption as an error (the planner calls it for every query).

mod buf;
mod column;
mod timestamp;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use roaring::RoaringBitmap;

pub(crate) use buf::{Backing, Buf};
pub use column::{
    merge_column, Column, ColumnAssembler, ColumnBuilder, Kind, Num, ValueRef, KINDS,
};
pub(crate) use column::{
    same_bytes, ColumnSource, Decoded, FastMap, FastSet, Kinds, Payloads, RankIndex,
};
pub use timestamp::{TimeText, Timestamp};

use crate::error::LoadError;
use crate::ingest::{Deferral, MetadataColumns};
use crate::source::SourceFile;

/// Where a row's record lives: a byte range of one of the store's inputs.
///
/// `repr(C)` without padding, so that a snapshot's row table is viewed in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct RowSource {
    pub file: u32,
    pub len: u32,
    pub offset: u64,
}

/// Identifies a column within its store.
pub type ColumnId = u32;

/// Where full twins come from.
pub(crate) enum Twins {
    /// Re-parsed from the record bytes of the inputs.
    Inputs(Arc<Vec<SourceFile>>),
    /// Read from a snapshot's twin blocks.
    Snapshot(Box<dyn SnapshotTwins>),
}

/// The twins (and provenance) of a store opened from a snapshot, implemented by
/// [`crate::snapshot`]. Errors are reasons; the store adds the file name.
pub(crate) trait SnapshotTwins: Send + Sync {
    /// The snapshot's file name.
    fn file(&self) -> &str;
    /// The names of the inputs the snapshot was made from (what [`RowSource::file`] indexes).
    fn input_names(&self) -> &[String];
    /// Calls `f` with the compact JSON text of a row's normalised twin.
    fn with_twin_text(&self, row: u32, f: &mut dyn FnMut(&[u8])) -> Result<(), String>;
    /// Verifies the blocks holding `rows` (every block when `None`), once.
    fn verify_twins(&self, rows: Option<&RoaringBitmap>) -> Result<(), String>;
    /// Verifies the row table, once.
    fn verify_rows(&self) -> Result<(), String>;
    /// Snapshot bytes held in memory rather than mapped.
    fn owned_bytes(&self) -> usize;
}

/// An immutable, `Send + Sync` columnar store of twins.
pub struct Store {
    pub(crate) twins: Twins,
    pub(crate) rows: Buf<RowSource>,
    pub(crate) modules: RoaringBitmap,
    /// The load's columns; deferred ones follow them once built.
    columns: Vec<Column>,
    /// The load's irregular rows, per-path spellings and collections.
    loaded: Catalog,
    /// `$metadata` members the load deferred, and their columns once built.
    deferred: Option<(Deferral, OnceLock<Deferred>)>,
}

/// What lookups and the executor read of the store's rows and columns.
struct Catalog {
    irregular: RoaringBitmap,
    /// Lower-cased path segments → every column spelled that way.
    by_lower: HashMap<Vec<String>, Vec<ColumnId>>,
    /// Per collection (devices, modules): all its rows, and those that are not irregular.
    collections: [(RoaringBitmap, RoaringBitmap); 2],
}

impl Catalog {
    fn new(modules: &RoaringBitmap, rows: u32, irregular: RoaringBitmap) -> Catalog {
        let mut devices = crate::index::all_rows(rows);
        devices -= modules;
        let collections = [
            (devices.clone(), devices - &irregular),
            (modules.clone(), modules - &irregular),
        ];
        Catalog {
            irregular,
            by_lower: HashMap::new(),
            collections,
        }
    }

    /// Adds columns to the lookup, numbered from `first`.
    fn add<'a>(&mut self, first: usize, columns: impl Iterator<Item = &'a Column>) {
        for (i, c) in columns.enumerate() {
            let key = c.segments().iter().map(|s| s.to_lowercase()).collect();
            self.by_lower
                .entry(key)
                .or_default()
                .push((first + i) as ColumnId);
        }
    }
}

/// Deferred columns, built.
struct Deferred {
    columns: Vec<Column>,
    /// Of the whole store (the load's columns and these).
    catalog: Catalog,
}

/// Every column of a store: the load's, then those built on demand.
#[derive(Clone, Copy)]
pub struct Columns<'a> {
    loaded: &'a [Column],
    deferred: &'a [Column],
}

impl<'a> Columns<'a> {
    pub fn len(&self) -> usize {
        self.loaded.len() + self.deferred.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The columns in [`ColumnId`] order.
    pub fn iter(
        &self,
    ) -> std::iter::Chain<std::slice::Iter<'a, Column>, std::slice::Iter<'a, Column>> {
        self.loaded.iter().chain(self.deferred)
    }

    pub fn get(&self, id: ColumnId) -> Option<&'a Column> {
        let i = id as usize;
        match i.checked_sub(self.loaded.len()) {
            None => self.loaded.get(i),
            Some(j) => self.deferred.get(j),
        }
    }
}

impl<'a> IntoIterator for Columns<'a> {
    type Item = &'a Column;
    type IntoIter = std::iter::Chain<std::slice::Iter<'a, Column>, std::slice::Iter<'a, Column>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Which rows a query treats as irregular, pinned when it is planned: a query that reads
/// no deferred column must not see the irregular rows their building adds half-way through
/// (another thread may build them meanwhile), or a row could be read both from columns and
/// from its twin, or from neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The load's irregular rows: right for paths outside deferred objects.
    Loaded,
    /// Those and the rows irregular inside deferred objects, once built (a query reading
    /// them built them when it was planned).
    Built,
}

/// Whether lower-cased path segments lie inside a section's `$metadata`, where columns may
/// be deferred.
fn in_metadata(lower: &[String]) -> bool {
    lower.len() > 3
        && lower[0] == "properties"
        && matches!(lower[1].as_str(), "desired" | "reported")
        && lower[2] == "$metadata"
}

impl Store {
    pub(crate) fn new(
        files: Arc<Vec<SourceFile>>,
        rows: Vec<RowSource>,
        modules: RoaringBitmap,
        irregular: RoaringBitmap,
        columns: Vec<Column>,
        deferral: Option<Deferral>,
    ) -> Store {
        let mut store = Store::with_twins(
            Twins::Inputs(files),
            rows.into(),
            modules,
            irregular,
            columns,
        );
        store.deferred = deferral.map(|d| (d, OnceLock::new()));
        store
    }

    pub(crate) fn with_twins(
        twins: Twins,
        rows: Buf<RowSource>,
        modules: RoaringBitmap,
        irregular: RoaringBitmap,
        columns: Vec<Column>,
    ) -> Store {
        let mut loaded = Catalog::new(&modules, rows.len() as u32, irregular);
        loaded.add(0, columns.iter());
        Store {
            twins,
            rows,
            modules,
            columns,
            loaded,
            deferred: None,
        }
    }

    /// Builds the columns the load deferred (`$metadata` members), if it deferred any and
    /// they are not built yet: a pass over those objects in the inputs (about half as long as
    /// the load). Queries do it when they first read such a path; this does it ahead of time.
    pub fn decode_deferred(&self) {
        self.deferred_columns();
    }

    /// Whether the load deferred columns that are not built yet.
    pub fn has_deferred(&self) -> bool {
        self.deferred
            .as_ref()
            .is_some_and(|(_, cell)| cell.get().is_none())
    }

    fn deferred_columns(&self) -> Option<&Deferred> {
        let (deferral, cell) = self.deferred.as_ref()?;
        // Only a load defers columns, and it reads its inputs.
        let Twins::Inputs(files) = &self.twins else {
            return None;
        };
        Some(cell.get_or_init(|| {
            let MetadataColumns { columns, irregular } = deferral.columnise(files, &self.rows);
            let irregular = irregular | &self.loaded.irregular;
            let mut catalog = Catalog::new(&self.modules, self.len(), irregular);
            catalog.add(0, self.columns.iter());
            catalog.add(self.columns.len(), columns.iter());
            Deferred { columns, catalog }
        }))
    }

    /// The catalog of what is built so far.
    fn catalog(&self) -> &Catalog {
        match &self.deferred {
            Some((_, cell)) => cell.get().map_or(&self.loaded, |d| &d.catalog),
            None => &self.loaded,
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
        crate::index::all_rows(self.len())
    }

    /// Rows that are module twins (they have `moduleId`).
    pub fn modules(&self) -> &RoaringBitmap {
        &self.modules
    }

    /// A collection's rows, and those of them that are regular (no keys colliding by case).
    pub fn collection_rows(&self, c: crate::sql::Collection) -> (&RoaringBitmap, &RoaringBitmap) {
        self.collection_rows_in(c, View::Built)
    }

    /// Rows whose record has keys that differ only by case within one object — of the
    /// objects whose columns are built: keys colliding inside a deferred `$metadata` are
    /// found when its columns are.
    pub fn irregular(&self) -> &RoaringBitmap {
        self.irregular_in(View::Built)
    }

    /// [`Store::irregular`] as a query planned for `view` sees it.
    pub fn irregular_in(&self, view: View) -> &RoaringBitmap {
        &self.catalog_in(view).irregular
    }

    /// [`Store::collection_rows`] as a query planned for `view` sees them.
    pub fn collection_rows_in(
        &self,
        c: crate::sql::Collection,
        view: View,
    ) -> (&RoaringBitmap, &RoaringBitmap) {
        let (all, regular) = &self.catalog_in(view).collections[match c {
            crate::sql::Collection::Devices => 0,
            crate::sql::Collection::Modules => 1,
        }];
        (all, regular)
    }

    fn catalog_in(&self, view: View) -> &Catalog {
        match view {
            View::Loaded => &self.loaded,
            View::Built => self.catalog(),
        }
    }

    /// The view a query reading `segments` needs: [`View::Built`] for a path where columns
    /// may be deferred (whose lookup builds them).
    pub fn view_for<S: AsRef<str>>(&self, segments: &[S]) -> View {
        let key: Vec<String> = segments.iter().map(|s| s.as_ref().to_lowercase()).collect();
        if self.deferred.is_some() && in_metadata(&key) {
            View::Built
        } else {
            View::Loaded
        }
    }

    /// Every column, building deferred ones first.
    pub fn columns(&self) -> Columns<'_> {
        Columns {
            loaded: &self.columns,
            deferred: self.deferred_columns().map_or(&[], |d| &d.columns),
        }
    }

    /// The columns built so far: the load's, and deferred ones if they have been built.
    pub fn built_columns(&self) -> Columns<'_> {
        Columns {
            loaded: &self.columns,
            deferred: self
                .deferred
                .as_ref()
                .and_then(|(_, cell)| cell.get())
                .map_or(&[], |d| &d.columns),
        }
    }

    /// A column by id (ids come from [`Store::columns_for`] or [`Store::columns`]).
    pub fn column(&self, id: ColumnId) -> &Column {
        match self.built_columns().get(id) {
            Some(c) => c,
            None => panic!("column {id} is not in this store"),
        }
    }

    /// Every column whose path equals `segments` ignoring case (SPEC §2.1, §4.1); builds
    /// deferred columns first when the path lies where they are.
    pub fn columns_for<S: AsRef<str>>(&self, segments: &[S]) -> &[ColumnId] {
        let key: Vec<String> = segments.iter().map(|s| s.as_ref().to_lowercase()).collect();
        if in_metadata(&key) {
            self.deferred_columns();
        }
        self.catalog().by_lower.get(&key).map_or(&[], Vec::as_slice)
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

    /// The input name and byte range of a row's record; `None` for a row out of range, or
    /// when a snapshot's row table fails its checksum.
    pub fn row_source(&self, row: u32) -> Option<(&str, RowSource)> {
        let src = *self.rows.get(row as usize)?;
        let name = match &self.twins {
            Twins::Inputs(files) => &files.get(src.file as usize)?.name,
            Twins::Snapshot(s) => {
                s.verify_rows().ok()?;
                s.input_names().get(src.file as usize)?
            }
        };
        Some((name, src))
    }

    /// The full normalised twin of a row (SPEC §1.2, key order of §2.4), secrets removed.
    ///
    /// Fails if an input changed on disk after it was loaded, or if the snapshot the store
    /// was opened from is corrupt where the row's twin is kept.
    pub fn twin(&self, row: u32) -> Result<serde_json::Value, LoadError> {
        self.with_record(row, crate::ingest::twin_from_bytes)
    }

    /// Appends the row's twin to `out` as compact JSON text: the bytes serializing
    /// [`Store::twin`] gives, written without building the value (`SELECT *` output).
    pub fn twin_text(&self, row: u32, out: &mut Vec<u8>) -> Result<(), LoadError> {
        self.with_record(row, |raw| crate::ingest::twin_text_from_bytes(raw, out))
    }

    /// Applies `read` to the bytes a row's twin is read from: its input record, or the
    /// normalised twin text a snapshot keeps (which normalises to itself, so the same readers
    /// apply).
    fn with_record<T>(
        &self,
        row: u32,
        mut read: impl FnMut(&[u8]) -> Result<T, String>,
    ) -> Result<T, LoadError> {
        let files = match &self.twins {
            Twins::Snapshot(s) => {
                let mut result = Err(String::new());
                let text = s.with_twin_text(row, &mut |text| {
                    result = read(text).map_err(|e| format!("twin of row {row}: {e}"));
                });
                return text.and(result).map_err(|reason| LoadError::Snapshot {
                    file: s.file().to_string(),
                    reason,
                });
            }
            Twins::Inputs(files) => files,
        };
        let changed = |file: &str, byte: u64, reason: String| LoadError::Record {
            at: crate::error::Location {
                file: file.to_string(),
                line: 0,
                byte,
            },
            reason: format!("record changed since it was loaded: {reason}"),
        };
        let Some((file, src, raw)) = Store::raw(files, &self.rows, row) else {
            return Err(changed("", 0, format!("no row {row}")));
        };
        read(raw).map_err(|reason| changed(&file.name, src.offset, reason))
    }

    /// The input, place and bytes of a row's record, for a store built from inputs.
    fn raw<'a>(
        files: &'a [SourceFile],
        rows: &[RowSource],
        row: u32,
    ) -> Option<(&'a SourceFile, RowSource, &'a [u8])> {
        let src = *rows.get(row as usize)?;
        let file = files.get(src.file as usize)?;
        let bytes: &[u8] = file;
        let start = usize::try_from(src.offset).ok()?;
        let raw = bytes.get(start..start.checked_add(src.len as usize)?)?;
        Some((file, src, raw))
    }

    /// Readies `columns` to be read, and the twins a query over them may read (all of them
    /// when `all_twins`, e.g. for `SELECT *`, or when a column holds objects, which are read
    /// from twins; else those of irregular rows). A store built by a load is always ready; a
    /// snapshot store decodes and verifies here what it has not yet, so that corruption is an
    /// error rather than a wrong answer.
    pub fn prepare(&self, columns: &[ColumnId], all_twins: bool) -> Result<(), LoadError> {
        let Twins::Snapshot(s) = &self.twins else {
            return Ok(());
        };
        let corrupt = |reason: String| LoadError::Snapshot {
            file: s.file().to_string(),
            reason,
        };
        let mut objects = false;
        for &id in columns {
            let Some(c) = self.columns.get(id as usize) else {
                // Deferred columns are built by a load, never from a snapshot.
                continue;
            };
            c.prepare()
                .map_err(|e| corrupt(format!("column '{}': {e}", c.dotted())))?;
            objects |= c.kind_counts()[Kind::Object as usize] > 0;
        }
        if all_twins || objects {
            s.verify_twins(None).map_err(corrupt)
        } else if !self.loaded.irregular.is_empty() {
            s.verify_twins(Some(&self.loaded.irregular))
                .map_err(corrupt)
        } else {
            Ok(())
        }
    }

    /// Verifies everything a snapshot store has not verified yet (every column, every twin
    /// block, the row table); a store built by a load has nothing to verify.
    pub fn verify(&self) -> Result<(), LoadError> {
        let Twins::Snapshot(s) = &self.twins else {
            return Ok(());
        };
        let ids: Vec<ColumnId> = (0..self.columns.len() as ColumnId).collect();
        ids.par_iter()
            .try_for_each(|&id| self.prepare(&[id], false))?;
        let corrupt = |reason: String| LoadError::Snapshot {
            file: s.file().to_string(),
            reason,
        };
        s.verify_rows().map_err(corrupt)?;
        s.verify_twins(None).map_err(corrupt)
    }

    /// The snapshot file this store was opened from, if it was.
    pub fn snapshot_file(&self) -> Option<&str> {
        match &self.twins {
            Twins::Snapshot(s) => Some(s.file()),
            Twins::Inputs(_) => None,
        }
    }

    /// The value at an exact (document-spelled) path of a row's twin, built from that subtree
    /// only; `None` when the path is not there (or the input changed since the load).
    pub fn subtree<S: AsRef<str>>(&self, row: u32, path: &[S]) -> Option<serde_json::Value> {
        match &self.twins {
            Twins::Inputs(files) => {
                let (_, _, raw) = Store::raw(files, &self.rows, row)?;
                crate::ingest::subtree_from_bytes(raw, path).ok().flatten()
            }
            // Twin text normalises to itself, so the subtree reader applies unchanged.
            Twins::Snapshot(s) => {
                let mut found = None;
                s.with_twin_text(row, &mut |text| {
                    found = crate::ingest::subtree_from_bytes(text, path).ok().flatten();
                })
                .ok()?;
                found
            }
        }
    }

    /// Bytes held by columns and indexes (excluding the inputs' mapped pages), deferred
    /// columns included once built (and until then where the deferred objects are).
    pub fn heap_bytes(&self) -> usize {
        let cols: usize = self.built_columns().iter().map(Column::heap_bytes).sum();
        let deferral = match &self.deferred {
            Some((d, cell)) if cell.get().is_none() => d.heap_bytes(),
            _ => 0,
        };
        cols + deferral
            + self.rows.heap_bytes()
            + self.modules.serialized_size()
            + self.irregular().serialized_size()
    }

    /// Bytes of inputs held in memory rather than mapped (decompressed `.gz`, standard input).
    pub fn owned_input_bytes(&self) -> usize {
        match &self.twins {
            Twins::Inputs(files) => files
                .iter()
                .filter(|f| !f.is_mapped())
                .map(|f| f.len())
                .sum(),
            Twins::Snapshot(s) => s.owned_bytes(),
        }
    }
}
