//! Errors of the load side. Query errors live in [`crate::sql::QueryError`].

use std::fmt;

/// Where in an input something was found: file, 1-based line, 0-based byte offset of the
/// record's first byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: u64,
    pub byte: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} (byte {})", self.file, self.line, self.byte)
    }
}

/// Why a load failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: is {what}, not a file")]
    NotAFile { file: String, what: &'static str },
    /// A record that could not be read, in `--strict` mode or where no recovery is possible
    /// (a JSON array whose brackets do not balance).
    #[error("{at}: {reason}")]
    Record { at: Location, reason: String },
    /// A content rule of SPEC §1.3 broken, in `--strict` mode.
    #[error("{at}: {path}: {rule}")]
    Invalid {
        at: Location,
        path: String,
        rule: String,
    },
    /// More distinct member paths than the load allows (`LoadOptions::max_paths`); `at` is
    /// the record that brought one too many.
    #[error("{at}: more than {limit} distinct paths in one load (twindex keeps a column per path; the limit keeps an input with a new key in every record from taking all memory)")]
    TooManyPaths { at: Location, limit: usize },
    /// A `.gz` input that decompresses to more than `LoadOptions::max_decompressed_bytes`.
    #[error("{file}: decompresses to more than {limit} bytes, the limit for a compressed input (decompress it to a file, which is mapped instead of held in memory)")]
    Decompressed { file: String, limit: u64 },
    /// Standard input larger than `LoadOptions::max_decompressed_bytes` (it is held in memory).
    #[error("{file}: more than {limit} bytes on standard input, the limit for an input held in memory (save it to a file, which is mapped instead)")]
    InMemoryLimit { file: String, limit: u64 },
    #[error("no input files given")]
    NoInput,
    #[error("{file}: {reason}")]
    Snapshot { file: String, reason: String },
}

impl LoadError {
    pub fn io(file: &str, source: std::io::Error) -> LoadError {
        LoadError::Io {
            file: file.to_string(),
            source,
        }
    }
}
