//! `twindex stats`: a census of the fleet, read from the store's columns and bitmap indexes
//! (no query runs): inputs, totals, the system properties people filter on, the commonest tag
//! values, every path with its types, and what the load cost.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};

use clap::{Args, ValueEnum};
use roaring::RoaringBitmap;
use serde::Serialize;
use serde_json::Value;

use super::error::Failure;
use super::input::{describe_finding, Inputs, Metadata};
use super::output::{bytes, count, cut_middle, Table};
use super::query::ms;
use crate::index::IndexKey;
use crate::ingest::{FileReport, ReportedFinding};
use crate::store::{Column, Kind, Store};
use crate::Fleet;

/// Print a census of the fleet.
///
/// Inputs, totals, counts by status, connectionState, authenticationType and
/// capabilities.iotEdge (devices and modules apart, undefined included), the top values of
/// indexed tags, every path with its presence, types and distinct values, and load time,
/// throughput and memory. Read from the columns and indexes: no query runs.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Output format: readable tables, or one JSON object with everything.
    #[arg(short, long, value_enum, default_value_t = StatsFormat::Table)]
    format: StatsFormat,

    #[command(flatten)]
    inputs: Inputs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StatsFormat {
    Table,
    Json,
}

/// The system properties counted by value, split into devices and modules.
const SYSTEM_PATHS: &[&str] = &[
    "status",
    "connectionState",
    "authenticationType",
    "capabilities.iotEdge",
];

/// How many values of each indexed tag path are listed.
const TOP_TAG_VALUES: usize = 5;

/// How many paths the table lists (JSON lists all).
const TABLE_PATHS: usize = 60;

/// Widest a path gets in the table; longer ones lose their middle, keeping both ends.
const PATH_WIDTH: usize = 64;

pub fn run(args: StatsArgs) -> Result<(), Failure> {
    // The path census lists every column.
    let fleet = args.inputs.load(Metadata::Read)?;
    let census = Census::of(&fleet);
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        StatsFormat::Json => serde_json::to_writer_pretty(&mut out, &census)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        StatsFormat::Table => census.write_tables(&mut out),
    }
    .and_then(|()| out.flush())
    .map_err(Failure::stdout)
}

/// Everything `stats` says, as `--format json` prints it.
#[derive(Debug, Serialize)]
pub struct Census<'f> {
    pub inputs: &'f [FileReport],
    pub totals: Totals,
    pub load: LoadCost,
    /// Counts by value of [`SYSTEM_PATHS`].
    pub system: Vec<ValueCounts>,
    /// The commonest values of each indexed path under `tags.`.
    pub tags: Vec<TagValues>,
    /// Every column, sorted by path.
    pub paths: Vec<PathCensus>,
    pub findings: Findings<'f>,
}

#[derive(Debug, Serialize)]
pub struct Totals {
    pub records: u64,
    pub devices: u64,
    pub modules: u64,
    /// Records not loaded (not JSON, not an object, too large).
    pub skipped: u64,
    /// Records loaded that break a content rule.
    pub with_findings: u64,
    pub paths: usize,
    pub indexed_paths: usize,
}

