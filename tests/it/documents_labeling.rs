//! The security labeling written for users: the ports table lists only the interfaces
//! users and service staff reach, with endpoints by title and host; incident
//! instructions and the customer's route to the SBOM are plan facts; end of support
//! names only the components on the device; a text is printed once and referenced.

use mdbook_qms::documents::{self, Gap};

use crate::support::ProjectBuilder;

const MODEL: &str = r#"- {id: ZONE-BODY, type: zone, title: Body, device: true}
- {id: ZONE-CLOUD, type: zone, title: Cloud}
- {id: AST-PATIENT, type: asset, title: Patient, kind: external-entity, zone: ZONE-BODY}
- {id: AST-PUMP, type: asset, title: Insulin pump, kind: process, zone: ZONE-BODY, components: CMP-FW}
- {id: AST-API, type: asset, title: Cloud API, kind: process, zone: ZONE-CLOUD, host: api.example.com, components: CMP-NGINX}
- {id: AST-DB, type: asset, title: Database, kind: data-store, zone: ZONE-CLOUD}
- {id: AST-TECH, type: asset, title: Service technician, kind: external-entity}
- {id: FLOW-UP, type: flow, title: Uploads history, from: AST-PUMP, to: AST-API, protocol: HTTPS, port: 443, exposure: user-facing}
- {id: FLOW-SVC, type: flow, title: Service session, from: AST-TECH, to: AST-PUMP, protocol: USB, exposure: service}
- {id: FLOW-DB, type: flow, title: Stores records, from: AST-API, to: AST-DB, protocol: PostgreSQL, port: 5432, exposure: internal}
- {id: CMP-FW, type: component, title: Pump firmware, version: '1.0', support: active, end_of_support: '2030-01-01', depends_on: CMP-RTOS}
- {id: CMP-RTOS, type: component, title: RTOS, version: '3.7', support: active, end_of_support: '2029-01-01'}
- {id: CMP-NGINX, type: component, title: nginx, version: '1.26', support: none, end_of_support: '2025-04-23'}
- {id: PLAN-CVD, type: plan, title: CVD, topic: disclosure, intake: security@x, acknowledge_days: 3, response_days: 30, incident_instructions: "Suspend delivery and **call support**."}
- {id: PLAN-COMM, type: plan, title: Communication, topic: communication, channels: [e-mail], notify_days: 30, sbom_access: "Download it from the portal."}
"#;

fn render(items: &str) -> (String, Vec<Gap>) {
    let p = ProjectBuilder::new()
        .file("requirements/all.yaml", items)
        .build()
        .load();
    assert!(!p.diagnostics.has_errors(), "{:?}", p.diagnostics.0);
    let out = documents::render_as(&p, "security-labeling", documents::Flavour::Book).unwrap();
    (out.markdown, out.gaps)
}

/// The text of labeling item `n`, up to the next `## `.
fn item(md: &str, n: usize) -> &str {
    let start = md
        .find(&format!("\n## {n}. "))
        .unwrap_or_else(|| panic!("no item {n}:\n{md}"));
    let rest = &md[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3);
    &rest[..end]
}

fn gap<'g>(gaps: &'g [Gap], what: &str) -> Option<&'g Gap> {
    gaps.iter().find(|g| g.what.contains(what))
}

#[test]
fn the_ports_table_lists_user_facing_and_service_interfaces_with_hosts() {
    let (md, gaps) = render(MODEL);
    let ports = item(&md, 3);
    let rows: Vec<&str> = ports
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ---") && !l.starts_with("| Interface"))
        .collect();
    assert_eq!(
        rows,
        [
            "| Service session | service staff | USB | — | Service technician → Insulin pump |",
            "| Uploads history | users | HTTPS | 443 | Insulin pump → Cloud API (api.example.com) |",
        ],
        "{ports}"
    );
    assert!(
        ports.contains("1 internal data flow is between parts of the system"),
        "{ports}"
    );
    assert!(!ports.contains("PostgreSQL"), "{ports}");
    // Flows are named in the source line only, never asset ids.
    assert!(!ports.contains("AST-"), "{ports}");
    assert!(gap(&gaps, "exposure").is_none(), "{gaps:#?}");

    // A flow without exposure is listed (users may reach it) with a gap at the field.
    let (md, gaps) = render(&MODEL.replace(", exposure: internal}", "}"));
    assert!(item(&md, 3).contains("| Stores records | <span class=\"qms-gap\">"));
    let g = gap(&gaps, "FLOW-DB has no `exposure`").unwrap_or_else(|| panic!("{gaps:#?}"));
    assert_eq!(g.fix.item.as_deref(), Some("FLOW-DB"));
    assert_eq!(g.fix.field.as_deref(), Some("exposure"));
    assert_eq!(g.section, "3. Network ports and interfaces");
}

