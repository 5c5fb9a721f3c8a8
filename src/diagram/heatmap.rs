//! `{{#qms heatmap [show=before|after|both]}}`: the risk matrix with every risk counted
//! and linked in its cell, before and after mitigation.

use std::fmt::Write as _;

use crate::directive::Directive;
use crate::html::escape;
use crate::page::Page;
use crate::risk::{Level, RiskModel};

const STYLE: &str = crate::page::css::HEATMAP;

pub(crate) fn render(page: &Page<'_>, d: &Directive) -> String {
    let show = d.option("show").unwrap_or("both");
    let model = &page.project.risk;
    let mut out = String::from(STYLE);
    out.push_str("<div class=\"qms-heatmaps\">");
    if show != "after" {
        out.push_str(&table(page, model, "Before mitigation", "before", |r| {
            r.before.as_ref()
        }));
    }
    if show != "before" {
        out.push_str(&table(
            page,
            model,
            "After mitigation (residual risk)",
            "after",
            |r| r.after.as_ref(),
        ));
    }
    out.push_str("</div>");
    let unscored: Vec<String> = model
        .risks
        .iter()
        .filter(|r| r.before.is_none() || r.after.is_none())
        .map(|r| page.item_ref(r.item))
        .collect();
    if !unscored.is_empty() {
        let _ = write!(
            out,
            "<p class=\"qms-hm-note\">Not scored: {}.</p>",
            unscored.join(", ")
        );
    }
    out.push('\n');
    out
}

/// One matrix: severity rows (highest at the top) by exploitability columns (lowest at
/// the left), each cell coloured by acceptability, counting and linking its risks.
pub(crate) fn table(
    page: &Page<'_>,
    model: &RiskModel,
    caption: &str,
    which: &str,
    level: impl Fn(&crate::risk::RiskScore) -> Option<&Level>,
) -> String {
    let scales = &model.scales;
    let mut cells: Vec<Vec<Vec<usize>>> =
        vec![vec![Vec::new(); scales.exploitability.len()]; scales.severity.len()];
    for r in &model.risks {
        if let Some(l) = level(r) {
            cells[l.severity][l.exploitability].push(r.item);
        }
    }
    let total: usize = cells.iter().flatten().map(Vec::len).sum();
    let bad: usize = cells
        .iter()
        .enumerate()
        .flat_map(|(s, row)| row.iter().enumerate().map(move |(e, c)| (s, e, c.len())))
        .filter(|&(s, e, _)| !scales.is_acceptable(s, e))
        .map(|(_, _, n)| n)
        .sum();
    let mut out = String::new();
    let _ = write!(
        out,
        "<table class=\"qms-heatmap qms-heatmap-{which}\"><caption>{} <span class=\"qms-hm-summary\">({total} risks, {bad} unacceptable)</span></caption><colgroup><col class=\"qms-hm-head\"></colgroup><thead><tr><th class=\"qms-hm-axis\">severity \\ exploitability</th>",
        escape(caption)
    );
    for e in &scales.exploitability {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(e));
    }
    out.push_str("</tr></thead><tbody>");
    for s in (0..scales.severity.len()).rev() {
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th>",
            escape(&scales.severity[s])
        );
        for (e, risks) in cells[s].iter().enumerate() {
            let ok = scales.is_acceptable(s, e);
            let verdict = if ok { "acceptable" } else { "unacceptable" };
            let _ = write!(
                out,
                "<td class=\"{}{}\" title=\"{} severity, {} exploitability: {verdict}\" data-count=\"{}\">",
                if ok { "qms-hm-ok" } else { "qms-hm-bad" },
                if risks.is_empty() { "" } else { " qms-hm-some" },
                escape(&scales.severity[s]),
                escape(&scales.exploitability[e]),
                risks.len()
            );
            if !risks.is_empty() {
                let refs: Vec<String> = risks.iter().map(|&i| breakable_ref(page, i)).collect();
                let _ = write!(
                    out,
                    "<span class=\"qms-hm-count\">{}</span><span class=\"qms-hm-risks\">{}</span>",
                    risks.len(),
                    refs.join(" ")
                );
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// A link to a risk whose id may wrap after its hyphens, so long ids keep the matrix
/// narrow enough for the two matrices to sit side by side.
pub(crate) fn breakable_ref(page: &Page<'_>, index: usize) -> String {
    let item = &page.project.items[index];
    let text = escape(&item.id).replace('-', "-<wbr>");
    match page.item_url(index) {
        Some(url) => format!(
            r#"<a class="qms-ref" href="{}" title="{}">{text}</a>"#,
            escape(&url),
            escape(&item.title)
        ),
        None => format!(
            r#"<span class="qms-ref" title="{}">{text}</span>"#,
            escape(&item.title)
        ),
    }
}
