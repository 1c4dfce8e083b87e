//! Tokens with byte spans.
//!
//! The lexer is context-free but for one point. `[[` opens a quoted name that runs to the next
//! `]]` (SPEC §4.10), yet two `[` in a row can also open nested array literals. Arrays hold
//! constants only, so a name can never start inside one: within brackets, and right after
//! `IN`/`NIN` (where a list must follow), `[[` is two `[`.
//!
//! Lexing stops at the first bad character; the tokens before it are kept and an
//! [`TokenKind::Invalid`] token marks the spot, so that the parser can report a syntax error
//! that comes earlier in the text first.

use super::ast::Span;
use super::error::QueryError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    Select,
    Top,
    From,
    Where,
    Group,
    By,
    Order,
    Asc,
    Desc,
    As,
    And,
    Or,
    Not,
    In,
    Nin,
    True,
    False,
    Null,
    Undefined,
}

impl Keyword {
    const ALL: &'static [Keyword] = &[
        Keyword::Select,
        Keyword::Top,
        Keyword::From,
        Keyword::Where,
        Keyword::Group,
        Keyword::By,
        Keyword::Order,
        Keyword::Asc,
        Keyword::Desc,
        Keyword::As,
        Keyword::And,
        Keyword::Or,
        Keyword::Not,
        Keyword::In,
        Keyword::Nin,
        Keyword::True,
        Keyword::False,
        Keyword::Null,
        Keyword::Undefined,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Keyword::Select => "SELECT",
            Keyword::Top => "TOP",
            Keyword::From => "FROM",
            Keyword::Where => "WHERE",
            Keyword::Group => "GROUP",
            Keyword::By => "BY",
            Keyword::Order => "ORDER",
            Keyword::Asc => "ASC",
            Keyword::Desc => "DESC",
            Keyword::As => "AS",
            Keyword::And => "AND",
            Keyword::Or => "OR",
            Keyword::Not => "NOT",
            Keyword::In => "IN",
            Keyword::Nin => "NIN",
            Keyword::True => "TRUE",
            Keyword::False => "FALSE",
            Keyword::Null => "NULL",
            Keyword::Undefined => "UNDEFINED",
        }
    }

    /// Keywords are matched ignoring ASCII case only, like function names in `ast`.
    pub(crate) fn from_word(word: &str) -> Option<Keyword> {
        Keyword::ALL
            .iter()
            .copied()
            .find(|k| k.as_str().eq_ignore_ascii_case(word))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    /// A plain identifier (not a keyword).
    Ident(String),
    /// `[[...]]`, holding the text between the brackets.
    QuotedName(String),
    Keyword(Keyword),
    /// A string literal, escapes resolved.
    Str(String),
    Number(f64),
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Comma,
    Dot,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Semicolon,
    /// Where lexing failed; the error comes with the token list.
    Invalid,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// The tokens of a query, always ending in `Eof` (preceded by `Invalid` when `error` is set).
pub(crate) struct Lexed {
    pub tokens: Vec<Token>,
    pub error: Option<QueryError>,
}

pub(crate) fn tokenize(src: &str) -> Lexed {
    let mut lexer = Lexer {
        src,
        pos: 0,
        tokens: Vec::new(),
        bracket_depth: 0,
    };
    let error = lexer.run().err();
    if let Some(e) = &error {
        lexer.tokens.push(Token {
            kind: TokenKind::Invalid,
            span: e.span,
        });
    }
    lexer.tokens.push(Token {
        kind: TokenKind::Eof,
        span: Span::new(src.len(), src.len()),
    });
    Lexed {
        tokens: lexer.tokens,
        error,
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// True when `s` lexes as one identifier or keyword, i.e. can be written without `[[ ]]`.
pub(crate) fn is_plain_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_ident_start) && chars.all(is_ident_continue)
}

pub(crate) fn is_keyword(s: &str) -> bool {
    Keyword::from_word(s).is_some()
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    /// Open single `[` not yet closed; inside them `[[` is not a quoted name.
    bracket_depth: usize,
}

type LexResult<T> = Result<T, QueryError>;

impl Lexer<'_> {
    fn run(&mut self) -> LexResult<()> {
        loop {
            self.skip_whitespace();
            if self.pos >= self.src.len() {
                return Ok(());
            }
            let start = self.pos;
            let kind = self.token()?;
            self.tokens.push(Token {
                kind,
                span: Span::new(start, self.pos),
            });
        }
    }

    fn rest(&self) -> &str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek_char(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_byte_at(&self, offset: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + offset).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(c) = self.peek_char() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn token(&mut self) -> LexResult<TokenKind> {
        let start = self.pos;
        let Some(c) = self.peek_char() else {
            return Ok(TokenKind::Eof);
        };
        let next = self.peek_byte_at(1);
        let (kind, len) = match c {
            '\'' | '"' => return self.string(c),
            '0'..='9' => return self.number(),
            c if is_ident_start(c) => return Ok(self.word()),
            '[' if next == Some(b'[') && self.quoted_name_allowed() => return self.quoted_name(),
            '[' => {
                self.bracket_depth += 1;
                (TokenKind::LBracket, 1)
            }
            ']' => {
                self.bracket_depth = self.bracket_depth.saturating_sub(1);
                (TokenKind::RBracket, 1)
            }
            '=' if next == Some(b'=') => {
                return Err(self.error_at("'==' is not an operator (use '=')", start, 2));
            }
            '=' => (TokenKind::Eq, 1),
            '!' if next == Some(b'=') => (TokenKind::NotEq, 2),
            '!' => {
                return Err(self.error_at(
                    "unexpected '!' (use NOT, or != for inequality)",
                    start,
                    1,
                ))
            }
            '<' if next == Some(b'=') => (TokenKind::LtEq, 2),
            '<' if next == Some(b'>') => (TokenKind::NotEq, 2),
            '<' => (TokenKind::Lt, 1),
            '>' if next == Some(b'=') => (TokenKind::GtEq, 2),
            '>' => (TokenKind::Gt, 1),
            '+' => (TokenKind::Plus, 1),
            '-' => (TokenKind::Minus, 1),
            '*' => (TokenKind::Star, 1),
            '/' => (TokenKind::Slash, 1),
            '%' => (TokenKind::Percent, 1),
            ',' => (TokenKind::Comma, 1),
            '.' => (TokenKind::Dot, 1),
            '(' => (TokenKind::LParen, 1),
            ')' => (TokenKind::RParen, 1),
            ';' => (TokenKind::Semicolon, 1),
            '&' => return Err(self.error_at("unexpected '&' (use AND)", start, 1)),
            '|' => return Err(self.error_at("unexpected '|' (use OR)", start, 1)),
            other => {
                return Err(self.error_at(
                    format!("unexpected character {other:?}"),
                    start,
                    other.len_utf8(),
                ))
            }
        };
        self.pos += len;
        Ok(kind)
    }

    fn error_at(&self, message: impl Into<String>, start: usize, len: usize) -> QueryError {
        QueryError::new(message, Span::new(start, start + len))
    }

    fn quoted_name_allowed(&self) -> bool {
        let after_in = matches!(
            self.tokens.last().map(|t| &t.kind),
            Some(TokenKind::Keyword(Keyword::In | Keyword::Nin))
        );
        self.bracket_depth == 0 && !after_in
    }

    fn word(&mut self) -> TokenKind {
        let start = self.pos;
        while let Some(c) = self.peek_char() {
            if !is_ident_continue(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        let word = &self.src[start..self.pos];
        match Keyword::from_word(word) {
            Some(k) => TokenKind::Keyword(k),
            None => TokenKind::Ident(word.to_string()),
        }
    }

    fn quoted_name(&mut self) -> LexResult<TokenKind> {
        let start = self.pos;
        let body = start + 2;
        match self.src.get(body..).and_then(|s| s.find("]]")) {
            Some(len) => {
                self.pos = body + len + 2;
                Ok(TokenKind::QuotedName(
                    self.src[body..body + len].to_string(),
                ))
            }
            None => Err(QueryError::new(
                "unterminated [[ name (missing ]])",
                Span::new(start, self.src.len()),
            )),
        }
    }

    fn string(&mut self, quote: char) -> LexResult<TokenKind> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek_char() else {
                return Err(QueryError::new(
                    "unterminated string (missing closing quote)",
                    Span::new(start, self.src.len()),
                ));
            };
            self.pos += c.len_utf8();
            if c == quote {
                return Ok(TokenKind::Str(out));
            }
            if c == '\\' {
                out.push(self.escape(start)?);
            } else {
                out.push(c);
            }
        }
    }

    /// Reads the escape after a backslash (already consumed).
    fn escape(&mut self, string_start: usize) -> LexResult<char> {
        let esc_start = self.pos - 1;
        let Some(c) = self.peek_char() else {
            return Err(QueryError::new(
                "unterminated string (missing closing quote)",
                Span::new(string_start, self.src.len()),
            ));
        };
        self.pos += c.len_utf8();
        Ok(match c {
            '\'' | '"' | '\\' | '/' => c,
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => return self.unicode_escape(esc_start),
            _ => {
                return Err(QueryError::new(
                    format!("invalid escape '\\{c}' in string"),
                    Span::new(esc_start, self.pos),
                ))
            }
        })
    }

    /// `\uXXXX`, where a UTF-16 high surrogate must be followed by `\uXXXX` with the low one.
    fn unicode_escape(&mut self, esc_start: usize) -> LexResult<char> {
        let unit = self.hex4(esc_start)?;
        let code = match unit {
            0xD800..=0xDBFF => {
                let unpaired = |this: &Self| {
                    QueryError::new(
                        "unpaired surrogate in \\u escape",
                        Span::new(esc_start, this.pos),
                    )
                };
                if !self.rest().starts_with("\\u") {
                    return Err(unpaired(self));
                }
                let second = self.pos;
                self.pos += 2;
                let low = self.hex4(second)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(unpaired(self));
                }
                0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
            }
            0xDC00..=0xDFFF => {
                return Err(QueryError::new(
                    "unpaired surrogate in \\u escape",
                    Span::new(esc_start, self.pos),
                ))
            }
            _ => u32::from(unit),
        };
        char::from_u32(code)
            .ok_or_else(|| QueryError::new("invalid \\u escape", Span::new(esc_start, self.pos)))
    }

    fn hex4(&mut self, esc_start: usize) -> LexResult<u16> {
        let digits = self.rest().as_bytes().get(..4);
        let value = digits.and_then(|d| {
            d.iter().try_fold(0u16, |acc, &b| {
                let digit = char::from(b).to_digit(16)?;
                Some(acc << 4 | digit as u16)
            })
        });
        match value {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            _ => Err(QueryError::new(
                "invalid \\u escape (expected 4 hex digits)",
                Span::new(esc_start, self.pos),
            )),
        }
    }

    fn number(&mut self) -> LexResult<TokenKind> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let digits_from = |mut i: usize, hex: bool| {
            while i < bytes.len()
                && (bytes[i].is_ascii_digit() || (hex && bytes[i].is_ascii_hexdigit()))
            {
                i += 1;
            }
            i
        };
        let hex = matches!(bytes.get(start..start + 2), Some(b"0x" | b"0X"));
        let mut end;
        if hex {
            end = digits_from(start + 2, true);
        } else {
            end = digits_from(start, false);
            // `1.` followed by a non-digit leaves the dot alone, as in `tags.roles[1].x`.
            if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
                end = digits_from(end + 1, false);
            }
            if matches!(bytes.get(end), Some(b'e' | b'E')) {
                let mut i = end + 1;
                if matches!(bytes.get(i), Some(b'+' | b'-')) {
                    i += 1;
                }
                if bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    end = digits_from(i, false);
                }
            }
        }
        self.pos = end;
        // Letters glued to a number (`12abc`, `0x1g`, `1e`) make it malformed, not two tokens.
        let glued = self.peek_char().is_some_and(is_ident_continue);
        if glued || (hex && end == start + 2) {
            while let Some(c) = self.peek_char() {
                if !is_ident_continue(c) {
                    break;
                }
                self.pos += c.len_utf8();
            }
            return Err(QueryError::new(
                format!("malformed number '{}'", &self.src[start..self.pos]),
                Span::new(start, self.pos),
            ));
        }
        let text = &self.src[start..end];
        let value = if hex {
            hex_value(&text[2..])
        } else {
            // Rust's float parsing is correctly rounded, which the printer relies on.
            text.parse::<f64>().unwrap_or(f64::NAN)
        };
        if value.is_nan() {
            return Err(QueryError::new(
                format!("malformed number '{text}'"),
                Span::new(start, end),
            ));
        }
        Ok(TokenKind::Number(value))
    }
}

