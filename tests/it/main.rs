//! All integration tests, compiled into one binary (`cargo test --test it`).

mod bad_inputs;
mod chunking;
mod cli;
mod deferred;
mod engine;
mod fast_path;
mod fuzz_corpus;
mod golden;
mod ingest;
mod props;
mod reference;
mod regressions;
mod snapshot;
mod sql;
mod strategies;
