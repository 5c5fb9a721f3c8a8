//! The data a document template sees: the items as plain data (every field its schema
//! defines, `none` when absent, link fields as lists of ids, links both ways), plus
//! what the risk and evidence stages computed, and the fixed tables of the guidance.

use std::collections::HashSet;

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
    let on_device = device_components(project);
    // Each item's data is independent of the others': built in parallel, kept in order.
    let values: Vec<Value> = order
        .par_iter()
        .map(|&i| item_value(project, i, on_device.as_ref()))
        .collect();
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
        "safety_file": project.config.safety_file.as_ref().map(|f| json!({"name": f.name, "ids": f.ids})),
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
            "period": {
                "start": tplc.period.start.to_string(),
                "end": tplc.period.end.to_string(),
                "months": tplc.period.months,
            },
            "total": tplc.total,
            "not_affected": tplc.not_affected,
            "needing_patch": tplc.needing_patch,
            "patched": tplc.patched,
            "patched_percent": tplc.patched_percent().map(round1),
            "identify_to_patch_days": tplc.identify_to_patch.map(round1),
            "identify_to_patch_n": tplc.identify_to_patch_n,
            "patch_to_deploy_days": tplc.patch_to_deploy.map(round1),
            "patch_to_deploy_n": tplc.patch_to_deploy_n,
            "open": tplc.open.iter().map(|o| json!({
                "id": project.items[o.item].id,
                "status": o.status,
                "identified": o.identified.map(|d| d.to_string()),
                "age_days": o.age_days,
            })).collect::<Vec<_>>(),
            "patches": tplc.patches.iter().map(|p| json!({
                "id": project.items[p.item].id,
                "days": p.days,
                "critical": p.critical,
                "target_days": p.target_days,
                "within": p.target_days.map(|t| p.days <= t),
                "in_period": p.in_period,
            })).collect::<Vec<_>>(),
            "timelines": {
                "plan": tplc.timelines.plan.map(|i| project.items[i].id.clone()),
                "regular_cycle": tplc.timelines.regular_cycle,
                "regular_days": tplc.timelines.regular_days,
                "out_of_cycle_days": tplc.timelines.out_of_cycle_days,
            },
        },
        "verification": verification(project),
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

/// Components on the device as users receive it: those of assets in a zone marked
/// `device: true` (or inside one), and the components they depend on; `None` when no
/// zone is marked, so the labeling can say it cannot tell.
fn device_components(project: &Project) -> Option<HashSet<usize>> {
    let items = &project.items;
    let marked = |z: usize| items[z].fields.get("device") == Some(&Value::Bool(true));
    if !(0..items.len()).any(|z| items[z].ty == "zone" && marked(z)) {
        return None;
    }
    // A parent cycle is reported by `link`; the walk stops after as many steps as items.
    let in_device_zone = |zone: usize| {
        let mut z = Some(zone);
        for _ in 0..items.len() {
            match z {
                Some(at) if marked(at) => return true,
                Some(at) => z = crate::link::same_type_parent(items, &project.graph, at),
                None => return false,
            }
        }
        false
    };
    let mut todo: Vec<usize> = (0..items.len())
        .filter(|&a| items[a].ty == "asset")
        .filter(|&a| crate::risk::checks::zone_of(project, a).is_some_and(in_device_zone))
        .flat_map(|a| crate::risk::checks::out(project, a, "components"))
        .collect();
    let mut found = HashSet::new();
    while let Some(c) = todo.pop() {
        if found.insert(c) {
            todo.extend(crate::risk::checks::out(project, c, "depends_on"));
        }
    }
    Some(found)
}

/// How a control's tests stand, as the controls document prints it.
fn standing_name(project: &Project, tests: &[usize]) -> &'static str {
    if tests.is_empty() {
        return "no test";
    }
    match combined_standing(project, tests) {
        Standing::Verified => "verified",
        Standing::Failed => "failed",
        Standing::Skipped => "skipped",
        Standing::WithoutResult { stale: true } => "stale",
        Standing::WithoutResult { stale: false } => "no result",
    }
}

