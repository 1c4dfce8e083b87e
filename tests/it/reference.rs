//! The reference evaluator on its own: normalisation, and queries built by hand (so these
//! tests do not depend on the parser).

use serde_json::{json, Value};
use twindex::reference::{evaluate, normalise};
use twindex::sql::*;

use super::golden::{fixture_path, load_fixture};

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------- normalise

#[test]
fn normalise_export_names_become_twin_names() {
    let v = normalise(json!({
        "id": "d1", "moduleId": "m", "eTag": "E", "twinETag": "T",
        "authentication": {"type": "sas", "x509Thumbprint": {"primaryThumbprint": null}}
    }));
    assert_eq!(
        v,
        json!({
            "deviceId": "d1", "moduleId": "m", "etag": "T", "deviceEtag": "E",
            "authenticationType": "sas", "x509Thumbprint": {"primaryThumbprint": null}
        })
    );
}

#[test]
fn normalise_orders_twin_keys_then_document_order() {
    let v = normalise(json!({
        "zeta": 1, "tags": {"z": 1, "a": 2}, "generationId": "g", "status": "enabled",
        "parentScopes": [], "id": "d1", "alpha": 2
    }));
    assert_eq!(
        keys(&v),
        [
            "deviceId",
            "status",
            "tags",
            "parentScopes",
            "zeta",
            "generationId",
            "alpha"
        ]
    );
    assert_eq!(
        keys(&v["tags"]),
        ["z", "a"],
        "nested objects keep document order"
    );
}

#[test]
fn normalise_never_keeps_secrets_or_import_mode() {
    let v = normalise(json!({
        "id": "d1", "importMode": "createOrUpdate",
        "authentication": {"symmetricKey": {"primaryKey": "PK", "secondaryKey": "SK"}, "type": "sas"}
    }));
    let text = v.to_string();
    assert!(!text.contains("symmetricKey") && !text.contains("PK") && !text.contains("SK"));
    assert!(!text.contains("importMode") && !text.contains("authentication\""));
    assert_eq!(v, json!({"deviceId": "d1", "authenticationType": "sas"}));
}

#[test]
fn normalise_null_or_partial_authentication() {
    assert_eq!(
        normalise(json!({"id": "d1", "authentication": null})),
        json!({"deviceId": "d1"})
    );
    assert_eq!(
        normalise(json!({"id": "d1", "authentication": {"type": null}})),
        json!({"deviceId": "d1", "authenticationType": null})
    );
}

#[test]
fn normalise_twin_shape_keeps_members_but_not_authentication() {
    let input = json!({
        "deviceId": "d1", "eTag": "kept", "authentication": {"type": "sas", "symmetricKey": {"primaryKey": "PK"}},
        "authenticationType": "selfSigned", "connectionState": "Connected"
    });
    assert_eq!(
        normalise(input),
        json!({"deviceId": "d1", "connectionState": "Connected", "authenticationType": "selfSigned", "eTag": "kept"})
    );
}

#[test]
fn normalise_is_idempotent_on_fixtures() {
    for name in ["export", "twins", "mixed"] {
        for twin in load_fixture(&fixture_path(name)).unwrap_or_default() {
            assert_eq!(normalise(twin.clone()).to_string(), twin.to_string());
        }
    }
}

#[test]
fn export_fixture_holds_no_secret() {
    let raw = std::fs::read_to_string(fixture_path("export")).unwrap_or_default();
    assert!(
        raw.contains("symmetricKey"),
        "the fixture should carry secrets"
    );
    let twins = load_fixture(&fixture_path("export")).unwrap_or_default();
    assert_eq!(twins.len(), 7);
    for twin in &twins {
        let text = twin.to_string();
        assert!(!text.contains("symmetricKey"), "{text}");
        assert!(
            !text.contains("c2VjcmV0") && !text.contains("secret"),
            "{text}"
        );
        assert!(twin.get("deviceId").is_some() && twin.get("id").is_none());
    }
    assert_eq!(
        keys(&twins[0]),
        [
            "deviceId",
            "etag",
            "deviceEtag",
            "status",
            "authenticationType",
            "x509Thumbprint",
            "tags",
            "properties",
            "capabilities",
            "managedBy"
        ]
    );
}

// ---------------------------------------------------------------- hand-built queries

fn sp() -> Span {
    Span::default()
}

