//! Stage 4, history: what git says about each item.
//!
//! For every commit reachable from HEAD (all parents of merges), the item files it
//! touched are compared with its parents' versions item by item, through fingerprints of
//! each item's normalised content (`fingerprint`). That gives each item its own list of
//! changes even when a file holds many items, and an item keeps its history when it moves
//! to another file (identity is the id). Commit trailers link commits to items
//! (`trailers`); links whose target changed after the linking item was last changed or
//! reviewed are suspect (`suspect`); tags are baselines, and `diff` compares two of them.
//!
//! Only `git` talks to git. Per-commit results are cached in the git directory (`cache`),
//! so a rebuild reads nothing but the cache when HEAD has not moved, and only the new
//! commits when it has.

pub(crate) mod cache;
pub mod diff;
pub(crate) mod fingerprint;
mod suspect;
pub(crate) mod trailers;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::date::{Day, Timestamp};
use crate::diag::{code, Diagnostic};
use crate::git::{self, CommitId, CommitMeta, ObjectId, Repo, Scope};
use crate::linked::Linked;
use crate::model::Home;
use fingerprint::{ItemPrint, Print, Printer};
use trailers::Trailer;

pub(crate) use suspect::Suspect;

/// A commit as history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    /// Full hex id.
    pub id: String,
    /// The first 7 hex digits, as git shows them.
    pub(crate) short: String,
    /// Author time: seconds since the epoch, and ISO 8601 with the author's offset.
    pub(crate) time: i64,
    pub(crate) offset_minutes: i32,
    /// The author time as ISO 8601 with the author's offset.
    pub date: String,
    /// The author's name.
    pub author: String,
    pub(crate) email: String,
    /// The first line of the message.
    pub subject: String,
    pub(crate) parents: Vec<String>,
}

impl CommitInfo {
    pub(crate) fn from_meta(m: &CommitMeta) -> Self {
        let id = m.id.hex();
        CommitInfo {
            short: id[..7].to_owned(),
            id,
            time: m.time,
            offset_minutes: m.offset_minutes,
            date: Timestamp::with_offset(m.time, m.offset_minutes).rfc3339(),
            author: m.author.clone(),
            email: m.email.clone(),
            subject: m.message.lines().next().unwrap_or("").trim().to_owned(),
            parents: m.parents.iter().map(ObjectId::hex).collect(),
        }
    }

    /// The author time, shown with the author's offset.
    pub(crate) fn timestamp(&self) -> Timestamp {
        Timestamp::with_offset(self.time, self.offset_minutes)
    }

    /// The day of the author time, in the author's time zone.
    pub(crate) fn day(&self) -> Day {
        self.timestamp().day()
    }
}

/// What a commit did to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The item appeared.
    Added,
    /// The item's fields changed.
    Modified,
    /// The item disappeared.
    Removed,
}

impl ChangeKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "modified",
            ChangeKind::Removed => "removed",
        }
    }
}

/// One commit's change to one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ItemChange {
    pub(crate) id: String,
    pub(crate) kind: ChangeKind,
    /// Whether a field other than the `suspect-ignore` ones changed.
    pub(crate) significant: bool,
}

/// What one commit did: the unit the cache stores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) commit: CommitInfo,
    /// A commit whose parents a shallow clone cut off.
    pub(crate) boundary: bool,
    pub(crate) changes: Vec<ItemChange>,
    pub(crate) trailers: Vec<Trailer>,
    /// The approval trailers (`trailers::APPROVAL`), which make the commit an approval
    /// record when one is `Approved`.
    pub(crate) approval: Vec<Trailer>,
}

/// A change in an item's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Index into [`History::commits`].
    pub commit: usize,
    /// What the commit did to the item.
    pub kind: ChangeKind,
    pub(crate) significant: bool,
}

/// A commit that names an item in a trailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitLink {
    /// Index into [`History::commits`].
    pub commit: usize,
    /// The trailer's configured name (`Implements`).
    pub trailer: String,
}

