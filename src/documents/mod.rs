//! Generated documents: the plans, reports and labeling of a premarket submission,
//! rendered from the items by minijinja templates into Markdown chapters.
//!
//! Built-in templates are embedded; a project overrides one by placing a file of the
//! same name (`security-labeling.md.j2`) in its templates folder. Templates are
//! sandboxed: the override files are read up front, so the loader never touches the
//! file system, and names that are not plain file names are rejected. Undefined values
//! are errors (with the template's file and line), and every value an item supplies is
//! escaped for Markdown unless it is Markdown the author wrote (the `markdown` filter).
//!
//! A template calls `gap(section, what)` where content is missing (with keywords saying
//! where it is filled: `item=`, `field=`, `add=`, `file=`, `check=`): the document shows
//! a visible marker and `check` reports a `document-gap` warning naming the document,
//! the section and what would fill it. `todo` turns the gaps, and the check findings
//! documents depend on, into the author's to-do list (`mdbook-qms gaps`).

// A `TemplateError` is built only on failure, once per document: boxing it buys nothing.
#![allow(clippy::result_large_err)]

pub mod approvals;
mod context;
pub(crate) mod device;
mod diagrams;
mod todo;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use minijinja::value::{Kwargs, Serde, Value};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

pub use crate::config::documents::{DocInfo, DOCUMENTS};
use crate::diag::{code, did_you_mean, Diagnostic};
use crate::directive::Kind;
use crate::html::{
    escape, escape_commonmark, escape_markdown, in_table_cell, markdown, standalone_markdown,
};
use crate::linked::Linked;
use crate::page::Page;
use crate::project::Project;
use crate::source::{FileId, Span};
pub(crate) use todo::{position as finding_place, span_place};
pub use todo::{report as todo_report, Fix, Gap, GapsFormat, Todo};

/// Templates shared by the documents (macros), loadable by name like any template.
const PARTIALS: &[(&str, &str)] = &[(
    "qms-macros.md.j2",
    include_str!("templates/qms-macros.md.j2"),
)];

const EXT: &str = ".md.j2";

/// The document whose conclusion rests on the gaps of all the others.
const REPORT: &str = "security-risk-management-report";

/// The built-in document named `name`, if there is one.
pub fn find(name: &str) -> Option<&'static DocInfo> {
    DOCUMENTS.iter().find(|d| d.name == name)
}

/// Which Markdown a document is rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// A chapter of the book: item ids link to their cards, gaps and sources are styled
    /// HTML, item text is escaped with character references (mdBook's `{{#include}}`
    /// must never see item data).
    Book,
    /// Plain CommonMark a person pastes into another document (`render`, the export
    /// bundle): items as plain ids, gaps as bold text, backslash escapes only where
    /// Markdown needs them; the "Source:" lines only when `sources` asks for them.
    Standalone {
        /// Keep the lines that name the items each section is filled from.
        sources: bool,
    },
}

/// A rendered document.
#[derive(Debug)]
pub struct Rendered {
    /// The document as Markdown.
    pub markdown: String,
    /// Content the project does not provide yet, in document order.
    pub gaps: Vec<Gap>,
}

/// Why a document could not be rendered: which template, where, what.
#[derive(Debug, Clone)]
pub struct TemplateError {
    /// The diagnostic code the error is reported with.
    pub code: &'static str,
    /// The template's file name (`security-labeling.md.j2`).
    pub(crate) template: Option<String>,
    /// Path of the override file, relative to the project root; `None` for built-ins.
    pub file: Option<PathBuf>,
    /// The line in the template (1-based), when minijinja knows it.
    pub line: Option<usize>,
    /// Byte range in the template's text, when minijinja knows it.
    pub(crate) range: Option<std::ops::Range<usize>>,
    pub(crate) message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = match (&self.file, &self.template) {
            (Some(p), _) => crate::source::display_path(p),
            (None, Some(t)) => format!("built-in template {t}"),
            (None, None) => "template".into(),
        };
        match self.line {
            Some(l) => write!(f, "{place}:{l}: {}", self.message),
            None => write!(f, "{place}: {}", self.message),
        }
    }
}

/// A project's override template.
#[derive(Debug, Clone)]
struct Override {
    /// Relative to the project root.
    path: PathBuf,
    text: String,
}

/// The project's templates, read once.
pub(crate) struct Templates {
    overrides: Arc<BTreeMap<String, Override>>,
}

