//! A catalogue of bad inputs: files, records and queries, each with the exact kind of error or
//! finding it must produce and where. Nothing here may panic, hang or lose a record silently:
//! every line or element read is a record, a skip or a blank line, and the report says so.
//!
//! `tests/it/ingest.rs` covers the ordinary shapes (export lines, BOM with CRLF and a leading
//! comment, gzip, a truncated array element, a 100 MB line); this file adds the rest.
//! Bad snapshots (empty, wrong magic, newer version, truncated at every section boundary,
//! flipped bytes) are in `tests/it/snapshot.rs`, beside the format they break.

use std::io::Write;

use twindex::{Fleet, LoadError, LoadOptions};

/// The finding of an array element or line that is not an object.
const NOT_A_RECORD: &str = "not a record: does not start with '{'";

fn load(bytes: &[u8]) -> Fleet {
    load_named("input", bytes)
}

fn load_named(name: &str, bytes: &[u8]) -> Fleet {
    Fleet::from_bytes(vec![(name.to_string(), bytes.to_vec())], &keep_all())
        .unwrap_or_else(|e| panic!("lenient load failed: {e}"))
}

fn keep_all() -> LoadOptions {
    LoadOptions {
        keep_findings: usize::MAX,
        ..LoadOptions::default()
    }
}

/// (line, byte, rule, path, detail) of every finding; a detail ending in `*` is a prefix (the
/// rest is the JSON parser's own wording).
type Expected<'a> = (u64, u64, &'a str, &'a str, &'a str);

