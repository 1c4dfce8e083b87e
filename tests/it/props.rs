//! Property tests: every fast path (ingest → store → indexes → planner → executor) held to the
//! slow, literal reference (`twindex::reference`) on generated fleets and queries.
//!
//! * Store reconstruction: `Store::twin` is `reference::normalise` of the record, as values and
//!   as text, whatever the input layout (JSON Lines or array, CRLF, BOM, blank lines, several
//!   files, tiny chunks); secrets appear nowhere.
//! * Columns: every leaf (and object, and array) of every regular twin is in the column of its
//!   exact spelling with the same value and number kind, and columns hold nothing else.
//! * Index laws: every bitmap is the scan it stands for; at the query level `AND` is `&`, `OR`
//!   is `|`, De Morgan holds under three-valued logic, `IN` is the union of `=`, `NIN` is `NOT
//!   IN` and never matches an undefined operand.
//! * The main one: any generated query over any generated fleet gives exactly the reference's
//!   answer (values and serialized text), or the same rendered error.
//!
//! A failure prints the fleet as JSON Lines and the query, ready to paste into a regression
//! test. Case counts keep the whole file to a few seconds in `cargo test --release`.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use roaring::RoaringBitmap;
use serde_json::Value;
use twindex::index::{IndexKey, RangeOp};
use twindex::store::{Kind, Num, Store, ValueRef};
use twindex::{reference, sql, Fleet, LoadOptions};

use crate::strategies::{
    arb_condition, arb_count_query, arb_fleet, arb_group_count_query, arb_literal,
    arb_nearly_unique_query, arb_path, arb_query_sql, arb_record, arb_string_literal, SECRET_KEYS,
};

// ---------------------------------------------------------------------------------------------
// Writing a fleet as input bytes

/// How a generated fleet is written and loaded.
#[derive(Debug, Clone)]
struct Layout {
    /// One JSON array per file instead of JSON Lines.
    array: bool,
    /// Pretty-printed records (arrays only: a JSON Lines record is one line).
    pretty: bool,
    crlf: bool,
    bom: bool,
    /// A blank line (JSON Lines) before every third record.
    blank_lines: bool,
    /// Records are split into this many inputs, in order.
    files: usize,
    chunk_bytes: usize,
    /// Spell numbers, strings and white space in other ways JSON allows (seeded), instead of
    /// serde_json's way.
    spelling: Option<u64>,
    /// JSON Lines: a comment line first (not data: skipped and counted) and white space
    /// around every record.
    decorated: bool,
    /// Every input gzip-compressed.
    gzip: bool,
    /// Written to files and loaded by path (memory-mapped), not from memory.
    via_files: bool,
    /// `$metadata` members columnised on first use (the default) rather than by the load.
    defer_metadata: bool,
}

const DEFAULT_CHUNK: usize = 4 << 20;

fn arb_layout(chunks: &'static [usize]) -> impl Strategy<Value = Layout> {
    let text = (
        prop::bool::weighted(0.3),
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
        prop::option::weighted(0.5, any::<u64>()),
        prop::bool::weighted(0.15),
    );
    let inputs = (
        prop_oneof![4 => Just(1usize), 1 => 2usize..4],
        prop::sample::select(chunks),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.8),
    );
    (text, inputs).prop_map(
        |(
            (array, pretty, crlf, bom, blank_lines, spelling, decorated),
            (files, chunk_bytes, gzip, via_files, defer_metadata),
        )| Layout {
            array,
            pretty,
            crlf,
            bom,
            blank_lines,
            files,
            chunk_bytes,
            spelling,
            decorated,
            gzip,
            via_files,
            defer_metadata,
        },
    )
}

/// Writes JSON with the same values spelled differently: numbers with exponents, `.0` or as
/// long integers, characters as `\u` escapes (surrogate pairs included) or `\/`, and white
/// space between tokens.
struct Speller {
    state: u64,
    /// Write some keys twice (decoy value first)?
    duplicates: bool,
    /// Nesting depth of the value being written (0: the record).
    depth: usize,
    /// May white space include line breaks (not inside a JSON Lines record)?
    newlines: bool,
}

impl Speller {
    fn pick(&mut self, n: usize) -> usize {
        // xorshift64*: any fixed, seeded sequence will do.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }

    fn space(&mut self, out: &mut String) {
        match self.pick(8) {
            0 => out.push(' '),
            1 => out.push('\t'),
            2 if self.newlines => out.push_str("\n  "),
            _ => {}
        }
    }

    fn value(&mut self, v: &Value, out: &mut String) {
        match v {
            Value::Null | Value::Bool(_) => out.push_str(&v.to_string()),
            Value::Number(n) => self.number(n, out),
            Value::String(s) => self.string(s, out),
            Value::Array(items) => {
                out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.space(out);
                    self.value(x, out);
                    self.space(out);
                }
                out.push(']');
            }
            Value::Object(m) => {
                out.push('{');
                let mut first = true;
                for (k, x) in m {
                    // Now and then a key twice, with a decoy value before or after the real
                    // one: JSON readers keep the last value (serde_json at the first key's
                    // position).
                    // Never `seq`, which the law tests number rows by.
                    let keep = self.depth == 0 && k == "seq";
                    let decoy = (self.duplicates && !keep && self.pick(30) == 0)
                        .then(|| (DECOYS[self.pick(DECOYS.len())], self.pick(2) == 0));
                    if let Some((d, true)) = decoy {
                        self.member(k, &mut |_, out| out.push_str(d), &mut first, out);
                    }
                    self.member(
                        k,
                        &mut |me, out| {
                            me.depth += 1;
                            me.value(x, out);
                            me.depth -= 1;
                        },
                        &mut first,
                        out,
                    );
                    if let Some((d, false)) = decoy {
                        self.member(k, &mut |_, out| out.push_str(d), &mut first, out);
                    }
                }
                self.space(out);
                out.push('}');
            }
        }
    }