fn expr(kind: ExprKind) -> Expr {
    Expr { kind, span: sp() }
}

fn path(dotted: &str) -> Expr {
    path_at(dotted, sp())
}

fn path_at(dotted: &str, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Path(Path {
            segments: dotted
                .split('.')
                .map(|s| Segment::Name(s.to_string()))
                .collect(),
            span,
        }),
        span,
    }
}

fn lit(l: Literal) -> Expr {
    expr(ExprKind::Literal(l))
}

fn s(x: &str) -> Expr {
    lit(Literal::String(x.to_string()))
}

fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
    expr(ExprKind::Binary {
        op,
        left: Box::new(l),
        right: Box::new(r),
    })
}

fn not(e: Expr) -> Expr {
    expr(ExprKind::Unary {
        op: UnaryOp::Not,
        operand: Box::new(e),
    })
}

fn count() -> Expr {
    expr(ExprKind::Aggregate {
        func: AggregateFunc::Count,
        arg: None,
    })
}

fn agg(func: AggregateFunc, e: Expr) -> Expr {
    expr(ExprKind::Aggregate {
        func,
        arg: Some(Box::new(e)),
    })
}

fn item(e: Expr, alias: Option<&str>) -> SelectItem {
    SelectItem {
        expr: e,
        alias: alias.map(|a| Ident {
            name: a.to_string(),
            span: sp(),
        }),
        span: sp(),
    }
}

fn query(items: Vec<SelectItem>, collection: Collection, filter: Option<Expr>) -> Query {
    Query {
        top: None,
        select: if items.is_empty() {
            SelectList::Star(sp())
        } else {
            SelectList::Items(items)
        },
        from: From {
            collection,
            span: sp(),
        },
        filter,
        group_by: vec![],
        order_by: vec![],
        span: sp(),
    }
}

