//! Stage 5, evidence: test results, SBOMs and vulnerability records under `trace/`.
//!
//! Runs in two steps. [`load`] runs before validation: it reads every evidence file and
//! turns SBOM components that no component item stands for into synthesized component
//! items (homed in the SBOM file), so that links naming their purl resolve like any
//! other. [`assess`] runs after linking: it gives each test item its verification
//! status from the JUnit results (and git history, for staleness), checks components
//! for the NTIA minimum elements and support data, matches OSV records to components
//! and checks that every match has a VEX assessment.

pub mod junit;
pub mod metrics;
pub mod osv;
pub mod places;
pub mod render;
pub mod sbom;
pub mod sbom_out;
pub mod version;
pub mod vex;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value as J;

use crate::config::Config;
use crate::diag::{code, Diagnostic, Diagnostics};
use crate::history::git::Repo;
use crate::model::RawItem;
use crate::project::Project;
use crate::source::{display_path, FileId, SourceMap, Span};

pub use junit::{Outcome, TestCase};

/// A test item's verification status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    Skipped,
    Missing,
    Stale,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Missing => "missing",
            Status::Stale => "stale",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Verification {
    pub status: Status,
    /// Indexes into [`Evidence::cases`].
    pub cases: Vec<usize>,
    /// Why: the failing case, the unmatched names, the change that made it stale.
    pub detail: String,
}

/// An OSV record that affects a component item.
#[derive(Debug, Clone)]
pub struct VulnMatch {
    /// Index into [`Evidence::osv`].
    pub record: usize,
    /// The component item.
    pub component: usize,
    pub version: String,
    /// The vulnerability items that assess it.
    pub assessed_by: Vec<usize>,
}

#[derive(Debug, Default)]
pub struct Evidence {
    pub junit_files: Vec<FileId>,
    pub cases: Vec<TestCase>,
    pub sboms: Vec<sbom::Sbom>,
    pub osv: Vec<osv::Record>,
    /// CVE ids of the CISA KEV catalogue, when one was read.
    pub kev: Option<BTreeSet<String>>,
    pub kev_file: Option<FileId>,
    /// By test item id; empty when the project has no test results at all.
    pub verification: HashMap<String, Verification>,
    pub matches: Vec<VulnMatch>,
    /// The SBOM entries of each component item, as (SBOM, component) indexes, so that
    /// looking up one item's entries does not walk every SBOM.
    by_item: HashMap<String, Vec<(usize, usize)>>,
}

impl Evidence {
    pub fn verification(&self, id: &str) -> Option<&Verification> {
        self.verification.get(id)
    }

    /// The SBOM entries that stand for a component item.
    pub fn sbom_components<'a>(
        &'a self,
        id: &str,
    ) -> impl Iterator<Item = &'a sbom::Component> + 'a {
        self.sbom_entries(id).map(|(_, c)| c)
    }

    /// [`Evidence::sbom_components`] with the index of each entry's SBOM.
    pub fn sbom_entries<'a>(
        &'a self,
        id: &str,
    ) -> impl Iterator<Item = (usize, &'a sbom::Component)> + 'a {
        self.by_item
            .get(id)
            .into_iter()
            .flatten()
            .map(|&(s, c)| (s, &self.sboms[s].components[c]))
    }

    /// Whether the component item was synthesized from an SBOM entry.
    pub fn is_synthesized(&self, id: &str) -> bool {
        self.sbom_components(id).any(|c| c.synthesized)
    }
}

/// Whether `path` (with `/` separators) matches `pattern`: `*` and `?` stay inside one
/// path segment, `**` spans segments (`**/` also matches no folder at all).
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], t: &[u8], slash: bool) -> bool {
        if p.is_empty() {
            return t.is_empty();
        }
        if p.starts_with(b"**") && slash {
            let rest = &p[2..];
            let rest_after_slash = rest.strip_prefix(b"/").unwrap_or(rest);
            if go(rest_after_slash, t, slash) {
                return true;
            }
            return (0..t.len()).any(|i| t[i] == b'/' && go(rest_after_slash, &t[i + 1..], slash))
                || (rest.is_empty());
        }
        match p[0] {
            b'*' => (0..=t.len())
                .take_while(|&i| i == 0 || !slash || t[i - 1] != b'/')
                .any(|i| go(&p[1..], &t[i..], slash)),
            b'?' => !t.is_empty() && (!slash || t[0] != b'/') && go(&p[1..], &t[1..], slash),
            c => !t.is_empty() && t[0] == c && go(&p[1..], &t[1..], slash),
        }
    }
    go(pattern.as_bytes(), path.as_bytes(), true)
}

