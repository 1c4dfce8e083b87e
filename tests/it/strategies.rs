//! Proptest strategies: arbitrary twin records (export or twin shape) with the quirks a columnar
//! store must survive, fleets of them, and random query text over the same small vocabulary so
//! that random queries actually hit data.
//!
//! Records follow SPEC §1.3 (no `null` inside arrays, no `.`, space, control character or
//! stray `$` in tag and property keys, depth well under 10) so they load clean; everything else
//! is fair game: `a` and `A` in one object, one path holding a number here, a string there and
//! an object elsewhere, `5` vs `5.0`, empty objects, missing `tags`/`properties`, unicode and
//! JSON escapes in keys and values, arrays of primitives and of objects, modules, `$metadata`
//! and `$version`, and (export shape) `authentication.symmetricKey` holding [`SECRET_KEYS`].

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// The symmetric keys export-shape records carry: they must never appear in any output.
pub const SECRET_KEYS: [&str; 2] = ["U0VDUkVULXByaW1hcnk=", "U0VDUkVULXNlY29uZGFyeQ=="];

/// Keys random queries name, so most records hit them.
const COMMON_KEYS: &[&str] = &["a", "b", "A", "region", "roles"];
/// Case variants, unicode and JSON escapes (`"` and `\` are legal key characters).
const QUIRKY_KEYS: &[&str] = &[
    "B",
    "Region",
    "location",
    "Location",
    "ü",
    "東京",
    "k\"q",
    "back\\slash",
    "😀",
    "k",
    // KELVIN SIGN: lower-cases to `k`, so it collides with `k` (and `K`) by case.
    "\u{212a}",
];
const STRINGS: &[&str] = &[
    "x",
    "y",
    "X",
    "",
    "Zürich",
    "a\"b",
    "it's",
    "line\nbreak",
    "back\\slash",
    "ctl\u{1}",
    "東京",
    "a/b",
    "😀",
    "del\u{7f}",
    "2024-05-01T12:34:56Z",
    "2024-05-01T12:34:56.5Z",
];
/// As JSON text, so `5` and `5.0` stay distinct numbers.
const NUMBERS: &[&str] = &[
    "-1",
    "0",
    "1",
    "5",
    "5.0",
    "2.5",
    "100",
    "-2.5",
    "1e3",
    // Edges: negative zero, inexact decimals, beyond 2^53, u64 and i64 extremes, huge floats.
    "-0.0",
    "0.0",
    "0.1",
    "1e-7",
    "9007199254740993",
    "18446744073709551615",
    "-9223372036854775808",
    "1.5e300",
    "1e20",
];
const DEVICE_IDS: &[&str] = &["d1", "d2", "D1", "dev-1", "test-1", "tmp-x", "edge-1"];
const MODULE_IDS: &[&str] = &["m1", "M1", "$edgeAgent", "scanner"];
const TIMESTAMPS: &[&str] = &[
    "2023-01-01T00:00:00Z",
    "2024-05-01T12:34:56.1234567Z",
    "2025-12-31T23:59:59.9999999Z",
    "0001-01-01T00:00:00Z",
    // Every fraction width, a leap second, a date no calendar has, and near misses that must
    // stay plain strings (8 digits, an offset, lower-case `t`, a space).
    "2024-05-01T12:34:56.1Z",
    "2024-05-01T12:34:56.120Z",
    "2024-05-01T12:34:56.0000000Z",
    "2016-12-31T23:59:60Z",
    "2023-02-31T00:00:00Z",
    "9999-12-31T23:59:59.9999999Z",
    "2024-05-01T12:34:56.12345678Z",
    "2024-05-01T12:34:56+00:00",
    "2024-05-01t12:34:56Z",
    "2024-05-01 12:34:56Z",
];

fn number(text: &str) -> Value {
    Value::Number(serde_json::from_str::<Number>(text).expect("vocabulary number"))
}

fn arb_key() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => prop::sample::select(COMMON_KEYS),
        1 => prop::sample::select(QUIRKY_KEYS),
    ]
    .prop_map(String::from)
}

fn arb_string() -> impl Strategy<Value = Value> {
    prop::sample::select(STRINGS).prop_map(|s| Value::String(s.into()))
}

/// A primitive; `null` only where `nullable`.
fn arb_primitive(nullable: bool) -> impl Strategy<Value = Value> {
    let null_weight = if nullable { 1 } else { 0 };
    prop_oneof![
        null_weight => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        3 => prop::sample::select(NUMBERS).prop_map(number),
        3 => arb_string(),
    ]
}

fn object_from(entries: Vec<(String, Value)>) -> Value {
    // A repeated key keeps its first position and its last value, as a JSON parser would.
    Value::Object(entries.into_iter().collect::<Map<_, _>>())
}

/// Any tag or property value: primitives, arrays (of primitives and of objects, never holding
/// `null`) and objects, nested up to 8 levels.
fn arb_value() -> impl Strategy<Value = Value> {
    arb_primitive(true).prop_recursive(8, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|xs| { Value::Array(xs.into_iter().filter(|x| !x.is_null()).collect()) }),
            prop::collection::vec((arb_key(), inner), 0..4).prop_map(object_from),
        ]
    })
}