impl Templates {
    /// The project's overrides, as `load` read them into the source map.
    pub(crate) fn of(project: &Linked) -> Templates {
        let overrides = project
            .templates
            .files
            .iter()
            .map(|(name, &file)| {
                let source = project.sources.get(file);
                let path = source.path.clone();
                (
                    name.clone(),
                    Override {
                        path,
                        text: source.text.clone(),
                    },
                )
            })
            .collect();
        Templates {
            overrides: Arc::new(overrides),
        }
    }

    /// The documents the overrides change: those whose template is overridden, and all
    /// of them when a template they share (`qms-macros.md.j2`) is.
    fn changed_documents(&self) -> Vec<&'static str> {
        let shared = PARTIALS
            .iter()
            .any(|(n, _)| self.overrides.contains_key(*n));
        DOCUMENTS
            .iter()
            .filter(|d| shared || self.overrides.contains_key(&format!("{}{EXT}", d.name)))
            .map(|d| d.name)
            .collect()
    }

    /// Renders document `name` for `page` (links are relative to it).
    fn render(&self, data: &Data, page: &Page, name: &str) -> Result<Rendered, TemplateError> {
        self.render_many(data, page, &[name], Flavour::Book)
            .pop()
            .unwrap_or_else(|| Err(unknown(name)))
    }

    /// Renders several documents for one page, sharing one environment (its link table
    /// holds every item) between them.
    fn render_many(
        &self,
        data: &Data,
        page: &Page,
        names: &[&str],
        flavour: Flavour,
    ) -> Vec<Result<Rendered, TemplateError>> {
        let gaps: Arc<Mutex<Vec<(String, String, Fix)>>> = Arc::default();
        let mut env = self.environment(page, gaps.clone(), flavour);
        // `item(id)`: any item's data by id (none for an unknown id), to follow links.
        let by_id = data.by_id.clone();
        env.add_function("item", move |id: String| -> Value {
            by_id.get(&id).cloned().unwrap_or(Value::from(()))
        });
        // `dfd()`, `stride_table()`, `sequence()`: drawn for the page once a template ran.
        let diagrams = diagrams::Requests::default();
        diagrams::register(&mut env, &diagrams);
        // The report's conclusion lists the other documents' gaps: it is rendered after
        // them, so that when this call renders them too their gaps are taken from here
        // instead of rendering them a second time.
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.sort_by_key(|&k| names[k] == REPORT);
        let mut out: Vec<Option<Result<Rendered, TemplateError>>> =
            names.iter().map(|_| None).collect();
        for k in order {
            let name = names[k];
            let Some(info) = find(name) else {
                out[k] = Some(Err(unknown(name)));
                continue;
            };
            let template_name = format!("{name}{EXT}");
            let output = match flavour {
                Flavour::Book => minijinja::context! { standalone => false, sources => true },
                Flavour::Standalone { sources } => {
                    minijinja::context! { standalone => true, sources => sources }
                }
            };
            // The document's approvals are for its document control (PDF), not its
            // Markdown: Markdown that showed them would change its own approved hash.
            let approvals: Vec<serde_json::Value> = page
                .project
                .approvals
                .of(info.name)
                .map(|r| r.summary(info.name))
                .collect();
            let mut ctx = minijinja::value::merge_maps([
                minijinja::context! { document => minijinja::context! { name => info.name, title => info.title, approvals => Value::from(Serde(&approvals)) }, output => output },
                data.ctx.clone(),
            ]);
            if name == REPORT {
                if data.document_gaps.get().is_none() {
                    if let Some(lines) = rendered_document_gaps(names, &out) {
                        let _ = data.document_gaps.set(lines);
                    }
                }
                let conclusion =
                    context::conclusion(page.project, self.document_gaps(data, page, flavour));
                ctx = minijinja::value::merge_maps([
                    minijinja::context! { conclusion => Value::from(Serde(&conclusion)) },
                    ctx,
                ]);
            }
            let result = env.get_template(&template_name).and_then(|t| t.render(ctx));
            let found = std::mem::take(&mut *gaps.lock().unwrap_or_else(|e| e.into_inner()));
            let drawn = diagrams.take();
            out[k] = Some(match result {
                Ok(markdown) => Ok(Rendered {
                    markdown: tidy(&diagrams::draw(
                        page,
                        &markdown,
                        drawn,
                        matches!(flavour, Flavour::Standalone { .. }),
                    )),
                    gaps: found
                        .into_iter()
                        .map(|(section, what, mut fix)| {
                            // An override that does not say where a gap is filled: there.
                            if fix == Fix::default() {
                                fix.file = self
                                    .overrides
                                    .get(&template_name)
                                    .map(|o| crate::source::display_path(&o.path));
                            }
                            Gap {
                                document: name.to_owned(),
                                section,
                                what,
                                fix,
                            }
                        })
                        .collect(),
                }),
                Err(e) => Err(self.error(&e, &template_name)),
            });
        }
        out.into_iter().flatten().collect()
    }

    /// The gaps of every document but the report, which its conclusion lists as
    /// "Document, section "S": what": they do not depend on the page, so they are
    /// rendered once per project.
    fn document_gaps<'d>(&self, data: &'d Data, page: &Page, flavour: Flavour) -> &'d [String] {
        data.document_gaps.get_or_init(|| {
            let others: Vec<&str> = DOCUMENTS
                .iter()
                .map(|d| d.name)
                .filter(|&n| n != REPORT)
                .collect();
            let rendered: Vec<_> = self
                .render_many(data, page, &others, flavour)
                .into_iter()
                .collect();
            gap_lines(rendered.iter())
        })
    }

    fn environment(
        &self,
        page: &Page,
        gaps: Arc<Mutex<Vec<(String, String, Fix)>>>,
        flavour: Flavour,
    ) -> Environment<'static> {
        let standalone = matches!(flavour, Flavour::Standalone { .. });
        let escape_text = if standalone {
            escape_commonmark
        } else {
            escape_markdown
        };
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Block tags on their own lines leave no blank lines behind.
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        // A runaway override (a huge loop) stops with an error instead of hanging a build.
        // The built-in documents need well under a million instructions for the 300
        // items of the insulin-pump example; the budget grows with the project.
        let items = page.project.items.len() as u64;
        env.set_fuel(Some(
            2_000_000u64.saturating_add(items.saturating_mul(10_000)),
        ));
        env.set_auto_escape_callback(|_| {
            AutoEscape::Custom(std::borrow::Cow::Borrowed("markdown"))
        });
        env.set_formatter(move |out, _state, value| {
            let text = if value.is_undefined() {
                return Err(Error::new(
                    ErrorKind::UndefinedError,
                    "undefined value printed",
                ));
            } else if value.is_none() {
                String::new()
            } else if value.is_safe() {
                value.to_string()
            } else {
                escape_text(&value.to_string())
            };
            out.write_str(&text)
                .map_err(|_| Error::new(ErrorKind::WriteFailure, "cannot write the document"))
        });
        let overrides = self.overrides.clone();
        env.set_loader(move |name| {
            if name.contains(['/', '\\']) || name.starts_with('.') || !name.ends_with(".j2") {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("template name `{name}` is not a plain file name ending in .j2 (templates load only from the templates folder)"),
                ));
            }
            if let Some(o) = overrides.get(name) {
                return Ok(Some(o.text.clone()));
            }
            let builtin = DOCUMENTS
                .iter()
                .find(|d| name.strip_suffix(EXT) == Some(d.name))
                .map(|d| d.template)
                .or_else(|| PARTIALS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t));
            Ok(builtin.map(str::to_owned))
        });

        // Links: every item's inline reference, relative to the page (in the book), or
        // its id as text (standalone).
        let refs: HashMap<String, String> = page
            .project
            .items
            .iter()
            .enumerate()
            .filter(|(i, item)| page.project.graph.get(&item.id) == Some(*i))
            .map(|(i, item)| {
                let reference = if standalone {
                    escape_commonmark(&item.id)
                } else {
                    in_table_cell(&page.item_ref(i))
                };
                (item.id.clone(), reference)
            })
            .collect();
        // A link to a component may name its purl (or bom-ref), as item links may.
        let purls: HashMap<String, String> = page
            .project
            .graph
            .purls
            .iter()
            .filter_map(|(purl, &i)| {
                let id = &page.project.items.get(i)?.id;
                Some((purl.clone(), refs.get(id)?.clone()))
            })
            .collect();
        let refs = Arc::new(refs);
        env.add_function("link", move |id: String| -> Value {
            Value::from_safe_string(match refs.get(&id).or_else(|| purls.get(&id)) {
                Some(reference) => reference.clone(),
                // `check` reports the broken link; the id shows as written.
                None if standalone => escape_commonmark(&id),
                None => format!(
                    r#"<span class="qms-ref qms-missing">{}</span>"#,
                    escape(&id)
                ),
            })
        });
        // `gap(section, what, item=ID, field=F, add=TYPE, check=CODE)`: the marker, and
        // the gap `check` and `gaps` report, placed where the keywords say.
        env.add_function(
            "gap",
            move |section: String, what: String, kwargs: Kwargs| -> Result<Value, Error> {
                let fix = Fix {
                    item: kwargs.get("item")?,
                    field: kwargs.get("field")?,
                    add: kwargs.get("add")?,
                    file: kwargs.get("file")?,
                    check: kwargs.get("check")?,
                };
                kwargs.assert_all_used()?;
                let marker = gap_marker(&what, standalone);
                gaps.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((section, what, fix));
                Ok(Value::from_safe_string(marker))
            },
        );
        // Markdown the author wrote: rendered safely (raw HTML shown as text, unsafe
        // links dropped) as one line of HTML, so it fits in a table cell or a paragraph.
        // `markdown_inline` is for a table cell: the same in the book, one line when
        // standalone.
        if standalone {
            env.add_filter("markdown", |text: String| -> Value {
                Value::from_safe_string(standalone_markdown(&text, false))
            });
            env.add_filter("markdown_inline", |text: String| -> Value {
                Value::from_safe_string(standalone_markdown(&text, true))
            });
        } else {
            let book_markdown = |text: String| -> Value {
                Value::from_safe_string(in_table_cell(&markdown(&text).replace('\n', " ")))
            };
            env.add_filter("markdown", book_markdown);
            env.add_filter("markdown_inline", book_markdown);
        }
        // `escape`/`e` must not fail on our custom auto-escape mode.
        let esc = move |v: Value| -> Value {
            if v.is_safe() {
                v
            } else {
                Value::from_safe_string(escape_text(&v.to_string()))
            }
        };
        // `|code_spans`: a generated message (a gap or blocker) with its backticked
        // names shown as code.
        env.add_filter("code_spans", move |text: String| -> Value {
            Value::from_safe_string(with_code_spans(&text, standalone))
        });
        env.add_filter("escape", esc);
        env.add_filter("e", esc);
        env
    }

    /// Maps a minijinja error to the template file and line it happened in.
    fn error(&self, e: &Error, template_name: &str) -> TemplateError {
        let name = e.name().unwrap_or(template_name).to_owned();
        let code = match e.kind() {
            ErrorKind::SyntaxError | ErrorKind::BadEscape | ErrorKind::InvalidDelimiter => {
                code::TEMPLATE_SYNTAX
            }
            _ => code::TEMPLATE_ERROR,
        };
        let mut message = e.kind().to_string();
        if let Some(detail) = e.detail() {
            message = format!("{message}: {detail}");
        }
        if e.kind() == ErrorKind::UndefinedError {
            message
                .push_str(" (a name or field the template uses is not in the document's context)");
        }
        // An error inside an included template carries that template's name.
        let mut source = std::error::Error::source(e);
        let mut inner_name = None;
        let mut inner_line = None;
        let mut inner_range = None;
        while let Some(s) = source {
            if let Some(inner) = s.downcast_ref::<Error>() {
                if inner.name().is_some() {
                    inner_name = inner.name().map(str::to_owned);
                    inner_line = inner.line();
                    inner_range = inner.range();
                    if let Some(d) = inner.detail() {
                        message = format!("{}: {d}", inner.kind());
                    }
                }
            }
            source = s.source();
        }
        let name = inner_name.unwrap_or(name);
        let (line, range) = if inner_line.is_some() {
            (inner_line, inner_range)
        } else {
            (e.line(), e.range())
        };
        TemplateError {
            code,
            range,
            file: self.overrides.get(&name).map(|o| o.path.clone()),
            template: Some(name),
            line,
            message,
        }
    }
}

