//! Entry points of the fuzz targets, kept in the library so that the fuzzer (`fuzz/`) and the
//! corpus replay test (`tests/it/fuzz_corpus.rs`) run exactly the same code.
//!
//! Each function takes arbitrary bytes and panics, with a message saying which invariant broke,
//! when twindex misbehaves; anything else (a query error, a skipped record) is an ordinary
//! outcome. The oracles are the slow, obviously-right readings: `serde_json` plus
//! [`crate::reference::normalise`] for records, [`crate::reference::evaluate`] for queries.
//!
//! The differential target derives its fleet and query from the bytes with a small
//! byte-driven chooser instead of the `arbitrary` crate, so the library takes no dependency for
//! it: libFuzzer's mutations of the bytes still move through the choices, and running out of
//! bytes always picks the first, simplest option, so every input ends.

use serde_json::Value;

use crate::ingest::{LoadOptions, LoadReport, MAX_RECORD_BYTES};
use crate::{reference, sql, Fleet, LoadError};

/// The query front end on arbitrary text: never panics; an error has a span on character
/// boundaries and renders; a query that parses prints as text that parses back to the same
/// tree, printing that tree again gives the same text, and the engine and the reference give
/// the same answer to it on a small fixed fleet.
pub fn sql_roundtrip(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let q = text.as_ref();
    match sql::parse(q) {
        Ok(ast) => {
            let printed = ast.to_string();
            if printed.len() > sql::MAX_QUERY_LEN {
                // Canonical text spaces what the input may pack (`[1,1]` prints `[1, 1]`), so a
                // query near the length limit can print past it; the limit guards input size,
                // not the grammar, and that is the one way the print may fail to parse.
                let e = sql::parse(&printed).expect_err("over the length limit");
                assert!(e.message.starts_with("query is too long"), "{e:?}");
                return;
            }
            let again = sql::parse(&printed).unwrap_or_else(|e| {
                panic!(
                    "canonical text does not parse\nquery:   {q:?}\nprinted: {printed:?}\n{}",
                    e.render(&printed)
                )
            });
            assert!(
                ast.without_spans() == again.without_spans(),
                "round trip changed the tree\nquery:   {q:?}\nprinted: {printed:?}\nfirst:   {:?}\nsecond:  {:?}",
                ast.without_spans(),
                again.without_spans()
            );
            assert_eq!(
                again.to_string(),
                printed,
                "printing is not idempotent for {q:?}"
            );
            // And it runs the same in the engine and in the reference, on a small fleet.
            let (fleet, twins) = fixed_fleet();
            assert_same_answer(fleet, twins, q, FIXED_FLEET);
        }
        Err(e) => {
            let (start, end) = (e.span.start as usize, e.span.end as usize);
            assert!(
                start <= end && end <= q.len(),
                "error span {start}..{end} outside the query ({} bytes): {e:?}",
                q.len()
            );
            assert!(
                q.is_char_boundary(start) && q.is_char_boundary(end),
                "error span {start}..{end} splits a character: {e:?}"
            );
            assert!(!e.message.is_empty(), "empty error message for {q:?}");
            let rendered = e.render(q);
            assert!(
                rendered.starts_with(&format!("error: {}\n", e.message)),
                "{rendered}"
            );
        }
    }
}

/// One JSON Lines record (the bytes up to the first newline) through ingest: never panics,
/// loads exactly when `serde_json` reads an object (and then the twin equals the reference's
/// normalisation), and the report accounts for the line. Strict mode fails exactly when the
/// lenient load reported something, at that finding's location.
pub fn ingest_record(data: &[u8]) {
    let line = match memchr::memchr(b'\n', data) {
        Some(i) => &data[..i],
        None => data,
    };
    // Gzip makes the input a file of another kind, and so does a leading `[` (a JSON array);
    // `ingest_file` covers those.
    if line.starts_with(&[0x1f, 0x8b]) {
        return;
    }
    let (fleet, report) = load_checked(line);
    if let Err(e) = fast_path_agrees(&[("input", line)], 1 << 20) {
        panic!("{e}");
    }
    if report.files[0].layout != crate::ingest::Layout::JsonLines {
        return;
    }
    let body = strip_bom(line);
    let units = u64::from(!body.is_empty());
    let file = &report.files[0];
    assert_eq!(file.units, units, "lines read: {file:?}");
    assert_eq!(
        file.records + file.skipped + file.blank,
        file.units,
        "records + skipped + blank != lines read: {file:?}"
    );
    let expected: Vec<Value> = expected_line(body).into_iter().collect();
    assert_twins(&fleet, &expected, line);
}

/// Loads `inputs` with the fast path on and off (`chunk_bytes` small, so that chunks begin
/// mid-input) and requires the same outcome: the same error, or stores with the same columns,
/// values, kinds, modules, irregular rows and memory, and the same report and findings.
/// Returns how many records the fast path took.
pub fn fast_path_agrees(inputs: &[(&str, &[u8])], chunk_bytes: usize) -> Result<u64, String> {
    let load = |fast_path: bool| {
        load_bytes(
            inputs,
            LoadOptions {
                fast_path,
                chunk_bytes,
                ..LoadOptions::default()
            },
        )
    };
    let (fast, tape) = match (load(true), load(false)) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(f), Err(t)) if f == t => return Ok(0),
        (f, t) => return Err(format!("fast: {:?}\ntape: {:?}", f.err(), t.err())),
    };
    if tape.report().phases.fast_records != 0 {
        return Err("the fast path ran while turned off".into());
    }
    let with_heap = true;
    same("fast path", &fast, "tape", &tape, with_heap)?;
    Ok(fast.report().phases.fast_records)
}

