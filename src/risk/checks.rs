//! The threat-model checks. What makes the file wrong (unacceptable residual risk,
//! missing acceptance facts, expired reviews, impossible structure) defaults to an error;
//! what leaves it incomplete (coverage gaps, untested controls) to a warning. Levels are
//! changed in `[preprocessor.qms.lints]`.

use serde_json::Value;

use super::model::RiskModel;
use crate::diag::{code, Diagnostic, Diagnostics};
use crate::directive::Kind;
use crate::linked::Linked;
use crate::source::Span;

/// STRIDE categories in their usual order, with their one-letter column heads.
pub(crate) const STRIDE: &[(&str, &str)] = &[
    ("spoofing", "S"),
    ("tampering", "T"),
    ("repudiation", "R"),
    ("information-disclosure", "I"),
    ("denial-of-service", "D"),
    ("elevation-of-privilege", "E"),
];

/// The STRIDE categories that apply to a data-flow element (Microsoft's STRIDE per
/// element, as the MITRE/MDIC playbook uses it); `None` for items that are not elements.
pub(crate) fn applicable(project: &Linked, i: usize) -> Option<&'static [&'static str]> {
    let item = &project.items[i];
    match item.ty.as_str() {
        "flow" => Some(&["tampering", "information-disclosure", "denial-of-service"]),
        "asset" => match item.text("kind")? {
            "external-entity" => Some(&["spoofing", "repudiation"]),
            "process" => Some(&[
                "spoofing",
                "tampering",
                "repudiation",
                "information-disclosure",
                "denial-of-service",
                "elevation-of-privilege",
            ]),
            "data-store" => Some(&[
                "tampering",
                "repudiation",
                "information-disclosure",
                "denial-of-service",
            ]),
            _ => None,
        },
        _ => None,
    }
}

/// Items `i` links to through `field`.
pub(crate) fn out(project: &Linked, i: usize, field: &str) -> Vec<usize> {
    project
        .graph
        .out(i)
        .filter(|l| l.field == field)
        .map(|l| l.to)
        .collect()
}

/// Items of type `ty` linking to `i` through `field`, obsolete ones left out.
pub(crate) fn inc(project: &Linked, i: usize, field: &str, ty: &str) -> Vec<usize> {
    project
        .graph
        .inc(i)
        .filter(|l| {
            l.field == field
                && project.items[l.from].ty == ty
                && project.items[l.from].status() != "obsolete"
        })
        .map(|l| l.from)
        .collect()
}

/// The zone an asset is in, when it names exactly one.
pub(crate) fn zone_of(project: &Linked, asset: usize) -> Option<usize> {
    match out(project, asset, "zone").as_slice() {
        [z] => Some(*z),
        _ => None,
    }
}

/// A flow's two ends, when each names exactly one asset.
pub(crate) fn ends(project: &Linked, flow: usize) -> Option<(usize, usize)> {
    match (
        out(project, flow, "from").as_slice(),
        out(project, flow, "to").as_slice(),
    ) {
        ([a], [b]) => Some((*a, *b)),
        _ => None,
    }
}

/// Threats recorded against an element, per STRIDE category.
pub(crate) fn threats_by_category(
    project: &Linked,
    element: usize,
) -> Vec<(&'static str, Vec<usize>)> {
    let threats = inc(project, element, "targets", "threat");
    STRIDE
        .iter()
        .map(|(cat, _)| {
            let list = threats
                .iter()
                .copied()
                .filter(|&t| match project.items[t].fields.get("stride") {
                    Some(Value::String(s)) => s == cat,
                    Some(Value::Array(list)) => list.iter().any(|v| v.as_str() == Some(cat)),
                    _ => false,
                })
                .collect();
            (*cat, list)
        })
        .collect()
}

/// The reason recorded for a category not applying to an element.
pub(crate) fn not_applicable<'a>(
    project: &'a Linked,
    element: usize,
    category: &str,
) -> Option<&'a str> {
    project.items[element]
        .fields
        .get("stride_not_applicable")?
        .get(category)?
        .as_str()
}

