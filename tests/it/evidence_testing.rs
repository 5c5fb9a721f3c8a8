//! Test evidence on test items (issue 15, item 2): the checks of `evidence::testing`, a
//! test's `build` against the device's version, the link inside each finding, and the
//! testing report's findings. Each check's positive case is a diagnostic case folder
//! (tests/cases/diagnostics/); here a complete project raises none of them, and each
//! test breaks one fact.

use mdbook_qms::documents;
use serde_json::Value;

use crate::support::builder::ProjectBuilder;
use crate::support::cli::{assert_at, assert_item, errors, one, pretty, Project};

/// The codes of the test evidence checks.
const CODES: &[&str] = &[
    "pentest-incomplete",
    "test-tool-missing",
    "test-dates-reversed",
    "finding-id-duplicate",
    "finding-disposition-missing",
    "finding-deferred-no-anomaly",
    "finding-rationale-missing",
    "device-version-mismatch",
];

const DEVICE: &str = "id: DEV-PUMP
type: device
title: Pump
version: firmware 2.1
intended_use: Insulin delivery.
software: true
connectivity: [ble]
";

const OTHERS: &str = "- id: REQ-1
  type: requirement
  title: Commands are authenticated
- id: VUL-1
  type: vulnerability
  title: Command parser overflow
  status: fixed
  identified: 2026-09-02
  patched: 2026-09-09
- id: ANOM-1
  type: anomaly
  title: Slow reconnection after a parser reset
  security_impact: Reconnection takes up to 30 s; therapy continues.
  rationale: Fixed with the next release.
";

/// A penetration test and a fuzzing campaign with every fact their methods need, and
/// findings with every disposition.
const TESTS: &str = "- id: TST-PENTEST
  type: test
  title: Penetration test of the BLE interface
  method: penetration
  verifies: REQ-1
  tester: Example Lab
  independence: third-party
  scope: The BLE interface of the pump.
  started: 2026-10-05
  finished: 2026-10-05
  build: firmware 2.1.0-rc2
  findings:
    - id: PT-1
      title: Parser overflow on a long write
      severity: critical
      cwe: CWE-787
      disposition: fixed
      item: VUL-1
    - id: PT-2
      title: Slow reconnection after a parser reset
      severity: low
      disposition: deferred
      item: ANOM-1
    - id: PT-3
      title: Verbose error codes
      severity: informational
      disposition: accepted
      rationale: The codes name no secret and no account.
    - id: PT-4
      title: Weak pairing reported by the scanner
      severity: high
      disposition: false-positive
      rationale: The pump pairs only with LE Secure Connections; the scanner read the legacy flag.
- id: TST-FUZZ
  type: test
  title: Fuzzing the command parser
  method: fuzz
  verifies: REQ-1
  tool: libFuzzer
  tool_version: LLVM 18.1.8
";

/// A project with the device, the items above and `tests` as the test items.
fn project(tests: &str) -> Project {
    let p = Project::new();
    p.write("requirements/device.yaml", DEVICE)
        .write("requirements/items.yaml", OTHERS)
        .write("requirements/tests.yaml", tests);
    p
}

/// The diagnostics of the test evidence checks (and every error).
fn findings(p: &Project) -> Vec<Value> {
    let (_, diags) = p.json();
    diags
        .into_iter()
        .filter(|d| d["severity"] == "error" || CODES.iter().any(|c| d["code"] == *c))
        .collect()
}

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|n| n as u64 + 1)
        .unwrap_or_else(|| panic!("`{needle}` not in the text"))
}

#[test]
fn complete_test_evidence_raises_nothing() {
    let p = project(TESTS);
    let found = findings(&p);
    assert!(found.is_empty(), "{}", pretty(&found));
}

