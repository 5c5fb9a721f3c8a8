//! The history cache: per-commit [`Record`]s keyed by commit id, plus the walk order for
//! the HEAD it was written at.
//!
//! It lives in the git directory (`.git/mdbook-qms/history-cache`), outside the tracked
//! tree, so it is never committed and survives `git clean`. A commit's record depends
//! only on the commit and the settings (item folders, trailer names, ignored fields), so
//! records stay valid across branch switches; the file carries the tool version and the
//! settings, and any mismatch, corruption or read error simply starts an empty cache.
//!
//! The format is tab-separated lines rather than JSON: a warm build reads the whole file
//! on every `mdbook serve` rebuild, and this parses several times faster.
//!
//! ```text
//! mdbook-qms-history <FORMAT> <tool version>
//! key <settings>
//! head <id> <number of records reachable from head>
//! c <id> <parents,...> <time> <offset> <boundary 0|1> <author> <email> <subject>
//! x <item id> <a|m|r> <significant 0|1>          (a change of the commit above)
//! t <trailer name> <id,...>                       (a trailer of the commit above)
//! a <trailer name> <value,...>                    (an approval trailer of the commit above)
//! ```

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::trailers::Trailer;
use super::{ChangeKind, CommitInfo, ItemChange, Record};
use crate::date::Timestamp;
use crate::git::{CommitId, ObjectId};

/// Bumped whenever [`Record`], the fingerprint or this format changes meaning.
const FORMAT: u32 = 3;
const MAGIC: &str = "mdbook-qms-history";

#[derive(Default)]
pub(crate) struct Cache {
    records: HashMap<CommitId, Arc<Record>>,
    head: Option<CommitId>,
    order: Vec<CommitId>,
}

pub(crate) fn path(git_dir: &Path) -> PathBuf {
    git_dir.join("mdbook-qms").join("history-cache")
}

/// Loads the cache; anything unusable gives an empty one.
pub(crate) fn load(path: &Path, key: &str) -> Cache {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Cache::default();
    };
    parse(&text, key).unwrap_or_default()
}

fn parse(text: &str, key: &str) -> Option<Cache> {
    let mut lines = text.split('\n');
    let mut header = lines.next()?.split('\t');
    if header.next()? != MAGIC
        || header.next()?.parse::<u32>().ok()? != FORMAT
        || header.next()? != env!("CARGO_PKG_VERSION")
    {
        return None;
    }
    let mut k = lines.next()?.splitn(2, '\t');
    if k.next()? != "key" || unescape(k.next()?) != key {
        return None;
    }
    let mut h = lines.next()?.split('\t');
    if h.next()? != "head" {
        return None;
    }
    let head = h.next().and_then(ObjectId::from_hex);
    let reachable: usize = h.next()?.parse().ok()?;
    let mut cache = Cache {
        head,
        ..Cache::default()
    };
    let mut current: Option<Record> = None;
    let finish = |cache: &mut Cache, r: Option<Record>| -> Option<()> {
        if let Some(r) = r {
            let id = ObjectId::from_hex(&r.commit.id)?;
            if cache.order.len() < reachable {
                cache.order.push(id);
            }
            cache.records.insert(id, Arc::new(r));
        }
        Some(())
    };
    let mut complete = false;
    for line in lines {
        let mut f = line.split('\t');
        match f.next()? {
            "c" => {
                finish(&mut cache, current.take())?;
                let id = f.next()?;
                ObjectId::from_hex(id)?;
                let parents: Vec<String> = f
                    .next()?
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect();
                let time: i64 = f.next()?.parse().ok()?;
                let offset_minutes: i32 = f.next()?.parse().ok()?;
                let boundary = f.next()? == "1";
                let author = unescape(f.next()?);
                let email = unescape(f.next()?);
                let subject = unescape(f.next()?);
                current = Some(Record {
                    commit: CommitInfo {
                        id: id.to_owned(),
                        short: id.get(..7)?.to_owned(),
                        time,
                        offset_minutes,
                        date: Timestamp::with_offset(time, offset_minutes).rfc3339(),
                        author,
                        email,
                        subject,
                        parents,
                    },
                    boundary,
                    changes: Vec::new(),
                    trailers: Vec::new(),
                    approval: Vec::new(),
                });
            }
            "x" => {
                let r = current.as_mut()?;
                let id = unescape(f.next()?);
                let kind = match f.next()? {
                    "a" => ChangeKind::Added,
                    "m" => ChangeKind::Modified,
                    "r" => ChangeKind::Removed,
                    _ => return None,
                };
                let significant = f.next()? == "1";
                r.changes.push(ItemChange {
                    id,
                    kind,
                    significant,
                });
            }
            "t" | "a" => {
                let r = current.as_mut()?;
                let name = unescape(f.next()?);
                let ids = f.next()?.split(',').map(unescape).collect();
                let list = if line.starts_with('a') {
                    &mut r.approval
                } else {
                    &mut r.trailers
                };
                list.push(Trailer { name, ids });
            }
            // The last line: a file cut short by a crash has none and is ignored.
            "end" => {
                complete = true;
                break;
            }
            _ => return None,
        }
    }
    finish(&mut cache, current.take())?;
    if !complete
        || cache.order.len() != reachable
        || (reachable > 0 && cache.order.first() != cache.head.as_ref())
    {
        return None;
    }
    Some(cache)
}

