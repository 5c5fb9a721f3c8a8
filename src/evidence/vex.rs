//! Vulnerability assessment (VEX): OSV matches need a vulnerability item, each
//! vulnerability item needs a complete VEX statement, and a KEV-listed one must be
//! fixed.

use super::assess::VulnMatch;
use super::{osv, span_in};
use crate::date::Day;
use crate::diag::{code, Diagnostic};
use crate::linked::Linked;

/// OpenVEX justification labels, which a `justification` may start with
/// (`vulnerable_code_not_present: ...`).
pub(crate) const JUSTIFICATIONS: &[&str] = &[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// The OpenVEX label a justification starts with, if any.
pub(crate) fn justification_label(text: &str) -> Option<&'static str> {
    let head = text.trim_start();
    JUSTIFICATIONS.iter().copied().find(|j| head.starts_with(j))
}

/// CVSS base score and severity name of a vector (v3.0, v3.1, v4.0).
pub(crate) fn cvss_score(vector: &str) -> Option<(f64, &'static str)> {
    let v: cvss::Cvss = vector.parse().ok()?;
    let sev = match v.severity() {
        cvss::Severity::None => "none",
        cvss::Severity::Low => "low",
        cvss::Severity::Medium => "medium",
        cvss::Severity::High => "high",
        cvss::Severity::Critical => "critical",
    };
    Some((v.score(), sev))
}

/// The vulnerability's id names (`cve`, else the item id), upper-cased.
pub(crate) fn names_of(item: &crate::model::Item) -> Vec<String> {
    let mut out: Vec<String> = item
        .text("cve")
        .map(|c| vec![c.trim().to_ascii_uppercase()])
        .unwrap_or_default();
    out.push(item.id.to_ascii_uppercase());
    out
}

/// Why a vulnerability counts as known exploited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exploited {
    /// CISA's KEV catalogue lists it.
    Listed,
    /// The item says `kev: true` (the catalogue does not list it, or was not read).
    Flagged,
}

impl Exploited {
    /// The reason, after the vulnerability's id.
    pub(crate) fn why(self) -> &'static str {
        match self {
            Exploited::Listed => "is in CISA's Known Exploited Vulnerabilities catalogue",
            Exploited::Flagged => "is marked `kev: true`",
        }
    }
}

/// Whether a vulnerability item is known exploited: listed in the KEV catalogue (by its
/// `cve` or id), or marked `kev: true`.
pub(crate) fn known_exploited(
    traces: &super::Traces,
    item: &crate::model::Item,
) -> Option<Exploited> {
    let names = names_of(item);
    let in_list = traces
        .kev
        .as_ref()
        .is_some_and(|k| names.iter().any(|n| k.contains(n)));
    let flagged = item.fields.get("kev").and_then(serde_json::Value::as_bool) == Some(true);
    if in_list {
        Some(Exploited::Listed)
    } else if flagged {
        Some(Exploited::Flagged)
    } else {
        None
    }
}

