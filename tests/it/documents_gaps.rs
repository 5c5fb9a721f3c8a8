//! `mdbook-qms gaps`, the author's to-do list: every red marker of every rendered
//! document is on it and nothing else of the documents is, each thing missing once
//! however many documents show it, at the file:line where it would be filled; the JSON
//! format and `--deny`'s exit status.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;

use crate::support::builder::Built;
use crate::support::ProjectBuilder;
use mdbook_qms::documents::{Documents, Flavour, Todo, DOCUMENTS};
use mdbook_qms::linked::LoadOptions;
use mdbook_qms::load::ChapterSource;
use mdbook_qms::pipeline;

fn example() -> PathBuf {
    crate::support::repo_root().join("examples/insulin-pump")
}

/// A minimal project (see `support::ProjectBuilder`) with the given files.
fn project(files: &[(&str, &str)]) -> Built {
    ProjectBuilder::new().files(files).build()
}

fn gaps(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("gaps")
        .args(args)
        .arg(dir)
        .env("MDBOOK_QMS_TODAY", "2026-12-03")
        .output()
        .unwrap()
}

/// The legend every document's introduction shows: red, but not a gap.
const LEGEND: &str = r#"a red <span class="qms-gap">Gap</span> marks"#;

/// Every red marker of a rendered document: the text of each `qms-gap` element, and
/// every reference to an item that does not exist (red wavy underline).
fn markers(markdown: &str) -> Vec<String> {
    let text = markdown.replace(LEGEND, "");
    let mut out = Vec::new();
    for (i, _) in text.match_indices("qms-gap\"") {
        let rest = &text[i + "qms-gap\"".len()..];
        let body = &rest[rest.find('>').unwrap() + 1..];
        // Names in backticks are shown as code.
        let body = body[..body.find("</span>").unwrap()]
            .replace("<code>", "`")
            .replace("</code>", "`");
        out.push(unescape(&body));
    }
    for (i, _) in text.match_indices("qms-missing\"") {
        out.push(format!("missing reference at byte {i}"));
    }
    out
}

/// Every marker of a document in standalone Markdown: the text of each `**Gap: ...**`,
/// backslash escapes removed.
fn standalone_markers(markdown: &str) -> Vec<String> {
    let text = markdown.replace("**Gap:** marks", "");
    text.match_indices("**Gap: ")
        .map(|(i, _)| {
            let body = &text[i + 2..];
            let body = &body[..body.find("**").unwrap()];
            let mut out = String::new();
            let mut chars = body.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, chars.peek()) {
                    ('\\', Some(p)) if p.is_ascii_punctuation() => {}
                    _ => out.push(c),
                }
            }
            out
        })
        .collect()
}

/// The text of HTML with character references (`&#95;`, `&amp;`) decoded.
fn unescape(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').map(|e| i + e).unwrap();
        let name = &rest[i + 1..end];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            _ => match name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                Some(hex) => char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap(),
                None => char::from_u32(name[1..].parse().unwrap()).unwrap(),
            },
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Renders every document of `dir` as `render` does and compares its red markers with
/// the to-do list: each marker is a `Gap: ` whose text the list has for that document
/// and section, and each gap the list has for a document is shown there.
fn assert_markers_are_the_gaps(dir: &Path) -> Vec<Todo> {
    let (project, documents) =
        pipeline::load_with_documents(dir, ChapterSource::Disk, LoadOptions::default()).unwrap();
    assert!(!project.diagnostics.has_errors());
    let todo = documents.todo(&project).unwrap();
    for flavour in [Flavour::Book, Flavour::Standalone { sources: true }] {
        assert_flavour_markers_are_the_gaps(&project, flavour, &todo);
    }
    todo
}

