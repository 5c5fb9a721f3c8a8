//! Generated documents as controlled PDF/A-2b files, typeset in-process by Typst.
//!
//! A document's standalone Markdown (`Documents::standalone`) is converted to Typst
//! markup (`markup`), and a preamble this module writes adds the document control:
//! on every page the document number, title, revision, date and page X of Y; on the
//! first page the device, the approvals and the gaps. Every value from the project
//! enters the preamble as an escaped Typst string, never as markup. Typst sees only
//! that source, the fonts compiled into the binary and the document's own pictures
//! (`world`). The PDF's dates are the commit's, and its identifier is fixed, so the
//! same commit gives the same bytes.

pub(crate) mod index;
mod markup;
mod world;

use std::path::Path;

use typst::foundations::{Datetime, Smart};
use typst::WorldExt as _;
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp as PdfTimestamp};

use crate::date::Timestamp;
use crate::documents::device::Device;
use crate::documents::{find, Documents, TemplateError};
use crate::git::Repo;
use crate::project::Project;
use markup::typst_string;

/// What `render` writes: the standalone Markdown or the PDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderFormat {
    /// Standalone Markdown, on standard output.
    Md,
    /// PDF/A-2b, to a file.
    Pdf,
}
crate::choice::impl_choice!(pub RenderFormat { Md => "md", Pdf => "pdf" });

/// The revision a PDF names on every page and the moment it is dated with.
#[derive(Debug, Clone)]
pub struct Release {
    /// The tag(s) at HEAD, else the short commit, with " draft" when the work tree
    /// differs from it; "draft" outside git or before the first commit.
    pub revision: String,
    /// `SOURCE_DATE_EPOCH` when set, else the HEAD commit's time, else 1970-01-01.
    pub time: Timestamp,
}

impl Release {
    /// The work tree of `project` as git sees it. `replaced`, the file the PDF is
    /// written to, does not make the work tree dirty (the previous rendering of it).
    pub fn of_work_tree(project: &Project, replaced: Option<&Path>) -> Release {
        let replaced = replaced.and_then(|file| {
            let root = project.config.root.canonicalize().ok()?;
            Some(
                std::path::absolute(file)
                    .ok()?
                    .strip_prefix(root)
                    .ok()?
                    .to_path_buf(),
            )
        });
        let skip = |path: &Path| replaced.as_deref() == Some(path);
        let fallback = Timestamp::source_date_epoch().unwrap_or(Timestamp::utc(0));
        let Ok(repo) = Repo::open(&project.config.root) else {
            return Release::of_commit(None, &[], true, fallback);
        };
        let Ok(Some(head)) = repo.head() else {
            return Release::of_commit(None, &[], true, fallback);
        };
        let Ok(meta) = repo.commit(head) else {
            return Release::of_commit(None, &[], true, fallback);
        };
        let tags: Vec<String> = repo
            .tags("*")
            .into_iter()
            .filter(|(_, id)| *id == head)
            .map(|(name, _)| name)
            .collect();
        // A status that cannot be read counts as dirty: never claim a clean tree unseen.
        let dirty = !matches!(repo.dirty_paths(skip), Ok(paths) if paths.is_empty());
        let time = Timestamp::source_date_epoch().unwrap_or(Timestamp::utc(meta.time));
        Release::of_commit(Some(&head.hex()), &tags, dirty, time)
    }

    /// The release of `commit`: its tags, else its short id, with " draft" when the
    /// files typeset differ from it; "draft" outside git or before the first commit.
    pub(crate) fn of_commit(
        commit: Option<&str>,
        tags: &[String],
        dirty: bool,
        time: Timestamp,
    ) -> Release {
        let Some(commit) = commit else {
            return Release {
                revision: "draft".into(),
                time,
            };
        };
        let mut revision = if tags.is_empty() {
            commit.get(..12).unwrap_or(commit).to_owned()
        } else {
            tags.join(", ")
        };
        if dirty {
            revision.push_str(" draft");
        }
        Release { revision, time }
    }
}

/// The creator every PDF of ours names (`/Creator`, `xmp:CreatorTool`).
const CREATOR: &str = "mdbook-qms";

/// Whether `bytes` are a PDF mdbook-qms wrote (`render -o` replaces only those).
pub fn is_generated(bytes: &[u8]) -> bool {
    let creator = format!("<xmp:CreatorTool>{CREATOR}</xmp:CreatorTool>");
    bytes.starts_with(b"%PDF-")
        && bytes
            .windows(creator.len())
            .any(|w| w == creator.as_bytes())
}