/// The report's list of the other documents' gaps, when `out` (in the order of
/// `names`) already holds every other built-in document.
fn rendered_document_gaps(
    names: &[&str],
    out: &[Option<Result<Rendered, TemplateError>>],
) -> Option<Vec<String>> {
    let others = DOCUMENTS
        .iter()
        .filter(|d| d.name != REPORT)
        .map(|d| {
            let k = names.iter().position(|&n| n == d.name)?;
            out[k].as_ref()
        })
        .collect::<Option<Vec<_>>>()?;
    Some(gap_lines(others.into_iter()))
}

/// Document gaps as the report lists them: "Document, section "S": what". A document
/// that failed to render is left out: it is reported as an error of its own.
fn gap_lines<'r>(
    rendered: impl Iterator<Item = &'r Result<Rendered, TemplateError>>,
) -> Vec<String> {
    // A gap two documents show (the same thing missing) blocks the conclusion once.
    let mut lines: Vec<(&str, Vec<String>)> = Vec::new();
    for g in rendered
        .filter_map(|r| r.as_ref().ok())
        .flat_map(|doc| &doc.gaps)
    {
        let title = find(&g.document).map_or(g.document.as_str(), |d| d.title);
        let place = format!("{title}, section \"{}\"", g.section);
        match lines.iter_mut().find(|(what, _)| *what == g.what) {
            Some((_, places)) => places.push(place),
            None => lines.push((&g.what, vec![place])),
        }
    }
    lines
        .into_iter()
        .map(|(what, places)| match places.split_first() {
            Some((first, [])) => format!("{first}: {what}"),
            Some((first, also)) => format!("{first}: {what} (also {})", also.join("; ")),
            None => what.to_owned(),
        })
        .collect()
}

