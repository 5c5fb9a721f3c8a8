//! The data a document template sees: the items as plain data (every field its schema
//! defines, `none` when absent, link fields as lists of ids, links both ways), plus
//! what the risk and evidence stages computed, and the fixed tables of the guidance.

use rayon::prelude::*;
use serde_json::{json, Map, Value};

use crate::project::Project;

/// The 14 items of the security labeling the FDA guidance lists, with the key a
/// control's `labeling_topic` uses.
pub(super) const LABELING_TOPICS: &[(&str, &str, &str)] = &[
    ("use-environment", "Recommended security controls for the use environment", "anti-malware, firewall, password rules and other measures the user puts in place"),
    ("diagrams", "Diagrams for putting the controls in place", "diagrams detailed enough for users to implement the recommended controls"),
    ("ports-interfaces", "Network ports and interfaces", "every port and interface: purpose, direction, approved endpoints"),
    ("deployment", "Infrastructure, secure deployment and servicing, incident response", "infrastructure requirements, secure deployment and servicing, what to do on a suspected incident"),
    ("sbom", "Software bill of materials", "the SBOM, machine-readable and current"),
    ("updates", "Obtaining software and firmware updates", "how to obtain authorized, version-identified updates and learn of them"),
    ("security-events", "Response to security events", "how the device reacts to security events (notification, logging)"),
    ("critical-function", "Protecting critical functionality", "features protecting critical function (backup mode, disabling ports)"),
    ("backup-restore", "Backup and restore of configuration", "backup and restore of authenticated configuration"),
    ("configuration-recovery", "Retention and recovery of configuration", "retention and recovery of configuration by an authorized user"),
    ("secure-configuration", "Secure configuration as shipped", "the secure shipped configuration, what users may change, which changes raise risk"),
    ("forensic-logs", "Forensic logs", "where logs are, their format and retention, use by SIEM/IDS"),
    ("end-of-support", "Cybersecurity end of support", "end of support / end of life and how risk is handed over"),
    ("decommissioning", "Secure decommissioning and data sanitization", "how to decommission the device and sanitize its data"),
];

/// The eight control categories of the guidance (Appendix 1).
pub(super) const CATEGORIES: &[(&str, &str)] = &[
    ("authentication", "Authentication"),
    ("authorization", "Authorization"),
    ("cryptography", "Cryptography"),
    (
        "code_data_and_execution_integrity",
        "Code, Data and Execution Integrity",
    ),
    ("confidentiality", "Confidentiality"),
    ("event_detection_and_logging", "Event Detection and Logging"),
    ("resiliency_and_recovery", "Resiliency and Recovery"),
    (
        "updatability_and_patchability",
        "Updatability and Patchability",
    ),
];

/// Topics of `plan` items.
const PLAN_TOPICS: &[&str] = &[
    "monitoring",
    "patching",
    "disclosure",
    "communication",
    "end-of-support",
    "testing",
];

