//! Stage 1, load: read item files and chapters into raw YAML items and directives.
//!
//! Files are read and parsed in parallel; everything else sees them only through the
//! [`SourceMap`], so spans stay valid to the end of the run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use rayon::prelude::*;

use crate::config::Config;
use crate::diag::{code, Diagnostic, Diagnostics};
use crate::directive;
use crate::model::{Chapter, Home, RawItem};
use crate::project_files::{self, Depth, ProjectFiles, Refusal, Unread};
use crate::source::{display_path, FileId, SourceMap, Span};
use crate::yaml::{self, Node, Origin, Value, YamlErrorKind};

/// Where the chapters come from.
pub enum ChapterSource {
    /// Read SUMMARY.md and the files it lists.
    Disk,
    /// The chapters mdBook passed in.
    Given(Vec<GivenChapter>),
}

/// A chapter as mdBook hands it to a preprocessor.
pub struct GivenChapter {
    /// Where the page is rendered, relative to `src` (README.md is already index.md).
    pub(crate) path: PathBuf,
    /// The file it was read from, relative to `src`, for diagnostics (`None` for
    /// chapters another preprocessor made up).
    pub(crate) source_path: Option<PathBuf>,
    pub(crate) content: String,
}

/// The project's template overrides (`templates/*.j2`), read once at load time into the
/// source map: `check`, `build` and `render` see the same bytes, and rendering a
/// document reads no file.
#[derive(Debug, Default)]
pub(crate) struct TemplateFiles {
    /// By file name (`security-labeling.md.j2`).
    pub(crate) files: BTreeMap<String, FileId>,
    /// The first template that could not be read, as reported: a document rendered on
    /// its own (`render`, `export`) stops on it.
    pub(crate) unreadable: Option<Diagnostic>,
}

/// Reads the `*.j2` files directly in the project's templates folder, by the rule every
/// reader follows (`project_files`); what is not read is reported.
pub(crate) fn templates(
    config: &Config,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> TemplateFiles {
    let root = &config.root;
    let listing = ProjectFiles::new(root).list(
        [config.templates.as_path()],
        Depth::Flat,
        |name| name.ends_with(".j2") && !name.starts_with('.'),
        code::LINK_OUTSIDE_PROJECT,
    );
    let mut unread = listing.unread;
    let mut templates = TemplateFiles::default();
    for path in listing.files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let shown = display_path(&path);
        let failed = match std::fs::read(root.join(&path)).map(String::from_utf8) {
            Ok(Ok(text)) => {
                templates.files.insert(name, sources.add(path, text));
                continue;
            }
            Ok(Err(_)) => {
                Diagnostic::new(code::FILE_NOT_UTF8, format!("{shown} is not valid UTF-8"))
            }
            Err(e) => Diagnostic::new(code::IO_ERROR, format!("cannot read {shown}: {e}")),
        };
        unread.push(Unread {
            path,
            diagnostic: failed,
        });
    }
    templates.unreadable = unread
        .iter()
        .map(|u| &u.diagnostic)
        .find(|d| d.severity == crate::diag::Severity::Error)
        .cloned();
    project_files::report(unread, sources, diags);
    templates
}

/// Lists the YAML files under the configured item folders, sorted so that output does
/// not depend on directory order. A missing folder is a diagnostic; so is a link that
/// leads out of the project (see [`project_files`]), which is not read.
pub(crate) fn item_files(
    config: &Config,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Vec<PathBuf> {
    let project = ProjectFiles::new(&config.root);
    for (i, folder) in config.items.iter().enumerate() {
        let missing = match project.resolve(folder) {
            Ok((_, t)) => !t.is_dir(),
            Err(why) => why == Refusal::Missing { link: None },
        };
        if missing {
            let mut d = Diagnostic::new(
                code::FOLDER_MISSING,
                format!("item folder `{}` does not exist", display_path(folder)),
            )
            .help("create it, or change `items` in [preprocessor.qms]");
            if let Some(span) = config.item_spans.get(i).copied().flatten() {
                d = d.at(span);
            } else if let Some(file) = config.file {
                d = d.in_file(file);
            }
            diags.push(d);
        }
    }
    let listing = project.list(
        config.items.iter().map(PathBuf::as_path),
        Depth::Deep,
        |name| {
            Path::new(name)
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml")
        },
        code::LINK_OUTSIDE_PROJECT,
    );
    project_files::report(listing.unread, sources, diags);
    listing.files
}

/// Reads files (relative to `root`) in parallel and adds them to the source map in the
/// given order. Unreadable and non-UTF-8 files become diagnostics.
pub(crate) fn read_files(
    root: &Path,
    paths: Vec<PathBuf>,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Vec<FileId> {
    // The error side keeps what text there is (lossy for non-UTF-8) and the bad offset,
    // so the diagnostic can point at line:column.
    type Failed = (Diagnostic, String, Option<usize>);
    let read: Vec<(PathBuf, Result<String, Failed>)> = paths
        .into_par_iter()
        .map(|rel| {
            let text = match std::fs::read(root.join(&rel)) {
                Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
                    let valid = e.utf8_error().valid_up_to();
                    let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                    let d = Diagnostic::new(
                        code::FILE_NOT_UTF8,
                        format!(
                            "{} is not valid UTF-8 (first bad byte at offset {valid})",
                            display_path(&rel)
                        ),
                    )
                    .help("save the file as UTF-8");
                    (d, lossy, Some(valid))
                }),
                Err(e) => Err((
                    Diagnostic::new(
                        code::IO_ERROR,
                        format!("cannot read {}: {e}", display_path(&rel)),
                    ),
                    String::new(),
                    None,
                )),
            };
            (rel, text)
        })
        .collect();
    let mut ids = Vec::new();
    for (rel, text) in read {
        match text {
            Ok(text) => ids.push(sources.add(rel, text)),
            Err((d, text, bad)) => {
                // Keep the file known so the diagnostic can name it; it is not parsed.
                let id = sources.add(rel, text);
                diags.push(match bad {
                    // The bad bytes became U+FFFD (3 bytes) in the lossy text.
                    Some(at) => d.at(Span {
                        file: id,
                        start: at,
                        end: at + 3,
                    }),
                    None => d.in_file(id),
                });
            }
        }
    }
    ids
}

