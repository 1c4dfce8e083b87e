//! Expressions: paths, literals, operators and scalar functions over one row (SPEC §2.1–§2.3),
//! and aggregates over a group of rows (SPEC §2.4).

use std::cmp::Ordering;

use serde_json::Value;

use super::value::{
    computed, deep_eq, exact_sum, is_primitive, num, sql_cmp, sql_eq, total_cmp, Val,
};
use crate::sql::{AggregateFunc, BinaryOp, Expr, ExprKind, Function, Literal, Segment, UnaryOp};

/// A resolved path: the value, and the last named segment as spelled in the document.
pub struct Resolved<'a> {
    pub value: &'a Value,
    pub last_name: Option<&'a str>,
}

/// Looks one member up (SPEC §2.1, §4.1): the exact-case key wins, else the first key in
/// document order whose `str::to_lowercase` equals the name's.
pub fn member<'a>(
    obj: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Option<(&'a str, &'a Value)> {
    if let Some((k, v)) = obj.get_key_value(name) {
        return Some((k.as_str(), v));
    }
    let lower = name.to_lowercase();
    obj.iter()
        .find(|(k, _)| k.to_lowercase() == lower)
        .map(|(k, v)| (k.as_str(), v))
}

/// Resolves unqualified segments against a document: names step into objects (never into
/// arrays), `[n]` steps into arrays (never into objects). Anything else is undefined.
pub fn resolve<'a>(root: &'a Value, segments: &[Segment]) -> Option<Resolved<'a>> {
    let mut cur = root;
    let mut last_name = None;
    for seg in segments {
        match (seg, cur) {
            (Segment::Name(n), Value::Object(obj)) => {
                let (k, v) = member(obj, n)?;
                last_name = Some(k);
                cur = v;
            }
            (Segment::Index(i), Value::Array(items)) => {
                cur = items.get(usize::try_from(*i).ok()?)?;
            }
            _ => return None,
        }
    }
    Some(Resolved {
        value: cur,
        last_name,
    })
}

/// Where an expression finds its paths and aggregates.
pub trait Env {
    /// The value of a path (SPEC §2.1).
    fn path(&self, path: &crate::sql::Path) -> Val;
    /// The value of an aggregate; only grouped environments have one.
    fn aggregate(&self, func: AggregateFunc, arg: Option<&Expr>) -> Val;
}

/// One twin: paths resolve against it; aggregates are undefined (validation keeps them out).
pub struct RowEnv<'a> {
    pub twin: &'a Value,
    pub collection: crate::sql::Collection,
}

impl Env for RowEnv<'_> {
    fn path(&self, path: &crate::sql::Path) -> Val {
        resolve(self.twin, &path.unqualified(self.collection)).map(|r| r.value.clone())
    }

    fn aggregate(&self, _: AggregateFunc, _: Option<&Expr>) -> Val {
        None
    }
}

/// A literal as a value: numbers follow the computed-number rule ([`computed`]), so `2.0`
/// yields `2`; `undefined` is undefined.
pub fn literal(lit: &Literal) -> Val {
    match lit {
        Literal::Undefined => None,
        Literal::Null => Some(Value::Null),
        Literal::Bool(b) => Some(Value::Bool(*b)),
        Literal::Number(x) => computed(*x),
        Literal::String(s) => Some(Value::String(s.clone())),
        // An undefined element cannot live in a JSON array: it is left out.
        Literal::Array(items) => Some(Value::Array(items.iter().filter_map(literal).collect())),
    }
}

/// Truth of a value under three-valued logic: only JSON booleans are true or false.
fn truth(v: &Val) -> Option<bool> {
    match v {
        Some(Value::Bool(b)) => Some(*b),
        _ => None,
    }
}

fn boolean(b: Option<bool>) -> Val {
    b.map(Value::Bool)
}

