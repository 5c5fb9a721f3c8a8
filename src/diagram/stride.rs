//! `{{#qms stride}}`: STRIDE per element, one row per data-flow element, one column per
//! category: the threats recorded, the reason a category does not apply, or the gap.

use std::fmt::Write as _;

use crate::directive::Directive;
use crate::html::escape;
use crate::page::Page;
use crate::risk::checks::{applicable, not_applicable, threats_by_category, STRIDE};

const STYLE: &str = crate::page::css::STRIDE;

/// Element kinds in the order the table lists them.
const KINDS: &[&str] = &["external-entity", "process", "data-store", "flow"];

pub(crate) fn render(page: &Page<'_>, _d: &Directive) -> String {
    table(page)
}

/// The table of every live element of the project.
pub(crate) fn table(page: &Page<'_>) -> String {
    let project = page.project;
    let items = &project.items;
    let mut elements: Vec<(usize, usize)> = (0..items.len())
        .filter(|&i| project.is_primary(i) && items[i].status() != "obsolete")
        .filter_map(|i| {
            applicable(project, i)?;
            let kind = if items[i].ty == "flow" {
                "flow"
            } else {
                items[i].text("kind")?
            };
            Some((KINDS.iter().position(|k| *k == kind)?, i))
        })
        .collect();
    elements.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| crate::text::natural_cmp(&items[a.1].id, &items[b.1].id))
    });
    let mut out = String::from(STYLE);
    out.push_str("<table class=\"qms-stride\"><thead><tr><th>element</th>");
    for (cat, letter) in STRIDE {
        let _ = write!(out, "<th title=\"{cat}\">{letter}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    let (mut gaps, mut covered) = (0, 0);
    for &(k, i) in &elements {
        let cats = applicable(project, i).unwrap_or_default();
        let by_cat = threats_by_category(project, i);
        let _ = write!(
            out,
            "<tr data-id=\"{}\"><th scope=\"row\">{}<span class=\"qms-st-kind\">{}</span></th>",
            escape(&items[i].id),
            page.item_ref(i),
            KINDS[k]
        );
        for (cat, threats) in &by_cat {
            if !threats.is_empty() {
                covered += 1;
                let refs: Vec<String> = threats
                    .iter()
                    .map(|&t| super::heatmap::breakable_ref(page, t))
                    .collect();
                let _ = write!(
                    out,
                    "<td class=\"qms-st-threat\">{}</td>",
                    refs.join("<br>")
                );
            } else if let Some(reason) = not_applicable(project, i, cat) {
                covered += 1;
                let _ = write!(
                    out,
                    "<td class=\"qms-st-na\" title=\"{}\">n/a: {}</td>",
                    escape(reason),
                    escape(reason)
                );
            } else if cats.contains(cat) {
                gaps += 1;
                let _ = write!(
                    out,
                    "<td class=\"qms-st-gap\" title=\"no threat and no reason recorded\">gap</td>"
                );
            } else {
                let _ = write!(out, "<td class=\"qms-st-off\" title=\"{cat} does not apply to this kind of element ({})\"></td>", KINDS[k]);
            }
        }
        out.push_str("</tr>");
    }
    let _ = writeln!(
        out,
        "</tbody></table><p class=\"qms-stride-summary\">{} elements; {covered} element-category pairs considered, {gaps} gaps. Hatched cells: the category does not apply to the element's kind (external entity: S, R; process: all six; data store: T, R, I, D; flow: T, I, D).</p>",
        elements.len()
    );
    out
}
