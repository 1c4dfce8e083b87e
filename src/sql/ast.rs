//! The syntax tree of the IoT Hub query language (SPEC §2).
//!
//! Every node carries a byte [`Span`] into the query text, so that later layers (the planner,
//! the executor) can point at the exact place a problem comes from. Names are kept as written;
//! binding them to data (case-insensitively, with collection qualifiers stripped) is the
//! planner's and the evaluators' job, helped by [`Path::unqualified`].

/// A half-open byte range `start..end` into the query text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// `SELECT [TOP n] select_list FROM collection [WHERE ...] [GROUP BY ...] [ORDER BY ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub top: Option<Top>,
    pub select: SelectList,
    pub from: From,
    pub filter: Option<Expr>,
    pub group_by: Vec<Path>,
    pub order_by: Vec<OrderItem>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Top {
    pub n: u64,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectList {
    /// `SELECT *`
    Star(Span),
    /// `SELECT a, b AS c, COUNT() ...` (never empty)
    Items(Vec<SelectItem>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SelectItem {
    pub expr: Expr,
    pub alias: Option<Ident>,
    pub span: Span,
}

/// An identifier as written (without quotes or `[[ ]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collection {
    /// `FROM devices`: device twins only.
    Devices,
    /// `FROM devices.modules`: module twins only.
    Modules,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct From {
    pub collection: Collection,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    pub expr: Expr,
    pub descending: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    Path(Path),
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `expr IN [c1, ...]`, `expr NIN [...]`, `expr NOT IN [...]` (`negated` for the latter two).
    /// The list holds constant expressions (literals, possibly negated numbers).
    In {
        operand: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    /// A scalar function call; the parser has checked the name and the argument count.
    Call {
        func: Function,
        args: Vec<Expr>,
    },
    /// An aggregate: `COUNT()`, `COUNT(p)`, `SUM(p)`, `AVG(p)`, `MIN(p)`, `MAX(p)`.
    /// `arg` is `None` only for `COUNT()`.
    Aggregate {
        func: AggregateFunc,
        arg: Option<Box<Expr>>,
    },
}

/// A constant. Arrays hold constants only.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Literal>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    /// `!=` and `<>` alike.
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// A dotted path such as `tags.location.region`, `configurations.[[my-config]].status` or
/// `tags.roles[0]`, kept as written (qualifiers included).
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub segments: Vec<Segment>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A member name, as written (for `[[x]]`, the `x`).
    Name(String),
    /// An array index `[n]` (extension).
    Index(u32),
}

impl Path {
    /// The segments that address the twin itself: a leading `devices` qualifier (and then
    /// `modules` in a module query) is dropped when more segments follow, and a lone `id`
    /// becomes `deviceId`. Names keep their spelling; matching them to documents is
    /// case-insensitive (SPEC §2.1) and is the caller's business.
    pub fn unqualified(&self, collection: Collection) -> Vec<Segment> {
        let mut segs: &[Segment] = &self.segments;
        if segs.len() > 1 && is_name(&segs[0], "devices") {
            segs = &segs[1..];
            if collection == Collection::Modules && segs.len() > 1 && is_name(&segs[0], "modules") {
                segs = &segs[1..];
            }
        }
        if segs.len() == 1 && is_name(&segs[0], "id") {
            return vec![Segment::Name("deviceId".to_string())];
        }
        segs.to_vec()
    }

    /// The last named segment as written (SPEC §4.9): `tags.roles[0]` gives `roles`.
    pub fn last_name(&self) -> Option<&str> {
        self.segments.iter().rev().find_map(|s| match s {
            Segment::Name(n) => Some(n.as_str()),
            Segment::Index(_) => None,
        })
    }
}

fn is_name(seg: &Segment, name: &str) -> bool {
    matches!(seg, Segment::Name(n) if n.eq_ignore_ascii_case(name))
}

/// Scalar functions (SPEC §2.3). Names are case-insensitive; routing spellings
/// `STARTS_WITH`/`ENDS_WITH` map to `StartsWith`/`EndsWith`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    IsDefined,
    IsArray,
    IsBool,
    IsNull,
    IsNumber,
    IsObject,
    IsPrimitive,
    IsString,
    StartsWith,
    EndsWith,
    Contains,
    Lower,
    Upper,
    Length,
    /// Two or more arguments.
    Concat,
    /// Two or three arguments.
    Substring,
    IndexOf,
    Abs,
    Ceiling,
    Floor,
    Exp,
    Power,
    Sign,
    Sqrt,
    Square,
    AsNumber,
    ArrayContains,
}

impl Function {
    /// Every function, for lookup and suggestions.
    pub const ALL: &'static [Function] = &[
        Function::IsDefined,
        Function::IsArray,
        Function::IsBool,
        Function::IsNull,
        Function::IsNumber,
        Function::IsObject,
        Function::IsPrimitive,
        Function::IsString,
        Function::StartsWith,
        Function::EndsWith,
        Function::Contains,
        Function::Lower,
        Function::Upper,
        Function::Length,
        Function::Concat,
        Function::Substring,
        Function::IndexOf,
        Function::Abs,
        Function::Ceiling,
        Function::Floor,
        Function::Exp,
        Function::Power,
        Function::Sign,
        Function::Sqrt,
        Function::Square,
        Function::AsNumber,
        Function::ArrayContains,
    ];

    /// The canonical (upper-case) name.
    pub fn name(self) -> &'static str {
        match self {
            Function::IsDefined => "IS_DEFINED",
            Function::IsArray => "IS_ARRAY",
            Function::IsBool => "IS_BOOL",
            Function::IsNull => "IS_NULL",
            Function::IsNumber => "IS_NUMBER",
            Function::IsObject => "IS_OBJECT",
            Function::IsPrimitive => "IS_PRIMITIVE",
            Function::IsString => "IS_STRING",
            Function::StartsWith => "STARTSWITH",
            Function::EndsWith => "ENDSWITH",
            Function::Contains => "CONTAINS",
            Function::Lower => "LOWER",
            Function::Upper => "UPPER",
            Function::Length => "LENGTH",
            Function::Concat => "CONCAT",
            Function::Substring => "SUBSTRING",
            Function::IndexOf => "INDEX_OF",
            Function::Abs => "ABS",
            Function::Ceiling => "CEILING",
            Function::Floor => "FLOOR",
            Function::Exp => "EXP",
            Function::Power => "POWER",
            Function::Sign => "SIGN",
            Function::Sqrt => "SQRT",
            Function::Square => "SQUARE",
            Function::AsNumber => "AS_NUMBER",
            Function::ArrayContains => "ARRAY_CONTAINS",
        }
    }

    /// Accepted argument counts, inclusive (`usize::MAX` for "any number").
    pub fn arity(self) -> (usize, usize) {
        match self {
            Function::Concat => (2, usize::MAX),
            Function::Substring => (2, 3),
            Function::StartsWith
            | Function::EndsWith
            | Function::Contains
            | Function::IndexOf
            | Function::Power
            | Function::ArrayContains => (2, 2),
            _ => (1, 1),
        }
    }

    /// Looks a name up case-insensitively, accepting the routing spellings.
    pub fn from_name(name: &str) -> Option<Function> {
        let upper = name.to_ascii_uppercase();
        match upper.as_str() {
            "STARTS_WITH" => return Some(Function::StartsWith),
            "ENDS_WITH" => return Some(Function::EndsWith),
            _ => {}
        }
        Function::ALL.iter().copied().find(|f| f.name() == upper)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateFunc {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl AggregateFunc {
    pub const ALL: &'static [AggregateFunc] = &[
        AggregateFunc::Count,
        AggregateFunc::Sum,
        AggregateFunc::Avg,
        AggregateFunc::Min,
        AggregateFunc::Max,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AggregateFunc::Count => "COUNT",
            AggregateFunc::Sum => "SUM",
            AggregateFunc::Avg => "AVG",
            AggregateFunc::Min => "MIN",
            AggregateFunc::Max => "MAX",
        }
    }

    pub fn from_name(name: &str) -> Option<AggregateFunc> {
        let upper = name.to_ascii_uppercase();
        AggregateFunc::ALL
            .iter()
            .copied()
            .find(|f| f.name() == upper)
    }
}

impl Expr {
    /// True when an aggregate occurs anywhere in this expression.
    pub fn contains_aggregate(&self) -> bool {
        match &self.kind {
            ExprKind::Aggregate { .. } => true,
            ExprKind::Literal(_) | ExprKind::Path(_) => false,
            ExprKind::Unary { operand, .. } => operand.contains_aggregate(),
            ExprKind::Binary { left, right, .. } => {
                left.contains_aggregate() || right.contains_aggregate()
            }
            ExprKind::In { operand, list, .. } => {
                operand.contains_aggregate() || list.iter().any(Expr::contains_aggregate)
            }
            ExprKind::Call { args, .. } => args.iter().any(Expr::contains_aggregate),
        }
    }
}
