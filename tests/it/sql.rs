//! The query language front end: SPEC §3 examples, each construct of §2, rendered error
//! messages, and the parse → print → parse law.

use proptest::prelude::*;
use twindex::sql::{
    parse, AggregateFunc, BinaryOp, Collection, Expr, ExprKind, Function, Ident, Literal,
    OrderItem, Path, Query, Segment, SelectItem, SelectList, Span, Top, UnaryOp, MAX_DEPTH,
    MAX_EXPR_HEIGHT, MAX_QUERY_LEN,
};

/// Parses `q`, prints it, parses the print, and checks that both trees agree but for spans
/// and that printing is idempotent. Returns the canonical text.
fn verified(q: &str) -> String {
    let first = parse(q).unwrap_or_else(|e| panic!("{}", e.render(q)));
    let printed = first.to_string();
    let second = parse(&printed).unwrap_or_else(|e| panic!("reparse: {}", e.render(&printed)));
    assert_eq!(
        first.without_spans(),
        second.without_spans(),
        "round trip changed the tree; printed: {printed}"
    );
    assert_eq!(second.to_string(), printed, "printing is not idempotent");
    printed
}

fn where_of(q: &str) -> Expr {
    parse(q)
        .unwrap_or_else(|e| panic!("{}", e.render(q)))
        .filter
        .expect("a WHERE clause")
        .without_spans()
}

fn rendered_error(q: &str) -> String {
    match parse(q) {
        Ok(ast) => panic!("expected an error for {q:?}, parsed as {ast}"),
        Err(e) => e.render(q),
    }
}

// ---- SPEC §3 -------------------------------------------------------------------------------

const SPEC_EXAMPLES: &[(&str, &str)] = &[
    ("SELECT * FROM devices", "SELECT * FROM devices"),
    (
        "SELECT COUNT() AS totalNumberOfDevices FROM devices",
        "SELECT COUNT() AS totalNumberOfDevices FROM devices",
    ),
    (
        "SELECT * FROM devices WHERE tags.location.region = 'US'",
        "SELECT * FROM devices WHERE tags.location.region = 'US'",
    ),
    (
        "SELECT * FROM devices WHERE tags.location.region = 'US'\n  AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
        "SELECT * FROM devices WHERE tags.location.region = 'US' AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
    ),
    (
        "SELECT * FROM devices WHERE properties.reported.connectivity IN ['wired', 'wifi']",
        "SELECT * FROM devices WHERE properties.reported.connectivity IN ['wired', 'wifi']",
    ),
    (
        "SELECT * FROM devices WHERE is_defined(properties.reported.connectivity)",
        "SELECT * FROM devices WHERE IS_DEFINED(properties.reported.connectivity)",
    ),
    (
        "SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices\n  FROM devices GROUP BY properties.reported.telemetryConfig.status",
        "SELECT properties.reported.telemetryConfig.status AS status, COUNT() AS numberOfDevices FROM devices GROUP BY properties.reported.telemetryConfig.status",
    ),
    (
        "SELECT DeviceId, LastActivityTime FROM devices\n  WHERE status = 'enabled' AND connectionState = 'Disconnected'",
        "SELECT DeviceId, LastActivityTime FROM devices WHERE status = 'enabled' AND connectionState = 'Disconnected'",
    ),
    (
        "SELECT * FROM devices.modules WHERE properties.reported.status = 'scanning'\n  AND deviceId IN ['device1', 'device2']",
        "SELECT * FROM devices.modules WHERE properties.reported.status = 'scanning' AND deviceId IN ['device1', 'device2']",
    ),
    (
        "SELECT * FROM devices WHERE tags.[[group]].name = 'some_value'",
        "SELECT * FROM devices WHERE tags.group.name = 'some_value'",
    ),
    (
        "select deviceId from devices where capabilities.iotEdge = true",
        "SELECT deviceId FROM devices WHERE capabilities.iotEdge = true",
    ),
    (
        "select deviceId from devices where array_contains(parentScopes, 'ms-azure-iot-edge://gw-1-63')",
        "SELECT deviceId FROM devices WHERE ARRAY_CONTAINS(parentScopes, 'ms-azure-iot-edge://gw-1-63')",
    ),
    (
        "select deviceId from devices where not startswith(deviceId, 'test-') and not startswith(deviceId, 'tmp-')",
        "SELECT deviceId FROM devices WHERE NOT STARTSWITH(deviceId, 'test-') AND NOT STARTSWITH(deviceId, 'tmp-')",
    ),
    (
        "SELECT deviceId FROM devices WHERE configurations.[[chiller-cfg]].status = 'Applied'",
        "SELECT deviceId FROM devices WHERE configurations.[[chiller-cfg]].status = 'Applied'",
    ),
    (
        "SELECT deviceId, moduleId FROM devices.modules WHERE properties.reported.lastDesiredStatus.code = 200",
        "SELECT deviceId, moduleId FROM devices.modules WHERE properties.reported.lastDesiredStatus.code = 200",
    ),
];