/// The data every template sees, as template values. Converting every item is most of
/// a document's cost on a large project, so it happens once per project
/// (`Documents` holds it), however many documents are rendered.
pub(crate) struct Data {
    ctx: Value,
    by_id: Arc<HashMap<String, Value>>,
    document_gaps: OnceLock<Vec<String>>,
}

impl Data {
    fn new(project: &Project) -> Data {
        use rayon::prelude::*;
        let mut ctx = context::build(project);
        let items = match ctx.as_object_mut().and_then(|m| m.remove("items")) {
            Some(serde_json::Value::Object(by_type)) => by_type,
            _ => serde_json::Map::new(),
        };
        // Each item is converted once, in parallel, and shared by `items` and `item(id)`.
        let mut by_id: HashMap<String, Value> = HashMap::new();
        let mut by_type: BTreeMap<String, Value> = BTreeMap::new();
        for (ty, list) in items {
            let list = match list {
                serde_json::Value::Array(list) => list,
                _ => Vec::new(),
            };
            let values: Vec<Value> = list.par_iter().map(|v| Value::from(Serde(v))).collect();
            for (json, value) in list.iter().zip(&values) {
                if let Some(id) = json["id"].as_str() {
                    by_id.insert(id.to_owned(), value.clone());
                }
            }
            by_type.insert(ty, Value::from(values));
        }
        Data {
            ctx: minijinja::value::merge_maps([
                minijinja::context! { items => Value::from(by_type) },
                Value::from(Serde(&ctx)),
            ]),
            by_id: Arc::new(by_id),
            document_gaps: OnceLock::new(),
        }
    }
}

