//! A whole query, step by step: check it, pick the collection, filter, group, order, cut, shape.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::eval::{aggregate, eval, resolve, Env, RowEnv};
use super::value::{group_eq, order_by_cmp, total_cmp, Val};
use crate::sql::{
    AggregateFunc, Collection, Expr, ExprKind, Path, Query, QueryError, Segment, SelectItem,
    SelectList,
};

/// Evaluates `query` over normalised twins (see the module documentation for every rule).
pub fn evaluate(query: &Query, twins: &[Value]) -> Result<Vec<Value>, QueryError> {
    let collection = query.from.collection;
    let plan = check(query)?;

    // FROM: device twins have no (non-null) moduleId, module twins have one.
    let in_collection = |t: &&Value| is_module(t) == (collection == Collection::Modules);
    // WHERE: a row stays only when the condition is exactly `true`.
    let rows: Vec<&Value> = twins
        .iter()
        .filter(in_collection)
        .filter(|twin| match &query.filter {
            None => true,
            Some(cond) => eval(cond, &RowEnv { twin, collection }) == Some(Value::Bool(true)),
        })
        .collect();

    let mut results = if plan.aggregated {
        grouped(query, &plan, &rows)
    } else {
        plain(query, &plan, &rows)
    };

    // TOP applies last, after grouping and ordering.
    if let Some(top) = query.top {
        results.truncate(usize::try_from(top.n).unwrap_or(usize::MAX));
    }
    Ok(results)
}

/// A twin is a module twin when it has a top-level `moduleId` that is not `null`.
fn is_module(twin: &Value) -> bool {
    twin.get("moduleId").is_some_and(|m| !m.is_null())
}

/// A value with the document spelling of its last named segment; `None` is undefined.
type Keyed = Option<(Value, Option<String>)>;

/// What checking the query found out.
pub(super) struct Plan<'q> {
    /// GROUP BY present, or an aggregate somewhere in the select list.
    aggregated: bool,
    /// The GROUP BY paths, unqualified.
    keys: Vec<Vec<Segment>>,
    /// The static output key of each select element: its alias, the last named segment of
    /// its unqualified path, or `$k`.
    names: Vec<String>,
    /// Per ORDER BY term: `Some(i)` when it names select element `i` by alias.
    order_alias: Vec<Option<usize>>,
    items: &'q [SelectItem],
}

pub(super) fn check(query: &Query) -> Result<Plan<'_>, QueryError> {
    let collection = query.from.collection;
    let items: &[SelectItem] = match &query.select {
        SelectList::Star(_) => &[],
        SelectList::Items(items) => items,
    };

    // 1. No aggregate in WHERE.
    if let Some(cond) = &query.filter {
        if let Some(agg) = first_aggregate(cond) {
            return Err(QueryError::new(
                "aggregate functions are not allowed in WHERE",
                agg.span,
            ));
        }
    }
    // 2. No aggregate inside another.
    for e in items
        .iter()
        .map(|i| &i.expr)
        .chain(query.order_by.iter().map(|o| &o.expr))
    {
        check_nesting(e, None)?;
    }
    // 3. SELECT * is not a grouped shape.
    if let (SelectList::Star(span), false) = (&query.select, query.group_by.is_empty()) {
        return Err(QueryError::new(
            "SELECT * cannot be used with GROUP BY; select the group keys and aggregates",
            *span,
        ));
    }

    let keys: Vec<Vec<Segment>> = query
        .group_by
        .iter()
        .map(|p| p.unqualified(collection))
        .collect();
    let grouped = !query.group_by.is_empty();
    let aggregated = grouped || items.iter().any(|i| i.expr.contains_aggregate());

    // 4. In an aggregate query, every path outside an aggregate must be a group key.
    if aggregated {
        for item in items {
            if let Some(p) = stray_path(&item.expr, &keys, collection) {
                let msg = if grouped {
                    format!(
                        "'{}' is not a GROUP BY key: a grouped query may select only group keys and aggregates",
                        show_path(p)
                    )
                } else {
                    format!(
                        "cannot mix aggregates and plain paths without GROUP BY: '{}' is not inside an aggregate",
                        show_path(p)
                    )
                };
                return Err(QueryError::new(msg, p.span));
            }
        }
    }

    // 5. Output keys must differ (ignoring case).
    let mut names = Vec::with_capacity(items.len());
    let mut dollar = 0;
    for item in items {
        let name = match (&item.alias, &item.expr.kind) {
            (Some(alias), _) => alias.name.clone(),
            (None, ExprKind::Path(p)) if last_name(&p.unqualified(collection)).is_some() => {
                last_name(&p.unqualified(collection))
                    .unwrap_or_default()
                    .to_string()
            }
            (None, _) => {
                dollar += 1;
                format!("${dollar}")
            }
        };
        if names
            .iter()
            .any(|n: &String| n.to_lowercase() == name.to_lowercase())
        {
            let span = item.alias.as_ref().map_or(item.span, |a| a.span);
            return Err(QueryError::new(
                format!("two select elements are named '{name}': rename one with AS"),
                span,
            ));
        }
        names.push(name);
    }

    // 6. ORDER BY terms.
    let mut order_alias = Vec::with_capacity(query.order_by.len());
    for term in &query.order_by {
        let alias = match &term.expr.kind {
            ExprKind::Path(p) => match p.segments.as_slice() {
                [Segment::Name(n)] => items.iter().position(|i| {
                    i.alias
                        .as_ref()
                        .is_some_and(|a| a.name.to_lowercase() == n.to_lowercase())
                }),
                _ => None,
            },
            _ => None,
        };
        if alias.is_none() {
            if aggregated {
                if let Some(p) = stray_path(&term.expr, &keys, collection) {
                    let msg = if grouped {
                        format!(
                            "ORDER BY '{}' is not a GROUP BY key, an aggregate or a select alias",
                            show_path(p)
                        )
                    } else {
                        format!(
                            "cannot mix aggregates and plain paths without GROUP BY: '{}' in ORDER BY is not inside an aggregate",
                            show_path(p)
                        )
                    };
                    return Err(QueryError::new(msg, p.span));
                }
            } else if let Some(agg) = first_aggregate(&term.expr) {
                return Err(QueryError::new(
                    "aggregates in ORDER BY need an aggregate query (GROUP BY, or aggregates in the select list)",
                    agg.span,
                ));
            }
        }
        order_alias.push(alias);
    }

    Ok(Plan {
        aggregated,
        keys,
        names,
        order_alias,
        items,
    })
}

