//! SPEC §1.2: every record, whatever its shape, becomes a twin under twin names.

use serde_json::{Map, Value};

use crate::model::{is_export_shape, twin_key_rank, EXPORT_DROPPED, EXPORT_RENAMES};

/// Normalises one record to twin names (SPEC §1.2, §2.4).
///
/// * A record that is not a JSON object is returned unchanged (there is nothing to rename).
/// * Export shape (`id` present, `deviceId` absent): `id`, `eTag` and `twinETag` become
///   `deviceId`, `deviceEtag` and `etag`. If the record also carries the twin name (say both
///   `eTag` and `deviceEtag`), the twin-named member keeps its value and the export-named one
///   is dropped. In twin shape these export names are ordinary unknown members and are kept.
/// * Both shapes: `authentication` never survives. When it is an object, its `type` fills
///   `authenticationType` and its `x509Thumbprint` fills `x509Thumbprint`, each only when the
///   record has no member of that twin name already (a member under its twin name keeps its
///   value as is) and only when the inner member exists (its value is copied as is, `null`
///   included). Nothing else is read from `authentication`, so `symmetricKey` (the secret)
///   never reaches the output. `importMode` is dropped too.
/// * Top-level members come out in [`crate::model::TWIN_KEY_ORDER`] first, then every other
///   member in document order. Nested values are untouched.
pub fn normalise(record: Value) -> Value {
    let Value::Object(input) = record else {
        return record;
    };
    let export = is_export_shape(input.keys().map(String::as_str));

    // Twin name -> value, in document order; a later duplicate never replaces an earlier one
    // because JSON objects cannot hold duplicate keys and renames only fill absent names.
    let mut members: Vec<(String, Value)> = Vec::with_capacity(input.len());
    let mut authentication: Option<Value> = None;
    // Members renamed from export names, kept aside so that a member already under the twin
    // name (wherever it sits in the document) wins.
    let mut renamed: Vec<(String, Value)> = Vec::new();

    for (key, value) in input {
        if key == "authentication" {
            authentication = Some(value);
            continue;
        }
        if EXPORT_DROPPED.contains(&key.as_str()) {
            continue;
        }
        if export {
            if let Some((_, twin)) = EXPORT_RENAMES.iter().find(|(exp, _)| *exp == key) {
                renamed.push(((*twin).to_string(), value));
                continue;
            }
        }
        members.push((key, value));
    }

    let has = |members: &[(String, Value)], name: &str| members.iter().any(|(k, _)| k == name);

    for (twin, value) in renamed {
        if !has(&members, &twin) {
            members.push((twin, value));
        }
    }

    if let Some(Value::Object(mut auth)) = authentication {
        for (inner, twin) in [
            ("type", "authenticationType"),
            ("x509Thumbprint", "x509Thumbprint"),
        ] {
            if has(&members, twin) {
                continue;
            }
            if let Some(value) = auth.remove(inner) {
                members.push((twin.to_string(), value));
            }
        }
    }

    // Stable sort: ranked members by rank, unranked after them in the order collected (which
    // is document order, since renamed and derived members are always ranked).
    members.sort_by_key(|(k, _)| twin_key_rank(k).unwrap_or(usize::MAX));

    let mut out = Map::with_capacity(members.len());
    for (k, v) in members {
        out.insert(k, v);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    #[test]
    fn export_line_becomes_twin() {
        let v = normalise(json!({
            "id": "d1",
            "eTag": "AAA",
            "managedBy": "x",
            "status": "enabled",
            "authentication": {
                "symmetricKey": {"primaryKey": "s3cr3t", "secondaryKey": "s3cr3t2"},
                "x509Thumbprint": {"primaryThumbprint": null, "secondaryThumbprint": null},
                "type": "sas"
            },
            "twinETag": "BBB",
            "importMode": "create",
            "tags": {"b": 1, "a": 2}
        }));
        assert_eq!(
            keys(&v),
            [
                "deviceId",
                "etag",
                "deviceEtag",
                "status",
                "authenticationType",
                "x509Thumbprint",
                "tags",
                "managedBy"
            ]
        );
        assert_eq!(v["deviceEtag"], "AAA");
        assert_eq!(v["etag"], "BBB");
        assert_eq!(v["authenticationType"], "sas");
        assert_eq!(keys(&v["tags"]), ["b", "a"]);
        assert!(!v.to_string().contains("s3cr3t"));
    }

    #[test]
    fn twin_name_wins_over_export_name() {
        let v = normalise(json!({
            "id": "d1", "eTag": "export", "deviceEtag": "twin",
            "authenticationType": "selfSigned", "authentication": {"type": "sas"}
        }));
        assert_eq!(v["deviceEtag"], "twin");
        assert_eq!(v["authenticationType"], "selfSigned");
        assert_eq!(keys(&v), ["deviceId", "deviceEtag", "authenticationType"]);
    }

    #[test]
    fn twin_shape_keeps_export_names_but_drops_authentication() {
        let v = normalise(json!({
            "id": "x", "deviceId": "d1", "eTag": "e", "authentication": null, "importMode": 1
        }));
        assert_eq!(keys(&v), ["deviceId", "id", "eTag"]);
    }

    #[test]
    fn non_object_is_unchanged() {
        assert_eq!(normalise(json!([1, 2])), json!([1, 2]));
        assert_eq!(normalise(json!(null)), json!(null));
    }
}