/// The documents of one project: its templates and the data they see, converted once
/// however many documents are rendered (`check` and then the book, or `export`, render
/// the same documents). Build it with `Documents::new` for the project it is used with.
pub struct Documents {
    templates: Templates,
    data: OnceLock<Data>,
}

impl Documents {
    /// The documents of `project`: its template overrides, and no data converted yet.
    pub fn new(project: &Linked) -> Self {
        Documents {
            templates: Templates::of(project),
            data: OnceLock::new(),
        }
    }

    fn data(&self, project: &Project) -> &Data {
        self.data.get_or_init(|| Data::new(project))
    }

    /// Renders document `name` for `page` (links are relative to it).
    pub(crate) fn render(&self, page: &Page, name: &str) -> Result<Rendered, TemplateError> {
        self.templates.render(self.data(page.project), page, name)
    }

    /// Renders documents for a page no chapter has, so links are relative to the book's
    /// root: standalone Markdown, and the gaps and errors `check` reports.
    fn render_detached(
        &self,
        project: &Project,
        names: &[&str],
        flavour: Flavour,
    ) -> Vec<Result<Rendered, TemplateError>> {
        let homes = crate::page::place::homes(project);
        let path = PathBuf::from("qms-document.md");
        let page = Page {
            project,
            homes: &homes,
            path: &path,
        };
        self.templates
            .render_many(self.data(project), &page, names, flavour)
    }

    /// `mdbook-qms render NAME`: the document as standalone Markdown; `sources` keeps
    /// the lines naming the items each section is filled from (`--with-sources`).
    pub fn standalone(
        &self,
        project: &Project,
        name: &str,
        sources: bool,
    ) -> Result<Rendered, TemplateError> {
        self.standalone_many(project, &[name], Flavour::Standalone { sources })?
            .pop()
            .unwrap_or_else(|| Err(unknown(name)))
    }

