//! What the integration tests share: small projects in temporary folders, the real
//! binary run on them, real git repositories, the risk fixture and a WebDriver client.
//!
//! - [`cli`]: a project in a temporary folder and `mdbook-qms` run on it.
//! - [`git`]: real git repositories with fixed authors and dates.
//! - [`builder`]: [`ProjectBuilder`], a project written from items, chapters and trace
//!   files, optionally committed, for the risk, evidence and export tests.
//! - [`risk`]: the risk fixture with edits, loaded with the real pipeline.
//! - [`ssh`]: real SSH signing keys and `git verify-commit`, for approvals.
//! - [`webdriver`]: headless Chromium through chromedriver.

pub mod builder;
pub mod cli;
pub mod git;
pub mod risk;
pub mod ssh;
pub mod webdriver;

use std::path::{Path, PathBuf};

pub use builder::ProjectBuilder;

/// The `book.toml` of the small test projects: chapters in `book/`, the preprocessor on.
pub const BOOK_TOML: &str = "[book]\ntitle = \"T\"\nsrc = \"book\"\n\n[preprocessor.qms]\n";

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/NAME`.
pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
}

/// Writes a file below `root` (creating folders); bytes are written as given.
pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// The smallest project that checks clean: [`BOOK_TOML`], `book/SUMMARY.md` listing
/// `book/intro.md`, and an empty `requirements/`.
pub fn write_minimal_project(root: &Path) {
    write(root, "book.toml", BOOK_TOML);
    write(
        root,
        "book/SUMMARY.md",
        "# Summary\n\n- [Intro](intro.md)\n",
    );
    write(root, "book/intro.md", "# Intro\n");
    std::fs::create_dir_all(root.join("requirements")).unwrap();
}

/// Every file below `dir` (not folders), sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Copies every file below `from` to the same place below `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for file in walk(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

/// A copy of `tests/fixtures/NAME` in a new temporary folder.
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(name), dir.path());
    dir
}
