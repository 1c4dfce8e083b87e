//! Values of the fast executor and the operations on them (SPEC §2.2, §2.3), following the
//! decisions written down in [`crate::reference`]. The reference works on `serde_json::Value`;
//! this works on borrowed column values and is tested against it.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use crate::sql::{BinaryOp, Function};
use crate::store::Num;

/// One expression result.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Undef,
    Null,
    Bool(bool),
    /// A number read from a document, kept exactly as written.
    Num(Num),
    /// A computed number (always finite).
    Computed(f64),
    Str(Cow<'a, str>),
    /// An array or object.
    Json(Cow<'a, Value>),
}

impl<'a> Val<'a> {
    /// A computed number: not finite → undefined (the reference's rule).
    pub fn computed(x: f64) -> Val<'static> {
        if x.is_finite() {
            Val::Computed(x)
        } else {
            Val::Undef
        }
    }

    pub fn from_json(v: &'a Value) -> Val<'a> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(json_num(n)),
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Array(_) | Value::Object(_) => Val::Json(Cow::Borrowed(v)),
        }
    }

    pub fn from_json_owned(v: Value) -> Val<'static> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(n) => Val::Num(json_num(&n)),
            Value::String(s) => Val::Str(Cow::Owned(s)),
            v => Val::Json(Cow::Owned(v)),
        }
    }

    pub fn into_owned(self) -> Val<'static> {
        match self {
            Val::Undef => Val::Undef,
            Val::Null => Val::Null,
            Val::Bool(b) => Val::Bool(b),
            Val::Num(n) => Val::Num(n),
            Val::Computed(x) => Val::Computed(x),
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Json(v) => Val::Json(Cow::Owned(v.into_owned())),
        }
    }

    /// The JSON form, `None` when undefined.
    pub fn to_json(&self) -> Option<Value> {
        Some(match self {
            Val::Undef => return None,
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => n.to_json(),
            Val::Computed(x) => return crate::model::number_to_json(*x),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Json(v) => v.clone().into_owned(),
        })
    }

    /// Appends the value as compact JSON text, as serializing [`Val::to_json`] would; `false`
    /// (nothing written) when it is undefined.
    pub fn write_json(&self, out: &mut Vec<u8>) -> bool {
        use serde::Serialize;
        let mut ser = serde_json::Serializer::new(&mut *out);
        // Writing into a Vec cannot fail.
        let _ = match self {
            Val::Undef => return false,
            Val::Null => ().serialize(&mut ser),
            Val::Bool(b) => b.serialize(&mut ser),
            Val::Num(n) => n.to_json().serialize(&mut ser),
            Val::Computed(x) => match crate::model::number_to_json(*x) {
                Some(v) => v.serialize(&mut ser),
                None => return false,
            },
            Val::Str(s) => {
                crate::ingest::normalise::write_str(s, out);
                return true;
            }
            Val::Json(v) => v.serialize(&mut ser),
        };
        true
    }

    pub fn is_defined(&self) -> bool {
        !matches!(self, Val::Undef)
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(n.as_f64()),
            Val::Computed(x) => Some(*x),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// `Some(b)` only for a boolean (other values count as undefined in logic).
    pub fn truth(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn is_primitive(&self) -> bool {
        matches!(
            self,
            Val::Null | Val::Bool(_) | Val::Num(_) | Val::Computed(_) | Val::Str(_)
        )
    }

    /// Rank in the cross-type order of SPEC §2.2; objects and arrays rank last.
    fn rank(&self) -> u8 {
        match self {
            Val::Undef => 0,
            Val::Null => 1,
            Val::Bool(false) => 2,
            Val::Bool(true) => 3,
            Val::Num(_) | Val::Computed(_) => 4,
            Val::Str(_) => 5,
            Val::Json(_) => 6,
        }
    }
}

fn json_num(n: &serde_json::Number) -> Num {
    if let Some(i) = n.as_i64() {
        Num::Int(i)
    } else if let Some(u) = n.as_u64() {
        Num::UInt(u)
    } else {
        Num::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Comparison of two primitives of one type; `None` (undefined) for any other pairing.
pub fn sql_cmp(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Null, Val::Null) => Some(Ordering::Equal),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Str(x), Val::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => {
            let (x, y) = (a.as_f64()?, b.as_f64()?);
            x.partial_cmp(&y)
        }
    }
}

/// The order of `ORDER BY`, `MIN` and `MAX` (SPEC §2.2): undefined < null < false < true <
/// numbers < strings; objects and arrays tie among themselves after everything.
pub fn total_cmp(a: &Val<'_>, b: &Val<'_>) -> Ordering {
    let (ra, rb) = (a.rank(), b.rank());
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        // Numerically, as `=` does: `-0.0` ties with `0` (`f64::total_cmp` would put it first).
        // Values are never NaN (JSON has none, computed numbers are finite).
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        },
    }
}

