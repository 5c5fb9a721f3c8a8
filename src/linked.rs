//! The linked model: everything read from the project's files, validated and linked.
//!
//! `Linked::load` runs the first stages (config -> schema -> load -> evidence files ->
//! validate -> link). The analysis stages (`history`, `risk`, `evidence::assess`) are
//! functions of a `&Linked`; none of them can read another stage's output unless it is
//! passed in, so a signature says what a stage reads.

use std::path::Path;

use crate::approval::signers::{self, AllowedSigners};
use crate::config::{self, Config, Fatal};
use crate::date::{Day, Timestamp};
use crate::diag::{Diagnostic, Diagnostics};
use crate::evidence::{self, Traces};
use crate::git::Revision;
use crate::link::{self, Graph};
use crate::load::{self, ChapterSource, TemplateFiles};
use crate::model::{Chapter, Item};
use crate::schema::{self, Types};
use crate::source::SourceMap;
use crate::validate;

/// The project as its files say, linked; complete when constructed.
pub struct Linked {
    /// `book.toml`.
    pub config: Config,
    /// Every file read, for diagnostics' spans.
    pub sources: SourceMap,
    /// The item types, built-in and the project's.
    pub types: Types,
    /// Every item with a usable id and type (schema errors aside); an id defined twice
    /// appears twice, and `graph` resolves it to the first.
    pub items: Vec<Item>,
    pub(crate) chapters: Vec<Chapter>,
    /// The resolved links and the id index.
    pub graph: Graph,
    /// The project's template overrides, read once (see [`TemplateFiles`]).
    pub(crate) templates: TemplateFiles,
    /// Test results, SBOMs, vulnerability records and the KEV catalogue from `trace/`.
    pub traces: Traces,
    /// The allowed-signers file (empty without one), for verifying approvals.
    pub(crate) allowed_signers: AllowedSigners,
    /// Where the files and history were read from (the work tree, or a commit).
    pub(crate) revision: Revision,
    /// The day date checks compare with (end of support, review dates).
    pub today: Day,
}

/// How to read a project beyond its folder; the default reads the work tree as of today.
#[derive(Default)]
pub struct LoadOptions {
    pub(crate) revision: Revision,
    /// The day to check dates against; `None` is [`Day::today`].
    pub(crate) today: Option<Day>,
}

impl Linked {
    /// Reads, validates and links the project in `root`. Only a missing or unreadable
    /// `book.toml` is fatal; everything else is a diagnostic in `diags`.
    pub(crate) fn load(
        root: &Path,
        chapters: ChapterSource,
        options: LoadOptions,
        diags: &mut Diagnostics,
    ) -> Result<Linked, Fatal> {
        let mut sources = SourceMap::default();
        let config = config::load(root, &mut sources, diags)?;
        let types = schema::load(Some((root, &config.schemas)), &mut sources, diags);

        let files = load::item_files(&config, &mut sources, diags);
        let files = load::read_files(root, files, &mut sources, diags);
        let mut raw = load::parse_item_files(&files, &sources, diags);

        let chapter_files = match chapters {
            ChapterSource::Disk => load::summary_chapters(&config, &mut sources, diags),
            ChapterSource::Given(list) => load::given_chapters(&config, list, &mut sources, diags),
        };
        let templates = load::templates(&config, &mut sources, diags);
        let allowed_signers = signers::load(&config, &mut sources, diags);
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
        let (traces, synthesized) = evidence::load(&config, &mut sources, &raw, diags);
        raw.extend(synthesized);
        let items = validate::validate(raw, &types, diags);
        let graph = link::link(
            &items,
            &chapters,
            &types,
            config.safety_file.as_ref(),
            diags,
        );
        if !config.generated_chapters {
            link::report_unplaced(&items, &chapters, &graph, diags);
        }
        Ok(Linked {
            config,
            sources,
            types,
            items,
            chapters,
            graph,
            templates,
            traces,
            allowed_signers,
            revision: options.revision,
            today: options.today.unwrap_or_else(Day::today),
        })
    }

    /// The item an id names (the primary one when the id is duplicated).
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.graph.get(id).map(|i| &self.items[i])
    }

    /// Whether item `i` is the one its id resolves to (a duplicate id's later copies are
    /// not), so checks and tables count each id once.
    pub(crate) fn is_primary(&self, i: usize) -> bool {
        self.graph.get(&self.items[i].id) == Some(i)
    }

    /// The time of the commit the project was read at (`SOURCE_DATE_EPOCH` when set), in
    /// UTC, for output timestamps that stay the same for the same commit.
    pub(crate) fn commit_time(&self) -> Option<Timestamp> {
        if let Some(time) = Timestamp::source_date_epoch() {
            return Some(time);
        }
        let repo = crate::git::Repo::open_at(&self.config.root, &self.revision).ok()?;
        let head = repo.head().ok()??;
        Some(Timestamp::utc(repo.commit(head).ok()?.time))
    }
}
