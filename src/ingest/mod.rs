//! From input bytes to a [`Store`]: split every input into chunks of records, parse the chunks
//! in parallel (a one-pass scanner, simd-json tapes for what it declines), build per-chunk
//! column builders, and append them to the columns in chunk order as they finish, so that row
//! ids follow file order (files in the order given).

mod chunk;
mod deferred;
mod delivery;
pub(crate) mod normalise;
mod read_ahead;
mod split;
mod validate;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use roaring::RoaringBitmap;

pub use chunk::MAX_JSON_DEPTH;
pub(crate) use split::array_scans_agree;
pub use validate::{Finding, Rule};

use crate::error::{LoadError, Location};
use crate::source::{strip_bom, SourceFile};
use crate::store::{Column, ColumnAssembler, RowSource, Store};
use chunk::{ChunkBuilder, ChunkOutput, Metadata, MetadataSpan, PathCensus, RecordSpan};
pub(crate) use deferred::{Deferral, MetadataColumns};
use read_ahead::ReadAhead;

/// A record larger than this is skipped (and reported) instead of parsed: the largest twin the
/// service allows is under 100 KB, and a runaway line must not take the machine's memory.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// A load whose inputs hold more distinct member paths than this fails with
/// [`LoadError::TooManyPaths`]: twindex keeps a column per path, and an input with a fresh key
/// in every record would otherwise grow columns until memory runs out. Real fleets have
/// hundreds to a few thousand paths; at the limit the columns' bookkeeping alone is a few
/// hundred MB.
pub const MAX_PATHS: usize = 1_000_000;

/// How to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Fail on the first skipped record or content-rule violation instead of counting it.
    pub strict: bool,
    /// How many findings to keep with their location (all are counted).
    pub keep_findings: usize,
    /// Target size of a parallel work unit.
    pub chunk_bytes: usize,
    /// Bytes parsed so far, added to as chunks finish (for a progress bar on another thread).
    pub progress: Option<Arc<AtomicU64>>,
    /// When the input is a snapshot: verify every checksum at open instead of on first use.
    pub verify_snapshot: bool,
    /// Distinct member paths (columns) allowed in one load ([`MAX_PATHS`]).
    pub max_paths: usize,
    /// Bytes a `.gz` input may decompress to, and standard input may hold: both are kept in
    /// memory ([`MAX_DECOMPRESSED_BYTES`](crate::source::MAX_DECOMPRESSED_BYTES)).
    pub max_decompressed_bytes: u64,
    /// Read plain records with the one-pass scanner, and only the others through the
    /// parser's tape (the default). Off, every record goes through the tape: the same store
    /// and report, slower; the tests compare the two.
    pub fast_path: bool,
    /// Leave the members of `properties.desired.$metadata` and `.reported.$metadata` to be
    /// columnised when a query first reads one (the default): they are a third of an
    /// export's bytes and rarely queried, and the load is ~15% faster without them. The
    /// records are still read whole and checked; [`Store::decode_deferred`] columnises them
    /// ahead of time. Off, they are columnised like everything else: the same store once
    /// decoded; the tests compare the two.
    pub defer_metadata: bool,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            strict: false,
            keep_findings: 20,
            chunk_bytes: 16 << 20,
            progress: None,
            verify_snapshot: false,
            max_paths: MAX_PATHS,
            max_decompressed_bytes: crate::source::MAX_DECOMPRESSED_BYTES,
            fast_path: true,
            defer_metadata: true,
        }
    }
}

/// The input's layout, detected per file from its first non-white-space byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    JsonLines,
    JsonArray,
}

/// One input's part of a load.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileReport {
    pub name: String,
    pub layout: Layout,
    pub bytes: u64,
    /// Lines (JSON Lines) or array elements read. Where a JSON array stops being well formed
    /// (a missing `]`, an element that does not end, data after the array), the rest of the
    /// file is one more unit, skipped: `records + skipped + blank = units` always.
    pub units: u64,
    pub records: u64,
    pub blank: u64,
    pub skipped: u64,
}

/// A finding with its location resolved.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReportedFinding {
    pub file: String,
    pub line: u64,
    pub byte: u64,
    pub rule: &'static str,
    pub path: String,
    pub detail: String,
}

