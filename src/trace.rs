//! Traceability queries shared by the `matrix` directive and the `trace` command: which
//! items of one type are linked to items of another, and how many are covered.

use crate::project::Project;
use crate::text::natural_cmp;

/// One row of a coverage matrix: an item and the linked items of the other type.
pub(crate) struct Row {
    pub(crate) item: usize,
    pub(crate) linked: Vec<usize>,
}

/// Which items of one type link to items of another: a row per source item, and how many are covered.
pub struct Coverage {
    pub(crate) rows: Vec<Row>,
    pub(crate) covered: usize,
}

impl Coverage {
    pub(crate) fn total(&self) -> usize {
        self.rows.len()
    }

    /// Covered share in percent (0 when there are no rows).
    pub fn percent(&self) -> f64 {
        if self.rows.is_empty() {
            0.0
        } else {
            self.covered as f64 * 100.0 / self.rows.len() as f64
        }
    }
}

/// Rows of type `from` (those `keep` accepts) with the `to` items linked to them in
/// either direction, optionally only through link field `via`; rows and links in
/// natural id order.
pub fn coverage(
    project: &Project,
    from: &str,
    to: &str,
    via: Option<&str>,
    keep: impl Fn(usize) -> bool,
) -> Coverage {
    let by_id = |a: &usize, b: &usize| natural_cmp(&project.items[*a].id, &project.items[*b].id);
    let mut items = items_of(project, from);
    items.retain(|&i| keep(i));
    items.sort_by(by_id);
    let graph = &project.graph;
    let mut covered = 0;
    let rows = items
        .into_iter()
        .map(|i| {
            let through = |field: &str| via.is_none_or(|v| v == field);
            let mut linked: Vec<usize> = graph
                .out(i)
                .filter(|l| through(&l.field))
                .map(|l| l.to)
                .chain(graph.inc(i).filter(|l| through(&l.field)).map(|l| l.from))
                .filter(|&j| project.items[j].ty == to)
                .collect();
            linked.sort_by(by_id);
            linked.dedup();
            if !linked.is_empty() {
                covered += 1;
            }
            Row { item: i, linked }
        })
        .collect();
    Coverage { rows, covered }
}

/// The items of a type (first definitions only, when an id is duplicated).
pub(crate) fn items_of(project: &Project, ty: &str) -> Vec<usize> {
    project
        .items
        .iter()
        .enumerate()
        .filter(|(i, item)| item.ty == ty && project.graph.get(&item.id) == Some(*i))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::csv_field;
    use crate::text::natural_cmp;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, \"b\""), "\"a, \"\"b\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("\t=1"), "'\t=1");
    }

    #[test]
    fn ids_sort_naturally() {
        let mut ids = vec!["REQ-10", "REQ-2", "REQ-1", "REQ-1-A", "ASSET-3"];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(ids, ["ASSET-3", "REQ-1", "REQ-1-A", "REQ-2", "REQ-10"]);
    }
}

/// How `trace` prints a coverage matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// An aligned table for reading in a terminal.
    Text,
    /// A JSON object: the rows and the covered count, total and percentage.
    Json,
    /// CSV, one row per item.
    Csv,
}
crate::choice::impl_choice!(pub TraceFormat { Text => "text", Json => "json", Csv => "csv" });

/// The coverage of `from` by `to` as text, JSON or CSV.
pub fn report(
    project: &Project,
    coverage: &Coverage,
    from: &str,
    to: &str,
    format: TraceFormat,
    commits: bool,
) -> String {
    let items = &project.items;
    // Commits whose trailers name the row's item, newest first.
    let linked_commits = |row: &Row| -> Vec<(&crate::history::CommitInfo, &str)> {
        if !commits {
            return Vec::new();
        }
        project
            .history
            .item(&items[row.item].id)
            .map_or(Vec::new(), |h| {
                h.links
                    .iter()
                    .map(|l| (project.history.commit(l.commit), l.trailer.as_str()))
                    .collect()
            })
    };
    let ids = |row: &Row| {
        row.linked
            .iter()
            .map(|&j| items[j].id.as_str())
            .collect::<Vec<_>>()
    };
    match format {
        TraceFormat::Json => {
            let rows: Vec<serde_json::Value> = coverage
                .rows
                .iter()
                .map(|row| {
                    let item = &items[row.item];
                    let mut value = serde_json::json!({"id": item.id, "title": item.title, "status": item.status(), "linked": ids(row)});
                    if commits {
                        value["commits"] = linked_commits(row)
                            .iter()
                            .map(|(c, trailer)| serde_json::json!({"id": c.id, "short": c.short, "trailer": trailer, "date": c.date, "author": c.author, "subject": c.subject}))
                            .collect();
                    }
                    value
                })
                .collect();
            let value = serde_json::json!({
                "from": from,
                "to": to,
                "covered": coverage.covered,
                "total": coverage.total(),
                "percent": (coverage.percent() * 10.0).round() / 10.0,
                "rows": rows,
            });
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
        TraceFormat::Csv => {
            let mut out = format!(
                "id,title,status,{to}{}\n",
                if commits { ",commits" } else { "" }
            );
            for row in &coverage.rows {
                let item = &items[row.item];
                let commit_text: Vec<String> = linked_commits(row)
                    .iter()
                    .map(|(c, trailer)| format!("{}:{trailer}", c.short))
                    .collect();
                let mut fields = vec![item.id.as_str(), item.title.as_str(), item.status()];
                let linked = ids(row).join(" ");
                fields.push(&linked);
                let commit_text = commit_text.join(" ");
                if commits {
                    fields.push(&commit_text);
                }
                let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
            out
        }
        TraceFormat::Text => {
            let width = coverage
                .rows
                .iter()
                .map(|r| items[r.item].id.len())
                .max()
                .unwrap_or(0);
            let mut out = format!(
                "{from} -> {to}: {} of {} covered ({:.1}%)\n",
                coverage.covered,
                coverage.total(),
                coverage.percent()
            );
            for row in &coverage.rows {
                let item = &items[row.item];
                let linked = if row.linked.is_empty() {
                    "NOT COVERED".to_owned()
                } else {
                    ids(row).join(", ")
                };
                out.push_str(&format!("{:width$}  {linked}  ({})\n", item.id, item.title));
                for (c, trailer) in linked_commits(row) {
                    out.push_str(&format!(
                        "{:width$}    {} {trailer}: {} ({}, {})\n",
                        "",
                        c.short,
                        c.subject,
                        c.day(),
                        c.author
                    ));
                }
            }
            out
        }
    }
}

/// Text a spreadsheet will not run as a formula: a leading `=`, `+`, `-`, `@`, tab or
/// carriage return (OWASP's list) gets a `'` in front.
pub(crate) fn formula_guard(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// A CSV field, quoted when needed (RFC 4180), with [`formula_guard`] applied.
pub(crate) fn csv_field(text: &str) -> String {
    let text = formula_guard(text);
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}
