//! Canonical SQL for the syntax tree: upper-case keywords and function names, single-quoted
//! strings, `[[ ]]` only where a name needs it, and parentheses only where precedence needs
//! them. The law the tests hold this to: for any query `q` that parses,
//! `parse(&parse(q)?.to_string())` is the same tree as `parse(q)` but for spans.
//!
//! Names containing `]]` or ending in `]` cannot be written in this language at all (SPEC
//! §4.10); they are printed as `[[...]]` anyway and will not read back.

use std::fmt::{self, Write};

use super::ast::{
    Collection, Expr, ExprKind, From, Ident, Literal, OrderItem, Path, Query, Segment, SelectItem,
    SelectList, Span, Top, UnaryOp,
};
use super::lexer::{is_keyword, is_plain_name};
use super::parser::{binary_level, level};

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        if let Some(top) = &self.top {
            write!(f, "TOP {} ", top.n)?;
        }
        match &self.select {
            SelectList::Star(_) => f.write_str("*")?,
            SelectList::Items(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", item.expr)?;
                    if let Some(alias) = &item.alias {
                        f.write_str(" AS ")?;
                        write_name(f, &alias.name, true)?;
                    }
                }
            }
        }
        f.write_str(match self.from.collection {
            Collection::Devices => " FROM devices",
            Collection::Modules => " FROM devices.modules",
        })?;
        if let Some(filter) = &self.filter {
            write!(f, " WHERE {filter}")?;
        }
        for (i, key) in self.group_by.iter().enumerate() {
            f.write_str(if i == 0 { " GROUP BY " } else { ", " })?;
            write!(f, "{key}")?;
        }
        for (i, item) in self.order_by.iter().enumerate() {
            f.write_str(if i == 0 { " ORDER BY " } else { ", " })?;
            write!(f, "{}", item.expr)?;
            if item.descending {
                f.write_str(" DESC")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self, 0)
    }
}

/// How tightly an expression binds when printed without parentheses.
fn binding(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => binary_level(*op),
        ExprKind::In { .. } => level::CMP,
        ExprKind::Unary {
            op: UnaryOp::Not, ..
        } => level::NOT,
        ExprKind::Unary {
            op: UnaryOp::Neg, ..
        } => level::NEG,
        _ => level::ATOM,
    }
}

/// Writes `e` where the parser expects operators binding at least as tightly as `min`.
fn write_expr(f: &mut fmt::Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if binding(e) < min {
        f.write_char('(')?;
        write_bare(f, e)?;
        f.write_char(')')
    } else {
        write_bare(f, e)
    }
}

fn write_bare(f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
    match &e.kind {
        ExprKind::Literal(lit) => write!(f, "{lit}"),
        ExprKind::Path(path) => write!(f, "{path}"),
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand,
        } => {
            f.write_str("NOT ")?;
            write_expr(f, operand, level::NOT)
        }
        ExprKind::Unary {
            op: UnaryOp::Neg,
            operand,
        } => {
            f.write_char('-')?;
            // Parentheses cost the parser two levels of its depth budget where a bare minus
            // costs one, so they go only where the text needs them; otherwise a long chain of
            // minuses that parsed would print as text that does not.
            if let ExprKind::Literal(Literal::Number(n)) = operand.kind {
                if n.is_sign_negative() {
                    // `- -5` reads back as negation of the constant -5.
                    write!(f, " {operand}")
                } else {
                    // `-5` would read back as the constant -5, not as negation applied to 5.
                    write!(f, "({operand})")
                }
            } else if matches!(
                operand.kind,
                ExprKind::Unary {
                    op: UnaryOp::Neg,
                    ..
                }
            ) {
                // `- -a`, not `-(-a)`; the space keeps the minuses two tokens.
                f.write_char(' ')?;
                write_expr(f, operand, level::NEG)
            } else {
                write_expr(f, operand, level::ATOM)
            }
        }
        ExprKind::Binary { op, left, right } => {
            let lvl = binary_level(*op);
            write_expr(f, left, lvl)?;
            write!(f, " {} ", binary_symbol(*op))?;
            // Operators are left-associative, so an equal-level right operand needs parens.
            write_expr(f, right, lvl + 1)
        }
        ExprKind::In {
            operand,
            list,
            negated,
        } => {
            write_expr(f, operand, level::CMP)?;
            f.write_str(if *negated { " NIN " } else { " IN " })?;
            write_list(
                f,
                list.iter(),
                |f, item| write!(f, "{item}"),
                starts_array(list),
            )
        }
        ExprKind::Call { func, args } => {
            f.write_str(func.name())?;
            write_args(f, args.iter())
        }
        ExprKind::Aggregate { func, arg } => {
            f.write_str(func.name())?;
            write_args(f, arg.iter().map(|a| &**a))
        }
    }
}

