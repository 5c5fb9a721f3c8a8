//! The book: rendering through the real mdBook protocol (0.4- and 0.5-shaped input, a
//! spawned binary) and through `mdbook-driver`, with golden snapshots of the Markdown.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use assert_cmd::assert::OutputAssertExt;
use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};

use crate::support::git::{commit_dated, git_in};
use crate::support::{copy_fixture, fixture};

/// A chapter as mdBook serialises it.
fn chapter(
    root: &Path,
    name: &str,
    path: &str,
    rendered_path: &str,
    number: Option<Vec<u32>>,
    sub_items: Vec<Value>,
) -> Value {
    let content = std::fs::read_to_string(root.join("book").join(path)).unwrap();
    json!({"Chapter": {
        "name": name,
        "content": content,
        "number": number,
        "sub_items": sub_items,
        "path": rendered_path,
        "source_path": path,
        "parent_names": [],
    }})
}

fn book_items(root: &Path) -> Vec<Value> {
    vec![
        chapter(root, "Introduction", "README.md", "index.md", None, vec![]),
        chapter(
            root,
            "Requirements",
            "requirements.md",
            "requirements.md",
            Some(vec![1]),
            vec![chapter(
                root,
                "Nested",
                "nested/chapter.md",
                "nested/chapter.md",
                Some(vec![1, 1]),
                vec![],
            )],
        ),
        json!("Separator"),
        json!({"Chapter": {"name": "Draft", "content": "", "number": null, "sub_items": [], "path": null, "source_path": null, "parent_names": []}}),
    ]
}

fn context(root: &Path, version: &str) -> Value {
    json!({
        "root": root,
        "config": {"book": {"title": "Basic fixture", "src": "book"}, "build": {"build-dir": "build"}, "preprocessor": {"qms": {"before": ["links"]}}},
        "renderer": "html",
        "mdbook_version": version,
    })
}

/// Pipes `[context, book]` through the real binary.
fn run_protocol(input: &Value) -> (i32, Value, String) {
    let mut child = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn chapters_of(items: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn walk(items: &Value, out: &mut Vec<(String, String)>) {
        for item in items.as_array().unwrap() {
            if let Some(ch) = item.get("Chapter") {
                if let Some(path) = ch["path"].as_str() {
                    out.push((path.to_owned(), ch["content"].as_str().unwrap().to_owned()));
                }
                walk(&ch["sub_items"], out);
            }
        }
    }
    walk(items, &mut out);
    out
}

#[test]
fn supports_every_renderer() {
    for renderer in ["html", "markdown"] {
        Command::cargo_bin("mdbook-qms")
            .unwrap()
            .args(["supports", renderer])
            .assert()
            .success();
    }
}

#[test]
fn protocol_05_renders_chapters_and_matches_golden_output() {
    // A copy outside git: the golden output must not depend on this repository's commits.
    let dir = copy_fixture("basic");
    let root = dir.path().to_path_buf();
    let input = json!([context(&root, "0.5.4"), {"items": book_items(&root)}]);
    let (code, book, stderr) = run_protocol(&input);
    assert_eq!(code, 0, "stderr: {stderr}");
    assert!(
        book.get("sections").is_none(),
        "answers in the shape it received"
    );
    let chapters = chapters_of(&book["items"]);
    let paths: Vec<&str> = chapters.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "index.md",
            "requirements.md",
            "nested/chapter.md",
            "qms/requirement.md",
            "qms/requirement/requirements/items.md",
            "qms/test.md",
            "qms/test/requirements/items.md"
        ]
    );
    for (path, content) in &chapters {
        // The stylesheet is the same on every page; snapshot what the page says.
        let body: String = match content.strip_prefix("<style>") {
            Some(rest) => rest
                .split_once("</style>")
                .map_or(rest, |(_, b)| b)
                .trim_start()
                .to_owned(),
            None => content.clone(),
        };
        assert!(
            content.matches("<style>").count() <= 1,
            "{path}: at most one stylesheet"
        );
        insta::assert_snapshot!(format!("protocol_{}", path.replace(['/', '.'], "_")), body);
    }
    // The draft chapter and the separator survive untouched.
    let items = book["items"].as_array().unwrap();
    assert_eq!(items[2], json!("Separator"));
    assert_eq!(items[3]["Chapter"]["name"], "Draft");
}