/// A user tree (tags, desired or reported): an object, possibly empty.
fn arb_tree() -> impl Strategy<Value = Value> {
    prop::collection::vec((arb_key(), arb_value()), 0..5).prop_map(object_from)
}

/// `desired`/`reported`: a user tree, sometimes with `$metadata` mirroring its top level and a
/// `$version`.
fn arb_section() -> impl Strategy<Value = Value> {
    (
        arb_tree(),
        any::<bool>(),
        prop::sample::select(TIMESTAMPS),
        prop::option::of(0u64..50),
    )
        .prop_map(|(tree, metadata, stamp, version)| {
            let Value::Object(mut map) = tree else {
                unreachable!("arb_tree builds objects")
            };
            if metadata {
                let mut meta = Map::new();
                meta.insert("$lastUpdated".into(), stamp.into());
                for key in map.keys() {
                    let mut node = Map::new();
                    node.insert("$lastUpdated".into(), stamp.into());
                    meta.insert(key.clone(), Value::Object(node));
                }
                map.insert("$metadata".into(), Value::Object(meta));
            }
            if let Some(v) = version {
                map.insert("$version".into(), v.into());
            }
            Value::Object(map)
        })
}

fn arb_properties() -> impl Strategy<Value = Value> {
    (
        prop::option::of(arb_section()),
        prop::option::of(arb_section()),
    )
        .prop_map(|(desired, reported)| {
            let mut map = Map::new();
            if let Some(d) = desired {
                map.insert("desired".into(), d);
            }
            if let Some(r) = reported {
                map.insert("reported".into(), r);
            }
            Value::Object(map)
        })
}

/// Identity members: ids, status, auth type, scopes, connection state and the like.
#[derive(Debug, Clone)]
struct Head {
    export: bool,
    device_id: &'static str,
    module_id: Option<&'static str>,
    status: Option<&'static str>,
    auth_type: &'static str,
    /// Export shape: `authentication` is `null` (keys excluded from the export).
    auth_null: bool,
    iot_edge: Option<bool>,
    parent_scope: Option<&'static str>,
    connection: Option<&'static str>,
    last_activity: Option<&'static str>,
    version: Option<u64>,
}

fn arb_head() -> impl Strategy<Value = Head> {
    (
        any::<bool>(),
        prop::sample::select(DEVICE_IDS),
        prop::option::weighted(0.25, prop::sample::select(MODULE_IDS)),
        prop::option::weighted(0.9, prop::sample::select(&["enabled", "disabled"][..])),
        prop::sample::select(&["sas", "selfSigned", "certificateAuthority", "none"][..]),
        prop::bool::weighted(0.1),
        prop::option::of(any::<bool>()),
        prop::option::weighted(
            0.2,
            prop::sample::select(
                &[
                    "ms-azure-iot-edge://edge-1-637",
                    "ms-azure-iot-edge://gw-2-638",
                ][..],
            ),
        ),
        prop::option::of(prop::sample::select(&["Connected", "Disconnected"][..])),
        prop::option::of(prop::sample::select(TIMESTAMPS)),
        prop::option::of(0u64..1000),
    )
        .prop_map(
            |(
                export,
                device_id,
                module_id,
                status,
                auth_type,
                auth_null,
                iot_edge,
                parent_scope,
                connection,
                last_activity,
                version,
            )| Head {
                export,
                device_id,
                module_id,
                status,
                auth_type,
                auth_null,
                iot_edge,
                parent_scope,
                connection,
                last_activity,
                version,
            },
        )
}

