//! The evidence stage on whole projects: test verification statuses (with git history
//! for staleness), SBOM merge and NTIA checks, OSV matches and VEX rules, KEV, metrics.

use mdbook_qms::diag::code;
use mdbook_qms::evidence::assess::Status;
use mdbook_qms::evidence::metrics;
use mdbook_qms::project::Project;

use crate::support::builder::Built;
use crate::support::git::project_at as load;
use crate::support::ProjectBuilder;

fn project(files: &[(&str, &str)]) -> Built {
    ProjectBuilder::new().files(files).build()
}

/// (code, message) of every diagnostic with one of the evidence codes.
fn diags<'a>(p: &'a Project, codes: &[&str]) -> Vec<(&'a str, &'a str)> {
    p.diagnostics
        .0
        .iter()
        .filter(|d| codes.contains(&d.code))
        .map(|d| (d.code, d.message.as_str()))
        .collect()
}

const REQS: &str =
    "- id: REQ-A\n  type: requirement\n  title: A\n- id: REQ-B\n  type: requirement\n  title: B\n";

const TESTS: &str = "\
- id: TST-PASS
  type: test
  title: passes
  verifies: REQ-A
  evidence: [check::a_works, check::b_*]
- id: TST-FAIL
  type: test
  title: fails
  verifies: REQ-B
  evidence: check::broken
- id: TST-SKIP
  type: test
  title: skipped
  evidence: check::later
- id: TST-MISSING
  type: test
  title: no such case
  evidence: [check::a_works, check::gone]
- id: TST-NONE
  type: test
  title: no evidence
";

const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="run">
  <testsuite name="mdbook-qms::check" tests="5" timestamp="2026-01-01T00:00:00Z">
    <testcase classname="mdbook-qms::check" name="a_works"/>
    <testcase classname="mdbook-qms::check" name="b_one"/>
    <testcase classname="mdbook-qms::check" name="b_two"/>
    <testcase classname="mdbook-qms::check" name="broken"><failure message="boom"/></testcase>
    <testcase classname="mdbook-qms::check" name="later"><skipped message="needs hardware"/></testcase>
    <testcase classname="mdbook-qms::check" name="orphan"/>
  </testsuite>
</testsuites>
"#;

#[test]
fn verification_statuses_and_diagnostics() {
    let dir = project(&[
        ("requirements/reqs.yaml", REQS),
        ("requirements/tests.yaml", TESTS),
        ("trace/results/junit.xml", JUNIT),
    ]);
    let p = load(dir.path());
    let status = |id: &str| p.evidence.verification(id).map(|v| v.status);
    assert_eq!(status("TST-PASS"), Some(Status::Passed));
    assert_eq!(p.evidence.verification("TST-PASS").unwrap().cases.len(), 3);
    assert_eq!(status("TST-FAIL"), Some(Status::Failed));
    assert_eq!(status("TST-SKIP"), Some(Status::Skipped));
    assert_eq!(status("TST-MISSING"), Some(Status::Missing));
    assert_eq!(status("TST-NONE"), Some(Status::Missing));
    let got = diags(
        &p,
        &[
            code::TEST_FAILED,
            code::TEST_SKIPPED,
            code::TEST_RESULT_MISSING,
            code::TEST_RESULT_UNMATCHED,
            code::TEST_RESULT_STALE,
        ],
    );
    assert_eq!(
        got,
        [
            (code::TEST_FAILED, "TST-FAIL: mdbook-qms::check::broken failed: boom"),
            (code::TEST_SKIPPED, "TST-SKIP: 1 of 1 test cases skipped (mdbook-qms::check::later: needs hardware)"),
            (code::TEST_RESULT_MISSING, "TST-MISSING: no result for check::gone"),
            (code::TEST_RESULT_MISSING, "TST-NONE names no evidence"),
            (code::TEST_RESULT_UNMATCHED, "1 test case in trace/results/junit.xml is named by no test item: mdbook-qms::check::orphan"),
        ]
    );
    // Not in git: no history, so nothing is stale; the history stage says so once, and
    // the evidence stage adds nothing of its own.
    assert_eq!(
        p.diagnostics
            .0
            .iter()
            .filter(|d| d.code == code::HISTORY_UNAVAILABLE)
            .count(),
        1
    );
    // The failure points at the test item's `evidence`, and at the test case.
    let failed = p
        .diagnostics
        .0
        .iter()
        .find(|d| d.code == code::TEST_FAILED)
        .unwrap();
    let rel = &failed.related[0].0;
    let file = p.sources.get(rel.file);
    assert_eq!(
        mdbook_qms::source::display_path(&file.path),
        "trace/results/junit.xml"
    );
    assert_eq!(file.line_col(rel.start).0, 7);
    // Levels are configurable like any code.
    dir.write(
        "book.toml",
        "[book]\nsrc = \"book\"\n[preprocessor.qms.lints]\ntest-failed = \"error\"\n",
    );
    let p = load(dir.path());
    assert!(p.diagnostics.has_errors());
}

