//! All integration tests, compiled into one binary (`cargo test --test it`).

mod engine;
mod golden;
mod ingest;
mod reference;
mod sql;
mod strategies;
