//! `render NAME --format pdf -o FILE`: the example's documents as PDF/A-2b files, read
//! back by independent readers (qpdf, poppler's pdffonts and pdftotext, pypdf), the same
//! bytes for the same commit, and the refusals (no file, a file in the sources, a file
//! someone else wrote, a project with errors).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::cli::{run, run_within, Run};
use crate::support::git::{commit_in, git_in};
use crate::support::{copy_dir, repo_root, write};

/// The example committed (at a fixed time) and tagged `v1` in a temporary repository,
/// with a folder for the PDFs outside it.
struct Example {
    tmp: tempfile::TempDir,
}

/// How long one PDF may take in a debug build on a loaded machine.
const TYPESETTING: std::time::Duration = std::time::Duration::from_secs(180);

/// The example's commit time: 2026-01-01T00:00:00Z.
const COMMITTED: i64 = 1_767_225_600;

impl Example {
    fn new() -> Example {
        let tmp = tempfile::tempdir().unwrap();
        let e = Example { tmp };
        copy_dir(&repo_root().join("examples/insulin-pump"), &e.project());
        git_in(&e.project(), &["init", "-q", "-b", "main"]);
        commit_in(&e.project(), "A <a@example.com>", "Import", COMMITTED);
        git_in(&e.project(), &["tag", "v1"]);
        std::fs::create_dir_all(e.out_dir()).unwrap();
        e
    }

    fn project(&self) -> PathBuf {
        self.tmp.path().join("device")
    }

    fn out_dir(&self) -> PathBuf {
        self.tmp.path().join("out")
    }

