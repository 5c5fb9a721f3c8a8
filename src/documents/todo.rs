//! The author's to-do list (`mdbook-qms gaps`): every gap marker of every document and
//! every `check` finding a document depends on, each listed once, however many
//! documents show it, with the place where the missing fact would go.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::diag::{code, Diagnostic, Location};
use crate::project::Project;
use crate::source::{display_path, Span};

use crate::config::documents::DOCUMENTS;

/// Missing content in a generated document: one `gap(section, what)` call of its template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// The document's name (`security-labeling`).
    pub document: String,
    /// The section that shows the marker.
    pub section: String,
    /// What is missing, as the marker says it.
    pub what: String,
    /// Where the missing fact would go (the template's `item=`, `field=`, `add=`).
    pub fix: Fix,
}

/// Where a gap is filled, as the template that shows it says (`gap(..., item=ID,
/// field=F)`, `gap(..., add=TYPE)` or `gap(..., file=PATH)`); a template that says
/// nothing leaves them empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fix {
    /// The item a field of which is missing or wrong.
    pub item: Option<String>,
    /// That field, when one field would fill the gap.
    pub field: Option<String>,
    /// The type of an item to add.
    pub add: Option<String>,
    /// A file of the project (relative to its root) that lacks the fact.
    pub file: Option<String>,
    /// The check code that reports the same thing, so `gaps` lists it once.
    pub check: Option<String>,
}

/// Check findings the documents depend on: the code, and the documents whose statements
/// it makes incomplete or wrong (a failed test leaves a control unverified in the
/// testing report, the traceability matrix and the report's conclusion).
const DEPENDS: &[(&str, &[&str])] = &[
    (code::TEST_FAILED, TESTS),
    (code::TEST_SKIPPED, TESTS),
    (code::TEST_FAILURE_UNASSESSED, &["unresolved-anomalies"]),
    (code::TEST_RESULT_MISSING, TESTS),
    (code::TEST_RESULT_STALE, TESTS),
    (code::PENTEST_INCOMPLETE, &["security-testing-report"]),
    (code::TEST_TOOL_MISSING, &["security-testing-report"]),
    (code::TEST_DATES_REVERSED, &["security-testing-report"]),
    (code::FINDING_ID_DUPLICATE, &["security-testing-report"]),
    (
        code::FINDING_DISPOSITION_MISSING,
        &["security-testing-report"],
    ),
    (
        code::FINDING_RATIONALE_MISSING,
        &["security-testing-report"],
    ),
    (
        code::FINDING_DEFERRED_NO_ANOMALY,
        &["security-testing-report", "unresolved-anomalies"],
    ),
    (code::SBOM_NTIA, &["sbom"]),
    (code::COMPONENT_SUPPORT_MISSING, COMPONENTS),
    (code::COMPONENT_END_OF_SUPPORT, COMPONENTS),
    (code::COMPONENT_END_OF_SUPPORT_UNASSESSED, COMPONENTS),
    (
        code::DEVICE_VERSION_MISMATCH,
        &["sbom", "security-testing-report"],
    ),
    (
        code::VULNERABILITY_RISK_CVSS,
        &["vulnerability-assessment", "risk-assessment"],
    ),
    (
        code::VEX_NOT_AFFECTED_PATCHED,
        &["vulnerability-assessment", "tplc-metrics"],
    ),
    (
        code::PATCH_OVERDUE,
        &["vulnerability-assessment", "tplc-metrics"],
    ),
    (code::KEV_CATALOGUE_MISSING, &["vulnerability-assessment"]),
    (code::KEV_CLAIM_CONTRADICTED, &["vulnerability-assessment"]),
    (
        code::VULNERABILITY_DATES,
        &["vulnerability-assessment", "tplc-metrics"],
    ),
    (code::RISK_UNSCORED, &["risk-assessment"]),
    (code::RISK_RESIDUAL_UNEXPLAINED, &["risk-assessment"]),
    (code::RISK_HAZARD_MISSING, &["risk-assessment"]),
    (code::RISK_HARM_MISMATCH, &["risk-assessment"]),
    (code::RISK_ACCEPTANCE_UNLABELED, &["security-labeling"]),
    (code::ASSET_NO_ZONE, &["threat-model"]),
    (code::FLOW_BOUNDARY_UNKNOWN, &["threat-model"]),
    (code::BOUNDARY_FLOW_UNPROTECTED, &["threat-model"]),
    (code::BOUNDARY_DATA_EXPOSED, &["threat-model"]),
    (code::STRIDE_GAP, &["threat-model"]),
    (code::STRIDE_INAPPLICABLE, &["threat-model"]),
    (
        code::THREAT_NO_RISK,
        &["threat-model", "traceability-matrix"],
    ),
    (
        code::CONTROL_UNTESTED,
        &["security-controls", "traceability-matrix"],
    ),
    (
        code::VIEW_NOT_APPLICABLE_WITH_CONTENT,
        &["architecture-views"],
    ),
];

