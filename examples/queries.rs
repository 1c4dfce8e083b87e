//! Loads a fleet once and times queries (median of 5 runs, or `RUNS`, and the first run, which
//! pays for anything built on first use):
//! `[RUNS=n] cargo run --release --example queries -- [--json] FILE "SQL" ["SQL"...]`
//!
//! With `--json` the rows are produced as JSON text (`Results::json`, what `--format json`
//! prints) instead of values.

use std::time::Instant;

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let json = args.get(1).is_some_and(|a| a == "--json");
    if json {
        args.remove(1);
    }
    let fleet = twindex::Fleet::load(&args[1..2]).unwrap();
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5)
        .max(1);
    for sql in &args[2..] {
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..runs {
            let t = Instant::now();
            n = match fleet.query(sql) {
                Ok(rows) if json => {
                    let mut rows = rows.json();
                    let mut n = 0;
                    while rows.next_row().is_some() {
                        n += 1;
                    }
                    n
                }
                Ok(rows) => rows.count(),
                Err(e) => {
                    eprintln!("{}", e.render(sql));
                    break;
                }
            };
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let first = times.first().copied().unwrap_or(f64::NAN);
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
        println!("{median:>10.3} ms (first {first:>9.3} ms) {n:>8} rows  {sql}");
    }
}
