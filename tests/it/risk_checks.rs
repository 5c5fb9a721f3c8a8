//! Every threat-model check, positive and negative, on a small real project: the fixture
//! in tests/fixtures/risk passes them all, and each test breaks one fact.

use crate::support::risk::{base_yaml, edited, line_of, load, risk_diags, Diag};

/// RISK-SETTINGS's disposition and the rationale of its residual, as the fixture has them.
const SETTINGS_MITIGATED: &str =
    "    exploitability: low\n  disposition: mitigate\n  rationale: The controls make the attack harder to carry out.";

/// The single diagnostic with `code`, checked for its item, line and severity.
fn one(
    l: &crate::support::risk::Loaded,
    code: &str,
    item: &str,
    line: usize,
    severity: &str,
) -> Diag {
    let found = l.with(code);
    assert_eq!(
        found.len(),
        1,
        "expected one {code}, got {found:#?}\nall: {:#?}",
        l.diags()
    );
    let d = found.into_iter().next().unwrap();
    assert_eq!(d.item.as_deref(), Some(item), "{d:#?}");
    assert_eq!((d.line, d.severity.as_str()), (line, severity), "{d:#?}");
    assert_eq!(d.file, "requirements/model.yaml");
    d
}

#[test]
fn the_fixture_passes_every_check() {
    let l = load(&base_yaml(), "");
    assert_eq!(risk_diags(&l), Vec::<Diag>::new());
    assert!(!l.project.diagnostics.has_errors(), "{:#?}", l.diags());
}

#[test]
fn crossing_flow_without_authentication() {
    let l = edited(
        "  controls: [CTL-AUTH, CTL-TLS]\n- id: FLOW-STORE",
        "  controls: [CTL-TLS]\n- id: FLOW-STORE",
    );
    let yaml = base_yaml();
    let d = one(
        &l,
        "boundary-flow-unprotected",
        "FLOW-LOGIN",
        line_of(&yaml, "  controls: [CTL-AUTH, CTL-TLS]\n- id: FLOW-STORE"),
        "warning",
    );
    assert!(
        d.message.contains("ZONE-OUT to ZONE-DEV") && d.message.contains("authentication"),
        "{}",
        d.message
    );
    assert!(!d.message.contains("integrity"), "{}", d.message);
}

#[test]
fn crossing_flow_without_any_control() {
    let l = edited(
        "  controls: [CTL-AUTH, CTL-TLS]\n- id: FLOW-STORE",
        "- id: FLOW-STORE",
    );
    let d = one(
        &l,
        "boundary-flow-unprotected",
        "FLOW-LOGIN",
        line_of(&base_yaml(), "- id: FLOW-LOGIN"),
        "warning",
    );
    assert!(
        d.message.contains("authentication or integrity"),
        "{}",
        d.message
    );
    // The confidential credentials are exposed too.
    one(
        &l,
        "boundary-data-exposed",
        "FLOW-LOGIN",
        line_of(&base_yaml(), "  data: AST-DATA"),
        "warning",
    );
}

#[test]
fn flows_inside_one_zone_need_no_boundary_controls() {
    // FLOW-STORE and FLOW-READ have no controls and stay in ZONE-DEV.
    let l = load(&base_yaml(), "");
    assert!(l.with("boundary-flow-unprotected").is_empty());
}

#[test]
fn confidential_data_across_a_boundary_needs_confidentiality() {
    // Integrity instead of cryptography: authentication and integrity are there, secrecy is not.
    let l = edited(
        "  category: cryptography",
        "  category: code_data_and_execution_integrity",
    );
    assert!(
        l.with("boundary-flow-unprotected").is_empty(),
        "{:#?}",
        l.diags()
    );
    let d = one(
        &l,
        "boundary-data-exposed",
        "FLOW-LOGIN",
        line_of(&base_yaml(), "  data: AST-DATA"),
        "warning",
    );
    assert!(d.message.contains("AST-DATA"), "{}", d.message);
    // Not confidential: no finding.
    let yaml = base_yaml()
        .replace(
            "  category: cryptography",
            "  category: code_data_and_execution_integrity",
        )
        .replace("  confidential: true\n", "");
    assert!(load(&yaml, "").with("boundary-data-exposed").is_empty());
}