impl Cache {
    pub(crate) fn get(&self, id: CommitId) -> Option<Arc<Record>> {
        self.records.get(&id).cloned()
    }

    pub(crate) fn insert(&mut self, id: CommitId, record: Arc<Record>) {
        self.records.insert(id, record);
    }

    /// The walk order for `head` when the cache was written at the same HEAD.
    pub(crate) fn order_for(&self, head: CommitId) -> Option<Vec<CommitId>> {
        (self.head == Some(head) && self.order.iter().all(|id| self.records.contains_key(id)))
            .then(|| self.order.clone())
    }

    pub(crate) fn set_order(&mut self, head: CommitId, order: Vec<CommitId>) {
        self.head = Some(head);
        self.order = order;
    }
}

/// Writes the cache atomically (temporary file, then rename). Records of commits not
/// reachable from HEAD are kept, at most as many as the reachable ones (and at least
/// 1,000), so switching branches back and forth stays fast without the file growing
/// without bound.
pub(crate) fn store(path: &Path, key: &str, cache: &Cache) -> std::io::Result<()> {
    let mut records: Vec<&Arc<Record>> = Vec::with_capacity(cache.records.len());
    let mut in_order = std::collections::HashSet::with_capacity(cache.order.len());
    for id in &cache.order {
        if let Some(r) = cache.records.get(id) {
            records.push(r);
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
    others.sort_by(|a, b| {
        b.commit
            .time
            .cmp(&a.commit.time)
            .then(a.commit.id.cmp(&b.commit.id))
    });
    records.extend(others.into_iter().take(reachable.max(1000)));

    let mut out = String::with_capacity(records.len() * 160);
    use std::fmt::Write as _;
    let _ = writeln!(out, "{MAGIC}\t{FORMAT}\t{}", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(out, "key\t{}", escape(key));
    let head = cache.head.map(|h| h.hex()).unwrap_or_default();
    let _ = writeln!(out, "head\t{head}\t{reachable}");
    for r in records {
        let c = &r.commit;
        let _ = writeln!(
            out,
            "c\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.id,
            c.parents.join(","),
            c.time,
            c.offset_minutes,
            u8::from(r.boundary),
            escape(&c.author),
            escape(&c.email),
            escape(&c.subject)
        );
        for x in &r.changes {
            let kind = match x.kind {
                ChangeKind::Added => 'a',
                ChangeKind::Modified => 'm',
                ChangeKind::Removed => 'r',
            };
            let _ = writeln!(
                out,
                "x\t{}\t{kind}\t{}",
                escape(&x.id),
                u8::from(x.significant)
            );
        }
        for (kind, list) in [("t", &r.trailers), ("a", &r.approval)] {
            for t in list {
                let ids: Vec<String> = t
                    .ids
                    .iter()
                    .map(|i| escape(i).replace(',', "\\c"))
                    .collect();
                let _ = writeln!(out, "{kind}\t{}\t{}", escape(&t.name), ids.join(","));
            }
        }
    }
    out.push_str("end\n");
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".history-cache.{}.tmp", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(out.as_bytes())?;
    }
    std::fs::rename(&tmp, path)
}

/// Tabs, line breaks and backslashes as escapes, so every field stays on its line.
fn escape(s: &str) -> String {
    if !s.contains(['\t', '\n', '\r', '\\']) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 4);
    for ch in s.chars() {
        match ch {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('c') => out.push(','),
            Some(c) => out.push(c),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_with_awkward_text() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        let record = Record {
            commit: CommitInfo {
                id: id.into(),
                short: id[..7].into(),
                time: 1_700_000_000,
                offset_minutes: -90,
                date: Timestamp::with_offset(1_700_000_000, -90).rfc3339(),
                author: "A\tB \\ C".into(),
                email: "a@b".into(),
                subject: "line\nbreak, comma".into(),
                parents: vec![],
            },
            boundary: true,
            changes: vec![ItemChange {
                id: "REQ-1".into(),
                kind: ChangeKind::Removed,
                significant: false,
            }],
            trailers: vec![Trailer {
                name: "Refs".into(),
                ids: vec!["A,B".into(), "C".into()],
            }],
            approval: vec![Trailer {
                name: "Approved".into(),
                ids: vec!["REQ-1".into()],
            }],
        };
        let mut cache = Cache::default();
        let oid = ObjectId::from_hex(id).unwrap();
        cache.insert(oid, Arc::new(record.clone()));
        cache.set_order(oid, vec![oid]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c");
        store(&p, "k\tey", &cache).unwrap();
        let back = load(&p, "k\tey");
        let r = back.get(oid).unwrap();
        assert_eq!(r.commit, record.commit);
        assert_eq!(r.changes, record.changes);
        assert_eq!(r.trailers, record.trailers);
        assert_eq!(r.approval, record.approval);
        assert_eq!(back.order_for(oid), Some(vec![oid]));
        // Another key, or a truncated file, gives an empty cache.
        assert!(load(&p, "other").order_for(oid).is_none());
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.trim_end_matches("end\n")).unwrap();
        assert!(load(&p, "k\tey").order_for(oid).is_none());
    }
}
