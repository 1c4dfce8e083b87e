//! Every file of every fuzz target's corpus (`fuzz/corpus/<target>/`), replayed through the
//! target's entry function, so that CI checks the seeds and every past crash without a fuzzer.

use std::path::PathBuf;

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("sql_roundtrip", twindex::fuzzing::sql_roundtrip),
    ("ingest_record", twindex::fuzzing::ingest_record),
    ("ingest_file", twindex::fuzzing::ingest_file),
    ("differential", twindex::fuzzing::differential),
    ("snapshot_open", twindex::fuzzing::snapshot_open),
];

fn replay(target: &str, entry: Target) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 5,
        "{}: only {} seeds",
        dir.display(),
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if let Err(panic) = std::panic::catch_unwind(|| entry(&data)) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", file.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files of {target} fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[test]
fn sql_roundtrip_corpus() {
    replay(TARGETS[0].0, TARGETS[0].1);
}

#[test]
fn ingest_record_corpus() {
    replay(TARGETS[1].0, TARGETS[1].1);
}

#[test]
fn ingest_file_corpus() {
    replay(TARGETS[2].0, TARGETS[2].1);
}

#[test]
fn differential_corpus() {
    replay(TARGETS[3].0, TARGETS[3].1);
}

#[test]
fn snapshot_open_corpus() {
    replay(TARGETS[4].0, TARGETS[4].1);
}

/// The fuzz crate's targets and this list name the same functions.
#[test]
fn every_fuzz_target_is_replayed() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("fuzz/fuzz_targets")
        .map(|e| {
            let p = e.expect("entry").path();
            p.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}
