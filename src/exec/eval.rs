//! Evaluating bound expressions for one row, reading columns (or, for irregular rows, the
//! row's twin).

use std::borrow::Cow;
use std::cell::OnceCell;

use serde_json::Value;

use super::value::{self, Val};
use crate::plan::{BExpr, Plan};
use crate::sql::Segment;
use crate::store::{Column, Store, ValueRef};

/// Three-valued AND.
pub fn and(a: Option<bool>, b: Option<bool>) -> Val<'static> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Val::Bool(false),
        (Some(true), Some(true)) => Val::Bool(true),
        _ => Val::Undef,
    }
}

/// Three-valued OR.
pub fn or(a: Option<bool>, b: Option<bool>) -> Val<'static> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Val::Bool(true),
        (Some(false), Some(false)) => Val::Bool(false),
        _ => Val::Undef,
    }
}

/// `x IN list` / `x NIN list`.
pub fn in_value(x: &Val<'_>, list: &[Val<'_>], negated: bool) -> Val<'static> {
    match value::in_list(x, list) {
        Some(b) => Val::Bool(b != negated),
        None => Val::Undef,
    }
}

/// Borrows a constant without copying its text.
fn view<'a>(v: &'a Val<'static>) -> Val<'a> {
    match v {
        Val::Str(s) => Val::Str(Cow::Borrowed(s.as_ref())),
        Val::Json(j) => Val::Json(Cow::Borrowed(j.as_ref())),
        other => other.clone(),
    }
}

/// A value read from a column (of a regular row) as an expression value: objects come from the
/// row's twin, arrays from their JSON text.
pub fn column_val<'s>(store: &'s Store, col: &'s Column, row: u32, v: ValueRef<'s>) -> Val<'s> {
    match v {
        ValueRef::Null => Val::Null,
        ValueRef::Bool(b) => Val::Bool(b),
        ValueRef::Number(n) => Val::Num(n),
        ValueRef::String(s) => Val::Str(Cow::Borrowed(s)),
        ValueRef::Time(t) => Val::Str(Cow::Owned(t.text().to_string())),
        ValueRef::Array(text) => match serde_json::from_str::<Value>(text) {
            Ok(a) => Val::Json(Cow::Owned(a)),
            Err(_) => Val::Undef,
        },
        ValueRef::Object => match store.subtree(row, col.segments()) {
            Some(v) => Val::Json(Cow::Owned(v)),
            None => Val::Undef,
        },
    }
}

/// Values of one row.
pub struct RowCtx<'s> {
    pub store: &'s Store,
    pub plan: &'s Plan,
    pub row: u32,
    /// Read every path from the twin (rows whose keys collide by case).
    pub irregular: bool,
    twin: OnceCell<Option<Value>>,
}

impl<'s> RowCtx<'s> {
    pub fn new(store: &'s Store, plan: &'s Plan, row: u32) -> RowCtx<'s> {
        RowCtx {
            store,
            plan,
            row,
            irregular: {
                let irregular = store.irregular_in(plan.view);
                !irregular.is_empty() && irregular.contains(row)
            },
            twin: OnceCell::new(),
        }
    }

    /// The row's normalised twin (parsed once, on first use).
    pub fn twin(&self) -> Option<&Value> {
        self.twin
            .get_or_init(|| self.store.twin(self.row).ok())
            .as_ref()
    }

    /// A path's value and the document's spelling of its last named segment.
    pub fn path(&self, p: usize) -> (Val<'_>, Option<Cow<'_, str>>) {
        let bp = &self.plan.paths[p];
        if self.irregular {
            return match self.twin() {
                Some(t) => resolve_json(t, &bp.segments),
                None => (Val::Undef, None),
            };
        }
        let Some((col, v)) = bp.columns.iter().find_map(|&c| {
            let col = self.store.column(c);
            col.get(self.row).map(|v| (col, v))
        }) else {
            return (Val::Undef, None);
        };
        let spelled = || -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(
                &**col.segments().get(bp.head.checked_sub(1)?)?,
            ))
        };
        if bp.has_tail() {
            let ValueRef::Array(text) = v else {
                return (Val::Undef, None);
            };
            let Ok(arr) = serde_json::from_str::<Value>(text) else {
                return (Val::Undef, None);
            };
            let (val, name) = resolve_json(&arr, &bp.segments[bp.head..]);
            let name = name.map(|n| Cow::Owned(n.into_owned())).or_else(spelled);
            return (val.into_owned(), name);
        }
        (column_val(self.store, col, self.row, v), spelled())
    }

    /// Whether a condition is exactly true for this row.
    pub fn test(&self, e: &BExpr) -> bool {
        eval(self, e) == Val::Bool(true)
    }
}

