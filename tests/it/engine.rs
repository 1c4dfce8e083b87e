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
        Ok(Value::Array(rows_checked(&fleet, query)?))
    }
}

/// The rows of `query` as values, after checking that the JSON text rows (`Results::json`,
/// what `--format json` prints) are those values serialized, byte for byte.
pub fn rows_checked(fleet: &Fleet, query: &str) -> Result<Vec<Value>, String> {
    let rows: Vec<Value> = fleet.query(query).map_err(|e| e.render(query))?.collect();
    let text: Vec<String> = fleet
        .query(query)
        .map_err(|e| e.render(query))?
        .json()
        .collect();
    let want: Vec<String> = rows.iter().map(Value::to_string).collect();
    if text != want {
        return Err(format!(
            "JSON text rows differ from the values\n  text:   {text:?}\n  values: {want:?}"
        ));
    }
    Ok(rows)
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

#[test]
fn pages_cover_every_result_once_and_tokens_are_bound_to_their_query() {
    let fixture = golden::fixture_path("export");
    let fleet = Fleet::load(&[fixture.to_str().unwrap()]).unwrap();
    let sql = "SELECT deviceId, moduleId FROM devices.modules";
    let all: Vec<Value> = fleet.query(sql).unwrap().collect();
    assert!(all.len() >= 2, "fixture needs several modules");
    let mut paged = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = fleet.query_page(sql, 1, token.as_deref()).unwrap();
        assert!(page.items.len() <= 1);
        paged.extend(page.items);
        match page.continuation {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(paged, all);
    let first = fleet.query_page(sql, 1, None).unwrap();
    let err = fleet
        .query_page("SELECT * FROM devices", 1, first.continuation.as_deref())
        .unwrap_err();
    assert_eq!(
        err.message,
        "the continuation token does not belong to this query"
    );
    assert!(fleet.query_page(sql, 1, Some("garbage")).is_err());
}

/// `ORDER BY path TOP n` over an indexed path walks the index; mixed types, undefined values
/// and objects must still come in the reference's order, ties in row order.
#[test]
fn order_by_top_over_an_index_matches_the_reference() {
    let fixture = golden::fixture_path("mixed");
    for path in [
        "tags.n",
        "tags.x",
        "tags.obj",
        "tags.arr",
        "status",
        "tags.nothing",
    ] {
        for dir in ["", " DESC"] {
            for top in [1, 2, 3, 5] {
                let sql = format!("SELECT TOP {top} deviceId FROM devices ORDER BY {path}{dir}");
                let want = golden::reference_engine(&fixture, &sql);
                let got = engine_with(LoadOptions::default().chunk_bytes)(&fixture, &sql);
                assert_eq!(got, want, "{sql}");
            }
        }
    }
}

/// Results larger than one batch, shaped in parallel parts: the JSON text rows are still the
/// values serialized, in order (whole twins, plain paths, expressions, an aggregate).
#[test]
fn json_text_rows_hold_across_batches_and_parts() {
    let mut input = Vec::new();
    let opts = twindex::gen::GenOptions {
        // Past one batch of plain-path text rows (16 x 2048), shared out between threads.
        devices: 34_000,
        seed: 7,
        ..Default::default()
    };
    twindex::gen::generate(&opts, &mut input).unwrap();
    let fleet =
        Fleet::from_bytes(vec![("gen.jsonl".into(), input)], &LoadOptions::default()).unwrap();
    for sql in [
        "SELECT * FROM devices",
        "SELECT * FROM devices.modules",
        "SELECT deviceId, tags.location.region, properties.reported.battery FROM devices",
        // Plain paths to leaves of every kind (written column by column): strings with and
        // without a dictionary, packed timestamps, numbers, booleans.
        "SELECT deviceId, lastActivityTime, status, capabilities.iotEdge, tags.location.region, \
         properties.reported.battery, etag FROM devices",
        // And to objects (written from the twin).
        "SELECT deviceId, tags, properties.reported.telemetryConfig FROM devices",
        "SELECT deviceId FROM devices WHERE STARTSWITH(deviceId, 'dev-00')",
        "SELECT deviceId, properties.reported.battery * 2 AS twice FROM devices",
        "SELECT TOP 33000 deviceId FROM devices ORDER BY properties.reported.battery DESC",
        "SELECT COUNT() AS n FROM devices",
    ] {
        let rows = rows_checked(&fleet, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert!(!rows.is_empty(), "{sql}");
        if !sql.contains("COUNT") && !sql.contains("modules") && !sql.contains("STARTSWITH") {
            assert!(rows.len() > 32 * 1024, "{sql}: only {} rows", rows.len());
        }
    }
}
