//! Item cards and inline references.

use std::fmt::Write as _;

use serde_json::Value;

use crate::html::{escape, generated_markdown, markdown};
use crate::model::{Home, Item};
use crate::page::Page;
use crate::risk::{Level, RiskModel};

/// Fields shown in the card header or elsewhere, not in the field table.
const HEADER_FIELDS: &[&str] = &["id", "type", "title", "text", "status", "attributes"];

impl Page<'_> {
    /// The card of an item: anchor, title, status, text, fields, links both ways, source.
    pub(crate) fn card(&self, index: usize) -> String {
        let project = self.project;
        let item = &project.items[index];
        let def = project.types.get(&item.ty);
        let status = item.status();
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<div class="qms-card qms-type-{ty}"><h4 id="{id}" class="qms-card-title"><span class="qms-id">{id}</span> <span class="qms-title">{title}</span> <span class="qms-badge qms-status-{status_class}">{status}</span> <span class="qms-kind">{ty}</span></h4>"#,
            ty = escape(&item.ty),
            id = escape(&item.id),
            title = escape(&item.title),
            status_class = escape(&status.replace(|c: char| !c.is_ascii_alphanumeric(), "-")),
            status = escape(status),
        );
        // A test's verification status sits in the title line, next to its status.
        let result = crate::render::evidence::badge(self, index);
        if !result.is_empty() {
            if let Some(at) = out.rfind(" <span class=\"qms-kind\">") {
                out.insert_str(at, &format!(" {result}"));
            }
        }
        if let Some(text) = item.text("text") {
            let _ = write!(out, "\n<div class=\"qms-text\">{}</div>", markdown(text));
        }

        let link_fields: Vec<&str> = def.map_or(Vec::new(), |d| {
            d.links.iter().map(|l| l.name.as_str()).collect()
        });
        let is_markdown = |f: &str| def.is_some_and(|d| d.markdown_fields.iter().any(|m| m == f));
        let mut rows = score_row(&project.risk, index);
        for (key, value) in &item.fields {
            if HEADER_FIELDS.contains(&key.as_str()) || link_fields.contains(&key.as_str()) {
                continue;
            }
            let cell = match value {
                Value::String(s) if is_markdown(key) => markdown(s),
                other => self.value(other),
            };
            let _ = write!(rows, "<tr><th>{}</th><td>{cell}</td></tr>", escape(key));
        }
        if let Some(Value::Object(attrs)) = item.fields.get("attributes") {
            for (key, value) in attrs {
                let _ = write!(
                    rows,
                    "<tr><th>{}</th><td>{}</td></tr>",
                    escape(key),
                    self.value(value)
                );
            }
        }
        if !rows.is_empty() {
            let _ = write!(
                out,
                "\n<table class=\"qms-fields\"><tbody>{rows}</tbody></table>"
            );
        }

        let links = self.links(index);
        if !links.is_empty() {
            let _ = write!(out, "\n<dl class=\"qms-links\">{links}</dl>");
        }
        let history = crate::render::history::history_compact(&project.history, &item.id);
        if !history.is_empty() {
            let _ = write!(
                out,
                "\n<div class=\"qms-history\">{}</div>",
                generated_markdown(&history)
            );
        }
        out.push_str(&self.approvals(&item.id));
        let _ = write!(
            out,
            "\n<div class=\"qms-source\">{}</div></div>",
            escape(&self.source(item))
        );
        out
    }

    /// The approval records that name the item: printed name, roles, meaning, date and
    /// time, commit, whether the signature verified and whether the approval is current.
    fn approvals(&self, id: &str) -> String {
        let project = self.project;
        let mut rows = String::new();
        for r in project.approvals.of(id) {
            let who = r
                .name
                .as_deref()
                .or(r.principal.as_deref())
                .unwrap_or("unknown signer");
            let roles: Vec<&str> = r
                .roles
                .iter()
                .map(|role| {
                    project
                        .item(role)
                        .map_or(role.as_str(), |i| i.title.as_str())
                })
                .collect();
            let roles = if roles.is_empty() {
                String::new()
            } else {
                format!(" ({})", roles.join(", "))
            };
            let currency = match r.items.iter().find(|i| i.id == id) {
                Some(i) => match i.changed_by.as_deref() {
                    None => "current".to_owned(),
                    Some("uncommitted") => "outdated (changed in the work tree)".to_owned(),
                    Some(c) => format!("outdated (changed in {c})"),
                },
                None => String::new(),
            };
            let verified = if r.is_verified() {
                "verified".to_owned()
            } else {
                format!("not verified: {}", r.verification.label())
            };
            let state =
                if currency.is_empty() || !currency.starts_with("current") || !r.is_verified() {
                    "qms-approval-invalid"
                } else {
                    "qms-approval-valid"
                };
            let _ = write!(
                rows,
                "<li class=\"{state}\">{}{}, {}, {}, commit <code>{}</code>{}, {}{}</li>",
                escape(who),
                escape(&roles),
                escape(r.meaning.as_deref().unwrap_or("no meaning")),
                escape(&r.time),
                escape(&r.short),
                r.tag
                    .as_deref()
                    .map(|t| format!(" (tag <code>{}</code>)", escape(t)))
                    .unwrap_or_default(),
                escape(&verified),
                if currency.is_empty() {
                    String::new()
                } else {
                    format!(", {}", escape(&currency))
                },
            );
        }
        if rows.is_empty() {
            return String::new();
        }
        format!("\n<div class=\"qms-approvals\"><strong>Approvals</strong><ul>{rows}</ul></div>")
    }

    /// Outgoing links by field label, then incoming links by the inverse label. A hazard
    /// of the external safety file (no item) is listed with its field, named with the file.
    fn links(&self, index: usize) -> String {
        let project = self.project;
        let item = &project.items[index];
        let graph = &project.graph;
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        let mut add =
            |label: String, target: String| match groups.iter_mut().find(|(l, _)| *l == label) {
                Some((_, list)) => list.push(target),
                None => groups.push((label, vec![target])),
            };
        let def = project.types.get(&item.ty);
        for link in graph.out(index) {
            let label = def
                .and_then(|d| d.link(&link.field))
                .map_or(link.field.clone(), |l| l.label.clone());
            add(label, self.item_ref(link.to));
        }
        if let (Some(def), Some(file)) = (def, project.config.safety_file.as_ref()) {
            for field in &def.links {
                let ids = match item.fields.get(&field.name) {
                    Some(Value::String(id)) => vec![id.as_str()],
                    Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                for id in ids {
                    if graph.get(id).is_none()
                        && crate::link::is_external_hazard(field, Some(file), id)
                    {
                        add(
                            field.label.clone(),
                            format!(
                                "<span class=\"qms-external\">{}</span> (in {})",
                                escape(id),
                                escape(&file.name)
                            ),
                        );
                    }
                }
            }
        }
        for link in graph.inc(index) {
            let from_def = project.types.get(&project.items[link.from].ty);
            let label = from_def
                .and_then(|d| d.link(&link.field))
                .map_or(format!("{} (from)", link.field), |l| l.inverse.clone());
            add(label, self.item_ref(link.from));
        }
        let mut out = String::new();
        for (label, refs) in groups {
            let _ = write!(
                out,
                "<dt>{}</dt><dd>{}</dd>",
                escape(&label),
                refs.join(", ")
            );
        }
        out
    }

    fn source(&self, item: &Item) -> String {
        let sources = &self.project.sources;
        let file = match item.home {
            Home::File(f) => f,
            Home::Chapter { block, .. } => block.file,
        };
        let f = sources.get(file);
        let (line, _) = f.line_col(item.node.span.start);
        format!("{}:{line}", crate::source::display_path(&f.path))
    }
}