/// Runs the checks; returns the OSV matches.
pub(crate) fn check(project: &Linked, ds: &mut Vec<Diagnostic>) -> Vec<VulnMatch> {
    let ev = &project.traces;
    let matches = match_osv(project, ds);
    for (i, item) in project.items.iter().enumerate() {
        if item.ty != "vulnerability" || !project.is_primary(i) {
            continue;
        }
        let status = item.text("status");
        let id = &item.id;
        match status {
            None => ds.push(
                Diagnostic::new(code::VEX_INCOMPLETE, format!("{id} has no VEX `status`"))
                    .at(item.span_of("id"))
                    .item(id)
                    .help("status: not_affected, affected, fixed or under_investigation"),
            ),
            Some("not_affected")
                if item
                    .text("justification")
                    .is_none_or(|t| t.trim().is_empty()) =>
            {
                ds.push(
                    Diagnostic::new(
                        code::VEX_INCOMPLETE,
                        format!("{id} is `not_affected` without a `justification`"),
                    )
                    .at(item.span_of("status"))
                    .item(id)
                    .help(format!(
                        "start the justification with one of: {}",
                        JUSTIFICATIONS.join(", ")
                    )),
                )
            }
            Some("affected") if item.text("action").is_none_or(|t| t.trim().is_empty()) => ds.push(
                Diagnostic::new(
                    code::VEX_INCOMPLETE,
                    format!("{id} is `affected` without an `action`"),
                )
                .at(item.span_of("status"))
                .item(id)
                .help("say what is done about it: the fix, its date, compensating controls"),
            ),
            _ => {}
        }
        let flagged = item.fields.get("kev").and_then(serde_json::Value::as_bool) == Some(true);
        if let (Some(kev), false) = (known_exploited(ev, item), status == Some("fixed")) {
            let in_list = kev == Exploited::Listed;
            let why = kev.why();
            let mut d = Diagnostic::new(code::KEV_NOT_FIXED, format!("{id} {why} but its status is {}", status.unwrap_or("missing")))
                .at(item.span_of(if item.node.get("status").is_some() { "status" } else { "id" }))
                .item(id)
                .help("a known exploited vulnerability must be fixed (FDA: remediate KEV vulnerabilities out of cycle)");
            if in_list && !flagged {
                d = d.help("a known exploited vulnerability must be fixed; the item also says `kev: false` or nothing, which the catalogue contradicts");
            }
            ds.push(d);
        }
        let date = |k: &str| item.text(k).and_then(Day::parse);
        let order = [
            ("identified", date("identified")),
            ("patched", date("patched")),
            ("deployed", date("deployed")),
        ];
        for w in 0..2 {
            for later in w + 1..3 {
                if let (Some(a), Some(b)) = (order[w].1, order[later].1) {
                    if b < a {
                        ds.push(
                            Diagnostic::new(
                                code::VULNERABILITY_DATES,
                                format!("{id}: `{}` is before `{}`", order[later].0, order[w].0),
                            )
                            .at(item.span_of(order[later].0))
                            .item(id),
                        );
                    }
                }
            }
        }
    }
    matches
}

/// Matches every OSV record against every component item, and reports matches that no
/// vulnerability item assesses.
fn match_osv(project: &Linked, ds: &mut Vec<Diagnostic>) -> Vec<VulnMatch> {
    let ev = &project.traces;
    let mut matches = Vec::new();
    let vulns: Vec<usize> = (0..project.items.len())
        .filter(|&i| project.items[i].ty == "vulnerability" && project.is_primary(i))
        .collect();
    for (ci, item) in project.items.iter().enumerate() {
        if item.ty != "component" || !project.is_primary(ci) {
            continue;
        }
        let view = project.traces.component_view(&project.items[ci]);
        let Some(purl) = view.purl.as_deref() else {
            continue;
        };
        let Some(version) = osv::component_version(purl, view.version.as_deref()) else {
            continue;
        };
        for (ri, record) in ev.osv.iter().enumerate() {
            let hit = record
                .affected
                .iter()
                .any(|a| osv::same_package(a, purl) && osv::is_affected(a, &version));
            if !hit {
                continue;
            }
            let record_names: Vec<String> = record.names().map(str::to_ascii_uppercase).collect();
            let naming: Vec<usize> = vulns
                .iter()
                .copied()
                .filter(|&v| {
                    names_of(&project.items[v])
                        .iter()
                        .any(|n| record_names.contains(n))
                })
                .collect();
            let assessed_by: Vec<usize> = naming
                .iter()
                .copied()
                .filter(|&v| {
                    project
                        .graph
                        .out(v)
                        .any(|l| l.field == "components" && l.to == ci)
                })
                .collect();
            let osv_path = crate::source::display_path(&project.sources.get(record.file).path);
            if assessed_by.is_empty() {
                let mut d = match naming.first() {
                    Some(&v) => Diagnostic::new(
                        code::VULNERABILITY_UNASSESSED,
                        format!("{} assesses {} but does not list {} ({} {version}), which {osv_path} says is affected", project.items[v].id, record.id, item.id, view.name.as_deref().unwrap_or("")),
                    )
                    .at(project.items[v].span_of("components"))
                    .item(&project.items[v].id)
                    .help(format!("add {} to its `components`, with the assessment for it", item.id)),
                    None => Diagnostic::new(
                        code::VULNERABILITY_UNASSESSED,
                        format!("{} affects {} ({} {version}), but no vulnerability item assesses it", record.id, item.id, view.name.as_deref().unwrap_or("")),
                    )
                    .at(span_in(&project.sources, record.file, "id", &record.id))
                    .item(&item.id)
                    .help(format!("add a vulnerability item with `cve: {}`, `components: {}` and its VEX `status`", record.id, item.id)),
                };
                d = d.related(item.span_of("id"), format!("{} is defined here", item.id));
                ds.push(d);
            }
            matches.push(VulnMatch {
                record: ri,
                component: ci,
                version: version.clone(),
                assessed_by,
            });
        }
    }
    matches
}
