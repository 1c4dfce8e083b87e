//! The load report of the load that made a snapshot, kept as JSON (a few KB: the findings
//! kept are capped by `LoadOptions::keep_findings`), so that `stats` on a snapshot still lists
//! the inputs, counts and findings.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::ingest::{FileReport, LoadReport, Phases, ReportedFinding, Rule};

#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    files: Vec<FileReport>,
    records: u64,
    devices: u64,
    modules: u64,
    skipped: u64,
    invalid_records: u64,
    rule_counts: BTreeMap<String, u64>,
    findings: Vec<SavedFinding>,
    bytes: u64,
    elapsed_ms: f64,
    phases: Phases,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SavedFinding {
    file: String,
    line: u64,
    byte: u64,
    rule: String,
    path: String,
    detail: String,
}

pub fn encode(r: &LoadReport) -> Vec<u8> {
    let saved = Saved {
        files: r.files.clone(),
        records: r.records,
        devices: r.devices,
        modules: r.modules,
        skipped: r.skipped,
        invalid_records: r.invalid_records,
        rule_counts: r
            .rule_counts
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        findings: r
            .findings
            .iter()
            .map(|f| SavedFinding {
                file: f.file.clone(),
                line: f.line,
                byte: f.byte,
                rule: f.rule.to_string(),
                path: f.path.clone(),
                detail: f.detail.clone(),
            })
            .collect(),
        bytes: r.bytes,
        elapsed_ms: r.elapsed.as_secs_f64() * 1000.0,
        phases: r.phases,
    };
    // Plain data with string keys: serialization cannot fail.
    serde_json::to_vec(&saved).unwrap_or_default()
}

fn rule(name: &str) -> Result<&'static str, String> {
    Rule::ALL
        .iter()
        .map(|r| r.name())
        .find(|n| *n == name)
        .ok_or_else(|| format!("report: unknown rule '{name}'"))
}

pub fn decode(bytes: &[u8]) -> Result<LoadReport, String> {
    let s: Saved = serde_json::from_slice(bytes).map_err(|e| format!("report: {e}"))?;
    let rule_counts = s
        .rule_counts
        .iter()
        .map(|(k, v)| Ok((rule(k)?, *v)))
        .collect::<Result<_, String>>()?;
    let findings = s
        .findings
        .into_iter()
        .map(|f| {
            Ok(ReportedFinding {
                rule: rule(&f.rule)?,
                file: f.file,
                line: f.line,
                byte: f.byte,
                path: f.path,
                detail: f.detail,
            })
        })
        .collect::<Result<_, String>>()?;
    let elapsed = Duration::try_from_secs_f64(s.elapsed_ms / 1000.0).unwrap_or_default();
    Ok(LoadReport {
        files: s.files,
        records: s.records,
        devices: s.devices,
        modules: s.modules,
        skipped: s.skipped,
        invalid_records: s.invalid_records,
        rule_counts,
        findings,
        bytes: s.bytes,
        elapsed,
        phases: s.phases,
        snapshot: None,
    })
}
