//! `$metadata` members deferred by the load (`LoadOptions::defer_metadata`, the default) and
//! columnised on first use: the same store as a load that builds them at once, the same
//! answers, and built only when something reads inside a `$metadata`.

use crate::generated;
use proptest::prelude::*;
use serde_json::Value;
use twindex::fuzzing::deferral_agrees;
use twindex::gen::{Layout, Shape};
use twindex::{Fleet, LoadOptions};

fn load(bytes: &[u8], defer_metadata: bool) -> Fleet {
    let opts = LoadOptions {
        defer_metadata,
        ..LoadOptions::default()
    };
    Fleet::from_bytes(vec![("fleet".into(), bytes.to_vec())], &opts).expect("loads")
}

fn answer(fleet: &Fleet, sql: &str) -> Vec<Value> {
    fleet
        .query(sql)
        .unwrap_or_else(|e| panic!("{}", e.render(sql)))
        .collect()
}

#[test]
fn generated_fleets_defer_and_agree() {
    for shape in [Shape::Export, Shape::Twin] {
        for layout in [Layout::JsonLines, Layout::JsonArray] {
            let bytes = generated(shape, layout, 400, 17);
            for chunk_bytes in [1, 4096, 1 << 20] {
                let deferred = deferral_agrees(&[("fleet", &bytes)], chunk_bytes)
                    .unwrap_or_else(|e| panic!("{shape:?} {layout:?} {chunk_bytes}: {e}"));
                assert!(deferred > 400, "{shape:?} {layout:?}: {deferred} deferred");
            }
        }
    }
}