/// Loads `inputs` cut into chunks of `chunk_bytes` and in one chunk, and requires the same
/// outcome: chunks finish in any order on the pool's threads, and are appended in input
/// order. Memory may differ (each chunk decides for itself whether a dictionary pays).
pub fn chunking_agrees(inputs: &[(&str, &[u8])], chunk_bytes: usize) -> Result<(), String> {
    let load = |chunk_bytes: usize| {
        load_bytes(
            inputs,
            LoadOptions {
                chunk_bytes,
                ..LoadOptions::default()
            },
        )
    };
    match (load(chunk_bytes), load(usize::MAX)) {
        (Ok(cut), Ok(whole)) => same("cut", &cut, "whole", &whole, false),
        (Err(a), Err(b)) if a == b => Ok(()),
        (a, b) => Err(format!("cut: {:?}\nwhole: {:?}", a.err(), b.err())),
    }
}

/// Loads `inputs` with `$metadata` members deferred (by the fast path and by the tape) and
/// columnised at once, and requires the same outcome once the deferred columns are built:
/// the same columns and values, irregular rows, report and findings. Before they are built,
/// the deferred store must hold the same columns outside `$metadata` and no irregular row
/// the other does not. Memory may differ (the deferred columns are built in chunks of their
/// own). Returns how many `$metadata` objects were deferred.
pub fn deferral_agrees(inputs: &[(&str, &[u8])], chunk_bytes: usize) -> Result<u64, String> {
    let load = |fast_path: bool, defer_metadata: bool| {
        load_bytes(
            inputs,
            LoadOptions {
                fast_path,
                defer_metadata,
                chunk_bytes,
                ..LoadOptions::default()
            },
        )
    };
    let eager = match load(true, false) {
        Ok(f) => f,
        Err(e) => {
            return match (load(true, true), load(false, true)) {
                (Err(a), Err(b)) if a == e && b == e => Ok(0),
                (a, b) => Err(format!(
                    "columns: {e}
deferred: {:?}
deferred by the tape: {:?}",
                    a.err(),
                    b.err()
                )),
            };
        }
    };
    if eager.store().has_deferred() {
        return Err("a load without deferral deferred".into());
    }
    // The load's columns outside deferred `$metadata` members, as text.
    let outside = |f: &Fleet| -> Vec<String> {
        let mut v: Vec<String> = f
            .store()
            .built_columns()
            .iter()
            .filter(|c| {
                let p = c.segments();
                !(p.len() > 3
                    && &*p[0] == "properties"
                    && matches!(&*p[1], "desired" | "reported")
                    && &*p[2] == "$metadata")
            })
            .map(column_text)
            .collect();
        v.sort();
        v
    };
    let mut deferred = 0;
    for (fast_path, name) in [(true, "deferred"), (false, "deferred by the tape")] {
        let f =
            load(fast_path, true).map_err(|e| format!("{name}: {e}; without deferral: loaded"))?;
        let s = f.store();
        deferred = f.report().phases.deferred_metadata;
        if s.has_deferred() != (deferred > 0) {
            return Err(format!("{name}: deferred {deferred} objects"));
        }
        if outside(&f) != outside(&eager) {
            return Err(format!("{name}: the load's own columns differ"));
        }
        if !(s.irregular() - eager.store().irregular()).is_empty() {
            return Err(format!("{name}: irregular rows the other has not"));
        }
        same(name, &f, "columns", &eager, false)?;
    }
    Ok(deferred)
}

/// Loads named inputs from memory, keeping up to 1,000 findings.
fn load_bytes(inputs: &[(&str, &[u8])], opts: LoadOptions) -> Result<Fleet, String> {
    let opts = LoadOptions {
        keep_findings: 1000,
        ..opts
    };
    let inputs = inputs
        .iter()
        .map(|(n, b)| (n.to_string(), b.to_vec()))
        .collect();
    Fleet::from_bytes(inputs, &opts).map_err(|e| e.to_string())
}

/// Compares two loads' fingerprints; the error shows the first lines that differ.
fn same(a_name: &str, a: &Fleet, b_name: &str, b: &Fleet, heap: bool) -> Result<(), String> {
    let (a, b) = (fingerprint(a, heap), fingerprint(b, heap));
    if a == b {
        return Ok(());
    }
    let at = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or(0);
    let around = |t: &str| t.lines().skip(at).take(3).collect::<Vec<_>>().join("\n");
    Err(format!(
        "{a_name} and {b_name} differ at line {at}:\n{a_name}: {}\n{b_name}: {}",
        around(&a),
        around(&b)
    ))
}

/// Everything a load decided, as text: the report's counts and findings, modules, irregular
/// rows, heap size (when asked), and every column's path, rows, kinds and values.
fn fingerprint(f: &Fleet, heap: bool) -> String {
    use std::fmt::Write;
    let r = f.report();
    let s = f.store();
    s.decode_deferred();
    let mut out = format!(
        "records {} devices {} modules {} skipped {} invalid {} rules {:?}\n",
        r.records, r.devices, r.modules, r.skipped, r.invalid_records, r.rule_counts
    );
    for x in &r.findings {
        let _ = writeln!(
            out,
            "finding {}:{}:{} {} {} {}",
            x.file, x.line, x.byte, x.rule, x.path, x.detail
        );
    }
    let _ = writeln!(
        out,
        "modules {:?}\nirregular {:?}\nheap {}",
        s.modules().iter().collect::<Vec<_>>(),
        s.irregular().iter().collect::<Vec<_>>(),
        if heap { s.heap_bytes() } else { 0 }
    );
    let mut columns: Vec<String> = s.columns().iter().map(column_text).collect();
    columns.sort();
    out + &columns.join("\n")
}

