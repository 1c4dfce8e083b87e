//! Loading every input shape of SPEC §1 into the store.

use std::io::Write;

use serde_json::{json, Value};
use twindex::store::ValueRef;
use twindex::{Fleet, LoadError, LoadOptions};

fn load(inputs: &[(&str, &[u8])]) -> Fleet {
    try_load(inputs, false).expect("load")
}

fn try_load(inputs: &[(&str, &[u8])], strict: bool) -> Result<Fleet, LoadError> {
    let opts = LoadOptions {
        strict,
        ..LoadOptions::default()
    };
    Fleet::from_bytes(
        inputs
            .iter()
            .map(|(n, b)| (n.to_string(), b.to_vec()))
            .collect(),
        &opts,
    )
}

fn twins(f: &Fleet) -> Vec<Value> {
    (0..f.store().len())
        .map(|r| f.store().twin(r).unwrap())
        .collect()
}

const EXPORT: &str = r#"{"id":"dev-1","eTag":"AAAA","twinETag":"BBBB","status":"enabled","authentication":{"symmetricKey":{"primaryKey":"SECRET1","secondaryKey":"SECRET2"},"x509Thumbprint":{"primaryThumbprint":null,"secondaryThumbprint":null},"type":"sas"},"capabilities":{"iotEdge":false},"tags":{"location":{"region":"US"}},"properties":{"desired":{"x":1},"reported":{"battery":55}},"importMode":"create"}
{"id":"dev-1","moduleId":"m1","eTag":"CCCC","status":"enabled","authentication":{"symmetricKey":{"primaryKey":"SECRET3"},"type":"sas"}}
"#;

#[test]
fn export_lines_are_normalised_and_secrets_dropped() {
    let f = load(&[("devices.txt", EXPORT.as_bytes())]);
    let t = twins(&f);
    assert_eq!(t.len(), 2);
    assert_eq!(
        t[0],
        json!({"deviceId":"dev-1","etag":"BBBB","deviceEtag":"AAAA","status":"enabled",
               "authenticationType":"sas",
               "x509Thumbprint":{"primaryThumbprint":null,"secondaryThumbprint":null},
               "tags":{"location":{"region":"US"}},
               "properties":{"desired":{"x":1},"reported":{"battery":55}},
               "capabilities":{"iotEdge":false}})
    );
    let keys: Vec<&String> = t[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "deviceId",
            "etag",
            "deviceEtag",
            "status",
            "authenticationType",
            "x509Thumbprint",
            "tags",
            "properties",
            "capabilities"
        ]
    );
    assert_eq!(t[1]["moduleId"], "m1");
    let all = serde_json::to_string(&t).unwrap();
    assert!(!all.contains("SECRET"), "secret leaked: {all}");
    // No column anywhere holds a secret either.
    for c in f.store().columns() {
        assert!(!c.dotted().contains("symmetricKey"));
        for (_, v) in c.iter() {
            if let ValueRef::String(s) | ValueRef::Array(s) = v {
                assert!(!s.contains("SECRET"));
            }
        }
    }
    assert_eq!(f.report().devices, 1);
    assert_eq!(f.report().modules, 1);
    assert!(f.store().modules().contains(1));
}

#[test]
fn columns_answer_case_insensitive_paths() {
    let f = load(&[(
        "t.jsonl",
        br#"{"deviceId":"a","tags":{"Location":{"region":"US"}}}
{"deviceId":"b","tags":{"location":{"Region":"EU"}}}
"#,
    )]);
    let s = f.store();
    let ids = s.columns_for(&["TAGS", "location", "REGION"]);
    assert_eq!(ids.len(), 2);
    let mut got: Vec<(u32, String)> = ids
        .iter()
        .flat_map(|&id| s.column(id).iter())
        .map(|(r, v)| match v {
            ValueRef::String(x) => (r, x.to_string()),
            other => panic!("{other:?}"),
        })
        .collect();
    got.sort();
    assert_eq!(got, vec![(0, "US".into()), (1, "EU".into())]);
    assert!(s.irregular().is_empty());
}

#[test]
fn case_colliding_keys_mark_the_row_irregular() {
    let f = load(&[(
        "t.jsonl",
        br#"{"deviceId":"a","tags":{"x":1,"X":2}}
{"deviceId":"b","tags":{"x":1}}
{"deviceId":"c","tags":{"y":1,"y":2}}
"#,
    )]);
    let irr: Vec<u32> = f.store().irregular().iter().collect();
    assert_eq!(irr, vec![0, 2]);
    // serde_json semantics for repeated keys: last value, first position.
    assert_eq!(f.store().twin(2).unwrap()["tags"], json!({"y": 2}));
}

#[test]
fn json_array_twin_dump_with_bom_and_pretty_printing() {
    let text = "\u{feff}[\n  {\n    \"deviceId\": \"a\",\n    \"status\": \"enabled\"\n  },\n  {\n    \"deviceId\": \"b\",\n    \"moduleId\": \"$edgeAgent\"\n  }\n]\n";
    let f = load(&[("twins.json", text.as_bytes())]);
    assert_eq!(
        twins(&f),
        vec![
            json!({"deviceId":"a","status":"enabled"}),
            json!({"deviceId":"b","moduleId":"$edgeAgent"})
        ]
    );
    assert_eq!(f.report().skipped, 0);
    assert_eq!(
        f.report().files[0].layout,
        twindex::ingest::Layout::JsonArray
    );
}

