//! Normalisation on the parser's tape: which top-level members a record has under twin names
//! (SPEC §1.2), without building a DOM. The column builder and the twin rebuilder both start
//! from [`members`], so what `SELECT *` shows and what queries see cannot drift apart.

use simd_json::{Node, StaticNode};

use crate::model;

/// A top-level member of the normalised twin: its twin name and the tape slice of its value.
pub struct Member<'t, 'i> {
    pub key: &'t str,
    pub value: &'t [Node<'i>],
}

/// The number of tape nodes the value starting at `tape[0]` spans.
#[inline]
pub fn span(tape: &[Node<'_>]) -> usize {
    match tape[0] {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

/// The members of an object node as (key, value slice), in document order.
pub fn object_members<'t, 'i>(
    tape: &'t [Node<'i>],
) -> impl Iterator<Item = (&'t str, &'t [Node<'i>])> + Clone {
    let len = match tape[0] {
        Node::Object { len, .. } => len,
        _ => 0,
    };
    let mut i = 1;
    (0..len).map(move |_| {
        let key = match &tape[i] {
            Node::String(s) => *s,
            _ => "",
        };
        let n = span(&tape[i + 1..]);
        let value = &tape[i + 1..i + 1 + n];
        i += 1 + n;
        (key, value)
    })
}

/// The top-level members of a record under twin names, in document order (`SELECT *` order is
/// applied by the caller). Errors when the record is not a JSON object.
///
/// Export shape (has `id`, no `deviceId`): `id`, `eTag`, `twinETag` are renamed, unless the
/// line already carries the twin name, which then wins and the export member is dropped. In
/// both shapes `authentication.type` / `authentication.x509Thumbprint` fill
/// `authenticationType` / `x509Thumbprint` when the record has no member of that name, and
/// `authentication` (with its secret keys) and `importMode` never survive. These are the
/// reference's rules (`crate::reference`), implemented here on the tape.
pub fn members<'t, 'i>(
    tape: &'t [Node<'i>],
    out: &mut Vec<Member<'t, 'i>>,
) -> Result<(), &'static str> {
    out.clear();
    if !matches!(tape.first(), Some(Node::Object { .. })) {
        return Err("record is not a JSON object");
    }
    // One pass to learn the shape and which twin names are present (bit i: TWIN_NAMES[i]).
    let (mut has_id, mut has_device_id, mut present) = (false, false, 0u32);
    for (k, _) in object_members(tape) {
        match k {
            "id" => has_id = true,
            "deviceId" => has_device_id = true,
            _ => {}
        }
        if let Some(i) = TWIN_NAMES.iter().position(|n| *n == k) {
            present |= 1 << i;
        }
    }
    let export = has_id && !has_device_id;
    let has = |name: &str| {
        TWIN_NAMES
            .iter()
            .position(|n| *n == name)
            .is_some_and(|i| present & (1 << i) != 0)
    };
    // Like any JSON reader that builds a map, only the last of repeated `authentication`
    // members counts.
    let last_auth = object_members(tape)
        .enumerate()
        .filter(|(_, (k, _))| *k == "authentication")
        .last()
        .map(|(i, _)| i);
    for (i, (key, value)) in object_members(tape).enumerate() {
        if model::EXPORT_DROPPED.contains(&key) {
            if key == "authentication" && Some(i) == last_auth {
                for (k, v) in object_members(value) {
                    let twin = match k {
                        "type" => "authenticationType",
                        "x509Thumbprint" => "x509Thumbprint",
                        _ => continue,
                    };
                    if !has(twin) {
                        out.push(Member {
                            key: twin,
                            value: v,
                        });
                    }
                }
            }
            continue;
        }
        if export {
            if let Some((_, twin)) = model::EXPORT_RENAMES.iter().find(|(e, _)| *e == key) {
                if !has(twin) {
                    out.push(Member { key: twin, value });
                }
                continue;
            }
        }
        out.push(Member { key, value });
    }
    Ok(())
}

/// Twin names whose presence decides whether an export member fills them.
const TWIN_NAMES: &[&str] = &[
    "deviceId",
    "deviceEtag",
    "etag",
    "authenticationType",
    "x509Thumbprint",
];

/// Converts a tape value to a `serde_json::Value` (objects keep document order; a repeated key
/// keeps its first position and its last value, as serde_json does).
pub fn to_json(tape: &[Node<'_>]) -> serde_json::Value {
    use serde_json::Value;
    match tape[0] {
        Node::String(s) => Value::String(s.to_string()),
        Node::Static(s) => static_to_json(s),
        Node::Object { len, .. } => {
            let mut map = serde_json::Map::with_capacity(len);
            for (k, v) in object_members(tape) {
                map.insert(k.to_string(), to_json(v));
            }
            Value::Object(map)
        }
        Node::Array { len, .. } => {
            let mut items = Vec::with_capacity(len);
            let mut i = 1;
            for _ in 0..len {
                let n = span(&tape[i..]);
                items.push(to_json(&tape[i..i + n]));
                i += n;
            }
            Value::Array(items)
        }
    }
}

pub fn static_to_json(s: StaticNode) -> serde_json::Value {
    use serde_json::Value;
    match s {
        StaticNode::Null => Value::Null,
        StaticNode::Bool(b) => Value::Bool(b),
        StaticNode::I64(n) => Value::from(n),
        StaticNode::U64(n) => Value::from(n),
        StaticNode::F64(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
    }
}

/// The normalised twin: members in `SELECT *` order (SPEC §2.4), then the rest in document order.
pub fn twin_json(members: &[Member<'_, '_>]) -> serde_json::Value {
    let mut map = serde_json::Map::with_capacity(members.len());
    for name in model::TWIN_KEY_ORDER {
        for m in members.iter().filter(|m| m.key == *name) {
            map.insert(m.key.to_string(), to_json(m.value));
        }
    }
    for m in members {
        if model::twin_key_rank(m.key).is_none() {
            map.insert(m.key.to_string(), to_json(m.value));
        }
    }
    serde_json::Value::Object(map)
}

/// Writes the normalised twin as compact JSON text, byte for byte what serializing
/// [`twin_json`] gives, without building values: `SELECT *` output is mostly this. Returns
/// `false` when an object repeats a key (a map keeps its first position and last value): the
/// caller then truncates `out` and goes through [`twin_json`].
pub fn write_twin(members: &[Member<'_, '_>], out: &mut Vec<u8>) -> bool {
    // Each member's place: (rank in `SELECT *` order, or past them all; document position),
    // ranked once per member instead of matching every name against every member.
    const INLINE: usize = 48;
    let unranked = model::TWIN_KEY_ORDER.len() as u32;
    let mut inline = [(0u32, 0u32); INLINE];
    let mut spill = Vec::new();
    let order: &mut [(u32, u32)] = if members.len() <= INLINE {
        &mut inline[..members.len()]
    } else {
        spill.resize(members.len(), (0, 0));
        &mut spill
    };
    for (i, (slot, m)) in order.iter_mut().zip(members).enumerate() {
        let rank = model::twin_key_rank(m.key).map_or(unranked, |r| r as u32);
        *slot = (rank, i as u32);
    }
    order.sort_unstable();
    // A twin name twice, or another key twice: the map rules apply.
    if order
        .windows(2)
        .any(|w| w[0].0 == w[1].0 && w[0].0 < unranked)
        || has_repeats(
            order
                .iter()
                .filter(|(rank, _)| *rank == unranked)
                .map(|&(_, i)| members[i as usize].key),
        )
    {
        return false;
    }
    out.push(b'{');
    for (k, &(_, i)) in order.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        let m = &members[i as usize];
        write_str(m.key, out);
        out.push(b':');
        if !write_value(m.value, out) {
            return false;
        }
    }
    out.push(b'}');
    true
}

/// Writes a tape value as compact JSON text, as serializing [`to_json`] would; `false` on a
/// repeated key (see [`write_twin`]).
pub fn write_value(tape: &[Node<'_>], out: &mut Vec<u8>) -> bool {
    use serde::Serialize;
    let mut ser = serde_json::Serializer::new(&mut *out);
    // Writing into a Vec cannot fail, and every tape number is finite.
    let _ = match tape[0] {
        Node::String(s) => {
            write_str(s, out);
            return true;
        }
        Node::Static(StaticNode::Null) => ().serialize(&mut ser),
        Node::Static(StaticNode::Bool(b)) => b.serialize(&mut ser),
        Node::Static(StaticNode::I64(n)) => n.serialize(&mut ser),
        Node::Static(StaticNode::U64(n)) => n.serialize(&mut ser),
        Node::Static(StaticNode::F64(f)) => static_to_json(StaticNode::F64(f)).serialize(&mut ser),
        Node::Array { len, .. } => {
            out.push(b'[');
            let mut i = 1;
            for k in 0..len {
                if k > 0 {
                    out.push(b',');
                }
                let n = span(&tape[i..]);
                if !write_value(&tape[i..i + n], out) {
                    return false;
                }
                i += n;
            }
            out.push(b']');
            return true;
        }
        Node::Object { .. } => {
            if has_repeats(object_members(tape).map(|(k, _)| k)) {
                return false;
            }
            out.push(b'{');
            for (k, (key, value)) in object_members(tape).enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                write_str(key, out);
                out.push(b':');
                if !write_value(value, out) {
                    return false;
                }
            }
            out.push(b'}');
            return true;
        }
    };
    true
}

/// Writes a JSON string exactly as serde_json does; strings with nothing to escape (nearly
/// all) are copied between quotes without its per-call formatter.
pub(crate) fn write_str(s: &str, out: &mut Vec<u8>) {
    write_str_bytes(s.as_bytes(), out);
}

/// [`write_str`] for a string's UTF-8 bytes: escapes are ASCII, so the bytes between them are
/// copied as they are (whether they are UTF-8 is the caller's business).
pub(crate) fn write_str_bytes(s: &[u8], out: &mut Vec<u8>) {
    // serde_json escapes `"`, `\` and the control characters below U+0020, nothing else.
    // No early exit: a string needing an escape is rare, and a scan without one is a loop the
    // compiler can vectorize.
    let plain = s
        .iter()
        .fold(true, |ok, &b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'));
    out.reserve(s.len() + 2);
    out.push(b'"');
    if plain {
        out.extend_from_slice(s);
    } else {
        let mut from = 0;
        for (i, &b) in s.iter().enumerate() {
            let escape: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                0x08 => b"\\b",
                0x0c => b"\\f",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0..=0x1f => b"",
                _ => continue,
            };
            out.extend_from_slice(&s[from..i]);
            if escape.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            } else {
                out.extend_from_slice(escape);
            }
            from = i + 1;
        }
        out.extend_from_slice(&s[from..]);
    }
    out.push(b'"');
}

/// Whether a key occurs twice. Objects in twins are small; past a few dozen keys, hash.
fn has_repeats<'a>(keys: impl Iterator<Item = &'a str> + Clone) -> bool {
    const LINEAR: usize = 32;
    if keys.clone().nth(LINEAR).is_none() {
        let mut seen: [&str; LINEAR] = [""; LINEAR];
        for (i, k) in keys.enumerate() {
            if seen[..i].contains(&k) {
                return true;
            }
            seen[i] = k;
        }
        false
    } else {
        let mut seen = std::collections::HashSet::new();
        keys.into_iter().any(|k| !seen.insert(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let mut samples: Vec<String> = [
            "",
            "plain",
            "a\"b",
            "back\\slash",
            "tab\there",
            "\u{7f}del",
            "ünïcødé ✓",
            "\u{1}\u{1f}",
            "line\nbreak",
            "/slash",
            "\u{2028}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        samples.extend((0u8..128).map(|b| format!("x{}y", char::from(b))));
        // Each byte that needs escaping at every place of a string longer than a vector
        // word, beside bytes from 0x80 up (which must not look like one).
        for c in ['"', '\\', '\u{0}', '\u{1f}', '\n'] {
            for at in 0..18 {
                let mut t: Vec<char> = "ÿabcdefghijklmnop".chars().collect();
                t.insert(at, c);
                samples.push(t.into_iter().collect());
            }
        }
        samples.extend(["ÿÿÿÿÿÿÿÿÿ", "\u{80}\u{9f}\u{a0}", "日本語のテキスト"].map(String::from));
        for s in samples {
            let mut out = Vec::new();
            write_str(&s, &mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(&s).unwrap()
            );
        }
    }
}
