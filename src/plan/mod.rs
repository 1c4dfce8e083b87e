//! From a parsed query to a plan over one store: check the query's static rules, bind paths to
//! columns (case-insensitively, every spelling), fold constants, and describe what to compute.
//! Which parts of WHERE bitmaps answer is decided in [`bitmap`].

pub mod bitmap;

use std::borrow::Cow;

use crate::exec::value::{self, Val};
use crate::sql::{
    AggregateFunc, BinaryOp, Collection, Expr, ExprKind, Function, Literal, Query, QueryError,
    Segment, SelectList, UnaryOp,
};
use crate::store::{ColumnId, Store, View};

/// A path bound to the store.
#[derive(Debug, Clone)]
pub struct BoundPath {
    /// Unqualified segments as written.
    pub segments: Vec<Segment>,
    /// How many leading segments are names covered by `columns`; the rest (starting with an
    /// index) is resolved inside the array value.
    pub head: usize,
    /// Every column spelled like `segments[..head]` ignoring case.
    pub columns: Vec<ColumnId>,
}

impl BoundPath {
    pub fn has_tail(&self) -> bool {
        self.head < self.segments.len()
    }

    /// The path as written, for EXPLAIN.
    pub fn display(&self) -> String {
        let mut s = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Name(n) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(n);
                }
                Segment::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }
}

