//! `mdbook-qms sbom`: CycloneDX 1.6 valid against the official schema, OpenVEX, both
//! byte-for-byte deterministic, `--out` written atomically.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

use crate::support::builder::Built;
use crate::support::ProjectBuilder;

const SBOM: &str = r#"{
  "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
  "metadata": {"timestamp": "2026-11-01T00:00:00Z", "authors": [{"name": "Acme build"}],
    "component": {"type": "firmware", "bom-ref": "fw", "name": "pump-fw", "version": "1.0.0", "supplier": {"name": "Acme"}, "purl": "pkg:generic/acme/pump-fw@1.0.0"}},
  "components": [
    {"type": "operating-system", "bom-ref": "os", "name": "zephyr", "version": "3.7.0", "supplier": {"name": "Zephyr Project"},
     "purl": "pkg:github/zephyrproject-rtos/zephyr@v3.7.0", "licenses": [{"license": {"id": "Apache-2.0"}}],
     "properties": [{"name": "acme:support-level", "value": "active"}, {"name": "acme:end-of-support", "value": "2029-07-31"}]},
    {"type": "library", "bom-ref": "tls", "name": "mbedtls", "version": "3.6.2", "supplier": {"name": "Trusted Firmware"},
     "purl": "pkg:github/Mbed-TLS/mbedtls@v3.6.2",
     "properties": [{"name": "acme:support-level", "value": "active"}, {"name": "acme:end-of-support", "value": "2027-03-31"}]}
  ],
  "dependencies": [{"ref": "fw", "dependsOn": ["os", "tls"]}, {"ref": "os", "dependsOn": []}, {"ref": "tls", "dependsOn": []}]
}"#;

const ITEMS: &str = "\
- id: CMP-FW
  type: component
  title: Pump firmware
  purl: pkg:generic/acme/pump-fw@1.0.0
  license: LicenseRef-Acme-Proprietary
  support: active
  end_of_support: 2031-12-31
- id: VUL-1
  type: vulnerability
  title: Mbed TLS hostname check
  cve: CVE-2025-27809
  cvss: CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:L/I:L/A:N
  components: pkg:github/Mbed-TLS/mbedtls@v3.6.2
  status: not_affected
  justification: 'vulnerable_code_not_in_execute_path: no TLS client on the pump'
  identified: 2025-03-26
- id: VUL-2
  type: vulnerability
  title: Zephyr BLE overflow
  cve: CVE-2023-4264
  cvss: CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N
  components: CMP-ZEPHYR-3-7-0
  status: affected
  action: Upgrade to Zephyr 3.7.1 in firmware 1.0.1.
- id: VUL-3
  type: vulnerability
  title: Fixed one
  cve: CVE-2024-5535
  components: CMP-FW
  status: fixed
  action: Fixed in 1.0.0.
  identified: 2024-06-28
  patched: 2024-09-03
  deployed: 2024-10-08
";

fn project() -> Built {
    ProjectBuilder::new()
        .book_toml("[book]\ntitle = \"Pump\"\nsrc = \"book\"\n[preprocessor.qms]\n")
        .file("requirements/items.yaml", ITEMS)
        .file("trace/sbom/fw.cdx.json", SBOM)
        .build()
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("sbom")
        .arg(dir)
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1764288000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn cyclonedx_validator() -> jsonschema::Validator {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cyclonedx");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(data.join(name)).unwrap()).unwrap()
    };
    let bom = read("bom-1.6.SNAPSHOT.schema.json");
    // bom-1.6's `$ref`s are relative to its `$id`, http://cyclonedx.org/schema/.
    let registry = jsonschema::Registry::new()
        .extend([
            (
                "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json".to_owned(),
                read("spdx.SNAPSHOT.schema.json"),
            ),
            (
                "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json".to_owned(),
                read("jsf-0.82.SNAPSHOT.schema.json"),
            ),
        ])
        .and_then(|b| b.prepare())
        .unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&bom)
        .unwrap()
}

