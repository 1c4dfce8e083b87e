//! twindex: Azure IoT Hub-style SQL over offline device-twin data.
//!
//! Data flows one way: `source` (bytes from files, mapped or decompressed) → `ingest` (parallel
//! parse into column builders) → `store` (immutable columns) and `index` (roaring bitmaps);
//! queries go `sql` (parse) → `plan` (bind, split predicates onto bitmaps) → `exec` (parallel
//! execution over the store). `reference` is the slow, obviously-right evaluator that tests
//! hold the fast path to. `cli` sits on top of everything.

pub mod error;
pub mod exec;
mod fleet;
#[doc(hidden)]
pub mod fuzzing;
pub mod gen;
pub mod index;
pub mod ingest;
pub mod model;
pub mod plan;
pub mod reference;
pub mod source;
pub mod sql;
pub mod store;

pub use error::{LoadError, Location};
pub use exec::Results;
pub use fleet::{Explain, ExplainPath, Fleet};
pub use ingest::{LoadOptions, LoadReport};
pub use sql::QueryError;
