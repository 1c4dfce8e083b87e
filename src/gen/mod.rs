//! Synthetic fleet generator: a deterministic stream of realistic device (and module) twins for
//! tests, benchmarks and the demo (`twindex gen`).
//!
//! ```
//! use twindex::gen::{generate, GenOptions, Shape};
//!
//! let opts = GenOptions { devices: 10, shape: Shape::Twin, ..GenOptions::default() };
//! let mut out = Vec::new();
//! let summary = generate(&opts, &mut out).unwrap();
//! assert_eq!(summary.bytes, out.len() as u64);
//! assert_eq!(out.iter().filter(|&&b| b == b'\n').count() as u64, summary.records);
//! ```
//!
//! # Determinism
//!
//! The same [`GenOptions`] give byte-identical output on every platform and in every version
//! that keeps this contract: the generator uses its own PRNG (SplitMix64, seeded per device
//! from `(seed, index)`), formats numbers and timestamps by hand, and never formats an `f64`.
//! What is *drawn* depends only on `seed` and the device index; `shape`, `layout`, `metadata`
//! and `twin_only_fields` only decide how it is written, so the export and twin forms of one
//! seed describe the same fleet (the same ids, keys, tags, properties and ETags), and device
//! `n` is the same device whatever `devices` is. Turning `modules` off drops module records
//! without changing any device.
//!
//! # Shapes and layouts
//!
//! - [`Shape::Export`]: `devices.txt` names (SPEC §1.2): `id`, `eTag`, `status`,
//!   `[statusReason]`, `authentication {symmetricKey {primaryKey, secondaryKey}, x509Thumbprint
//!   {primaryThumbprint, secondaryThumbprint}, type}`, `twinETag`, `[tags]`, `properties`,
//!   `capabilities`, `[deviceScope, parentScopes]`; never `importMode`. Symmetric keys are
//!   44-character base64 strings for `sas` identities and `null` otherwise. With
//!   `twin_only_fields`, lines also carry `statusUpdateTime`, `connectionState`,
//!   `lastActivityTime`, `cloudToDeviceMessageCount`, `modelId`, `version` (after `status`) and
//!   `configurations` (after `properties`), like the benchmark file in PERF-NOTES.
//! - [`Shape::Twin`]: twin names (SPEC §1.1) in `SELECT *` order: `deviceId`, `[moduleId]`,
//!   `etag`, `deviceEtag`, `status`, `[statusReason]`, `statusUpdateTime`, `connectionState`,
//!   `lastActivityTime`, `cloudToDeviceMessageCount`, `authenticationType`, `x509Thumbprint`,
//!   `modelId`, `version`, `[tags]`, `properties`, `[configurations]`, `capabilities`,
//!   `[deviceScope, parentScopes]`. No secrets. `twin_only_fields` is ignored.
//! - `metadata` adds `$metadata` and `$version` to `desired` and `reported` (both shapes).
//! - [`Layout::JsonLines`]: one compact record per line, `\n`-terminated.
//!   [`Layout::JsonArray`]: one pretty-printed array (2-space indent, `"key": value`), as
//!   `az iot hub query` prints it, followed by `\n`.
//! - Module records (`modules`) follow their device, share its id (`id` or `deviceId`) and add
//!   `moduleId`; they have no `tags`, `configurations`, `capabilities` or scopes.
//!
//! # Distributions (the contract tests and benchmarks rely on)
//!
//! Percentages are per device unless said otherwise; "of X" means among X.
//!
//! | What | Distribution |
//! |---|---|
//! | kind | edge gateway 5%; leaf device of a gateway 10% of the rest (once a gateway exists); else ordinary |
//! | `deviceId` | `edge-NNNNNN` for gateways; otherwise `test-` 2%, `tmp-` 1%, `dev-` 97%; `NNNNNN` is the 0-based device index, zero-padded to 6 digits (more digits past 999999), so ids are unique |
//! | `status` | `enabled` 95%, `disabled` 5%; `statusReason` on 60% of disabled (`decommissioned`, `suspected compromise`, `awaiting RMA`) |
//! | `statusUpdateTime` | `0001-01-01T00:00:00Z` 60%, else uniform between 2023-01-01 and `lastActivityTime` |
//! | `connectionState` | `Connected` 35% of enabled; disabled devices are `Disconnected` |
//! | `lastActivityTime` | uniform over [2023-01-01, 2026-01-01), 7 fractional digits (`2024-05-01T12:34:56.1234567Z`) |
//! | `cloudToDeviceMessageCount` | 0 80%, else uniform 1–50 |
//! | `authenticationType` | `sas` 80%, `selfSigned` 10% (40-hex thumbprints), `certificateAuthority` 7%, `none` 3% |
//! | `modelId` | `""` 50%, `dtmi:com:example:Thermostat;1` 35%, `dtmi:com:example:TemperatureController;2` 15% |
//! | ETags | `eTag`/`deviceEtag`: base64 of a random 9-digit number (`MTIzNDU2Nzg5`); `twinETag`/`etag`: base64 of `version` as 8 big-endian bytes (`AAAAAAAAABc=`) |
//! | `version` | desired `$version` + reported `$version` + 0–5 |
//! | `capabilities.iotEdge` | true exactly for gateways |
//! | `deviceScope` | gateways: `ms-azure-iot-edge://<deviceId>-637<15 digits>` with `parentScopes: []`; leaf devices: a recent (last 16) gateway's scope, with `parentScopes: [that scope]`; ordinary devices have neither |
//! | `tags` | absent 5%; otherwise each member independently (so a few have `tags: {}`), in this order: `location.region` 95%, `location.city` 40%, `location.building` 50% (`B-01` … `B-40`), `ring` 90%, `group.name` 70%, `roles` 80%, `floor` 75%, `serialNumber` 90% (`SN-` + 12 hex digits, nearly unique), `owner` 50% (4 e-mail addresses), `customer.name` 60% (6 company names), `installedAt` 70% (a date `YYYY-MM-DD`, 2021–2025) |
//! | `tags.location.region` | Zipf (1/k) over `US` 34.1%, `EU` 17.1%, `UK` 11.4%, `JP` 8.5%, `BR` 6.8%, `IN` 5.7%, `AU` 4.9%, `CA` 4.3%, `CN` 3.8%, `ZA` 3.4% |
//! | `tags.location.city`, `reported.city` | uniform over ten non-ASCII names (`Zürich`, `São Paulo`, `東京`, `Москва`, `القاهرة`, ...) |
//! | `tags.ring` | `a` 40%, `b` 30%, `c` 25%, `canary` 5% |
//! | `tags.group.name` | uniform over `g-00` … `g-11` |
//! | `tags.roles` | 1–3 distinct of `sensor`, `meter`, `controller`, `camera`, `relay`, in that order |
//! | `tags.floor` | integer, uniform −2..=20 |
//! | `configurations` | 25%: `{"chiller-cfg": {"status": "Applied" 80% / "Targeted" 20%}}` |
//! | `desired.telemetryConfig.sendFrequencyInSecs` | 60%: uniform over 30, 60, 300, 3600; desired `$version` 1–12 |
//! | `reported.telemetryConfig` | 55% of devices with desired telemetry, 20% of the rest (about 41% in all): `status` `Success` 85% / `Pending` 10% / `Failed` 5%, `sendFrequencyInSecs` equal to desired 90% |
//! | `reported.battery` | 85%: an integer 0–100 (75%) or a one-decimal number 0.0–100.0 (25%; `5.0` style included) |
//! | `reported.connectivity` | 85%: `wired` 30%, `wifi` 45%, `cellular` 25% |
//! | `reported.firmware.version` | 65%: `1.0.0` 5%, `1.2.3` 15%, `1.4.0` 20%, `1.4.2` 35%, `2.0.0-rc1` 5%, `2.0.1` 20% |
//! | `reported.lastDesiredStatus.code` | 30%: 200 90%, 400 6%, 500 4% |
//! | `reported.city` | 20% |
//! | `reported.lastError` | 8%: a string with `"`, `\`, `\n`, `\r`, `\t` or `\u0001` |
//! | reported `$version` | 1–1999 |
//! | `$metadata` | mirrors the user tree: every node has `$lastUpdated` (desired nodes also `$lastUpdatedVersion` ≤ `$version`, the root's equal to it); an object node carries its latest child's; desired stamps fall between a per-twin creation time and `lastActivityTime` (an empty `desired` is stamped with the creation time), reported ones in the 30 days before `lastActivityTime` |
//! | modules | gateways: `$edgeAgent`, `$edgeHub` and one of `SimulatedTemperatureSensor`, `filter`, `scanner`; other devices 4%: one of `telemetry`, `scanner`. All `sas`, `enabled`, `modelId ""`, `statusUpdateTime` never; `Connected` 90% when the device is; `lastActivityTime` no later than the device's |
//! | module properties | every module reports `lastDesiredStatus.code` (distributed as above); custom modules desire `telemetryConfig.sendFrequencyInSecs` and report `status` (`running` 50%, `scanning` 30%, `idle` 15%, `stopped` 5%) and, 20%, `telemetryConfig`; `$edgeAgent` has `schemaVersion` and reports `runtime.type`; `$edgeHub` has `schemaVersion` and desires `routes.upstream` |
//!
//! With [`GenOptions::default`] (export shape, twin-only fields, `$metadata`, modules) there are
//! about 1.19 records per device. Measured over 5,000 devices: device lines average ~1,525
//! bytes, ~41 leaf values and ~37% of their bytes in `$metadata` (the benchmark file's profile in
//! PERF-NOTES); module lines ~1,270 bytes and ~33 leaves; all records together ~1,485 bytes,
//! ~40 leaves and ~38% `$metadata`. [`GenSummary`] reports all three for any run.
//!
//! Every record follows SPEC §1.3: keys are plain ASCII without `.`, `$` (except the system
//! members), spaces or control characters; no array holds `null`; integers stay far below
//! 2^52; depth and sizes are well inside the limits.