/// The first aggregate in an expression, in written order.
fn first_aggregate(e: &Expr) -> Option<&Expr> {
    if matches!(e.kind, ExprKind::Aggregate { .. }) {
        return Some(e);
    }
    children(e).into_iter().find_map(first_aggregate)
}

fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Literal(_) | ExprKind::Path(_) => vec![],
        ExprKind::Unary { operand, .. } => vec![operand],
        ExprKind::Binary { left, right, .. } => vec![left, right],
        ExprKind::In { operand, list, .. } => std::iter::once(&**operand).chain(list).collect(),
        ExprKind::Call { args, .. } => args.iter().collect(),
        ExprKind::Aggregate { arg, .. } => arg.iter().map(|a| &**a).collect(),
    }
}

/// The parser already refuses nested aggregates; this guards hand-built trees, with the
/// parser's wording.
fn check_nesting(e: &Expr, outer: Option<AggregateFunc>) -> Result<(), QueryError> {
    let this = match e.kind {
        ExprKind::Aggregate { func, .. } => Some(func),
        _ => None,
    };
    if let (Some(inner), Some(outer)) = (this, outer) {
        return Err(QueryError::new(
            format!(
                "aggregate functions cannot be nested ({} inside {})",
                inner.name(),
                outer.name()
            ),
            e.span,
        ));
    }
    for c in children(e) {
        check_nesting(c, this.or(outer))?;
    }
    Ok(())
}

/// The first path (in written order) that is outside every aggregate and is not a group key.
fn stray_path<'e>(e: &'e Expr, keys: &[Vec<Segment>], collection: Collection) -> Option<&'e Path> {
    match &e.kind {
        ExprKind::Aggregate { .. } => None,
        ExprKind::Path(p) => (key_index(p, keys, collection).is_none()).then_some(p),
        _ => children(e)
            .into_iter()
            .find_map(|c| stray_path(c, keys, collection)),
    }
}

/// Which GROUP BY key a path is: same unqualified segments, names compared with
/// `str::to_lowercase` (SPEC §4.8). The first matching key when a key is repeated.
fn key_index(p: &Path, keys: &[Vec<Segment>], collection: Collection) -> Option<usize> {
    let segs = p.unqualified(collection);
    keys.iter().position(|k| {
        k.len() == segs.len()
            && k.iter().zip(&segs).all(|(a, b)| match (a, b) {
                (Segment::Name(x), Segment::Name(y)) => x.to_lowercase() == y.to_lowercase(),
                (Segment::Index(x), Segment::Index(y)) => x == y,
                _ => false,
            })
    })
}

fn last_name(segs: &[Segment]) -> Option<&str> {
    segs.iter().rev().find_map(|s| match s {
        Segment::Name(n) => Some(n.as_str()),
        Segment::Index(_) => None,
    })
}