#[test]
fn cyclonedx_is_valid_and_deterministic() {
    let dir = project();
    let first = run(dir.path(), &[]);
    assert_eq!(first, run(dir.path(), &[]), "same input, same bytes");
    let doc: Value = serde_json::from_str(&first).unwrap();
    let validator = cyclonedx_validator();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema is really applied: a wrong enum value is caught.
    let mut broken = doc.clone();
    broken["vulnerabilities"][0]["analysis"]["state"] = "fine".into();
    assert!(!validator.is_valid(&broken));
    // ...and the SPDX license list it references is registered: an unknown id fails.
    let mut broken = doc.clone();
    broken["components"][0]["licenses"] = serde_json::json!([{"license": {"id": "NOT-A-LICENSE"}}]);
    assert!(!validator.is_valid(&broken));
    broken["components"][0]["licenses"] = serde_json::json!([{"license": {"id": "Apache-2.0"}}]);
    assert!(validator.is_valid(&broken));

    assert_eq!(doc["specVersion"], "1.6");
    assert_eq!(doc["metadata"]["timestamp"], "2025-11-28T00:00:00Z");
    let comps = doc["components"].as_array().unwrap();
    let names: Vec<&str> = comps.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["pump-fw", "mbedtls", "zephyr"],
        "in item id order: CMP-FW, CMP-MBEDTLS-.., CMP-ZEPHYR-.."
    );
    let fw = &comps[0];
    assert_eq!(fw["type"], "firmware", "the SBOM's type is kept");
    assert_eq!(fw["bom-ref"], "pkg:generic/acme/pump-fw@1.0.0");
    assert_eq!(fw["supplier"]["name"], "Acme", "filled in from the SBOM");
    let props: Vec<(&str, &str)> = fw["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    assert!(props.contains(&("mdbook-qms:support-level", "active")));
    assert!(props.contains(&("mdbook-qms:end-of-support", "2031-12-31")));
    let deps = doc["dependencies"].as_array().unwrap();
    assert_eq!(deps[0]["ref"], "product");
    assert_eq!(
        deps[0]["dependsOn"],
        serde_json::json!(["pkg:generic/acme/pump-fw@1.0.0"])
    );
    assert_eq!(
        deps[1]["dependsOn"],
        serde_json::json!([
            "pkg:github/Mbed-TLS/mbedtls@v3.6.2",
            "pkg:github/zephyrproject-rtos/zephyr@v3.7.0"
        ])
    );
    let v = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(v[0]["id"], "CVE-2025-27809");
    assert_eq!(v[0]["analysis"]["state"], "not_affected");
    assert_eq!(v[0]["analysis"]["justification"], "code_not_reachable");
    assert_eq!(
        v[0]["ratings"][0]["score"], 5.4,
        "CVSS 3.1 base score of the vector, as NVD gives it"
    );
    assert_eq!(v[0]["ratings"][0]["method"], "CVSSv31");
    assert_eq!(v[1]["analysis"]["state"], "exploitable");
    assert_eq!(v[1]["ratings"][0]["method"], "CVSSv4");
    assert_eq!(
        v[1]["affects"][0]["ref"],
        "pkg:github/zephyrproject-rtos/zephyr@v3.7.0"
    );
    assert_eq!(v[2]["analysis"]["state"], "resolved");

    // --out writes the same bytes, atomically (no temporary file left behind).
    let out = dir.path().join("out/sbom.cdx.json");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    assert_eq!(run(dir.path(), &["--out", out.to_str().unwrap()]), "");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);
    assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 1);
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o644,
        "not the temporary file's 0600"
    );
}

