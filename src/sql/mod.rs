//! The query language front end: lexer, parser, syntax tree and errors with spans.
//! It does no I/O and knows nothing of storage; it is what we fuzz hardest.

pub mod ast;
mod display;
mod error;
mod lexer;
mod parser;

pub use ast::*;
pub use error::QueryError;
pub use parser::{parse, MAX_DEPTH, MAX_EXPR_HEIGHT, MAX_QUERY_LEN};
