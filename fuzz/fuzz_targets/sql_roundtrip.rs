#![no_main]
//! See `twindex::fuzzing::sql_roundtrip` for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| twindex::fuzzing::sql_roundtrip(data));