fn build_record(
    head: Head,
    tags: Option<Value>,
    properties: Option<Value>,
    extra: Option<(&str, Value)>,
) -> Value {
    let mut r = Map::new();
    let id_key = if head.export { "id" } else { "deviceId" };
    r.insert(id_key.into(), head.device_id.into());
    if let Some(m) = head.module_id {
        r.insert("moduleId".into(), m.into());
    }
    if head.export {
        r.insert("eTag".into(), "MTIzNDU2Nzg5".into());
    } else {
        r.insert("etag".into(), "AAAAAAAAAAE=".into());
        r.insert("deviceEtag".into(), "MTIzNDU2Nzg5".into());
    }
    if let Some(s) = head.status {
        r.insert("status".into(), s.into());
    }
    if let Some(c) = head.connection {
        r.insert("connectionState".into(), c.into());
    }
    if let Some(t) = head.last_activity {
        r.insert("lastActivityTime".into(), t.into());
    }
    let thumbprints = |self_signed: bool| {
        let t = |s: &str| {
            if self_signed {
                Value::from(s)
            } else {
                Value::Null
            }
        };
        let mut m = Map::new();
        m.insert(
            "primaryThumbprint".into(),
            t("AB12CD34EF56AB12CD34EF56AB12CD34EF56AB12"),
        );
        m.insert(
            "secondaryThumbprint".into(),
            t("00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF"),
        );
        Value::Object(m)
    };
    let self_signed = head.auth_type == "selfSigned";
    if head.export {
        if head.auth_null {
            r.insert("authentication".into(), Value::Null);
        } else {
            let sas = head.auth_type == "sas";
            let key = |k: &str| if sas { Value::from(k) } else { Value::Null };
            let mut sym = Map::new();
            sym.insert("primaryKey".into(), key(SECRET_KEYS[0]));
            sym.insert("secondaryKey".into(), key(SECRET_KEYS[1]));
            let mut auth = Map::new();
            auth.insert("symmetricKey".into(), Value::Object(sym));
            auth.insert("x509Thumbprint".into(), thumbprints(self_signed));
            auth.insert("type".into(), head.auth_type.into());
            r.insert("authentication".into(), Value::Object(auth));
        }
        r.insert("twinETag".into(), "AAAAAAAAAAE=".into());
    } else {
        r.insert("authenticationType".into(), head.auth_type.into());
        r.insert("x509Thumbprint".into(), thumbprints(self_signed));
    }
    if let Some(v) = head.version {
        r.insert("version".into(), v.into());
    }
    if let Some(t) = tags {
        r.insert("tags".into(), t);
    }
    if let Some(p) = properties {
        r.insert("properties".into(), p);
    }
    if head.module_id.is_none() {
        if let Some(edge) = head.iot_edge {
            let mut caps = Map::new();
            caps.insert("iotEdge".into(), edge.into());
            r.insert("capabilities".into(), Value::Object(caps));
        }
        if let Some(scope) = head.parent_scope {
            r.insert("deviceScope".into(), scope.into());
            r.insert("parentScopes".into(), Value::Array(vec![scope.into()]));
        }
    }
    if let Some((key, value)) = extra {
        // Top-level members the vocabulary does not name are kept, a case variant included.
        r.entry(key).or_insert(value);
    }
    Value::Object(r)
}

/// A top-level member the vocabulary does not otherwise produce: unknown members, case variants
/// of system names (`Tags`, `DeviceId`: the row becomes irregular), export names in twin shape
/// (kept as they are), `importMode` (dropped) and `authentication` in either shape.
fn arb_extra() -> impl Strategy<Value = (&'static str, Value)> {
    let authentication = (
        prop::option::of(prop::sample::select(&["sas", "selfSigned", "none"][..])),
        prop::option::of(prop_oneof![Just(Value::Null), arb_tree()]),
    )
        .prop_map(|(kind, thumbprint)| {
            let mut m = Map::new();
            if let Some(t) = thumbprint {
                m.insert("x509Thumbprint".into(), t);
            }
            if let Some(k) = kind {
                m.insert("type".into(), k.into());
            }
            Value::Object(m)
        });
    prop_oneof![
        3 => (
            prop::sample::select(
                &[
                    "Tags",
                    "managedBy",
                    "generationId",
                    "eTag",
                    "twinETag",
                    "importMode",
                    "id",
                    "DeviceId",
                    "ModuleId",
                ][..]
            ),
            arb_value(),
        ),
        1 => (
            Just("authentication"),
            prop_oneof![1 => Just(Value::Null), 3 => authentication],
        ),
    ]
}

/// One record, in export shape (`id`, `authentication`) or twin shape (`deviceId`), device or
/// module (`moduleId`).
pub fn arb_record() -> impl Strategy<Value = Value> {
    (
        arb_head(),
        prop::option::weighted(0.85, arb_tree()),
        prop::option::weighted(0.85, arb_properties()),
        prop::option::weighted(0.15, arb_extra()),
    )
        .prop_map(|(head, tags, properties, extra)| build_record(head, tags, properties, extra))
}

/// 0 to 39 records, shapes mixed.
pub fn arb_fleet() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(arb_record(), 0..40)
}

// ---------------------------------------------------------------------------------------------
// Query text

/// Paths over the record vocabulary (case variants, `[[...]]`, array index, system members).
const PATHS: &[&str] = &[
    "tags.a",
    "tags.A",
    "tags.b",
    "TAGS.region",
    "tags.region",
    "tags.roles",
    "tags.roles[0]",
    "tags.Location.region",
    "tags.location.a",
    "tags.[[a]]",
    "tags.a.b",
    "properties.reported.b",
    "properties.reported.a",
    "properties.desired.a",
    "properties.reported.$version",
    "status",
    "deviceId",
    "id",
    "moduleId",
    "capabilities.iotEdge",
    "connectionState",
    "lastActivityTime",
    "version",
    // Whole objects and arrays, array steps into objects, qualified names, export-only
    // members and `$metadata`.
    "tags",
    "tags.location",
    "tags.roles[1]",
    "tags.roles[0].a",
    "tags.a[0]",
    "parentScopes[0]",
    "devices.tags.b",
    "devices.modules.moduleId",
    "authenticationType",
    "x509Thumbprint.primaryThumbprint",
    "properties.desired.$metadata.a.$lastUpdated",
    "properties.desired.$version",
    "tags.k",
    "tags.K",
    // Quoted names: unicode, a quote, a backslash, the Kelvin sign (lower-cases to `k`).
    "tags.[[東京]]",
    "tags.[[ü]]",
    "tags.[[k\"q]]",
    "tags.[[back\\slash]]",
    "tags.[[\u{212a}]]",
    "properties.reported.[[😀]]",
];
/// Paths usable as `GROUP BY` keys (plain dotted names).
const GROUP_PATHS: &[&str] = &[
    "tags.a",
    "tags.A",
    "tags.b",
    "TAGS.region",
    "tags.roles",
    "properties.reported.b",
    "status",
    "moduleId",
    "capabilities.iotEdge",
    "connectionState",
    "tags.location",
    "authenticationType",
    // Case variants of keys above: two keys may name one path.
    "tags.Location",
    "tags.region",
];
const NUMBER_LITERALS: &[&str] = &[
    "-1",
    "0",
    "1",
    "5",
    "5.0",
    "2.5",
    "100",
    "0x10",
    "-0",
    "0.1",
    "1e300",
    "9007199254740993",
    "18446744073709551615",
];

