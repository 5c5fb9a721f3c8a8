//! Consistency checks across items and evidence: facts written in two places must
//! agree. The device's version against the SBOM, the test results and the builds
//! tests name, a vulnerability's CVSS against the risks that assess it, VEX status
//! against the vulnerability's dates and the plan's patch timelines, `kev` claims
//! against the KEV catalogue, and components past their end of support against their
//! assessment.

use super::vex::{cvss_score, names_of};
use crate::date::Day;
use crate::diag::{code, Diagnostic};
use crate::linked::Linked;
use crate::model::Item;
use crate::source::{display_path, FileId};

/// Runs every consistency check.
pub(crate) fn check(project: &Linked, ds: &mut Vec<Diagnostic>) {
    device_version(project, ds);
    vulnerability_risk_cvss(project, ds);
    vex_dates(project, ds);
    kev_claims(project, ds);
    unassessed_end_of_support(project, ds);
}

/// Whether a risk or vulnerability item links to the item `i` (assesses it).
pub(crate) fn assessed(project: &Linked, i: usize) -> bool {
    project
        .graph
        .inc(i)
        .any(|l| matches!(project.items[l.from].ty.as_str(), "risk" | "vulnerability"))
}

fn primary<'a>(project: &'a Linked, ty: &'a str) -> impl Iterator<Item = usize> + 'a {
    (0..project.items.len()).filter(move |&i| project.items[i].ty == ty && project.is_primary(i))
}

/// One part of a device version as written: `pump firmware 3.4` is the label words
/// `pump`, `firmware` and the version `3.4`.
#[derive(Debug, PartialEq)]
struct VersionPart {
    label: Vec<String>,
    version: String,
}

fn is_version_word(w: &str) -> bool {
    let w = w.strip_prefix(['v', 'V']).unwrap_or(w);
    w.starts_with(|c: char| c.is_ascii_digit())
}

