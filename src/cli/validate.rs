//! `twindex validate`: check inputs against the content rules of SPEC §1.3 and list every
//! finding, so an export can be checked before it is imported elsewhere. Exits 1 when any
//! record was skipped or breaks a rule.

use std::io::{self, BufWriter, Write};

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::error::Failure;
use super::input::{load_with_findings, plural};
use super::output::{count, Table};
use crate::ingest::{FileReport, ReportedFinding};
use crate::LoadReport;

/// Check inputs against the content rules (ids, key names, value sizes, depth, nulls in
/// arrays, section sizes) and list every finding with file, line, byte offset, path and rule.
///
/// Exits 0 when every record loads and follows the rules, 1 otherwise.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ValidateFormat::Table)]
    format: ValidateFormat,

    /// How many findings to list with their location (all are counted).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    max_findings: usize,

    /// Input files: JSON Lines or one JSON array, optionally gzip-compressed; `-` reads
    /// standard input.
    #[arg(value_name = "SOURCE", required = true)]
    sources: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ValidateFormat {
    Table,
    Json,
}

/// What `--format json` prints.
#[derive(Serialize)]
struct Validation<'r> {
    valid: bool,
    records: u64,
    skipped: u64,
    invalid_records: u64,
    rule_counts: &'r std::collections::BTreeMap<&'static str, u64>,
    files: &'r [FileReport],
    findings: &'r [ReportedFinding],
    /// Findings counted but not listed (over `--max-findings`).
    unlisted: u64,
}

pub fn run(args: ValidateArgs) -> Result<(), Failure> {
    let fleet = load_with_findings(&args.sources, args.max_findings)?;
    let report = fleet.report();
    let total: u64 = report.rule_counts.values().sum();
    let v = Validation {
        valid: report.skipped == 0 && report.invalid_records == 0,
        records: report.records,
        skipped: report.skipped,
        invalid_records: report.invalid_records,
        rule_counts: &report.rule_counts,
        files: &report.files,
        findings: &report.findings,
        unlisted: total.saturating_sub(report.findings.len() as u64),
    };
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        ValidateFormat::Json => serde_json::to_writer_pretty(&mut out, &v)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        ValidateFormat::Table => write_table(&v, report, &mut out),
    }
    .and_then(|()| out.flush())
    .map_err(Failure::stdout)?;
    if v.valid {
        Ok(())
    } else {
        Err(Failure::Invalid {
            summary: format!(
                "{} {} skipped, {} {} breaking content rules",
                count(v.skipped),
                plural(v.skipped, "record"),
                count(v.invalid_records),
                plural(v.invalid_records, "record")
            ),
        })
    }
}

fn write_table(v: &Validation<'_>, report: &LoadReport, out: &mut impl Write) -> io::Result<()> {
    let mut files = Table::new(["input", "records", "skipped"]);
    for f in &report.files {
        files.push([f.name.clone(), count(f.records), count(f.skipped)]);
    }
    files.align_right(1);
    files.align_right(2);
    files.write(out, "")?;
    writeln!(out)?;
    if !v.rule_counts.is_empty() {
        let mut rules = Table::new(["rule", "findings"]);
        for (rule, n) in v.rule_counts {
            rules.push([rule.to_string(), count(*n)]);
        }
        rules.align_right(1);
        rules.write(out, "")?;
        writeln!(out)?;
        let mut findings = Table::new(["where", "byte", "rule", "path", "detail"]).max_cell(80);
        for f in v.findings {
            findings.push([
                format!("{}:{}", f.file, f.line),
                f.byte.to_string(),
                f.rule.to_string(),
                f.path.clone(),
                f.detail.clone(),
            ]);
        }
        findings.align_right(1);
        findings.write(out, "")?;
        if v.unlisted > 0 {
            writeln!(out, "({} more; use --max-findings)", count(v.unlisted))?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{}: {} {} loaded, {} skipped, {} breaking content rules",
        if v.valid { "valid" } else { "invalid" },
        count(v.records),
        plural(v.records, "record"),
        count(v.skipped),
        count(v.invalid_records)
    )
}
