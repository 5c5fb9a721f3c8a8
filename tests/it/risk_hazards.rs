//! The ISO 14971 hand-off by link: a risk's `harm` and `hazards`, hazard items and the
//! ids of an external safety file declared in book.toml ([preprocessor.qms.safety-file]),
//! the two checks on them, and section 4 of the risk assessment, on the risk fixture.

use mdbook_qms::documents;

use crate::support::risk::{base_yaml, load, Loaded};

/// The fixture's RISK-TAKEOVER line that the tests give a harm (and hazards) after.
const TAKEOVER: &str = "  disposition: mitigate\n  rationale: The controls make the attack harder to carry out.\n- id: RISK-SETTINGS";

/// The fixture with `fields` added to RISK-TAKEOVER, `extra_items` appended and
/// `toml_extra` appended to book.toml.
fn with_takeover(fields: &str, extra_items: &str, toml_extra: &str) -> Loaded {
    let yaml = base_yaml();
    assert_eq!(yaml.matches(TAKEOVER).count(), 1);
    let edited = yaml.replacen(
        TAKEOVER,
        &TAKEOVER.replacen(
            "- id: RISK-SETTINGS",
            &format!("{fields}- id: RISK-SETTINGS"),
            1,
        ),
        1,
    );
    load(&format!("{edited}\n{extra_items}"), toml_extra)
}

const HAZARD_ITEM: &str = "- id: HAZ-OVERDOSE\n  type: hazard\n  title: Over-delivery of insulin\n  hazardous_situation: A bolus nobody asked for.\n  harm: Severe hypoglycaemia.\n  safety_file: RMF-1 row HA-12\n";

const SAFETY_FILE: &str =
    "\n[preprocessor.qms.safety-file]\nname = \"Risk Management File RMF-1\"\nids = [\"HAZ-*\"]\n";

fn codes(l: &Loaded, code: &str) -> Vec<String> {
    l.with(code).into_iter().map(|d| d.message).collect()
}

#[test]
fn a_safety_harm_needs_hazards() {
    for harm in ["safety", "both"] {
        let l = with_takeover(&format!("  harm: {harm}\n"), "", "");
        let found = l.with("risk-hazard-missing");
        assert_eq!(found.len(), 1, "{:#?}", l.diags());
        assert_eq!(found[0].item.as_deref(), Some("RISK-TAKEOVER"));
        assert_eq!(found[0].severity, "warning");
    }
    // With a hazard item, or without a safety harm, there is nothing to hand over.
    let linked = with_takeover("  harm: safety\n  hazards: HAZ-OVERDOSE\n", HAZARD_ITEM, "");
    assert_eq!(codes(&linked, "risk-hazard-missing"), Vec::<String>::new());
    assert!(
        !linked.project.diagnostics.has_errors(),
        "{:#?}",
        linked.diags()
    );
    for harm in ["privacy", "none"] {
        let l = with_takeover(&format!("  harm: {harm}\n"), "", "");
        assert_eq!(codes(&l, "risk-hazard-missing"), Vec::<String>::new());
        assert_eq!(codes(&l, "risk-harm-mismatch"), Vec::<String>::new());
    }
    // No harm at all is not this check's business (the corpus's risks have none).
    let l = with_takeover("", "", "");
    assert_eq!(codes(&l, "risk-hazard-missing"), Vec::<String>::new());
}

#[test]
fn hazards_contradict_a_privacy_harm() {
    for harm in ["privacy", "none"] {
        let l = with_takeover(
            &format!("  harm: {harm}\n  hazards: HAZ-OVERDOSE\n"),
            HAZARD_ITEM,
            "",
        );
        let found = l.with("risk-harm-mismatch");
        assert_eq!(found.len(), 1, "{:#?}", l.diags());
        assert!(
            found[0].message.contains(&format!("`{harm}`")),
            "{}",
            found[0].message
        );
    }
    for harm in ["safety", "both"] {
        let l = with_takeover(
            &format!("  harm: {harm}\n  hazards: HAZ-OVERDOSE\n"),
            HAZARD_ITEM,
            "",
        );
        assert_eq!(codes(&l, "risk-harm-mismatch"), Vec::<String>::new());
    }
}

#[test]
fn ids_of_the_declared_safety_file_are_not_broken_links() {
    let fields = "  harm: safety\n  hazards: [HAZ-EXTERNAL-1, HAZ-OVERDOSE]\n";
    let declared = with_takeover(fields, HAZARD_ITEM, SAFETY_FILE);
    assert_eq!(codes(&declared, "link-unknown"), Vec::<String>::new());
    assert!(
        !declared.project.diagnostics.has_errors(),
        "{:#?}",
        declared.diags()
    );
    // Without the declaration, or when the id does not match its patterns, the id is
    // a broken link like any other.
    let undeclared = with_takeover(fields, HAZARD_ITEM, "");
    assert_eq!(
        codes(&undeclared, "link-unknown").len(),
        1,
        "{:#?}",
        undeclared.diags()
    );
    let other = with_takeover(
        fields,
        HAZARD_ITEM,
        "\n[preprocessor.qms.safety-file]\nname = \"RMF-1\"\nids = [\"HA-*\"]\n",
    );
    assert_eq!(
        codes(&other, "link-unknown").len(),
        1,
        "{:#?}",
        other.diags()
    );
    // A pattern applies to hazard links only: a control id matching it stays unknown.
    let yaml = base_yaml().replacen(
        "  controls: [CTL-AUTH, CTL-TLS]\n  residual:",
        "  controls: [CTL-AUTH, HAZ-NOT-A-CONTROL]\n  residual:",
        1,
    );
    let l = load(&yaml, SAFETY_FILE);
    assert_eq!(codes(&l, "link-unknown").len(), 1, "{:#?}", l.diags());
}

