//! [`Fleet`]: a loaded, immutable, `Send + Sync` set of twins, the entry point of the library.

use crate::error::LoadError;
use crate::ingest::{self, LoadOptions, LoadReport};
use crate::source::SourceFile;
use crate::exec::Results;
use crate::sql::QueryError;
use crate::store::Store;

/// Twins loaded from one or more inputs, with their columns and indexes.
pub struct Fleet {
    store: Store,
    report: LoadReport,
}

impl Fleet {
    /// Loads inputs by path (`-` is standard input) with default options: lenient, counting
    /// skipped records and content-rule findings in [`Fleet::report`].
    pub fn load<S: AsRef<str>>(paths: &[S]) -> Result<Fleet, LoadError> {
        Fleet::load_with(paths, &LoadOptions::default())
    }

    pub fn load_with<S: AsRef<str>>(paths: &[S], opts: &LoadOptions) -> Result<Fleet, LoadError> {
        let (store, report) = ingest::load_paths(paths, opts)?;
        Ok(Fleet { store, report })
    }

    /// Loads in-memory inputs, as (name, bytes) pairs; gzip is detected by its magic bytes.
    pub fn from_bytes(
        inputs: Vec<(String, Vec<u8>)>,
        opts: &LoadOptions,
    ) -> Result<Fleet, LoadError> {
        let files = inputs
            .into_iter()
            .map(|(name, bytes)| SourceFile::from_bytes(&name, bytes))
            .collect::<Result<Vec<_>, _>>()?;
        let (store, report) = ingest::load_files(files, opts)?;
        Ok(Fleet { store, report })
    }

    /// Runs a query; results stream in order as the iterator is pulled.
    pub fn query(&self, sql: &str) -> Result<Results<'_>, QueryError> {
        let query = crate::sql::parse(sql)?;
        let plan = crate::plan::plan(&query, &self.store)?;
        Ok(crate::exec::execute(&self.store, plan))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn report(&self) -> &LoadReport {
        &self.report
    }
}
