//! The residual-risk conclusion of the Security Risk Management Report and the counts
//! of the documents, computed from the state: acceptable only when everything it rests
//! on is complete and passing; not acceptable for a residual risk in an unacceptable
//! cell; otherwise blocked, with what blocks it. Sentences with nothing to summarise say
//! so. And the TPLC reporting period.

use mdbook_qms::diag::code;
use mdbook_qms::documents;
use mdbook_qms::project::Project;

use crate::support::builder::Built;
use crate::support::ProjectBuilder;

/// A small project with nothing missing: every document complete, every STRIDE
/// category of its elements covered, one control verified by four passing tests and one
/// more control of each of the other seven categories, verified by one of them.
const COMPLETE: &str = r#"- {id: DEV-1, type: device, title: Pump, model: P-1, version: 1.0.0, manufacturer: Acme, intended_use: Insulin delivery., software: true, connectivity: [ble]}
- {id: ZONE-A, type: zone, title: Body, device: true}
- {id: AST-APP, type: asset, title: App, kind: external-entity, zone: ZONE-A}
- {id: AST-PUMP, type: asset, title: Pump, kind: data-store, zone: ZONE-A}
- {id: FLOW-1, type: flow, title: Commands, from: AST-APP, to: AST-PUMP, protocol: BLE, exposure: user-facing}
- {id: ASM-1, type: assumption, title: Phone locked, text: The phone is locked.}
- {id: THR-S, type: threat, title: Spoof, stride: spoofing, targets: AST-APP, phase: use}
- {id: THR-R, type: threat, title: Repudiate, stride: repudiation, targets: [AST-APP, AST-PUMP], phase: use}
- {id: THR-T, type: threat, title: Tamper, stride: tampering, targets: [FLOW-1, AST-PUMP], phase: use}
- {id: THR-I, type: threat, title: Disclose, stride: information-disclosure, targets: [FLOW-1, AST-PUMP], phase: use}
- {id: THR-D, type: threat, title: Deny, stride: denial-of-service, targets: [FLOW-1, AST-PUMP], phase: use}
- {id: RISK-1, type: risk, title: Spoofed app, threats: [THR-S, THR-R, THR-T, THR-I, THR-D], severity: serious, exploitability: low, controls: CTL-1, disposition: mitigate}
- {id: REQ-1, type: requirement, title: Pairing}
- {id: CTL-1, type: control, title: Pairing, category: authentication, requirements: REQ-1, labeling_topic: [use-environment, diagrams, deployment, security-events, critical-function, backup-restore, configuration-recovery, secure-configuration, forensic-logs, decommissioning], labeling: Pair in private.}
- {id: CTL-2, type: control, title: Roles, category: authorization}
- {id: CTL-3, type: control, title: AES, category: cryptography}
- {id: CTL-4, type: control, title: Signed code, category: code_data_and_execution_integrity}
- {id: CTL-5, type: control, title: Encrypted store, category: confidentiality}
- {id: CTL-6, type: control, title: Event log, category: event_detection_and_logging}
- {id: CTL-7, type: control, title: Watchdog, category: resiliency_and_recovery}
- {id: CTL-8, type: control, title: Signed updates, category: updatability_and_patchability}
- {id: TST-REQUIREMENTS, type: test, title: requirements test, method: requirements, verifies: [CTL-1, REQ-1, CTL-2, CTL-3, CTL-4, CTL-5, CTL-6, CTL-7, CTL-8], evidence: pairing_works}
- {id: TST-MIT, type: test, title: threat-mitigation test, method: threat-mitigation, verifies: [CTL-1, REQ-1], evidence: pairing_works}
- {id: TST-VULNERABILITY, type: test, title: vulnerability test, method: vulnerability, verifies: [CTL-1, REQ-1], evidence: pairing_works, tool: Scanner, tool_version: '1.0'}
- {id: TST-PENETRATION, type: test, title: penetration test, method: penetration, verifies: [CTL-1, REQ-1], evidence: pairing_works, independence: third-party, scope: The app and the pump., started: '2026-01-05', finished: '2026-01-09'}
- {id: CMP-1, type: component, title: Lib, version: 1.0.0, supplier: Acme, support: active, end_of_support: '2099-01-01', purl: 'pkg:generic/lib@1.0.0'}
- {id: ROLE-1, type: role, title: PSIRT, person: Ann, responsibilities: [triage]}
- {id: PLAN-MON, type: plan, title: Monitoring, topic: monitoring, owner: ROLE-1, sources: [NVD], frequency: weekly}
- {id: PLAN-PATCH, type: plan, title: Patching, topic: patching, owner: ROLE-1, regular_cycle: quarterly, cycle_justification: Supplier releases are quarterly., out_of_cycle_days: 30}
- {id: PLAN-CVD, type: plan, title: CVD, topic: disclosure, owner: ROLE-1, intake: security@x, acknowledge_days: 3, response_days: 30, incident_instructions: Call support.}
- {id: PLAN-COMM, type: plan, title: Communication, topic: communication, owner: ROLE-1, channels: [e-mail], notify_days: 30, sbom_access: Ask support.}
- {id: PLAN-EOS, type: plan, title: End of support, topic: end-of-support, owner: ROLE-1, text: Five years., notice_months: 24}
- {id: PLAN-TEST, type: plan, title: Testing, topic: testing, owner: ROLE-1, frequency: yearly}
- {id: VIEW-1, type: view, title: global-system, view: global-system, text: The view.}
- {id: VIEW-2, type: view, title: multi-patient-harm, view: multi-patient-harm, text: The view.}
- {id: VIEW-3, type: view, title: updatability-patchability, view: updatability-patchability, text: The view.}
- {id: VIEW-4, type: view, title: security-use-case, view: security-use-case, text: The view.}
"#;

