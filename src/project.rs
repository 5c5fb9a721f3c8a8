//! The pipeline entry point: config -> load -> validate -> link.
//!
//! `Project` owns everything later stages read (sources, types, items, chapters, link
//! graph) plus the diagnostics found so far. It is built either from the files on disk
//! (`check`) or from the chapters mdBook hands the preprocessor.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{self, Config, Fatal};
use crate::diag::{Diagnostic, Diagnostics};
use crate::history::git::Revision;
use crate::link::{self, Graph};
use crate::load;
use crate::model::{Chapter, Item};
use crate::schema::{self, Types};
use crate::source::SourceMap;
use crate::validate;

pub struct Project {
    pub config: Config,
    pub sources: SourceMap,
    pub types: Types,
    pub items: Vec<Item>,
    pub chapters: Vec<Chapter>,
    pub graph: Graph,
    /// Risk scores before and after mitigation (see `risk`).
    /// What git says about each item (stage 4).
    pub history: crate::history::History,
    /// `{{#qms changes BASE}}` comparisons by BASE, or why there is none.
    pub baseline_diffs: BTreeMap<String, Result<crate::history::diff::Diff, String>>,
    pub risk: crate::risk::RiskModel,
    /// Test results, SBOMs and vulnerability records from `trace/` (see `evidence`).
    pub evidence: crate::evidence::Evidence,
    pub diagnostics: Diagnostics,
    /// Where the files and history were read from (the work tree, or a commit).
    pub revision: Revision,
    /// The day date checks compare with (end of support, review dates), `YYYY-MM-DD`.
    pub today: String,
    /// What document templates see, built on first use (see `documents::Data`).
    pub document_data: std::sync::OnceLock<crate::documents::Data>,
}

/// How to read a project beyond its folder; the default reads the work tree as of today.
#[derive(Default)]
pub struct LoadOptions {
    pub revision: Revision,
    /// The day to check dates against; `None` is [`crate::date::today`].
    pub today: Option<String>,
}

/// Where the chapters come from.
pub enum ChapterSource {
    /// Read SUMMARY.md and the files it lists.
    Disk,
    /// The chapters mdBook passed in.
    Given(Vec<GivenChapter>),
}

/// A chapter as mdBook hands it to a preprocessor.
pub struct GivenChapter {
    /// Where the page is rendered, relative to `src` (README.md is already index.md).
    pub path: PathBuf,
    /// The file it was read from, relative to `src`, for diagnostics (`None` for
    /// chapters another preprocessor made up).
    pub source_path: Option<PathBuf>,
    pub content: String,
}

impl Project {
    /// Loads and checks the project in `root`. Only a missing or unreadable `book.toml`
    /// is fatal; everything else is a diagnostic.
    pub fn load(root: &Path, chapters: ChapterSource) -> Result<Project, Fatal> {
        Project::load_with(root, chapters, LoadOptions::default())
    }

