//! Item cards and inline references.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::html::{escape, generated_markdown, markdown};
use super::place;
use crate::model::{Home, Item};
use crate::project::Project;

/// What a fragment is rendered for: the project, every item's home page, and the page
/// the fragment lands on (links are relative to it).
pub struct Page<'a> {
    pub project: &'a Project,
    pub homes: &'a [Option<PathBuf>],
    pub path: &'a Path,
}

/// Fields shown in the card header or elsewhere, not in the field table.
const HEADER_FIELDS: &[&str] = &["id", "type", "title", "text", "status", "attributes"];

impl Page<'_> {
    /// An inline link to an item, with its title on hover.
    pub fn item_ref(&self, index: usize) -> String {
        let item = &self.project.items[index];
        let title = escape(&item.title);
        let id = escape(&item.id);
        match &self.homes[index] {
            Some(home) => format!(
                r#"<a class="qms-ref" href="{}" title="{title}">{id}</a>"#,
                escape(&place::url(self.path, home, &item.id))
            ),
            None => format!(r#"<span class="qms-ref" title="{title}">{id}</span>"#),
        }
    }

    /// The URL of an item's card relative to this page, if the item is in the book.
    pub fn item_url(&self, index: usize) -> Option<String> {
        let home = self.homes[index].as_ref()?;
        Some(place::url(self.path, home, &self.project.items[index].id))
    }

    /// A link to an id that may name no item (renders as text then).
    pub fn id_ref(&self, id: &str) -> String {
        match self.project.graph.get(id) {
            Some(i) => self.item_ref(i),
            None => format!(r#"<span class="qms-ref qms-missing">{}</span>"#, escape(id)),
        }
    }

    /// The card of an item: anchor, title, status, text, fields, links both ways, source.
    pub fn card(&self, index: usize) -> String {
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
        let result = crate::evidence::render::badge(self, index);
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
        let mut rows = crate::risk::score_row(project, index);
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
        let history = crate::history::render::history_compact(&project.history, &item.id);
        if !history.is_empty() {
            let _ = write!(
                out,
                "\n<div class=\"qms-history\">{}</div>",
                generated_markdown(&history)
            );
        }
        let _ = write!(
            out,
            "\n<div class=\"qms-source\">{}</div></div>",
            escape(&self.source(item))
        );
        out
    }

    /// Outgoing links by field label, then incoming links by the inverse label.
    fn links(&self, index: usize) -> String {
        let project = self.project;
        let item = &project.items[index];
        let graph = &project.graph;
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        let mut add =
            |label: String, target: usize| match groups.iter_mut().find(|(l, _)| *l == label) {
                Some((_, list)) => list.push(target),
                None => groups.push((label, vec![target])),
            };
        let def = project.types.get(&item.ty);
        for link in graph.out(index) {
            let label = def
                .and_then(|d| d.link(&link.field))
                .map_or(link.field.clone(), |l| l.label.clone());
            add(label, link.to);
        }
        for link in graph.inc(index) {
            let from_def = project.types.get(&project.items[link.from].ty);
            let label = from_def
                .and_then(|d| d.link(&link.field))
                .map_or(format!("{} (from)", link.field), |l| l.inverse.clone());
            add(label, link.from);
        }
        let mut out = String::new();
        for (label, targets) in groups {
            let refs: Vec<String> = targets.iter().map(|&t| self.item_ref(t)).collect();
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

    /// A field value as HTML; strings that name items become links.
    pub fn value(&self, value: &Value) -> String {
        match value {
            Value::String(s) => match self
                .project
                .graph
                .get(s)
                .or_else(|| self.project.graph.purls.get(s).copied())
            {
                Some(i) => self.item_ref(i),
                None => escape(s),
            },
            Value::Array(list) => list
                .iter()
                .map(|v| self.value(v))
                .collect::<Vec<_>>()
                .join(", "),
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| format!("{}: {}", escape(k), self.value(v)))
                .collect::<Vec<_>>()
                .join("; "),
            Value::Null => String::new(),
            other => escape(&other.to_string()),
        }
    }
}