fn hex_value(digits: &str) -> f64 {
    if let Ok(v) = u128::from_str_radix(digits, 16) {
        return v as f64;
    }
    // Longer than 32 digits: only leading zeros could make this exact, and rounding is fine.
    digits.chars().fold(0.0, |acc, c| {
        acc * 16.0 + f64::from(c.to_digit(16).unwrap_or(0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        let lexed = tokenize(src);
        assert!(lexed.error.is_none(), "{:?}", lexed.error);
        lexed.tokens.into_iter().map(|t| t.kind).collect()
    }

    fn err(src: &str) -> QueryError {
        tokenize(src).error.expect("expected a lexing error")
    }

    use TokenKind::*;

    #[test]
    fn keywords_ignore_case_and_names_keep_spelling() {
        assert_eq!(
            kinds("select Top FROM $metadata x_1"),
            vec![
                Keyword(super::Keyword::Select),
                Keyword(super::Keyword::Top),
                Keyword(super::Keyword::From),
                Ident("$metadata".into()),
                Ident("x_1".into()),
                Eof
            ]
        );
    }

    #[test]
    fn spans_are_byte_ranges() {
        let lexed = tokenize("a <> 'é'");
        let spans: Vec<_> = lexed.tokens.iter().map(|t| t.span.range()).collect();
        assert_eq!(spans, vec![0..1, 2..4, 5..9, 9..9]);
    }

    #[test]
    fn operators() {
        assert_eq!(
            kinds("= != <> < <= > >= + - * / % , . ( ) [ ] ;"),
            vec![
                Eq, NotEq, NotEq, Lt, LtEq, Gt, GtEq, Plus, Minus, Star, Slash, Percent, Comma,
                Dot, LParen, RParen, LBracket, RBracket, Semicolon, Eof
            ]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(
            kinds("0 42 1.5 2e3 2E-3 1e+2 0x1F 0XfF"),
            vec![
                Number(0.0),
                Number(42.0),
                Number(1.5),
                Number(2000.0),
                Number(0.002),
                Number(100.0),
                Number(31.0),
                Number(255.0),
                Eof
            ]
        );
        // An index followed by a member: the dot is not a decimal point.
        assert_eq!(
            kinds("r[1].x"),
            vec![
                Ident("r".into()),
                LBracket,
                Number(1.0),
                RBracket,
                Dot,
                Ident("x".into()),
                Eof
            ]
        );
        assert_eq!(err("12abc").message, "malformed number '12abc'");
        assert_eq!(err("0x").message, "malformed number '0x'");
        assert_eq!(err("1e").message, "malformed number '1e'");
        // Out-of-range decimals round to infinity, as f64 parsing does; the printer writes them back.
        assert_eq!(kinds("1e400"), vec![Number(f64::INFINITY), Eof]);
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            kinds(r#"'it\'s' "say \"hi\"" '\\\/\b\f\n\r\t' '\u00e9\ud83d\ude00'"#),
            vec![
                Str("it's".into()),
                Str("say \"hi\"".into()),
                Str("\\/\u{8}\u{c}\n\r\t".into()),
                Str("é😀".into()),
                Eof
            ]
        );
        let e = err(r"'a\qb'");
        assert_eq!(e.message, "invalid escape '\\q' in string");
        assert_eq!(e.span.range(), 2..4);
        let e = err("x = 'abc");
        assert_eq!(e.message, "unterminated string (missing closing quote)");
        assert_eq!(e.span.range(), 4..8);
        assert_eq!(err(r"'\ud83d'").message, "unpaired surrogate in \\u escape");
        assert_eq!(err(r"'\ude00'").message, "unpaired surrogate in \\u escape");
        assert_eq!(
            err(r"'\u12'").message,
            "invalid \\u escape (expected 4 hex digits)"
        );
        // A multi-byte character after the backslash must not split a span mid-character.
        assert_eq!(err("'\\é'").span.range(), 1..4);
    }

    #[test]
    fn quoted_names_and_nested_arrays() {
        assert_eq!(
            kinds("tags.[[my-config]].x"),
            vec![
                Ident("tags".into()),
                Dot,
                QuotedName("my-config".into()),
                Dot,
                Ident("x".into()),
                Eof
            ]
        );
        assert_eq!(kinds("[[a ]b]]"), vec![QuotedName("a ]b".into()), Eof]);
        assert_eq!(
            kinds("IN [[1]]"),
            vec![
                Keyword(super::Keyword::In),
                LBracket,
                LBracket,
                Number(1.0),
                RBracket,
                RBracket,
                Eof
            ]
        );
        assert_eq!(
            kinds("[1, [[2]]]"),
            vec![
                LBracket,
                Number(1.0),
                Comma,
                LBracket,
                LBracket,
                Number(2.0),
                RBracket,
                RBracket,
                RBracket,
                Eof
            ]
        );
        let e = err("tags.[[oops");
        assert_eq!(e.message, "unterminated [[ name (missing ]])");
        assert_eq!(e.span.range(), 5..11);
    }

    #[test]
    fn error_leaves_earlier_tokens_and_marks_the_spot() {
        let lexed = tokenize("a # b");
        let kinds: Vec<_> = lexed.tokens.iter().map(|t| t.kind.clone()).collect();
        assert_eq!(kinds, vec![Ident("a".into()), Invalid, Eof]);
        assert_eq!(lexed.error.unwrap().message, "unexpected character '#'");
    }

    #[test]
    fn plain_names() {
        assert!(is_plain_name("deviceId"));
        assert!(is_plain_name("$version"));
        assert!(is_plain_name("é1"));
        assert!(!is_plain_name(""));
        assert!(!is_plain_name("1a"));
        assert!(!is_plain_name("my-config"));
    }
}
