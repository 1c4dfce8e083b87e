//! Aggregates and grouping, in parallel: each partition of the matching rows (contiguous row
//! ranges) builds its own groups, and partitions merge in row order, so that "first row" rules
//! (a group's key spelling, `MIN`/`MAX` ties) do not depend on scheduling.

use std::cmp::Ordering;
use std::collections::HashMap;

use rayon::prelude::*;
use roaring::RoaringBitmap;
use serde_json::Value;

use super::eval::{eval, Env, RowCtx};
use super::value::{total_cmp, Val};
use crate::plan::{AggregateSpec, Plan};
use crate::sql::AggregateFunc;
use crate::store::{Kind, Store};

/// A sum that is exact until it is read (Shewchuk's partials, as Python's `math.fsum`), so that
/// partitions can be added in any grouping and still give the reference's answer.
#[derive(Debug, Clone, Default)]
pub struct ExactSum {
    partials: Vec<f64>,
}

impl ExactSum {
    pub fn add(&mut self, mut x: f64) {
        let mut i = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.partials.truncate(i);
        self.partials.push(x);
    }

    pub fn merge(&mut self, other: &ExactSum) {
        for &p in &other.partials {
            self.add(p);
        }
    }

    /// The sum rounded once to the nearest `f64` (half-way cases corrected as fsum does).
    pub fn value(&self) -> f64 {
        let p = &self.partials;
        if p.iter().any(|x| !x.is_finite()) {
            return p.iter().sum();
        }
        let Some(mut n) = p.len().checked_sub(1) else {
            return 0.0;
        };
        let mut hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            lo = y - (hi - x);
            if lo != 0.0 {
                break;
            }
        }
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }
}

/// The running state of one aggregate in one group.
#[derive(Debug, Clone)]
pub enum AggState {
    Count(u64),
    Sum { sum: ExactSum, n: u64 },
    Best(Option<Val<'static>>),
}

impl AggState {
    pub fn new(func: AggregateFunc) -> AggState {
        match func {
            AggregateFunc::Count => AggState::Count(0),
            AggregateFunc::Sum | AggregateFunc::Avg => AggState::Sum {
                sum: ExactSum::default(),
                n: 0,
            },
            AggregateFunc::Min | AggregateFunc::Max => AggState::Best(None),
        }
    }

    fn add(&mut self, spec: &AggregateSpec, env: &RowCtx<'_>) {
        match self {
            AggState::Count(c) => match &spec.arg {
                None => *c += 1,
                Some(a) => *c += u64::from(eval(env, a).is_defined()),
            },
            AggState::Sum { sum, n } => {
                if let Some(x) = spec.arg.as_ref().and_then(|a| eval(env, a).as_f64()) {
                    sum.add(x);
                    *n += 1;
                }
            }
            AggState::Best(best) => {
                let Some(a) = &spec.arg else { return };
                let v = eval(env, a);
                if matches!(v, Val::Undef | Val::Json(_)) {
                    return;
                }
                if improves(spec.func, &v, best.as_ref()) {
                    *best = Some(v.into_owned());
                }
            }
        }
    }

    /// Adds a later partition's state (ties keep the earlier value).
    fn merge(&mut self, func: AggregateFunc, later: AggState) {
        match (self, later) {
            (AggState::Count(a), AggState::Count(b)) => *a += b,
            (AggState::Sum { sum, n }, AggState::Sum { sum: s2, n: n2 }) => {
                sum.merge(&s2);
                *n += n2;
            }
            (AggState::Best(a), AggState::Best(Some(b))) if improves(func, &b, a.as_ref()) => {
                *a = Some(b);
            }
            _ => {}
        }
    }

    pub fn result(&self, func: AggregateFunc) -> Val<'static> {
        match self {
            AggState::Count(c) => Val::Computed(*c as f64),
            AggState::Sum { n: 0, .. } => Val::Undef,
            AggState::Sum { sum, n } => {
                let s = sum.value();
                Val::computed(if func == AggregateFunc::Avg {
                    s / *n as f64
                } else {
                    s
                })
            }
            AggState::Best(b) => b.clone().unwrap_or(Val::Undef),
        }
    }
}

fn improves(func: AggregateFunc, v: &Val<'_>, best: Option<&Val<'_>>) -> bool {
    match best {
        None => true,
        Some(b) => {
            let o = total_cmp(v, b);
            if func == AggregateFunc::Min {
                o == Ordering::Less
            } else {
                o == Ordering::Greater
            }
        }
    }
}

