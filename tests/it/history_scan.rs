//! Item history from real git repositories: attribution per item, moves, merges,
//! detached HEAD, empty and missing repositories, shallow clones, uncommitted edits,
//! trailers and the cache.

use crate::support::git::*;
use crate::support::BOOK_TOML;
use mdbook_qms::history::{ChangeKind, Uncommitted};

#[test]
fn an_edit_to_one_item_of_a_file_belongs_to_that_item_only() {
    let r = Repo::new();
    r.write(
        "requirements/a.yaml",
        &(req("REQ-A-1", "One") + &req("REQ-A-2", "Two")),
    );
    r.commit("Alice", "Add requirements");
    r.write(
        "requirements/a.yaml",
        &(req("REQ-A-1", "One") + &req("REQ-A-2", "Two, edited")),
    );
    r.commit("Bob", "Edit two");
    // Reformatting and comments are not changes.
    r.write(
        "requirements/a.yaml",
        "# comment\n- {id: REQ-A-1, type: requirement, title: One}\n- title: 'Two, edited'\n  id: REQ-A-2\n  type: requirement\n",
    );
    r.commit("Carol", "Reformat");
    let (h, diags) = r.scan();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(subjects(&h, "REQ-A-1"), ["Add requirements"]);
    assert_eq!(subjects(&h, "REQ-A-2"), ["Edit two", "Add requirements"]);
    assert_eq!(h.created("REQ-A-2").unwrap().author, "Alice");
    assert_eq!(h.last_changed("REQ-A-2").unwrap().author, "Bob");
    assert_eq!(h.authors("REQ-A-2"), ["Alice", "Bob"]);
    let first = &h.item("REQ-A-2").unwrap().changes;
    assert_eq!(first[1].kind, ChangeKind::Added);
    assert_eq!(first[0].kind, ChangeKind::Modified);
    assert_eq!(h.commits.len(), 3);
    assert!(h
        .created("REQ-A-1")
        .unwrap()
        .date
        .starts_with("2026-01-01T"));
}

#[test]
fn an_item_keeps_its_history_when_moved_or_its_file_renamed() {
    let r = Repo::new();
    r.write(
        "requirements/a.yaml",
        &(req("REQ-M-1", "Moves") + &req("REQ-M-2", "Stays")),
    );
    r.commit("Alice", "Add");
    r.write("requirements/a.yaml", &req("REQ-M-2", "Stays"));
    r.write("requirements/sub/b.yaml", &req("REQ-M-1", "Moves"));
    r.commit("Bob", "Move REQ-M-1 to b.yaml");
    r.git(&["mv", "requirements/sub/b.yaml", "requirements/c.yml"]);
    r.commit("Bob", "Rename b to c");
    r.write("requirements/c.yml", &req("REQ-M-1", "Moved and edited"));
    r.commit("Carol", "Edit");
    let (h, _) = r.scan();
    assert_eq!(subjects(&h, "REQ-M-1"), ["Edit", "Add"]);
    assert_eq!(subjects(&h, "REQ-M-2"), ["Add"]);
}

#[test]
fn items_in_chapters_have_history_too() {
    let r = Repo::new();
    r.write(
        "book/intro.md",
        "# Intro\n\n```qms\nid: REQ-C-1\ntype: requirement\ntitle: In a chapter\n```\n",
    );
    r.commit("Alice", "Chapter item");
    r.write("book/intro.md", "# Intro\n\nNew prose.\n\n```qms\nid: REQ-C-1\ntype: requirement\ntitle: In a chapter\n```\n");
    r.commit("Bob", "Prose only");
    r.write(
        "book/intro.md",
        "# Intro\n\n```qms\nid: REQ-C-1\ntype: requirement\ntitle: Edited\n```\n",
    );
    r.commit("Carol", "Edit block");
    let (h, _) = r.scan();
    assert_eq!(subjects(&h, "REQ-C-1"), ["Edit block", "Chapter item"]);
}

#[test]
fn uncommitted_and_untracked_items_show_as_such() {
    let r = Repo::new();
    r.write(
        "requirements/a.yaml",
        &(req("REQ-U-1", "One") + &req("REQ-U-2", "Two")),
    );
    r.commit("Alice", "Add");
    r.write(
        "requirements/a.yaml",
        &(req("REQ-U-1", "One, edited") + &req("REQ-U-2", "Two")),
    );
    r.write("requirements/new.yaml", &req("REQ-U-3", "Untracked"));
    let (h, diags) = r.scan();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        h.item("REQ-U-1").unwrap().uncommitted,
        Some(Uncommitted::Modified { significant: true })
    );
    assert_eq!(h.item("REQ-U-2").unwrap().uncommitted, None);
    assert_eq!(
        h.item("REQ-U-3").unwrap().uncommitted,
        Some(Uncommitted::New)
    );
    assert!(h.item("REQ-U-3").unwrap().changes.is_empty());
}

