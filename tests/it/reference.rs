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