/// What a load read, kept and skipped.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    pub files: Vec<FileReport>,
    pub records: u64,
    pub devices: u64,
    pub modules: u64,
    /// Records not loaded (not JSON, not an object, not data, too large).
    pub skipped: u64,
    /// Records loaded that break a content rule of SPEC §1.3.
    pub invalid_records: u64,
    /// Findings per rule name (skips included).
    pub rule_counts: BTreeMap<&'static str, u64>,
    /// The first findings, in input order.
    pub findings: Vec<ReportedFinding>,
    pub bytes: u64,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
    /// Where the time went: parsing and appending chunks, finishing columns, building indexes
    /// (milliseconds).
    pub phases: Phases,
    /// Set when the fleet was opened from a snapshot: the report above is then the one of
    /// the load that made the snapshot, and this says which file was opened and how fast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<crate::snapshot::SnapshotInfo>,
}

/// Wall time of each load phase, in milliseconds, and how the records were parsed.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Phases {
    /// Parsing the chunks and appending them to the columns as they finish.
    pub parse_ms: f64,
    /// Finishing the columns: presence bitmaps, rank indexes, payload widths.
    pub merge_ms: f64,
    pub index_ms: f64,
    /// Records read by the one-pass scanner; the others went through the parser's tape
    /// ([`LoadOptions::fast_path`]).
    #[serde(default)]
    pub fast_records: u64,
    /// `$metadata` objects whose members were left to be columnised on first use
    /// ([`LoadOptions::defer_metadata`]).
    #[serde(default)]
    pub deferred_metadata: u64,
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

impl LoadReport {
    /// Bytes per second over the whole load.
    pub fn throughput(&self) -> f64 {
        self.bytes as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A unit of parallel work: a run of lines, or a run of array elements, of one input.
enum Task {
    Lines {
        file: u32,
        range: Range<usize>,
    },
    Elements {
        file: u32,
        elements: Vec<Range<usize>>,
    },
}

impl Task {
    /// The input bytes it covers.
    fn bytes(&self) -> u64 {
        match self {
            Task::Lines { range, .. } => range.len() as u64,
            Task::Elements { elements, .. } => elements.iter().map(|e| e.len() as u64).sum(),
        }
    }
}

/// A parsed task: its input, its output and how many input bytes it covered.
struct Delivered {
    file: u32,
    out: ChunkOutput,
    bytes: u64,
}

/// Opens and loads inputs by name (`-` is standard input).
pub fn load_paths<S: AsRef<str>>(
    names: &[S],
    opts: &LoadOptions,
) -> Result<(Store, LoadReport), LoadError> {
    if names.is_empty() {
        return Err(LoadError::NoInput);
    }
    let files = names
        .iter()
        .map(|n| SourceFile::open(n.as_ref(), opts.max_decompressed_bytes))
        .collect::<Result<Vec<_>, _>>()?;
    load_files(files, opts)
}

/// Loads inputs already opened.
pub fn load_files(
    files: Vec<SourceFile>,
    opts: &LoadOptions,
) -> Result<(Store, LoadReport), LoadError> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    let mut file_reports = Vec::new();
    let mut early_findings: Vec<Finding> = Vec::new();
    let mut unlisted_skips: Vec<(u32, u64)> = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        let fi = fi as u32;
        let (body, bom) = strip_bom(f);
        // JSON's white space only (not form feed), as the array scanner and parser see it.
        let first = body
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        let layout = match first.map(|i| body[i]) {
            Some(b'[') => Layout::JsonArray,
            _ => Layout::JsonLines,
        };
        file_reports.push(FileReport {
            name: f.name.clone(),
            layout,
            bytes: f.len() as u64,
            units: 0,
            records: 0,
            blank: 0,
            skipped: 0,
        });
        match layout {
            Layout::JsonLines => {
                for r in split::line_chunks(body, opts.chunk_bytes) {
                    tasks.push(Task::Lines {
                        file: fi,
                        range: r.start + bom..r.end + bom,
                    });
                }
            }
            Layout::JsonArray => {
                let scan = split::array_elements(body, opts.keep_findings);
                let elements = scan.elements;
                let skipped_at = |at: usize, why: &str| Finding {
                    file: fi,
                    byte: (at + bom) as u64,
                    line: 0,
                    rule: Rule::Skipped,
                    path: String::new(),
                    detail: why.to_string(),
                };
                // Elements that are not records are skipped here, the first few with their
                // place, the rest only counted.
                for &at in &elements.others_at {
                    early_findings.push(skipped_at(at, NOT_A_RECORD));
                }
                unlisted_skips.push((fi, elements.others - elements.others_at.len() as u64));
                if let Some((at, why)) = scan.error {
                    early_findings.push(skipped_at(at, why));
                }
                let mut group = Vec::new();
                let mut size = 0;
                for e in elements.records {
                    size += e.len();
                    group.push(e.start + bom..e.end + bom);
                    if size >= opts.chunk_bytes {
                        tasks.push(Task::Elements {
                            file: fi,
                            elements: std::mem::take(&mut group),
                        });
                        size = 0;
                    }
                }
                if !group.is_empty() {
                    tasks.push(Task::Elements {
                        file: fi,
                        elements: group,
                    });
                }
            }
        }
    }