#[track_caller]
fn assert_findings(f: &Fleet, expected: &[Expected<'_>]) {
    let got: Vec<(u64, u64, &str, &str, &str)> = f
        .report()
        .findings
        .iter()
        .map(|x| (x.line, x.byte, x.rule, x.path.as_str(), x.detail.as_str()))
        .collect();
    let matches = got.len() == expected.len()
        && got.iter().zip(expected).all(|(g, e)| {
            let detail_ok = match e.4.strip_suffix('*') {
                Some(prefix) => g.4.starts_with(prefix),
                None => g.4 == e.4,
            };
            (g.0, g.1, g.2, g.3) == (e.0, e.1, e.2, e.3) && detail_ok
        });
    assert!(
        matches,
        "findings\n got:      {got:?}\n expected: {expected:?}"
    );
}

/// Lines or elements read, then records, blank lines and skips of the only input.
#[track_caller]
fn assert_counts(f: &Fleet, units: u64, records: u64, blank: u64, skipped: u64) {
    let file = &f.report().files[0];
    assert_eq!(
        (file.units, file.records, file.blank, file.skipped),
        (units, records, blank, skipped),
        "(units, records, blank, skipped) of {file:?}"
    );
}

fn strict_error(bytes: &[u8]) -> LoadError {
    let opts = LoadOptions {
        strict: true,
        ..LoadOptions::default()
    };
    match Fleet::from_bytes(vec![("input".into(), bytes.to_vec())], &opts) {
        Ok(_) => panic!("strict load passed"),
        Err(e) => e,
    }
}

// ---- files ------------------------------------------------------------------------------------

#[test]
fn missing_file_is_a_not_found_io_error_naming_the_file() {
    let err = Fleet::load(&["/no/such/dir/devices.jsonl"])
        .err()
        .expect("error");
    match &err {
        LoadError::Io { file, source } => {
            assert_eq!(file, "/no/such/dir/devices.jsonl");
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn directory_is_not_a_file() {
    let dir = std::env::temp_dir();
    let name = dir.to_str().unwrap();
    match Fleet::load(&[name]).err().expect("error") {
        LoadError::NotAFile { file, what } => {
            assert_eq!((file.as_str(), what), (name, "a directory"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn empty_file_reads_no_lines() {
    let f = load(b"");
    assert_counts(&f, 0, 0, 0, 0);
    assert_findings(&f, &[]);
}

#[test]
fn blank_lines_only_are_counted_as_blank() {
    let f = load(b"\n  \n\t\r\n\r\n");
    assert_counts(&f, 4, 0, 4, 0);
    assert_findings(&f, &[]);
}

#[test]
fn byte_order_mark_only_reads_no_lines() {
    let f = load(b"\xEF\xBB\xBF");
    assert_counts(&f, 0, 0, 0, 0);
}

#[test]
fn json_array_missing_its_closing_bracket() {
    let text = b"[{\"deviceId\":\"a\"},\n{\"deviceId\":\"b\"}\n";
    let f = load(text);
    // Two elements, and the missing end as one unit skipped.
    assert_counts(&f, 3, 2, 0, 1);
    assert_findings(
        &f,
        &[(
            3,
            36,
            "skipped",
            "",
            "JSON array is missing its closing ']'",
        )],
    );
    assert_eq!(
        strict_error(text).to_string(),
        "input:3 (byte 36): JSON array is missing its closing ']'"
    );
}

#[test]
fn json_array_with_trailing_garbage() {
    let f = load(b"[{\"deviceId\":\"a\"}]\n,{\"deviceId\":\"b\"}");
    // The element, and everything after the array as one unit skipped: the counts add up.
    assert_counts(&f, 2, 1, 0, 1);
    assert_findings(
        &f,
        &[(2, 19, "skipped", "", "unexpected data after the JSON array")],
    );

    let text = b"\xEF\xBB\xBF[{\"deviceId\":\"a\"},\n {\"deviceId\":\"b\"}] x";
    let f = load(text);
    assert_counts(&f, 3, 2, 0, 1);
    assert_findings(
        &f,
        &[(2, 41, "skipped", "", "unexpected data after the JSON array")],
    );
    assert_eq!(
        strict_error(text).to_string(),
        "input:2 (byte 41): unexpected data after the JSON array"
    );
}

#[test]
fn json_array_elements_that_are_not_objects_are_skipped_each() {
    let f = load(b"[\n{\"deviceId\":\"a\"},\n5,\n\"s\",\n[{\"deviceId\":\"b\"}],\nnull,\ntrue\n]");
    assert_counts(&f, 6, 1, 0, 5);
    assert_findings(
        &f,
        &[
            (3, 20, "skipped", "", NOT_A_RECORD),
            (4, 23, "skipped", "", NOT_A_RECORD),
            (5, 28, "skipped", "", NOT_A_RECORD),
            (6, 48, "skipped", "", NOT_A_RECORD),
            (7, 54, "skipped", "", NOT_A_RECORD),
        ],
    );
}

/// An array of tiny scalars (a range per element would cost eight times the input) is
/// counted element by element, the first `keep_findings` listed with their place.
#[test]
fn json_array_of_many_scalars_is_counted_and_the_first_are_listed() {
    let mut text = b"[{\"deviceId\":\"a\"}".to_vec();
    for _ in 0..300_000 {
        text.extend_from_slice(b",1");
    }
    text.extend_from_slice(b",{\"deviceId\":\"b\"}]");
    let opts = LoadOptions {
        keep_findings: 3,
        ..LoadOptions::default()
    };
    let f = Fleet::from_bytes(vec![("input".into(), text)], &opts).expect("loads");
    assert_counts(&f, 300_002, 2, 0, 300_000);
    assert_eq!(f.report().rule_counts.get("skipped"), Some(&300_000));
    assert_findings(
        &f,
        &[
            (1, 18, "skipped", "", NOT_A_RECORD),
            (1, 20, "skipped", "", NOT_A_RECORD),
            (1, 22, "skipped", "", NOT_A_RECORD),
        ],
    );
}

#[test]
fn json_array_missing_a_comma_stops_at_the_second_element() {
    let f = load(b"[{\"deviceId\":\"a\"}\n {\"deviceId\":\"b\"}]");
    assert_counts(&f, 2, 1, 0, 1);
    assert_findings(
        &f,
        &[(
            2,
            19,
            "skipped",
            "",
            "expected ',' or ']' after an array element",
        )],
    );
}

#[test]
fn json_array_with_an_unterminated_string() {
    let f = load(b"[{\"deviceId\":\"a\"},\n{\"deviceId\":\"b}]\n");
    assert_counts(&f, 2, 1, 0, 1);
    assert_findings(
        &f,
        &[(2, 19, "skipped", "", "unterminated string in JSON array")],
    );
}

#[test]
fn json_array_with_crlf_line_ends() {
    let f = load(b"[\r\n  {\"deviceId\":\"a\"},\r\n  {\"deviceId\":\"b\"}\r\n]\r\n");
    assert_counts(&f, 2, 2, 0, 0);
    assert_findings(&f, &[]);
}

#[test]
fn truncated_gzip_is_an_io_error_naming_the_file() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 0..100 {
        writeln!(gz, "{{\"deviceId\":\"d{i}\"}}").unwrap();
    }
    let gz = gz.finish().unwrap();
    let cut = &gz[..gz.len() / 2];
    match Fleet::from_bytes(vec![("twins.jsonl.gz".into(), cut.to_vec())], &keep_all()) {
        Err(LoadError::Io { file, source }) => {
            assert_eq!(file, "twins.jsonl.gz");
            assert_eq!(source.kind(), std::io::ErrorKind::UnexpectedEof, "{source}");
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("a truncated gzip stream loaded"),
    }
}

fn gzip(members: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(m).unwrap();
        out.extend(gz.finish().unwrap());
    }
    out
}

/// A gzip bomb: 64 MB of white space compress to about 64 KB. Decompression stops at the cap
/// with a typed error naming the file and the limit, from memory and from a mapped file; an
/// input exactly at the cap (over two gzip members) loads.
#[test]
fn gzip_bomb_stops_at_the_decompressed_size_limit() {
    let opts = |limit: u64| LoadOptions {
        max_decompressed_bytes: limit,
        ..keep_all()
    };
    let limit = 1 << 20;
    let bomb = gzip(&[&b"{\"deviceId\":\"a\"}\n"[..], &vec![b' '; 64 << 20]]);
    assert!(bomb.len() < 200 << 10, "{} bytes", bomb.len());
    let expected = |file: &str| {
        format!(
            "{file}: decompresses to more than 1048576 bytes, the limit for a compressed input \
             (decompress it to a file, which is mapped instead of held in memory)"
        )
    };
    match Fleet::from_bytes(vec![("bomb.jsonl.gz".into(), bomb.clone())], &opts(limit)) {
        Err(e @ LoadError::Decompressed { .. }) => {
            assert!(
                matches!(&e, LoadError::Decompressed { file, limit: 1048576 } if file == "bomb.jsonl.gz")
            );
            assert_eq!(e.to_string(), expected("bomb.jsonl.gz"));
        }
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("a gzip bomb loaded"),
    }
    let path = std::env::temp_dir().join(format!("twindex-bomb-{}.jsonl.gz", std::process::id()));
    std::fs::write(&path, &bomb).unwrap();
    let name = path.to_str().unwrap().to_string();
    let result = Fleet::load_with(&[&name], &opts(limit));
    let _ = std::fs::remove_file(&path);
    match result {
        Err(e) => assert_eq!(e.to_string(), expected(&name)),
        Ok(_) => panic!("a gzip bomb loaded from a file"),
    }

    // Exactly at the limit, and one byte over it.
    let first = b"{\"deviceId\":\"a\"}\n";
    let mut second = b"{\"deviceId\":\"b\",\"s\":\"".to_vec();
    second.resize(limit as usize - first.len() - 3, b'x');
    second.extend_from_slice(b"\"}\n");
    let exact = gzip(&[first, &second]);
    let f = Fleet::from_bytes(vec![("exact.gz".into(), exact.clone())], &opts(limit))
        .expect("an input of exactly the limit loads");
    assert_counts(&f, 2, 2, 0, 0);
    assert!(matches!(
        Fleet::from_bytes(vec![("exact.gz".into(), exact)], &opts(limit - 1)),
        Err(LoadError::Decompressed { limit: 1048575, .. })
    ));
    assert_eq!(twindex::source::MAX_DECOMPRESSED_BYTES, 16 << 30);
}

#[test]
fn invalid_utf8_in_a_line_is_skipped() {
    let f = load(b"{\"deviceId\":\"a\"}\n{\"deviceId\":\"caf\xE9\"}\n{\"deviceId\":\"c\"}\n");
    assert_counts(&f, 3, 2, 0, 1);
    assert_findings(&f, &[(2, 17, "skipped", "", "invalid UTF-8 (*")]);
}

#[test]
fn truncated_last_line_is_skipped() {
    let f = load(b"{\"deviceId\":\"a\"}\n{\"deviceId\":\"b\",\"tags\":{\"x\":");
    assert_counts(&f, 2, 1, 0, 1);
    assert_findings(&f, &[(2, 17, "skipped", "", "invalid JSON (*")]);
}

#[test]
fn broken_json_missing_a_colon_is_skipped() {
    let f = load(b"{\"deviceId\":\"a\"}\n\n  {\"deviceId\" \"b\"}\n");
    assert_counts(&f, 3, 1, 1, 1);
    assert_findings(
        &f,
        &[(3, 20, "skipped", "", "invalid JSON (ExpectedObjectColon*")],
    );
}

#[test]
fn comment_line_between_records_is_skipped() {
    let f = load(b"{\"deviceId\":\"a\"}\n// exported by a script\n{\"deviceId\":\"b\"}\n");
    assert_counts(&f, 3, 2, 0, 1);
    assert_findings(&f, &[(2, 17, "skipped", "", NOT_A_RECORD)]);
}

#[test]
fn line_starting_with_a_bracket_after_the_first_is_skipped() {
    let f = load(b"{\"deviceId\":\"a\"}\n[{\"deviceId\":\"b\"}]\n");
    assert_counts(&f, 2, 1, 0, 1);
    assert_findings(&f, &[(2, 17, "skipped", "", NOT_A_RECORD)]);
}

/// A first line starting with `[` makes the file a JSON array (SPEC §1.1); the JSON Lines that
/// follow it are reported, not lost.
#[test]
fn first_line_starting_with_a_bracket_makes_the_file_an_array() {
    let f = load(b"[1]\n{\"deviceId\":\"a\"}\n");
    assert_eq!(
        f.report().files[0].layout,
        twindex::ingest::Layout::JsonArray
    );
    assert_eq!(f.report().records, 0);
    assert_findings(
        &f,
        &[
            (1, 1, "skipped", "", NOT_A_RECORD),
            (2, 4, "skipped", "", "unexpected data after the JSON array"),
        ],
    );
}

#[test]
fn two_records_on_one_line_are_one_skip() {
    let f = load(b"{\"deviceId\":\"a\"} {\"deviceId\":\"b\"}\n");
    assert_counts(&f, 1, 0, 0, 1);
    assert_findings(&f, &[(1, 0, "skipped", "", "invalid JSON (*")]);
}

#[test]
fn scalar_lines_are_not_records() {
    let f = load(b"42\n\"d1\"\nnull\n");
    assert_counts(&f, 3, 0, 0, 3);
    assert_findings(
        &f,
        &[
            (1, 0, "skipped", "", NOT_A_RECORD),
            (2, 3, "skipped", "", NOT_A_RECORD),
            (3, 8, "skipped", "", NOT_A_RECORD),
        ],
    );
}

#[test]
fn nul_bytes_in_a_line_and_in_a_string() {
    let f = load(b"\0\0\0\n{\"deviceId\":\"a\0b\"}\n{\"deviceId\":\"c\"}\n");
    assert_counts(&f, 3, 1, 0, 2);
    assert_findings(
        &f,
        &[
            (1, 0, "skipped", "", NOT_A_RECORD),
            (2, 4, "skipped", "", "invalid JSON (*"),
        ],
    );
}

#[test]
fn lone_surrogate_escape_is_skipped() {
    let f = load(b"{\"deviceId\":\"a\",\"tags\":{\"s\":\"\\ud800\"}}\n");
    assert_counts(&f, 1, 0, 0, 1);
    assert_findings(&f, &[(1, 0, "skipped", "", "invalid JSON (*")]);
}

#[test]
fn number_beyond_f64_is_skipped() {
    let f = load(b"{\"deviceId\":\"a\",\"tags\":{\"n\":1e400}}\n");
    assert_counts(&f, 1, 0, 0, 1);
    assert_findings(&f, &[(1, 0, "skipped", "", "invalid JSON (InvalidNumber*")]);
}

/// 100,000 levels of nesting: a counted skip with a message, in a JSON Lines record, as a JSON
/// array element, as a line of bare brackets and as a whole JSON array file; never a stack
/// overflow.
#[test]
fn json_nested_100000_deep_is_a_counted_skip() {
    const DEEP: usize = 100_000;
    let too_deep = "JSON nested deeper than 127 levels";
    let nested = format!("{}{}", "[".repeat(DEEP), "]".repeat(DEEP));

    let text = format!(
        "{{\"deviceId\":\"a\"}}\n{{\"deviceId\":\"b\",\"tags\":{{\"x\":{nested}}}}}\n{{\"deviceId\":\"c\"}}\n"
    );
    let f = load(text.as_bytes());
    assert_counts(&f, 3, 2, 0, 1);
    assert_findings(&f, &[(2, 17, "skipped", "", too_deep)]);

    let objects = format!("{}1{}", "{\"a\":".repeat(DEEP), "}".repeat(DEEP));
    let text = format!("[{{\"deviceId\":\"a\"}},\n{{\"deviceId\":\"b\",\"x\":{objects}}}]");
    let f = load(text.as_bytes());
    assert_counts(&f, 2, 1, 0, 1);
    assert_findings(&f, &[(2, 19, "skipped", "", too_deep)]);

    let text = format!("{{\"deviceId\":\"a\"}}\n{nested}\n");
    let f = load(text.as_bytes());
    assert_counts(&f, 2, 1, 0, 1);
    assert_findings(&f, &[(2, 17, "skipped", "", NOT_A_RECORD)]);

    // A file that is one array 100,000 deep: one element, not a record.
    let f = load(nested.as_bytes());
    assert_counts(&f, 1, 0, 0, 1);
    assert_findings(&f, &[(1, 1, "skipped", "", NOT_A_RECORD)]);

    assert_eq!(
        strict_error(text.as_bytes()).to_string(),
        format!("input:2 (byte 17): {NOT_A_RECORD}")
    );
    let deep_record = format!("{{\"deviceId\":\"b\",\"x\":{nested}}}\n");
    assert_eq!(
        strict_error(deep_record.as_bytes()).to_string(),
        format!("input:1 (byte 0): {too_deep}")
    );
}

/// The depth limit is exactly 127 levels, the record's braces the first: as deep as serde_json
/// (the reference) reads. A record at the limit loads and reads back whole, even through the
/// slower reader taken for a `-0`; one level more is a skip.
#[test]
fn json_nested_127_levels_loads_and_128_is_skipped() {
    let record = |levels: usize| {
        let inner = levels - 2; // the record's braces and the `tags` object
        format!(
            "{{\"deviceId\":\"d{levels}\",\"tags\":{{\"z\":-0,\"x\":{}1{}}}}}\n",
            "[".repeat(inner),
            "]".repeat(inner)
        )
    };
    let text = format!("{}{}", record(127), record(128));
    let f = load(text.as_bytes());
    assert_counts(&f, 2, 1, 0, 1);
    let second = record(127).len() as u64;
    assert_findings(
        &f,
        &[(
            2,
            second,
            "skipped",
            "",
            "JSON nested deeper than 127 levels",
        )],
    );
    let rows: Vec<serde_json::Value> = f
        .query("SELECT * FROM devices")
        .unwrap_or_else(|e| panic!("{}", e.render("SELECT * FROM devices")))
        .collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["deviceId"], "d127");
    assert_eq!(rows[0]["tags"]["z"], serde_json::json!(-0.0));
    assert_eq!(twindex::ingest::MAX_JSON_DEPTH, 127);
}

/// One byte past the limit is enough to skip a record unparsed (`ingest.rs` has a 100 MB one).
#[test]
fn record_one_byte_over_the_size_limit_is_skipped() {
    let limit = twindex::ingest::MAX_RECORD_BYTES;
    let mut text = b"{\"deviceId\":\"a\"}\n{\"deviceId\":\"b\",\"s\":\"".to_vec();
    let start = 17;
    text.resize(start + limit - 2, b'x');
    text.extend_from_slice(b"\"}");
    assert_eq!(text.len() - start, limit, "exactly at the limit");
    let f = load(&text);
    assert_counts(&f, 2, 2, 0, 0);

    text.insert(start + 30, b'x');
    let f = load(&text);
    assert_counts(&f, 2, 1, 0, 1);
    let detail = format!("record is {} bytes, over the 16 MiB limit", limit + 1);
    assert_findings(&f, &[(2, 17, "skipped", "", &detail)]);
}

/// A 1 GB line (a sparse file: cheap to make) is skipped without being copied or parsed: the
/// input stays mapped and the store holds only the two small records around it.
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "scans 1 GB: run with --release, as CI does"
)]
fn a_1_gb_line_is_skipped_without_reading_it_into_memory() {
    let path = std::env::temp_dir().join(format!("twindex-1gb-line-{}.jsonl", std::process::id()));
    let gb: u64 = 1 << 30;
    {
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(b"{\"deviceId\":\"a\"}\n{\"deviceId\":\"big\",\"s\":\"")
            .unwrap();
        // The hole reads as NUL bytes: a 1 GB line that starts like a record.
        f.set_len(gb).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"\"}\n{\"deviceId\":\"c\"}\n").unwrap();
    }
    let name = path.to_str().unwrap().to_string();
    let result = Fleet::load_with(&[&name], &keep_all());
    let _ = std::fs::remove_file(&path);
    let f = result.expect("load");
    assert_counts(&f, 3, 2, 0, 1);
    let size = gb + 2 - 17; // from byte 17 to the `"}` appended at the 1 GB mark
    let detail = format!("record is {size} bytes, over the 16 MiB limit");
    assert_findings(&f, &[(2, 17, "skipped", "", &detail)]);
    assert_eq!(f.store().owned_input_bytes(), 0, "the input was copied");
    assert!(
        f.store().heap_bytes() < 1 << 20,
        "store holds {} bytes",
        f.store().heap_bytes()
    );
}

/// Key shapes that made ingest quadratic (a linear scan of siblings per key): a new tag key in
/// every record, 20,000 keys in one object, and 4,096 spellings of one key differing only by
/// case. A hang guard: before the fix the first alone took about a minute.
#[test]
fn distinct_keys_per_record_and_per_object_load_in_one_pass() {
    const N: usize = 20_000;
    let mut text = String::new();
    for i in 0..N {
        text.push_str(&format!(
            "{{\"deviceId\":\"d{i}\",\"tags\":{{\"k{i}\":{i}}}}}\n"
        ));
    }
    let wide: Vec<String> = (0..N).map(|i| format!("\"w{i}\":{i}")).collect();
    text.push_str(&format!(
        "{{\"deviceId\":\"wide\",\"tags\":{{{}}}}}\n",
        wide.join(",")
    ));
    let spellings: Vec<String> = (0..4096u32)
        .map(|bits| {
            let key: String = "abcdefghijkl"
                .chars()
                .enumerate()
                .map(|(j, c)| {
                    if bits >> j & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            format!("\"{key}\":{bits}")
        })
        .collect();
    text.push_str(&format!(
        "{{\"deviceId\":\"cases\",\"tags\":{{{}}}}}\n",
        spellings.join(",")
    ));
    let f = load(text.as_bytes());
    assert_counts(&f, N as u64 + 2, N as u64 + 2, 0, 0);
    // deviceId, tags, N keys, N wide keys, 4,096 spellings.
    assert_eq!(f.store().columns().len(), 2 + 2 * N + 4096);
    assert_eq!(f.store().columns_for(&["tags", "ABCDEFGHIJKL"]).len(), 4096);
    assert_eq!(
        f.store().irregular().len(),
        1,
        "only the record with case collisions"
    );
    let ids = |sql: &str| -> Vec<serde_json::Value> {
        f.query(sql)
            .unwrap_or_else(|e| panic!("{sql}: {}", e.render(sql)))
            .map(|r| r["deviceId"].clone())
            .collect()
    };
    assert_eq!(
        ids("SELECT deviceId FROM devices WHERE tags.k12345 = 12345"),
        vec![serde_json::json!("d12345")]
    );
    assert_eq!(
        ids("SELECT deviceId FROM devices WHERE tags.w19999 = 19999"),
        vec![serde_json::json!("wide")]
    );
    assert_eq!(
        ids("SELECT deviceId FROM devices WHERE IS_DEFINED(tags.aBcDeFgHiJkL)"),
        vec![serde_json::json!("cases")]
    );
}

/// One column per distinct path: past `max_paths` the load fails with a typed error at the
/// record that brought one path too many, before the columns take the memory.
#[test]
fn more_distinct_paths_than_the_limit_fail_the_load() {
    // Paths: deviceId, tags and one tag per record.
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!(
            "{{\"deviceId\":\"d{i}\",\"tags\":{{\"k{i}\":1}}}}\n"
        ));
    }
    let with = |max_paths: usize, chunk_bytes: usize| {
        let opts = LoadOptions {
            max_paths,
            chunk_bytes,
            ..LoadOptions::default()
        };
        Fleet::from_bytes(vec![("input".into(), text.clone().into_bytes())], &opts)
    };
    let default_chunks = LoadOptions::default().chunk_bytes;
    // At the limit, in one chunk or one record per chunk (paths seen by several chunks count
    // once).
    for chunk_bytes in [default_chunks, 1] {
        let f = with(102, chunk_bytes).expect("102 paths are within a limit of 102");
        assert_eq!(f.store().columns().len(), 102);
    }
    let err = match with(101, default_chunks) {
        Ok(_) => panic!("102 paths loaded with a limit of 101"),
        Err(e) => e,
    };
    let line_100 = text.rfind("{\"deviceId\":\"d99\"").unwrap();
    assert!(
        matches!(&err, LoadError::TooManyPaths { at, limit: 101 }
            if (at.file.as_str(), at.line, at.byte) == ("input", 100, line_100 as u64)),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "input:100 (byte {line_100}): more than 101 distinct paths in one load (twindex \
             keeps a column per path; the limit keeps an input with a new key in every record \
             from taking all memory)"
        )
    );
    // Across parallel chunks, whichever finds the path too many reports it.
    assert!(matches!(
        with(50, 1),
        Err(LoadError::TooManyPaths { limit: 50, .. })
    ));
    assert_eq!(twindex::ingest::MAX_PATHS, 1_000_000);
}

// ---- records: content rules of SPEC §1.3 (loaded, and reported) -------------------------------

/// Each record sits on line 2, after a clean one, so its location is line 2, byte 20.
const CLEAN: &str = "{\"deviceId\":\"ok-1\"}\n";

#[track_caller]
fn check_record(record: &str, expected: &[(&str, &str, &str)]) {
    let text = format!("{CLEAN}{record}\n");
    let f = load(text.as_bytes());
    assert_counts(&f, 2, 2, 0, 0);
    assert_eq!(f.report().invalid_records, 1, "{record}");
    let at = CLEAN.len() as u64;
    let want: Vec<Expected<'_>> = expected
        .iter()
        .map(|&(rule, path, detail)| (2, at, rule, path, detail))
        .collect();
    assert_findings(&f, &want);
    for &(rule, _, _) in expected {
        assert!(f.report().rule_counts.get(rule).copied().unwrap_or(0) >= 1);
    }
    // Strict mode fails at the first finding, with its location.
    match strict_error(text.as_bytes()) {
        LoadError::Invalid { at, path, rule } => {
            assert_eq!((at.line, at.byte), (2, CLEAN.len() as u64));
            assert_eq!(path, expected[0].1);
            assert_eq!(rule, format!("{} ({})", expected[0].2, expected[0].0));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn record_without_device_id() {
    check_record(
        r#"{"status":"enabled"}"#,
        &[("device-id", "deviceId", "record has no deviceId (or id)")],
    );
}

#[test]
fn device_id_that_is_not_a_string() {
    check_record(
        r#"{"deviceId":42}"#,
        &[("device-id", "deviceId", "deviceId is not a string")],
    );
}

#[test]
fn device_id_empty_or_too_long() {
    check_record(
        r#"{"deviceId":""}"#,
        &[(
            "device-id",
            "deviceId",
            "deviceId must be 1-128 characters, has 0",
        )],
    );
    check_record(
        &format!(r#"{{"id":"{}"}}"#, "é".repeat(129)),
        &[(
            "device-id",
            "deviceId",
            "deviceId must be 1-128 characters, has 129",
        )],
    );
}

#[test]
fn device_id_with_a_character_not_allowed() {
    check_record(
        r#"{"deviceId":"bay/7"}"#,
        &[(
            "device-id",
            "deviceId",
            "deviceId has a character that is not allowed: '/'",
        )],
    );
}

#[test]
fn module_id_not_a_string_or_with_a_space() {
    check_record(
        r#"{"deviceId":"d","moduleId":7}"#,
        &[("module-id", "moduleId", "moduleId is not a string")],
    );
    check_record(
        r#"{"deviceId":"d","moduleId":"temp sensor"}"#,
        &[(
            "module-id",
            "moduleId",
            "moduleId has a character that is not allowed: ' '",
        )],
    );
}

#[test]
fn keys_with_a_dot_a_dollar_a_control_character_or_nothing() {
    check_record(
        r#"{"deviceId":"d","tags":{"a.b":1}}"#,
        &[(
            "key-name",
            "tags.a.b",
            "key has a character that is not allowed: '.'",
        )],
    );
    check_record(
        r#"{"deviceId":"d","properties":{"desired":{"$x":1,"$version":3,"$metadata":{}}}}"#,
        &[(
            "key-name",
            "properties.desired.$x",
            "key has a character that is not allowed: '$'",
        )],
    );
    check_record(
        r#"{"deviceId":"d","tags":{"loc":{"a\u0007":1}}}"#,
        &[(
            "key-name",
            "tags.loc.a\u{7}",
            "key has a character that is not allowed: '\\u{7}'",
        )],
    );
    check_record(
        r#"{"deviceId":"d","tags":{"":1}}"#,
        &[("key-name", "tags.", "key is empty")],
    );
}

#[test]
fn key_longer_than_1_kb() {
    let key = "k".repeat(1025);
    check_record(
        &format!(r#"{{"deviceId":"d","tags":{{"{key}":1}}}}"#),
        &[(
            "key-name",
            &format!("tags.{key}"),
            "key is longer than 1 KB",
        )],
    );
}

#[test]
fn string_longer_than_4_kb() {
    check_record(
        &format!(
            r#"{{"deviceId":"d","properties":{{"reported":{{"fw":"{}"}}}}}}"#,
            "v".repeat(4097)
        ),
        &[(
            "string-too-long",
            "properties.reported.fw",
            "string of 4097 bytes, over the 4096-byte limit",
        )],
    );
}

#[test]
fn integers_beyond_2_to_the_52() {
    check_record(
        r#"{"deviceId":"d","tags":{"n":4503599627370497}}"#,
        &[(
            "number-range",
            "tags.n",
            "integer 4503599627370497 is outside ±2^52",
        )],
    );
    check_record(
        r#"{"deviceId":"d","tags":{"n":-4503599627370497}}"#,
        &[(
            "number-range",
            "tags.n",
            "integer -4503599627370497 is outside ±2^52",
        )],
    );
}

/// Found by the `ingest_record` seeds: an integer beyond 64 bits is valid JSON and used to
/// skip the whole record as "invalid JSON". It loads now (as a float, like the reference) and
/// breaks the number rule.
#[test]
fn integer_beyond_64_bits_loads_as_a_float_and_breaks_the_number_rule() {
    let record = r#"{"deviceId":"d","tags":{"n":123456789012345678901234567890}}"#;
    check_record(
        record,
        &[(
            "number-range",
            "tags.n",
            "number 1.2345678901234568e29 is outside ±2^52",
        )],
    );
    let f = load(record.as_bytes());
    assert_eq!(
        f.store().twin(0).unwrap()["tags"]["n"],
        serde_json::json!(1.2345678901234568e29)
    );
}

/// Regression: array positions were left out of paths, so this was reported at `a[1]`.
#[test]
fn null_inside_a_nested_array() {
    check_record(
        r#"{"deviceId":"d","properties":{"reported":{"a":[[1,null],[]]}}}"#,
        &[(
            "null-in-array",
            "properties.reported.a[0][1]",
            "arrays may not contain null",
        )],
    );
}

/// Paths longer than the validator keeps without allocating (20 nested arrays) still come out
/// whole.
#[test]
fn null_inside_20_nested_arrays() {
    let nested = format!("{}1,null{}", "[".repeat(20), "]".repeat(20));
    check_record(
        &format!(r#"{{"deviceId":"d","tags":{{"deep":{{"a":{nested}}}}}}}"#),
        &[(
            "null-in-array",
            &format!("tags.deep.a{}[1]", "[0]".repeat(19)),
            "arrays may not contain null",
        )],
    );
}

#[test]
fn object_deeper_than_10_levels_under_tags() {
    let deep = format!("{}1{}", r#"{"d":"#.repeat(11), "}".repeat(11));
    check_record(
        &format!(r#"{{"deviceId":"d","tags":{deep}}}"#),
        &[(
            "too-deep",
            "tags.d.d.d.d.d.d.d.d.d.d",
            "object nested deeper than 10 levels",
        )],
    );
}

#[test]
fn tags_over_8_kb_and_reported_over_32_kb() {
    let big = |n: usize| -> String {
        let members: Vec<String> = (0..n)
            .map(|i| format!(r#""k{i:03}":"{}""#, "v".repeat(90)))
            .collect();
        format!("{{{}}}", members.join(","))
    };
    check_record(
        &format!(r#"{{"deviceId":"d","tags":{}}}"#, big(90)),
        &[(
            "section-too-large",
            "tags",
            "tags is 9002 bytes as compact JSON, over the 8192-byte limit",
        )],
    );
    check_record(
        &format!(
            r#"{{"deviceId":"d","properties":{{"reported":{}}}}}"#,
            big(340)
        ),
        &[(
            "section-too-large",
            "properties.reported",
            "properties.reported is 34002 bytes as compact JSON, over the 32768-byte limit",
        )],
    );
}

#[test]
fn system_members_at_a_section_root_are_not_findings() {
    let f = load(
        br#"{"deviceId":"d","properties":{"reported":{"$metadata":{"$lastUpdated":"2024-01-01T00:00:00Z"},"$version":4,"x":1}}}"#,
    );
    assert_counts(&f, 1, 1, 0, 0);
    assert_findings(&f, &[]);
}

// ---- queries ----------------------------------------------------------------------------------

/// Each query against a loaded fleet, with the rendered error (SPEC §2.5) it must produce.
const QUERIES: &[(&str, &str, &str)] = &[
    (
        "unknown function without a close match",
        "SELECT * FROM devices WHERE LEN(deviceId) = 3",
        "error: unknown function 'LEN'\n  |\n1 | SELECT * FROM devices WHERE LEN(deviceId) = 3\n  |                             ^^^",
    ),
    (
        "too few arguments",
        "SELECT * FROM devices WHERE STARTSWITH(deviceId)",
        "error: STARTSWITH takes 2 arguments, got 1\n  |\n1 | SELECT * FROM devices WHERE STARTSWITH(deviceId)\n  |                             ^^^^^^^^^^^^^^^^^^^^",
    ),
    (
        "too many arguments",
        "SELECT * FROM devices WHERE SUBSTRING(deviceId, 1, 2, 3) = 'a'",
        "error: SUBSTRING takes 2 or 3 arguments, got 4\n  |\n1 | SELECT * FROM devices WHERE SUBSTRING(deviceId, 1, 2, 3) = 'a'\n  |                             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    ),
    (
        "bad escape",
        r"SELECT * FROM devices WHERE deviceId = 'tab\x09'",
        "error: invalid escape '\\x' in string\n  |\n1 | SELECT * FROM devices WHERE deviceId = 'tab\\x09'\n  |                                            ^^",
    ),
    (
        "unterminated string",
        "SELECT * FROM devices WHERE deviceId = 'abc",
        "error: unterminated string (missing closing quote)\n  |\n1 | SELECT * FROM devices WHERE deviceId = 'abc\n  |                                        ^^^^",
    ),
    (
        "unterminated [[ name",
        "SELECT * FROM devices WHERE tags.[[unterminated = 1",
        "error: unterminated [[ name (missing ]])\n  |\n1 | SELECT * FROM devices WHERE tags.[[unterminated = 1\n  |                                  ^^^^^^^^^^^^^^^^^^",
    ),
    (
        "devices.jobs",
        "SELECT * FROM devices.jobs",
        "error: devices.jobs is out of scope: jobs are not in device exports (query devices or devices.modules)\n  |\n1 | SELECT * FROM devices.jobs\n  |               ^^^^^^^^^^^^",
    ),
    (
        "unknown collection",
        "SELECT * FROM jobs",
        "error: unknown collection 'jobs' (expected devices or devices.modules)\n  |\n1 | SELECT * FROM jobs\n  |               ^^^^",
    ),
    (
        "path not a GROUP BY key",
        "SELECT tags.n, COUNT() FROM devices GROUP BY status",
        "error: 'tags.n' is not a GROUP BY key: a grouped query may select only group keys and aggregates\n  |\n1 | SELECT tags.n, COUNT() FROM devices GROUP BY status\n  |        ^^^^^^",
    ),
    (
        "aggregates and plain paths without GROUP BY",
        "SELECT status, COUNT() FROM devices",
        "error: cannot mix aggregates and plain paths without GROUP BY: 'status' is not inside an aggregate\n  |\n1 | SELECT status, COUNT() FROM devices\n  |        ^^^^^^",
    ),
    (
        "ORDER BY a path that is not a key",
        "SELECT COUNT() FROM devices GROUP BY status ORDER BY deviceId",
        "error: ORDER BY 'deviceId' is not a GROUP BY key, an aggregate or a select alias\n  |\n1 | SELECT COUNT() FROM devices GROUP BY status ORDER BY deviceId\n  |                                                      ^^^^^^^^",
    ),
    (
        "SELECT * with GROUP BY",
        "SELECT * FROM devices GROUP BY status",
        "error: SELECT * cannot be used with GROUP BY; select the group keys and aggregates\n  |\n1 | SELECT * FROM devices GROUP BY status\n  |        ^",
    ),
    (
        "duplicate output keys",
        "SELECT deviceId, tags.deviceId FROM devices",
        "error: two select elements are named 'deviceId': rename one with AS\n  |\n1 | SELECT deviceId, tags.deviceId FROM devices\n  |                  ^^^^^^^^^^^^^",
    ),
    (
        "aggregate in WHERE",
        "SELECT * FROM devices WHERE COUNT() > 1",
        "error: aggregate functions are not allowed in WHERE\n  |\n1 | SELECT * FROM devices WHERE COUNT() > 1\n  |                             ^^^^^",
    ),
    (
        "aggregate in ORDER BY of a row query",
        "SELECT deviceId FROM devices ORDER BY MAX(tags.n)",
        "error: aggregates in ORDER BY need an aggregate query (GROUP BY, or aggregates in the select list)\n  |\n1 | SELECT deviceId FROM devices ORDER BY MAX(tags.n)\n  |                                       ^^^^^^^^^^^",
    ),
    (
        "nested aggregates",
        "SELECT SUM(MAX(tags.n)) FROM devices",
        "error: aggregate functions cannot be nested (MAX inside SUM)\n  |\n1 | SELECT SUM(MAX(tags.n)) FROM devices\n  |            ^^^",
    ),
    (
        "negative TOP",
        "SELECT TOP -1 * FROM devices",
        "error: TOP takes a non-negative integer, found '-1'\n  |\n1 | SELECT TOP -1 * FROM devices\n  |            ^^",
    ),
    (
        "path in an IN list",
        "SELECT * FROM devices WHERE deviceId IN [status]",
        "error: IN lists hold constants only; 'status' is not a constant\n  |\n1 | SELECT * FROM devices WHERE deviceId IN [status]\n  |                                          ^^^^^^",
    ),
    (
        "operator from another language, on the second line",
        "SELECT * FROM devices WHERE a = 1\n  AND b == 2",
        "error: '==' is not an operator (use '=')\n  |\n2 |   AND b == 2\n  |         ^^",
    ),
    (
        "NOT as an operand",
        "SELECT * FROM devices WHERE a = NOT b",
        "error: NOT cannot appear here without parentheses: write (NOT ...)\n  |\n1 | SELECT * FROM devices WHERE a = NOT b\n  |                                 ^^^",
    ),
    (
        "array index beyond u32",
        "SELECT * FROM devices WHERE x[4294967296] = 1",
        "error: array index 4294967296 is too large (limit 4294967295)\n  |\n1 | SELECT * FROM devices WHERE x[4294967296] = 1\n  |                               ^^^^^^^^^^",
    ),
    (
        "clause from another dialect",
        "SELECT * FROM devices WHERE deviceId = 'a' LIMIT 5",
        "error: unexpected 'LIMIT' after end of query\n  |\n1 | SELECT * FROM devices WHERE deviceId = 'a' LIMIT 5\n  |                                            ^^^^^",
    ),
];

#[test]
fn query_errors_render_exactly() {
    let f = load(b"{\"deviceId\":\"a\",\"status\":\"enabled\",\"tags\":{\"n\":1}}\n");
    let mut failures = Vec::new();
    for (kind, query, expected) in QUERIES {
        match f.query(query) {
            Ok(rows) => failures.push(format!(
                "{kind}: {query:?} ran, giving {:?}",
                rows.collect::<Vec<_>>()
            )),
            Err(e) if e.render(query) != *expected => failures.push(format!(
                "{kind}: {query:?}\n--- got\n{}\n--- expected\n{expected}",
                e.render(query)
            )),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Query limits: length, parser nesting and expression height are errors pointing at where the
/// limit was crossed, however far past it the query goes.
#[test]
fn query_limits_are_errors_not_stack_overflows() {
    let f = load(b"{\"deviceId\":\"a\"}\n");
    let render = |q: &str| match f.query(q) {
        Ok(_) => panic!("ran"),
        Err(e) => (e.message.clone(), e.span.start),
    };

    // 100,000 parentheses: over the length limit, reported at the limit.
    let q = format!(
        "SELECT * FROM devices WHERE {}1{} = 1",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert_eq!(
        render(&q),
        (
            format!("query is too long ({} bytes; limit 65536)", q.len()),
            65536
        )
    );

    // Within the length limit, nesting stops at the 129th level: the WHERE expression is the
    // first, each parenthesis opens one more.
    let q = format!("SELECT * FROM devices WHERE {}1", "(".repeat(1000));
    let at = "SELECT * FROM devices WHERE ".len() as u32 + 128;
    assert_eq!(
        render(&q),
        ("query nests too deeply (limit 128)".to_string(), at)
    );

    // 100,000 nested array brackets: over the length limit too, reported at the limit.
    let q = format!(
        "SELECT * FROM devices WHERE x IN {}1{}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(
        render(&q),
        (
            format!("query is too long ({} bytes; limit 65536)", q.len()),
            65536
        )
    );

    // Array literals in an IN list share the budget, two levels per bracket: of 30,000
    // brackets (60 KB), the 65th is where it runs out.
    let q = format!(
        "SELECT * FROM devices WHERE x IN {}1{}",
        "[".repeat(30_000),
        "]".repeat(30_000)
    );
    let at = "SELECT * FROM devices WHERE x IN ".len() as u32 + 64;
    assert_eq!(
        render(&q),
        ("query nests too deeply (limit 128)".to_string(), at)
    );

    // A chain of ORs is a loop in the parser, but a tall tree for everything after it.
    let q = format!(
        "SELECT * FROM devices WHERE {}",
        vec!["x = 1"; 600].join(" OR ")
    );
    let (message, _) = render(&q);
    assert_eq!(
        message,
        "expression is too deep (limit 512 nested operators; a long OR chain can be written as IN [...])"
    );
}

// ---- no silent loss ---------------------------------------------------------------------------

/// Mixed good and bad input across three files: every line or element is a record, a skip or a
/// blank line, the counts add up per file and in total, and each skip is reported at its line.
#[test]
fn every_line_and_element_is_loaded_or_reported() {
    let lines = concat!(
        "{\"deviceId\":\"a\"}\n",                         // 1 record
        "\n",                                             // 2 blank
        "# comment\n",                                    // 3 skipped
        "{\"deviceId\":\"b\",\"tags\":{\"x\":}\n",        // 4 skipped: invalid JSON
        "  {\"id\":\"c\"}  \r\n",                         // 5 record (export shape)
        "[1, 2]\n",                                       // 6 skipped: not a record
        "{\"status\":\"no id\"}\n",                       // 7 record with a finding
        "{\"deviceId\":\"\u{e9}\"} trailing\n",           // 8 skipped: invalid JSON
        "   \t\n",                                        // 9 blank
        "\"a string\"\n",                                 // 10 skipped
        "{\"deviceId\":\"d\",\"tags\":{\"n\":[null]}}\n", // 11 record with a finding
        "{\"deviceId\":\"e\"}",                           // 12 record, no final newline
    );
    let mut bad_utf8 = b"{\"deviceId\":\"f\"}\n{\"deviceId\":\"\xC3\x28\"}\n".to_vec(); // 1 record, 2 skipped
    bad_utf8.extend_from_slice(b"{\"deviceId\":\"g\"}\n"); // 3 record
    let array =
        b"[{\"deviceId\":\"h\"},\n 7,\n {\"deviceId\":\"i\",\"tags\":{\"a b\":1}},\n \"x\",\n {}]";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bad_utf8).unwrap();
    let gz = gz.finish().unwrap();

    let f = Fleet::from_bytes(
        vec![
            ("lines.jsonl".into(), lines.as_bytes().to_vec()),
            ("utf8.jsonl.gz".into(), gz),
            ("array.json".into(), array.to_vec()),
            // 1 record, then data after the array: one more unit, skipped.
            ("tail.json".into(), b"[{\"deviceId\":\"j\"}] x".to_vec()),
        ],
        &keep_all(),
    )
    .expect("load");
    let r = f.report();

    let per_file: Vec<(u64, u64, u64, u64)> = r
        .files
        .iter()
        .map(|f| (f.units, f.records, f.blank, f.skipped))
        .collect();
    assert_eq!(
        per_file,
        vec![(12, 5, 2, 5), (3, 2, 0, 1), (5, 3, 0, 2), (2, 1, 0, 1)]
    );
    for file in &r.files {
        assert_eq!(
            file.records + file.skipped + file.blank,
            file.units,
            "{file:?}"
        );
    }
    assert_eq!(r.records, 11);
    assert_eq!(r.records, f.store().len() as u64);
    assert_eq!(r.skipped, 9);
    assert_eq!(
        r.records + r.skipped + r.files.iter().map(|f| f.blank).sum::<u64>(),
        r.files.iter().map(|f| f.units).sum::<u64>()
    );
    assert_eq!(r.invalid_records, 4, "{:?}", r.findings);
    assert_eq!(r.rule_counts.get("skipped"), Some(&9));
    assert_eq!(r.rule_counts.values().sum::<u64>(), r.findings.len() as u64);

    let located: Vec<(&str, u64, &str)> = r
        .findings
        .iter()
        .map(|x| (x.file.as_str(), x.line, x.rule))
        .collect();
    assert_eq!(
        located,
        vec![
            ("lines.jsonl", 3, "skipped"),
            ("lines.jsonl", 4, "skipped"),
            ("lines.jsonl", 6, "skipped"),
            ("lines.jsonl", 7, "device-id"),
            ("lines.jsonl", 8, "skipped"),
            ("lines.jsonl", 10, "skipped"),
            ("lines.jsonl", 11, "null-in-array"),
            ("utf8.jsonl.gz", 2, "skipped"),
            ("array.json", 2, "skipped"),
            ("array.json", 3, "key-name"),
            ("array.json", 4, "skipped"),
            ("array.json", 5, "device-id"),
            ("tail.json", 1, "skipped"),
        ]
    );
}
