//! The one-pass scanner (`LoadOptions::fast_path`) against the parser's tape: the same inputs
//! loaded both ways give the same store and the same report, and the scanner takes the plain
//! records it is meant for.

use crate::generated;
use proptest::prelude::*;
use twindex::fuzzing::fast_path_agrees;
use twindex::gen::{Layout, Shape};
use twindex::{Fleet, LoadOptions};

/// Loads `inputs` both ways with small chunks (so that chunks start mid-input and the
/// scanner's guesses start over) and requires identical results.
fn both_ways(inputs: &[(&str, &[u8])]) -> Result<u64, String> {
    fast_path_agrees(inputs, 4096)
}

#[test]
fn generated_fleets_load_the_same_and_mostly_fast() {
    for shape in [Shape::Export, Shape::Twin] {
        for layout in [Layout::JsonLines, Layout::JsonArray] {
            let bytes = generated(shape, layout, 600, 7);
            let records = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            let fast = both_ways(&[("fleet", &bytes)]).unwrap_or_else(|e| panic!("{e}"));
            // Records with escapes, exponents or long numbers go through the tape.
            let total = if layout == Layout::JsonArray {
                Fleet::from_bytes(vec![("f".into(), bytes.clone())], &LoadOptions::default())
                    .expect("loads")
                    .report()
                    .records
            } else {
                records
            };
            assert!(
                fast * 100 >= total * 80,
                "{shape:?} {layout:?}: {fast} of {total} records on the fast path"
            );
        }
    }
}

/// Whole inputs in one chunk, so that the fast path's batches of records fill (128 records
/// each) and are cut short by the records it declines, which the tape pushes in between.
#[test]
fn batches_of_records_load_as_the_tape_loads_them() {
    for shape in [Shape::Export, Shape::Twin] {
        let bytes = generated(shape, Layout::JsonLines, 700, 11);
        let records = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        let fast = fast_path_agrees(&[("fleet", &bytes)], usize::MAX)
            .unwrap_or_else(|e| panic!("{shape:?}: {e}"));
        assert!(
            fast > 3 * 128,
            "{shape:?}: {fast} of {records} records on the fast path"
        );
    }
    // Every record's unescaped strings and arrays are kept until its batch is pushed; a
    // declined record between them (an exponent) leaves none of its own behind.
    let lines: Vec<String> = (0..400)
        .map(|i| {
            let number = if i % 37 == 5 { "1e3".to_string() } else { i.to_string() };
            format!(
                r#"{{"deviceId":"d{i}","tags":{{"name":"caf\u00e9 {i}","list":["a{i}",{i},true],"n":{number}}},"properties":{{"reported":{{"s":"tab\t{}"}}}}}}"#,
                i % 3
            )
        })
        .collect();
    let text = lines.join("\n");
    let fast = fast_path_agrees(&[("escapes", text.as_bytes())], usize::MAX)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fast, 400 - 11, "the records with an exponent are declined");
}

/// One record, and whether the fast path should take it.
fn single(record: &str) -> u64 {
    let text = format!("{record}\n");
    both_ways(&[("one", text.as_bytes())]).unwrap_or_else(|e| panic!("{record}\n{e}"))
}

const EXPORT: &str = r#"{"id":"d1","eTag":"AAA=","status":"enabled","authentication":{"symmetricKey":{"primaryKey":"secret1","secondaryKey":null},"x509Thumbprint":{"primaryThumbprint":null,"secondaryThumbprint":null},"type":"sas"},"twinETag":"BBB=","tags":{"a":{"b":1},"roles":["x","y"],"n":-5},"properties":{"desired":{"t":30,"$metadata":{"$lastUpdated":"2024-01-01T00:00:00Z"},"$version":3},"reported":{"battery":5.5,"on":true,"off":false,"none":null,"$version":9}},"capabilities":{"iotEdge":false}}"#;