/// A document typeset as PDF.
#[derive(Debug)]
pub struct Pdf {
    /// The PDF/A-2b file.
    pub bytes: Vec<u8>,
    /// How many pages it has.
    pub pages: usize,
}

/// Why a document has no PDF.
#[derive(Debug)]
pub enum PdfError {
    /// Its template failed (as `render --format md` reports it).
    Template(Box<TemplateError>),
    /// Typst rejected the markup generated for it: a defect of mdbook-qms, described
    /// with the line of the generated source.
    Typeset(String),
}

impl std::fmt::Display for PdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PdfError::Template(e) => write!(f, "error[{}]: {e}", e.code),
            PdfError::Typeset(why) => write!(
                f,
                "error: the PDF could not be typeset, a defect of mdbook-qms (please report it with the document's Markdown from `render --format md`): {why}"
            ),
        }
    }
}

/// Document `name` of `project` as a PDF/A-2b file dated and revised by `release`.
pub fn render(
    project: &Project,
    documents: &Documents,
    name: &str,
    release: &Release,
) -> Result<Pdf, PdfError> {
    let rendered = documents
        .standalone(project, name, false)
        .map_err(|e| PdfError::Template(Box::new(e)))?;
    // `standalone` has rendered it, so it is a built-in document.
    let info = find(name)
        .ok_or_else(|| PdfError::Typeset(format!("`{name}` is not a built-in document")))?;
    let page = Page {
        title: info.title,
        code: info.code,
        gaps: rendered.gaps.len(),
        ident: &format!("mdbook-qms/{name}"),
        document: Some(name),
    };
    typeset_markdown(project, &rendered.markdown, &page, release)
}

/// What a document's pages name besides the project's values.
pub(crate) struct Page<'a> {
    /// Its title.
    pub(crate) title: &'a str,
    /// The code its number carries (`{doc}` in `document-number`).
    pub(crate) code: &'a str,
    /// How many gaps it shows.
    pub(crate) gaps: usize,
    /// What its PDF identifier is derived from (one per document, the same every run).
    pub(crate) ident: &'a str,
    /// The built-in document's name, whose approval records the first page lists.
    pub(crate) document: Option<&'a str>,
}

