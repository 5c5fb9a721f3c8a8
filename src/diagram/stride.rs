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

/// What one cell of the table holds.
enum Cell {
    /// The threats recorded for the category.
    Threats(Vec<usize>),
    /// Why the category does not apply to this element.
    NotApplicable(String),
    /// No threat and no reason recorded.
    Gap,
    /// The category does not apply to the element's kind.
    Off,
}

/// One row per live element, in the table's order (kind, then id): the element, its
/// kind, one cell per STRIDE category; and the counts of considered pairs and gaps.
struct Table {
    rows: Vec<(usize, &'static str, Vec<Cell>)>,
    covered: usize,
    gaps: usize,
}

impl Table {
    fn of(project: &crate::project::Project) -> Table {
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
        let (mut gaps, mut covered) = (0, 0);
        let rows = elements
            .into_iter()
            .map(|(k, i)| {
                let cats = applicable(project, i).unwrap_or_default();
                let cells = threats_by_category(project, i)
                    .into_iter()
                    .map(|(cat, threats)| {
                        if !threats.is_empty() {
                            covered += 1;
                            Cell::Threats(threats)
                        } else if let Some(reason) = not_applicable(project, i, cat) {
                            covered += 1;
                            Cell::NotApplicable(reason.to_owned())
                        } else if cats.contains(&cat) {
                            gaps += 1;
                            Cell::Gap
                        } else {
                            Cell::Off
                        }
                    })
                    .collect();
                (i, KINDS[k], cells)
            })
            .collect();
        Table {
            rows,
            covered,
            gaps,
        }
    }

    fn summary(&self) -> String {
        format!(
            "{} elements; {} element-category pairs considered, {} gaps.",
            self.rows.len(),
            self.covered,
            self.gaps
        )
    }
}

/// Which categories apply to which kind of element, as the table's key says.
const KEY: &str = "external entity: S, R; process: all six; data store: T, R, I, D; flow: T, I, D";

/// The table of every live element of the project.
pub(crate) fn table(page: &Page<'_>) -> String {
    let table = Table::of(page.project);
    let items = &page.project.items;
    let mut out = String::from(STYLE);
    out.push_str("<table class=\"qms-stride\"><thead><tr><th>element</th>");
    for (cat, letter) in STRIDE {
        let _ = write!(out, "<th title=\"{cat}\">{letter}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for (i, kind, cells) in &table.rows {
        let _ = write!(
            out,
            "<tr data-id=\"{}\"><th scope=\"row\">{}<span class=\"qms-st-kind\">{kind}</span></th>",
            escape(&items[*i].id),
            page.item_ref(*i),
        );
        for ((cat, _), cell) in STRIDE.iter().zip(cells) {
            match cell {
                Cell::Threats(threats) => {
                    let refs: Vec<String> = threats
                        .iter()
                        .map(|&t| super::heatmap::breakable_ref(page, t))
                        .collect();
                    let _ = write!(
                        out,
                        "<td class=\"qms-st-threat\">{}</td>",
                        refs.join("<br>")
                    );
                }
                Cell::NotApplicable(reason) => {
                    let _ = write!(
                        out,
                        "<td class=\"qms-st-na\" title=\"{}\">n/a: {}</td>",
                        escape(reason),
                        escape(reason)
                    );
                }
                Cell::Gap => out.push_str(
                    "<td class=\"qms-st-gap\" title=\"no threat and no reason recorded\">gap</td>",
                ),
                Cell::Off => {
                    let _ = write!(out, "<td class=\"qms-st-off\" title=\"{cat} does not apply to this kind of element ({kind})\"></td>");
                }
            }
        }
        out.push_str("</tr>");
    }
    let _ = writeln!(
        out,
        "</tbody></table><p class=\"qms-stride-summary\">{} Hatched cells: the category does not apply to the element's kind ({KEY}).</p>",
        table.summary()
    );
    out
}

/// The same table as GFM Markdown, for standalone documents: item ids as text, a gap
/// in bold, `—` where the category does not apply to the kind.
pub(crate) fn markdown_table(project: &crate::project::Project) -> String {
    use crate::html::escape_commonmark;
    let table = Table::of(project);
    let items = &project.items;
    let mut out = String::from("| Element | Kind |");
    for (_, letter) in STRIDE {
        let _ = write!(out, " {letter} |");
    }
    out.push_str("\n| --- | --- |");
    out.push_str(&" --- |".repeat(STRIDE.len()));
    out.push('\n');
    for (i, kind, cells) in &table.rows {
        let _ = write!(out, "| {} | {kind} |", escape_commonmark(&items[*i].id));
        for cell in cells {
            let text = match cell {
                Cell::Threats(threats) => threats
                    .iter()
                    .map(|&t| escape_commonmark(&items[t].id))
                    .collect::<Vec<_>>()
                    .join(", "),
                Cell::NotApplicable(reason) => format!("n/a: {}", escape_commonmark(reason)),
                Cell::Gap => "**gap**".to_owned(),
                Cell::Off => "—".to_owned(),
            };
            let _ = write!(out, " {text} |");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\n{} A — means the category does not apply to the element's kind ({KEY}).",
        table.summary()
    );
    out
}