    /// [`Project::load`] with the files read from `root` standing for `options.revision`.
    pub fn load_with(
        root: &Path,
        chapters: ChapterSource,
        options: LoadOptions,
    ) -> Result<Project, Fatal> {
        let mut sources = SourceMap::default();
        let mut diags = Diagnostics::default();
        let config = config::load(root, &mut sources, &mut diags)?;
        let types = schema::load(Some((root, &config.schemas)), &mut sources, &mut diags);

        let files = load::item_files(&config, &mut sources, &mut diags);
        let files = load::read_files(root, files, &mut sources, &mut diags);
        let mut raw = load::parse_item_files(&files, &sources, &mut diags);

        let chapter_files = match chapters {
            ChapterSource::Disk => load::summary_chapters(&config, &mut sources, &mut diags),
            ChapterSource::Given(list) => {
                load::given_chapters(&config, list, &mut sources, &mut diags)
            }
        };
        let mut chapters = Vec::with_capacity(chapter_files.len());
        for (i, (path, file)) in chapter_files.into_iter().enumerate() {
            let mut ds: Vec<Diagnostic> = Vec::new();
            let (chapter, items) = load::scan_chapter(i, path, file, &sources, &mut ds);
            diags.extend(ds);
            chapters.push(chapter);
            raw.extend(items);
        }

        // Evidence is read before validation: SBOM components that no item stands for
        // become component items, so links naming their purl resolve.
        let (evidence, synthesized) =
            crate::evidence::load(&config, &mut sources, &raw, &mut diags);
        raw.extend(synthesized);
        let items = validate::validate(raw, &types, &mut diags);
        let graph = link::link(&items, &chapters, &types, &mut diags);
        if !config.generated_chapters {
            link::report_unplaced(&items, &chapters, &graph, &mut diags);
        }
        let mut project = Project {
            config,
            sources,
            types,
            items,
            chapters,
            graph,
            baseline_diffs: BTreeMap::new(),
            history: crate::history::History::empty(crate::history::Status::Unavailable(
                "not scanned yet".into(),
            )),
            risk: crate::risk::RiskModel::default(),
            evidence,
            diagnostics: diags,
            revision: options.revision,
            today: options.today.unwrap_or_else(crate::date::today),
            document_data: std::sync::OnceLock::new(),
        };
        let mut history_diags = Vec::new();
        project.history = crate::history::scan(&project, &mut history_diags);
        project.diagnostics.extend(history_diags);
        project.check_baselines();
        let mut risk_diags = Diagnostics::default();
        project.risk = crate::risk::analyze(&project, &mut risk_diags);
        project.diagnostics.extend(risk_diags.0);
        crate::evidence::assess(&mut project);
        crate::documents::check(&mut project);
        project.apply_lint_levels();
        Ok(project)
    }

    /// A `{{#qms changes BASE}}` must name a revision git can read.
    /// The comparisons are kept for the renderer, so each is computed once.
    fn check_baselines(&mut self) {
        let mut found = Vec::new();
        let mut diffs = BTreeMap::new();
        for chapter in &self.chapters {
            for d in chapter.directives.iter().filter(|d| d.name == "changes") {
                let base = &d.args[0].text;
                let diff =
                    diffs
                        .entry(base.clone())
                        .or_insert_with(|| match &self.history.status {
                            crate::history::Status::Unavailable(reason) => Err(reason.clone()),
                            crate::history::Status::Ready => {
                                crate::history::diff::diff(self, base, None)
                            }
                        });
                // Without history there is nothing to check; `history-unavailable` says why.
                let (Err(e), true) = (&*diff, self.history.is_available()) else {
                    continue;
                };
                let names: Vec<&str> = self
                    .history
                    .baselines
                    .iter()
                    .map(|b| b.name.as_str())
                    .collect();
                let mut diag = Diagnostic::new(crate::diag::code::CHANGES_UNKNOWN_BASE, e.clone())
                    .at(d.args[0].span);
                if !names.is_empty() {
                    diag = diag.help(format!("baselines: {}", names.join(", ")));
                }
                found.push(diag);
            }
        }
        self.diagnostics.extend(found);
        self.baseline_diffs = diffs;
    }

    /// Adds a diagnostic found after loading (by the mdBook glue), at the level
    /// `[preprocessor.qms.lints]` gives its code.
    pub fn report(&mut self, mut diagnostic: Diagnostic) {
        match self.config.lints.get(diagnostic.code) {
            Some(Some(severity)) => diagnostic.severity = *severity,
            Some(None) => return,
            None => {}
        }
        self.diagnostics.push(diagnostic);
    }

    /// Applies `[preprocessor.qms.lints]`: change a code's severity, or drop it.
    fn apply_lint_levels(&mut self) {
        if self.config.lints.is_empty() {
            return;
        }
        let lints = &self.config.lints;
        self.diagnostics.0.retain_mut(|d| match lints.get(d.code) {
            Some(Some(severity)) => {
                d.severity = *severity;
                true
            }
            Some(None) => false,
            None => true,
        });
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.graph.get(id).map(|i| &self.items[i])
    }
}