/// Standalone `markdown` typeset with the document control of `page` and `release`:
/// a built-in document (`render`) or one written here (the submission index).
pub(crate) fn typeset_markdown(
    project: &Project,
    markdown: &str,
    page: &Page<'_>,
    release: &Release,
) -> Result<Pdf, PdfError> {
    let device = Device::of(project);
    let control = Control {
        number: document_number(&project.config.document_number, &device, page.code),
        title: page.title,
        revision: &release.revision,
        date: release.time.day().to_string(),
        approvals: approvals(project, markdown),
        document_approvals: page
            .document
            .map(|name| {
                project
                    .approvals_of_document(name)
                    .into_iter()
                    .map(|r| {
                        record_line(
                            r,
                            r.documents
                                .iter()
                                .find(|d| d.name == name)
                                .and_then(|d| d.current),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        gaps: page.gaps,
        device: &device,
    };
    let converted = markup::to_typst(markdown);
    let source = format!("{}{}", preamble(&control), converted.markup);
    typeset(source, converted.images, release.time, page.ident)
}

/// What the pages say about the document, besides its content.
struct Control<'a> {
    number: String,
    title: &'a str,
    revision: &'a str,
    /// The commit's day, `YYYY-MM-DD`.
    date: String,
    /// For each item of the document: its approval records, and its `approved_by` fact.
    approvals: Vec<String>,
    /// The document's own approval records.
    document_approvals: Vec<String>,
    gaps: usize,
    device: &'a Device,
}

/// `pattern` (`document-number`) with `{device}` the device item's id (else the device's
/// name) and `{doc}` the document's code.
fn document_number(pattern: &str, device: &Device, code: &str) -> String {
    let device = device.item.as_deref().unwrap_or(&device.name);
    pattern.replace("{device}", device).replace("{doc}", code)
}

/// The approvals of every item the document names (its id appears in the text as a
/// whole word), in id order: each approval record, then the `approved_by` fact, which
/// is said to be unsigned.
fn approvals(project: &Project, markdown: &str) -> Vec<String> {
    let mut named: Vec<&crate::model::Item> = project
        .items
        .iter()
        .filter(|item| crate::text::names_id(markdown, &item.id))
        .collect();
    named.sort_by(|a, b| crate::text::natural_cmp(&a.id, &b.id));
    named.dedup_by(|a, b| a.id == b.id);
    let mut out = Vec::new();
    for item in named {
        for record in project.approvals.of(&item.id) {
            let current = record.approves_current(&item.id);
            out.push(format!("{}: {}", item.id, record_line(record, current)));
        }
        if let Some(by) = item
            .text("approved_by")
            .map(str::trim)
            .filter(|b| !b.is_empty())
        {
            out.push(format!(
                "{}: {by} (approved_by, not a signed record)",
                item.id
            ));
        }
    }
    out
}

/// One approval record as the first page prints it: printed name, principal and roles,
/// meaning, time, commit, and whether it verified and is still current.
fn record_line(record: &crate::approval::ApprovalRecord, current: Option<bool>) -> String {
    let roles = if record.roles.is_empty() {
        String::new()
    } else {
        format!("; {}", record.roles.join(", "))
    };
    let who = match (&record.name, &record.principal) {
        (Some(name), Some(p)) => format!("{name} ({p}{roles})"),
        (None, Some(p)) => format!("{p} (no printed name{roles})"),
        _ => "unknown signer".to_owned(),
    };
    let state = match current {
        Some(false) => ", outdated",
        _ => "",
    };
    format!(
        "{who}, {}, {}, commit {}, {}{state}",
        record.meaning.as_deref().unwrap_or("no meaning"),
        record.time,
        record.short,
        record.verification.label(),
    )
}

/// The page setup and the first-page block. The values are bound to names as strings
/// first; the markup below only places them.
fn preamble(control: &Control<'_>) -> String {
    let device = control.device;
    let optional =
        |value: &Option<String>| typst_string(value.as_deref().unwrap_or("not recorded"));
    let approvals = if control.approvals.is_empty() {
        vec!["none recorded".to_owned()]
    } else {
        control.approvals.clone()
    };
    let document_approvals = if control.document_approvals.is_empty() {
        vec!["not approved: no approval record for this document".to_owned()]
    } else {
        control.document_approvals.clone()
    };
    let gaps = match control.gaps {
        0 => "none".to_owned(),
        n => format!(
            "{n} gap{}, listed by `mdbook-qms gaps`",
            if n == 1 { "" } else { "s" }
        ),
    };
    let values = [
        ("number", typst_string(&control.number)),
        ("title", typst_string(control.title)),
        ("revision", typst_string(control.revision)),
        ("date", typst_string(&control.date)),
        ("device", typst_string(&device.name)),
        ("manufacturer", optional(&device.manufacturer)),
        ("version", optional(&device.version)),
        ("approvals", typst_array(&approvals)),
        ("document-approvals", typst_array(&document_approvals)),
        ("gaps", typst_string(&gaps)),
    ];
    let mut out = String::new();
    for (name, value) in values {
        out.push_str(&format!("#let qms-{name} = {value}\n"));
    }
    out.push_str(PAGE_SETUP);
    out
}

/// `values` as a Typst array of strings.
fn typst_array(values: &[String]) -> String {
    let strings: Vec<String> = values.iter().map(|v| typst_string(v)).collect();
    format!("({},)", strings.join(", "))
}

/// The Typst that lays out every page and the first-page block, from the `qms-*`
/// values bound before it.
const PAGE_SETUP: &str = r#"#set document(title: qms-title, author: if qms-manufacturer == "not recorded" { () } else { qms-manufacturer }, description: qms-device)
#set text(font: "Libertinus Serif", size: 10pt, lang: "en")
#show raw: set text(font: "DejaVu Sans Mono", size: 8.5pt)
#set page(
  paper: "a4",
  margin: (top: 2.6cm, bottom: 2.4cm, x: 2cm),
  header: {
    set text(size: 8pt)
    grid(columns: (1fr, auto), align: (left, right), qms-number, qms-title)
    v(-6pt)
    line(length: 100%, stroke: 0.4pt)
  },
  footer: context {
    set text(size: 8pt)
    line(length: 100%, stroke: 0.4pt)
    v(-6pt)
    grid(
      columns: (1fr, auto, 1fr),
      align: (left, center, right),
      [Revision #qms-revision],
      qms-date,
      [Page #counter(page).display() of #counter(page).final().first()],
    )
  },
)
#set table(stroke: 0.4pt, inset: 4pt)
#show table.cell.where(y: 0): set text(weight: "bold")
#block(width: 100%, inset: 8pt, stroke: 0.6pt, breakable: false)[
  #set text(size: 9pt)
  #grid(
    columns: (auto, 1fr),
    column-gutter: 12pt,
    row-gutter: 6pt,
    [*Document number*], qms-number,
    [*Title*], qms-title,
    [*Revision*], qms-revision,
    [*Date*], qms-date,
    [*Device*], qms-device,
    [*Version*], qms-version,
    [*Manufacturer*], qms-manufacturer,
    [*Document approval*], qms-document-approvals.join(linebreak()),
    [*Item approvals*], qms-approvals.join(linebreak()),
    [*Gaps*], qms-gaps,
  )
]

"#;

/// Typesets `source` (pictures served by name) as PDF/A-2b dated `time`, with the
/// document identifier derived from `ident` (one per document, the same every run).
fn typeset(
    source: String,
    pictures: Vec<markup::Image>,
    time: Timestamp,
    ident: &str,
) -> Result<Pdf, PdfError> {
    let (y, mo, d, h, mi, s) = time.utc_parts();
    let at = i32::try_from(y)
        .ok()
        .and_then(|y| Datetime::from_ymd_hms(y, mo as u8, d as u8, h as u8, mi as u8, s as u8))
        .ok_or_else(|| {
            PdfError::Typeset(format!("the date {} cannot be written", time.rfc3339()))
        })?;
    let today = Datetime::from_ymd(at.year().unwrap_or(1970), mo as u8, d as u8).unwrap_or(at);
    let pictures = pictures.into_iter().map(|i| (i.name, i.svg)).collect();
    let world = world::DocumentWorld::new(source, pictures, today);
    let document: PagedDocument = typst::compile(&world)
        .output
        .map_err(|errors| PdfError::Typeset(describe(&world, &errors)))?;
    let standards = PdfStandards::new(&[PdfStandard::A_2b])
        .map_err(|e| PdfError::Typeset(e.message().to_string()))?;
    let options = PdfOptions {
        ident: Smart::Custom(ident.into()),
        creator: Smart::Custom(Some(CREATOR.into())),
        timestamp: Some(PdfTimestamp::new_utc(at)),
        standards,
        ..PdfOptions::default()
    };
    let bytes = typst_pdf::pdf(&document, &options)
        .map_err(|errors| PdfError::Typeset(describe(&world, &errors)))?;
    // Typst memoizes layout results in a process-wide cache that only grows: without
    // this, an export's 14 documents would keep every one's layouts until the end.
    typst::comemo::evict(0);
    Ok(Pdf {
        bytes,
        pages: document.pages().len(),
    })
}

/// Typst's errors, each at its line and column of the generated source.
fn describe(world: &world::DocumentWorld, errors: &[typst::diag::SourceDiagnostic]) -> String {
    let source = world.main_source();
    errors
        .iter()
        .map(|e| {
            let place = world
                .range(e.span)
                .and_then(|r| {
                    let lines = source.lines();
                    Some((lines.byte_to_line(r.start)?, lines.byte_to_column(r.start)?))
                })
                .map(|(l, c)| format!("generated source {}:{}: ", l + 1, c + 1))
                .unwrap_or_default();
            format!("{place}{}", e.message)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_typst_rejects_is_a_described_error_not_a_panic() {
        let error = typeset("ok\n#let x = (".into(), Vec::new(), Timestamp::utc(0), "t")
            .expect_err("unclosed delimiter");
        let PdfError::Typeset(why) = error else {
            panic!("not a typesetting error: {error:?}");
        };
        assert!(why.starts_with("generated source 2:"), "{why}");
    }

    #[test]
    fn document_numbers_name_the_device_item_and_the_document() {
        let device = Device {
            item: Some("DEV-1".into()),
            name: "Pump (P-1)".into(),
            version: None,
            manufacturer: None,
            description: None,
        };
        assert_eq!(
            document_number("{device}-CSEC-{doc}", &device, "TM"),
            "DEV-1-CSEC-TM"
        );
        let unnamed = Device {
            item: None,
            ..device
        };
        assert_eq!(
            document_number("{doc}/{device}", &unnamed, "RA"),
            "RA/Pump (P-1)"
        );
    }
}