/// Whether a test case name matches an evidence name or pattern (`*` matches anything).
/// The name may be a suffix of the case's full name that starts after `::`, `.` or
/// `/`: `check_cli::bad_directives` names `mdbook-qms::check_cli::bad_directives`.
pub fn evidence_match(pattern: &str, full: &str) -> bool {
    fn wild(p: &[u8], t: &[u8]) -> bool {
        // Iterative wildcard matching with backtracking to the last `*`.
        let (mut pi, mut ti) = (0, 0);
        let (mut star, mut mark) = (None, 0);
        while ti < t.len() {
            if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
                pi += 1;
                ti += 1;
            } else if pi < p.len() && p[pi] == b'*' {
                star = Some(pi);
                mark = ti;
                pi += 1;
            } else if let Some(s) = star {
                pi = s + 1;
                mark += 1;
                ti = mark;
            } else {
                return false;
            }
        }
        p[pi..].iter().all(|&c| c == b'*')
    }
    let t = full.as_bytes();
    let p = pattern.as_bytes();
    if wild(p, t) {
        return true;
    }
    (1..t.len()).any(|i| {
        let boundary = (t[i - 1] == b'.' || t[i - 1] == b'/') || (i >= 2 && &t[i - 2..i] == b"::");
        boundary && wild(p, &t[i..])
    })
}

/// Every file under the trace folder, relative to it, sorted, by the rule every reader
/// follows (`project_files`); links that are not read are reported.
fn trace_files(config: &Config, sources: &mut SourceMap, diags: &mut Diagnostics) -> Vec<PathBuf> {
    let listing = crate::project_files::ProjectFiles::new(&config.root).list(
        [config.trace.as_path()],
        crate::project_files::Depth::Deep,
        |_| true,
        code::EVIDENCE_OUTSIDE,
    );
    crate::project_files::report(listing.unread, sources, diags);
    listing
        .files
        .into_iter()
        .filter_map(|p| p.strip_prefix(&config.trace).ok().map(Path::to_path_buf))
        .collect()
}

/// Reads the evidence files and returns the component items synthesized from SBOMs.
pub fn load(
    config: &Config,
    sources: &mut SourceMap,
    raw: &[RawItem],
    diags: &mut Diagnostics,
) -> (Evidence, Vec<RawItem>) {
    let mut ev = Evidence::default();
    let files = trace_files(config, sources, diags);
    let cfg = &config.evidence;
    let (mut junit, mut sboms, mut osvs, mut kev) = (Vec::new(), Vec::new(), Vec::new(), None);
    for rel in files {
        let s = display_path(&rel);
        if rel == cfg.kev {
            kev = Some(rel);
        } else if rel.starts_with(&cfg.osv) {
            if s.ends_with(".json") {
                osvs.push(rel);
            }
        } else if cfg.sbom.iter().any(|g| glob_match(g, &s)) {
            sboms.push(rel);
        } else if cfg.junit.iter().any(|g| glob_match(g, &s)) {
            junit.push(rel);
        }
    }
    let read =
        |list: Vec<PathBuf>, sources: &mut SourceMap, diags: &mut Diagnostics| -> Vec<FileId> {
            let paths: Vec<PathBuf> = list.into_iter().map(|r| config.trace.join(r)).collect();
            let before = diags.0.len();
            let ids = crate::load::read_files(&config.root, paths, sources, diags);
            // read_files keeps unreadable files known; only parse the good ones.
            let bad: Vec<FileId> = diags.0[before..]
                .iter()
                .filter_map(|d| match d.location {
                    crate::diag::Location::Span(s) => Some(s.file),
                    crate::diag::Location::File(f) => Some(f),
                    crate::diag::Location::None => None,
                })
                .collect();
            ids.into_iter().filter(|id| !bad.contains(id)).collect()
        };
    let junit_ids = read(junit, sources, diags);
    for &file in &junit_ids {
        match junit::parse(file, sources.get(file)) {
            Ok(cases) => ev.cases.extend(cases),
            Err(d) => diags.push(d),
        }
    }
    ev.junit_files = junit_ids;
    let sbom_ids = read(sboms, sources, diags);
    let mut ds = Vec::new();
    for file in sbom_ids {
        if let Some(s) = sbom::parse(file, sources.get(file), &mut ds) {
            ev.sboms.push(s);
        }
    }
    for file in read(osvs, sources, diags) {
        if let Some(r) = osv::parse(file, sources.get(file), &mut ds) {
            ev.osv.push(r);
        }
    }
    if let Some(rel) = kev {
        if let Some(&file) = read(vec![rel], sources, diags).first() {
            ev.kev_file = Some(file);
            match read_kev(file, sources) {
                Ok(set) => ev.kev = Some(set),
                Err(d) => ds.push(d),
            }
        }
    }
    diags.extend(ds);
    let mut known = sbom::KnownItems::of(raw);
    let synthesized = sbom::merge(&mut ev.sboms, &mut known);
    for (s, sbom) in ev.sboms.iter().enumerate() {
        for (c, component) in sbom.components.iter().enumerate() {
            if let Some(id) = &component.item {
                ev.by_item.entry(id.clone()).or_default().push((s, c));
            }
        }
    }
    (ev, synthesized)
}