mod fleet;
mod props;
mod rng;
#[cfg(test)]
mod tests;
mod write;

use std::io::{self, Write};
use std::str::FromStr;

use fleet::Fleet;
use write::JsonWriter;

/// Which names records use (SPEC §1.1, §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// `devices.txt` export names: `id`, `eTag`, `twinETag`, `authentication`.
    #[default]
    Export,
    /// Twin names, as `az iot hub query` returns them.
    Twin,
}

/// How records are laid out in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// One compact JSON object per line.
    #[default]
    JsonLines,
    /// One pretty-printed JSON array (2-space indent).
    JsonArray,
}

impl FromStr for Shape {
    type Err = String;
    fn from_str(s: &str) -> Result<Shape, String> {
        match s {
            "export" => Ok(Shape::Export),
            "twin" => Ok(Shape::Twin),
            _ => Err(format!("unknown shape '{s}' (expected export or twin)")),
        }
    }
}

impl FromStr for Layout {
    type Err = String;
    fn from_str(s: &str) -> Result<Layout, String> {
        match s {
            "jsonl" | "lines" => Ok(Layout::JsonLines),
            "json" | "array" => Ok(Layout::JsonArray),
            _ => Err(format!("unknown layout '{s}' (expected jsonl or json)")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOptions {
    /// Number of devices; module records come in addition.
    pub devices: u64,
    pub seed: u64,
    pub shape: Shape,
    pub layout: Layout,
    /// Emit module records after their device.
    pub modules: bool,
    /// Emit `$metadata` and `$version` in `desired` and `reported`.
    pub metadata: bool,
    /// Export shape only: also emit the twin members real exports lack (`connectionState`,
    /// `lastActivityTime`, `statusUpdateTime`, `cloudToDeviceMessageCount`, `modelId`,
    /// `version`, `configurations`).
    pub twin_only_fields: bool,
}

impl Default for GenOptions {
    fn default() -> GenOptions {
        GenOptions {
            devices: 1000,
            seed: 42,
            shape: Shape::Export,
            layout: Layout::JsonLines,
            modules: true,
            metadata: true,
            twin_only_fields: true,
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GenSummary {
    /// Device plus module records.
    pub records: u64,
    pub devices: u64,
    pub modules: u64,
    /// Bytes written in all.
    pub bytes: u64,
    /// Primitive values (strings, numbers, booleans, nulls; array elements each count).
    pub leaves: u64,
    /// Bytes of the `"$metadata": {...}` members (key and value; not the separator before).
    pub metadata_bytes: u64,
}

/// Output is gathered into one reused buffer and handed to `out` in blocks of about this size,
/// so `out` need not be buffered.
const FLUSH_AT: usize = 1 << 16;

/// Write the fleet described by `opts` to `out`.
pub fn generate(opts: &GenOptions, out: &mut impl Write) -> io::Result<GenSummary> {
    let pretty = opts.layout == Layout::JsonArray;
    let mut w = JsonWriter::new(pretty);
    let mut fleet = Fleet::new(opts.seed);
    let mut summary = GenSummary::default();
    if pretty {
        w.buf.push(b'[');
    }
    let begin = |w: &mut JsonWriter, records: u64| {
        if pretty {
            w.buf
                .extend_from_slice(if records == 0 { b"\n  " } else { b",\n  " });
            w.start_record(1);
        } else {
            w.start_record(0);
        }
    };
    for index in 0..opts.devices {
        fleet.draw(index, opts.modules);
        begin(&mut w, summary.records);
        summary.metadata_bytes += fleet.write_device(&mut w, opts);
        if !pretty {
            w.buf.push(b'\n');
        }
        summary.records += 1;
        summary.devices += 1;
        for slot in 0..fleet.module_count() {
            begin(&mut w, summary.records);
            summary.metadata_bytes += fleet.write_module(slot, &mut w, opts);
            if !pretty {
                w.buf.push(b'\n');
            }
            summary.records += 1;
            summary.modules += 1;
        }
        if w.buf.len() >= FLUSH_AT {
            out.write_all(&w.buf)?;
            summary.bytes += w.buf.len() as u64;
            w.buf.clear();
        }
    }
    if pretty {
        w.buf.extend_from_slice(if summary.records == 0 {
            b"]\n"
        } else {
            b"\n]\n"
        });
    }
    out.write_all(&w.buf)?;
    out.flush()?;
    summary.bytes += w.buf.len() as u64;
    summary.leaves = w.leaves;
    Ok(summary)
}
