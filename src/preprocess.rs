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
use crate::directive::Kind;
use crate::linked::LoadOptions;
use crate::load::{ChapterSource, GivenChapter};
use crate::output::Failure;
use crate::pipeline;
use crate::project::Project;
use crate::render::{self, Download, Downloads};
use crate::report::{self, Format};

/// Where `{{#qms downloads}}` files go: the in-process build collects them to write
/// after mdBook has rendered; the stdin protocol has nowhere to put them.
pub(crate) type DownloadSink = Arc<Mutex<BTreeMap<String, Vec<u8>>>>;

/// Checks and renders a book in place. Returns the diagnostics text (warnings) on
/// success, for the caller to log. `build_dir` is the folder mdBook will empty and
/// write the book to, when mdBook (not `build`) runs us.
pub(crate) fn apply(
    root: &Path,
    items: &mut Vec<BookItem>,
    sink: Option<&DownloadSink>,
    build_dir: Option<&Path>,
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
    let loaded =
        pipeline::load_with_documents(root, ChapterSource::Given(given), LoadOptions::default());
    let (mut project, documents) = loaded.map_err(|fatal| {
        Failure::Usage(report::render(
            Format::Human,
            &[*fatal.0],
            &Default::default(),
        ))
    })?;
    if let Some(dir) = build_dir {
        check_build_dir(&mut project, dir);
    }
    let downloads = if project.diagnostics.has_errors() {
        Downloads::NotWritten
    } else {
        downloads(&mut project, sink)?
    };
    let text = diagnostics_text(&project.diagnostics, &project);
    if project.diagnostics.has_errors() {
        return Err(Failure::Book(text));
    }
    let rendered = render::render_book(&project, &documents, &downloads);
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

/// mdBook empties its build folder before writing the book into it: failing the
/// preprocessor stops it before it does, when that folder holds the project's sources.
fn check_build_dir(project: &mut Project, dir: &Path) {
    let sources = crate::output::Sources::of(&project.config);
    let Err(why) = sources.refuse_if_in_sources(dir) else {
        return;
    };
    let mut d = Diagnostic::new(
        code::BUILD_DIR_IN_SOURCES,
        format!(
            "mdBook would empty its build folder {} and write the book there, but {why}",
            dir.display()
        ),
    )
    .help("set [build] build-dir in book.toml to a folder outside the sources, e.g. build-dir = \"build\" (without it mdBook uses `book`)");
    let written = project.config.build_dir.clone();
    d = match (written, project.config.file) {
        (Some((value, span)), _)
            if crate::output::resolve(&project.config.root.join(&value))
                == crate::output::resolve(dir) =>
        {
            d.at(span)
        }
        (_, Some(file)) => d.in_file(file),
        _ => d,
    };
    project.report(d);
}

/// The files a `{{#qms downloads}}` directive lists: computed and handed to `sink`, or,
/// without one, a warning at each such directive.
fn downloads(project: &mut Project, sink: Option<&DownloadSink>) -> Result<Downloads, Failure> {
    let places: Vec<crate::source::Span> = project
        .chapters
        .iter()
        .flat_map(|c| &c.directives)
        .filter(|d| d.kind == Kind::Downloads)
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

fn generated_item(chapter: crate::page::GeneratedChapter, parent_names: Vec<String>) -> BookItem {
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
pub(crate) struct QmsPreprocessor {
    downloads: DownloadSink,
}

impl Preprocessor for QmsPreprocessor {
    fn name(&self) -> &str {
        "qms"
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> anyhow::Result<Book> {
        // `build` chose and checked its own output folder.
        let warnings = apply(&ctx.root, &mut book.items, Some(&self.downloads), None)?;
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
    // mdBook sends its whole configuration, `build-dir` included; `book` is its default.
    let build_dir = context
        .pointer("/config/build/build-dir")
        .and_then(Value::as_str)
        .unwrap_or("book");
    let warnings = apply(&root, &mut items, None, Some(&root.join(build_dir)))?;
    book[key] = serde_json::to_value(&items).map_err(|e| usage(e.to_string()))?;
    serde_json::to_writer(output, &book)
        .map_err(|e| usage(format!("mdbook-qms: cannot write the book: {e}")))?;
    Ok(warnings)
}

/// The file that marks a folder as a book `mdbook-qms build` wrote, and lists its files:
/// the next build replaces such a folder, unless files were added to it since.
pub(crate) const BUILD_MARKER: &str = ".mdbook-qms-build";

/// The first line of [`BUILD_MARKER`]; the lines after the comment are the book's files.
const MARKER_FORMAT: &str = "# mdbook-qms-build/1";

/// Builds the HTML book in-process with the preprocessor registered, so no separate
/// mdBook install is needed. The book is rendered into a temporary folder beside the
/// destination and swapped in, so an interrupted or failed build leaves the old book.
/// The destination may not be, contain or lie inside the project's sources, and an
/// existing one is replaced only when it is empty or a book this function wrote.
pub fn build(root: &Path, dest: Option<&Path>) -> Result<PathBuf, Failure> {
    if !root.join("book.toml").is_file() {
        return Err(Failure::Usage(format!(
            "no book.toml in {}",
            root.display()
        )));
    }
    let mut config = mdbook_driver::config::Config::from_disk(root.join("book.toml"))
        .map_err(|e| Failure::Usage(format!("book.toml: {e:#}")))?;
    let wanted = match dest {
        Some(dest) => dest.to_path_buf(),
        None => root.join(&config.build.build_dir),
    };
    let dest_dir = crate::output::Sources::of_project(root)
        .refuse_if_in_sources(&wanted)
        .map_err(|why| {
            let fix = match dest {
                Some(_) => "choose a --dest-dir outside them".to_owned(),
                None => format!(
                    "set [build] build-dir in book.toml to a folder outside them, e.g. build-dir = \"build\", or pass --dest-dir (build-dir is now `{}`; without it mdBook uses `book`, where mdbook-qms projects keep their chapters)",
                    config.build.build_dir.display()
                ),
            };
            Failure::Usage(format!(
                "error: refusing to build the book into {}: {why}. A build replaces its output folder, and the project's sources are never replaced; {fix}",
                wanted.display()
            ))
        })?;
    let cannot = |e: &dyn std::fmt::Display| {
        Failure::Usage(format!(
            "error: cannot build the book into {}: {e}",
            wanted.display()
        ))
    };
    let staged = crate::output::stage(&dest_dir, built_book).map_err(|e| cannot(&e))?;
    config.build.build_dir = staged.path().to_path_buf();
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
            let rel = folder.join(path);
            let rel = rel.strip_prefix(staged.path()).unwrap_or(&rel);
            staged.write(rel, bytes).map_err(|e| cannot(&e))?;
        }
    }
    let written = crate::output::files(staged.path()).map_err(|e| cannot(&e))?;
    // mdBook writes without syncing; the swap must not reach the disk before its files.
    crate::output::sync_files(staged.path(), &written).map_err(|e| cannot(&e))?;
    let mut marker = format!(
        "{MARKER_FORMAT}\n# This folder is a book that `mdbook-qms build` wrote; these are its files.\n# The next build replaces it, unless a file not listed here was added to it.\n"
    );
    for file in &written {
        marker.push_str(file);
        marker.push('\n');
    }
    staged
        .write(Path::new(BUILD_MARKER), marker.as_bytes())
        .and_then(|()| staged.finish())
        .map_err(|e| cannot(&e))?;
    Ok(dest_dir)
}

/// `Ok` when `dir` holds a book `mdbook-qms build` wrote and nothing added since.
fn built_book(dir: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(dir.join(BUILD_MARKER)).unwrap_or_default();
    let mut lines = text.lines();
    if lines.next() != Some(MARKER_FORMAT) {
        return Err(format!(
            "it exists and is not a book mdbook-qms built (it has files and no {BUILD_MARKER}); move its files elsewhere or choose another folder"
        ));
    }
    let mut listed: std::collections::BTreeSet<&str> =
        lines.filter(|l| !l.starts_with("# ")).collect();
    listed.insert(BUILD_MARKER);
    let added = crate::output::unlisted_files(dir, &listed)?;
    if added.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "it is a book mdbook-qms built, with files added since ({}); move them out or choose another folder",
            added.join(", ")
        ))
    }
}