/// The CVE ids of a CISA KEV catalogue (`known_exploited_vulnerabilities.json`).
// A `Diagnostic` is the error; it is built only on failure, so boxing it buys nothing.
#[allow(clippy::result_large_err)]
fn read_kev(file: FileId, sources: &SourceMap) -> Result<BTreeSet<String>, Diagnostic> {
    let source = sources.get(file);
    let json = sbom::parse_json(file, source, code::KEV_INVALID)?;
    let list = json.get("vulnerabilities").and_then(J::as_array).ok_or_else(|| {
        Diagnostic::new(code::KEV_INVALID, format!("{}: not a KEV catalogue: no `vulnerabilities` list", display_path(&source.path)))
            .in_file(file)
            .help("download the catalogue as JSON from https://www.cisa.gov/known-exploited-vulnerabilities-catalog")
    })?;
    Ok(list
        .iter()
        .filter_map(|v| v.get("cveID").and_then(J::as_str))
        .map(str::to_ascii_uppercase)
        .collect())
}

/// Runs the evidence checks on a linked project and stores the results in it.
pub fn assess(project: &mut Project) {
    let mut ev = std::mem::take(&mut project.evidence);
    let mut ds = Vec::new();
    verify_tests(project, &mut ev, &mut ds);
    // The checks below read the merged component data through `project.evidence`.
    project.evidence = ev;
    check_components(project, &project.evidence, &mut ds);
    project.evidence.matches = vex::check(project, &mut ds);
    project.diagnostics.extend(ds);
}

fn is_primary(project: &Project, i: usize) -> bool {
    project.graph.get(&project.items[i].id) == Some(i)
}

