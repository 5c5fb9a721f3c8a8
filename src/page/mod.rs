//! What every HTML producer renders for: a [`Page`] (the project, every item's home
//! page and the page a fragment lands on), the shared styles, and generated chapters.
//! Documents and the book's renderer both build on it.

pub(crate) mod css;
pub mod place;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::html::escape;
use crate::project::Project;

/// What a fragment is rendered for: the project, every item's home page, and the page
/// the fragment lands on (links are relative to it).
pub struct Page<'a> {
    /// The project the fragment shows.
    pub project: &'a Project,
    /// Every item's home chapter, by item index (see [`place::homes`]).
    pub homes: &'a [Option<PathBuf>],
    /// The chapter the fragment lands on, relative to the book's `src`.
    pub path: &'a Path,
}

impl Page<'_> {
    /// An inline link to an item, with its title on hover.
    pub(crate) fn item_ref(&self, index: usize) -> String {
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
    pub(crate) fn item_url(&self, index: usize) -> Option<String> {
        let home = self.homes[index].as_ref()?;
        Some(place::url(self.path, home, &self.project.items[index].id))
    }

    /// A field value as HTML; strings that name items become links. A list of mappings
    /// (a test's `findings`) is a list, one mapping per line.
    pub(crate) fn value(&self, value: &Value) -> String {
        match value {
            Value::Array(list) if !list.is_empty() && list.iter().all(Value::is_object) => {
                let entries: String = list
                    .iter()
                    .map(|v| format!("<li>{}</li>", self.value(v)))
                    .collect();
                format!("<ul>{entries}</ul>")
            }
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
pub(crate) const STYLE: &str = css::QMS;

/// A chapter mdBook does not know about: one per type for the items no chapter places,
/// with a sub-chapter per item file.
pub struct GeneratedChapter {
    /// Relative to the book's `src`.
    pub path: PathBuf,
    /// The chapter's title in the book's table of contents.
    pub name: String,
    pub(crate) content: String,
    pub(crate) children: Vec<GeneratedChapter>,
}