#[test]
fn merges_walk_all_parents_and_attribute_changes_to_their_branch() {
    let r = Repo::new();
    r.write(
        "requirements/a.yaml",
        &(req("REQ-G-1", "One") + &req("REQ-G-2", "Two") + &req("REQ-G-3", "Three")),
    );
    r.commit("Alice", "Base");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write(
        "requirements/a.yaml",
        &(req("REQ-G-1", "One") + &req("REQ-G-2", "Two on side") + &req("REQ-G-3", "Three")),
    );
    r.commit("Bob", "Side edit");
    r.git(&["checkout", "-q", "main"]);
    r.write(
        "requirements/a.yaml",
        &(req("REQ-G-1", "One on main") + &req("REQ-G-2", "Two") + &req("REQ-G-3", "Three")),
    );
    r.commit("Carol", "Main edit");
    // Merge and, in the merge itself, change a third item (an "evil merge").
    let out = std::process::Command::new("git")
        .args(["merge", "-q", "--no-commit", "side"])
        .current_dir(&r.root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    r.write(
        "requirements/a.yaml",
        &(req("REQ-G-1", "One on main")
            + &req("REQ-G-2", "Two on side")
            + &req("REQ-G-3", "Three, in merge")),
    );
    r.commit("Dave", "Merge side");
    let (h, _) = r.scan();
    assert_eq!(h.commits.len(), 4);
    assert_eq!(subjects(&h, "REQ-G-1"), ["Main edit", "Base"]);
    assert_eq!(subjects(&h, "REQ-G-2"), ["Side edit", "Base"]);
    assert_eq!(subjects(&h, "REQ-G-3"), ["Merge side", "Base"]);
}

#[test]
fn detached_head_reads_the_history_of_the_checked_out_commit() {
    let r = Repo::new();
    r.write("requirements/a.yaml", &req("REQ-D-1", "One"));
    let first = r.commit("Alice", "One");
    r.write("requirements/a.yaml", &req("REQ-D-1", "One, later"));
    r.commit("Bob", "Later");
    r.git(&["checkout", "-q", "--detach", &first]);
    let (h, diags) = r.scan();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(subjects(&h, "REQ-D-1"), ["One"]);
    assert_eq!(h.head.as_ref().unwrap().id, first);
}

#[test]
fn an_empty_repository_builds_with_every_item_uncommitted() {
    let r = Repo::new();
    r.write("requirements/a.yaml", &req("REQ-E-1", "One"));
    let (h, diags) = r.scan();
    assert!(diags.is_empty(), "{diags:?}");
    assert!(h.is_available());
    assert!(h.commits.is_empty());
    assert_eq!(
        h.item("REQ-E-1").unwrap().uncommitted,
        Some(Uncommitted::New)
    );
}

#[test]
fn a_folder_outside_git_builds_with_one_warning() {
    let r = Repo::plain();
    r.write("requirements/a.yaml", &req("REQ-N-1", "One"));
    let (h, diags) = r.scan();
    assert_eq!(codes(&diags), ["history-unavailable"]);
    assert!(
        diags[0].message.contains("not in a git repository"),
        "{}",
        diags[0].message
    );
    assert!(!h.is_available());
    let md = mdbook_qms::render::history::history_markdown(&h, "REQ-N-1");
    assert!(md.contains("unavailable"), "{md}");
}

#[test]
fn a_shallow_clone_warns_at_the_boundary_and_marks_histories_incomplete() {
    let r = Repo::new();
    r.write(
        "requirements/a.yaml",
        &(req("REQ-S-1", "One") + &req("REQ-S-2", "Two")),
    );
    r.commit("Alice", "Old");
    r.write(
        "requirements/a.yaml",
        &(req("REQ-S-1", "One, edited") + &req("REQ-S-2", "Two")),
    );
    r.commit("Bob", "Middle");
    r.write(
        "requirements/a.yaml",
        &(req("REQ-S-1", "One, edited") + &req("REQ-S-2", "Two")),
    );
    r.write("requirements/b.yaml", &req("REQ-S-3", "Three"));
    r.commit("Carol", "New");
    let clone = r.tmp.path().join("clone");
    let url = format!("file://{}", r.root.display());
    git_in(
        r.tmp.path(),
        &["clone", "-q", "--depth", "2", &url, clone.to_str().unwrap()],
    );
    let boundary = git_in(&clone, &["rev-parse", "HEAD~1"]).trim().to_owned();
    let (h, diags) = scan_at(&clone);
    assert_eq!(codes(&diags), ["history-shallow"], "{diags:?}");
    assert!(
        diags[0].message.contains(&boundary[..7]),
        "{}",
        diags[0].message
    );
    assert_eq!(h.commits.len(), 2);
    assert_eq!(h.boundary.len(), 1);
    // REQ-S-1 and REQ-S-2 existed before the boundary: incomplete; REQ-S-3 is complete.
    assert!(h.item("REQ-S-1").unwrap().incomplete);
    assert!(h.item("REQ-S-2").unwrap().incomplete);
    assert!(!h.item("REQ-S-3").unwrap().incomplete);
    assert_eq!(subjects(&h, "REQ-S-3"), ["New"]);
    let line = mdbook_qms::render::history::history_compact(&h, "REQ-S-1");
    assert!(
        line.contains("First seen") && line.contains("incomplete"),
        "{line}"
    );
}

#[test]
fn trailers_link_commits_and_unknown_ids_warn_naming_the_commit() {
    let r = Repo::new();
    r.write(
        "requirements/a.yaml",
        &(req("REQ-T-1", "One") + &test_item("TST-T-1", "Test", "REQ-T-1")),
    );
    r.commit("Alice", "Add");
    std::fs::write(r.root.join("code.c"), "int x;\n").unwrap();
    let c = r.commit("Bob", "Implement login\n\nDetails.\n\nImplements: REQ-T-1, REQ-NOPE-9\nVerifies: TST-T-1\nSigned-off-by: Bob <b@x>");
    let (h, diags) = r.scan();
    let links = &h.item("REQ-T-1").unwrap().links;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].trailer, "Implements");
    assert_eq!(h.commit(links[0].commit).id, c);
    assert_eq!(h.item("TST-T-1").unwrap().links[0].trailer, "Verifies");
    // A commit that changes no item file does not enter item histories.
    assert_eq!(subjects(&h, "REQ-T-1"), ["Add"]);
    assert_eq!(codes(&diags), ["trailer-unknown-id"]);
    assert!(
        diags[0].message.contains(&c[..7]) && diags[0].message.contains("REQ-NOPE-9"),
        "{}",
        diags[0].message
    );
}