#[test]
fn each_missing_fact_of_a_penetration_test_is_named() {
    let tests = TESTS
        .replace("  independence: third-party\n", "")
        .replace("  started: 2026-10-05\n", "");
    let p = project(&tests);
    let found = findings(&p);
    let d = one(&found, "pentest-incomplete");
    assert_eq!(
        d["message"],
        "penetration test TST-PENTEST has no `independence` or `started`"
    );
    assert_item(d, Some("TST-PENTEST"));
    assert_at(
        d,
        "requirements/tests.yaml",
        line_of(&tests, "method: penetration"),
        11,
    );
    assert_eq!(found.len(), 1, "{}", pretty(&found));
}

#[test]
fn a_vulnerability_test_without_its_tool_version_is_reported_for_every_such_method() {
    for method in [
        "vulnerability",
        "fuzz",
        "static-analysis",
        "dynamic-analysis",
        "software-composition",
    ] {
        let tests = TESTS
            .replace("method: fuzz", &format!("method: {method}"))
            .replace("  tool_version: LLVM 18.1.8\n", "");
        let found = findings(&project(&tests));
        let d = one(&found, "test-tool-missing");
        assert_eq!(
            d["message"],
            format!("{method} test TST-FUZZ has no `tool_version`")
        );
        assert_eq!(found.len(), 1, "{}", pretty(&found));
    }
    // Other methods need no tool.
    let tests = TESTS
        .replace("method: fuzz", "method: requirements")
        .replace("  tool: libFuzzer\n  tool_version: LLVM 18.1.8\n", "");
    let found = findings(&project(&tests));
    assert!(found.is_empty(), "{}", pretty(&found));
}

#[test]
fn a_test_that_finished_before_it_started_is_reported() {
    let tests = TESTS.replace("  finished: 2026-10-05\n", "  finished: 2026-10-04\n");
    let found = findings(&project(&tests));
    let d = one(&found, "test-dates-reversed");
    assert_eq!(
        d["message"],
        "TST-PENTEST finished on 2026-10-04, before it started on 2026-10-05"
    );
    assert_at(
        d,
        "requirements/tests.yaml",
        line_of(&tests, "finished:"),
        13,
    );
    assert_eq!(found.len(), 1, "{}", pretty(&found));
}

#[test]
fn finding_ids_are_unique_within_a_test_not_across_tests() {
    let tests = TESTS.replace("    - id: PT-3\n", "    - id: PT-2\n");
    let found = findings(&project(&tests));
    let d = one(&found, "finding-id-duplicate");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["message"], "TST-PENTEST lists finding `PT-2` twice");
    assert_eq!(found.len(), 1, "{}", pretty(&found));
    // The same finding id in another test is another finding.
    let tests = format!(
        "{TESTS}  findings:\n    - id: PT-1\n      title: Crash on an empty frame\n      severity: medium\n      disposition: fixed\n"
    );
    let found = findings(&project(&tests));
    assert!(found.is_empty(), "{}", pretty(&found));
}

#[test]
fn a_finding_without_disposition_is_reported_at_its_id() {
    let tests = TESTS.replace("      disposition: accepted\n", "");
    let found = findings(&project(&tests));
    let d = one(&found, "finding-disposition-missing");
    assert_eq!(
        d["message"],
        "finding `PT-3` of TST-PENTEST has no `disposition`"
    );
    assert_at(
        d,
        "requirements/tests.yaml",
        line_of(&tests, "id: PT-3"),
        11,
    );
    assert_eq!(found.len(), 1, "{}", pretty(&found));
}

/// An accepted or false-positive finding says why; a fixed one needs no rationale.
#[test]
fn an_accepted_or_false_positive_finding_without_rationale_is_reported() {
    let tests = TESTS.replace(
        "      rationale: The pump pairs only with LE Secure Connections; the scanner read the legacy flag.\n",
        "",
    );
    let found = findings(&project(&tests));
    let d = one(&found, "finding-rationale-missing");
    assert_eq!(
        d["message"],
        "finding `PT-4` of TST-PENTEST is false positive, but gives no `rationale`"
    );
    assert_at(
        d,
        "requirements/tests.yaml",
        line_of(&tests, "disposition: false-positive"),
        20,
    );
    assert_eq!(found.len(), 1, "{}", pretty(&found));
    // The fixed finding PT-1 has no rationale either, and needs none.
    assert!(!TESTS.contains("      disposition: fixed\n      rationale"));
    assert!(findings(&project(TESTS)).is_empty());
}