/// A string literal in single or double quotes with SPEC §2.2 escapes.
fn sql_string(s: &str, double: bool) -> String {
    let quote = if double { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

pub fn arb_path() -> impl Strategy<Value = String> {
    prop::sample::select(PATHS).prop_map(String::from)
}

pub fn arb_string_literal() -> impl Strategy<Value = String> {
    (prop::sample::select(STRINGS), any::<bool>()).prop_map(|(s, double)| sql_string(s, double))
}

/// A scalar literal.
fn arb_scalar_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => arb_string_literal(),
        4 => prop::sample::select(NUMBER_LITERALS).prop_map(String::from),
        1 => prop::sample::select(&["true", "false", "null"][..]).prop_map(String::from),
    ]
}

/// Any literal: mostly scalars, sometimes `undefined` or an array.
pub fn arb_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        16 => arb_scalar_literal(),
        1 => Just("undefined".to_string()),
        1 => prop::collection::vec(arb_scalar_literal(), 0..3)
            .prop_map(|items| format!("[{}]", items.join(", "))),
    ]
}

/// A scalar expression: mostly a path, sometimes arithmetic or a string function over one.
fn arb_operand() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => arb_path(),
        1 => (arb_path(), prop::sample::select(&["+", "-", "*", "/", "%"][..]), prop::sample::select(NUMBER_LITERALS))
            .prop_map(|(p, op, n)| format!("{p} {op} {n}")),
        1 => arb_path().prop_map(|p| format!("-{p}")),
        1 => (prop::sample::select(&["LOWER", "lower", "LENGTH", "UPPER"][..]), arb_path())
            .prop_map(|(f, p)| format!("{f}({p})")),
        1 => arb_function_call(),
    ]
}

/// The other scalar functions of SPEC §2.3, over a path and constants.
fn arb_function_call() -> impl Strategy<Value = String> {
    let unary = (
        prop::sample::select(
            &[
                "ABS",
                "CEILING",
                "FLOOR",
                "SIGN",
                "SQRT",
                "SQUARE",
                "EXP",
                "AS_NUMBER",
                "as_number",
            ][..],
        ),
        arb_path(),
    )
        .prop_map(|(f, p)| format!("{f}({p})"));
    let power = (arb_path(), prop::sample::select(NUMBER_LITERALS))
        .prop_map(|(p, n)| format!("POWER({p}, {n})"));
    let substring = (
        arb_path(),
        prop::sample::select(&["0", "1", "-1", "2.5", "100"][..]),
        prop::option::of(prop::sample::select(&["0", "2", "-1", "1.5"][..])),
    )
        .prop_map(|(p, start, len)| match len {
            Some(len) => format!("SUBSTRING({p}, {start}, {len})"),
            None => format!("SUBSTRING({p}, {start})"),
        });
    let concat = (arb_path(), arb_string_literal(), arb_path())
        .prop_map(|(p, s, q)| format!("CONCAT({p}, {s}, {q})"));
    let index_of =
        (arb_path(), arb_string_literal()).prop_map(|(p, s)| format!("INDEX_OF({p}, {s})"));
    prop_oneof![3 => unary, 1 => power, 2 => substring, 1 => concat, 1 => index_of]
}

/// Paths with constants of the type their values usually have, so that comparisons are often
/// defined and often true (untyped pairs are mostly undefined, and a property that only ever
/// sees empty results proves little).
const TYPED: &[(&str, &[&str])] = &[
    ("status", &["'enabled'", "'disabled'", "'e'"]),
    ("connectionState", &["'Connected'", "\"Disconnected\""]),
    (
        "authenticationType",
        &["'sas'", "'selfSigned'", "'none'", "'n'"],
    ),
    ("deviceId", &["'d1'", "'D1'", "'dev-1'", "'e'", "'t'"]),
    ("id", &["'d2'", "'edge-1'", "'s'"]),
    ("moduleId", &["'m1'", "'$edgeAgent'", "'M1'", "'n'"]),
    ("version", &["0", "100", "500", "999.5"]),
    ("properties.desired.$version", &["5", "25", "0"]),
    ("properties.reported.$version", &["10", "49.5"]),
    (
        "lastActivityTime",
        &[
            "'2024-01-01'",
            "'2025'",
            "'0001-01-01T00:00:00Z'",
            "'2024-05-01T12:34:56.12Z'",
            "'2024-05-01T12:34:56.1Z'",
        ],
    ),
    ("capabilities.iotEdge", &["true", "false"]),
    ("tags.a", &["'x'", "5", "'y'", "0", "2.5"]),
    ("tags.A", &["'X'", "1", "-1"]),
    ("tags.b", &["'x'", "5.0", "''", "true"]),
    ("TAGS.region", &["'Zürich'", "'東京'", "100"]),
    ("properties.reported.a", &["'x'", "1", "false"]),
    ("properties.desired.a", &["'y'", "0"]),
];

