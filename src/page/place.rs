//! Where each item lives in the book, and links between pages.
//!
//! Every item has exactly one home page, and its card carries an anchor equal to its id:
//! the chapter whose ```` ```qms ```` block defines it, else the chapter with its
//! `{{#qms item ID}}`, else the generated chapter of its type.

use std::path::{Path, PathBuf};

use crate::directive::Kind;
use crate::model::Home;
use crate::project::Project;

/// Path (relative to the book's `src`) of the generated chapter listing a type.
pub(crate) fn type_chapter(ty: &str) -> PathBuf {
    PathBuf::from("qms").join(format!("{ty}.md"))
}

/// Path of the generated page holding the unplaced items of one type from one YAML
/// file: pages mirror the item files, so large projects get pages of readable size.
pub(crate) fn file_chapter(ty: &str, file: &Path) -> PathBuf {
    PathBuf::from("qms")
        .join(ty)
        .join(file.with_extension("md"))
}

/// The home chapter of every item (by item index); `None` when the item has no page
/// (generated chapters disabled and nothing places it).
pub fn homes(project: &Project) -> Vec<Option<PathBuf>> {
    let mut homes: Vec<Option<PathBuf>> = project
        .items
        .iter()
        .map(|item| match item.home {
            Home::Chapter { chapter, .. } => Some(project.chapters[chapter].path.clone()),
            Home::File(_) => None,
        })
        .collect();
    for chapter in &project.chapters {
        for d in chapter.directives.iter().filter(|d| d.kind == Kind::Item) {
            if let Some(i) = d.args.first().and_then(|a| project.graph.get(&a.text)) {
                homes[i].get_or_insert_with(|| chapter.path.clone());
            }
        }
    }
    if project.config.generated_chapters {
        for (i, item) in project.items.iter().enumerate() {
            if let (Home::File(file), true) = (item.home, project.graph.get(&item.id) == Some(i)) {
                homes[i]
                    .get_or_insert_with(|| file_chapter(&item.ty, &project.sources.get(file).path));
            }
        }
    }
    homes
}

/// The URL of `target` (a chapter path) from a page at `from`, both relative to `src`,
/// as the HTML renderer lays them out (`.md` -> `.html`, `README.md` -> `index.html`).
pub(crate) fn url(from: &Path, target: &Path, anchor: &str) -> String {
    if from == target {
        return format!("#{anchor}");
    }
    let target_html = html_path(target);
    let depth = from.parent().map_or(0, |p| p.components().count());
    let mut url = "../".repeat(depth);
    url.push_str(&crate::source::display_path(&target_html));
    url.push('#');
    url.push_str(anchor);
    url
}

fn html_path(chapter: &Path) -> PathBuf {
    if chapter.file_name().is_some_and(|n| n == "README.md") {
        chapter.with_file_name("index.html")
    } else {
        chapter.with_extension("html")
    }
}
