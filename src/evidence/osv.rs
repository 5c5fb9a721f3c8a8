//! OSV vulnerability records (<https://ossf.github.io/osv-schema/>), read offline from a
//! folder, and matched to components by purl or ecosystem and name, and version.
//!
//! Range rules follow the OSV spec: events sorted by version, `introduced` opens an
//! affected interval, `fixed` closes it before that version, `last_affected` after it;
//! `limit` only bounds GIT ranges and is ignored here. GIT ranges (commit hashes) cannot
//! be evaluated without the repository, so such packages match through their
//! `versions` list only.

use std::cmp::Ordering;

use serde_json::Value as J;

use super::sbom::{parse_json, purl_base, purl_version};
use super::version::{self, Scheme};
use crate::diag::{code, Diagnostic};
use crate::source::{display_path, FileId, SourceFile, Span};

/// One OSV vulnerability record from `trace/` (the configured `osv` folder).
#[derive(Debug, Clone)]
pub struct Record {
    pub(crate) file: FileId,
    pub(crate) id: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) summary: Option<String>,
    /// The packages it affects.
    pub affected: Vec<Affected>,
}

impl Record {
    /// The record's id and aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// One affected package of a record, and which of its versions are affected.
#[derive(Debug, Clone)]
pub struct Affected {
    pub(crate) ecosystem: String,
    pub(crate) name: String,
    pub(crate) purl: Option<String>,
    pub(crate) ranges: Vec<Range>,
    pub(crate) versions: Vec<String>,
    /// How versions of this package compare; `None` for ecosystems we cannot order.
    pub(crate) scheme: Option<Scheme>,
}

#[derive(Debug, Clone)]
pub(crate) struct Range {
    pub(crate) kind: String,
    pub(crate) events: Vec<(EventKind, String)>,
}

/// An OSV range event: where an affected version range starts or ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// Versions from this one on are affected.
    Introduced,
    /// Versions from this one on are not affected.
    Fixed,
    /// The last affected version; later ones are not.
    LastAffected,
    /// An upper bound on where to look for the other events; matching does not need it.
    Limit,
}

fn s(v: Option<&J>) -> Option<String> {
    v.and_then(J::as_str).map(str::to_owned)
}

/// Reads one OSV record. A file that is not an OSV record is one error; problems inside
/// an `affected` entry are reported and that entry is skipped.
pub fn parse(file: FileId, source: &SourceFile, diags: &mut Vec<Diagnostic>) -> Option<Record> {
    let text = &source.text;
    let path = display_path(&source.path);
    let json = match parse_json(file, source, code::OSV_INVALID) {
        Ok(j) => j,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let at = |key: &str, value: &str| {
        let a = super::sbom::locate(text, key, value).unwrap_or(0);
        Span {
            file,
            start: a,
            end: (a + 1).min(text.len()),
        }
    };
    let Some(id) = s(json.get("id")) else {
        diags.push(
            Diagnostic::new(code::OSV_INVALID, format!("{path}: not an OSV record: no `id`"))
                .in_file(file)
                .help("OSV records are JSON objects with `id`, `modified` and `affected` (https://ossf.github.io/osv-schema/)"),
        );
        return None;
    };
    let mut affected = Vec::new();
    for a in json
        .get("affected")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
    {
        let pkg = a.get("package");
        let ecosystem = s(pkg.and_then(|p| p.get("ecosystem"))).unwrap_or_default();
        let name = s(pkg.and_then(|p| p.get("name"))).unwrap_or_default();
        let purl = s(pkg.and_then(|p| p.get("purl")));
        if (ecosystem.is_empty() || name.is_empty()) && purl.is_none() {
            diags.push(Diagnostic::new(code::OSV_INVALID, format!("{path}: an `affected` entry of {id} names no package (ecosystem and name, or purl)")).at(at("id", &id)));
            continue;
        }
        let base = ecosystem.split(':').next().unwrap_or("").to_owned();
        let scheme = version::scheme_of(&base);
        let mut ranges = Vec::new();
        let mut bad = false;
        for r in a.get("ranges").and_then(J::as_array).into_iter().flatten() {
            let kind = s(r.get("type")).unwrap_or_default();
            let mut events = Vec::new();
            for e in r.get("events").and_then(J::as_array).into_iter().flatten() {
                let Some(obj) = e.as_object().filter(|o| o.len() == 1) else {
                    diags.push(Diagnostic::new(code::OSV_INVALID, format!("{path}: a range event of {id} must have exactly one of introduced, fixed, last_affected, limit")).at(at("id", &id)));
                    bad = true;
                    break;
                };
                let (k, v) = obj
                    .iter()
                    .next()
                    .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
                    .unwrap_or(("", ""));
                let kind_ev = match k {
                    "introduced" => EventKind::Introduced,
                    "fixed" => EventKind::Fixed,
                    "last_affected" => EventKind::LastAffected,
                    "limit" => EventKind::Limit,
                    other => {
                        diags.push(
                            Diagnostic::new(
                                code::OSV_INVALID,
                                format!("{path}: unknown range event `{other}` in {id}"),
                            )
                            .at(at(other, v)),
                        );
                        bad = true;
                        break;
                    }
                };
                if kind == "SEMVER"
                    && !(kind_ev == EventKind::Introduced && v == "0")
                    && version::parse_semver(v).is_none()
                {
                    diags.push(
                        Diagnostic::new(
                            code::OSV_INVALID,
                            format!(
                                "{path}: `{v}` in a SEMVER range of {id} is not a semantic version"
                            ),
                        )
                        .at(at(k, v)),
                    );
                    bad = true;
                    break;
                }
                events.push((kind_ev, v.to_owned()));
            }
            if bad {
                break;
            }
            match kind.as_str() {
                "SEMVER" | "ECOSYSTEM" | "GIT" => {}
                other => {
                    diags.push(
                        Diagnostic::new(
                            code::OSV_INVALID,
                            format!("{path}: unknown range type `{other}` in {id}"),
                        )
                        .at(at("type", other))
                        .help("OSV range types: SEMVER, ECOSYSTEM, GIT"),
                    );
                    bad = true;
                    break;
                }
            }
            if !events.iter().any(|(k, _)| *k == EventKind::Introduced) {
                diags.push(
                    Diagnostic::new(
                        code::OSV_INVALID,
                        format!("{path}: a range of {id} has no `introduced` event"),
                    )
                    .at(at("id", &id)),
                );
                bad = true;
                break;
            }
            ranges.push(Range { kind, events });
        }
        if bad {
            continue;
        }
        if scheme.is_none() && ranges.iter().any(|r| r.kind == "ECOSYSTEM") && base != "GIT" {
            diags.push(
                Diagnostic::new(code::OSV_UNKNOWN_ECOSYSTEM, format!("{path}: {id}: versions of ecosystem `{ecosystem}` cannot be ordered; only its `versions` list is matched"))
                    .at(at("ecosystem", &ecosystem))
                    .help(format!("ordered ecosystems: {}", version::KNOWN.join(", "))),
            );
        }
        let versions = a
            .get("versions")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| s(Some(v)))
            .collect();
        affected.push(Affected {
            ecosystem,
            name,
            purl,
            ranges,
            versions,
            scheme,
        });
    }
    Some(Record {
        file,
        id,
        aliases: json
            .get("aliases")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| s(Some(v)))
            .collect(),
        summary: s(json.get("summary")),
        affected,
    })
}