    let keep = opts.keep_findings;
    let progress = opts.progress.as_deref();
    let census = PathCensus::new(opts.max_paths);
    let task_bytes = tasks.iter().map(Task::bytes).sum();
    let assembly = Assembly::new(file_reports, early_findings, &unlisted_skips, task_bytes);
    // Each chunk is appended (and its memory freed for the next) soon after it is parsed.
    let assembly = delivery::in_order(&tasks, assembly, |task| {
        let done = parse_task(&files, task, keep, &census, opts);
        if let Some(p) = progress {
            p.fetch_add(done.bytes, Ordering::Relaxed);
        }
        done
    });

    if census.exceeded() {
        // The first chunk (in input order) that went over; another may have been first in time.
        if let Some((file, span)) = assembly.too_many_paths {
            let mut at = [Finding {
                file,
                byte: span.start as u64,
                line: 0,
                rule: Rule::Skipped,
                path: String::new(),
                detail: String::new(),
            }];
            resolve_lines(&files, &mut at);
            return Err(LoadError::TooManyPaths {
                at: Location {
                    file: files[file as usize].name.clone(),
                    line: at[0].line,
                    byte: at[0].byte,
                },
                limit: opts.max_paths,
            });
        }
    }
    let parse_ms = ms_since(started);
    let mut store_and_report = assembly.finish(files, opts, started)?;
    store_and_report.1.phases.parse_ms = parse_ms;
    release_freed_memory();
    Ok(store_and_report)
}

/// Returns the memory the load freed (chunk builders, scratch: several times the store) to
/// the kernel. glibc keeps freed blocks in its arenas, where they stay resident: after a 1M
/// load the process held 1.5 GB of anonymous memory for a 0.42 GB store.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions: it only releases free memory of the
    // allocator's own arenas, and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Parses one task.
fn parse_task(
    files: &[SourceFile],
    task: &Task,
    keep: usize,
    census: &PathCensus,
    opts: &LoadOptions,
) -> Delivered {
    match *task {
        Task::Lines { file, ref range } => Delivered {
            file,
            out: parse_lines(
                &files[file as usize],
                file,
                range.clone(),
                keep,
                census,
                opts,
            ),
            bytes: range.len() as u64,
        },
        Task::Elements { file, ref elements } => {
            let bytes: &[u8] = &files[file as usize];
            let mut b = chunk_builder(file, keep, census, opts);
            b.expect_rows(elements.len());
            let mut n = 0;
            let whole =
                elements.first().map_or(0, |e| e.start)..elements.last().map_or(0, |e| e.end);
            let mut ahead = ReadAhead::new(&whole);
            for e in elements {
                if b.stopped() {
                    break;
                }
                ahead.reading(bytes, e.end);
                n += e.len() as u64;
                add_record(&mut b, bytes, e.start, e.end);
            }
            b.note_lines(elements.len() as u32, 0);
            Delivered {
                file,
                out: b.finish(),
                bytes: n,
            }
        }
    }
}

fn chunk_builder<'c>(
    file: u32,
    keep: usize,
    census: &'c PathCensus,
    opts: &LoadOptions,
) -> ChunkBuilder<'c> {
    let metadata = if opts.defer_metadata {
        Metadata::Deferred
    } else {
        Metadata::Columns
    };
    ChunkBuilder::new(file, keep, census, opts.fast_path, metadata)
}

const NOT_A_RECORD: &str = "not a record: does not start with '{'";

fn add_record<'c>(b: &mut ChunkBuilder<'c>, bytes: &'c [u8], start: usize, end: usize) {
    let span = RecordSpan { start, end };
    if bytes.get(start) != Some(&b'{') {
        b.finding(span, Rule::Skipped, String::new(), NOT_A_RECORD.into());
    } else if end - start > MAX_RECORD_BYTES {
        b.finding(
            span,
            Rule::Skipped,
            String::new(),
            format!(
                "record is {} bytes, over the {} MiB limit",
                end - start,
                MAX_RECORD_BYTES >> 20
            ),
        );
    } else {
        b.add(bytes, span);
    }
}

