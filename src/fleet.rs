//! [`Fleet`]: a loaded, immutable, `Send + Sync` set of twins, the entry point of the library.

use std::path::Path;
use std::sync::Arc;

use crate::error::LoadError;
use crate::exec::{FilterReport, Results};
use crate::ingest::{self, LoadOptions, LoadReport};
use crate::snapshot::{self, OpenOptions, WriteOptions, WriteSummary};
use crate::source::SourceFile;
use crate::sql::QueryError;
use crate::store::{Backing, Store};

/// Twins loaded from one or more inputs, with their columns and indexes.
pub struct Fleet {
    store: Store,
    report: LoadReport,
}

impl Fleet {
    /// Loads inputs by path (`-` is standard input) with default options: lenient, counting
    /// skipped records and content-rule findings in [`Fleet::report`].
    ///
    /// An input that is a snapshot (recognised by its magic bytes, whatever its name) is
    /// opened instead, as [`Fleet::open`] does; a snapshot is a whole fleet, so it must be the
    /// only input.
    pub fn load<S: AsRef<str>>(paths: &[S]) -> Result<Fleet, LoadError> {
        Fleet::load_with(paths, &LoadOptions::default())
    }

    pub fn load_with<S: AsRef<str>>(paths: &[S], opts: &LoadOptions) -> Result<Fleet, LoadError> {
        let names: Vec<&str> = paths.iter().map(AsRef::as_ref).collect();
        if let Some(snap) = names
            .iter()
            .find(|n| **n != "-" && snapshot::sniff(Path::new(n)))
        {
            only_input(snap, names.len())?;
            let open = OpenOptions {
                verify: opts.verify_snapshot,
            };
            return Fleet::open_with(snap, &open);
        }
        if names.is_empty() {
            return Err(LoadError::NoInput);
        }
        let files = names
            .iter()
            .map(|n| SourceFile::open(n))
            .collect::<Result<Vec<_>, _>>()?;
        Fleet::from_files(files, opts)
    }

    /// Loads in-memory inputs, as (name, bytes) pairs; gzip is detected by its magic bytes,
    /// and so is a snapshot (copied into aligned memory, then opened).
    pub fn from_bytes(
        inputs: Vec<(String, Vec<u8>)>,
        opts: &LoadOptions,
    ) -> Result<Fleet, LoadError> {
        let files = inputs
            .into_iter()
            .map(|(name, bytes)| SourceFile::from_bytes(&name, bytes))
            .collect::<Result<Vec<_>, _>>()?;
        Fleet::from_files(files, opts)
    }

    /// Loads opened inputs: JSON, or one snapshot read into memory (standard input, `.gz`).
    fn from_files(files: Vec<SourceFile>, opts: &LoadOptions) -> Result<Fleet, LoadError> {
        if let Some(snap) = files.iter().find(|f| snapshot::is_snapshot(f)) {
            only_input(&snap.name, files.len())?;
            let open = OpenOptions {
                verify: opts.verify_snapshot,
            };
            return Fleet::open_bytes(&snap.name, snap, &open);
        }
        let (store, report) = ingest::load_files(files, opts)?;
        Ok(Fleet { store, report })
    }

    /// Opens a snapshot written by [`Fleet::write_snapshot`] (or `twindex index`): the file is
    /// memory-mapped and its columns are used in place, so opening takes about the same time
    /// whatever the fleet's size; each column is verified and decoded on first use. The fleet
    /// answers queries exactly as the load that made the snapshot did.
    ///
    /// The file must not be modified while the fleet is alive (the usual contract of tools
    /// that map their input): a snapshot replaced by twindex (written aside and renamed) is
    /// fine, an editor rewriting it in place is not.
    pub fn open<P: AsRef<Path>>(path: P) -> Result<Fleet, LoadError> {
        Fleet::open_with(path, &OpenOptions::default())
    }

