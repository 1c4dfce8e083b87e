#![no_main]
//! See `twindex::fuzzing::ingest_file` for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| twindex::fuzzing::ingest_file(data));
