//! mdBook glue: the preprocessor (in-process and over stdin/stdout) and `build`.
//!
//! The stdin protocol accepts both mdBook 0.5 books (`items`) and 0.4 books
//! (`sections`): we read the JSON as a plain value, convert only the chapter array (whose
//! shape did not change) and write it back under the key it came in, leaving the rest of
//! the input untouched. `mdbook_preprocessor::parse_input` would reject 0.4 input.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mdbook_preprocessor::book::{Book, BookItem, Chapter};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use serde_json::Value;

use crate::diag::{code, Diagnostic, Diagnostics};
use crate::project::{ChapterSource, GivenChapter, Project};
use crate::render::{self, Download, Downloads};
use crate::report::{self, Format};

/// Why preprocessing failed.
#[derive(Debug)]
pub enum Failure {
    /// The book has errors; the text is the rendered diagnostics.
    Book(String),
    /// Usage or I/O: unreadable input, no book.toml, ...
    Usage(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Book(text) | Failure::Usage(text) => f.write_str(text.trim_end()),
        }
    }
}

impl std::error::Error for Failure {}

/// Where `{{#qms downloads}}` files go: the in-process build collects them to write
/// after mdBook has rendered; the stdin protocol has nowhere to put them.
pub type DownloadSink = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;

/// Checks and renders a book in place. Returns the diagnostics text (warnings) on
/// success, for the caller to log.
pub fn apply(
    root: &Path,
    items: &mut Vec<BookItem>,
    sink: Option<&DownloadSink>,
) -> Result<String, Failure> {
    let mut given = Vec::new();
    visit(items, &mut |ch| {
        if let Some(path) = &ch.path {
            given.push(GivenChapter {
                path: path.clone(),
                source_path: ch.source_path.clone(),
                content: ch.content.clone(),
            });
        }
    });
    let mut project = Project::load(root, ChapterSource::Given(given)).map_err(|fatal| {
        Failure::Usage(report::render(
            Format::Human,
            &[*fatal.0],
            &Default::default(),
        ))
    })?;
    let downloads = if project.diagnostics.has_errors() {
        Downloads::NotWritten
    } else {
        downloads(&mut project, sink)?
    };
    let text = diagnostics_text(&project.diagnostics, &project);
    if project.diagnostics.has_errors() {
        return Err(Failure::Book(text));
    }
    let rendered = render::render_book(&project, &downloads);
    let mut contents = rendered.chapters.into_iter();
    visit(items, &mut |ch| {
        if ch.path.is_some() {
            if let Some(content) = contents.next() {
                ch.content = content;
            }
        }
    });
    if !rendered.generated.is_empty() {
        items.push(BookItem::PartTitle("Items by type".into()));
        items.extend(
            rendered
                .generated
                .into_iter()
                .map(|g| generated_item(g, Vec::new())),
        );
    }
    Ok(text)
}

/// The files a `{{#qms downloads}}` directive lists: computed and handed to `sink`, or,
/// without one, a warning at each such directive.
fn downloads(project: &mut Project, sink: Option<&DownloadSink>) -> Result<Downloads, Failure> {
    let places: Vec<crate::source::Span> = project
        .chapters
        .iter()
        .flat_map(|c| &c.directives)
        .filter(|d| d.name == "downloads")
        .map(|d| d.span)
        .collect();
    if places.is_empty() {
        return Ok(Downloads::NotWritten);
    }
    let Some(sink) = sink else {
        for span in places {
            project.report(
                Diagnostic::new(
                    code::DOWNLOADS_NOT_WRITTEN,
                    "`mdbook build` cannot add the download files to the book, so this list stays empty",
                )
                .at(span)
                .help("build the book with `mdbook-qms build`, which writes them under qms/downloads/"),
            );
        }
        return Ok(Downloads::NotWritten);
    };
    let files = crate::export::downloads(project).map_err(Failure::Usage)?;
    let mut list: Vec<Download> = files
        .iter()
        .map(|(path, bytes)| Download {
            path: path.clone(),
            what: crate::export::describe(path),
            size: bytes.len(),
            sha256: crate::export::sha256_hex(bytes),
        })
        .collect();
    // The manifest closes the list, as in a bundle's README.
    list.sort_by_key(|d| d.path == "MANIFEST.sha256");
    *sink.lock().unwrap_or_else(|e| e.into_inner()) = files;
    Ok(Downloads::Written(list))
}

fn generated_item(chapter: render::GeneratedChapter, parent_names: Vec<String>) -> BookItem {
    let mut names = parent_names.clone();
    names.push(chapter.name.clone());
    BookItem::Chapter(Chapter {
        sub_items: chapter
            .children
            .into_iter()
            .map(|c| generated_item(c, names.clone()))
            .collect(),
        name: chapter.name,
        content: chapter.content,
        path: Some(chapter.path),
        source_path: None,
        parent_names,
        ..Default::default()
    })
}

fn diagnostics_text(diags: &Diagnostics, project: &Project) -> String {
    if diags.0.is_empty() {
        String::new()
    } else {
        report::render(Format::Human, &diags.0, &project.sources)
    }
}

