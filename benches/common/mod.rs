//! Bench data shared by the benches: one generated fleet file, made once with a fixed seed and
//! cached under the target directory (never committed), plus the process facts the benches
//! print next to their timings (system load, resident memory).
//!
//! `TWINDEX_BENCH_DEVICES` sets the fleet size (default 1,000,000 devices, about 1.8 GB with the
//! generator's default export shape, `$metadata` and modules).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use twindex::gen::{generate, GenOptions};

/// The generator seed every bench uses, so all of them (and `duckdb_compare.py`) read the same
/// bytes.
pub const SEED: u64 = 42;

const DEFAULT_DEVICES: u64 = 1_000_000;

/// Devices to generate: `TWINDEX_BENCH_DEVICES` (underscores allowed), else 1,000,000.
pub fn devices() -> u64 {
    match std::env::var("TWINDEX_BENCH_DEVICES") {
        Ok(s) => s
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("TWINDEX_BENCH_DEVICES={s:?} is not a number")),
        Err(_) => DEFAULT_DEVICES,
    }
}

/// The target directory this bench was built into: `CARGO_TARGET_DIR` if set, else the one
/// holding this executable (`<target>/release/deps/<bench>-<hash>`), else `./target`.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(target) = exe.ancestors().nth(3) {
            if exe.parent().and_then(Path::file_name) == Some("deps".as_ref()) {
                return target.to_path_buf();
            }
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target")
}

/// The fleet file for `devices()` devices: `<target>/bench-data/fleet-<devices>-<seed>.jsonl`,
/// generated on first use (to a temporary name, renamed when complete, so an interrupted run
/// never leaves a truncated file behind) and reused afterwards.
pub fn fleet_file() -> PathBuf {
    let devices = devices();
    let dir = target_dir().join("bench-data");
    let path = dir.join(format!("fleet-{devices}-{SEED}.jsonl"));
    if path.exists() {
        return path;
    }
    fs::create_dir_all(&dir).expect("create bench-data directory");
    let tmp = dir.join(format!(
        "fleet-{devices}-{SEED}.jsonl.tmp{}",
        std::process::id()
    ));
    eprintln!("generating {} ...", path.display());
    let started = Instant::now();
    let opts = GenOptions {
        devices,
        seed: SEED,
        ..GenOptions::default()
    };
    let mut file = fs::File::create(&tmp).expect("create bench data file");
    let summary = generate(&opts, &mut file).expect("write bench data");
    file.sync_all().expect("sync bench data");
    drop(file);
    fs::rename(&tmp, &path).expect("rename bench data into place");
    eprintln!(
        "generated {} records ({} devices, {} modules), {} bytes, {:.0}% $metadata, in {:.1} s",
        summary.records,
        summary.devices,
        summary.modules,
        summary.bytes,
        100.0 * summary.metadata_bytes as f64 / summary.bytes as f64,
        started.elapsed().as_secs_f64()
    );
    path
}

/// The 1, 5 and 15 minute load averages and running/total tasks, as `/proc/loadavg` has them,
/// so that a noisy machine shows in the bench's output.
pub fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// A `/proc/self/status` field in bytes (`VmHWM`: peak resident set; `RssAnon`, `RssFile`:
/// current anonymous and file-backed resident memory). `None` off Linux.
pub fn status_bytes(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find(|l| l.split(':').next() == Some(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Bytes as `1,234,567,890 (1.23 GB)`.
pub fn bytes(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped} ({:.2} GB)", n as f64 / 1e9)
}
