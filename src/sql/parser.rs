//! Recursive-descent parser with a recursion budget.
//!
//! Clauses are parsed top-down; expressions by precedence climbing, which needs two stack
//! frames per nesting level instead of one per precedence level. Two budgets keep the parser
//! and everything downstream off the end of the stack:
//!
//! - [`MAX_DEPTH`] bounds the parser's own recursion (parentheses, `NOT` and `-` chains,
//!   function arguments, array literals);
//! - [`MAX_EXPR_HEIGHT`] bounds the height of every expression tree it returns. Chains such as
//!   `a = 1 OR a = 2 OR ...` are parsed by a loop but still build a left-deep tree, and the
//!   planner, the evaluators and even `Drop` recurse over it.

use super::ast::{
    AggregateFunc, BinaryOp, Collection, Expr, ExprKind, From, Function, Ident, Literal, OrderItem,
    Path, Query, Segment, SelectItem, SelectList, Span, Top, UnaryOp,
};
use super::error::QueryError;
use super::lexer::{self, Keyword, Lexed, Token, TokenKind};

/// Queries longer than this are rejected before lexing.
pub const MAX_QUERY_LEN: usize = 64 * 1024;
/// How deeply expressions may nest. Each parenthesis, `NOT`, unary minus, function call,
/// array literal and right-hand operand takes a level; `-(` takes two.
pub const MAX_DEPTH: usize = 128;
/// No expression tree returned by [`parse`] is taller than this, so consumers may recurse
/// over expressions without a budget of their own.
pub const MAX_EXPR_HEIGHT: usize = 512;

/// Binding levels, loosest first (SPEC §2.2). The printer uses the same table to decide where
/// parentheses are needed.
pub(crate) mod level {
    pub const OR: u8 = 1;
    pub const AND: u8 = 2;
    pub const NOT: u8 = 3;
    pub const CMP: u8 = 4;
    pub const ADD: u8 = 5;
    pub const MUL: u8 = 6;
    pub const NEG: u8 = 7;
    pub const ATOM: u8 = 8;
}

pub(crate) fn binary_level(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => level::OR,
        BinaryOp::And => level::AND,
        BinaryOp::Eq
        | BinaryOp::NotEq
        | BinaryOp::Lt
        | BinaryOp::LtEq
        | BinaryOp::Gt
        | BinaryOp::GtEq => level::CMP,
        BinaryOp::Add | BinaryOp::Sub => level::ADD,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => level::MUL,
    }
}

/// Parses one query.
pub fn parse(query: &str) -> Result<Query, QueryError> {
    if query.len() > MAX_QUERY_LEN {
        return Err(QueryError::new(
            format!(
                "query is too long ({} bytes; limit {MAX_QUERY_LEN})",
                query.len()
            ),
            Span::new(floor_char_boundary(query, MAX_QUERY_LEN), query.len()),
        ));
    }
    parse_any_length(query)
}

