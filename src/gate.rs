//! `mdbook-qms gate`: whether a revision of the project may be released, as a list of
//! blockers. The gate passes only when the list is empty: no error diagnostic, no gap
//! in the documents that `[preprocessor.qms.gate] allow-gaps` does not allow, every
//! control's tests passing and current (or the failure recorded as an anomaly), no
//! known exploited vulnerability that still affects the device, and every required
//! approval present, valid and current (items' and documents' through `check`'s
//! `approval-required-missing`, the release's here). `export` records the
//! same result in its bundle (`gate.json`).

use std::path::Path;

use serde_json::json;

use crate::config::approvals::{Required, Subject};
use crate::date::{Day, Timestamp};
use crate::diag::{code, Diagnostic, Severity};
use crate::documents::Documents;
use crate::evidence::assess::{anomaly_naming, Status};
use crate::evidence::vex::known_exploited;
use crate::git::{OpenError, Repo};
use crate::linked::LoadOptions;
use crate::load::ChapterSource;
use crate::output::Failure;
use crate::pipeline;
use crate::project::Project;

/// Why a revision may not be released. The order of the variants is the order of the
/// groups in [`Gate::blockers`] and in the human report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// An error diagnostic of `check`.
    Error,
    /// A gap in a generated document (or a check finding a document depends on) that
    /// book.toml does not allow.
    Gap,
    /// A control whose tests are not all passing and current, with no anomaly item
    /// recording why.
    Verification,
    /// A vulnerability in the KEV catalogue (or marked `kev: true`) that is neither
    /// `fixed` nor `not_affected`.
    KnownExploited,
    /// A required approval (`[[preprocessor.qms.approvals.required]]`) missing or
    /// outdated: of an item or document, or of the release of this content.
    Approval,
}

impl Kind {
    /// The name in JSON (`kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Error => "error",
            Kind::Gap => "gap",
            Kind::Verification => "verification",
            Kind::KnownExploited => "known-exploited",
            Kind::Approval => "approval",
        }
    }

    /// The heading of the kind's group in the human report.
    fn heading(self) -> &'static str {
        match self {
            Kind::Error => "errors",
            Kind::Gap => "gaps in the documents",
            Kind::Verification => "controls not verified",
            Kind::KnownExploited => "known exploited vulnerabilities",
            Kind::Approval => "required approvals",
        }
    }
}

/// One reason the gate fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    /// What kind of reason it is.
    pub kind: Kind,
    /// The item id, or the document name, it is about.
    pub subject: Option<String>,
    /// Why it blocks the release.
    pub message: String,
    /// The diagnostic code that reports the same thing, when `check` does.
    pub code: Option<&'static str>,
    /// For a gap, the key `allow-gaps` takes to let it through.
    pub key: Option<String>,
    /// The file (relative to the project) and 1-based line it is at, where there is one.
    pub file: Option<String>,
    /// The 1-based line in `file`.
    pub line: Option<usize>,
}

/// The gate's verdict on one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// The full id of the commit judged; `None` for the work tree.
    pub revision: Option<String>,
    /// Every blocker, grouped by kind, in file order within a kind.
    pub blockers: Vec<Blocker>,
}

/// How `mdbook-qms gate` prints its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateFormat {
    /// A numbered list grouped by kind, then `gate: passed` or `gate: N blockers`.
    Human,
    /// One JSON object: `passed`, `revision`, `blockers`.
    Json,
}

crate::choice::impl_choice!(pub GateFormat { Human => "human", Json => "json" });

impl Gate {
    /// Whether the revision may be released: no blocker at all.
    pub fn passed(&self) -> bool {
        self.blockers.is_empty()
    }

    /// The verdict in `format`, ending with a newline.
    pub fn report(&self, format: GateFormat) -> String {
        match format {
            GateFormat::Human => self.text(),
            GateFormat::Json => {
                let mut out = serde_json::to_string_pretty(&self.json()).unwrap_or_default();
                out.push('\n');
                out
            }
        }
    }

