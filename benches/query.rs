//! Queries over a loaded fleet: one benchmark per query, each pulling the whole result
//! iterator (parse, plan, filter, shape), over the generated fleet loaded once. Names ending
//! in `_json` pull the rows as JSON text (`Results::json`, what `--format json` prints)
//! instead of `serde_json::Value`s.
//!
//! ```text
//! cargo bench --bench query                 # 1,000,000 devices
//! cargo bench --bench query -- group_by     # only the queries whose name contains group_by
//! ```

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use twindex::{Fleet, LoadOptions};

/// (benchmark name, query). `benches/duckdb_compare.py` runs the DuckDB equivalent of each under
/// the same name.
const QUERIES: &[(&str, &str)] = &[
    (
        "count_eq_indexed",
        "SELECT COUNT() FROM devices WHERE status = 'disabled'",
    ),
    (
        "count_and_indexed",
        "SELECT COUNT() FROM devices WHERE tags.location.region = 'US' \
         AND connectionState = 'Connected'",
    ),
    (
        "count_in_list",
        "SELECT COUNT() FROM devices WHERE properties.reported.connectivity IN ['wired', 'wifi']",
    ),
    (
        "count_range",
        "SELECT COUNT() FROM devices WHERE properties.reported.battery < 20",
    ),
    (
        "startswith_ids",
        "SELECT deviceId FROM devices WHERE STARTSWITH(deviceId, 'test-')",
    ),
    (
        "startswith_ids_json",
        "SELECT deviceId FROM devices WHERE STARTSWITH(deviceId, 'test-')",
    ),
    (
        "group_by_property",
        "SELECT properties.reported.telemetryConfig.status AS s, COUNT() AS n FROM devices \
         GROUP BY properties.reported.telemetryConfig.status",
    ),
    (
        "group_by_tag",
        "SELECT tags.location.region AS r, COUNT() AS n FROM devices \
         GROUP BY tags.location.region",
    ),
    (
        "project_2k_ids",
        "SELECT deviceId FROM devices WHERE tags.ring = 'canary' AND tags.location.region = 'IN'",
    ),
    (
        "project_2k_ids_json",
        "SELECT deviceId FROM devices WHERE tags.ring = 'canary' AND tags.location.region = 'IN'",
    ),
    (
        "select_star_10k",
        "SELECT * FROM devices WHERE tags.ring = 'canary' \
         AND properties.reported.connectivity = 'cellular'",
    ),
    (
        "select_star_10k_json",
        "SELECT * FROM devices WHERE tags.ring = 'canary' \
         AND properties.reported.connectivity = 'cellular'",
    ),
    (
        "top10_order_by",
        "SELECT TOP 10 deviceId, properties.reported.battery FROM devices \
         ORDER BY properties.reported.battery DESC",
    ),
];

/// Runs a query to the end, returning how many results it produced.
fn run(fleet: &Fleet, sql: &str, json: bool) -> usize {
    let results = fleet.query(sql).expect("bench query is valid");
    if json {
        // As the command writes them: each row borrowed in turn, no allocation per row.
        let mut rows = results.json();
        let mut n = 0;
        while let Some(row) = rows.next_row() {
            black_box(row);
            n += 1;
        }
        n
    } else {
        results.count()
    }
}

fn query(c: &mut Criterion) {
    let path = common::fleet_file();
    eprintln!("load average before load: {}", common::load_average());
    let started = Instant::now();
    let fleet = Fleet::load_with(
        &[path.to_str().expect("UTF-8 path")],
        &LoadOptions::default(),
    )
    .expect("bench data loads");
    eprintln!(
        "loaded {} ({} records, {} devices) in {:.3} s",
        path.display(),
        fleet.report().records,
        fleet.report().devices,
        started.elapsed().as_secs_f64()
    );
    eprintln!(
        "fleet memory {}, peak RSS {}",
        common::bytes(fleet.store().heap_bytes() as u64),
        common::bytes(common::status_bytes("VmHWM").unwrap_or(0))
    );

    // What each query returns, once, so that the figures can say what was measured; the time
    // of this first run sizes the query's measurement below.
    let mut first_runs = Vec::new();
    for (name, sql) in QUERIES {
        let started = Instant::now();
        let results: Vec<_> = fleet.query(sql).expect("bench query is valid").collect();
        first_runs.push(started.elapsed());
        let shown = if results.len() <= 12 {
            serde_json::to_string(&results).expect("JSON")
        } else {
            String::new()
        };
        eprintln!("{name}: {} result(s) {shown}", results.len());
    }
    eprintln!("load average before queries: {}", common::load_average());

    let mut group = c.benchmark_group("query");
    group.sample_size(20).warm_up_time(Duration::from_secs(1));
    // Keyed by the dataset (devices), so results for different sizes are kept apart.
    let devices = common::devices();
    for ((name, sql), first) in QUERIES.iter().zip(first_runs) {
        // Slow queries get flat sampling (the same few iterations per sample) and a budget
        // that fits their 20 samples; fast ones criterion's default linear sampling.
        if first > Duration::from_millis(20) {
            group
                .sampling_mode(SamplingMode::Flat)
                .measurement_time(first * 24);
        } else {
            group
                .sampling_mode(SamplingMode::Auto)
                .measurement_time(Duration::from_secs(3));
        }
        group.bench_with_input(BenchmarkId::new(*name, devices), sql, |b, sql| {
            b.iter(|| run(&fleet, black_box(sql), name.ends_with("_json")))
        });
    }
    group.finish();
    eprintln!("load average after: {}", common::load_average());
}

criterion_group!(benches, query);
criterion_main!(benches);