/// One item as template data.
fn item_value(project: &Project, i: usize, on_device: Option<&HashSet<usize>>) -> Value {
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
    let approvals: Vec<Value> = project
        .approvals
        .of(&item.id)
        .map(|r| r.summary(&item.id))
        .collect();
    obj.insert("approvals".into(), Value::Array(approvals));
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
                        "cvss_vector": l.cvss.as_ref().map(|c| c.vector.as_str()),
                    }),
                    None => Value::Null,
                };
                obj.insert(
                    "score".into(),
                    json!({"before": level(&score.before), "after": level(&score.after)}),
                );
            }
            // Hazards no item stands for are ids of the external safety file (link
            // resolution reported any other).
            let external: Vec<&str> = match item.fields.get("hazards") {
                Some(Value::String(id)) => vec![id.as_str()],
                Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let external: Vec<&str> = external
                .into_iter()
                .filter(|id| project.graph.get(id).is_none())
                .collect();
            obj.insert("external_hazards".into(), json!(external));
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
            obj.insert(
                "on_device".into(),
                on_device.map_or(Value::Null, |set| Value::Bool(set.contains(&i))),
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
            obj.insert(
                "verification".into(),
                standing_name(project, &tests_verifying(project, i)).into(),
            );
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
        // A link inside a list of objects (`findings.item`) stays in its objects.
        for link in def.links.iter().filter(|l| l.path.len() == 1) {
            let written = match item.fields.get(&link.name) {
                Some(Value::String(s)) => vec![Value::String(s.clone())],
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            // A component named by its purl or bom-ref is that component's id here, so
            // `item(id)` finds it and documents show the id; an unknown target stays as
            // written (`check` reports it).
            let ids = written
                .into_iter()
                .map(|v| match v.as_str().and_then(|r| graph.purls.get(r)) {
                    Some(&target) if graph.get(v.as_str().unwrap_or_default()).is_none() => {
                        Value::String(project.items[target].id.clone())
                    }
                    _ => v,
                })
                .collect();
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

/// How a test, control or requirement stands for the documents' counts: verified only
/// by a passing, current result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Verified,
    Failed,
    Skipped,
    /// No test, no result, a result that matches nothing (`missing`) or a `stale` one.
    WithoutResult {
        stale: bool,
    },
}

fn test_standing(project: &Project, test: usize) -> Standing {
    use crate::evidence::assess::Status;
    match project
        .evidence
        .verification(&project.items[test].id)
        .map(|v| v.status)
    {
        Some(Status::Passed) => Standing::Verified,
        Some(Status::Failed) => Standing::Failed,
        Some(Status::Skipped) => Standing::Skipped,
        Some(Status::Stale) => Standing::WithoutResult { stale: true },
        Some(Status::Missing) | None => Standing::WithoutResult { stale: false },
    }
}

/// An item verified by several tests: verified only when every one passed; a failure
/// outweighs a skip, a skip outweighs a missing result.
fn combined_standing(project: &Project, tests: &[usize]) -> Standing {
    let standings: Vec<Standing> = tests.iter().map(|&t| test_standing(project, t)).collect();
    if standings.is_empty() {
        Standing::WithoutResult { stale: false }
    } else if standings.contains(&Standing::Failed) {
        Standing::Failed
    } else if standings.contains(&Standing::Skipped) {
        Standing::Skipped
    } else if standings.iter().all(|s| *s == Standing::Verified) {
        Standing::Verified
    } else {
        Standing::WithoutResult {
            stale: standings.contains(&Standing::WithoutResult { stale: true }),
        }
    }
}

/// `{total, verified, failed, skipped, without_result, stale}`: stale results are among
/// those without a result, as they verify an older version.
fn counts(standings: impl Iterator<Item = Standing>) -> Value {
    let (mut total, mut verified, mut failed, mut skipped, mut without, mut stale) =
        (0, 0, 0, 0, 0, 0);
    for s in standings {
        total += 1;
        match s {
            Standing::Verified => verified += 1,
            Standing::Failed => failed += 1,
            Standing::Skipped => skipped += 1,
            Standing::WithoutResult { stale: s } => {
                without += 1;
                stale += usize::from(s);
            }
        }
    }
    json!({
        "total": total, "verified": verified, "failed": failed, "skipped": skipped,
        "without_result": without, "stale": stale, "with_result": verified + failed + skipped,
    })
}

/// Primary, not obsolete items of type `ty`, in id order.
fn live(project: &Project, ty: &str) -> Vec<usize> {
    let mut list: Vec<usize> = (0..project.items.len())
        .filter(|&i| {
            project.items[i].ty == ty
                && project.is_primary(i)
                && project.items[i].status() != "obsolete"
        })
        .collect();
    list.sort_by(|&a, &b| crate::text::natural_cmp(&project.items[a].id, &project.items[b].id));
    list
}

fn tests_verifying(project: &Project, i: usize) -> Vec<usize> {
    crate::risk::checks::inc(project, i, "verifies", "test")
}

/// The verification counts the documents print: of tests, of controls (by the tests
/// that verify them) and of requirements (by the tests that verify them directly).
pub(super) fn verification(project: &Project) -> Value {
    let of = |ty: &str| {
        counts(
            live(project, ty)
                .into_iter()
                .map(|i| combined_standing(project, &tests_verifying(project, i))),
        )
    };
    json!({
        "tests": counts(live(project, "test").into_iter().map(|t| test_standing(project, t))),
        "controls": of("control"),
        "requirements": of("requirement"),
    })
}

/// Components whose end of support is past on the check's date, each with whether a
/// risk or vulnerability assesses it.
fn past_end_of_support(project: &Project) -> Vec<(usize, String, bool)> {
    live(project, "component")
        .into_iter()
        .filter_map(|i| {
            let eos = project
                .traces
                .component_view(&project.items[i])
                .end_of_support?;
            crate::date::Day::parse(&eos).filter(|d| *d < project.today)?;
            Some((i, eos, crate::evidence::consistency::assessed(project, i)))
        })
        .collect()
}

/// The residual-risk conclusion of the Security Risk Management Report: `outcome` is
/// `none` (no risks), `not_acceptable` (a residual risk in an unacceptable cell that is
/// not accepted or transferred with a rationale), `blocked` (what the conclusion rests
/// on is incomplete: `blockers`, each with the item it concerns) or `acceptable`.
/// `document_gaps` are the other documents' gaps, each as the sentence to list.
pub(super) fn conclusion(project: &Project, document_gaps: &[String]) -> Value {
    let items = &project.items;
    let risks = live(project, "risk");
    let mut unacceptable = Vec::new();
    let mut blockers: Vec<Value> = Vec::new();
    let mut block = |kind: &str, id: Option<&str>, text: String| {
        blockers.push(json!({"kind": kind, "id": id, "text": text}));
    };
    for &r in &risks {
        let residual = project
            .risk
            .of(r)
            .and_then(|s| s.after.as_ref().or(s.before.as_ref()));
        let Some(level) = residual else {
            block("risk", Some(&items[r].id), "the risk is not scored".into());
            continue;
        };
        let accepted = matches!(items[r].text("disposition"), Some("accept" | "transfer"))
            && items[r]
                .text("rationale")
                .is_some_and(|t| !t.trim().is_empty());
        if !level.acceptable && !accepted {
            unacceptable.push(items[r].id.clone());
        }
    }
    let mut tested: Vec<usize> = live(project, "control")
        .into_iter()
        .flat_map(|c| tests_verifying(project, c))
        .collect();
    tested.sort_by(|&a, &b| crate::text::natural_cmp(&items[a].id, &items[b].id));
    tested.dedup();
    for t in tested {
        let why = match test_standing(project, t) {
            Standing::Verified => continue,
            Standing::Failed => "failed",
            Standing::Skipped => "skipped",
            Standing::WithoutResult { stale: true } => {
                "its result is stale (older than a change to what it verifies)"
            }
            Standing::WithoutResult { stale: false } => "no result",
        };
        let detail = project
            .evidence
            .verification(&items[t].id)
            .map(|v| v.detail.as_str())
            .filter(|d| !d.is_empty());
        let text = match detail {
            Some(d) => format!("test of a control: {why} ({d})"),
            None => format!("test of a control: {why}"),
        };
        block("test", Some(&items[t].id), text);
    }
    let past = past_end_of_support(project);
    for (c, eos, _) in past.iter().filter(|(_, _, assessed)| !assessed) {
        block(
            "component",
            Some(&items[*c].id),
            format!("support ended on {eos}, and no risk or vulnerability assesses it"),
        );
    }
    for v in live(project, "vulnerability") {
        if let Some(status @ ("affected" | "under_investigation")) = items[v].text("status") {
            block(
                "vulnerability",
                Some(&items[v].id),
                format!("vulnerability {}", status.replace('_', " ")),
            );
        }
    }
    for (element, category) in crate::risk::checks::open_stride_gaps(project) {
        block(
            "stride",
            Some(&items[element].id),
            format!("STRIDE gap: no threat and no reason recorded for {category}"),
        );
    }
    for text in document_gaps {
        block("document", None, text.clone());
    }
    let outcome = if risks.is_empty() {
        "none"
    } else if !unacceptable.is_empty() {
        "not_acceptable"
    } else if !blockers.is_empty() {
        "blocked"
    } else {
        "acceptable"
    };
    json!({
        "outcome": outcome,
        "risks": risks.len(),
        "unacceptable": unacceptable,
        "past_end_of_support": past.iter().map(|(c, _, _)| items[*c].id.clone()).collect::<Vec<_>>(),
        "blockers": blockers,
    })
}