#[test]
fn spec_examples_parse_and_print_canonically() {
    for (query, canonical) in SPEC_EXAMPLES {
        assert_eq!(verified(query), *canonical, "for {query}");
    }
}

#[test]
fn spec_group_by_example_has_the_expected_tree() {
    let q = parse(SPEC_EXAMPLES[6].0).unwrap();
    let SelectList::Items(items) = &q.select else {
        panic!("not a list")
    };
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].alias.as_ref().unwrap().name, "status");
    assert!(matches!(
        items[1].expr.kind,
        ExprKind::Aggregate {
            func: AggregateFunc::Count,
            arg: None
        }
    ));
    assert_eq!(q.group_by.len(), 1);
    assert_eq!(q.group_by[0].last_name(), Some("status"));
    assert_eq!(q.from.collection, Collection::Devices);
}

// ---- §2 constructs -------------------------------------------------------------------------

fn path(names: &[&str]) -> Expr {
    expr(ExprKind::Path(Path {
        segments: names.iter().map(|n| Segment::Name(n.to_string())).collect(),
        span: Span::default(),
    }))
}

fn expr(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn num(n: f64) -> Expr {
    expr(ExprKind::Literal(Literal::Number(n)))
}

fn bin(op: BinaryOp, left: Expr, right: Expr) -> Expr {
    expr(ExprKind::Binary {
        op,
        left: Box::new(left),
        right: Box::new(right),
    })
}

fn unary(op: UnaryOp, operand: Expr) -> Expr {
    expr(ExprKind::Unary {
        op,
        operand: Box::new(operand),
    })
}

#[test]
fn precedence_follows_the_spec() {
    use BinaryOp::*;
    let (a, b, c, d) = (path(&["a"]), path(&["b"]), path(&["c"]), path(&["d"]));
    // OR < AND < NOT < comparison
    assert_eq!(
        where_of("SELECT * FROM devices WHERE a OR b AND NOT c = d"),
        bin(
            Or,
            a.clone(),
            bin(
                And,
                b.clone(),
                unary(UnaryOp::Not, bin(Eq, c.clone(), d.clone()))
            )
        )
    );
    // comparison < + < * < unary minus
    assert_eq!(
        where_of("SELECT * FROM devices WHERE a + b * -c > d"),
        bin(
            Gt,
            bin(
                Add,
                a.clone(),
                bin(Mul, b.clone(), unary(UnaryOp::Neg, c.clone()))
            ),
            d.clone()
        )
    );
    // left associativity
    assert_eq!(
        where_of("SELECT * FROM devices WHERE a - b - c"),
        bin(Sub, bin(Sub, a.clone(), b.clone()), c.clone())
    );
    assert_eq!(
        where_of("SELECT * FROM devices WHERE a / b % c"),
        bin(Mod, bin(Div, a.clone(), b.clone()), c.clone())
    );
    // parentheses override
    assert_eq!(
        where_of("SELECT * FROM devices WHERE (a OR b) AND c"),
        bin(And, bin(Or, a.clone(), b.clone()), c.clone())
    );
    // NOT binds looser than IN
    assert_eq!(
        where_of("SELECT * FROM devices WHERE NOT a IN [1]"),
        unary(
            UnaryOp::Not,
            expr(ExprKind::In {
                operand: Box::new(a.clone()),
                list: vec![num(1.0)],
                negated: false
            })
        )
    );
}

#[test]
fn comparison_operators() {
    for (text, op) in [
        ("=", BinaryOp::Eq),
        ("!=", BinaryOp::NotEq),
        ("<>", BinaryOp::NotEq),
        ("<", BinaryOp::Lt),
        ("<=", BinaryOp::LtEq),
        (">", BinaryOp::Gt),
        (">=", BinaryOp::GtEq),
    ] {
        let q = format!("SELECT * FROM devices WHERE a {text} 1");
        assert_eq!(where_of(&q), bin(op, path(&["a"]), num(1.0)), "{q}");
        verified(&q);
    }
}

#[test]
fn in_nin_and_not_in() {
    let list = |negated| {
        expr(ExprKind::In {
            operand: Box::new(path(&["x"])),
            list: vec![
                num(-1.0),
                expr(ExprKind::Literal(Literal::String("a".into()))),
                expr(ExprKind::Literal(Literal::Null)),
            ],
            negated,
        })
    };
    assert_eq!(
        where_of("SELECT * FROM devices WHERE x IN [-1, 'a', null]"),
        list(false)
    );
    assert_eq!(
        where_of("SELECT * FROM devices WHERE x NIN [-1, 'a', null]"),
        list(true)
    );
    assert_eq!(
        where_of("SELECT * FROM devices WHERE x not in [-1, 'a', null]"),
        list(true)
    );
    assert_eq!(
        verified("SELECT * FROM devices WHERE x NOT IN [] OR y IN [[1, 2], true]"),
        "SELECT * FROM devices WHERE x NIN [] OR y IN [ [1, 2], true]"
    );
}

#[test]
fn paths_in_every_form() {
    let q =
        "SELECT properties.desired.$version, properties.reported.$metadata.battery.$lastUpdated, \
             devices.deviceId, devices.modules.moduleId, tags.roles[0], tags.group, tags.order, \
             tags.[[my config]].x, [[weird name]] FROM devices.modules";
    let parsed = parse(q).unwrap();
    let SelectList::Items(items) = &parsed.select else {
        panic!()
    };
    let segs: Vec<Vec<Segment>> = items
        .iter()
        .map(|i| match &i.expr.kind {
            ExprKind::Path(p) => p.segments.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    let n = |s: &str| Segment::Name(s.to_string());
    assert_eq!(segs[0], vec![n("properties"), n("desired"), n("$version")]);
    assert_eq!(segs[2], vec![n("devices"), n("deviceId")]);
    assert_eq!(segs[3], vec![n("devices"), n("modules"), n("moduleId")]);
    assert_eq!(segs[4], vec![n("tags"), n("roles"), Segment::Index(0)]);
    assert_eq!(segs[5], vec![n("tags"), n("group")]);
    assert_eq!(segs[6], vec![n("tags"), n("order")]);
    assert_eq!(segs[7], vec![n("tags"), n("my config"), n("x")]);
    assert_eq!(segs[8], vec![n("weird name")]);
    verified(q);
}

#[test]
fn paths_carry_byte_spans() {
    let q = "SELECT * FROM devices WHERE tags.[[é x]].y = 1";
    let ExprKind::Binary { left, .. } = parse(q).unwrap().filter.unwrap().kind else {
        panic!()
    };
    assert_eq!(&q[left.span.range()], "tags.[[é x]].y");
}

#[test]
fn functions_and_aggregates() {
    assert_eq!(
        verified("select starts_with(a, 'x'), ends_with(a, 'y'), concat(a, b, c), substring(a, 1), substring(a, 1, 2), index_of(a, 'z'), power(2, 10), as_number('1') from devices"),
        "SELECT STARTSWITH(a, 'x'), ENDSWITH(a, 'y'), CONCAT(a, b, c), SUBSTRING(a, 1), SUBSTRING(a, 1, 2), INDEX_OF(a, 'z'), POWER(2, 10), AS_NUMBER('1') FROM devices"
    );
    assert_eq!(
        verified("select count(), count(x), Count(*), sum(x), avg(x), min(x), max(x), sum(x) / count() from devices"),
        "SELECT COUNT(), COUNT(x), COUNT(), SUM(x), AVG(x), MIN(x), MAX(x), SUM(x) / COUNT() FROM devices"
    );
    for f in Function::ALL {
        let (lo, _) = f.arity();
        let args = vec!["x"; lo].join(", ");
        verified(&format!("SELECT {}({args}) FROM devices", f.name()));
    }
}

#[test]
fn literals() {
    assert_eq!(
        verified(
            r#"SELECT 'a\'b', "c\"d", '\\\/\b\f\n\r\t', '\u00e9\uD83D\uDE00', 0x1F, 0XFF, 1.5e3, 2E-2, 7, undefined, null, true, false FROM devices"#
        ),
        r#"SELECT 'a\'b', 'c"d', '\\/\b\f\n\r\t', 'é😀', 31, 255, 1500, 0.02, 7, undefined, null, true, false FROM devices"#
    );
    assert_eq!(
        verified("SELECT ARRAY_CONTAINS(tags.roles, ['a', -2, [true]]) FROM devices"),
        "SELECT ARRAY_CONTAINS(tags.roles, ['a', -2, [true]]) FROM devices"
    );
}

#[test]
fn clauses_top_group_order() {
    let q = parse(
        "SELECT TOP 10 tags.a, tags.b, COUNT() AS n FROM devices WHERE x > 0 \
         GROUP BY tags.a, tags.b ORDER BY n DESC, tags.a ASC, tags.b;",
    )
    .unwrap();
    assert_eq!(q.top.map(|t| t.n), Some(10));
    assert_eq!(q.group_by.len(), 2);
    let desc: Vec<bool> = q.order_by.iter().map(|o| o.descending).collect();
    assert_eq!(desc, vec![true, false, false]);
    assert_eq!(
        parse("SELECT TOP 0x10 * FROM devices")
            .unwrap()
            .top
            .unwrap()
            .n,
        16
    );
    assert_eq!(
        parse("SELECT TOP 18446744073709551615 * FROM devices")
            .unwrap()
            .top
            .unwrap()
            .n,
        u64::MAX
    );
    verified("SELECT TOP 0 * FROM devices ORDER BY LOWER(deviceId) DESC");
}

#[test]
fn query_span_covers_the_query() {
    let q = "  SELECT * FROM devices WHERE a = 1 ;  ";
    assert_eq!(parse(q).unwrap().span.range(), 2..37);
}

// ---- errors --------------------------------------------------------------------------------

fn check_error(q: &str, expected: &str) {
    assert_eq!(rendered_error(q), expected, "for query {q:?}");
}

#[test]
fn unknown_function_suggests_the_closest() {
    check_error(
        "SELECT * FROM devices WHERE STARTWITH(deviceId, 'a')",
        "error: unknown function 'STARTWITH' (did you mean STARTSWITH?)\n  |\n1 | SELECT * FROM devices WHERE STARTWITH(deviceId, 'a')\n  |                             ^^^^^^^^^",
    );
    check_error(
        "SELECT * FROM devices WHERE FOO(x)",
        "error: unknown function 'FOO'\n  |\n1 | SELECT * FROM devices WHERE FOO(x)\n  |                             ^^^",
    );
}

#[test]
fn misspelled_keywords_are_suggested() {
    check_error(
        "SELECT * FORM devices",
        "error: expected FROM, found 'FORM' (did you mean FROM?)\n  |\n1 | SELECT * FORM devices\n  |          ^^^^",
    );
    check_error(
        "SELCT * FROM devices",
        "error: expected SELECT, found 'SELCT' (did you mean SELECT?)\n  |\n1 | SELCT * FROM devices\n  | ^^^^^",
    );
    check_error(
        "SELECT * FROM devices WEHRE x = 1",
        "error: unexpected 'WEHRE' after end of query (did you mean WHERE?)\n  |\n1 | SELECT * FROM devices WEHRE x = 1\n  |                       ^^^^^",
    );
}

#[test]
fn misspelled_operators_and_directions_after_a_complete_query() {
    check_error(
        "SELECT * FROM devices WHERE a = 1 ADN b = 2",
        "error: unexpected 'ADN' after end of query (did you mean AND?)\n  |\n1 | SELECT * FROM devices WHERE a = 1 ADN b = 2\n  |                                   ^^^",
    );
    check_error(
        "SELECT * FROM devices ORDER BY a DSEC",
        "error: unexpected 'DSEC' after end of query (did you mean DESC?)\n  |\n1 | SELECT * FROM devices ORDER BY a DSEC\n  |                                  ^^^^",
    );
}

#[test]
fn missing_from() {
    check_error(
        "SELECT deviceId",
        "error: expected FROM, found end of query\n  |\n1 | SELECT deviceId\n  |                ^",
    );
}

#[test]
fn collections() {
    check_error(
        "SELECT * FROM devices.jobs",
        "error: devices.jobs is out of scope: jobs are not in device exports (query devices or devices.modules)\n  |\n1 | SELECT * FROM devices.jobs\n  |               ^^^^^^^^^^^^",
    );
    check_error(
        "SELECT * FROM jobs",
        "error: unknown collection 'jobs' (expected devices or devices.modules)\n  |\n1 | SELECT * FROM jobs\n  |               ^^^^",
    );
    check_error(
        "SELECT * FROM devices.modulez",
        "error: unknown collection 'devices.modulez' (did you mean devices.modules?)\n  |\n1 | SELECT * FROM devices.modulez\n  |               ^^^^^^^^^^^^^^^",
    );
}

#[test]
fn unterminated_string_and_name() {
    check_error(
        "SELECT * FROM devices WHERE deviceId = 'abc",
        "error: unterminated string (missing closing quote)\n  |\n1 | SELECT * FROM devices WHERE deviceId = 'abc\n  |                                        ^^^^",
    );
    check_error(
        "SELECT * FROM devices WHERE tags.[[my-config",
        "error: unterminated [[ name (missing ]])\n  |\n1 | SELECT * FROM devices WHERE tags.[[my-config\n  |                                  ^^^^^^^^^^^",
    );
}

#[test]
fn bad_escapes() {
    check_error(
        r"SELECT * FROM devices WHERE deviceId = 'a\qb'",
        "error: invalid escape '\\q' in string\n  |\n1 | SELECT * FROM devices WHERE deviceId = 'a\\qb'\n  |                                          ^^",
    );
    check_error(
        r"SELECT * FROM devices WHERE x = '\ud83d'",
        "error: unpaired surrogate in \\u escape\n  |\n1 | SELECT * FROM devices WHERE x = '\\ud83d'\n  |                                  ^^^^^^",
    );
}

#[test]
fn in_needs_constants() {
    check_error(
        "SELECT * FROM devices WHERE deviceId IN ['a', tags.b]",
        "error: IN lists hold constants only; 'tags.b' is not a constant\n  |\n1 | SELECT * FROM devices WHERE deviceId IN ['a', tags.b]\n  |                                               ^^^^^^",
    );
    check_error(
        "SELECT * FROM devices WHERE x IN tags.y",
        "error: expected a list after IN, as in IN ['a', 'b'], found 'tags'\n  |\n1 | SELECT * FROM devices WHERE x IN tags.y\n  |                                  ^^^^",
    );
    check_error(
        "SELECT [1, x] FROM devices",
        "error: array literals hold constants only; 'x' is not a constant\n  |\n1 | SELECT [1, x] FROM devices\n  |            ^",
    );
}

#[test]
fn wrong_arity() {
    check_error(
        "SELECT * FROM devices WHERE STARTSWITH(deviceId)",
        "error: STARTSWITH takes 2 arguments, got 1\n  |\n1 | SELECT * FROM devices WHERE STARTSWITH(deviceId)\n  |                             ^^^^^^^^^^^^^^^^^^^^",
    );
    check_error(
        "SELECT SUBSTRING(a) FROM devices",
        "error: SUBSTRING takes 2 or 3 arguments, got 1\n  |\n1 | SELECT SUBSTRING(a) FROM devices\n  |        ^^^^^^^^^^^^",
    );
    check_error(
        "SELECT CONCAT(a) FROM devices",
        "error: CONCAT takes at least 2 arguments, got 1\n  |\n1 | SELECT CONCAT(a) FROM devices\n  |        ^^^^^^^^^",
    );
    check_error(
        "SELECT COUNT(a, b) FROM devices",
        "error: COUNT takes 0 or 1 arguments, got 2\n  |\n1 | SELECT COUNT(a, b) FROM devices\n  |        ^^^^^^^^^^^",
    );
    check_error(
        "SELECT SUM() FROM devices",
        "error: SUM takes 1 argument, got 0\n  |\n1 | SELECT SUM() FROM devices\n  |        ^^^^^",
    );
}

#[test]
fn top_takes_a_non_negative_integer() {
    check_error(
        "SELECT TOP -1 * FROM devices",
        "error: TOP takes a non-negative integer, found '-1'\n  |\n1 | SELECT TOP -1 * FROM devices\n  |            ^^",
    );
    check_error(
        "SELECT TOP 1.5 * FROM devices",
        "error: TOP takes a non-negative integer, found '1.5'\n  |\n1 | SELECT TOP 1.5 * FROM devices\n  |            ^^^",
    );
    check_error(
        "SELECT TOP 18446744073709551616 * FROM devices",
        "error: TOP 18446744073709551616 is too large (limit 18446744073709551615)\n  |\n1 | SELECT TOP 18446744073709551616 * FROM devices\n  |            ^^^^^^^^^^^^^^^^^^^^",
    );
}

#[test]
fn trailing_garbage() {
    check_error(
        "SELECT * FROM devices WHERE x = 1 garbage",
        "error: unexpected 'garbage' after end of query\n  |\n1 | SELECT * FROM devices WHERE x = 1 garbage\n  |                                   ^^^^^^^",
    );
    check_error(
        "SELECT * FROM devices ORDER BY y WHERE z = 2",
        "error: unexpected 'WHERE' after end of query (clauses come in the order SELECT TOP, FROM, WHERE, GROUP BY, ORDER BY)\n  |\n1 | SELECT * FROM devices ORDER BY y WHERE z = 2\n  |                                  ^^^^^",
    );
}

#[test]
fn empty_query() {
    check_error("", "error: empty query (expected SELECT)\n  |\n1 | \n  | ^");
    check_error(
        "  \n ",
        "error: empty query (expected SELECT)\n  |\n2 |  \n  |  ^",
    );
}

#[test]
fn nesting_limit() {
    // Deep enough for the budget, short enough for MAX_QUERY_LEN; the unit tests in
    // parser.rs drive 100,000-deep inputs past the length check.
    let q = format!("SELECT * FROM devices WHERE {}x", "(".repeat(60_000));
    assert_eq!(
        parse(&q).unwrap_err().message,
        "query nests too deeply (limit 128)"
    );
    let q = format!("SELECT * FROM devices WHERE {}x", "NOT ".repeat(16_000));
    let err = parse(&q).unwrap_err();
    assert_eq!(err.message, "query nests too deeply (limit 128)");
    // The span points at the first construct past the budget.
    assert_eq!(err.span.range(), (28 + 4 * 128)..(28 + 4 * 128 + 3));
    let q = format!("SELECT {}x FROM devices", "-".repeat(60_000));
    assert_eq!(
        parse(&q).unwrap_err().message,
        "query nests too deeply (limit 128)"
    );
    let ok = format!(
        "SELECT * FROM devices WHERE {}x{}",
        "(".repeat(100),
        ")".repeat(100)
    );
    verified(&ok);
    // Just inside both budgets, and the printer copes with what the parser accepts.
    verified(&format!(
        "SELECT * FROM devices WHERE {}x",
        "NOT ".repeat(MAX_DEPTH - 1)
    ));
    verified(&format!(
        "SELECT * FROM devices WHERE x = 0{}",
        " OR x = 1".repeat(MAX_EXPR_HEIGHT - 2)
    ));
    let q = format!("SELECT * FROM devices WHERE x{}", " OR x".repeat(10_000));
    assert!(parse(&q)
        .unwrap_err()
        .message
        .starts_with("expression is too deep (limit 512 nested operators"));
}

#[test]
fn nesting_limit_rendered() {
    // Negation and parentheses are one level each, so the 65th `-(` is one too many.
    let q = format!("SELECT {}1 FROM devices", "-(".repeat(200));
    let col = "SELECT ".len() + 2 * 64;
    check_error(
        &q,
        &format!(
            "error: query nests too deeply (limit 128)\n  |\n1 | {q}\n  | {}^",
            " ".repeat(col)
        ),
    );
}

#[test]
fn too_long() {
    let q = format!("SELECT * FROM devices WHERE x = '{}'", "a".repeat(70_000));
    let err = parse(&q).unwrap_err();
    assert_eq!(
        err.message,
        format!("query is too long ({} bytes; limit 65536)", q.len())
    );
    assert_eq!(err.span.range(), MAX_QUERY_LEN..q.len());
    // The limit never splits a character.
    let q = format!("SELECT '{}'", "é".repeat(40_000));
    let start = parse(&q).unwrap_err().span.start as usize;
    assert!(q.is_char_boundary(start) && start <= MAX_QUERY_LEN);
}

#[test]
fn aggregate_inside_aggregate() {
    check_error(
        "SELECT COUNT(SUM(x)) FROM devices",
        "error: aggregate functions cannot be nested (SUM inside COUNT)\n  |\n1 | SELECT COUNT(SUM(x)) FROM devices\n  |              ^^^",
    );
    check_error(
        "SELECT MAX(ABS(MIN(x))) FROM devices",
        "error: aggregate functions cannot be nested (MIN inside MAX)\n  |\n1 | SELECT MAX(ABS(MIN(x))) FROM devices\n  |                ^^^",
    );
    check_error(
        "SELECT * FROM devices WHERE COUNT() > 1",
        "error: aggregate functions are not allowed in WHERE\n  |\n1 | SELECT * FROM devices WHERE COUNT() > 1\n  |                             ^^^^^",
    );
}

#[test]
fn missing_expressions() {
    check_error(
        "SELECT * FROM devices WHERE",
        "error: expected a condition after WHERE, found end of query\n  |\n1 | SELECT * FROM devices WHERE\n  |                            ^",
    );
    check_error(
        "SELECT FROM devices",
        "error: expected * or a select list, found 'FROM'\n  |\n1 | SELECT FROM devices\n  |        ^^^^",
    );
    check_error(
        "SELECT a, FROM devices",
        "error: expected an expression, found 'FROM'\n  |\n1 | SELECT a, FROM devices\n  |           ^^^^",
    );
    check_error(
        "SELECT * FROM devices WHERE a = 1 AND",
        "error: expected an expression, found end of query\n  |\n1 | SELECT * FROM devices WHERE a = 1 AND\n  |                                      ^",
    );
    check_error(
        "SELECT * FROM devices ORDER BY",
        "error: expected an expression to order by, found end of query\n  |\n1 | SELECT * FROM devices ORDER BY\n  |                               ^",
    );
}

#[test]
fn unbalanced_parentheses() {
    check_error(
        "SELECT * FROM devices WHERE (a = 1",
        "error: expected ')' to close the '(' before it, found end of query\n  |\n1 | SELECT * FROM devices WHERE (a = 1\n  |                                   ^",
    );
    check_error(
        "SELECT * FROM devices WHERE a = 1)",
        "error: unexpected ')' after end of query\n  |\n1 | SELECT * FROM devices WHERE a = 1)\n  |                                  ^",
    );
}

#[test]
fn keywords_where_names_were_meant() {
    check_error(
        "SELECT x AS order FROM devices",
        "error: expected a name after AS, found keyword 'order' (write [[order]] to use it as a name)\n  |\n1 | SELECT x AS order FROM devices\n  |             ^^^^^",
    );
    check_error(
        "SELECT tags.a, desc FROM devices",
        "error: expected an expression, found keyword 'desc' (write [[desc]] to use it as a name)\n  |\n1 | SELECT tags.a, desc FROM devices\n  |                ^^^^",
    );
}

#[test]
fn operators_from_other_languages() {
    check_error(
        "SELECT * FROM devices WHERE a == 1",
        "error: '==' is not an operator (use '=')\n  |\n1 | SELECT * FROM devices WHERE a == 1\n  |                               ^^",
    );
    check_error(
        "SELECT * FROM devices WHERE a && b",
        "error: unexpected '&' (use AND)\n  |\n1 | SELECT * FROM devices WHERE a && b\n  |                               ^",
    );
    check_error(
        "SELECT * FROM devices WHERE a = NOT b",
        "error: NOT cannot appear here without parentheses: write (NOT ...)\n  |\n1 | SELECT * FROM devices WHERE a = NOT b\n  |                                 ^^^",
    );
}

#[test]
fn other_errors() {
    check_error(
        "SELECT * FROM devices GROUP BY LOWER(x)",
        "error: GROUP BY takes paths, found 'LOWER(x)'\n  |\n1 | SELECT * FROM devices GROUP BY LOWER(x)\n  |                                ^^^^^^^^",
    );
    check_error(
        "SELECT * FROM devices GROUP x",
        "error: expected BY after GROUP, found 'x'\n  |\n1 | SELECT * FROM devices GROUP x\n  |                             ^",
    );
    check_error(
        "SELECT tags.f(x) FROM devices",
        "error: 'tags.f' cannot be called: only plain function names can\n  |\n1 | SELECT tags.f(x) FROM devices\n  |        ^^^^^^",
    );
    check_error(
        "SELECT x[-1] FROM devices",
        "error: an array index must be a non-negative integer, found '-1'\n  |\n1 | SELECT x[-1] FROM devices\n  |          ^^",
    );
    check_error(
        "SELECT * FROM devices WHERE x = 12abc",
        "error: malformed number '12abc'\n  |\n1 | SELECT * FROM devices WHERE x = 12abc\n  |                                 ^^^^^",
    );
    check_error(
        "SELECT *\nFROM devices\nWHERE é = 'x' AND y = #",
        "error: unexpected character '#'\n  |\n3 | WHERE é = 'x' AND y = #\n  |                       ^",
    );
}

#[test]
fn earlier_syntax_error_wins_over_later_lexing_error() {
    check_error(
        "SELECT * FORM devices WHERE x = 'oops",
        "error: expected FROM, found 'FORM' (did you mean FROM?)\n  |\n1 | SELECT * FORM devices WHERE x = 'oops\n  |          ^^^^",
    );
}

// ---- properties ----------------------------------------------------------------------------

fn none() -> Span {
    Span::default()
}

/// Names the language can write: anything but `]]` inside or `]` at the end (SPEC §4.10).
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z_$][a-zA-Z0-9_$]{0,7}",
        1 => prop::sample::select(vec![
            "group", "ORDER", "select", "true", "Null", "undefined", "by", "In", "nin", "devices",
            "modules", "count", "id", "é", "$",
        ])
        .prop_map(str::to_string),
        2 => any::<String>().prop_filter("not writable in [[ ]]", |s| {
            !s.contains("]]") && !s.ends_with(']')
        }),
    ]
}