#[test]
fn configured_trailer_names_replace_the_defaults() {
    let r = Repo::new();
    r.write(
        "book.toml",
        &format!("{BOOK_TOML}trailers = [\"Satisfies\"]\n"),
    );
    r.write("requirements/a.yaml", &req("REQ-K-1", "One"));
    r.commit("Alice", "Add\n\nSatisfies: REQ-K-1\nImplements: REQ-K-1");
    let (h, diags) = r.scan();
    assert!(diags.is_empty(), "{diags:?}");
    let links = &h.item("REQ-K-1").unwrap().links;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].trailer, "Satisfies");
}

#[test]
fn the_cache_is_reused_extended_and_rebuilt_when_corrupt() {
    let r = Repo::new();
    r.write("requirements/a.yaml", &req("REQ-Q-1", "One"));
    r.commit("Alice", "One");
    let (cold, _) = r.scan();
    assert!(!cold.from_cache);
    let cache = r.root.join(".git/mdbook-qms/history-cache");
    assert!(cache.is_file());
    let (warm, _) = r.scan();
    assert!(warm.from_cache);
    assert_eq!(subjects(&warm, "REQ-Q-1"), subjects(&cold, "REQ-Q-1"));
    // A new commit: the old records are reused, the new one computed.
    r.write("requirements/a.yaml", &req("REQ-Q-1", "One, edited"));
    r.commit("Bob", "Two");
    let (next, _) = r.scan();
    assert!(!next.from_cache);
    assert_eq!(subjects(&next, "REQ-Q-1"), ["Two", "One"]);
    // Corrupt and foreign caches are ignored and rewritten.
    std::fs::write(&cache, b"{not json").unwrap();
    let (again, diags) = r.scan();
    assert!(diags.is_empty());
    assert_eq!(subjects(&again, "REQ-Q-1"), ["Two", "One"]);
    let text = std::fs::read_to_string(&cache).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    let mut header: Vec<&str> = first.split('\t').collect();
    header[2] = "0.0.0-other";
    std::fs::write(&cache, format!("{}\n{rest}", header.join("\t"))).unwrap();
    let (again, _) = r.scan();
    assert!(!again.from_cache);
    assert_eq!(subjects(&again, "REQ-Q-1"), ["Two", "One"]);
    // The cache is outside the tracked tree.
    assert!(r.git(&["status", "--porcelain"]).trim().is_empty());
}

