//! HTML for the evidence: verification badges, and the `results` and `sbom` directives.

use std::fmt::Write as _;

use crate::date::Day;
use crate::evidence::assess::Status;
use crate::evidence::junit::Outcome;
use crate::html::escape;
use crate::page::Page;
use crate::text::natural_cmp;

/// The verification badge of a test item, or nothing when the project has no results.
pub(crate) fn badge(page: &Page, index: usize) -> String {
    let project = page.project;
    let item = &project.items[index];
    match project.evidence.verification(&item.id) {
        Some(v) => format!(
            "<span class=\"qms-badge qms-result qms-result-{0}\" title=\"{1}\">{0}</span>",
            v.status.as_str(),
            escape(&v.detail)
        ),
        None => String::new(),
    }
}

/// `{{#qms results}}`: every test item with its status and what the results say.
pub(crate) fn results(page: &Page) -> String {
    let project = page.project;
    let mut tests: Vec<usize> = (0..project.items.len())
        .filter(|&i| project.items[i].ty == "test" && project.is_primary(i))
        .collect();
    tests.sort_by(|&a, &b| natural_cmp(&project.items[a].id, &project.items[b].id));
    let ev = &project.evidence;
    let traces = &project.traces;
    let mut counts = [0usize; 5];
    let mut body = String::new();
    for &i in &tests {
        let item = &project.items[i];
        let Some(v) = ev.verification(&item.id) else {
            continue;
        };
        counts[v.status as usize] += 1;
        let tally = |o: Outcome| {
            v.cases
                .iter()
                .filter(|&&c| traces.cases[c].outcome == o)
                .count()
        };
        let (p, f, s) = (
            tally(Outcome::Passed),
            tally(Outcome::Failed) + tally(Outcome::Error),
            tally(Outcome::Skipped),
        );
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{p} passed, {f} failed, {s} skipped</td><td>{}</td></tr>",
            page.item_ref(i),
            escape(&item.title),
            badge(page, i),
            escape(&v.detail)
        );
    }
    if body.is_empty() {
        return "<p class=\"qms-empty\">No test results: put JUnit XML files under <code>trace/</code>.</p>".into();
    }
    let files: Vec<String> = traces
        .junit_files
        .iter()
        .map(|&f| {
            format!(
                "<code>{}</code>",
                escape(&crate::source::display_path(&project.sources.get(f).path))
            )
        })
        .collect();
    format!(
        "<table class=\"qms-table qms-results\"><caption>{} test items: {} passed, {} failed, {} skipped, {} missing, {} stale; {} test cases from {}</caption><thead><tr><th>Test</th><th>Title</th><th>Result</th><th>Cases</th><th>Detail</th></tr></thead><tbody>{body}</tbody></table>",
        counts.iter().sum::<usize>(),
        counts[Status::Passed as usize],
        counts[Status::Failed as usize],
        counts[Status::Skipped as usize],
        counts[Status::Missing as usize],
        counts[Status::Stale as usize],
        traces.cases.len(),
        files.join(", ")
    )
}

