//! Answering WHERE from bitmaps, with three-valued logic done right.
//!
//! For a predicate that bitmaps can answer exactly we compute two sets over the universe
//! (the collection's regular rows): `t`, the rows where it is true, and `f`, the rows where it
//! is false; every other row is undefined. Then `NOT` swaps them, `AND` gives
//! `(t1 & t2, f1 | f2)` and `OR` gives `(t1 | t2, f1 & f2)`. So `NOT (x = 'a')` is the rows
//! where `x` is a *string* other than `'a'`, never the rows where `x` is missing.
//!
//! For the rest, [`candidates`] gives a superset of the true rows (for instance: a comparison
//! against a path is only true where the path is defined) and the executor evaluates the
//! predicate on those rows only.

use roaring::{MultiOps, RoaringBitmap};

use super::{BExpr, BoundPath, Plan};
use crate::exec::value::Val;
use crate::index::{IndexKey, RangeOp, ValueIndex};
use crate::sql::{BinaryOp, Function};
use crate::store::Store;

/// Rows where a predicate is true and where it is false.
#[derive(Debug, Clone)]
pub struct Truth {
    pub t: RoaringBitmap,
    pub f: RoaringBitmap,
}

pub struct Answerer<'a> {
    pub store: &'a Store,
    pub plan: &'a Plan,
    pub universe: &'a RoaringBitmap,
}