fn path_strategy() -> impl Strategy<Value = Path> {
    (
        name(),
        prop::collection::vec(
            prop_oneof![
                3 => name().prop_map(Segment::Name),
                1 => any::<u32>().prop_map(Segment::Index),
            ],
            0..4,
        ),
    )
        .prop_map(|(first, rest)| {
            let mut segments = vec![Segment::Name(first)];
            segments.extend(rest);
            Path {
                segments,
                span: none(),
            }
        })
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("NaN cannot be written", |n| !n.is_nan()),
        (-1000i32..1000).prop_map(f64::from),
        prop::sample::select(vec![
            0.1,
            -0.0,
            1e16,
            1e-7,
            123456789.5,
            f64::MAX,
            f64::MIN_POSITIVE
        ]),
    ]
}

fn literal() -> impl Strategy<Value = Literal> {
    let leaf = prop_oneof![
        Just(Literal::Undefined),
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Bool),
        number().prop_map(Literal::Number),
        any::<String>().prop_map(Literal::String),
    ];
    leaf.prop_recursive(3, 12, 4, |inner| {
        prop::collection::vec(inner, 0..4).prop_map(Literal::Array)
    })
}

fn lit(l: Literal) -> Expr {
    expr(ExprKind::Literal(l))
}

/// What IN lists hold: literals and negated numbers.
fn constant() -> impl Strategy<Value = Expr> {
    prop_oneof![
        4 => literal().prop_map(lit),
        1 => number().prop_map(|n| unary(UnaryOp::Neg, num(n))),
    ]
}