fn parse_lines(
    bytes: &[u8],
    file: u32,
    range: Range<usize>,
    keep: usize,
    census: &PathCensus,
    opts: &LoadOptions,
) -> ChunkOutput {
    let mut b = chunk_builder(file, keep, census, opts);
    if let Some(first) = memchr::memchr(b'\n', &bytes[range.clone()]) {
        b.expect_rows(range.len() / (first + 1));
    }
    let mut pos = range.start;
    let mut lines = 0u32;
    let mut blank = 0u64;
    let mut ahead = ReadAhead::new(&range);
    while pos < range.end && !b.stopped() {
        let nl = memchr::memchr(b'\n', &bytes[pos..range.end]).map_or(range.end, |i| pos + i);
        ahead.reading(bytes, nl);
        let mut start = pos;
        let mut end = nl;
        while start < end && matches!(bytes[start], b' ' | b'\t' | b'\r') {
            start += 1;
        }
        while end > start && matches!(bytes[end - 1], b' ' | b'\t' | b'\r') {
            end -= 1;
        }
        lines += 1;
        if start == end {
            blank += 1;
        } else {
            add_record(&mut b, bytes, start, end);
        }
        pos = nl + 1;
    }
    b.note_lines(lines, blank);
    b.finish()
}

/// The store under assembly: chunk outputs appended in chunk order, so that row ids follow
/// input order.
struct Assembly {
    file_reports: Vec<FileReport>,
    findings: Vec<Finding>,
    rows: Vec<RowSource>,
    modules: RoaringBitmap,
    irregular: RoaringBitmap,
    path_ids: HashMap<Vec<Box<str>>, usize>,
    columns: Vec<ColumnAssembler>,
    rule_counts: BTreeMap<&'static str, u64>,
    skipped: u64,
    invalid: u64,
    fast_records: u64,
    /// `$metadata` objects whose members were deferred.
    deferred: u64,
    /// Where the fast path's deferred objects are (rows of the store).
    metadata_spans: Vec<MetadataSpan>,
    /// Rows whose deferred objects the tape path found (read whole later).
    whole_rows: RoaringBitmap,
    /// The first chunk (in input order) that stopped at the load's limit on paths.
    too_many_paths: Option<(u32, RecordSpan)>,
    /// Rows past `u32::MAX` were dropped (the load fails).
    too_many_rows: bool,
    /// Input bytes of the tasks not appended yet.
    unread_bytes: u64,
}

impl delivery::Append for Assembly {
    type Output = Delivered;

    fn append(&mut self, done: Delivered) {
        Assembly::append(self, done);
    }
}

impl Assembly {
    /// `findings` are the ones found before parsing a JSON array: elements that are not
    /// records, and where the array stops being readable (what follows is one unit). Each
    /// is a unit read and skipped, as is each of `unlisted` more per file, so that the
    /// file's counts add up.
    fn new(
        mut file_reports: Vec<FileReport>,
        findings: Vec<Finding>,
        unlisted: &[(u32, u64)],
        bytes: u64,
    ) -> Assembly {
        let mut rule_counts: BTreeMap<&'static str, u64> = BTreeMap::new();
        let skips = findings
            .iter()
            .map(|f| (f.file, f.rule, 1))
            .chain(unlisted.iter().map(|&(file, n)| (file, Rule::Skipped, n)));
        let mut skipped = 0;
        for (file, rule, n) in skips {
            if n == 0 {
                continue;
            }
            *rule_counts.entry(rule.name()).or_insert(0) += n;
            let fr = &mut file_reports[file as usize];
            fr.skipped += n;
            fr.units += n;
            skipped += n;
        }
        Assembly {
            file_reports,
            skipped,
            findings,
            rows: Vec::new(),
            modules: RoaringBitmap::new(),
            irregular: RoaringBitmap::new(),
            path_ids: HashMap::new(),
            columns: Vec::new(),
            rule_counts,
            invalid: 0,
            fast_records: 0,
            deferred: 0,
            metadata_spans: Vec::new(),
            whole_rows: RoaringBitmap::new(),
            too_many_paths: None,
            too_many_rows: false,
            unread_bytes: bytes,
        }
    }