fn strings(v: Option<&J>) -> Vec<String> {
    match v {
        Some(J::String(s)) => vec![s.clone()],
        Some(J::Array(l)) => l.iter().filter_map(J::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// Verification status of every test item, from the matched JUnit cases.
fn verify_tests(project: &Project, ev: &mut Evidence, ds: &mut Vec<Diagnostic>) {
    // Without any result there is nothing to compare with: no statuses, no warnings.
    if ev.cases.is_empty() {
        return;
    }
    let names: Vec<Vec<String>> = ev.cases.iter().map(TestCase::full_names).collect();
    let mut used = vec![false; ev.cases.len()];
    let history = project.history.is_available().then_some(&project.history);
    let repo = history.and_then(|_| Repo::open_at(&project.config.root, &project.revision).ok());
    let committed: HashMap<FileId, Option<i64>> = match &repo {
        Some(repo) => ev
            .junit_files
            .iter()
            .map(|&f| (f, repo.last_commit_time(&project.sources.get(f).path)))
            .collect(),
        None => HashMap::new(),
    };
    for (i, item) in project.items.iter().enumerate() {
        if item.ty != "test" || !is_primary(project, i) {
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
        ev.verification.insert(
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
}

/// Why the result of a passing test item is stale: the test item, or an item it
/// verifies, changed (committed) after its results. A result counts from when it ran
/// (the JUnit `timestamp`) or from when its file was last committed, whichever is
/// later: committing a result file records it as the evidence at that commit.
fn stale_reason(
    project: &Project,
    test: usize,
    cases: &[usize],
    ev: &Evidence,
    history: Option<&crate::history::History>,
    committed: &HashMap<FileId, Option<i64>>,
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
        .collect::<Option<Vec<i64>>>()?
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
    let mut worst: Option<(i64, String)> = None;
    for i in ids {
        let id = &project.items[i].id;
        if let Some(c) = history.last_changed(id) {
            if c.time > ran && worst.as_ref().is_none_or(|(t, _)| c.time > *t) {
                worst = Some((
                    c.time,
                    format!(
                        "{id} changed on {} ({}) after the results of {}",
                        c.day(),
                        c.short,
                        crate::date::format_days(ran.div_euclid(86_400))
                    ),
                ));
            }
        }
    }
    worst.map(|(_, s)| s)
}

/// A component item's fields, filled in from the SBOM entries that stand for it.
#[derive(Debug, Clone, Default)]
pub struct ComponentView {
    pub name: Option<String>,
    pub version: Option<String>,
    pub supplier: Option<String>,
    pub purl: Option<String>,
    pub cpe: Option<String>,
    pub license: Option<String>,
    pub support: Option<String>,
    pub end_of_support: Option<String>,
    pub kind: Option<String>,
    pub bom_ref: Option<String>,
}

pub fn component_view(project: &Project, i: usize) -> ComponentView {
    let item = &project.items[i];
    let f = |k: &str| item.text(k).map(str::to_owned);
    let mut v = ComponentView {
        name: f("name"),
        version: f("version"),
        supplier: f("supplier"),
        purl: f("purl"),
        cpe: None,
        license: f("license"),
        support: f("support"),
        end_of_support: f("end_of_support"),
        kind: None,
        bom_ref: None,
    };
    for c in project.evidence.sbom_components(&item.id) {
        let fill = |slot: &mut Option<String>, from: &Option<String>| {
            if slot.is_none() {
                slot.clone_from(from);
            }
        };
        fill(&mut v.name, &c.name);
        fill(&mut v.version, &c.version);
        fill(&mut v.supplier, &c.supplier);
        fill(&mut v.purl, &c.purl);
        fill(&mut v.cpe, &c.cpe);
        fill(&mut v.license, &c.license);
        fill(&mut v.support, &c.support);
        fill(&mut v.end_of_support, &c.end_of_support);
        fill(&mut v.kind, &c.kind);
        if v.bom_ref.is_none() {
            v.bom_ref = Some(c.bom_ref.clone());
        }
    }
    if v.name.is_none() {
        v.name = Some(item.title.clone());
    }
    v
}

/// NTIA minimum elements of each SBOM, and support data of every component.
fn check_components(project: &Project, ev: &Evidence, ds: &mut Vec<Diagnostic>) {
    let today = crate::date::parse(&project.today).unwrap_or(i64::MAX);
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
                .map(|i| component_view(project, i));
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
                    .filter(|e| crate::date::parse(e).is_some_and(|d| d < today))
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
        if item.ty != "component" || !is_primary(project, i) {
            continue;
        }
        if ev.is_synthesized(&item.id) {
            continue;
        }
        let v = component_view(project, i);
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
            if crate::date::parse(eos).is_some_and(|d| d < today) {
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

/// The span of a JSON key's value in an evidence file, for diagnostics.
pub(crate) fn span_in(project: &Project, file: FileId, key: &str, value: &str) -> Span {
    let text = &project.sources.get(file).text;
    let at = sbom::locate(text, key, value).unwrap_or(0);
    Span {
        file,
        start: at,
        end: (at + 1).min(text.len()),
    }
}

/// The time of the commit the project was read at (`SOURCE_DATE_EPOCH` when set), as
/// RFC 3339, for output timestamps that stay the same for the same commit.
pub fn commit_time(project: &Project) -> Option<String> {
    commit_secs(project).map(rfc3339)
}

/// [`commit_time`] as seconds since the epoch.
pub fn commit_secs(project: &Project) -> Option<i64> {
    if let Some(secs) = source_date_epoch() {
        return Some(secs);
    }
    let repo = Repo::open_at(&project.config.root, &project.revision).ok()?;
    let head = repo.head().ok()??;
    Some(repo.commit(head).ok()?.time)
}

/// `SOURCE_DATE_EPOCH`, the reproducible-builds convention for "now" in outputs.
pub fn source_date_epoch() -> Option<i64> {
    std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()
}

pub fn rfc3339(secs: i64) -> String {
    let rem = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        crate::date::format_days(secs.div_euclid(86_400)),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
