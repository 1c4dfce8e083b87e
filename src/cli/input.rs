//! Loading the inputs named on the command line: a progress bar on a terminal for loads that
//! take a while, and the lenient mode's one-line warning about what was skipped or flagged.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::error::{note, Failure};
use crate::ingest::ReportedFinding;
use crate::{Fleet, LoadError, LoadOptions, LoadReport};

/// The inputs of a command that loads a fleet.
#[derive(Debug, Args)]
pub struct Inputs {
    /// Fail on the first record that is skipped or breaks a content rule (SPEC §1.3), instead
    /// of loading what can be loaded and warning on stderr.
    #[arg(long)]
    pub strict: bool,

    /// Input files: JSON Lines or one JSON array, optionally gzip-compressed; `-` reads
    /// standard input.
    #[arg(value_name = "SOURCE", required = true)]
    pub sources: Vec<String>,
}

/// A progress bar appears only for work (a load, a snapshot write) still running after this long.
const BAR_DELAY: Duration = Duration::from_secs(1);

impl Inputs {
    /// Loads the inputs; in lenient mode, warns on stderr about skipped and flagged records.
    /// `metadata`: whether the command reads inside `$metadata` objects, whose columns a load
    /// otherwise leaves for later (`LoadOptions::defer_metadata`): built by the load, they
    /// cost about a sixth of it; built later, a second pass over those objects that costs
    /// about twice that.
    pub fn load(&self, metadata: Metadata) -> Result<Fleet, Failure> {
        let fleet = load_paths(&self.sources, self.strict, metadata)?;
        warn_about_findings(fleet.report());
        Ok(fleet)
    }
}

/// Whether a command reads the members of `$metadata` objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metadata {
    /// It does (every column: `stats`, snapshots).
    Read,
    /// It does not, or only on first use.
    Deferred,
}

impl Metadata {
    /// For a query: read when its text names `$metadata` (in any case); a query that reaches
    /// one otherwise (an escaped name) still works, building the columns on first use.
    pub fn of_query(sql: &str) -> Metadata {
        if sql.to_ascii_lowercase().contains("$metadata") {
            Metadata::Read
        } else {
            Metadata::Deferred
        }
    }
}

/// Loads `sources`, drawing a progress bar on stderr when it is a terminal and the load takes
/// longer than [`BAR_DELAY`].
pub fn load_paths(
    sources: &[String],
    strict: bool,
    metadata: Metadata,
) -> Result<Fleet, LoadError> {
    let defer_metadata = metadata == Metadata::Deferred;
    if !std::io::stderr().is_terminal() {
        let opts = LoadOptions {
            strict,
            defer_metadata,
            ..LoadOptions::default()
        };
        return Fleet::load_with(sources, &opts);
    }
    let progress = Arc::new(AtomicU64::new(0));
    let opts = LoadOptions {
        strict,
        defer_metadata,
        progress: Some(Arc::clone(&progress)),
        ..LoadOptions::default()
    };
    let total = known_total(sources);
    let mut assembling = false;
    with_progress(
        || Fleet::load_with(sources, &opts),
        || new_bar(total),
        |bar| {
            let parsed = progress.load(Ordering::Relaxed);
            bar.set_position(parsed);
            // Parsing is done; merging columns and building indexes has no byte count.
            if !assembling && total.is_some_and(|t| parsed >= t) {
                assembling = true;
                if let Ok(style) = ProgressStyle::with_template(
                    "{spinner} parsed {total_bytes}; building columns and indexes ({elapsed})",
                ) {
                    bar.set_style(style);
                }
            }
            bar.tick();
        },
    )
}