fn arb_typed() -> impl Strategy<Value = (&'static str, Vec<&'static str>)> {
    prop::sample::select(TYPED).prop_flat_map(|(path, constants)| {
        (
            Just(path),
            prop::collection::vec(prop::sample::select(constants), 1..4),
        )
    })
}

fn arb_predicate() -> impl Strategy<Value = String> {
    let typed_comparison = (
        arb_typed(),
        prop::sample::select(&["=", "=", "!=", "<", "<=", ">", ">="][..]),
        any::<bool>(),
    )
        .prop_map(|((p, c), op, flip)| {
            if flip {
                format!("{} {op} {p}", c[0])
            } else {
                format!("{p} {op} {}", c[0])
            }
        });
    let typed_membership = (arb_typed(), prop::sample::select(&["IN", "NIN", "in"][..]))
        .prop_map(|((p, c), op)| format!("{p} {op} [{}]", c.join(", ")));
    let comparison = (
        arb_operand(),
        prop::sample::select(&["=", "!=", "<>", "<", "<=", ">", ">="][..]),
        prop_oneof![3 => arb_literal(), 1 => arb_operand()],
    )
        .prop_map(|(l, op, r)| format!("{l} {op} {r}"));
    let membership = (
        arb_path(),
        prop::sample::select(&["IN", "NIN", "NOT IN", "in"][..]),
        prop::collection::vec(arb_literal(), 1..4),
    )
        .prop_map(|(p, op, items)| format!("{p} {op} [{}]", items.join(", ")));
    let unary = (
        prop::sample::select(
            &[
                "IS_DEFINED",
                "is_defined",
                "IS_STRING",
                "IS_NUMBER",
                "IS_NULL",
                "IS_ARRAY",
                "IS_OBJECT",
                "IS_BOOL",
                "IS_PRIMITIVE",
            ][..],
        ),
        arb_path(),
    )
        .prop_map(|(f, p)| format!("{f}({p})"));
    let string_fn = (
        prop::sample::select(
            &[
                "STARTSWITH",
                "ENDSWITH",
                "CONTAINS",
                "startswith",
                "STARTS_WITH",
                "ENDS_WITH",
            ][..],
        ),
        arb_operand(),
        arb_string_literal(),
    )
        .prop_map(|(f, p, s)| format!("{f}({p}, {s})"));
    let array_contains =
        (arb_path(), arb_literal()).prop_map(|(p, v)| format!("ARRAY_CONTAINS({p}, {v})"));
    prop_oneof![
        5 => typed_comparison,
        2 => typed_membership,
        3 => comparison,
        2 => membership,
        2 => unary,
        2 => string_fn,
        1 => array_contains,
    ]
}

/// A condition with nested `AND`/`OR`/`NOT`, parenthesised or left to precedence.
pub fn arb_condition() -> impl Strategy<Value = String> {
    arb_predicate().prop_recursive(4, 12, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(&["AND", "OR", "and", "or"][..]),
                inner.clone(),
                any::<bool>()
            )
                .prop_map(|(a, op, b, paren)| {
                    if paren {
                        format!("({a} {op} {b})")
                    } else {
                        format!("{a} {op} {b}")
                    }
                }),
            inner.prop_map(|a| format!("NOT ({a})")),
        ]
    })
}

/// `SELECT COUNT() FROM ... WHERE p` with one predicate of a kind that value index entry
/// sizes answer (`=`, ranges, `IN` with repeated values, `STARTSWITH`), over either
/// collection, sometimes with a `TOP`.
pub fn arb_count_query() -> impl Strategy<Value = String> {
    let cond = (
        arb_typed(),
        prop::sample::select(&["=", "<", "<=", ">", ">=", "IN", "STARTSWITH"][..]),
        any::<bool>(),
    )
        .prop_map(|((p, c), op, flip)| match op {
            "IN" => format!("{p} IN [{}]", c.join(", ")),
            "STARTSWITH" => format!("STARTSWITH({p}, {})", c[0]),
            op if flip => format!("{} {op} {p}", c[0]),
            op => format!("{p} {op} {}", c[0]),
        });
    (
        prop::sample::select(&["COUNT()", "COUNT() AS n, COUNT() AS m"][..]),
        prop::sample::select(&["devices", "devices.modules"][..]),
        cond,
        prop::option::weighted(0.2, prop::sample::select(&["0", "1"][..])),
    )
        .prop_map(|(list, from, cond, top)| match top {
            Some(n) => format!("SELECT TOP {n} {list} FROM {from} WHERE {cond}"),
            None => format!("SELECT {list} FROM {from} WHERE {cond}"),
        })
}