#[derive(Debug, Serialize)]
pub struct LoadCost {
    pub ms: f64,
    pub bytes: u64,
    pub gb_per_s: f64,
    /// Columns, dictionaries, bitmaps and row table.
    pub heap_bytes: u64,
    /// Inputs held in memory rather than mapped (decompressed `.gz`, standard input).
    pub owned_input_bytes: u64,
    /// The two together.
    pub memory_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct ValueCounts {
    pub path: String,
    /// Distinct values, commonest first (ties by value order).
    pub values: Vec<ValueCount>,
    /// Twins that have no value here (or only an object or array value).
    pub undefined: Split,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Split {
    pub devices: u64,
    pub modules: u64,
}

#[derive(Debug, Serialize)]
pub struct ValueCount {
    pub value: Value,
    pub devices: u64,
    pub modules: u64,
}

#[derive(Debug, Serialize)]
pub struct TagValues {
    pub path: String,
    /// Twins that have the path.
    pub present: u64,
    pub distinct: usize,
    pub top: Vec<TopValue>,
}

#[derive(Debug, Serialize)]
pub struct TopValue {
    pub value: Value,
    pub count: u64,
}

#[derive(Debug, Serialize)]
pub struct PathCensus {
    pub path: String,
    /// Twins that have a value here.
    pub present: u64,
    /// Values by type (`string`, `integer`, `float`, `bool`, `null`, `object`, `array`).
    pub types: BTreeMap<&'static str, u64>,
    /// Distinct primitive values when indexed, else distinct strings when the column is
    /// dictionary-coded; unknown otherwise.
    pub distinct: Option<usize>,
    pub indexed: bool,
}

#[derive(Debug, Serialize)]
pub struct Findings<'f> {
    pub skipped: u64,
    pub with_findings: u64,
    /// Findings by rule.
    pub rules: &'f BTreeMap<&'static str, u64>,
    /// The first findings, in input order.
    pub first: &'f [ReportedFinding],
}

impl<'f> Census<'f> {
    pub fn of(fleet: &'f Fleet) -> Census<'f> {
        let store = fleet.store();
        let report = fleet.report();
        let heap = store.heap_bytes() as u64;
        let owned = store.owned_input_bytes() as u64;
        let mut paths: Vec<PathCensus> = store.columns().iter().map(path_census).collect();
        paths.sort_by(|a, b| a.path.cmp(&b.path));
        let mut tags: Vec<TagValues> = store
            .columns()
            .iter()
            .filter(|c| c.dotted().starts_with("tags."))
            .filter_map(tag_values)
            .collect();
        tags.sort_by(|a, b| a.path.cmp(&b.path));
        Census {
            inputs: &report.files,
            totals: Totals {
                records: report.records,
                devices: report.devices,
                modules: report.modules,
                skipped: report.skipped,
                with_findings: report.invalid_records,
                paths: paths.len(),
                indexed_paths: paths.iter().filter(|p| p.indexed).count(),
            },
            load: LoadCost {
                ms: ms(report.elapsed),
                bytes: report.bytes,
                gb_per_s: (report.throughput() / 1e9 * 1000.0).round() / 1000.0,
                heap_bytes: heap,
                owned_input_bytes: owned,
                memory_bytes: heap + owned,
            },
            system: SYSTEM_PATHS
                .iter()
                .map(|p| value_counts(store, p))
                .collect(),
            tags,
            paths,
            findings: Findings {
                skipped: report.skipped,
                with_findings: report.invalid_records,
                rules: &report.rule_counts,
                first: &report.findings,
            },
        }
    }

    pub fn write_tables(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "inputs")?;
        let mut t = Table::new(["name", "layout", "bytes", "records", "skipped"]);
        for c in [2, 3, 4] {
            t.align_right(c);
        }
        for f in self.inputs {
            let layout = serde_json::to_value(f.layout).unwrap_or(Value::Null);
            t.push([
                f.name.clone(),
                layout.as_str().unwrap_or("").to_string(),
                bytes(f.bytes),
                count(f.records),
                count(f.skipped),
            ]);
        }
        t.write(out, "  ")?;

        let tot = &self.totals;
        writeln!(out, "\ntotals")?;
        writeln!(
            out,
            "  {} records: {} devices, {} modules; {} paths, {} indexed",
            count(tot.records),
            count(tot.devices),
            count(tot.modules),
            count(tot.paths as u64),
            count(tot.indexed_paths as u64)
        )?;

        let l = &self.load;
        writeln!(out, "\nload")?;
        writeln!(
            out,
            "  {} in {:.1} ms ({:.3} GB/s); memory {} (columns and indexes {}, inputs held {})",
            bytes(l.bytes),
            l.ms,
            l.gb_per_s,
            bytes(l.memory_bytes),
            bytes(l.heap_bytes),
            bytes(l.owned_input_bytes)
        )?;

        for v in &self.system {
            writeln!(out)?;
            let mut t = Table::new([v.path.as_str(), "devices", "modules"]);
            t.align_right(1);
            t.align_right(2);
            for c in &v.values {
                t.push([text(&c.value), count(c.devices), count(c.modules)]);
            }
            if v.undefined.devices + v.undefined.modules > 0 {
                t.push([
                    "(undefined)".to_string(),
                    count(v.undefined.devices),
                    count(v.undefined.modules),
                ]);
            }
            t.write(out, "  ")?;
        }

        writeln!(
            out,
            "\ntags: top {TOP_TAG_VALUES} values of each indexed path"
        )?;
        if self.tags.is_empty() {
            writeln!(out, "  (no indexed tag paths)")?;
        } else {
            let mut t = Table::new(["path", "present", "distinct", "top values"]).max_cell(100);
            t.align_right(1);
            t.align_right(2);
            for tag in &self.tags {
                let top: Vec<String> = tag
                    .top
                    .iter()
                    .map(|v| format!("{} ({})", text(&v.value), count(v.count)))
                    .collect();
                t.push([
                    tag.path.clone(),
                    count(tag.present),
                    count(tag.distinct as u64),
                    top.join(", "),
                ]);
            }
            t.write(out, "  ")?;
        }

        writeln!(out, "\npaths")?;
        let mut t =
            Table::new(["path", "present", "types", "distinct", "indexed"]).max_cell(PATH_WIDTH);
        t.align_right(1);
        t.align_right(3);
        for p in self.paths.iter().take(TABLE_PATHS) {
            let types: Vec<String> = if p.types.len() == 1 {
                p.types.keys().map(|k| k.to_string()).collect()
            } else {
                let mut by_count: Vec<_> = p.types.iter().collect();
                by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                by_count
                    .into_iter()
                    .map(|(k, n)| format!("{k} {}", count(*n)))
                    .collect()
            };
            t.push([
                cut_middle(&p.path, PATH_WIDTH),
                count(p.present),
                types.join(", "),
                p.distinct.map_or(String::new(), |d| count(d as u64)),
                if p.indexed { "yes" } else { "no" }.to_string(),
            ]);
        }
        t.write(out, "  ")?;
        if self.paths.len() > TABLE_PATHS {
            writeln!(
                out,
                "  ({} more; use --format json)",
                count((self.paths.len() - TABLE_PATHS) as u64)
            )?;
        }

        let f = &self.findings;
        if f.skipped + f.with_findings > 0 {
            writeln!(out, "\nfindings")?;
            writeln!(
                out,
                "  skipped {}, loaded with content-rule findings {}",
                count(f.skipped),
                count(f.with_findings)
            )?;
            let rules: Vec<String> = f
                .rules
                .iter()
                .map(|(r, n)| format!("{r} {}", count(*n)))
                .collect();
            writeln!(out, "  by rule: {}", rules.join(", "))?;
            for finding in f.first.iter().take(5) {
                writeln!(out, "  {}", describe_finding(finding))?;
            }
        }
        Ok(())
    }
}

/// A value as a table shows it: strings bare, others as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn path_census(c: &Column) -> PathCensus {
    let mut types: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (byte, n) in c.kind_counts().into_iter().enumerate() {
        if n > 0 {
            *types.entry(Kind::of_byte(byte).name()).or_insert(0) += u64::from(n);
        }
    }
    let counts = c.kind_counts();
    let objects = counts[Kind::Object as usize] + counts[Kind::Array as usize];
    let primitives = c.len() as u32 - objects;
    PathCensus {
        path: c.dotted().to_string(),
        present: c.present().len(),
        types,
        distinct: if primitives == 0 {
            None
        } else {
            c.index()
                .map(|i| i.entries().len())
                .or_else(|| c.dictionary_len())
        },
        indexed: c.index().is_some(),
    }
}