/// The parts of a version text, separated by `,` or `;`; each part's version is its
/// first word that starts with a digit (or `v` and a digit), its label the words before.
fn version_parts(text: &str) -> Vec<VersionPart> {
    text.split([',', ';'])
        .filter_map(|part| {
            let words: Vec<&str> = part
                .split_whitespace()
                .map(|w| w.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
                .filter(|w| !w.is_empty())
                .collect();
            let at = words.iter().position(|w| is_version_word(w))?;
            Some(VersionPart {
                label: words[..at].iter().map(|w| w.to_ascii_lowercase()).collect(),
                version: words[at].to_owned(),
            })
        })
        .collect()
}

/// The numeric core of a version: without a leading `v`, a pre-release or build suffix
/// (`-rc4`, `+g1234`) and trailing `.0` parts.
fn version_core(v: &str) -> Vec<String> {
    let v = v.trim();
    let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
    let core = v.split(['-', '+', ' ']).next().unwrap_or(v);
    let mut parts: Vec<String> = core.split('.').map(str::to_ascii_lowercase).collect();
    while parts.len() > 1 && parts.last().is_some_and(|p| p.chars().all(|c| c == '0')) {
        parts.pop();
    }
    parts
}

/// Whether a device version text covers `version` of something named `context`: the
/// parts whose label words all occur in the context are compared (all parts when none
/// does), and a part covers a version when its core is the version's core or a prefix
/// of it (`3.4` covers `3.4.1`).
fn covers(parts: &[VersionPart], context: &str, version: &str) -> bool {
    let context = context.to_ascii_lowercase();
    let labelled: Vec<&VersionPart> = parts
        .iter()
        .filter(|p| !p.label.is_empty() && p.label.iter().all(|w| context.contains(w.as_str())))
        .collect();
    let candidates: Vec<&VersionPart> = if labelled.is_empty() {
        parts.iter().collect()
    } else {
        labelled
    };
    let wanted = version_core(version);
    candidates.iter().any(|p| {
        let core = version_core(&p.version);
        wanted.starts_with(&core)
    })
}

/// Whether a JUnit property records a build or version (`build`, `version`,
/// `firmware.version`, `sut_build`).
fn is_version_property(name: &str) -> bool {
    let last = name
        .rsplit(['.', ':', '_', '-'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    matches!(last.as_str(), "version" | "build")
}

/// The version a suite name records: the version word after `version`, `release`,
/// `build` or `candidate` (`release candidate 3.2.0-rc4`), or a `v` word (`v3.2.0`).
fn suite_version(name: &str) -> Option<&str> {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|w| !w.is_empty())
        .collect();
    words.iter().enumerate().find_map(|(n, w)| {
        let after_keyword = n > 0
            && matches!(
                words[n - 1].to_ascii_lowercase().as_str(),
                "version" | "release" | "build" | "candidate"
            );
        let v_word = w.len() > 1
            && w.starts_with(['v', 'V'])
            && w[1..].starts_with(|c: char| c.is_ascii_digit())
            && w.contains('.');
        ((after_keyword && is_version_word(w)) || v_word).then_some(*w)
    })
}

/// The device's `version` against the SBOM's top component, the versions recorded in
/// test results (suite names and `build`/`version` properties) and tests' `build`.
fn device_version(project: &Linked, ds: &mut Vec<Diagnostic>) {
    let Some(device) = primary(project, "device").next() else {
        return;
    };
    let item = &project.items[device];
    let Some(written) = item.text("version") else {
        return;
    };
    let parts = version_parts(written);
    if parts.is_empty() {
        return;
    }
    let ev = &project.traces;
    let mismatch = |what: String| {
        Diagnostic::new(
            code::DEVICE_VERSION_MISMATCH,
            format!("{what}, but {} says its version is `{written}`", item.id),
        )
        .item(&item.id)
        .related(item.span_of("version"), "the device's version")
    };
    for sbom in &ev.sboms {
        let Some(top) = sbom.top.map(|t| &sbom.components[t]) else {
            continue;
        };
        let Some(version) = top.version.as_deref() else {
            continue;
        };
        let name = top.name.as_deref().unwrap_or(&top.bom_ref);
        if covers(&parts, name, version) {
            continue;
        }
        let path = display_path(&project.sources.get(sbom.file).path);
        let d = mismatch(format!("{path} describes {name} {version}"))
            .help("make the device's `version` name the version the SBOM describes (each part of `pump firmware 3.2, app 3.2` is compared with the component whose name has its words), or regenerate the SBOM for the build being submitted");
        ds.push(match top.span {
            Some(s) => d.at(s),
            None => d.in_file(sbom.file),
        });
    }
    test_builds(project, item, written, &parts, ds);
    // One finding per result file and recorded version.
    let mut reported: Vec<(FileId, &str)> = Vec::new();
    for case in &ev.cases {
        // A version in a suite's name is of what that suite and the ones around it name;
        // a property's, of everything the case is in.
        let from_suites = case.suites.iter().enumerate().filter_map(|(k, s)| {
            suite_version(s).map(|v| (s.as_str(), v, case.suites[..=k].join(" ")))
        });
        let from_properties = case
            .properties
            .iter()
            .filter(|(n, _)| is_version_property(n))
            .map(|(n, v)| {
                let context = format!("{} {} {n}", case.suites.join(" "), case.classname);
                (n.as_str(), v.as_str(), context)
            });
        for (label, version, context) in from_suites.chain(from_properties) {
            if covers(&parts, &context, version) || reported.contains(&(case.file, version)) {
                continue;
            }
            reported.push((case.file, version));
            let path = display_path(&project.sources.get(case.file).path);
            ds.push(
                mismatch(format!(
                    "the test results in {path} are of {version} (`{label}`)"
                ))
                .at(case.span)
                .help(
                    "run the tests on the build being submitted, or correct the device's `version`",
                ),
            );
        }
    }
}

/// A test's `build` against the device's version: each part of the build (`pump
/// firmware 3.2.0-rc4, app 3.2.0`) is compared with the parts of the device's version
/// its label names.
fn test_builds(
    project: &Linked,
    device: &Item,
    written: &str,
    parts: &[VersionPart],
    ds: &mut Vec<Diagnostic>,
) {
    for t in primary(project, "test") {
        let test = &project.items[t];
        let Some(build) = test.text("build") else {
            continue;
        };
        let Some(tested) = version_parts(build)
            .into_iter()
            .find(|p| !covers(parts, &p.label.join(" "), &p.version))
        else {
            continue;
        };
        ds.push(
            Diagnostic::new(
                code::DEVICE_VERSION_MISMATCH,
                format!(
                    "{} tested {} (`build: {build}`), but {} says its version is `{written}`",
                    test.id, tested.version, device.id
                ),
            )
            .at(test.span_of("build"))
            .item(&test.id)
            .related(device.span_of("version"), "the device's version")
            .help("test the build being submitted, or correct the test's `build` or the device's `version`"),
        );
    }
}

/// A vulnerability's CVSS base score against the CVSS base score of each risk it names:
/// a risk scored lower understates the vulnerability. A risk may score higher, since it
/// may cover more than this one vulnerability (its worst case counts).
fn vulnerability_risk_cvss(project: &Linked, ds: &mut Vec<Diagnostic>) {
    for v in primary(project, "vulnerability") {
        let vuln = &project.items[v];
        let Some((vs, _)) = vuln.text("cvss").and_then(cvss_score) else {
            continue;
        };
        for link in project.graph.out(v).filter(|l| l.field == "risks") {
            let risk = &project.items[link.to];
            let Some((rs, _)) = risk.text("cvss").and_then(cvss_score) else {
                continue;
            };
            if rs > vs - 0.05 {
                continue;
            }
            ds.push(
                Diagnostic::new(
                    code::VULNERABILITY_RISK_CVSS,
                    format!("{} has CVSS {vs:.1}, but {}, which assesses it, has the lower CVSS {rs:.1}", vuln.id, risk.id),
                )
                .at(vuln.span_of("cvss"))
                .item(&vuln.id)
                .related(risk.span_of("cvss"), format!("the CVSS of {}", risk.id))
                .help("score the risk at least as high as the vulnerability it covers: with the vulnerability's vector, or a worse one"),
            );
        }
    }
}

/// VEX status against dates: `not_affected` with patch dates, `affected` past the plan's
/// timeline.
fn vex_dates(project: &Linked, ds: &mut Vec<Diagnostic>) {
    for v in primary(project, "vulnerability") {
        let item = &project.items[v];
        if item.text("status") != Some("not_affected") {
            continue;
        }
        for field in ["patched", "deployed"] {
            let Some(date) = item.text(field).filter(|d| Day::parse(d).is_some()) else {
                continue;
            };
            ds.push(
                Diagnostic::new(
                    code::VEX_NOT_AFFECTED_PATCHED,
                    format!("{} is `not_affected` but has `{field}: {date}`", item.id),
                )
                .at(item.span_of(field))
                .item(&item.id)
                .help("a vulnerability that was patched affected the device: make it `fixed`; or remove the date if nothing was patched"),
            );
        }
    }
    let tplc = super::metrics::compute(project);
    let timelines = &tplc.timelines;
    for open in tplc.open.iter().filter(|o| o.status == "affected") {
        let Some(age) = open.age_days else {
            continue;
        };
        let item = &project.items[open.item];
        let (critical, target) = super::metrics::deadline(timelines, item);
        let Some(target) = target.filter(|&t| age > t) else {
            continue;
        };
        let timeline = if critical {
            format!("the out-of-cycle deadline of {target} days for a critical vulnerability")
        } else {
            format!(
                "the regular cycle ({}, {target} days)",
                timelines.regular_cycle.as_deref().unwrap_or_default()
            )
        };
        let identified = open.identified.map(|d| d.to_string()).unwrap_or_default();
        let mut d = Diagnostic::new(
            code::PATCH_OVERDUE,
            format!("{} is `affected` and unpatched {age} days after it was identified ({identified}), past {timeline}", item.id),
        )
        .at(item.span_of("status"))
        .item(&item.id)
        .help("release the patch and record `patched`, or explain the delay in `action` and the plan");
        if let Some(plan) = timelines.plan {
            d = d.related(
                project.items[plan].span_of(if critical {
                    "out_of_cycle_days"
                } else {
                    "regular_cycle"
                }),
                "the plan's timeline",
            );
        }
        ds.push(d);
    }
}

/// `kev` claims against the KEV catalogue: no catalogue to check them, or a claim the
/// catalogue contradicts. A listed vulnerability that is not fixed is `kev-not-fixed`'s.
fn kev_claims(project: &Linked, ds: &mut Vec<Diagnostic>) {
    let ev = &project.traces;
    let claims: Vec<(usize, bool)> = primary(project, "vulnerability")
        .filter_map(|v| {
            let claim = project.items[v].fields.get("kev")?.as_bool()?;
            Some((v, claim))
        })
        .collect();
    let Some(&(first, _)) = claims.first() else {
        return;
    };
    let Some(catalogue) = &ev.kev else {
        // A catalogue that failed to read is reported as `kev-invalid`.
        if ev.kev_file.is_some() {
            return;
        }
        let ids: Vec<&str> = claims
            .iter()
            .map(|&(v, _)| project.items[v].id.as_str())
            .collect();
        let shown = if ids.len() > 6 {
            format!("{} and {} more", ids[..6].join(", "), ids.len() - 6)
        } else {
            ids.join(", ")
        };
        let kev_path = display_path(&project.config.trace.join(&project.config.evidence.kev));
        ds.push(
            Diagnostic::new(
                code::KEV_CATALOGUE_MISSING,
                format!("{shown} claim{} `kev`, but there is no KEV catalogue to check {} against", if ids.len() == 1 { "s" } else { "" }, if ids.len() == 1 { "the claim" } else { "the claims" }),
            )
            .at(project.items[first].span_of("kev"))
            .item(&project.items[first].id)
            .help(format!("download CISA's catalogue as JSON (https://www.cisa.gov/known-exploited-vulnerabilities-catalog) to {kev_path} (`kev` under `[preprocessor.qms.evidence]` sets another path)")),
        );
        return;
    };
    let dated = ev
        .kev_date
        .as_deref()
        .map(|d| format!(" of {d}"))
        .unwrap_or_default();
    for (v, claim) in claims {
        let item = &project.items[v];
        let listed = names_of(item).iter().any(|n| catalogue.contains(n));
        let fixed = item.text("status") == Some("fixed");
        // Listed but not fixed: `kev-not-fixed` already reports it, with the contradiction.
        if claim == listed || (listed && !fixed) {
            continue;
        }
        let message = if claim {
            format!(
                "{} says `kev: true`, but the KEV catalogue{dated} does not list it",
                item.id
            )
        } else {
            format!(
                "{} says `kev: false`, but the KEV catalogue{dated} lists it",
                item.id
            )
        };
        let mut d = Diagnostic::new(code::KEV_CLAIM_CONTRADICTED, message)
            .at(item.span_of("kev"))
            .item(&item.id)
            .help("correct `kev` (check the `cve`), or refresh the catalogue if it is older than the claim");
        if let Some(file) = ev.kev_file {
            d = d.related(
                crate::source::Span {
                    file,
                    start: 0,
                    end: 1.min(project.sources.get(file).text.len()),
                },
                "the catalogue",
            );
        }
        ds.push(d);
    }
}

/// Components past their end of support that no risk or vulnerability item assesses.
fn unassessed_end_of_support(project: &Linked, ds: &mut Vec<Diagnostic>) {
    for c in primary(project, "component") {
        let item = &project.items[c];
        let view = project.traces.component_view(item);
        let Some(eos) = view.end_of_support.as_deref() else {
            continue;
        };
        if Day::parse(eos).is_none_or(|d| d >= project.today) || assessed(project, c) {
            continue;
        }
        let d = Diagnostic::new(
            code::COMPONENT_END_OF_SUPPORT_UNASSESSED,
            format!("the support of {} ended on {eos}, and no risk or vulnerability assesses running it unsupported", item.id),
        )
        .item(&item.id)
        .help(format!("assess running {} without support: a vulnerability item that lists it in `components`, with the VEX status and the `risks` it raises", item.id));
        // A component only an SBOM lists is reported at its SBOM entry.
        let entry = project
            .traces
            .sbom_components(&item.id)
            .find_map(|e| e.span);
        ds.push(
            match entry.filter(|_| project.traces.is_synthesized(&item.id)) {
                Some(span) => d.at(span),
                None => d.at(item.span_of("end_of_support")),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelled_parts_are_compared_with_the_named_component() {
        let parts = version_parts("pump firmware 3.4, app 3.2, AcmeCare 2026.11");
        assert_eq!(parts.len(), 3);
        assert!(!covers(&parts, "acmeflow-pump-firmware", "3.2.0"));
        assert!(covers(&parts, "acmeflow-pump-firmware", "3.4.0"));
        assert!(covers(&parts, "acmeflow-pump-firmware", "v3.4.1"));
        assert!(covers(&parts, "mobile-app", "3.2"));
        // Nothing named: any part may be meant.
        assert!(covers(&parts, "release", "3.2.0-rc4"));
        assert!(!covers(&parts, "release", "3.5"));
        assert!(!covers(&version_parts("3.4"), "x", "3.40"));
    }

    #[test]
    fn versions_recorded_in_results() {
        assert_eq!(
            suite_version("AcmeFlow 3 verification, release candidate 3.2.0-rc4"),
            Some("3.2.0-rc4")
        );
        assert_eq!(suite_version("firmware v3.2.0 hil"), Some("v3.2.0"));
        assert_eq!(suite_version("pump-firmware.hil"), None);
        assert!(is_version_property("firmware.version"));
        assert!(is_version_property("build"));
        assert!(!is_version_property("build.host"));
    }
}
