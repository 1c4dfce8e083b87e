//! All integration tests, compiled into one binary.

mod golden;
mod reference;
