//! The `twindex` binary: output formats, exit codes, messages, and the subcommands end to end.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use twindex::Fleet;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn twindex() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twindex"))
}

fn run(args: &[&str]) -> Output {
    twindex().args(args).output().expect("run twindex")
}

fn run_with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = twindex()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn twindex");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[track_caller]
fn assert_success(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr:\n{}",
        o.status,
        stderr(o)
    );
}

fn library_result(paths: &[&str], sql: &str) -> Value {
    let fleet = Fleet::load(paths).unwrap();
    Value::Array(fleet.query(sql).unwrap().collect())
}

const QUERIES: &[&str] = &[
    "SELECT * FROM devices",
    "SELECT * FROM devices.modules",
    "SELECT deviceId, tags.location.region AS region FROM devices WHERE status = 'enabled'",
    "SELECT tags.location.region, COUNT() AS n FROM devices GROUP BY tags.location.region",
    "SELECT TOP 2 deviceId FROM devices ORDER BY deviceId DESC",
    "SELECT * FROM devices WHERE deviceId = 'nobody'",
];

#[test]
fn query_json_is_the_library_result() {
    for file in ["export.jsonl", "twins.json"] {
        let path = fixture(file);
        for sql in QUERIES {
            let out = run(&["query", "--format", "json", sql, &path]);
            assert_success(&out);
            let got: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
            assert_eq!(got, library_result(&[&path], sql), "{file}: {sql}");
        }
    }
}

#[test]
fn query_json_is_an_array_with_one_row_per_line() {
    let out = run(&[
        "query",
        "SELECT deviceId FROM devices",
        &fixture("export.jsonl"),
    ]);
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        "[\n{\"deviceId\":\"thermo-01\"},\n{\"deviceId\":\"thermo-02\"},\n{\"deviceId\":\"gw-1\"},\n{\"deviceId\":\"child-1\"}\n]\n",
        "json is the default when stdout is not a terminal"
    );
    let out = run(&[
        "query",
        "SELECT * FROM devices WHERE deviceId = 'nobody'",
        &fixture("export.jsonl"),
    ]);
    assert_eq!(stdout(&out), "[]\n");
}

#[test]
fn query_jsonl_writes_one_object_per_line() {
    let path = fixture("twins.json");
    let sql = "SELECT * FROM devices";
    let out = run(&["query", "-f", "jsonl", sql, &path]);
    assert_success(&out);
    let rows: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(Value::Array(rows), library_result(&[&path], sql));
}

#[test]
fn query_csv_has_a_header_of_every_key() {
    let out = run(&[
        "query",
        "-f",
        "csv",
        "SELECT deviceId, tags.location.region, properties.reported.battery FROM devices",
        &fixture("export.jsonl"),
    ]);
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        "deviceId,region,battery\nthermo-01,US,87\nthermo-02,EU,12.5\ngw-1,US,\nchild-1,,\n"
    );
}