/// Runs `work` on a scoped thread while this one draws a progress bar on stderr: made by
/// `new_bar` once the work has taken [`BAR_DELAY`], then given to `update` every 100 ms, and
/// cleared when the work is done. A panic in the work is passed on.
pub fn with_progress<T: Send>(
    work: impl FnOnce() -> T + Send,
    new_bar: impl Fn() -> ProgressBar,
    mut update: impl FnMut(&ProgressBar),
) -> T {
    std::thread::scope(|scope| {
        let (done, finished) = mpsc::channel();
        let worker = scope.spawn(move || {
            // The receiver outlives this thread (the scope joins it first), so this cannot fail.
            let _ = done.send(work());
        });
        let started = Instant::now();
        let mut bar: Option<ProgressBar> = None;
        loop {
            match finished.recv_timeout(Duration::from_millis(100)) {
                Ok(result) => {
                    if let Some(bar) = bar {
                        bar.finish_and_clear();
                    }
                    return result;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                // The worker panicked before sending: pass its panic on.
                Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
                    Err(panic) => std::panic::resume_unwind(panic),
                    Ok(()) => unreachable!("the worker sends before it returns"),
                },
            }
            if bar.is_none() && started.elapsed() >= BAR_DELAY {
                bar = Some(new_bar());
            }
            if let Some(bar) = &bar {
                update(bar);
            }
        }
    })
}

/// Loads for `validate`: lenient (every finding counted), keeping `keep` findings with their
/// location.
pub fn load_with_findings(sources: &[String], keep: usize) -> Result<Fleet, LoadError> {
    let opts = LoadOptions {
        keep_findings: keep,
        ..LoadOptions::default()
    };
    Fleet::load_with(sources, &opts)
}

/// The bytes a load will parse, when the sizes on disk say so (not for standard input or
/// compressed files, whose parsed size is only known once they are read).
fn known_total(sources: &[String]) -> Option<u64> {
    sources.iter().try_fold(0u64, |sum, s| {
        if s == "-" || s.ends_with(".gz") {
            return None;
        }
        std::fs::metadata(s).ok().map(|m| sum + m.len())
    })
}

fn new_bar(total: Option<u64>) -> ProgressBar {
    match total {
        Some(total) => {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "loading {bar:30} {bytes}/{total_bytes} ({binary_bytes_per_sec}, {eta} left)",
            ) {
                bar.set_style(style);
            }
            bar
        }
        None => {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} loading {bytes} ({binary_bytes_per_sec})")
            {
                bar.set_style(style);
            }
            bar
        }
    }
}

/// In lenient mode a load that skipped records or found content-rule violations still
/// succeeds (SPEC §1.3), after one line saying so.
pub fn warn_about_findings(report: &LoadReport) {
    if let Some(line) = findings_summary(report) {
        note(format_args!("warning: {line}"));
    }
}

/// `skipped 3 records, 2 with content-rule findings; first: f.jsonl:4 (byte 120): reason`.
pub fn findings_summary(report: &LoadReport) -> Option<String> {
    let (skipped, invalid) = (report.skipped, report.invalid_records);
    if skipped == 0 && invalid == 0 {
        return None;
    }
    let mut line = match (skipped, invalid) {
        (0, n) => format!("{n} {} with content-rule findings", plural(n, "record")),
        (s, 0) => format!("skipped {s} {}", plural(s, "record")),
        (s, n) => format!(
            "skipped {s} {}, {n} with content-rule findings",
            plural(s, "record")
        ),
    };
    if let Some(first) = report.findings.first() {
        line.push_str("; first: ");
        line.push_str(&describe_finding(first));
    }
    Some(line)
}

/// `file:line (byte N): what`, in the words of [`LoadError`]'s messages.
pub fn describe_finding(f: &ReportedFinding) -> String {
    let at = format!("{}:{} (byte {})", f.file, f.line, f.byte);
    if f.rule == "skipped" {
        format!("{at}: {}", f.detail)
    } else if f.path.is_empty() {
        format!("{at}: {} ({})", f.detail, f.rule)
    } else {
        format!("{at}: {}: {} ({})", f.path, f.detail, f.rule)
    }
}

pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::Metadata;

    #[test]
    fn a_query_naming_metadata_in_any_case_reads_it() {
        for sql in [
            "SELECT properties.desired.$metadata.$lastUpdated FROM devices",
            "SELECT COUNT() FROM devices WHERE IS_DEFINED(Properties.Reported.$METADATA.x)",
        ] {
            assert_eq!(Metadata::of_query(sql), Metadata::Read, "{sql}");
        }
        assert_eq!(
            Metadata::of_query("SELECT * FROM devices WHERE properties.desired.$version > 1"),
            Metadata::Deferred
        );
    }
}
