//! The fast engine (store, indexes, planner, parallel executor) held to the golden files.

use std::path::Path;

use serde_json::Value;
use twindex::{Fleet, LoadOptions};

use crate::golden;

fn engine_with(chunk_bytes: usize) -> impl Fn(&Path, &str) -> Result<Value, String> {
    move |fixture: &Path, query: &str| {
        let opts = LoadOptions {
            chunk_bytes,
            ..LoadOptions::default()
        };
        let fleet = Fleet::load_with(&[fixture.to_str().unwrap()], &opts)
            .map_err(|e| format!("fixture: {e}"))?;
        let rows = fleet.query(query).map_err(|e| e.render(query))?;
        Ok(Value::Array(rows.collect()))
    }
}

#[test]
fn golden_cases_hold_for_the_engine() {
    let (count, failures) = golden::run_all(&engine_with(LoadOptions::default().chunk_bytes));
    assert!(count > 50, "only {count} golden cases");
    assert!(
        failures.is_empty(),
        "{} of {count} golden cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Tiny chunks: every record in its own chunk, so column merging across chunks is exercised.
#[test]
fn golden_cases_hold_with_one_record_per_chunk() {
    let (_, failures) = golden::run_all(&engine_with(1));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