fn binary_op() -> impl Strategy<Value = BinaryOp> {
    use BinaryOp::*;
    prop::sample::select(vec![
        Or, And, Eq, NotEq, Lt, LtEq, Gt, GtEq, Add, Sub, Mul, Div, Mod,
    ])
}

/// Expressions without aggregates, with every kind of node.
fn scalar() -> BoxedStrategy<Expr> {
    let leaf = prop_oneof![
        literal().prop_map(lit),
        path_strategy().prop_map(|p| expr(ExprKind::Path(p))),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            (
                prop::sample::select(vec![UnaryOp::Not, UnaryOp::Neg]),
                inner.clone()
            )
                .prop_map(|(op, e)| unary(op, e)),
            (binary_op(), inner.clone(), inner.clone()).prop_map(|(op, l, r)| bin(op, l, r)),
            (
                inner.clone(),
                prop::collection::vec(constant(), 0..4),
                any::<bool>()
            )
                .prop_map(|(operand, list, negated)| expr(ExprKind::In {
                    operand: Box::new(operand),
                    list,
                    negated
                })),
            prop::sample::select(Function::ALL.to_vec()).prop_flat_map(move |func| {
                let (lo, hi) = func.arity();
                prop::collection::vec(inner.clone(), lo..=hi.min(lo + 2))
                    .prop_map(move |args| expr(ExprKind::Call { func, args }))
            }),
        ]
    })
    .boxed()
}