/// Edits in the work tree that no commit holds yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uncommitted {
    /// The item is in no commit.
    New,
    /// The item differs from HEAD.
    Modified {
        /// Whether a field other than the `suspect-ignore` ones changed.
        significant: bool,
    },
}

/// One item's history.
#[derive(Debug, Clone, Default)]
pub struct ItemHistory {
    /// Newest first.
    pub changes: Vec<Change>,
    /// Commits whose trailers name the item, newest first (review trailers excluded).
    pub links: Vec<CommitLink>,
    /// Commits with a review trailer for the item, newest first.
    pub reviews: Vec<usize>,
    /// How the work tree differs from HEAD for this item, if it does.
    pub uncommitted: Option<Uncommitted>,
    /// The history reaches the boundary of a shallow clone: older changes are missing.
    pub incomplete: bool,
}

/// Why there is no history, when there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScanStatus {
    /// History was read (possibly an empty repository: no commits).
    Ready,
    /// Not a git repository, or it could not be read; the reason.
    Unavailable(String),
}

/// A tag that marks a baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// The tag's name.
    pub name: String,
    pub(crate) commit: CommitInfo,
}

/// Everything the history stage found.
#[derive(Debug, Clone)]
pub struct History {
    pub(crate) status: ScanStatus,
    /// The commit HEAD points to; `None` without commits or git.
    pub head: Option<CommitInfo>,
    /// Every commit reachable from HEAD, newest first (topological, then by time).
    pub commits: Vec<CommitInfo>,
    /// Commits where a shallow clone cuts history off.
    pub boundary: Vec<CommitInfo>,
    /// By item id; an item no commit or trailer touched may be absent.
    pub items: BTreeMap<String, ItemHistory>,
    /// Links whose target changed after the linking item was last changed or reviewed.
    pub suspects: Vec<Suspect>,
    /// Tags that mark baselines.
    pub baselines: Vec<Baseline>,
    /// Whether the result came from the cache without reading any commit.
    pub from_cache: bool,
    /// Damaged object files met while reading (each reported as `git-damaged`).
    pub(crate) damaged: Vec<git::DamagedObject>,
    /// Commits with an `Approved` trailer (indexes into `commits`, newest first) and
    /// their approval trailers; `approval` reads their signatures.
    pub(crate) approval_commits: Vec<(usize, Vec<Trailer>)>,
}

impl History {
    pub(crate) fn empty(status: ScanStatus) -> Self {
        History {
            status,
            head: None,
            commits: Vec::new(),
            boundary: Vec::new(),
            items: BTreeMap::new(),
            suspects: Vec::new(),
            baselines: Vec::new(),
            from_cache: false,
            damaged: Vec::new(),
            approval_commits: Vec::new(),
        }
    }

    /// Whether git history was read (false outside a repository or when it is unreadable).
    pub fn is_available(&self) -> bool {
        self.status == ScanStatus::Ready
    }

    /// Why a command whose output must match the repository (`export`, `diff`) stops:
    /// the first damaged object, if any.
    pub fn damage_error(&self) -> Option<String> {
        let first = self.damaged.first()?;
        let more = match self.damaged.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        Some(format!(
            "the git repository is damaged: {first}{more}; {DAMAGE_FIX}"
        ))
    }

    /// The history of item `id`, if it has any.
    pub fn item(&self, id: &str) -> Option<&ItemHistory> {
        self.items.get(id)
    }

    /// The commit at `index` in [`History::commits`] (indexes from [`Change`] and [`CommitLink`]).
    pub fn commit(&self, index: usize) -> &CommitInfo {
        &self.commits[index]
    }

    /// The commit that created the item (the oldest change), if committed.
    pub fn created(&self, id: &str) -> Option<&CommitInfo> {
        let h = self.items.get(id)?;
        h.changes.last().map(|c| &self.commits[c.commit])
    }

    /// The newest commit that changed the item.
    pub fn last_changed(&self, id: &str) -> Option<&CommitInfo> {
        let h = self.items.get(id)?;
        h.changes.first().map(|c| &self.commits[c.commit])
    }