/// `{{#qms sbom}}`: every component (items and SBOM entries, merged) with its NTIA
/// elements, support data and the known vulnerabilities that match it.
pub(crate) fn sbom(page: &Page) -> String {
    let project = page.project;
    let mut comps: Vec<usize> = (0..project.items.len())
        .filter(|&i| project.items[i].ty == "component" && project.is_primary(i))
        .collect();
    comps.sort_by(|&a, &b| natural_cmp(&project.items[a].id, &project.items[b].id));
    let mut out = String::from(
        "<table class=\"qms-table qms-sbom\"><thead><tr><th>Component</th><th>Name</th><th>Version</th><th>Supplier</th><th>Identifier</th><th>Support</th><th>End of support</th><th>Source</th><th>Known vulnerabilities</th></tr></thead><tbody>",
    );
    let missing = "<span class=\"qms-gap\">missing</span>";
    for &i in &comps {
        let v = project.traces.component_view(&project.items[i]);
        let item = &project.items[i];
        let sources: Vec<String> = project
            .traces
            .sbom_components(&item.id)
            .filter_map(|c| c.file)
            .map(|f| {
                format!(
                    "<code>{}</code>",
                    escape(&crate::source::display_path(&project.sources.get(f).path))
                )
            })
            .collect();
        let synthesized = project.traces.is_synthesized(&item.id);
        let source = if synthesized {
            sources.join(", ")
        } else if sources.is_empty() {
            "item".into()
        } else {
            format!("item + {}", sources.join(", "))
        };
        let eos = match v.end_of_support.as_deref() {
            Some(e) if Day::parse(e).is_some_and(|d| d < project.today) => {
                format!("<span class=\"qms-gap\">{} (ended)</span>", escape(e))
            }
            Some(e) => escape(e),
            None => missing.into(),
        };
        let mut vulns: Vec<String> = Vec::new();
        for m in project.evidence.matches.iter().filter(|m| m.component == i) {
            let rec = &project.traces.osv[m.record];
            if m.assessed_by.is_empty() {
                vulns.push(format!(
                    "<span class=\"qms-gap\">{} (unassessed)</span>",
                    escape(&rec.id)
                ));
            }
        }
        for l in project
            .graph
            .inc(i)
            .filter(|l| l.field == "components" && project.items[l.from].ty == "vulnerability")
        {
            let vi = &project.items[l.from];
            vulns.push(format!(
                "{} {}",
                page.item_ref(l.from),
                escape(vi.text("status").unwrap_or("no status"))
            ));
        }
        let opt = |o: &Option<String>| o.as_deref().map_or(missing.to_owned(), escape);
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{eos}</td><td>{source}</td><td>{}</td></tr>",
            page.item_ref(i),
            opt(&v.name),
            opt(&v.version),
            opt(&v.supplier),
            escape(v.purl.as_deref().or(v.cpe.as_deref()).unwrap_or("")),
            opt(&v.support),
            vulns.join("<br>")
        );
    }
    if comps.is_empty() {
        out.push_str("<tr><td colspan=\"9\" class=\"qms-empty\">No components.</td></tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// `{{#qms metrics}}`: the measures of the reporting period as an HTML table, then the
/// age of every open vulnerability and each patch against its own timeline.
pub fn metrics(page: &Page) -> String {
    let t = crate::evidence::metrics::compute(page.project);
    let mut out = format!(
        "<table class=\"qms-table qms-metrics\"><caption>Reporting period {} to {} ({} months); {} of {} vulnerabilities are not affected and left out</caption><thead><tr><th>Measure (TPLC)</th><th>Value</th><th>Based on</th></tr></thead><tbody>",
        t.period.start, t.period.end, t.period.months, t.not_affected, t.total
    );
    let pct = t
        .patched_percent()
        .map_or("not applicable yet".to_owned(), |p| format!("{p:.1}%"));
    let _ = write!(
        out,
        "<tr><td>Identified vulnerabilities patched</td><td>{pct}</td><td>{} of {} needing a patch in the period</td></tr>",
        t.patched, t.needing_patch
    );
    let days =
        |d: Option<f64>| d.map_or("not applicable yet".to_owned(), |d| format!("{d:.1} days"));
    let _ = write!(
        out,
        "<tr><td>Mean time from identification to patch</td><td>{}</td><td>{} patches released in the period</td></tr>",
        days(t.identify_to_patch),
        t.identify_to_patch_n
    );
    let _ = write!(
        out,
        "<tr><td>Mean time from patch to deployment</td><td>{}</td><td>{} deployments in the period</td></tr>",
        days(t.patch_to_deploy),
        t.patch_to_deploy_n
    );
    for o in &t.open {
        let age = o
            .age_days
            .map_or("unknown age (no identified date)".to_owned(), |d| {
                format!("{d} days")
            });
        let _ = write!(
            out,
            "<tr><td>Open: {}</td><td>{age}</td><td>{}, open on {}</td></tr>",
            page.item_ref(o.item),
            escape(&o.status.replace('_', " ")),
            t.period.end
        );
    }
    for p in &t.patches {
        let timeline = if p.critical {
            "out-of-cycle"
        } else {
            "regular cycle"
        };
        let met = match p.target_days {
            Some(target) if p.days <= target => {
                format!("within the {timeline} timeline of {target} days")
            }
            Some(target) => format!(
                "{} days past the {timeline} timeline of {target} days",
                p.days - target
            ),
            None => format!("no {timeline} timeline in days in the plan"),
        };
        let _ = write!(
            out,
            "<tr><td>Patch: {}</td><td>{} days</td><td>{met}</td></tr>",
            page.item_ref(p.item),
            p.days
        );
    }
    out.push_str("</tbody></table>");
    out
}
