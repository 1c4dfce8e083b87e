//! `twindex demo`: generate a large fleet once (cached), load it, and run showcase queries.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use super::error::Failure;
use super::input::{load_paths, warn_about_findings, Metadata};
use super::output::{bytes, count, json_table};
use crate::gen::GenOptions;
use crate::Fleet;

/// Load a large generated fleet and run showcase queries.
///
/// The fleet is generated once and cached; the queries include the IoT Hub documentation's
/// examples and print a few rows, the result count and the time of each.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of devices to generate.
    #[arg(short = 'n', long, default_value_t = 1_000_000)]
    devices: u64,

    /// Seed of the generated fleet.
    #[arg(long, default_value_t = 42)]
    seed: u64,

    /// Where the generated fleet is kept [default: $TWINDEX_DEMO_DIR, else
    /// target/twindex-demo under the current directory].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// The queries the demo runs: the SPEC §3 examples that make sense on generated data (with
/// a few columns selected instead of `*` so that rows fit a terminal), then a few more.
pub const SHOWCASE: &[&str] = &[
    "SELECT COUNT() AS totalNumberOfDevices FROM devices",
    "SELECT deviceId, tags.location.city AS city FROM devices WHERE tags.location.region = 'US'",
    "SELECT deviceId, properties.reported.telemetryConfig.sendFrequencyInSecs AS freq FROM devices \
     WHERE tags.location.region = 'US' AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
    "SELECT deviceId, properties.reported.connectivity FROM devices \
     WHERE properties.reported.connectivity IN ['wired', 'wifi']",
    "SELECT deviceId FROM devices WHERE is_defined(properties.reported.connectivity)",
    "SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices \
     FROM devices GROUP BY properties.reported.telemetryConfig.status",
    "SELECT TOP 5 DeviceId, LastActivityTime FROM devices \
     WHERE status = 'enabled' AND connectionState = 'Disconnected'",
    "SELECT TOP 5 deviceId FROM devices WHERE capabilities.iotEdge = true",
    "SELECT deviceId FROM devices \
     WHERE NOT STARTSWITH(deviceId, 'test-') AND NOT STARTSWITH(deviceId, 'tmp-')",
    "SELECT deviceId, moduleId FROM devices.modules WHERE properties.reported.status = 'scanning'",
    "SELECT TOP 5 deviceId, properties.reported.battery FROM devices \
     ORDER BY properties.reported.battery DESC",
    "SELECT tags.location.region AS region, COUNT() AS n FROM devices \
     GROUP BY tags.location.region ORDER BY n DESC",
];

/// Rows shown per query.
const SHOWN: usize = 5;

pub fn run(args: DemoArgs) -> Result<(), Failure> {
    let dir = args
        .dir
        .clone()
        .or_else(|| std::env::var_os("TWINDEX_DEMO_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target").join("twindex-demo"));
    let mut out = BufWriter::new(io::stdout().lock());
    let file = cached_fleet(&args, &dir, &mut out)?;

    let name = file.to_string_lossy().into_owned();
    let metadata = if SHOWCASE
        .iter()
        .any(|sql| Metadata::of_query(sql) == Metadata::Read)
    {
        Metadata::Read
    } else {
        Metadata::Deferred
    };
    let fleet = load_paths(std::slice::from_ref(&name), false, metadata)?;
    warn_about_findings(fleet.report());
    write_load_summary(&fleet, &mut out).map_err(Failure::stdout)?;

    for sql in SHOWCASE {
        let sql = squeeze(sql);
        let started = Instant::now();
        let results = fleet.query(&sql).map_err(|e| Failure::query(&sql, e))?;
        let (table, n) = json_table(results, SHOWN);
        let elapsed = started.elapsed();
        let shown = n.min(SHOWN as u64);
        (|| {
            writeln!(out, "\n{sql}")?;
            table.write(&mut out, "  ")?;
            let more = if n > shown {
                format!(" ({shown} shown)")
            } else {
                String::new()
            };
            writeln!(
                out,
                "  {} {}{more} in {}",
                count(n),
                if n == 1 { "result" } else { "results" },
                millis(elapsed)
            )?;
            out.flush()
        })()
        .map_err(Failure::stdout)?;
    }
    Ok(())
}

/// The generated fleet's file, generating it first unless an earlier run left it. The file is
/// written under a temporary name and renamed when complete, so an interrupted run never
/// leaves a truncated fleet to be reused.
fn cached_fleet(args: &DemoArgs, dir: &Path, out: &mut impl Write) -> Result<PathBuf, Failure> {
    let opts = GenOptions {
        devices: args.devices,
        seed: args.seed,
        ..GenOptions::default()
    };
    let file = dir.join(format!("fleet-{}-seed{}.jsonl", args.devices, args.seed));
    if let Ok(meta) = std::fs::metadata(&file) {
        writeln!(
            out,
            "using {} ({}, generated earlier)",
            file.display(),
            bytes(meta.len())
        )
        .map_err(Failure::stdout)?;
        return Ok(file);
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::io(format!("creating {}", dir.display()), e))?;
    writeln!(
        out,
        "generating {} devices (seed {}) into {} ...",
        count(args.devices),
        args.seed,
        file.display()
    )
    .and_then(|()| out.flush())
    .map_err(Failure::stdout)?;
    let partial = file.with_extension(format!("jsonl.partial-{}", std::process::id()));
    let started = Instant::now();
    let summary = super::gen::write_file(&opts, &partial).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        Failure::io(format!("writing {}", partial.display()), e)
    })?;
    std::fs::rename(&partial, &file)
        .map_err(|e| Failure::io(format!("renaming {}", partial.display()), e))?;
    writeln!(
        out,
        "{} in {:.1} s",
        super::gen::describe(&summary),
        started.elapsed().as_secs_f64()
    )
    .map_err(Failure::stdout)?;
    Ok(file)
}

fn write_load_summary(fleet: &Fleet, out: &mut impl Write) -> io::Result<()> {
    let r = fleet.report();
    let store = fleet.store();
    writeln!(
        out,
        "loaded {} twins ({} devices, {} modules) from {} in {:.2} s on {} threads: {:.2} GB/s; \
         memory {} ({} paths{})",
        count(r.records),
        count(r.devices),
        count(r.modules),
        bytes(r.bytes),
        r.elapsed.as_secs_f64(),
        rayon::current_num_threads(),
        r.throughput() / 1e9,
        bytes((store.heap_bytes() + store.owned_input_bytes()) as u64),
        count(store.built_columns().len() as u64),
        if store.has_deferred() {
            "; `$metadata` members columnised on first use"
        } else {
            ""
        }
    )
}

/// The query on one line, runs of spaces (from the source's line continuations) made one.
fn squeeze(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `0.42 ms`, `12.3 ms`, `1234 ms`: three significant digits or whole milliseconds.
fn millis(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}