/// The one JUnit case every test of [`COMPLETE`] names.
const PASSING: &str = r#"<testsuites><testsuite name="s" tests="1"><testcase name="pairing_works" classname="pump"/></testsuite></testsuites>"#;

fn build(items: &str, junit: Option<&str>) -> Built {
    let mut b = ProjectBuilder::new().file("requirements/all.yaml", items);
    if let Some(junit) = junit {
        b = b.file("trace/junit.xml", junit);
    }
    b.build()
}

/// The document as the book shows it (blockers link to their items).
fn render(p: &Project, name: &str) -> String {
    documents::render_as(p, name, documents::Flavour::Book)
        .unwrap()
        .markdown
}

/// The report's section 7, from its heading to the end.
fn conclusion(p: &Project) -> String {
    let md = render(p, "security-risk-management-report");
    md[md.find("## 7. Residual risk conclusion").unwrap()..].to_owned()
}

#[test]
fn a_complete_project_with_every_test_passing_is_acceptable() {
    let built = build(COMPLETE, Some(PASSING));
    let p = built.load();
    assert!(!p.diagnostics.has_errors(), "{:?}", p.diagnostics.0);
    assert_eq!(documents::all_gaps(&p).unwrap(), []);
    let text = conclusion(&p);
    assert!(
        text.contains("the residual cybersecurity risk of the device is acceptable."),
        "{text}"
    );
    assert!(!text.contains("cannot be concluded"), "{text}");
    let md = render(&p, "security-risk-management-report");
    assert!(
        md.contains("| Controls verified by a passing, current test result | 8 of 8 verified, 0 failed, 0 skipped, 0 without result |"),
        "{md}"
    );
}

#[test]
fn a_residual_risk_in_an_unacceptable_cell_without_acceptance_is_not_acceptable() {
    let items = COMPLETE.replace(
        "severity: serious, exploitability: low",
        "severity: catastrophic, exploitability: very-high",
    );
    let p = build(&items, Some(PASSING)).load();
    let text = conclusion(&p);
    assert!(
        text.contains("1 risk remains in an unacceptable cell"),
        "{text}"
    );
    assert!(text.contains("RISK-1"), "{text}");
    assert!(text.contains("is **not acceptable**"), "{text}");
    assert!(!text.contains("is acceptable."), "{text}");

    // Accepted with a rationale, the same cell no longer makes it unacceptable.
    let accepted = items.replace(
        "disposition: mitigate}",
        "disposition: accept, rationale: Benefit outweighs it., approved_by: QA, review_by: '2099-01-01'}",
    );
    let p = build(&accepted, Some(PASSING)).load();
    let text = conclusion(&p);
    assert!(text.contains("is acceptable."), "{text}");
}