#[test]
fn protocol_04_input_is_answered_in_04_shape() {
    let root = fixture("basic");
    let input = json!([context(&root, "0.4.52"), {"sections": book_items(&root), "__non_exhaustive": null}]);
    let (code, book, stderr) = run_protocol(&input);
    assert_eq!(code, 0, "stderr: {stderr}");
    assert!(book.get("items").is_none());
    assert!(book.as_object().unwrap().contains_key("__non_exhaustive"));
    let chapters = chapters_of(&book["sections"]);
    assert_eq!(chapters.len(), 7);
    // Same rendering as with 0.5 input.
    let input05 = json!([context(&root, "0.5.4"), {"items": book_items(&root)}]);
    let (_, book05, _) = run_protocol(&input05);
    assert_eq!(chapters, chapters_of(&book05["items"]));
}

#[test]
fn protocol_fails_the_build_on_book_errors_with_diagnostics() {
    let dir = copy_fixture("basic");
    std::fs::write(
        dir.path().join("book/nested/chapter.md"),
        "# Nested\n\n{{#qms ref REQ-404}}\n",
    )
    .unwrap();
    let input = json!([context(dir.path(), "0.5.4"), {"items": book_items(dir.path())}]);
    let (code, book, stderr) = run_protocol(&input);
    assert_eq!(code, 1);
    assert_eq!(book, Value::Null, "nothing on stdout");
    assert!(stderr.contains("error[directive-unknown-id]"), "{stderr}");
    assert!(stderr.contains("book/nested/chapter.md:3:12"), "{stderr}");
}