#[test]
fn stride_gap_per_element_kind() {
    // The external entity loses its not-applicable reason for repudiation.
    let l = edited(
        "  stride_not_applicable:\n    repudiation: Every action is logged on the device with the user's identity.\n",
        "",
    );
    let d = one(
        &l,
        "stride-gap",
        "AST-USER",
        line_of(&base_yaml(), "  kind: external-entity"),
        "warning",
    );
    assert!(d.message.ends_with("for repudiation"), "{}", d.message);
    // Tampering does not apply to an external entity, so no threat is needed for it.
    assert!(!d.message.contains("tampering"));

    // A flow: T, I, D.
    let l = edited(
        "    denial-of-service: An in-process call.\n- id: FLOW-READ",
        "- id: FLOW-READ",
    );
    let d = one(
        &l,
        "stride-gap",
        "FLOW-STORE",
        line_of(&base_yaml(), "- id: FLOW-STORE"),
        "warning",
    );
    assert!(
        d.message.ends_with("for denial-of-service"),
        "{}",
        d.message
    );

    // A process: all six.
    let l = edited(
        "  stride: [spoofing, tampering, repudiation, information-disclosure, denial-of-service, elevation-of-privilege]",
        "  stride: [spoofing, tampering]",
    );
    let d = one(
        &l,
        "stride-gap",
        "AST-APP",
        line_of(&base_yaml(), "  kind: process"),
        "warning",
    );
    assert!(
        d.message.ends_with(
            "for repudiation, information-disclosure, denial-of-service, elevation-of-privilege"
        ),
        "{}",
        d.message
    );
}

#[test]
fn threat_without_risk() {
    let l = edited("  threats: THR-DB\n", "  threats: THR-APP\n");
    one(
        &l,
        "threat-no-risk",
        "THR-DB",
        line_of(&base_yaml(), "- id: THR-DB"),
        "warning",
    );
}

#[test]
fn unacceptable_residual_risk() {
    let l = edited(
        "    exploitability: very-low\n",
        "    exploitability: medium\n",
    );
    let d = one(
        &l,
        "risk-unacceptable",
        "RISK-TAKEOVER",
        line_of(&base_yaml(), "    exploitability: very-low"),
        "error",
    );
    assert!(
        d.message
            .contains("critical severity, medium exploitability"),
        "{}",
        d.message
    );
    // Without a residual, the initial risk (critical x very-high) is the residual.
    let l = edited("  residual:\n    exploitability: very-low\n", "");
    one(
        &l,
        "risk-unacceptable",
        "RISK-TAKEOVER",
        line_of(&base_yaml(), "  severity: critical"),
        "error",
    );
}

#[test]
fn acceptance_needs_rationale_approver_and_review_date() {
    let l = edited(
        SETTINGS_MITIGATED,
        "    exploitability: low\n  disposition: accept\n  approved_by: Q. Reviewer",
    );
    let d = one(
        &l,
        "risk-acceptance-incomplete",
        "RISK-SETTINGS",
        line_of(&base_yaml(), SETTINGS_MITIGATED) + 1,
        "error",
    );
    assert!(
        d.message.ends_with("without rationale, review_by"),
        "{}",
        d.message
    );

    let complete = "    exploitability: low\n  disposition: accept\n  rationale: Needs physical access and the admin password.\n  approved_by: Q. Reviewer\n  review_by: 2999-12-31";
    let l = edited(SETTINGS_MITIGATED, complete);
    assert_eq!(risk_diags(&l), Vec::<Diag>::new());
}

#[test]
fn review_date_in_the_past() {
    let l = edited(
        SETTINGS_MITIGATED,
        "    exploitability: low\n  disposition: accept\n  rationale: Physical access only.\n  approved_by: Q. Reviewer\n  review_by: 2000-01-31",
    );
    let d = one(
        &l,
        "risk-review-expired",
        "RISK-SETTINGS",
        line_of(&base_yaml(), SETTINGS_MITIGATED) + 4,
        "error",
    );
    assert!(d.message.contains("2000-01-31"));
}

#[test]
fn transfer_needs_a_labeling_control() {
    let transfer = "    exploitability: low\n  disposition: transfer\n  rationale: Users set the password.\n  approved_by: Q. Reviewer\n  review_by: 2999-12-31";
    let l = edited(SETTINGS_MITIGATED, transfer);
    one(
        &l,
        "risk-transfer-unlabeled",
        "RISK-SETTINGS",
        line_of(&base_yaml(), SETTINGS_MITIGATED) + 1,
        "error",
    );

    let yaml = base_yaml()
        .replacen(SETTINGS_MITIGATED, transfer, 1)
        .replacen(
        "  category: authentication\n",
        "  category: authentication\n  labeling: Choose a password of at least 12 characters.\n",
        1,
    );
    assert_eq!(risk_diags(&load(&yaml, "")), Vec::<Diag>::new());
}