#[test]
fn incident_instructions_and_the_sbom_route_are_plan_facts() {
    let (md, gaps) = render(MODEL);
    let deployment = item(&md, 4);
    assert!(deployment.contains("### If you suspect a cybersecurity incident"));
    assert!(deployment.contains("<p>Suspend delivery and <strong>call support</strong>.</p>"));
    assert!(deployment.contains(">PLAN-CVD</a>"));
    assert!(item(&md, 5).contains("<p>Download it from the portal.</p>"));
    assert!(
        !item(&md, 5).contains("mdbook-qms"),
        "labeling is for users"
    );
    assert!(gap(&gaps, "incident_instructions").is_none(), "{gaps:#?}");
    assert!(gap(&gaps, "sbom_access").is_none(), "{gaps:#?}");

    // Plans without the facts: gaps at their fields.
    let without = MODEL
        .replace(
            r#", incident_instructions: "Suspend delivery and **call support**.""#,
            "",
        )
        .replace(r#", sbom_access: "Download it from the portal.""#, "");
    let (_, gaps) = render(&without);
    let incident = gap(&gaps, "incident_instructions").unwrap_or_else(|| panic!("{gaps:#?}"));
    assert_eq!(incident.fix.item.as_deref(), Some("PLAN-CVD"));
    assert_eq!(incident.fix.field.as_deref(), Some("incident_instructions"));
    let sbom = gap(&gaps, "sbom_access").unwrap_or_else(|| panic!("{gaps:#?}"));
    assert_eq!(sbom.fix.item.as_deref(), Some("PLAN-COMM"));
    assert_eq!(sbom.fix.field.as_deref(), Some("sbom_access"));

    // No plans at all: gaps asking for one.
    let no_plans: String = MODEL
        .lines()
        .filter(|l| !l.contains("type: plan"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (_, gaps) = render(&no_plans);
    for what in ["incident_instructions", "sbom_access"] {
        let g = gap(&gaps, what).unwrap_or_else(|| panic!("{what}: {gaps:#?}"));
        assert_eq!(g.fix.add.as_deref(), Some("plan"));
    }
}

#[test]
fn end_of_support_lists_only_the_components_on_the_device() {
    let (md, gaps) = render(MODEL);
    let eos = item(&md, 13);
    // The pump's firmware and what it depends on; not the cloud's nginx.
    assert!(
        eos.contains("| Pump firmware | 1.0 | active | 2030-01-01 |"),
        "{eos}"
    );
    assert!(
        eos.contains("| RTOS | 3.7 | active | 2029-01-01 |"),
        "{eos}"
    );
    assert!(!eos.contains("nginx"), "{eos}");
    assert!(gap(&gaps, "device: true").is_none(), "{gaps:#?}");

    // A zone inside a device zone is part of the device.
    let nested = MODEL.replace(
        "{id: ZONE-CLOUD, type: zone, title: Cloud}",
        "{id: ZONE-CLOUD, type: zone, title: Cloud, parent: ZONE-BODY}",
    );
    let (md, _) = render(&nested);
    assert!(item(&md, 13).contains("nginx"));

    // No zone marked: every component is listed, and a gap says why.
    let (md, gaps) = render(&MODEL.replace(", device: true}", "}"));
    assert!(item(&md, 13).contains("nginx"));
    let g = gap(&gaps, "no zone is marked `device: true`").unwrap_or_else(|| panic!("{gaps:#?}"));
    assert_eq!(g.fix.item.as_deref(), Some("ZONE-BODY"));
    assert_eq!(g.fix.field.as_deref(), Some("device"));
}

#[test]
fn a_text_used_for_two_items_is_printed_once_and_referenced() {
    let items = format!(
        "{MODEL}- {{id: CTL-LOG, type: control, title: Event log, labeling_topic: [security-events, forensic-logs], labeling: \"The pump keeps a **security log**.\"}}\n\
         - {{id: CTL-LOG2, type: control, title: Log export, labeling_topic: forensic-logs, labeling: \"The pump keeps a **security log**.\"}}\n\
         - {{id: CTL-CALL, type: control, title: Call us, labeling_topic: deployment, labeling: \"Suspend delivery and **call support**.\"}}\n"
    );
    let (md, _) = render(&items);
    assert_eq!(
        md.matches("keeps a <strong>security log</strong>").count(),
        1,
        "{md}"
    );
    assert!(item(&md, 7).contains("keeps a <strong>security log</strong>"));
    let logs = item(&md, 12);
    assert!(
        logs.contains("### Event log\n\nSee item 7 (Response to security events)."),
        "{logs}"
    );
    assert!(
        logs.contains("### Log export\n\nSee item 7 (Response to security events)."),
        "{logs}"
    );
    // The same text as a plan fact in the same item: named, not repeated.
    let deployment = item(&md, 4);
    assert_eq!(
        deployment.matches("call support").count(),
        1,
        "{deployment}"
    );
    assert!(
        deployment.contains(
            "### Call us\n\nThe same instruction as under the incident instructions above."
        ),
        "{deployment}"
    );
    // Each place still names its source.
    assert!(
        logs.contains(">CTL-LOG</a>") && logs.contains(">CTL-LOG2</a>"),
        "{logs}"
    );
}
