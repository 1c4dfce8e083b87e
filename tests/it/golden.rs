//! Golden query tests: `tests/golden/*.sql` against the fleets in `tests/fixtures/`.
//!
//! # File format
//!
//! A file holds cases separated by a line `====`. A case is:
//!
//! ```text
//! # optional comment lines: what the case is about (the first one names the case)
//! fixture: fleet
//! SELECT deviceId FROM devices
//!   WHERE tags.tier = 'gold'
//! ----
//! [
//!   {
//!     "deviceId": "d1"
//!   }
//! ]
//! ```
//!
//! The expectation after `----` is either the result as a JSON array (compared as values *and*
//! as serialized text, so key order and `5` versus `5.0` matter) or a query error as rendered by
//! `QueryError::render`, which begins with `error:`.
//!
//! A fixture `NAME` is `tests/fixtures/NAME.jsonl` or `NAME.json`, read as SPEC §1 says (a JSON
//! array when the first non-blank byte is `[`, else JSON Lines skipping lines that do not start
//! with `{`) and normalised record by record.
//!
//! `TWINDEX_BLESS=1 cargo test --test it golden` rewrites every expectation with the reference's
//! output. The goldens are the contract: check every blessed change by hand.
//!
//! Any engine with the shape of [`Engine`] can be held to the same files with [`run_all`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use twindex::{reference, sql};

/// An engine under test: fixture path and query text in, the result array or the rendered
/// query error out.
pub type Engine<'a> = dyn Fn(&Path, &str) -> Result<Value, String> + 'a;

/// One golden case.
#[derive(Debug, Clone)]
pub struct Case {
    pub file: PathBuf,
    /// 1-based line of the `fixture:` line.
    pub line: usize,
    pub comments: Vec<String>,
    pub fixture: String,
    pub query: String,
    pub expected: String,
}

impl Case {
    fn title(&self) -> String {
        let name = self.file.file_name().unwrap_or_default().to_string_lossy();
        match self.comments.first() {
            Some(c) => format!(
                "{name}:{} ({})",
                self.line,
                c.trim_start_matches('#').trim()
            ),
            None => format!("{name}:{}", self.line),
        }
    }

    pub fn fixture_path(&self) -> PathBuf {
        fixture_path(&self.fixture)
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

pub fn fixture_path(name: &str) -> PathBuf {
    let jsonl = root().join("fixtures").join(format!("{name}.jsonl"));
    if jsonl.exists() {
        jsonl
    } else {
        root().join("fixtures").join(format!("{name}.json"))
    }
}

/// Reads and normalises a fixture fleet.
pub fn load_fixture(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = text.trim_start_matches('\u{feff}');
    let records: Vec<Value> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(|e| format!("{}: {e}", path.display()))?
    } else {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if !line.trim_start().starts_with('{') {
                continue;
            }
            out.push(
                serde_json::from_str(line)
                    .map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?,
            );
        }
        out
    };
    Ok(records.into_iter().map(reference::normalise).collect())
}

/// The reference engine: parse with `sql::parse`, evaluate with `reference::evaluate`.
pub fn reference_engine(fixture: &Path, query: &str) -> Result<Value, String> {
    let twins = load_fixture(fixture).map_err(|e| format!("fixture: {e}"))?;
    let parsed = sql::parse(query).map_err(|e| e.render(query))?;
    let rows = reference::evaluate(&parsed, &twins).map_err(|e| e.render(query))?;
    Ok(Value::Array(rows))
}

/// Parses one golden file.
pub fn parse_file(file: &Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut cases = Vec::new();
    let mut block: Vec<(usize, &str)> = Vec::new();
    let lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    for (no, line) in lines.chain(std::iter::once((0, "===="))) {
        if line.trim_end() != "====" {
            block.push((no, line));
            continue;
        }
        let lines = std::mem::take(&mut block);
        if lines.iter().all(|(_, l)| l.trim().is_empty()) {
            continue;
        }
        cases.push(parse_case(file, &lines)?);
    }
    Ok(cases)
}