/// A column's path, kinds, and every row's value, as text.
fn column_text(c: &crate::store::Column) -> String {
    use std::fmt::Write;
    let mut line = format!("{:?} {:?}:", c.segments(), c.kind_counts());
    for (row, v) in c.iter() {
        let _ = write!(line, " {row}={v:?}");
    }
    line
}

/// A whole input file (JSON Lines or a JSON array): never panics (gzip may fail to decompress,
/// as an I/O error); what loads equals what `serde_json` and the reference read, record by
/// record; every line or element is a record, a skip or a blank line; strict mode fails at the
/// first finding.
pub fn ingest_file(data: &[u8]) {
    if data.starts_with(&[0x1f, 0x8b]) {
        // Compressed: a stream that does not decompress is an I/O error; one that does loads
        // like its plain bytes, which are then checked as a file of their own.
        let mut plain = Vec::new();
        let decoded =
            std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(data), &mut plain);
        match (
            decoded,
            Fleet::from_bytes(vec![("input".into(), data.to_vec())], &lenient()),
        ) {
            (Err(_), Err(LoadError::Io { .. })) => {}
            (Ok(_), Ok(fleet)) => {
                let from_plain =
                    Fleet::from_bytes(vec![("input".into(), plain.clone())], &lenient())
                        .expect("plain bytes load");
                assert_eq!(fleet.report().records, from_plain.report().records);
                if !plain.starts_with(&[0x1f, 0x8b]) {
                    ingest_file(&plain);
                }
            }
            (decoded, loaded) => panic!(
                "gzip: decompressing gave {decoded:?} but loading gave {:?}",
                loaded.map(|f| f.report().records)
            ),
        }
        return;
    }
    let (fleet, report) = load_checked(data);
    if let Err(e) = fast_path_agrees(&[("input", data)], 256) {
        panic!("{e}");
    }
    if let Err(e) = chunking_agrees(&[("input", data)], 256) {
        panic!("{e}");
    }
    if let Err(e) = deferral_agrees(&[("input", data)], 256) {
        panic!("{e}");
    }
    if let Err(e) = crate::ingest::array_scans_agree(data, 1..=64) {
        panic!("{e}");
    }
    let body = strip_bom(data);
    let file = &report.files[0];
    let sum = file.records + file.skipped + file.blank;
    match file.layout {
        crate::ingest::Layout::JsonLines => {
            let lines = count_lines(body);
            assert_eq!(file.units, lines, "lines read: {file:?}");
            assert_eq!(
                sum, file.units,
                "records + skipped + blank != lines: {file:?}"
            );
            let mut expected = Vec::new();
            let mut skipped = 0;
            for l in body.split(|&b| b == b'\n') {
                match expected_line(l) {
                    Some(twin) => expected.push(twin),
                    None if !trim(l).is_empty() => skipped += 1,
                    None => {}
                }
            }
            assert_eq!(file.skipped, skipped, "skipped lines: {file:?}");
            assert_twins(&fleet, &expected, data);
            for f in &report.findings {
                let at = f.byte as usize;
                let line_start = data[..at].iter().rposition(|&b| b == b'\n').map_or(
                    if data.starts_with(b"\xEF\xBB\xBF") {
                        3
                    } else {
                        0
                    },
                    |i| i + 1,
                );
                assert!(
                    at < data.len()
                        && data[line_start..at]
                            .iter()
                            .all(|b| matches!(b, b' ' | b'\t' | b'\r')),
                    "finding does not point at the start of its line: {f:?}"
                );
            }
        }
        crate::ingest::Layout::JsonArray => {
            // A malformed array (missing `]`, garbage after it) counts its unreadable rest as
            // one more unit, skipped.
            assert_eq!(
                sum, file.units,
                "records + skipped + blank do not account for the elements: {file:?}"
            );
            if let Ok(Value::Array(elements)) = serde_json::from_slice::<Value>(body) {
                assert_eq!(sum, file.units, "well-formed array: {file:?}");
                assert_eq!(file.units, elements.len() as u64, "elements read: {file:?}");
                let expected: Vec<Value> = elements
                    .into_iter()
                    .filter(Value::is_object)
                    .map(reference::normalise)
                    .collect();
                assert_twins(&fleet, &expected, data);
            }
        }
    }
}

/// A small fleet and a query built from the bytes: the engine (store, indexes, planner,
/// parallel executor) returns exactly what the reference evaluator returns, error or rows,
/// compared as serialized text so key order and `5` versus `5.0` count.
pub fn differential(data: &[u8]) {
    let DifferentialCase {
        lines,
        sql,
        one_per_chunk,
    } = differential_case(data);
    let text = lines.join("\n");

    let opts = LoadOptions {
        chunk_bytes: if one_per_chunk {
            1
        } else {
            LoadOptions::default().chunk_bytes
        },
        ..LoadOptions::default()
    };
    let fleet = Fleet::from_bytes(
        vec![("fleet.jsonl".into(), text.clone().into_bytes())],
        &opts,
    )
    .unwrap_or_else(|e| panic!("generated fleet does not load: {e}\n{text}"));
    let twins: Vec<Value> = lines
        .iter()
        .map(|l| reference::normalise(serde_json::from_str(l).expect("generated JSON")))
        .collect();
    assert_eq!(
        fleet.report().records,
        twins.len() as u64,
        "records loaded\n{text}\n{:?}",
        fleet.report().findings
    );

    assert_same_answer(&fleet, &twins, &sql, &text);
}

