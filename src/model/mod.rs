//! The twin vocabulary shared by every layer: field names, the order `SELECT *` prints them in,
//! and how export names (`devices.txt`) map to twin names (SPEC §1.1, §1.2).

/// Twin members in the order `SELECT *` returns them (SPEC §2.4); other members follow in
/// document order.
pub const TWIN_KEY_ORDER: &[&str] = &[
    "deviceId",
    "moduleId",
    "etag",
    "deviceEtag",
    "status",
    "statusReason",
    "statusUpdateTime",
    "connectionState",
    "lastActivityTime",
    "cloudToDeviceMessageCount",
    "authenticationType",
    "x509Thumbprint",
    "modelId",
    "version",
    "tags",
    "properties",
    "configurations",
    "capabilities",
    "deviceScope",
    "parentScopes",
];

/// Top-level export members renamed on normalisation (export name, twin name).
pub const EXPORT_RENAMES: &[(&str, &str)] = &[
    ("id", "deviceId"),
    ("eTag", "deviceEtag"),
    ("twinETag", "etag"),
];

/// Export members dropped on normalisation: `importMode` is import-only; `authentication`
/// is replaced by `authenticationType` and `x509Thumbprint`, and its `symmetricKey` is a
/// secret that must never reach the store.
pub const EXPORT_DROPPED: &[&str] = &["importMode", "authentication"];

/// The position of a top-level twin member in [`TWIN_KEY_ORDER`], if it has one.
pub fn twin_key_rank(key: &str) -> Option<usize> {
    TWIN_KEY_ORDER.iter().position(|k| *k == key)
}

/// A record is in export shape when it has `id` and no `deviceId` (SPEC §1.2).
pub fn is_export_shape<'a>(mut top_level_keys: impl Iterator<Item = &'a str>) -> bool {
    let mut has_id = false;
    let mut has_device_id = false;
    for k in top_level_keys.by_ref() {
        match k {
            "id" => has_id = true,
            "deviceId" => has_device_id = true,
            _ => {}
        }
    }
    has_id && !has_device_id
}

/// A computed number as JSON (the reference's rule): not finite → `None` (undefined);
/// integral and within `[-2^63, 2^63)` → a JSON integer (`SUM` of integers gives `42`, not
/// `42.0`; `-0.0` gives `0`); anything else a JSON float.
pub fn number_to_json(n: f64) -> Option<serde_json::Value> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if !n.is_finite() {
        return None;
    }
    if n.fract() == 0.0 && (-TWO_63..TWO_63).contains(&n) {
        return Some(serde_json::Value::from(n as i64));
    }
    serde_json::Number::from_f64(n).map(serde_json::Value::Number)
}
