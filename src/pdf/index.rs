//! The submission index of an export bundle (`documents/submission-index.pdf`): the
//! device, the release, and every document's number, title, revision, page count and
//! SHA-256, so a reviewer who holds the index can check each PDF handed over with it.
//!
//! The index is no built-in template: its standalone Markdown is written here, every
//! project value escaped with `escape_commonmark` as in the documents, and typeset by
//! the same engine as the documents (`super::typeset_markdown`), with the same document
//! control on every page.

use super::{document_number, typeset_markdown, Page, Pdf, PdfError, Release};
use crate::documents::device::Device;
use crate::documents::find;
use crate::html::escape_commonmark;
use crate::project::Project;

/// The index's file stem in the bundle (`documents/submission-index.pdf`).
pub(crate) const NAME: &str = "submission-index";
/// The code its document number carries (`{doc}` in `document-number`).
const CODE: &str = "IDX";
const TITLE: &str = "Submission Index";

/// What the index says about the exported commit.
pub(crate) struct Submission<'a> {
    /// The full id of the exported commit; `None` for a folder outside git.
    pub(crate) commit: Option<&'a str>,
    /// The tags on that commit.
    pub(crate) tags: &'a [String],
    /// Whether the exported files differ from the commit.
    pub(crate) dirty: bool,
}

/// One document of the bundle as the index lists it.
pub(crate) struct Entry<'a> {
    /// The built-in document's name (`threat-model`).
    pub(crate) name: &'a str,
    /// Its PDF's page count.
    pub(crate) pages: usize,
    /// The SHA-256 of its PDF, lower-case hex.
    pub(crate) sha256: String,
}

/// The submission index of `entries`, typeset like a document and dated and revised by
/// `release`.
pub(crate) fn render(
    project: &Project,
    submission: &Submission<'_>,
    entries: &[Entry<'_>],
    release: &Release,
) -> Result<Pdf, PdfError> {
    let device = Device::of(project);
    let pattern = &project.config.document_number;
    let markdown = markdown(&device, pattern, submission, entries, release);
    let page = Page {
        title: TITLE,
        code: CODE,
        gaps: 0,
        ident: &format!("mdbook-qms/{NAME}"),
        document: None,
    };
    typeset_markdown(project, &markdown, &page, release)
}

/// The index as standalone Markdown; `pattern` is `document-number`.
fn markdown(
    device: &Device,
    pattern: &str,
    submission: &Submission<'_>,
    entries: &[Entry<'_>],
    release: &Release,
) -> String {
    let recorded = |value: &Option<String>| {
        value
            .as_deref()
            .map_or_else(|| "not recorded".to_owned(), escape_commonmark)
    };
    let mut out = format!("# {TITLE}\n\n## Device\n\n");
    out.push_str(&format!(
        "- Manufacturer: {}\n",
        recorded(&device.manufacturer)
    ));
    out.push_str(&format!("- Model: {}\n", escape_commonmark(&device.name)));
    out.push_str(&format!("- Version: {}\n", recorded(&device.version)));
    if let Some(item) = &device.item {
        out.push_str(&format!("- Device item: {}\n", escape_commonmark(item)));
    }

    out.push_str("\n## Release\n\n");
    let tags = if submission.tags.is_empty() {
        "none".to_owned()
    } else {
        escape_commonmark(&submission.tags.join(", "))
    };
    out.push_str(&format!("- Tags: {tags}\n"));
    let commit = submission.commit.map_or_else(
        || "none: exported from a folder outside git".to_owned(),
        |id| format!("`{id}`"),
    );
    out.push_str(&format!("- Commit: {commit}\n"));
    out.push_str(&format!(
        "- Revision: {}\n",
        escape_commonmark(&release.revision)
    ));
    out.push_str(&format!(
        "- Status: {}\n",
        if submission.dirty || submission.commit.is_none() {
            "draft: the exported files differ from any commit"
        } else {
            "released: every file is the commit's"
        }
    ));
    out.push_str(&format!("- Date: {}\n", release.time.day()));

    out.push_str(
        "\n## Documents\n\n| Document number | Title | Revision | Pages |\n| --- | --- | --- | --- |\n",
    );
    let mut files = String::from("\n## SHA-256 of each PDF\n\nVerify a file with `sha256sum FILE` (the bundle's `MANIFEST.sha256` lists them too).\n\n| File | SHA-256 |\n| --- | --- |\n");
    for entry in entries {
        // The entries are the built-in documents `export` typeset; a name that is not
        // one still gets its row, titled by its name.
        let (code, title) =
            find(entry.name).map_or((entry.name, entry.name), |d| (d.code, d.title));
        let number = document_number(pattern, device, code);
        out.push_str(&format!(
            "| {} | [{}]({}.md) | {} | {} |\n",
            escape_commonmark(&number),
            escape_commonmark(title),
            entry.name,
            escape_commonmark(&release.revision),
            entry.pages
        ));
        files.push_str(&format!(
            "| {}.pdf | `{}` |\n",
            escape_commonmark(entry.name),
            entry.sha256
        ));
    }
    out.push_str(&files);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_lists_every_document_with_its_hash() {
        let device = Device {
            item: Some("DEV-1".into()),
            name: "Pump <b>".into(),
            version: None,
            manufacturer: Some("ACME *Med*".into()),
            description: None,
        };
        let release = Release {
            revision: "v1 | *x*".into(),
            time: crate::date::Timestamp::utc(0),
        };
        let tags = ["v1 | *x*".to_owned()];
        let submission = Submission {
            commit: Some("0123abcd"),
            tags: &tags,
            dirty: false,
        };
        let entries = [Entry {
            name: "threat-model",
            pages: 7,
            sha256: "ab".repeat(32),
        }];
        let text = markdown(&device, "{device}-{doc}", &submission, &entries, &release);
        assert!(
            text.contains("[Threat Model](threat-model.md) | v1 \\| \\*x\\* | 7 |"),
            "{text}"
        );
        assert!(
            text.contains(&format!("| threat-model.pdf | `{}` |", "ab".repeat(32))),
            "{text}"
        );
        assert!(text.contains("- Commit: `0123abcd`\n"), "{text}");
        assert!(text.contains("- Tags: v1 \\| \\*x\\*\n"), "{text}");
        assert!(text.contains("| DEV-1-TM | "), "{text}");
        assert!(text.contains("- Manufacturer: ACME \\*Med\\*\n"), "{text}");
        assert!(text.contains("- Model: Pump \\<b>\n"), "{text}");
        assert!(text.contains("- Version: not recorded\n"), "{text}");
    }

    #[test]
    fn a_release_is_the_tags_else_the_short_commit_and_a_draft_when_dirty() {
        let at = crate::date::Timestamp::utc(0);
        let id = "0123456789abcdef0123456789abcdef01234567";
        let tags = ["v1".to_owned(), "v1.0".to_owned()];
        let of =
            |commit, tags: &[String], dirty| Release::of_commit(commit, tags, dirty, at).revision;
        assert_eq!(of(Some(id), &tags, false), "v1, v1.0");
        assert_eq!(of(Some(id), &[], false), "0123456789ab");
        assert_eq!(of(Some(id), &tags, true), "v1, v1.0 draft");
        assert_eq!(of(None, &[], true), "draft");
    }
}