    fn member(
        &mut self,
        key: &str,
        value: &mut dyn FnMut(&mut Speller, &mut String),
        first: &mut bool,
        out: &mut String,
    ) {
        if !std::mem::take(first) {
            out.push(',');
        }
        self.space(out);
        self.string(key, out);
        self.space(out);
        out.push(':');
        self.space(out);
        value(self, out);
    }

    fn number(&mut self, n: &serde_json::Number, out: &mut String) {
        let plain = n.to_string();
        let mut options = vec![plain.clone()];
        if n.is_f64() {
            let f = n.as_f64().unwrap_or_default();
            options.push(format!("{f:e}"));
            options.push(format!("{f:E}").replace('E', "E+").replace("E+-", "E-"));
            // An integral float written as a (long) integer: serde_json reads integers beyond
            // the u64/i64 range as floats.
            if f.fract() == 0.0 && f.abs() >= 1.8446744073709552e19 && f.abs() < 1e30 {
                options.push(format!("{f:.0}"));
            }
        } else {
            options.push(format!("{plain}e0"));
            options.push(format!("{plain}.0"));
            options.push(format!("{plain}E+0"));
            if plain == "0" {
                // serde_json reads `-0` as the float -0.0 (`negative_zero_integer_reads_as_
                // the_reference_reads_it`).
                options.push("-0".into());
            }
        }
        let i = self.pick(options.len() + 2).min(options.len() - 1);
        out.push_str(&options[i]);
    }

    fn string(&mut self, s: &str, out: &mut String) {
        use std::fmt::Write as _;
        out.push('"');
        for c in s.chars() {
            let escape = self.pick(10) == 0;
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' if !escape => out.push_str("\\n"),
                '/' if escape => out.push_str("\\/"),
                c if escape || (c as u32) < 0x20 => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        let _ = write!(out, "\\u{u:04x}");
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

/// Values written before the real one under a repeated key.
const DECOYS: &[&str] = &[
    "null",
    "\"decoy\"",
    "7",
    "{}",
    "[]",
    r#"{"type":"decoy","a":1}"#,
];

/// Whether the spelling from this seed writes some keys twice.
fn repeats_keys(seed: u64) -> bool {
    seed.is_multiple_of(4)
}

/// One record's JSON text as the layout spells it (a JSON Lines record stays on one line).
/// The seed is mixed with the record's content, not its position, so that shrinking a fleet
/// keeps the spelling of the records that remain while records of one shape still differ.
fn record_text(record: &Value, layout: &Layout) -> String {
    use std::hash::{Hash, Hasher};
    match layout.spelling {
        Some(seed) => {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            record.to_string().hash(&mut h);
            let mut speller = Speller {
                state: (seed ^ h.finish()) | 1,
                duplicates: repeats_keys(seed),
                depth: 0,
                newlines: layout.array,
            };
            let mut out = String::new();
            speller.value(record, &mut out);
            out
        }
        None if layout.array && layout.pretty => {
            serde_json::to_string_pretty(record).expect("records serialize")
        }
        None => serde_json::to_string(record).expect("records serialize"),
    }
}

/// The record texts as `(name, bytes)` inputs; row ids follow the records' order.
fn write_inputs(texts: &[String], layout: &Layout) -> Vec<(String, Vec<u8>)> {
    let files = layout.files.max(1);
    let per_file = texts.len().div_ceil(files).max(1);
    let nl = if layout.crlf { "\r\n" } else { "\n" };
    let mut parts: Vec<&[String]> = texts.chunks(per_file).collect();
    parts.resize(files, &[]);
    parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let mut out = String::new();
            if layout.bom {
                out.push('\u{feff}');
            }
            if layout.array {
                out.push('[');
                for (k, r) in part.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(nl);
                    out.push_str(&r.replace('\n', nl));
                }
                out.push_str(nl);
                out.push(']');
            } else {
                if layout.decorated {
                    out.push_str("# exported by a test");
                    out.push_str(nl);
                }
                for (k, r) in part.iter().enumerate() {
                    if layout.blank_lines && k % 3 == 0 {
                        out.push_str(nl);
                    }
                    if layout.decorated {
                        out.push_str(" \t");
                    }
                    out.push_str(r);
                    if layout.decorated {
                        out.push_str("\t ");
                    }
                    out.push_str(nl);
                }
            }
            let mut bytes = out.into_bytes();
            if layout.gzip {
                use std::io::Write as _;
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(&bytes).expect("gzip in memory");
                bytes = gz.finish().expect("gzip in memory");
            }
            (format!("input-{i}"), bytes)
        })
        .collect()
}

/// A generated fleet, loaded by the engine and read by the reference from the same text.
struct Loaded {
    /// Each record's JSON text, as written to the inputs.
    texts: Vec<String>,
    /// What the reference sees: each text read by serde_json (as the golden tests read
    /// fixtures), normalised.
    twins: Vec<Value>,
    fleet: Fleet,
    /// Some object may hold a key twice (which makes a row irregular too).
    repeated_keys: bool,
    /// The fleet is its first `k` records repeated (failures show only those).
    cycle: Option<usize>,
    /// Where the inputs were written, when loaded from files (removed on drop).
    _dir: Option<TempDir>,
}

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("twindex-props-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Loaded {
    /// A failure that shows the fleet as JSON Lines (and the query), ready for a regression
    /// test.
    fn fail(&self, what: impl Into<String>, query: Option<&str>) -> TestCaseError {
        match self.cycle {
            Some(k) if k < self.texts.len() => fail_with(
                format!(
                    "{}\n(the {k} records below repeated to {} rows)",
                    what.into(),
                    self.texts.len()
                ),
                &self.texts[..k],
                query,
            ),
            _ => fail_with(what.into(), &self.texts, query),
        }
    }

    fn store(&self) -> &Store {
        self.fleet.store()
    }
}

fn fail_with(what: String, texts: &[String], query: Option<&str>) -> TestCaseError {
    let mut msg = what;
    if let Some(q) = query {
        msg.push_str(&format!("\nquery: {q}"));
    }
    msg.push_str("\nfleet:\n");
    let mut fillers = 0;
    for t in texts {
        if t.contains(FILLER) {
            fillers += 1;
            continue;
        }
        msg.push_str(&t.replace('\n', " "));
        msg.push('\n');
    }
    if fillers > 0 {
        msg.push_str(&format!(
            "(and {fillers} `filler` records, see `fillers`)\n"
        ));
    }
    TestCaseError::fail(msg)
}