/// Runs `sql` in the engine and in the reference and panics unless both give the same rows
/// (as JSON text) or the same rendered error.
fn assert_same_answer(fleet: &Fleet, twins: &[Value], sql: &str, fleet_text: &str) {
    let text_of = |rows: Vec<Value>| serde_json::to_string(&rows).expect("JSON");
    let engine = match fleet.query(sql) {
        Ok(rows) => Ok(text_of(rows.collect())),
        Err(e) => Err(e.render(sql)),
    };
    // The JSON text rows (`--format json`) are the same rows, byte for byte.
    if let (Ok(results), Ok(values)) = (fleet.query(sql), &engine) {
        let text = format!("[{}]", results.json().collect::<Vec<_>>().join(","));
        assert!(
            &text == values,
            "JSON text rows differ from the values\nquery: {sql}\ntext:   {text}\nvalues: {values}"
        );
    }
    let expected = match sql::parse(sql) {
        Ok(q) => reference::evaluate(&q, twins)
            .map(text_of)
            .map_err(|e| e.render(sql)),
        Err(e) => Err(e.render(sql)),
    };
    assert!(
        engine == expected,
        "engine and reference disagree\nquery: {sql}\nfleet:\n{fleet_text}\nengine:    {}\nreference: {}",
        show(&engine),
        show(&expected)
    );
}

/// Twins for [`sql_roundtrip`] to run parsed queries on: every JSON type under the same names,
/// case variants, `5` and `5.0`, arrays of primitives and of objects, a module.
const FIXED_FLEET: &str = r#"{"deviceId":"d1","status":"enabled","version":3,"tags":{"a":5,"b":"x","A":"upper","region":"US","roles":["x","y"],"n":[1,2.5,"3"],"o":{"a":1,"b":[{"c":true}]}},"properties":{"desired":{"a":1},"reported":{"a":"Zürich","fw":"1.0","$metadata":{"$lastUpdated":"2024-01-01T00:00:00Z"}}}}
{"id":"D2","status":"disabled","tags":{"a":5.0,"b":null,"region":"EU","roles":[],"n":-0.5,"o":"not an object"},"properties":{"reported":{"a":2,"fw":"2.0"}},"authentication":{"type":"sas","symmetricKey":{"primaryKey":"SECRET"}}}
{"deviceId":"d3","moduleId":"m1","tags":{"a":"5","b":true,"Region":"us"},"properties":{"reported":{"a":[1,2],"fw":1}}}
{"deviceId":"d4","connectionState":"Connected","tags":{"a":-1e3,"b":"","roles":["y"],"o":{"a":{"b":{"c":"deep"}}}}}
{"deviceId":"d5"}"#;

fn fixed_fleet() -> &'static (Fleet, Vec<Value>) {
    static FLEET: std::sync::OnceLock<(Fleet, Vec<Value>)> = std::sync::OnceLock::new();
    FLEET.get_or_init(|| {
        let fleet = Fleet::from_bytes(
            vec![("fixed.jsonl".into(), FIXED_FLEET.as_bytes().to_vec())],
            &LoadOptions::default(),
        )
        .expect("fixed fleet");
        let twins = FIXED_FLEET
            .lines()
            .map(|l| reference::normalise(serde_json::from_str(l).expect("fixed fleet JSON")))
            .collect();
        (fleet, twins)
    })
}

/// A snapshot on arbitrary bytes: opening it and querying it never panic, whatever the bytes.
/// The first byte chooses what the rest is. Odd: a whole file. Even: patches to a valid
/// snapshot of a small fleet, three bytes each (a little-endian offset, taken modulo the
/// snapshot's length, and a byte to xor in there), so that mutations get past the magic and the
/// header into sections, checksums and decoders. A snapshot left intact answers exactly like
/// the load it was written from.
pub fn snapshot_open(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (bytes, intact) = if mode % 2 == 1 {
        (rest.to_vec(), false)
    } else {
        let mut bytes = fixed_snapshot().to_vec();
        let mut intact = true;
        for patch in rest.chunks_exact(3) {
            let at = usize::from(u16::from_le_bytes([patch[0], patch[1]])) % bytes.len();
            bytes[at] ^= patch[2];
            intact &= patch[2] == 0;
        }
        (bytes, intact)
    };
    for verify in [false, true] {
        let opts = crate::snapshot::OpenOptions { verify };
        let fleet = match Fleet::open_bytes("fuzz.twx", &bytes, &opts) {
            Ok(fleet) => fleet,
            Err(e) => {
                assert!(!intact, "an intact snapshot does not open: {e}");
                continue;
            }
        };
        let _ = fleet.report().records;
        for sql in SNAPSHOT_QUERIES {
            // As text too: plain paths read a damaged arena's bytes without checking them.
            if let Ok(rows) = fleet.query(sql) {
                let mut rows = rows.json();
                while let Some(row) = rows.next_row() {
                    std::hint::black_box(row);
                }
            }
            let answer = fleet
                .query(sql)
                .map(|rows| serde_json::to_string(&rows.collect::<Vec<Value>>()).expect("JSON"))
                .map_err(|e| e.render(sql));
            if intact {
                let loaded = fixed_fleet()
                    .0
                    .query(sql)
                    .map(|rows| serde_json::to_string(&rows.collect::<Vec<Value>>()).expect("JSON"))
                    .map_err(|e| e.render(sql));
                assert!(
                    answer == loaded,
                    "the snapshot answers {sql:?} unlike its load\nsnapshot: {answer:?}\nload:     {loaded:?}"
                );
            }
        }
    }
}