#[test]
fn control_without_test() {
    let l = edited("  verifies: [CTL-AUTH, CTL-TLS]", "  verifies: CTL-AUTH");
    one(
        &l,
        "control-untested",
        "CTL-TLS",
        line_of(&base_yaml(), "- id: CTL-TLS"),
        "warning",
    );
}

#[test]
fn asset_without_zone_and_data_exempt() {
    let l = edited(
        "  kind: data-store\n  zone: ZONE-DEV\n",
        "  kind: data-store\n",
    );
    one(
        &l,
        "asset-no-zone",
        "AST-DB",
        line_of(&base_yaml(), "- id: AST-DB"),
        "warning",
    );
    // AST-DATA (kind: data) has no zone in the fixture, and that is fine.
    assert!(load(&base_yaml(), "").with("asset-no-zone").is_empty());
}

#[test]
fn asset_in_two_zones() {
    let l = edited(
        "  kind: data-store\n  zone: ZONE-DEV\n",
        "  kind: data-store\n  zone: [ZONE-DEV, ZONE-OUT]\n",
    );
    let line = line_of(&base_yaml(), "  kind: data-store\n  zone: ZONE-DEV\n") + 1;
    let d = one(&l, "asset-multiple-zones", "AST-DB", line, "error");
    assert!(d.message.contains("2 zones"));
}

#[test]
fn zone_parent_cycle() {
    let l = edited(
        "  title: Outside world <untrusted>\n",
        "  title: Outside world <untrusted>\n  parent: ZONE-DEV\n",
    );
    let found = l.with("parent-cycle");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].severity, "error");
    // The diagram still renders (each zone of the cycle is drawn at the top level).
    let svg = mdbook_qms::render::render(&l.project).chapters.remove(0);
    assert!(svg.contains("data-id=\"ZONE-OUT\"") && svg.contains("data-id=\"ZONE-DEV\""));
}

#[test]
fn flow_to_a_non_asset() {
    let l = edited(
        "  from: AST-APP\n  to: AST-DB\n",
        "  from: AST-APP\n  to: CTL-AUTH\n",
    );
    let d = l.with("link-wrong-type");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(
        (d[0].item.as_deref(), d[0].line),
        (
            Some("FLOW-STORE"),
            line_of(&base_yaml(), "  from: AST-APP\n  to: AST-DB\n") + 1
        )
    );
}

#[test]
fn flow_with_two_targets() {
    let l = edited(
        "  from: AST-APP\n  to: AST-DB\n",
        "  from: AST-APP\n  to: [AST-DB, AST-USER]\n",
    );
    one(
        &l,
        "flow-endpoints",
        "FLOW-STORE",
        line_of(&base_yaml(), "  from: AST-APP\n  to: AST-DB\n") + 1,
        "error",
    );
}

#[test]
fn lint_levels_apply_to_risk_checks() {
    let yaml = base_yaml().replacen("  verifies: [CTL-AUTH, CTL-TLS]", "  verifies: CTL-AUTH", 1);
    let l = load(
        &yaml,
        "[preprocessor.qms.lints]\ncontrol-untested = \"error\"\n",
    );
    assert_eq!(l.with("control-untested")[0].severity, "error");
    let l = load(
        &yaml,
        "[preprocessor.qms.lints]\ncontrol-untested = \"allow\"\n",
    );
    assert!(l.with("control-untested").is_empty());
}

#[test]
fn every_diagnostic_names_its_item() {
    let yaml = base_yaml()
        .replacen("  verifies: [CTL-AUTH, CTL-TLS]", "  verifies: CTL-AUTH", 1)
        .replacen("  threats: THR-DB\n", "  threats: THR-APP\n", 1)
        .replacen(
            "    exploitability: very-low\n",
            "    exploitability: high\n",
            1,
        );
    let l = load(&yaml, "");
    let found = risk_diags(&l);
    assert!(found.len() >= 3, "{found:#?}");
    assert!(found.iter().all(|d| d.item.is_some()), "{found:#?}");
}

#[test]
fn directive_options_are_checked() {
    let chapter = "# Model\n\n{{#qms dfd zone=ZONE-NOPE}}\n\n{{#qms dfd zone=AST-APP}}\n\n{{#qms heatmap show=sideways}}\n\n{{#qms stride extra}}\n";
    let l = crate::support::risk::load_with_chapter(&base_yaml(), "", Some(chapter));
    let mut found: Vec<(String, usize)> = l
        .diags()
        .into_iter()
        .filter(|d| d.file == "book/model.md")
        .map(|d| (d.code, d.line))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("directive-syntax".to_owned(), 7),
            ("directive-syntax".to_owned(), 9),
            ("directive-unknown-id".to_owned(), 3),
            ("directive-unknown-id".to_owned(), 5),
        ]
    );
}

