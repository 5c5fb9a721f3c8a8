//! mdbook-qms's own SBOM, `trace/sbom.cdx.json`: the crates it ships (normal
//! dependencies of the package, from `cargo metadata`, so from Cargo.lock), as
//! CycloneDX 1.6. This test keeps the committed file in step with Cargo.lock; refresh
//! it with `UPDATE_SELF_SBOM=1 cargo test --test it evidence_self::`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{json, Value};

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The supplier NTIA asks for: the first author without e-mail, else the owner of the
/// repository, else the registry.
fn supplier(pkg: &Value) -> String {
    if let Some(a) = pkg["authors"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_str)
    {
        let name = a.split('<').next().unwrap_or(a).trim();
        if !name.is_empty() {
            return name.to_owned();
        }
    }
    if let Some(repo) = pkg["repository"].as_str() {
        let parts: Vec<&str> = repo.trim_end_matches('/').split('/').collect();
        if parts.len() >= 4 {
            return format!("{} ({})", parts[3], parts[2]);
        }
    }
    "crates.io".into()
}

fn purl(pkg: &Value) -> String {
    format!(
        "pkg:cargo/{}@{}",
        pkg["name"].as_str().unwrap(),
        pkg["version"].as_str().unwrap()
    )
}

/// The SBOM, without `metadata.timestamp` and `serialNumber` (set when written).
fn generate() -> Value {
    let meta = metadata();
    let packages: BTreeMap<&str, &Value> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p))
        .collect();
    let root = meta["resolve"]["root"].as_str().unwrap();
    let nodes: BTreeMap<&str, &Value> = meta["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n))
        .collect();
    // Normal and build dependencies of normal dependencies: what the binary is made of.
    let shipped_deps = |id: &str| -> Vec<&str> {
        nodes[id]["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null() || k["kind"] == "build")
            })
            .map(|d| d["pkg"].as_str().unwrap())
            .collect()
    };
    let mut seen = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            stack.extend(shipped_deps(id));
        }
    }
    let rootpkg = packages[root];
    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    let mut ordered: Vec<&str> = seen.iter().copied().collect();
    ordered.sort_by_key(|id| {
        (
            packages[id]["name"].as_str().unwrap(),
            packages[id]["version"].as_str().unwrap(),
        )
    });
    for id in &ordered {
        let pkg = packages[id];
        let mut deps: Vec<String> = shipped_deps(id)
            .into_iter()
            .map(|d| purl(packages[d]))
            .collect();
        deps.sort();
        deps.dedup();
        dependencies.push(json!({"ref": purl(pkg), "dependsOn": deps}));
        if *id == root {
            continue;
        }
        let mut c = json!({
            "type": "library",
            "bom-ref": purl(pkg),
            "supplier": {"name": supplier(pkg)},
            "name": pkg["name"],
            "version": pkg["version"],
            "purl": purl(pkg),
        });
        if let Some(l) = pkg["license"].as_str() {
            c["licenses"] = json!([{"expression": l}]);
        }
        if let Some(d) = pkg["description"].as_str() {
            c["description"] = json!(d.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        components.push(c);
    }
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "authors": [{"name": "mdbook-qms contributors"}],
            "tools": {"components": [{"type": "application", "name": "cargo metadata (tests/it/evidence_self.rs)"}]},
            "component": {
                "type": "application",
                "bom-ref": purl(rootpkg),
                "supplier": {"name": "mdbook-qms contributors"},
                "name": rootpkg["name"],
                "version": rootpkg["version"],
                "purl": purl(rootpkg),
                "licenses": [{"expression": rootpkg["license"]}]
            }
        },
        "components": components,
        "dependencies": dependencies
    })
}

fn strip(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("serialNumber");
    }
    if let Some(m) = v["metadata"].as_object_mut() {
        m.remove("timestamp");
    }
    v
}

#[test]
fn own_sbom_matches_cargo_lock() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("trace/sbom.cdx.json");
    let fresh = generate();
    if std::env::var_os("UPDATE_SELF_SBOM").is_some() {
        let mut doc = fresh.clone();
        doc["metadata"]["timestamp"] = json!(mdbook_qms::date::Timestamp::now().rfc3339());
        let body = serde_json::to_string(&doc).unwrap();
        // A version-4-shaped id from the content, as `mdbook-qms sbom` makes them.
        let h = format!("{:032x}", fnv1a_128(body.as_bytes()));
        doc["serialNumber"] = json!(format!(
            "urn:uuid:{}-{}-4{}-8{}-{}",
            &h[..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        ));
        let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
        mdbook_qms::atomic::write(&path, text.as_bytes()).unwrap();
    }
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("trace/sbom.cdx.json"))
            .unwrap();
    assert!(committed["metadata"]["timestamp"].is_string());
    assert!(
        strip(committed) == strip(fresh),
        "trace/sbom.cdx.json is out of date with Cargo.lock: run `UPDATE_SELF_SBOM=1 cargo test --test it evidence_self::`"
    );
}

/// FNV-1a 128-bit: enough for a content-derived serial number without another
/// dev-dependency.
fn fnv1a_128(bytes: &[u8]) -> u128 {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for &b in bytes {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000000001000000000000000000013B);
    }
    h
}

#[test]
fn own_sbom_reads_cleanly() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("trace/sbom.cdx.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let source = mdbook_qms::source::SourceFile::new("trace/sbom.cdx.json".into(), text);
    let mut ds = Vec::new();
    let sbom = mdbook_qms::evidence::sbom::parse(mdbook_qms::source::FileId(0), &source, &mut ds)
        .expect("an SBOM");
    assert!(ds.is_empty(), "{ds:?}");
    assert!(sbom.components.len() > 20);
    assert!(sbom.components.iter().all(|c| c.in_dependencies
        && c.purl.is_some()
        && c.supplier.is_some()
        && c.version.is_some()));
}
