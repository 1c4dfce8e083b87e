//! What a subcommand returns instead of printing: the failure, and enough context to say it once.

use std::io::{self, Write};
use std::process::ExitCode;

use crate::error::LoadError;
use crate::sql::QueryError;

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The query does not parse or plan; rendered against its text with a caret. Exit 2.
    Query { sql: String, error: QueryError },
    /// An input could not be loaded. Exit 1.
    Load(LoadError),
    /// `twindex validate` found skipped records or content-rule violations (already listed on
    /// standard output). Exit 1.
    Invalid { summary: String },
    /// Reading or writing something other than an input failed. Exit 1, except that a closed
    /// standard output (`| head`) is how pipelines say "enough" and exits 0 without a word.
    Io { context: String, error: io::Error },
}

impl Failure {
    pub fn query(sql: &str, error: QueryError) -> Failure {
        Failure::Query {
            sql: sql.to_string(),
            error,
        }
    }

    /// A failure writing standard output.
    pub fn stdout(error: io::Error) -> Failure {
        Failure::Io {
            context: "writing standard output".into(),
            error,
        }
    }

    pub fn io(context: impl Into<String>, error: io::Error) -> Failure {
        Failure::Io {
            context: context.into(),
            error,
        }
    }

    /// Prints the failure to standard error (unless it is a closed pipe) and returns the exit
    /// code it stands for.
    pub fn report(&self) -> ExitCode {
        let (code, message) = match self {
            Failure::Io { error, .. } if error.kind() == io::ErrorKind::BrokenPipe => {
                return ExitCode::SUCCESS
            }
            Failure::Query { sql, error } => (2, error.render(sql)),
            Failure::Load(e) => (1, format!("error: {e}")),
            Failure::Invalid { summary } => (1, format!("invalid: {summary}")),
            Failure::Io { context, error } => (1, format!("error: {context}: {error}")),
        };
        let _ = writeln!(io::stderr().lock(), "{message}");
        ExitCode::from(code)
    }
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Failure {
        Failure::Load(e)
    }
}

/// Writes one line to standard error. A failure to write a diagnostic has nowhere to be
/// reported, so it is ignored rather than turned into a panic (as `eprintln!` would).
pub(crate) fn note(line: impl std::fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}