/// `GROUP BY` one key with `COUNT()`, over a whole collection (answered from index entry
/// sizes) or a filtered one, in the default order or by count (ties keep first-row order).
pub fn arb_group_count_query() -> impl Strategy<Value = String> {
    (
        prop::sample::select(GROUP_PATHS),
        prop::sample::select(&["devices", "devices.modules"][..]),
        prop::option::weighted(0.3, arb_condition()),
        prop::sample::select(&["", " ORDER BY n", " ORDER BY n DESC", " ORDER BY k"][..]),
    )
        .prop_map(|(key, from, cond, order)| {
            let filter = cond.map_or_else(String::new, |c| format!(" WHERE {c}"));
            format!("SELECT {key} AS k, COUNT() AS n FROM {from}{filter} GROUP BY {key}{order}")
        })
}

/// Paths whose strings are nearly unique in the fleets of `nearly_unique_fillers` (props):
/// no value index, so string comparisons, `IN` and `STARTSWITH` on them answer from sorted
/// strings. `lastActivityTime` holds timestamps (never value-indexed), `tags.b` mixes strings
/// with numbers, timestamps, objects and arrays, and has a case variant.
const NEARLY_UNIQUE_PATHS: &[&str] = &[
    "deviceId",
    "id",
    "devices.deviceId",
    "moduleId",
    "tags.b",
    "tags.B",
    "TAGS.b",
    "lastActivityTime",
    "tags.uid",
];
/// Prefixes and constants for them: the empty string, runs of many or few rows, strings that
/// sort between or after every value, case variants, multi-byte text, a timestamp's text.
const NEARLY_UNIQUE_STRINGS: &[&str] = &[
    "",
    "u-",
    "u-1",
    "u-12",
    "u-123",
    "u-999",
    "U-1",
    "u-",
    "mod-",
    "mod-3",
    "filler-",
    "filler-7",
    "d",
    "dev-1",
    "test-",
    "x",
    "zzz",
    "~",
    "é",
    "é-2",
    "2024-",
    "2024-05-01T12:34:56",
    "2024-05-01T12:34:56.5Z",
    "0001",
];

fn arb_nearly_unique_string() -> impl Strategy<Value = String> {
    (prop::sample::select(NEARLY_UNIQUE_STRINGS), any::<bool>())
        .prop_map(|(s, double)| sql_string(s, double))
}

/// One predicate over a nearly unique string path: `STARTSWITH` (or its negation), a
/// comparison with a string (sometimes another constant), `IN`/`NIN` of strings.
fn arb_nearly_unique_predicate() -> impl Strategy<Value = String> {
    let path = || prop::sample::select(NEARLY_UNIQUE_PATHS);
    let starts = (
        prop::sample::select(&["STARTSWITH", "startswith", "STARTS_WITH"][..]),
        path(),
        arb_nearly_unique_string(),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(f, p, s, not)| {
            let call = format!("{f}({p}, {s})");
            if not {
                format!("NOT {call}")
            } else {
                call
            }
        });
    let constant = prop_oneof![
        6 => arb_nearly_unique_string(),
        1 => prop::sample::select(&["5", "null", "true", "undefined", "['u-1']"][..])
            .prop_map(String::from),
    ];
    let compare = (
        path(),
        prop::sample::select(&["=", "!=", "<>", "<", "<=", ">", ">="][..]),
        constant,
        any::<bool>(),
    )
        .prop_map(|(p, op, c, flip)| {
            if flip {
                format!("{c} {op} {p}")
            } else {
                format!("{p} {op} {c}")
            }
        });
    let member = (
        path(),
        prop::sample::select(&["IN", "NIN", "NOT IN"][..]),
        prop::collection::vec(arb_nearly_unique_string(), 1..4),
    )
        .prop_map(|(p, op, items)| format!("{p} {op} [{}]", items.join(", ")));
    prop_oneof![3 => starts, 3 => compare, 1 => member]
}

/// A query filtering on nearly unique string paths, alone or combined with anything else.
pub fn arb_nearly_unique_query() -> impl Strategy<Value = String> {
    let cond = arb_nearly_unique_predicate().prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(&["AND", "OR"][..]),
                prop_oneof![2 => inner.clone(), 1 => arb_predicate()],
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.prop_map(|a| format!("NOT ({a})")),
        ]
    });
    (
        prop::sample::select(&["COUNT() AS n", "deviceId, moduleId, tags.b", "deviceId"][..]),
        prop::sample::select(&["devices", "devices", "devices.modules"][..]),
        cond,
    )
        .prop_map(|(list, from, cond)| format!("SELECT {list} FROM {from} WHERE {cond}"))
}

/// The output key an unaliased path gets, lower-cased (collisions are judged ignoring case to
/// be safe: the spelling comes from the document).
fn output_key(path: &str) -> String {
    if path == "id" {
        return "deviceid".into();
    }
    let last = path.rsplit('.').next().unwrap_or(path);
    let last = match last.strip_prefix("[[") {
        Some(quoted) => quoted.split("]]").next().unwrap_or(quoted),
        None => last.split('[').next().unwrap_or(last),
    };
    last.to_lowercase()
}