/// Queries over every kind of section: twins, indexed and unindexed columns, arrays, objects,
/// grouping, ordering, modules.
const SNAPSHOT_QUERIES: &[&str] = &[
    "SELECT * FROM devices",
    "SELECT * FROM devices.modules",
    "SELECT COUNT() AS n FROM devices WHERE tags.a = 5 OR status = 'enabled'",
    "SELECT tags.region AS region, COUNT() AS n, MAX(tags.a) AS top FROM devices GROUP BY tags.region",
    "SELECT deviceId, tags.roles, tags.o, properties.reported.fw FROM devices WHERE IS_DEFINED(tags.o) OR STARTSWITH(deviceId, 'd') ORDER BY properties.reported.fw DESC",
    "SELECT TOP 2 deviceId FROM devices WHERE tags.roles[0] = 'y' OR ARRAY_CONTAINS(tags.roles, 'x') ORDER BY version",
    "SELECT deviceId, tags.region, tags.a, version FROM devices",
];

/// The snapshot of [`FIXED_FLEET`], written once per process.
fn fixed_snapshot() -> &'static [u8] {
    static SNAPSHOT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let path = std::env::temp_dir().join(format!(
            "twindex-fuzz-{}-{:?}.twx",
            std::process::id(),
            std::thread::current().id()
        ));
        fixed_fleet()
            .0
            .write_snapshot(&path)
            .expect("write the fixed snapshot");
        let bytes = std::fs::read(&path).expect("read the fixed snapshot back");
        let _ = std::fs::remove_file(&path);
        bytes
    })
}

/// What [`differential`] runs for some bytes: the fleet's JSON lines, the query, and whether
/// each record is loaded as a chunk of its own. (`cargo run --example fuzz_case` shows it.)
pub struct DifferentialCase {
    pub lines: Vec<String>,
    pub sql: String,
    pub one_per_chunk: bool,
}

pub fn differential_case(data: &[u8]) -> DifferentialCase {
    let mut c = Choices::new(data);
    let one_per_chunk = c.chance(64);
    let lines: Vec<String> = (0..c.below(9)).map(|_| gen::record(&mut c)).collect();
    let sql = gen::query(&mut c);
    DifferentialCase {
        lines,
        sql,
        one_per_chunk,
    }
}

fn show(r: &Result<String, String>) -> String {
    match r {
        Ok(rows) => rows.clone(),
        Err(e) => format!("error\n{e}"),
    }
}

// ---- ingest helpers ---------------------------------------------------------------------------

fn lenient() -> LoadOptions {
    LoadOptions {
        keep_findings: usize::MAX,
        ..LoadOptions::default()
    }
}

/// Loads one input leniently (which must not fail) and strictly (which must fail exactly at
/// the first finding of the lenient load).
fn load_checked(data: &[u8]) -> (Fleet, LoadReport) {
    let fleet = Fleet::from_bytes(vec![("input".into(), data.to_vec())], &lenient())
        .unwrap_or_else(|e| panic!("lenient load failed: {e:?}"));
    let report = fleet.report().clone();
    assert_eq!(
        report.findings.len() as u64,
        report.rule_counts.values().sum::<u64>(),
        "findings kept != findings counted: {report:?}"
    );
    assert_eq!(
        report.skipped,
        report.rule_counts.get("skipped").copied().unwrap_or(0),
        "skips counted twice or not at all: {report:?}"
    );
    let strict = LoadOptions {
        strict: true,
        ..LoadOptions::default()
    };
    let outcome = Fleet::from_bytes(vec![("input".into(), data.to_vec())], &strict);
    match (report.findings.first(), outcome) {
        (None, Ok(f)) => assert_eq!(f.report().records, report.records),
        (None, Err(e)) => panic!("strict load failed on clean input: {e:?}"),
        (Some(first), Ok(_)) => panic!("strict load passed despite {first:?}"),
        (Some(first), Err(e)) => {
            let at = match &e {
                LoadError::Record { at, .. } | LoadError::Invalid { at, .. } => at,
                other => panic!("strict load failed with {other:?} for {first:?}"),
            };
            assert_eq!(
                (at.line, at.byte),
                (first.line, first.byte),
                "strict error {e} is not at the first finding {first:?}"
            );
        }
    }
    (fleet, report)
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    crate::source::strip_bom(bytes).0
}

/// A line without the blanks JSON Lines reading ignores around it.
fn trim(mut line: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r', rest @ ..] = line {
        line = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = line {
        line = rest;
    }
    line
}

/// Lines JSON Lines reading sees: every `\n` ends one, and a last line without one counts.
fn count_lines(body: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', body).count() as u64;
    newlines + u64::from(!body.is_empty() && !body.ends_with(b"\n"))
}