fn assert_flavour_markers_are_the_gaps(
    project: &mdbook_qms::project::Project,
    flavour: Flavour,
    todo: &[Todo],
) {
    let rendered = Documents::new(project).all_as(project, flavour).unwrap();
    assert_eq!(rendered.len(), DOCUMENTS.len());
    for (name, doc) in &rendered {
        let shown = match flavour {
            Flavour::Book => markers(&doc.markdown),
            Flavour::Standalone { .. } => standalone_markers(&doc.markdown),
        };
        let shown: BTreeSet<String> = shown.into_iter().collect();
        let listed: BTreeSet<String> = todo
            .iter()
            .filter(|t| t.shown_in.iter().any(|(d, s)| d == name && s.is_some()))
            .map(|t| format!("Gap: {}", t.message))
            .collect();
        assert_eq!(
            shown, listed,
            "{name} ({flavour:?}): markers (left) and gaps (right) differ"
        );
    }
}

#[test]
fn every_red_marker_of_the_example_is_a_gap_and_every_gap_a_marker() {
    let todo = assert_markers_are_the_gaps(&example());
    assert!(todo
        .iter()
        .any(|t| t.message.contains("labeling_topic: backup-restore")));
}

#[test]
fn every_red_marker_of_an_empty_project_is_a_gap_and_each_is_listed_once() {
    let dir = project(&[]);
    let todo = assert_markers_are_the_gaps(dir.path());
    // The missing device item is shown in every document's header: one gap.
    let device: Vec<&Todo> = todo
        .iter()
        .filter(|t| t.message.contains("no `device` item describes the device"))
        .collect();
    assert_eq!(device.len(), 1, "{todo:#?}");
    assert!(device[0].shown_in.len() > 1, "{:?}", device[0].shown_in);
    // No components: one gap, shown by four documents.
    let components: Vec<&Todo> = todo
        .iter()
        .filter(|t| t.message.starts_with("no components"))
        .collect();
    assert_eq!(components.len(), 1, "{todo:#?}");
    assert!(
        components[0].shown_in.len() >= 4,
        "{:?}",
        components[0].shown_in
    );
    let messages: BTreeSet<&str> = todo.iter().map(|t| t.message.as_str()).collect();
    assert_eq!(
        messages.len(),
        todo.len(),
        "a message listed twice: {todo:#?}"
    );
    // A type with no item at all: the folder `mdbook-qms new TYPE` writes to.
    assert_eq!(device[0].file.as_deref(), Some("requirements/device/"));
    assert_eq!(device[0].line, None);
    // Nothing to measure is not a gap.
    assert!(
        !messages.iter().any(|m| m.contains("percentage patched")),
        "{messages:#?}"
    );
}

