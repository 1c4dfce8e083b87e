#![no_main]
//! See `twindex::fuzzing::differential` for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| twindex::fuzzing::differential(data));