#[test]
fn stride_category_the_kind_cannot_have() {
    let l = edited(
        "  targets: FLOW-LOGIN\n  stride: [tampering,",
        "  targets: FLOW-LOGIN\n  stride: [spoofing, tampering,",
    );
    let yaml = base_yaml();
    let d = one(
        &l,
        "stride-inapplicable",
        "THR-LOGIN",
        line_of(&yaml, "  targets: FLOW-LOGIN\n  stride:") + 1,
        "warning",
    );
    assert!(
        d.message
            .contains("spoofing against FLOW-LOGIN, a data flow"),
        "{}",
        d.message
    );
}

#[test]
fn stride_categories_of_the_kind_are_not_reported() {
    // A process has all six categories; an external entity's repudiation reason is fine.
    let l = load(&base_yaml(), "");
    assert!(l.with("stride-inapplicable").is_empty(), "{:#?}", l.diags());
    let l = edited(
        "    repudiation: Every action is logged on the device with the user's identity.\n",
        "    repudiation: Every action is logged on the device with the user's identity.\n    spoofing: Only one user.\n",
    );
    let inapplicable = l.with("stride-inapplicable");
    assert!(inapplicable.is_empty(), "{inapplicable:#?}");
}

#[test]
fn residual_change_needs_a_rationale() {
    let explained = "    exploitability: low\n  disposition: mitigate\n  rationale: The controls make the attack harder to carry out.\n";
    let l = edited(
        explained,
        "    exploitability: low\n  disposition: mitigate\n",
    );
    let yaml = base_yaml();
    let d = one(
        &l,
        "risk-residual-unexplained",
        "RISK-SETTINGS",
        line_of(&yaml, explained),
        "warning",
    );
    assert!(
        d.message.contains("(serious severity, low exploitability)")
            && d.message.contains("(serious, medium)"),
        "{}",
        d.message
    );
    // A residual equal to the initial score changes nothing and needs no reason.
    let l = edited(
        explained,
        "    exploitability: medium\n  disposition: mitigate\n",
    );
    let found = l.with("risk-residual-unexplained");
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn acceptance_told_to_users_needs_labeling() {
    let accepted = |rationale: &str| {
        format!("    exploitability: low\n  disposition: accept\n  rationale: {rationale}\n  approved_by: Q. Reviewer\n  review_by: 2999-12-31")
    };
    let told = accepted("Users are told in the IFU to keep the password secret.");
    let l = edited(SETTINGS_MITIGATED, &told);
    let d = one(
        &l,
        "risk-acceptance-unlabeled",
        "RISK-SETTINGS",
        line_of(&base_yaml(), SETTINGS_MITIGATED) + 2,
        "warning",
    );
    assert!(d.message.contains("(\"IFU\")"), "{}", d.message);

    // A labeling control carries it; a rationale that tells users nothing needs none
    // ("information" is not "informed").
    let labeled = base_yaml().replacen(SETTINGS_MITIGATED, &told, 1).replacen(
        "  category: authentication\n",
        "  category: authentication\n  labeling: Keep the password secret.\n",
        1,
    );
    assert_eq!(risk_diags(&load(&labeled, "")), Vec::<Diag>::new());
    let silent = accepted("Needs physical access; no information leaves the device.");
    let l = edited(SETTINGS_MITIGATED, &silent);
    assert_eq!(risk_diags(&l), Vec::<Diag>::new());
}

#[test]
fn flow_whose_end_has_no_zone_cannot_be_checked_for_a_crossing() {
    let l = edited(
        "  kind: external-entity\n  zone: ZONE-OUT\n",
        "  kind: external-entity\n",
    );
    let d = one(
        &l,
        "flow-boundary-unknown",
        "FLOW-LOGIN",
        // One line up: the edit removed AST-USER's `zone` line.
        line_of(&base_yaml(), "  from: AST-USER") - 1,
        "warning",
    );
    assert!(
        d.message
            .contains("`from` asset AST-USER is in no trust zone"),
        "{}",
        d.message
    );
    // Without the zone the crossing is hidden: the boundary checks say nothing.
    assert!(l.with("boundary-flow-unprotected").is_empty());
}

#[test]
fn flows_with_zoned_ends_are_not_unknown() {
    // Every flow end of the fixture is in one zone; AST-DATA (kind: data, no zone) is
    // carried, not an end.
    let l = load(&base_yaml(), "");
    assert!(
        l.with("flow-boundary-unknown").is_empty(),
        "{:#?}",
        l.diags()
    );
}
