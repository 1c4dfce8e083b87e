//! Shows what a `differential` fuzz input means, and replays any fuzz input through its target:
//!
//! ```text
//! cargo run --example fuzz_case -- differential fuzz/artifacts/differential/crash-...
//! cargo run --example fuzz_case -- sql_roundtrip FILE...
//! ```
//!
//! For `differential` it prints the fleet (JSON Lines) and the query before running the check,
//! so a failure can be turned into a golden case or a unit test.

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().unwrap_or_default();
    let entry: fn(&[u8]) = match target.as_str() {
        "sql_roundtrip" => twindex::fuzzing::sql_roundtrip,
        "ingest_record" => twindex::fuzzing::ingest_record,
        "ingest_file" => twindex::fuzzing::ingest_file,
        "differential" => twindex::fuzzing::differential,
        "snapshot_open" => twindex::fuzzing::snapshot_open,
        _ => {
            eprintln!(
                "usage: fuzz_case sql_roundtrip|ingest_record|ingest_file|differential|snapshot_open FILE..."
            );
            std::process::exit(2);
        }
    };
    for path in args {
        let data = std::fs::read(&path).unwrap_or_else(|e| {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        });
        println!("== {path}");
        if target == "differential" {
            let case = twindex::fuzzing::differential_case(&data);
            println!("-- fleet (one record per chunk: {})", case.one_per_chunk);
            for line in &case.lines {
                println!("{line}");
            }
            println!("-- query\n{}", case.sql);
        }
        entry(&data);
        println!("-- ok");
    }
}
