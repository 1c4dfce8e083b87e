//! `twindex index`: parse the inputs once and write a snapshot, which every command that takes
//! a SOURCE then opens in milliseconds (recognised by its magic bytes, whatever its name).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::error::{note, Failure};
use super::input::{with_progress, Inputs, Metadata};
use super::output::{bytes, count};
use crate::snapshot::{OpenOptions, WriteOptions, WriteSummary};
use crate::{Fleet, LoadError};

/// Parse the inputs once and write a snapshot of the fleet.
///
/// The snapshot holds the columns, dictionaries and bitmap indexes, viewed in place from a
/// memory map, and every twin (compressed), so queries need neither the inputs nor a new
/// parse. It never holds symmetric keys. The file is written aside and renamed into place.
///
/// Exit codes: 0 success, 1 an input could not be loaded or the snapshot not written.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    twindex index devices.txt twins.json -o fleet.twx\n  \
    twindex query \"SELECT COUNT() FROM devices WHERE status = 'disabled'\" fleet.twx\n  \
    twindex stats fleet.twx")]
pub struct IndexArgs {
    /// The snapshot to write (replaced atomically if it exists).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,

    /// Read the written snapshot back and verify every checksum. (A snapshot given as input is
    /// always verified before it is rewritten.)
    #[arg(long)]
    verify: bool,

    /// Twins per compressed block: larger blocks make a smaller file and slower single-twin
    /// reads.
    #[arg(long, value_name = "N", default_value_t = WriteOptions::default().block_rows,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    block_rows: u32,

    #[command(flatten)]
    inputs: Inputs,
}

pub fn run(args: IndexArgs) -> Result<(), Failure> {
    let started = Instant::now();
    // A snapshot holds every column.
    let fleet = args.inputs.load(Metadata::Read)?;
    let load = started.elapsed();
    let opts = WriteOptions {
        block_rows: args.block_rows,
        ..WriteOptions::default()
    };
    let summary = write_with_progress(&fleet, &args.output, opts)?;
    let name = args.output.display();
    if args.verify {
        Fleet::open_with(&args.output, &OpenOptions { verify: true })?;
    }
    let input_bytes = fleet.report().bytes;
    note(format_args!(
        "wrote {name}: {} twins, {} paths, {} ({:.0}% of the inputs' {}) in {:.1} s \
         (load {:.1} s, write {:.1} s){}",
        count(u64::from(fleet.store().len())),
        count(fleet.store().columns().len() as u64),
        bytes(summary.bytes),
        100.0 * summary.bytes as f64 / input_bytes.max(1) as f64,
        bytes(input_bytes),
        started.elapsed().as_secs_f64(),
        load.as_secs_f64(),
        summary.elapsed_ms / 1000.0,
        if args.verify { "; verified" } else { "" }
    ));
    Ok(())
}

/// Writes the snapshot, drawing a progress bar of twins written on stderr when it is a
/// terminal and the write takes longer than a second.
fn write_with_progress(
    fleet: &Fleet,
    path: &std::path::Path,
    mut opts: WriteOptions,
) -> Result<WriteSummary, LoadError> {
    if !std::io::stderr().is_terminal() {
        return fleet.write_snapshot_with(path, &opts);
    }
    let progress = Arc::new(AtomicU64::new(0));
    opts.progress = Some(Arc::clone(&progress));
    let total = u64::from(fleet.store().len());
    with_progress(
        || fleet.write_snapshot_with(path, &opts),
        || {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "writing twins {bar:30} {human_pos}/{human_len} ({per_sec}, {eta} left)",
            ) {
                bar.set_style(style);
            }
            bar
        },
        |bar| bar.set_position(progress.load(Ordering::Relaxed)),
    )
}