/// A path for messages, as written: plain names joined by dots, other names in `[[ ]]`.
fn show_path(p: &Path) -> String {
    let mut out = String::new();
    for seg in &p.segments {
        match seg {
            Segment::Name(n) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let plain = n.chars().enumerate().all(|(i, c)| {
                    c == '_' || c == '$' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
                });
                if plain && !n.is_empty() {
                    out.push_str(n);
                } else {
                    out.push_str("[[");
                    out.push_str(n);
                    out.push_str("]]");
                }
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Shapes one result object from the select list; `path_key` gives an unaliased path's value
/// and key as found for this row or group.
fn project(plan: &Plan<'_>, env: &dyn Env, path_key: &dyn Fn(&Path) -> Keyed) -> Value {
    let mut out = Map::new();
    for (item, name) in plan.items.iter().zip(&plan.names) {
        let (key, value) = match (&item.alias, &item.expr.kind) {
            (None, ExprKind::Path(p)) => match path_key(p) {
                Some((v, spelled)) => (spelled.unwrap_or_else(|| name.clone()), Some(v)),
                None => (name.clone(), None),
            },
            _ => (name.clone(), eval(&item.expr, env)),
        };
        if let Some(v) = value {
            out.insert(key, v);
        }
    }
    Value::Object(out)
}

/// A query without aggregates: one result per row, in input order unless ORDER BY says.
fn plain(query: &Query, plan: &Plan<'_>, rows: &[&Value]) -> Vec<Value> {
    let collection = query.from.collection;
    let mut results: Vec<(Vec<Val>, Value)> = rows
        .iter()
        .map(|twin| {
            let env = RowEnv { twin, collection };
            let sort_keys = order_keys(query, plan, &env);
            let shaped = match &query.select {
                SelectList::Star(_) => (*twin).clone(),
                SelectList::Items(_) => project(plan, &env, &|p| {
                    resolve(twin, &p.unqualified(collection))
                        .map(|r| (r.value.clone(), r.last_name.map(str::to_string)))
                }),
            };
            (sort_keys, shaped)
        })
        .collect();
    sort_by_terms(query, &mut results);
    results.into_iter().map(|(_, v)| v).collect()
}

fn order_keys(query: &Query, plan: &Plan<'_>, env: &dyn Env) -> Vec<Val> {
    query
        .order_by
        .iter()
        .zip(&plan.order_alias)
        .map(
            |(term, alias)| match alias.and_then(|i| plan.items.get(i)) {
                Some(item) => eval(&item.expr, env),
                None => eval(&term.expr, env),
            },
        )
        .collect()
}

/// Stable sort on the ORDER BY terms (SPEC §4.5); nothing happens without ORDER BY.
fn sort_by_terms(query: &Query, results: &mut [(Vec<Val>, Value)]) {
    results.sort_by(|(a, _), (b, _)| {
        for ((x, y), term) in a.iter().zip(b).zip(&query.order_by) {
            let o = order_by_cmp(x, y, term.descending);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
}

/// One group: its key values and spellings as found on its first row, and its rows.
struct Group<'a> {
    keys: Vec<Keyed>,
    /// The values of `keys`, for comparing.
    values: Vec<Val>,
    rows: Vec<&'a Value>,
}

/// Paths resolve to the group's keys; aggregates run over the group's rows.
struct GroupEnv<'g> {
    group: &'g Group<'g>,
    keys: &'g [Vec<Segment>],
    collection: Collection,
}

impl GroupEnv<'_> {
    fn key(&self, p: &Path) -> Keyed {
        let i = key_index(p, self.keys, self.collection)?;
        self.group.keys.get(i)?.clone()
    }
}

impl Env for GroupEnv<'_> {
    fn path(&self, p: &Path) -> Val {
        self.key(p).map(|(v, _)| v)
    }

    fn aggregate(&self, func: AggregateFunc, arg: Option<&Expr>) -> Val {
        aggregate(func, arg, &self.group.rows, self.collection)
    }
}

/// An aggregate query: one result per group; without GROUP BY exactly one group holding
/// every row (even none).
fn grouped(query: &Query, plan: &Plan<'_>, rows: &[&Value]) -> Vec<Value> {
    let collection = query.from.collection;
    let mut groups: Vec<Group<'_>> = Vec::new();
    if plan.keys.is_empty() {
        groups.push(Group {
            keys: vec![],
            values: vec![],
            rows: rows.to_vec(),
        });
    } else {
        for &twin in rows {
            let keys: Vec<Keyed> = plan
                .keys
                .iter()
                .map(|k| {
                    resolve(twin, k).map(|r| (r.value.clone(), r.last_name.map(str::to_string)))
                })
                .collect();
            let values: Vec<Val> = keys
                .iter()
                .map(|k| k.as_ref().map(|(v, _)| v.clone()))
                .collect();
            match groups
                .iter_mut()
                .find(|g| g.values.iter().zip(&values).all(|(a, b)| group_eq(a, b)))
            {
                Some(g) => g.rows.push(twin),
                None => groups.push(Group {
                    keys,
                    values,
                    rows: vec![twin],
                }),
            }
        }
    }

    if query.order_by.is_empty() && !plan.keys.is_empty() {
        // Descending count, then ascending keys (lexicographic, §2.2 order); stable.
        groups.sort_by(|a, b| {
            b.rows.len().cmp(&a.rows.len()).then_with(|| {
                a.values
                    .iter()
                    .zip(&b.values)
                    .map(|(x, y)| total_cmp(x, y))
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal)
            })
        });
    }

    let mut results: Vec<(Vec<Val>, Value)> = groups
        .iter()
        .map(|group| {
            let env = GroupEnv {
                group,
                keys: &plan.keys,
                collection,
            };
            let sort_keys = order_keys(query, plan, &env);
            (sort_keys, project(plan, &env, &|p| env.key(p)))
        })
        .collect();
    // With ORDER BY, groups start in first-appearance order and the sort is stable.
    sort_by_terms(query, &mut results);
    results.into_iter().map(|(_, v)| v).collect()
}