    /// Appends the next chunk's output.
    fn append(&mut self, done: Delivered) {
        let Delivered { file, out, bytes } = done;
        // How many times this chunk's values the rest of the input holds (this chunk
        // included), to size a column when it first appears; a chunk under 1 MiB (a small
        // file, the end of one) says too little about the rest to size anything by.
        let scale = if bytes >= 1 << 20 {
            self.unread_bytes as f64 / bytes as f64
        } else {
            0.0
        };
        self.unread_bytes = self.unread_bytes.saturating_sub(bytes);
        if self.rows.len() + out.rows.len() > u32::MAX as usize {
            self.too_many_rows = true;
        }
        if self.too_many_rows {
            return;
        }
        let base = self.rows.len() as u32;
        let fr = &mut self.file_reports[file as usize];
        fr.units += out.lines as u64;
        fr.records += out.rows.len() as u64;
        fr.blank += out.blank;
        fr.skipped += out.skipped;
        self.skipped += out.skipped;
        self.invalid += out.invalid_records;
        self.fast_records += out.fast_records;
        self.deferred += out.deferred;
        for (rule, n) in &out.rule_counts {
            *self.rule_counts.entry(rule.name()).or_insert(0) += n;
        }
        if self.too_many_paths.is_none() {
            self.too_many_paths = out.too_many_paths.map(|span| (file, span));
        }
        self.rows.extend_from_slice(&out.rows);
        self.modules.extend(out.modules.iter().map(|r| r + base));
        self.irregular
            .extend(out.irregular.iter().map(|r| r + base));
        self.metadata_spans
            .extend(out.metadata_spans.iter().map(|m| m.moved(base)));
        self.whole_rows
            .extend(out.whole_rows.iter().map(|r| r + base));
        self.findings.extend(out.findings);
        for (path, builder) in out.columns {
            let id = match self.path_ids.get(&path) {
                Some(&id) => id,
                None => {
                    self.path_ids.insert(path.clone(), self.columns.len());
                    let mut column = ColumnAssembler::new(path);
                    column.reserve_like(&builder, out.rows.len(), scale);
                    self.columns.push(column);
                    self.columns.len() - 1
                }
            };
            self.columns[id].append(base, builder);
        }
    }

    /// Finishes the columns, builds the indexes and the report.
    fn finish(
        self,
        files: Vec<SourceFile>,
        opts: &LoadOptions,
        started: Instant,
    ) -> Result<(Store, LoadReport), LoadError> {
        let assembling = Instant::now();
        if self.too_many_rows {
            return Err(LoadError::Record {
                at: Location {
                    file: files.last().map(|f| f.name.clone()).unwrap_or_default(),
                    line: 0,
                    byte: 0,
                },
                reason: "more than 4,294,967,295 records in one load".into(),
            });
        }
        let total_rows = self.rows.len() as u32;
        let (mut findings, file_reports, mut rows) = (self.findings, self.file_reports, self.rows);
        rows.shrink_to_fit();
        let (modules, irregular, rule_counts) = (self.modules, self.irregular, self.rule_counts);
        let (skipped, invalid, fast_records) = (self.skipped, self.invalid, self.fast_records);
        let mut columns: Vec<Column> = self
            .columns
            .into_par_iter()
            .map(|c| c.finish(total_rows))
            .collect();
        let merged = Instant::now();
        crate::index::build_indexes(&mut columns);
        let phases = Phases {
            parse_ms: 0.0,
            merge_ms: (merged - assembling).as_secs_f64() * 1000.0,
            index_ms: ms_since(merged),
            fast_records,
            deferred_metadata: self.deferred,
        };

        findings.sort_by_key(|f| (f.file, f.byte));
        findings.truncate(opts.keep_findings);
        resolve_lines(&files, &mut findings);
        let reported: Vec<ReportedFinding> = findings
            .iter()
            .map(|f| ReportedFinding {
                file: files[f.file as usize].name.clone(),
                line: f.line,
                byte: f.byte,
                rule: f.rule.name(),
                path: f.path.clone(),
                detail: f.detail.clone(),
            })
            .collect();
        if opts.strict {
            if let Some(f) = reported.first() {
                let at = Location {
                    file: f.file.clone(),
                    line: f.line,
                    byte: f.byte,
                };
                return Err(if f.rule == Rule::Skipped.name() {
                    LoadError::Record {
                        at,
                        reason: f.detail.clone(),
                    }
                } else {
                    LoadError::Invalid {
                        at,
                        path: f.path.clone(),
                        rule: format!("{} ({})", f.detail, f.rule),
                    }
                });
            }
        }
        let bytes = files.iter().map(|f| f.len() as u64).sum();
        let modules_n = modules.len();
        let mut spans = self.metadata_spans;
        spans.shrink_to_fit();
        let deferral = (self.deferred > 0).then(|| Deferral {
            fast_path: opts.fast_path,
            max_paths: opts.max_paths,
            chunk_bytes: opts.chunk_bytes,
            spans: std::sync::Mutex::new(spans),
            whole_rows: self.whole_rows,
        });
        let store = Store::new(Arc::new(files), rows, modules, irregular, columns, deferral);
        let report = LoadReport {
            files: file_reports,
            records: store.len() as u64,
            devices: store.len() as u64 - modules_n,
            modules: modules_n,
            skipped,
            invalid_records: invalid,
            rule_counts,
            findings: reported,
            bytes,
            elapsed: started.elapsed(),
            phases,
            snapshot: None,
        };
        Ok((store, report))
    }
}