#[test]
fn failed_and_skipped_tests_need_an_anomaly_or_a_deferral() {
    let files = |tests: &str, extra: &str| {
        project(&[
            ("requirements/reqs.yaml", REQS),
            ("requirements/tests.yaml", &format!("{tests}{extra}")),
            ("trace/results/junit.xml", JUNIT),
        ])
    };
    let unassessed = |dir: &Built| {
        let p = load(dir.path());
        diags(&p, &[code::TEST_FAILURE_UNASSESSED])
            .into_iter()
            .map(|(_, m)| m.to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        unassessed(&files(TESTS, "")),
        [
            "TST-FAIL failed but no anomaly item names it and it has no `deferral`",
            "TST-SKIP was skipped but no anomaly item names it and it has no `deferral`",
        ]
    );
    // An anomaly naming the failed test and a deferral on the skipped one account for both;
    // an obsolete anomaly accounts for nothing.
    let deferred = TESTS.replace(
        "  evidence: check::later\n",
        "  evidence: check::later\n  deferral: The hardware rig arrives in January.\n",
    );
    let anomaly = |status: &str| {
        format!("- id: ANOM-1\n  type: anomaly\n  title: Broken (TST-FAIL)\n  status: {status}\n  security_impact: none\n  rationale: next release\n")
    };
    assert_eq!(
        unassessed(&files(&deferred, &anomaly("approved"))),
        Vec::<String>::new()
    );
    assert_eq!(
        unassessed(&files(&deferred, &anomaly("obsolete"))),
        ["TST-FAIL failed but no anomaly item names it and it has no `deferral`"]
    );
}

#[test]
fn no_results_no_verification() {
    let dir = project(&[
        ("requirements/reqs.yaml", REQS),
        ("requirements/tests.yaml", TESTS),
    ]);
    let p = load(dir.path());
    assert!(p.evidence.verification.is_empty());
    assert!(diags(&p, &[code::TEST_RESULT_MISSING]).is_empty());
}

#[test]
fn bad_junit_and_links_outside_are_named() {
    let dir = project(&[
        ("requirements/reqs.yaml", REQS),
        (
            "trace/results/bad.xml",
            "<!DOCTYPE x [<!ENTITY a \"b\">]><testsuite/>",
        ),
        (
            "trace/results/cut.xml",
            "<testsuites><testsuite name=\"s\"><testcase name=\"a\">",
        ),
    ]);
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), "<testsuite name=\"x\"/>").unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("trace/results/link.xml")).unwrap();
    let p = load(dir.path());
    let got = diags(&p, &[code::JUNIT_INVALID, code::EVIDENCE_OUTSIDE]);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got[0]
            .1
            .starts_with("trace/results/link.xml leads outside the project folder"),
        "{got:?}"
    );
    assert!(
        got[1]
            .1
            .starts_with("trace/results/bad.xml: a DOCTYPE is not allowed"),
        "{got:?}"
    );
    assert!(got[2].1.starts_with("trace/results/cut.xml: "), "{got:?}");
    // The report names the file for each (file, line, column in JSON).
    let json = mdbook_qms::report::render(
        mdbook_qms::report::Format::Json,
        &p.diagnostics.0,
        &p.sources,
    );
    assert!(
        json.contains("\"file\": \"trace/results/bad.xml\"")
            || json.contains("\"file\":\"trace/results/bad.xml\""),
        "{json}"
    );
}