    /// Every built-in document as standalone Markdown, in the guide's order (`gaps`,
    /// `export`).
    pub fn all_standalone(
        &self,
        project: &Project,
    ) -> Result<Vec<(&'static str, Rendered)>, TemplateError> {
        self.all_as(project, Flavour::Standalone { sources: false })
    }

    /// Every built-in document in `flavour`, in the guide's order; links in the book
    /// flavour are relative to the book's root.
    pub fn all_as(
        &self,
        project: &Project,
        flavour: Flavour,
    ) -> Result<Vec<(&'static str, Rendered)>, TemplateError> {
        let names: Vec<&str> = DOCUMENTS.iter().map(|d| d.name).collect();
        self.standalone_many(project, &names, flavour)?
            .into_iter()
            .zip(names)
            .map(|(r, name)| r.map(|doc| (name, doc)))
            .collect()
    }

    fn standalone_many(
        &self,
        project: &Project,
        names: &[&str],
        flavour: Flavour,
    ) -> Result<Vec<Result<Rendered, TemplateError>>, TemplateError> {
        // What `check` reports as an error stops a document; a link left out does not.
        if let Some(d) = project.templates.unreadable.clone() {
            return Err(TemplateError {
                code: d.code,
                template: None,
                file: None,
                line: None,
                range: None,
                message: d.message,
            });
        }
        Ok(self.render_detached(project, names, flavour))
    }

    /// `mdbook-qms gaps`: the gaps of every built-in document (placed or not).
    pub fn gaps(&self, project: &Project) -> Result<Vec<Gap>, TemplateError> {
        Ok(self
            .all_standalone(project)?
            .into_iter()
            .flat_map(|(_, doc)| doc.gaps)
            .collect())
    }

    /// `mdbook-qms gaps`: the author's to-do list, every gap of every built-in document
    /// and every check finding a document depends on, each once.
    pub fn todo(&self, project: &Project) -> Result<Vec<Todo>, TemplateError> {
        Ok(todo::todo(project, &self.gaps(project)?))
    }
}

/// The marker a document shows for a gap (red in the book, bold standalone); `gaps`
/// lists exactly the gaps whose markers the documents show.
fn gap_marker(what: &str, standalone: bool) -> String {
    let text = with_code_spans(what, standalone);
    if standalone {
        format!("**Gap: {text}**")
    } else {
        format!(
            r#"<span class="qms-gap">Gap: {}</span>"#,
            in_table_cell(&text)
        )
    }
}

/// Text the templates and checks write with names and values in backticks
/// (`topic: testing`), escaped for the flavour, the backticked parts as code.
fn with_code_spans(text: &str, standalone: bool) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    // Unbalanced backticks (or a `|`, which would end a table cell inside a code span):
    // all text.
    let as_code = |k: usize, part: &str| {
        k % 2 == 1 && parts.len() % 2 == 1 && !part.is_empty() && !part.contains('|')
    };
    let mut out = String::new();
    for (k, part) in parts.iter().enumerate() {
        match (as_code(k, part), standalone) {
            (true, true) => out.push_str(&format!("`{part}`")),
            (true, false) => out.push_str(&format!("<code>{}</code>", escape(part))),
            (false, true) => out.push_str(&escape_commonmark(part)),
            (false, false) => out.push_str(&escape_markdown(part)),
        }
        if k + 1 < parts.len() && !as_code(k, part) && !as_code(k + 1, parts[k + 1]) {
            // A backtick that opens or closes no code span prints as itself.
            out.push_str(if standalone { "\\`" } else { "&#96;" });
        }
    }
    out
}

fn unknown(name: &str) -> TemplateError {
    TemplateError {
        code: code::DOCUMENT_UNKNOWN,
        template: None,
        file: None,
        line: None,
        range: None,
        message: unknown_message(name),
    }
}

/// The message for a document name that does not exist (with a "did you mean").
pub fn render_standalone_unknown(name: &str) -> String {
    unknown_message(name)
}