#[test]
fn an_incomplete_project_cannot_be_concluded_and_lists_each_blocker() {
    let items = format!(
        "{}{}",
        COMPLETE
            // A STRIDE gap: nothing covers spoofing of the app any more.
            .replace("- {id: THR-S, type: threat, title: Spoof, stride: spoofing, targets: AST-APP, phase: use}\n", "")
            .replace("threats: [THR-S, THR-R", "threats: [THR-R")
            // A document gap: the global system view is gone.
            .replace("- {id: VIEW-1, type: view, title: global-system, view: global-system, text: The view.}\n", "")
            // The skipped and failing tests verify the control.
            .replace("title: threat-mitigation test, method: threat-mitigation, verifies: [CTL-1, REQ-1], evidence: pairing_works", "title: threat-mitigation test, method: threat-mitigation, verifies: [CTL-1, REQ-1], evidence: pairing_fails")
            .replace("title: vulnerability test, method: vulnerability, verifies: [CTL-1, REQ-1], evidence: pairing_works", "title: vulnerability test, method: vulnerability, verifies: [CTL-1, REQ-1], evidence: pairing_skipped")
            .replace("title: penetration test, method: penetration, verifies: [CTL-1, REQ-1], evidence: pairing_works", "title: penetration test, method: penetration, verifies: [CTL-1, REQ-1], evidence: nothing_matches"),
        "- {id: CMP-OLD, type: component, title: Old lib, version: 0.1.0, supplier: Acme, support: none, end_of_support: '2001-01-01', purl: 'pkg:generic/old@0.1.0'}\n\
         - {id: VUL-1, type: vulnerability, title: Open one, cve: CVE-2099-0001, components: CMP-1, status: under_investigation, action: Look., identified: '2026-01-01'}\n",
    );
    let junit = r#"<testsuites><testsuite name="s" tests="3">
<testcase name="pairing_works" classname="pump"/>
<testcase name="pairing_fails" classname="pump"><failure message="timeout"/></testcase>
<testcase name="pairing_skipped" classname="pump"><skipped message="no rig"/></testcase>
</testsuite></testsuites>"#;
    let p = build(&items, Some(junit)).load();
    let text = conclusion(&p);
    assert!(text.contains("**cannot be concluded yet**"), "{text}");
    assert!(!text.contains("is acceptable."), "{text}");
    let blockers: Vec<&str> = text.lines().filter(|l| l.starts_with("- ")).collect();
    let has = |id: &str, what: &str| {
        blockers
            .iter()
            .any(|l| l.contains(&format!(">{id}</a>: {what}")))
    };
    assert!(has("TST-MIT", "test of a control: failed"), "{blockers:#?}");
    assert!(
        has("TST-VULNERABILITY", "test of a control: skipped"),
        "{blockers:#?}"
    );
    assert!(
        has("TST-PENETRATION", "test of a control: no result"),
        "{blockers:#?}"
    );
    assert!(
        has(
            "CMP-OLD",
            "support ended on 2001-01-01, and no risk or vulnerability assesses it"
        ),
        "{blockers:#?}"
    );
    assert!(
        has("VUL-1", "vulnerability under investigation"),
        "{blockers:#?}"
    );
    assert!(
        has(
            "AST-APP",
            "STRIDE gap: no threat and no reason recorded for spoofing"
        ),
        "{blockers:#?}"
    );
    assert!(
        blockers
            .iter()
            .any(|l| l
                .starts_with("- Architecture Views, section &quot;1. Global System View&quot;")),
        "{blockers:#?}"
    );
    // The counts say what failed.
    let md = render(&p, "security-risk-management-report");
    assert!(
        md.contains("| Controls verified by a passing, current test result | 7 of 8 verified, 1 failed, 0 skipped, 0 without result |"),
        "{md}"
    );
    let report = render(&p, "security-testing-report");
    assert!(
        report.contains("Tests: 1 of 4 verified, 1 failed, 1 skipped, 1 without result."),
        "{report}"
    );
}

#[test]
fn the_example_cannot_be_concluded_while_a_test_fails_and_another_is_skipped() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/insulin-pump");
    let p = crate::support::git::project_at(&root);
    let text = conclusion(&p);
    assert!(text.contains("**cannot be concluded yet**"), "{text}");
    assert!(!text.contains("is acceptable"), "{text}");
    assert!(
        text.contains(">TST-CLOUD-RESILIENCE</a>: test of a control: failed"),
        "{text}"
    );
    assert!(
        text.contains(">TST-SIEM</a>: test of a control: skipped"),
        "{text}"
    );
    let md = render(&p, "security-risk-management-report");
    assert!(
        md.contains("34 of 36 verified, 1 failed, 1 skipped, 0 without result"),
        "{md}"
    );
}

