//! All integration tests, compiled into one binary (`cargo test --test it`).

mod cli;
mod engine;
mod golden;
mod ingest;
mod props;
mod reference;
mod regressions;
mod sql;
mod strategies;
