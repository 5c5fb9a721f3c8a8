//! Source files and byte spans.
//!
//! Every diagnostic points into a [`SourceFile`] through a [`Span`]; line and column are
//! computed only when a diagnostic is printed, so loading stays cheap.

use std::path::{Path, PathBuf};

/// Index of a file in the [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range inside one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset just past the last byte.
    pub end: usize,
}

impl Span {
    /// Whether `other` starts inside this span (in the same file).
    pub(crate) fn contains(&self, other: Span) -> bool {
        self.file == other.file && (self.start..=self.end).contains(&other.start)
    }
}

/// A file read from the project, with its path relative to the project root.
#[derive(Debug)]
pub struct SourceFile {
    /// Relative to the project root.
    pub path: PathBuf,
    /// The file's contents.
    pub text: String,
    line_starts: Vec<usize>,
    ascii: bool,
}

impl SourceFile {
    /// A file with its line starts indexed, so spans turn into lines and columns quickly.
    pub fn new(path: PathBuf, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let ascii = text.is_ascii();
        SourceFile {
            path,
            text,
            line_starts,
            ascii,
        }
    }

    /// ASCII files let YAML character indexes be used as byte offsets directly.
    pub(crate) fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        // A span computed by byte arithmetic may end inside a character: never panic on it.
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let column = self.text[start..offset].chars().count() + 1;
        (line + 1, column)
    }

    /// Byte offset of a 1-based line and 0-based character column.
    pub(crate) fn offset(&self, line: usize, char_col: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        rest.char_indices()
            .nth(char_col)
            .map(|(i, _)| start + i)
            .unwrap_or_else(|| start + rest.find('\n').unwrap_or(rest.len()))
    }

    /// The text of the 1-based line, without its line break.
    pub(crate) fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches('\r')
    }
}

/// All files the project was read from. Files are only added, never removed, so a
/// [`FileId`] stays valid for the whole run.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub(crate) fn add(&mut self, path: PathBuf, text: String) -> FileId {
        self.files.push(SourceFile::new(path, text));
        FileId(self.files.len() as u32 - 1)
    }

    /// The file `id` names.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }
}

/// Turns a path into the `/`-separated form used in diagnostics and JSON output.
pub fn display_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
