//! Snapshots against loading the JSON, over a generated fleet (default: 1,000,000 devices,
//! seed 42, the generator's default export shape), cached under `<target>/bench-data/`:
//!
//! - `open`: open the snapshot and answer a first indexed COUNT, against loading the JSON and
//!   answering the same COUNT;
//! - `query/*`: query times on the snapshot (every column already used once) against the
//!   in-memory load.
//!
//! The export is the one every bench uses (`common::fleet_file`); the snapshot is written next
//! to it (`fleet-<devices>-42.twx`) when missing, older than the export, or unreadable by this
//! build.
//!
//! Before timing it prints the sizes (export, snapshot, and their ratio), how long the
//! snapshot took to write if this run wrote it, and the machine's load average.
//!
//! ```text
//! cargo bench --bench snapshot                              # 1,000,000 devices
//! TWINDEX_BENCH_DEVICES=100000 cargo bench --bench snapshot
//! ```

mod common;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use twindex::Fleet;

/// The COUNT the `open` group answers: `status` is an indexed system path.
const FIRST_COUNT: &str = "SELECT COUNT() FROM devices WHERE status = 'disabled'";

/// Queries timed on both stores, keyed by a short name.
const QUERIES: &[(&str, &str)] = &[
    ("count_indexed", FIRST_COUNT),
    (
        "count_and",
        "SELECT COUNT() FROM devices WHERE status = 'enabled' AND connectionState = 'Connected' \
         AND tags.location.region = 'US'",
    ),
    (
        "group_by",
        "SELECT tags.location.region AS region, COUNT() AS n FROM devices \
         GROUP BY tags.location.region",
    ),
    (
        "residual_range",
        "SELECT deviceId FROM devices WHERE tags.location.region = 'US' \
         AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
    ),
    (
        "top_order",
        "SELECT TOP 10 deviceId, lastActivityTime FROM devices ORDER BY lastActivityTime DESC",
    ),
    (
        "star_lookup",
        "SELECT * FROM devices WHERE deviceId = 'dev-000042'",
    ),
    (
        "star_2000",
        "SELECT TOP 2000 * FROM devices WHERE connectionState = 'Connected'",
    ),
    (
        "object_2000",
        "SELECT TOP 2000 deviceId, tags.location FROM devices WHERE tags.location.region = 'JP'",
    ),
];

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn bench(c: &mut Criterion) {
    let json = common::fleet_file();
    let json_name = json.to_str().expect("UTF-8 path").to_string();
    let snap = json.with_extension("twx");
    eprintln!("load average: {}", common::load_average());

    let started = Instant::now();
    let loaded = Fleet::load(&[&json_name]).expect("load the JSON");
    eprintln!(
        "load: {:.2} s for {:.0} MB ({} twins, {} columns)",
        started.elapsed().as_secs_f64(),
        mb(loaded.report().bytes),
        loaded.store().len(),
        loaded.store().columns().len()
    );
    // (Re)write the snapshot when missing, older than the export, or unreadable by this build.
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if Fleet::open(&snap).is_err() || modified(&snap) < modified(&json) {
        let s = loaded.write_snapshot(&snap).expect("write the snapshot");
        eprintln!(
            "wrote {}: {:.1} s (columns {:.0} MB, twins {:.0} MB)",
            snap.display(),
            s.elapsed_ms / 1000.0,
            mb(s.column_bytes),
            mb(s.twin_bytes)
        );
    }
    let snap_bytes = std::fs::metadata(&snap).expect("snapshot").len();
    eprintln!(
        "sizes: export {}, snapshot {} = {:.1}% of the export",
        common::bytes(loaded.report().bytes),
        common::bytes(snap_bytes),
        100.0 * snap_bytes as f64 / loaded.report().bytes as f64
    );
    let anon_before = common::status_bytes("RssAnon").unwrap_or(0);
    let started = Instant::now();
    let opened = Fleet::open(&snap).expect("open");
    let open = started.elapsed();
    let counted: Vec<_> = opened.query(FIRST_COUNT).expect("count").collect();
    eprintln!(
        "one open: {:.3} ms, + first COUNT {:.3} ms -> {counted:?}",
        open.as_secs_f64() * 1000.0,
        (started.elapsed() - open).as_secs_f64() * 1000.0
    );
    eprintln!(
        "heap: in-memory load {}, snapshot after its first COUNT {} (anonymous memory grew {})",
        common::bytes(loaded.store().heap_bytes() as u64),
        common::bytes(opened.store().heap_bytes() as u64),
        common::bytes(
            common::status_bytes("RssAnon")
                .unwrap_or(0)
                .saturating_sub(anon_before)
        )
    );

    let mut g = c.benchmark_group("open");
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("snapshot_open_and_count", |b| {
        b.iter_with_large_drop(|| {
            let f = Fleet::open(&snap).expect("open");
            let n: Vec<_> = f.query(FIRST_COUNT).expect("count").collect();
            black_box(n);
            f
        })
    });
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(30));
    g.bench_function("json_load_and_count", |b| {
        b.iter_with_large_drop(|| {
            let f = Fleet::load(&[&json_name]).expect("load");
            let n: Vec<_> = f.query(FIRST_COUNT).expect("count").collect();
            black_box(n);
            f
        })
    });
    g.finish();

    let mut g = c.benchmark_group("query");
    g.sample_size(20);
    for (name, sql) in QUERIES {
        // Identical answers, and every column the query reads already verified and decoded.
        let a: Vec<_> = opened.query(sql).expect("query").collect();
        let b: Vec<_> = loaded.query(sql).expect("query").collect();
        assert_eq!(a, b, "{name}");
        for (store, fleet) in [("snapshot", &opened), ("memory", &loaded)] {
            g.bench_with_input(BenchmarkId::new(*name, store), sql, |b, sql| {
                b.iter(|| fleet.query(sql).expect("query").count())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