/// A bound expression.
#[derive(Debug, Clone)]
pub enum BExpr {
    Const(Val<'static>),
    /// Index into [`Plan::paths`].
    Path(usize),
    Not(Box<BExpr>),
    Neg(Box<BExpr>),
    And(Box<BExpr>, Box<BExpr>),
    Or(Box<BExpr>, Box<BExpr>),
    /// Comparison or arithmetic.
    Binary(BinaryOp, Box<BExpr>, Box<BExpr>),
    In {
        operand: Box<BExpr>,
        list: Vec<Val<'static>>,
        negated: bool,
    },
    Call(Function, Vec<BExpr>),
    /// Index into [`Plan::aggregates`] (aggregating queries only).
    Aggregate(usize),
    /// Index into [`Plan::group_keys`]: a path that is a GROUP BY key, read from the group.
    GroupKey(usize),
}

/// One aggregate to compute per group.
#[derive(Debug, Clone)]
pub struct AggregateSpec {
    pub func: AggregateFunc,
    pub arg: Option<BExpr>,
}

/// How an output element is keyed.
#[derive(Debug, Clone)]
pub enum OutKey {
    /// An alias or `$k`.
    Fixed(String),
    /// An unaliased path: its last named segment as spelled in the document (path index), with
    /// the written spelling as the fallback.
    Spelled(usize, String),
}

#[derive(Debug, Clone)]
pub struct OutItem {
    pub expr: BExpr,
    pub key: OutKey,
}

#[derive(Debug, Clone)]
pub enum Shape {
    /// `SELECT *`.
    Star,
    /// One object per row.
    Rows(Vec<OutItem>),
    /// One object per group (one group without GROUP BY).
    Groups { grouped: bool, items: Vec<OutItem> },
}

#[derive(Debug, Clone)]
pub struct OrderTerm {
    pub expr: BExpr,
    pub descending: bool,
}

/// What to compute for a query over one store.
#[derive(Debug, Clone)]
pub struct Plan {
    pub collection: Collection,
    pub paths: Vec<BoundPath>,
    pub filter: Option<BExpr>,
    /// Paths indexes of the GROUP BY keys.
    pub group_keys: Vec<usize>,
    pub aggregates: Vec<AggregateSpec>,
    pub shape: Shape,
    pub order: Vec<OrderTerm>,
    pub top: Option<u64>,
    /// Which irregular rows the query sees ([`View`]), fixed when it is planned.
    pub view: View,
}

/// Plans `query` over `store`.
pub fn plan(query: &Query, store: &Store) -> Result<Plan, QueryError> {
    crate::reference::validate(query)?;
    let collection = query.from.collection;
    let mut b = Binder {
        store,
        collection,
        paths: Vec::new(),
        aggregates: Vec::new(),
        group_keys: Vec::new(),
        grouping: false,
        view: View::Loaded,
    };
    let filter = query.filter.as_ref().map(|e| b.bind(e));
    let aggregating = !query.group_by.is_empty()
        || matches!(&query.select, SelectList::Items(items) if items.iter().any(|i| i.expr.contains_aggregate()));
    for p in &query.group_by {
        let id = b.path(&p.unqualified(collection));
        b.group_keys.push(id);
    }
    b.grouping = aggregating;

    let mut items = Vec::new();
    let mut dollar = 0;
    if let SelectList::Items(list) = &query.select {
        for item in list {
            let expr = b.bind(&item.expr);
            let key = match (&item.alias, &item.expr.kind) {
                (Some(a), _) => OutKey::Fixed(a.name.clone()),
                (None, ExprKind::Path(p))
                    if p.unqualified(collection)
                        .iter()
                        .any(|s| matches!(s, Segment::Name(_))) =>
                {
                    let segs = p.unqualified(collection);
                    let written = segs
                        .iter()
                        .rev()
                        .find_map(|s| match s {
                            Segment::Name(n) => Some(n.clone()),
                            Segment::Index(_) => None,
                        })
                        .unwrap_or_default();
                    let id = b.path(&segs);
                    OutKey::Spelled(id, written)
                }
                (None, _) => {
                    dollar += 1;
                    OutKey::Fixed(format!("${dollar}"))
                }
            };
            items.push(OutItem { expr, key });
        }
    }

    let mut order = Vec::new();
    for term in &query.order_by {
        // A bare name equal to a select alias means that element (SPEC §4.5).
        let by_alias = match (&term.expr.kind, &query.select) {
            (ExprKind::Path(p), SelectList::Items(list)) => match p.segments.as_slice() {
                [Segment::Name(n)] => list.iter().position(|i| {
                    i.alias
                        .as_ref()
                        .is_some_and(|a| a.name.to_lowercase() == n.to_lowercase())
                }),
                _ => None,
            },
            _ => None,
        };
        let expr = match by_alias {
            Some(i) => items[i].expr.clone(),
            None => b.bind(&term.expr),
        };
        order.push(OrderTerm {
            expr,
            descending: term.descending,
        });
    }

    let shape = match &query.select {
        SelectList::Star(_) => Shape::Star,
        SelectList::Items(_) if aggregating => Shape::Groups {
            grouped: !query.group_by.is_empty(),
            items,
        },
        SelectList::Items(_) => Shape::Rows(items),
    };
    let plan = Plan {
        collection,
        paths: b.paths,
        filter,
        group_keys: b.group_keys,
        aggregates: b.aggregates,
        shape,
        order,
        top: query.top.map(|t| t.n),
        view: b.view,
    };
    // A snapshot verifies lazily: what this plan reads must be verified before it runs, so
    // that a corrupt file fails the query (pointing at its FROM) instead of answering wrongly.
    let bound: Vec<ColumnId> = plan
        .paths
        .iter()
        .flat_map(|p| p.columns.iter().copied())
        .collect();
    store
        .prepare(&bound, matches!(plan.shape, Shape::Star))
        .map_err(|e| QueryError::new(e.to_string(), query.from.span))?;
    Ok(plan)
}

struct Binder<'s> {
    store: &'s Store,
    collection: Collection,
    paths: Vec<BoundPath>,
    aggregates: Vec<AggregateSpec>,
    group_keys: Vec<usize>,
    /// Set once the select list and ORDER BY are bound: paths that are group keys then read
    /// the group's key.
    grouping: bool,
    view: View,
}

