//! What every HTML producer renders for: a [`Page`] (the project, every item's home
//! page and the page a fragment lands on), the shared styles, and generated chapters.
//! Documents and the book's renderer both build on it.

pub mod place;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::html::escape;
use crate::project::Project;

/// What a fragment is rendered for: the project, every item's home page, and the page
/// the fragment lands on (links are relative to it).
pub struct Page<'a> {
    pub project: &'a Project,
    pub homes: &'a [Option<PathBuf>],
    pub path: &'a Path,
}

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

/// Styles for cards, tables and matrices, using mdBook's theme variables so that every
/// theme (light, rust, coal, navy, ayu) stays readable. Injected once per page.
pub const STYLE: &str = "<style>\
.qms-card{border:1px solid var(--table-border-color);border-radius:6px;padding:0.2em 1em 0.6em;margin:1em 0;background:var(--bg)}\
.qms-card-title{margin:0.5em 0}\
.qms-id{font-family:var(--mono-font,monospace)}\
.qms-badge{font-size:0.75em;padding:0.1em 0.5em;border-radius:1em;border:1px solid var(--table-border-color);vertical-align:middle;font-weight:normal}\
.qms-status-approved{background:#2e7d3233}.qms-status-review{background:#f9a82533}.qms-status-draft{background:#9e9e9e33}.qms-status-obsolete{text-decoration:line-through}\
.qms-kind{font-size:0.75em;color:var(--sidebar-fg,gray);font-weight:normal}\
.qms-fields{margin:0.5em 0}.qms-fields th{text-align:left;white-space:nowrap;background:none;font-weight:bold}\
.qms-links{display:grid;grid-template-columns:max-content auto;gap:0.2em 1em;margin:0.5em 0}\
.qms-links dt{font-weight:bold;margin:0}.qms-links dd{margin:0}\
.qms-history{font-size:0.8em;color:var(--sidebar-fg,gray)}.qms-history p{margin:0.2em 0}.qms-source{font-size:0.75em;color:var(--sidebar-fg,gray)}\
.qms-uncovered td{background:#c6282822}.qms-gap{color:#c62828;font-weight:bold}\
.qms-matrix caption{caption-side:top;text-align:left;font-weight:bold}\
.qms-links .qms-ref,.qms-table .qms-ref,.qms-matrix .qms-ref{white-space:nowrap}\
.qms-missing{text-decoration:underline wavy #c62828}\
.qms-downloads td:nth-child(3){white-space:nowrap}\
.qms-result-passed{background:#2e7d3233}.qms-result-failed{background:#c6282855;font-weight:bold}.qms-result-skipped,.qms-result-stale{background:#f9a82544}.qms-result-missing{background:#c6282822}\
</style>";

/// A chapter mdBook does not know about: one per type for the items no chapter places,
/// with a sub-chapter per item file.
pub struct GeneratedChapter {
    /// Relative to the book's `src`.
    pub path: PathBuf,
    pub name: String,
    pub content: String,
    pub children: Vec<GeneratedChapter>,
}
