//! `mdbook-qms diff BASE [HEAD]`: what changed between two baselines (or a baseline and
//! the work tree), item by item and field by field, and which items downstream of each
//! change must be reviewed or verified again.
//!
//! "Downstream" follows links backwards: when `U` changes, every item that links to `U`
//! (a test that verifies it, a control that implements it, ...) is impacted, and so on
//! transitively. Links are read from the HEAD side, with the link fields of the
//! project's schemas.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{CommitInfo, History, ScanStatus, Settings};
use crate::diag::{code, Diagnostic};
use crate::directive::Kind;
use crate::git::{self, Repo};
use crate::linked::Linked;
use crate::source::{FileId, SourceFile, SourceMap};
use crate::yaml::{self, Origin};

/// One side of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// As given (`v1.0`), or `working tree`.
    pub rev: String,
    /// `None` for the work tree.
    pub commit: Option<CommitInfo>,
}

/// An item named in a diff.
#[derive(Debug, Clone, Serialize)]
pub struct ItemRef {
    /// The item's id.
    pub id: String,
    #[serde(rename = "type")]
    pub(crate) ty: String,
    pub(crate) title: String,
}

/// One field of an item that differs between the two sides.
#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    /// The field's name.
    pub field: String,
    /// `None`: the field is absent on that side.
    pub old: Option<Value>,
    pub(crate) new: Option<Value>,
}

/// An item that must be re-reviewed because something it links to changed.
#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    /// The impacted item's id.
    pub id: String,
    #[serde(rename = "type")]
    pub(crate) ty: String,
    pub(crate) title: String,
    /// The item it links to (the changed item, or one impacted before it) and the field.
    pub via: String,
    pub(crate) field: String,
    /// 1 for a direct link to the changed item.
    pub depth: usize,
}

/// An item on both sides whose fields differ.
#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    /// The item as it is on the head side.
    #[serde(flatten)]
    pub item: ItemRef,
    /// The fields that differ, by name.
    pub fields: Vec<FieldChange>,
    /// Whether a field outside `suspect-ignore` changed; only such changes impact others.
    pub significant: bool,
    /// Items that link to it, directly or through other impacted items.
    pub impacted: Vec<Impact>,
}

/// An item on the base side only.
#[derive(Debug, Clone, Serialize)]
pub struct Removed {
    /// The item as it was on the base side.
    #[serde(flatten)]
    pub item: ItemRef,
    pub(crate) impacted: Vec<Impact>,
}

/// What changed between two revisions of the project, item by item.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// The older side.
    pub base: Side,
    /// The newer side.
    pub head: Side,
    /// Items on the head side only.
    pub added: Vec<ItemRef>,
    /// Items on the base side only.
    pub removed: Vec<Removed>,
    /// Items on both sides whose fields differ.
    pub changed: Vec<Changed>,
}

impl Diff {
    /// Every impacted item once (the shallowest impact), sorted by id.
    pub(crate) fn impacted(&self) -> BTreeMap<&str, &Impact> {
        let mut out: BTreeMap<&str, &Impact> = BTreeMap::new();
        let all = self
            .changed
            .iter()
            .flat_map(|c| &c.impacted)
            .chain(self.removed.iter().flat_map(|r| &r.impacted));
        for i in all {
            let e = out.entry(i.id.as_str()).or_insert(i);
            if i.depth < e.depth {
                *e = i;
            }
        }
        out
    }
}

type Items = BTreeMap<String, Map<String, Value>>;