#[test]
fn a_safety_file_needs_a_name_and_ids() {
    for table in [
        "\n[preprocessor.qms.safety-file]\nname = \"RMF-1\"\n",
        "\n[preprocessor.qms.safety-file]\nids = []\nname = \"RMF-1\"\n",
        "\n[preprocessor.qms.safety-file]\nids = [\"HAZ-*\"]\n",
    ] {
        let l = with_takeover("  harm: safety\n  hazards: HAZ-EXTERNAL-1\n", "", table);
        assert_eq!(
            codes(&l, "config-syntax").len(),
            1,
            "{table}: {:#?}",
            l.diags()
        );
        // No file is declared, so the id is unknown.
        assert_eq!(
            codes(&l, "link-unknown").len(),
            1,
            "{table}: {:#?}",
            l.diags()
        );
    }
    let l = with_takeover(
        "",
        "",
        "\n[preprocessor.qms.safety-file]\nname = \"RMF-1\"\nids = \"HAZ-*\"\nfile = \"x\"\n",
    );
    let unknown = l.with("config-unknown-key");
    assert_eq!(unknown.len(), 1, "{:#?}", l.diags());
    assert!(unknown[0]
        .message
        .contains("[preprocessor.qms.safety-file]"));
}

#[test]
fn the_risk_assessment_hands_over_the_risks_with_hazards() {
    let l = with_takeover(
        "  harm: both\n  hazards: [HAZ-EXTERNAL-1, HAZ-OVERDOSE]\n",
        HAZARD_ITEM,
        SAFETY_FILE,
    );
    let md = documents::render_standalone(&l.project, "risk-assessment")
        .unwrap()
        .markdown;
    let section = &md[md.find("## 4. ").unwrap()..md.find("## 5. ").unwrap()];
    assert!(
        section.contains("(Risk Management File RMF-1)"),
        "{section}"
    );
    let row = section
        .lines()
        .find(|l| l.contains("RISK-TAKEOVER"))
        .unwrap_or_else(|| panic!("RISK-TAKEOVER not handed over:\n{section}"));
    assert!(row.contains("| both |"), "{row}");
    assert!(
        row.contains("HAZ-EXTERNAL-1 (in Risk Management File RMF-1)"),
        "{row}"
    );
    assert!(
        row.contains("Over-delivery of insulin (RMF-1 row HA-12)"),
        "{row}"
    );
    // Not by severity: the fixture's other risks name no hazard and are not handed over,
    // and they say nothing about their harm.
    assert!(!section.contains("RISK-SETTINGS |"), "{section}");
    assert!(
        section.contains("Risks that do not say what they harm"),
        "{section}"
    );
    assert!(!section.contains("**Gap: "), "{section}");

    // A safety harm without hazards is a gap there, tied to its check.
    let l = with_takeover("  harm: safety\n", "", "");
    let md = documents::render_standalone(&l.project, "risk-assessment")
        .unwrap()
        .markdown;
    let section = &md[md.find("## 4. ").unwrap()..md.find("## 5. ").unwrap()];
    assert!(section.contains("No risk names a hazard"), "{section}");
    assert!(
        section.contains("**Gap: RISK-TAKEOVER can harm safety but names no hazard"),
        "{section}"
    );
}

#[test]
fn each_risk_is_printed_with_its_text_vector_and_rationale() {
    let l = with_takeover(
        "  text: An attacker *on the network* takes the device over.\n",
        "",
        "",
    );
    let md = documents::render_standalone(&l.project, "risk-assessment")
        .unwrap()
        .markdown;
    let block = &md[md.find("### RISK-TAKEOVER ").unwrap()..];
    let block = &block[..block[4..].find("### ").map_or(block.len(), |e| e + 4)];
    assert!(
        block.contains("*on the network*"),
        "Markdown stays Markdown: {block}"
    );
    assert!(
        block.contains("vector CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        "{block}"
    );
    assert!(
        block.contains("The controls make the attack harder to carry out."),
        "{block}"
    );
    assert!(block.contains("- Controls: "), "{block}");
}

#[test]
fn a_card_names_external_hazards_with_their_file() {
    let yaml = base_yaml().replacen(
        TAKEOVER,
        &TAKEOVER.replacen(
            "- id: RISK-SETTINGS",
            "  harm: safety\n  hazards: [HAZ-OVERDOSE, HAZ-EXTERNAL-1]\n- id: RISK-SETTINGS",
            1,
        ),
        1,
    );
    let l = crate::support::risk::load_with_chapter(
        &format!("{yaml}\n{HAZARD_ITEM}"),
        SAFETY_FILE,
        Some("# Risks\n\n{{#qms item RISK-TAKEOVER}}\n"),
    );
    assert!(!l.project.diagnostics.has_errors(), "{:#?}", l.diags());
    let page = mdbook_qms::render::render(&l.project).chapters.remove(0);
    let links = &page[page.find("<dl class=\"qms-links\">").unwrap()..];
    let lead_to = &links[links.find("<dt>can lead to</dt>").expect(links)..];
    let lead_to = &lead_to[..lead_to.find("</dd>").unwrap()];
    assert!(lead_to.contains(">HAZ-OVERDOSE</a>"), "{lead_to}");
    assert!(
        lead_to.contains(
            "<span class=\"qms-external\">HAZ-EXTERNAL-1</span> (in Risk Management File RMF-1)"
        ),
        "{lead_to}"
    );
}