/// GROUP BY answered from value indexes, without touching rows: when every key is a path
/// whose columns are all indexed (and hold no objects or arrays), every aggregate is
/// `COUNT()` and no matching row is irregular, each group is an intersection of index
/// bitmaps and its size is that bitmap's cardinality. Key values and spellings are read from
/// each group's first row, as the generic path does. `None` when the shortcut does not apply.
pub fn group_by_index(store: &Store, plan: &Plan, matches: &RoaringBitmap) -> Option<Vec<Group>> {
    if plan.group_keys.is_empty()
        || plan
            .aggregates
            .iter()
            .any(|a| a.func != AggregateFunc::Count || a.arg.is_some())
        || !matches.is_disjoint(store.irregular_in(plan.view))
    {
        return None;
    }
    if let [key] = plan.group_keys.as_slice() {
        return count_one_key(store, plan, *key, matches);
    }
    // Per key: the distinct values of its columns (spellings merged), as bitmaps.
    let mut per_key: Vec<Vec<RoaringBitmap>> = Vec::new();
    for &p in &plan.group_keys {
        let bp = &plan.paths[p];
        if bp.has_tail() {
            return None;
        }
        let mut indexes = Vec::with_capacity(bp.columns.len());
        for &c in &bp.columns {
            let col = store.column(c);
            let counts = col.kind_counts();
            if counts[Kind::Object as usize] + counts[Kind::Array as usize] > 0 {
                return None;
            }
            indexes.push(col.index()?);
        }
        let merged = crate::index::merged_entries(indexes);
        per_key.push(merged.into_iter().map(|(_, b)| b.into_owned()).collect());
    }
    // Split the matching rows key by key; rows without a value form the undefined group.
    let mut parts: Vec<RoaringBitmap> = vec![matches.clone()];
    for entries in &per_key {
        let mut next = Vec::new();
        for part in parts {
            let mut rest = part.clone();
            for e in entries {
                let g = &part & e;
                if !g.is_empty() {
                    rest -= &g;
                    next.push(g);
                }
            }
            if !rest.is_empty() {
                next.push(rest);
            }
        }
        if next.len() > 100_000 {
            return None;
        }
        parts = next;
    }
    let mut groups: Vec<Group> = parts
        .into_iter()
        .filter_map(|rows| Some(key_group(store, plan, rows.min()?, rows.len())))
        .collect();
    groups.sort_by_key(|g| g.first_row);
    Some(groups)
}

/// [`group_by_index`] for one key: each value's group is its bitmap's intersection with the
/// matching rows, and only its size and first row are needed, so nothing is materialised:
/// one `intersection_len` per value of each of the path's columns (spellings combine by
/// key), the undefined group is what is left. Every bitmap of a path is disjoint from the
/// others (a regular row has one value), so the sizes add up.
fn count_one_key(
    store: &Store,
    plan: &Plan,
    key: usize,
    matches: &RoaringBitmap,
) -> Option<Vec<Group>> {
    let bp = &plan.paths[key];
    if bp.has_tail() {
        return None;
    }
    // Every row of the collection (no WHERE, or one true everywhere): each value's split
    // between modules and devices, computed once per index, gives its count and first row.
    let (all, _) = store.collection_rows_in(plan.collection, plan.view);
    let whole = matches.len() == all.len();
    let modules = plan.collection == crate::sql::Collection::Modules;
    // (key, count, first row) per distinct value, spellings combined.
    let mut found: Vec<(&crate::index::IndexKey, u64, u32)> = Vec::new();
    for &c in &bp.columns {
        let col = store.column(c);
        let counts = col.kind_counts();
        if counts[Kind::Object as usize] + counts[Kind::Array as usize] > 0 {
            return None;
        }
        let index = col.index()?;
        let split = whole.then(|| index.split(store.modules()));
        for (i, (k, b)) in index.entries().iter().enumerate() {
            let (n, first) = match split {
                Some(split) if modules => (split[i].inside, split[i].first_inside),
                Some(split) => (split[i].outside, split[i].first_outside),
                None => (b.intersection_len(matches), None),
            };
            if n == 0 {
                continue;
            }
            let first = match first.or(b.min()) {
                Some(m) if matches.contains(m) => m,
                _ => (b & matches).min()?,
            };
            match found.iter_mut().find(|(f, _, _)| f.cmp_key(k).is_eq()) {
                Some(g) => {
                    g.1 += n;
                    g.2 = g.2.min(first);
                }
                None => found.push((k, n, first)),
            }
        }
    }
    let mut groups: Vec<Group> = Vec::with_capacity(found.len() + 1);
    let mut counted = 0;
    for (_, count, first_row) in found {
        counted += count;
        groups.push(key_group(store, plan, first_row, count));
    }
    if counted < matches.len() {
        let columns: Vec<&RoaringBitmap> = bp
            .columns
            .iter()
            .map(|&c| store.column(c).present())
            .collect();
        let undefined = |r: u32| !columns.iter().any(|p| p.contains(r));
        // The first row without a value is usually among the first few; else subtract.
        let first_row = match matches.iter().take(64).find(|&r| undefined(r)) {
            Some(r) => r,
            None => {
                let defined = columns.iter().fold(RoaringBitmap::new(), |acc, p| acc | *p);
                (matches - defined).min()?
            }
        };
        groups.push(key_group(store, plan, first_row, matches.len() - counted));
    }
    groups.sort_by_key(|g| g.first_row);
    Some(groups)
}