/// Evaluates an expression.
pub fn eval(expr: &Expr, env: &dyn Env) -> Val {
    match &expr.kind {
        ExprKind::Literal(lit) => literal(lit),
        ExprKind::Path(p) => env.path(p),
        ExprKind::Unary { op, operand } => {
            let v = eval(operand, env);
            match op {
                UnaryOp::Not => boolean(truth(&v).map(|b| !b)),
                UnaryOp::Neg => computed(-num(v.as_ref()?)?),
            }
        }
        ExprKind::Binary { op, left, right } => {
            let l = eval(left, env);
            let r = eval(right, env);
            binary(*op, &l, &r)
        }
        ExprKind::In {
            operand,
            list,
            negated,
        } => {
            let x = eval(operand, env);
            let result = if list.iter().any(|c| sql_eq(&x, &eval(c, env)) == Some(true)) {
                Some(true)
            } else if x.as_ref().is_some_and(is_primitive) {
                Some(false)
            } else {
                None
            };
            boolean(if *negated { result.map(|b| !b) } else { result })
        }
        ExprKind::Call { func, args } => {
            let vals: Vec<Val> = args.iter().map(|a| eval(a, env)).collect();
            call(*func, &vals)
        }
        ExprKind::Aggregate { func, arg } => env.aggregate(*func, arg.as_deref()),
    }
}

fn binary(op: BinaryOp, l: &Val, r: &Val) -> Val {
    let cmp = || sql_cmp(l, r);
    match op {
        BinaryOp::And => match (truth(l), truth(r)) {
            (Some(false), _) | (_, Some(false)) => boolean(Some(false)),
            (Some(true), Some(true)) => boolean(Some(true)),
            _ => None,
        },
        BinaryOp::Or => match (truth(l), truth(r)) {
            (Some(true), _) | (_, Some(true)) => boolean(Some(true)),
            (Some(false), Some(false)) => boolean(Some(false)),
            _ => None,
        },
        BinaryOp::Eq => boolean(cmp().map(|o| o == Ordering::Equal)),
        BinaryOp::NotEq => boolean(cmp().map(|o| o != Ordering::Equal)),
        BinaryOp::Lt => boolean(cmp().map(|o| o == Ordering::Less)),
        BinaryOp::LtEq => boolean(cmp().map(|o| o != Ordering::Greater)),
        BinaryOp::Gt => boolean(cmp().map(|o| o == Ordering::Greater)),
        BinaryOp::GtEq => boolean(cmp().map(|o| o != Ordering::Less)),
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
            let x = num(l.as_ref()?)?;
            let y = num(r.as_ref()?)?;
            match op {
                BinaryOp::Add => computed(x + y),
                BinaryOp::Sub => computed(x - y),
                BinaryOp::Mul => computed(x * y),
                BinaryOp::Div if y == 0.0 => None,
                BinaryOp::Div => computed(x / y),
                BinaryOp::Mod if y == 0.0 => None,
                // Rust's `%` on f64 is C's fmod: the result takes the sign of the dividend.
                _ => computed(x % y),
            }
        }
    }
}