#[test]
fn plain_records_take_the_fast_path() {
    let accepted = [
        EXPORT.to_string(),
        r#"{"deviceId":"d1","etag":"x","status":"disabled","tags":{},"properties":{}}"#.into(),
        r#"{"deviceId":"d1","moduleId":"m1","properties":{"reported":{"x":[]}}}"#.into(),
        // White space everywhere JSON allows it.
        " { \"deviceId\" :\t\"d1\" ,\t \"tags\" : { \"a\" : [ 1 , true , \"s\" ] } } ".into(),
        r#"{"deviceId":"d1","tags":{"x":-0.0,"y":0.5,"z":123456789012345,"w":"Zürich 東京"}}"#
            .into(),
        // A twin with `id` too is in twin shape: `id` is an ordinary member.
        r#"{"deviceId":"d1","id":"other","eTag":"kept"}"#.into(),
        r#"{"deviceId":"d1","importMode":"create","authentication":{"type":"none"}}"#.into(),
        // Escapes in values and keys below the top level.
        EXPORT.replace("\"d1\"", r#""d\u0031""#),
        EXPORT.replace(
            "\"enabled\"",
            r#""a\"b\\c\/d\be\ff\ng\rh\ti\u00e9\u6771\ud83d\ude00\u0000""#,
        ),
        EXPORT.replace("\"roles\"", r#""r\u00f6les""#),
        EXPORT.replace("secret1", r#"sec\"ret"#),
    ];
    for r in &accepted {
        assert_eq!(single(r), 1, "should be fast: {r}");
    }
}

#[test]
fn everything_else_is_declined_and_loads_as_the_tape_loads_it() {
    let declined = [
        // Escapes the scanner does not read: in top-level or `authentication` keys, in
        // arrays, lone surrogates, unknown escapes.
        EXPORT.replace("\"status\"", r#""st\u0061tus""#),
        EXPORT.replace("\"type\"", r#""typ\u0065""#),
        EXPORT.replace("[\"x\",", r#"["\n","#),
        EXPORT.replace("\"enabled\"", r#""\ud800""#),
        EXPORT.replace("\"enabled\"", r#""\udc00\ud800""#),
        EXPORT.replace("\"enabled\"", r#""\ud800\u0041""#),
        EXPORT.replace("\"enabled\"", r#""\x41""#),
        EXPORT.replace("\"enabled\"", r#""\u00g1""#),
        EXPORT.replace("\"enabled\"", r#""ab\""#),
        // Exponents, long or negative-zero numbers.
        EXPORT.replace("5.5", "5.5e0"),
        EXPORT.replace("-5", "-0"),
        EXPORT.replace("\"t\":30", "\"t\":123456789012345678"),
        EXPORT.replace("5.5", "0.1234567890123456"),
        // Repeated and case-colliding keys.
        EXPORT.replace("\"on\":true", "\"on\":true,\"ON\":1"),
        EXPORT.replace("\"on\":true", "\"on\":true,\"on\":1"),
        EXPORT.replace("\"status\"", "\"authenticationType\":\"x\",\"status\""),
        EXPORT.replace("\"id\":\"d1\"", "\"id\":\"d1\",\"deviceId\":\"d2\""),
        EXPORT.replace("\"eTag\"", "\"deviceEtag\":\"z\",\"eTag\""),
        // Findings: bad ids, key names, nulls in arrays, deep or large sections.
        EXPORT.replace("\"d1\"", "\"d 1\""),
        EXPORT.replace("\"roles\"", "\"ro.les\""),
        EXPORT.replace("[\"x\",\"y\"]", "[\"x\",null]"),
        EXPORT.replace("\"n\":-5", "\"n\":4503599627370497"),
        EXPORT.replace(
            "\"n\":-5",
            &format!("\"n\":{}1{}", "{\"a\":".repeat(10), "}".repeat(10)),
        ),
        EXPORT.replace("\"n\":-5", &format!("\"n\":\"{}\"", "x".repeat(5000))),
        EXPORT.replace(
            "\"n\":-5",
            &(0..500)
                .map(|i| format!("\"k{i}\":\"{}\"", "v".repeat(10)))
                .collect::<Vec<_>>()
                .join(","),
        ),
        r#"{"deviceId":"d1","moduleId":null}"#.into(),
        r#"{"status":"enabled"}"#.into(),
        "{}".into(),
        // Arrays the scanner does not write: floats, objects, nested arrays.
        EXPORT.replace("[\"x\",\"y\"]", "[1.5]"),
        EXPORT.replace("[\"x\",\"y\"]", "[{\"a\":1}]"),
        EXPORT.replace("[\"x\",\"y\"]", "[[1]]"),
        // Broken JSON of many kinds.
        EXPORT.replace("\"enabled\"", "enabled"),
        EXPORT.replace("true", "tru"),
        EXPORT.replace(":30", ":030"),
        EXPORT.replace(":30", ":30x"),
        EXPORT.replace(":30", ":-"),
        EXPORT.replace(":30", ":3."),
        EXPORT.replace(",\"capabilities\"", ",,\"capabilities\""),
        format!("{EXPORT} x"),
        EXPORT[..EXPORT.len() - 1].to_string(),
        EXPORT.replace("\"sas\"", "\"s\u{1}as\""),
    ];
    for r in &declined {
        assert_eq!(single(r), 0, "should be declined: {r}");
    }
}

#[test]
fn export_shape_is_guessed_from_the_previous_record_and_checked() {
    // When `id` or `deviceId` comes first, it says the shape.
    let (twin, export) = (r#"{"deviceId":"t1"}"#, r#"{"id":"e1"}"#);
    let text = [export, twin, twin, export].join("\n");
    let fast = both_ways(&[("first", text.as_bytes())]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fast, 4);
    // Otherwise the shape is guessed from the last record: the first export and the first
    // twin after each switch are read twice.
    let twin = r#"{"eTag":"plain member","deviceId":"t1"}"#;
    let export = r#"{"eTag":"renamed","id":"e1"}"#;
    let text = [export, export, twin, twin, export, twin].join("\n");
    let fast = both_ways(&[("mixed", text.as_bytes())]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fast, 2);
}

/// Pieces of JSON text a mutation splices into a plain record.
const SPLICES: &[&str] = &[
    " ",
    "\t",
    "\n",
    "\\",
    "\"",
    "\\\"",
    "\\u00e9",
    "\\ud83d\\ude00",
    "-0",
    "0",
    "1e5",
    "1.0",
    "-1.25",
    "18446744073709551616",
    "null",
    "true",
    "[]",
    "{}",
    "[null]",
    ",",
    ":",
    "}",
    "{",
    "é",
    "\u{1}",
    "\"id\":\"x\",",
    "\"deviceId\":\"y\",",
    "\"ID\":1,",
    "\"$metadata\":{},",
    "\"authentication\":{\"type\":\"t\"},",
    "\"moduleId\":\"m\",",
    "\"a.b\":1,",
    "\r",
    "\u{0}",
    "\u{7f}",
    "\u{2028}",
    "1.5",
    "-7",
    "tRue",
    "\"\\u0000\"",
    "\"\\ud83d\"",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Plain records with pieces spliced in anywhere, several to a load (so that the shape
    /// guess and the trie's predictions carry over): the fast path and the tape agree on
    /// every store, report and error.
    #[test]
    fn spliced_records_load_the_same_both_ways(
        edits in prop::collection::vec(
            (0usize..4, any::<prop::sample::Index>(), 0..SPLICES.len()),
            0..6,
        ),
    ) {
        let base = [
            EXPORT.to_string(),
            String::from_utf8(generated(Shape::Twin, Layout::JsonLines, 1, 3)).expect("UTF-8"),
            String::from_utf8(generated(Shape::Export, Layout::JsonLines, 2, 5)).expect("UTF-8"),
            EXPORT.replace("d1", "d2"),
        ];
        let mut records: Vec<String> = base
            .iter()
            .flat_map(|r| r.lines().map(str::to_string).collect::<Vec<_>>())
            .collect();
        for (which, at, splice) in edits {
            let r = &mut records[which % 4];
            let mut at = at.index(r.len() + 1);
            while !r.is_char_boundary(at) {
                at -= 1;
            }
            r.insert_str(at, SPLICES[splice]);
        }
        let text = records.join("\n");
        both_ways(&[("spliced", text.as_bytes())]).map_err(TestCaseError::fail)?;
    }
}

/// Sections sized around their limits with every kind of value: each record is under, at or
/// over the limit by a byte, and the fast path must count sizes exactly as the rule does.
#[test]
fn section_sizes_are_counted_exactly_at_the_limits() {
    let forms = [
        "1",
        "-7",
        "2.5",
        "true",
        "null",
        "\"abc\"",
        "[1,-2]",
        "[true,false]",
        "[\"a\",\"b\"]",
        "[]",
        "{\"x\":1}",
        "{}",
        "{\"x\":{\"y\":[\"z\"]}}",
    ];
    for form in forms {
        let mut lines = Vec::new();
        // Tags: 4,227 bytes besides `p2` and `v`; desired: 28,778 besides `r` and `v`.
        for pad in 3900..4100 {
            let value = format!(
                "{{\"p0\":\"{}\",\"p1\":\"{}\",\"p2\":\"{}\",\"v\":{form},\"$metadata\":{{\"big\":\"{}\"}}}}",
                "x".repeat(100),
                "x".repeat(4096),
                "y".repeat(pad),
                "z".repeat(3000)
            );
            lines.push(format!("{{\"deviceId\":\"t{pad}\",\"tags\":{value}}}"));
            let desired: Vec<String> = (0..8)
                .map(|i| format!("\"q{i}\":\"{}\"", "w".repeat(4000)))
                .collect();
            lines.push(format!(
                "{{\"deviceId\":\"p{pad}\",\"properties\":{{\"desired\":{{{},\"r\":\"{}\",\"v\":{form}}}}}}}",
                desired.join(","),
                "y".repeat(pad - 3300)
            ));
        }
        let text = lines.join("\n");
        let fast =
            both_ways(&[("sizes", text.as_bytes())]).unwrap_or_else(|e| panic!("{form}: {e}"));
        // Some records are under the limit (fast), some over (declined, with a finding).
        assert!(fast > 0 && fast < lines.len() as u64, "{form}: {fast} fast");
    }
}
