//! Answering WHERE from bitmaps, with three-valued logic done right.
//!
//! For a predicate that bitmaps can answer exactly we compute two sets over the universe
//! (the collection's regular rows): `t`, the rows where it is true, and `f`, the rows where it
//! is false; every other row is undefined. Then `NOT` swaps them, `AND` gives
//! `(t1 & t2, f1 | f2)` and `OR` gives `(t1 | t2, f1 & f2)`. So `NOT (x = 'a')` is the rows
//! where `x` is a *string* other than `'a'`, never the rows where `x` is missing.
//!
//! For the rest, [`Answerer::candidates`] gives a superset of the true rows (for instance: a comparison
//! against a path is only true where the path is defined) and the executor evaluates the
//! predicate on those rows only.

use std::cell::Cell;

use roaring::{MultiOps, RoaringBitmap};

use super::{BExpr, BoundPath, Plan};
use crate::exec::value::Val;
use crate::index::{IndexKey, RangeOp, SortedStrings, ValueIndex};
use crate::sql::{BinaryOp, Function};
use crate::store::{Column, Kind, Store};

/// Rows where a predicate is true and where it is false.
#[derive(Debug, Clone)]
pub struct Truth {
    pub t: RoaringBitmap,
    pub f: RoaringBitmap,
}

impl Truth {
    /// `matched` rows true and `other` rows false, or the other way round when `negated`.
    fn of(matched: RoaringBitmap, other: RoaringBitmap, negated: bool) -> Truth {
        if negated {
            Truth {
                t: other,
                f: matched,
            }
        } else {
            Truth {
                t: matched,
                f: other,
            }
        }
    }
}

pub struct Answerer<'a> {
    pub store: &'a Store,
    pub plan: &'a Plan,
    pub universe: &'a RoaringBitmap,
    /// What answered so far ([`Source`] bits), for EXPLAIN.
    pub used: Cell<u8>,
}

/// What a bitmap answer came from, for EXPLAIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Source {
    /// A column's value index (one bitmap per distinct value).
    ValueIndex = 1,
    /// A column's sorted strings (binary search over its nearly unique strings).
    Sorted = 2,
    /// A scan of the column's values.
    Scan = 4,
    /// Presence bitmaps (IS_DEFINED) or constants.
    Presence = 8,
}

impl Source {
    const ALL: [Source; 4] = [
        Source::ValueIndex,
        Source::Sorted,
        Source::Scan,
        Source::Presence,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Source::ValueIndex => "value index",
            Source::Sorted => "sorted strings",
            Source::Scan => "column scan",
            Source::Presence => "presence",
        }
    }

    /// The names of the sources in a set of bits.
    pub fn names(bits: u8) -> Vec<&'static str> {
        Source::ALL
            .iter()
            .filter(|s| bits & (**s as u8) != 0)
            .map(|s| s.name())
            .collect()
    }
}

/// Where one column of a path reads its strings in order.
enum StringSource<'a> {
    Index(&'a ValueIndex),
    Sorted(&'a Column, &'a SortedStrings),
    /// The column holds no string.
    NoStrings,
}