fn aggregate() -> impl Strategy<Value = Expr> {
    (
        prop::sample::select(AggregateFunc::ALL.to_vec()),
        scalar(),
        any::<bool>(),
    )
        .prop_map(|(func, arg, no_arg)| {
            let arg = if func == AggregateFunc::Count && no_arg {
                None
            } else {
                Some(Box::new(arg))
            };
            expr(ExprKind::Aggregate { func, arg })
        })
}

/// What a select list or ORDER BY may hold: scalars, aggregates, and both combined.
fn projection() -> impl Strategy<Value = Expr> {
    prop_oneof![
        3 => scalar(),
        2 => aggregate(),
        1 => (binary_op(), aggregate(), scalar()).prop_map(|(op, a, s)| bin(op, a, s)),
        1 => prop::sample::select(vec![Function::Lower, Function::Abs])
            .prop_flat_map(|func| aggregate().prop_map(move |a| expr(ExprKind::Call { func, args: vec![a] }))),
    ]
}

fn query() -> impl Strategy<Value = Query> {
    let select = prop_oneof![
        1 => Just(SelectList::Star(none())),
        4 => prop::collection::vec(
            (projection(), prop::option::of(name())).prop_map(|(expr, alias)| SelectItem {
                expr,
                alias: alias.map(|name| Ident { name, span: none() }),
                span: none(),
            }),
            1..4,
        )
        .prop_map(SelectList::Items),
    ];
    (
        prop::option::of(any::<u64>()),
        select,
        prop::sample::select(vec![Collection::Devices, Collection::Modules]),
        prop::option::of(scalar()),
        prop::collection::vec(path_strategy(), 0..3),
        prop::collection::vec((projection(), any::<bool>()), 0..3),
    )
        .prop_map(
            |(top, select, collection, filter, group_by, order_by)| Query {
                top: top.map(|n| Top { n, span: none() }),
                select,
                from: twindex::sql::From {
                    collection,
                    span: none(),
                },
                filter,
                group_by,
                order_by: order_by
                    .into_iter()
                    .map(|(expr, descending)| OrderItem {
                        expr,
                        descending,
                        span: none(),
                    })
                    .collect(),
                span: none(),
            },
        )
}

