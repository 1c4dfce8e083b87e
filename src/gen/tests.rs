use serde_json::Value;

use super::*;

fn gen(opts: &GenOptions) -> (Vec<u8>, GenSummary) {
    let mut out = Vec::new();
    let summary = generate(opts, &mut out).unwrap();
    (out, summary)
}

fn opts(devices: u64) -> GenOptions {
    GenOptions {
        devices,
        ..GenOptions::default()
    }
}

fn records(out: &[u8]) -> Vec<Value> {
    std::str::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn is_module(r: &Value) -> bool {
    r.get("moduleId").is_some()
}

fn id(r: &Value) -> &str {
    r.get("id").or(r.get("deviceId")).unwrap().as_str().unwrap()
}

fn count_leaves(v: &Value) -> u64 {
    match v {
        Value::Object(m) => m.values().map(count_leaves).sum(),
        Value::Array(a) => a.iter().map(count_leaves).sum(),
        _ => 1,
    }
}

/// FNV-1a, to pin the output without storing it.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[test]
fn same_options_same_bytes_other_seed_other_bytes() {
    let (a, sa) = gen(&opts(500));
    let (b, sb) = gen(&opts(500));
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    let (c, _) = gen(&GenOptions {
        seed: 43,
        ..opts(500)
    });
    assert_ne!(a, c);
}

#[test]
fn output_is_pinned() {
    // The generator's output is a contract (benchmarks and tests name fleets by seed). If a
    // change here is intended, say so in the commit message and update the constants.
    let (out, s) = gen(&opts(300));
    assert_eq!((s.records, s.bytes), (359, 526_470), "fnv {:#x}", fnv(&out));
    assert_eq!(fnv(&out), 0x59a1_aaae_64a7_1532, "bytes changed");
    let (out, _) = gen(&GenOptions {
        shape: Shape::Twin,
        layout: Layout::JsonArray,
        ..opts(50)
    });
    assert_eq!(fnv(&out), 0x67e6_7fd8_a6fd_7532, "twin array bytes changed");
}

#[test]
fn a_device_does_not_depend_on_fleet_size_or_modules() {
    let (small, _) = gen(&opts(100));
    let (big, _) = gen(&opts(400));
    assert!(big.starts_with(&small));
    let (no_modules, s) = gen(&GenOptions {
        modules: false,
        ..opts(400)
    });
    assert_eq!(s.modules, 0);
    let devices_only: Vec<Value> = records(&big)
        .into_iter()
        .filter(|r| !is_module(r))
        .collect();
    assert_eq!(records(&no_modules), devices_only);
}

#[test]
fn every_line_parses_and_the_summary_counts_match() {
    let (out, s) = gen(&opts(3000));
    let recs = records(&out);
    assert!(out.ends_with(b"\n"));
    assert_eq!(s.bytes, out.len() as u64);
    assert_eq!(s.records, recs.len() as u64);
    assert_eq!(s.devices, 3000);
    assert_eq!(
        s.modules,
        recs.iter().filter(|r| is_module(r)).count() as u64
    );
    assert_eq!(s.records, s.devices + s.modules);
    assert_eq!(s.leaves, recs.iter().map(count_leaves).sum::<u64>());
    let mut metadata = 0;
    for r in &recs {
        for section in ["desired", "reported"] {
            let m = &r["properties"][section]["$metadata"];
            assert!(m.is_object());
            metadata += "\"$metadata\":".len() + serde_json::to_string(m).unwrap().len();
        }
    }
    assert_eq!(s.metadata_bytes, metadata as u64);
}

#[test]
fn json_array_layout_is_one_array_of_the_same_records() {
    for shape in [Shape::Export, Shape::Twin] {
        let (lines, _) = gen(&GenOptions { shape, ..opts(200) });
        let (array, s) = gen(&GenOptions {
            shape,
            layout: Layout::JsonArray,
            ..opts(200)
        });
        assert_eq!(s.bytes, array.len() as u64);
        assert!(array.starts_with(b"[\n  {\n    \""));
        assert!(array.ends_with(b"\n  }\n]\n"));
        let parsed: Vec<Value> = serde_json::from_slice(&array).unwrap();
        assert_eq!(parsed, records(&lines));
        assert_eq!(s.records, parsed.len() as u64);
        assert_eq!(s.leaves, parsed.iter().map(count_leaves).sum::<u64>());
    }
    let (empty, s) = gen(&GenOptions {
        layout: Layout::JsonArray,
        ..opts(0)
    });
    assert_eq!(empty, b"[]\n");
    assert_eq!(s.records, 0);
    let (empty, _) = gen(&opts(0));
    assert!(empty.is_empty());
}

#[test]
fn export_lines_carry_symmetric_keys_and_twin_lines_do_not() {
    let (export, _) = gen(&opts(500));
    let export = records(&export);
    let mut sas = 0;
    for r in &export {
        assert!(r.get("deviceId").is_none() && r.get("importMode").is_none());
        assert!(r.get("authenticationType").is_none());
        let auth = &r["authentication"];
        let key = &auth["symmetricKey"]["primaryKey"];
        if auth["type"] == "sas" {
            sas += 1;
            assert_eq!(key.as_str().unwrap().len(), 44);
            assert_eq!(
                auth["symmetricKey"]["secondaryKey"].as_str().unwrap().len(),
                44
            );
        } else {
            assert!(key.is_null(), "{r}");
        }
    }
    assert!(sas > 350);

    let (twin, _) = gen(&GenOptions {
        shape: Shape::Twin,
        ..opts(500)
    });
    let text = std::str::from_utf8(&twin).unwrap();
    assert!(!text.contains("symmetricKey") && !text.contains("primaryKey"));
    for r in records(&twin) {
        assert!(r.get("authentication").is_none() && r.get("id").is_none());
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        let ranks: Vec<usize> = keys
            .iter()
            .map(|k| crate::model::twin_key_rank(k).unwrap_or_else(|| panic!("{k}")))
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
    }
}

#[test]
fn both_shapes_describe_the_same_fleet() {
    let (export, _) = gen(&opts(300));
    let (twin, _) = gen(&GenOptions {
        shape: Shape::Twin,
        ..opts(300)
    });
    let (export, twin) = (records(&export), records(&twin));
    assert_eq!(export.len(), twin.len());
    for (e, t) in export.iter().zip(&twin) {
        assert_eq!(e["id"], t["deviceId"]);
        assert_eq!(e.get("moduleId"), t.get("moduleId"));
        assert_eq!(e["eTag"], t["deviceEtag"]);
        assert_eq!(e["twinETag"], t["etag"]);
        assert_eq!(e["authentication"]["type"], t["authenticationType"]);
        assert_eq!(e["authentication"]["x509Thumbprint"], t["x509Thumbprint"]);
        for k in [
            "tags",
            "properties",
            "configurations",
            "capabilities",
            "deviceScope",
        ] {
            assert_eq!(e.get(k), t.get(k), "{k}");
        }
        for k in ["connectionState", "lastActivityTime", "version", "modelId"] {
            assert_eq!(e[k], t[k], "{k}");
        }
    }
}

#[test]
fn optional_members_follow_the_options() {
    let (out, s) = gen(&GenOptions {
        metadata: false,
        twin_only_fields: false,
        ..opts(300)
    });
    assert_eq!(s.metadata_bytes, 0);
    let text = std::str::from_utf8(&out).unwrap();
    assert!(!text.contains("$metadata") && !text.contains("$version"));
    for r in records(&out) {
        assert!(r["properties"]["desired"].is_object());
        for absent in [
            "connectionState",
            "lastActivityTime",
            "statusUpdateTime",
            "cloudToDeviceMessageCount",
            "version",
            "modelId",
            "configurations",
        ] {
            assert!(r.get(absent).is_none(), "{absent}");
        }
    }
}

#[test]
fn distributions_are_roughly_as_documented() {
    let n = 10_000;
    let (out, s) = gen(&opts(n));
    let recs = records(&out);
    let devices: Vec<&Value> = recs.iter().filter(|r| !is_module(r)).collect();
    let share = |pred: &dyn Fn(&Value) -> bool| {
        devices.iter().filter(|r| pred(r)).count() as f64 / n as f64
    };
    let between = |what: &str, x: f64, lo: f64, hi: f64| {
        assert!((lo..=hi).contains(&x), "{what}: {x}");
    };
    between(
        "disabled",
        share(&|r| r["status"] == "disabled"),
        0.03,
        0.08,
    );
    between(
        "edge",
        share(&|r| r["capabilities"]["iotEdge"] == true),
        0.035,
        0.065,
    );
    between("no tags", share(&|r| r.get("tags").is_none()), 0.03, 0.07);
    let test_or_tmp = |r: &Value| id(r).starts_with("test-") || id(r).starts_with("tmp-");
    between("test-/tmp-", share(&test_or_tmp), 0.02, 0.04);
    between(
        "sas",
        share(&|r| r["authentication"]["type"] == "sas"),
        0.75,
        0.85,
    );
    for t in ["selfSigned", "certificateAuthority", "none"] {
        between(t, share(&|r| r["authentication"]["type"] == t), 0.01, 0.13);
    }
    between(
        "connected",
        share(&|r| r["connectionState"] == "Connected"),
        0.3,
        0.4,
    );
    between(
        "never updated",
        share(&|r| r["statusUpdateTime"] == "0001-01-01T00:00:00Z"),
        0.55,
        0.65,
    );
    between("empty modelId", share(&|r| r["modelId"] == ""), 0.45, 0.55);
    between(
        "chiller-cfg",
        share(&|r| r["configurations"]["chiller-cfg"].is_object()),
        0.2,
        0.3,
    );
    let reported = |r: &Value, k: &str| r["properties"]["reported"].get(k).cloned();
    between(
        "no connectivity",
        share(&|r| reported(r, "connectivity").is_none()),
        0.12,
        0.18,
    );
    between(
        "float battery",
        share(&|r| reported(r, "battery").is_some_and(|b| b.is_f64())),
        0.17,
        0.28,
    );
    between(
        "US",
        share(&|r| r["tags"]["location"]["region"] == "US"),
        0.28,
        0.36,
    );
    between(
        "canary",
        share(&|r| r["tags"]["ring"] == "canary"),
        0.03,
        0.07,
    );
    between(
        "unicode city",
        share(&|r| reported(r, "city").is_some()),
        0.15,
        0.25,
    );

    // Regions are skewed: every region appears, US most, each less common than the one before
    // give or take noise.
    let count = |region: &str| share(&|r| r["tags"]["location"]["region"] == region);
    assert!(count("US") > count("EU") && count("EU") > count("UK") && count("ZA") > 0.01);

    // Timestamps stay in the window and have 7 fractional digits.
    for r in &devices {
        let t = r["lastActivityTime"].as_str().unwrap();
        assert_eq!(t.len(), 28, "{t}");
        assert!(("2023-01-01".."2026-01-01").contains(&t), "{t}");
    }

    // Modules: right after their device, sharing its id; gateways have the edge modules.
    let mut current: Option<&Value> = None;
    let mut edge_modules = 0;
    for r in &recs {
        if is_module(r) {
            let device = current.expect("module before any device");
            assert_eq!(id(r), id(device));
            assert!(r.get("tags").is_none());
            if device["capabilities"]["iotEdge"] == true {
                edge_modules += 1;
            }
        } else {
            current = Some(r);
        }
    }
    let edge = devices
        .iter()
        .filter(|r| r["capabilities"]["iotEdge"] == true)
        .count();
    assert_eq!(edge_modules, 3 * edge);
    between(
        "modules per device",
        s.modules as f64 / n as f64,
        0.14,
        0.22,
    );

    // Scopes: gateways own theirs, leaf devices carry an earlier gateway's.
    let mut scopes = std::collections::HashSet::new();
    let mut leaves = 0;
    for r in &devices {
        if r["capabilities"]["iotEdge"] == true {
            let scope = r["deviceScope"].as_str().unwrap();
            assert!(scope.starts_with(&format!("ms-azure-iot-edge://{}-637", id(r))));
            assert_eq!(r["parentScopes"], Value::Array(vec![]));
            scopes.insert(scope.to_string());
        } else if let Some(scope) = r.get("deviceScope") {
            leaves += 1;
            assert!(scopes.contains(scope.as_str().unwrap()));
            assert_eq!(r["parentScopes"], Value::Array(vec![scope.clone()]));
        }
    }
    between("leaf devices", leaves as f64 / n as f64, 0.07, 0.12);
}

#[test]
fn defaults_match_the_benchmark_file_profile() {
    let (_, s) = gen(&opts(5000));
    let per_record = s.bytes as f64 / s.records as f64;
    let leaves = s.leaves as f64 / s.records as f64;
    let metadata = s.metadata_bytes as f64 / s.bytes as f64;
    assert!(
        (1350.0..=1650.0).contains(&per_record),
        "{per_record} bytes/record"
    );
    assert!((35.0..=45.0).contains(&leaves), "{leaves} leaves/record");
    assert!((0.28..=0.40).contains(&metadata), "{metadata} in $metadata");
}

/// SPEC §1.3, checked on every record of both shapes.
#[test]
fn every_record_follows_the_content_rules() {
    fn check(v: &Value, depth: usize, path: &str) {
        assert!(depth <= 10, "{path} too deep");
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let system = matches!(
                        k.as_str(),
                        "$metadata" | "$version" | "$lastUpdated" | "$lastUpdatedVersion"
                    );
                    assert!(!k.is_empty() && k.len() <= 1024, "{path}.{k}");
                    assert!(
                        !k.chars().any(|c| c.is_control() || c == '.' || c == ' '),
                        "{path}.{k}"
                    );
                    assert!(system || !k.contains('$'), "{path}.{k}");
                    check(child, depth + 1, &format!("{path}.{k}"));
                }
            }
            Value::Array(a) => {
                for x in a {
                    assert!(!x.is_null(), "null in array at {path}");
                    check(x, depth, path);
                }
            }
            Value::String(s) => assert!(s.len() <= 4096),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    assert!(i.unsigned_abs() <= 1 << 52, "{path}: {i}");
                }
            }
            _ => {}
        }
    }
    for shape in [Shape::Export, Shape::Twin] {
        let (out, _) = gen(&GenOptions {
            shape,
            ..opts(2000)
        });
        for r in records(&out) {
            let id = id(&r).to_string();
            assert!(!id.is_empty() && id.len() <= 128);
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-:.+%_#*?!(),=@;$'".contains(&b)));
            if let Some(tags) = r.get("tags") {
                check(tags, 0, "tags");
                assert!(serde_json::to_string(tags).unwrap().len() <= 8 * 1024);
            }
            for section in ["desired", "reported"] {
                let p = &r["properties"][section];
                check(p, 0, section);
                assert!(serde_json::to_string(p).unwrap().len() <= 32 * 1024);
            }
            if let Some(Value::Array(scopes)) = r.get("parentScopes") {
                assert!(scopes.iter().all(Value::is_string));
            }
        }
    }
}