fn twins(name: &str) -> Vec<Value> {
    load_fixture(&fixture_path(name)).unwrap_or_default()
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["deviceId"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn devices_and_modules_are_separate_collections() {
    let data = twins("export");
    let q = query(
        vec![item(path("deviceId"), None)],
        Collection::Devices,
        None,
    );
    assert_eq!(
        ids(&evaluate(&q, &data).unwrap_or_default()),
        ["thermo-01", "thermo-02", "gw-1", "child-1"]
    );
    let q = query(
        vec![item(path("devices.modules.moduleId"), None)],
        Collection::Modules,
        None,
    );
    assert_eq!(
        evaluate(&q, &data).unwrap_or_default(),
        [
            json!({"moduleId": "sensor"}),
            json!({"moduleId": "sensor"}),
            json!({"moduleId": "$edgeAgent"})
        ]
    );
}

#[test]
fn not_equal_and_not_never_match_undefined() {
    let data = twins("mixed");
    // tags.x != 'a': only strings other than 'a' (m2 'b', m9 'B', m10 '').
    let q = query(
        vec![item(path("deviceId"), None)],
        Collection::Devices,
        Some(bin(BinaryOp::NotEq, path("tags.x"), s("a"))),
    );
    assert_eq!(
        ids(&evaluate(&q, &data).unwrap_or_default()),
        ["m2", "m9", "m10"]
    );
    // NOT (tags.x = 'a'): the same rows.
    let q = query(
        vec![item(path("deviceId"), None)],
        Collection::Devices,
        Some(not(bin(BinaryOp::Eq, path("tags.x"), s("a")))),
    );
    assert_eq!(
        ids(&evaluate(&q, &data).unwrap_or_default()),
        ["m2", "m9", "m10"]
    );
}

#[test]
fn aggregates_on_no_rows_give_one_object() {
    let q = query(
        vec![
            item(count(), Some("n")),
            item(agg(AggregateFunc::Sum, path("tags.n")), Some("s")),
            item(agg(AggregateFunc::Min, path("tags.n")), None),
        ],
        Collection::Devices,
        None,
    );
    assert_eq!(evaluate(&q, &[]), Ok(vec![json!({"n": 0})]));
}

#[test]
fn planner_errors() {
    let dup = query(
        vec![item(path("deviceId"), None), item(path("id"), None)],
        Collection::Devices,
        None,
    );
    assert_eq!(
        evaluate(&dup, &[]).map_err(|e| e.message),
        Err("two select elements are named 'deviceId': rename one with AS".to_string())
    );
    let mix = query(
        vec![
            item(count(), None),
            item(path_at("tags.tier", Span::new(17, 26)), None),
        ],
        Collection::Devices,
        None,
    );
    let err = evaluate(&mix, &[]).err();
    assert_eq!(err.as_ref().map(|e| e.span), Some(Span::new(17, 26)));
    let mut grouped = query(
        vec![item(path("tags.tier"), None), item(path("status"), None)],
        Collection::Devices,
        None,
    );
    grouped.group_by = vec![Path {
        segments: vec![Segment::Name("tags".into()), Segment::Name("TIER".into())],
        span: sp(),
    }];
    assert_eq!(
        evaluate(&grouped, &[]).map_err(|e| e.message),
        Err("'status' is not a GROUP BY key: a grouped query may select only group keys and aggregates".to_string())
    );
}

#[test]
fn odd_twins_do_not_panic() {
    let data = vec![
        json!(null),
        json!([1, 2]),
        json!("text"),
        json!({"moduleId": null, "deviceId": 5}),
        json!({"deviceId": {"deep": [[[]]]}}),
    ];
    for collection in [Collection::Devices, Collection::Modules] {
        let q = query(vec![], collection, None);
        let all = evaluate(&q, &data).unwrap_or_default();
        assert_eq!(
            all.len(),
            if collection == Collection::Devices {
                5
            } else {
                0
            }
        );
        let q = query(
            vec![
                item(path("deviceId"), None),
                item(bin(BinaryOp::Div, path("deviceId"), path("deviceId")), None),
            ],
            collection,
            None,
        );
        assert!(evaluate(&q, &data).is_ok());
    }
}

// ---------------------------------------------------------------- laws, over the parser

mod laws {
    use proptest::prelude::*;
    use serde_json::Value;
    use twindex::reference::{evaluate, normalise};
    use twindex::sql;

    use super::super::golden::{fixture_path, load_fixture};

    const PATHS: &[&str] = &[
        "tags.x",
        "tags.n",
        "tags.s",
        "tags.TIER",
        "tags.nope",
        "status",
        "tags.obj",
        "tags.arr[0]",
    ];
    const CONSTANTS: &[&str] = &[
        "'a'", "'B'", "''", "5", "5.0", "-3", "7", "'7'", "true", "false", "null",
    ];
    const OPS: &[&str] = &["=", "!=", "<", "<=", ">", ">="];

    fn atom() -> impl Strategy<Value = String> {
        let p = proptest::sample::select(PATHS);
        let c = || proptest::sample::select(CONSTANTS);
        prop_oneof![
            (p.clone(), proptest::sample::select(OPS), c())
                .prop_map(|(p, o, c)| format!("{p} {o} {c}")),
            p.clone().prop_map(|p| format!("IS_DEFINED({p})")),
            (p.clone(), c(), c()).prop_map(|(p, a, b)| format!("{p} IN [{a}, {b}]")),
            (p.clone(), c(), c()).prop_map(|(p, a, b)| format!("{p} NIN [{a}, {b}]")),
            p.clone().prop_map(|p| format!("STARTSWITH({p}, 'a')")),
            p.prop_map(|p| format!("{p} + 1 > 5")),
        ]
    }

    fn condition() -> impl Strategy<Value = String> {
        atom().prop_recursive(3, 16, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|c| format!("NOT ({c})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) AND ({b})")),
                (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) OR ({b})")),
            ]
        })
    }

    fn fleet() -> Vec<Value> {
        load_fixture(&fixture_path("mixed")).unwrap_or_default()
    }

    /// The ids of the rows where `cond` is exactly true.
    fn rows(twins: &[Value], cond: &str) -> Vec<String> {
        let q = format!("SELECT deviceId FROM devices WHERE {cond}");
        let parsed = sql::parse(&q).unwrap_or_else(|e| panic!("{}", e.render(&q)));
        evaluate(&parsed, twins)
            .unwrap_or_else(|e| panic!("{}", e.render(&q)))
            .iter()
            .map(|r| r["deviceId"].to_string())
            .collect()
    }

    /// Each row's truth value: true, false or undefined.
    fn truth(twins: &[Value], cond: &str) -> Vec<Option<bool>> {
        let t = rows(twins, cond);
        let f = rows(twins, &format!("NOT ({cond})"));
        twins
            .iter()
            .map(|tw| {
                let id = tw["deviceId"].to_string();
                match (t.contains(&id), f.contains(&id)) {
                    (true, false) => Some(true),
                    (false, true) => Some(false),
                    (false, false) => None,
                    (true, true) => panic!("{cond} is both true and false for {id}"),
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

        #[test]
        fn de_morgan(a in condition(), b in condition()) {
            let t = fleet();
            prop_assert_eq!(truth(&t, &format!("NOT (({a}) AND ({b}))")), truth(&t, &format!("NOT ({a}) OR NOT ({b})")));
            prop_assert_eq!(truth(&t, &format!("NOT (({a}) OR ({b}))")), truth(&t, &format!("NOT ({a}) AND NOT ({b})")));
        }

        #[test]
        fn and_or_commute_and_filter_like_sets(a in condition(), b in condition()) {
            let t = fleet();
            prop_assert_eq!(truth(&t, &format!("({a}) AND ({b})")), truth(&t, &format!("({b}) AND ({a})")));
            prop_assert_eq!(truth(&t, &format!("({a}) OR ({b})")), truth(&t, &format!("({b}) OR ({a})")));
            let (ra, rb) = (rows(&t, &a), rows(&t, &b));
            let both: Vec<String> = ra.iter().filter(|r| rb.contains(r)).cloned().collect();
            prop_assert_eq!(rows(&t, &format!("({a}) AND ({b})")), both);
            let either: Vec<String> = t
                .iter()
                .map(|tw| tw["deviceId"].to_string())
                .filter(|id| ra.contains(id) || rb.contains(id))
                .collect();
            prop_assert_eq!(rows(&t, &format!("({a}) OR ({b})")), either);
        }

        #[test]
        fn double_negation(a in condition()) {
            let t = fleet();
            prop_assert_eq!(truth(&t, &format!("NOT NOT ({a})")), truth(&t, &a));
        }

        #[test]
        fn in_is_a_union_of_equalities(
            p in proptest::sample::select(PATHS),
            c1 in proptest::sample::select(CONSTANTS),
            c2 in proptest::sample::select(CONSTANTS),
        ) {
            let t = fleet();
            prop_assert_eq!(rows(&t, &format!("{p} IN [{c1}, {c2}]")), rows(&t, &format!("{p} = {c1} OR {p} = {c2}")));
            prop_assert_eq!(truth(&t, &format!("{p} NIN [{c1}, {c2}]")), truth(&t, &format!("NOT ({p} IN [{c1}, {c2}])")));
            prop_assert_eq!(truth(&t, &format!("{p} NOT IN [{c1}, {c2}]")), truth(&t, &format!("{p} NIN [{c1}, {c2}]")));
        }

        #[test]
        fn any_json_normalises_and_evaluates_without_panic(records in proptest::collection::vec(json(), 0..8)) {
            let twins: Vec<Value> = records.into_iter().map(normalise).collect();
            for q in [
                "SELECT * FROM devices",
                "SELECT deviceId, tags.a[0], COUNT() FROM devices GROUP BY deviceId, tags.a[0] ORDER BY COUNT() DESC",
                "SELECT MIN(tags.a) AS lo, MAX(tags.a) AS hi, SUM(tags.a) AS s, AVG(id) AS v FROM devices.modules",
                "SELECT LENGTH(deviceId) AS l, SUBSTRING(deviceId, -1, 2) AS s, tags.a / tags.b AS d FROM devices WHERE tags.a != tags.b ORDER BY tags.a DESC, id",
            ] {
                let parsed = sql::parse(q).unwrap_or_else(|e| panic!("{}", e.render(q)));
                let out = evaluate(&parsed, &twins);
                prop_assert!(out.is_ok());
            }
        }
    }

    /// Arbitrary JSON, biased towards objects with twin-ish keys.
    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)),
            "[a-zA-Z0-9é$]{0,6}".prop_map(Value::String),
        ];
        let key = proptest::sample::select(
            &[
                "id",
                "deviceId",
                "DEVICEID",
                "moduleId",
                "tags",
                "a",
                "A",
                "b",
                "authentication",
                "type",
                "eTag",
            ][..],
        );
        leaf.prop_recursive(4, 32, 5, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((key.clone(), inner), 0..5).prop_map(|kv| {
                    Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                }),
            ]
        })
    }
}