    /// Authors of the item's changes, first author first, each once.
    pub fn authors(&self, id: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if let Some(h) = self.items.get(id) {
            for c in h.changes.iter().rev() {
                let a = self.commits[c.commit].author.as_str();
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
        out
    }
}

/// The parts of a project's configuration that decide what a scan computes; the cache
/// is valid only for the same settings.
pub(crate) struct Settings {
    pub(crate) scopes: Vec<Scope>,
    pub(crate) trailer_names: Vec<String>,
    pub(crate) ignore: Vec<String>,
}

impl Settings {
    pub(crate) fn new(project: &Linked, repo: &Repo) -> Self {
        let c = &project.config;
        let mut scopes: Vec<Scope> = c
            .items
            .iter()
            .map(|d| Scope {
                dir: repo.repo_dir(d),
                exts: &[".yaml", ".yml"],
            })
            .collect();
        scopes.push(Scope {
            dir: repo.repo_dir(&c.src),
            exts: &[".md"],
        });
        let mut trailer_names = c.trailers.clone();
        trailer_names.push(c.review_trailer.clone());
        Settings {
            scopes,
            trailer_names,
            ignore: c.suspect_ignore.clone(),
        }
    }

    fn key(&self) -> String {
        let scopes: Vec<String> = self
            .scopes
            .iter()
            .map(|s| format!("{}:{}", s.dir.join("/"), s.exts.join(",")))
            .collect();
        format!(
            "scopes={};trailers={};ignore={}",
            scopes.join("|"),
            self.trailer_names.join(","),
            self.ignore.join(",")
        )
    }
}

/// Reads the history of the project's items. Never fails: a folder outside git, an
/// unreadable repository or a shallow clone give a warning and what could be read.
pub fn scan(project: &Linked, diags: &mut Vec<Diagnostic>) -> History {
    let config = &project.config;
    let repo = match Repo::open_at(&config.root, &project.revision) {
        Ok(r) => r,
        Err(e) => {
            let reason = match e {
                git::OpenError::NotARepository => {
                    "the project is not in a git repository".to_owned()
                }
                git::OpenError::Other(m) => format!("the git repository could not be read: {m}"),
            };
            let mut d = Diagnostic::new(
                code::HISTORY_UNAVAILABLE,
                format!("{reason}; item history, commit links, suspect links and baselines are unavailable"),
            )
            .help("run `git init` and commit the project to get item history");
            if let Some(f) = config.file {
                d = d.in_file(f);
            }
            diags.push(d);
            return History::empty(ScanStatus::Unavailable(reason));
        }
    };
    let settings = Settings::new(project, &repo);
    let head = match repo.head() {
        Ok(h) => h,
        Err(m) => {
            let reason = format!("HEAD could not be read: {m}");
            return unavailable(project, &repo, reason, diags);
        }
    };
    let mut history = History::empty(ScanStatus::Ready);
    let mut printer = Printer::new(&settings.ignore);
    if let Some(head) = head {
        let cache_path = cache::path(repo.git_dir());
        let key = settings.key();
        let mut cached = cache::load(&cache_path, &key);
        let order = match cached.order_for(head) {
            Some(order) => {
                history.from_cache = true;
                order
            }
            None => match repo.walk(head, None) {
                Ok(o) => o,
                Err(m) => {
                    return unavailable(
                        project,
                        &repo,
                        format!("the commits could not be read: {m}"),
                        diags,
                    )
                }
            },
        };
        let boundary: HashSet<CommitId> = repo.shallow_boundary().into_iter().collect();
        let records = match records(
            &repo,
            &order,
            &boundary,
            &settings,
            &mut printer,
            &mut cached,
        ) {
            Ok(r) => r,
            Err(m) => {
                let reason = format!("a commit could not be read: {m}");
                return unavailable(project, &repo, reason, diags);
            }
        };
        if !history.from_cache {
            cached.set_order(head, order);
            // A cache that cannot be written only costs time on the next build.
            let _ = cache::store(&cache_path, &key, &cached);
        }
        // The cache's references go, so the records move into the history uncloned.
        drop(cached);
        assemble(&mut history, records, project, config, diags);
        if !history.boundary.is_empty() {
            let b = &history.boundary[0];
            let others = history.boundary.len() - 1;
            let mut d = Diagnostic::new(
                code::HISTORY_SHALLOW,
                format!(
                    "the repository is a shallow clone: history stops at commit {} ({}, {}){}; item histories that reach it are incomplete",
                    b.short,
                    b.day(),
                    b.author,
                    if others > 0 { format!(" and {others} other boundary commit(s)") } else { String::new() }
                ),
            )
            .help("fetch the whole history with `git fetch --unshallow` (in CI: a full-depth checkout)");
            if let Some(f) = config.file {
                d = d.in_file(f);
            }
            diags.push(d);
        }
        // A baseline is a tag in HEAD's history: tags made later on other lines do not
        // change what a commit's book (or export) says.
        history.baselines = repo
            .tags(&config.baselines)
            .into_iter()
            .filter(|(_, id)| repo.is_ancestor(*id, head))
            .filter_map(|(name, id)| {
                let meta = repo.commit(id).ok()?;
                Some(Baseline {
                    name,
                    commit: CommitInfo::from_meta(&meta),
                })
            })
            .collect();
    }
    mark_uncommitted(&mut history, project, &repo, head, &settings, &mut printer);
    history.suspects = suspect::find(&history, project, diags);
    // Reads that history can do without (a baseline tag, an edited file's committed
    // version) may have met a damaged object too.
    history.damaged = repo.damaged();
    report_damage(
        project,
        &history.damaged,
        "what history says may be incomplete",
        diags,
    );
    history
}

const DAMAGE_FIX: &str =
    "`git fsck` lists every damaged object; restore them from another clone or a backup";

/// History could not be read: `git-damaged` for each damaged object met, or else
/// `history-unavailable`.
fn unavailable(
    project: &Linked,
    repo: &Repo,
    reason: String,
    diags: &mut Vec<Diagnostic>,
) -> History {
    let damaged = repo.damaged();
    if damaged.is_empty() {
        let mut d = Diagnostic::new(
            code::HISTORY_UNAVAILABLE,
            format!("{reason}; item history is unavailable"),
        );
        if let Some(f) = project.config.file {
            d = d.in_file(f);
        }
        diags.push(d);
    } else {
        let lost = "item history, commit links, suspect links and baselines are unavailable";
        report_damage(project, &damaged, lost, diags);
    }
    History {
        damaged,
        ..History::empty(ScanStatus::Unavailable(reason))
    }
}

fn report_damage(
    project: &Linked,
    damaged: &[git::DamagedObject],
    consequence: &str,
    diags: &mut Vec<Diagnostic>,
) {
    for object in damaged {
        let mut d = Diagnostic::new(
            code::GIT_DAMAGED,
            format!("the git repository is damaged: {object}; {consequence}"),
        )
        .help(DAMAGE_FIX);
        if let Some(f) = project.config.file {
            d = d.in_file(f);
        }
        diags.push(d);
    }
}

/// The record of every commit in `order` (newest first), from the cache or computed.
/// Commits to compute are split into contiguous runs, one per core, each with its own
/// repository handle (libgit2 handles are not shared between threads).
fn records(
    repo: &Repo,
    order: &[CommitId],
    boundary: &HashSet<CommitId>,
    settings: &Settings,
    printer: &mut Printer,
    cached: &mut cache::Cache,
) -> Result<Vec<Arc<Record>>, String> {
    // Oldest first, so within a run parents are usually computed before children.
    let todo: Vec<CommitId> = order
        .iter()
        .rev()
        .copied()
        .filter(|id| cached.get(*id).is_none())
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let computed: Vec<(CommitId, Record)> = if threads < 2 || todo.len() < 256 {
        compute(repo, &todo, boundary, settings, printer)?
    } else {
        let size = todo.len().div_ceil(threads);
        let runs = todo
            .chunks(size)
            .map(|run| Ok((run, repo.reopen()?)))
            .collect::<Result<Vec<_>, git::OpenError>>()
            .map_err(|_| "the repository could not be opened again".to_owned())?;
        let results: Vec<Result<Vec<(CommitId, Record)>, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = runs
                .into_iter()
                .map(|(run, repo)| {
                    scope.spawn(move || {
                        let mut printer = Printer::new(&settings.ignore);
                        compute(&repo, run, boundary, settings, &mut printer)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("a history thread failed".to_owned()))
                })
                .collect()
        });
        let mut all = Vec::with_capacity(todo.len());
        for r in results {
            all.extend(r?);
        }
        all
    };
    for (id, record) in computed {
        cached.insert(id, Arc::new(record));
    }
    order
        .iter()
        .map(|id| {
            cached
                .get(*id)
                .ok_or_else(|| format!("commit {} was not read", id.hex()))
        })
        .collect()
}

/// Computes the records of `run` (oldest first).
fn compute(
    repo: &Repo,
    run: &[CommitId],
    boundary: &HashSet<CommitId>,
    settings: &Settings,
    printer: &mut Printer,
) -> Result<Vec<(CommitId, Record)>, String> {
    let mut trees: HashMap<CommitId, ObjectId> = HashMap::new();
    let mut blobs = BlobMemo::default();
    let mut out = Vec::with_capacity(run.len());
    for &id in run {
        let meta = repo.commit(id)?;
        trees.insert(id, meta.tree);
        let is_boundary = boundary.contains(&id);
        let parents: &[CommitId] = if is_boundary { &[] } else { &meta.parents };
        let mut deltas = Vec::with_capacity(parents.len().max(1));
        if parents.is_empty() {
            deltas.push(delta(repo, None, meta.tree, settings, printer, &mut blobs)?);
        }
        for p in parents {
            let tree = match trees.get(p) {
                Some(t) => *t,
                None => {
                    let t = repo.commit(*p)?.tree;
                    trees.insert(*p, t);
                    t
                }
            };
            deltas.push(delta(
                repo,
                Some(tree),
                meta.tree,
                settings,
                printer,
                &mut blobs,
            )?);
        }
        out.push((
            id,
            Record {
                commit: CommitInfo::from_meta(&meta),
                boundary: is_boundary,
                changes: combine(deltas),
                trailers: trailers::parse(&meta.message, &settings.trailer_names),
                approval: trailers::approval(&meta.message),
            },
        ));
    }
    Ok(out)
}

/// Piece lists by blob, bounded so a long history does not hold every file version.
#[derive(Default)]
struct BlobMemo(HashMap<ObjectId, fingerprint::FilePieces>);

const BLOB_MEMO_LIMIT: usize = 50_000;

fn blob_pieces(
    repo: &Repo,
    path: &str,
    blob: ObjectId,
    printer: &mut Printer,
    memo: &mut BlobMemo,
) -> Result<fingerprint::FilePieces, String> {
    if let Some(p) = memo.0.get(&blob) {
        return Ok(p.clone());
    }
    let pieces = repo.with_blob(blob, |bytes| printer.pieces(path, bytes))?;
    if memo.0.len() >= BLOB_MEMO_LIMIT {
        memo.0.clear();
    }
    memo.0.insert(blob, pieces.clone());
    Ok(pieces)
}

/// Old and new prints, (full, sig), of the items that differ between two trees.
type Delta = HashMap<Arc<str>, (Option<(Print, Print)>, Option<(Print, Print)>)>;

/// Compares two trees item by item. Pieces (items' texts) present on both sides cancel
/// out, also across files (an item moved to another file), so only the few pieces a
/// commit really changed are looked at.
fn delta(
    repo: &Repo,
    old: Option<ObjectId>,
    new: ObjectId,
    settings: &Settings,
    printer: &mut Printer,
    memo: &mut BlobMemo,
) -> Result<Delta, String> {
    let files = repo.changed_files(old, new, &settings.scopes)?;
    let mut before: Vec<Print> = Vec::new();
    let mut after: Vec<Print> = Vec::new();
    for f in &files {
        if let Some(b) = f.old {
            before.extend(blob_pieces(repo, &f.path, b, printer, memo)?.iter());
        }
        if let Some(b) = f.new {
            after.extend(blob_pieces(repo, &f.path, b, printer, memo)?.iter());
        }
    }
    before.sort_unstable();
    after.sort_unstable();
    // Multiset difference of two sorted lists.
    let (mut gone, mut came) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < after.len() {
        match (before.get(i), after.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                gone.push(*a);
                i += 1;
            }
            (Some(a), None) => {
                gone.push(*a);
                i += 1;
            }
            (_, Some(b)) => {
                came.push(*b);
                j += 1;
            }
            (None, None) => break,
        }
    }
    let side = |pieces: &[Print]| -> HashMap<Arc<str>, (Print, Print)> {
        let mut m = HashMap::new();
        for p in pieces {
            for it in printer.items(*p) {
                m.entry(it.id.clone()).or_insert((it.full, it.sig));
            }
        }
        m
    };
    let (b, a) = (side(&gone), side(&came));
    let mut out = Delta::new();
    for (id, old) in &b {
        let new = a.get(id).copied();
        if new.map(|n| n.0) != Some(old.0) {
            out.insert(id.clone(), (Some(*old), new));
        }
    }
    for (id, new) in a {
        if !b.contains_key(&id) {
            out.insert(id, (None, Some(new)));
        }
    }
    Ok(out)
}