    /// `render NAME PROJECT --format pdf -o out/FILE` and extra arguments.
    fn pdf(&self, name: &str, file: &str, extra: &[&str]) -> (Run, PathBuf) {
        let out = self.out_dir().join(file);
        let project = self.project();
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "render".as_ref(),
            name.as_ref(),
            project.as_os_str(),
            "--format".as_ref(),
            "pdf".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
        ];
        args.extend(extra.iter().map(|a| a.as_ref() as &std::ffi::OsStr));
        (run_within(&args, TYPESETTING), out)
    }

    fn markdown(&self, name: &str) -> String {
        let r = run(&["render".as_ref(), name.as_ref(), self.project().as_os_str()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    }
}

/// Runs a reader and returns its standard output; it must succeed.
pub(crate) fn read_with(program: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} could not run ({e}); ./test installs it"));
    assert!(
        out.status.success(),
        "{program} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text pdftotext finds, with the line breaks inside words and ids undone.
pub(crate) fn text_of(pdf: &Path) -> String {
    // -raw keeps the hyphen where a line breaks inside an id (the default drops it).
    let text = read_with(
        "pdftotext",
        &["-raw".as_ref(), pdf.as_os_str(), "-".as_ref()],
    );
    text.replace("-\n", "-").replace('\n', " ")
}

/// The item ids of the example that `markdown` names (whole words).
fn ids_in(markdown: &str, project: &Path) -> Vec<String> {
    let loaded = mdbook_qms::pipeline::load(project, mdbook_qms::load::ChapterSource::Disk)
        .unwrap_or_else(|_| panic!("the example loads"));
    let part_of_id = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    loaded
        .items
        .iter()
        .map(|item| item.id.clone())
        .filter(|id| {
            markdown.match_indices(id.as_str()).any(|(at, _)| {
                !markdown[..at].chars().next_back().is_some_and(part_of_id)
                    && !markdown[at + id.len()..]
                        .chars()
                        .next()
                        .is_some_and(part_of_id)
            })
        })
        .collect()
}

#[test]
fn pdf_documents_read_back_by_independent_readers() {
    let e = Example::new();
    for (name, title) in [
        ("threat-model", "Threat Model"),
        ("security-testing-report", "Cybersecurity Testing Report"),
    ] {
        let (r, pdf) = e.pdf(name, &format!("{name}.pdf"), &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        // qpdf: the file's structure (xref, streams, objects) is sound.
        read_with("qpdf", &["--check".as_ref(), pdf.as_os_str()]);
        // pdffonts: every font is embedded (column `emb`).
        let fonts = read_with("pdffonts", &[pdf.as_os_str()]);
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(!rows.is_empty(), "no fonts:\n{fonts}");
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            let emb = cols[cols.len() - 5];
            assert_eq!(emb, "yes", "a font is not embedded:\n{fonts}");
        }
        // pdftotext: the title, the device, the control block and every item id of the
        // Markdown version.
        let text = text_of(&pdf);
        let code = if name == "threat-model" { "TM" } else { "STR" };
        for expected in [
            title,
            "AcmeFlow 3 (AF3-100)",
            "Acme Diabetes Care",
            &format!("DEV-ACMEFLOW-3-CSEC-{code}"),
            "Revision v1",
            "2026-01-01",
            "Page 1 of",
        ] {
            assert!(
                text.contains(expected),
                "{name}: no `{expected}` in:\n{text}"
            );
        }
        let ids = ids_in(&e.markdown(name), &e.project());
        assert!(ids.len() > 5, "{name}: {ids:?}");
        let missing: Vec<&String> = ids
            .iter()
            .filter(|id| !text.contains(id.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "{name}: ids not in the PDF: {missing:?}\n{text}"
        );
        // pypdf: PDF/A-2b in the XMP metadata, and the document information.
        let script = r#"
import sys, xml.etree.ElementTree as ET
from pypdf import PdfReader
reader = PdfReader(sys.argv[1])
root = ET.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())
ns = "{http://www.aiim.org/pdfa/ns/id/}"
found = {}
for el in root.iter():
    for key in ("part", "conformance"):
        if el.tag == ns + key:
            found[key] = el.text
        if ns + key in el.attrib:
            found[key] = el.attrib[ns + key]
info = reader.metadata
print(found.get("part"), found.get("conformance"))
print(info.title)
print(info.author)
print(info.subject)
def titles(outline):
    for entry in outline:
        if isinstance(entry, list):
            yield from titles(entry)
        else:
            yield entry.title
print("|".join(titles(reader.outline)))
"#;
        let read = read_with(
            "python3",
            &["-c".as_ref(), script.as_ref(), pdf.as_os_str()],
        );
        let lines: Vec<&str> = read.lines().collect();
        assert_eq!(
            lines[..4],
            ["2 B", title, "Acme Diabetes Care", "AcmeFlow 3 (AF3-100)"],
            "{name}"
        );
        // The outline: a bookmark per heading, the title first.
        let bookmarks: Vec<&str> = lines[4].split('|').collect();
        let headings = e
            .markdown(name)
            .lines()
            .filter(|l| l.starts_with('#'))
            .count();
        assert_eq!(bookmarks[0], title, "{name}: {bookmarks:?}");
        assert_eq!(bookmarks.len(), headings, "{name}: {bookmarks:?}");
    }
}

#[test]
fn pdf_same_commit_same_bytes_and_a_dirty_tree_is_a_draft() {
    let e = Example::new();
    let (first, a) = e.pdf("risk-assessment", "a.pdf", &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let (second, b) = e.pdf("risk-assessment", "b.pdf", &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(
        std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
        "two renders of one commit differ"
    );
    // The document control on every page: number, title, revision, date, page X of Y.
    let info = read_with("pdfinfo", &[a.as_os_str()]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count:\n{info}"));
    assert!(pages > 1, "{info}");
    for page in 1..=pages {
        let n = page.to_string();
        let text = read_with(
            "pdftotext",
            &[
                "-raw".as_ref(),
                "-f".as_ref(),
                n.as_ref(),
                "-l".as_ref(),
                n.as_ref(),
                a.as_os_str(),
                "-".as_ref(),
            ],
        );
        for expected in [
            "DEV-ACMEFLOW-3-CSEC-RA",
            "Cybersecurity Risk Assessment",
            "Revision v1",
            "2026-01-01",
            &format!("Page {page} of {pages}"),
        ] {
            assert!(
                text.contains(expected),
                "page {page}: no `{expected}` in:\n{text}"
            );
        }
    }
    let text = text_of(&a);
    assert!(text.contains("Revision v1 "), "{text}");
    assert!(!text.contains("draft"), "{text}");
    // Approvals: the approved_by of the accepted risks this document lists.
    assert!(
        text.contains("J. Lindqvist, Head of Product Security"),
        "{text}"
    );

    write(&e.project(), "notes.txt", "uncommitted\n");
    let (r, dirty) = e.pdf("risk-assessment", "c.pdf", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(text_of(&dirty).contains("Revision v1 draft"));
}

#[test]
fn pdf_is_refused_without_a_file_in_the_sources_or_over_a_foreign_file() {
    let e = Example::new();
    let project = e.project();
    let no_file = run(&[
        "render".as_ref(),
        "threat-model".as_ref(),
        project.as_os_str(),
        "--format".as_ref(),
        "pdf".as_ref(),
    ]);
    assert_eq!(no_file.code, 2);
    assert!(no_file.stderr.contains("-o FILE"), "{}", no_file.stderr);

    let inside = project.join("requirements/threat-model.pdf");
    let r = run(&[
        "render".as_ref(),
        "threat-model".as_ref(),
        project.as_os_str(),
        "--format".as_ref(),
        "pdf".as_ref(),
        "-o".as_ref(),
        inside.as_os_str(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("refusing to write"), "{}", r.stderr);
    assert!(!inside.exists());

    write(&e.out_dir(), "mine.pdf", "%PDF-1.7 someone else's\n");
    let (r, foreign) = e.pdf("threat-model", "mine.pdf", &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(foreign).unwrap(),
        "%PDF-1.7 someone else's\n"
    );
    // A PDF it wrote is replaced.
    let (r, _) = e.pdf("threat-model", "tm.pdf", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (r, _) = e.pdf("threat-model", "tm.pdf", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn pdf_of_a_project_with_errors_needs_allow_errors() {
    let e = Example::new();
    write(
        &e.project(),
        "requirements/broken.yaml",
        "id: REQ-BROKEN\ntype: requirement\ntitle: Broken\nparent: REQ-NOWHERE\n",
    );
    let (r, pdf) = e.pdf("threat-model", "tm.pdf", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("REQ-NOWHERE"), "{}", r.stderr);
    assert!(!pdf.exists());
    let (r, pdf) = e.pdf("threat-model", "tm.pdf", &["--allow-errors"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    read_with("qpdf", &["--check".as_ref(), pdf.as_os_str()]);
}

#[test]
fn pdf_prints_typst_markup_in_item_text_as_text() {
    let e = Example::new();
    let device = e.project().join("requirements/plan/device.yaml");
    let text = std::fs::read_to_string(&device).unwrap();
    let hostile = r#"model: '#set page(width: 1pt) $x^2$ *b* _i_ @ref <l> // c \ "q" [a] = h'"#;
    std::fs::write(
        &device,
        text.replace("model: AcmeFlow 3 (AF3-100)", hostile),
    )
    .unwrap();
    let (r, pdf) = e.pdf("cyber-device-summary", "cds.pdf", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = text_of(&pdf);
    assert!(
        text.contains(r#"#set page(width: 1pt) $x^2$ *b* _i_ @ref <l> // c \ "q" [a] = h"#),
        "{text}"
    );
}

#[test]
fn markdown_to_a_file_is_what_stdout_shows_and_replaces_only_itself() {
    let e = Example::new();
    let out = e.out_dir().join("tm.md");
    let project = e.project();
    let args: [&std::ffi::OsStr; 5] = [
        "render".as_ref(),
        "threat-model".as_ref(),
        project.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ];
    for _ in 0..2 {
        let r = run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.stdout, "");
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            e.markdown("threat-model")
        );
    }
    write(&e.out_dir(), "tm.md", "# My notes\n");
    let r = run(&args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "# My notes\n");
}

#[test]
fn pdf_outside_git_is_a_draft_dated_by_source_date_epoch() {
    let project = crate::support::cli::Project::new();
    let out = tempfile::tempdir().unwrap();
    let pdf = out.path().join("sbom.pdf");
    let render = |epoch: Option<&str>| {
        let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_mdbook-qms"));
        cmd.args(["render", "sbom"])
            .arg(project.path())
            .args(["--format", "pdf", "-o"])
            .arg(&pdf)
            .env_remove("SOURCE_DATE_EPOCH");
        if let Some(epoch) = epoch {
            cmd.env("SOURCE_DATE_EPOCH", epoch);
        }
        let status = cmd.output().unwrap().status;
        assert!(status.success());
        text_of(&pdf)
    };
    let text = render(None);
    assert!(text.contains("Revision draft 1970-01-01"), "{text}");
    assert!(text.contains("T-CSEC-SBOM"), "{text}");
    let text = render(Some("1767225600"));
    assert!(text.contains("Revision draft 2026-01-01"), "{text}");
}
