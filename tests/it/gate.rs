//! `mdbook-qms gate`: each kind of blocker fails the gate on a real project in a real
//! git repository, `allow-gaps` and anomaly items let through what they name, `--at`
//! judges a commit, and the example fails for the reasons it has.

use std::ffi::OsStr;
use std::path::Path;

use crate::support::cli::{run, Run};
use crate::support::git::Repo;
use crate::support::{repo_root, ProjectBuilder};
use mdbook_qms::documents::DOCUMENTS;
use serde_json::Value;

/// A control that a passing test verifies, with its JUnit result.
const VERIFIED: &str = "\
- {id: CTL-1, type: control, title: Pairing, category: authentication}
- {id: TST-1, type: test, title: Pairing test, verifies: [CTL-1], evidence: pairing_works}
";

fn junit(outcome: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="run"><testsuite name="s" tests="1" timestamp="2026-01-01T00:00:00Z"><testcase classname="s" name="pairing_works">{outcome}</testcase></testsuite></testsuites>
"#
    )
}

/// `[preprocessor.qms.gate]` allowing every gap a document's marker shows (an almost
/// empty project has dozens), but no check finding, plus `extra` patterns.
fn allow_markers(extra: &[&str]) -> String {
    let patterns: Vec<String> = DOCUMENTS
        .iter()
        .map(|d| format!("{}:*", d.name))
        .chain(extra.iter().map(|p| (*p).to_owned()))
        .map(|p| format!("{p:?}"))
        .collect();
    format!(
        "\n[preprocessor.qms.gate]\nallow-gaps = [{}]\n",
        patterns.join(", ")
    )
}

/// A committed project: `items` in requirements/items.yaml, the JUnit `result`.
fn project(items: &str, result: &str, toml: &str) -> Repo {
    ProjectBuilder::new()
        .toml(toml)
        .file("requirements/items.yaml", items)
        .file("trace/junit.xml", result)
        .commit("Alice", "The design")
}

fn gate(dir: &Path, args: &[&str]) -> Run {
    let mut all: Vec<&OsStr> = vec![OsStr::new("gate"), OsStr::new("-C"), dir.as_os_str()];
    all.extend(args.iter().map(OsStr::new));
    run(&all)
}

/// `gate --format json`: (exit status, the object).
fn gate_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--format", "json"];
    all.extend(args);
    let r = gate(dir, &all);
    let json = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", r.stdout, r.stderr));
    (r.code, json)
}

fn blockers<'a>(gate: &'a Value, kind: &str) -> Vec<&'a Value> {
    gate["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == kind)
        .collect()
}

#[test]
fn a_verified_project_with_its_gaps_allowed_passes() {
    let r = project(VERIFIED, &junit(""), &allow_markers(&[]));
    let run = gate(&r.root, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "gate: passed\n");
    let (code, json) = gate_json(&r.root, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        json,
        serde_json::json!({"passed": true, "revision": null, "blockers": []})
    );
}