fn parse_case(file: &Path, lines: &[(usize, &str)]) -> Result<Case, String> {
    let mut it = lines
        .iter()
        .copied()
        .skip_while(|(_, l)| l.trim().is_empty());
    let mut comments = Vec::new();
    let (line, fixture) = loop {
        match it.next() {
            Some((_, l)) if l.starts_with('#') => comments.push(l.to_string()),
            Some((no, l)) => match l.strip_prefix("fixture:") {
                Some(name) => break (no, name.trim().to_string()),
                None => return Err(format!("{}:{no}: expected `fixture: NAME`", file.display())),
            },
            None => return Err(format!("{}: case without a fixture line", file.display())),
        }
    };
    let mut query = Vec::new();
    let mut found_sep = false;
    for (_, l) in it.by_ref() {
        if l.trim_end() == "----" {
            found_sep = true;
            break;
        }
        query.push(l);
    }
    if !found_sep {
        return Err(format!("{}:{line}: case without `----`", file.display()));
    }
    let expected: Vec<&str> = it.map(|(_, l)| l).collect();
    Ok(Case {
        file: file.to_path_buf(),
        line,
        comments,
        fixture,
        query: query.join("\n").trim().to_string(),
        expected: expected.join("\n").trim().to_string(),
    })
}

fn render_file(cases: &[Case]) -> String {
    let mut out = String::new();
    for (i, c) in cases.iter().enumerate() {
        if i > 0 {
            out.push_str("====\n");
        }
        for comment in &c.comments {
            let _ = writeln!(out, "{comment}");
        }
        let _ = writeln!(out, "fixture: {}", c.fixture);
        let _ = writeln!(out, "{}", c.query);
        out.push_str("----\n");
        let _ = writeln!(out, "{}", c.expected);
    }
    out
}

/// The text an outcome is written as in a golden file.
pub fn outcome_text(outcome: &Result<Value, String>) -> String {
    match outcome {
        Ok(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        Err(e) => e.trim_end().to_string(),
    }
}

/// Runs one case; `Err` describes the mismatch.
pub fn run_case(case: &Case, engine: &Engine<'_>) -> Result<(), String> {
    let outcome = engine(&case.fixture_path(), &case.query);
    let matches = if case.expected.starts_with("error:") {
        matches!(&outcome, Err(e) if e.trim_end() == case.expected)
    } else {
        match (serde_json::from_str::<Value>(&case.expected), &outcome) {
            (Ok(want), Ok(got)) => {
                want == *got && serde_json::to_string(&want).ok() == serde_json::to_string(got).ok()
            }
            (Err(e), _) => {
                return Err(format!(
                    "{}: the expectation is not JSON: {e}",
                    case.title()
                ))
            }
            _ => false,
        }
    };
    if matches {
        Ok(())
    } else {
        Err(format!(
            "{}\nquery:\n{}\n--- expected\n{}\n--- actual\n{}\n",
            case.title(),
            case.query,
            case.expected,
            outcome_text(&outcome)
        ))
    }
}

/// Every golden file, sorted by name.
pub fn golden_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("golden"))
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs every case of every file against `engine`; returns (cases run, failures).
pub fn run_all(engine: &Engine<'_>) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut count = 0;
    for file in golden_files() {
        match parse_file(&file) {
            Ok(cases) => {
                for case in &cases {
                    count += 1;
                    if let Err(f) = run_case(case, engine) {
                        failures.push(f);
                    }
                }
            }
            Err(e) => failures.push(e),
        }
    }
    (count, failures)
}

fn bless(engine: &Engine<'_>) {
    for file in golden_files() {
        let mut cases = parse_file(&file).unwrap_or_else(|e| panic!("{e}"));
        for case in &mut cases {
            case.expected = outcome_text(&engine(&case.fixture_path(), &case.query));
        }
        std::fs::write(&file, render_file(&cases)).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn golden_files_parse_and_fixtures_load() {
    let files = golden_files();
    assert!(!files.is_empty(), "no golden files");
    for file in files {
        let cases = parse_file(&file).unwrap_or_else(|e| panic!("{e}"));
        for case in cases {
            load_fixture(&case.fixture_path()).unwrap_or_else(|e| panic!("{}: {e}", case.title()));
            assert!(!case.query.is_empty(), "{}: empty query", case.title());
            assert!(
                !case.expected.is_empty(),
                "{}: empty expectation",
                case.title()
            );
        }
    }
}

#[test]
fn file_format_round_trips() {
    for file in golden_files() {
        let cases = parse_file(&file).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert_eq!(
            render_file(&cases),
            text,
            "{} is not in canonical form (blessing would rewrite it)",
            file.display()
        );
    }
}

#[test]
fn golden_reference() {
    if std::env::var_os("TWINDEX_BLESS").is_some_and(|v| v == "1") {
        bless(&reference_engine);
    }
    let (count, failures) = run_all(&reference_engine);
    assert!(
        failures.is_empty(),
        "{} of {count} golden cases failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{count} golden cases passed");
}