/// The reference reading of one JSON Lines line: the normalised twin it must load as, or
/// `None` when it is not a record. A line is a record when it starts with `{`, is within the
/// size limit and `serde_json` reads an object from it.
fn expected_line(line: &[u8]) -> Option<Value> {
    let line = trim(line);
    if line.first() != Some(&b'{') || line.len() > MAX_RECORD_BYTES {
        return None;
    }
    match serde_json::from_slice::<Value>(line) {
        Ok(v @ Value::Object(_)) => Some(reference::normalise(v)),
        _ => None,
    }
}

/// Holds the loaded twins, in order, to the expected ones.
fn assert_twins(fleet: &Fleet, expected: &[Value], input: &[u8]) {
    let store = fleet.store();
    assert_eq!(
        store.len() as usize,
        expected.len(),
        "records loaded, for input {:?}",
        String::from_utf8_lossy(&input[..input.len().min(2000)])
    );
    let got: Vec<Value> = (0..store.len())
        .map(|r| store.twin(r).expect("twin of a loaded row"))
        .collect();
    for (r, twin) in (0..store.len()).zip(&got) {
        let mut text = Vec::new();
        store
            .twin_text(r, &mut text)
            .expect("twin text of a loaded row");
        assert!(
            serde_json::to_string(twin)
                .ok()
                .as_deref()
                .map(str::as_bytes)
                == Some(&text[..]),
            "twin_text of row {r} differs from the twin: {}",
            String::from_utf8_lossy(&text)
        );
    }
    assert!(
        serde_json::to_string(&got).ok() == serde_json::to_string(&expected).ok(),
        "loaded twins differ from the reference's reading\ninput:     {:?}\nloaded:    {}\nreference: {}",
        String::from_utf8_lossy(&input[..input.len().min(2000)]),
        serde_json::to_string(&got).unwrap_or_default(),
        serde_json::to_string(&expected).unwrap_or_default()
    );
}

// ---- the byte-driven chooser ------------------------------------------------------------------

/// Choices read from fuzzer bytes; past the end every byte reads as 0.
struct Choices<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Choices<'a> {
    fn new(data: &'a [u8]) -> Choices<'a> {
        Choices { data, pos: 0 }
    }

    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// A number in `0..n` (0 when `n` is 0 or 1).
    fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            0
        } else {
            self.byte() as usize % n
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// True with probability `p`/256.
    fn chance(&mut self, p: u8) -> bool {
        let b = self.byte();
        p > 0 && b > 255 - p
    }
}

/// Fleets and queries over one small vocabulary, so that queries hit data.
mod gen {
    use super::Choices;

    const KEYS: &[&str] = &[
        "a", "b", "A", "region", "roles", "B", "Region", "location", "Location", "ü", "k\"q",
    ];
    const STRINGS: &[&str] = &[
        "x",
        "y",
        "X",
        "",
        "Zürich",
        "a\"b",
        "it's",
        "line\nbreak",
        "東京",
        "US",
        "EU",
    ];
    /// As JSON text, so `5` and `5.0` stay distinct.
    const NUMBERS: &[&str] = &[
        "-1", "0", "1", "5", "5.0", "2.5", "100", "-2.5", "1e3", "-0",
    ];
    const DEVICE_IDS: &[&str] = &["d1", "d2", "D1", "dev-1", "edge-1"];
    const MODULE_IDS: &[&str] = &["m1", "M1", "$edgeAgent"];
    const STATUS: &[&str] = &["enabled", "disabled"];
    const STATES: &[&str] = &["Connected", "Disconnected"];

    fn json_string(s: &str) -> String {
        serde_json::to_string(s).expect("string")
    }

    fn primitive(c: &mut Choices, nullable: bool) -> String {
        match c.below(if nullable { 5 } else { 4 }) {
            0 => c.pick(NUMBERS).to_string(),
            1 => json_string(c.pick(STRINGS)),
            2 => "true".into(),
            3 => "false".into(),
            _ => "null".into(),
        }
    }

    fn value(c: &mut Choices, depth: usize) -> String {
        if depth == 0 {
            return primitive(c, true);
        }
        match c.below(8) {
            0..=4 => primitive(c, true),
            5 | 6 => object(c, depth - 1),
            _ => {
                let n = c.below(4);
                let items: Vec<String> = (0..n)
                    .map(|_| {
                        if c.chance(40) {
                            object(c, depth.saturating_sub(2))
                        } else {
                            primitive(c, false)
                        }
                    })
                    .collect();
                format!("[{}]", items.join(","))
            }
        }
    }

    fn object(c: &mut Choices, depth: usize) -> String {
        let n = c.below(4);
        let mut keys: Vec<&str> = Vec::new();
        let mut members = Vec::new();
        for _ in 0..n {
            let k = c.pick(KEYS);
            // A repeated key (the last value counts, in the first position) is an oddity real
            // exports do not have: keep it rare, so most records exercise everything else.
            if keys.contains(&k) && !c.chance(16) {
                continue;
            }
            keys.push(k);
            members.push(format!("{}:{}", json_string(k), value(c, depth)));
        }
        format!("{{{}}}", members.join(","))
    }

