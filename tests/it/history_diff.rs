//! `mdbook-qms diff BASE [HEAD]` and the `changes` Markdown on real tagged histories.

use crate::support::git::*;
use crate::support::ProjectBuilder;
use assert_cmd::Command;
use mdbook_qms::history::diff;
use mdbook_qms::render::history as render;

/// v1: a requirement hierarchy and a test; then changes up to v2 and in the work tree.
fn setup() -> Repo {
    let r = ProjectBuilder::new()
        .toml("baselines = \"v*\"\n")
        .items(
            "req.yaml",
            &[
                req("REQ-R-1", "Root"),
                req("REQ-R-2", "Child") + "  parent: REQ-R-1\n",
                req("REQ-R-3", "Doomed"),
            ],
        )
        .items("tst.yaml", &[test_item("TST-R-1", "Child test", "REQ-R-2")])
        .commit("Alice", "Baseline one");
    r.git(&["tag", "v1"]);
    r.git(&["tag", "not-a-baseline"]);
    r.write(
        "requirements/req.yaml",
        &(req("REQ-R-1", "Root <b>changed</b> [x](javascript:alert(1))")
            + &req("REQ-R-2", "Child")
            + "  parent: REQ-R-1\n  status: approved\n"
            + &req("REQ-R-4", "New one")),
    );
    r.commit("Bob", "Towards v2");
    r.git(&["tag", "-a", "v2", "-m", "Release 2"]);
    r
}

#[test]
fn diff_between_two_baselines_lists_items_fields_and_impact() {
    let r = setup();
    let project = r.project();
    let d = diff::diff(&project, "v1", Some("v2")).unwrap();
    let ids = |v: &[diff::ItemRef]| v.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&d.added), ["REQ-R-4"]);
    assert_eq!(
        d.removed
            .iter()
            .map(|r| r.item.id.as_str())
            .collect::<Vec<_>>(),
        ["REQ-R-3"]
    );
    assert_eq!(d.changed.len(), 2);
    let root = &d.changed[0];
    assert_eq!(root.item.id, "REQ-R-1");
    assert_eq!(root.fields.len(), 1);
    assert_eq!(root.fields[0].field, "title");
    assert_eq!(root.fields[0].old.as_ref().unwrap(), "Root");
    assert!(root.significant);
    // Downstream: the child (parent link) and, through it, its test.
    let imp: Vec<(&str, usize, &str)> = root
        .impacted
        .iter()
        .map(|i| (i.id.as_str(), i.depth, i.via.as_str()))
        .collect();
    assert_eq!(imp, [("REQ-R-2", 1, "REQ-R-1"), ("TST-R-1", 2, "REQ-R-2")]);
    // A status-only change is listed but impacts nothing.
    let child = &d.changed[1];
    assert_eq!(child.item.id, "REQ-R-2");
    assert!(!child.significant);
    assert!(child.impacted.is_empty());
    assert_eq!(d.base.commit.as_ref().unwrap().subject, "Baseline one");

    let text = diff::to_text(&d);
    assert!(
        text.contains("changed  REQ-R-1") && text.contains("impacts TST-R-1"),
        "{text}"
    );
    assert!(
        text.contains("1 added, 1 removed, 2 changed, 2 impacted"),
        "{text}"
    );

    let md = render::changes_markdown(&d);
    assert!(!md.contains("<b>") && !md.contains("](javascript"), "{md}");
    assert!(md.contains("&lt;b&gt;"), "{md}");

    // Baselines follow the configured glob.
    let (h, _) = r.scan();
    let names: Vec<&str> = h.baselines.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["v1", "v2"]);
}

#[test]
fn diff_against_the_work_tree_by_default() {
    let r = setup();
    r.write(
        "requirements/tst.yaml",
        &test_item("TST-R-1", "Child test, edited", "REQ-R-2"),
    );
    let d = diff::diff(&r.project(), "v2", None).unwrap();
    assert_eq!(d.head.rev, "working tree");
    assert!(d.head.commit.is_none());
    assert_eq!(d.changed.len(), 1);
    assert_eq!(d.changed[0].item.id, "TST-R-1");
    assert!(d.added.is_empty() && d.removed.is_empty());
}

#[test]
fn the_command_prints_json_and_fails_cleanly_on_a_bad_revision() {
    let r = setup();
    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["diff", "v1", "v2", "--format", "json", "-C"])
        .arg(&r.root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["added"][0]["id"], "REQ-R-4");
    assert_eq!(v["changed"][0]["fields"][0]["field"], "title");
    assert_eq!(v["changed"][0]["impacted"][1]["id"], "TST-R-1");
    assert_eq!(v["base"]["rev"], "v1");

    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["diff", "no-such-tag", "-C"])
        .arg(&r.root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-tag"));

    let plain = Repo::plain();
    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["diff", "v1", "-C"])
        .arg(&plain.root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in a git repository"));
}

#[test]
fn history_markdown_escapes_commit_text() {
    let r = Repo::new();
    r.write("requirements/a.yaml", &req("REQ-H-1", "One"));
    r.commit("Eve <script>", "Add [link](javascript:x) <img src=x>");
    let (h, _) = r.scan();
    let md = render::history_markdown(&h, "REQ-H-1");
    assert!(
        !md.contains("<img") && !md.contains("](javascript") && !md.contains("<script>"),
        "{md}"
    );
    assert!(md.contains("| added |"), "{md}");
    let line = render::history_compact(&h, "REQ-H-1");
    assert!(line.starts_with("Created 2026-01-01"), "{line}");
}
