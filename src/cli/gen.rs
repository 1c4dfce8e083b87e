//! `twindex gen`: write a deterministic synthetic fleet.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};

use super::error::{note, Failure};
use super::output::{bytes, count};
use crate::gen::{generate, GenOptions, GenSummary, Layout, Shape};

/// Write a deterministic synthetic fleet.
///
/// The same options always give the same bytes. The fleet's distributions (regions, statuses, properties, modules, ...) are documented in
/// the library's `gen` module.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// Number of devices (module records come in addition, about 0.19 per device).
    #[arg(short = 'n', long, default_value_t = 1000)]
    pub devices: u64,

    /// Seed of the random stream.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Record names: `export` as in devices.txt, `twin` as `az iot hub query` prints them.
    #[arg(long, value_enum, default_value_t = GenShape::Export)]
    pub shape: GenShape,

    /// One compact record per line, or one pretty-printed JSON array.
    #[arg(long, value_enum, default_value_t = GenLayout::Jsonl)]
    pub layout: GenLayout,

    /// Leave out module records.
    #[arg(long)]
    pub no_modules: bool,

    /// Leave out `$metadata` and `$version` in desired and reported properties.
    #[arg(long)]
    pub no_metadata: bool,

    /// Export shape: leave out the members real exports lack (connectionState,
    /// lastActivityTime, statusUpdateTime, cloudToDeviceMessageCount, modelId, version,
    /// configurations).
    #[arg(long)]
    pub no_twin_fields: bool,

    /// Write to FILE instead of standard output (and print a summary on stderr).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenShape {
    Export,
    Twin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenLayout {
    Jsonl,
    Array,
}

impl GenArgs {
    pub fn options(&self) -> GenOptions {
        GenOptions {
            devices: self.devices,
            seed: self.seed,
            shape: match self.shape {
                GenShape::Export => Shape::Export,
                GenShape::Twin => Shape::Twin,
            },
            layout: match self.layout {
                GenLayout::Jsonl => Layout::JsonLines,
                GenLayout::Array => Layout::JsonArray,
            },
            modules: !self.no_modules,
            metadata: !self.no_metadata,
            twin_only_fields: !self.no_twin_fields,
        }
    }
}

pub fn run(args: GenArgs) -> Result<(), Failure> {
    let opts = args.options();
    let Some(path) = &args.output else {
        // `generate` hands over blocks of about 64 KiB, so standard output needs no buffer of
        // its own.
        generate(&opts, &mut io::stdout().lock()).map_err(Failure::stdout)?;
        return Ok(());
    };
    let started = Instant::now();
    let name = path.display().to_string();
    let summary = write_file(&opts, path).map_err(|e| Failure::io(format!("writing {name}"), e))?;
    note(format_args!(
        "{} to {name} in {:.2} s",
        describe(&summary),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// Generates into a file; also used by `demo`.
pub fn write_file(opts: &GenOptions, path: &std::path::Path) -> io::Result<GenSummary> {
    let mut file = File::create(path)?;
    let summary = generate(opts, &mut file)?;
    file.flush()?;
    Ok(summary)
}

/// `wrote 1,000 devices and 190 modules (1,190 records, 1.77 MB)`.
pub fn describe(s: &GenSummary) -> String {
    format!(
        "wrote {} devices and {} modules ({} records, {})",
        count(s.devices),
        count(s.modules),
        count(s.records),
        bytes(s.bytes)
    )
}