fn write_args<'e>(f: &mut fmt::Formatter<'_>, args: impl Iterator<Item = &'e Expr>) -> fmt::Result {
    f.write_char('(')?;
    for (i, arg) in args.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{arg}")?;
    }
    f.write_char(')')
}

fn starts_array(list: &[Expr]) -> bool {
    matches!(
        list.first().map(|e| &e.kind),
        Some(ExprKind::Literal(Literal::Array(_)))
    )
}

/// `[a, b]`. A list whose first element is itself an array starts `[ [`, since `[[` at the
/// top level would open a quoted name.
fn write_list<T>(
    f: &mut fmt::Formatter<'_>,
    items: impl Iterator<Item = T>,
    mut write_item: impl FnMut(&mut fmt::Formatter<'_>, T) -> fmt::Result,
    space_first: bool,
) -> fmt::Result {
    f.write_str(if space_first { "[ " } else { "[" })?;
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_item(f, item)?;
    }
    f.write_char(']')
}

fn binary_symbol(op: super::ast::BinaryOp) -> &'static str {
    use super::ast::BinaryOp::*;
    match op {
        Or => "OR",
        And => "AND",
        Eq => "=",
        NotEq => "!=",
        Lt => "<",
        LtEq => "<=",
        Gt => ">",
        GtEq => ">=",
        Add => "+",
        Sub => "-",
        Mul => "*",
        Div => "/",
        Mod => "%",
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                Segment::Name(name) => {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    write_name(f, name, i == 0)?;
                }
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A name bare when it lexes as one identifier. Keywords need `[[ ]]` only where an
/// expression starts (`first`); after a dot they are ordinary names.
fn write_name(f: &mut fmt::Formatter<'_>, name: &str, first: bool) -> fmt::Result {
    if is_plain_name(name) && !(first && is_keyword(name)) {
        f.write_str(name)
    } else {
        write!(f, "[[{name}]]")
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Undefined => f.write_str("undefined"),
            Literal::Null => f.write_str("null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Number(n) => write_number(f, *n),
            Literal::String(s) => write_string(f, s),
            Literal::Array(items) => {
                let nested = matches!(items.first(), Some(Literal::Array(_)));
                write_list(f, items.iter(), |f, item| write!(f, "{item}"), nested)
            }
        }
    }
}

/// Numbers print so that they read back as the same `f64`: Rust's float formatting is
/// shortest-round-trip. Integers print without `.0`; very large and small magnitudes use an
/// exponent rather than hundreds of digits.
fn write_number(f: &mut fmt::Formatter<'_>, n: f64) -> fmt::Result {
    if n.is_infinite() {
        // Any decimal beyond f64's range parses to infinity.
        f.write_str(if n > 0.0 { "1e999" } else { "-1e999" })
    } else if n.fract() == 0.0 && n.abs() < 1e16 {
        write!(f, "{n}")
    } else {
        write!(f, "{n:?}")
    }
}

fn write_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        match c {
            '\'' => f.write_str("\\'")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('\'')
}

// ---- comparing trees without spans ---------------------------------------------------------

impl Query {
    /// A copy with every span zeroed, so that trees parsed from different texts compare equal
    /// when they mean the same query. Used by the round-trip tests.
    pub fn without_spans(&self) -> Query {
        let none = Span::default();
        Query {
            top: self.top.map(|t| Top { n: t.n, span: none }),
            select: match &self.select {
                SelectList::Star(_) => SelectList::Star(none),
                SelectList::Items(items) => SelectList::Items(
                    items
                        .iter()
                        .map(|item| SelectItem {
                            expr: item.expr.without_spans(),
                            alias: item.alias.as_ref().map(|a| Ident {
                                name: a.name.clone(),
                                span: none,
                            }),
                            span: none,
                        })
                        .collect(),
                ),
            },
            from: From {
                collection: self.from.collection,
                span: none,
            },
            filter: self.filter.as_ref().map(Expr::without_spans),
            group_by: self.group_by.iter().map(Path::without_spans).collect(),
            order_by: self
                .order_by
                .iter()
                .map(|item| OrderItem {
                    expr: item.expr.without_spans(),
                    descending: item.descending,
                    span: none,
                })
                .collect(),
            span: none,
        }
    }
}

impl Expr {
    /// A copy with every span zeroed (see [`Query::without_spans`]).
    pub fn without_spans(&self) -> Expr {
        let boxed = |e: &Expr| Box::new(e.without_spans());
        let kind = match &self.kind {
            ExprKind::Literal(lit) => ExprKind::Literal(lit.clone()),
            ExprKind::Path(p) => ExprKind::Path(p.without_spans()),
            ExprKind::Unary { op, operand } => ExprKind::Unary {
                op: *op,
                operand: boxed(operand),
            },
            ExprKind::Binary { op, left, right } => ExprKind::Binary {
                op: *op,
                left: boxed(left),
                right: boxed(right),
            },
            ExprKind::In {
                operand,
                list,
                negated,
            } => ExprKind::In {
                operand: boxed(operand),
                list: list.iter().map(Expr::without_spans).collect(),
                negated: *negated,
            },
            ExprKind::Call { func, args } => ExprKind::Call {
                func: *func,
                args: args.iter().map(Expr::without_spans).collect(),
            },
            ExprKind::Aggregate { func, arg } => ExprKind::Aggregate {
                func: *func,
                arg: arg.as_deref().map(boxed),
            },
        };
        Expr {
            kind,
            span: Span::default(),
        }
    }
}

impl Path {
    /// A copy with its span zeroed (see [`Query::without_spans`]).
    pub fn without_spans(&self) -> Path {
        Path {
            segments: self.segments.clone(),
            span: Span::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;

    /// Parses, prints, and checks both the canonical text and that it reads back the same.
    fn canonical(q: &str) -> String {
        let first = parse(q).unwrap_or_else(|e| panic!("{}", e.render(q)));
        let printed = first.to_string();
        let second = parse(&printed).unwrap_or_else(|e| panic!("{}", e.render(&printed)));
        assert_eq!(first.without_spans(), second.without_spans(), "{printed}");
        printed
    }

    #[test]
    fn keywords_and_functions_upper_case() {
        assert_eq!(
            canonical("select top 5 deviceId as d, count() from devices.modules where is_defined(tags.x) group by tags.x order by d desc, tags.y asc"),
            "SELECT TOP 5 deviceId AS d, COUNT() FROM devices.modules WHERE IS_DEFINED(tags.x) GROUP BY tags.x ORDER BY d DESC, tags.y"
        );
    }

    #[test]
    fn parentheses_only_where_needed() {
        assert_eq!(
            canonical("SELECT * FROM devices WHERE ((a = 1) AND (b = 2)) OR (NOT (c = 3))"),
            "SELECT * FROM devices WHERE a = 1 AND b = 2 OR NOT c = 3"
        );
        assert_eq!(
            canonical("SELECT * FROM devices WHERE (a OR b) AND NOT (c OR d)"),
            "SELECT * FROM devices WHERE (a OR b) AND NOT (c OR d)"
        );
        assert_eq!(
            canonical("SELECT a - (b - c), (a - b) - c, -(a + b), -(-a), (NOT a) = b FROM devices"),
            "SELECT a - (b - c), a - b - c, -(a + b), - -a, (NOT a) = b FROM devices"
        );
    }

    /// Found by the `sql_roundtrip` fuzz target: `-(-(...` cost two depth levels per minus, so
    /// the print of a long chain that parsed went over the parser's limit.
    #[test]
    fn a_chain_of_minuses_prints_within_the_depth_limit() {
        let q = format!(
            "SELECT a {}b FROM devices",
            "-".repeat(super::super::MAX_DEPTH - 1)
        );
        assert!(canonical(&q).starts_with("SELECT a - - - -"));
    }

    /// Found by the `sql_roundtrip` fuzz target, as above: `-(-4)` for negation of the
    /// constant -4 took the chain it ended over the limit.
    #[test]
    fn negation_of_a_negative_constant_prints_without_parentheses() {
        assert_eq!(
            canonical("SELECT -(-4), - -4, --0, -(4) FROM devices"),
            "SELECT - -4, - -4, - -0, -(4) FROM devices"
        );
        let q = format!(
            "SELECT a {}-4 FROM devices",
            "-".repeat(super::super::MAX_DEPTH - 2)
        );
        assert!(canonical(&q).ends_with("- - -4 FROM devices"));
    }

    #[test]
    fn negative_numbers_stay_constants() {
        assert_eq!(
            canonical("SELECT -5, -(5), - 5, a - -5, a * -0x10 FROM devices WHERE x IN [-1, 2]"),
            "SELECT -5, -(5), -5, a - -5, a * -16 FROM devices WHERE x IN [-1, 2]"
        );
    }

    #[test]
    fn names_quoted_only_when_needed() {
        assert_eq!(
            canonical("SELECT [[group]].x, tags.[[group]], tags.order, [[a b]].[[c.d]], x[0].y AS [[select]] FROM devices"),
            "SELECT [[group]].x, tags.group, tags.order, [[a b]].[[c.d]], x[0].y AS [[select]] FROM devices"
        );
    }

    #[test]
    fn literals() {
        assert_eq!(
            canonical(
                r#"SELECT "it's", 'tab\there', '\u00e9', 1.5, 1e300, 1e-7, 0.1, 1e999, null, undefined, true, [ [1, 2], []] FROM devices"#
            ),
            r"SELECT 'it\'s', 'tab\there', 'é', 1.5, 1e300, 1e-7, 0.1, 1e999, null, undefined, true, [ [1, 2], []] FROM devices"
        );
        assert_eq!(
            canonical("SELECT * FROM devices WHERE x NOT IN [[1], 'a'] AND y NIN []"),
            "SELECT * FROM devices WHERE x NIN [ [1], 'a'] AND y NIN []"
        );
    }
}