/// Fills in 1-based line numbers of findings sorted by (file, byte), scanning each input once.
fn resolve_lines(files: &[SourceFile], findings: &mut [Finding]) {
    let mut i = 0;
    while i < findings.len() {
        let file = findings[i].file;
        let bytes: &[u8] = &files[file as usize];
        let (mut pos, mut line) = (0usize, 1u64);
        while i < findings.len() && findings[i].file == file {
            let at = (findings[i].byte as usize).min(bytes.len());
            line += memchr::memchr_iter(b'\n', &bytes[pos..at]).count() as u64;
            pos = at;
            findings[i].line = line;
            i += 1;
        }
    }
}

/// The normalised twin of one record's bytes (used to answer `SELECT *`).
pub fn twin_from_bytes(record: &[u8]) -> Result<serde_json::Value, String> {
    let twin = chunk::with_tape(record, |tape| {
        if chunk::tape_has_zero(tape) && chunk::has_negative_zero(record) {
            return Ok(None);
        }
        let mut members = Vec::new();
        normalise::members(tape, &mut members).map(|()| Some(normalise::twin_json(&members)))
    })?
    .map_err(str::to_string)?;
    match twin {
        Some(twin) => Ok(twin),
        None => {
            // The tape reads `-0` as the integer 0; serde_json keeps it as -0.0, as the
            // reference does. Rare enough that the slow reader is fine.
            let value: serde_json::Value =
                serde_json::from_slice(record).map_err(|e| format!("invalid JSON ({e})"))?;
            Ok(crate::reference::normalise(value))
        }
    }
}

/// Appends the record's normalised twin to `out` as compact JSON text: the same bytes as
/// serializing [`twin_from_bytes`]'s value, written from the tape without building it.
pub fn twin_text_from_bytes(record: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let start = out.len();
    let direct = chunk::with_tape(record, |tape| {
        if chunk::tape_has_zero(tape) && chunk::has_negative_zero(record) {
            return Ok(false);
        }
        let mut members = Vec::new();
        normalise::members(tape, &mut members).map(|()| normalise::write_twin(&members, out))
    })?
    .map_err(str::to_string)?;
    if !direct {
        out.truncate(start);
        let twin = twin_from_bytes(record)?;
        serde_json::to_writer(&mut *out, &twin).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The value at an exact path (keys spelled as in the document) of one record's normalised
/// twin, converting only that subtree: projecting `tags.location` should not build the whole
/// twin.
pub fn subtree_from_bytes<S: AsRef<str>>(
    record: &[u8],
    path: &[S],
) -> Result<Option<serde_json::Value>, String> {
    chunk::with_tape(record, |tape| {
        let mut members = Vec::new();
        normalise::members(tape, &mut members)?;
        let Some((first, rest)) = path.split_first() else {
            return Ok(Some(normalise::twin_json(&members)));
        };
        // The last occurrence of a repeated key wins, as in the twin.
        let Some(mut node) = members
            .iter()
            .rev()
            .find(|m| m.key == first.as_ref())
            .map(|m| m.value)
        else {
            return Ok(None);
        };
        for key in rest {
            match normalise::object_members(node)
                .filter(|(k, _)| *k == key.as_ref())
                .last()
            {
                Some((_, v)) => node = v,
                None => return Ok(None),
            }
        }
        Ok(Some(normalise::to_json(node)))
    })?
    .map_err(|e: &str| e.to_string())
}