impl Binder<'_> {
    fn path(&mut self, segments: &[Segment]) -> usize {
        // Spelling matters (the exact-case key wins in irregular rows), so only identical
        // paths share a binding.
        if let Some(i) = self.paths.iter().position(|p| p.segments == segments) {
            return i;
        }
        let head = segments
            .iter()
            .position(|s| matches!(s, Segment::Index(_)))
            .unwrap_or(segments.len());
        let names: Vec<&str> = segments[..head]
            .iter()
            .map(|s| match s {
                Segment::Name(n) => n.as_str(),
                Segment::Index(_) => "",
            })
            .collect();
        let columns = self.store.columns_for(&names).to_vec();
        if self.store.view_for(&names) == View::Built {
            self.view = View::Built;
        }
        self.paths.push(BoundPath {
            segments: segments.to_vec(),
            head,
            columns,
        });
        self.paths.len() - 1
    }

    fn bind(&mut self, e: &Expr) -> BExpr {
        let bound = match &e.kind {
            ExprKind::Literal(l) => BExpr::Const(literal(l)),
            ExprKind::Path(p) => {
                let segs = p.unqualified(self.collection);
                if self.grouping {
                    if let Some(k) = self
                        .group_keys
                        .iter()
                        .position(|&k| same_path(&self.paths[k].segments, &segs))
                    {
                        return BExpr::GroupKey(k);
                    }
                }
                BExpr::Path(self.path(&segs))
            }
            ExprKind::Unary { op, operand } => {
                let inner = Box::new(self.bind(operand));
                match op {
                    UnaryOp::Not => BExpr::Not(inner),
                    UnaryOp::Neg => BExpr::Neg(inner),
                }
            }
            ExprKind::Binary { op, left, right } => {
                let (l, r) = (Box::new(self.bind(left)), Box::new(self.bind(right)));
                match op {
                    BinaryOp::And => BExpr::And(l, r),
                    BinaryOp::Or => BExpr::Or(l, r),
                    op => BExpr::Binary(*op, l, r),
                }
            }
            ExprKind::In {
                operand,
                list,
                negated,
            } => {
                let operand = Box::new(self.bind(operand));
                let list = list
                    .iter()
                    .map(|c| match self.bind(c) {
                        BExpr::Const(v) => v,
                        _ => Val::Undef,
                    })
                    .collect();
                BExpr::In {
                    operand,
                    list,
                    negated: *negated,
                }
            }
            ExprKind::Call { func, args } => {
                BExpr::Call(*func, args.iter().map(|a| self.bind(a)).collect())
            }
            ExprKind::Aggregate { func, arg } => {
                // Inside an aggregate, paths are per-row values, never group keys.
                let grouping = std::mem::replace(&mut self.grouping, false);
                let arg = arg.as_ref().map(|a| self.bind(a));
                self.grouping = grouping;
                self.aggregates.push(AggregateSpec { func: *func, arg });
                return BExpr::Aggregate(self.aggregates.len() - 1);
            }
        };
        fold(bound)
    }
}

/// Paths equal after `unqualified`, names compared with `to_lowercase` (SPEC §4.8).
fn same_path(a: &[Segment], b: &[Segment]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Segment::Name(p), Segment::Name(q)) => p == q || p.to_lowercase() == q.to_lowercase(),
            (Segment::Index(p), Segment::Index(q)) => p == q,
            _ => false,
        })
}

/// A literal as a value: numbers follow the computed-number rule (`2.0` is `2`); array
/// literals drop undefined elements.
fn literal(l: &Literal) -> Val<'static> {
    match l {
        Literal::Undefined => Val::Undef,
        Literal::Null => Val::Null,
        Literal::Bool(b) => Val::Bool(*b),
        Literal::Number(x) => Val::computed(*x),
        Literal::String(s) => Val::Str(Cow::Owned(s.clone())),
        Literal::Array(items) => Val::Json(Cow::Owned(serde_json::Value::Array(
            items.iter().filter_map(|i| literal(i).to_json()).collect(),
        ))),
    }
}

/// Folds an expression whose operands are all constants.
fn fold(e: BExpr) -> BExpr {
    let konst = |x: &BExpr| matches!(x, BExpr::Const(_));
    let get = |x: &BExpr| match x {
        BExpr::Const(v) => v.clone(),
        _ => Val::Undef,
    };
    match &e {
        BExpr::Not(a) if konst(a) => BExpr::Const(match get(a).truth() {
            Some(b) => Val::Bool(!b),
            None => Val::Undef,
        }),
        BExpr::Neg(a) if konst(a) => BExpr::Const(match get(a).as_f64() {
            Some(x) => Val::computed(-x),
            None => Val::Undef,
        }),
        BExpr::And(a, b) if konst(a) && konst(b) => {
            BExpr::Const(crate::exec::eval::and(get(a).truth(), get(b).truth()))
        }
        BExpr::Or(a, b) if konst(a) && konst(b) => {
            BExpr::Const(crate::exec::eval::or(get(a).truth(), get(b).truth()))
        }
        BExpr::Binary(op, a, b) if konst(a) && konst(b) => {
            BExpr::Const(value::binary(*op, &get(a), &get(b)))
        }
        BExpr::In {
            operand,
            list,
            negated,
        } if konst(operand) => {
            BExpr::Const(crate::exec::eval::in_value(&get(operand), list, *negated))
        }
        BExpr::Call(f, args) if args.iter().all(konst) => {
            let vals: Vec<Val<'static>> = args.iter().map(get).collect();
            BExpr::Const(value::call(*f, &vals))
        }
        _ => e,
    }
}