/// `{"desired":{"x":1,"$metadata":<m>}}`, as a twin and as an export line.
fn with_metadata(m: &str) -> [String; 2] {
    let props = format!(
        r#""properties":{{"desired":{{"x":1,"$metadata":{m},"$version":2}},"reported":{{"$metadata":{{"$lastUpdated":"2024-01-01T00:00:00Z"}}}}}}"#
    );
    [
        format!(r#"{{"deviceId":"d","status":"enabled",{props}}}"#),
        format!(r#"{{"id":"e","eTag":"x","authentication":{{"type":"sas"}},{props}}}"#),
    ]
}

/// What may be inside a `$metadata`, and what the load must still treat exactly as it would
/// without deferral: keys colliding by case or repeated (irregular rows), `-0`, numbers and
/// arrays the fast path declines, escapes, nesting past the fast path's limit and past the
/// parser's, and JSON that does not parse (a skipped record either way).
const METADATA: &[&str] = &[
    r#"{"$lastUpdated":"2024-01-01T00:00:00Z","x":{"$lastUpdated":"2024-01-02T00:00:00.1234567Z","$lastUpdatedVersion":3}}"#,
    r#"{}"#,
    r#"{"a":1,"A":2}"#,
    r#"{"a":{"b":1,"B":{"c":2}}}"#,
    r#"{"a":1,"a":2}"#,
    r#"{"a":-0}"#,
    r#"{"a":-0.0,"b":1e5,"c":12345678901234567890,"d":0.1234567890123456789}"#,
    r#"{"a":[1.5,null,{"b":1},[2]],"b":[],"c":["x",true,3]}"#,
    r#"{"a":"\u00e9\n\ud83d\ude00","k\"ey":true,"é":null,"\u0041":1}"#,
    r#"{"a b":1,"c.d":2,"$e":3}"#,
    r#"{"a":1,}"#,
    r#"{"a":"unterminated}"#,
    r#"{"a":"\ud800"}"#,
    r#"{"a" 1}"#,
];

#[test]
fn whatever_a_metadata_holds_loads_as_without_deferral() {
    let deep = |levels: usize| format!("{}1{}", r#"{"a":"#.repeat(levels), "}".repeat(levels));
    let mut inputs: Vec<String> = METADATA.iter().map(|m| m.to_string()).collect();
    // The fast path reads 64 levels; the parser 127 (a deeper record is skipped).
    inputs.extend([deep(60), deep(70), deep(130)]);
    let mut all = Vec::new();
    for m in &inputs {
        for record in with_metadata(m) {
            deferral_agrees(&[("one", record.as_bytes())], 4096)
                .unwrap_or_else(|e| panic!("{record}\n{e}"));
            all.push(record);
        }
    }
    let all = all.join("\n");
    for chunk_bytes in [1, 300, 1 << 20] {
        deferral_agrees(&[("all", all.as_bytes())], chunk_bytes)
            .unwrap_or_else(|e| panic!("{chunk_bytes}: {e}"));
    }
}

#[test]
fn only_a_sections_own_metadata_object_is_deferred() {
    let records = [
        // Deferred: the exact spelling, an object, at `properties.desired` / `.reported`.
        (
            r#"{"deviceId":"d","properties":{"reported":{"$metadata":{"a":1}}}}"#,
            1,
        ),
        (
            r#"{"id":"d","moduleId":"m","properties":{"desired":{"$metadata":{"a":1}},"reported":{"$metadata":{"a":1}}}}"#,
            2,
        ),
        // Not: other spellings, other places, other values.
        (
            r#"{"deviceId":"d","properties":{"desired":{"$Metadata":{"a":1}}}}"#,
            0,
        ),
        (
            r#"{"deviceId":"d","properties":{"Desired":{"$metadata":{"a":1}}}}"#,
            0,
        ),
        (
            r#"{"deviceId":"d","Properties":{"desired":{"$metadata":{"a":1}}}}"#,
            0,
        ),
        (
            r#"{"deviceId":"d","properties":{"desired":{"x":{"$metadata":{"a":1}}}}}"#,
            0,
        ),
        (
            r#"{"deviceId":"d","properties":{"other":{"$metadata":{"a":1}}}}"#,
            0,
        ),
        (r#"{"deviceId":"d","tags":{"$metadata":{"a":1}}}"#, 0),
        (r#"{"deviceId":"d","$metadata":{"a":1}}"#, 0),
        (
            r#"{"deviceId":"d","properties":{"desired":{"$metadata":"text"}}}"#,
            0,
        ),
        (
            r#"{"deviceId":"d","properties":{"desired":{"$metadata":[{"a":1}]}}}"#,
            0,
        ),
        (
            r#"{"deviceId":"d","properties":{"desired":{"$metadata":null}}}"#,
            0,
        ),
        // Both spellings in one object: the exact one is deferred, the rows irregular.
        (
            r#"{"deviceId":"d","properties":{"desired":{"$metadata":{"a":1},"$METADATA":{"b":2}}}}"#,
            1,
        ),
    ];
    for (record, want) in records {
        let got = deferral_agrees(&[("one", record.as_bytes())], 4096)
            .unwrap_or_else(|e| panic!("{record}\n{e}"));
        assert_eq!(got, want, "{record}");
    }
}

#[test]
fn columns_are_built_when_a_query_first_reads_inside_a_metadata() {
    let bytes = generated(Shape::Export, Layout::JsonLines, 300, 5);
    let (deferred, eager) = (load(&bytes, true), load(&bytes, false));
    assert!(deferred.store().has_deferred());
    assert!(!eager.store().has_deferred());
    let loaded_columns = deferred.store().built_columns().len();
    assert!(loaded_columns < eager.store().columns().len());
    assert!(deferred.store().heap_bytes() < eager.store().heap_bytes());
    // Queries that read nothing inside a `$metadata` leave it deferred, whole twins included.
    for sql in [
        "SELECT COUNT() AS n FROM devices WHERE status = 'enabled'",
        "SELECT TOP 3 * FROM devices",
        "SELECT deviceId FROM devices WHERE IS_DEFINED(properties.desired.$metadata)",
        "SELECT properties.reported.$version AS v, COUNT() AS n FROM devices GROUP BY properties.reported.$version",
    ] {
        assert_eq!(answer(&deferred, sql), answer(&eager, sql), "{sql}");
        assert!(deferred.store().has_deferred(), "{sql} built the deferred columns");
    }
    // The first that does builds them, and answers as the eager load does; so do the ones
    // after it, however they spell the path.
    for sql in [
        "SELECT deviceId, properties.reported.$metadata.battery.$lastUpdated AS t FROM devices \
         WHERE properties.desired.$metadata.$lastUpdatedVersion > 5",
        "SELECT COUNT() AS n FROM devices WHERE IS_DEFINED(Properties.Reported.$Metadata.firmware)",
        "SELECT properties.desired.$metadata.telemetryConfig.$lastUpdatedVersion AS v, COUNT() AS n \
         FROM devices GROUP BY properties.desired.$metadata.telemetryConfig.$lastUpdatedVersion",
    ] {
        let want = answer(&eager, sql);
        assert!(!want.is_empty(), "{sql} finds nothing");
        assert_eq!(answer(&deferred, sql), want, "{sql}");
        assert!(!deferred.store().has_deferred());
    }
    assert_eq!(
        deferred.store().columns().len(),
        eager.store().columns().len()
    );
    assert!(deferred.store().built_columns().len() > loaded_columns);
}

#[test]
fn keys_colliding_inside_a_metadata_are_found_when_it_is_built() {
    let text = [
        r#"{"deviceId":"d1","properties":{"desired":{"$metadata":{"a":{"$lastUpdated":"x"},"A":{"$lastUpdated":"y"}}}}}"#,
        r#"{"deviceId":"d2","properties":{"desired":{"$metadata":{"a":{"$lastUpdated":"z"}}}}}"#,
    ]
    .join("\n");
    let (deferred, eager) = (load(text.as_bytes(), true), load(text.as_bytes(), false));
    assert!(eager.store().irregular().contains(0));
    // Not known to the load; found when the columns are built.
    assert!(deferred.store().irregular().is_empty());
    let sql = "SELECT deviceId, properties.desired.$metadata.a.$lastUpdated AS lower, \
               properties.desired.$metadata.A.$lastUpdated AS upper FROM devices";
    let want: Vec<Value> = serde_json::from_str(
        r#"[{"deviceId":"d1","lower":"x","upper":"y"},{"deviceId":"d2","lower":"z","upper":"z"}]"#,
    )
    .expect("JSON");
    assert_eq!(answer(&eager, sql), want);
    assert_eq!(answer(&deferred, sql), want);
    assert!(deferred.store().irregular().contains(0));
    assert!(!deferred.store().irregular().contains(1));
}

#[test]
fn a_snapshot_of_a_deferred_load_holds_every_column_and_irregular_row() {
    let text = r#"{"deviceId":"d1","properties":{"desired":{"$metadata":{"a":{"$lastUpdated":"x"},"A":{"$lastUpdated":"y"}}}}}"#;
    let deferred = load(text.as_bytes(), true);
    assert!(deferred.store().has_deferred());
    let dir = std::env::temp_dir().join(format!("twindex-deferred-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let path = dir.join("fleet.twx");
    deferred.write_snapshot(&path).expect("writes");
    let opened = Fleet::open(&path).expect("opens");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!opened.store().has_deferred());
    assert!(opened.store().irregular().contains(0));
    let sql = "SELECT properties.desired.$metadata.A.$lastUpdated AS upper FROM devices";
    assert_eq!(
        answer(&opened, sql),
        answer(&load(text.as_bytes(), false), sql)
    );
}

/// Pieces spliced anywhere into records with `$metadata`s.
const SPLICES: &[&str] = &[
    "\"a\":1,",
    "\"A\":2,",
    "\"$metadata\":{\"q\":1},",
    "{",
    "}",
    "[",
    "]",
    ",",
    "-0",
    "1e3",
    "null",
    "\"\\u00e9\"",
    "\"x\":[1.5],",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn spliced_records_load_the_same_deferred_or_not(
        edits in prop::collection::vec(
            (0usize..3, any::<prop::sample::Index>(), 0..SPLICES.len()),
            0..5,
        ),
    ) {
        let mut records: Vec<String> = with_metadata(METADATA[0]).to_vec();
        records.push(with_metadata(METADATA[2])[0].replace("\"d\"", "\"d3\""));
        for (which, at, splice) in edits {
            let r = &mut records[which];
            let mut at = at.index(r.len() + 1);
            while !r.is_char_boundary(at) {
                at -= 1;
            }
            r.insert_str(at, SPLICES[splice]);
        }
        let text = records.join("\n");
        deferral_agrees(&[("spliced", text.as_bytes())], 4096).map_err(TestCaseError::fail)?;
    }
}

/// A query is planned for the irregular rows of the columns built then: one that reads no
/// deferred column keeps the load's even if another thread builds them while it runs (a row
/// irregular only inside a `$metadata` must be read once, from columns or from its twin, not
/// both or neither). Running the plan after building them stands in for that thread.
#[test]
fn a_query_keeps_the_irregular_rows_it_was_planned_with() {
    let text = [
        r#"{"deviceId":"d1","status":"enabled","properties":{"desired":{"$metadata":{"a":1,"A":2}}}}"#,
        r#"{"deviceId":"d2","status":"enabled","properties":{"desired":{"$metadata":{"a":3}}}}"#,
        r#"{"deviceId":"d3","status":"disabled"}"#,
    ]
    .join("\n");
    let eager = load(text.as_bytes(), false);
    for sql in [
        "SELECT deviceId FROM devices WHERE status = 'enabled'",
        "SELECT COUNT() AS n FROM devices WHERE status = 'enabled'",
        "SELECT status, COUNT() AS n FROM devices GROUP BY status",
        "SELECT TOP 2 deviceId, status FROM devices ORDER BY deviceId DESC",
        "SELECT deviceId, properties.desired.$metadata.A AS a FROM devices",
    ] {
        let fleet = load(text.as_bytes(), true);
        let query = twindex::sql::parse(sql).expect("parses");
        let plan = twindex::plan::plan(&query, fleet.store()).expect("plans");
        fleet.store().decode_deferred();
        let got: Vec<Value> = twindex::exec::execute(fleet.store(), plan).collect();
        assert_eq!(got, answer(&eager, sql), "{sql}");
    }
}