#[test]
fn a_deferred_finding_needs_an_anomaly_not_a_vulnerability() {
    let tests = TESTS.replace("      item: ANOM-1\n", "      item: VUL-1\n");
    let found = findings(&project(&tests));
    let d = one(&found, "finding-deferred-no-anomaly");
    assert_eq!(
        d["message"],
        "finding `PT-2` of TST-PENTEST is deferred, but names no anomaly item"
    );
    assert_at(
        d,
        "requirements/tests.yaml",
        line_of(&tests, "title: Slow reconnection") + 3,
        13,
    );
    assert_eq!(found.len(), 1, "{}", pretty(&found));
    // A list that names the anomaly too is enough.
    let tests = TESTS.replace("      item: ANOM-1\n", "      item: [VUL-1, ANOM-1]\n");
    let found = findings(&project(&tests));
    assert!(found.is_empty(), "{}", pretty(&found));
}

#[test]
fn the_link_inside_a_finding_is_resolved_and_type_checked_at_its_place() {
    let tests = TESTS.replace("      item: VUL-1\n", "      item: REQ-1\n");
    let found = findings(&project(&tests));
    let d = one(&found, "link-wrong-type");
    assert_eq!(
        d["message"],
        "`findings.item` of a test must name a vulnerability or anomaly, but `REQ-1` is a requirement"
    );
    assert_at(
        d,
        "requirements/tests.yaml",
        line_of(&tests, "item: REQ-1"),
        13,
    );
    let tests = TESTS.replace("      item: VUL-1\n", "      item: VUL-2\n");
    let found = findings(&project(&tests));
    let d = one(&found, "link-unknown");
    assert_at(
        d,
        "requirements/tests.yaml",
        line_of(&tests, "item: VUL-2"),
        13,
    );
    assert_eq!(errors(&found).len(), 1, "{}", pretty(&found));
}

#[test]
fn the_finding_links_are_links_of_the_model_both_ways() {
    let p = ProjectBuilder::new()
        .file("requirements/device.yaml", DEVICE)
        .file("requirements/items.yaml", OTHERS)
        .file("requirements/tests.yaml", TESTS)
        .build()
        .load();
    let test = p.graph.get("TST-PENTEST").unwrap();
    let mut targets: Vec<(&str, &str)> = p
        .graph
        .out(test)
        .filter(|l| l.field != "verifies")
        .map(|l| (l.field.as_str(), p.items[l.to].id.as_str()))
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        [("findings.item", "ANOM-1"), ("findings.item", "VUL-1")]
    );
    let vulnerability = p.graph.get("VUL-1").unwrap();
    assert!(p
        .graph
        .inc(vulnerability)
        .any(|l| l.field == "findings.item" && l.from == test));
}

#[test]
fn a_build_older_than_the_device_version_is_a_version_mismatch() {
    let tests = TESTS.replace("build: firmware 2.1.0-rc2", "build: firmware 2.0.9");
    let found = findings(&project(&tests));
    let d = one(&found, "device-version-mismatch");
    assert_eq!(
        d["message"],
        "TST-PENTEST tested 2.0.9 (`build: firmware 2.0.9`), but DEV-PUMP says its version is `firmware 2.1`"
    );
    assert_item(d, Some("TST-PENTEST"));
    assert_at(d, "requirements/tests.yaml", line_of(&tests, "build:"), 10);
    assert_eq!(found.len(), 1, "{}", pretty(&found));
}