/// Queries made of plausible tokens, so that the parser gets past the first few.
fn token_soup() -> impl Strategy<Value = String> {
    let prefix = prop::sample::select(vec![
        "",
        "SELECT ",
        "SELECT * FROM devices WHERE ",
        "SELECT x, ",
        "select top 3 ",
    ]);
    let token = prop::sample::select(vec![
        "SELECT",
        "TOP",
        "5",
        "*",
        "FROM",
        "devices",
        "devices.modules",
        "WHERE",
        "GROUP BY",
        "ORDER BY",
        "DESC",
        "AS",
        "x",
        "tags.a",
        ".",
        "[[g]]",
        "[[",
        "]]",
        "[",
        "]",
        "0",
        "1.5",
        "-",
        "+",
        "/",
        "%",
        "=",
        "<>",
        "<=",
        "AND",
        "OR",
        "NOT",
        "IN",
        "NIN",
        "(",
        ")",
        ",",
        "'s'",
        "'",
        "\"q\\n\"",
        "\\u",
        "COUNT(",
        "SUM(",
        "LOWER(",
        "CONCAT(",
        "null",
        "true",
        "undefined",
        "0x1F",
        "1e5",
        ";",
        "é",
        "#",
        "\u{0}",
        "$v",
        "é\u{301}",
    ]);
    (
        prefix,
        prop::collection::vec((token, prop::sample::select(vec![" ", "", "\n"])), 0..24),
    )
        .prop_map(|(prefix, tokens)| {
            let mut q = prefix.to_string();
            for (tok, sep) in tokens {
                q.push_str(tok);
                q.push_str(sep);
            }
            q
        })
}

