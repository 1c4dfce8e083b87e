//! twindex: Azure IoT Hub-style SQL over offline device-twin data.
//!
//! ```
//! use twindex::{Fleet, LoadOptions};
//!
//! let export = r#"{"id":"dev-1","status":"enabled","tags":{"location":{"region":"US"}}}
//! {"id":"dev-2","status":"disabled","authentication":{"type":"sas","symmetricKey":{"primaryKey":"secret"}}}
//! "#;
//! let fleet = Fleet::from_bytes(vec![("devices.txt".into(), export.into())], &LoadOptions::default())?;
//! let rows: Vec<_> = fleet
//!     .query("SELECT deviceId, authenticationType FROM devices WHERE status = 'disabled'")?
//!     .collect();
//! assert_eq!(rows, vec![serde_json::json!({"deviceId": "dev-2", "authenticationType": "sas"})]);
//!
//! // Paged like the service's query API.
//! let page = fleet.query_page("SELECT deviceId FROM devices", 1, None)?;
//! assert_eq!(page.items.len(), 1);
//! let rest = fleet.query_page("SELECT deviceId FROM devices", 1, page.continuation.as_deref())?;
//! assert_eq!(rest.items, vec![serde_json::json!({"deviceId": "dev-2"})]);
//! assert_eq!(rest.continuation, None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Data flows one way: `source` (bytes from files, mapped or decompressed) → `ingest` (parallel
//! parse into column builders) → `store` (immutable columns) and `index` (roaring bitmaps);
//! queries go `sql` (parse) → `plan` (bind, split predicates onto bitmaps) → `exec` (parallel
//! execution over the store). `reference` is the slow, obviously-right evaluator that tests
//! hold the fast path to. `snapshot` persists a store in a file that is memory-mapped and
//! queried in place. `cli` sits on top of everything.

pub mod cli;
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
pub mod snapshot;
pub mod source;
pub mod sql;
pub mod store;
mod swar;

pub use error::{LoadError, Location};
pub use exec::{json::JsonRows, Results};
pub use fleet::{Explain, ExplainPath, Fleet, Page};
pub use ingest::{LoadOptions, LoadReport};
pub use sql::QueryError;