    /// `{"passed", "revision", "blockers": [{kind, subject, message, code, key, file,
    /// line}]}`, as `gate --format json` prints it and a bundle's `gate.json` holds it.
    pub fn json(&self) -> serde_json::Value {
        let blockers: Vec<serde_json::Value> = self
            .blockers
            .iter()
            .map(|b| {
                json!({
                    "kind": b.kind.as_str(),
                    "subject": b.subject,
                    "message": b.message,
                    "code": b.code,
                    "key": b.key,
                    "file": b.file,
                    "line": b.line,
                })
            })
            .collect();
        json!({
            "passed": self.passed(),
            "revision": self.revision,
            "blockers": blockers,
        })
    }

    fn text(&self) -> String {
        let mut out = String::new();
        let mut shown: Option<Kind> = None;
        for (n, b) in self.blockers.iter().enumerate() {
            if shown != Some(b.kind) {
                let count = self.blockers.iter().filter(|o| o.kind == b.kind).count();
                out.push_str(&format!("{} ({count}):\n", b.kind.heading()));
                shown = Some(b.kind);
            }
            let place = match (&b.file, b.line) {
                (Some(f), Some(l)) => format!("{f}:{l}: "),
                (Some(f), None) => format!("{f}: "),
                _ => String::new(),
            };
            let tag = match (&b.key, b.code) {
                (Some(key), _) => format!(" [allow-gaps key: {key}]"),
                (None, Some(code)) => format!(" [{code}]"),
                (None, None) => String::new(),
            };
            let line = format!("{:>3}. {place}{}{tag}", n + 1, b.message);
            out.push_str(&crate::terminal::safe_line(&line));
            out.push('\n');
        }
        match self.blockers.len() {
            0 => out.push_str("gate: passed\n"),
            1 => out.push_str("gate: 1 blocker\n"),
            n => out.push_str(&format!("gate: {n} blockers\n")),
        }
        out
    }
}

impl Blocker {
    /// A `check` finding that blocks as `kind`, at its place, with its code.
    fn of_diagnostic(project: &Project, kind: Kind, d: &Diagnostic) -> Blocker {
        let (file, line) = crate::documents::finding_place(project, d);
        Blocker {
            kind,
            subject: d.item.clone(),
            message: d.message.clone(),
            code: Some(d.code),
            key: None,
            file,
            line,
        }
    }
}

/// The gate of the project in `dir`: its work tree, or with `at` the commit or tag it
/// names (read from git objects as `export --at` reads it, dates as of the commit's
/// day unless `MDBOOK_QMS_TODAY` says otherwise).
pub fn run(dir: &Path, at: Option<&str>) -> Result<Gate, Failure> {
    let Some(rev) = at else {
        let (project, documents) =
            pipeline::load_with_documents(dir, ChapterSource::Disk, LoadOptions::default())
                .map_err(pipeline::unloadable)?;
        if let Some(message) = project.history.damage_error() {
            return Err(Failure::usage(message));
        }
        return Ok(evaluate(&project, &documents, None));
    };
    let repo = match Repo::open(dir) {
        Ok(repo) => repo,
        Err(OpenError::NotARepository) => {
            return Err(Failure::usage(format!(
                "--at {rev} needs a git repository, and {} is not in one",
                dir.display()
            )))
        }
        Err(OpenError::Other(m)) => {
            return Err(Failure::usage(format!(
                "the git repository could not be read: {m}"
            )))
        }
    };
    let commit = repo
        .resolve(rev)
        .map_err(|m| Failure::usage(format!("`{rev}` names no commit or tag: {m}")))?;
    let time = repo
        .commit(commit)
        .map_err(|m| Failure::usage(format!("cannot read commit: {m}")))?
        .time;
    let today = Day::today_override().unwrap_or_else(|| Timestamp::utc(time).day());
    let (project, documents, _scratch) = pipeline::load_commit(dir, &repo, commit, today)?;
    if let Some(message) = project.history.damage_error() {
        return Err(Failure::usage(message));
    }
    Ok(evaluate(&project, &documents, Some(commit.hex())))
}