fn arb_simple_aggregate() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => prop::sample::select(&["COUNT()", "count()"][..]).prop_map(String::from),
        3 => (prop::sample::select(&["COUNT", "SUM", "AVG", "MIN", "MAX", "sum"][..]), arb_path())
            .prop_map(|(f, p)| format!("{f}({p})")),
    ]
}

/// An aggregate, or arithmetic over two (`SUM(x) / COUNT()`).
fn arb_aggregate() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => arb_simple_aggregate(),
        1 => (
            arb_simple_aggregate(),
            prop::sample::select(&["+", "-", "*", "/", "%"][..]),
            arb_simple_aggregate(),
        )
            .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
    ]
}

/// Whether an expression holds an aggregate.
fn is_aggregate(term: &str) -> bool {
    let upper = term.to_uppercase();
    ["COUNT(", "SUM(", "AVG(", "MIN(", "MAX("]
        .iter()
        .any(|f| upper.contains(f))
}

#[derive(Debug, Clone)]
enum Select {
    Star,
    /// Expressions; unaliased ones are plain paths with distinct output keys.
    Items(Vec<(String, bool)>),
    /// Aggregates only, no `GROUP BY`.
    Aggregates(Vec<(String, bool)>),
    /// Group keys (selected or not) and aggregates.
    Grouped {
        keys: Vec<String>,
        selected_keys: Vec<(String, bool)>,
        aggregates: Vec<(String, bool)>,
    },
}

