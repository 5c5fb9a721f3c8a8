//! Suspect links from real histories: `D -> U` is suspect when `U` changed after `D` was
//! last changed or reviewed, by commit ancestry.

use crate::support::git::*;
use crate::support::{ProjectBuilder, BOOK_TOML};
use mdbook_qms::diag::{Diagnostic, Location};

fn suspects(diags: &[Diagnostic]) -> Vec<&Diagnostic> {
    diags.iter().filter(|d| d.code == "suspect-link").collect()
}

fn setup() -> Repo {
    ProjectBuilder::new()
        .items("req.yaml", &[req("REQ-X-1", "Login")])
        .items("tst.yaml", &[test_item("TST-X-1", "Login test", "REQ-X-1")])
        .commit("Alice", "Add requirement and test")
}

#[test]
fn a_change_to_the_target_makes_the_link_suspect_until_reviewed() {
    let r = setup();
    let (_, diags) = r.scan();
    assert!(suspects(&diags).is_empty(), "{diags:?}");

    r.write("requirements/req.yaml", &req("REQ-X-1", "Login with MFA"));
    let change = r.commit("Bob", "Require MFA");
    let (h, diags) = r.scan();
    let s = suspects(&diags);
    assert_eq!(s.len(), 1, "{diags:?}");
    let m = &s[0].message;
    assert!(m.contains("TST-X-1") && m.contains("REQ-X-1"), "{m}");
    assert!(
        m.contains(&change[..7]) && m.contains("Bob") && m.contains("2026-01-01"),
        "{m}"
    );
    assert_eq!(s[0].item.as_deref(), Some("TST-X-1"));
    // Reported at the link in the test's file.
    let project = r.project();
    let Location::Span(span) = s[0].location else {
        panic!("no span")
    };
    let file = project.sources.get(span.file);
    assert!(file.path.ends_with("tst.yaml"));
    assert_eq!(&file.text[span.start..span.end], "REQ-X-1");
    assert_eq!(h.suspects.len(), 1);
    assert_eq!(h.suspects[0].from, "TST-X-1");

    // A commit with `Reviewed: TST-X-1` confirms the test.
    std::fs::write(r.root.join("notes.txt"), "ok\n").unwrap();
    r.commit("Carol", "Review login test\n\nReviewed: TST-X-1");
    let (_, diags) = r.scan();
    assert!(suspects(&diags).is_empty(), "{diags:?}");
}

#[test]
fn editing_the_linking_item_confirms_it() {
    let r = setup();
    r.write("requirements/req.yaml", &req("REQ-X-1", "Login with MFA"));
    r.commit("Bob", "Require MFA");
    r.write(
        "requirements/tst.yaml",
        &test_item("TST-X-1", "Login test with MFA", "REQ-X-1"),
    );
    r.commit("Bob", "Update test");
    let (_, diags) = r.scan();
    assert!(suspects(&diags).is_empty(), "{diags:?}");
}

#[test]
fn status_and_tags_changes_are_not_changes_unless_configured() {
    let r = setup();
    r.write(
        "requirements/req.yaml",
        &(req("REQ-X-1", "Login") + "  status: approved\n  tags: [auth]\n"),
    );
    r.commit("Bob", "Approve");
    let (_, diags) = r.scan();
    assert!(suspects(&diags).is_empty(), "{diags:?}");
    r.write("book.toml", &format!("{BOOK_TOML}suspect-ignore = []\n"));
    let (_, diags) = r.scan();
    assert_eq!(suspects(&diags).len(), 1, "{diags:?}");
}

#[test]
fn order_is_by_ancestry_not_by_clock() {
    let r = Repo::new();
    r.write("requirements/req.yaml", &req("REQ-X-1", "Login"));
    r.write(
        "requirements/tst.yaml",
        &test_item("TST-X-1", "Login test", "REQ-X-1"),
    );
    // The test's last change carries a far-future clock ...
    r.commit_at("Alice", "Add", 1_900_000_000);
    // ... and the requirement changes in a child commit whose clock is in the past.
    r.write("requirements/req.yaml", &req("REQ-X-1", "Login with MFA"));
    r.commit_at("Bob", "Require MFA", 1_600_000_000);
    let (_, diags) = r.scan();
    assert_eq!(suspects(&diags).len(), 1, "{diags:?}");
}

#[test]
fn a_review_on_a_parallel_branch_does_not_confirm_a_change_it_never_saw() {
    let r = setup();
    r.git(&["checkout", "-q", "-b", "review"]);
    std::fs::write(r.root.join("notes.txt"), "reviewed\n").unwrap();
    r.commit("Carol", "Review\n\nReviewed: TST-X-1");
    r.git(&["checkout", "-q", "main"]);
    r.write("requirements/req.yaml", &req("REQ-X-1", "Login with MFA"));
    r.commit("Bob", "Require MFA");
    r.git(&["merge", "-q", "--no-edit", "review"]);
    let (h, diags) = r.scan();
    assert_eq!(h.commits.len(), 4);
    assert_eq!(suspects(&diags).len(), 1, "{diags:?}");
    // A review after the merge has seen both.
    std::fs::write(r.root.join("notes.txt"), "again\n").unwrap();
    r.commit("Carol", "Review again\n\nReviewed: TST-X-1");
    let (_, diags) = r.scan();
    assert!(suspects(&diags).is_empty(), "{diags:?}");
}

#[test]
fn an_uncommitted_edit_of_the_target_is_suspect_too() {
    let r = setup();
    r.write(
        "requirements/req.yaml",
        &req("REQ-X-1", "Login, being edited"),
    );
    let (_, diags) = r.scan();
    let s = suspects(&diags);
    assert_eq!(s.len(), 1, "{diags:?}");
    assert!(s[0].message.contains("work tree"), "{}", s[0].message);
}
