//! Ingest: the floor (a bare simd-json tape parse of every line, in parallel) against a full
//! twindex load (columns and indexes), over the same generated fleet file.
//!
//! Before timing, one load in the fresh process prints what a loaded fleet costs in memory: the
//! store's heap bytes (columns, indexes, row table) plus input bytes held in memory, as a share
//! of the file, and the process's peak resident set (which includes the mapped file's pages).
//! Then a few alternating pairs (bare, load) give a paired ratio that survives a shared
//! machine's load changes better than criterion's two sequential measurements. The load
//! defers `$metadata` members (the default); `twindex_load_all_columns` builds them too, and
//! the memory printout says what building them later costs.
//!
//! ```text
//! cargo bench --bench ingest                           # 1,000,000 devices
//! TWINDEX_BENCH_DEVICES=100000 cargo bench --bench ingest
//! ```

mod common;

use std::cell::RefCell;
use std::fs::File;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use memmap2::Mmap;
use rayon::prelude::*;
use simd_json::{Buffers, Tape};
use twindex::{Fleet, LoadOptions};

/// The same work-unit size as twindex's default `LoadOptions::chunk_bytes`.
const CHUNK_BYTES: usize = 16 << 20;

fn map(path: &Path) -> Mmap {
    let file = File::open(path).expect("open bench data");
    // SAFETY: the bench data file is ours, written once before any bench runs and never
    // modified while mapped.
    unsafe { Mmap::map(&file) }.expect("map bench data")
}

/// Newline-aligned ranges of about `target` bytes covering `bytes`.
fn line_chunks(bytes: &[u8], target: usize) -> Vec<std::ops::Range<usize>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let want = (start + target).min(bytes.len());
        let end = match memchr::memchr(b'\n', &bytes[want..]) {
            Some(i) => want + i + 1,
            None => bytes.len(),
        };
        chunks.push(start..end);
        start = end;
    }
    chunks
}

/// Per-thread parser scratch, reused across lines: simd-json's buffers, a padded copy of the
/// line (the parser unescapes in place, and the map is read-only) and the tape.
struct Scratch {
    buffers: Buffers,
    line: Vec<u8>,
    tape: Option<Tape<'static>>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
        buffers: Buffers::with_max_depth(4096, 128),
        line: Vec::with_capacity(4096),
        tape: Some(Tape::null()),
    });
}

/// Parses every line of `chunk` to a tape and returns the number of tape nodes, so that the
/// work cannot be optimised away.
fn parse_lines(chunk: &[u8]) -> usize {
    SCRATCH.with(|cell| {
        let scratch = &mut *cell.borrow_mut();
        let mut nodes = 0;
        let mut start = 0;
        while start < chunk.len() {
            let end = memchr::memchr(b'\n', &chunk[start..]).map_or(chunk.len(), |i| start + i);
            let record = &chunk[start..end];
            start = end + 1;
            if record.is_empty() {
                continue;
            }
            scratch.line.clear();
            scratch.line.extend_from_slice(record);
            scratch
                .line
                .resize(record.len() + simd_json::INPUT_PADDING, b' ');
            let mut tape = scratch.tape.take().unwrap_or_else(Tape::null).reset();
            simd_json::fill_tape_padded(
                &mut scratch.line,
                record.len(),
                &mut scratch.buffers,
                &mut tape,
            )
            .expect("bench data is valid JSON");
            nodes += tape.0.len();
            scratch.tape = Some(tape.reset());
        }
        nodes
    })
}

/// The floor: map the file, split it at newlines, parse every line to a tape in parallel.
/// Returns the number of tape nodes and the map: unmapping a 1.8 GB file whose pages are all
/// mapped takes about 76 ms on one core, and the load's own map is freed with its fleet,
/// outside the timed section — so the floor's is too. (Until session 8 the floor unmapped
/// inside its timing, which flattered the ratio by about 10%.)
fn bare_tape_parse(path: &Path) -> (usize, Mmap) {
    let map = map(path);
    let bytes: &[u8] = &map;
    let nodes = line_chunks(bytes, CHUNK_BYTES)
        .into_par_iter()
        .map(|range| parse_lines(&bytes[range]))
        .sum();
    (nodes, map)
}

fn load(path: &Path) -> Fleet {
    load_with(path, &LoadOptions::default())
}

fn load_with(path: &Path, opts: &LoadOptions) -> Fleet {
    Fleet::load_with(&[path.to_str().expect("UTF-8 path")], opts).expect("bench data loads")
}

/// `$metadata` members columnised by the load rather than on first use.
fn load_all_columns(path: &Path) -> Fleet {
    load_with(
        path,
        &LoadOptions {
            defer_metadata: false,
            ..LoadOptions::default()
        },
    )
}

