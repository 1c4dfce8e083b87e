//! All integration tests, compiled into one binary (`cargo test --test it`).

mod sql;
