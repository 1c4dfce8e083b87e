//! Values, comparison, the cross-type order and computed numbers (SPEC §2.2, §4.4).
//!
//! Undefined is `None`: every expression yields `Option<Value>`.

use std::cmp::Ordering;

use serde_json::{Number, Value};

/// The value of an expression: `None` is undefined.
pub type Val = Option<Value>;

/// The f64 value of a JSON number. Every comparison, every arithmetic operation and every
/// aggregate works on this value (integers beyond ±2^53 lose precision, as they would in any
/// JSON engine; SPEC §1.3 keeps data integers within ±2^52).
pub fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// A computed number (arithmetic, numeric functions, `SUM`, `AVG`, numeric literals) as JSON:
/// non-finite → undefined; integral and within the i64 range → an integer (`-0.0` → `0`);
/// otherwise a float.
pub fn computed(x: f64) -> Val {
    if !x.is_finite() {
        return None;
    }
    // 2^63 is exactly representable; every integral f64 in [-2^63, 2^63) fits in i64.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if x.fract() == 0.0 && (-TWO_63..TWO_63).contains(&x) {
        return Some(Value::Number(Number::from(x as i64)));
    }
    Number::from_f64(x).map(Value::Number)
}

/// `a = b` (SPEC §2.2): `Some(true/false)` for primitives of one type, else undefined.
pub fn sql_eq(a: &Val, b: &Val) -> Option<bool> {
    sql_cmp(a, b).map(|o| o == Ordering::Equal)
}

/// Compares two primitives of the same type: numbers numerically, strings by bytes, booleans
/// `false < true`, `null` equal to `null`. Any other pairing (different types, objects, arrays,
/// undefined) has no answer.
pub fn sql_cmp(a: &Val, b: &Val) -> Option<Ordering> {
    match (a.as_ref()?, b.as_ref()?) {
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Number(_), Value::Number(_)) => {
            let (x, y) = (num(a.as_ref()?)?, num(b.as_ref()?)?);
            x.partial_cmp(&y)
        }
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => None,
    }
}

/// Whether a value is a primitive (`null`, boolean, number, string).
pub fn is_primitive(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

/// The class of a value in the cross-type order of SPEC §2.2.
fn class(v: &Val) -> u8 {
    match v {
        None => 0,
        Some(Value::Null) => 1,
        Some(Value::Bool(false)) => 2,
        Some(Value::Bool(true)) => 3,
        Some(Value::Number(_)) => 4,
        Some(Value::String(_)) => 5,
        Some(Value::Object(_) | Value::Array(_)) => 6,
    }
}

/// The cross-type order of SPEC §2.2 over *ordered* values: undefined < null < false < true <
/// numbers (numerically) < strings (by bytes). Objects and arrays are unordered: they compare
/// equal to each other and greater than everything else (callers that must keep them last in
/// both directions use [`order_by_cmp`]).
pub fn total_cmp(a: &Val, b: &Val) -> Ordering {
    let (ca, cb) = (class(a), class(b));
    if ca != cb {
        return ca.cmp(&cb);
    }
    match (a, b) {
        (Some(Value::Number(_)), Some(Value::Number(_))) | (Some(Value::String(_)), Some(_)) => {
            sql_cmp(a, b).unwrap_or(Ordering::Equal)
        }
        _ => Ordering::Equal,
    }
}

/// One `ORDER BY` term (SPEC §4.5): the §2.2 order, reversed for `DESC`, except that objects
/// and arrays come last in both directions and tie among themselves.
pub fn order_by_cmp(a: &Val, b: &Val, descending: bool) -> Ordering {
    let (ua, ub) = (class(a) == 6, class(b) == 6);
    match (ua, ub) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            let o = total_cmp(a, b);
            if descending {
                o.reverse()
            } else {
                o
            }
        }
    }
}

/// Grouping equality (SPEC §2.4, §4.8): undefined equals undefined; primitives are equal when
/// `=` says so (so `5` and `5.0` share a group); objects and arrays are deeply equal: arrays
/// element by element, objects with the same set of keys (compared exactly, in any order) whose
/// values are deeply equal.
pub fn group_eq(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => deep_eq(x, y),
        _ => false,
    }
}

/// Deep equality used for grouping and `ARRAY_CONTAINS`: numbers numerically, everything else
/// structurally; object key order does not matter.
pub fn deep_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| deep_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_eq(v, w)))
        }
        (Value::Number(_), Value::Number(_)) => num(a) == num(b),
        _ => a == b,
    }
}

/// The exact sum of `xs`, rounded once to the nearest f64 (Shewchuk's algorithm, as in
/// Python's `math.fsum`). The result does not depend on the order of the inputs, which lets a
/// parallel engine match it. If a running partial overflows, the result is non-finite (and
/// [`computed`] makes it undefined).
pub fn exact_sum(xs: impl IntoIterator<Item = f64>) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    for mut x in xs {
        let mut i = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        partials.truncate(i);
        partials.push(x);
    }
    if partials.iter().any(|p| !p.is_finite()) {
        return partials.iter().sum();
    }
    // Add the partials from the top, then correct the final rounding (half-way cases).
    let mut n = partials.len();
    if n == 0 {
        return 0.0;
    }
    n -= 1;
    let mut hi = partials[n];
    let mut lo = 0.0;
    while n > 0 {
        let x = hi;
        n -= 1;
        let y = partials[n];
        hi = x + y;
        let yr = hi - x;
        lo = y - yr;
        if lo != 0.0 {
            break;
        }
    }
    if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        let yr = x - hi;
        if y == yr {
            hi = x;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn computed_numbers() {
        assert_eq!(computed(3.0), Some(json!(3)));
        assert_eq!(computed(-0.0), Some(json!(0)));
        assert_eq!(computed(3.5), Some(json!(3.5)));
        assert_eq!(computed(1e300), Some(json!(1e300)));
        assert_eq!(computed(f64::NAN), None);
        assert_eq!(computed(f64::INFINITY), None);
        assert_eq!(
            computed(-9_223_372_036_854_775_808.0),
            Some(json!(i64::MIN))
        );
        assert_eq!(
            computed(9_223_372_036_854_775_808.0).map(|v| v.to_string()),
            Some("9.223372036854776e+18".to_string())
        );
    }

    #[test]
    fn fsum_is_exact() {
        assert_eq!(exact_sum([0.1; 10]), 1.0);
        assert_eq!(exact_sum([1e100, 1.0, -1e100]), 1.0);
        assert_eq!(exact_sum([]), 0.0);
        assert_eq!(exact_sum([0.1, 0.2]), 0.30000000000000004);
    }

    #[test]
    fn cross_type_order() {
        let vals = [
            None,
            Some(json!(null)),
            Some(json!(false)),
            Some(json!(true)),
            Some(json!(-1)),
            Some(json!(2.5)),
            Some(json!("")),
            Some(json!("a")),
        ];
        for (i, a) in vals.iter().enumerate() {
            for (j, b) in vals.iter().enumerate() {
                assert_eq!(total_cmp(a, b), i.cmp(&j), "{a:?} {b:?}");
            }
        }
        assert_eq!(
            order_by_cmp(&Some(json!({})), &Some(json!(1)), true),
            Ordering::Greater
        );
    }
}
