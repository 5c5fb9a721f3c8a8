//! What Typst may see while it typesets a document: the generated source, the fonts
//! compiled into the binary and the document's own pictures, nothing else (no system
//! fonts, no files, no packages, no network), so a PDF depends only on the project.

use std::collections::HashMap;
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

/// The fonts of `typst-assets` (Libertinus Serif, New Computer Modern, DejaVu Sans Mono),
/// parsed once per process.
fn fonts() -> &'static (LazyHash<FontBook>, Vec<Font>) {
    static FONTS: OnceLock<(LazyHash<FontBook>, Vec<Font>)> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
    })
}

fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

/// A file id in the document's one folder.
pub(super) fn file_id(name: &str) -> Option<FileId> {
    let path = VirtualPath::new(name).ok()?;
    Some(RootedPath::new(VirtualRoot::Project, path).intern())
}

/// One document to typeset.
pub(super) struct DocumentWorld {
    main: Source,
    pictures: HashMap<FileId, Bytes>,
    today: Datetime,
}

impl DocumentWorld {
    /// `source` as the main file, `pictures` (SVG by file name) served by name, `today` what Typst's
    /// `datetime.today()` gives (the commit's day, never the clock).
    pub(super) fn new(source: String, pictures: Vec<(String, Vec<u8>)>, today: Datetime) -> Self {
        let main = file_id("main.typ").expect("a plain file name is a valid virtual path");
        DocumentWorld {
            main: Source::new(main, source),
            pictures: pictures
                .into_iter()
                .filter_map(|(name, svg)| Some((file_id(&name)?, Bytes::new(css_fallbacks(svg)))))
                .collect(),
            today,
        }
    }

    /// The generated source, for pointing at a line of it in a diagnostic.
    pub(super) fn main_source(&self) -> &Source {
        &self.main
    }
}

/// `svg` with each CSS `var(--name, fallback)` replaced by its fallback. The diagrams'
/// styles take the book theme's colours through variables, which Typst's SVG reader
/// does not resolve (it would paint every shape black); outside the book the fallbacks
/// are the colours meant.
fn css_fallbacks(svg: Vec<u8>) -> Vec<u8> {
    let Ok(text) = String::from_utf8(svg) else {
        return Vec::new();
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("var(--") {
        out.push_str(&rest[..at]);
        let call = &rest[at + "var(".len()..];
        // The call's end: the `)` that closes `var(`, past any nested parentheses.
        let mut depth = 0usize;
        let end = call.char_indices().find_map(|(i, c)| match c {
            '(' => {
                depth += 1;
                None
            }
            ')' if depth == 0 => Some(i),
            ')' => {
                depth -= 1;
                None
            }
            _ => None,
        });
        let Some(end) = end else {
            out.push_str(&rest[at..]);
            rest = "";
            break;
        };
        match call[..end].split_once(',') {
            Some((_, fallback)) => out.push_str(fallback.trim()),
            // No fallback: leave the call as it is.
            None => out.push_str(&rest[at..at + "var(".len() + end + 1]),
        }
        rest = &call[end + 1..];
    }
    out.push_str(rest);
    out.into_bytes()
}

impl World for DocumentWorld {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().0
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.clone()));
        }
        self.pictures
            .get(&id)
            .cloned()
            .ok_or(FileError::AccessDenied)
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().1.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_variables_become_their_fallbacks() {
        let svg = "a{fill:var(--fg,#222);stroke:var(--x, rgb(1, 2, 3))}b{fill:var(--y)}";
        assert_eq!(
            String::from_utf8(css_fallbacks(svg.into())).unwrap(),
            "a{fill:#222;stroke:rgb(1, 2, 3)}b{fill:var(--y)}"
        );
    }
}
