//! Query errors: a message, the byte span it is about, and an optional hint, rendered as the
//! query line with a caret under the span (SPEC §2.5).

use std::fmt;

use super::ast::Span;

/// Something wrong with a query, found by the parser or the planner.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryError {
    /// What is wrong, without position (e.g. `unknown function 'STARTWITH' (did you mean STARTSWITH?)`).
    pub message: String,
    /// Where in the query text.
    pub span: Span,
}

impl QueryError {
    pub fn new(message: impl Into<String>, span: Span) -> QueryError {
        QueryError {
            message: message.into(),
            span,
        }
    }

    /// Renders the error against the query it came from:
    ///
    /// ```text
    /// error: unknown function 'STARTWITH' (did you mean STARTSWITH?)
    ///   |
    /// 1 | SELECT * FROM devices WHERE STARTWITH(deviceId, 'a')
    ///   |                             ^^^^^^^^^
    /// ```
    ///
    /// Multi-line queries show the line the span starts on; the caret runs to the end of the
    /// span or of that line, at least one caret wide. Columns count characters, not bytes.
    pub fn render(&self, query: &str) -> String {
        let start = (self.span.start as usize).min(query.len());
        let start = floor_char_boundary(query, start);
        let end = floor_char_boundary(query, (self.span.end as usize).clamp(start, query.len()));
        let line_start = query[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = query[start..].find('\n').map_or(query.len(), |i| start + i);
        let line_no = query[..start].matches('\n').count() + 1;
        let line = query[line_start..line_end].trim_end_matches('\r');
        let col = query[line_start..start].chars().count();
        let width = query[start..end.min(line_end)].chars().count().max(1);
        let gutter = line_no.to_string().len();
        let pad = " ".repeat(gutter);
        format!(
            "error: {}\n{pad} |\n{line_no} | {line}\n{pad} | {}{}",
            self.message,
            " ".repeat(col),
            "^".repeat(width)
        )
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (at bytes {}..{})",
            self.message, self.span.start, self.span.end
        )
    }
}

impl std::error::Error for QueryError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_span() {
        let q = "SELECT * FROM devices WHERE STARTWITH(deviceId, 'a')";
        let e = QueryError::new(
            "unknown function 'STARTWITH' (did you mean STARTSWITH?)",
            Span::new(28, 37),
        );
        assert_eq!(
            e.render(q),
            "error: unknown function 'STARTWITH' (did you mean STARTSWITH?)\n  |\n1 | SELECT * FROM devices WHERE STARTWITH(deviceId, 'a')\n  |                             ^^^^^^^^^"
        );
    }

    #[test]
    fn renders_second_line_and_empty_span() {
        let q = "SELECT *\nFROM devices WHERE";
        let e = QueryError::new("expected a condition after WHERE", Span::new(27, 27));
        assert_eq!(
            e.render(q),
            "error: expected a condition after WHERE\n  |\n2 | FROM devices WHERE\n  |                   ^"
        );
    }
}