/// Compares the items at `base` with those at `head` (a revision), or with the work tree
/// when `head` is `None`. Errors are for the user: not a repository, an unknown revision.
pub fn diff(project: &Linked, base: &str, head: Option<&str>) -> Result<Diff, String> {
    let repo = Repo::open_at(&project.config.root, &project.revision).map_err(|e| match e {
        git::OpenError::NotARepository => {
            "the project is not in a git repository, so it has no baselines".to_owned()
        }
        git::OpenError::Other(m) => format!("the git repository could not be read: {m}"),
    })?;
    let settings = Settings::new(project, &repo);
    let side = |rev: &str| -> Result<(Side, Items), String> {
        let id = repo
            .resolve(rev)
            .map_err(|m| format!("`{rev}` names no commit or tag: {m}"))?;
        let meta = repo.commit(id)?;
        let items = items_at(&repo, id, &settings)?;
        Ok((
            Side {
                rev: rev.to_owned(),
                commit: Some(CommitInfo::from_meta(&meta)),
            },
            items,
        ))
    };
    let (base_side, old) = side(base)?;
    let (head_side, new) = match head {
        Some(rev) => side(rev)?,
        None => {
            let mut items = Items::new();
            for it in &project.items {
                items
                    .entry(it.id.clone())
                    .or_insert_with(|| it.fields.clone());
            }
            // Read at a commit (`export --at`), the project's items are that commit's.
            let commit = match &project.revision {
                git::Revision::WorkTree => None,
                git::Revision::Commit { commit, .. } => {
                    Some(CommitInfo::from_meta(&repo.commit(*commit)?))
                }
            };
            let rev = commit
                .as_ref()
                .map_or("working tree".to_owned(), |c| c.short.clone());
            (Side { rev, commit }, items)
        }
    };
    let links = backlinks(project, &new);
    let mut d = Diff {
        base: base_side,
        head: head_side,
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
    };
    for (id, fields) in &new {
        match old.get(id) {
            None => d.added.push(item_ref(id, fields)),
            Some(before) if before != fields => {
                let keys: BTreeSet<&String> = before.keys().chain(fields.keys()).collect();
                let changes: Vec<FieldChange> = keys
                    .into_iter()
                    .filter(|k| before.get(*k) != fields.get(*k))
                    .map(|k| FieldChange {
                        field: k.clone(),
                        old: before.get(k).cloned(),
                        new: fields.get(k).cloned(),
                    })
                    .collect();
                let significant = changes
                    .iter()
                    .any(|c| !project.config.suspect_ignore.contains(&c.field));
                let impacted = if significant {
                    impact(id, &links, &new)
                } else {
                    Vec::new()
                };
                d.changed.push(Changed {
                    item: item_ref(id, fields),
                    fields: changes,
                    significant,
                    impacted,
                });
            }
            Some(_) => {}
        }
    }
    for (id, fields) in &old {
        if !new.contains_key(id) {
            d.removed.push(Removed {
                item: item_ref(id, fields),
                impacted: impact(id, &links, &new),
            });
        }
    }
    Ok(d)
}

fn item_ref(id: &str, fields: &Map<String, Value>) -> ItemRef {
    let s = |k: &str| {
        fields
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    ItemRef {
        id: id.to_owned(),
        ty: s("type"),
        title: s("title"),
    }
}

/// For each id, the items that link to it: (linking id, field).
fn backlinks(project: &Linked, items: &Items) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (id, fields) in items {
        let Some(def) = fields
            .get("type")
            .and_then(Value::as_str)
            .and_then(|t| project.types.get(t))
        else {
            continue;
        };
        for lf in &def.links {
            for t in lf.ids(fields) {
                out.entry(t.to_owned())
                    .or_default()
                    .push((id.clone(), lf.name.clone()));
            }
        }
    }
    for v in out.values_mut() {
        v.sort();
        v.dedup();
    }
    out
}

/// Items downstream of `id`, breadth first, each once.
fn impact(id: &str, links: &BTreeMap<String, Vec<(String, String)>>, items: &Items) -> Vec<Impact> {
    let mut seen: BTreeSet<String> = BTreeSet::from([id.to_owned()]);
    let mut queue = VecDeque::from([(id.to_owned(), 0usize)]);
    let mut out = Vec::new();
    while let Some((target, depth)) = queue.pop_front() {
        for (from, field) in links.get(&target).into_iter().flatten() {
            if !seen.insert(from.clone()) {
                continue;
            }
            let r = items
                .get(from)
                .map(|f| item_ref(from, f))
                .unwrap_or_else(|| ItemRef {
                    id: from.clone(),
                    ty: String::new(),
                    title: String::new(),
                });
            out.push(Impact {
                id: r.id,
                ty: r.ty,
                title: r.title,
                via: target.clone(),
                field: field.clone(),
                depth: depth + 1,
            });
            queue.push_back((from.clone(), depth + 1));
        }
    }
    out
}