/// A column's primitive values with the rows holding each: from its index when it has one,
/// else by reading every value (only for the few [`SYSTEM_PATHS`], which are indexed anyway).
fn values_of(c: &Column) -> Vec<(Value, RoaringBitmap)> {
    if let Some(index) = c.index() {
        return index
            .entries()
            .iter()
            .map(|(k, rows)| (k.to_json(), rows.clone()))
            .collect();
    }
    let mut by_value: Vec<(Value, RoaringBitmap)> = Vec::new();
    for (row, v) in c.iter() {
        let Some(key) = IndexKey::from_value(v) else {
            continue;
        };
        let key = key.to_json();
        match by_value.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rows)) => {
                rows.insert(row);
            }
            None => by_value.push((key, RoaringBitmap::from_iter([row]))),
        }
    }
    by_value
}

/// Counts by value of one path, over every spelling of it (paths match ignoring case).
fn value_counts(store: &Store, path: &str) -> ValueCounts {
    let segments: Vec<&str> = path.split('.').collect();
    let modules = store.modules();
    let mut values: Vec<(Value, RoaringBitmap)> = Vec::new();
    for &id in store.columns_for(&segments) {
        for (value, rows) in values_of(store.column(id)) {
            match values.iter_mut().find(|(v, _)| *v == value) {
                Some((_, all)) => *all |= rows,
                None => values.push((value, rows)),
            }
        }
    }
    let mut defined = RoaringBitmap::new();
    let mut counts: Vec<ValueCount> = values
        .into_iter()
        .map(|(value, rows)| {
            let in_modules = rows.intersection_len(modules);
            defined |= &rows;
            ValueCount {
                value,
                devices: rows.len() - in_modules,
                modules: in_modules,
            }
        })
        .collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.devices + c.modules));
    let defined_modules = defined.intersection_len(modules);
    let total_modules = modules.len();
    let total_devices = u64::from(store.len()) - total_modules;
    ValueCounts {
        path: path.to_string(),
        values: counts,
        undefined: Split {
            devices: total_devices - (defined.len() - defined_modules),
            modules: total_modules - defined_modules,
        },
    }
}

/// The commonest values of an indexed tag path (none for a path without primitive values).
fn tag_values(c: &Column) -> Option<TagValues> {
    let entries = c.index()?.entries();
    if entries.is_empty() {
        return None;
    }
    let mut top: Vec<TopValue> = entries
        .iter()
        .map(|(k, rows)| TopValue {
            value: k.to_json(),
            count: rows.len(),
        })
        .collect();
    // Stable: ties keep the index's value order.
    top.sort_by_key(|t| std::cmp::Reverse(t.count));
    top.truncate(TOP_TAG_VALUES);
    Some(TagValues {
        path: c.dotted().to_string(),
        present: c.present().len(),
        distinct: entries.len(),
        top,
    })
}
