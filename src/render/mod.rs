//! Render stage: turns a checked project into book chapters.
//!
//! Works on strings only (no mdBook types): the caller hands in the chapters it got from
//! mdBook (via `Project`) and receives their new content plus generated chapters.
//! Everything item-derived is escaped HTML, written as single CommonMark HTML blocks.

mod card;
mod downloads;
pub mod evidence;
pub mod history;
mod table;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub(crate) use downloads::{Download, Downloads, FOLDER as DOWNLOADS_FOLDER};

use crate::directive::Kind;
use crate::documents::Documents;
use crate::html::escape;
use crate::model::Home;
use crate::page::{place, GeneratedChapter, Page, STYLE};
use crate::project::Project;
use crate::schema::BUILTIN;
use crate::source::FileId;

/// `html` replacing a block that starts at `start`: when the block is in a block quote
/// or a list, each further line of `html` gets the marks that keep it there (`> `, or
/// the list item's indentation), so the card does not break out of its container.
fn in_container(html: &str, text: &str, start: usize) -> String {
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let prefix: String = text[line_start..start]
        .chars()
        .map(|c| {
            if c == '>' || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect();
    if prefix.is_empty() {
        html.to_owned()
    } else {
        html.replace('\n', &format!("\n{prefix}"))
    }
}

/// The book's chapters after rendering, and the chapters mdbook-qms adds.
pub struct RenderedBook {
    /// New content of each of `project.chapters`, in the same order.
    pub chapters: Vec<String>,
    /// The chapters mdbook-qms adds (one per item type), placed after the book's own.
    pub generated: Vec<GeneratedChapter>,
}

/// Renders every chapter and the generated chapters, with no download files. Call only
/// on a project whose diagnostics have no errors: items in error may be missing from the
/// graph.
pub fn render(project: &Project) -> RenderedBook {
    render_book(project, &Documents::new(project), &Downloads::NotWritten)
}

/// [`render`], with the files `{{#qms downloads}}` lists.
pub(crate) fn render_book(
    project: &Project,
    documents: &Documents,
    files: &Downloads,
) -> RenderedBook {
    let homes = place::homes(project);
    let chapters = project
        .chapters
        .iter()
        .enumerate()
        .map(|(index, chapter)| {
            let page = Page {
                project,
                homes: &homes,
                path: &chapter.path,
            };
            let text = &project.sources.get(chapter.file).text;
            let mut replacements: Vec<(std::ops::Range<usize>, String)> = Vec::new();
            for (i, item) in project.items.iter().enumerate() {
                if let Home::Chapter { chapter: c, block } = item.home {
                    if c == index && project.graph.get(&item.id) == Some(i) {
                        let card = in_container(&(page.card(i) + "\n"), text, block.start);
                        replacements.push((block.start..block.end, card));
                    }
                }
            }
            for d in &chapter.directives {
                let html = match d.kind {
                    Kind::Ref => project.graph.get(&d.args[0].text).map(|i| page.item_ref(i)),
                    Kind::Item => project.graph.get(&d.args[0].text).map(|i| page.card(i)),
                    Kind::Table => Some(table::table(&page, d)),
                    Kind::Matrix => Some(table::matrix(&page, d)),
                    Kind::Dfd => Some(crate::diagram::dfd::render(&page, d)),
                    Kind::Heatmap => Some(crate::diagram::heatmap::render(&page, d)),
                    Kind::Stride => Some(crate::diagram::stride::render(&page, d)),
                    Kind::Results => Some(crate::render::evidence::results(&page)),
                    Kind::Sbom => Some(crate::render::evidence::sbom(&page)),
                    Kind::Metrics => Some(crate::render::evidence::metrics(&page)),
                    Kind::Downloads => Some(downloads::list(&chapter.path, files)),
                    Kind::Document => Some(crate::documents::render_directive(
                        documents,
                        &page,
                        &d.args[0].text,
                    )),
                    Kind::History => Some(crate::render::history::history_markdown(
                        &project.history,
                        &d.args[0].text,
                    )),
                    Kind::Changes => Some(match project.baseline_diffs.get(&d.args[0].text) {
                        Some(Ok(diff)) => crate::render::history::changes_markdown(diff),
                        // `check` reports a baseline that cannot be read; say it here too.
                        Some(Err(e)) => format!("<p class=\"qms-gap\">{}</p>", escape(e)),
                        None => String::new(),
                    }),
                };
                if let Some(html) = html {
                    replacements.push((d.span.start..d.span.end, html));
                }
            }
            if replacements.is_empty() {
                return text.clone();
            }
            replacements.sort_by_key(|(r, _)| r.start);
            let mut out = String::with_capacity(text.len() + replacements.len() * 256);
            out.push_str(STYLE);
            out.push_str("\n\n");
            let mut at = 0;
            for (range, html) in replacements {
                if range.start < at {
                    continue;
                }
                out.push_str(&text[at..range.start]);
                out.push_str(&html);
                at = range.end;
            }
            out.push_str(&text[at..]);
            out
        })
        .collect();
    let mut generated = generated_chapters(project, &homes);
    generated.extend(crate::documents::chapters(documents, project, &homes));
    RenderedBook {
        chapters,
        generated,
    }
}

/// One chapter per type listing the items that no chapter places, and under it one page
/// per item file holding their cards. Built-in types come in their documented order,
/// then the project's own types.
fn generated_chapters(project: &Project, homes: &[Option<PathBuf>]) -> Vec<GeneratedChapter> {
    let mut types: Vec<&str> = BUILTIN
        .iter()
        .map(|(file, _)| file.trim_end_matches(".schema.json"))
        .filter(|t| project.types.get(t).is_some())
        .collect();
    for t in project.types.names() {
        if !types.contains(&t) {
            types.push(t);
        }
    }
    // Pages in item-file order (files were read sorted), items in file order.
    let mut pages: Vec<(PathBuf, &str, FileId, Vec<usize>)> = Vec::new();
    let mut page_of: HashMap<&Path, usize> = HashMap::new();
    for (i, item) in project.items.iter().enumerate() {
        let (Some(home), Home::File(file)) = (&homes[i], item.home) else {
            continue;
        };
        if !home.starts_with("qms") {
            continue;
        }
        match page_of.get(home.as_path()) {
            Some(&p) => pages[p].3.push(i),
            None => {
                page_of.insert(home, pages.len());
                pages.push((home.clone(), item.ty.as_str(), file, vec![i]));
            }
        }
    }
    let mut out = Vec::new();
    for ty in types {
        let name = project
            .types
            .get(ty)
            .map_or(ty.to_owned(), |d| d.plural.clone());
        let type_path = place::type_chapter(ty);
        let mut children = Vec::new();
        let mut index = String::new();
        for (path, _, file, members) in pages.iter().filter(|(_, t, ..)| *t == ty) {
            let file_path = &project.sources.get(*file).path;
            let file_name = crate::source::display_path(file_path);
            let short = short_name(project, file_path);
            let page = Page {
                project,
                homes,
                path,
            };
            let mut content = format!("{STYLE}\n\n# {}: {}\n\n", escape(&name), escape(&short));
            content.push_str(&format!(
                "<p class=\"qms-generated\">Generated by mdbook-qms from <code>{}</code>: {} {} that no chapter places.</p>\n\n",
                escape(&file_name),
                members.len(),
                escape(&name.to_lowercase())
            ));
            for &i in members {
                content.push_str(&page.card(i));
                content.push_str("\n\n");
            }
            index.push_str(&format!(
                "<li><a href=\"{}\">{}</a>: {}</li>",
                escape(&place::url(&type_path, path, "")).trim_end_matches('#'),
                escape(&file_name),
                members.len()
            ));
            children.push(GeneratedChapter {
                path: path.clone(),
                name: short,
                content,
                children: Vec::new(),
            });
        }
        if children.is_empty() {
            continue;
        }
        let content = format!(
            "# {}\n\n<p class=\"qms-generated\">Generated by mdbook-qms: the {} that no chapter places, by the file they are written in.</p>\n\n<ul class=\"qms-files\">{index}</ul>\n",
            escape(&name),
            escape(&name.to_lowercase())
        );
        out.push(GeneratedChapter {
            path: type_path,
            name,
            content,
            children,
        });
    }
    out
}

/// How a generated page is named in the navigation: the item file's path inside its
/// item folder, without the extension ("security/auth" for requirements/security/auth.yaml).
fn short_name(project: &Project, file: &Path) -> String {
    let inner = project
        .config
        .items
        .iter()
        .find_map(|folder| file.strip_prefix(folder).ok())
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(file);
    crate::source::display_path(&inner.with_extension(""))
}