const TESTS: &[&str] = &[
    "security-controls",
    "security-testing-report",
    "unresolved-anomalies",
    "traceability-matrix",
    "security-risk-management-report",
];

const COMPONENTS: &[&str] = &["sbom", "security-risk-management-report"];

/// One thing to do, however many documents show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Todo {
    /// What is missing (the marker's text, or the finding's message).
    pub message: String,
    /// The documents that show it, with the section (none for a check finding, which a
    /// document reflects in its counts and conclusions rather than in one section).
    pub shown_in: Vec<(String, Option<String>)>,
    /// The item it is about.
    pub item: Option<String>,
    /// The check code that reports it, when `check` does.
    pub code: Option<&'static str>,
    /// Where the missing fact would go: a file relative to the project and a 1-based
    /// line, or a folder (ending in `/`) and no line, where a new item file goes.
    pub file: Option<String>,
    /// The 1-based line in `file`; none for a folder or a whole file.
    pub line: Option<usize>,
}

impl Todo {
    /// A key that names this entry across runs, for `[preprocessor.qms.gate] allow-gaps`:
    /// a check finding's `code:ITEM` (`code:FILE` when it is about no item), a marker's
    /// `document:section` (the section's title without its number).
    pub fn key(&self) -> String {
        match self.code {
            Some(code) => match self.item.as_deref().or(self.file.as_deref()) {
                Some(subject) => format!("{code}:{subject}"),
                None => code.to_owned(),
            },
            None => {
                let (document, section) = self
                    .shown_in
                    .first()
                    .map(|(d, s)| (d.as_str(), s.as_deref().unwrap_or("")))
                    .unwrap_or_default();
                let title = section
                    .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
                    .trim_start();
                format!("{document}:{title}")
            }
        }
    }
}

/// The to-do list: the documents' gaps (in the guide's order of documents, then the
/// order they show them), deduplicated by what is missing, then the check findings the
/// documents depend on that no marker shows, in file order.
pub(super) fn todo(project: &Project, gaps: &[Gap]) -> Vec<Todo> {
    let mut out: Vec<Todo> = Vec::new();
    for (g, shown_in) in dedupe(gaps) {
        let (file, line) = place(project, g);
        out.push(Todo {
            message: g.what.clone(),
            shown_in: shown_in
                .into_iter()
                .map(|(d, s)| (d.to_owned(), Some(s.to_owned())))
                .collect(),
            item: g.fix.item.clone(),
            code: g
                .fix
                .check
                .as_deref()
                .and_then(|c| crate::diag::CODES.iter().find(|i| i.code == c))
                .map(|i| i.code),
            file,
            line,
        });
    }
    let mut findings: Vec<&Diagnostic> = project
        .diagnostics
        .0
        .iter()
        .filter(|d| DEPENDS.iter().any(|(c, _)| *c == d.code))
        .collect();
    findings.sort_by_key(|d| position(project, d));
    // A marker that names a check for an item is the same gap as that check's finding.
    let marked: HashMap<(&'static str, String), usize> = out
        .iter()
        .enumerate()
        .filter_map(|(i, t)| Some(((t.code?, t.item.clone()?), i)))
        .collect();
    // The same finding twice (a code, message, item and place) is listed once.
    let mut listed: HashSet<FindingKey> = HashSet::new();
    let mut added = Vec::new();
    for d in findings {
        let Some((_, documents)) = DEPENDS.iter().find(|(c, _)| *c == d.code) else {
            continue;
        };
        if let Some(&i) = d.item.clone().and_then(|id| marked.get(&(d.code, id))) {
            let shown_in = &mut out[i].shown_in;
            for doc in documents.iter() {
                if !shown_in.iter().any(|(n, _)| n == doc) {
                    shown_in.push(((*doc).to_owned(), None));
                }
            }
            continue;
        }
        let (file, line) = position(project, d);
        if !listed.insert((d.code, &d.message, d.item.as_deref(), file.clone(), line)) {
            continue;
        }
        added.push(Todo {
            message: d.message.clone(),
            shown_in: documents.iter().map(|n| ((*n).to_owned(), None)).collect(),
            item: d.item.clone(),
            code: Some(d.code),
            file,
            line,
        });
    }
    out.extend(added);
    for t in &mut out {
        t.shown_in
            .sort_by_key(|(n, _)| DOCUMENTS.iter().position(|d| d.name == n));
    }
    out
}

/// What makes two check findings the same entry: code, message, item, file and line.
type FindingKey<'a> = (
    &'static str,
    &'a str,
    Option<&'a str>,
    Option<String>,
    Option<usize>,
);