/// The parser proper; the length limit is [`parse`]'s business, and tests of the depth
/// budget need inputs longer than it.
fn parse_any_length(query: &str) -> Result<Query, QueryError> {
    let Lexed { tokens, error } = lexer::tokenize(query);
    let mut parser = Parser {
        src: query,
        tokens,
        pos: 0,
        last_end: 0,
        depth: 0,
        aggregates: Aggregates::Allowed,
        lex_error: error,
    };
    parser.query()
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

type PResult<T> = Result<T, QueryError>;

/// An expression with the height of its tree, which the AST does not record.
struct Node {
    expr: Expr,
    height: usize,
}

/// Where aggregates may appear while parsing the current expression.
#[derive(Clone, Copy)]
enum Aggregates {
    Allowed,
    Inside(AggregateFunc),
    Forbidden(&'static str),
}

enum Infix {
    Binary(BinaryOp),
    /// `IN`, `NIN` or `NOT IN`, with the number of tokens the operator takes.
    In {
        negated: bool,
        tokens: usize,
    },
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// End of the last token consumed, for node spans.
    last_end: usize,
    depth: usize,
    aggregates: Aggregates,
    lex_error: Option<QueryError>,
}

impl Parser<'_> {
    // ---- token plumbing -------------------------------------------------------------------

    fn nth(&self, n: usize) -> &Token {
        let last = self.tokens.len() - 1;
        &self.tokens[(self.pos + n).min(last)]
    }

    fn peek(&self) -> &Token {
        self.nth(0)
    }

    fn bump(&mut self) -> Token {
        let tok = self.peek().clone();
        if tok.kind != TokenKind::Eof {
            self.pos += 1;
            self.last_end = tok.span.end as usize;
        }
        tok
    }

    fn at(&self, kind: &TokenKind) -> bool {
        &self.peek().kind == kind
    }

    fn eat(&mut self, kind: &TokenKind) -> Option<Span> {
        self.at(kind).then(|| self.bump().span)
    }

    fn eat_kw(&mut self, kw: Keyword) -> Option<Span> {
        self.eat(&TokenKind::Keyword(kw))
    }

    fn span_from(&self, start: Span) -> Span {
        Span::new(start.start as usize, self.last_end.max(start.end as usize))
    }

    fn text(&self, span: Span) -> &str {
        self.src.get(span.range()).unwrap_or("")
    }

    // ---- errors ---------------------------------------------------------------------------

    /// An error about the current token. If lexing failed there, the lexer's error explains
    /// the problem better than anything the parser could say.
    fn error_here(&self, message: String) -> QueryError {
        match (&self.peek().kind, &self.lex_error) {
            (TokenKind::Invalid, Some(e)) => e.clone(),
            _ => QueryError::new(message, self.peek().span),
        }
    }

    fn describe(&self, tok: &Token) -> String {
        let text = snippet(self.text(tok.span));
        match tok.kind {
            TokenKind::Eof => "end of query".to_string(),
            TokenKind::Str(_) => format!("string {text}"),
            _ => format!("'{text}'"),
        }
    }

    /// `expected {what}, found {token}`, with a suggestion when the token is a word that looks
    /// like one of `keywords`.
    fn expected(&self, what: &str, keywords: &[Keyword]) -> QueryError {
        let tok = self.peek();
        let mut message = format!("expected {what}, found {}", self.describe(tok));
        if let TokenKind::Ident(word) = &tok.kind {
            if let Some(s) = suggest(word, keywords.iter().map(|k| k.as_str())) {
                message.push_str(&format!(" (did you mean {s}?)"));
            }
        }
        self.error_here(message)
    }

    fn expect_kw(&mut self, kw: Keyword, what: &str) -> PResult<Span> {
        match self.eat_kw(kw) {
            Some(span) => Ok(span),
            None => Err(self.expected(what, &[kw])),
        }
    }

    fn expect(&mut self, kind: &TokenKind, what: &str) -> PResult<Span> {
        match self.eat(kind) {
            Some(span) => Ok(span),
            None => Err(self.expected(what, &[])),
        }
    }

    // ---- clauses --------------------------------------------------------------------------

    fn query(&mut self) -> PResult<Query> {
        let start = self.peek().span;
        if self.at(&TokenKind::Eof) {
            return Err(QueryError::new("empty query (expected SELECT)", start));
        }
        self.expect_kw(Keyword::Select, "SELECT")?;
        let top = match self.eat_kw(Keyword::Top) {
            Some(_) => Some(self.top()?),
            None => None,
        };
        let select = self.select_list()?;
        self.expect_kw(Keyword::From, "FROM")?;
        let from = self.collection()?;

        let filter = match self.eat_kw(Keyword::Where) {
            Some(_) => {
                if !self.starts_expr() {
                    return Err(self.expected("a condition after WHERE", &[]));
                }
                self.aggregates = Aggregates::Forbidden("WHERE");
                let cond = self.expr()?;
                self.aggregates = Aggregates::Allowed;
                Some(cond.expr)
            }
            None => None,
        };

        let mut group_by = Vec::new();
        if self.eat_kw(Keyword::Group).is_some() {
            self.expect_kw(Keyword::By, "BY after GROUP")?;
            loop {
                group_by.push(self.group_key()?);
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
        }

        let mut order_by = Vec::new();
        if self.eat_kw(Keyword::Order).is_some() {
            self.expect_kw(Keyword::By, "BY after ORDER")?;
            loop {
                order_by.push(self.order_item()?);
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
        }

        self.eat(&TokenKind::Semicolon);
        if !self.at(&TokenKind::Eof) {
            return Err(self.trailing());
        }
        Ok(Query {
            top,
            select,
            from,
            filter,
            group_by,
            order_by,
            span: self.span_from(start),
        })
    }

    fn trailing(&self) -> QueryError {
        let tok = self.peek();
        let mut message = format!("unexpected {} after end of query", self.describe(tok));
        match &tok.kind {
            TokenKind::Ident(word) => {
                // What could have continued the query, had it been spelled right.
                let next = [
                    Keyword::Where,
                    Keyword::Group,
                    Keyword::Order,
                    Keyword::And,
                    Keyword::Or,
                    Keyword::Desc,
                    Keyword::Asc,
                ];
                if let Some(s) = suggest(word, next.iter().map(|k| k.as_str())) {
                    message.push_str(&format!(" (did you mean {s}?)"));
                }
            }
            TokenKind::Keyword(
                Keyword::Select
                | Keyword::Top
                | Keyword::From
                | Keyword::Where
                | Keyword::Group
                | Keyword::Order,
            ) => message.push_str(
                " (clauses come in the order SELECT TOP, FROM, WHERE, GROUP BY, ORDER BY)",
            ),
            _ => {}
        }
        self.error_here(message)
    }

    fn top(&mut self) -> PResult<Top> {
        let tok = self.peek().clone();
        let text = self.text(tok.span);
        let bad = |span: Span, shown: &str| {
            QueryError::new(
                format!(
                    "TOP takes a non-negative integer, found '{}'",
                    snippet(shown)
                ),
                span,
            )
        };
        let n = match tok.kind {
            TokenKind::Number(_) => {
                let parsed = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X"))
                {
                    u64::from_str_radix(hex, 16)
                } else if text.bytes().all(|b| b.is_ascii_digit()) {
                    text.parse::<u64>()
                } else {
                    return Err(bad(tok.span, text));
                };
                parsed.map_err(|_| {
                    QueryError::new(
                        format!("TOP {text} is too large (limit {})", u64::MAX),
                        tok.span,
                    )
                })?
            }
            TokenKind::Minus => {
                let span = match self.nth(1).kind {
                    TokenKind::Number(_) => tok.span.to(self.nth(1).span),
                    _ => tok.span,
                };
                return Err(bad(span, self.text(span)));
            }
            _ => return Err(self.expected("a number after TOP", &[])),
        };
        self.bump();
        Ok(Top { n, span: tok.span })
    }

    fn select_list(&mut self) -> PResult<SelectList> {
        if let Some(span) = self.eat(&TokenKind::Star) {
            return Ok(SelectList::Star(span));
        }
        if !self.starts_expr() {
            return Err(self.expected("* or a select list", &[]));
        }
        let mut items = Vec::new();
        loop {
            let expr = self.expr()?.expr;
            let alias = match self.eat_kw(Keyword::As) {
                Some(_) => Some(self.alias()?),
                None => None,
            };
            let span = self.span_from(expr.span);
            items.push(SelectItem { expr, alias, span });
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(SelectList::Items(items));
            }
        }
    }

    fn alias(&mut self) -> PResult<Ident> {
        let tok = self.peek().clone();
        match tok.kind {
            TokenKind::Ident(name) | TokenKind::QuotedName(name) => {
                self.bump();
                Ok(Ident {
                    name,
                    span: tok.span,
                })
            }
            TokenKind::Keyword(_) => {
                let word = self.text(tok.span);
                Err(self.error_here(format!(
                    "expected a name after AS, found keyword '{word}' (write [[{word}]] to use it as a name)"
                )))
            }
            _ => Err(self.expected("a name after AS", &[])),
        }
    }

    fn collection(&mut self) -> PResult<From> {
        let first = self.peek().clone();
        let TokenKind::Ident(name) = first.kind else {
            return Err(self.expected("devices or devices.modules after FROM", &[]));
        };
        self.bump();
        let mut written = name.clone();
        let mut member = None;
        if self.eat(&TokenKind::Dot).is_some() {
            let tok = self.peek().clone();
            match tok.kind {
                TokenKind::Ident(m) => {
                    self.bump();
                    written = format!("{written}.{m}");
                    member = Some(m);
                }
                _ => return Err(self.expected("a collection name after '.'", &[])),
            }
        }
        let span = self.span_from(first.span);
        let is_devices = name.eq_ignore_ascii_case("devices");
        let collection = match member.as_deref() {
            None if is_devices => Collection::Devices,
            Some(m) if is_devices && m.eq_ignore_ascii_case("modules") => Collection::Modules,
            Some(m) if is_devices && m.eq_ignore_ascii_case("jobs") => {
                return Err(QueryError::new(
                    "devices.jobs is out of scope: jobs are not in device exports (query devices or devices.modules)",
                    span,
                ))
            }
            _ => {
                let hint = match suggest(&written, ["devices", "devices.modules"]) {
                    Some(s) => format!("did you mean {s}?"),
                    None => "expected devices or devices.modules".to_string(),
                };
                return Err(QueryError::new(
                    format!("unknown collection '{}' ({hint})", snippet(&written)),
                    span,
                ));
            }
        };
        Ok(From { collection, span })
    }

    fn group_key(&mut self) -> PResult<Path> {
        if !self.starts_expr() {
            return Err(self.expected("a path to group by", &[]));
        }
        self.aggregates = Aggregates::Forbidden("GROUP BY");
        let key = self.expr()?.expr;
        self.aggregates = Aggregates::Allowed;
        match key.kind {
            ExprKind::Path(path) => Ok(path),
            _ => Err(QueryError::new(
                format!(
                    "GROUP BY takes paths, found '{}'",
                    snippet(self.text(key.span))
                ),
                key.span,
            )),
        }
    }

    fn order_item(&mut self) -> PResult<OrderItem> {
        if !self.starts_expr() {
            return Err(self.expected("an expression to order by", &[]));
        }
        let expr = self.expr()?.expr;
        let descending = if self.eat_kw(Keyword::Desc).is_some() {
            true
        } else {
            self.eat_kw(Keyword::Asc);
            false
        };
        let span = self.span_from(expr.span);
        Ok(OrderItem {
            expr,
            descending,
            span,
        })
    }

    // ---- expressions ----------------------------------------------------------------------

    fn starts_expr(&self) -> bool {
        matches!(
            self.peek().kind,
            TokenKind::Ident(_)
                | TokenKind::QuotedName(_)
                | TokenKind::Str(_)
                | TokenKind::Number(_)
                | TokenKind::LParen
                | TokenKind::LBracket
                | TokenKind::Minus
                | TokenKind::Keyword(
                    Keyword::Not
                        | Keyword::True
                        | Keyword::False
                        | Keyword::Null
                        | Keyword::Undefined
                )
        )
    }

    fn expr(&mut self) -> PResult<Node> {
        self.expr_at(0)
    }

    /// Parses an expression whose operators all bind at least as tightly as `min`.
    fn expr_at(&mut self, min: u8) -> PResult<Node> {
        if self.depth >= MAX_DEPTH {
            return Err(QueryError::new(
                format!("query nests too deeply (limit {MAX_DEPTH})"),
                self.peek().span,
            ));
        }
        self.depth += 1;
        let result = self.expr_at_inner(min);
        self.depth -= 1;
        result
    }

    fn expr_at_inner(&mut self, min: u8) -> PResult<Node> {
        let mut left = self.prefix(min)?;
        while let Some((infix, lvl)) = self.infix() {
            if lvl < min {
                break;
            }
            let op_span = self.peek().span;
            left = match infix {
                Infix::Binary(op) => {
                    self.bump();
                    // Left-associative: the right operand may hold only tighter operators.
                    let right = self.expr_at(lvl + 1)?;
                    let span = left.expr.span.to(right.expr.span);
                    let kind = ExprKind::Binary {
                        op,
                        left: Box::new(left.expr),
                        right: Box::new(right.expr),
                    };
                    self.node(kind, span, op_span, left.height.max(right.height))?
                }
                Infix::In { negated, tokens } => {
                    for _ in 0..tokens {
                        self.bump();
                    }
                    let (list, height) = self.in_list()?;
                    let span = self.span_from(left.expr.span);
                    let kind = ExprKind::In {
                        operand: Box::new(left.expr),
                        list,
                        negated,
                    };
                    self.node(kind, span, op_span, left.height.max(height))?
                }
            };
        }
        Ok(left)
    }

    /// Builds a node over children whose tallest is `child_height` high.
    fn node(&self, kind: ExprKind, span: Span, at: Span, child_height: usize) -> PResult<Node> {
        let height = child_height + 1;
        if height > MAX_EXPR_HEIGHT {
            return Err(QueryError::new(
                format!(
                    "expression is too deep (limit {MAX_EXPR_HEIGHT} nested operators; a long OR chain can be written as IN [...])"
                ),
                at,
            ));
        }
        Ok(Node {
            expr: Expr { kind, span },
            height,
        })
    }

    fn infix(&self) -> Option<(Infix, u8)> {
        let bin = |op| Some((Infix::Binary(op), binary_level(op)));
        match &self.peek().kind {
            TokenKind::Keyword(Keyword::Or) => bin(BinaryOp::Or),
            TokenKind::Keyword(Keyword::And) => bin(BinaryOp::And),
            TokenKind::Eq => bin(BinaryOp::Eq),
            TokenKind::NotEq => bin(BinaryOp::NotEq),
            TokenKind::Lt => bin(BinaryOp::Lt),
            TokenKind::LtEq => bin(BinaryOp::LtEq),
            TokenKind::Gt => bin(BinaryOp::Gt),
            TokenKind::GtEq => bin(BinaryOp::GtEq),
            TokenKind::Plus => bin(BinaryOp::Add),
            TokenKind::Minus => bin(BinaryOp::Sub),
            TokenKind::Star => bin(BinaryOp::Mul),
            TokenKind::Slash => bin(BinaryOp::Div),
            TokenKind::Percent => bin(BinaryOp::Mod),
            TokenKind::Keyword(Keyword::In) => Some((
                Infix::In {
                    negated: false,
                    tokens: 1,
                },
                level::CMP,
            )),
            TokenKind::Keyword(Keyword::Nin) => Some((
                Infix::In {
                    negated: true,
                    tokens: 1,
                },
                level::CMP,
            )),
            TokenKind::Keyword(Keyword::Not)
                if self.nth(1).kind == TokenKind::Keyword(Keyword::In) =>
            {
                Some((
                    Infix::In {
                        negated: true,
                        tokens: 2,
                    },
                    level::CMP,
                ))
            }
            _ => None,
        }
    }

    fn prefix(&mut self, min: u8) -> PResult<Node> {
        let tok = self.peek().clone();
        match tok.kind {
            TokenKind::Keyword(Keyword::Not) => {
                // `a = NOT b` would read as `a = (NOT b)` to some and as an error to others.
                if min > level::NOT {
                    return Err(self.error_here(
                        "NOT cannot appear here without parentheses: write (NOT ...)".to_string(),
                    ));
                }
                self.bump();
                let operand = self.expr_at(level::NOT)?;
                self.unary(UnaryOp::Not, tok.span, operand)
            }
            TokenKind::Minus => {
                self.bump();
                // `-5` is one constant, so that IN lists, arrays and the printer agree on it.
                if let TokenKind::Number(n) = self.peek().kind {
                    let num = self.bump();
                    return Ok(Node {
                        expr: Expr {
                            kind: ExprKind::Literal(Literal::Number(-n)),
                            span: tok.span.to(num.span),
                        },
                        height: 1,
                    });
                }
                let operand = self.expr_at(level::NEG)?;
                self.unary(UnaryOp::Neg, tok.span, operand)
            }
            _ => self.atom(),
        }
    }

    fn unary(&self, op: UnaryOp, op_span: Span, operand: Node) -> PResult<Node> {
        let span = op_span.to(operand.expr.span);
        let kind = ExprKind::Unary {
            op,
            operand: Box::new(operand.expr),
        };
        self.node(kind, span, op_span, operand.height)
    }

    fn atom(&mut self) -> PResult<Node> {
        let tok = self.peek().clone();
        let literal = |lit| {
            Ok(Node {
                expr: Expr {
                    kind: ExprKind::Literal(lit),
                    span: tok.span,
                },
                height: 1,
            })
        };
        match tok.kind {
            TokenKind::Number(n) => {
                self.bump();
                literal(Literal::Number(n))
            }
            TokenKind::Str(ref s) => {
                self.bump();
                literal(Literal::String(s.clone()))
            }
            TokenKind::Keyword(Keyword::True) => {
                self.bump();
                literal(Literal::Bool(true))
            }
            TokenKind::Keyword(Keyword::False) => {
                self.bump();
                literal(Literal::Bool(false))
            }
            TokenKind::Keyword(Keyword::Null) => {
                self.bump();
                literal(Literal::Null)
            }
            TokenKind::Keyword(Keyword::Undefined) => {
                self.bump();
                literal(Literal::Undefined)
            }
            TokenKind::LParen => {
                self.bump();
                let inner = self.expr()?;
                if self.eat(&TokenKind::RParen).is_none() {
                    return Err(self.expected("')' to close the '(' before it", &[]));
                }
                Ok(Node {
                    expr: Expr {
                        kind: inner.expr.kind,
                        span: self.span_from(tok.span),
                    },
                    height: inner.height,
                })
            }
            TokenKind::LBracket => self.array_literal(),
            TokenKind::Ident(ref name) if self.nth(1).kind == TokenKind::LParen => {
                let name = name.clone();
                self.call(&name, tok.span)
            }
            TokenKind::Ident(ref name) | TokenKind::QuotedName(ref name) => {
                let name = name.clone();
                self.bump();
                self.path(name, tok.span)
            }
            TokenKind::Keyword(kw) => {
                let word = self.text(tok.span);
                // Where a clause or an operator stands, the operand is missing; other
                // keywords are more likely names someone wanted (`by`, `desc`, `top`).
                let message = match kw {
                    Keyword::Select
                    | Keyword::From
                    | Keyword::Where
                    | Keyword::And
                    | Keyword::Or
                    | Keyword::In
                    | Keyword::Nin => {
                        format!("expected an expression, found '{word}'")
                    }
                    _ => format!(
                        "expected an expression, found keyword '{word}' (write [[{word}]] to use it as a name)"
                    ),
                };
                Err(self.error_here(message))
            }
            _ => Err(self.expected("an expression", &[])),
        }
    }

    /// The rest of a path whose first name (already consumed) is `first`.
    fn path(&mut self, first: String, first_span: Span) -> PResult<Node> {
        let mut segments = vec![Segment::Name(first)];
        loop {
            if self.eat(&TokenKind::Dot).is_some() {
                let tok = self.peek().clone();
                let name = match tok.kind {
                    TokenKind::Ident(name) | TokenKind::QuotedName(name) => name,
                    // After a dot a keyword is an ordinary name: `tags.group`, `tags.order`.
                    TokenKind::Keyword(_) => self.text(tok.span).to_string(),
                    _ => return Err(self.expected("a name after '.'", &[])),
                };
                self.bump();
                segments.push(Segment::Name(name));
            } else if self.at(&TokenKind::LBracket) {
                self.bump();
                segments.push(Segment::Index(self.index()?));
                self.expect(&TokenKind::RBracket, "']' after the array index")?;
            } else {
                break;
            }
        }
        let span = self.span_from(first_span);
        if self.at(&TokenKind::LParen) {
            return Err(QueryError::new(
                format!(
                    "'{}' cannot be called: only plain function names can",
                    snippet(self.text(span))
                ),
                span,
            ));
        }
        Ok(Node {
            expr: Expr {
                kind: ExprKind::Path(Path { segments, span }),
                span,
            },
            height: 1,
        })
    }

    fn index(&mut self) -> PResult<u32> {
        let tok = self.peek().clone();
        let text = self.text(tok.span);
        let parsed = match tok.kind {
            TokenKind::Number(_) if text.bytes().all(|b| b.is_ascii_digit()) => text.parse::<u32>(),
            TokenKind::Number(_) | TokenKind::Minus => {
                let span = match (&tok.kind, &self.nth(1).kind) {
                    (TokenKind::Minus, TokenKind::Number(_)) => tok.span.to(self.nth(1).span),
                    _ => tok.span,
                };
                return Err(QueryError::new(
                    format!(
                        "an array index must be a non-negative integer, found '{}'",
                        snippet(self.text(span))
                    ),
                    span,
                ));
            }
            _ => return Err(self.expected("an array index", &[])),
        };
        let index = parsed.map_err(|_| {
            QueryError::new(
                format!("array index {text} is too large (limit {})", u32::MAX),
                tok.span,
            )
        })?;
        self.bump();
        Ok(index)
    }

    /// `[e, ...]`: the elements, and the height of the tallest.
    fn bracket_list(&mut self, what: &str) -> PResult<(Vec<Expr>, usize)> {
        self.expect(&TokenKind::LBracket, what)?;
        let mut items = Vec::new();
        let mut height = 0;
        if self.eat(&TokenKind::RBracket).is_some() {
            return Ok((items, height));
        }
        loop {
            let item = self.expr()?;
            height = height.max(item.height);
            items.push(item.expr);
            if self.eat(&TokenKind::Comma).is_some() {
                continue;
            }
            if self.eat(&TokenKind::RBracket).is_some() {
                return Ok((items, height));
            }
            return Err(self.expected("',' or ']' in the list", &[]));
        }
    }

    fn in_list(&mut self) -> PResult<(Vec<Expr>, usize)> {
        let (list, height) = self.bracket_list("a list after IN, as in IN ['a', 'b']")?;
        if let Some(bad) = list.iter().find(|e| constant(e).is_none()) {
            return Err(QueryError::new(
                format!(
                    "IN lists hold constants only; '{}' is not a constant",
                    snippet(self.text(bad.span))
                ),
                bad.span,
            ));
        }
        Ok((list, height))
    }

    fn array_literal(&mut self) -> PResult<Node> {
        let start = self.peek().span;
        // Nested arrays count against the depth budget like parentheses do.
        if self.depth >= MAX_DEPTH {
            return Err(QueryError::new(
                format!("query nests too deeply (limit {MAX_DEPTH})"),
                start,
            ));
        }
        self.depth += 1;
        let items = self.bracket_list("'['");
        self.depth -= 1;
        let (items, height) = items?;
        let mut values = Vec::with_capacity(items.len());
        for item in &items {
            match constant(item) {
                Some(v) => values.push(v),
                None => {
                    return Err(QueryError::new(
                        format!(
                            "array literals hold constants only; '{}' is not a constant",
                            snippet(self.text(item.span))
                        ),
                        item.span,
                    ))
                }
            }
        }
        Ok(Node {
            expr: Expr {
                kind: ExprKind::Literal(Literal::Array(values)),
                span: self.span_from(start),
            },
            height: height + 1,
        })
    }

    fn call(&mut self, name: &str, name_span: Span) -> PResult<Node> {
        if let Some(func) = AggregateFunc::from_name(name) {
            return self.aggregate(func, name_span);
        }
        let Some(func) = Function::from_name(name) else {
            let candidates = Function::ALL
                .iter()
                .map(|f| f.name())
                .chain(["STARTS_WITH", "ENDS_WITH"])
                .chain(AggregateFunc::ALL.iter().map(|a| a.name()));
            let hint = match suggest(name, candidates) {
                Some(s) => format!(" (did you mean {s}?)"),
                None => String::new(),
            };
            return Err(QueryError::new(
                format!("unknown function '{}'{hint}", snippet(name)),
                name_span,
            ));
        };
        self.bump(); // name
        self.bump(); // (
        let (args, height) = self.arguments(func.name())?;
        let span = self.span_from(name_span);
        let (lo, hi) = func.arity();
        if args.len() < lo || args.len() > hi {
            let expected = match (lo, hi) {
                (1, 1) => "1 argument".to_string(),
                _ if lo == hi => format!("{lo} arguments"),
                (_, usize::MAX) => format!("at least {lo} arguments"),
                _ => format!("{lo} or {hi} arguments"),
            };
            return Err(QueryError::new(
                format!("{} takes {expected}, got {}", func.name(), args.len()),
                span,
            ));
        }
        self.node(ExprKind::Call { func, args }, span, name_span, height)
    }

    fn aggregate(&mut self, func: AggregateFunc, name_span: Span) -> PResult<Node> {
        match self.aggregates {
            Aggregates::Allowed => {}
            Aggregates::Inside(outer) => {
                return Err(QueryError::new(
                    format!(
                        "aggregate functions cannot be nested ({} inside {})",
                        func.name(),
                        outer.name()
                    ),
                    name_span,
                ))
            }
            Aggregates::Forbidden(clause) => {
                return Err(QueryError::new(
                    format!("aggregate functions are not allowed in {clause}"),
                    name_span,
                ))
            }
        }
        self.bump(); // name
        self.bump(); // (
        let (mut args, height) = if func == AggregateFunc::Count
            && self.at(&TokenKind::Star)
            && self.nth(1).kind == TokenKind::RParen
        {
            // `COUNT(*)` is what SQL hands write; it means `COUNT()`.
            self.bump();
            self.bump();
            (Vec::new(), 0)
        } else {
            let saved = self.aggregates;
            self.aggregates = Aggregates::Inside(func);
            let args = self.arguments(func.name());
            self.aggregates = saved;
            args?
        };
        let span = self.span_from(name_span);
        let arity_ok = match func {
            AggregateFunc::Count => args.len() <= 1,
            _ => args.len() == 1,
        };
        if !arity_ok {
            let expected = match func {
                AggregateFunc::Count => "0 or 1 arguments",
                _ => "1 argument",
            };
            return Err(QueryError::new(
                format!("{} takes {expected}, got {}", func.name(), args.len()),
                span,
            ));
        }
        let arg = args.pop().map(Box::new);
        self.node(ExprKind::Aggregate { func, arg }, span, name_span, height)
    }

    /// The arguments after `(`, through `)`; with the height of the tallest.
    fn arguments(&mut self, func: &str) -> PResult<(Vec<Expr>, usize)> {
        let mut args = Vec::new();
        let mut height = 0;
        if self.eat(&TokenKind::RParen).is_some() {
            return Ok((args, height));
        }
        loop {
            if !self.starts_expr() {
                return Err(self.expected(&format!("an argument to {func}"), &[]));
            }
            let arg = self.expr()?;
            height = height.max(arg.height);
            args.push(arg.expr);
            if self.eat(&TokenKind::Comma).is_some() {
                continue;
            }
            if self.eat(&TokenKind::RParen).is_some() {
                return Ok((args, height));
            }
            return Err(self.expected(&format!("',' or ')' after an argument to {func}"), &[]));
        }
    }
}

/// The value of a constant expression: a literal, or a negated number (`-(5)`).
fn constant(e: &Expr) -> Option<Literal> {
    match &e.kind {
        ExprKind::Literal(lit) => Some(lit.clone()),
        ExprKind::Unary {
            op: UnaryOp::Neg,
            operand,
        } => match constant(operand)? {
            Literal::Number(n) => Some(Literal::Number(-n)),
            _ => None,
        },
        _ => None,
    }
}

/// Source text for a message: cut short so that a huge token does not flood the terminal,
/// and with control characters escaped so that it stays on the message's line.
fn snippet(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == MAX_CHARS {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The candidate closest to `word` ignoring ASCII case, if it is close enough to be a typo.
fn suggest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let word: Vec<char> = word.chars().map(|c| c.to_ascii_uppercase()).collect();
    // Short words are one edit from too many things for a suggestion to help.
    let limit = match word.len() {
        0..=2 => return None,
        3..=4 => 1,
        5..=40 => 2,
        _ => return None,
    };
    candidates
        .into_iter()
        .map(|c| {
            let upper: Vec<char> = c.chars().map(|ch| ch.to_ascii_uppercase()).collect();
            (edit_distance(&word, &upper), c)
        })
        .filter(|&(d, _)| d > 0 && d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Optimal-string-alignment distance: Levenshtein plus transposition of neighbours
/// (`FORM` is one edit from `FROM`).
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        edit_distance(&a, &b)
    }

    #[test]
    fn edit_distance_counts_transpositions_once() {
        assert_eq!(dist("FORM", "FROM"), 1);
        assert_eq!(dist("STARTWITH", "STARTSWITH"), 1);
        assert_eq!(dist("", "ABC"), 3);
        assert_eq!(dist("KITTEN", "SITTING"), 3);
    }

    #[test]
    fn suggestions_need_a_close_enough_word() {
        assert_eq!(suggest("form", ["FROM", "WHERE"]), Some("FROM"));
        assert_eq!(suggest("wehre", ["FROM", "WHERE"]), Some("WHERE"));
        assert_eq!(suggest("xyz", ["FROM", "WHERE"]), None);
        assert_eq!(suggest("FROM", ["FROM"]), None);
    }

    fn depth_error(query: &str) -> QueryError {
        parse_any_length(query).expect_err("should hit the depth budget")
    }

    // These inputs are longer than MAX_QUERY_LEN, so only the inner parser sees them; the
    // point is that no amount of nesting reaches the end of the stack.
    #[test]
    fn hundred_thousand_parens_hit_the_depth_budget() {
        let q = format!("SELECT * FROM devices WHERE {}", "(".repeat(100_000));
        assert_eq!(
            depth_error(&q).message,
            "query nests too deeply (limit 128)"
        );
    }

    #[test]
    fn hundred_thousand_nots_hit_the_depth_budget() {
        let q = format!("SELECT * FROM devices WHERE {}x", "NOT ".repeat(100_000));
        assert_eq!(
            depth_error(&q).message,
            "query nests too deeply (limit 128)"
        );
    }

    #[test]
    fn hundred_thousand_minuses_hit_the_depth_budget() {
        let q = format!("SELECT {}x FROM devices", "- ".repeat(100_000));
        assert_eq!(
            depth_error(&q).message,
            "query nests too deeply (limit 128)"
        );
    }

    #[test]
    fn hundred_thousand_calls_and_arrays_hit_the_depth_budget() {
        let q = format!("SELECT {}x FROM devices", "LOWER(".repeat(100_000));
        assert_eq!(
            depth_error(&q).message,
            "query nests too deeply (limit 128)"
        );
        let q = format!("SELECT * FROM devices WHERE x IN {}", "[".repeat(100_000));
        assert_eq!(
            depth_error(&q).message,
            "query nests too deeply (limit 128)"
        );
    }

    #[test]
    fn long_operator_chains_hit_the_height_budget() {
        let q = format!("SELECT * FROM devices WHERE x{}", " OR x".repeat(100_000));
        let e = parse_any_length(&q).expect_err("should hit the height budget");
        assert!(
            e.message.starts_with("expression is too deep (limit 512"),
            "{e:?}"
        );
        let q = format!("SELECT * FROM devices WHERE x{}", " OR x".repeat(500));
        assert!(parse_any_length(&q).is_ok());
    }
}