#[test]
fn a_gap_is_placed_at_the_item_field_or_beside_the_items_of_its_type() {
    let dir = project(&[(
        "requirements/model.yaml",
        "- id: AST-A\n  type: asset\n  title: A\n  kind: process\n- id: AST-B\n  type: asset\n  title: B\n  kind: process\n- id: FLW-1\n  type: flow\n  title: A to B\n  from: AST-A\n  to: AST-B\n- id: PLAN-MON\n  type: plan\n  title: Monitoring\n  topic: monitoring\n  sources: [NVD]\n  frequency: daily\n",
    )]);
    let out = gaps(dir.path(), &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let find = |needle: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|g| g["message"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no gap `{needle}` in {list:#}"))
            .clone()
    };
    // A missing field: the item's first line.
    let flow = find("FLW-1 has no protocol");
    assert_eq!(flow["file"], "requirements/model.yaml");
    assert_eq!(flow["line"], 9);
    assert_eq!(flow["item"], "FLW-1");
    assert_eq!(flow["document"], "security-labeling");
    assert_eq!(flow["section"], "3. Network ports and interfaces");
    // A missing plan: beside the last plan item.
    let testing = find("no `plan` item with `topic: testing`");
    assert_eq!(testing["file"], "requirements/model.yaml");
    assert_eq!(testing["line"], 14);
    assert_eq!(testing["item"], serde_json::Value::Null);
    // A plan's timeline longer than the guidance expects is a gap at that field.
    std::fs::write(
        dir.path().join("requirements/patch.yaml"),
        "{id: PLAN-PATCH, type: plan, title: Patching, topic: patching, regular_cycle: quarterly, out_of_cycle_days: 90}\n",
    )
    .unwrap();
    let todo = assert_markers_are_the_gaps(dir.path());
    let patch = todo
        .iter()
        .find(|t| t.item.as_deref() == Some("PLAN-PATCH"))
        .unwrap_or_else(|| panic!("{todo:#?}"));
    assert!(patch.message.contains("90 days out of cycle"), "{patch:?}");
    assert_eq!(
        (patch.file.as_deref(), patch.line),
        (Some("requirements/patch.yaml"), Some(1))
    );
    // Every object has the same keys.
    for g in list.as_array().unwrap() {
        let keys: BTreeSet<&str> = g.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from([
                "code", "document", "file", "item", "key", "line", "message", "section", "shown_in"
            ])
        );
    }
}

#[test]
fn the_example_lists_its_check_findings_with_file_and_line_and_deny_fails() {
    let out = gaps(&example(), &["--format", "json", "--deny"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = list.as_array().unwrap();
    let failed = list
        .iter()
        .find(|g| g["code"] == "test-failed")
        .unwrap_or_else(|| panic!("{list:#?}"));
    assert_eq!(failed["item"], "TST-CLOUD-RESILIENCE");
    let file = example().join(failed["file"].as_str().unwrap());
    let line = failed["line"].as_u64().unwrap() as usize;
    let text = std::fs::read_to_string(file).unwrap();
    assert!(
        text.lines().nth(line - 1).unwrap().contains("evidence"),
        "{failed:#}"
    );
    let shown: Vec<&str> = failed["shown_in"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["document"].as_str().unwrap())
        .collect();
    assert!(shown.contains(&"security-testing-report"), "{shown:?}");
    // The text format: one line per gap, the count on stderr, status 0 without --deny.
    let out = gaps(&example(), &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), list.len(), "{text}");
    assert!(
        text.contains("requirements/tests/cloud-tests.yaml:58: [test-failed] TST-CLOUD-RESILIENCE"),
        "{text}"
    );
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!("{} gaps\n", list.len())
    );
}

#[test]
fn deny_passes_when_nothing_is_missing_and_fails_on_one_gap() {
    // Every document overridden by a template without gaps, and no items: nothing to do.
    let overrides: Vec<(String, String)> = DOCUMENTS
        .iter()
        .map(|d| {
            (
                format!("templates/{}.md.j2", d.name),
                format!("# {}\n", d.title),
            )
        })
        .collect();
    let files: Vec<(&str, &str)> = overrides
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let dir = project(&files);
    let out = gaps(dir.path(), &["--deny"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "0 gaps\n");
    let out = gaps(dir.path(), &["--format", "json", "--deny"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "[]\n");

    // One gap in an override without a place: listed at the override.
    std::fs::write(
        dir.path().join("templates/sbom.md.j2"),
        "# SBOM\n\n{{ gap(\"1. Files\", \"no SBOM\") }}\n",
    )
    .unwrap();
    let out = gaps(dir.path(), &["--deny"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "templates/sbom.md.j2: no SBOM (sbom: 1. Files)\n"
    );
    let out = gaps(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0));

    // An unknown keyword of `gap` is a template error (status 1), not a silent gap.
    std::fs::write(
        dir.path().join("templates/sbom.md.j2"),
        "# SBOM\n\n{{ gap(\"1. Files\", \"no SBOM\", itme=\"X\") }}\n",
    )
    .unwrap();
    let out = gaps(dir.path(), &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn check_reports_a_gap_shown_by_two_placed_documents_once() {
    let dir = project(&[(
        "book/docs.md",
        "{{#qms document sbom}}\n\n{{#qms document security-labeling}}\n",
    )]);
    std::fs::write(
        dir.path().join("book/SUMMARY.md"),
        "# Summary\n\n- [D](docs.md)\n",
    )
    .unwrap();
    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["check", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let components: Vec<&serde_json::Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["code"] == "document-gap" && d["message"].as_str().unwrap().contains("no components")
        })
        .collect();
    assert_eq!(components.len(), 1, "{list:#}");
    assert_eq!(components[0]["line"], 1);
    assert!(
        components[0]["help"]
            .as_str()
            .unwrap()
            .starts_with("also shown in security-labeling"),
        "{:#}",
        components[0]
    );
}