#[test]
fn a_project_in_a_subfolder_of_the_repository() {
    let r = Repo::new();
    let sub = r.root.join("device");
    std::fs::create_dir_all(sub.join("requirements")).unwrap();
    std::fs::create_dir_all(sub.join("book")).unwrap();
    std::fs::write(sub.join("book.toml"), BOOK_TOML).unwrap();
    std::fs::write(sub.join("book/SUMMARY.md"), "# Summary\n").unwrap();
    std::fs::write(sub.join("requirements/a.yaml"), req("REQ-P-1", "One")).unwrap();
    r.commit("Alice", "Sub project");
    let (h, diags) = scan_at(&sub);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(subjects(&h, "REQ-P-1"), ["Sub project"]);
    assert_eq!(h.item("REQ-P-1").unwrap().uncommitted, None);
}

/// 400 commits (more than one run per core) from the benchmark's own generator.
fn long_history() -> Repo {
    let r = Repo::new();
    std::fs::remove_dir_all(r.root.join("requirements")).unwrap();
    mdbook_qms::corpus::generate(&r.root, 60, 6).unwrap();
    let mut stream = Vec::new();
    let stats = mdbook_qms::corpus::history::fast_import_stream(&r.root, 400, &mut stream).unwrap();
    assert_eq!(stats.commits, 400);
    let mut child = std::process::Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(&r.root)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &stream).unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    r.git(&["reset", "-q", "--hard", "main"]);
    r
}

#[test]
fn a_long_generated_history_is_read_in_parallel_and_completely() {
    let r = long_history();
    let (h, diags) = r.scan();
    assert!(
        diags.iter().all(|d| d.code != "history-unavailable"),
        "{diags:?}"
    );
    assert_eq!(h.commits.len(), 400);
    // Every commit after the import edits exactly one item, named in its subject.
    let project = r.project();
    let mut edits = 0;
    for (id, item) in &h.items {
        assert!(item.uncommitted.is_none(), "{id} is uncommitted");
        for c in &item.changes {
            let subject = &h.commit(c.commit).subject;
            if c.kind == ChangeKind::Modified {
                assert_eq!(subject, &format!("Edit {id}"));
                edits += 1;
            } else {
                assert_eq!(subject, "Import the device file");
            }
        }
    }
    assert_eq!(edits, 399);
    assert_eq!(
        h.items.values().filter(|i| !i.changes.is_empty()).count(),
        project.items.len()
    );
    // A second scan from the cache gives the same histories.
    let (warm, _) = r.scan();
    assert!(warm.from_cache);
    for (id, item) in &h.items {
        assert_eq!(warm.item(id).unwrap().changes, item.changes, "{id}");
    }
}

#[test]
fn a_long_history_read_at_a_commit_is_read_in_parallel_too() {
    // `export --at` reads the project from a scratch folder outside the repository; the
    // scan's threads must open the repository, not that folder.
    let r = long_history();
    let out = r.tmp.path().join("bundle");
    let request = mdbook_qms::export::Request {
        dir: &r.root,
        out: &out,
        at: Some("HEAD"),
        allow_dirty: false,
        allow_errors: false,
    };
    assert!(mdbook_qms::export::run(&request).is_ok());
    // The generated book.toml allows `history-unavailable`: the bundle itself must
    // hold every item's history.
    let text = std::fs::read_to_string(out.join("items.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let items = doc["items"].as_array().unwrap();
    assert_eq!(items.len(), 60);
    for item in items {
        let changes = item["history"]["changes"].as_array();
        assert!(changes.is_some_and(|c| !c.is_empty()), "{}", item["id"]);
    }
}

#[test]
fn trailers_that_name_only_another_projects_items_are_not_reported() {
    let r = Repo::new();
    r.write("requirements/a.yaml", &req("REQ-M-1", "One"));
    r.commit("Alice", "Add");
    std::fs::write(r.root.join("other.txt"), "x\n").unwrap();
    // A monorepo: this commit is about another design file's items.
    r.commit(
        "Bob",
        "Review the other device\n\nReviewed: THR-OTHER-1, RISK-OTHER-2",
    );
    let (h, diags) = r.scan();
    assert!(diags.is_empty(), "{diags:?}");
    assert!(h.item("REQ-M-1").unwrap().reviews.is_empty());
}
