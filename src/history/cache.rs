//! The history cache: per-commit [`Record`]s keyed by commit id, plus the walk order for
//! the HEAD it was written at.
//!
//! It lives in the git directory (`.git/mdbook-qms/history.json`), outside the tracked
//! tree, so it is never committed and survives `git clean`. A commit's record depends
//! only on the commit and the settings (item folders, trailer names, ignored fields), so
//! records stay valid across branch switches; the file carries the tool version and the
//! settings, and any mismatch, corruption or read error simply starts an empty cache.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::git::{CommitId, ObjectId};
use super::Record;

/// Bumped whenever [`Record`] or the fingerprint changes meaning.
const FORMAT: u32 = 1;

#[derive(Default)]
pub struct Cache {
    records: HashMap<CommitId, Arc<Record>>,
    head: Option<CommitId>,
    order: Vec<CommitId>,
}

#[derive(Serialize, Deserialize)]
struct File {
    format: u32,
    tool: String,
    key: String,
    head: Option<String>,
    /// Records reachable from `head`, newest first, then others kept for other branches.
    records: Vec<Record>,
    reachable: usize,
}

pub fn path(git_dir: &Path) -> PathBuf {
    git_dir.join("mdbook-qms").join("history.json")
}

/// Loads the cache; anything unusable gives an empty one.
pub fn load(path: &Path, key: &str) -> Cache {
    let Ok(bytes) = std::fs::read(path) else {
        return Cache::default();
    };
    let Ok(file) = serde_json::from_slice::<File>(&bytes) else {
        return Cache::default();
    };
    if file.format != FORMAT || file.tool != env!("CARGO_PKG_VERSION") || file.key != key {
        return Cache::default();
    }
    let mut cache = Cache::default();
    for (i, r) in file.records.into_iter().enumerate() {
        let Some(id) = ObjectId::from_hex(&r.commit.id) else {
            return Cache::default();
        };
        if i < file.reachable {
            cache.order.push(id);
        }
        cache.records.insert(id, Arc::new(r));
    }
    cache.head = file.head.as_deref().and_then(ObjectId::from_hex);
    if cache.head.is_some() && cache.order.first() != cache.head.as_ref() {
        return Cache::default();
    }
    cache
}

impl Cache {
    pub fn get(&self, id: CommitId) -> Option<Arc<Record>> {
        self.records.get(&id).cloned()
    }

    pub fn insert(&mut self, id: CommitId, record: Arc<Record>) {
        self.records.insert(id, record);
    }

    /// The walk order for `head` when the cache was written at the same HEAD.
    pub fn order_for(&self, head: CommitId) -> Option<Vec<CommitId>> {
        (self.head == Some(head) && self.order.iter().all(|id| self.records.contains_key(id)))
            .then(|| self.order.clone())
    }

    pub fn set_order(&mut self, head: CommitId, order: Vec<CommitId>) {
        self.head = Some(head);
        self.order = order;
    }
}

/// Writes the cache atomically (temporary file, then rename). Records of commits not
/// reachable from HEAD are kept, at most as many as the reachable ones, so switching
/// branches back and forth stays fast without the file growing without bound.
pub fn store(path: &Path, key: &str, cache: &Cache, order: &[CommitId]) -> std::io::Result<()> {
    let mut records: Vec<Record> = Vec::with_capacity(cache.records.len());
    let mut in_order = std::collections::HashSet::with_capacity(order.len());
    for id in order {
        if let Some(r) = cache.records.get(id) {
            records.push((**r).clone());
            in_order.insert(*id);
        }
    }
    let reachable = records.len();
    let mut others: Vec<&Arc<Record>> = cache
        .records
        .iter()
        .filter(|(id, _)| !in_order.contains(*id))
        .map(|(_, r)| r)
        .collect();
    others.sort_by(|a, b| b.commit.time.cmp(&a.commit.time).then(a.commit.id.cmp(&b.commit.id)));
    records.extend(others.into_iter().take(reachable.max(1000)).map(|r| (**r).clone()));
    let file = File {
        format: FORMAT,
        tool: env!("CARGO_PKG_VERSION").to_owned(),
        key: key.to_owned(),
        head: cache.head.map(|h| h.hex()),
        records,
        reachable,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".history.json.{}.tmp", std::process::id()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        serde_json::to_writer(&mut f, &file)?;
        f.flush()?;
    }
    std::fs::rename(&tmp, path)
}
