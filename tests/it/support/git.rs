//! Real git repositories for the history tests: the `git` command line builds them
//! (commits with fixed authors and dates, branches, merges, tags, shallow clones).

use std::path::{Path, PathBuf};
use std::process::Command;

use mdbook_qms::diag::Diagnostic;
use mdbook_qms::history::History;
use mdbook_qms::load::ChapterSource;
use mdbook_qms::pipeline;
use mdbook_qms::project::Project;

pub struct Repo {
    pub tmp: tempfile::TempDir,
    pub root: PathBuf,
    /// Seconds added to the base date for each commit, so dates are distinct and fixed.
    tick: std::cell::Cell<i64>,
}

impl Repo {
    /// A project folder (book.toml, an empty book) with `git init`, no commit yet.
    pub fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        super::write_minimal_project(&root);
        let r = Repo {
            tmp,
            root,
            tick: std::cell::Cell::new(0),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    /// A project folder that is not in any git repository.
    pub fn plain() -> Repo {
        let r = Repo::new();
        std::fs::remove_dir_all(r.root.join(".git")).unwrap();
        r
    }

    pub fn write(&self, path: &str, text: &str) {
        super::write(&self.root, path, text);
    }

    pub fn remove(&self, path: &str) {
        std::fs::remove_file(self.root.join(path)).unwrap();
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.root, args)
    }

    /// Commits everything as `author`, at a date one hour after the previous commit's.
    pub fn commit(&self, author: &str, message: &str) -> String {
        let t = self.tick.get() + 3600;
        self.tick.set(t);
        self.commit_at(author, message, 1_767_225_600 + t)
    }

    /// Commits with an explicit author date (epoch seconds).
    pub fn commit_at(&self, author: &str, message: &str, epoch: i64) -> String {
        commit_in(&self.root, author, message, epoch)
    }

    /// Commits everything as `author` at `date` (as [`commit_dated`]).
    pub fn commit_on(&self, author: &str, message: &str, date: &str) -> String {
        commit_dated(&self.root, author, message, date)
    }

    pub fn project(&self) -> Project {
        project_at(&self.root)
    }

    pub fn scan(&self) -> (History, Vec<Diagnostic>) {
        scan_at(&self.root)
    }
}

/// Commits everything in the repository at `dir` as `author` at `epoch`; the new
/// commit's id.
pub fn commit_in(dir: &Path, author: &str, message: &str, epoch: i64) -> String {
    commit_dated(dir, author, message, &format!("@{epoch} +0000"))
}

/// Commits everything in the repository at `dir` as `author` at `date` (any date git
/// reads, e.g. `2026-04-01T00:00:00Z`); the new commit's id.
pub fn commit_dated(dir: &Path, author: &str, message: &str, date: &str) -> String {
    git_in(dir, &["add", "-A"]);
    let email = format!("{}@example.com", author.to_lowercase());
    let out = Command::new("git")
        .args(["commit", "-q", "--allow-empty", "-m", message])
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", author)
        .env("GIT_AUTHOR_EMAIL", &email)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_NAME", author)
        .env("GIT_COMMITTER_EMAIL", &email)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git commit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    git_in(dir, &["rev-parse", "HEAD"]).trim().to_owned()
}

pub fn project_at(root: &Path) -> Project {
    pipeline::load(root, ChapterSource::Disk)
        .unwrap_or_else(|e| panic!("project: {:?}", e.0.message))
}

pub fn scan_at(root: &Path) -> (History, Vec<Diagnostic>) {
    let project = project_at(root);
    let errors: Vec<_> = project
        .diagnostics
        .0
        .iter()
        .filter(|d| d.severity == mdbook_qms::diag::Severity::Error)
        .map(|d| d.message.clone())
        .collect();
    assert!(
        errors.is_empty(),
        "the fixture project has errors: {errors:?}"
    );
    // The history stage ran inside `Project::load`; hand back its result and its
    // diagnostics (the other stages' warnings are not what these tests are about).
    let history_codes = ["history-", "trailer-", "suspect-"];
    let diags = project
        .diagnostics
        .0
        .iter()
        .filter(|d| history_codes.iter().any(|c| d.code.starts_with(c)))
        .cloned()
        .collect();
    (project.history, diags)
}

pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Fixture")
        .env("GIT_AUTHOR_EMAIL", "fixture@example.com")
        .env("GIT_COMMITTER_NAME", "Fixture")
        .env("GIT_COMMITTER_EMAIL", "fixture@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A requirement as YAML list entry.
pub fn req(id: &str, title: &str) -> String {
    format!("- id: {id}\n  type: requirement\n  title: {title}\n")
}

pub fn test_item(id: &str, title: &str, verifies: &str) -> String {
    format!("- id: {id}\n  type: test\n  title: {title}\n  verifies: [{verifies}]\n")
}

/// The subjects of an item's changes, newest first.
pub fn subjects(h: &History, id: &str) -> Vec<String> {
    h.item(id)
        .map(|i| {
            i.changes
                .iter()
                .map(|c| h.commit(c.commit).subject.clone())
                .collect()
        })
        .unwrap_or_default()
}

pub fn codes(diags: &[Diagnostic]) -> Vec<&'static str> {
    diags.iter().map(|d| d.code).collect()
}
