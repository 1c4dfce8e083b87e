//! All integration tests, compiled into one binary.

mod golden;
mod ingest;
mod reference;
mod sql;