/// The "risk" row of a risk's card: before -> after, each with its verdict; empty for
/// other items.
fn score_row(risk: &RiskModel, index: usize) -> String {
    let Some(r) = risk.of(index) else {
        return String::new();
    };
    let scales = &risk.scales;
    let show = |l: &Option<Level>| match l {
        None => "<em>not scored</em>".to_owned(),
        Some(l) => {
            let cvss = l.cvss.as_ref().map_or(String::new(), |c| {
                format!(
                    " <span class=\"qms-cvss\">(CVSS {} {}, exploitability {})</span>",
                    c.version,
                    crate::risk::cvss::one_decimal(c.score),
                    crate::risk::cvss::one_decimal(c.exploitability)
                )
            });
            let (class, style, verdict) = if l.acceptable {
                ("qms-risk-acceptable", "background:#2e7d3233", "acceptable")
            } else {
                (
                    "qms-risk-unacceptable",
                    "background:#c6282844",
                    "unacceptable",
                )
            };
            format!(
                "{} severity &times; {} exploitability{cvss} <span class=\"qms-badge {class}\" style=\"{style}\">{verdict}</span>",
                escape(&scales.severity[l.severity]),
                escape(&scales.exploitability[l.exploitability]),
            )
        }
    };
    format!(
        "<tr class=\"qms-risk-score\"><th>risk</th><td>before: {}<br>after: {}</td></tr>",
        show(&r.before),
        show(&r.after)
    )
}