#[test]
fn protocol_rejects_garbage_input_with_usage_error() {
    let mut child = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"{not json").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not mdBook's preprocessor JSON"));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn build_places_every_item_once_with_its_anchor() {
    let dir = copy_fixture("basic");
    let out = dir.path().join("site");
    mdbook_qms::preprocess::build(dir.path(), Some(&out)).unwrap();
    let page = |p: &str| read(&out.join(p));
    let index = page("index.html");
    let requirements = page("requirements.html");
    let generated_req = page("qms/requirement/requirements/items.html");
    let generated_test = page("qms/test/requirements/items.html");
    // Each item has exactly one home with an anchor equal to its id.
    let homes = [
        ("REQ-001", &index),
        ("REQ-002", &requirements),
        ("REQ-003", &generated_req),
        ("TST-001", &generated_test),
    ];
    let all = [
        &index,
        &requirements,
        &generated_req,
        &generated_test,
        &page("nested/chapter.html"),
    ];
    for (id, home) in homes {
        let anchor = format!("id=\"{id}\"");
        assert_eq!(home.matches(&anchor).count(), 1, "{id} on its home page");
        let total: usize = all.iter().map(|p| p.matches(&anchor).count()).sum();
        assert_eq!(total, 1, "{id} has exactly one home");
    }
    // Links resolve relative to the page they are on.
    let nested = page("nested/chapter.html");
    assert!(
        nested.contains(r#"href="../requirements.html#REQ-002""#),
        "{nested}"
    );
    assert!(nested.contains(r#"href="../qms/test/requirements/items.html#TST-001""#));
    // Incoming links are named from the other side.
    assert!(index.contains("verified by"));
    assert!(index.contains("parent of"));
    assert!(requirements.contains("child of"));
    // Matrix coverage: REQ-003 has no test.
    assert!(
        requirements.contains("Requirements to Tests: 2 of 3 covered (66.7%)"),
        "{requirements}"
    );
    assert_eq!(requirements.matches("class=\"qms-uncovered\"").count(), 1);
    // Generated chapters are in the navigation, with a page per item file under each type.
    let toc = page("toc.html");
    assert!(
        toc.contains("qms/test.html") && toc.contains("qms/test/requirements/items.html"),
        "{toc}"
    );
    assert!(page("qms/test.html").contains(r#"href="../qms/test/requirements/items.html""#));
}

#[test]
fn item_data_never_becomes_live_html() {
    let dir = copy_fixture("basic");
    let out = dir.path().join("site");
    mdbook_qms::preprocess::build(dir.path(), Some(&out)).unwrap();
    let index = read(&out.join("index.html"));
    assert!(
        !index.contains("<script>alert"),
        "raw HTML in item text is escaped"
    );
    assert!(index.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !index.contains("javascript:"),
        "unsafe link schemes are dropped"
    );
    assert!(index.contains(r#"href="https://example.org/""#));
    assert!(index.contains("Top-level &lt;b&gt;requirement&lt;/b&gt;"));
    // The title's `{{#include ...}}` was not expanded by mdBook's links preprocessor.
    assert!(index.contains("{{#include /etc/passwd}}"));
    assert!(!index.contains("root:x:0:0"));
    // The escaped directive is shown literally; the one in code is left alone.
    assert!(index.contains("Escaped: {{#qms ref REQ-001}}"));
    assert!(index.contains("<code>{{#qms ref REQ-001}}</code>"));
}

#[test]
fn build_with_errors_fails_and_writes_nothing() {
    let dir = copy_fixture("basic");
    std::fs::write(
        dir.path().join("requirements/bad.yaml"),
        "id: REQ-009\ntype: requirement\ntitle: x\nparent: REQ-404\n",
    )
    .unwrap();
    let out = dir.path().join("site");
    let assert = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("build")
        .arg(dir.path())
        .arg("--dest-dir")
        .arg(&out)
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("error[link-unknown]"), "{stderr}");
    assert!(stderr.contains("requirements/bad.yaml:4:9"), "{stderr}");
    assert!(!out.exists(), "no partial book");
}

#[test]
fn init_creates_a_project_that_checks_clean_and_builds() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("pump");
    Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("init")
        .arg(&project)
        .assert()
        .success();
    Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("check")
        .arg(&project)
        .assert()
        .success();
    Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("build")
        .arg(&project)
        .assert()
        .success();
    assert!(project.join("build/index.html").exists());
    assert!(read(&project.join("build/verification.html")).contains("qms-matrix"));
    // A second init refuses and changes nothing.
    let before = read(&project.join("book.toml"));
    Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("init")
        .arg(&project)
        .assert()
        .code(2);
    assert_eq!(before, read(&project.join("book.toml")));
}

#[test]
fn new_adds_the_next_free_id_and_never_clobbers() {
    let dir = copy_fixture("basic");
    let run = || {
        let out = Command::cargo_bin("mdbook-qms")
            .unwrap()
            .args([
                "new",
                "requirement",
                "--title",
                "Log: \"every\" login",
                "--dir",
            ])
            .arg(dir.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        )
    };
    assert_eq!(run(), (Some(0), "REQ-004".to_owned()));
    assert_eq!(run(), (Some(0), "REQ-005".to_owned()));
    let written = read(&dir.path().join("requirements/requirement/req-004.yaml"));
    assert!(
        written.contains("title: \"Log: \\\"every\\\" login\""),
        "{written}"
    );
    Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("check")
        .arg(dir.path())
        .assert()
        .success();
    // An existing file at the target path is never replaced.
    std::fs::write(
        dir.path().join("requirements/requirement/req-006.yaml"),
        "# hand-written, not an item yet\n",
    )
    .unwrap();
    let (code, _) = run();
    assert_eq!(code, Some(2));
    assert_eq!(
        read(&dir.path().join("requirements/requirement/req-006.yaml")),
        "# hand-written, not an item yet\n"
    );
    Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["new", "requirment", "--dir"])
        .arg(dir.path())
        .assert()
        .code(2);
}

#[test]
fn without_generated_chapters_unplaced_items_are_reported_and_not_linked() {
    let dir = copy_fixture("basic");
    let toml = read(&dir.path().join("book.toml")) + "generated-chapters = false\n";
    std::fs::write(dir.path().join("book.toml"), toml).unwrap();
    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["check", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "warnings only");
    let diags: Value = serde_json::from_slice(&out.stdout).unwrap();
    let unplaced: Vec<&str> = diags
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "item-unplaced")
        .map(|d| d["item"].as_str().unwrap())
        .collect();
    assert_eq!(unplaced, ["REQ-003", "TST-001"]);
    let site = dir.path().join("site");
    mdbook_qms::preprocess::build(dir.path(), Some(&site)).unwrap();
    assert!(!site.join("qms").exists());
    let nested = read(&site.join("nested/chapter.html"));
    assert!(
        nested.contains(r#"<span class="qms-ref" title="Verifies the child">TST-001</span>"#),
        "{nested}"
    );
}

/// When the history test's commits are made.
const AT: &str = "2026-01-02T10:00:00Z";

#[test]
fn history_shows_on_cards_and_in_history_and_changes_directives() {
    let dir = copy_fixture("basic");
    let root = dir.path();
    std::fs::write(
        root.join("book/nested/chapter.md"),
        "# Nested\n\n{{#qms history REQ-002}}\n\n{{#qms changes v1}}\n\n{{#qms matrix requirement test commits=true}}\n",
    )
    .unwrap();
    git_in(root, &["init", "-q", "-b", "main"]);
    commit_dated(root, "Ada Author", "Baseline <b>one</b>", AT);
    git_in(root, &["tag", "v1"]);
    let items = read(&root.join("requirements/items.yaml")).replace(
        "title: Child requirement",
        "title: Child requirement, reworded",
    );
    std::fs::write(root.join("requirements/items.yaml"), items).unwrap();
    commit_dated(
        root,
        "Ada Author",
        "Reword the child\n\nImplements: REQ-002",
        AT,
    );

    let site = root.join("site");
    mdbook_qms::preprocess::build(root, Some(&site)).unwrap();
    let requirements = read(&site.join("requirements.html"));
    // The compact line on REQ-002's card: created, last changed, the linked commit.
    let card = &requirements[requirements.find("id=\"REQ-002\"").unwrap()..];
    let card = &card[..card.find("qms-source").unwrap()];
    assert!(card.contains("Created 2026-01-02 by Ada Author"), "{card}");
    assert!(card.contains("1 linked commit"), "{card}");
    let nested = read(&site.join("nested/chapter.html"));
    assert!(nested.contains("Reword the child"), "{nested}");
    // Commit subjects are text, never markup.
    assert!(
        nested.contains("Baseline &lt;b&gt;one&lt;/b&gt;"),
        "{nested}"
    );
    // The changes since v1 name the reworded item and what it changes downstream.
    let changes = &nested[nested.find("v1").unwrap()..];
    assert!(changes.contains("REQ-002"), "{changes}");
    assert!(changes.contains("Child requirement, reworded"), "{changes}");

    // The matrix's commits column and `trace --commits` list the commits whose
    // trailers name each row's item.
    assert!(nested.contains("<th>Commits</th>"), "{nested}");
    // The matrix comes last on the page, so its REQ-002 row is the last REQ-002 cell.
    let row = &nested[nested.rfind(">REQ-002</a></td>").expect("REQ-002 row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("Reword the child") && row.contains("Implements"),
        "{row}"
    );
    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["trace", "--commits", "--format", "json"])
        .arg(root)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace: Value = serde_json::from_slice(&out.stdout).unwrap();
    let req2 = trace["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "REQ-002")
        .unwrap();
    assert_eq!(req2["commits"][0]["trailer"], "Implements");
    assert_eq!(req2["commits"][0]["subject"], "Reword the child");
    let req1 = trace["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "REQ-001")
        .unwrap();
    assert_eq!(req1["commits"], serde_json::json!([]));

    // An unknown baseline fails the check at the directive.
    std::fs::write(
        root.join("book/nested/chapter.md"),
        "# Nested\n\n{{#qms changes v9}}\n",
    )
    .unwrap();
    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["check", "--format", "json"])
        .arg(root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let diags: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = diags
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "changes-unknown-base")
        .expect("changes-unknown-base");
    assert_eq!(
        (d["file"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some("book/nested/chapter.md"), Some(3), Some(16))
    );
}

/// A small project whose only chapter is `chapter`.
fn one_chapter_project(chapter: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("book")).unwrap();
    std::fs::create_dir_all(dir.path().join("requirements")).unwrap();
    std::fs::write(
        dir.path().join("book.toml"),
        "[book]\ntitle = \"B\"\nsrc = \"book\"\n\n[preprocessor.qms]\n\n[preprocessor.qms.lints]\nhistory-unavailable = \"allow\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("book/SUMMARY.md"),
        "# Summary\n\n- [Intro](intro.md)\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("book/intro.md"), chapter).unwrap();
    dir
}

const CONTAINERS: &str = "# Intro

> [!NOTE]
> A requirement inside an alert:
>
> ```qms
> id: REQ-QUOTE-1
> type: requirement
> title: Quoted requirement
> text: |
>   Some **text**.
> ```
>
> After the card.

- A list item with a block:

  ```qms
  id: REQ-LIST-1
  type: requirement
  title: Listed requirement
  ```

  After it.
";

#[test]
fn qms_blocks_in_block_quotes_and_lists_stay_inside_them() {
    let dir = one_chapter_project(CONTAINERS);
    let out = dir.path().join("site");
    mdbook_qms::preprocess::build(dir.path(), Some(&out)).unwrap();
    let page = read(&out.join("intro.html"));
    let inside = |open: &str, close: &str, what: &str| {
        let start = page.find(open).unwrap_or_else(|| panic!("no {open}"));
        let end = start + page[start..].find(close).unwrap();
        page[start..end].contains(what)
    };
    // The card, its Markdown text and the paragraph after it are in the note.
    assert!(
        inside("<blockquote", "</blockquote>", "id=\"REQ-QUOTE-1\""),
        "{page}"
    );
    assert!(
        inside(
            "<blockquote",
            "</blockquote>",
            "Some <strong>text</strong>."
        ),
        "{page}"
    );
    assert!(
        inside("<blockquote", "</blockquote>", "After the card."),
        "{page}"
    );
    assert_eq!(page.matches("<blockquote").count(), 1, "{page}");
    assert!(inside("<li>", "</li>", "id=\"REQ-LIST-1\""), "{page}");
    assert!(inside("<li>", "</li>", "After it."), "{page}");
}

#[test]
fn errors_in_quoted_blocks_point_at_their_line_and_column() {
    let chapter = CONTAINERS
        .replace("> type: requirement", "> type: requirement\n> colour: blue")
        .replace(
            "  title: Listed requirement",
            "  title: Listed requirement\n  tags: [unclosed",
        );
    let dir = one_chapter_project(&chapter);
    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["check", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let diags: Value = serde_json::from_slice(&out.stdout).unwrap();
    let at = |code: &str| {
        let d = diags
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == code)
            .unwrap_or_else(|| panic!("no {code} in {diags}"));
        (d["file"].clone(), d["line"].clone(), d["column"].clone())
    };
    assert_eq!(
        at("schema-unknown-field"),
        (json!("book/intro.md"), json!(9), json!(3))
    );
    // The flow sequence is still open when the block ends.
    assert_eq!(at("yaml-syntax").0, json!("book/intro.md"));
    assert_eq!(diags.as_array().unwrap().len(), 2, "{diags}");
}
