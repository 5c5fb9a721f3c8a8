//! The evidence stage: what the results and records under `trace/` say about the
//! linked items (see the parent module for the reading step).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as J;

use super::junit::{Outcome, TestCase};
use super::{evidence_match, sbom, vex, Traces};
use crate::date::{Day, Timestamp};
use crate::diag::{code, Diagnostic};
use crate::git::Repo;
use crate::history::History;
use crate::linked::Linked;
use crate::source::{display_path, FileId};
use crate::text::names_id;

/// A test item's verification status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every matching case passed.
    Passed,
    /// A matching case failed or ended in an error.
    Failed,
    /// A matching case was skipped, so the item is not fully verified.
    Skipped,
    /// No result names the test, or some of its cases.
    Missing,
    /// The results are older than the last significant change to the test or what it verifies.
    Stale,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Missing => "missing",
            Status::Stale => "stale",
        }
    }
}

/// What the test results say about one test item.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The verdict.
    pub status: Status,
    /// Indexes into `Traces::cases`.
    pub cases: Vec<usize>,
    /// Why: the failing case, the unmatched names, the change that made it stale.
    pub detail: String,
}

/// An OSV record that affects a component item.
#[derive(Debug, Clone)]
pub struct VulnMatch {
    /// Index into [`Evidence::osv`].
    pub(crate) record: usize,
    /// The component item.
    pub component: usize,
    pub(crate) version: String,
    /// The vulnerability items that assess it.
    pub assessed_by: Vec<usize>,
}

/// The evidence stage's output.
#[derive(Debug, Default)]
pub struct Evidence {
    /// By test item id; empty when the project has no test results at all.
    pub verification: HashMap<String, Verification>,
    /// Every OSV record that affects a component item, by component then record.
    pub matches: Vec<VulnMatch>,
}

impl Evidence {
    /// The verification of the test item `id`; `None` when no result names it.
    pub fn verification(&self, id: &str) -> Option<&Verification> {
        self.verification.get(id)
    }
}

/// Runs the evidence checks on a linked project: the verification status of every
/// test item, the component checks and the OSV/VEX matches.
pub(crate) fn assess(project: &Linked, history: &History, ds: &mut Vec<Diagnostic>) -> Evidence {
    let verification = verify_tests(project, history, ds);
    check_components(project, ds);
    let matches = vex::check(project, ds);
    Evidence {
        verification,
        matches,
    }
}

