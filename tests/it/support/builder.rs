//! [`ProjectBuilder`]: a test project written from its parts (book.toml, item files,
//! chapters, trace files), as a plain folder or as a real git repository.
//!
//! ```ignore
//! let p = ProjectBuilder::new()
//!     .toml("baselines = \"v*\"\n")
//!     .file("requirements/reqs.yaml", &req("REQ-1", "Log in"))
//!     .file("trace/junit.xml", JUNIT)
//!     .build();
//! let project = p.load();
//! ```

use std::path::Path;

use mdbook_qms::load::ChapterSource;
use mdbook_qms::pipeline;
use mdbook_qms::project::Project;

use super::git::Repo;

/// The parts of a project, written by [`build`](Self::build) (a temporary folder) or
/// [`repo`](Self::repo) (a git repository). It starts as the minimal project of
/// [`super::write_minimal_project`].
#[derive(Clone)]
pub struct ProjectBuilder {
    book_toml: String,
    files: Vec<(String, Vec<u8>)>,
}

impl Default for ProjectBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ProjectBuilder {
    pub fn new() -> Self {
        ProjectBuilder {
            book_toml: super::BOOK_TOML.to_owned(),
            files: Vec::new(),
        }
    }

    /// Replaces the whole `book.toml`.
    pub fn book_toml(mut self, text: &str) -> Self {
        self.book_toml = text.to_owned();
        self
    }

    /// Appends `extra` to `book.toml` (keys land in `[preprocessor.qms]` unless `extra`
    /// opens a table of its own).
    pub fn toml(mut self, extra: &str) -> Self {
        self.book_toml.push_str(extra);
        self
    }

    /// A file at `rel`; a later file at the same path replaces an earlier one.
    pub fn file(mut self, rel: &str, content: impl AsRef<[u8]>) -> Self {
        self.files.retain(|(path, _)| path != rel);
        self.files.push((rel.to_owned(), content.as_ref().to_vec()));
        self
    }

    /// Several files at once, as `(path, text)`.
    pub fn files(self, files: &[(&str, &str)]) -> Self {
        files
            .iter()
            .fold(self, |builder, (rel, text)| builder.file(rel, text))
    }

    /// The items file `requirements/NAME`, the YAML list entries of `items` in order
    /// (see [`super::git::req`] and [`super::git::test_item`]).
    pub fn items(self, name: &str, items: &[String]) -> Self {
        self.file(&format!("requirements/{name}"), items.concat())
    }

    fn write_into(&self, root: &Path) {
        super::write_minimal_project(root);
        super::write(root, "book.toml", &self.book_toml);
        for (rel, content) in &self.files {
            super::write(root, rel, content);
        }
    }

    /// The project in a new temporary folder, outside any git repository.
    pub fn build(&self) -> Built {
        let dir = tempfile::tempdir().unwrap();
        self.write_into(dir.path());
        Built { dir }
    }

    /// The project in a new git repository, nothing committed yet.
    pub fn repo(&self) -> Repo {
        let repo = Repo::new();
        self.write_into(&repo.root);
        repo
    }

    /// The project in a new git repository, everything committed by `author`.
    pub fn commit(&self, author: &str, message: &str) -> Repo {
        let repo = self.repo();
        repo.commit(author, message);
        repo
    }
}

/// A project [`ProjectBuilder::build`] wrote into a temporary folder.
pub struct Built {
    pub dir: tempfile::TempDir,
}

impl Built {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes (or overwrites) a file of the project.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        super::write(self.path(), rel, content);
        self
    }

    /// The project through the real pipeline, reading chapters from disk.
    pub fn load(&self) -> Project {
        pipeline::load(self.path(), ChapterSource::Disk)
            .unwrap_or_else(|e| panic!("project: {:?}", e.0.message))
    }
}