/// Every blocker of a loaded project; `revision` is the commit it was read at. A new
/// kind of blocker is a variant of [`Kind`] and one more function extending the list.
pub(crate) fn evaluate(project: &Project, documents: &Documents, revision: Option<String>) -> Gate {
    let mut blockers = errors(project);
    blockers.extend(gaps(project, documents));
    blockers.extend(unverified_controls(project));
    blockers.extend(exploited(project));
    blockers.extend(required_approvals(project));
    blockers.extend(release_approvals(project, revision.as_deref()));
    // Grouped by kind for the report; a stable sort keeps each kind's own order.
    blockers.sort_by_key(|b| b.kind);
    Gate { revision, blockers }
}

/// Every error diagnostic, in file order.
fn errors(project: &Project) -> Vec<Blocker> {
    let mut errors: Vec<&Diagnostic> = project
        .diagnostics
        .0
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    errors.sort_by_key(|d| crate::documents::finding_place(project, d));
    errors
        .into_iter()
        .map(|d| Blocker::of_diagnostic(project, Kind::Error, d))
        .collect()
}

/// The findings about a test's results: the verification blockers judge them, and an
/// anomaly item that names the test covers them.
const TEST_RESULT_CODES: &[&str] = &[
    code::TEST_FAILED,
    code::TEST_SKIPPED,
    code::TEST_RESULT_MISSING,
    code::TEST_RESULT_STALE,
];

/// The entries of `mdbook-qms gaps` that `allow-gaps` does not let through, nor an
/// anomaly item (for a test's results). A template that fails is a gap of its
/// document: nothing it would say can be checked.
fn gaps(project: &Project, documents: &Documents) -> Vec<Blocker> {
    let allowed = |key: &str| {
        project
            .config
            .gate_allow_gaps
            .iter()
            .any(|p| crate::evidence::wildcard(p.as_bytes(), key.as_bytes()))
    };
    let todos = match documents.todo(project) {
        Ok(todos) => todos,
        Err(e) => {
            return vec![Blocker {
                kind: Kind::Gap,
                subject: e.template.clone(),
                message: format!("a document's template fails: {e}"),
                code: Some(e.code),
                key: None,
                file: e.file.as_deref().map(crate::source::display_path),
                line: e.line,
            }]
        }
    };
    todos
        .into_iter()
        .filter_map(|t| {
            let key = t.key();
            let covered = t.code.is_some_and(|c| TEST_RESULT_CODES.contains(&c))
                && t.item
                    .as_deref()
                    .is_some_and(|id| anomaly_naming(project, id).is_some());
            if allowed(&key) || covered {
                return None;
            }
            let document = t.shown_in.first().map(|(d, _)| d.clone());
            Some(Blocker {
                kind: Kind::Gap,
                subject: t.item.or(document),
                message: t.message,
                code: t.code,
                key: Some(key),
                file: t.file,
                line: t.line,
            })
        })
        .collect()
}

/// Every live control that tests verify, some of which are not passing and current,
/// unless an anomaly item names the test or the control. (A control no test verifies
/// is a gap, `control-untested`.)
fn unverified_controls(project: &Project) -> Vec<Blocker> {
    let mut out = Vec::new();
    for (i, control) in project.items.iter().enumerate() {
        if control.ty != "control" || !project.is_primary(i) || control.status() == "obsolete" {
            continue;
        }
        if anomaly_naming(project, &control.id).is_some() {
            continue;
        }
        let mut why: Vec<String> = Vec::new();
        for t in crate::risk::checks::inc(project, i, "verifies", "test") {
            let test = &project.items[t];
            if anomaly_naming(project, &test.id).is_some() {
                continue;
            }
            match project.evidence.verification(&test.id) {
                Some(v) if v.status == Status::Passed => {}
                Some(v) => why.push(format!("{} {}: {}", test.id, v.status.as_str(), v.detail)),
                None => why.push(format!("{} has no test result", test.id)),
            }
        }
        if why.is_empty() {
            continue;
        }
        let (file, line) = item_place(project, i);
        out.push(Blocker {
            kind: Kind::Verification,
            subject: Some(control.id.clone()),
            message: format!(
                "{} is not verified by passing, current tests ({}), and no anomaly item names it",
                control.id,
                why.join("; ")
            ),
            code: None,
            key: None,
            file,
            line,
        });
    }
    out
}