/// Writes and loads the records, which must all load.
fn load(records: &[Value], layout: &Layout) -> Result<Loaded, TestCaseError> {
    let texts: Vec<String> = records.iter().map(|r| record_text(r, layout)).collect();
    let twins = texts
        .iter()
        .map(|t| {
            serde_json::from_str(t)
                .map(reference::normalise)
                .map_err(|e| fail_with(format!("serde_json cannot read: {e}"), &texts, None))
        })
        .collect::<Result<Vec<Value>, _>>()?;
    let opts = LoadOptions {
        chunk_bytes: layout.chunk_bytes,
        defer_metadata: layout.defer_metadata,
        ..LoadOptions::default()
    };
    let inputs = write_inputs(&texts, layout);
    let mut dir = None;
    let fleet = if layout.via_files {
        let d = TempDir::new();
        let paths: Vec<String> = inputs
            .iter()
            .map(|(name, bytes)| {
                let path = d.0.join(name);
                std::fs::write(&path, bytes).expect("write a temporary input");
                path.to_string_lossy().into_owned()
            })
            .collect();
        dir = Some(d);
        Fleet::load_with(&paths, &opts)
    } else {
        Fleet::from_bytes(inputs, &opts)
    }
    .map_err(|e| fail_with(format!("load failed: {e}"), &texts, None))?;
    let report = fleet.report();
    let comments = if layout.decorated && !layout.array {
        layout.files.max(1) as u64
    } else {
        0
    };
    if fleet.store().len() as usize != records.len() || report.skipped != comments {
        return Err(fail_with(
            format!(
                "{} records gave {} rows, {} skipped: {:?}",
                records.len(),
                fleet.store().len(),
                report.skipped,
                report.findings
            ),
            &texts,
            None,
        ));
    }
    Ok(Loaded {
        texts,
        twins,
        fleet,
        repeated_keys: layout.spelling.is_some_and(repeats_keys),
        cycle: None,
        _dir: dir,
    })
}

// ---------------------------------------------------------------------------------------------
// Engine against reference

/// A query's outcome: the result array, or the rendered error.
fn engine_answer(fleet: &Fleet, query: &str) -> Result<Vec<Value>, String> {
    fleet
        .query(query)
        .map(|rows| rows.collect())
        .map_err(|e| e.render(query))
}

fn reference_answer(twins: &[Value], query: &str) -> Result<Vec<Value>, String> {
    let parsed = sql::parse(query).map_err(|e| e.render(query))?;
    reference::evaluate(&parsed, twins).map_err(|e| e.render(query))
}

/// Results as text: catches what `Value` equality forgives (key order) and spells out `5` vs
/// `5.0`.
fn text(outcome: &Result<Vec<Value>, String>) -> String {
    match outcome {
        Ok(rows) => serde_json::to_string(rows).expect("results serialize"),
        Err(e) => format!("error: {e}"),
    }
}

/// The engine and the reference agree on `query`: the same values, the same text.
fn agree(l: &Loaded, query: &str) -> Result<(), TestCaseError> {
    let got = engine_answer(&l.fleet, query);
    let want = reference_answer(&l.twins, query);
    if got != want || text(&got) != text(&want) {
        return Err(l.fail(
            format!(
                "engine and reference differ\n  engine:    {}\n  reference: {}",
                text(&got),
                text(&want)
            ),
            Some(query),
        ));
    }
    // The JSON text rows (`--format json`) are the serialized rows, byte for byte.
    if let (Ok(results), Ok(want)) = (l.fleet.query(query), &want) {
        let got: Vec<String> = results.json().collect();
        let want: Vec<String> = want.iter().map(Value::to_string).collect();
        if got != want {
            return Err(l.fail(
                format!("JSON text rows differ\n  engine:    {got:?}\n  reference: {want:?}"),
                Some(query),
            ));
        }
    }
    Ok(())
}

/// Mostly a valid query; one in twenty broken on purpose (a grouped `SELECT *`, duplicate
/// output names, an unknown collection or function, an aggregate in WHERE, cut short), so
/// that both engines must also fail alike, with the same rendered message.
fn arb_query_or_broken() -> impl Strategy<Value = String> {
    prop_oneof![
        19 => arb_query_sql(),
        1 => (arb_query_sql(), 0..6usize).prop_map(|(q, how)| break_query(&q, how)),
    ]
}

fn break_query(q: &str, how: usize) -> String {
    let upper = q.to_uppercase();
    let from = upper.find(" FROM ").unwrap_or(q.len());
    match how {
        0 => format!("{q} GROUP BY tags.a"),
        // After `SELECT ` (and `TOP n`, which the parser then reads as a path or rejects).
        1 => format!("{}tags.a, tags.A, {}", &q[..7], &q[7..]),
        2 => format!("{} FROM devices.jobs", &q[..from]),
        3 => format!("{q} AND STARTWITH(deviceId, 'a')"),
        4 => format!("{} FROM devices WHERE COUNT() > 1", &q[..from]),
        _ => {
            let mut cut = q.len() / 2;
            while !q.is_char_boundary(cut) {
                cut -= 1;
            }
            q[..cut].to_string()
        }
    }
}