fn strings(v: Option<&J>) -> Vec<String> {
    match v {
        Some(J::String(s)) => vec![s.clone()],
        Some(J::Array(l)) => l.iter().filter_map(J::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// Verification status of every test item, from the matched JUnit cases.
fn verify_tests(
    project: &Linked,
    history: &History,
    ds: &mut Vec<Diagnostic>,
) -> HashMap<String, Verification> {
    let ev = &project.traces;
    let mut verification = HashMap::new();
    // Without any result there is nothing to compare with: no statuses, no warnings.
    if ev.cases.is_empty() {
        return verification;
    }
    let names: Vec<Vec<String>> = ev.cases.iter().map(TestCase::full_names).collect();
    let mut used = vec![false; ev.cases.len()];
    let history = history.is_available().then_some(history);
    let repo = history.and_then(|_| Repo::open_at(&project.config.root, &project.revision).ok());
    let committed: HashMap<FileId, Option<Timestamp>> = match &repo {
        Some(repo) => ev
            .junit_files
            .iter()
            .map(|&f| {
                let path = &project.sources.get(f).path;
                (f, repo.last_commit_time(path).map(Timestamp::utc))
            })
            .collect(),
        None => HashMap::new(),
    };
    for (i, item) in project.items.iter().enumerate() {
        if item.ty != "test" || !project.is_primary(i) {
            continue;
        }
        let wanted = strings(item.fields.get("evidence"));
        let mut cases: Vec<usize> = Vec::new();
        let mut unmatched: Vec<&str> = Vec::new();
        for w in &wanted {
            let before = cases.len();
            for (c, full) in names.iter().enumerate() {
                if full.iter().any(|f| evidence_match(w, f)) && !cases.contains(&c) {
                    cases.push(c);
                }
            }
            if cases.len() == before {
                unmatched.push(w);
            }
        }
        for &c in &cases {
            used[c] = true;
        }
        let span = item.span_of("evidence");
        let case_name = |c: usize| {
            let tc = &ev.cases[c];
            if tc.classname.is_empty() {
                tc.name.clone()
            } else {
                format!("{}::{}", tc.classname, tc.name)
            }
        };
        // The failed or skipped cases' names ("a, b"), and ": message" of the first.
        let names_and_message = |list: &[usize]| {
            let names: Vec<String> = list.iter().map(|&c| case_name(c)).collect();
            let message = list
                .first()
                .and_then(|&c| ev.cases[c].message.as_deref())
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            (names.join(", "), message)
        };
        let failed: Vec<usize> = cases
            .iter()
            .copied()
            .filter(|&c| ev.cases[c].outcome >= Outcome::Failed)
            .collect();
        let (status, detail) = if !failed.is_empty() {
            let first = &ev.cases[failed[0]];
            let (names, message) = names_and_message(&failed);
            let detail = format!("{names} failed{message}");
            ds.push(
                Diagnostic::new(code::TEST_FAILED, format!("{}: {detail}", item.id))
                    .at(span)
                    .item(&item.id)
                    .related(first.span, "the failing test case")
                    .help("fix the product or the test, then refresh the results under trace/"),
            );
            (Status::Failed, detail)
        } else if wanted.is_empty() {
            let detail = "names no evidence".to_owned();
            ds.push(
                Diagnostic::new(code::TEST_RESULT_MISSING, format!("{} {detail}", item.id))
                    .at(item.span_of("id"))
                    .item(&item.id)
                    .help("add `evidence:` with the JUnit test-case names (or patterns) that verify it"),
            );
            (Status::Missing, detail)
        } else if !unmatched.is_empty() {
            let detail = format!("no result for {}", unmatched.join(", "));
            ds.push(
                Diagnostic::new(code::TEST_RESULT_MISSING, format!("{}: {detail}", item.id))
                    .at(span)
                    .item(&item.id)
                    .help(
                        "run the tests and put their JUnit XML under trace/, or correct the names",
                    ),
            );
            (Status::Missing, detail)
        } else if cases
            .iter()
            .any(|&c| ev.cases[c].outcome == Outcome::Skipped)
        {
            // A skipped case verified nothing: the item is not fully verified.
            let skipped: Vec<usize> = cases
                .iter()
                .copied()
                .filter(|&c| ev.cases[c].outcome == Outcome::Skipped)
                .collect();
            let first = &ev.cases[skipped[0]];
            let (names, message) = names_and_message(&skipped);
            let detail = format!(
                "{} of {} test cases skipped ({names}{message})",
                skipped.len(),
                cases.len()
            );
            ds.push(
                Diagnostic::new(code::TEST_SKIPPED, format!("{}: {detail}", item.id))
                    .at(span)
                    .item(&item.id)
                    .related(first.span, "the skipped test case")
                    .help("run the skipped tests where they can run, or explain the deferral in the test item"),
            );
            (Status::Skipped, detail)
        } else {
            match stale_reason(project, i, &cases, ev, history, &committed) {
                Some(detail) => {
                    ds.push(
                        Diagnostic::new(
                            code::TEST_RESULT_STALE,
                            format!("{}: the result is stale: {detail}", item.id),
                        )
                        .at(span)
                        .item(&item.id)
                        .help("run the tests again and refresh the results under trace/"),
                    );
                    (Status::Stale, detail)
                }
                None => (Status::Passed, format!("{} passed", cases.len())),
            }
        };
        if matches!(status, Status::Failed | Status::Skipped) && !assessed(project, i) {
            let outcome = if status == Status::Failed {
                "failed"
            } else {
                "was skipped"
            };
            ds.push(
                Diagnostic::new(
                    code::TEST_FAILURE_UNASSESSED,
                    format!(
                        "{} {outcome} but no anomaly item names it and it has no `deferral`",
                        item.id
                    ),
                )
                .at(item.span_of("id"))
                .item(&item.id)
                .help(format!("record the defect as an anomaly item whose title or text names {}, or write on the test why it can wait: `deferral: ...`", item.id)),
            );
        }
        verification.insert(
            item.id.clone(),
            Verification {
                status,
                cases,
                detail,
            },
        );
    }
    for &file in &ev.junit_files {
        let unmatched: Vec<usize> = (0..ev.cases.len())
            .filter(|&c| ev.cases[c].file == file && !used[c])
            .collect();
        if unmatched.is_empty() {
            continue;
        }
        let shown: Vec<String> = unmatched
            .iter()
            .take(5)
            .map(|&c| ev.cases[c].full_names()[0].clone())
            .collect();
        let more = if unmatched.len() > 5 {
            format!(" and {} more", unmatched.len() - 5)
        } else {
            String::new()
        };
        ds.push(
            Diagnostic::new(
                code::TEST_RESULT_UNMATCHED,
                format!(
                    "{} test case{} in {} {} named by no test item: {}{more}",
                    unmatched.len(),
                    if unmatched.len() == 1 { "" } else { "s" },
                    display_path(&project.sources.get(file).path),
                    if unmatched.len() == 1 { "is" } else { "are" },
                    shown.join(", ")
                ),
            )
            .at(ev.cases[unmatched[0]].span)
            .help("name them in a test item's `evidence` (patterns such as `module::*` work), or leave them out of trace/"),
        );
    }
    verification
}

/// Whether a failed or skipped test is accounted for: a live anomaly item names it, or
/// the test records a `deferral`.
fn assessed(project: &Linked, test: usize) -> bool {
    let item = &project.items[test];
    item.text("deferral").is_some_and(|t| !t.trim().is_empty())
        || anomaly_naming(project, &item.id).is_some()
}

/// The first live anomaly item that names `id` (as a whole word) in its title or text.
pub(crate) fn anomaly_naming<'a>(project: &'a Linked, id: &str) -> Option<&'a crate::model::Item> {
    project.items.iter().find(|a| {
        a.ty == "anomaly"
            && a.status() != "obsolete"
            && (names_id(&a.title, id) || a.text("text").is_some_and(|t| names_id(t, id)))
    })
}

/// Why the result of a passing test item is stale: the test item, or an item it
/// verifies, changed (committed) after its results. A result counts from when it ran
/// (the JUnit `timestamp`) or from when its file was last committed, whichever is
/// later: committing a result file records it as the evidence at that commit.
fn stale_reason(
    project: &Linked,
    test: usize,
    cases: &[usize],
    ev: &Traces,
    history: Option<&History>,
    committed: &HashMap<FileId, Option<Timestamp>>,
) -> Option<String> {
    let history = history?;
    let recorded = |c: usize| {
        let committed = committed.get(&ev.cases[c].file).copied().flatten();
        match (ev.cases[c].timestamp, committed) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    };
    let ran = cases
        .iter()
        .map(|&c| recorded(c))
        .collect::<Option<Vec<Timestamp>>>()?
        .into_iter()
        .min()?;
    let mut ids = vec![test];
    ids.extend(
        project
            .graph
            .out(test)
            .filter(|l| l.field == "verifies")
            .map(|l| l.to),
    );
    let mut worst: Option<(Timestamp, String)> = None;
    for i in ids {
        let id = &project.items[i].id;
        if let Some(c) = history.last_changed(id) {
            if c.timestamp() > ran && worst.as_ref().is_none_or(|(t, _)| c.timestamp() > *t) {
                worst = Some((
                    c.timestamp(),
                    format!(
                        "{id} changed on {} ({}) after the results of {}",
                        c.day(),
                        c.short,
                        ran.day()
                    ),
                ));
            }
        }
    }
    worst.map(|(_, s)| s)
}

/// NTIA minimum elements of each SBOM, and support data of every component.
fn check_components(project: &Linked, ds: &mut Vec<Diagnostic>) {
    let ev = &project.traces;
    let today = project.today;
    for sbom in &ev.sboms {
        let path = display_path(&project.sources.get(sbom.file).path);
        let mut doc_missing = Vec::new();
        if sbom.author.is_none() {
            doc_missing.push("author (metadata authors, manufacturer or tools; SPDX creators)");
        }
        if sbom.timestamp.is_none() {
            doc_missing.push("timestamp");
        }
        if !sbom.has_dependencies {
            doc_missing.push("dependency relationships");
        }
        if !doc_missing.is_empty() {
            ds.push(
                Diagnostic::new(
                    code::SBOM_NTIA,
                    format!(
                        "{path} has no {} (NTIA minimum elements)",
                        doc_missing.join(", no ")
                    ),
                )
                .in_file(sbom.file),
            );
        }
        // Per element, one diagnostic listing the components that lack it.
        let mut lacking: BTreeMap<&str, Vec<&sbom::Component>> = BTreeMap::new();
        let mut unsupported: Vec<&sbom::Component> = Vec::new();
        let mut ended: Vec<(&sbom::Component, String)> = Vec::new();
        for c in &sbom.components {
            let view = c
                .item
                .as_deref()
                .and_then(|id| project.graph.get(id))
                .map(|i| project.traces.component_view(&project.items[i]));
            let get = |k: &str| -> bool {
                let from_view = view.as_ref().is_some_and(|v| match k {
                    "supplier" => v.supplier.is_some(),
                    "name" => v.name.is_some(),
                    "version" => v.version.is_some(),
                    _ => v.purl.is_some() || v.cpe.is_some(),
                });
                from_view
                    || match k {
                        "supplier" => c.supplier.is_some(),
                        "name" => c.name.is_some(),
                        "version" => c.version.is_some(),
                        _ => c.purl.is_some() || c.cpe.is_some(),
                    }
            };
            for k in ["supplier", "name", "version", "a unique id (purl or CPE)"] {
                if !get(k) {
                    lacking.entry(k).or_default().push(c);
                }
            }
            if sbom.has_dependencies && !c.in_dependencies {
                lacking
                    .entry("a dependency relationship")
                    .or_default()
                    .push(c);
            }
            // Support data of components that exist only in the SBOM is checked here,
            // per SBOM; component items are checked one by one below.
            if c.synthesized {
                let v = view.unwrap_or_default();
                if v.support.is_none() || v.end_of_support.is_none() {
                    unsupported.push(c);
                }
                if let Some(eos) = v
                    .end_of_support
                    .as_deref()
                    .filter(|e| Day::parse(e).is_some_and(|d| d < today))
                {
                    ended.push((c, eos.to_owned()));
                }
            }
        }
        let label = |c: &sbom::Component| match (&c.name, &c.version) {
            (Some(n), Some(v)) => format!("{n}@{v}"),
            (Some(n), None) => n.clone(),
            _ => c.bom_ref.clone(),
        };
        let list = |cs: &[&sbom::Component]| {
            let shown: Vec<String> = cs.iter().take(6).map(|c| label(c)).collect();
            let more = if cs.len() > 6 {
                format!(" and {} more", cs.len() - 6)
            } else {
                String::new()
            };
            format!("{}{more}", shown.join(", "))
        };
        let place = |d: Diagnostic, c: &sbom::Component| match c.span {
            Some(s) => d.at(s),
            None => d.in_file(sbom.file),
        };
        for (element, cs) in lacking {
            let d = Diagnostic::new(
                code::SBOM_NTIA,
                format!("{path}: {} component{} without {element}: {}", cs.len(), if cs.len() == 1 { "" } else { "s" }, list(&cs)),
            )
            .help("NTIA minimum elements: supplier, name, version, unique id, dependency relationship; a component item with the same purl may add the supplier");
            ds.push(place(d, cs[0]));
        }
        if !unsupported.is_empty() {
            let d = Diagnostic::new(
                code::COMPONENT_SUPPORT_MISSING,
                format!("{path}: {} component{} without a support level or end-of-support date: {}", unsupported.len(), if unsupported.len() == 1 { "" } else { "s" }, list(&unsupported)),
            )
            .help("add SBOM properties `support-level` and `end-of-support`, or a component item with the same purl and `support`, `end_of_support`");
            ds.push(place(d, unsupported[0]));
        }
        if !ended.is_empty() {
            let cs: Vec<&sbom::Component> = ended.iter().map(|(c, _)| *c).collect();
            let d = Diagnostic::new(
                code::COMPONENT_END_OF_SUPPORT,
                format!(
                    "{path}: the support of {} ended: {}",
                    list(&cs),
                    ended
                        .iter()
                        .map(|(_, e)| e.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            ds.push(place(d, cs[0]));
        }
    }
    for (i, item) in project.items.iter().enumerate() {
        if item.ty != "component" || !project.is_primary(i) {
            continue;
        }
        if ev.is_synthesized(&item.id) {
            continue;
        }
        let v = project.traces.component_view(&project.items[i]);
        let mut missing = Vec::new();
        if v.support.is_none() {
            missing.push("`support`");
        }
        if v.end_of_support.is_none() {
            missing.push("`end_of_support`");
        }
        if !missing.is_empty() {
            ds.push(
                Diagnostic::new(code::COMPONENT_SUPPORT_MISSING, format!("{} has no {}", item.id, missing.join(" and no ")))
                    .at(item.span_of("id"))
                    .item(&item.id)
                    .help("the FDA expects the level of support (active, limited, none) and the end-of-support date of every component"),
            );
        }
        if let Some(eos) = v.end_of_support.as_deref() {
            if Day::parse(eos).is_some_and(|d| d < today) {
                ds.push(
                    Diagnostic::new(code::COMPONENT_END_OF_SUPPORT, format!("the support of {} ended on {eos}", item.id))
                        .at(item.span_of("end_of_support"))
                        .item(&item.id)
                        .help("plan the replacement, and assess the risk of running it unsupported until then"),
                );
            }
        }
    }
}
