//! `table` and `matrix` directives.

use std::fmt::Write as _;

use serde_json::Value;

use crate::directive::Directive;
use crate::html::escape;
use crate::model::Item;
use crate::page::Page;
use crate::text::natural_cmp;
use crate::trace;

/// Whether an item passes a directive's filters: `status=`, `tag=`, and `FIELD=VALUE`
/// (equal, or contained in a list). Values may list alternatives: `status=draft|review`.
fn matches(item: &Item, directive: &Directive, field_filters: bool) -> bool {
    directive.options.iter().all(|(key, value)| {
        let wanted: Vec<&str> = value.text.split('|').collect();
        let field_value = match key.text.as_str() {
            "status" => return wanted.contains(&item.status()),
            "tag" => item.fields.get("tags"),
            "columns" | "via" => return true,
            _ if !field_filters => return true,
            other => item.fields.get(other),
        };
        match field_value {
            Some(Value::Array(list)) => list.iter().any(|v| wanted.iter().any(|w| value_eq(v, w))),
            Some(v) => wanted.iter().any(|w| value_eq(v, w)),
            None => false,
        }
    })
}

/// A non-string JSON value as written (`3`, `true`).
fn json_text(value: &Value) -> String {
    value.to_string()
}

fn value_eq(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(s) => s == wanted,
        other => json_text(other) == wanted,
    }
}

/// Items of a type that pass the filters, in natural id order.
fn select(page: &Page, ty: &str, directive: &Directive, field_filters: bool) -> Vec<usize> {
    let project = page.project;
    let mut rows = trace::items_of(project, ty);
    rows.retain(|&i| matches(&project.items[i], directive, field_filters));
    rows.sort_by(|&a, &b| natural_cmp(&project.items[a].id, &project.items[b].id));
    rows
}

fn heading(column: &str) -> String {
    match column {
        "id" => "ID".into(),
        "title" => "Title".into(),
        "status" => "Status".into(),
        other => {
            let mut s = other.replace('_', " ");
            if let Some(first) = s.get(0..1) {
                s.replace_range(0..1, &first.to_uppercase());
            }
            s
        }
    }
}

/// `{{#qms table TYPE ...}}`: one row per matching item.
pub(super) fn table(page: &Page, directive: &Directive) -> String {
    let ty = &directive.args[0].text;
    let columns: Vec<String> = directive
        .option("columns")
        .map(|c| {
            c.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_else(|| vec!["id".into(), "title".into(), "status".into()]);
    let rows = select(page, ty, directive, true);
    let mut out = String::from("<table class=\"qms-table\"><thead><tr>");
    for c in &columns {
        let _ = write!(out, "<th>{}</th>", escape(&heading(c)));
    }
    out.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        let _ = write!(
            out,
            "<tr><td colspan=\"{}\" class=\"qms-empty\">No {} matches.</td></tr>",
            columns.len(),
            escape(ty)
        );
    }
    for &i in &rows {
        let item = &page.project.items[i];
        out.push_str("<tr>");
        for c in &columns {
            let cell = match c.as_str() {
                "id" => format!(
                    "{}{}",
                    page.item_ref(i),
                    with_space(crate::render::evidence::badge(page, i))
                ),
                "title" => escape(&item.title),
                "status" => format!(
                    "<span class=\"qms-badge qms-status-{0}\">{0}</span>",
                    escape(item.status())
                ),
                "type" => escape(&item.ty),
                field => item
                    .fields
                    .get(field)
                    .map_or(String::new(), |v| page.value(v)),
            };
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// `{{#qms matrix FROM TO}}`: each FROM item with the TO items linked to it (either
/// direction, optionally only through field `via`), and the share of FROM items covered.
pub(super) fn matrix(page: &Page, directive: &Directive) -> String {
    let project = page.project;
    let from = &directive.args[0].text;
    let to = &directive.args[1].text;
    let via = directive.option("via");
    // `approved=false`: only the rows still waiting for an approval (and `true` the others).
    let approved = directive.option("approved").map(|v| v == "true");
    let coverage = trace::coverage(project, from, to, via, |i| {
        let item = &project.items[i];
        matches(item, directive, false)
            && approved.is_none_or(|want| project.approvals.approves(&item.id) == want)
    });
    let plural = |ty: &str| {
        project
            .types
            .get(ty)
            .map_or(ty.to_owned(), |d| d.plural.clone())
    };
    let show_commits = directive.option("commits") == Some("true");
    let mut body = String::new();
    for row in &coverage.rows {
        let item = &project.items[row.item];
        let cell = if row.linked.is_empty() {
            "<span class=\"qms-gap\">not covered</span>".to_owned()
        } else {
            row.linked
                .iter()
                .map(|&j| {
                    format!(
                        "{}{}",
                        page.item_ref(j),
                        with_space(crate::render::evidence::badge(page, j))
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let commits_cell = if show_commits {
            format!("<td>{}</td>", commit_list(project, &item.id))
        } else {
            String::new()
        };
        let _ = write!(
            body,
            "<tr{}><td>{}</td><td>{}</td><td>{cell}</td>{commits_cell}</tr>",
            if row.linked.is_empty() {
                " class=\"qms-uncovered\""
            } else {
                ""
            },
            page.item_ref(row.item),
            escape(&item.title),
        );
    }
    let (covered, total, percent) = (coverage.covered, coverage.total(), coverage.percent());
    let mut out = String::new();
    let _ = write!(
        out,
        "<table class=\"qms-matrix\"><caption>{} to {}: {covered} of {total} covered ({percent:.1}%)</caption><thead><tr><th>{}</th><th>Title</th><th>{}</th>{}</tr></thead><tbody>",
        escape(&plural(from)),
        escape(&plural(to)),
        escape(&heading(from)),
        escape(&plural(to)),
        if show_commits { "<th>Commits</th>" } else { "" },
    );
    if total == 0 {
        let _ = write!(
            out,
            "<tr><td colspan=\"{}\" class=\"qms-empty\">No {} items.</td></tr>",
            if show_commits { 4 } else { 3 },
            escape(from)
        );
    }
    out.push_str(&body);
    out.push_str("</tbody></table>");
    out
}

/// The commits whose trailers name an item, newest first: short id (full id and subject
/// on hover) and the trailer.
fn commit_list(project: &crate::project::Project, id: &str) -> String {
    let Some(h) = project.history.item(id) else {
        return String::new();
    };
    h.links
        .iter()
        .map(|l| {
            let c = project.history.commit(l.commit);
            format!(
                "<code title=\"{} {}\">{}</code> {}",
                escape(&c.id),
                escape(&c.subject),
                escape(&c.short),
                escape(&l.trailer)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A fragment preceded by a space, or nothing for an empty one.
fn with_space(s: String) -> String {
    if s.is_empty() {
        s
    } else {
        format!(" {s}")
    }
}