/// The OSV ecosystem and package name a purl stands for.
pub(crate) fn ecosystem_of(purl: &str) -> Option<(&'static str, String)> {
    let base = purl.strip_prefix("pkg:")?;
    let base = base.split(['?', '#', '@']).next()?;
    let (ty, rest) = base.split_once('/')?;
    let rest = super::sbom::percent_decode(rest);
    let eco = match ty {
        "cargo" => "crates.io",
        "npm" => "npm",
        "pypi" => "PyPI",
        "maven" => "Maven",
        "golang" => "Go",
        "gem" => "RubyGems",
        "nuget" => "NuGet",
        "hex" => "Hex",
        "pub" => "Pub",
        "composer" => "Packagist",
        "githubactions" => "GitHub Actions",
        _ => return None,
    };
    let name = match eco {
        "Maven" => rest.replacen('/', ":", 1),
        "PyPI" => rest.to_ascii_lowercase().replace(['_', '.'], "-"),
        _ => rest,
    };
    Some((eco, name))
}

/// Whether `affected` names the package of the component with this purl.
pub fn same_package(affected: &Affected, purl: &str) -> bool {
    if let Some(p) = &affected.purl {
        if purl_base(p) == purl_base(purl) {
            return true;
        }
    }
    match ecosystem_of(purl) {
        Some((eco, name)) => {
            let a_eco = affected.ecosystem.split(':').next().unwrap_or("");
            let a_name = if eco == "PyPI" {
                affected.name.to_ascii_lowercase().replace(['_', '.'], "-")
            } else {
                affected.name.clone()
            };
            a_eco == eco && a_name == name
        }
        None => false,
    }
}

/// The version of a component for matching: its purl's, else its `version` field.
pub fn component_version(purl: &str, version: Option<&str>) -> Option<String> {
    purl_version(purl).or_else(|| version.map(str::to_owned))
}

/// Whether `version` of the package is affected.
pub fn is_affected(affected: &Affected, version: &str) -> bool {
    let norm = |v: &str| v.strip_prefix('v').unwrap_or(v).to_owned();
    if affected
        .versions
        .iter()
        .any(|v| v == version || norm(v) == norm(version))
    {
        return true;
    }
    affected.ranges.iter().any(|r| {
        let scheme = match r.kind.as_str() {
            "SEMVER" => Scheme::Semver,
            "ECOSYSTEM" => match affected.scheme {
                Some(s) => s,
                None => return false,
            },
            _ => return false,
        };
        range_affects(scheme, &r.events, version)
    })
}

/// The OSV evaluation: sort events by version (`introduced: 0` first), then walk them.
pub fn range_affects(scheme: Scheme, events: &[(EventKind, String)], version: &str) -> bool {
    let cmp = |a: &str, b: &str| -> Option<Ordering> {
        if a == "0" && b == "0" {
            return Some(Ordering::Equal);
        }
        if a == "0" {
            return Some(Ordering::Less);
        }
        if b == "0" {
            return Some(Ordering::Greater);
        }
        version::compare(scheme, a, b)
    };
    if version::compare(scheme, version, version).is_none() {
        return false;
    }
    let mut sorted: Vec<&(EventKind, String)> = events
        .iter()
        .filter(|(k, _)| *k != EventKind::Limit)
        .collect();
    sorted.sort_by(|a, b| cmp(&a.1, &b.1).unwrap_or(Ordering::Equal));
    let mut affected = false;
    for (kind, v) in sorted {
        let Some(o) = cmp(version, v) else { continue };
        match kind {
            EventKind::Introduced if o != Ordering::Less => affected = true,
            EventKind::Fixed if o != Ordering::Less => affected = false,
            EventKind::LastAffected if o == Ordering::Greater => affected = false,
            _ => {}
        }
    }
    affected
}