/// The gaps, each once by what is missing (its text and where it is filled), in the
/// order first shown, with every (document, section) that shows it.
pub(crate) fn dedupe(gaps: &[Gap]) -> Vec<(&Gap, Vec<(&str, &str)>)> {
    let mut out: Vec<(&Gap, Vec<(&str, &str)>)> = Vec::new();
    let mut index: HashMap<(&str, &Fix), usize> = HashMap::new();
    for g in gaps {
        let shown = (g.document.as_str(), g.section.as_str());
        match index.entry((g.what.as_str(), &g.fix)) {
            Entry::Occupied(i) => {
                let places = &mut out[*i.get()].1;
                if !places.contains(&shown) {
                    places.push(shown);
                }
            }
            Entry::Vacant(v) => {
                v.insert(out.len());
                out.push((g, vec![shown]));
            }
        }
    }
    out
}

/// A diagnostic's file and line, for sorting and printing.
pub(crate) fn position(project: &Project, d: &Diagnostic) -> (Option<String>, Option<usize>) {
    match d.location {
        Location::Span(s) => span_place(project, s),
        Location::File(f) => (Some(display_path(&project.sources.get(f).path)), None),
        Location::None => (None, None),
    }
}

/// A span's file (relative to the project) and 1-based line.
pub(crate) fn span_place(project: &Project, s: Span) -> (Option<String>, Option<usize>) {
    let f = project.sources.get(s.file);
    (Some(display_path(&f.path)), Some(f.line_col(s.start).0))
}

/// Where the missing fact of a gap would go: the item's field (or the item, when the
/// field is absent); for an item to add, beside the last item of that type, or in the
/// folder `mdbook-qms new TYPE` writes to when there is none; else the file the
/// template names (an override that names nothing names itself).
fn place(project: &Project, g: &Gap) -> (Option<String>, Option<usize>) {
    let fix = &g.fix;
    if let Some(i) = fix.item.as_deref().and_then(|id| project.graph.get(id)) {
        let item = &project.items[i];
        let span = match &fix.field {
            Some(field) => item.span_of(field),
            None => item.node.span,
        };
        return span_place(project, span);
    }
    if let Some(ty) = &fix.add {
        if let Some(last) = project.items.iter().rev().find(|i| &i.ty == ty) {
            return span_place(project, last.node.span);
        }
        let folder = project
            .config
            .items
            .first()
            .cloned()
            .unwrap_or_else(|| PathBuf::from("requirements"))
            .join(ty);
        return (Some(format!("{}/", display_path(&folder))), None);
    }
    match &fix.file {
        Some(file) => (Some(file.clone()), None),
        None => (None, None),
    }
}

/// How `mdbook-qms gaps` prints the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapsFormat {
    /// One line per gap: `file:line: message (document: section, ...)`.
    Human,
    /// One JSON array of objects.
    Json,
}

crate::choice::impl_choice!(pub GapsFormat { Human => "human", Json => "json" });

/// The list in `format`, ending with a newline (nothing for an empty text list).
pub fn report(todos: &[Todo], format: GapsFormat) -> String {
    match format {
        GapsFormat::Human => todos
            .iter()
            .map(|t| format!("{}\n", crate::terminal::safe_line(&text_line(t))))
            .collect(),
        GapsFormat::Json => {
            let list: Vec<serde_json::Value> = todos.iter().map(json_object).collect();
            let mut out =
                serde_json::to_string_pretty(&serde_json::Value::Array(list)).unwrap_or_default();
            out.push('\n');
            out
        }
    }
}

fn text_line(t: &Todo) -> String {
    let place = match (&t.file, t.line) {
        (Some(f), Some(l)) => format!("{f}:{l}: "),
        (Some(f), None) => format!("{f}: "),
        _ => String::new(),
    };
    let code = t.code.map(|c| format!("[{c}] ")).unwrap_or_default();
    let shown: Vec<String> = t
        .shown_in
        .iter()
        .map(|(d, s)| match s {
            Some(s) => format!("{d}: {s}"),
            None => d.clone(),
        })
        .collect();
    format!("{place}{code}{} ({})", t.message, shown.join("; "))
}

fn json_object(t: &Todo) -> serde_json::Value {
    let shown: Vec<serde_json::Value> = t
        .shown_in
        .iter()
        .map(|(d, s)| serde_json::json!({"document": d, "section": s}))
        .collect();
    let first = t.shown_in.first();
    serde_json::json!({
        "key": t.key(),
        "message": t.message,
        "document": first.map(|(d, _)| d),
        "section": first.and_then(|(_, s)| s.as_ref()),
        "shown_in": shown,
        "file": t.file,
        "line": t.line,
        "item": t.item,
        "code": t.code,
    })
}
