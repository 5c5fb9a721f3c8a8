//! Evidence: test results, SBOMs and vulnerability records under `trace/`.
//!
//! Runs in two steps. `load` (this module and its readers) runs before validation: it
//! reads every evidence file into [`Traces`] and turns SBOM components that no component
//! item stands for into synthesized component items (homed in the SBOM file), so that
//! links naming their purl resolve like any other. [`assess`] is an analysis stage that
//! runs after linking: it gives each test item its verification status from the JUnit
//! results (and git history, for staleness), checks components for the NTIA minimum
//! elements and support data, matches OSV records to components (`vex`) and checks that
//! every match has a VEX assessment. `consistency` runs after it: facts written in two
//! places (items and evidence) must agree.

pub mod assess;
pub(crate) mod consistency;
pub mod junit;
pub mod metrics;
pub mod osv;
pub(crate) mod places;
pub mod sbom;
pub(crate) mod testing;
pub mod version;
pub(crate) mod vex;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value as J;

use crate::config::Config;
use crate::diag::{code, Diagnostic, Diagnostics};
use crate::model::{Item, RawItem};
use crate::source::{display_path, FileId, SourceMap, Span};
use junit::TestCase;

/// What the files under `trace/` hold, read before validation.
#[derive(Debug, Default)]
pub struct Traces {
    pub(crate) junit_files: Vec<FileId>,
    pub(crate) cases: Vec<TestCase>,
    /// The SBOM files under `trace/` (the configured `sbom` patterns), in path order.
    pub sboms: Vec<sbom::Sbom>,
    pub(crate) osv: Vec<osv::Record>,
    /// CVE ids of the CISA KEV catalogue, when one was read.
    pub(crate) kev: Option<BTreeSet<String>>,
    pub(crate) kev_file: Option<FileId>,
    /// The catalogue's `dateReleased` (its day) or else its `catalogVersion`.
    pub(crate) kev_date: Option<String>,
    /// The SBOM entries of each component item, as (SBOM, component) indexes, so that
    /// looking up one item's entries does not walk every SBOM.
    by_item: HashMap<String, Vec<(usize, usize)>>,
}

impl Traces {
    /// The SBOM entries that stand for a component item.
    pub(crate) fn sbom_components<'a>(
        &'a self,
        id: &str,
    ) -> impl Iterator<Item = &'a sbom::Component> + 'a {
        self.sbom_entries(id).map(|(_, c)| c)
    }

    /// [`Traces::sbom_components`] with the index of each entry's SBOM.
    pub(crate) fn sbom_entries<'a>(
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
    pub(crate) fn is_synthesized(&self, id: &str) -> bool {
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

/// Whether `text` matches `pattern`, where `*` matches any run of characters (`/`
/// included) and `?` any one byte.
pub(crate) fn wildcard(p: &[u8], t: &[u8]) -> bool {
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

/// Whether a test case name matches an evidence name or pattern (`*` matches anything).
/// The name may be a suffix of the case's full name that starts after `::`, `.` or
/// `/`: `check_cli::bad_directives` names `mdbook-qms::check_cli::bad_directives`.
pub fn evidence_match(pattern: &str, full: &str) -> bool {
    let t = full.as_bytes();
    let p = pattern.as_bytes();
    if wildcard(p, t) {
        return true;
    }
    (1..t.len()).any(|i| {
        let boundary = (t[i - 1] == b'.' || t[i - 1] == b'/') || (i >= 2 && &t[i - 2..i] == b"::");
        boundary && wildcard(p, &t[i..])
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
pub(crate) fn load(
    config: &Config,
    sources: &mut SourceMap,
    raw: &[RawItem],
    diags: &mut Diagnostics,
) -> (Traces, Vec<RawItem>) {
    let mut ev = Traces::default();
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
                Ok((set, date)) => {
                    ev.kev = Some(set);
                    ev.kev_date = date;
                }
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

/// The CVE ids of a CISA KEV catalogue (`known_exploited_vulnerabilities.json`), and its
/// date: the day of `dateReleased`, else `catalogVersion`.
// A `Diagnostic` is the error; it is built only on failure, so boxing it buys nothing.
#[allow(clippy::result_large_err)]
fn read_kev(
    file: FileId,
    sources: &SourceMap,
) -> Result<(BTreeSet<String>, Option<String>), Diagnostic> {
    let source = sources.get(file);
    let json = sbom::parse_json(file, source, code::KEV_INVALID)?;
    let list = json.get("vulnerabilities").and_then(J::as_array).ok_or_else(|| {
        Diagnostic::new(code::KEV_INVALID, format!("{}: not a KEV catalogue: no `vulnerabilities` list", display_path(&source.path)))
            .in_file(file)
            .help("download the catalogue as JSON from https://www.cisa.gov/known-exploited-vulnerabilities-catalog")
    })?;
    let text = |k: &str| json.get(k).and_then(J::as_str);
    let date = text("dateReleased")
        .map(|d| d.get(..10).unwrap_or(d))
        .or_else(|| text("catalogVersion"))
        .map(str::to_owned);
    let ids = list
        .iter()
        .filter_map(|v| v.get("cveID").and_then(J::as_str))
        .map(str::to_ascii_uppercase)
        .collect();
    Ok((ids, date))
}

/// A component item's fields, filled in from the SBOM entries that stand for it.
#[derive(Debug, Clone, Default)]
pub struct ComponentView {
    pub(crate) name: Option<String>,
    pub(crate) version: Option<String>,
    /// Who supplies the component.
    pub supplier: Option<String>,
    pub(crate) purl: Option<String>,
    pub(crate) cpe: Option<String>,
    /// The license expression.
    pub license: Option<String>,
    /// The support level the supplier gives.
    pub support: Option<String>,
    /// The last day of support, as written (`YYYY-MM-DD`).
    pub end_of_support: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) bom_ref: Option<String>,
}

impl Traces {
    /// A component item's fields, filled in from the SBOM entries that stand for it.
    pub fn component_view(&self, item: &Item) -> ComponentView {
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
        for c in self.sbom_components(&item.id) {
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
}

/// The span of a JSON key's value in an evidence file, for diagnostics.
pub(crate) fn span_in(sources: &SourceMap, file: FileId, key: &str, value: &str) -> Span {
    let text = &sources.get(file).text;
    let at = sbom::locate(text, key, value).unwrap_or(0);
    Span {
        file,
        start: at,
        end: (at + 1).min(text.len()),
    }
}