/// One load in a fresh process: what the loaded fleet holds, and the process's peak memory.
/// Returns the load's wall time.
fn print_memory(path: &Path, file_bytes: u64) -> Duration {
    let hwm_before = common::status_bytes("VmHWM").unwrap_or(0);
    let fleet = load(path);
    let report = fleet.report();
    let store = fleet.store().heap_bytes() as u64;
    let owned = fleet.store().owned_input_bytes() as u64;
    let held = store + owned;
    eprintln!(
        "loaded {} records ({} devices, {} modules, {} skipped) in {:.3} s",
        report.records,
        report.devices,
        report.modules,
        report.skipped,
        report.elapsed.as_secs_f64()
    );
    eprintln!(
        "  phases: parse and append {:.0} ms, finish columns {:.0} ms, index {:.0} ms",
        report.phases.parse_ms, report.phases.merge_ms, report.phases.index_ms
    );
    eprintln!("  store heap bytes:     {}", common::bytes(store));
    eprintln!("  owned input bytes:    {}", common::bytes(owned));
    eprintln!(
        "  fleet memory:         {} = {:.1}% of the file (target <= 35%)",
        common::bytes(held),
        100.0 * held as f64 / file_bytes as f64
    );
    for (label, field) in [("RssAnon", "RssAnon"), ("RssFile", "RssFile")] {
        if let Some(b) = common::status_bytes(field) {
            eprintln!("  {label} after load:   {}", common::bytes(b));
        }
    }
    if let Some(hwm) = common::status_bytes("VmHWM") {
        eprintln!(
            "  peak RSS (VmHWM):     {} (before load: {})",
            common::bytes(hwm),
            common::bytes(hwm_before)
        );
    }
    if fleet.store().has_deferred() {
        // What the first query reading inside a `$metadata` pays, and holds afterwards.
        let started = Instant::now();
        fleet.store().decode_deferred();
        let held = fleet.store().heap_bytes() as u64 + owned;
        eprintln!(
            "  deferred $metadata:   {} objects, built in {:.3} s; fleet memory then {} = {:.1}% of the file",
            report.phases.deferred_metadata,
            started.elapsed().as_secs_f64(),
            common::bytes(held),
            100.0 * held as f64 / file_bytes as f64
        );
    }
    report.elapsed
}

/// Alternates the two variants `TWINDEX_BENCH_PAIRS` times (default 5) and prints the medians
/// and the median of the per-pair ratios: on a machine shared with other work, a load change
/// between criterion's two (sequential) measurements moves its ratio, a paired ratio much less.
fn paired(path: &Path, file_bytes: u64) {
    let pairs: usize = std::env::var("TWINDEX_BENCH_PAIRS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    if pairs == 0 {
        return;
    }
    let (mut bare, mut full, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..pairs {
        let started = Instant::now();
        let parsed = black_box(bare_tape_parse(path));
        let b = started.elapsed().as_secs_f64();
        drop(parsed);
        let started = Instant::now();
        let fleet = load(path);
        let l = started.elapsed().as_secs_f64();
        drop(fleet);
        bare.push(b);
        full.push(l);
        ratios.push(l / b);
    }
    let (b, l, r) = (median(bare), median(full), median(ratios));
    let gbps = |secs: f64| file_bytes as f64 / secs / 1e9;
    eprintln!(
        "paired, {pairs} pairs: bare_tape_parse median {b:.3} s ({:.2} GB/s), twindex_load \
         median {l:.3} s ({:.2} GB/s), median ratio {r:.2}x (target <= 1.5x); load average {}",
        gbps(b),
        gbps(l),
        common::load_average()
    );
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn ingest(c: &mut Criterion) {
    let path = common::fleet_file();
    let file_bytes = std::fs::metadata(&path).expect("stat bench data").len();
    eprintln!(
        "bench data: {} ({}), {} rayon threads, load average {}",
        path.display(),
        common::bytes(file_bytes),
        rayon::current_num_threads(),
        common::load_average()
    );
    let load_once = print_memory(&path, file_bytes);
    let started = Instant::now();
    let (nodes, map) = bare_tape_parse(&path);
    let bare_once = started.elapsed();
    drop(map);
    eprintln!(
        "bare tape parse: {nodes} tape nodes in {:.3} s",
        bare_once.as_secs_f64()
    );

    paired(&path, file_bytes);

    let mut group = c.benchmark_group("ingest");
    // Iterations take seconds: one iteration per sample, ten samples, the measurement time set
    // from the run above so that criterion neither warns nor loops more than needed.
    let budget = |once: Duration| (once * 12).max(Duration::from_secs(1));
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(3))
        .throughput(Throughput::Bytes(file_bytes));
    // Keyed by the dataset (devices), so results for different sizes are kept apart.
    let devices = common::devices();
    group.measurement_time(budget(bare_once));
    group.bench_with_input(
        BenchmarkId::new("bare_tape_parse", devices),
        &path,
        |b, path| {
            b.iter_batched(
                || (),
                |()| bare_tape_parse(black_box(path)),
                BatchSize::PerIteration,
            )
        },
    );
    group.measurement_time(budget(load_once));
    // The loaded fleet is returned so that freeing it happens outside the timed section.
    group.bench_with_input(
        BenchmarkId::new("twindex_load", devices),
        &path,
        |b, path| b.iter_batched(|| (), |()| load(black_box(path)), BatchSize::PerIteration),
    );
    // The same with `$metadata` members built by the load (`defer_metadata` off).
    group.bench_with_input(
        BenchmarkId::new("twindex_load_all_columns", devices),
        &path,
        |b, path| {
            b.iter_batched(
                || (),
                |()| load_all_columns(black_box(path)),
                BatchSize::PerIteration,
            )
        },
    );
    group.finish();
    eprintln!("load average after: {}", common::load_average());
}

criterion_group!(benches, ingest);
criterion_main!(benches);