impl Env for RowCtx<'_> {
    fn path(&self, p: usize) -> Val<'_> {
        RowCtx::path(self, p).0
    }
}

/// Where an expression reads its paths, group keys and aggregates.
pub trait Env {
    fn path(&self, p: usize) -> Val<'_>;
    fn group_key(&self, _k: usize) -> Val<'_> {
        Val::Undef
    }
    fn aggregate(&self, _i: usize) -> Val<'_> {
        Val::Undef
    }
}

/// Evaluates a bound expression.
pub fn eval<'a, E: Env + ?Sized>(env: &'a E, e: &'a BExpr) -> Val<'a> {
    match e {
        BExpr::Const(v) => view(v),
        BExpr::Path(p) => env.path(*p),
        BExpr::GroupKey(k) => env.group_key(*k),
        BExpr::Aggregate(i) => env.aggregate(*i),
        BExpr::Not(a) => match eval(env, a).truth() {
            Some(b) => Val::Bool(!b),
            None => Val::Undef,
        },
        BExpr::Neg(a) => match eval(env, a).as_f64() {
            Some(x) => Val::computed(-x),
            None => Val::Undef,
        },
        BExpr::And(a, b) => {
            let x = eval(env, a).truth();
            if x == Some(false) {
                return Val::Bool(false);
            }
            and(x, eval(env, b).truth())
        }
        BExpr::Or(a, b) => {
            let x = eval(env, a).truth();
            if x == Some(true) {
                return Val::Bool(true);
            }
            or(x, eval(env, b).truth())
        }
        BExpr::Binary(op, a, b) => value::binary(*op, &eval(env, a), &eval(env, b)),
        BExpr::In {
            operand,
            list,
            negated,
        } => in_value(&eval(env, operand), list, *negated),
        // Arguments on the stack for the usual arities: a heap allocation per row and call
        // was most of a residual `STARTSWITH` scan.
        BExpr::Call(f, args) => match args.as_slice() {
            [a] => value::call(*f, &[eval(env, a)]),
            [a, b] => value::call(*f, &[eval(env, a), eval(env, b)]),
            [a, b, c] => value::call(*f, &[eval(env, a), eval(env, b), eval(env, c)]),
            _ => {
                let vals: Vec<Val<'_>> = args.iter().map(|a| eval(env, a)).collect();
                value::call(*f, &vals)
            }
        },
    }
}

/// Resolves segments against a JSON document (SPEC §2.1): the exact-case key wins, else the
/// first key in document order equal under `to_lowercase`; names step into objects, indexes
/// into arrays.
pub fn resolve_json<'a>(root: &'a Value, segments: &[Segment]) -> (Val<'a>, Option<Cow<'a, str>>) {
    let mut cur = root;
    let mut name: Option<&'a str> = None;
    for seg in segments {
        match (seg, cur) {
            (Segment::Name(n), Value::Object(map)) => {
                let found = match map.get_key_value(n.as_str()) {
                    Some(kv) => Some(kv),
                    None => {
                        let lower = n.to_lowercase();
                        map.iter().find(|(k, _)| k.to_lowercase() == lower)
                    }
                };
                let Some((k, v)) = found else {
                    return (Val::Undef, None);
                };
                name = Some(k.as_str());
                cur = v;
            }
            (Segment::Index(i), Value::Array(items)) => match items.get(*i as usize) {
                Some(v) => cur = v,
                None => return (Val::Undef, None),
            },
            _ => return (Val::Undef, None),
        }
    }
    (Val::from_json(cur), name.map(Cow::Borrowed))
}

/// Whether an expression reads anything per row (used to skip work for constant filters).
pub fn reads_rows(e: &BExpr) -> bool {
    match e {
        BExpr::Const(_) => false,
        BExpr::Path(_) | BExpr::Aggregate(_) | BExpr::GroupKey(_) => true,
        BExpr::Not(a) | BExpr::Neg(a) => reads_rows(a),
        BExpr::And(a, b) | BExpr::Or(a, b) | BExpr::Binary(_, a, b) => {
            reads_rows(a) || reads_rows(b)
        }
        BExpr::In { operand, .. } => reads_rows(operand),
        BExpr::Call(_, args) => args.iter().any(reads_rows),
    }
}