/// The open STRIDE gaps, as the `stride` table shows them: (element, category) pairs
/// of live elements where the category applies and neither a threat nor a reason is
/// recorded, in item order.
pub(crate) fn open_stride_gaps(project: &Linked) -> Vec<(usize, &'static str)> {
    let mut out = Vec::new();
    for i in 0..project.items.len() {
        if !project.is_primary(i) || project.items[i].status() == "obsolete" {
            continue;
        }
        if let Some(cats) = applicable(project, i) {
            out.extend(
                stride_gaps(project, i, cats)
                    .into_iter()
                    .map(|cat| (i, cat)),
            );
        }
    }
    out
}

/// The categories of `cats` (those that apply to element `i`) with neither a threat nor
/// a not-applicable reason recorded, in STRIDE order: what `stride-gap` reports and the
/// risk report counts as open.
fn stride_gaps(project: &Linked, i: usize, cats: &[&'static str]) -> Vec<&'static str> {
    threats_by_category(project, i)
        .into_iter()
        .filter(|(cat, threats)| {
            threats.is_empty() && cats.contains(cat) && not_applicable(project, i, cat).is_none()
        })
        .map(|(cat, _)| cat)
        .collect()
}

pub(crate) fn run(project: &Linked, model: &RiskModel, diags: &mut Diagnostics) {
    let items = &project.items;
    for (i, item) in items.iter().enumerate() {
        if !project.is_primary(i) || item.status() == "obsolete" {
            continue;
        }
        let d = |c: &'static str, msg: String, span: Span| {
            Diagnostic::new(c, msg).at(span).item(&item.id)
        };
        match item.ty.as_str() {
            "asset" => {
                let zones = out(project, i, "zone");
                if zones.len() > 1 {
                    diags.push(
                        d(code::ASSET_MULTIPLE_ZONES, format!("{} is in {} zones; an asset is in exactly one", item.id, zones.len()), item.span_of("zone"))
                            .help("nest the zones with `parent` and put the asset in the innermost one, or split the asset"),
                    );
                }
                if item.node.get("zone").is_none() && item.text("kind") != Some("data") {
                    diags.push(
                        d(code::ASSET_NO_ZONE, format!("{} is in no trust zone", item.id), item.span_of("id"))
                            .help("add `zone: ZONE-...`: the boundary checks and the data-flow diagram need it"),
                    );
                }
            }
            "flow" => check_flow(project, i, diags),
            "threat" if inc(project, i, "threats", "risk").is_empty() => {
                diags.push(
                    d(
                        code::THREAT_NO_RISK,
                        format!("no risk assesses threat {}", item.id),
                        item.span_of("id"),
                    )
                    .help("list the threat in the `threats` of a risk that scores it"),
                );
            }
            "control" if inc(project, i, "verifies", "test").is_empty() => {
                diags.push(
                    d(
                        code::CONTROL_UNTESTED,
                        format!("no test verifies control {}", item.id),
                        item.span_of("id"),
                    )
                    .help("add a test item whose `verifies` names it"),
                );
            }
            "risk" => check_risk(project, model, i, diags),
            "view" => check_view(item, diags),
            _ => {}
        }
        if let Some(cats) = applicable(project, i) {
            let gaps = stride_gaps(project, i, cats);
            if !gaps.is_empty() {
                let span = if item.ty == "asset" {
                    item.span_of("kind")
                } else {
                    item.span_of("id")
                };
                diags.push(
                    d(code::STRIDE_GAP, format!("{} has no threat and no not-applicable reason for {}", item.id, gaps.join(", ")), span)
                        .help(format!(
                            "add a threat with `targets: {}` and `stride: {}`, or record why it cannot happen: `stride_not_applicable: {{{}: \"...\"}}`",
                            item.id, gaps[0], gaps[0]
                        )),
                );
            }
            check_stride_kind(project, i, cats, diags);
        }
    }
    check_directives(project, diags);
}

/// A view that does not apply has nothing to show: content beside `not_applicable`
/// leaves the reader to guess which of the two is true.
fn check_view(item: &crate::model::Item, diags: &mut Diagnostics) {
    if item.node.get("not_applicable").is_none() {
        return;
    }
    let content: Vec<&str> = ["diagram", "text", "shows"]
        .into_iter()
        .filter(|f| item.node.get(f).is_some())
        .collect();
    if content.is_empty() {
        return;
    }
    let listed: Vec<String> = content.iter().map(|f| format!("`{f}`")).collect();
    diags.push(
        Diagnostic::new(
            code::VIEW_NOT_APPLICABLE_WITH_CONTENT,
            format!(
                "{} says the view does not apply (`not_applicable`) but also gives {}",
                item.id,
                listed.join(", ")
            ),
        )
        .at(item.span_of("not_applicable"))
        .item(&item.id)
        .help("if the view applies, remove `not_applicable`; if it does not, remove the content and keep the justification"),
    );
}

/// What an element is, in the words of STRIDE per element.
fn element_kind(item: &crate::model::Item) -> &str {
    match (item.ty.as_str(), item.text("kind")) {
        ("flow", _) => "data flow",
        (_, Some("external-entity")) => "external entity",
        (_, Some("data-store")) => "data store",
        (_, Some(kind)) => kind,
        (ty, None) => ty,
    }
}

/// Threats and `stride_not_applicable` entries that name a category which cannot apply
/// to element `i` at all: they claim an analysis the STRIDE table never shows.
fn check_stride_kind(project: &Linked, i: usize, cats: &[&str], diags: &mut Diagnostics) {
    let element = &project.items[i];
    let kind = element_kind(element);
    let applies = cats.join(", ");
    for (cat, threats) in threats_by_category(project, i) {
        if cats.contains(&cat) {
            continue;
        }
        for t in threats {
            let threat = &project.items[t];
            // Point at what to remove: the element among several targets, else the category.
            let entry = |field: &str, wanted: &str| match threat.node.get(field) {
                Some((_, v)) => match &v.value {
                    crate::yaml::Value::Seq(list) if list.len() > 1 => list
                        .iter()
                        .find(|n| n.as_str() == Some(wanted))
                        .map(|n| n.span),
                    _ => None,
                },
                None => None,
            };
            let span = entry("targets", &element.id)
                .or_else(|| entry("stride", cat))
                .unwrap_or_else(|| threat.span_of("stride"));
            diags.push(
                Diagnostic::new(
                    code::STRIDE_INAPPLICABLE,
                    format!("{} records {cat} against {}, {}, to which {cat} cannot apply", threat.id, element.id, crate::diag::a(kind)),
                )
                .at(span)
                .item(&threat.id)
                .help(format!("to {} apply only {applies}: target the threat only at elements where {cat} happens (spoofing a flow is spoofing its source), or drop {cat}", crate::diag::a(kind))),
            );
        }
    }
    let Some(entries) = element
        .node
        .get("stride_not_applicable")
        .and_then(|(_, v)| v.as_map())
    else {
        return;
    };
    for (key, _) in entries {
        let Some(cat) = key.as_str().filter(|c| !cats.contains(c)) else {
            continue;
        };
        diags.push(
            Diagnostic::new(
                code::STRIDE_INAPPLICABLE,
                format!(
                    "{} records {cat} as not applicable, but {cat} never applies to {}",
                    element.id,
                    crate::diag::a(kind)
                ),
            )
            .at(key.span)
            .item(&element.id)
            .help(format!(
                "remove the entry: to {} apply only {applies}",
                crate::diag::a(kind)
            )),
        );
    }
}

fn check_flow(project: &Linked, i: usize, diags: &mut Diagnostics) {
    let item = &project.items[i];
    for end in ["from", "to"] {
        let count = match item.node.get(end) {
            None => 0,
            Some((_, v)) => match &v.value {
                crate::yaml::Value::Seq(list) => list.len(),
                _ => 1,
            },
        };
        if count != 1 {
            diags.push(
                Diagnostic::new(
                    code::FLOW_ENDPOINTS,
                    format!(
                        "a flow has exactly one `{end}` asset; {} has {count}",
                        item.id
                    ),
                )
                .at(item.span_of(if count == 0 { "id" } else { end }))
                .item(&item.id)
                .help("split a flow with several ends into one flow per pair of assets"),
            );
        }
    }
    let Some((a, b)) = ends(project, i) else {
        return;
    };
    // A crossing is recorded by the zones of the flow's ends; an end without exactly one
    // zone hides it, and the boundary checks below cannot run.
    for (end, asset) in [("from", a), ("to", b)] {
        let zones = out(project, asset, "zone").len();
        if zones != 1 {
            let where_ = if zones == 0 {
                "in no trust zone".to_owned()
            } else {
                format!("in {zones} trust zones")
            };
            diags.push(
                Diagnostic::new(
                    code::FLOW_BOUNDARY_UNKNOWN,
                    format!(
                        "whether {} crosses a trust boundary is unknown: its `{end}` asset {} is {where_}",
                        item.id, project.items[asset].id
                    ),
                )
                .at(item.span_of(end))
                .item(&item.id)
                .help(format!(
                    "put {} in exactly one zone (`zone: ZONE-...`) so the boundary checks can run on {}",
                    project.items[asset].id, item.id
                )),
            );
        }
    }
    let (Some(za), Some(zb)) = (zone_of(project, a), zone_of(project, b)) else {
        return;
    };
    if za == zb {
        return;
    }
    let categories: Vec<&str> = out(project, i, "controls")
        .into_iter()
        .filter_map(|c| project.items[c].text("category"))
        .collect();
    let has = |wanted: &[&str]| categories.iter().any(|c| wanted.contains(c));
    let items = &project.items;
    let crossing = format!(
        "{} crosses from {} to {}",
        item.id, items[za].id, items[zb].id
    );
    let mut missing = Vec::new();
    if !has(&["authentication"]) {
        missing.push("authentication");
    }
    if !has(&["code_data_and_execution_integrity", "cryptography"]) {
        missing.push("integrity (code_data_and_execution_integrity or cryptography)");
    }
    if !missing.is_empty() {
        diags.push(
            Diagnostic::new(code::BOUNDARY_FLOW_UNPROTECTED, format!("{crossing} without a control for {}", missing.join(" or ")))
                .at(item.span_of(if item.node.get("controls").is_some() { "controls" } else { "id" }))
                .item(&item.id)
                .help("a flow across a trust boundary needs `controls` with the categories authentication and integrity"),
        );
    }
    let confidential: Vec<&str> = out(project, i, "data")
        .into_iter()
        .filter(|&d| items[d].fields.get("confidential").and_then(Value::as_bool) == Some(true))
        .map(|d| items[d].id.as_str())
        .collect();
    if !confidential.is_empty() && !has(&["confidentiality", "cryptography"]) {
        diags.push(
            Diagnostic::new(
                code::BOUNDARY_DATA_EXPOSED,
                format!("{crossing} carrying confidential {} without a confidentiality control", confidential.join(", ")),
            )
            .at(item.span_of("data"))
            .item(&item.id)
            .help("add a control of category confidentiality or cryptography (encryption in transit) to `controls`"),
        );
    }
}

fn check_risk(project: &Linked, model: &RiskModel, i: usize, diags: &mut Diagnostics) {
    let item = &project.items[i];
    let scales = &model.scales;
    check_harm(item, diags);
    if let Some(after) = model.of(i).and_then(|r| r.after.as_ref()) {
        if !after.acceptable {
            let span = item.span_of(if item.node.get("residual").is_some() {
                "residual"
            } else {
                "severity"
            });
            diags.push(
                Diagnostic::new(
                    code::RISK_UNACCEPTABLE,
                    format!(
                        "the residual risk of {} ({} severity, {} exploitability) is unacceptable",
                        item.id, scales.severity[after.severity], scales.exploitability[after.exploitability]
                    ),
                )
                .at(span)
                .item(&item.id)
                .help("add controls and record the `residual` they achieve; the matrix is set in [preprocessor.qms.risk]"),
            );
        }
    }
    let has_rationale = item.text("rationale").is_some_and(|t| !t.trim().is_empty());
    if let Some(score) = model.of(i) {
        if let (Some(before), Some(after)) = (&score.before, &score.after) {
            let changed =
                (before.severity, before.exploitability) != (after.severity, after.exploitability);
            if changed && !has_rationale {
                diags.push(
                    Diagnostic::new(
                        code::RISK_RESIDUAL_UNEXPLAINED,
                        format!(
                            "the residual risk of {} ({} severity, {} exploitability) differs from the initial one ({}, {}) without a `rationale`",
                            item.id,
                            scales.severity[after.severity],
                            scales.exploitability[after.exploitability],
                            scales.severity[before.severity],
                            scales.exploitability[before.exploitability]
                        ),
                    )
                    .at(item.span_of("residual"))
                    .item(&item.id)
                    .help("add `rationale:` saying how the controls change the severity or exploitability"),
                );
            }
        }
    }
    let disposition = item.text("disposition");
    if matches!(disposition, Some("accept" | "transfer")) {
        let missing: Vec<&str> = ["rationale", "approved_by", "review_by"]
            .into_iter()
            .filter(|f| item.text(f).is_none_or(|t| t.trim().is_empty()))
            .collect();
        if !missing.is_empty() {
            diags.push(
                Diagnostic::new(
                    code::RISK_ACCEPTANCE_INCOMPLETE,
                    format!("{} is {}ed without {}", item.id, disposition.unwrap_or_default(), missing.join(", ")),
                )
                .at(item.span_of("disposition"))
                .item(&item.id)
                .help("an accepted or transferred risk records why (`rationale`), who decided (`approved_by`) and when to look again (`review_by: YYYY-MM-DD`)"),
            );
        }
    }
    if let Some(date) = item.text("review_by") {
        if crate::date::Day::parse(date).is_some_and(|d| d < project.today) {
            diags.push(
                Diagnostic::new(
                    code::RISK_REVIEW_EXPIRED,
                    format!("the review of {} was due on {date}", item.id),
                )
                .at(item.span_of("review_by"))
                .item(&item.id)
                .help(format!(
                    "review the risk and set a new `review_by` (today is {})",
                    project.today
                )),
            );
        }
    }
    let labeled = out(project, i, "controls").into_iter().any(|c| {
        project.items[c]
            .text("labeling")
            .is_some_and(|t| !t.trim().is_empty())
    });
    if disposition == Some("accept") && !labeled {
        if let Some(words) = item.text("rationale").and_then(tells_users) {
            diags.push(
                Diagnostic::new(code::RISK_ACCEPTANCE_UNLABELED, format!("the rationale of accepted {} says users are told (\"{words}\") but none of its controls has `labeling` text", item.id))
                    .at(item.span_of("rationale"))
                    .item(&item.id)
                    .help("link a control whose `labeling` says it, so the security labeling carries it, or reword the rationale"),
            );
        }
    }
    if disposition == Some("transfer") && !labeled {
        diags.push(
            Diagnostic::new(code::RISK_TRANSFER_UNLABELED, format!("{} is transferred to users but none of its controls has `labeling` text", item.id))
                .at(item.span_of("disposition"))
                .item(&item.id)
                .help("a risk transferred to users must appear in the labeling: link a control whose `labeling` tells them what to do"),
        );
    }
}

/// The words of a risk's rationale that say users are told about the risk: a word
/// beginning with `label` or `communicat`, `inform`, `informs`, `informed`, `IFU`, or
/// the phrases `instructions for use`, `user manual`, `user guide`. `None` when the
/// rationale says none of them.
/// The ISO 14971 hand-off goes by link: a risk that can harm the patient names its
/// hazards, and a risk that names hazards can harm the patient.
fn check_harm(item: &crate::model::Item, diags: &mut Diagnostics) {
    let hazards = match item.fields.get("hazards") {
        Some(Value::String(_)) => 1,
        Some(Value::Array(list)) => list.len(),
        _ => 0,
    };
    match item.text("harm") {
        Some(harm @ ("safety" | "both")) if hazards == 0 => diags.push(
            Diagnostic::new(
                code::RISK_HAZARD_MISSING,
                format!("{} can harm the patient's safety (harm: {harm}) but names no hazard, so it is not handed to the safety risk management file", item.id),
            )
            .at(item.span_of("harm"))
            .item(&item.id)
            .help("add `hazards: [HAZ-...]`: hazard items, or ids of the safety file declared in [preprocessor.qms.safety-file]"),
        ),
        Some(harm @ ("privacy" | "none")) if hazards > 0 => diags.push(
            Diagnostic::new(
                code::RISK_HARM_MISMATCH,
                format!("{} names {hazards} hazard{} but its harm is `{harm}`", item.id, if hazards == 1 { "" } else { "s" }),
            )
            .at(item.span_of("harm"))
            .item(&item.id)
            .related(item.span_of("hazards"), "the hazards")
            .help("a risk that leads to a hazard harms safety: write `harm: safety` or `harm: both`, or remove the hazards"),
        ),
        _ => {}
    }
}

fn tells_users(rationale: &str) -> Option<&str> {
    let lower = rationale.to_lowercase();
    for phrase in ["instructions for use", "user manual", "user guide"] {
        if let Some(at) = lower.find(phrase) {
            return rationale.get(at..at + phrase.len());
        }
    }
    rationale
        .split(|c: char| !c.is_alphanumeric())
        .find(|word| {
            let w = word.to_lowercase();
            w.starts_with("label")
                || w.starts_with("communicat")
                || matches!(w.as_str(), "inform" | "informs" | "informed" | "ifu")
        })
}

/// Options of the risk directives that only this stage understands.
fn check_directives(project: &Linked, diags: &mut Diagnostics) {
    for chapter in &project.chapters {
        for d in &chapter.directives {
            match d.kind {
                Kind::Dfd => {
                    let Some((_, zone)) = d.options.iter().find(|(k, _)| k.text == "zone") else {
                        continue;
                    };
                    match project.graph.get(&zone.text) {
                        Some(z) if project.items[z].ty == "zone" => {}
                        Some(z) => diags.push(
                            Diagnostic::new(
                                code::DIRECTIVE_UNKNOWN_ID,
                                format!(
                                    "`dfd zone={}` names a {}, not a zone",
                                    zone.text, project.items[z].ty
                                ),
                            )
                            .at(zone.span),
                        ),
                        None => diags.push(
                            Diagnostic::new(
                                code::DIRECTIVE_UNKNOWN_ID,
                                format!("`dfd zone={}` names no item", zone.text),
                            )
                            .at(zone.span),
                        ),
                    }
                }
                Kind::Heatmap => {
                    for (k, v) in &d.options {
                        if k.text == "show"
                            && !matches!(v.text.as_str(), "before" | "after" | "both")
                        {
                            diags.push(
                                Diagnostic::new(
                                    code::DIRECTIVE_SYNTAX,
                                    format!("`show={}`: expected before, after or both", v.text),
                                )
                                .at(v.span),
                            );
                        }
                    }
                }
                Kind::Matrix => {
                    for (k, v) in &d.options {
                        if matches!(k.text.as_str(), "commits" | "approved")
                            && !matches!(v.text.as_str(), "true" | "false")
                        {
                            diags.push(
                                Diagnostic::new(
                                    code::DIRECTIVE_SYNTAX,
                                    format!("`{}={}`: expected true or false", k.text, v.text),
                                )
                                .at(v.span),
                            );
                        }
                    }
                }
                Kind::Ref
                | Kind::Item
                | Kind::Table
                | Kind::History
                | Kind::Changes
                | Kind::Stride
                | Kind::Results
                | Kind::Sbom
                | Kind::Document
                | Kind::Metrics
                | Kind::Downloads => {}
            }
        }
    }
}