#[test]
fn the_report_lists_findings_by_severity_critical_first_with_build_and_dates() {
    let p = ProjectBuilder::new()
        .file("requirements/device.yaml", DEVICE)
        .file("requirements/items.yaml", OTHERS)
        .file("requirements/tests.yaml", TESTS)
        .build()
        .load();
    let doc = documents::render_standalone(&p, "security-testing-report").unwrap();
    // The only gaps are the sections of methods the project has no test of.
    assert!(
        doc.gaps
            .iter()
            .all(|g| g.what.starts_with("no test item has `method:")),
        "{:#?}",
        doc.gaps
    );
    let md = doc.markdown;
    let findings = &md[md.find(". Findings").expect("a findings section")..];
    let order: Vec<usize> = [
        "**Critical:** 1.",
        "**High:** 1.",
        "**Medium:** none.",
        "**Low:** 1.",
        "**Informational:** 1.",
    ]
    .iter()
    .map(|h| {
        findings
            .find(h)
            .unwrap_or_else(|| panic!("no `{h}` in {findings}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{findings}");
    let row = findings
        .lines()
        .find(|l| l.starts_with("| PT-1 "))
        .expect("a row for PT-1");
    for part in [
        "CWE-787",
        "build firmware 2.1.0-rc2",
        "2026-10-05",
        "fixed",
        "| VUL-1 |",
    ] {
        assert!(row.contains(part), "`{part}` not in {row}");
    }
    // How the penetration test was run, in its row.
    assert!(
        md.contains(
            "tested by Example Lab (third party); build firmware 2.1.0-rc2; 2026-10-05; 4 findings"
        ),
        "{md}"
    );
}

#[test]
fn the_report_marks_missing_test_evidence_as_gaps() {
    let tests = TESTS
        .replace("  scope: The BLE interface of the pump.\n", "")
        .replace("  tool: libFuzzer\n", "")
        .replace("      disposition: accepted\n", "")
        .replace("      item: ANOM-1\n", "");
    let p = ProjectBuilder::new()
        .file("requirements/device.yaml", DEVICE)
        .file("requirements/items.yaml", OTHERS)
        .file("requirements/tests.yaml", &tests)
        .build()
        .load();
    let doc = documents::render_standalone(&p, "security-testing-report").unwrap();
    // (The sections of methods without a test are gaps of their own.)
    let mut gaps: Vec<(String, Option<String>)> = doc
        .gaps
        .iter()
        .filter(|g| g.fix.check.is_some())
        .map(|g| (g.what.clone(), g.fix.check.clone()))
        .collect();
    gaps.sort();
    let check = |c: &str| Some(c.to_owned());
    assert_eq!(
        gaps,
        [
            (
                "TST-FUZZ does not name the tool that ran it (`tool`)".to_owned(),
                check("test-tool-missing")
            ),
            (
                "TST-PENTEST does not name what was tested (`scope`)".to_owned(),
                check("pentest-incomplete")
            ),
            (
                "deferred finding PT-2 of TST-PENTEST is recorded in no anomaly item".to_owned(),
                check("finding-deferred-no-anomaly")
            ),
            (
                "finding PT-3 of TST-PENTEST has no disposition".to_owned(),
                check("finding-disposition-missing")
            ),
        ]
    );
}

#[test]
fn a_matrix_may_follow_the_link_inside_findings() {
    let p = project(TESTS);
    p.write(
        "book/intro.md",
        "# Intro\n\n{{#qms matrix test vulnerability via=findings.item}}\n",
    );
    let (_, diags) = p.json();
    assert!(errors(&diags).is_empty(), "{}", pretty(&diags));
    // A path that is no link field is refused like any unknown field.
    p.write(
        "book/intro.md",
        "# Intro\n\n{{#qms matrix test vulnerability via=findings.id}}\n",
    );
    let (_, diags) = p.json();
    one(&diags, "directive-unknown-field");
}
