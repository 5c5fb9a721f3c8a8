//! Runs every stage in order and returns the finished [`Project`]:
//! `Linked::load` (config -> schema -> load -> validate -> link), then the analysis
//! stages (`history`, `risk`, `evidence::assess`, `approval::assess`), each a function of the linked model
//! and the outputs it names, then the document gaps and whether approved documents are
//! still what was approved, which need the templates rendered.

use std::collections::HashMap;
use std::path::Path;

use crate::config::Fatal;
use crate::date::Day;
use crate::diag::Diagnostics;
use crate::documents::Documents;
use crate::git::{CommitId, Repo, Revision};
use crate::linked::{Linked, LoadOptions};
use crate::load::ChapterSource;
use crate::output::Failure;
use crate::project::Project;
use crate::report::{self, Format};
use crate::{approval, documents, evidence, history, risk};

/// Loads and checks the project in `root`, as of today in the work tree. Only a missing
/// or unreadable `book.toml` is fatal; everything else is a diagnostic.
pub fn load(root: &Path, chapters: ChapterSource) -> Result<Project, Fatal> {
    load_with(root, chapters, LoadOptions::default())
}

/// [`load`] with the files read from `root` standing for `options.revision`.
pub(crate) fn load_with(
    root: &Path,
    chapters: ChapterSource,
    options: LoadOptions,
) -> Result<Project, Fatal> {
    load_with_documents(root, chapters, options).map(|(project, _)| project)
}

/// `load_with`, keeping the documents `check` rendered for a command that renders
/// them again (the book, `export`, `render`), so their data is built once.
pub fn load_with_documents(
    root: &Path,
    chapters: ChapterSource,
    options: LoadOptions,
) -> Result<(Project, Documents), Fatal> {
    let revision = options.revision.clone();
    let (mut project, documents) = stages(root, chapters, options)?;
    // The project as of another day, loaded once per day a document approval needs.
    let mut loaded: HashMap<Day, Option<(Project, Documents)>> = HashMap::new();
    let mut as_of = |day: Day, name: &str| -> Option<String> {
        let (p, d) = loaded
            .entry(day)
            .or_insert_with(|| {
                let options = LoadOptions {
                    revision: revision.clone(),
                    today: Some(day),
                };
                stages(root, ChapterSource::Disk, options).ok()
            })
            .as_ref()?;
        documents::approvals::content_hash(p, d, name).ok()
    };
    let (outdated, verdicts) = documents::approvals::check(&project, &documents, &mut as_of);
    project.diagnostics.extend(outdated);
    for (record, document, current) in verdicts {
        project.approvals.records[record].documents[document].current = Some(current);
    }
    project.apply_lint_levels();
    Ok((project, documents))
}

/// Every stage up to the documents' gaps; the approvals of documents are judged on
/// top of it (`load_with_documents`).
fn stages(
    root: &Path,
    chapters: ChapterSource,
    options: LoadOptions,
) -> Result<(Project, Documents), Fatal> {
    let mut diagnostics = Diagnostics::default();
    let linked = Linked::load(root, chapters, options, &mut diagnostics)?;
    let mut found = Vec::new();
    let history = history::scan(&linked, &mut found);
    let baseline_diffs = history::diff::baselines(&linked, &history, &mut found);
    diagnostics.extend(found);
    let risk = risk::analyze(&linked, &mut diagnostics);
    let mut found = Vec::new();
    let evidence = evidence::assess::assess(&linked, &history, &mut found);
    evidence::consistency::check(&linked, &mut found);
    evidence::testing::check(&linked, &mut found);
    let approvals = approval::assess(&linked, &history, &mut found);
    diagnostics.extend(found);
    let mut project = Project {
        linked,
        history,
        baseline_diffs,
        risk,
        evidence,
        approvals,
        diagnostics,
    };
    let documents = Documents::new(&project);
    let gaps = documents::check(&project, &documents);
    project.diagnostics.extend(gaps);
    Ok((project, documents))
}

/// A project read at a commit of the repository that holds `dir`: the commit's files
/// are extracted to a scratch folder (which lives as long as the returned value), and
/// history is read as if HEAD were the commit, so `export --at` and `gate --at` see the
/// same `Project` a checkout would. Dates are checked as of `today`.
pub(crate) fn load_commit(
    dir: &Path,
    repo: &Repo,
    commit: CommitId,
    today: Day,
) -> Result<(Project, Documents, tempfile::TempDir), Failure> {
    let scratch = tempfile::tempdir()
        .map_err(|e| Failure::usage(format!("cannot create a scratch folder: {e}")))?;
    repo.extract(commit, scratch.path()).map_err(|m| {
        Failure::usage(format!("cannot read commit {} from git: {m}", commit.hex()))
    })?;
    let options = LoadOptions {
        revision: Revision::Commit {
            project_dir: dir.to_path_buf(),
            commit,
        },
        today: Some(today),
    };
    let (project, documents) =
        load_with_documents(scratch.path(), ChapterSource::Disk, options).map_err(unloadable)?;
    Ok((project, documents, scratch))
}

/// The diagnostic that stopped loading a project, as a usage failure.
pub(crate) fn unloadable(fatal: Fatal) -> Failure {
    Failure::Usage(report::render(
        Format::Human,
        &[*fatal.0],
        &crate::source::SourceMap::default(),
    ))
}