/// Deep equality for grouping and `ARRAY_CONTAINS`: numbers numerically, objects ignoring key
/// order.
pub fn deep_eq(a: &Val<'_>, b: &Val<'_>) -> bool {
    match (a, b) {
        (Val::Undef, Val::Undef) => true,
        (Val::Json(x), Val::Json(y)) => json_deep_eq(x, y),
        _ if a.is_primitive() && b.is_primitive() => sql_cmp(a, b) == Some(Ordering::Equal),
        _ => false,
    }
}

fn json_deep_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_deep_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_deep_eq(v, w)))
        }
        _ => a == b,
    }
}

/// `a op b` for comparison and arithmetic operators (not AND/OR).
pub fn binary(op: BinaryOp, a: &Val<'_>, b: &Val<'_>) -> Val<'static> {
    use BinaryOp::*;
    let cmp = |f: fn(Ordering) -> bool| match sql_cmp(a, b) {
        Some(o) => Val::Bool(f(o)),
        None => Val::Undef,
    };
    match op {
        Eq => cmp(|o| o == Ordering::Equal),
        NotEq => cmp(|o| o != Ordering::Equal),
        Lt => cmp(|o| o == Ordering::Less),
        LtEq => cmp(|o| o != Ordering::Greater),
        Gt => cmp(|o| o == Ordering::Greater),
        GtEq => cmp(|o| o != Ordering::Less),
        Add | Sub | Mul | Div | Mod => {
            let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else {
                return Val::Undef;
            };
            Val::computed(match op {
                Add => x + y,
                Sub => x - y,
                Mul => x * y,
                Div if y == 0.0 => return Val::Undef,
                Div => x / y,
                Mod if y == 0.0 => return Val::Undef,
                _ => x % y,
            })
        }
        And | Or => unreachable!("logic operators are evaluated by the caller"),
    }
}

/// `x IN list`: true if equal to some element; false if `x` is a defined primitive; else
/// undefined.
pub fn in_list(x: &Val<'_>, list: &[Val<'_>]) -> Option<bool> {
    if list.iter().any(|c| sql_cmp(x, c) == Some(Ordering::Equal)) {
        Some(true)
    } else if x.is_primitive() {
        Some(false)
    } else {
        None
    }
}