fn string(v: &Val) -> Option<&str> {
    match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn number(v: &Val) -> Option<f64> {
    num(v.as_ref()?)
}

fn text(s: String) -> Val {
    Some(Value::String(s))
}

/// A scalar function (SPEC §2.3, §4). `vals` has the arity the parser checked; a missing
/// argument is treated as undefined rather than trusted.
pub fn call(func: Function, vals: &[Val]) -> Val {
    let arg = |i: usize| -> &Val { vals.get(i).unwrap_or(&None) };
    let a = arg(0);
    let is = |p: fn(&Value) -> bool| boolean(Some(a.as_ref().is_some_and(p)));
    match func {
        Function::IsDefined => boolean(Some(a.is_some())),
        Function::IsArray => is(Value::is_array),
        Function::IsBool => is(Value::is_boolean),
        Function::IsNull => is(Value::is_null),
        Function::IsNumber => is(Value::is_number),
        Function::IsObject => is(Value::is_object),
        Function::IsPrimitive => is(is_primitive),
        Function::IsString => is(Value::is_string),
        Function::StartsWith => boolean(Some(string(a)?.starts_with(string(arg(1))?))),
        Function::EndsWith => boolean(Some(string(a)?.ends_with(string(arg(1))?))),
        Function::Contains => boolean(Some(string(a)?.contains(string(arg(1))?))),
        Function::Lower => text(string(a)?.to_lowercase()),
        Function::Upper => text(string(a)?.to_uppercase()),
        Function::Length => computed(string(a)?.chars().count() as f64),
        Function::Concat => {
            let mut out = String::new();
            for v in vals {
                out.push_str(string(v)?);
            }
            text(out)
        }
        Function::Substring => {
            let s = string(a)?;
            let start = integral(number(arg(1))?)?;
            let len = match vals.get(2) {
                Some(v) => integral(number(v)?)?,
                None => f64::INFINITY,
            };
            // The characters at code-point positions `start <= i < start + len` that exist.
            let end = start + len;
            text(
                s.chars()
                    .enumerate()
                    .filter(|(i, _)| (*i as f64) >= start && (*i as f64) < end)
                    .map(|(_, c)| c)
                    .collect(),
            )
        }
        Function::IndexOf => {
            let s = string(a)?;
            let t = string(arg(1))?;
            let pos = match s.find(t) {
                Some(byte) => s[..byte].chars().count() as f64,
                None => -1.0,
            };
            computed(pos)
        }
        Function::Abs => computed(number(a)?.abs()),
        Function::Ceiling => computed(number(a)?.ceil()),
        Function::Floor => computed(number(a)?.floor()),
        Function::Exp => computed(number(a)?.exp()),
        Function::Power => computed(number(a)?.powf(number(arg(1))?)),
        Function::Sign => {
            let x = number(a)?;
            computed(if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            })
        }
        Function::Sqrt => computed(number(a)?.sqrt()),
        Function::Square => {
            let x = number(a)?;
            computed(x * x)
        }
        Function::AsNumber => match a {
            Some(Value::Number(_)) => a.clone(),
            Some(Value::String(s)) if is_json_number(s) => computed(s.parse::<f64>().ok()?),
            _ => None,
        },
        Function::ArrayContains => match (a, arg(1)) {
            (Some(Value::Array(items)), Some(v)) => {
                boolean(Some(items.iter().any(|item| deep_eq(item, v))))
            }
            _ => None,
        },
    }
}

/// `SUBSTRING` positions must be integral numbers; anything else is a wrong type.
fn integral(x: f64) -> Option<f64> {
    (x.fract() == 0.0).then_some(x)
}

