//! The `twindex` command-line tool: one file per subcommand, output writers, and the one place
//! that prints.
//!
//! Arguments go through two stages, as in ripgrep: clap turns the command line into validated
//! `*Args` structs, then each subcommand's `run` resolves them into resources (a loaded
//! [`Fleet`](crate::Fleet), an open output file) and does its work. A subcommand returns a
//! [`Failure`] instead of printing it; [`main`] prints it once and picks the exit code:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success, including a reader that closed standard output early (`twindex ... \| head`) |
//! | 1 | an input could not be loaded, or output could not be written |
//! | 2 | the query is wrong (rendered with a caret under the span), or the command line is |

mod demo;
mod error;
mod explain;
mod gen;
mod index;
mod input;
mod output;
mod query;
mod stats;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::Failure;

/// Azure IoT Hub-style SQL over offline device-twin data.
///
/// Inputs are bulk exports (`devices.txt`, JSON Lines with export names) or twin dumps (a JSON
/// array or JSON Lines with twin names), optionally gzip-compressed; `-` reads standard input.
/// A snapshot written by `twindex index` is accepted wherever inputs are (alone).
#[derive(Debug, Parser)]
#[command(
    name = "twindex",
    version,
    propagate_version = true,
    after_help = "Examples:\n  \
        twindex query \"SELECT COUNT() AS n FROM devices WHERE status = 'enabled'\" devices.txt\n  \
        twindex explain \"SELECT deviceId FROM devices WHERE tags.location.region = 'US'\" twins.json\n  \
        twindex stats devices.txt.gz\n  \
        twindex validate devices.txt\n  \
        twindex index devices.txt -o fleet.twx && twindex stats fleet.twx\n  \
        twindex gen --devices 100000 -o fleet.jsonl\n  \
        twindex demo --devices 200000"
)]
pub struct Cli {
    /// Worker threads for loading and queries [default: one per core].
    #[arg(short = 'j', long, global = true, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Query(query::QueryArgs),
    Explain(explain::ExplainArgs),
    Stats(stats::StatsArgs),
    Gen(gen::GenArgs),
    Demo(demo::DemoArgs),
    Validate(validate::ValidateArgs),
    Index(index::IndexArgs),
}

/// Parses the process's arguments, runs the subcommand, prints any failure once and returns
/// the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with code 0; usage errors to stderr with code 2.
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    if let Some(n) = cli.threads {
        // Fails only if the global pool already exists, which cannot happen this early in a
        // process; the pool then simply keeps its size.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global();
    }
    match cli.command {
        Command::Query(args) => query::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Stats(args) => stats::run(args),
        Command::Gen(args) => gen::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Index(args) => index::run(args),
    }
}
