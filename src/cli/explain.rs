//! `twindex explain`: how a query runs over the inputs: which paths are indexed, which
//! conditions bitmaps answer, what is left to evaluate row by row, and the row counts.

use std::io::{self, BufWriter, Write};

use clap::{Args, ValueEnum};

use super::error::Failure;
use super::input::{Inputs, Metadata};
use super::query::ms;
use crate::Explain;

/// Show how a query runs: indexes used, per-row conditions, row counts.
///
/// Lists each path with its columns and whether bitmaps index them, the conditions bitmaps
/// answer and those evaluated row by row, and the estimated (candidate) and actual (matched)
/// row counts: the filter really runs, but no result is shaped.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,

    /// The query to explain.
    #[arg(value_name = "SQL")]
    sql: String,

    #[command(flatten)]
    inputs: Inputs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    /// Readable text.
    Text,
    /// The explanation as one JSON object.
    Json,
}

pub fn run(args: ExplainArgs) -> Result<(), Failure> {
    let sql = args.sql.as_str();
    crate::sql::parse(sql).map_err(|e| Failure::query(sql, e))?;
    let fleet = args.inputs.load(Metadata::of_query(sql))?;
    let explain = fleet.explain(sql).map_err(|e| Failure::query(sql, e))?;
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        ExplainFormat::Text => write_text(&explain, &mut out),
        ExplainFormat::Json => serde_json::to_writer_pretty(&mut out, &explain)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
    }
    .and_then(|()| out.flush())
    .map_err(Failure::stdout)
}

/// The explanation as text, e.g.:
///
/// ```text
/// query       SELECT * FROM devices WHERE tags.location.region = 'US'
/// collection  devices
/// paths
///   tags.location.region  indexed  (1 column)
/// where
///   by bitmap   tags.location.region = "US"  (value index)
/// rows
///   universe     1000  twins in the collection
///   matched       341  actual
/// filter      0.05 ms
/// shape       rows: SELECT *
/// ```
pub fn write_text(e: &Explain, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "query       {}", e.query)?;
    writeln!(out, "collection  {}", e.collection)?;
    if !e.paths.is_empty() {
        writeln!(out, "paths")?;
        let width = e.paths.iter().map(|p| p.path.len()).max().unwrap_or(0);
        for p in &e.paths {
            let how = if p.columns.is_empty() {
                "no column: undefined in every twin".to_string()
            } else {
                let status = if p.indexed { "indexed" } else { "not indexed" };
                let columns = if p.columns.len() == 1 && p.columns[0] == p.path {
                    String::new()
                } else {
                    format!(" → {}", p.columns.join(", "))
                };
                format!("{status}{columns}")
            };
            let array = if p.array_step {
                " (array steps evaluated per row)"
            } else {
                ""
            };
            writeln!(out, "  {:width$}  {how}{array}", p.path)?;
        }
    }
    let f = &e.filter;
    if f.by_bitmap.is_empty() && f.residual.is_empty() {
        writeln!(out, "where       (none: every twin of the collection)")?;
    } else {
        writeln!(out, "where")?;
        for (i, c) in f.by_bitmap.iter().enumerate() {
            match f.bitmap_sources.get(i) {
                Some(how) => writeln!(out, "  by bitmap   {c}  ({how})")?,
                None => writeln!(out, "  by bitmap   {c}")?,
            }
        }
        for c in &f.residual {
            writeln!(out, "  per row     {c}")?;
        }
    }
    writeln!(out, "rows")?;
    let mut counts = vec![(
        "universe",
        f.universe,
        "twins in the collection".to_string(),
    )];
    if !f.residual.is_empty() {
        counts.push((
            "candidates",
            f.candidates,
            "estimated: left by bitmaps for the per-row conditions".to_string(),
        ));
    } else if !f.by_bitmap.is_empty() && f.irregular == 0 {
        counts.push((
            "candidates",
            f.matched,
            "exact: bitmaps answer every condition".to_string(),
        ));
    }
    if f.irregular > 0 {
        counts.push((
            "irregular",
            f.irregular,
            "keys that differ only by case: evaluated from the twin".to_string(),
        ));
    }
    counts.push(("matched", f.matched, "actual".to_string()));
    let digits = counts
        .iter()
        .map(|(_, n, _)| n.to_string().len())
        .max()
        .unwrap_or(1);
    for (name, n, note) in counts {
        writeln!(out, "  {name:<11} {n:>digits$}  {note}")?;
    }
    writeln!(
        out,
        "filter      {} ms",
        ms(std::time::Duration::from_secs_f64(e.filter_ms / 1000.0))
    )?;
    writeln!(out, "shape       {}", e.shape)?;
    if e.order_terms > 0 {
        writeln!(out, "order       {} term(s)", e.order_terms)?;
    }
    if let Some(top) = e.top {
        writeln!(out, "top         {top}")?;
    }
    Ok(())
}