/// Everything but `document`, which each render adds.
pub(super) fn build(project: &Project) -> Value {
    let mut by_type: Map<String, Value> = project
        .types
        .names()
        .map(|t| (t.to_owned(), Value::Array(Vec::new())))
        .collect();
    let mut order: Vec<usize> = (0..project.items.len())
        .filter(|&i| project.graph.get(&project.items[i].id) == Some(i))
        .collect();
    order.sort_by(|&a, &b| crate::text::natural_cmp(&project.items[a].id, &project.items[b].id));
    // Each item's data is independent of the others': built in parallel, kept in order.
    let values: Vec<Value> = order.par_iter().map(|&i| item_value(project, i)).collect();
    for (i, value) in order.into_iter().zip(values) {
        if let Some(Value::Array(list)) = by_type.get_mut(&project.items[i].ty) {
            list.push(value);
        }
    }
    let get = |ty: &str| {
        by_type
            .get(ty)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let plans = get("plan");
    let mut plan = Map::new();
    for topic in PLAN_TOPICS {
        let list: Vec<Value> = plans
            .iter()
            .filter(|p| p["topic"] == *topic)
            .cloned()
            .collect();
        plan.insert((*topic).replace('-', "_"), Value::Array(list));
    }
    let device = get("device").into_iter().next().unwrap_or(Value::Null);

    let scales = &project.risk.scales;
    let tplc = crate::evidence::metrics::compute(project);
    let sboms: Vec<Value> = project
        .traces
        .sboms
        .iter()
        .map(|s| {
            json!({
                "file": crate::source::display_path(&project.sources.get(s.file).path),
                "format": match s.format { crate::evidence::sbom::Format::CycloneDx => "CycloneDX", crate::evidence::sbom::Format::Spdx => "SPDX" },
                "spec_version": s.spec_version,
                "timestamp": s.timestamp,
                "author": s.author,
                "components": s.components.len(),
            })
        })
        .collect();
    let osv: Vec<Value> = project
        .evidence
        .matches
        .iter()
        .map(|m| {
            let record = &project.traces.osv[m.record];
            json!({
                "id": record.id,
                "aliases": record.aliases,
                "summary": record.summary,
                "component": project.items[m.component].id,
                "version": m.version,
                "assessed_by": m.assessed_by.iter().map(|&i| project.items[i].id.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let results: Vec<Value> = project
        .traces
        .junit_files
        .iter()
        .map(|&f| Value::String(crate::source::display_path(&project.sources.get(f).path)))
        .collect();
    json!({
        "project": { "title": project.config.title, "today": project.today.to_string() },
        "items": by_type,
        "device": device,
        "plan": plan,
        "roles": get("role"),
        "scales": {
            "severity": scales.severity,
            "exploitability": scales.exploitability,
            "acceptable": scales.acceptable,
        },
        "tplc": {
            "total": tplc.total,
            "needing_patch": tplc.needing_patch,
            "patched": tplc.patched,
            "patched_percent": tplc.patched_percent().map(round1),
            "identify_to_patch_days": tplc.identify_to_patch.map(round1),
            "identify_to_patch_n": tplc.identify_to_patch_n,
            "patch_to_deploy_days": tplc.patch_to_deploy.map(round1),
            "patch_to_deploy_n": tplc.patch_to_deploy_n,
        },
        "sboms": sboms,
        "osv": osv,
        "result_files": results,
        "labeling_topics": LABELING_TOPICS.iter().enumerate().map(|(n, (key, title, what))| json!({"n": n + 1, "key": key, "title": title, "what": what})).collect::<Vec<_>>(),
        "categories": CATEGORIES.iter().map(|(key, title)| json!({"key": key, "title": title})).collect::<Vec<_>>(),
    })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// One item as template data.
fn item_value(project: &Project, i: usize) -> Value {
    let item = &project.items[i];
    let mut obj = Map::new();
    // Derived data first: a field the schema defines with the same name wins.
    let graph = &project.graph;
    let def = project.types.get(&item.ty);
    let outgoing: Vec<Value> = graph
        .out(i)
        .map(|l| {
            let label = def.and_then(|d| d.link(&l.field)).map_or(l.field.clone(), |f| f.label.clone());
            json!({"field": l.field, "label": label, "id": project.items[l.to].id, "type": project.items[l.to].ty})
        })
        .collect();
    let incoming: Vec<Value> = graph
        .inc(i)
        .map(|l| {
            let from = &project.items[l.from];
            let label = project
                .types
                .get(&from.ty)
                .and_then(|d| d.link(&l.field))
                .map_or(l.field.clone(), |f| f.inverse.clone());
            json!({"field": l.field, "label": label, "id": from.id, "type": from.ty})
        })
        .collect();
    obj.insert("outgoing".into(), Value::Array(outgoing));
    obj.insert("incoming".into(), Value::Array(incoming));
    obj.insert("score".into(), Value::Null);
    obj.insert("result".into(), Value::Null);
    obj.insert("sbom".into(), Value::Null);
    match item.ty.as_str() {
        "risk" => {
            if let Some(score) = project.risk.of(i) {
                let level = |l: &Option<crate::risk::Level>| match l {
                    Some(l) => json!({
                        "severity": project.risk.scales.severity.get(l.severity),
                        "exploitability": project.risk.scales.exploitability.get(l.exploitability),
                        "severity_rank": l.severity,
                        "exploitability_rank": l.exploitability,
                        "acceptable": l.acceptable,
                        "cvss_score": l.cvss.as_ref().map(|c| c.score),
                        "cvss_version": l.cvss.as_ref().map(|c| c.version),
                    }),
                    None => Value::Null,
                };
                obj.insert(
                    "score".into(),
                    json!({"before": level(&score.before), "after": level(&score.after)}),
                );
            }
        }
        "test" => {
            if let Some(v) = project.evidence.verification(&item.id) {
                obj.insert("result".into(), json!({"status": v.status.as_str(), "detail": v.detail, "cases": v.cases.len()}));
            }
        }
        "component" => {
            let v = project.traces.component_view(&project.items[i]);
            obj.insert(
                "sbom".into(),
                json!({
                    "name": v.name, "version": v.version, "supplier": v.supplier, "purl": v.purl, "cpe": v.cpe,
                    "license": v.license, "support": v.support, "end_of_support": v.end_of_support, "kind": v.kind,
                    "bom_ref": v.bom_ref,
                }),
            );
        }
        "control" => {
            // `labeling_topic` as a list, however it is written.
            let topics = match item.fields.get("labeling_topic") {
                Some(Value::String(t)) => vec![Value::String(t.clone())],
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            obj.insert("topics".into(), Value::Array(topics));
        }
        _ => {}
    }
    if let Some(def) = def {
        for f in &def.fields {
            obj.insert(
                f.clone(),
                item.fields.get(f).cloned().unwrap_or(Value::Null),
            );
        }
        for link in &def.links {
            let ids = match item.fields.get(&link.name) {
                Some(Value::String(s)) => vec![Value::String(s.clone())],
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            obj.insert(link.name.clone(), Value::Array(ids));
        }
    }
    for (k, v) in &item.fields {
        obj.entry(k.clone()).or_insert_with(|| v.clone());
    }
    obj.insert("id".into(), Value::String(item.id.clone()));
    obj.insert("type".into(), Value::String(item.ty.clone()));
    obj.insert("title".into(), Value::String(item.title.clone()));
    obj.insert("status".into(), Value::String(item.status().to_owned()));
    Value::Object(obj)
}