/// The JSON number grammar (RFC 8259 §6): `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`,
/// nothing before or after (no spaces, no `+`, no hex, no `Infinity`).
pub fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Computes one aggregate over the rows of a group (SPEC §2.4):
///
/// * `COUNT()` counts rows; `COUNT(p)` counts rows where `p` is defined (`null` included).
///   Always an integer, `0` on no rows.
/// * `SUM(p)`: the exact sum of the numeric values of `p`, rounded once ([`exact_sum`]),
///   then the computed-number rule; non-numbers are ignored; undefined when there are none.
/// * `AVG(p)`: that rounded sum divided by the number of numeric values, then the
///   computed-number rule; undefined when there are none.
/// * `MIN(p)`/`MAX(p)`: the least/greatest primitive value of `p` in the §2.2 order (null <
///   false < true < numbers < strings); objects, arrays and undefined are ignored; the value is
///   returned as it is in the document, and among equal values (`5` and `5.0`) the first row's
///   wins; undefined when there are none.
pub fn aggregate(
    func: AggregateFunc,
    arg: Option<&Expr>,
    rows: &[&Value],
    collection: crate::sql::Collection,
) -> Val {
    let values = || {
        rows.iter().filter_map(move |twin| {
            let env = RowEnv { twin, collection };
            arg.and_then(|e| eval(e, &env))
        })
    };
    match func {
        AggregateFunc::Count => {
            let n = match arg {
                None => rows.len(),
                Some(_) => values().count(),
            };
            Some(Value::from(n as u64))
        }
        AggregateFunc::Sum | AggregateFunc::Avg => {
            let nums: Vec<f64> = values().filter_map(|v| num(&v)).collect();
            if nums.is_empty() {
                return None;
            }
            let count = nums.len() as f64;
            let sum = exact_sum(nums);
            if func == AggregateFunc::Sum {
                computed(sum)
            } else {
                computed(sum / count)
            }
        }
        AggregateFunc::Min | AggregateFunc::Max => {
            let mut best: Val = None;
            for v in values().filter(is_primitive) {
                let v = Some(v);
                let better = match &best {
                    None => true,
                    Some(_) if func == AggregateFunc::Min => total_cmp(&v, &best) == Ordering::Less,
                    Some(_) => total_cmp(&v, &best) == Ordering::Greater,
                };
                if better {
                    best = v;
                }
            }
            best
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(x: &str) -> Val {
        Some(json!(x))
    }
    fn n(x: f64) -> Val {
        computed(x)
    }

    #[test]
    fn substring_clamps() {
        let sub = |a: Val, b: f64, c: Option<f64>| {
            let mut v = vec![a, n(b)];
            if let Some(c) = c {
                v.push(n(c));
            }
            call(Function::Substring, &v)
        };
        assert_eq!(sub(s("héllo"), 1.0, Some(3.0)), s("éll"));
        assert_eq!(sub(s("hello"), 3.0, None), s("lo"));
        assert_eq!(sub(s("hello"), -1.0, Some(2.0)), s("h"));
        assert_eq!(sub(s("hello"), 10.0, None), s(""));
        assert_eq!(sub(s("hello"), 1.0, Some(-2.0)), s(""));
        assert_eq!(sub(s("hello"), 1.5, None), None);
        assert_eq!(sub(Some(json!(5)), 1.0, None), None);
    }

    #[test]
    fn functions() {
        assert_eq!(call(Function::IndexOf, &[s("añb"), s("b")]), n(2.0));
        assert_eq!(call(Function::IndexOf, &[s("ab"), s("z")]), n(-1.0));
        assert_eq!(call(Function::Length, &[s("añb")]), n(3.0));
        assert_eq!(call(Function::Sign, &[n(0.0)]), n(0.0));
        assert_eq!(call(Function::Sqrt, &[n(-1.0)]), None);
        assert_eq!(call(Function::AsNumber, &[s("1e2")]), Some(json!(100)));
        assert_eq!(call(Function::AsNumber, &[s(" 1")]), None);
        assert_eq!(
            call(Function::AsNumber, &[Some(json!(2.0))]),
            Some(json!(2.0))
        );
        assert_eq!(call(Function::IsNull, &[None]), Some(json!(false)));
        assert_eq!(call(Function::Concat, &[s("a"), s("b"), s("c")]), s("abc"));
        assert_eq!(call(Function::Concat, &[s("a"), n(1.0)]), None);
    }

    #[test]
    fn json_number_grammar() {
        for ok in ["0", "-0", "12", "1.5", "1e5", "1E-5", "-0.0e+1"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "+1", "1e", "0x10", "NaN", "inf", "1 ",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }

    #[test]
    fn arithmetic() {
        assert_eq!(binary(BinaryOp::Div, &n(7.0), &n(2.0)), n(3.5));
        assert_eq!(binary(BinaryOp::Mod, &n(-7.0), &n(3.0)), n(-1.0));
        assert_eq!(binary(BinaryOp::Mod, &n(7.0), &n(-3.0)), n(1.0));
        assert_eq!(binary(BinaryOp::Div, &n(1.0), &n(0.0)), None);
        assert_eq!(binary(BinaryOp::Add, &s("a"), &s("b")), None);
        assert_eq!(binary(BinaryOp::NotEq, &None, &s("b")), None);
        assert_eq!(
            binary(BinaryOp::And, &None, &Some(json!(false))),
            Some(json!(false))
        );
        assert_eq!(
            binary(BinaryOp::Or, &None, &Some(json!(true))),
            Some(json!(true))
        );
        assert_eq!(
            binary(BinaryOp::LtEq, &Some(json!(null)), &Some(json!(null))),
            Some(json!(true))
        );
        assert_eq!(
            binary(BinaryOp::Lt, &Some(json!(null)), &Some(json!(null))),
            Some(json!(false))
        );
    }
}