#[test]
fn query_table_aligns_columns_and_counts_rows() {
    let out = run(&[
        "query",
        "-f",
        "table",
        "SELECT deviceId, status, tags.location FROM devices WHERE status = 'enabled'",
        &fixture("export.jsonl"),
    ]);
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        "\
deviceId   status   location
---------  -------  -------------------------------
thermo-01  enabled  {\"region\":\"US\",\"building\":\"B1\"}
gw-1       enabled  {\"region\":\"US\"}
child-1    enabled
(3 rows)
"
    );
}

#[test]
fn query_error_exits_2_with_the_rendered_caret() {
    let sql = "SELECT * FROM devices WHERE STARTWITH(deviceId, 'a')";
    let out = run(&["query", sql, &fixture("export.jsonl")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out.stdout, b"");
    assert_eq!(
        stderr(&out),
        "error: unknown function 'STARTWITH' (did you mean STARTSWITH?)\n  |\n1 | SELECT * FROM devices WHERE STARTWITH(deviceId, 'a')\n  |                             ^^^^^^^^^\n"
    );
}

#[test]
fn a_planning_error_also_exits_2() {
    let sql = "SELECT deviceId, tags.deviceId FROM devices";
    let out = run(&["query", sql, &fixture("export.jsonl")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let expected = twindex::Fleet::load(&[fixture("export.jsonl")])
        .unwrap()
        .query(sql)
        .err()
        .expect("duplicate keys are a query error")
        .render(sql);
    assert!(
        stderr(&out).ends_with(&format!("{expected}\n")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_missing_file_exits_1_naming_it() {
    let out = run(&["query", "SELECT * FROM devices", "no/such/file.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: no/such/file.jsonl: "), "{err}");
    assert_eq!(err.lines().count(), 1, "printed once: {err}");
}

#[test]
fn a_directory_exits_1_naming_it() {
    let dir = fixture("");
    let dir = dir.trim_end_matches('/');
    let out = run(&["query", "SELECT * FROM devices", dir]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("error: {dir}: is a directory, not a file\n")
    );
}

#[test]
fn dash_reads_standard_input() {
    let bytes = std::fs::read(fixture("twins.json")).unwrap();
    let sql = "SELECT deviceId FROM devices WHERE status = 'enabled'";
    let out = run_with_stdin(&["query", "-f", "json", sql, "-"], &bytes);
    assert_success(&out);
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got, library_result(&[&fixture("twins.json")], sql));
}

#[test]
fn lenient_load_warns_once_and_succeeds_while_strict_fails() {
    let path = fixture("export.jsonl");
    let out = run(&["query", "SELECT COUNT() AS n FROM devices", &path]);
    assert_success(&out);
    assert_eq!(
        stderr(&out),
        format!(
            "warning: skipped 1 record; first: {path}:1 (byte 0): not a record: does not start with '{{'\n"
        )
    );
    let out = run(&[
        "query",
        "--strict",
        "SELECT COUNT() AS n FROM devices",
        &path,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with(&format!("error: {path}:1 (byte 0): ")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_warning_counts_skipped_and_flagged_records() {
    let dir = TempDir::new("warn");
    let file = dir.path.join("bad.jsonl");
    std::fs::write(
        &file,
        "{\"deviceId\":\"a\",\"tags\":{\"bad key\":1}}\nnot json\n{\"deviceId\":\"b\"}\n",
    )
    .unwrap();
    let name = file.to_str().unwrap();
    let out = run(&["-j", "1", "query", "SELECT COUNT() AS n FROM devices", name]);
    assert_success(&out);
    assert_eq!(stdout(&out), "[\n{\"n\":2}\n]\n");
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "warning: skipped 1 record, 1 with content-rule findings; first: {name}:1 (byte 0): tags.bad key: "
        )),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn timings_print_one_json_line_on_stderr() {
    let out = run(&[
        "query",
        "--timings",
        "--repeat",
        "3",
        "SELECT deviceId FROM devices",
        &fixture("twins.json"),
    ]);
    assert_success(&out);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    let t: Value = serde_json::from_str(err.trim_end()).unwrap();
    for key in ["load_ms", "plan_ms", "exec_ms"] {
        assert!(t[key].as_f64().unwrap() >= 0.0, "{key} in {t}");
    }
    assert_eq!(t["repeat"], 3);
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(t["rows"], rows.as_array().unwrap().len());
}

#[test]
fn explain_names_bitmap_and_residual_conditions() {
    let sql = "SELECT deviceId FROM devices WHERE status = 'enabled' AND LENGTH(deviceId) > 4";
    let out = run(&["explain", sql, &fixture("export.jsonl")]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("by bitmap   status = \"enabled\""), "{text}");
    assert!(text.contains("per row     "), "{text}");
    assert!(text.contains("universe"), "{text}");
    assert!(text.contains("matched"), "{text}");

    let out = run(&["explain", "--format", "json", sql, &fixture("export.jsonl")]);
    assert_success(&out);
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["filter"]["by_bitmap"][0], "status = \"enabled\"");
    assert_eq!(e["collection"], "devices");
}

#[test]
fn explain_reports_query_errors_like_query() {
    let out = run(&["explain", "SELECT * FROM devics", &fixture("export.jsonl")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    assert!(stderr(&out).contains("^"), "{}", stderr(&out));
}

#[test]
fn stats_json_has_totals_system_counts_and_paths() {
    let path = fixture("export.jsonl");
    let out = run(&["stats", "--format", "json", &path]);
    assert_success(&out);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = Fleet::load(&[&path]).unwrap().report().clone();
    assert_eq!(s["totals"]["records"], report.records);
    assert_eq!(s["totals"]["devices"], 4);
    assert_eq!(s["totals"]["modules"], 3);
    assert_eq!(s["totals"]["skipped"], 1);
    assert_eq!(s["inputs"][0]["name"], path.as_str());
    let system = s["system"].as_array().unwrap();
    let status = system.iter().find(|v| v["path"] == "status").unwrap();
    assert_eq!(
        status["values"][0],
        serde_json::json!({"value": "enabled", "devices": 3, "modules": 3})
    );
    // Exports carry no connection state: every twin counts as undefined.
    let state = system
        .iter()
        .find(|v| v["path"] == "connectionState")
        .unwrap();
    assert_eq!(
        state["undefined"],
        serde_json::json!({"devices": 4, "modules": 3})
    );
    let region = s["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["path"] == "tags.location.region")
        .unwrap();
    assert_eq!(
        region["top"][0],
        serde_json::json!({"value": "US", "count": 2})
    );
    let paths = s["paths"].as_array().unwrap();
    let battery = paths
        .iter()
        .find(|p| p["path"] == "properties.reported.battery")
        .unwrap();
    assert_eq!(
        battery["types"],
        serde_json::json!({"float": 1, "integer": 1})
    );
    assert!(s["load"]["memory_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn stats_table_reads_as_sections() {
    let out = run(&["stats", &fixture("twins.json")]);
    assert_success(&out);
    let text = stdout(&out);
    for section in ["inputs", "totals", "load", "tags: top 5", "paths"] {
        assert!(
            text.lines().any(|l| l.starts_with(section)),
            "no {section} in\n{text}"
        );
    }
    assert!(
        text.contains("  connectionState  devices  modules"),
        "{text}"
    );
    assert!(text.contains("GB/s"), "{text}");
}

#[test]
fn gen_is_deterministic_and_feeds_query() {
    let args = ["gen", "--devices", "300", "--seed", "7"];
    let a = run(&args);
    let b = run(&args);
    assert_success(&a);
    assert_eq!(a.stdout, b.stdout, "same seed, same bytes");
    assert_ne!(
        a.stdout,
        run(&["gen", "--devices", "300", "--seed", "8"]).stdout
    );
    let expected = twindex::gen::generate(
        &twindex::gen::GenOptions {
            devices: 300,
            seed: 7,
            ..Default::default()
        },
        &mut Vec::new(),
    )
    .unwrap();

    let out = run_with_stdin(
        &[
            "query",
            "-f",
            "jsonl",
            "SELECT COUNT() AS devices FROM devices",
            "-",
        ],
        &a.stdout,
    );
    assert_success(&out);
    assert_eq!(stdout(&out), "{\"devices\":300}\n");
    let out = run_with_stdin(
        &["query", "SELECT COUNT() AS n FROM devices.modules", "-"],
        &a.stdout,
    );
    let n: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(n[0]["n"], expected.modules);
}

#[test]
fn gen_to_a_file_says_what_it_wrote() {
    let dir = TempDir::new("gen");
    let file = dir.path.join("fleet.json");
    let out = run(&[
        "gen",
        "-n",
        "20",
        "--shape",
        "twin",
        "--layout",
        "array",
        "--no-modules",
        "--no-metadata",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_success(&out);
    assert_eq!(out.stdout, b"");
    let err = stderr(&out);
    assert!(
        err.starts_with("wrote 20 devices and 0 modules (20 records, "),
        "{err}"
    );
    let twins: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let twins = twins.as_array().unwrap();
    assert_eq!(twins.len(), 20);
    assert!(twins[0].get("deviceId").is_some(), "twin names");
    assert!(twins[0]["properties"]["reported"]
        .get("$metadata")
        .is_none());
}

#[test]
fn demo_generates_once_then_reuses_and_runs_the_showcase() {
    let dir = TempDir::new("demo");
    let args = [
        "demo",
        "--devices",
        "2000",
        "--dir",
        dir.path.to_str().unwrap(),
    ];
    let out = run(&args);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.starts_with("generating 2,000 devices"), "{text}");
    assert!(text.contains("loaded "), "{text}");
    assert!(
        text.contains(
            "SELECT COUNT() AS totalNumberOfDevices FROM devices\n  totalNumberOfDevices\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("                  2000\n  1 result in "),
        "{text}"
    );
    assert!(text.contains("results (5 shown) in "), "{text}");
    let files: Vec<_> = std::fs::read_dir(&dir.path)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files, ["fleet-2000-seed42.jsonl"], "no partial file left");

    let again = run(&args);
    assert_success(&again);
    let text2 = stdout(&again);
    assert!(text2.starts_with("using "), "{text2}");
    let results = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| {
                !l.contains(" in ")
                    && !l.starts_with("using")
                    && !l.starts_with("generating")
                    && !l.starts_with("wrote")
                    && !l.starts_with("loaded")
            })
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        results(&text),
        results(&text2),
        "the cached fleet is the same fleet"
    );
}

/// A directory under the system's temporary one, removed when dropped.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("twindex-cli-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A reader that stops early (`| head`) is not an error.
#[test]
fn a_closed_stdout_exits_0() {
    let mut child = twindex()
        .args(["gen", "--devices", "200000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 100];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn validate_lists_every_finding_and_exits_1_on_invalid_input() {
    let dir = std::env::temp_dir().join(format!("twindex-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"id\":\"ok-1\",\"tags\":{\"a\":1}}\n{\"id\":\"bad id\",\"tags\":{\"bad key\":1,\"x\":[1,null]}}\nnot a record\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_twindex"))
        .args(["validate", "--format", "json"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["records"], 2);
    assert_eq!(v["skipped"], 1);
    assert_eq!(v["invalid_records"], 1);
    let found: Vec<(u64, String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (2, "device-id".into(), "deviceId".into()),
            (2, "key-name".into(), "tags.bad key".into()),
            (2, "null-in-array".into(), "tags.x[1]".into()),
            (3, "skipped".into(), "".into()),
        ]
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "invalid: 1 record skipped, 1 record breaking content rules"
    );

    let good = dir.join("good.jsonl");
    std::fs::write(&good, "{\"id\":\"ok-1\",\"tags\":{\"a\":1}}\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_twindex"))
        .arg("validate")
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout)
        .ends_with("valid: 1 record loaded, 0 skipped, 0 breaking content rules\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `$metadata` members are deferred by default; the commands that read them load them
/// (stats lists them, a query naming one answers from them, however it is spelled).
#[test]
fn commands_read_metadata_members_when_they_need_them() {
    let twins = fixture("twins.json");
    let out = run(&["stats", "--format", "json", &twins]);
    assert_success(&out);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = s["paths"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["path"].as_str())
        .collect();
    assert!(
        paths.contains(&"properties.reported.$metadata.battery.$lastUpdated"),
        "{paths:?}"
    );
    for sql in [
        "SELECT properties.reported.$metadata.battery.$lastUpdated AS t FROM devices \
         WHERE IS_DEFINED(properties.reported.$metadata.battery)",
        "SELECT Properties.Reported.$METADATA.Battery.$LastUpdated AS t FROM devices \
         WHERE IS_DEFINED(properties.reported.$Metadata.battery)",
    ] {
        let out = run(&["query", "--format", "json", sql, &twins]);
        assert_success(&out);
        let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            rows,
            serde_json::json!([{"t": "2024-02-29T08:00:00Z"}]),
            "{sql}"
        );
    }
}