#[test]
fn crlf_blank_lines_bom_and_comment_lines() {
    let text = "\u{feff}# exported 2024-01-01\r\n\r\n{\"id\":\"a\"}\r\n   \n{\"id\":\"b\"}\r\n";
    let f = load(&[("devices.txt", text.as_bytes())]);
    assert_eq!(
        twins(&f),
        vec![json!({"deviceId":"a"}), json!({"deviceId":"b"})]
    );
    let r = f.report();
    assert_eq!(r.skipped, 1);
    assert_eq!(r.findings[0].line, 1);
    assert_eq!(r.findings[0].byte, 3);
    assert!(
        r.findings[0].detail.contains("not a record"),
        "{:?}",
        r.findings
    );
    assert_eq!(r.files[0].units, 5);
    assert_eq!(r.files[0].blank, 2);
    // Strict mode turns the skip into an error with its location.
    let err = try_load(&[("devices.txt", text.as_bytes())], true)
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "devices.txt:1 (byte 3): not a record: does not start with '{'"
    );
}

#[test]
fn gzip_input_and_file_order() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"{\"id\":\"z\"}\n").unwrap();
    let gz = gz.finish().unwrap();
    let f = load(&[
        ("b.txt", b"{\"id\":\"b\"}\n"),
        ("a.txt.gz", &gz),
        ("c.txt", b"{\"id\":\"c\"}"),
    ]);
    let ids: Vec<Value> = twins(&f)
        .into_iter()
        .map(|t| t["deviceId"].clone())
        .collect();
    assert_eq!(ids, vec![json!("b"), json!("z"), json!("c")]);
}

#[test]
fn broken_records_are_skipped_with_location() {
    let text = b"{\"id\":\"a\"}\n{\"id\":\"b\"\n{\"id\":\"\xff\"}\n[1,2]\n{\"id\":\"c\"}\n";
    let f = load(&[("bad.txt", text)]);
    let r = f.report();
    assert_eq!(r.records, 2);
    assert_eq!(r.skipped, 3);
    let lines: Vec<u64> = r.findings.iter().map(|f| f.line).collect();
    assert_eq!(lines, vec![2, 3, 4]);
    assert!(
        r.findings[0].detail.starts_with("invalid JSON"),
        "{:?}",
        r.findings[0]
    );
    assert_eq!(r.findings[0].byte, 11);
    assert_eq!(r.files[0].units, r.records + r.skipped);
}

#[test]
fn truncated_json_array_keeps_complete_elements_and_reports() {
    let text = b"[{\"deviceId\":\"a\"},\n {\"deviceId\":\"b\"";
    let f = load(&[("twins.json", text)]);
    assert_eq!(f.report().records, 1);
    assert_eq!(f.report().skipped, 1);
    assert_eq!(
        f.report().files[0].units,
        2,
        "the truncated element is a unit read"
    );
    let finding = &f.report().findings[0];
    assert_eq!(finding.detail, "JSON array is missing its closing ']'");
    assert_eq!((finding.line, finding.byte), (2, 20));
    assert!(try_load(&[("twins.json", text)], true).is_err());
}

#[test]
fn huge_line_is_skipped_not_parsed() {
    let mut text = b"{\"id\":\"a\",\"tags\":{\"big\":\"".to_vec();
    text.resize(text.len() + (100 << 20), b'x');
    text.extend_from_slice(b"\"}}\n{\"id\":\"b\"}\n");
    let f = load(&[("big.txt", &text)]);
    assert_eq!(f.report().records, 1);
    assert!(f.report().findings[0]
        .detail
        .contains("over the 16 MiB limit"));
}

#[test]
fn empty_inputs_missing_files_and_directories() {
    let f = load(&[("empty.txt", b"")]);
    assert_eq!(f.report().records, 0);
    let f = load(&[("empty.json", b"  []  ")]);
    assert_eq!(f.report().records, 0);
    let err = Fleet::load(&["/definitely/not/here.txt"]).err().unwrap();
    assert!(
        err.to_string().starts_with("/definitely/not/here.txt: "),
        "{err}"
    );
    let dir = std::env::temp_dir();
    let err = Fleet::load(&[dir.to_str().unwrap()]).err().unwrap();
    assert!(
        err.to_string().ends_with("is a directory, not a file"),
        "{err}"
    );
    assert!(matches!(Fleet::load::<&str>(&[]), Err(LoadError::NoInput)));
}

#[test]
fn validation_findings_are_counted_and_strict_fails() {
    let text = br#"{"deviceId":"ok","tags":{"bad key":1,"a":{"b":[1,null]}}}"#;
    let f = load(&[("v.txt", text)]);
    let r = f.report();
    assert_eq!(r.records, 1);
    assert_eq!(r.invalid_records, 1);
    let rules: Vec<(&str, &str)> = r
        .findings
        .iter()
        .map(|f| (f.rule, f.path.as_str()))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("key-name", "tags.bad key"),
            ("null-in-array", "tags.a.b[1]")
        ]
    );
    let err = try_load(&[("v.txt", text)], true).err().unwrap();
    assert!(matches!(err, LoadError::Invalid { .. }), "{err}");
}

#[test]
fn a_form_feed_before_an_array_is_not_json_white_space() {
    // Detected as JSON Lines (JSON's white space excludes form feed), so the one line is a
    // counted skip, not a whole file silently lost.
    let f = load(&[("ff.json", b"\x0C[{\"deviceId\":\"a\"}]\n")]);
    let r = f.report();
    assert_eq!((r.records, r.skipped, r.files[0].units), (0, 1, 1));
}