#[test]
fn results_older_than_a_change_are_stale() {
    let tests = "- id: TST-A\n  type: test\n  title: a\n  verifies: REQ-A\n  evidence: check::a_works\n- id: TST-B\n  type: test\n  title: b\n  verifies: REQ-B\n  evidence: check::b_one\n";
    let junit = r#"<testsuite name="check" timestamp="2026-03-01T12:00:00Z"><testcase classname="check" name="a_works"/><testcase classname="check" name="b_one"/></testsuite>"#;
    let dir = ProjectBuilder::new()
        .files(&[
            ("requirements/reqs.yaml", REQS),
            ("requirements/tests.yaml", tests),
            ("trace/results/junit.xml", junit),
        ])
        .repo();
    dir.commit_on("T", "first", "2026-02-01T00:00:00Z");
    // REQ-B changes after the tests ran on 2026-03-01 (and after the results were committed).
    dir.write(
        "requirements/reqs.yaml",
        &REQS.replace("title: B", "title: B, stricter"),
    );
    dir.commit_on("T", "tighten B", "2026-04-01T00:00:00Z");
    let p = dir.project();
    assert_eq!(
        p.evidence.verification("TST-A").unwrap().status,
        Status::Passed
    );
    let b = p.evidence.verification("TST-B").unwrap();
    assert_eq!(b.status, Status::Stale);
    assert!(
        b.detail.starts_with("REQ-B changed on 2026-04-01 ("),
        "{}",
        b.detail
    );
    assert!(
        b.detail.ends_with("after the results of 2026-03-01"),
        "{}",
        b.detail
    );
    assert_eq!(diags(&p, &[code::TEST_RESULT_STALE]).len(), 1);
    // New results, committed after the change: fresh again.
    dir.write(
        "trace/results/junit.xml",
        &junit.replace("2026-03-01", "2026-04-02"),
    );
    dir.commit_on("T", "new results", "2026-04-02T00:00:00Z");
    let p = dir.project();
    assert_eq!(
        p.evidence.verification("TST-B").unwrap().status,
        Status::Passed
    );
    // Committing a result file counts as recording it: a change committed before the
    // results file was (re)committed does not make the result stale.
    dir.write(
        "requirements/reqs.yaml",
        &REQS.replace("title: A", "title: A2"),
    );
    dir.commit_on("T", "edit A", "2026-05-01T00:00:00Z");
    assert_eq!(
        dir.project().evidence.verification("TST-A").unwrap().status,
        Status::Stale
    );
    dir.write(
        "trace/results/junit.xml",
        &junit.replace("2026-03-01", "2026-03-02"),
    );
    dir.commit_on("T", "results re-recorded", "2026-05-02T00:00:00Z");
    assert_eq!(
        dir.project().evidence.verification("TST-A").unwrap().status,
        Status::Passed
    );
}

const CDX: &str = r#"{
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "version": 1,
  "metadata": {
    "timestamp": "2026-11-01T00:00:00Z",
    "tools": {"components": [{"type": "application", "name": "cargo-cyclonedx", "version": "0.5.5"}]},
    "component": {"type": "firmware", "bom-ref": "fw", "name": "pump-fw", "version": "1.0.0", "supplier": {"name": "Acme"}, "purl": "pkg:generic/acme/pump-fw@1.0.0"}
  },
  "components": [
    {"type": "library", "bom-ref": "tls", "name": "mbedtls", "version": "3.6.2", "supplier": {"name": "Trusted Firmware"}, "purl": "pkg:github/Mbed-TLS/mbedtls@v3.6.2",
     "properties": [{"name": "acme:support-level", "value": "active"}, {"name": "acme:end-of-support", "value": "2027-03-31"}]},
    {"type": "library", "bom-ref": "qx", "name": "quick-xml", "version": "0.30.0", "purl": "pkg:cargo/quick-xml@0.30.0"},
    {"type": "library", "bom-ref": "blob", "name": "vendor-blob", "version": "7",
     "properties": [{"name": "acme:support-level", "value": "none"}, {"name": "acme:end-of-support", "value": "2020-01-01"}]}
  ],
  "dependencies": [
    {"ref": "fw", "dependsOn": ["tls", "qx"]},
    {"ref": "tls", "dependsOn": []}
  ]
}"#;

const COMPONENTS: &str = "\
- id: CMP-TLS
  type: component
  title: Mbed TLS
  purl: pkg:github/Mbed-TLS/mbedtls@v3.6.2
  support: limited
- id: CMP-APP
  type: component
  title: Phone app
  name: app
  version: 2.0.0
  supplier: Acme
  purl: pkg:generic/acme/app@2.0.0
  support: active
  end_of_support: 2030-01-01
";