/// Rows holding a string in any of the columns.
fn strings_of(sources: &[StringSource<'_>]) -> RoaringBitmap {
    sources
        .iter()
        .map(|s| match s {
            StringSource::Index(ix) => {
                std::borrow::Cow::Owned(ix.range(&IndexKey::String("".into()), RangeOp::GtEq))
            }
            StringSource::Sorted(_, ss) => std::borrow::Cow::Borrowed(ss.strings()),
            StringSource::NoStrings => std::borrow::Cow::Owned(RoaringBitmap::new()),
        })
        .fold(RoaringBitmap::new(), |acc, b| acc | b.as_ref())
}

/// Which sides of a [`Truth`] the caller needs; the other is left empty (a top-level
/// condition needs only its true rows, and computing "false" can cost a union over every
/// value of a column).
#[derive(Debug, Clone, Copy)]
pub struct Want {
    pub t: bool,
    pub f: bool,
}

impl Want {
    pub const TRUE: Want = Want { t: true, f: false };
    pub const BOTH: Want = Want { t: true, f: true };

    fn flipped(self) -> Want {
        Want {
            t: self.f,
            f: self.t,
        }
    }
}

impl<'a> Answerer<'a> {
    /// Records that `s` took part in an answer.
    fn note(&self, s: Source) {
        self.used.set(self.used.get() | s as u8);
    }

    /// The exact answer, when bitmaps give one (both sides).
    pub fn exact(&self, e: &BExpr) -> Option<Truth> {
        self.exact_want(e, Want::BOTH)
    }

    /// The exact answer, computing only the wanted sides.
    pub fn exact_want(&self, e: &BExpr, want: Want) -> Option<Truth> {
        let u = self.universe;
        let pick = |yes: bool, b: &dyn Fn() -> RoaringBitmap| {
            if yes {
                b()
            } else {
                RoaringBitmap::new()
            }
        };
        match e {
            BExpr::Const(v) => Some(match v.truth() {
                Some(true) => Truth {
                    t: pick(want.t, &|| u.clone()),
                    f: RoaringBitmap::new(),
                },
                Some(false) => Truth {
                    t: RoaringBitmap::new(),
                    f: pick(want.f, &|| u.clone()),
                },
                None => Truth {
                    t: RoaringBitmap::new(),
                    f: RoaringBitmap::new(),
                },
            }),
            BExpr::Not(a) => self
                .exact_want(a, want.flipped())
                .map(|x| Truth { t: x.f, f: x.t }),
            BExpr::And(a, b) => {
                let (x, y) = (self.exact_want(a, want)?, self.exact_want(b, want)?);
                Some(Truth {
                    t: x.t & y.t,
                    f: x.f | y.f,
                })
            }
            BExpr::Or(a, b) => {
                let (x, y) = (self.exact_want(a, want)?, self.exact_want(b, want)?);
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
                self.compare(path, op, konst, want)
            }
            BExpr::In {
                operand,
                list,
                negated,
            } => {
                let BExpr::Path(p) = &**operand else {
                    return None;
                };
                let Some(indexes) = self.indexes(*p) else {
                    return self.in_strings(*p, list, *negated, want);
                };
                self.note(Source::ValueIndex);
                let keys: Vec<IndexKey> = list.iter().filter_map(key_of).collect();
                let matched = indexes
                    .iter()
                    .flat_map(|ix| keys.iter().filter_map(move |k| ix.get(k)))
                    .union()
                    & u;
                let want = if *negated { want.flipped() } else { want };
                let other = pick(want.f, &|| {
                    (indexes.iter().map(|ix| ix.any()).union() & u) - &matched
                });
                Some(Truth::of(matched, other, *negated))
            }
            BExpr::Call(Function::IsDefined, args) => {
                let BExpr::Path(p) = &args[0] else {
                    return None;
                };
                let t = self.present(*p)?;
                self.note(Source::Presence);
                let f = pick(want.f, &|| u - &t);
                Some(Truth { t, f })
            }
            BExpr::Call(Function::StartsWith, args) => {
                let (BExpr::Path(p), BExpr::Const(Val::Str(prefix))) = (&args[0], &args[1]) else {
                    return None;
                };
                if let Some(indexes) = self.indexes(*p) {
                    self.note(Source::ValueIndex);
                    let t = indexes.iter().map(|ix| ix.prefix(prefix)).union() & u;
                    let f = pick(want.f, &|| {
                        let strings = indexes
                            .iter()
                            .map(|ix| ix.range(&IndexKey::String("".into()), RangeOp::GtEq))
                            .union()
                            & u;
                        strings - &t
                    });
                    return Some(Truth { t, f });
                }
                let sources = self.string_sources(*p)?;
                let t = sources
                    .iter()
                    .map(|s| match s {
                        StringSource::Index(ix) => ix.prefix(prefix),
                        StringSource::Sorted(col, ss) => ss.prefix(col, prefix),
                        StringSource::NoStrings => RoaringBitmap::new(),
                    })
                    .union()
                    & u;
                let f = pick(want.f, &|| (strings_of(&sources) & u) - &t);
                Some(Truth { t, f })
            }
            _ => None,
        }
    }

    /// How many rows of a whole collection a predicate holds for, from the sizes of value
    /// index entries alone (no bitmap is built): `=`, ranges, `IN` and `STARTSWITH` over a
    /// path whose columns are all indexed. The caller must have checked that the universe is
    /// every row of the collection (`modules` says which): the counts are each entry's rows
    /// among the store's modules or devices (`ValueIndex::split`).
    pub fn count_whole(&self, e: &BExpr, modules: bool) -> Option<u64> {
        let (p, runs): (usize, Vec<Vec<std::ops::Range<usize>>>) = match e {
            BExpr::Binary(op, a, b) => {
                let (p, c, op) = match (&**a, &**b) {
                    (BExpr::Path(p), BExpr::Const(c)) => (*p, c, *op),
                    (BExpr::Const(c), BExpr::Path(p)) => (*p, c, flip(*op)?),
                    _ => return None,
                };
                let op = match op {
                    BinaryOp::Eq => None,
                    BinaryOp::Lt => Some(RangeOp::Lt),
                    BinaryOp::LtEq => Some(RangeOp::LtEq),
                    BinaryOp::Gt => Some(RangeOp::Gt),
                    BinaryOp::GtEq => Some(RangeOp::GtEq),
                    _ => return None,
                };
                let indexes = self.indexes(p)?;
                let Some(key) = key_of(c) else {
                    return Some(0);
                };
                let runs = indexes
                    .iter()
                    .map(|ix| vec![ix.positions(&key, op)])
                    .collect();
                (p, runs)
            }
            BExpr::In {
                operand,
                list,
                negated: false,
            } => {
                let BExpr::Path(p) = &**operand else {
                    return None;
                };
                let indexes = self.indexes(*p)?;
                let keys: Vec<IndexKey> = list.iter().filter_map(key_of).collect();
                let runs = indexes
                    .iter()
                    .map(|ix| {
                        // A value listed twice (or as 5 and 5.0) counts once.
                        let mut at: Vec<usize> =
                            keys.iter().flat_map(|k| ix.positions(k, None)).collect();
                        at.sort_unstable();
                        at.dedup();
                        at.into_iter().map(|i| i..i + 1).collect()
                    })
                    .collect();
                (*p, runs)
            }
            BExpr::Call(Function::StartsWith, args) => {
                let (BExpr::Path(p), BExpr::Const(Val::Str(prefix))) = (&args[0], &args[1]) else {
                    return None;
                };
                let indexes = self.indexes(*p)?;
                let runs = indexes
                    .iter()
                    .map(|ix| vec![ix.prefix_positions(prefix)])
                    .collect();
                (*p, runs)
            }
            _ => return None,
        };
        let indexes = self.indexes(p)?;
        self.note(Source::ValueIndex);
        let mut n = 0;
        for (ix, runs) in indexes.iter().zip(runs) {
            let split = ix.split(self.store.modules());
            for run in runs {
                n += split[run]
                    .iter()
                    .map(|s| if modules { s.inside } else { s.outside })
                    .sum::<u64>();
            }
        }
        Some(n)
    }

    fn compare(&self, path: usize, op: BinaryOp, c: &Val<'_>, want: Want) -> Option<Truth> {
        let Some(indexes) = self.indexes(path) else {
            if let Val::Str(s) = c {
                if let Some(t) = self.compare_strings(path, op, s, want) {
                    return Some(t);
                }
            }
            let c = c.clone();
            return self.scan(path, want, move |v| {
                crate::exec::value::binary(op, &v, &c).truth()
            });
        };
        self.note(Source::ValueIndex);
        let u = self.universe;
        let Some(key) = key_of(c) else {
            // Comparing with an object, array or undefined is always undefined.
            return Some(Truth {
                t: RoaringBitmap::new(),
                f: RoaringBitmap::new(),
            });
        };
        let same_type = || indexes.iter().map(|ix| same_type_rows(ix, &key)).union() & u;
        let eq = || indexes.iter().filter_map(|ix| ix.get(&key)).union() & u;
        let range = |r: RangeOp| indexes.iter().map(|ix| ix.range(&key, r)).union() & u;
        let t = match op {
            BinaryOp::Eq => eq(),
            BinaryOp::NotEq => {
                let e = eq();
                let t = if want.t {
                    same_type() - &e
                } else {
                    RoaringBitmap::new()
                };
                return Some(Truth { t, f: e });
            }
            BinaryOp::Lt => range(RangeOp::Lt),
            BinaryOp::LtEq => range(RangeOp::LtEq),
            BinaryOp::Gt => range(RangeOp::Gt),
            BinaryOp::GtEq => range(RangeOp::GtEq),
            _ => return None,
        };
        let f = if want.f {
            same_type() - &t
        } else {
            RoaringBitmap::new()
        };
        Some(Truth { t, f })
    }

    /// A comparison of a path with a string constant when some of the path's columns have no
    /// value index: those answer from their sorted strings (built on first use), the others
    /// from their index. Only strings compare with a string; every other value is undefined.
    fn compare_strings(&self, path: usize, op: BinaryOp, c: &str, want: Want) -> Option<Truth> {
        let range = match op {
            BinaryOp::Eq | BinaryOp::NotEq => None,
            BinaryOp::Lt => Some(RangeOp::Lt),
            BinaryOp::LtEq => Some(RangeOp::LtEq),
            BinaryOp::Gt => Some(RangeOp::Gt),
            BinaryOp::GtEq => Some(RangeOp::GtEq),
            _ => return None,
        };
        let sources = self.string_sources(path)?;
        let u = self.universe;
        let key = IndexKey::String(c.into());
        let hits = sources
            .iter()
            .map(|s| match s {
                StringSource::Index(ix) => match range {
                    None => ix.eq(&key),
                    Some(r) => ix.range(&key, r),
                },
                StringSource::Sorted(col, ss) => ss.compare(col, c, range),
                StringSource::NoStrings => RoaringBitmap::new(),
            })
            .union()
            & u;
        let strings = || strings_of(&sources) & u;
        Some(if op == BinaryOp::NotEq {
            let t = if want.t {
                strings() - &hits
            } else {
                RoaringBitmap::new()
            };
            Truth { t, f: hits }
        } else {
            let f = if want.f {
                strings() - &hits
            } else {
                RoaringBitmap::new()
            };
            Truth { t: hits, f }
        })
    }

    /// `x IN [...]` / `x NIN [...]` over a path without value indexes, when every listed
    /// constant is a string: unions of equal runs of sorted strings. The other side (defined
    /// primitives equal to none) needs the path's primitive rows, known without a scan only
    /// when its columns hold no object or array.
    fn in_strings(&self, p: usize, list: &[Val<'_>], negated: bool, want: Want) -> Option<Truth> {
        let strings: Vec<&str> = list
            .iter()
            .map(|v| match v {
                Val::Str(s) => Some(s.as_ref()),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let want = if negated { want.flipped() } else { want };
        let bp = &self.plan.paths[p];
        let primitives = if want.f {
            let mut all = RoaringBitmap::new();
            for &c in &bp.columns {
                let col = self.store.column(c);
                let k = col.kind_counts();
                if k[Kind::Object as usize] + k[Kind::Array as usize] > 0 {
                    return None;
                }
                all |= col.present();
            }
            Some(all)
        } else {
            None
        };
        let sources = self.string_sources(p)?;
        let u = self.universe;
        let matched = sources
            .iter()
            .flat_map(|s| {
                strings.iter().map(move |c| match s {
                    StringSource::Index(ix) => ix.eq(&IndexKey::String((*c).into())),
                    StringSource::Sorted(col, ss) => ss.compare(col, c, None),
                    StringSource::NoStrings => RoaringBitmap::new(),
                })
            })
            .union()
            & u;
        let other = primitives.map_or_else(RoaringBitmap::new, |all| (all & u) - &matched);
        Some(Truth::of(matched, other, negated))
    }

    /// Where each column of a path finds its strings in order: its value index, or else its
    /// sorted strings. `None` for a path with an array step.
    fn string_sources(&self, p: usize) -> Option<Vec<StringSource<'a>>> {
        let bp = &self.plan.paths[p];
        if bp.has_tail() {
            return None;
        }
        let store: &'a Store = self.store;
        let sources: Vec<StringSource<'a>> = bp
            .columns
            .iter()
            .map(|&c| {
                let col = store.column(c);
                match col.index() {
                    Some(ix) => StringSource::Index(ix),
                    None => col
                        .sorted_strings()
                        .map_or(StringSource::NoStrings, |ss| StringSource::Sorted(col, ss)),
                }
            })
            .collect();
        if sources
            .iter()
            .any(|s| matches!(s, StringSource::Sorted(..)))
        {
            self.note(Source::Sorted);
        }
        if sources.iter().any(|s| matches!(s, StringSource::Index(_))) {
            self.note(Source::ValueIndex);
        }
        Some(sources)
    }

    /// The exact answer for a predicate over one path's values, by scanning its columns
    /// (for paths without an index): each column's values are read in slot order, never
    /// looked up row by row. Objects and arrays never reach `pred`'s primitive cases: they
    /// are passed as such and the predicate decides (comparisons make them undefined).
    fn scan(
        &self,
        p: usize,
        want: Want,
        pred: impl Fn(Val<'_>) -> Option<bool> + Sync,
    ) -> Option<Truth> {
        let bp = &self.plan.paths[p];
        if bp.has_tail() {
            return None;
        }
        self.note(Source::Scan);
        let mut t = RoaringBitmap::new();
        let mut f = RoaringBitmap::new();
        for &c in &bp.columns {
            let col = self.store.column(c);
            let (ct, cf) = scan_column(col, &pred);
            t |= crate::index::bitmap_from_sorted(&ct);
            if want.f {
                f |= crate::index::bitmap_from_sorted(&cf);
            }
        }
        Some(Truth {
            t: t & self.universe,
            f: f & self.universe,
        })
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
        if let Some(x) = self.exact_want(e, Want::TRUE) {
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

/// Rows of a column where `pred` is true and where it is false, in row order. Dense columns
/// are split across threads by slot; sparse ones are read in one pass.
fn scan_column(
    col: &crate::store::Column,
    pred: &(impl Fn(Val<'_>) -> Option<bool> + Sync),
) -> (Vec<u32>, Vec<u32>) {
    use rayon::prelude::*;
    use std::borrow::Cow;

    use crate::store::ValueRef;
    let test = |slot: usize| -> Option<bool> {
        match col.value_at(slot) {
            ValueRef::Null => pred(Val::Null),
            ValueRef::Bool(b) => pred(Val::Bool(b)),
            ValueRef::Number(n) => pred(Val::Num(n)),
            ValueRef::String(s) => pred(Val::Str(Cow::Borrowed(s))),
            // The timestamp's text on the stack: no allocation per row.
            ValueRef::Time(t) => pred(Val::Str(Cow::Borrowed(&t.text()))),
            // Scanned predicates (comparisons, STARTSWITH) are undefined on objects and
            // arrays; an empty array stands for both.
            ValueRef::Object | ValueRef::Array(_) => {
                pred(Val::Json(Cow::Owned(serde_json::Value::Array(Vec::new()))))
            }
        }
    };
    let split = |rows: &mut (Vec<u32>, Vec<u32>), row: u32, slot: usize| match test(slot) {
        Some(true) => rows.0.push(row),
        Some(false) => rows.1.push(row),
        None => {}
    };
    if col.present().len() == col.len() as u64
        && col.present().min() == Some(0)
        && col.present().max() == Some(col.len() as u32 - 1)
    {
        let parts: Vec<(Vec<u32>, Vec<u32>)> = (0..col.len())
            .into_par_iter()
            .chunks(64 * 1024)
            .map(|slots| {
                let mut out = (Vec::new(), Vec::new());
                for slot in slots {
                    split(&mut out, slot as u32, slot);
                }
                out
            })
            .collect();
        let mut out = (Vec::new(), Vec::new());
        for (t, f) in parts {
            out.0.extend(t);
            out.1.extend(f);
        }
        out
    } else {
        let mut out = (Vec::new(), Vec::new());
        for (row, slot) in col.slots() {
            split(&mut out, row, slot);
        }
        out
    }
}