/// Every item of a commit, by id (the first definition in path order).
fn items_at(repo: &Repo, commit: git::CommitId, settings: &Settings) -> Result<Items, String> {
    let mut out = Items::new();
    for (path, blob) in repo.files(commit, &settings.scopes)? {
        let bytes = repo.blob(blob)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut sources = SourceMap::default();
        let file = sources.add(PathBuf::from(&path), text);
        let nodes: Vec<yaml::Node> = if path.ends_with(".md") {
            let mut ignored = Vec::new();
            let (_, raw) =
                crate::load::scan_chapter(0, PathBuf::new(), file, &sources, &mut ignored);
            raw.into_iter().map(|r| r.node).collect()
        } else {
            let source: &SourceFile = sources.get(file);
            let origin = Origin {
                file: FileId(file.0),
                source,
                line_offset: 0,
                col_offset: 0,
            };
            match yaml::parse(&source.text, origin) {
                Ok(docs) => docs
                    .into_iter()
                    .flat_map(|d| match d.value {
                        yaml::Value::Seq(list) => list,
                        yaml::Value::Map(_) => vec![d],
                        _ => Vec::new(),
                    })
                    .collect(),
                // A file that did not parse then holds no item we can compare.
                Err(_) => Vec::new(),
            }
        };
        for n in nodes {
            if let Value::Object(fields) = n.to_json() {
                if let Some(id) = fields.get("id").and_then(Value::as_str) {
                    out.entry(id.to_owned()).or_insert(fields);
                }
            }
        }
    }
    Ok(out)
}

/// The diff as plain text for the terminal.
pub fn to_text(d: &Diff) -> String {
    use std::fmt::Write as _;
    let side = |s: &Side| match &s.commit {
        Some(c) => format!("{} ({}, {})", s.rev, c.short, c.day()),
        None => s.rev.clone(),
    };
    let mut out = String::new();
    let _ = writeln!(out, "Changes from {} to {}", side(&d.base), side(&d.head));
    if d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty() {
        out.push_str("\nNo item changed.\n");
        return out;
    }
    for a in &d.added {
        let _ = writeln!(out, "\nadded    {}  {}", a.id, one_line(&a.title));
    }
    for r in &d.removed {
        let _ = writeln!(out, "\nremoved  {}  {}", r.item.id, one_line(&r.item.title));
        impacts_text(&mut out, &r.impacted);
    }
    for c in &d.changed {
        let _ = writeln!(out, "\nchanged  {}  {}", c.item.id, one_line(&c.item.title));
        for f in &c.fields {
            let _ = writeln!(
                out,
                "    {}: {} -> {}",
                f.field,
                value_text(&f.old),
                value_text(&f.new)
            );
        }
        impacts_text(&mut out, &c.impacted);
    }
    let _ = writeln!(
        out,
        "\n{} added, {} removed, {} changed, {} impacted",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        d.impacted().len()
    );
    out
}

fn impacts_text(out: &mut String, impacts: &[Impact]) {
    use std::fmt::Write as _;
    for i in impacts {
        let _ = writeln!(
            out,
            "    impacts {}  {} (`{}` -> {})",
            i.id,
            one_line(&i.title),
            i.field,
            i.via
        );
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A field value on one line, shortened.
pub(crate) fn value_text(v: &Option<Value>) -> String {
    let Some(v) = v else {
        return "(absent)".into();
    };
    let s = match v {
        Value::String(s) => format!("{:?}", one_line(s)),
        other => other.to_string(),
    };
    if s.chars().count() > 72 {
        let cut: String = s.chars().take(69).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// The diff as JSON (`--format json`).
pub fn to_json(d: &Diff) -> Value {
    serde_json::to_value(d).unwrap_or(Value::Null)
}

/// Output format of `mdbook-qms diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    /// A summary for reading in a terminal.
    Human,
    /// The [`Diff`] as JSON.
    Json,
}
crate::choice::impl_choice!(pub DiffFormat { Human => "human", Json => "json" });

/// The `{{#qms changes BASE}}` comparisons, by BASE, each computed once for the
/// renderer. A BASE git cannot read is reported (when there is history to read it from).
pub(crate) fn baselines(
    project: &Linked,
    history: &History,
    found: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Result<Diff, String>> {
    let mut diffs = BTreeMap::new();
    for chapter in &project.chapters {
        for d in chapter
            .directives
            .iter()
            .filter(|d| d.kind == Kind::Changes)
        {
            let base = &d.args[0].text;
            let diff = diffs
                .entry(base.clone())
                .or_insert_with(|| match &history.status {
                    ScanStatus::Unavailable(reason) => Err(reason.clone()),
                    ScanStatus::Ready => diff(project, base, None),
                });
            // Without history there is nothing to check; `history-unavailable` says why.
            let (Err(e), true) = (&*diff, history.is_available()) else {
                continue;
            };
            let names: Vec<&str> = history.baselines.iter().map(|b| b.name.as_str()).collect();
            let mut diag =
                Diagnostic::new(code::CHANGES_UNKNOWN_BASE, e.clone()).at(d.args[0].span);
            if !names.is_empty() {
                diag = diag.help(format!("baselines: {}", names.join(", ")));
            }
            found.push(diag);
        }
    }
    diffs
}