/// Every live vulnerability item that is known exploited and neither `fixed` nor
/// `not_affected`.
fn exploited(project: &Project) -> Vec<Blocker> {
    let mut out = Vec::new();
    for (i, item) in project.items.iter().enumerate() {
        if item.ty != "vulnerability" || !project.is_primary(i) {
            continue;
        }
        let Some(kev) = known_exploited(&project.traces, item) else {
            continue;
        };
        let status = item.text("status");
        if matches!(status, Some("fixed" | "not_affected")) {
            continue;
        }
        let (file, line) = item_place(project, i);
        out.push(Blocker {
            kind: Kind::KnownExploited,
            subject: Some(item.id.clone()),
            message: format!(
                "{} {} and its status is {}, not fixed or not_affected",
                item.id,
                kev.why(),
                status.unwrap_or("missing")
            ),
            code: None,
            key: None,
            file,
            line,
        });
    }
    out
}

/// Every required approval of an item or document that `check` reports missing or
/// outdated (`approval-required-missing`, a warning there: it blocks only a release).
fn required_approvals(project: &Project) -> Vec<Blocker> {
    project
        .diagnostics
        .0
        .iter()
        .filter(|d| d.code == code::APPROVAL_REQUIRED_MISSING && d.severity != Severity::Error)
        .map(|d| Blocker::of_diagnostic(project, Kind::Approval, d))
        .collect()
}

/// Every role of a `release = true` requirement that no verified record approves: a
/// record whose `Approved:` names `release`, with the required meaning, signed by a
/// member of the role, over the same tree as the judged commit (`revision`, else HEAD
/// with a clean work tree). Item and document requirements are `check` errors
/// (`approval-required-missing`), so they block as errors.
fn release_approvals(project: &Project, revision: Option<&str>) -> Vec<Blocker> {
    let required: Vec<&Required> = project
        .config
        .approvals
        .required
        .iter()
        .filter(|r| r.subject == Subject::Release)
        .collect();
    if required.is_empty() {
        return Vec::new();
    }
    let (tree, why_none) = judged_tree(project, revision);
    let mut out = Vec::new();
    for req in required {
        for role in &req.roles {
            let approved = project.approvals.records.iter().any(|r| {
                r.release
                    && r.is_verified()
                    && r.meaning.as_deref() == Some(req.meaning.as_str())
                    && r.roles.contains(role)
                    && tree.as_deref() == Some(r.tree.as_str())
            });
            if approved {
                continue;
            }
            let (file, line) = crate::documents::span_place(project, req.span);
            out.push(Blocker {
                kind: Kind::Approval,
                subject: Some(role.clone()),
                message: format!(
                    "the release needs a signed `{}` approval by a member of {role} of this content (`mdbook-qms approve release --meaning {}`){}",
                    req.meaning, req.meaning, why_none
                ),
                code: None,
                key: None,
                file,
                line,
            });
        }
    }
    out
}

/// The tree id of the judged content, or why there is none to approve.
fn judged_tree(project: &Project, revision: Option<&str>) -> (Option<String>, String) {
    // A project read at a commit lives in a scratch folder: its revision names the
    // repository it came from.
    let repo = match Repo::open_at(&project.config.root, &project.revision) {
        Ok(repo) => repo,
        Err(OpenError::NotARepository) => {
            return (
                None,
                "; the project is not in git, so no record can cover it".into(),
            )
        }
        Err(OpenError::Other(m)) => {
            return (None, format!("; the git repository could not be read: {m}"))
        }
    };
    let commit = match revision {
        Some(rev) => repo.resolve(rev).ok(),
        None => {
            if !matches!(repo.dirty_paths(|_| false), Ok(d) if d.is_empty()) {
                let why =
                    "; the work tree differs from HEAD, and a record covers committed content only";
                return (None, why.into());
            }
            repo.head().ok().flatten()
        }
    };
    let tree = commit
        .and_then(|c| repo.commit(c).ok())
        .map(|m| m.tree.hex());
    (tree, String::new())
}

/// Where an item is defined: its file and the line of its id.
fn item_place(project: &Project, i: usize) -> (Option<String>, Option<usize>) {
    crate::documents::span_place(project, project.items[i].span_of("id"))
}
