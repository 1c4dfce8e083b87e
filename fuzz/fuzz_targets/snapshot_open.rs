#![no_main]
//! See `twindex::fuzzing::snapshot_open` for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| twindex::fuzzing::snapshot_open(data));
