//! `twindex query`: run one query over the inputs and write its results.

use std::io::{self, BufWriter, Write};
use std::time::{Duration, Instant};

use clap::Args;

use super::error::{note, Failure};
use super::input::{Inputs, Metadata};
use super::output::{write_json_array, write_json_lines, write_rows, Format, TextRows};

/// Run a query and print its results.
///
/// The result is a JSON array of objects, exactly as IoT Hub returns it. `json` and `jsonl`
/// stream: rows are written as they are produced, so a query returning every twin of a large
/// fleet does not hold them all.
///
/// Exit codes: 0 success, 1 an input could not be loaded, 2 the query is wrong.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    twindex query \"SELECT COUNT() AS n FROM devices WHERE status = 'enabled'\" devices.txt\n  \
    twindex query -f csv \"SELECT deviceId, tags.location.region FROM devices\" twins.json.gz\n  \
    az iot hub query -q \"SELECT * FROM devices\" --top -1 | twindex query \"SELECT deviceId FROM devices\" -")]
pub struct QueryArgs {
    /// Output format [default: table on a terminal, json otherwise].
    #[arg(short, long, value_enum)]
    format: Option<Format>,

    /// Print load, plan and execution times (ms) as one JSON line on stderr.
    #[arg(long)]
    timings: bool,

    /// Run the query N times on one load (output is written once); --timings reports the
    /// median execution time.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,

    /// The query, e.g. "SELECT deviceId FROM devices WHERE status = 'disabled'".
    #[arg(value_name = "SQL")]
    sql: String,

    #[command(flatten)]
    inputs: Inputs,
}

pub fn run(args: QueryArgs) -> Result<(), Failure> {
    let sql = args.sql.as_str();
    // Parse before loading, so that a typo is reported before a large load, not after.
    let started = Instant::now();
    let query = crate::sql::parse(sql).map_err(|e| Failure::query(sql, e))?;
    let parse_time = started.elapsed();

    let started = Instant::now();
    let fleet = args.inputs.load(Metadata::of_query(sql))?;
    let load = started.elapsed();

    let started = Instant::now();
    let plan = crate::plan::plan(&query, fleet.store()).map_err(|e| Failure::query(sql, e))?;
    let plan_time = parse_time + started.elapsed();

    let store = fleet.store();
    let format = args.format.unwrap_or_else(Format::for_stdout);
    // The JSON formats take rows as text, which `SELECT *` writes without building values.
    let as_text = matches!(format, Format::Json | Format::Jsonl);
    let mut exec = Vec::with_capacity(args.repeat as usize);
    for _ in 1..args.repeat {
        let started = Instant::now();
        let results = crate::exec::execute(store, plan.clone());
        if as_text {
            let mut rows = results.json();
            while rows.next_row().is_some() {}
        } else {
            results.for_each(drop);
        }
        exec.push(started.elapsed());
    }

    // The run that prints: its execution time is the time spent producing rows, not writing
    // them, so that it compares with the silent runs.
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let started = Instant::now();
    let results = crate::exec::execute(store, plan);
    let mut producing = started.elapsed();
    let spent = &mut producing;
    let rows = match format {
        Format::Json => write_json_array(&mut Timed::new(results.json(), spent), &mut out),
        Format::Jsonl => write_json_lines(&mut Timed::new(results.json(), spent), &mut out),
        _ => write_rows(format, Timed::new(results, spent), &mut out),
    };
    let rows = rows.and_then(|n| out.flush().map(|()| n));
    let rows = rows.map_err(Failure::stdout)?;
    exec.push(producing);

    if args.timings {
        let line = serde_json::json!({
            "load_ms": ms(load),
            "plan_ms": ms(plan_time),
            "exec_ms": ms(median(&mut exec)),
            "rows": rows,
            "repeat": args.repeat,
        });
        note(line);
    }
    Ok(())
}

/// Milliseconds, to the microsecond.
pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    match times.len() {
        0 => Duration::ZERO,
        n if !n.is_multiple_of(2) => times[n / 2],
        n => (times[n / 2 - 1] + times[n / 2]) / 2,
    }
}

/// Counts the time spent pulling from an iterator (two clock reads a row: tens of
/// nanoseconds, against microseconds to shape a row).
struct Timed<'t, I> {
    inner: I,
    spent: &'t mut Duration,
}

impl<'t, I> Timed<'t, I> {
    fn new(inner: I, spent: &'t mut Duration) -> Self {
        Timed { inner, spent }
    }
}

impl<I: Iterator> Iterator for Timed<'_, I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let started = Instant::now();
        let next = self.inner.next();
        *self.spent += started.elapsed();
        next
    }
}

impl<R: TextRows> TextRows for Timed<'_, R> {
    fn next_text(&mut self) -> Option<&str> {
        let started = Instant::now();
        let next = self.inner.next_text();
        *self.spent += started.elapsed();
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let ms = Duration::from_millis;
        assert_eq!(median(&mut [ms(5), ms(1), ms(3)]), ms(3));
        assert_eq!(
            median(&mut [ms(4), ms(1), ms(3), ms(2)]),
            Duration::from_micros(2500)
        );
    }
}
