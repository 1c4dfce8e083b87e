//! Snapshots: every query answers the same from a snapshot as from the inputs it was made from,
//! and a damaged snapshot fails cleanly (an error, never a panic or a wrong answer).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value;
use twindex::gen::{generate, GenOptions, Layout, Shape};
use twindex::snapshot::{OpenOptions, WriteOptions, MAGIC, VERSION};
use twindex::{Fleet, LoadError, LoadOptions};

use crate::golden;

/// A fresh directory under the target's scratch space for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("snapshot-tests")
        .join(format!("{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn query(fleet: &Fleet, sql: &str) -> Result<Vec<Value>, String> {
    crate::engine::rows_checked(fleet, sql)
}

fn twins(fleet: &Fleet) -> Vec<Value> {
    (0..fleet.store().len())
        .map(|r| fleet.store().twin(r).unwrap())
        .collect()
}

fn write_bytes(fleet: &Fleet, dir: &Path, name: &str, opts: &WriteOptions) -> Vec<u8> {
    let path = dir.join(name);
    fleet.write_snapshot_with(&path, opts).unwrap();
    std::fs::read(&path).unwrap()
}

fn open_bytes(bytes: &[u8], verify: bool) -> Result<Fleet, LoadError> {
    Fleet::open_bytes("fleet.twx", bytes, &OpenOptions { verify })
}

/// Through `Fleet::from_bytes`, as any input: recognised by its magic bytes.
fn load_bytes(bytes: &[u8], verify: bool) -> Result<Fleet, LoadError> {
    let opts = LoadOptions {
        verify_snapshot: verify,
        ..LoadOptions::default()
    };
    Fleet::from_bytes(vec![("fleet.json".into(), bytes.to_vec())], &opts)
}

/// The golden engine, but every fixture goes through a snapshot (written once per fixture and
/// block size) before it is queried.
fn snapshot_engine(block_rows: u32) -> impl Fn(&Path, &str) -> Result<Value, String> {
    let dir = scratch(&format!("golden-{block_rows}"));
    let written: Mutex<HashMap<PathBuf, PathBuf>> = Mutex::new(HashMap::new());
    move |fixture: &Path, sql: &str| {
        let snap = {
            let mut written = written.lock().unwrap();
            match written.get(fixture) {
                Some(p) => p.clone(),
                None => {
                    let loaded = Fleet::load(&[fixture.to_str().unwrap()])
                        .map_err(|e| format!("fixture: {e}"))?;
                    let name = fixture.file_name().unwrap().to_string_lossy().to_string();
                    let path = dir.join(format!("{name}.twx"));
                    let opts = WriteOptions {
                        block_rows,
                        ..WriteOptions::default()
                    };
                    loaded
                        .write_snapshot_with(&path, &opts)
                        .map_err(|e| format!("snapshot: {e}"))?;
                    let opened = Fleet::open(&path).map_err(|e| format!("open: {e}"))?;
                    assert_eq!(twins(&loaded), twins(&opened), "{name}: twins differ");
                    written.insert(fixture.to_path_buf(), path.clone());
                    path
                }
            }
        };
        let fleet = Fleet::open(&snap).map_err(|e| format!("open: {e}"))?;
        Ok(Value::Array(query(&fleet, sql)?))
    }
}

#[test]
fn golden_cases_hold_from_a_snapshot() {
    let (count, failures) = golden::run_all(&snapshot_engine(32));
    assert!(count > 50, "only {count} golden cases");
    assert!(
        failures.is_empty(),
        "{} of {count} golden cases fail from a snapshot:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// One twin per block, and blocks of 3: block boundaries everywhere in the fixtures.
#[test]
fn golden_cases_hold_from_snapshots_with_small_blocks() {
    for block_rows in [1, 3] {
        let (_, failures) = golden::run_all(&snapshot_engine(block_rows));
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

/// Queries over generated fleets, touching indexed and unindexed columns, dictionaries and
/// arenas, timestamps, arrays, objects, modules, grouping, ordering and whole twins.
const QUERIES: &[&str] = &[
    "SELECT COUNT() FROM devices WHERE status = 'disabled'",
    "SELECT COUNT() AS n FROM devices.modules",
    "SELECT * FROM devices WHERE connectionState = 'Disconnected'",
    "SELECT * FROM devices.modules WHERE status = 'enabled'",
    "SELECT deviceId, tags.location.region FROM devices WHERE tags.location.region IN ['US', 'EU']",
    "SELECT tags.location.region AS region, COUNT() AS n FROM devices GROUP BY tags.location.region",
    "SELECT properties.reported.connectivity AS c, COUNT() AS n FROM devices GROUP BY properties.reported.connectivity",
    "SELECT TOP 7 deviceId, lastActivityTime FROM devices ORDER BY lastActivityTime DESC",
    "SELECT TOP 5 deviceId, properties.reported.battery FROM devices ORDER BY properties.reported.battery DESC",
    "SELECT deviceId FROM devices WHERE STARTSWITH(deviceId, 'dev-00001')",
    "SELECT deviceId, properties.reported.telemetryConfig.sendFrequencyInSecs AS f FROM devices WHERE properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
    "SELECT deviceId FROM devices WHERE IS_DEFINED(properties.reported.connectivity) AND NOT IS_DEFINED(tags.location.region)",
    "SELECT deviceId, properties.reported FROM devices WHERE deviceId = 'dev-000042'",
    "SELECT deviceId, etag, version FROM devices WHERE version > 1000 AND authenticationType = 'selfSigned'",
    "SELECT AVG(properties.reported.battery) AS avg, MIN(version) AS lo, MAX(version) AS hi FROM devices",
    "SELECT deviceId, configurations FROM devices WHERE IS_DEFINED(configurations)",
    "SELECT TOP 3 deviceId, properties.desired.$metadata.$lastUpdated AS t FROM devices ORDER BY properties.desired.$metadata.$lastUpdated",
    "SELECT capabilities.iotEdge AS edge, COUNT() AS n FROM devices GROUP BY capabilities.iotEdge",
    // Nearly unique strings and timestamps: answered from sorted strings built on first use.
    "SELECT deviceId FROM devices WHERE deviceId > 'dev-000390' AND NOT STARTSWITH(deviceId, 'edge')",
    "SELECT COUNT() AS n FROM devices WHERE lastActivityTime >= '2025-01-01' OR etag < 'M'",
    "SELECT deviceId, moduleId FROM devices.modules WHERE deviceId IN ['dev-000001', 'edge-000002'] OR STARTSWITH(deviceId, 'test-')",
];

fn generated(opts: &GenOptions) -> Vec<u8> {
    let mut out = Vec::new();
    generate(opts, &mut out).unwrap();
    out
}

fn fleets() -> Vec<(String, GenOptions)> {
    let base = GenOptions {
        devices: 400,
        seed: 7,
        ..GenOptions::default()
    };
    vec![
        ("export".into(), base.clone()),
        (
            "twin-array".into(),
            GenOptions {
                shape: Shape::Twin,
                layout: Layout::JsonArray,
                seed: 8,
                ..base.clone()
            },
        ),
        (
            "plain".into(),
            GenOptions {
                metadata: false,
                modules: false,
                twin_only_fields: false,
                seed: 9,
                ..base
            },
        ),
    ]
}

#[test]
fn generated_fleets_answer_alike_from_a_snapshot() {
    let dir = scratch("generated");
    for (name, opts) in fleets() {
        let input = dir.join(format!("{name}.json"));
        std::fs::write(&input, generated(&opts)).unwrap();
        let loaded = Fleet::load(&[input.to_str().unwrap()]).unwrap();
        let snap = dir.join(format!("{name}.twx"));
        let summary = loaded.write_snapshot(&snap).unwrap();
        assert_eq!(summary.bytes, std::fs::metadata(&snap).unwrap().len());
        // By path (magic bytes, not the name), by `open`, verified, and from memory.
        let by_path = dir.join(format!("{name}.json-looking-name.json"));
        std::fs::copy(&snap, &by_path).unwrap();
        let opened = [
            Fleet::open(&snap).unwrap(),
            Fleet::open_with(&snap, &OpenOptions { verify: true }).unwrap(),
            Fleet::load(&[by_path.to_str().unwrap()]).unwrap(),
            load_bytes(&std::fs::read(&snap).unwrap(), false).unwrap(),
        ];
        let expected_twins = twins(&loaded);
        for (i, o) in opened.iter().enumerate() {
            let s = o.store();
            assert_eq!(s.len(), loaded.store().len());
            assert_eq!(twins(o), expected_twins, "{name} ({i}): twins");
            for row in [0, s.len() / 2, s.len() - 1] {
                assert_eq!(
                    s.row_source(row),
                    loaded.store().row_source(row),
                    "{name}: row {row}"
                );
            }
            for sql in QUERIES {
                assert_eq!(query(o, sql), query(&loaded, sql), "{name} ({i}): {sql}");
            }
            let r = o.report();
            assert_eq!(r.records, loaded.report().records);
            assert_eq!(r.files[0].name, loaded.report().files[0].name);
            assert!(r.snapshot.is_some());
            assert_eq!(o.store().columns().len(), loaded.store().columns().len());
            for (a, b) in o.store().columns().iter().zip(loaded.store().columns()) {
                assert_eq!(a.dotted(), b.dotted());
                assert_eq!(a.kind_counts(), b.kind_counts());
                assert_eq!(a.present(), b.present(), "{}", a.dotted());
                assert_eq!(a.dictionary(), b.dictionary(), "{}", a.dotted());
                assert_eq!(
                    a.index().map(|i| i.entries().to_vec()),
                    b.index().map(|i| i.entries().to_vec()),
                    "{}",
                    a.dotted()
                );
                assert!(a.iter().eq(b.iter()), "{}", a.dotted());
            }
        }
    }
}

/// A snapshot of a snapshot holds the same bytes, up to its creation time.
#[test]
fn rewriting_a_snapshot_reproduces_it() {
    let dir = scratch("rewrite");
    let input = generated(&GenOptions {
        devices: 120,
        ..GenOptions::default()
    });
    let loaded =
        Fleet::from_bytes(vec![("in.jsonl".into(), input)], &LoadOptions::default()).unwrap();
    let first = write_bytes(&loaded, &dir, "a.twx", &WriteOptions::default());
    let reopened = Fleet::open(dir.join("a.twx")).unwrap();
    let second = write_bytes(&reopened, &dir, "b.twx", &WriteOptions::default());
    let strip = |b: &[u8]| {
        let mut b = b.to_vec();
        b[64..72].fill(0); // created
        b[124..128].fill(0); // header checksum
        b
    };
    assert_eq!(strip(&first), strip(&second));
}

#[test]
fn symmetric_keys_never_reach_a_snapshot() {
    let dir = scratch("secrets");
    let input = generated(&GenOptions {
        devices: 60,
        ..GenOptions::default()
    });
    let mut keys = Vec::new();
    for line in String::from_utf8_lossy(&input).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        for k in ["primaryKey", "secondaryKey"] {
            if let Some(Value::String(s)) = v.pointer(&format!("/authentication/symmetricKey/{k}"))
            {
                keys.push(s.clone());
            }
        }
    }
    assert!(keys.len() > 50, "the generator wrote {} keys", keys.len());
    let loaded =
        Fleet::from_bytes(vec![("in.jsonl".into(), input)], &LoadOptions::default()).unwrap();
    let bytes = write_bytes(&loaded, &dir, "f.twx", &WriteOptions::default());
    let opened = open_bytes(&bytes, true).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let all_twins = serde_json::to_string(&twins(&opened)).unwrap();
    for k in &keys {
        assert!(!text.contains(k.as_str()), "a key in the snapshot's bytes");
        assert!(!all_twins.contains(k.as_str()), "a key in a snapshot twin");
    }
    assert!(!all_twins.contains("symmetricKey"));
}

#[test]
fn writing_is_atomic_and_leaves_no_temporary_file() {
    let dir = scratch("atomic");
    let a = Fleet::from_bytes(
        vec![(
            "a.jsonl".into(),
            generated(&GenOptions {
                devices: 30,
                seed: 1,
                ..GenOptions::default()
            }),
        )],
        &LoadOptions::default(),
    )
    .unwrap();
    let b = Fleet::from_bytes(
        vec![(
            "b.jsonl".into(),
            generated(&GenOptions {
                devices: 50,
                seed: 2,
                ..GenOptions::default()
            }),
        )],
        &LoadOptions::default(),
    )
    .unwrap();
    let path = dir.join("fleet.twx");
    a.write_snapshot(&path).unwrap();
    let open_a = Fleet::open(&path).unwrap();
    let before = twins(&open_a);
    // Replacing the file under an open (mapped) snapshot leaves the open one intact.
    b.write_snapshot(&path).unwrap();
    assert_eq!(twins(&open_a), before);
    let count = "SELECT COUNT() AS n FROM devices";
    assert_eq!(query(&Fleet::open(&path).unwrap(), count), query(&b, count));
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names, ["fleet.twx"]);
    // A failed write leaves nothing behind either.
    let missing = dir.join("no-such-dir").join("fleet.twx");
    assert!(matches!(
        a.write_snapshot(&missing),
        Err(LoadError::Io { .. })
    ));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn a_snapshot_cannot_be_mixed_with_other_inputs() {
    let dir = scratch("mixed");
    let json = dir.join("a.jsonl");
    std::fs::write(&json, generated(&GenOptions::default())).unwrap();
    let fleet = Fleet::load(&[json.to_str().unwrap()]).unwrap();
    let snap = dir.join("a.twx");
    fleet.write_snapshot(&snap).unwrap();
    for inputs in [
        [snap.to_str().unwrap(), json.to_str().unwrap()],
        [json.to_str().unwrap(), snap.to_str().unwrap()],
    ] {
        match Fleet::load(&inputs) {
            Err(LoadError::Snapshot { reason, .. }) => {
                assert!(reason.contains("cannot be combined"), "{reason}")
            }
            other => panic!("expected a snapshot error, got {:?}", other.err()),
        }
    }
}

#[test]
fn gzipped_snapshots_and_empty_fleets_open() {
    let dir = scratch("gz");
    let fleet = Fleet::load(&[golden::fixture_path("mixed").to_str().unwrap()]).unwrap();
    let bytes = write_bytes(&fleet, &dir, "m.twx", &WriteOptions::default());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&bytes).unwrap();
    let gz_path = dir.join("m.twx.gz");
    std::fs::write(&gz_path, gz.finish().unwrap()).unwrap();
    let opened = Fleet::load(&[gz_path.to_str().unwrap()]).unwrap();
    assert_eq!(twins(&opened), twins(&fleet));

    let empty = Fleet::load(&[golden::fixture_path("empty").to_str().unwrap()]).unwrap();
    let bytes = write_bytes(&empty, &dir, "e.twx", &WriteOptions::default());
    let opened = open_bytes(&bytes, true).unwrap();
    assert_eq!(opened.store().len(), 0);
    assert_eq!(
        query(&opened, "SELECT COUNT() AS n FROM devices"),
        Ok(vec![serde_json::json!({"n": 0})])
    );
}

// ---------------------------------------------------------------------------------------------
// Damaged snapshots

/// A small fleet with many sections and blocks, its snapshot bytes, and the answers to
/// [`QUERIES`] and the twins, to hold damaged copies to.
struct Damage {
    bytes: Vec<u8>,
    answers: Vec<Result<Vec<Value>, String>>,
    twins: Vec<Value>,
}

fn damage_fixture(test: &str) -> Damage {
    let dir = scratch(test);
    let input = generated(&GenOptions {
        devices: 80,
        seed: 3,
        ..GenOptions::default()
    });
    let fleet =
        Fleet::from_bytes(vec![("in.jsonl".into(), input)], &LoadOptions::default()).unwrap();
    let opts = WriteOptions {
        block_rows: 4,
        ..WriteOptions::default()
    };
    let bytes = write_bytes(&fleet, &dir, "f.twx", &opts);
    Damage {
        answers: QUERIES.iter().map(|q| query(&fleet, q)).collect(),
        twins: twins(&fleet),
        bytes,
    }
}

/// Section boundaries, from the section table (32-byte entries at the end of the file).
fn section_bounds(bytes: &[u8]) -> Vec<usize> {
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let (sections, table) = (u32_at(36), u64_at(40));
    let mut bounds = vec![0, 8, 16, 64, 127, 128, table, table + 16, bytes.len() - 1];
    for i in 0..sections {
        let e = table + i * 32;
        let (offset, len) = (u64_at(e + 8), u64_at(e + 16));
        bounds.extend([offset, offset + len / 2, offset + len]);
    }
    bounds.sort_unstable();
    bounds.dedup();
    bounds
}

fn expect_snapshot_error(result: Result<Fleet, LoadError>, what: &str) -> String {
    match result {
        Err(LoadError::Snapshot { reason, .. }) => reason,
        Err(e) => panic!("{what}: expected a snapshot error, got {e}"),
        Ok(_) => panic!("{what}: opened"),
    }
}

#[test]
fn truncated_snapshots_fail_at_every_section_boundary() {
    let d = damage_fixture("truncated");
    let mut cuts = section_bounds(&d.bytes);
    let mut rng = Rng(11);
    cuts.extend((0..200).map(|_| rng.below(d.bytes.len())));
    for cut in cuts.into_iter().filter(|&c| c < d.bytes.len()) {
        let reason = expect_snapshot_error(
            open_bytes(&d.bytes[..cut], false),
            &format!("truncated at {cut}"),
        );
        assert!(
            reason.contains("truncated") || reason.contains("empty") || reason.contains("magic"),
            "cut at {cut}: {reason}"
        );
    }
}

#[test]
fn truncated_snapshot_files_fail_to_open() {
    let d = damage_fixture("truncated-files");
    let dir = scratch("truncated-files-open");
    for cut in section_bounds(&d.bytes).into_iter().step_by(7) {
        let path = dir.join(format!("cut-{cut}.twx"));
        std::fs::write(&path, &d.bytes[..cut.min(d.bytes.len() - 1)]).unwrap();
        expect_snapshot_error(Fleet::open(&path), &format!("file cut at {cut}"));
    }
}

#[test]
fn zero_length_wrong_magic_and_newer_versions_fail() {
    let d = damage_fixture("header");
    let dir = scratch("header-files");
    let empty = dir.join("empty.twx");
    std::fs::write(&empty, b"").unwrap();
    let reason = expect_snapshot_error(Fleet::open(&empty), "zero-length");
    assert!(reason.contains("empty"), "{reason}");

    let mut wrong = d.bytes.clone();
    wrong[1] = b'X';
    let reason = expect_snapshot_error(open_snapshot_bytes(&wrong, false), "wrong magic");
    assert!(reason.contains("magic"), "{reason}");
    // Loaded as any input, a snapshot with damaged magic bytes is still not read as JSON.
    let reason = expect_snapshot_error(load_bytes(&wrong, false), "wrong magic, loaded");
    assert!(reason.contains("magic"), "{reason}");
    let mut json = b"{\"deviceId\":\"x\"}\n".to_vec();
    json.extend_from_slice(&d.bytes);
    assert!(
        load_bytes(&json, false).is_ok(),
        "JSON Lines followed by junk still load"
    );

    // A newer version with a valid header checksum: said to be newer, not corrupt.
    let mut newer = d.bytes.clone();
    newer[8..12].copy_from_slice(&(VERSION + 1).to_le_bytes());
    let crc = crc32fast::hash(&newer[..124]);
    newer[124..128].copy_from_slice(&crc.to_le_bytes());
    let reason = expect_snapshot_error(open_snapshot_bytes(&newer, false), "newer version");
    assert!(
        reason.contains("newer") && reason.contains(&format!("{}", VERSION + 1)),
        "{reason}"
    );
    // The same byte flipped without fixing the checksum: corrupt.
    let mut flipped = d.bytes.clone();
    flipped[8] ^= 2;
    let reason = expect_snapshot_error(open_snapshot_bytes(&flipped, false), "flipped version");
    assert!(reason.contains("checksum"), "{reason}");
    assert!(wrong.starts_with(&[0x89]) && !wrong.starts_with(&MAGIC));
}

/// Opens bytes as a snapshot through a file, the way `Fleet::open` is used.
fn open_snapshot_bytes(bytes: &[u8], verify: bool) -> Result<Fleet, LoadError> {
    let dir = scratch("open-bytes");
    let path = dir.join("f.twx");
    std::fs::write(&path, bytes).unwrap();
    Fleet::open_with(&path, &OpenOptions { verify })
}

/// With `verify`, every flipped byte anywhere in the file fails the open.
#[test]
fn flipped_bytes_fail_a_verified_open() {
    let d = damage_fixture("flips-verified");
    let mut rng = Rng(5);
    let mut positions: Vec<usize> = (0..400).map(|_| rng.below(d.bytes.len())).collect();
    positions.extend(
        section_bounds(&d.bytes)
            .into_iter()
            .filter(|&p| p < d.bytes.len()),
    );
    for at in positions {
        let mut b = d.bytes.clone();
        b[at] ^= 1 << rng.below(8);
        expect_snapshot_error(open_bytes(&b, true), &format!("flip at {at}"));
    }
}

/// Without `verify`, a flipped byte is found when what it is in is first used: every query
/// either fails with an error or gives the right answer, and twins read directly either fail
/// or are right. Never a panic, never a wrong answer.
#[test]
fn flipped_bytes_never_give_a_wrong_answer() {
    let d = damage_fixture("flips-lazy");
    let mut rng = Rng(9);
    let mut caught = 0;
    for _ in 0..150 {
        let at = rng.below(d.bytes.len());
        let mut b = d.bytes.clone();
        b[at] ^= 1 << rng.below(8);
        let Ok(fleet) = open_bytes(&b, false) else {
            caught += 1;
            continue;
        };
        let mut failed = false;
        for (sql, expected) in QUERIES.iter().zip(&d.answers) {
            match query(&fleet, sql) {
                Err(e) => {
                    assert!(e.contains("fails its checksum"), "flip at {at}: {sql}: {e}");
                    failed = true;
                }
                Ok(rows) => assert_eq!(&Ok(rows), expected, "flip at {at}: {sql}"),
            }
        }
        for (row, expected) in d.twins.iter().enumerate() {
            match fleet.store().twin(row as u32) {
                Err(_) => failed = true,
                Ok(t) => assert_eq!(&t, expected, "flip at {at}: twin {row}"),
            }
        }
        // Whatever the queries did not read is still found by a full check.
        failed |= fleet.store().verify().is_err();
        assert!(
            failed || is_padding(&d.bytes, at),
            "flip at {at} went unnoticed"
        );
        caught += usize::from(failed);
    }
    assert!(caught > 100, "only {caught} of 150 flips caught");
}

/// Whether `at` is in the zero padding between sections (covered by no checksum; a verified
/// open checks that it is zero).
fn is_padding(bytes: &[u8], at: usize) -> bool {
    let u64_at = |p: usize| u64::from_le_bytes(bytes[p..p + 8].try_into().unwrap()) as usize;
    let sections = u32::from_le_bytes(bytes[36..40].try_into().unwrap()) as usize;
    let table = u64_at(40);
    at >= 128
        && at < table
        && (0..sections).all(|i| {
            let e = table + i * 32;
            let (offset, len) = (u64_at(e + 8), u64_at(e + 16));
            at < offset || at >= offset + len
        })
}

/// A query over a corrupt column fails with an error pointing at the collection.
#[test]
fn a_corrupt_column_fails_the_query_that_reads_it() {
    let d = damage_fixture("corrupt-column");
    let fleet = open_bytes(&d.bytes, false).unwrap();
    let status = fleet
        .store()
        .columns()
        .iter()
        .position(|c| c.dotted() == "status")
        .unwrap() as u32;
    drop(fleet);
    // Find the status column's index section in the table and flip a byte in it.
    let u64_at = |b: &[u8], p: usize| u64::from_le_bytes(b[p..p + 8].try_into().unwrap());
    let sections = u32::from_le_bytes(d.bytes[36..40].try_into().unwrap()) as usize;
    let table = u64_at(&d.bytes, 40) as usize;
    let entry = (0..sections)
        .map(|i| table + i * 32)
        .find(|&e| {
            u16::from_le_bytes([d.bytes[e], d.bytes[e + 1]]) == 22
                && u32::from_le_bytes(d.bytes[e + 4..e + 8].try_into().unwrap()) == status
        })
        .expect("status has an index section");
    let mut b = d.bytes.clone();
    let at = u64_at(&b, entry + 8) as usize + 3;
    b[at] ^= 0x40;
    let fleet = open_bytes(&b, false).unwrap();
    let sql = "SELECT COUNT() FROM devices WHERE status = 'disabled'";
    let e = query(&fleet, sql).unwrap_err();
    assert!(
        e.contains("column 'status'") && e.contains("fails its checksum"),
        "{e}"
    );
    assert!(e.contains("FROM devices"), "{e}");
    // Other columns still answer.
    let sql = "SELECT COUNT() AS n FROM devices WHERE connectionState = 'Connected'";
    assert!(query(&fleet, sql).is_ok());
}

/// SplitMix64, for reproducible damage.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n as u64) as usize
    }
}

// ---------------------------------------------------------------------------------------------
// The command line

fn twindex(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_twindex"))
        .args(args)
        .output()
        .expect("run twindex")
}

#[test]
fn index_then_query_and_stats_read_the_snapshot() {
    let dir = scratch("cli");
    let json = dir.join("devices.txt");
    std::fs::write(
        &json,
        generated(&GenOptions {
            devices: 150,
            ..GenOptions::default()
        }),
    )
    .unwrap();
    let twx = dir.join("fleet.twx");
    let (json, twx) = (json.to_str().unwrap(), twx.to_str().unwrap());
    let out = twindex(&["index", json, "-o", twx, "--verify"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("wrote") && err.contains("verified"), "{err}");
    for sql in QUERIES {
        let from_json = twindex(&["query", "-f", "json", sql, json]);
        let from_twx = twindex(&["query", "-f", "json", sql, twx]);
        assert!(from_twx.status.success(), "{sql}");
        assert_eq!(from_json.stdout, from_twx.stdout, "{sql}");
    }
    let stats = twindex(&["stats", "-f", "json", twx]);
    assert!(stats.status.success());
    let census: Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(census["inputs"][0]["name"], json);
    // A snapshot of a snapshot, and a snapshot mixed with JSON (exit 1, said why).
    let again = dir.join("again.twx");
    assert!(twindex(&["index", twx, "-o", again.to_str().unwrap()])
        .status
        .success());
    let mixed = twindex(&["query", "SELECT COUNT() FROM devices", twx, json]);
    assert_eq!(mixed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("cannot be combined"));
    let missing = twindex(&[
        "index",
        json,
        "-o",
        dir.join("no/such/dir.twx").to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(1));
}

// ---------------------------------------------------------------------------------------------
// Properties: whatever the records, a snapshot holds the same fleet

mod properties {
    use std::sync::atomic::{AtomicU64, Ordering};

    use proptest::prelude::*;
    use serde_json::Value;
    use twindex::snapshot::WriteOptions;
    use twindex::{Fleet, LoadOptions};

    use super::{query, scratch, twins};
    use crate::strategies::{arb_fleet, arb_query_sql};

    static CASE: AtomicU64 = AtomicU64::new(0);

    fn check(records: &[Value], queries: &[String], block_rows: u32) -> Result<(), String> {
        let text: String = records.iter().map(|r| format!("{r}\n")).collect();
        let loaded = Fleet::from_bytes(
            vec![("fleet.jsonl".into(), text.into_bytes())],
            &LoadOptions::default(),
        )
        .map_err(|e| e.to_string())?;
        let dir = scratch("properties");
        let path = dir.join(format!("{}.twx", CASE.fetch_add(1, Ordering::Relaxed)));
        let opts = WriteOptions {
            block_rows,
            ..WriteOptions::default()
        };
        loaded
            .write_snapshot_with(&path, &opts)
            .map_err(|e| e.to_string())?;
        let opened = Fleet::open(&path).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_dir_all(&dir);
        if twins(&opened) != twins(&loaded) {
            return Err("twins differ".into());
        }
        if opened.store().irregular() != loaded.store().irregular() {
            return Err("irregular rows differ".into());
        }
        for q in queries {
            let (a, b) = (query(&opened, q), query(&loaded, q));
            if a != b {
                return Err(format!("{q}\nsnapshot: {a:?}\nload: {b:?}"));
            }
            // Compared as text too: key order, and 5 against 5.0.
            let text = |r: Result<Vec<Value>, String>| r.map(|v| serde_json::to_string(&v).ok());
            if text(a) != text(b) {
                return Err(format!("{q}: same values, different text"));
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn a_snapshot_answers_as_its_load(
            records in arb_fleet(),
            queries in prop::collection::vec(arb_query_sql(), 1..6),
            block_rows in prop::sample::select(&[1u32, 3, 32][..]),
        ) {
            check(&records, &queries, block_rows).map_err(TestCaseError::fail)?;
        }
    }
}