fn unknown_message(name: &str) -> String {
    let names = DOCUMENTS.iter().map(|d| d.name);
    match did_you_mean(name, names) {
        Some(s) => format!("unknown document `{name}`; did you mean `{s}`?"),
        None => format!(
            "unknown document `{name}`; documents: {}",
            DOCUMENTS
                .iter()
                .map(|d| d.name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Collapses runs of blank lines the template's control blocks leave, and ends with one
/// newline.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let trimmed = out.trim_matches('\n');
    format!("{trimmed}\n")
}

/// Where each placed document is: `(name, directive span)` from chapters, then the
/// documents `book.toml` asks for as generated chapters (no span).
fn placed(project: &Project) -> Vec<(String, Option<Span>)> {
    let mut out = Vec::new();
    for chapter in &project.chapters {
        for d in chapter
            .directives
            .iter()
            .filter(|d| d.kind == Kind::Document)
        {
            if let Some(a) = d.args.first() {
                out.push((a.text.clone(), Some(a.span)));
            }
        }
    }
    for name in &project.config.documents {
        out.push((name.clone(), None));
    }
    out
}

/// The check stage: every placed document must exist and render; its gaps are warnings
/// at the directive (or in book.toml for generated chapters). Every document an override
/// changes must render too, placed or not, as `export` renders them all.
pub(crate) fn check(project: &Project, documents: &Documents) -> Vec<Diagnostic> {
    let placed = placed(project);
    let mut diags = Vec::new();
    // Override files are in the source map, so errors point at their lines.
    let files: HashMap<PathBuf, FileId> = project
        .templates
        .files
        .values()
        .map(|&id| (project.sources.get(id).path.clone(), id))
        .collect();
    let at = |d: Diagnostic, span: Option<Span>| match span {
        Some(s) => d.at(s),
        None => match project.config.file {
            Some(f) => d.in_file(f),
            None => d,
        },
    };
    // Each document once, reported where it is first placed: (name, where, placed).
    let mut wanted: Vec<(&str, Option<Span>, bool)> = Vec::new();
    for (name, span) in &placed {
        if find(name).is_none() {
            diags.push(at(
                Diagnostic::new(code::DOCUMENT_UNKNOWN, unknown_message(name)),
                *span,
            ));
        } else if !wanted.iter().any(|(n, _, _)| n == name) {
            wanted.push((name, *span, true));
        }
    }
    for name in documents.templates.changed_documents() {
        if !wanted.iter().any(|(n, _, _)| *n == name) {
            wanted.push((name, None, false));
        }
    }
    if wanted.is_empty() {
        return diags;
    }
    // Gaps and errors do not depend on where a document is shown.
    let names: Vec<&str> = wanted.iter().map(|(n, _, _)| *n).collect();
    let results = documents.render_detached(project, &names, Flavour::Book);
    // A broken shared override breaks every document: report each place once.
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut gaps: Vec<Gap> = Vec::new();
    let mut spans: HashMap<String, Option<Span>> = HashMap::new();
    for ((name, span, placed), result) in wanted.iter().zip(results) {
        match result {
            Ok(doc) if *placed => {
                spans.insert((*name).to_owned(), *span);
                gaps.extend(doc.gaps);
            }
            Ok(_) => {}
            Err(e) => {
                let d = template_diagnostic(project, &files, &e, *span);
                let seen = errors
                    .iter()
                    .any(|o| (o.code, &o.message, o.location) == (d.code, &d.message, d.location));
                if !seen {
                    errors.push(d);
                }
            }
        }
    }
    // One warning per thing missing, as `gaps` lists it, where it is first shown.
    for (g, shown_in) in todo::dedupe(&gaps) {
        let mut d = Diagnostic::new(
            code::DOCUMENT_GAP,
            format!("{}: section \"{}\": {}", g.document, g.section, g.what),
        );
        d.item = g.fix.item.clone();
        if shown_in.len() > 1 {
            let also: Vec<String> = shown_in[1..]
                .iter()
                .map(|(doc, section)| format!("{doc} (\"{section}\")"))
                .collect();
            d = d.help(format!("also shown in {}", also.join(", ")));
        }
        diags.push(at(d, spans.get(&g.document).copied().flatten()));
    }
    diags.extend(errors);
    diags
}

/// A template error as a diagnostic: at the override's line when the error is in an
/// override, else at the directive that placed the document.
fn template_diagnostic(
    project: &Project,
    files: &HashMap<PathBuf, FileId>,
    e: &TemplateError,
    span: Option<Span>,
) -> Diagnostic {
    let mut d = Diagnostic::new(
        e.code,
        format!(
            "{}: {}",
            e.template.as_deref().unwrap_or("template"),
            e.message
        ),
    );
    let file = e.file.as_ref().and_then(|p| files.get(p));
    match (file, e.line) {
        (Some(&f), Some(line)) => {
            let src = project.sources.get(f);
            let span = match &e.range {
                Some(r) if r.start <= r.end && r.end <= src.text.len() => Span {
                    file: f,
                    start: r.start,
                    end: r.end,
                },
                _ => {
                    let start = src.offset(line, 0);
                    Span {
                        file: f,
                        start,
                        end: start + src.line_text(line).len(),
                    }
                }
            };
            d = d.at(span);
        }
        (Some(&f), None) => d = d.in_file(f),
        _ => {
            if let Some(s) = span {
                d = d.at(s);
            }
        }
    }
    if e.file.is_none() && e.code != code::DOCUMENT_UNKNOWN {
        d = d.help("this is a bug in a built-in template; please report it");
    }
    d
}

/// Renders one document for a chapter at `page`; a failure becomes a visible error box
/// (check has already reported it).
pub(crate) fn render_directive(documents: &Documents, page: &Page, name: &str) -> String {
    match documents.render(page, name) {
        Ok(doc) => format!("\n\n{}\n", doc.markdown),
        Err(e) => format!(
            "<div class=\"qms-gap\">Document {} could not be rendered: {}</div>",
            escape(name),
            escape(&e.to_string())
        ),
    }
}

/// [`Documents::standalone`] for a project that renders one document.
pub fn render_standalone(project: &Project, name: &str) -> Result<Rendered, TemplateError> {
    Documents::new(project).standalone(project, name, false)
}

/// One document in `flavour` for a project that renders nothing else; links in the
/// book flavour are relative to the book's root.
pub fn render_as(
    project: &Project,
    name: &str,
    flavour: Flavour,
) -> Result<Rendered, TemplateError> {
    Documents::new(project)
        .standalone_many(project, &[name], flavour)?
        .pop()
        .unwrap_or_else(|| Err(unknown(name)))
}

/// [`Documents::gaps`] for a project that renders nothing else.
pub fn all_gaps(project: &Project) -> Result<Vec<Gap>, TemplateError> {
    Documents::new(project).gaps(project)
}

/// Generated chapters for the documents `book.toml` lists in `documents`, under
/// `qms/documents/`.
pub(crate) fn chapters(
    documents: &Documents,
    project: &Project,
    homes: &[Option<PathBuf>],
) -> Vec<crate::page::GeneratedChapter> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for name in &project.config.documents {
        let Some(info) = find(name) else { continue };
        if !seen.insert(name.as_str()) {
            continue;
        }
        let path = PathBuf::from("qms")
            .join("documents")
            .join(format!("{name}.md"));
        let page = Page {
            project,
            homes,
            path: &path,
        };
        let content = match documents.render(&page, name) {
            // The book's styles (gap markers, references), as on every page with cards.
            Ok(doc) => format!("{}\n\n{}", crate::page::STYLE, doc.markdown),
            Err(e) => format!(
                "# {}\n\n<div class=\"qms-gap\">{}</div>\n",
                info.title,
                escape(&e.to_string())
            ),
        };
        out.push(crate::page::GeneratedChapter {
            path,
            name: info.title.to_owned(),
            content,
            children: Vec::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_collapses_blank_lines() {
        assert_eq!(tidy("\n# A\n\n\n\nb  \n\n"), "# A\n\nb\n");
    }

    /// `gaps` points at where each gap is filled only if the template says where.
    #[test]
    fn every_gap_of_a_built_in_template_says_where_it_is_filled() {
        let templates = DOCUMENTS
            .iter()
            .map(|d| (d.name, d.template))
            .chain(PARTIALS.iter().copied());
        for (name, text) in templates {
            for call in text.split("gap(").skip(1) {
                let call = &call[..call.find("}}").unwrap_or(call.len())];
                assert!(
                    ["item=", "add=", "file="].iter().any(|k| call.contains(k)),
                    "{name}: gap({call}"
                );
            }
        }
    }

    /// A table row holds one line: text the author wrote goes through
    /// `markdown_inline` there, which standalone Markdown keeps on one line.
    #[test]
    fn table_rows_of_built_in_templates_use_inline_markdown() {
        let templates = DOCUMENTS
            .iter()
            .map(|d| (d.name, d.template))
            .chain(PARTIALS.iter().copied());
        for (name, text) in templates {
            for line in text.lines().filter(|l| l.starts_with('|')) {
                assert!(
                    !line.contains("|markdown }}") && !line.contains("|markdown)"),
                    "{name}: a table row uses `markdown`, not `markdown_inline`: {line}"
                );
            }
        }
    }

    #[test]
    fn every_document_has_a_template_starting_with_its_title() {
        for d in DOCUMENTS {
            assert!(
                d.template.contains(&format!("# {}", d.title))
                    || d.template.contains("# {{ document.title }}"),
                "{}",
                d.name
            );
        }
    }
}
