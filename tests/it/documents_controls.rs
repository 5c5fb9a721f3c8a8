//! The Security Controls document (Appendix 1 of the guidance): controls under the
//! eight categories with their text, requirements, tests and verification status, an
//! empty category as a gap, the update cycle with its justification, and the processes
//! behind section 524B(b)(2).

use mdbook_qms::documents::{self, Gap};
use mdbook_qms::project::Project;

use crate::support::ProjectBuilder;

/// Two categories filled, one control failing its test, one with only an obsolete test
/// and one without a category; a patching plan with its justification.
const ITEMS: &str = r#"- {id: REQ-1, type: requirement, title: Pair securely}
- {id: CTL-PAIR, type: control, title: Passkey pairing, category: authentication, requirements: REQ-1, text: "Pairing needs the **passkey** shown on the pump."}
- {id: CTL-AES, type: control, title: AES-CCM link, category: cryptography}
- {id: CTL-LOG, type: control, title: Event log, category: event_detection_and_logging}
- {id: CTL-LOOSE, type: control, title: Loose control}
- {id: TST-PAIR, type: test, title: Pairing test, verifies: [CTL-PAIR, CTL-LOOSE], evidence: pairing_works}
- {id: TST-AES, type: test, title: AES test, verifies: CTL-AES, evidence: aes_works}
- {id: TST-OLD, type: test, title: Old log test, status: obsolete, verifies: [CTL-LOG, CTL-AES]}
- {id: PLAN-PATCH, type: plan, title: Patching, topic: patching, regular_cycle: quarterly, cycle_justification: "Suppliers release *quarterly*.", out_of_cycle_days: 30}
- {id: PLAN-MON, type: plan, title: Monitoring, topic: monitoring, sources: [NVD, KEV], frequency: daily}
"#;

const JUNIT: &str = r#"<testsuites><testsuite name="s" tests="2">
<testcase name="pairing_works" classname="pump"/>
<testcase name="aes_works" classname="pump"><failure message="weak key"/></testcase>
</testsuite></testsuites>"#;

fn render(items: &str) -> (String, Vec<Gap>) {
    let p: Project = ProjectBuilder::new()
        .file("requirements/all.yaml", items)
        .file("trace/junit.xml", JUNIT)
        .build()
        .load();
    assert!(!p.diagnostics.has_errors(), "{:?}", p.diagnostics.0);
    let out = documents::render_as(&p, "security-controls", documents::Flavour::Book).unwrap();
    (out.markdown, out.gaps)
}

/// The text of the section whose heading starts with `heading`, up to the next `## `.
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md
        .find(&format!("\n## {heading}"))
        .unwrap_or_else(|| panic!("no section {heading}:\n{md}"));
    let rest = &md[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    &rest[..end]
}

#[test]
fn controls_are_listed_under_their_category_with_text_requirements_tests_and_status() {
    let (md, gaps) = render(ITEMS);
    assert!(md.starts_with("# Security Controls (Appendix 1)\n"), "{md}");
    let auth = section(&md, "1. Authentication");
    assert!(auth.contains("### Passkey pairing"), "{auth}");
    assert!(
        auth.contains("<p>Pairing needs the <strong>passkey</strong> shown on the pump.</p>"),
        "{auth}"
    );
    assert!(auth.contains(">REQ-1</a>"), "{auth}");
    assert!(auth.contains(">TST-PAIR</a> (passed)"), "{auth}");
    assert!(auth.contains("Verification status: **verified**"), "{auth}");
    let crypto = section(&md, "3. Cryptography");
    assert!(crypto.contains(">TST-AES</a> (failed)"), "{crypto}");
    assert!(
        crypto.contains("Verification status: **failed**"),
        "{crypto}"
    );
    assert!(crypto.contains("Implements: no requirement"), "{crypto}");
    assert!(
        !crypto.contains("TST-OLD"),
        "an obsolete test verifies nothing: {crypto}"
    );
    // A control without a test is a gap, the same finding as control-untested.
    let logging = section(&md, "6. Event Detection and Logging");
    assert!(
        logging.contains("Verification status: **no test**"),
        "{logging}"
    );
    assert!(
        !logging.contains("TST-OLD"),
        "an obsolete test verifies nothing: {logging}"
    );
    let untested = gaps
        .iter()
        .find(|g| g.what == "CTL-LOG is verified by no test")
        .unwrap_or_else(|| panic!("{gaps:#?}"));
    assert_eq!(untested.fix.check.as_deref(), Some("control-untested"));
    // A control without a category has a section of its own, with a gap at the field.
    let loose = section(&md, "Controls without a category");
    assert!(loose.contains("### Loose control"), "{loose}");
    assert!(gaps.iter().any(|g| g.what == "CTL-LOOSE has no `category`"
        && g.fix.item.as_deref() == Some("CTL-LOOSE")
        && g.fix.field.as_deref() == Some("category")));
    // Filled categories have no gap; each empty one has one, in the guide's order.
    let empty: Vec<&str> = gaps
        .iter()
        .filter(|g| g.fix.add.as_deref() == Some("control"))
        .map(|g| g.section.as_str())
        .collect();
    assert_eq!(
        empty,
        [
            "2. Authorization",
            "4. Code, Data and Execution Integrity",
            "5. Confidentiality",
            "7. Resiliency and Recovery",
            "8. Updatability and Patchability",
        ]
    );
    assert!(md.contains("Controls by the results of their tests: 2 of 4 verified, 1 failed"));
}