const OSV_QX: &str = r#"{"id": "RUSTSEC-2099-0001", "aliases": ["CVE-2099-1111"], "modified": "2099-01-01T00:00:00Z",
  "affected": [{"package": {"ecosystem": "crates.io", "name": "quick-xml"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.31.0"}]}]}]}"#;

#[test]
fn sbom_merge_ntia_and_support() {
    let vulns = "- id: VUL-QX\n  type: vulnerability\n  title: quick-xml\n  cve: CVE-2099-1111\n  components: pkg:cargo/quick-xml@0.30.0\n  status: not_affected\n  justification: 'vulnerable_code_not_in_execute_path: not used'\n- id: VUL-BLOB\n  type: vulnerability\n  title: blob\n  cve: CVE-2099-2222\n  components: blob\n  status: affected\n  action: replace it\n";
    let dir = project(&[
        ("requirements/components.yaml", COMPONENTS),
        ("requirements/vulns.yaml", vulns),
        ("trace/sbom/fw.cdx.json", CDX),
        ("trace/osv/RUSTSEC-2099-0001.json", OSV_QX),
    ]);
    let p = load(dir.path());
    let errors: Vec<_> = p
        .diagnostics
        .0
        .iter()
        .filter(|d| d.severity == mdbook_qms::diag::Severity::Error)
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The SBOM's mbedtls is the item CMP-TLS (same purl): no synthesized item for it; the
    // others are synthesized, known by purl (or bom-ref) and linkable.
    let ids: Vec<&str> = p
        .items
        .iter()
        .filter(|i| i.ty == "component")
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "CMP-TLS",
            "CMP-APP",
            "CMP-PUMP-FW-1-0-0",
            "CMP-QUICK-XML-0-30-0",
            "CMP-VENDOR-BLOB-7"
        ]
    );
    let fw = p.item("CMP-PUMP-FW-1-0-0").unwrap();
    assert_eq!(
        mdbook_qms::source::display_path(
            &p.sources
                .get(match fw.home {
                    mdbook_qms::model::Home::File(f) => f,
                    _ => unreachable!(),
                })
                .path
        ),
        "trace/sbom/fw.cdx.json"
    );
    let deps: Vec<&str> = p
        .graph
        .out(p.graph.get("CMP-PUMP-FW-1-0-0").unwrap())
        .filter(|l| l.field == "depends_on")
        .map(|l| p.items[l.to].id.as_str())
        .collect();
    assert_eq!(deps, ["CMP-TLS", "CMP-QUICK-XML-0-30-0"]);
    let blob_links: Vec<&str> = p
        .graph
        .inc(p.graph.get("CMP-VENDOR-BLOB-7").unwrap())
        .map(|l| p.items[l.from].id.as_str())
        .collect();
    assert!(
        blob_links.contains(&"VUL-BLOB"),
        "a link may name a bom-ref: {blob_links:?}"
    );
    // Merged view: the item's support wins, the SBOM fills in supplier and end of support.
    let v = p
        .traces
        .component_view(&p.items[p.graph.get("CMP-TLS").unwrap()]);
    assert_eq!(v.support.as_deref(), Some("limited"));
    assert_eq!(v.end_of_support.as_deref(), Some("2027-03-31"));
    assert_eq!(v.supplier.as_deref(), Some("Trusted Firmware"));
    let got = diags(
        &p,
        &[
            code::SBOM_NTIA,
            code::COMPONENT_SUPPORT_MISSING,
            code::COMPONENT_END_OF_SUPPORT,
            code::VULNERABILITY_UNASSESSED,
        ],
    );
    assert_eq!(
        got,
        [
            (code::SBOM_NTIA, "trace/sbom/fw.cdx.json: 1 component without a dependency relationship: vendor-blob@7"),
            (code::SBOM_NTIA, "trace/sbom/fw.cdx.json: 1 component without a unique id (purl or CPE): vendor-blob@7"),
            (code::SBOM_NTIA, "trace/sbom/fw.cdx.json: 2 components without supplier: quick-xml@0.30.0, vendor-blob@7"),
            (code::COMPONENT_SUPPORT_MISSING, "trace/sbom/fw.cdx.json: 2 components without a support level or end-of-support date: pump-fw@1.0.0, quick-xml@0.30.0"),
            (code::COMPONENT_END_OF_SUPPORT, "trace/sbom/fw.cdx.json: the support of vendor-blob@7 ended: 2020-01-01"),
        ],
        "{got:#?}"
    );
    // quick-xml 0.30.0 is affected by the OSV record, and VUL-QX assesses it.
    assert_eq!(p.evidence.matches.len(), 1);
    assert_eq!(
        p.items[p.evidence.matches[0].component].id,
        "CMP-QUICK-XML-0-30-0"
    );
    assert_eq!(p.evidence.matches[0].assessed_by.len(), 1);
}

#[test]
fn bad_sboms_are_named() {
    let dup = CDX.replace("\"bom-ref\": \"qx\"", "\"bom-ref\": \"tls\"");
    let dir = project(&[
        ("trace/sbom/dup.cdx.json", dup.as_str()),
        ("trace/sbom/old.cdx.json", "{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.2\", \"components\": []}"),
        ("trace/sbom/cut.cdx.json", &CDX[..200]),
        ("trace/sbom/other.spdx.json", "{\"hello\": 1}"),
        ("trace/sbom/bare.spdx.json", "{\"spdxVersion\": \"SPDX-2.3\", \"SPDXID\": \"SPDXRef-DOCUMENT\", \"packages\": [{\"SPDXID\": \"SPDXRef-a\", \"name\": \"a\"}, {\"SPDXID\": \"SPDXRef-a\", \"name\": \"a2\"}]}"),
    ]);
    let p = load(dir.path());
    let got = diags(
        &p,
        &[
            code::SBOM_INVALID,
            code::SBOM_DUPLICATE_REF,
            code::SBOM_NTIA,
        ],
    );
    let has = |c: &str, m: &str| got.iter().any(|(gc, gm)| *gc == c && gm.contains(m));
    assert!(
        has(
            code::SBOM_DUPLICATE_REF,
            "trace/sbom/dup.cdx.json: bom-ref `tls` is used by two components"
        ),
        "{got:#?}"
    );
    assert!(
        has(
            code::SBOM_INVALID,
            "trace/sbom/dup.cdx.json: the dependency graph names `qx`"
        ),
        "{got:#?}"
    );
    assert!(
        has(
            code::SBOM_INVALID,
            "trace/sbom/old.cdx.json: CycloneDX specVersion `1.2` is not supported"
        ),
        "{got:#?}"
    );
    assert!(
        has(
            code::SBOM_INVALID,
            "trace/sbom/cut.cdx.json: not valid JSON"
        ),
        "{got:#?}"
    );
    assert!(
        has(
            code::SBOM_INVALID,
            "trace/sbom/other.spdx.json: neither a CycloneDX"
        ),
        "{got:#?}"
    );
    assert!(
        has(
            code::SBOM_DUPLICATE_REF,
            "trace/sbom/bare.spdx.json: SPDXID `SPDXRef-a` is used by two packages"
        ),
        "{got:#?}"
    );
    assert!(
        has(
            code::SBOM_NTIA,
            "trace/sbom/bare.spdx.json has no author (metadata authors, manufacturer or tools; SPDX creators), no timestamp, no dependency relationships (NTIA minimum elements)"
        ),
        "{got:#?}"
    );
    // The duplicate is reported where the second one is written, with the first as related.
    let d = p
        .diagnostics
        .0
        .iter()
        .find(|d| d.code == code::SBOM_DUPLICATE_REF && d.message.contains("dup.cdx"))
        .unwrap();
    let mdbook_qms::diag::Location::Span(s) = d.location else {
        panic!("no span")
    };
    let f = p.sources.get(s.file);
    assert_eq!(f.line_col(s.start).0, 14);
    assert_eq!(f.line_col(d.related[0].0.start).0, 12);
}

const SPDX: &str = r#"{
  "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "app",
  "documentNamespace": "https://acme.example/spdx/app-2.0.0",
  "creationInfo": {"created": "2026-10-01T00:00:00Z", "creators": ["Tool: syft-1.0", "Organization: Acme"]},
  "packages": [
    {"SPDXID": "SPDXRef-app", "name": "app", "versionInfo": "2.0.0", "supplier": "Organization: Acme (psirt@acme.example)",
     "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:generic/acme/app@2.0.0"}]},
    {"SPDXID": "SPDXRef-okhttp", "name": "okhttp", "versionInfo": "4.12.0", "supplier": "Organization: Square, Inc.",
     "licenseConcluded": "Apache-2.0", "validUntilDate": "2027-06-30T00:00:00Z",
     "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl", "referenceLocator": "pkg:maven/com.squareup.okhttp3/okhttp@4.12.0"}]}
  ],
  "relationships": [
    {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-app"},
    {"spdxElementId": "SPDXRef-okhttp", "relationshipType": "DEPENDENCY_OF", "relatedSpdxElement": "SPDXRef-app"}
  ]
}"#;

