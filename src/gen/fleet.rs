//! Drawing one device (and its modules) from its random stream, and writing it in either
//! shape. Every draw happens before any output decision, so the options that choose the shape,
//! layout and optional members never change what is drawn: the same seed describes the same
//! fleet in every shape.

use super::props::{Leaf, Props, Section};
use super::rng::Rng;
use super::write::{
    fill_padded, push_base64, push_padded, push_timestamp, push_u64, JsonWriter, Ticks,
    TICKS_PER_SEC,
};
use super::{GenOptions, Shape};

/// 2023-01-01T00:00:00Z and 2026-01-01T00:00:00Z: the window activity falls in.
const WINDOW_START: Ticks = 1_672_531_200 * TICKS_PER_SEC;
const WINDOW_END: Ticks = 1_767_225_600 * TICKS_PER_SEC;
const DAY: Ticks = 86_400 * TICKS_PER_SEC;

/// How many recent gateways a leaf device may pick its parent from.
const GATEWAY_RING: usize = 16;

const REGIONS: &[(&str, u64)] = &[
    ("US", 341),
    ("EU", 171),
    ("UK", 114),
    ("JP", 85),
    ("BR", 68),
    ("IN", 57),
    ("AU", 49),
    ("CA", 43),
    ("CN", 38),
    ("ZA", 34),
];
const RINGS: &[(&str, u64)] = &[("a", 400), ("b", 300), ("c", 250), ("canary", 50)];
const GROUPS: &[&str] = &[
    "g-00", "g-01", "g-02", "g-03", "g-04", "g-05", "g-06", "g-07", "g-08", "g-09", "g-10", "g-11",
];
const OWNERS: &[&str] = &[
    "ops@contoso.com",
    "facilities@contoso.com",
    "fleet-team@fabrikam.com",
    "lab@northwind.example",
];
const CUSTOMERS: &[&str] = &[
    "Contoso Ltd",
    "Fabrikam Inc.",
    "Northwind Traders",
    "Tailwind Traders",
    "Woodgrove Bank",
    "Wide World Importers",
];
const ROLES: &[&str] = &["sensor", "meter", "controller", "camera", "relay"];
const STATUS_REASONS: &[&str] = &["decommissioned", "suspected compromise", "awaiting RMA"];
const AUTH_TYPES: &[(AuthType, u64)] = &[
    (AuthType::Sas, 800),
    (AuthType::SelfSigned, 100),
    (AuthType::CertificateAuthority, 70),
    (AuthType::None, 30),
];
const MODEL_IDS: &[(&str, u64)] = &[
    ("", 500),
    ("dtmi:com:example:Thermostat;1", 350),
    ("dtmi:com:example:TemperatureController;2", 150),
];
const SEND_FREQUENCIES: &[u64] = &[30, 60, 300, 3600];
const TELEMETRY_STATUS: &[(&str, u64)] = &[("Success", 850), ("Pending", 100), ("Failed", 50)];
const CONNECTIVITY: &[(&str, u64)] = &[("wired", 300), ("wifi", 450), ("cellular", 250)];
const FIRMWARE: &[(&str, u64)] = &[
    ("1.0.0", 50),
    ("1.2.3", 150),
    ("1.4.0", 200),
    ("1.4.2", 350),
    ("2.0.0-rc1", 50),
    ("2.0.1", 200),
];
const DESIRED_STATUS_CODES: &[(u64, u64)] = &[(200, 900), (400, 60), (500, 40)];
const CITIES: &[&str] = &[
    "Zürich",
    "São Paulo",
    "東京",
    "Kraków",
    "Москва",
    "München",
    "Reykjavík",
    "Montréal",
    "القاهرة",
    "Ōsaka",
];
const ESCAPED: &[&str] = &[
    "disk \"C:\\\" full",
    "line one\nline two",
    "tab\there, bell \u{1}",
    "path C:\\data\\log.txt \"quoted\"\r\n",
];
const CONFIG_STATUS: &[(&str, u64)] = &[("Applied", 800), ("Targeted", 200)];
const EDGE_CUSTOM_MODULES: &[&str] = &["SimulatedTemperatureSensor", "filter", "scanner"];
const DEVICE_MODULES: &[&str] = &["telemetry", "scanner"];
const MODULE_STATUS: &[(&str, u64)] = &[
    ("running", 500),
    ("scanning", 300),
    ("idle", 150),
    ("stopped", 50),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthType {
    Sas,
    SelfSigned,
    CertificateAuthority,
    None,
}

impl AuthType {
    fn name(self) -> &'static str {
        match self {
            AuthType::Sas => "sas",
            AuthType::SelfSigned => "selfSigned",
            AuthType::CertificateAuthority => "certificateAuthority",
            AuthType::None => "none",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ordinary,
    Edge,
    /// A child of an edge gateway: carries the gateway's scope.
    Leaf,
}

/// What devices and modules share: identity, connection, authentication and properties.
#[derive(Debug)]
struct Identity {
    enabled: bool,
    status_reason: Option<&'static str>,
    /// `None` means never (`0001-01-01T00:00:00Z`).
    status_updated: Option<Ticks>,
    connected: bool,
    last_activity: Ticks,
    c2d: u64,
    version: u64,
    auth: AuthType,
    keys: [[u8; 32]; 2],
    thumbprints: [[u8; 20]; 2],
    model_id: &'static str,
    /// The identity ETag is the base64 of this 9-digit decimal, as IoT Hub ETags often are.
    etag_digits: u64,
    desired: Props,
    reported: Props,
}

impl Identity {
    fn new() -> Identity {
        Identity {
            enabled: true,
            status_reason: None,
            status_updated: None,
            connected: false,
            last_activity: WINDOW_START,
            c2d: 0,
            version: 1,
            auth: AuthType::Sas,
            keys: [[0; 32]; 2],
            thumbprints: [[0; 20]; 2],
            model_id: "",
            etag_digits: 0,
            desired: Props::new(Section::Desired),
            reported: Props::new(Section::Reported),
        }
    }

    /// The members every record draws first, in a fixed order.
    fn draw_common(&mut self, rng: &mut Rng) {
        self.etag_digits = rng.range(100_000_000, 999_999_999);
        for key in &mut self.keys {
            fill(rng, key);
        }
        self.last_activity = rng.range(WINDOW_START, WINDOW_END - 1);
        self.c2d = if rng.chance(800) { 0 } else { rng.range(1, 50) };
    }

    /// The twin version, after both sections are drawn: every update bumps it.
    fn settle_version(&mut self, rng: &mut Rng) {
        self.version = self.desired.version + self.reported.version + rng.range(0, 5);
    }
}

fn fill(rng: &mut Rng, bytes: &mut [u8]) {
    for chunk in bytes.chunks_mut(8) {
        let r = rng.next_u64().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
}

#[derive(Debug, Clone, Copy)]
struct Tags {
    region: Option<&'static str>,
    city: Option<&'static str>,
    building: Option<u64>,
    ring: Option<&'static str>,
    group: Option<&'static str>,
    /// A bit per entry of [`ROLES`].
    roles: u8,
    floor: Option<i64>,
    /// `SN-` and 12 hex digits.
    serial: Option<u64>,
    owner: Option<&'static str>,
    installed: Option<Ticks>,
    customer: Option<&'static str>,
}

#[derive(Debug)]
struct Device {
    index: u64,
    kind: Kind,
    /// `dev-`, `test-`, `tmp-` or `edge-`.
    prefix: &'static str,
    ident: Identity,
    tags: Option<Tags>,
    config: Option<&'static str>,
    /// The scope of an edge device, or its gateway's for a leaf device.
    scope: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModuleKind {
    EdgeAgent,
    EdgeHub,
    Custom,
}

#[derive(Debug)]
struct Module {
    id: &'static str,
    ident: Identity,
}

pub(crate) struct Fleet {
    seed: u64,
    device: Device,
    modules: Vec<Module>,
    module_count: usize,
    /// Scopes of recent edge gateways, for leaf devices to attach to.
    gateways: Vec<Vec<u8>>,
    gateway_count: usize,
    scratch: Vec<u8>,
}

impl Fleet {
    pub(crate) fn new(seed: u64) -> Fleet {
        Fleet {
            seed,
            device: Device {
                index: 0,
                kind: Kind::Ordinary,
                prefix: "dev-",
                ident: Identity::new(),
                tags: None,
                config: None,
                scope: Vec::with_capacity(64),
            },
            modules: (0..3)
                .map(|_| Module {
                    id: "",
                    ident: Identity::new(),
                })
                .collect(),
            module_count: 0,
            gateways: Vec::with_capacity(GATEWAY_RING),
            gateway_count: 0,
            scratch: Vec::with_capacity(64),
        }
    }

    /// Draw device `index` and (when `modules`) its modules. Devices must be drawn in order:
    /// leaf devices attach to gateways drawn before them.
    pub(crate) fn draw(&mut self, index: u64, modules: bool) {
        let mut rng = Rng::for_record(self.seed, index);
        let d = &mut self.device;
        d.index = index;
        d.kind = if rng.chance(50) {
            Kind::Edge
        } else if !self.gateways.is_empty() && rng.chance(100) {
            Kind::Leaf
        } else {
            Kind::Ordinary
        };
        d.prefix = match d.kind {
            Kind::Edge => "edge-",
            _ => match rng.below(1000) {
                0..=19 => "test-",
                20..=29 => "tmp-",
                _ => "dev-",
            },
        };
        d.scope.clear();
        match d.kind {
            Kind::Edge => {
                d.scope.extend_from_slice(b"ms-azure-iot-edge://");
                push_device_id(&mut d.scope, d.prefix, index);
                d.scope.push(b'-');
                push_u64(
                    &mut d.scope,
                    637_000_000_000_000_000 + rng.below(1_000_000_000_000_000),
                );
                if self.gateways.len() < GATEWAY_RING {
                    self.gateways.push(d.scope.clone());
                } else {
                    self.gateways[self.gateway_count % GATEWAY_RING].clone_from(&d.scope);
                }
                self.gateway_count += 1;
            }
            Kind::Leaf => {
                let parent = rng.below(self.gateways.len() as u64) as usize;
                d.scope.extend_from_slice(&self.gateways[parent]);
            }
            Kind::Ordinary => {}
        }

        let id = &mut d.ident;
        id.draw_common(&mut rng);
        id.enabled = !rng.chance(50);
        id.status_reason = if !id.enabled && rng.chance(600) {
            Some(rng.pick(STATUS_REASONS))
        } else {
            None
        };
        id.status_updated = if rng.chance(600) {
            None
        } else {
            Some(rng.range(WINDOW_START, id.last_activity))
        };
        id.connected = id.enabled && rng.chance(350);
        id.auth = rng.weighted(AUTH_TYPES);
        if id.auth == AuthType::SelfSigned {
            fill(&mut rng, &mut id.thumbprints[0]);
            fill(&mut rng, &mut id.thumbprints[1]);
        }
        id.model_id = rng.weighted(MODEL_IDS);

        d.tags = if rng.chance(50) {
            None
        } else {
            Some(Tags {
                region: rng.chance(950).then(|| rng.weighted(REGIONS)),
                ring: rng.chance(900).then(|| rng.weighted(RINGS)),
                group: rng.chance(700).then(|| rng.pick(GROUPS)),
                roles: if rng.chance(800) {
                    draw_roles(&mut rng)
                } else {
                    0
                },
                floor: rng.chance(750).then(|| rng.range(0, 22) as i64 - 2),
                city: rng.chance(400).then(|| rng.pick(CITIES)),
                serial: rng.chance(900).then(|| rng.below(1 << 48)),
                owner: rng.chance(500).then(|| rng.pick(OWNERS)),
                building: rng.chance(500).then(|| rng.range(1, 40)),
                customer: rng.chance(600).then(|| rng.pick(CUSTOMERS)),
                installed: rng
                    .chance(700)
                    .then(|| rng.range(WINDOW_START - 730 * DAY, WINDOW_END)),
            })
        };
        d.config = rng.chance(250).then(|| rng.weighted(CONFIG_STATUS));

        draw_device_properties(&mut rng, id);
        id.settle_version(&mut rng);

        self.module_count = 0;
        if !modules {
            return;
        }
        let kinds: &[ModuleKind] = match d.kind {
            Kind::Edge => &[
                ModuleKind::EdgeAgent,
                ModuleKind::EdgeHub,
                ModuleKind::Custom,
            ],
            _ if rng.chance(40) => &[ModuleKind::Custom],
            _ => &[],
        };
        let (device_connected, device_activity) = (id.connected, id.last_activity);
        for (slot, &kind) in kinds.iter().enumerate() {
            let m = &mut self.modules[slot];
            m.id = match kind {
                ModuleKind::EdgeAgent => "$edgeAgent",
                ModuleKind::EdgeHub => "$edgeHub",
                ModuleKind::Custom if d.kind == Kind::Edge => rng.pick(EDGE_CUSTOM_MODULES),
                ModuleKind::Custom => rng.pick(DEVICE_MODULES),
            };
            let mi = &mut m.ident;
            mi.draw_common(&mut rng);
            mi.last_activity = mi.last_activity.min(device_activity);
            mi.enabled = true;
            mi.status_reason = None;
            mi.status_updated = None;
            mi.connected = device_connected && rng.chance(900);
            mi.auth = AuthType::Sas;
            mi.model_id = "";
            draw_module_properties(&mut rng, mi, kind);
            mi.settle_version(&mut rng);
        }
        self.module_count = kinds.len();
    }

    pub(crate) fn module_count(&self) -> usize {
        self.module_count
    }

    /// Write the device record; returns the bytes taken by `$metadata`.
    pub(crate) fn write_device(&mut self, w: &mut JsonWriter, opts: &GenOptions) -> u64 {
        let d = &self.device;
        let id = &d.ident;
        let export = opts.shape == Shape::Export;
        w.open_object();
        write_id(w, &mut self.scratch, d, None, opts.shape);
        write_identity_head(w, &mut self.scratch, id, opts);
        if let Some(tags) = &d.tags {
            write_tags(w, tags);
        }
        let metadata = write_properties(w, id, opts.metadata);
        if let (Some(status), true) = (d.config, !export || opts.twin_only_fields) {
            w.key_object("configurations");
            w.key_object("chiller-cfg");
            w.key("status");
            w.str(status);
            w.close_object();
            w.close_object();
        }
        w.key_object("capabilities");
        w.key("iotEdge");
        w.bool(d.kind == Kind::Edge);
        w.close_object();
        if !d.scope.is_empty() {
            w.key("deviceScope");
            w.raw_str(&d.scope);
            w.key("parentScopes");
            w.open_array();
            if d.kind == Kind::Leaf {
                w.raw_str(&d.scope);
            }
            w.close_array();
        }
        w.close_object();
        metadata
    }

    /// Write module `slot` (below [`Fleet::module_count`]); returns the bytes taken by `$metadata`.
    pub(crate) fn write_module(
        &mut self,
        slot: usize,
        w: &mut JsonWriter,
        opts: &GenOptions,
    ) -> u64 {
        let m = &self.modules[slot];
        w.open_object();
        write_id(w, &mut self.scratch, &self.device, Some(m.id), opts.shape);
        write_identity_head(w, &mut self.scratch, &m.ident, opts);
        let metadata = write_properties(w, &m.ident, opts.metadata);
        w.close_object();
        metadata
    }
}

/// A non-empty set of one to three roles.
fn draw_roles(rng: &mut Rng) -> u8 {
    let n = rng.range(1, 3);
    let mut roles = 0u8;
    while u64::from(roles.count_ones()) < n {
        roles |= 1 << rng.below(ROLES.len() as u64);
    }
    roles
}

fn draw_device_properties(rng: &mut Rng, id: &mut Identity) {
    let desired_version = rng.range(1, 12);
    // Desired updates happen any time before the last activity (an empty section is stamped
    // when the twin was created); reported ones within the 30 days before it.
    let created = rng.range(WINDOW_START, id.last_activity);
    id.desired.reset(desired_version, created);
    let mut desired_frequency = None;
    if rng.chance(600) {
        let f = rng.pick(SEND_FREQUENCIES);
        desired_frequency = Some(f);
        let (t, v) = desired_stamp(rng, created, id.last_activity, desired_version);
        id.desired.open("telemetryConfig");
        id.desired.leaf("sendFrequencyInSecs", Leaf::UInt(f), t, v);
        id.desired.close();
    }

    let last = id.last_activity;
    let r = &mut id.reported;
    r.reset(rng.range(1, 2000), last.saturating_sub(30 * DAY));
    let has_telemetry = match desired_frequency {
        Some(_) => rng.chance(550),
        None => rng.chance(200),
    };
    if has_telemetry {
        let status = rng.weighted(TELEMETRY_STATUS);
        let frequency = match desired_frequency {
            Some(f) if rng.chance(900) => f,
            _ => rng.pick(SEND_FREQUENCIES),
        };
        r.open("telemetryConfig");
        r.leaf("status", Leaf::Str(status), reported_stamp(rng, last), 0);
        r.leaf(
            "sendFrequencyInSecs",
            Leaf::UInt(frequency),
            reported_stamp(rng, last),
            0,
        );
        r.close();
    }
    if rng.chance(850) {
        let battery = if rng.chance(750) {
            Leaf::UInt(rng.range(0, 100))
        } else {
            Leaf::Tenths(rng.range(0, 1000))
        };
        r.leaf("battery", battery, reported_stamp(rng, last), 0);
    }
    if rng.chance(850) {
        let c = rng.weighted(CONNECTIVITY);
        r.leaf("connectivity", Leaf::Str(c), reported_stamp(rng, last), 0);
    }
    if rng.chance(650) {
        let f = rng.weighted(FIRMWARE);
        r.open("firmware");
        r.leaf("version", Leaf::Str(f), reported_stamp(rng, last), 0);
        r.close();
    }
    if rng.chance(300) {
        let code = rng.weighted(DESIRED_STATUS_CODES);
        r.open("lastDesiredStatus");
        r.leaf("code", Leaf::UInt(code), reported_stamp(rng, last), 0);
        r.close();
    }
    if rng.chance(200) {
        let city = rng.pick(CITIES);
        r.leaf("city", Leaf::Str(city), reported_stamp(rng, last), 0);
    }
    if rng.chance(80) {
        let e = rng.pick(ESCAPED);
        r.leaf("lastError", Leaf::Str(e), reported_stamp(rng, last), 0);
    }
}

fn draw_module_properties(rng: &mut Rng, id: &mut Identity, kind: ModuleKind) {
    let last = id.last_activity;
    let desired_version = rng.range(1, 6);
    let created = rng.range(WINDOW_START, last);
    id.desired.reset(desired_version, created);
    id.reported
        .reset(rng.range(1, 500), last.saturating_sub(30 * DAY));
    let d = &mut id.desired;
    let r = &mut id.reported;
    let code = rng.weighted(DESIRED_STATUS_CODES);
    match kind {
        ModuleKind::EdgeAgent => {
            let (t, v) = desired_stamp(rng, created, last, desired_version);
            d.leaf("schemaVersion", Leaf::Str("1.1"), t, v);
            let t = reported_stamp(rng, last);
            r.leaf("schemaVersion", Leaf::Str("1.1"), t, 0);
            r.open("runtime");
            r.leaf("type", Leaf::Str("docker"), t, 0);
            r.close();
        }
        ModuleKind::EdgeHub => {
            let (t, v) = desired_stamp(rng, created, last, desired_version);
            d.leaf("schemaVersion", Leaf::Str("1.2"), t, v);
            d.open("routes");
            d.leaf(
                "upstream",
                Leaf::Str("FROM /messages/* INTO $upstream"),
                t,
                v,
            );
            d.close();
            let t = reported_stamp(rng, last);
            r.leaf("schemaVersion", Leaf::Str("1.2"), t, 0);
        }
        ModuleKind::Custom => {
            let f = rng.pick(SEND_FREQUENCIES);
            let (t, v) = desired_stamp(rng, created, last, desired_version);
            d.open("telemetryConfig");
            d.leaf("sendFrequencyInSecs", Leaf::UInt(f), t, v);
            d.close();
            let status = rng.weighted(MODULE_STATUS);
            r.leaf("status", Leaf::Str(status), reported_stamp(rng, last), 0);
            if rng.chance(200) {
                let ts = rng.weighted(TELEMETRY_STATUS);
                r.open("telemetryConfig");
                r.leaf("status", Leaf::Str(ts), reported_stamp(rng, last), 0);
                r.leaf(
                    "sendFrequencyInSecs",
                    Leaf::UInt(f),
                    reported_stamp(rng, last),
                    0,
                );
                r.close();
            }
        }
    }
    r.open("lastDesiredStatus");
    r.leaf("code", Leaf::UInt(code), reported_stamp(rng, last), 0);
    r.close();
}

/// When a desired node was last updated (between the twin's creation and its last activity)
/// and at which `$version`.
fn desired_stamp(rng: &mut Rng, created: Ticks, last: Ticks, version: u64) -> (Ticks, u64) {
    (rng.range(created, last), rng.range(1, version))
}

fn reported_stamp(rng: &mut Rng, last: Ticks) -> Ticks {
    last.saturating_sub(rng.below(30 * DAY))
}

fn push_device_id(buf: &mut Vec<u8>, prefix: &str, index: u64) {
    buf.extend_from_slice(prefix.as_bytes());
    if index < 1_000_000 {
        push_padded(buf, index, 6);
    } else {
        push_u64(buf, index);
    }
}

/// `id`/`deviceId`, `moduleId`, and in twin shape `etag` and `deviceEtag` (export shape writes
/// its ETags later, where `devices.txt` has them).
fn write_id(
    w: &mut JsonWriter,
    scratch: &mut Vec<u8>,
    d: &Device,
    module: Option<&str>,
    shape: Shape,
) {
    scratch.clear();
    push_device_id(scratch, d.prefix, d.index);
    w.key(match shape {
        Shape::Export => "id",
        Shape::Twin => "deviceId",
    });
    w.raw_str(scratch);
    if let Some(m) = module {
        w.key("moduleId");
        w.raw_str(m.as_bytes());
    }
}

fn write_device_etag(w: &mut JsonWriter, scratch: &mut Vec<u8>, id: &Identity) {
    scratch.clear();
    let mut digits = Vec::with_capacity(9);
    push_padded(&mut digits, id.etag_digits, 9);
    push_base64(scratch, &digits);
    w.raw_str(scratch);
}

fn write_twin_etag(w: &mut JsonWriter, scratch: &mut Vec<u8>, id: &Identity) {
    scratch.clear();
    push_base64(scratch, &id.version.to_be_bytes());
    w.raw_str(scratch);
}

/// Everything between the ids and the tags, in the order each shape has it.
fn write_identity_head(
    w: &mut JsonWriter,
    scratch: &mut Vec<u8>,
    id: &Identity,
    opts: &GenOptions,
) {
    match opts.shape {
        Shape::Export => {
            w.key("eTag");
            write_device_etag(w, scratch, id);
            write_status(w, id);
            if opts.twin_only_fields {
                write_twin_only(w, id, true);
            }
            w.key_object("authentication");
            w.key_object("symmetricKey");
            for (name, key) in [("primaryKey", &id.keys[0]), ("secondaryKey", &id.keys[1])] {
                w.key(name);
                if id.auth == AuthType::Sas {
                    scratch.clear();
                    push_base64(scratch, key);
                    w.raw_str(scratch);
                } else {
                    w.null();
                }
            }
            w.close_object();
            write_thumbprints(w, scratch, id);
            w.key("type");
            w.raw_str(id.auth.name().as_bytes());
            w.close_object();
            w.key("twinETag");
            write_twin_etag(w, scratch, id);
        }
        Shape::Twin => {
            w.key("etag");
            write_twin_etag(w, scratch, id);
            w.key("deviceEtag");
            write_device_etag(w, scratch, id);
            write_status(w, id);
            write_twin_only(w, id, false);
            w.key("authenticationType");
            w.raw_str(id.auth.name().as_bytes());
            write_thumbprints(w, scratch, id);
            w.key("modelId");
            w.raw_str(id.model_id.as_bytes());
            w.key("version");
            w.uint(id.version);
        }
    }
}

fn write_status(w: &mut JsonWriter, id: &Identity) {
    w.key("status");
    w.raw_str(if id.enabled { b"enabled" } else { b"disabled" });
    if let Some(reason) = id.status_reason {
        w.key("statusReason");
        w.str(reason);
    }
}

/// The members real exports lack (SPEC §1.2); `with_model_and_version` adds `modelId` and
/// `version`, which the twin shape writes after the authentication members instead.
fn write_twin_only(w: &mut JsonWriter, id: &Identity, with_model_and_version: bool) {
    w.key("statusUpdateTime");
    match id.status_updated {
        Some(t) => w.timestamp(t),
        None => w.raw_str(b"0001-01-01T00:00:00Z"),
    }
    w.key("connectionState");
    w.raw_str(if id.connected {
        b"Connected"
    } else {
        b"Disconnected"
    });
    w.key("lastActivityTime");
    w.timestamp(id.last_activity);
    w.key("cloudToDeviceMessageCount");
    w.uint(id.c2d);
    if with_model_and_version {
        w.key("modelId");
        w.raw_str(id.model_id.as_bytes());
        w.key("version");
        w.uint(id.version);
    }
}

fn write_thumbprints(w: &mut JsonWriter, scratch: &mut Vec<u8>, id: &Identity) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    w.key_object("x509Thumbprint");
    for (name, thumb) in [
        ("primaryThumbprint", &id.thumbprints[0]),
        ("secondaryThumbprint", &id.thumbprints[1]),
    ] {
        w.key(name);
        if id.auth == AuthType::SelfSigned {
            scratch.clear();
            for b in thumb {
                scratch.push(HEX[usize::from(b >> 4)]);
                scratch.push(HEX[usize::from(b & 0xf)]);
            }
            w.raw_str(scratch);
        } else {
            w.null();
        }
    }
    w.close_object();
}

fn write_tags(w: &mut JsonWriter, tags: &Tags) {
    w.key_object("tags");
    if tags.region.is_some() || tags.city.is_some() {
        w.key_object("location");
        if let Some(region) = tags.region {
            w.key("region");
            w.raw_str(region.as_bytes());
        }
        if let Some(city) = tags.city {
            w.key("city");
            w.str(city);
        }
        if let Some(building) = tags.building {
            let mut b = *b"B-00";
            fill_padded(&mut b[2..], building);
            w.key("building");
            w.raw_str(&b);
        }
        w.close_object();
    }
    if let Some(ring) = tags.ring {
        w.key("ring");
        w.raw_str(ring.as_bytes());
    }
    if let Some(group) = tags.group {
        w.key_object("group");
        w.key("name");
        w.raw_str(group.as_bytes());
        w.close_object();
    }
    if tags.roles != 0 {
        w.key("roles");
        w.open_array();
        for (i, role) in ROLES.iter().enumerate() {
            if tags.roles & (1 << i) != 0 {
                w.raw_str(role.as_bytes());
            }
        }
        w.close_array();
    }
    if let Some(floor) = tags.floor {
        w.key("floor");
        w.int(floor);
    }
    if let Some(serial) = tags.serial {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut sn = *b"SN-000000000000";
        for (i, slot) in sn[3..].iter_mut().enumerate() {
            *slot = HEX[(serial >> (44 - 4 * i) & 0xf) as usize];
        }
        w.key("serialNumber");
        w.raw_str(&sn);
    }
    if let Some(owner) = tags.owner {
        w.key("owner");
        w.raw_str(owner.as_bytes());
    }
    if let Some(customer) = tags.customer {
        w.key_object("customer");
        w.key("name");
        w.raw_str(customer.as_bytes());
        w.close_object();
    }
    if let Some(installed) = tags.installed {
        // A date, not a timestamp: the first 10 characters of the ISO form.
        let mut ts = Vec::with_capacity(28);
        push_timestamp(&mut ts, installed);
        w.key("installedAt");
        w.raw_str(&ts[..10]);
    }
    w.close_object();
}

fn write_properties(w: &mut JsonWriter, id: &Identity, metadata: bool) -> u64 {
    w.key_object("properties");
    w.key("desired");
    let mut bytes = id.desired.write(w, metadata);
    w.key("reported");
    bytes += id.reported.write(w, metadata);
    w.close_object();
    bytes
}
