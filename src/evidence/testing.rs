//! Checks of the test evidence written on test items: a penetration test says who
//! tested how independently, what and when; a vulnerability test names its tool and
//! version; testing does not end before it started; each finding has a unique id and a
//! disposition, and a deferred one is recorded as an anomaly. (A test's `build` is
//! compared with the device's version by `consistency`.)

use crate::date::Day;
use crate::diag::{code, Diagnostic};
use crate::linked::Linked;
use crate::model::Item;
use crate::yaml::{Node, Value};

/// The methods of vulnerability testing (fuzzing, scanning, software composition,
/// static and dynamic analysis), whose results depend on the tool that ran them.
pub(crate) const VULNERABILITY_METHODS: &[&str] = &[
    "vulnerability",
    "fuzz",
    "static-analysis",
    "dynamic-analysis",
    "software-composition",
];

/// What a penetration test must say: who tested, how independently, what, and when.
const PENETRATION_FIELDS: &[&str] = &["independence", "scope", "started", "finished"];

/// Runs every check of test evidence.
pub(crate) fn check(project: &Linked, ds: &mut Vec<Diagnostic>) {
    for (i, item) in project.items.iter().enumerate() {
        if item.ty != "test" || !project.is_primary(i) {
            continue;
        }
        match item.text("method") {
            Some("penetration") => penetration(item, ds),
            Some(m) if VULNERABILITY_METHODS.contains(&m) => tool(item, m, ds),
            _ => {}
        }
        dates(item, ds);
        findings(project, item, ds);
    }
}

/// The fields of `wanted` an item does not have.
fn missing<'a>(item: &Item, wanted: &[&'a str]) -> Vec<&'a str> {
    wanted
        .iter()
        .copied()
        .filter(|f| !item.fields.contains_key(*f))
        .collect()
}

/// `a`, `a or b`, `a, b or c`, each in backticks.
fn field_list(fields: &[&str]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn penetration(item: &Item, ds: &mut Vec<Diagnostic>) {
    let absent = missing(item, PENETRATION_FIELDS);
    if absent.is_empty() {
        return;
    }
    ds.push(
        Diagnostic::new(
            code::PENTEST_INCOMPLETE,
            format!(
                "penetration test {} has no {}",
                item.id,
                field_list(&absent)
            ),
        )
        .at(item.span_of("method"))
        .item(&item.id)
        .help("say how independent the testers were (`independence: third-party`, `independent-team` or `internal`), what they tested (`scope`) and when (`started`, `finished`)"),
    );
}

fn tool(item: &Item, method: &str, ds: &mut Vec<Diagnostic>) {
    let absent = missing(item, &["tool", "tool_version"]);
    if absent.is_empty() {
        return;
    }
    ds.push(
        Diagnostic::new(
            code::TEST_TOOL_MISSING,
            format!("{method} test {} has no {}", item.id, field_list(&absent)),
        )
        .at(item.span_of("method"))
        .item(&item.id)
        .help("name the tool that ran the test and its version (`tool: CodeQL`, `tool_version: 2.19.3`), so the run can be repeated and its coverage judged"),
    );
}

fn dates(item: &Item, ds: &mut Vec<Diagnostic>) {
    let day = |f: &str| item.text(f).and_then(Day::parse);
    let (Some(started), Some(finished)) = (day("started"), day("finished")) else {
        return;
    };
    if finished < started {
        ds.push(
            Diagnostic::new(
                code::TEST_DATES_REVERSED,
                format!(
                    "{} finished on {finished}, before it started on {started}",
                    item.id
                ),
            )
            .at(item.span_of("finished"))
            .item(&item.id)
            .related(item.span_of("started"), "started here")
            .help("correct `started` or `finished`: testing ends on or after the day it starts"),
        );
    }
}

/// The findings of a test as written, each with its node (for spans).
fn finding_nodes(item: &Item) -> Vec<&Node> {
    match item.node.get("findings").map(|(_, v)| &v.value) {
        Some(Value::Seq(list)) => list.iter().collect(),
        _ => Vec::new(),
    }
}

fn findings(project: &Linked, item: &Item, ds: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(&str, &Node)> = Vec::new();
    for node in finding_nodes(item) {
        let text = |f: &str| node.get(f).and_then(|(_, v)| v.as_str());
        let Some(id) = text("id") else { continue };
        let id_node = node.get("id").map_or(node, |(_, v)| v);
        if let Some((_, first)) = seen.iter().find(|(seen_id, _)| *seen_id == id) {
            ds.push(
                Diagnostic::new(
                    code::FINDING_ID_DUPLICATE,
                    format!("{} lists finding `{id}` twice", item.id),
                )
                .at(id_node.span)
                .item(&item.id)
                .related(first.span, "first listed here")
                .help("give each finding of a test its own id, as in the test report"),
            );
            continue;
        }
        seen.push((id, id_node));
        match text("disposition") {
            None => ds.push(
                Diagnostic::new(
                    code::FINDING_DISPOSITION_MISSING,
                    format!("finding `{id}` of {} has no `disposition`", item.id),
                )
                .at(id_node.span)
                .item(&item.id)
                .help("say what became of it: `disposition: fixed`, `accepted`, `deferred` or `false-positive`"),
            ),
            Some("deferred") if !records_anomaly(project, node) => ds.push(
                Diagnostic::new(
                    code::FINDING_DEFERRED_NO_ANOMALY,
                    format!(
                        "finding `{id}` of {} is deferred, but names no anomaly item",
                        item.id
                    ),
                )
                .at(node
                    .get("item")
                    .or_else(|| node.get("disposition"))
                    .map_or(id_node.span, |(_, v)| v.span))
                .item(&item.id)
                .help("record the deferred finding as an anomaly item (its security impact and why it can wait) and name it in the finding's `item`"),
            ),
            Some(disposition @ ("accepted" | "false-positive")) if text("rationale").is_none() => {
                let why = if disposition == "accepted" {
                    "why its risk is acceptable"
                } else {
                    "why it is not a weakness of the device"
                };
                ds.push(
                    Diagnostic::new(
                        code::FINDING_RATIONALE_MISSING,
                        format!(
                            "finding `{id}` of {} is {}, but gives no `rationale`",
                            item.id,
                            disposition.replace('-', " ")
                        ),
                    )
                    .at(node.get("disposition").map_or(id_node.span, |(_, v)| v.span))
                    .item(&item.id)
                    .help(format!("say {why} in the finding's `rationale`: a reviewer accepts a disposition only with its reason")),
                )
            }
            Some(_) => {}
        }
    }
}

/// Whether a finding's `item` names an anomaly item.
fn records_anomaly(project: &Linked, finding: &Node) -> bool {
    let ids: Vec<&str> = match finding.get("item").map(|(_, v)| &v.value) {
        Some(Value::String(id)) => vec![id],
        Some(Value::Seq(list)) => list.iter().filter_map(Node::as_str).collect(),
        _ => Vec::new(),
    };
    ids.into_iter().any(|id| {
        project
            .graph
            .get(id)
            .is_some_and(|i| project.items[i].ty == "anomaly")
    })
}