/// Whatever the input: no panic; an error has a span on character boundaries that renders;
/// a success round-trips.
fn check_any_input(q: &str) {
    match parse(q) {
        Ok(ast) => {
            let printed = ast.to_string();
            let again = parse(&printed).unwrap_or_else(|e| panic!("{}", e.render(&printed)));
            assert_eq!(ast.without_spans(), again.without_spans(), "{printed}");
        }
        Err(e) => {
            let (start, end) = (e.span.start as usize, e.span.end as usize);
            assert!(start <= end && end <= q.len(), "{e:?}");
            assert!(
                q.is_char_boundary(start) && q.is_char_boundary(end),
                "{e:?}"
            );
            assert!(!e.message.is_empty());
            let _ = e.render(q);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn printed_trees_parse_back_to_themselves(q in query()) {
        let printed = q.to_string();
        let parsed = parse(&printed).map_err(|e| TestCaseError::fail(e.render(&printed)))?;
        prop_assert_eq!(parsed.without_spans(), q, "printed: {}", printed);
        prop_assert_eq!(parsed.to_string(), printed);
    }

    #[test]
    fn arbitrary_strings_never_panic(q in any::<String>()) {
        check_any_input(&q);
    }

    #[test]
    fn token_soup_never_panics(q in token_soup()) {
        check_any_input(&q);
    }
}