/// Reading a query page by page gives the reference's results, and tokens end on the last page.
fn check_pages(l: &Loaded, query: &str, page_size: usize) -> Result<(), TestCaseError> {
    let Ok(want) = reference_answer(&l.twins, query) else {
        return Ok(());
    };
    let (mut got, mut token, mut pages) = (Vec::new(), None::<String>, 0);
    loop {
        let page = l
            .fleet
            .query_page(query, page_size, token.as_deref())
            .map_err(|e| l.fail(format!("page {pages}: {}", e.render(query)), Some(query)))?;
        pages += 1;
        if page.items.len() > page_size
            || (page.continuation.is_some() && page.items.len() < page_size)
        {
            return Err(l.fail(
                format!("page {pages} holds {} of {page_size}", page.items.len()),
                Some(query),
            ));
        }
        got.extend(page.items);
        match page.continuation {
            Some(t) if pages <= want.len() + 1 => token = Some(t),
            Some(_) => return Err(l.fail("pages never end", Some(query))),
            None => break,
        }
    }
    if got != want || text(&Ok(got.clone())) != text(&Ok(want.clone())) {
        return Err(l.fail(
            format!(
                "{pages} pages of {page_size} differ from the reference\n  pages:     {}\n  reference: {}",
                text(&Ok(got)),
                text(&Ok(want))
            ),
            Some(query),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 1. Store reconstruction

fn check_reconstruction(l: &Loaded) -> Result<(), TestCaseError> {
    let store = l.store();
    for (row, want) in l.twins.iter().enumerate() {
        let got = store
            .twin(row as u32)
            .map_err(|e| l.fail(format!("twin({row}): {e}"), None))?;
        let (got_text, want_text) = (got.to_string(), want.to_string());
        if &got != want || got_text != want_text {
            return Err(l.fail(
                format!("twin({row}) differs\n  store:     {got_text}\n  reference: {want_text}"),
                None,
            ));
        }
        if SECRET_KEYS.iter().any(|s| got_text.contains(s)) {
            return Err(l.fail(format!("twin({row}) shows a secret"), None));
        }
        let mut written = Vec::new();
        store
            .twin_text(row as u32, &mut written)
            .map_err(|e| l.fail(format!("twin_text({row}): {e}"), None))?;
        if written != want_text.as_bytes() {
            return Err(l.fail(
                format!(
                    "twin_text({row}) differs\n  store:     {}\n  reference: {want_text}",
                    String::from_utf8_lossy(&written)
                ),
                None,
            ));
        }
    }
    for c in store.columns() {
        for (row, v) in c.iter() {
            let s = match v {
                ValueRef::String(s) | ValueRef::Array(s) => s,
                _ => continue,
            };
            if SECRET_KEYS.iter().any(|k| s.contains(k)) {
                return Err(l.fail(
                    format!("column {} holds a secret at row {row}", c.dotted()),
                    None,
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 2. Columns

/// Whether some object in `v` (not counting objects inside arrays) has two keys equal under
/// `to_lowercase`; `anywhere` also looks inside arrays.
fn collides(v: &Value, anywhere: bool) -> bool {
    match v {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().map(|k| k.to_lowercase()).collect();
            let distinct: BTreeSet<&String> = keys.iter().collect();
            distinct.len() != keys.len() || m.values().any(|x| collides(x, anywhere))
        }
        Value::Array(items) if anywhere => items.iter().any(|x| collides(x, anywhere)),
        _ => false,
    }
}

fn same_number(n: &serde_json::Number, got: Num) -> bool {
    match got {
        Num::Int(i) => n.as_i64() == Some(i) && !n.is_f64(),
        Num::UInt(u) => n.as_u64() == Some(u) && n.as_i64().is_none(),
        Num::Float(f) => n.is_f64() && n.as_f64().map(f64::to_bits) == Some(f.to_bits()),
    }
}

/// The column value matches the document's value exactly (kind included).
fn same_value(want: &Value, got: ValueRef<'_>) -> bool {
    match (want, got) {
        (Value::Null, ValueRef::Null) => true,
        (Value::Bool(a), ValueRef::Bool(b)) => *a == b,
        (Value::Number(n), ValueRef::Number(m)) => {
            same_number(n, m) && n.as_f64() == Some(m.as_f64())
        }
        (Value::String(a), ValueRef::String(b)) => a == b,
        // A packed ISO timestamp must give back the exact text.
        (Value::String(a), ValueRef::Time(t)) => *a == *t.text(),
        (Value::Object(_), ValueRef::Object) => true,
        (Value::Array(_), ValueRef::Array(text)) => {
            serde_json::from_str::<Value>(text).is_ok_and(|parsed| {
                &parsed == want
                    && serde_json::to_string(&parsed).ok() == serde_json::to_string(want).ok()
            })
        }
        _ => false,
    }
}

/// Every path of a regular twin is in the column of its exact spelling with the same value,
/// and objects and arrays rebuilt from the record alone (`Store::subtree`) are the twin's.
fn check_twin_paths(
    store: &Store,
    row: u32,
    path: &mut Vec<String>,
    v: &Value,
) -> Result<(), String> {
    if matches!(v, Value::Object(_) | Value::Array(_)) {
        let got = store.subtree(row, path);
        let same = got.as_ref().is_some_and(|g| {
            g == v && serde_json::to_string(g).ok() == serde_json::to_string(v).ok()
        });
        if !same {
            return Err(format!(
                "row {row}: subtree {} is {got:?}, the twin has {v}",
                path.join(".")
            ));
        }
    }
    if !path.is_empty() {
        let col = store
            .column_exact(path)
            .ok_or_else(|| format!("row {row}: no column for {}", path.join(".")))?;
        match col.get(row) {
            Some(got) if same_value(v, got) => {}
            got => {
                return Err(format!(
                    "row {row}: column {} holds {got:?}, the twin has {v}",
                    path.join(".")
                ))
            }
        }
    }
    if let Value::Object(m) = v {
        for (k, x) in m {
            path.push(k.clone());
            check_twin_paths(store, row, path, x)?;
            path.pop();
        }
    }
    Ok(())
}

/// The value at exactly these keys (no case folding, no array steps).
fn exact_lookup<'a>(v: &'a Value, segments: &[Box<str>]) -> Option<&'a Value> {
    segments
        .iter()
        .try_fold(v, |cur, s| cur.as_object().and_then(|m| m.get(&**s)))
}

fn check_columns(l: &Loaded) -> Result<(), TestCaseError> {
    let (store, twins) = (l.store(), &l.twins);
    let err = |msg: String| l.fail(msg, None);
    let mut modules = RoaringBitmap::new();
    for (row, twin) in twins.iter().enumerate() {
        let row = row as u32;
        if twin.get("moduleId").is_some_and(|m| !m.is_null()) {
            modules.insert(row);
        }
        let irregular = store.irregular().contains(row);
        if collides(twin, false) && !irregular {
            return Err(err(format!(
                "row {row} has keys that collide by case but is regular"
            )));
        }
        // Irregular also are rows with a repeated key, and rows with a bare `-0` (read as the
        // integer 0 on the store's tape, -0.0 by serde_json): they answer from their twin.
        let explained =
            collides(twin, true) || l.repeated_keys || l.texts[row as usize].contains("-0");
        if irregular && !explained {
            return Err(err(format!(
                "row {row} is irregular without a case collision, a repeated key or a -0"
            )));
        }
        if !irregular {
            check_twin_paths(store, row, &mut Vec::new(), twin).map_err(err)?;
        }
    }
    if &modules != store.modules() {
        return Err(err(format!(
            "module rows {:?}, expected {:?}",
            store.modules(),
            modules
        )));
    }
    for c in store.columns() {
        let mut present = RoaringBitmap::new();
        let mut counts = [0u32; twindex::store::KINDS];
        for (slot, (row, v)) in c.iter().enumerate() {
            present.insert(row);
            // Timestamps count per fraction width; `kind_at` says only `Time`.
            counts[c.kind_at(slot) as usize] += 1;
            if c.get(row) != Some(v) {
                return Err(err(format!("column {}: get({row}) != iter", c.dotted())));
            }
            if store.irregular().contains(row) {
                continue;
            }
            match exact_lookup(&twins[row as usize], c.segments()) {
                Some(want) if same_value(want, v) => {}
                want => {
                    return Err(err(format!(
                        "column {} holds {v:?} at row {row}, the twin has {want:?}",
                        c.dotted()
                    )))
                }
            }
        }
        // Kind counts are per kind byte (timestamps by their fraction width); fold them.
        let mut folded = [0u32; twindex::store::KINDS];
        for (byte, n) in c.kind_counts().into_iter().enumerate() {
            folded[Kind::of_byte(byte) as usize] += n;
        }
        if &present != c.present() || counts != folded || c.len() as u64 != present.len() {
            return Err(err(format!(
                "column {}: presence or kind counts disagree with its values",
                c.dotted()
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 3. Index laws on bitmaps

/// A primitive column value as the key it is indexed under; `None` for objects and arrays.
fn key_of(v: ValueRef<'_>) -> Option<IndexKey> {
    IndexKey::from_value(v)
}

/// `value op key` under SPEC §2.2 (same type only; `null` only equals `null`).
fn holds(value: &IndexKey, op: Option<RangeOp>, key: &IndexKey) -> bool {
    use std::cmp::Ordering::*;
    let o = match (value, key) {
        (IndexKey::Null, IndexKey::Null) => Equal,
        (IndexKey::Bool(a), IndexKey::Bool(b)) => a.cmp(b),
        (IndexKey::Number(a), IndexKey::Number(b)) => match a.partial_cmp(b) {
            Some(o) => o,
            None => return false,
        },
        (IndexKey::String(a), IndexKey::String(b)) => a.as_bytes().cmp(b.as_bytes()),
        _ => return false,
    };
    match op {
        None => o == Equal,
        Some(RangeOp::Lt) => o == Less,
        Some(RangeOp::LtEq) => o != Greater,
        Some(RangeOp::Gt) => o == Greater,
        Some(RangeOp::GtEq) => o != Less,
    }
}

fn check_index_laws(l: &Loaded) -> Result<(), TestCaseError> {
    let store = l.store();
    let err = |msg: String| l.fail(msg, None);
    let probes: Vec<IndexKey> = [
        IndexKey::Null,
        IndexKey::Bool(false),
        IndexKey::Bool(true),
        IndexKey::Number(-1.0),
        IndexKey::Number(0.0),
        IndexKey::Number(5.0),
        IndexKey::Number(3.0),
        IndexKey::String("".into()),
        IndexKey::String("x".into()),
        IndexKey::String("Y".into()),
        IndexKey::String("z".into()),
    ]
    .into_iter()
    .collect();
    for c in store.columns() {
        let Some(ix) = c.index() else { continue };
        let values: Vec<(u32, IndexKey)> = c
            .iter()
            .filter_map(|(row, v)| key_of(v).map(|k| (row, k)))
            .collect();
        let scan = |op: Option<RangeOp>, key: &IndexKey| -> RoaringBitmap {
            values
                .iter()
                .filter(|(_, v)| holds(v, op, key))
                .map(|(r, _)| *r)
                .collect()
        };
        let entries = ix.entries();
        for pair in entries.windows(2) {
            if pair[0].0.cmp_key(&pair[1].0) != std::cmp::Ordering::Less {
                return Err(err(format!(
                    "index of {}: keys {:?} and {:?} out of order",
                    c.dotted(),
                    pair[0].0,
                    pair[1].0
                )));
            }
        }
        let all: RoaringBitmap = values.iter().map(|(r, _)| *r).collect();
        if ix.any() != all {
            return Err(err(format!(
                "index of {}: union of bitmaps is not the rows with primitive values",
                c.dotted()
            )));
        }
        let keys = entries.iter().map(|(k, _)| k.clone()).chain(probes.clone());
        for key in keys {
            if let Some((_, b)) = entries.iter().find(|(k, _)| k == &key) {
                if b != &scan(None, &key) {
                    return Err(err(format!(
                        "index of {}: bitmap of {key:?} is not the scan",
                        c.dotted()
                    )));
                }
            }
            if ix.eq(&key) != scan(None, &key) {
                return Err(err(format!(
                    "index of {}: eq({key:?}) is not the scan",
                    c.dotted()
                )));
            }
            for op in [RangeOp::Lt, RangeOp::LtEq, RangeOp::Gt, RangeOp::GtEq] {
                if ix.range(&key, op) != scan(Some(op), &key) {
                    return Err(err(format!(
                        "index of {}: range({key:?}, {op:?}) is not the scan",
                        c.dotted()
                    )));
                }
            }
            if let IndexKey::String(s) = &key {
                let first = s.chars().next().map_or(0, char::len_utf8);
                for prefix in [&s[..], &s[..first], ""] {
                    let want: RoaringBitmap = values
                        .iter()
                        .filter(|(_, v)| matches!(v, IndexKey::String(t) if t.starts_with(prefix)))
                        .map(|(r, _)| *r)
                        .collect();
                    if ix.prefix(prefix) != want {
                        return Err(err(format!(
                            "index of {}: prefix({prefix:?}) is not the scan",
                            c.dotted()
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 3b. Query-level laws

/// Rows where `cond` holds, as row numbers (the records carry their number in `seq`).
fn rows_where(l: &Loaded, from: &str, cond: &str) -> Result<BTreeSet<i64>, TestCaseError> {
    let query = format!("SELECT seq FROM {from} WHERE {cond}");
    agree(l, &query)?;
    let rows = engine_answer(&l.fleet, &query)
        .map_err(|e| l.fail(format!("law query failed: {e}"), Some(&query)))?;
    // Every row must name itself: a row dropped here would break a law silently (a COUNT law
    // once failed with "1 vs 0 rows" and could not be replayed), so say which row it was.
    let mut seqs = BTreeSet::new();
    for r in &rows {
        // `seq` may be spelled `0e0` or `-0`: read it as a number, not as an integer.
        let seq = r.get("seq").and_then(Value::as_f64).map(|f| f as i64);
        match seq {
            Some(seq) if seqs.insert(seq) => {}
            _ => {
                return Err(l.fail(
                    format!("law query row without a unique `seq`: {r} (rows: {rows:?})"),
                    Some(&query),
                ))
            }
        }
    }
    Ok(seqs)
}

fn count_where(fleet: &Fleet, from: &str, cond: &str) -> Result<i64, String> {
    let query = format!("SELECT COUNT() AS n FROM {from} WHERE {cond}");
    let rows = engine_answer(fleet, &query)?;
    rows.first()
        .and_then(|r| r.get("n"))
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("no count from {query}"))
}

/// Numbers every record (`seq`, a member no query vocabulary names).
fn numbered(records: Vec<Value>) -> Vec<Value> {
    records
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            if let Value::Object(m) = &mut r {
                m.insert("seq".into(), Value::from(i));
            }
            r
        })
        .collect()
}

#[derive(Debug, Clone)]
struct LawCase {
    records: Vec<Value>,
    layout: Layout,
    from: &'static str,
    a: String,
    b: String,
    x: String,
    items: Vec<String>,
}

fn arb_law_case() -> impl Strategy<Value = LawCase> {
    (
        prop::collection::vec(arb_record(), 0..30),
        arb_layout(&[1, 64, DEFAULT_CHUNK]),
        prop::sample::select(&["devices", "devices.modules"][..]),
        arb_condition(),
        arb_condition(),
        arb_path(),
        prop::collection::vec(
            prop_oneof![3 => arb_literal(), 1 => arb_string_literal()],
            1..4,
        ),
    )
        .prop_map(|(records, layout, from, a, b, x, items)| LawCase {
            records: numbered(records),
            layout,
            from,
            a,
            b,
            x,
            items,
        })
}

fn check_laws(case: &LawCase) -> Result<(), TestCaseError> {
    let l = load(&case.records, &case.layout)?;
    let from = case.from;
    let rows = |cond: &str| rows_where(&l, from, cond);
    let (a, b) = (&case.a, &case.b);
    let law = |name: &str, left: &BTreeSet<i64>, right: &BTreeSet<i64>| {
        if left == right {
            Ok(())
        } else {
            Err(l.fail(
                format!("{name} fails: {left:?} vs {right:?}\n  A: {a}\n  B: {b}"),
                None,
            ))
        }
    };
    let ra = rows(a)?;
    let rb = rows(b)?;
    let not_a = rows(&format!("NOT ({a})"))?;
    let not_b = rows(&format!("NOT ({b})"))?;
    let and = rows(&format!("({a}) AND ({b})"))?;
    let or = rows(&format!("({a}) OR ({b})"))?;
    law(
        "A AND B = A & B",
        &and,
        &ra.intersection(&rb).copied().collect(),
    )?;
    law("A OR B = A | B", &or, &ra.union(&rb).copied().collect())?;
    law(
        "A and NOT A are disjoint",
        &ra.intersection(&not_a).copied().collect(),
        &BTreeSet::new(),
    )?;
    law("NOT NOT A = A", &rows(&format!("NOT (NOT ({a}))"))?, &ra)?;
    law(
        "NOT (A AND B) = NOT A OR NOT B",
        &rows(&format!("NOT (({a}) AND ({b}))"))?,
        &rows(&format!("NOT ({a}) OR NOT ({b})"))?,
    )?;
    law(
        "NOT (A AND B) = NOT A | NOT B",
        &rows(&format!("NOT (({a}) AND ({b}))"))?,
        &not_a.union(&not_b).copied().collect(),
    )?;
    law(
        "NOT (A OR B) = NOT A AND NOT B",
        &rows(&format!("NOT (({a}) OR ({b}))"))?,
        &rows(&format!("NOT ({a}) AND NOT ({b})"))?,
    )?;
    // COUNT() is answered from the bitmap's cardinality alone.
    let count =
        count_where(&l.fleet, from, &format!("({a}) AND ({b})")).map_err(|e| l.fail(e, None))?;
    if count != and.len() as i64 {
        return Err(l.fail(
            format!("COUNT() of A AND B is {count}, {} rows match", and.len()),
            Some(&format!("A: {a}\nB: {b}")),
        ));
    }

    let (x, items) = (&case.x, case.items.join(", "));
    let ors: Vec<String> = case.items.iter().map(|c| format!("{x} = {c}")).collect();
    let r_in = rows(&format!("{x} IN [{items}]"))?;
    let r_nin = rows(&format!("{x} NIN [{items}]"))?;
    law("x IN [..] = OR of x = c", &r_in, &rows(&ors.join(" OR "))?)?;
    law(
        "x NIN [..] = NOT (x IN [..])",
        &r_nin,
        &rows(&format!("NOT ({x} IN [{items}])"))?,
    )?;
    law(
        "x NOT IN [..] = x NIN [..]",
        &rows(&format!("{x} NOT IN [{items}]"))?,
        &r_nin,
    )?;
    law(
        "x IN [..] | x NIN [..] = IS_PRIMITIVE(x)",
        &r_in.union(&r_nin).copied().collect(),
        &rows(&format!("IS_PRIMITIVE({x})"))?,
    )?;
    let defined = rows(&format!("IS_DEFINED({x})"))?;
    if !r_nin.is_subset(&defined) {
        return Err(l.fail(
            format!("{x} NIN [{items}] matches rows where {x} is undefined"),
            None,
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 4b. Without indexes

const FILLER: &str = "filler-";

/// Enough records with distinct `tags.a` (numbers), `tags.b` and `deviceId` (strings) that those
/// columns get no index (over `twindex::index::MAX_INDEXED_VALUES` distinct values, strings
/// too many for a dictionary): queries on them take the residual, row-by-row path. The margin
/// covers rows whose repeated keys (a decoy first) keep values out of the columns.
fn fillers() -> Vec<Value> {
    (0..twindex::index::MAX_INDEXED_VALUES + 300)
        .map(|i| {
            let a = if i % 3 == 0 {
                Value::from(i as f64 / 4.0)
            } else {
                Value::from(i)
            };
            let status = ["enabled", "disabled"][i % 2];
            let region = ["x", "y", "Zürich"][i % 3];
            serde_json::json!({
                "deviceId": format!("{FILLER}{i}"),
                "status": status,
                "tags": {"a": a, "b": format!("b{i}"), "region": region},
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The properties

/// `base` cases, times `TWINDEX_PROPTEST_SCALE` (default 1) for longer runs by hand:
/// `TWINDEX_PROPTEST_SCALE=20 cargo test --release --test it props`.
fn config(base: u32) -> ProptestConfig {
    let scale: f64 = std::env::var("TWINDEX_PROPTEST_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ProptestConfig::with_cases((f64::from(base) * scale).max(1.0) as u32)
}

proptest! {
    #![proptest_config(config(300))]

    /// 1 and 2: the store holds exactly the normalised twins, in every layout.
    #[test]
    fn store_reconstructs_the_reference_twins(
        records in arb_fleet(),
        layout in arb_layout(&[1, 64, 300, DEFAULT_CHUNK]),
    ) {
        let loaded = load(&records, &layout)?;
        check_reconstruction(&loaded)?;
        check_columns(&loaded)?;
    }

    /// 3: every index entry is the scan of its column; eq, range and prefix are scans.
    #[test]
    fn index_bitmaps_are_scans(
        records in arb_fleet(),
        layout in arb_layout(&[1, 64, DEFAULT_CHUNK]),
    ) {
        check_index_laws(&load(&records, &layout)?)?;
    }
}

proptest! {
    #![proptest_config(config(400))]

    /// 3b: AND, OR, NOT, IN and NIN obey their laws, and every law query agrees with the
    /// reference.
    #[test]
    fn query_laws_hold(case in arb_law_case()) {
        check_laws(&case)?;
    }
}

proptest! {
    #![proptest_config(config(3000))]

    /// 4: the engine answers every generated query exactly as the reference does.
    #[test]
    fn engine_matches_reference(
        records in arb_fleet(),
        layout in arb_layout(&[DEFAULT_CHUNK]),
        query in arb_query_or_broken(),
    ) {
        agree(&load(&records, &layout)?, &query)?;
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// 4, with every record (or every few) in its own chunk, so merged columns are queried;
    /// and read page by page (`Fleet::query_page`), the same results.
    #[test]
    fn engine_matches_reference_with_tiny_chunks(
        records in arb_fleet(),
        layout in arb_layout(&[1, 64]),
        query in arb_query_or_broken(),
        page_size in 1usize..12,
    ) {
        let l = load(&records, &layout)?;
        agree(&l, &query)?;
        check_pages(&l, &query, page_size)?;
    }
}

/// 5: the query generator is not vacuous: nearly every query plans, and many filters match.
#[test]
fn generated_queries_are_mostly_valid_and_hit_data() {
    let mut runner = TestRunner::deterministic();
    let layout = Layout {
        array: false,
        pretty: false,
        crlf: false,
        bom: false,
        blank_lines: false,
        files: 1,
        chunk_bytes: DEFAULT_CHUNK,
        spelling: None,
        decorated: false,
        gzip: false,
        via_files: false,
        defer_metadata: true,
    };
    let (mut valid, mut with_filter, mut filter_hits, total) = (0, 0, 0, 1000);
    let mut fleet = None;
    for i in 0..total {
        if i % 10 == 0 {
            // A new fleet every ten queries.
            let records = arb_fleet()
                .new_tree(&mut runner)
                .expect("strategy")
                .current();
            fleet = Some(
                load(&records, &layout)
                    .expect("generated fleets load")
                    .fleet,
            );
        }
        let fleet = fleet.as_ref().expect("made above");
        let query = arb_query_sql()
            .new_tree(&mut runner)
            .expect("strategy")
            .current();
        if fleet.query(&query).is_ok() {
            valid += 1;
        }
        if sql::parse(&query).is_ok_and(|q| q.filter.is_some()) {
            with_filter += 1;
            if fleet.explain(&query).is_ok_and(|e| e.filter.matched > 0) {
                filter_hits += 1;
            }
        }
    }
    let valid_ratio = valid as f64 / total as f64;
    let hit_ratio = filter_hits as f64 / with_filter.max(1) as f64;
    eprintln!(
        "generated queries: {valid}/{total} valid ({:.1}%); WHERE matched some row in \
         {filter_hits}/{with_filter} ({:.1}%)",
        100.0 * valid_ratio,
        100.0 * hit_ratio
    );
    assert!(
        valid_ratio >= 0.8,
        "only {valid}/{total} generated queries plan"
    );
    assert!(
        hit_ratio >= 0.2,
        "only {filter_hits}/{with_filter} filters match any row"
    );
}

proptest! {
    #![proptest_config(config(60))]

    /// 4, over columns too varied to index: filters run row by row on candidate rows.
    #[test]
    fn engine_matches_reference_without_indexes(
        records in arb_fleet(),
        layout in arb_layout(&[4 << 10, DEFAULT_CHUNK]),
        queries in prop::collection::vec(arb_query_sql(), 12),
    ) {
        let l = load(&in_the_middle(records, fillers()), &layout)?;
        for path in [&["tags", "a"][..], &["tags", "b"], &["deviceId"]] {
            let col = l.store().column_exact(path);
            prop_assert!(
                col.is_some_and(|c| c.index().is_none()),
                "{path:?} is indexed: the premise of this property is gone"
            );
        }
        for q in &queries {
            agree(&l, q)?;
        }
    }
}

/// `records` with `fillers` between their two halves (so that chunks of either kind meet).
fn in_the_middle(mut records: Vec<Value>, fillers: Vec<Value>) -> Vec<Value> {
    let tail = records.split_off(records.len() / 2);
    records.extend(fillers);
    records.extend(tail);
    records
}

/// Records whose `deviceId`, `moduleId`, `tags.b`, `tags.B` and `tags.uid` are nearly unique
/// strings (no dictionary, no value index: they answer from sorted strings), with numbers,
/// timestamps, `null`, objects and arrays at the same paths every few records, modules among
/// the devices, and ids that share prefixes at every length.
fn nearly_unique_fillers() -> Vec<Value> {
    (0..3 * twindex::index::MAX_INDEXED_VALUES)
        .map(|i| {
            let b = match i % 17 {
                0 => serde_json::json!(i),
                3 => Value::from("2024-05-01T12:34:56.5Z"),
                5 => serde_json::json!({ "x": i }),
                7 => serde_json::json!([i]),
                11 => Value::Null,
                13 => Value::from(format!("2024-05-01T12:34:{:02}Z", i % 60)),
                _ => Value::from(format!("u-{i}")),
            };
            let mut tags = serde_json::json!({ "uid": format!("u-{}", i * 7 % 2000) });
            if i % 5 == 0 {
                tags["B"] = Value::from(format!("é-{i}"));
            } else {
                tags["b"] = b;
            }
            // Every other record is a module of the device before it.
            let device = i - i % 2;
            let mut r = serde_json::json!({
                "deviceId": format!("{FILLER}{device}"),
                "tags": tags,
            });
            if i % 2 == 1 {
                r["moduleId"] = Value::from(format!("mod-{i}"));
            }
            if i % 3 == 0 {
                r["lastActivityTime"] =
                    Value::from(format!("2024-05-01T12:34:{:02}.{}Z", i % 60, i));
            }
            r
        })
        .collect()
}

proptest! {
    #![proptest_config(config(40))]

    /// 4, over nearly unique string columns: `STARTSWITH`, string comparisons and `IN` answer
    /// from sorted strings (built on first use) and must be exactly the reference's answer,
    /// in either collection, negated, and combined with anything else.
    #[test]
    fn sorted_strings_match_reference(
        records in arb_fleet(),
        layout in arb_layout(&[4 << 10, DEFAULT_CHUNK]),
        queries in prop::collection::vec(arb_nearly_unique_query(), 16),
    ) {
        let l = load(&in_the_middle(records, nearly_unique_fillers()), &layout)?;
        for path in [&["deviceId"][..], &["moduleId"], &["tags", "b"], &["tags", "uid"]] {
            let col = l.store().column_exact(path);
            prop_assert!(
                col.is_some_and(|c| c.index().is_none() && c.sorted_strings().is_some()),
                "{path:?} is indexed or holds no string: the premise of this property is gone"
            );
        }
        for q in &queries {
            agree(&l, q)?;
        }
    }
}

proptest! {
    #![proptest_config(config(1000))]

    /// 4, for `COUNT()` of one indexed predicate, and `GROUP BY` one key with `COUNT()`,
    /// over a whole collection: answered from the sizes (and first rows) of index entries
    /// split between modules and devices, without bitmaps. Fleets without irregular rows, so
    /// that the shortcuts apply.
    #[test]
    fn counts_from_index_entries_match_reference(
        records in arb_fleet(),
        layout in arb_layout(&[DEFAULT_CHUNK]),
        queries in prop::collection::vec(
            prop_oneof![arb_count_query(), arb_group_count_query()],
            8,
        ),
    ) {
        // Drop the records that load as irregular rows (keys colliding by case, and the
        // other rows the store reads from their twins), then load the rest.
        let irregular = load(&records, &layout)?.store().irregular().clone();
        let regular: Vec<Value> = records
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !irregular.contains(*i as u32))
            .map(|(_, r)| r)
            .collect();
        let l = load(&regular, &layout)?;
        prop_assert!(l.store().irregular().is_empty(), "a row is irregular");
        for q in &queries {
            agree(&l, q)?;
        }
    }
}

/// More matching rows than one partition of the parallel filter, grouping and ordering
/// (`twindex::exec`), so partial results are merged: the first row of a group, `MIN`/`MAX`
/// ties (`5` before `5.0`), exact sums and stable order must not depend on the split.
const MANY_ROWS: usize = 33_000;

proptest! {
    // One case per run (ten with TWINDEX_PROPTEST_SCALE=10): each loads 33,000 rows.
    #![proptest_config(config(1))]

    /// 4, over a fleet repeated to more rows than one parallel partition.
    #[test]
    fn engine_matches_reference_over_many_partitions(
        records in prop::collection::vec(arb_record(), 1..24),
        layout in arb_layout(&[DEFAULT_CHUNK, 256 << 10]),
        queries in prop::collection::vec(arb_query_sql(), 8),
    ) {
        let k = records.len();
        let all: Vec<Value> = records.iter().cycle().take(MANY_ROWS).cloned().collect();
        let mut l = load(&all, &layout)?;
        l.cycle = Some(k);
        for q in &queries {
            agree(&l, q)?;
        }
    }
}