/// Places in an SBOM are found by structure, not by searching for the text: a component
/// named like an earlier property, a dependency named like an earlier component's name,
/// nested components listing their bom-ref last, a value of the wrong type.
#[test]
fn sbom_diagnostics_point_at_their_own_places() {
    let cdx = r#"{
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "metadata": {"timestamp": "2026-01-01T00:00:00Z", "authors": [{"name": "me"}]},
  "components": [
    {"bom-ref": "a", "name": "zz", "version": "1", "properties": [{"name": "vendor-lib", "value": "x"}],
     "components": [
       {"version": "2", "name": 5, "bom-ref": "b"},
       {"bom-ref": "a", "name": "again"}
     ]},
    {"name": "vendor-lib", "version": "3"}
  ],
  "dependencies": [
    {"ref": "a", "dependsOn": ["b", "zz"]},
    {"ref": "b", "dependsOn": []}
  ]
}"#;
    let spdx = r#"{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
 "packages": [{"SPDXID": "SPDXRef-a", "name": "a", "versionInfo": 5}],
 "relationships": [{"spdxElementId": "SPDXRef-a", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-gone"}]}"#;
    let dir = project(&[
        ("trace/sbom/a.cdx.json", cdx),
        ("trace/sbom/b.spdx.json", spdx),
    ]);
    let p = load(dir.path());
    // The byte offset of the diagnostic whose message contains `message`.
    let at = |message: &str| {
        let d = p
            .diagnostics
            .0
            .iter()
            .find(|d| d.message.contains(message))
            .unwrap_or_else(|| panic!("no diagnostic says {message}"));
        match d.location {
            mdbook_qms::diag::Location::Span(s) => s.start,
            _ => panic!("{message}: not placed"),
        }
    };
    let nth = |text: &str, needle: &str, n: usize| {
        text.match_indices(needle).nth(n).map(|(i, _)| i).unwrap()
    };
    assert_eq!(
        at("a.cdx.json: `name` must be a string, not `5`"),
        cdx.find(r#""name": 5"#).unwrap()
    );
    assert_eq!(
        at("a.cdx.json: bom-ref `a` is used by two components"),
        nth(cdx, r#""bom-ref": "a""#, 1)
    );
    assert_eq!(
        at("a.cdx.json: the dependency graph names `zz`"),
        cdx.rfind(r#""zz""#).unwrap()
    );
    let sbom = p
        .traces
        .sboms
        .iter()
        .find(|s| s.format == mdbook_qms::evidence::sbom::Format::CycloneDx)
        .unwrap();
    let starts: Vec<(&str, usize)> = sbom
        .components
        .iter()
        .map(|c| (c.bom_ref.as_str(), c.span.unwrap().start))
        .collect();
    assert_eq!(
        starts,
        [
            ("a", cdx.find(r#""bom-ref": "a""#).unwrap()),
            ("b", cdx.find(r#""bom-ref": "b""#).unwrap()),
            ("vendor-lib@3", nth(cdx, r#""name": "vendor-lib""#, 1)),
        ]
    );
    // A name that is not a string is no name (NTIA), but not "no bom-ref, purl nor name".
    assert!(!p
        .diagnostics
        .0
        .iter()
        .any(|d| d.message.contains("neither `bom-ref`")));
    assert_eq!(
        at("b.spdx.json: `versionInfo` must be a string, not `5`"),
        spdx.find(r#""versionInfo""#).unwrap()
    );
    assert_eq!(
        at("b.spdx.json: the dependency graph names `SPDXRef-gone`"),
        spdx.find(r#""relatedSpdxElement""#).unwrap()
    );
}

#[test]
fn spdx_merges_with_items() {
    let osv = r#"{"id": "GHSA-okhttp", "modified": "2026-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Maven", "name": "com.squareup.okhttp3:okhttp"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "4.0.0"}, {"fixed": "4.12.1"}]}]}]}"#;
    let dir = project(&[
        ("requirements/components.yaml", COMPONENTS),
        ("trace/sbom/app.spdx.json", SPDX),
        ("trace/osv/okhttp.json", osv),
    ]);
    let p = load(dir.path());
    // app is the item CMP-APP; okhttp is synthesized and depends on nothing, app on it.
    let app = p.graph.get("CMP-APP").unwrap();
    let ok = p
        .graph
        .get("CMP-OKHTTP-4-12-0")
        .expect("synthesized from SPDX");
    let v = p.traces.component_view(&p.items[ok]);
    assert_eq!(v.supplier.as_deref(), Some("Square, Inc."));
    assert_eq!(v.end_of_support.as_deref(), Some("2027-06-30"));
    assert_eq!(v.license.as_deref(), Some("Apache-2.0"));
    let sbom = &p.traces.sboms[0];
    assert_eq!(sbom.author.as_deref(), Some("syft-1.0"));
    assert_eq!(sbom.components[0].depends_on, ["SPDXRef-okhttp"]);
    let _ = app;
    // The OSV record hits okhttp 4.12.0 (Maven ordering) and nothing assesses it.
    let got = diags(&p, &[code::VULNERABILITY_UNASSESSED]);
    assert_eq!(got, [(code::VULNERABILITY_UNASSESSED, "GHSA-okhttp affects CMP-OKHTTP-4-12-0 (okhttp 4.12.0), but no vulnerability item assesses it")]);
}

#[test]
fn vex_rules_kev_and_metrics() {
    let vulns = "\
- id: VUL-1
  type: vulnerability
  title: no status
  cve: CVE-2099-0001
- id: VUL-2
  type: vulnerability
  title: not affected without why
  cve: CVE-2099-0002
  status: not_affected
- id: VUL-3
  type: vulnerability
  title: affected without action
  cve: CVE-2099-0003
  status: affected
  identified: 2026-01-01
- id: VUL-4
  type: vulnerability
  title: in KEV, only affected
  cve: CVE-2099-0004
  status: affected
  action: patch next quarter
  identified: 2026-01-01
  patched: 2026-01-11
  deployed: 2026-01-31
- id: VUL-5
  type: vulnerability
  title: kev flag, fixed
  cve: CVE-2099-0005
  kev: true
  status: fixed
  identified: 2026-02-01
  patched: 2026-02-21
  deployed: 2026-02-11
- id: VUL-6
  type: vulnerability
  title: OSV names it, but for another component
  cve: CVE-2099-1111
  components: CMP-APP
  status: not_affected
  justification: component_not_present
";
    let kev = r#"{"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.11.27", "count": 1,
      "vulnerabilities": [{"cveID": "CVE-2099-0004", "vendorProject": "X", "product": "Y", "dateAdded": "2026-01-05"}]}"#;
    let dir = project(&[
        ("requirements/components.yaml", COMPONENTS),
        ("requirements/vulns.yaml", vulns),
        ("trace/sbom/fw.cdx.json", CDX),
        ("trace/osv/qx.json", OSV_QX),
        ("trace/known_exploited_vulnerabilities.json", kev),
    ]);
    dir.write(
        "book.toml",
        format!(
            "{}metrics-period-months = 1200\n",
            crate::support::BOOK_TOML
        ),
    );
    let p = load(dir.path());
    let got = diags(
        &p,
        &[
            code::VEX_INCOMPLETE,
            code::KEV_NOT_FIXED,
            code::VULNERABILITY_DATES,
            code::VULNERABILITY_UNASSESSED,
        ],
    );
    assert_eq!(
        got,
        [
            (code::VULNERABILITY_UNASSESSED, "VUL-6 assesses RUSTSEC-2099-0001 but does not list CMP-QUICK-XML-0-30-0 (quick-xml 0.30.0), which trace/osv/qx.json says is affected"),
            (code::VEX_INCOMPLETE, "VUL-1 has no VEX `status`"),
            (code::VEX_INCOMPLETE, "VUL-2 is `not_affected` without a `justification`"),
            (code::VEX_INCOMPLETE, "VUL-3 is `affected` without an `action`"),
            (code::KEV_NOT_FIXED, "VUL-4 is in CISA's Known Exploited Vulnerabilities catalogue but its status is affected"),
            (code::VULNERABILITY_DATES, "VUL-5: `deployed` is before `patched`"),
        ],
        "{got:#?}"
    );
    let t = metrics::compute(&p);
    // A 100-year period takes in every date above, whatever the day the test runs.
    // VUL-2 and VUL-6 are not affected and left out. Needing a patch: VUL-3, VUL-4
    // (affected), VUL-5 (fixed); patched: VUL-4, VUL-5.
    assert_eq!(t.period.months, 1200);
    assert_eq!((t.total, t.not_affected), (6, 2));
    assert_eq!((t.needing_patch, t.patched), (3, 2));
    assert_eq!(t.identify_to_patch, Some(15.0));
    assert_eq!(t.identify_to_patch_n, 2);
    // VUL-5's deployment date is out of order and left out.
    assert_eq!((t.patch_to_deploy, t.patch_to_deploy_n), (Some(20.0), 1));
    // Open: VUL-3 (VUL-1 has no status, VUL-4 has a patch).
    let open: Vec<(&str, Option<i64>)> = t
        .open
        .iter()
        .map(|o| (p.items[o.item].id.as_str(), o.age_days))
        .collect();
    let age = p
        .today
        .days_since(mdbook_qms::date::Day::parse("2026-01-01").unwrap());
    assert_eq!(open, [("VUL-3", Some(age))]);
    // No patching plan: no timeline to compare with; VUL-5 is in KEV, so critical.
    let patches: Vec<(&str, i64, bool, Option<i64>)> = t
        .patches
        .iter()
        .map(|x| {
            (
                p.items[x.item].id.as_str(),
                x.days,
                x.critical,
                x.target_days,
            )
        })
        .collect();
    assert_eq!(
        patches,
        [("VUL-4", 10, false, None), ("VUL-5", 20, true, None)]
    );
    let homes = mdbook_qms::page::place::homes(&p);
    let page = mdbook_qms::page::Page {
        project: &p,
        homes: &homes,
        path: std::path::Path::new("index.md"),
    };
    let html = mdbook_qms::render::evidence::metrics(&page);
    assert!(
        html.contains("<td>66.7%</td><td>2 of 3 needing a patch in the period</td>"),
        "{html}"
    );
    assert!(
        html.contains("2 of 6 vulnerabilities are not affected and left out"),
        "{html}"
    );

    let bad_kev = project(&[(
        "trace/known_exploited_vulnerabilities.json",
        "{\"count\": 0}",
    )]);
    let p = load(bad_kev.path());
    assert_eq!(diags(&p, &[code::KEV_INVALID]).len(), 1);
}

/// The consistency checks stay silent where the facts agree: the device's version
/// names the SBOM's top component and the builds the results record, a risk scores a
/// vulnerability at least as high, `not_affected` has no patch dates, an `affected` one
/// is within its timeline, `kev` claims match the catalogue, and the component past its
/// end of support is assessed by a vulnerability item.
#[test]
fn consistency_checks_are_silent_when_the_facts_agree() {
    let items = "\
- id: DEV-PUMP
  type: device
  title: Pump
  version: pump firmware 2.0, app 1.4
  intended_use: Insulin delivery.
  software: true
  connectivity: [ble]
- id: PLAN-PATCH
  type: plan
  title: Patching
  topic: patching
  regular_cycle: every 100000 days
  out_of_cycle_days: 100000
- id: CMP-OLD
  type: component
  title: Old library
  name: old
  version: 1.0.0
  supplier: Acme
  purl: pkg:generic/acme/old@1.0.0
  support: none
  end_of_support: 2020-01-01
- id: RISK-API
  type: risk
  title: API takeover
  severity: serious
  cvss: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H
- id: VUL-LISTED
  type: vulnerability
  title: listed and fixed
  cve: CVE-2099-0001
  cvss: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N
  risks: RISK-API
  kev: true
  status: fixed
  identified: 2026-01-01
  patched: 2026-01-05
- id: VUL-UNLISTED
  type: vulnerability
  title: not listed, affected, within the cycle
  cve: CVE-2099-0002
  components: CMP-OLD
  kev: false
  status: affected
  action: upgrade
  identified: 2026-01-01
- id: VUL-NOT
  type: vulnerability
  title: not affected, no patch dates
  cve: CVE-2099-0003
  status: not_affected
  justification: component_not_present
  identified: 2026-01-01
";
    let sbom = r#"{"bomFormat": "CycloneDX", "specVersion": "1.5",
      "metadata": {"component": {"type": "firmware", "bom-ref": "fw", "name": "acme-pump-firmware", "version": "2.0.0"}},
      "components": []}"#;
    let junit = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="verification, release candidate 2.0.0-rc3">
  <testsuite name="mobile-app.integration">
    <properties><property name="app.version" value="1.4.2"/><property name="build.host" value="ci-7"/></properties>
    <testcase classname="app" name="pairs"/>
  </testsuite>
</testsuites>
"#;
    let kev = r#"{"catalogVersion": "2026.11.27", "dateReleased": "2026-11-27T15:00:00.000Z",
      "vulnerabilities": [{"cveID": "CVE-2099-0001"}]}"#;
    let dir = project(&[
        ("requirements/items.yaml", items),
        ("trace/sbom/fw.cdx.json", sbom),
        ("trace/results/junit.xml", junit),
        ("trace/known_exploited_vulnerabilities.json", kev),
    ]);
    let p = load(dir.path());
    let new_codes = [
        code::DEVICE_VERSION_MISMATCH,
        code::VULNERABILITY_RISK_CVSS,
        code::VEX_NOT_AFFECTED_PATCHED,
        code::PATCH_OVERDUE,
        code::KEV_CATALOGUE_MISSING,
        code::KEV_CLAIM_CONTRADICTED,
        code::COMPONENT_END_OF_SUPPORT_UNASSESSED,
        code::KEV_NOT_FIXED,
    ];
    assert_eq!(diags(&p, &new_codes), [], "{:#?}", p.diagnostics.0);
    // The end of support itself is still reported: the fact, not the missing assessment.
    assert_eq!(diags(&p, &[code::COMPONENT_END_OF_SUPPORT]).len(), 1);
}