/// Parses item files into raw items, in parallel.
pub(crate) fn parse_item_files(
    files: &[FileId],
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Vec<RawItem> {
    let results: Vec<(Vec<RawItem>, Vec<Diagnostic>)> = files
        .par_iter()
        .map(|&file| {
            let mut out = Vec::new();
            let mut ds = Vec::new();
            let source = sources.get(file);
            let origin = Origin {
                file,
                source,
                line_offset: 0,
                col_offset: 0,
            };
            match yaml::parse(&source.text, origin) {
                Ok(docs) => {
                    for doc in docs {
                        items_of_document(doc, file, &mut out, &mut ds);
                    }
                    if out.is_empty() && ds.is_empty() {
                        ds.push(
                            Diagnostic::new(
                                code::FILE_EMPTY,
                                format!("{} holds no item", display_path(&source.path)),
                            )
                            .in_file(file),
                        );
                    }
                }
                Err(e) => ds.push(yaml_diagnostic(e)),
            }
            (out, ds)
        })
        .collect();
    let mut items = Vec::new();
    for (its, ds) in results {
        items.extend(its);
        diags.extend(ds);
    }
    items
}

/// A file's document holds one item (a mapping) or a list of items.
fn items_of_document(doc: Node, file: FileId, out: &mut Vec<RawItem>, diags: &mut Vec<Diagnostic>) {
    match doc.value {
        Value::Map(_) => out.push(RawItem {
            node: doc,
            home: Home::File(file),
        }),
        Value::Seq(list) => {
            for node in list {
                if matches!(node.value, Value::Map(_)) {
                    out.push(RawItem {
                        node,
                        home: Home::File(file),
                    });
                } else {
                    diags.push(not_mapping(&node));
                }
            }
        }
        Value::Null => {}
        _ => diags.push(not_mapping(&doc)),
    }
}

fn not_mapping(node: &Node) -> Diagnostic {
    let found = match node.value {
        Value::Seq(_) => "a list",
        Value::String(_) => "text",
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::Float(_) => "a number",
        Value::Map(_) => "a mapping",
    };
    Diagnostic::new(
        code::ITEM_NOT_MAPPING,
        format!("an item must be a mapping of fields, found {found}"),
    )
    .at(node.span)
    .help("write `id: ...`, `type: ...`, `title: ...` on separate lines")
}

pub(crate) fn yaml_diagnostic(e: yaml::YamlError) -> Diagnostic {
    let code = match e.kind {
        YamlErrorKind::Syntax => code::YAML_SYNTAX,
        YamlErrorKind::DuplicateKey => code::YAML_DUPLICATE_KEY,
        YamlErrorKind::Unsupported => code::YAML_UNSUPPORTED,
    };
    let mut d = Diagnostic::new(code, e.message).at(e.span);
    if let Some(first) = e.first {
        d = d.related(first, "first written here");
    }
    d
}

/// The chapters listed in SUMMARY.md, as (path relative to `src`, file in `sources`).
/// Draft chapters (no file) are skipped; a listed file that is missing is an error. A
/// chapter that is not read (a link out of the project) stays, empty, as it does in a
/// build (see [`given_chapters`]).
pub(crate) fn summary_chapters(
    config: &Config,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Vec<(PathBuf, FileId)> {
    let project = ProjectFiles::new(&config.root);
    let summary_rel = config.src.join("SUMMARY.md");
    if let Some(unread) = chapter_refusal(&project, &summary_rel) {
        project_files::report(vec![unread], sources, diags);
        return Vec::new();
    }
    let Ok(text) = std::fs::read_to_string(config.root.join(&summary_rel)) else {
        return Vec::new();
    };
    let summary = match mdbook_summary::parse_summary(&text) {
        Ok(s) => s,
        Err(e) => {
            let file = sources.add(summary_rel, text);
            diags.push(
                Diagnostic::new(code::IO_ERROR, format!("SUMMARY.md cannot be parsed: {e}"))
                    .in_file(file),
            );
            return Vec::new();
        }
    };
    let mut chapter_paths = Vec::new();
    let mut stack: Vec<&mdbook_summary::SummaryItem> = summary
        .prefix_chapters
        .iter()
        .chain(&summary.numbered_chapters)
        .chain(&summary.suffix_chapters)
        .rev()
        .collect();
    while let Some(item) = stack.pop() {
        if let mdbook_summary::SummaryItem::Link(link) = item {
            if let Some(location) = &link.location {
                chapter_paths.push(location.clone());
            }
            stack.extend(link.nested_items.iter().rev());
        }
    }
    let summary_file = sources.add(summary_rel, text);
    // (path relative to `src`, the file to read or why it is not read)
    let mut listed: Vec<(PathBuf, Result<PathBuf, Unread>)> = Vec::new();
    for path in chapter_paths {
        let rel = config.src.join(&path);
        if let Some(unread) = chapter_refusal(&project, &rel) {
            listed.push((path, Err(unread)));
            continue;
        }
        if !matches!(project.resolve(&rel), Ok((_, t)) if t.is_file()) {
            let at = sources
                .get(summary_file)
                .text
                .find(&display_path(&path))
                .unwrap_or(0);
            diags.push(
                Diagnostic::new(
                    code::IO_ERROR,
                    format!(
                        "SUMMARY.md lists {}, which does not exist",
                        display_path(&path)
                    ),
                )
                .at(Span {
                    file: summary_file,
                    start: at,
                    end: at,
                }),
            );
            continue;
        }
        listed.push((path, Ok(rel)));
    }
    let readable: Vec<PathBuf> = listed
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().cloned())
        .collect();
    let mut read = read_files(&config.root, readable, sources, diags).into_iter();
    let mut chapters = Vec::with_capacity(listed.len());
    for (path, file) in listed {
        let file = match file {
            Ok(_) => read.next(),
            Err(unread) => Some(empty_chapter(unread, sources, diags)),
        };
        chapters.extend(file.map(|f| (path, f)));
    }
    chapters
}

/// The chapters mdBook read, as (path relative to `src`, file in `sources`). mdBook
/// follows links, so a chapter (or SUMMARY.md) that leads out of the project is emptied
/// here, with the same warning `check` gives, and the book shows nothing of it.
pub(crate) fn given_chapters(
    config: &Config,
    chapters: Vec<GivenChapter>,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Vec<(PathBuf, FileId)> {
    let project = ProjectFiles::new(&config.root);
    let summary = chapter_refusal(&project, &config.src.join("SUMMARY.md"));
    let summary_refused = summary.is_some();
    project_files::report(summary.into_iter().collect(), sources, diags);
    let mut out = Vec::with_capacity(chapters.len());
    for c in chapters {
        let shown = config.src.join(c.source_path.as_ref().unwrap_or(&c.path));
        // Chapters another preprocessor made up have no file.
        let refusal = match &c.source_path {
            Some(_) if summary_refused => Some(None),
            Some(_) => chapter_refusal(&project, &shown).map(Some),
            None => None,
        };
        let file = match refusal {
            None => sources.add(shown, c.content),
            Some(None) => sources.add(shown, String::new()),
            Some(Some(unread)) => empty_chapter(unread, sources, diags),
        };
        out.push((c.path, file));
    }
    out
}

/// Why a chapter file (relative to the root) is not read, if it is not: it leads out of
/// the project, or through a link that leads nowhere. A file that is simply missing is
/// for the caller to report.
fn chapter_refusal(project: &ProjectFiles, rel: &Path) -> Option<Unread> {
    match project.resolve(rel) {
        Ok(_) | Err(Refusal::Missing { link: None }) => None,
        Err(why) => Some(project_files::unread(rel, &why, code::LINK_OUTSIDE_PROJECT)),
    }
}

/// An empty chapter for one that is not read, with the diagnostic at its path.
fn empty_chapter(unread: Unread, sources: &mut SourceMap, diags: &mut Diagnostics) -> FileId {
    let file = sources.add(unread.path, String::new());
    diags.push(unread.diagnostic.in_file(file));
    file
}

/// Finds the ```` ```qms ```` blocks and directives of a chapter.
pub(crate) fn scan_chapter(
    chapter_index: usize,
    path: PathBuf,
    file: FileId,
    sources: &SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> (Chapter, Vec<RawItem>) {
    let source = sources.get(file);
    let text = source.text.as_str();
    let mut items = Vec::new();
    let mut code_ranges = Vec::new();
    let mut in_qms: Option<std::ops::Range<usize>> = None;
    // The block's text as the Markdown parser reads it: inside a block quote (mdBook's
    // `> [!NOTE]` alerts) or a list, without the `>` and indentation of each line.
    let mut body: Vec<(String, usize)> = Vec::new();
    for (event, range) in Parser::new_ext(text, Options::all()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                code_ranges.push(range.clone());
                if let CodeBlockKind::Fenced(info) = kind {
                    if info.split_whitespace().next() == Some("qms") {
                        in_qms = Some(range);
                        body.clear();
                    }
                }
            }
            Event::Text(t) if in_qms.is_some() => body.push((t.into_string(), range.start)),
            Event::End(TagEnd::CodeBlock) => {
                if let Some(range) = in_qms.take() {
                    let span = Span {
                        file,
                        start: range.start,
                        end: range.end,
                    };
                    match block_item(text, range, &body, file, sources) {
                        Ok(node) => items.push(RawItem {
                            node,
                            home: Home::Chapter {
                                chapter: chapter_index,
                                block: span,
                            },
                        }),
                        Err(d) => diags.push(d),
                    }
                }
            }
            Event::Code(_) => code_ranges.push(range),
            _ => {}
        }
    }
    let directives = directive::scan(text, file, &code_ranges, diags);
    (
        Chapter {
            path,
            file,
            directives,
        },
        items,
    )
}

/// Parses the YAML inside a fenced block: one item, a mapping.
// A `Diagnostic` is the error; it is built only on failure, so boxing it buys nothing.
#[allow(clippy::result_large_err)]
fn block_item(
    text: &str,
    range: std::ops::Range<usize>,
    parsed: &[(String, usize)],
    file: FileId,
    sources: &SourceMap,
) -> Result<Node, Diagnostic> {
    let source = sources.get(file);
    let block = &text[range.clone()];
    let fence_line_end = block.find('\n').map_or(block.len(), |i| i + 1);
    let fence_line = &block[..fence_line_end];
    let indent = fence_line.len() - fence_line.trim_start_matches(' ').len();
    let fence_char = fence_line.trim_start().chars().next().unwrap_or('`');
    let body = &block[fence_line_end..];
    // Drop the closing fence if the block has one.
    let body = match body.trim_end_matches('\n').rfind('\n') {
        _ if body.trim().chars().all(|c| c == fence_char) => "",
        Some(i) if body[i + 1..].trim_start().starts_with(fence_char) => &body[..i + 1],
        None if body.trim_start().starts_with(fence_char) => "",
        _ => body,
    };
    let stripped: String = body
        .split_inclusive('\n')
        .map(|line| {
            let spaces = line.len() - line.trim_start_matches(' ').len();
            &line[spaces.min(indent)..]
        })
        .collect();
    let (fence_line_number, _) = source.line_col(range.start);
    let mut col_offset = indent;
    // In a container, every line starts with its marks (`> `): the parser's text is the
    // YAML, and the column of its first line's text is where each line's YAML starts.
    let in_container: String = parsed.iter().map(|(t, _)| t.as_str()).collect();
    let stripped = if in_container != stripped {
        if let Some(&(_, start)) = parsed.iter().find(|(t, _)| !t.trim().is_empty()) {
            col_offset = source.line_col(start).1 - 1;
        }
        in_container
    } else {
        stripped
    };
    let origin = Origin {
        file,
        source,
        line_offset: fence_line_number,
        col_offset,
    };
    let fence_span = Span {
        file,
        start: range.start,
        end: range.start + fence_line.trim_end().len(),
    };
    let docs = yaml::parse(&stripped, origin).map_err(yaml_diagnostic)?;
    let mut docs = docs.into_iter().filter(|d| d.value != Value::Null);
    match (docs.next(), docs.next()) {
        (Some(node), None) if matches!(node.value, Value::Map(_)) => Ok(node),
        (Some(node), None) => Err(not_mapping(&node)),
        (None, _) => Err(
            Diagnostic::new(code::ITEM_NOT_MAPPING, "this qms block is empty")
                .at(fence_span)
                .help("a ```qms block holds one item: id, type, title, ..."),
        ),
        (Some(_), Some(second)) => Err(Diagnostic::new(
            code::ITEM_NOT_MAPPING,
            "a qms block holds one item; put further items in blocks of their own",
        )
        .at(second.span)),
    }
}