#[test]
fn the_update_cycle_needs_its_justification() {
    let (md, gaps) = render(ITEMS);
    let cycle = section(&md, "9. Update cycle");
    assert!(cycle.contains("regular cycle: quarterly"), "{cycle}");
    assert!(
        cycle.contains("<p>Suppliers release <em>quarterly</em>.</p>"),
        "{cycle}"
    );
    assert!(cycle.contains("within 30 days"), "{cycle}");
    assert!(
        !gaps.iter().any(|g| g.section.starts_with("9.")),
        "{gaps:#?}"
    );

    // Without the justification: a gap at the plan's field.
    let (md, gaps) = render(&ITEMS.replace(
        r#" cycle_justification: "Suppliers release *quarterly*.","#,
        "",
    ));
    assert!(section(&md, "9. Update cycle").contains("qms-gap"));
    let gap = gaps
        .iter()
        .find(|g| g.section.starts_with("9."))
        .unwrap_or_else(|| panic!("{gaps:#?}"));
    assert_eq!(gap.fix.item.as_deref(), Some("PLAN-PATCH"));
    assert_eq!(gap.fix.field.as_deref(), Some("cycle_justification"));

    // Without a patching plan: a gap asking for one.
    let no_plan: String = ITEMS
        .lines()
        .filter(|l| !l.contains("PLAN-PATCH"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (_, gaps) = render(&no_plan);
    assert!(gaps
        .iter()
        .any(|g| g.section.starts_with("9.") && g.fix.add.as_deref() == Some("plan")));
}

#[test]
fn the_processes_behind_524b_b_2_name_their_plan_items() {
    let (md, gaps) = render(ITEMS);
    let processes = section(&md, "10. Processes behind section 524B(b)(2)");
    let row = |name: &str| {
        processes
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row {name}:\n{processes}"))
            .to_owned()
    };
    assert!(row("Vulnerability monitoring").contains("daily, from 2 sources"));
    assert!(row("Vulnerability monitoring").contains(">PLAN-MON</a>"));
    assert!(row("Regular and out-of-cycle updates").contains(">PLAN-PATCH</a>"));
    // The missing processes are gaps, with the same text as the management plan's, so
    // `gaps` lists each once.
    for (process, topic) in [
        ("Periodic security testing", "testing"),
        ("Coordinated vulnerability disclosure", "disclosure"),
        ("Customer communication", "communication"),
    ] {
        assert!(row(process).contains("qms-gap"), "{process}");
        assert!(
            gaps.iter()
                .any(|g| g.section.starts_with("10.")
                    && g.what.contains(&format!("`topic: {topic}`"))),
            "{topic}: {gaps:#?}"
        );
    }
    let plan = ProjectBuilder::new()
        .file("requirements/all.yaml", ITEMS)
        .build()
        .load();
    let all = documents::all_gaps(&plan).unwrap();
    let management = all
        .iter()
        .find(|g| {
            g.document == "cybersecurity-management-plan" && g.what.contains("`topic: testing`")
        })
        .unwrap();
    let controls = all
        .iter()
        .find(|g| g.document == "security-controls" && g.what.contains("`topic: testing`"))
        .unwrap();
    assert_eq!(management.what, controls.what);
}
