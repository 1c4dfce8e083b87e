//! The reference: a slow, literal implementation of SPEC §1.2 normalisation and SPEC §2 query
//! semantics over plain `serde_json::Value`s, row at a time. It is the oracle the fast path is
//! tested against, never a fast path itself.
//!
//! ```
//! use serde_json::json;
//! use twindex::reference::{evaluate, normalise};
//! # use twindex::sql::*;
//! # let path = |name: &str, at: usize| Expr {
//! #     kind: ExprKind::Path(Path { segments: vec![Segment::Name(name.into())], span: Span::new(at, at + name.len()) }),
//! #     span: Span::new(at, at + name.len()),
//! # };
//! let twins = [normalise(json!({"id": "d1", "authentication": {"type": "sas"}}))];
//! // SELECT DeviceId FROM devices
//! let query = Query {
//!     top: None,
//!     select: SelectList::Items(vec![SelectItem { expr: path("DeviceId", 7), alias: None, span: Span::new(7, 15) }]),
//!     from: From { collection: Collection::Devices, span: Span::new(21, 28) },
//!     filter: None, group_by: vec![], order_by: vec![], span: Span::new(0, 28),
//! };
//! assert_eq!(evaluate(&query, &twins).unwrap(), vec![json!({"deviceId": "d1"})]);
//! ```
//!
//! Everything below is a decision the fast engine must follow exactly. Where SPEC speaks, the
//! rule is SPEC's; where it is silent, the rule is ours and is marked *(ours)*.
//!
//! # Normalisation ([`normalise`])
//!
//! * Export shape = `id` present and `deviceId` absent. Renames `id`→`deviceId`,
//!   `eTag`→`deviceEtag`, `twinETag`→`etag` apply in export shape only. *(ours)* When a record
//!   carries both names, the twin-named member wins and the export-named one is dropped.
//! * *(ours)* In **both** shapes `authentication` and `importMode` are dropped. When
//!   `authentication` is an object, its `type` fills `authenticationType` and its
//!   `x509Thumbprint` fills `x509Thumbprint`, each only if the record has no member of that
//!   twin name and only if the inner member exists (copied as is, `null` included). Nothing
//!   else is read from it, so `symmetricKey` never reaches the output.
//! * Top-level keys: [`crate::model::TWIN_KEY_ORDER`] first, then others in document order.
//!   Nested objects are untouched. *(ours)* A record that is not an object is returned as is.
//!
//! # Values
//!
//! * Undefined is `None`; every expression yields `Option<Value>`.
//! * *(ours)* Every number is used as its f64 value in comparisons, arithmetic, aggregates and
//!   grouping.
//! * **Computed numbers** *(ours)*: the result of arithmetic, of a numeric function, of
//!   `LENGTH`/`INDEX_OF`, of `SUM`/`AVG`, of `AS_NUMBER` on a string, and of a numeric literal,
//!   is an f64 turned into JSON thus: not finite → undefined (so `1e308 * 10`, `SQRT(-1)`,
//!   `EXP(1000)` are undefined); integral and in `[-2^63, 2^63)` → a JSON integer (`-0.0` → `0`,
//!   `2.0` → `2`, `SUM` of integers → an integer); otherwise a JSON float. Values read from the
//!   document (paths, `SELECT *`, group keys, `MIN`/`MAX`, `AS_NUMBER` of a number) are
//!   returned exactly as they are (`5.0` stays `5.0`). `COUNT` is an integer.
//! * Array literals drop undefined elements *(ours)*.
//!
//! # Paths
//!
//! [`crate::sql::Path::unqualified`] strips `devices`/`devices.modules` and maps a lone `id` to
//! `deviceId`. Each name then matches the exact-case key, else the first key in document order
//! equal under `str::to_lowercase`. Names step only into objects, `[n]` only into arrays;
//! anything else is undefined.
//!
//! # FROM *(ours)*
//!
//! A twin is a module twin when it has a top-level `moduleId` that is not `null`.
//! `FROM devices` keeps the others, `FROM devices.modules` keeps those.
//!
//! # Operators
//!
//! * Comparisons: primitives of one type only (numbers by f64, strings by bytes, booleans,
//!   `null = null`), anything else undefined.
//! * `AND`/`OR`/`NOT` by SPEC §2.2; only JSON booleans are true/false, any other operand counts
//!   as undefined *(ours)*. A row is kept only when WHERE is exactly `true`.
//! * `x IN [..]`: true if `x = ci` for some `ci`; else false if `x` is a defined primitive;
//!   else undefined. `NIN`/`NOT IN` negate that (undefined stays undefined).
//! * `+ - * /  %` and unary `-` on numbers only; `/` and `%` by zero undefined; `%` is fmod
//!   (sign of the dividend); `'a' + 'b'` is undefined (no string concatenation).
//!
//! # Functions (wrong types → undefined)
//!
//! * `IS_*`: always true/false, false on undefined. `IS_PRIMITIVE`: null, bool, number, string.
//! * `STARTSWITH`/`ENDSWITH`/`CONTAINS`: two strings, case-sensitive.
//! * `LOWER`/`UPPER`: Unicode `to_lowercase`/`to_uppercase`. `LENGTH`: code points, strings
//!   only *(ours: `LENGTH` of an array is undefined)*. `CONCAT`: every argument a string.
//! * `SUBSTRING(s, start [, len])` *(ours)*: `start`/`len` must be integral numbers (`1.5` →
//!   undefined); the result holds the code points at positions `i` with
//!   `start <= i < start + len` that exist (no `len`: to the end). So negative starts eat into
//!   the length (`SUBSTRING('hello', -1, 2)` = `'h'`), a negative `len` gives `''`.
//! * `INDEX_OF(s, t)`: code-point position of the first occurrence, `-1` if absent, `0` for
//!   `t = ''`.
//! * `ABS`, `CEILING`, `FLOOR`, `EXP`, `POWER`, `SQRT`, `SQUARE`: f64 operations, then the
//!   computed-number rule. `SIGN`: `-1`, `0` or `1` (`0` for zero).
//! * `AS_NUMBER` *(ours, after the routing docs)*: a number is returned as is; a string that
//!   matches the JSON number grammar exactly (no spaces, no `+`, no hex) is parsed as f64 and
//!   follows the computed-number rule (`'5.0'` → `5`); anything else undefined.
//! * `ARRAY_CONTAINS(arr, v)` *(ours)*: `arr` an array and `v` defined, else undefined; true
//!   when some element is deeply equal to `v` (numbers numerically, objects ignoring key
//!   order).
//!
//! # Aggregates
//!
//! * `COUNT()` rows; `COUNT(p)` rows with `p` defined (`null` counts).
//! * `SUM` *(ours)*: the exact sum of the numeric values, rounded once to f64 (Shewchuk /
//!   `math.fsum`; independent of row order), then the computed-number rule. `AVG`: that rounded
//!   sum divided by the count of numeric values, then the rule. Both undefined without numbers.
//! * `MIN`/`MAX`: over primitives in the §2.2 order (so `null` is the least), objects and arrays
//!   ignored; the document's value of the first row holding it (`5` before `5.0` ties).
//! * **Empty input** *(ours)*: an aggregate query without GROUP BY returns exactly one object even
//!   with no rows: `COUNT` gives `0`, `SUM`/`AVG`/`MIN`/`MAX` are undefined so their keys are
//!   left out (`SELECT SUM(x) AS s ...` on no rows gives `[{}]`). A grouped query on no rows
//!   gives `[]`.
//!
//! # Output shape
//!
//! * `SELECT *`: the normalised twin.
//! * Element keys: the alias; else, for a path, the last named segment of the unqualified path
//!   as spelled in the document for that row (or group's first row); else `$k` *(ours: `k` is
//!   the rank among unaliased elements that are not paths — aggregates and computed
//!   expressions alike — which is SPEC §4.6 when those are all aggregates)*.
//! * An element undefined for a row is left out of that row's object.
//! * Aliases are visible only to ORDER BY (as bare names); in WHERE, GROUP BY and everywhere
//!   else a name is always a path into the twin.
//!
//! # Query errors (checked in this order, before any data is read)
//!
//! 1. An aggregate in WHERE: `aggregate functions are not allowed in WHERE` (at the
//!    aggregate; the parser reports this first, so only hand-built trees get here).
//! 2. An aggregate inside another (select list, ORDER BY): `aggregate functions cannot be
//!    nested (COUNT inside SUM)` (at the inner one; likewise caught by the parser first).
//! 3. `SELECT *` with GROUP BY: `SELECT * cannot be used with GROUP BY; select the group keys
//!    and aggregates` (at the `*`).
//! 4. The query *aggregates* when it has GROUP BY or any select element contains an
//!    aggregate. Then every path in a select element that is outside all aggregates must be a
//!    group key (paths equal after `unqualified`, names compared with `to_lowercase`), checked
//!    element by element, first offending path in written order:
//!    with GROUP BY `'<path>' is not a GROUP BY key: a grouped query may select only group
//!    keys and aggregates`; without `cannot mix aggregates and plain paths without GROUP BY:
//!    '<path>' is not inside an aggregate` (at the path). Expressions over keys and
//!    aggregates (`LOWER(tags.tier)`, `SUM(x) / COUNT()`, literals) are allowed.
//! 5. Two elements whose static keys (alias, last named segment of the unqualified path as
//!    written, or `$k`) are equal under `to_lowercase`: `two select elements are named
//!    '<key>': rename one with AS` (at the later element's alias, else the element).
//! 6. ORDER BY, term by term. A term that is one bare name (one segment as written) equal under
//!    `to_lowercase` to a select alias means that element's value. Otherwise, in an aggregating
//!    query, stray paths as in 4: `ORDER BY '<path>' is not a GROUP BY key, an aggregate or a
//!    select alias`, or without GROUP BY `cannot mix aggregates and plain paths without GROUP
//!    BY: '<path>' in ORDER BY is not inside an aggregate`; in a query that does not
//!    aggregate, an aggregate is `aggregates in ORDER BY need an aggregate query (GROUP BY, or
//!    aggregates in the select list)`.
//!
//! `<path>` is the path as written: names joined by `.`, a name that is not
//! `[A-Za-z_$][A-Za-z0-9_$]*` in `[[ ]]`, indexes as `[n]`.
//!
//! # Grouping
//!
//! * Groups form in order of first appearance. Rows share a group when every key is
//!   pairwise equal: undefined with undefined, primitives under `=` (`5` with `5.0`), objects
//!   and arrays by deep equality (numbers numerically, object key order ignored).
//! * A group's key values and spellings come from its first row; in a group, any path that is a
//!   group key yields that value (so `SELECT tags.TIER ... GROUP BY tags.tier` shows the first
//!   row's value under the first row's spelling).
//! * Without ORDER BY: descending row count, then keys ascending in the §2.2 order,
//!   lexicographically; objects and arrays after all other keys; remaining ties by first
//!   appearance.
//!
//! # ORDER BY and TOP
//!
//! * Stable sort of the results (rows in input order; groups in first-appearance order), term by
//!   term: §2.2 order (undefined < null < false < true < numbers < strings), reversed by `DESC`,
//!   except objects and arrays, which come last in both directions and tie among themselves.
//! * TOP keeps the first `n` results after grouping and ordering (TOP 0 gives `[]`).

mod eval;
mod normalise;
mod query;
mod value;

pub use eval::is_json_number;
pub use normalise::normalise;
pub use query::evaluate;
pub use value::{computed, exact_sum};

/// Checks a query's static rules (the "Query errors" section above) without evaluating it.
/// The planner uses it so that both engines reject exactly the same queries the same way.
pub fn validate(query: &crate::sql::Query) -> Result<(), crate::sql::QueryError> {
    query::check(query).map(|_| ())
}