    /// One record as a JSON line, in twin or export shape.
    pub fn record(c: &mut Choices) -> String {
        let mut m: Vec<String> = Vec::new();
        let export = c.chance(50);
        let id = json_string(c.pick(DEVICE_IDS));
        m.push(format!(
            "\"{}\":{id}",
            if export { "id" } else { "deviceId" }
        ));
        if c.chance(60) {
            m.push(format!("\"moduleId\":{}", json_string(c.pick(MODULE_IDS))));
        }
        if c.chance(128) {
            m.push(format!("\"status\":{}", json_string(c.pick(STATUS))));
        }
        if c.chance(40) {
            m.push(format!(
                "\"connectionState\":{}",
                json_string(c.pick(STATES))
            ));
        }
        if c.chance(40) {
            m.push(format!("\"version\":{}", c.pick(NUMBERS)));
        }
        if c.chance(30) {
            m.push(format!(
                "\"capabilities\":{{\"iotEdge\":{}}}",
                c.chance(128)
            ));
        }
        if c.chance(200) {
            m.push(format!("\"tags\":{}", object(c, 3)));
        }
        if c.chance(160) {
            let desired = object(c, 2);
            let reported = object(c, 2);
            m.push(format!(
                "\"properties\":{{\"desired\":{desired},\"reported\":{reported}}}"
            ));
        }
        if export && c.chance(40) {
            m.push("\"authentication\":{\"type\":\"sas\",\"symmetricKey\":{\"primaryKey\":\"SECRET\"}}".into());
        }
        // Rarely, a top-level member again (a decoy before or after the real one).
        if !m.is_empty() && c.chance(12) {
            let i = c.below(m.len());
            let key = m[i].split(':').next().unwrap_or("\"x\"").to_string();
            let decoy = format!("{key}:{}", primitive(c, true));
            let at = c.below(m.len() + 1);
            m.insert(at, decoy);
        }
        format!("{{{}}}", m.join(","))
    }

    const PATHS: &[&str] = &[
        "tags.a",
        "tags.A",
        "tags.b",
        "TAGS.region",
        "tags.region",
        "tags.roles",
        "tags.roles[0]",
        "tags.a[1]",
        "tags.Location.region",
        "tags.location.a",
        "tags.[[a]]",
        "tags.a.b",
        "tags.ü",
        "properties.reported.b",
        "properties.reported.a",
        "properties.desired.a",
        "properties.desired.A.b",
        "status",
        "deviceId",
        "id",
        "moduleId",
        "devices.tags.a",
        "capabilities.iotEdge",
        "connectionState",
        "version",
        "tags",
    ];
    const GROUP_PATHS: &[&str] = &[
        "tags.a",
        "tags.A",
        "tags.b",
        "TAGS.region",
        "tags.roles",
        "properties.reported.b",
        "status",
        "moduleId",
        "capabilities.iotEdge",
        "version",
    ];
    const NUMBER_LITERALS: &[&str] = &["-1", "0", "1", "5", "5.0", "2.5", "100", "0x10", "1e3"];
    const STRING_LITERALS: &[&str] = &[
        "'x'",
        "'X'",
        "''",
        "'Zürich'",
        "\"a\\\"b\"",
        "'it\\'s'",
        "'line\\nbreak'",
        "'US'",
        "'enabled'",
        "'d1'",
        "'東京'",
    ];