/// A group of `count` rows counted from bitmaps, its key read from its first row.
fn key_group(store: &Store, plan: &Plan, first_row: u32, count: u64) -> Group {
    let ctx = RowCtx::new(store, plan, first_row);
    let (keys, key_names) = plan
        .group_keys
        .iter()
        .map(|&p| {
            let (v, name) = ctx.path(p);
            (v.into_owned(), name.map(|n| n.into_owned()))
        })
        .unzip();
    Group {
        first_row,
        keys,
        key_names,
        count,
        states: plan
            .aggregates
            .iter()
            .map(|_| AggState::Count(count))
            .collect(),
    }
}

/// One group: its key values and spellings (from its first row), its size and aggregates.
#[derive(Debug, Clone)]
pub struct Group {
    pub first_row: u32,
    pub keys: Vec<Val<'static>>,
    pub key_names: Vec<Option<String>>,
    pub count: u64,
    pub states: Vec<AggState>,
}

/// A group as an expression environment: group keys and aggregates have values, paths do not.
pub struct GroupEnv<'g> {
    pub group: &'g Group,
    pub aggregates: &'g [AggregateSpec],
}

impl Env for GroupEnv<'_> {
    fn path(&self, _p: usize) -> Val<'_> {
        Val::Undef
    }
    fn group_key(&self, k: usize) -> Val<'_> {
        self.group.keys[k].clone()
    }
    fn aggregate(&self, i: usize) -> Val<'_> {
        self.group.states[i].result(self.aggregates[i].func)
    }
}

/// Rows per parallel partition.
const PARTITION: usize = 32 * 1024;

/// Groups `rows` (ascending) by the plan's keys, computing every aggregate; groups come in
/// order of first appearance. Without GROUP BY there is exactly one group (even for no rows).
pub fn group_rows(store: &Store, plan: &Plan, rows: &[u32]) -> Vec<Group> {
    let partials: Vec<Partition> = rows
        .par_chunks(PARTITION)
        .map(|chunk| group_partition(store, plan, chunk))
        .collect();
    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: HashMap<Vec<u8>, usize> = HashMap::new();
    for (part, keys) in partials {
        let mut index: Vec<(usize, Vec<u8>)> = keys.into_iter().map(|(k, i)| (i, k)).collect();
        index.sort_by_key(|(i, _)| *i);
        for ((_, key), g) in index.into_iter().zip(part) {
            match by_key.get(&key) {
                Some(&gi) => {
                    let target = &mut groups[gi];
                    target.count += g.count;
                    for ((s, spec), later) in
                        target.states.iter_mut().zip(&plan.aggregates).zip(g.states)
                    {
                        s.merge(spec.func, later);
                    }
                }
                None => {
                    by_key.insert(key, groups.len());
                    groups.push(g);
                }
            }
        }
    }
    if groups.is_empty() && plan.group_keys.is_empty() {
        groups.push(new_group(plan, 0, Vec::new(), Vec::new()));
    }
    groups
}

fn new_group(
    plan: &Plan,
    first_row: u32,
    keys: Vec<Val<'static>>,
    key_names: Vec<Option<String>>,
) -> Group {
    Group {
        first_row,
        keys,
        key_names,
        count: 0,
        states: plan
            .aggregates
            .iter()
            .map(|a| AggState::new(a.func))
            .collect(),
    }
}

