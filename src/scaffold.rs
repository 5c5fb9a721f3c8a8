//! `init` and `new`: the commands that write sources. Both write atomically and never
//! replace an existing file.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::load::ChapterSource;
use crate::pipeline;
use crate::text::natural_cmp;

/// Writes `contents` to `path` only if no file is there: the data goes to a temporary
/// file in the same folder, which is then hard-linked into place (failing if the target
/// exists) so a reader never sees a half-written file.
pub(crate) fn write_new(path: &Path, contents: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(contents.as_bytes())?;
    temp.as_file().sync_all()?;
    std::fs::hard_link(temp.path(), path)
}

/// The files of a starter project: (path, contents).
pub(crate) fn starter_files(title: &str) -> Vec<(PathBuf, String)> {
    let toml_title = title.replace('\\', "\\\\").replace('"', "\\\"");
    vec![
        (
            "book.toml".into(),
            format!(
                r#"[book]
title = "{toml_title}"
src = "book"

[build]
# Not "book": that is where the chapters live.
build-dir = "build"

[preprocessor.qms]
# Run before mdBook's `links` so that `\{{{{#qms ...}}}}` escapes survive.
before = ["links"]
items = ["requirements"]
"#
            ),
        ),
        (
            "book/SUMMARY.md".into(),
            "# Summary\n\n[Introduction](introduction.md)\n\n- [Requirements](requirements.md)\n- [Verification](verification.md)\n".into(),
        ),
        (
            "book/introduction.md".into(),
            format!(
                "# {title}\n\nThis book is the cybersecurity design file of the device. Items live in\n`requirements/` as YAML, or in ```` ```qms ```` blocks like the one below.\n\n```qms\nid: REQ-SYS-001\ntype: requirement\ntitle: The device authenticates every connection\nstatus: draft\ncategory: authentication\ntext: |\n  Every connection to the device is authenticated before any data is exchanged.\n```\n\nSee {{{{#qms ref REQ-SEC-001}}}} for the first security requirement.\n"
            ),
        ),
        (
            "book/requirements.md".into(),
            "# Requirements\n\n{{#qms table requirement columns=id,title,category,status}}\n\n{{#qms item REQ-SEC-001}}\n".into(),
        ),
        (
            "book/verification.md".into(),
            "# Verification\n\n{{#qms matrix requirement test}}\n".into(),
        ),
        (
            "requirements/security.yaml".into(),
            r#"# One item per mapping; a file may hold a list, or several `---` documents.
- id: REQ-SEC-001
  type: requirement
  title: Firmware updates are signed
  status: draft
  category: code_data_and_execution_integrity
  parent: REQ-SYS-001
  text: |
    The device installs only firmware signed with the manufacturer's release key.
  acceptance: An image with a bad signature is rejected and the event is logged.
"#
            .into(),
        ),
        (
            "requirements/tests.yaml".into(),
            r#"- id: TST-SEC-001
  type: test
  title: Unsigned firmware is rejected
  method: threat-mitigation
  verifies: [REQ-SEC-001, REQ-SYS-001]
  evidence: update::rejects_unsigned_image
"#
            .into(),
        ),
        ("schemas/README.md".into(), "Put your own JSON Schemas (draft 2020-12) here to add item types or tighten the built-in ones.\n".into()),
        ("trace/README.md".into(), "Evidence: test results (JUnit XML), SBOMs (CycloneDX/SPDX JSON), vulnerability records (OSV JSON).\n".into()),
        (".gitignore".into(), "/build\n".into()),
    ]
}

/// Creates a starter project in `dir`. Refuses to touch a folder that already has a
/// `book.toml`, and never replaces any file.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if dir.join("book.toml").exists() {
        return Err(format!("{} already has a book.toml", dir.display()));
    }
    let title = std::path::absolute(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "Device".into());
    let files = starter_files(&format!("{title} cybersecurity design file"));
    for (path, _) in &files {
        if dir.join(path).exists() {
            return Err(format!(
                "{} already exists; not overwriting it",
                dir.join(path).display()
            ));
        }
    }
    let mut written = Vec::new();
    for (path, contents) in files {
        let full = dir.join(&path);
        write_new(&full, &contents).map_err(|e| format!("cannot write {}: {e}", full.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Adds an item of `ty` with the next free id, in `requirements/<type>/<id>.yaml`
/// (the first item folder). Returns the id and the file written.
pub fn new_item(dir: &Path, ty: &str, title: Option<&str>) -> Result<(String, PathBuf), String> {
    if let Some(title) = title {
        check_title(title)?;
    }
    let project = pipeline::load(dir, ChapterSource::Disk).map_err(|f| f.0.message)?;
    let def = project.types.get(ty).ok_or_else(|| {
        format!(
            "unknown type `{ty}`; types: {}",
            project.types.names().collect::<Vec<_>>().join(", ")
        )
    })?;
    let id = next_id(&def.prefix, project.items.iter().map(|i| i.id.as_str()));
    let folder = project
        .config
        .items
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("requirements"));
    let rel = folder.join(ty).join(format!("{}.yaml", id.to_lowercase()));
    let title = title.unwrap_or("TODO: a one-line title");
    let yaml_title = serde_json::to_string(title).unwrap_or_default();
    let contents = format!("id: {id}\ntype: {ty}\ntitle: {yaml_title}\nstatus: draft\ntext: |\n  TODO: describe the {ty}.\n");
    let full = dir.join(&rel);
    write_new(&full, &contents).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            format!("{} already exists; not overwriting it", full.display())
        }
        _ => format!("cannot write {}: {e}", full.display()),
    })?;
    Ok((id, rel))
}

/// A title is one line of text (PRODUCT.md): refused up front rather than written into
/// an item that `check` would then reject.
fn check_title(title: &str) -> Result<(), String> {
    if title.trim().is_empty() {
        return Err("the title is empty; give a one-line title with --title".into());
    }
    if let Some(c) = title.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the title must be one line of text, and it holds {}; give a one-line title with --title",
            match c {
                '\n' | '\r' => "a line break".to_owned(),
                c => format!("the control character U+{:04X}", u32::from(c)),
            }
        ));
    }
    Ok(())
}

/// `PREFIX-NNN` one past the highest number used with that prefix.
pub(crate) fn next_id<'a>(prefix: &str, ids: impl Iterator<Item = &'a str>) -> String {
    let head = format!("{prefix}-");
    let mut used: Vec<&str> = ids.filter(|id| id.starts_with(&head)).collect();
    used.sort_by(|a, b| natural_cmp(a, b));
    let next = used
        .iter()
        .filter_map(|id| id[head.len()..].parse::<u64>().ok())
        .max()
        .map_or(1, |n| n + 1);
    format!("{head}{next:03}")
}
