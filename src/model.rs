//! The items of a project and the chapters that hold or place them.

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::directive::Directive;
use crate::source::{FileId, Span};
use crate::yaml::Node;

/// Where an item is written.
#[derive(Debug, Clone, Copy)]
pub enum Home {
    /// A YAML file under an item folder.
    File(FileId),
    /// A ```` ```qms ```` block in a chapter.
    Chapter {
        /// Index into the project's chapters.
        chapter: usize,
        /// The whole fence.
        block: Span,
    },
}

/// A validated item.
#[derive(Debug, Clone)]
pub struct Item {
    /// The item's id (`REQ-SYS-001`).
    pub id: String,
    /// The name of the item's type (`requirement`).
    pub ty: String,
    pub(crate) title: String,
    /// The fields as written, as JSON.
    pub(crate) fields: Map<String, Value>,
    /// The same mapping with source spans, for diagnostics.
    pub(crate) node: Node,
    /// Where the item is written.
    pub home: Home,
}

impl Item {
    /// The span of a field's value, or of the whole item. An item copied by a YAML alias
    /// (`- *pump`) keeps the spans of the anchored original inside it; its fields are
    /// then reported at the alias, where the copy is written.
    pub(crate) fn span_of(&self, field: &str) -> Span {
        match self.node.get(field) {
            Some((_, v)) if self.node.span.contains(v.span) => v.span,
            _ => self.node.span,
        }
    }

    pub(crate) fn status(&self) -> &str {
        self.fields
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("draft")
    }

    /// A field's value when it is a string.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }
}

/// An item as read from YAML, before validation.
#[derive(Debug)]
pub(crate) struct RawItem {
    pub(crate) node: Node,
    pub(crate) home: Home,
}

/// A chapter of the book: its file and what it contains.
#[derive(Debug)]
pub(crate) struct Chapter {
    /// Path relative to the book's source folder, as in SUMMARY.md.
    pub(crate) path: PathBuf,
    pub(crate) file: FileId,
    pub(crate) directives: Vec<Directive>,
}