/// One partition's groups in first-appearance order, and each group's encoded key.
type Partition = (Vec<Group>, HashMap<Vec<u8>, usize>);

fn group_partition(store: &Store, plan: &Plan, rows: &[u32]) -> Partition {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut key_buf = Vec::new();
    for &row in rows {
        let ctx = RowCtx::new(store, plan, row);
        key_buf.clear();
        let mut vals = Vec::with_capacity(plan.group_keys.len());
        for &p in &plan.group_keys {
            let (v, name) = ctx.path(p);
            encode_key(&v, &mut key_buf);
            vals.push((v, name));
        }
        let gi = match by_key.get(&key_buf) {
            Some(&gi) => gi,
            None => {
                let (keys, names) = vals
                    .into_iter()
                    .map(|(v, n)| (v.into_owned(), n.map(|n| n.into_owned())))
                    .unzip();
                groups.push(new_group(plan, row, keys, names));
                by_key.insert(key_buf.clone(), groups.len() - 1);
                groups.len() - 1
            }
        };
        let g = &mut groups[gi];
        g.count += 1;
        for (s, spec) in g.states.iter_mut().zip(&plan.aggregates) {
            s.add(spec, &ctx);
        }
    }
    (groups, by_key)
}

/// A byte encoding under which two key values are equal exactly when they group together:
/// primitives under `=` (numbers by value, so 5 and 5.0 meet), objects and arrays by deep
/// equality (numbers by value, object keys in any order), undefined with undefined.
pub fn encode_key(v: &Val<'_>, out: &mut Vec<u8>) {
    match v {
        Val::Undef => out.push(0),
        Val::Null => out.push(1),
        Val::Bool(b) => out.extend_from_slice(&[2, u8::from(*b)]),
        Val::Num(_) | Val::Computed(_) => encode_number(v.as_f64().unwrap_or(0.0), out),
        Val::Str(s) => encode_str(s, out),
        Val::Json(j) => encode_json(j, out),
    }
}

fn encode_number(x: f64, out: &mut Vec<u8>) {
    let x = if x == 0.0 { 0.0 } else { x };
    out.push(3);
    out.extend_from_slice(&x.to_bits().to_le_bytes());
}

fn encode_str(s: &str, out: &mut Vec<u8>) {
    out.push(4);
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn encode_json(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.push(1),
        Value::Bool(b) => out.extend_from_slice(&[2, u8::from(*b)]),
        Value::Number(n) => encode_number(n.as_f64().unwrap_or(0.0), out),
        Value::String(s) => encode_str(s, out),
        Value::Array(items) => {
            out.push(5);
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for i in items {
                encode_json(i, out);
            }
        }
        Value::Object(map) => {
            out.push(6);
            out.extend_from_slice(&(map.len() as u64).to_le_bytes());
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (k, v) in entries {
                encode_str(k, out);
                encode_json(v, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sum_is_order_independent_and_mergeable() {
        let xs = [1e16, 1.0, -1e16, 1.0, 0.1, 0.2, 0.3];
        let mut whole = ExactSum::default();
        xs.iter().for_each(|&x| whole.add(x));
        let (mut a, mut b) = (ExactSum::default(), ExactSum::default());
        xs[..3].iter().for_each(|&x| a.add(x));
        xs[3..].iter().for_each(|&x| b.add(x));
        a.merge(&b);
        assert_eq!(whole.value(), 2.6);
        assert_eq!(a.value(), 2.6);
    }

    #[test]
    fn keys_group_five_with_five_point_oh_and_objects_in_any_order() {
        let k = |v: &Val<'_>| {
            let mut out = Vec::new();
            encode_key(v, &mut out);
            out
        };
        use crate::store::Num;
        assert_eq!(k(&Val::Num(Num::Int(5))), k(&Val::Num(Num::Float(5.0))));
        let a: Value = serde_json::from_str(r#"{"a":1,"b":[2.0]}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b":[2],"a":1.0}"#).unwrap();
        assert_eq!(
            k(&Val::Json(std::borrow::Cow::Owned(a))),
            k(&Val::Json(std::borrow::Cow::Owned(b)))
        );
        assert_ne!(k(&Val::Undef), k(&Val::Null));
    }
}
