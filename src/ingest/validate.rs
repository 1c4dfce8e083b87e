//! Content rules of SPEC §1.3, checked on the parser's tape while loading.
//!
//! A record that breaks a rule is still loaded (real exports are what they are); the finding is
//! counted and the first few are reported with file, line, byte offset, path and rule.
//! `--strict` turns the first finding into an error.

use std::fmt;

use simd_json::{Node, StaticNode};

use super::normalise::{object_members, span, Member};

/// Which rule a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// The record could not be loaded at all (not JSON, not an object, not data).
    Skipped,
    DeviceId,
    ModuleId,
    KeyName,
    StringTooLong,
    NumberRange,
    NullInArray,
    TooDeep,
    SectionTooLarge,
}

impl Rule {
    /// Every rule (a snapshot stores rule names and maps them back through this).
    pub const ALL: [Rule; 9] = [
        Rule::Skipped,
        Rule::DeviceId,
        Rule::ModuleId,
        Rule::KeyName,
        Rule::StringTooLong,
        Rule::NumberRange,
        Rule::NullInArray,
        Rule::TooDeep,
        Rule::SectionTooLarge,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::Skipped => "skipped",
            Rule::DeviceId => "device-id",
            Rule::ModuleId => "module-id",
            Rule::KeyName => "key-name",
            Rule::StringTooLong => "string-too-long",
            Rule::NumberRange => "number-range",
            Rule::NullInArray => "null-in-array",
            Rule::TooDeep => "too-deep",
            Rule::SectionTooLarge => "section-too-large",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A problem found in one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Index of the input in the load.
    pub file: u32,
    /// Byte offset of the record's first byte in its input.
    pub byte: u64,
    /// 1-based line of the record's first byte (filled in after the parallel parse).
    pub line: u64,
    pub rule: Rule,
    /// Dotted path within the twin, empty for whole-record problems.
    pub path: String,
    pub detail: String,
}

const MAX_ID_CHARS: usize = 128;
const MAX_KEY_BYTES: usize = 1024;
pub(super) const MAX_STRING_BYTES: usize = 4096;
/// Object depth allowed below `tags`, `desired` and `reported`.
pub(super) const MAX_DEPTH: usize = 10;
pub(super) const MAX_SAFE_INT: f64 = 4_503_599_627_370_496.0; // 2^52
pub(super) const TAGS_LIMIT: usize = 8 * 1024;
pub(super) const PROPERTY_LIMIT: usize = 32 * 1024;

type Out = Vec<(Rule, String, String)>;

/// Checks one normalised record.
pub fn record(members: &[Member<'_, '_>], out: &mut Out) {
    let id = members.iter().find(|m| m.key == "deviceId");
    match id.map(|m| &m.value[0]) {
        Some(Node::String(s)) => check_id(s, Rule::DeviceId, "deviceId", out),
        Some(_) => out.push((
            Rule::DeviceId,
            "deviceId".into(),
            "deviceId is not a string".into(),
        )),
        None => out.push((
            Rule::DeviceId,
            "deviceId".into(),
            "record has no deviceId (or id)".into(),
        )),
    }
    if let Some(m) = members.iter().find(|m| m.key == "moduleId") {
        match &m.value[0] {
            Node::String(s) => check_id(s, Rule::ModuleId, "moduleId", out),
            _ => out.push((
                Rule::ModuleId,
                "moduleId".into(),
                "moduleId is not a string".into(),
            )),
        }
    }
    for m in members {
        match m.key {
            "tags" => section(m.value, "tags", TAGS_LIMIT, out),
            "properties" => {
                for (k, v) in object_members(m.value) {
                    match k {
                        "desired" => section(v, "properties.desired", PROPERTY_LIMIT, out),
                        "reported" => section(v, "properties.reported", PROPERTY_LIMIT, out),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

fn check_id(s: &str, rule: Rule, path: &str, out: &mut Out) {
    if id_allowed(s) {
        return;
    }
    let n = s.chars().count();
    if n == 0 || n > MAX_ID_CHARS {
        out.push((
            rule,
            path.into(),
            format!("{path} must be 1-128 characters, has {n}"),
        ));
    } else if let Some(c) = s.chars().find(|c| !is_id_char(*c)) {
        out.push((
            rule,
            path.into(),
            format!("{path} has a character that is not allowed: {c:?}"),
        ));
    }
}

/// The punctuation SPEC §1.3 allows in ids, besides ASCII letters and digits.
const ID_PUNCTUATION: &str = "-:.+%_#*?!(),=@;$'";

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ID_PUNCTUATION.contains(c)
}

/// `is_id_char` by byte (false for every non-ASCII byte).
const ID_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let p = ID_PUNCTUATION.as_bytes();
    let mut i = 0;
    while i < p.len() {
        table[p[i] as usize] = true;
        i += 1;
    }
    table
};

/// Checks a `tags`, `desired` or `reported` section: key names, values, depth and size.
fn section(tape: &[Node<'_>], root: &str, limit: usize, out: &mut Out) {
    let mut path = PathStack::default();
    let size = walk(tape, root, &mut path, 0, out);
    if size > limit {
        out.push((
            Rule::SectionTooLarge,
            root.into(),
            format!("{root} is {size} bytes as compact JSON, over the {limit}-byte limit"),
        ));
    }
}

/// One step from a section's root to a value: a member name or an array position.
#[derive(Clone, Copy)]
enum Step<'t> {
    Key(&'t str),
    Index(u32),
}

/// Steps a path holds without allocating: objects deeper than [`MAX_DEPTH`] are not entered,
/// so this covers every path but those with more than a few arrays nested along them.
const INLINE_STEPS: usize = MAX_DEPTH + 6;

/// The steps from a section's root down to the current value, in a fixed array that spills
/// into a `Vec` only for paths with many nested arrays, so clean records of ordinary shape
/// allocate nothing (a `Vec` here was 7% of a load's instructions).
struct PathStack<'t> {
    inline: [Step<'t>; INLINE_STEPS],
    len: usize,
    spill: Vec<Step<'t>>,
}

impl Default for PathStack<'_> {
    fn default() -> Self {
        PathStack {
            inline: [Step::Index(0); INLINE_STEPS],
            len: 0,
            spill: Vec::new(),
        }
    }
}

impl<'t> PathStack<'t> {
    fn push(&mut self, step: Step<'t>) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = step,
            None => self.spill.push(step),
        }
        self.len += 1;
    }

    fn pop(&mut self) {
        self.len -= 1;
        if self.len >= INLINE_STEPS {
            self.spill.pop();
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn steps(&self) -> impl Iterator<Item = &Step<'t>> {
        self.inline[..self.len.min(INLINE_STEPS)]
            .iter()
            .chain(&self.spill)
    }
}

/// The path of a finding (`tags.a.b[0][1]`); built only when there is one.
fn dotted(root: &str, path: &PathStack<'_>) -> String {
    use std::fmt::Write;
    let mut s = root.to_string();
    for step in path.steps() {
        match step {
            Step::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Step::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

/// Validates a value and returns its approximate compact-JSON size (escapes count one byte).
/// `$metadata` and `$version` at a section's root are system members: not checked, not counted.
/// `depth` counts the objects above the value (arrays do not count); the section itself is 0.
fn walk<'t>(
    tape: &'t [Node<'_>],
    root: &str,
    path: &mut PathStack<'t>,
    depth: usize,
    out: &mut Out,
) -> usize {
    match tape[0] {
        Node::String(s) => {
            if s.len() > MAX_STRING_BYTES {
                out.push((
                    Rule::StringTooLong,
                    dotted(root, path),
                    format!("string of {} bytes, over the 4096-byte limit", s.len()),
                ));
            }
            s.len() + 2
        }
        Node::Static(StaticNode::I64(n)) => {
            if (n as f64).abs() > MAX_SAFE_INT {
                out.push((
                    Rule::NumberRange,
                    dotted(root, path),
                    format!("integer {n} is outside ±2^52"),
                ));
            }
            20
        }
        Node::Static(StaticNode::U64(n)) => {
            if n as f64 > MAX_SAFE_INT {
                out.push((
                    Rule::NumberRange,
                    dotted(root, path),
                    format!("integer {n} is outside ±2^52"),
                ));
            }
            20
        }
        // Every f64 beyond 2^52 is integral, so such a float breaks the rule too (integers
        // longer than 64 bits arrive here as floats).
        Node::Static(StaticNode::F64(x)) => {
            if x.abs() > MAX_SAFE_INT {
                out.push((
                    Rule::NumberRange,
                    dotted(root, path),
                    format!("number {x:e} is outside ±2^52"),
                ));
            }
            20
        }
        Node::Static(_) => 5,
        Node::Array { len, .. } => {
            let mut size = 2;
            let mut i = 1;
            for k in 0..len {
                let n = span(&tape[i..]);
                path.push(Step::Index(k as u32));
                if matches!(tape[i], Node::Static(StaticNode::Null)) {
                    out.push((
                        Rule::NullInArray,
                        dotted(root, path),
                        "arrays may not contain null".into(),
                    ));
                }
                size += 1 + walk(&tape[i..i + n], root, path, depth, out);
                path.pop();
                i += n;
            }
            size
        }
        Node::Object { .. } => {
            if depth >= MAX_DEPTH {
                out.push((
                    Rule::TooDeep,
                    dotted(root, path),
                    format!("object nested deeper than {MAX_DEPTH} levels"),
                ));
                return 2;
            }
            let mut size = 2;
            for (key, value) in object_members(tape) {
                if path.is_empty() && (key == "$metadata" || key == "$version") {
                    continue;
                }
                path.push(Step::Key(key));
                check_key(key, root, path, out);
                size += key.len() + 4 + walk(value, root, path, depth + 1, out);
                path.pop();
            }
            size
        }
    }
}

fn check_key(key: &str, root: &str, path: &PathStack<'_>, out: &mut Out) {
    if let Some(p) = key_problem(key) {
        out.push((Rule::KeyName, dotted(root, path), p));
    }
}

/// What is wrong with a member name inside a section, if anything.
fn key_problem(key: &str) -> Option<String> {
    if key.len() > MAX_KEY_BYTES {
        Some("key is longer than 1 KB".to_string())
    } else if key.is_empty() {
        Some("key is empty".to_string())
    } else if key
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_control() && !matches!(b, b'.' | b'$' | b' '))
    {
        // Nearly every key: plain ASCII, checked a byte at a time.
        None
    } else {
        key.chars()
            .find(|c| c.is_control() || matches!(c, '.' | '$' | ' '))
            .map(|c| format!("key has a character that is not allowed: {c:?}"))
    }
}

/// Whether a member name inside a section breaks no rule (the fast path asks once per key).
pub(super) fn key_allowed(key: &str) -> bool {
    key_problem(key).is_none()
}

/// Whether a `deviceId` or `moduleId` string breaks no rule.
pub(super) fn id_allowed(s: &str) -> bool {
    // Nearly every id: ASCII, 1-128 bytes, allowed characters, by table lookup. Every other
    // string breaks the rule: a non-ASCII character is never allowed.
    (1..=MAX_ID_CHARS).contains(&s.len()) && s.bytes().all(|b| ID_BYTES[usize::from(b)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_byte_table_is_the_character_rule() {
        for b in 0..=255u8 {
            let want = b.is_ascii() && is_id_char(char::from(b));
            assert_eq!(ID_BYTES[usize::from(b)], want, "byte {b:#04x}");
        }
    }

    #[test]
    fn ids_are_checked_on_both_paths() {
        let check = |s: &str| {
            let mut out = Vec::new();
            check_id(s, Rule::DeviceId, "deviceId", &mut out);
            out.into_iter().map(|(_, _, d)| d).collect::<Vec<_>>()
        };
        assert!(check("dev-01:a.b+c%d_e#f*g?h!i(j)k,l=m@n;o$p'q").is_empty());
        assert_eq!(check(""), ["deviceId must be 1-128 characters, has 0"]);
        assert_eq!(
            check(&"a".repeat(129)),
            ["deviceId must be 1-128 characters, has 129"]
        );
        assert_eq!(
            check("dev 1"),
            ["deviceId has a character that is not allowed: ' '"]
        );
        assert_eq!(
            check("gerät"),
            ["deviceId has a character that is not allowed: 'ä'"]
        );
    }
}