#[test]
fn without_any_result_no_sentence_claims_that_tests_pass() {
    let items = COMPLETE.replace(", phase: use}", "}");
    let p = build(&items, None).load();
    let report = render(&p, "security-testing-report");
    assert!(report.contains("No test has a result yet"), "{report}");
    assert!(
        report.contains("Tests: 0 of 4 verified, 0 failed, 0 skipped, 4 without result."),
        "{report}"
    );
    assert!(!report.contains("passed."), "{report}");
    let anomalies = render(&p, "unresolved-anomalies");
    assert!(
        anomalies.contains("No test has a result yet, so none is known to fail or be skipped."),
        "{anomalies}"
    );
    assert!(!anomalies.contains("Every test"), "{anomalies}");
    let md = render(&p, "security-risk-management-report");
    assert!(md.contains("no threat names a lifecycle phase yet"), "{md}");
    assert!(!md.contains("for every lifecycle phase"), "{md}");
    let text = conclusion(&p);
    assert!(
        text.contains(">TST-REQUIREMENTS</a>: test of a control: no result"),
        "{text}"
    );
}

#[test]
fn the_tplc_period_is_configurable_and_a_bad_value_is_reported_at_its_line() {
    let built = ProjectBuilder::new()
        .toml("metrics-period-months = 3\n")
        .build();
    let p = built.load();
    let t = mdbook_qms::evidence::metrics::compute(&p);
    assert_eq!(
        (t.period.months, t.period.start),
        (3, p.today.months_before(3))
    );
    let md = render(&p, "tplc-metrics");
    assert!(
        md.contains(&format!(
            "from {} to {} (3 months",
            p.today.months_before(3),
            p.today
        )),
        "{md}"
    );

    let default = ProjectBuilder::new().build().load();
    assert_eq!(
        mdbook_qms::evidence::metrics::compute(&default)
            .period
            .months,
        12
    );

    for bad in ["0", "\"twelve\"", "1201", "1.5"] {
        let built = ProjectBuilder::new()
            .toml(&format!("metrics-period-months = {bad}\n"))
            .build();
        let p = built.load();
        let d: Vec<_> = p
            .diagnostics
            .0
            .iter()
            .filter(|d| d.code == code::CONFIG_SYNTAX)
            .collect();
        assert_eq!(d.len(), 1, "{bad}: {:?}", p.diagnostics.0);
        assert!(
            d[0].message
                .contains("a whole number of months from 1 to 1200"),
            "{}",
            d[0].message
        );
        let (file, line) = match d[0].location {
            mdbook_qms::diag::Location::Span(s) => {
                (s.file, p.sources.get(s.file).line_col(s.start).0)
            }
            ref other => panic!("{other:?}"),
        };
        assert_eq!(p.sources.get(file).path, std::path::Path::new("book.toml"));
        assert_eq!(line, 6, "{bad}");
        assert_eq!(mdbook_qms::evidence::metrics::compute(&p).period.months, 12);
    }
}

#[test]
fn metrics_compare_each_patch_with_its_own_timeline() {
    let items = format!(
        "{COMPLETE}\
         - {{id: VUL-1, type: vulnerability, title: Critical, cve: CVE-2099-0001, cvss: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', components: CMP-1, status: fixed, action: Patched., identified: '2026-01-01', patched: '2026-02-10'}}\n\
         - {{id: VUL-2, type: vulnerability, title: Low, cve: CVE-2099-0002, cvss: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N', components: CMP-1, status: fixed, action: Patched., identified: '2026-01-01', patched: '2026-02-10'}}\n\
         - {{id: VUL-3, type: vulnerability, title: Not ours, cve: CVE-2099-0003, components: CMP-1, status: not_affected, justification: component_not_present, identified: '2026-01-01', patched: '2026-01-05'}}\n"
    );
    let p = ProjectBuilder::new()
        .toml("metrics-period-months = 1200\n")
        .file("requirements/all.yaml", items)
        .build()
        .load();
    let t = mdbook_qms::evidence::metrics::compute(&p);
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
    // 40 days: late for the 30-day out-of-cycle deadline, within the quarterly cycle.
    // VUL-3 is not affected: not a patch to measure.
    assert_eq!(
        patches,
        [
            ("VUL-1", 40, true, Some(30)),
            ("VUL-2", 40, false, Some(92))
        ]
    );
    assert_eq!(t.not_affected, 1);
    let md = render(&p, "tplc-metrics");
    assert!(
        md.contains("| out-of-cycle: 30 days | **no**, 10 days late |"),
        "{md}"
    );
    assert!(md.contains("| regular cycle: 92 days | yes |"), "{md}");
}