    fn path(c: &mut Choices) -> &'static str {
        c.pick(PATHS)
    }

    fn literal(c: &mut Choices) -> &'static str {
        match c.below(9) {
            0..=3 => c.pick(STRING_LITERALS),
            4..=7 => c.pick(NUMBER_LITERALS),
            _ => c.pick(&["true", "false", "null"]),
        }
    }

    /// A scalar expression over one path.
    fn operand(c: &mut Choices) -> String {
        let p = path(c);
        match c.below(14) {
            0..=6 => p.to_string(),
            7 => format!(
                "{p} {} {}",
                c.pick(&["+", "-", "*", "/", "%"]),
                c.pick(NUMBER_LITERALS)
            ),
            8 => format!("-{p}"),
            9 => format!(
                "{}({p})",
                c.pick(&["LOWER", "UPPER", "LENGTH", "lower", "AS_NUMBER"])
            ),
            10 => format!(
                "{}({p})",
                c.pick(&["ABS", "CEILING", "FLOOR", "SIGN", "SQRT", "SQUARE", "EXP"])
            ),
            11 => format!(
                "SUBSTRING({p}, {}, {})",
                c.pick(&["0", "1", "-1", "1.5"]),
                c.pick(&["1", "2", "-1", "100"])
            ),
            12 => format!(
                "{}({p}, {})",
                c.pick(&["INDEX_OF", "CONCAT", "POWER"]),
                literal(c)
            ),
            _ => literal(c).to_string(),
        }
    }

    fn predicate(c: &mut Choices) -> String {
        match c.below(12) {
            0..=4 => {
                let l = operand(c);
                let op = c.pick(&["=", "!=", "<>", "<", "<=", ">", ">="]);
                let r = if c.chance(60) {
                    operand(c)
                } else {
                    literal(c).to_string()
                };
                format!("{l} {op} {r}")
            }
            5 | 6 => {
                let p = path(c);
                let op = c.pick(&["IN", "NIN", "NOT IN", "in"]);
                let n = 1 + c.below(3);
                let items: Vec<&str> = (0..n).map(|_| literal(c)).collect();
                format!("{p} {op} [{}]", items.join(", "))
            }
            7 | 8 => format!(
                "{}({})",
                c.pick(&[
                    "IS_DEFINED",
                    "IS_STRING",
                    "IS_NUMBER",
                    "IS_NULL",
                    "IS_OBJECT",
                    "IS_ARRAY",
                    "IS_BOOL",
                    "IS_PRIMITIVE",
                ]),
                path(c)
            ),
            9 | 10 => format!(
                "{}({}, {})",
                c.pick(&["STARTSWITH", "ENDSWITH", "CONTAINS", "STARTS_WITH"]),
                operand(c),
                c.pick(STRING_LITERALS)
            ),
            _ => format!("ARRAY_CONTAINS({}, {})", path(c), literal(c)),
        }
    }

    fn condition(c: &mut Choices, depth: usize) -> String {
        if depth == 0 {
            return predicate(c);
        }
        match c.below(8) {
            0..=3 => predicate(c),
            4 | 5 => {
                let op = c.pick(&["AND", "OR", "and", "or"]);
                let (l, r) = (condition(c, depth - 1), condition(c, depth - 1));
                format!("{l} {op} {r}")
            }
            6 => format!("NOT {}", condition(c, depth - 1)),
            _ => format!("({})", condition(c, depth - 1)),
        }
    }

    fn aggregate(c: &mut Choices) -> String {
        match c.below(6) {
            0 => "COUNT()".into(),
            n => format!(
                "{}({})",
                ["COUNT", "SUM", "AVG", "MIN", "MAX"][n - 1],
                path(c)
            ),
        }
    }

    /// A query, mostly a valid one: rows (`*` or elements) or aggregates, with or without
    /// GROUP BY, WHERE, ORDER BY and TOP.
    pub fn query(c: &mut Choices) -> String {
        let collection = if c.chance(50) {
            "devices.modules"
        } else {
            "devices"
        };
        let top = c.chance(50).then(|| c.below(6));
        let mut select: Vec<String> = Vec::new();
        let mut order_terms: Vec<String> = Vec::new();
        let mut group_by: Vec<&str> = Vec::new();
        let mode = c.below(4);
        match mode {
            0 => {
                select.push("*".into());
                order_terms.push(operand(c));
            }
            1 => {
                for i in 0..1 + c.below(3) {
                    let e = operand(c);
                    if c.chance(100) {
                        select.push(format!("{e} AS k{i}"));
                        order_terms.push(format!("k{i}"));
                    } else {
                        select.push(e);
                    }
                }
                order_terms.push(operand(c));
            }
            _ => {
                if mode == 3 {
                    for _ in 0..1 + c.below(2) {
                        let k = c.pick(GROUP_PATHS);
                        if !group_by.contains(&k) {
                            group_by.push(k);
                        }
                    }
                    for (i, k) in group_by.iter().enumerate() {
                        if c.chance(180) {
                            select.push(format!("{k} AS g{i}"));
                            order_terms.push(format!("g{i}"));
                        }
                    }
                    order_terms.push(c.pick(&group_by).to_string());
                }
                for i in 0..1 + c.below(3) {
                    let e = aggregate(c);
                    if c.chance(200) {
                        select.push(format!("{e} AS n{i}"));
                        order_terms.push(format!("n{i}"));
                    } else {
                        select.push(e);
                    }
                }
                order_terms.push(aggregate(c));
            }
        }
        let mut q = String::from("SELECT ");
        if let Some(n) = top {
            q.push_str(&format!("TOP {n} "));
        }
        q.push_str(&select.join(", "));
        q.push_str(" FROM ");
        q.push_str(collection);
        if c.below(4) != 0 {
            q.push_str(" WHERE ");
            q.push_str(&condition(c, 3));
        }
        if !group_by.is_empty() {
            q.push_str(" GROUP BY ");
            q.push_str(&group_by.join(", "));
        }
        if c.chance(100) {
            let n = 1 + c.below(2);
            let terms: Vec<String> = (0..n)
                .map(|_| {
                    let t = order_terms[c.below(order_terms.len())].clone();
                    match c.below(3) {
                        0 => t,
                        1 => format!("{t} ASC"),
                        _ => format!("{t} DESC"),
                    }
                })
                .collect();
            q.push_str(" ORDER BY ");
            q.push_str(&terms.join(", "));
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_accept_trivial_inputs() {
        for data in [
            &b""[..],
            b"\n",
            b"x",
            b"{}",
            b"[]",
            b"SELECT * FROM devices",
        ] {
            sql_roundtrip(data);
            ingest_record(data);
            ingest_file(data);
            differential(data);
        }
    }

    #[test]
    fn a_query_that_prints_past_the_length_limit_is_not_a_failure() {
        let q = format!(
            "SELECT * FROM devices WHERE x IN [{}1]",
            "1,".repeat(32_700)
        );
        assert!(q.len() <= sql::MAX_QUERY_LEN);
        sql_roundtrip(q.as_bytes());
    }

    #[test]
    fn the_chooser_reaches_every_query_mode() {
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..=255u8 {
            let data: Vec<u8> = (0..64u8)
                .map(|i| seed.wrapping_mul(31).wrapping_add(i.wrapping_mul(97)))
                .collect();
            let q = gen::query(&mut Choices::new(&data));
            seen.insert(if q.contains("GROUP BY") {
                "grouped"
            } else if q.contains(" * FROM") {
                "star"
            } else if q.contains("COUNT(") || q.contains("SUM(") || q.contains("MAX(") {
                "aggregate"
            } else {
                "rows"
            });
        }
        assert_eq!(seen.len(), 4, "{seen:?}");
    }
}