    pub fn open_with<P: AsRef<Path>>(path: P, opts: &OpenOptions) -> Result<Fleet, LoadError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        // SAFETY: `map`'s contract (the file is not changed while mapped) is passed on to the
        // caller in this function's documentation, as ripgrep does for its inputs and twindex
        // does for mapped JSON inputs; twindex never writes a file in place (snapshots are
        // written aside and renamed), and every read of the map is bounds-checked.
        let backing = unsafe { snapshot::map(&name, path) }?;
        let (store, report) = snapshot::open(&name, backing, opts)?;
        Ok(Fleet { store, report })
    }

    /// Opens a snapshot held in memory (copied into aligned memory first); `name` is used in
    /// errors.
    pub fn open_bytes(name: &str, bytes: &[u8], opts: &OpenOptions) -> Result<Fleet, LoadError> {
        let backing = Arc::new(Backing::copy_of(bytes));
        let (store, report) = snapshot::open(name, backing, opts)?;
        Ok(Fleet { store, report })
    }

    /// Writes the fleet as a snapshot, atomically (a temporary file next to `path`, synced,
    /// then renamed over it).
    pub fn write_snapshot<P: AsRef<Path>>(&self, path: P) -> Result<WriteSummary, LoadError> {
        self.write_snapshot_with(path, &WriteOptions::default())
    }

    pub fn write_snapshot_with<P: AsRef<Path>>(
        &self,
        path: P,
        opts: &WriteOptions,
    ) -> Result<WriteSummary, LoadError> {
        snapshot::write(&self.store, &self.report, path.as_ref(), opts)
    }

    /// Runs a query; results stream in order as the iterator is pulled, as
    /// `serde_json::Value`s, or as compact JSON text with [`Results::json`] (several times
    /// faster for `SELECT *`, whose twins are then written straight from their records):
    ///
    /// ```
    /// let input = br#"{"deviceId":"d1","tags":{"x":1}}"#.to_vec();
    /// let fleet = twindex::Fleet::from_bytes(vec![("t.jsonl".into(), input)], &Default::default())?;
    /// let rows: Vec<String> = fleet.query("SELECT * FROM devices")?.json().collect();
    /// assert_eq!(rows, [r#"{"deviceId":"d1","tags":{"x":1}}"#]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn query(&self, sql: &str) -> Result<Results<'_>, QueryError> {
        let query = crate::sql::parse(sql)?;
        let plan = crate::plan::plan(&query, &self.store)?;
        Ok(crate::exec::execute(&self.store, plan))
    }

    /// One page of a query's results, like the service's paged query API: at most
    /// `page_size` results starting where `continuation` (from the previous page) says, and
    /// the token for the next page when there is one. A token only fits the query it came
    /// from; the fleet is immutable, so pages never shift under the reader.
    pub fn query_page(
        &self,
        sql: &str,
        page_size: usize,
        continuation: Option<&str>,
    ) -> Result<Page, QueryError> {
        let start = match continuation {
            None => 0,
            Some(token) => parse_token(token, sql).ok_or_else(|| {
                QueryError::new(
                    "the continuation token does not belong to this query",
                    crate::sql::Span::new(0, sql.len()),
                )
            })?,
        };
        let mut rows = self.query(sql)?.skip(start);
        let items: Vec<serde_json::Value> = rows.by_ref().take(page_size.max(1)).collect();
        let next = start + items.len();
        let continuation = rows.next().map(|_| make_token(next, sql));
        Ok(Page {
            items,
            continuation,
        })
    }

    /// Describes how a query would run (which conditions bitmaps answer, what is evaluated
    /// row by row) with the row counts of actually filtering, without shaping any result.
    pub fn explain(&self, sql: &str) -> Result<Explain, QueryError> {
        let query = crate::sql::parse(sql)?;
        let plan = crate::plan::plan(&query, &self.store)?;
        let started = std::time::Instant::now();
        let (_, filter) = crate::exec::filter(&self.store, &plan);
        let filter_ms = started.elapsed().as_secs_f64() * 1000.0;
        let paths = plan
            .paths
            .iter()
            .map(|p| ExplainPath {
                path: p.display(),
                columns: p
                    .columns
                    .iter()
                    .map(|&c| self.store.column(c).dotted().to_string())
                    .collect(),
                indexed: !p.columns.is_empty()
                    && p.columns
                        .iter()
                        .all(|&c| self.store.column(c).index().is_some()),
                array_step: p.has_tail(),
            })
            .collect();
        let shape = match &plan.shape {
            crate::plan::Shape::Star => "rows: SELECT *".to_string(),
            crate::plan::Shape::Rows(items) => format!("rows: {} element(s)", items.len()),
            crate::plan::Shape::Groups { grouped: true, .. } => format!(
                "groups by {} key(s), {} aggregate(s)",
                plan.group_keys.len(),
                plan.aggregates.len()
            ),
            crate::plan::Shape::Groups { .. } => {
                format!("one group, {} aggregate(s)", plan.aggregates.len())
            }
        };
        Ok(Explain {
            query: query.to_string(),
            collection: match plan.collection {
                crate::sql::Collection::Devices => "devices",
                crate::sql::Collection::Modules => "devices.modules",
            },
            paths,
            filter,
            filter_ms,
            shape,
            order_terms: plan.order.len(),
            top: plan.top,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn report(&self) -> &LoadReport {
        &self.report
    }
}

/// What [`Fleet::explain`] tells about a query.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Explain {
    /// The query in canonical form.
    pub query: String,
    pub collection: &'static str,
    /// Every path the query reads: the columns it binds to and whether bitmaps index them.
    pub paths: Vec<ExplainPath>,
    /// How WHERE was answered, with the estimated (candidate) and actual row counts.
    pub filter: FilterReport,
    pub filter_ms: f64,
    /// What is produced from the matching rows.
    pub shape: String,
    pub order_terms: usize,
    pub top: Option<u64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ExplainPath {
    pub path: String,
    pub columns: Vec<String>,
    pub indexed: bool,
    pub array_step: bool,
}

/// A snapshot is a whole fleet: it cannot be merged with other inputs.
fn only_input(name: &str, inputs: usize) -> Result<(), LoadError> {
    if inputs == 1 {
        return Ok(());
    }
    Err(LoadError::Snapshot {
        file: name.to_string(),
        reason: "is a snapshot, which holds a whole fleet and cannot be combined with other \
                 inputs; open it alone, or load the JSON inputs it was made from together"
            .into(),
    })
}

/// A page of results from [`Fleet::query_page`].
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<serde_json::Value>,
    /// Pass to the next call for the following page; `None` on the last page.
    pub continuation: Option<String>,
}

/// FNV-1a of the query text, so that a token cannot be replayed against another query.
fn query_hash(sql: &str) -> u64 {
    sql.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn make_token(offset: usize, sql: &str) -> String {
    format!("v1.{offset:x}.{:016x}", query_hash(sql))
}

fn parse_token(token: &str, sql: &str) -> Option<usize> {
    let mut parts = token.split('.');
    let (v, offset, hash) = (parts.next()?, parts.next()?, parts.next()?);
    if v != "v1" || parts.next().is_some() || u64::from_str_radix(hash, 16).ok()? != query_hash(sql)
    {
        return None;
    }
    usize::from_str_radix(offset, 16).ok()
}