/// Both documents name the submission's device, not the book: manufacturer, model and
/// version of the `device` item.
#[test]
fn sbom_and_vex_name_the_device() {
    let dir = ProjectBuilder::new()
        .book_toml("[book]\ntitle = \"Design file\"\nsrc = \"book\"\n[preprocessor.qms]\n")
        .file("requirements/items.yaml", ITEMS)
        .file(
            "requirements/device.yaml",
            "id: DEV-1\ntype: device\ntitle: Connected pump system\nmodel: Pump X (PX-1)\nversion: 1.0.0\nmanufacturer: Acme Medical\nintended_use: Insulin delivery.\nsoftware: true\nconnectivity: [ble]\n",
        )
        .file("trace/sbom/fw.cdx.json", SBOM)
        .build();
    let bom: Value = serde_json::from_str(&run(dir.path(), &[])).unwrap();
    assert!(cyclonedx_validator().is_valid(&bom));
    let product = &bom["metadata"]["component"];
    assert_eq!(product["type"], "device");
    assert_eq!(product["name"], "Pump X (PX-1)");
    assert_eq!(product["version"], "1.0.0");
    assert_eq!(product["manufacturer"]["name"], "Acme Medical");
    assert_eq!(product["description"], "Connected pump system");
    assert_eq!(bom["metadata"]["manufacturer"]["name"], "Acme Medical");
    assert!(!bom.to_string().contains("Design file"), "{bom}");

    let vex: Value = serde_json::from_str(&run(dir.path(), &["--format", "openvex"])).unwrap();
    assert_eq!(vex["author"], "Acme Medical");
    let products: Vec<&Value> = vex["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["products"][0])
        .collect();
    assert!(products
        .iter()
        .all(|p| p["@id"] == "pkg:generic/Acme%20Medical/Pump%20X%20%28PX-1%29@1.0.0"));
    assert_eq!(
        products[1]["subcomponents"][0]["@id"],
        "pkg:github/zephyrproject-rtos/zephyr@v3.7.0"
    );
    assert!(!vex.to_string().contains("Design file"), "{vex}");
}

#[test]
fn openvex_statements() {
    let dir = project();
    let text = run(dir.path(), &["--format", "openvex"]);
    assert_eq!(text, run(dir.path(), &["--format", "openvex"]));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["@context"], "https://openvex.dev/ns/v0.2.0");
    assert_eq!(doc["timestamp"], "2025-11-28T00:00:00Z");
    let s = doc["statements"].as_array().unwrap();
    assert_eq!(s.len(), 3);
    assert_eq!(s[0]["vulnerability"]["name"], "CVE-2025-27809");
    assert_eq!(s[0]["status"], "not_affected");
    assert_eq!(s[0]["justification"], "vulnerable_code_not_in_execute_path");
    // Without a device item the book's title stands for the product.
    assert_eq!(doc["author"], "Pump");
    assert_eq!(s[0]["products"][0]["@id"], "pkg:generic/Pump");
    assert_eq!(
        s[0]["products"][0]["subcomponents"][0]["@id"], "pkg:github/Mbed-TLS/mbedtls@v3.6.2",
        "the component given by purl"
    );
    assert_eq!(s[1]["status"], "affected");
    assert_eq!(
        s[1]["action_statement"],
        "Upgrade to Zephyr 3.7.1 in firmware 1.0.1."
    );
    assert_eq!(s[2]["status"], "fixed");
}

#[test]
fn a_project_with_errors_gets_no_sbom() {
    let dir = project();
    dir.write(
        "requirements/bad.yaml",
        "id: VUL-9\ntype: vulnerability\ntitle: x\ncomponents: CMP-NOPE\nstatus: fixed\n",
    );
    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("sbom")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CMP-NOPE"));
}

#[test]
fn the_example_and_the_tool_itself_give_valid_cyclonedx() {
    let validator = cyclonedx_validator();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [root.join("examples/insulin-pump"), root.to_path_buf()] {
        let doc: Value = serde_json::from_str(&run(&dir, &[])).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", dir.display());
        assert!(doc["components"].as_array().unwrap().len() > 10);
    }
}