/// Depth-first, parents before children: the order chapters appear in the book.
fn visit(items: &mut [BookItem], f: &mut dyn FnMut(&mut Chapter)) {
    for item in items {
        if let BookItem::Chapter(ch) = item {
            f(ch);
            visit(&mut ch.sub_items, f);
        }
    }
}

/// The preprocessor registered with `mdbook-driver` by `build`.
pub struct QmsPreprocessor {
    downloads: DownloadSink,
}

impl Preprocessor for QmsPreprocessor {
    fn name(&self) -> &str {
        "qms"
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> anyhow::Result<Book> {
        let warnings = apply(&ctx.root, &mut book.items, Some(&self.downloads))?;
        if !warnings.is_empty() {
            eprint!("{warnings}");
        }
        Ok(book)
    }

    fn supports_renderer(&self, _renderer: &str) -> anyhow::Result<bool> {
        Ok(true)
    }
}

/// The stdin/stdout protocol: `[context, book]` in, the book out.
pub fn run_protocol(input: impl Read, output: impl Write) -> Result<String, Failure> {
    let usage = |m: String| Failure::Usage(m);
    let value: Value = serde_json::from_reader(input).map_err(|e| {
        usage(format!(
            "mdbook-qms: the input is not mdBook's preprocessor JSON: {e}"
        ))
    })?;
    let Value::Array(mut pair) = value else {
        return Err(usage(
            "mdbook-qms: expected a JSON array [context, book] on stdin".into(),
        ));
    };
    if pair.len() != 2 {
        return Err(usage(
            "mdbook-qms: expected a JSON array [context, book] on stdin".into(),
        ));
    }
    let mut book = pair.pop().unwrap_or_default();
    let context = pair.pop().unwrap_or_default();
    let root = context
        .get("root")
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .ok_or_else(|| usage("mdbook-qms: the context has no `root`".into()))?;
    let key = if book.get("items").is_some() {
        "items"
    } else {
        "sections"
    };
    let chapters = book.get_mut(key).map(Value::take).ok_or_else(|| {
        usage("mdbook-qms: the book has neither `items` (mdBook 0.5) nor `sections` (0.4)".into())
    })?;
    let mut items: Vec<BookItem> = serde_json::from_value(chapters)
        .map_err(|e| usage(format!("mdbook-qms: cannot read the book's chapters: {e}")))?;
    let warnings = apply(&root, &mut items, None)?;
    book[key] = serde_json::to_value(&items).map_err(|e| usage(e.to_string()))?;
    serde_json::to_writer(output, &book)
        .map_err(|e| usage(format!("mdbook-qms: cannot write the book: {e}")))?;
    Ok(warnings)
}

/// Builds the HTML book in-process with the preprocessor registered, so no separate
/// mdBook install is needed.
pub fn build(root: &Path, dest: Option<&Path>) -> Result<PathBuf, Failure> {
    if !root.join("book.toml").is_file() {
        return Err(Failure::Usage(format!(
            "no book.toml in {}",
            root.display()
        )));
    }
    let mut config = mdbook_driver::config::Config::from_disk(root.join("book.toml"))
        .map_err(|e| Failure::Usage(format!("book.toml: {e:#}")))?;
    if let Some(dest) = dest {
        config.build.build_dir = std::path::absolute(dest).unwrap_or_else(|_| dest.to_path_buf());
    }
    let build_dir = root.join(&config.build.build_dir);
    // mdBook empties the build folder first: never let that be the sources.
    let src_dir = root.join(&config.book.src);
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b || b.starts_with(&a),
        _ => false,
    };
    if same(&build_dir, &src_dir) || same(&build_dir, root) {
        return Err(Failure::Usage(format!(
            "the build folder {} would overwrite the book's sources; set [build] build-dir in book.toml or pass --dest-dir",
            build_dir.display()
        )));
    }
    let mut book = mdbook_driver::MDBook::load_with_config(root, config)
        .map_err(|e| Failure::Usage(format!("{e:#}")))?;
    let downloads = DownloadSink::default();
    book.with_preprocessor(QmsPreprocessor {
        downloads: downloads.clone(),
    });
    book.build().map_err(|e| {
        // A book error comes back wrapped by mdBook; show our diagnostics as they were.
        match e.chain().find_map(|c| c.downcast_ref::<Failure>()) {
            Some(Failure::Book(text)) => Failure::Book(text.clone()),
            _ => Failure::Usage(format!("{e:#}")),
        }
    })?;
    let files = std::mem::take(&mut *downloads.lock().unwrap_or_else(|e| e.into_inner()));
    let html = book.build_dir_for("html");
    // Only beside an HTML book (a book.toml may configure other renderers only).
    if !files.is_empty() && html.join("index.html").is_file() {
        let folder = html.join(render::DOWNLOADS_FOLDER);
        for (path, bytes) in &files {
            let target = folder.join(path);
            std::fs::create_dir_all(target.parent().unwrap_or(&folder))
                .and_then(|()| crate::atomic::write(&target, bytes))
                .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", target.display())))?;
        }
    }
    Ok(build_dir)
}