#[test]
fn an_error_blocks_with_its_code_and_place() {
    let items =
        format!("{VERIFIED}- {{id: REQ-1, type: requirement, title: X, parent: REQ-404}}\n");
    let r = project(&items, &junit(""), &allow_markers(&[]));
    let (code, json) = gate_json(&r.root, &[]);
    assert_eq!(code, 1, "{json:#}");
    let errors = blockers(&json, "error");
    assert_eq!(errors.len(), 1, "{json:#}");
    assert_eq!(errors[0]["code"], "link-unknown");
    assert_eq!(errors[0]["subject"], "REQ-1");
    assert_eq!(errors[0]["file"], "requirements/items.yaml");
    assert_eq!(errors[0]["line"], 3);
    let human = gate(&r.root, &[]);
    assert_eq!(human.code, 1);
    assert!(
        human
            .stdout
            .starts_with("errors (1):\n  1. requirements/items.yaml:3: ")
            && human.stdout.contains("[link-unknown]")
            && human.stdout.ends_with("\ngate: 1 blocker\n"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_gap_blocks_until_book_toml_allows_its_key() {
    // CTL-2 has no test: `control-untested`, a gap of the controls document.
    let items = format!(
        "{VERIFIED}- {{id: CTL-2, type: control, title: Roles, category: authorization}}\n"
    );
    let r = project(&items, &junit(""), &allow_markers(&[]));
    let (code, json) = gate_json(&r.root, &[]);
    assert_eq!(code, 1, "{json:#}");
    let gaps = blockers(&json, "gap");
    assert_eq!(gaps.len(), 1, "{json:#}");
    assert_eq!(gaps[0]["key"], "control-untested:CTL-2");
    assert_eq!(gaps[0]["subject"], "CTL-2");
    assert_eq!(gaps[0]["line"], 3);
    // The key is the one `gaps --format json` prints, so it can be copied from there.
    let listed = run(&[
        OsStr::new("gaps"),
        r.root.as_os_str(),
        OsStr::new("--format"),
        OsStr::new("json"),
    ]);
    assert!(
        listed
            .stdout
            .contains("\"key\": \"control-untested:CTL-2\""),
        "{}",
        listed.stdout
    );

    // A pattern allows it; the same pattern for another code does not.
    r.write(
        "book.toml",
        &format!(
            "{}{}",
            crate::support::BOOK_TOML,
            allow_markers(&["control-untested:CTL-*"])
        ),
    );
    assert_eq!(gate(&r.root, &[]).code, 0);
    r.write(
        "book.toml",
        &format!(
            "{}{}",
            crate::support::BOOK_TOML,
            allow_markers(&["stride-gap:*"])
        ),
    );
    assert_eq!(gate(&r.root, &[]).code, 1);
}

#[test]
fn a_failed_test_blocks_its_control_unless_an_anomaly_names_it() {
    let failed = junit(r#"<failure message="pairing refused"/>"#);
    let r = project(VERIFIED, &failed, &allow_markers(&[]));
    let (code, json) = gate_json(&r.root, &[]);
    assert_eq!(code, 1, "{json:#}");
    let unverified = blockers(&json, "verification");
    assert_eq!(unverified.len(), 1, "{json:#}");
    assert_eq!(unverified[0]["subject"], "CTL-1");
    assert_eq!(unverified[0]["file"], "requirements/items.yaml");
    assert_eq!(unverified[0]["line"], 1);
    let message = unverified[0]["message"].as_str().unwrap();
    assert!(
        message.contains("TST-1 failed") && message.contains("pairing refused"),
        "{message}"
    );
    // The failure is also a gap of the testing report.
    assert_eq!(blockers(&json, "gap")[0]["key"], "test-failed:TST-1");

    // An anomaly item that names the test records the failure: nothing blocks.
    r.write(
        "requirements/anomalies.yaml",
        "- {id: ANOM-1, type: anomaly, title: TST-1 fails on old phones, security_impact: none, rationale: Pairing is retried.}\n",
    );
    let (code, json) = gate_json(&r.root, &[]);
    assert_eq!(code, 0, "{json:#}");
}

#[test]
fn missing_and_stale_results_block_too() {
    // No result at all names TST-1.
    let other = junit("").replace("pairing_works", "something_else");
    let r = project(
        VERIFIED,
        &other,
        &allow_markers(&["test-result-unmatched:*"]),
    );
    let (_, json) = gate_json(&r.root, &[]);
    let unverified = blockers(&json, "verification");
    assert_eq!(unverified.len(), 1, "{json:#}");
    assert!(
        unverified[0]["message"]
            .as_str()
            .unwrap()
            .contains("TST-1 missing"),
        "{json:#}"
    );

    // The control changes after its passing result was committed: the result is stale.
    let r = project(VERIFIED, &junit(""), &allow_markers(&[]));
    assert_eq!(gate(&r.root, &[]).code, 0);
    r.write(
        "requirements/items.yaml",
        &VERIFIED.replace("title: Pairing,", "title: Passkey pairing,"),
    );
    r.commit("Alice", "Retitle the control");
    let (code, json) = gate_json(&r.root, &[]);
    assert_eq!(code, 1, "{json:#}");
    let unverified = blockers(&json, "verification");
    assert!(
        unverified[0]["message"]
            .as_str()
            .unwrap()
            .contains("TST-1 stale"),
        "{json:#}"
    );
}

#[test]
fn a_known_exploited_vulnerability_blocks_until_fixed() {
    let vulnerability = |status: &str| {
        format!("{VERIFIED}- {{id: VUL-1, type: vulnerability, title: Overflow, cve: CVE-2099-0004, {status}}}\n")
    };
    let kev = r#"{"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.11.27", "count": 1,
      "vulnerabilities": [{"cveID": "CVE-2099-0004", "vendorProject": "X", "product": "Y", "dateAdded": "2026-01-05"}]}"#;
    // `kev-not-fixed` (an error) is silenced, to show the gate judges KEV on its own.
    let toml = format!(
        "\n[preprocessor.qms.lints]\nkev-not-fixed = \"allow\"\n{}",
        allow_markers(&["patch-overdue:*"])
    );
    let r = ProjectBuilder::new()
        .toml(&toml)
        .file(
            "requirements/items.yaml",
            vulnerability("status: affected, action: patch next quarter, identified: 2026-01-01"),
        )
        .file("trace/junit.xml", junit(""))
        .file("trace/known_exploited_vulnerabilities.json", kev)
        .commit("Alice", "The design");
    let (code, json) = gate_json(&r.root, &[]);
    assert_eq!(code, 1, "{json:#}");
    let exploited = blockers(&json, "known-exploited");
    assert_eq!(exploited.len(), 1, "{json:#}");
    assert_eq!(exploited[0]["subject"], "VUL-1");
    assert_eq!(exploited[0]["line"], 3);
    assert!(
        exploited[0]["message"]
            .as_str()
            .unwrap()
            .contains("Known Exploited Vulnerabilities catalogue and its status is affected"),
        "{json:#}"
    );
    for status in [
        "status: fixed, identified: 2026-01-01, patched: 2026-01-02, deployed: 2026-01-03",
        "status: not_affected, justification: component_not_present",
    ] {
        r.write("requirements/items.yaml", &vulnerability(status));
        let (code, json) = gate_json(&r.root, &[]);
        assert_eq!(code, 0, "{status}: {json:#}");
    }
}

#[test]
fn at_a_revision_the_gate_judges_that_commit() {
    let r = project(VERIFIED, &junit(""), &allow_markers(&[]));
    r.git(&["tag", "v1"]);
    let head = r.git(&["rev-parse", "HEAD"]).trim().to_owned();
    // The work tree breaks: a link to nothing.
    r.write(
        "requirements/more.yaml",
        "- {id: REQ-1, type: requirement, title: X, parent: REQ-404}\n",
    );
    assert_eq!(gate(&r.root, &[]).code, 1);
    let (code, json) = gate_json(&r.root, &["v1"]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["revision"], head.as_str());

    let unknown = gate(&r.root, &["v9"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("`v9` names no commit or tag"),
        "{}",
        unknown.stderr
    );
    let outside = Repo::plain();
    let run = gate(&outside.root, &["v1"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("needs a git repository"),
        "{}",
        run.stderr
    );
    let nothing = tempfile::tempdir().unwrap();
    let run = gate(nothing.path(), &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no book.toml"), "{}", run.stderr);
}

#[test]
fn an_unknown_key_in_the_gate_table_is_reported() {
    let r = project(
        VERIFIED,
        &junit(""),
        "\n[preprocessor.qms.gate]\nallow-gap = [\"*\"]\n",
    );
    let (code, json) = gate_json(&r.root, &[]);
    assert_eq!(code, 1);
    let errors = blockers(&json, "error");
    assert_eq!(errors[0]["code"], "config-unknown-key", "{json:#}");
    let check = run(&[OsStr::new("check"), r.root.as_os_str()]);
    assert!(
        check.stderr.contains("did you mean `allow-gaps`?"),
        "{}",
        check.stderr
    );
}

/// The example fails the gate for the reasons it has: a control whose test was skipped
/// with no anomaly naming it, and its gaps; the failed load test an anomaly records
/// does not block.
#[test]
fn the_example_fails_for_its_stated_reasons() {
    let example = repo_root().join("examples/insulin-pump");
    let (code, json) = gate_json(&example, &[]);
    assert_eq!(code, 1, "{json:#}");
    assert!(blockers(&json, "error").is_empty(), "{json:#}");
    assert!(blockers(&json, "known-exploited").is_empty(), "{json:#}");
    let unverified: Vec<&str> = blockers(&json, "verification")
        .iter()
        .map(|b| b["subject"].as_str().unwrap())
        .collect();
    assert_eq!(unverified, ["CTL-SIEM"], "{json:#}");
    let keys: Vec<&str> = blockers(&json, "gap")
        .iter()
        .map(|b| b["key"].as_str().unwrap())
        .collect();
    for wanted in [
        "test-skipped:TST-SIEM",
        "component-end-of-support:CMP-NGINX",
        "security-labeling:Backup and restore of configuration",
    ] {
        assert!(keys.contains(&wanted), "no gap {wanted}: {keys:?}");
    }
    assert!(
        !keys.contains(&"test-failed:TST-CLOUD-RESILIENCE"),
        "an anomaly names TST-CLOUD-RESILIENCE: {keys:?}"
    );
    // The accepted risks and the plan carry their signed approvals (commits of this
    // repository); the release approval book.toml requires is not given.
    let approvals: Vec<&str> = blockers(&json, "approval")
        .iter()
        .map(|b| b["subject"].as_str().unwrap())
        .collect();
    assert_eq!(approvals, ["ROLE-RA"], "{json:#}");
}