/// A scalar function over evaluated arguments. Wrong types give undefined.
pub fn call(func: Function, args: &[Val<'_>]) -> Val<'static> {
    use Function::*;
    let b = Val::Bool;
    match func {
        IsDefined => b(args[0].is_defined()),
        IsArray => b(matches!(&args[0], Val::Json(v) if v.is_array())),
        IsBool => b(matches!(args[0], Val::Bool(_))),
        IsNull => b(matches!(args[0], Val::Null)),
        IsNumber => b(args[0].as_f64().is_some()),
        IsObject => b(matches!(&args[0], Val::Json(v) if v.is_object())),
        IsPrimitive => b(args[0].is_primitive()),
        IsString => b(matches!(args[0], Val::Str(_))),
        StartsWith | EndsWith | Contains | IndexOf => {
            let (Some(s), Some(t)) = (args[0].as_str(), args[1].as_str()) else {
                return Val::Undef;
            };
            match func {
                StartsWith => b(s.starts_with(t)),
                EndsWith => b(s.ends_with(t)),
                Contains => b(s.contains(t)),
                _ => Val::Computed(match s.find(t) {
                    Some(i) => s[..i].chars().count() as f64,
                    None => -1.0,
                }),
            }
        }
        Lower | Upper | Length => {
            let Some(s) = args[0].as_str() else {
                return Val::Undef;
            };
            match func {
                Lower => Val::Str(Cow::Owned(s.to_lowercase())),
                Upper => Val::Str(Cow::Owned(s.to_uppercase())),
                _ => Val::Computed(s.chars().count() as f64),
            }
        }
        Concat => {
            let mut out = String::new();
            for a in args {
                match a.as_str() {
                    Some(s) => out.push_str(s),
                    None => return Val::Undef,
                }
            }
            Val::Str(Cow::Owned(out))
        }
        Substring => substring(args),
        Abs | Ceiling | Floor | Exp | Sign | Sqrt | Square => {
            let Some(x) = args[0].as_f64() else {
                return Val::Undef;
            };
            Val::computed(match func {
                Abs => x.abs(),
                Ceiling => x.ceil(),
                Floor => x.floor(),
                Exp => x.exp(),
                Sign => {
                    if x > 0.0 {
                        1.0
                    } else if x < 0.0 {
                        -1.0
                    } else {
                        0.0
                    }
                }
                Sqrt => x.sqrt(),
                _ => x * x,
            })
        }
        Power => match (args[0].as_f64(), args[1].as_f64()) {
            (Some(x), Some(y)) => Val::computed(x.powf(y)),
            _ => Val::Undef,
        },
        AsNumber => match &args[0] {
            Val::Num(n) => Val::Num(*n),
            Val::Computed(x) => Val::Computed(*x),
            Val::Str(s) if is_json_number(s) => match s.parse::<f64>() {
                Ok(x) => Val::computed(x),
                Err(_) => Val::Undef,
            },
            _ => Val::Undef,
        },
        ArrayContains => match (&args[0], &args[1]) {
            (Val::Json(arr), v) if v.is_defined() => match arr.as_ref() {
                Value::Array(items) => b(items.iter().any(|e| deep_eq(&Val::from_json(e), v))),
                _ => Val::Undef,
            },
            _ => Val::Undef,
        },
    }
}

/// `SUBSTRING(s, start [, len])`: code points at positions `start <= i < start + len`.
fn substring(args: &[Val<'_>]) -> Val<'static> {
    let Some(s) = args[0].as_str() else {
        return Val::Undef;
    };
    let integral = |v: &Val<'_>| v.as_f64().filter(|x| x.fract() == 0.0);
    let Some(start) = integral(&args[1]) else {
        return Val::Undef;
    };
    let end = match args.get(2) {
        Some(l) => match integral(l) {
            Some(len) => start + len,
            None => return Val::Undef,
        },
        None => f64::INFINITY,
    };
    let out: String = s
        .chars()
        .enumerate()
        .filter(|(i, _)| (*i as f64) >= start && (*i as f64) < end)
        .map(|(_, c)| c)
        .collect();
    Val::Str(Cow::Owned(out))
}

/// Whether `s` is exactly a JSON number (no sign other than a leading `-`, no spaces, no hex).
pub fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Val<'static> {
        Val::Str(Cow::Owned(x.into()))
    }

    #[test]
    fn comparisons_need_one_type() {
        assert_eq!(
            binary(BinaryOp::Eq, &Val::Num(Num::Int(5)), &Val::Computed(5.0)),
            Val::Bool(true)
        );
        assert_eq!(
            binary(BinaryOp::NotEq, &s("a"), &Val::Num(Num::Int(1))),
            Val::Undef
        );
        assert_eq!(
            binary(BinaryOp::LtEq, &Val::Null, &Val::Null),
            Val::Bool(true)
        );
        assert_eq!(
            binary(BinaryOp::Lt, &Val::Null, &Val::Null),
            Val::Bool(false)
        );
        assert_eq!(
            binary(BinaryOp::Div, &Val::Computed(7.0), &Val::Computed(2.0)),
            Val::Computed(3.5)
        );
        assert_eq!(
            binary(BinaryOp::Mod, &Val::Computed(-7.0), &Val::Computed(2.0)),
            Val::Computed(-1.0)
        );
        assert_eq!(
            binary(BinaryOp::Div, &Val::Computed(1.0), &Val::Computed(0.0)),
            Val::Undef
        );
    }

    #[test]
    fn string_functions_count_code_points() {
        assert_eq!(call(Function::Length, &[s("Zürich")]), Val::Computed(6.0));
        assert_eq!(
            call(Function::IndexOf, &[s("東京x"), s("x")]),
            Val::Computed(2.0)
        );
        assert_eq!(
            call(
                Function::Substring,
                &[s("hello"), Val::Computed(-1.0), Val::Computed(2.0)]
            ),
            s("h")
        );
        assert_eq!(
            call(Function::Substring, &[s("hello"), Val::Computed(3.0)]),
            s("lo")
        );
        assert_eq!(call(Function::AsNumber, &[s("5.0")]), Val::Computed(5.0));
        assert_eq!(call(Function::AsNumber, &[s(" 5")]), Val::Undef);
    }
}