impl Answerer<'_> {
    /// The exact answer, when bitmaps give one.
    pub fn exact(&self, e: &BExpr) -> Option<Truth> {
        let u = self.universe;
        match e {
            BExpr::Const(v) => Some(match v.truth() {
                Some(true) => Truth {
                    t: u.clone(),
                    f: RoaringBitmap::new(),
                },
                Some(false) => Truth {
                    t: RoaringBitmap::new(),
                    f: u.clone(),
                },
                None => Truth {
                    t: RoaringBitmap::new(),
                    f: RoaringBitmap::new(),
                },
            }),
            BExpr::Not(a) => self.exact(a).map(|x| Truth { t: x.f, f: x.t }),
            BExpr::And(a, b) => {
                let (x, y) = (self.exact(a)?, self.exact(b)?);
                Some(Truth {
                    t: x.t & y.t,
                    f: x.f | y.f,
                })
            }
            BExpr::Or(a, b) => {
                let (x, y) = (self.exact(a)?, self.exact(b)?);
                Some(Truth {
                    t: x.t | y.t,
                    f: x.f & y.f,
                })
            }
            BExpr::Binary(op, a, b) => {
                let (path, konst, op) = match (&**a, &**b) {
                    (BExpr::Path(p), BExpr::Const(c)) => (*p, c, *op),
                    (BExpr::Const(c), BExpr::Path(p)) => (*p, c, flip(*op)?),
                    _ => return None,
                };
                self.compare(path, op, konst)
            }
            BExpr::In {
                operand,
                list,
                negated,
            } => {
                let BExpr::Path(p) = &**operand else {
                    return None;
                };
                let indexes = self.indexes(*p)?;
                let keys: Vec<IndexKey> = list.iter().filter_map(key_of).collect();
                let t = indexes
                    .iter()
                    .flat_map(|ix| keys.iter().map(move |k| ix.eq(k)))
                    .union()
                    & u;
                let f = (indexes.iter().map(|ix| ix.any()).union() & u) - &t;
                Some(if *negated {
                    Truth { t: f, f: t }
                } else {
                    Truth { t, f }
                })
            }
            BExpr::Call(Function::IsDefined, args) => {
                let BExpr::Path(p) = &args[0] else {
                    return None;
                };
                let t = self.present(*p)?;
                let f = u - &t;
                Some(Truth { t, f })
            }
            BExpr::Call(Function::StartsWith, args) => {
                let (BExpr::Path(p), BExpr::Const(Val::Str(prefix))) = (&args[0], &args[1]) else {
                    return None;
                };
                let indexes = self.indexes(*p)?;
                let t = indexes.iter().map(|ix| ix.prefix(prefix)).union() & u;
                let strings = indexes
                    .iter()
                    .map(|ix| ix.range(&IndexKey::String("".into()), RangeOp::GtEq))
                    .union()
                    & u;
                let f = strings - &t;
                Some(Truth { t, f })
            }
            _ => None,
        }
    }

    fn compare(&self, path: usize, op: BinaryOp, c: &Val<'_>) -> Option<Truth> {
        let indexes = self.indexes(path)?;
        let u = self.universe;
        let Some(key) = key_of(c) else {
            // Comparing with an object, array or undefined is always undefined.
            return Some(Truth {
                t: RoaringBitmap::new(),
                f: RoaringBitmap::new(),
            });
        };
        let same_type = indexes.iter().map(|ix| same_type_rows(ix, &key)).union() & u;
        let eq = || indexes.iter().map(|ix| ix.eq(&key)).union() & u;
        let range = |r: RangeOp| indexes.iter().map(|ix| ix.range(&key, r)).union() & u;
        let t = match op {
            BinaryOp::Eq => eq(),
            BinaryOp::NotEq => {
                let e = eq();
                return Some(Truth {
                    t: same_type - &e,
                    f: e,
                });
            }
            BinaryOp::Lt => range(RangeOp::Lt),
            BinaryOp::LtEq => range(RangeOp::LtEq),
            BinaryOp::Gt => range(RangeOp::Gt),
            BinaryOp::GtEq => range(RangeOp::GtEq),
            _ => return None,
        };
        let f = same_type - &t;
        Some(Truth { t, f })
    }

    /// The value indexes of every column of a path, if each one has an index and the path
    /// has no array step.
    fn indexes(&self, p: usize) -> Option<Vec<&ValueIndex>> {
        let bp: &BoundPath = &self.plan.paths[p];
        if bp.has_tail() {
            return None;
        }
        bp.columns
            .iter()
            .map(|&c| self.store.column(c).index())
            .collect()
    }

    /// Rows where a path (without array steps) is defined.
    pub fn present(&self, p: usize) -> Option<RoaringBitmap> {
        let bp = &self.plan.paths[p];
        if bp.has_tail() {
            return None;
        }
        Some(
            bp.columns
                .iter()
                .map(|&c| self.store.column(c).present())
                .union()
                & self.universe,
        )
    }

    /// A superset of the rows where `e` is true; `None` means "any row of the universe".
    pub fn candidates(&self, e: &BExpr) -> Option<RoaringBitmap> {
        if let Some(x) = self.exact(e) {
            return Some(x.t);
        }
        match e {
            BExpr::And(a, b) => match (self.candidates(a), self.candidates(b)) {
                (Some(x), Some(y)) => Some(x & y),
                (x, None) | (None, x) => x,
            },
            BExpr::Or(a, b) => Some(self.candidates(a)? | self.candidates(b)?),
            // A comparison is true only where both operands are defined.
            BExpr::Binary(op, a, b) if is_comparison(*op) => {
                match (self.required(a), self.required(b)) {
                    (Some(x), Some(y)) => Some(x & y),
                    (x, None) | (None, x) => x,
                }
            }
            BExpr::In { operand, .. } => self.required(operand),
            BExpr::Call(
                Function::StartsWith
                | Function::EndsWith
                | Function::Contains
                | Function::ArrayContains,
                args,
            ) => self.required(&args[0]),
            _ => None,
        }
    }

    /// A superset of the rows where `e` is defined, when a path makes that narrow.
    fn required(&self, e: &BExpr) -> Option<RoaringBitmap> {
        match e {
            BExpr::Path(p) => {
                let bp = &self.plan.paths[*p];
                // With an array step, the array itself must be defined.
                Some(
                    bp.columns
                        .iter()
                        .map(|&c| self.store.column(c).present())
                        .union()
                        & self.universe,
                )
            }
            BExpr::Binary(op, a, b) if !is_comparison(*op) => {
                match (self.required(a), self.required(b)) {
                    (Some(x), Some(y)) => Some(x & y),
                    (x, None) | (None, x) => x,
                }
            }
            BExpr::Neg(a) => self.required(a),
            _ => None,
        }
    }
}

fn is_comparison(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq
    )
}

/// `c op p` as `p op' c`.
fn flip(op: BinaryOp) -> Option<BinaryOp> {
    Some(match op {
        BinaryOp::Eq => BinaryOp::Eq,
        BinaryOp::NotEq => BinaryOp::NotEq,
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        _ => return None,
    })
}

/// A constant as an index key; `None` for objects, arrays and undefined.
fn key_of(v: &Val<'_>) -> Option<IndexKey> {
    Some(match v {
        Val::Null => IndexKey::Null,
        Val::Bool(b) => IndexKey::Bool(*b),
        Val::Num(_) | Val::Computed(_) => {
            let x = v.as_f64()?;
            IndexKey::Number(if x == 0.0 { 0.0 } else { x })
        }
        Val::Str(s) => IndexKey::String(s.as_ref().into()),
        Val::Undef | Val::Json(_) => return None,
    })
}

/// Rows whose value has the same JSON type as `key` (booleans are one type).
fn same_type_rows(ix: &ValueIndex, key: &IndexKey) -> RoaringBitmap {
    ix.entries()
        .iter()
        .filter(|(k, _)| std::mem::discriminant(k) == std::mem::discriminant(key))
        .map(|(_, b)| b)
        .union()
}