/// `(item, alias?)` pairs to text, aliasing `c0`, `c1`, ... by position; unaliased items whose
/// output key would collide are aliased anyway.
fn select_text(items: &[(String, bool)], force_alias: impl Fn(&str) -> bool) -> String {
    let mut seen = std::collections::HashSet::new();
    items
        .iter()
        .enumerate()
        .map(|(i, (item, alias))| {
            let plain = !alias && !force_alias(item) && seen.insert(output_key(item));
            if plain {
                item.clone()
            } else {
                format!("{item} AS c{i}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn arb_select() -> impl Strategy<Value = Select> {
    let items = prop::collection::vec(
        (
            prop_oneof![3 => arb_path(), 1 => arb_operand()],
            any::<bool>(),
        ),
        1..4,
    )
    .prop_map(Select::Items);
    let aggregates =
        prop::collection::vec((arb_aggregate(), any::<bool>()), 1..3).prop_map(Select::Aggregates);
    let grouped = (
        prop::sample::subsequence(GROUP_PATHS, 1..3),
        prop::collection::vec(any::<bool>(), 2),
        prop::collection::vec(any::<bool>(), 2),
        prop::collection::vec((arb_aggregate(), any::<bool>()), 0..3),
        prop::option::weighted(
            0.25,
            (
                prop::sample::select(&["LOWER", "UPPER", "LENGTH", "-"][..]),
                any::<bool>(),
            ),
        ),
    )
        .prop_map(|(keys, selected, aliased, aggregates, key_expr)| {
            let keys: Vec<String> = keys.into_iter().map(String::from).collect();
            let mut selected_keys: Vec<(String, bool)> = keys
                .iter()
                .zip(&selected)
                .zip(&aliased)
                .filter(|((_, s), _)| **s)
                .map(|((k, _), a)| (k.clone(), *a))
                .collect();
            // An expression over a key is allowed in a grouped select list.
            if let Some((f, alias)) = key_expr {
                let e = match f {
                    "-" => format!("-{}", keys[0]),
                    f => format!("{f}({})", keys[0]),
                };
                selected_keys.push((e, alias));
            }
            Select::Grouped {
                keys,
                selected_keys,
                aggregates,
            }
        });
    prop_oneof![
        2 => Just(Select::Star),
        3 => items,
        2 => aggregates,
        3 => grouped,
    ]
}

fn is_plain_path(item: &str) -> bool {
    PATHS.contains(&item)
}

/// Random query text over the vocabulary: `SELECT *`, projections, aggregates with or without
/// `GROUP BY`, `ORDER BY`, `TOP`, `FROM devices` or `devices.modules`, nested conditions. Meant
/// to be valid per SPEC §2 (grouped queries select only keys and aggregates, output keys never
/// collide), so the interesting outcome is a result, not a query error.
pub fn arb_query_sql() -> impl Strategy<Value = String> {
    (
        arb_select(),
        prop::option::weighted(0.3, prop::sample::select(&[1u64, 2, 5, 100][..])),
        prop::sample::select(&["devices", "devices", "devices", "devices.modules"][..]),
        prop::option::weighted(0.7, arb_condition()),
        prop::collection::vec(
            (
                prop_oneof![3 => arb_path(), 1 => arb_aggregate(), 1 => arb_operand()],
                prop::sample::select(&["", " ASC", " DESC", " desc"][..]),
            ),
            0..3,
        ),
        any::<bool>(),
    )
        .prop_map(|(select, top, from, filter, order, lower_keywords)| {
            let (list, group_by, order_terms): (String, Vec<String>, Vec<String>) = match &select {
                Select::Star => ("*".into(), vec![], plain_order(&order)),
                Select::Items(items) => (
                    select_text(items, |i| !is_plain_path(i)),
                    vec![],
                    plain_order(&order),
                ),
                Select::Aggregates(aggs) => (select_text(aggs, |_| false), vec![], vec![]),
                Select::Grouped {
                    keys,
                    selected_keys,
                    aggregates,
                } => {
                    let mut items = selected_keys.clone();
                    // Unaliased aggregates are keyed $1, $2, ...: never a collision.
                    items.extend(aggregates.iter().cloned());
                    if items.is_empty() {
                        items.push(("COUNT()".into(), true));
                    }
                    let text = select_text(&items, |_| false);
                    // ORDER BY in a grouped query: group keys, aggregates, or the first alias.
                    let terms = order
                        .iter()
                        .enumerate()
                        .map(|(i, (term, dir))| {
                            let term = if is_aggregate(term) {
                                term.clone()
                            } else if i == 0 && text.contains(" AS c0") {
                                "c0".into()
                            } else {
                                keys[i % keys.len()].clone()
                            };
                            format!("{term}{dir}")
                        })
                        .collect();
                    (text, keys.clone(), terms)
                }
            };
            let kw = |k: &str| {
                if lower_keywords {
                    k.to_lowercase()
                } else {
                    k.to_string()
                }
            };
            let mut q = kw("SELECT");
            if let Some(n) = top {
                q.push_str(&format!(" {} {n}", kw("TOP")));
            }
            q.push_str(&format!(" {list} {} {from}", kw("FROM")));
            if let Some(c) = filter {
                q.push_str(&format!(" {} {c}", kw("WHERE")));
            }
            if !group_by.is_empty() {
                q.push_str(&format!(" {} {}", kw("GROUP BY"), group_by.join(", ")));
            }
            if !order_terms.is_empty() {
                q.push_str(&format!(" {} {}", kw("ORDER BY"), order_terms.join(", ")));
            }
            q
        })
}

/// `ORDER BY` terms for an ungrouped query: paths only (aggregates would need a group).
fn plain_order(order: &[(String, &str)]) -> Vec<String> {
    order
        .iter()
        .filter(|(term, _)| !is_aggregate(term))
        .map(|(term, dir)| format!("{term}{dir}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Sanity

/// Check what [`arb_record`] promises: an object in one shape, `symmetricKey` only in export
/// shape, no `null` inside arrays, tree depth within SPEC §1.3, and a lossless JSON round trip.
pub fn check_record(record: &Value) -> Result<(), String> {
    fn depth(v: &Value) -> usize {
        match v {
            Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
            Value::Array(a) => a.iter().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    fn no_null_in_arrays(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.values().all(no_null_in_arrays),
            Value::Array(a) => a.iter().all(|x| !x.is_null() && no_null_in_arrays(x)),
            _ => true,
        }
    }
    let obj = record.as_object().ok_or("not an object")?;
    let export = obj.contains_key("id") && !obj.contains_key("deviceId");
    if !export && !obj.contains_key("deviceId") {
        return Err("neither id nor deviceId".into());
    }
    let text = serde_json::to_string(record).map_err(|e| e.to_string())?;
    if !export && text.contains(SECRET_KEYS[0]) {
        return Err("twin shape carries a secret".into());
    }
    let back: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if &back != record {
        return Err("JSON round trip changed the record".into());
    }
    if !no_null_in_arrays(record) {
        return Err("null inside an array".into());
    }
    for tree in [
        obj.get("tags"),
        record.pointer("/properties/desired"),
        record.pointer("/properties/reported"),
    ]
    .into_iter()
    .flatten()
    {
        if depth(tree) > 10 {
            return Err(format!("deeper than 10: {tree}"));
        }
    }
    Ok(())
}

/// Light checks on query text: one statement in the shape `SELECT ... FROM devices...`, with
/// balanced brackets outside string literals.
pub fn check_query_text(q: &str) -> Result<(), String> {
    let upper = q.to_uppercase();
    if !upper.starts_with("SELECT ") || !upper.contains(" FROM DEVICES") {
        return Err(format!("not a query: {q}"));
    }
    // Quoted names (`[[k"q]]`) hold quotes and brackets of their own: leave them out.
    let mut unquoted = String::with_capacity(q.len());
    let mut rest = q;
    while let Some(i) = rest.find(".[[") {
        unquoted.push_str(&rest[..i]);
        match rest[i..].find("]]") {
            Some(j) => rest = &rest[i + j + 2..],
            None => return Err(format!("unterminated [[ name: {q}")),
        }
    }
    unquoted.push_str(rest);
    let (mut depth, mut quote, mut escaped) = (0i32, None, false);
    for c in unquoted.chars() {
        match quote {
            Some(qc) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == qc {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                _ => {}
            },
        }
        if depth < 0 {
            return Err(format!("unbalanced: {q}"));
        }
    }
    if depth != 0 || quote.is_some() {
        return Err(format!("unbalanced: {q}"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn strategies_generate_what_they_promise(
        fleet in arb_fleet(),
        queries in prop::collection::vec(arb_query_sql(), 4),
    ) {
        prop_assert!(fleet.len() < 40);
        for r in &fleet {
            check_record(r).map_err(TestCaseError::fail)?;
        }
        for q in &queries {
            check_query_text(q).map_err(TestCaseError::fail)?;
        }
    }
}