/// An item changed in a commit when it differs from every parent (a merge that takes
/// one side's version changed nothing itself; the change belongs to that side).
fn combine(deltas: Vec<Delta>) -> Vec<ItemChange> {
    let mut iter = deltas.into_iter();
    let Some(first) = iter.next() else {
        return Vec::new();
    };
    let rest: Vec<Delta> = iter.collect();
    let mut out: Vec<ItemChange> = first
        .into_iter()
        .filter(|(id, _)| rest.iter().all(|d| d.contains_key(id)))
        .map(|(id, (old, new))| {
            let olds: Vec<Option<(Print, Print)>> = std::iter::once(old)
                .chain(rest.iter().map(|d| d[&id].0))
                .collect();
            let kind = match new {
                None => ChangeKind::Removed,
                Some(_) if olds.iter().all(Option::is_none) => ChangeKind::Added,
                Some(_) => ChangeKind::Modified,
            };
            let significant = olds.iter().all(|o| o.map(|o| o.1) != new.map(|n| n.1));
            ItemChange {
                id: id.to_string(),
                kind,
                significant,
            }
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Builds per-item histories from the records (newest first) and reports trailers that
/// name unknown ids.
fn assemble(
    history: &mut History,
    records: Vec<Arc<Record>>,
    project: &Linked,
    config: &crate::config::Config,
    diags: &mut Vec<Diagnostic>,
) {
    history.head = records.first().map(|r| r.commit.clone());
    let known = |id: &str| project.graph.get(id).is_some();
    history.commits.reserve(records.len());
    for (i, r) in records.into_iter().enumerate() {
        let r = Arc::try_unwrap(r).unwrap_or_else(|shared| (*shared).clone());
        if r.boundary {
            history.boundary.push(r.commit.clone());
        }
        if r.approval.iter().any(|t| t.name == trailers::APPROVED) {
            history.approval_commits.push((i, r.approval.clone()));
        }
        for c in &r.changes {
            let h = match history.items.get_mut(&c.id) {
                Some(h) => h,
                None => history.items.entry(c.id.clone()).or_default(),
            };
            h.changes.push(Change {
                commit: i,
                kind: c.kind,
                significant: c.significant,
            });
            if r.boundary && c.kind == ChangeKind::Added {
                h.incomplete = true;
            }
        }
        // A commit none of whose trailer ids this project knows is taken to be about
        // another design file in the same repository (a monorepo): its ids are not
        // typos of ours. Unknown ids next to known ones are reported.
        let ours = r.trailers.iter().flat_map(|t| &t.ids).any(|id| known(id));
        for t in &r.trailers {
            for id in &t.ids {
                if !known(id) && !ours {
                    continue;
                }
                if !known(id) {
                    let mut d = Diagnostic::new(
                        code::TRAILER_UNKNOWN_ID,
                        format!(
                            "commit {} ({}, {}) has trailer `{}: {id}`, but no item has the id `{id}`",
                            r.commit.short,
                            r.commit.day(),
                            r.commit.author,
                            t.name
                        ),
                    )
                    .help("fix the id in a later commit's trailer; commit messages cannot be edited without rewriting history");
                    if let Some(best) =
                        crate::diag::did_you_mean(id, project.items.iter().map(|it| it.id.as_str()))
                    {
                        d = d.help(format!("did you mean `{best}`?"));
                    }
                    diags.push(d);
                    continue;
                }
                let h = history.items.entry(id.clone()).or_default();
                if t.name == config.review_trailer {
                    h.reviews.push(i);
                } else {
                    h.links.push(CommitLink {
                        commit: i,
                        trailer: t.name.clone(),
                    });
                }
            }
        }
        history.commits.push(r.commit);
    }
}

/// Marks items whose work-tree text differs from HEAD. Files whose bytes equal the
/// committed blob are skipped without parsing; only edited files are compared item by
/// item.
fn mark_uncommitted(
    history: &mut History,
    project: &Linked,
    repo: &Repo,
    head: Option<CommitId>,
    settings: &Settings,
    printer: &mut Printer,
) {
    let committed: HashMap<String, ObjectId> = match head {
        Some(h) => repo
            .files(h, &settings.scopes)
            .unwrap_or_default()
            .into_iter()
            .collect(),
        None => HashMap::new(),
    };
    // Work-tree files that hold items, by project path.
    let mut files: BTreeMap<crate::source::FileId, Vec<usize>> = BTreeMap::new();
    for (i, item) in project.items.iter().enumerate() {
        let file = match item.home {
            Home::File(f) => f,
            Home::Chapter { chapter, .. } => match project.chapters.get(chapter) {
                Some(c) => c.file,
                None => continue,
            },
        };
        files.entry(file).or_default().push(i);
    }
    let mut memo = BlobMemo::default();
    for (file, items) in files {
        let source = project.sources.get(file);
        let repo_path = repo.repo_dir(&source.path).join("/");
        let head_blob = committed.get(&repo_path).copied();
        if head_blob == Some(Repo::hash_blob(source.text.as_bytes())) {
            continue;
        }
        let head_prints: Vec<ItemPrint> = match head_blob {
            Some(b) => match blob_pieces(repo, &repo_path, b, printer, &mut memo) {
                Ok(pieces) => pieces
                    .iter()
                    .flat_map(|p| printer.items(*p).iter().cloned())
                    .collect(),
                Err(_) => Vec::new(),
            },
            None => Vec::new(),
        };
        for i in items {
            let item = &project.items[i];
            let (full, sig) = fingerprint::print_fields(&item.fields, &settings.ignore);
            let before = head_prints.iter().find(|p| *p.id == *item.id);
            let state = match before {
                Some(p) if p.full == full => None,
                Some(p) => Some(Uncommitted::Modified {
                    significant: p.sig != sig,
                }),
                None => {
                    let in_head = history
                        .items
                        .get(&item.id)
                        .and_then(|h| h.changes.first())
                        .is_some_and(|c| c.kind != ChangeKind::Removed);
                    // An item in HEAD but not in this file's HEAD version moved here.
                    (!in_head).then_some(Uncommitted::New)
                }
            };
            if let Some(s) = state {
                history
                    .items
                    .entry(item.id.clone())
                    .or_default()
                    .uncommitted = Some(s);
            }
        }
    }
}
