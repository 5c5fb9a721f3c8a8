//! Suspect links: `D -> U` is suspect when `U` changed after `D` was last changed or
//! confirmed with a `Reviewed: D` trailer.
//!
//! "After" is by commit ancestry, not by clock: `U`'s change counts as seen by `D` when
//! the commit of the change is an ancestor of (or is) a commit that changed or reviewed
//! `D`. Clocks lie (rebases, wrong time zones, parallel branches); ancestry does not.

use std::collections::HashMap;

use super::{ChangeKind, History, Uncommitted};
use crate::diag::{code, Diagnostic};
use crate::linked::Linked;

/// A link whose target changed after the linking item was last changed or reviewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspect {
    /// The linking item (`D`) and the linked item (`U`).
    pub from: String,
    pub(crate) to: String,
    /// The link field of `from`.
    pub(crate) field: String,
    /// The commit (index into `History::commits`) that changed `to`; `None` for an
    /// uncommitted edit.
    pub(crate) commit: Option<usize>,
}

/// The commit graph as parent indexes (commits are newest first, so a parent always
/// has a larger index than its child).
struct Dag {
    parents: Vec<Vec<usize>>,
    linear: bool,
    seen: Vec<u32>,
    stamp: u32,
}

impl Dag {
    fn new(history: &History) -> Self {
        let index: HashMap<&str, usize> = history
            .commits
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        let parents: Vec<Vec<usize>> = history
            .commits
            .iter()
            .map(|c| {
                c.parents
                    .iter()
                    .filter_map(|p| index.get(p.as_str()).copied())
                    .collect()
            })
            .collect();
        let linear = parents.iter().all(|p| p.len() <= 1);
        let n = parents.len();
        Dag {
            parents,
            linear,
            seen: vec![0; n],
            stamp: 0,
        }
    }

    /// Whether `a` is `c` or an ancestor of `c`.
    fn is_ancestor(&mut self, a: usize, c: usize) -> bool {
        if a == c {
            return true;
        }
        if a < c {
            return false;
        }
        if self.linear {
            return true;
        }
        self.stamp += 1;
        let mut stack = vec![c];
        while let Some(n) = stack.pop() {
            for &p in &self.parents[n] {
                // Nothing older than `a` in topological order can lead back to it.
                if p == a {
                    return true;
                }
                if p < a && self.seen[p] != self.stamp {
                    self.seen[p] = self.stamp;
                    stack.push(p);
                }
            }
        }
        false
    }
}

pub(super) fn find(
    history: &History,
    project: &Linked,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Suspect> {
    if !history.is_available() {
        return Vec::new();
    }
    let mut dag = Dag::new(history);
    let mut out = Vec::new();
    for link in &project.graph.links {
        let d = &project.items[link.from].id;
        let u = &project.items[link.to].id;
        if d == u {
            continue;
        }
        let (Some(dh), Some(uh)) = (history.items.get(d), history.items.get(u)) else {
            continue;
        };
        let d_edited = matches!(
            dh.uncommitted,
            Some(Uncommitted::Modified { significant: true }) | Some(Uncommitted::New)
        );
        if d_edited {
            // D is being edited now, after every commit.
            continue;
        }
        let u_edited = matches!(
            uh.uncommitted,
            Some(Uncommitted::Modified { significant: true })
        );
        let confirmations: Vec<usize> = dh
            .changes
            .iter()
            .filter(|c| c.significant && c.kind != ChangeKind::Removed)
            .map(|c| c.commit)
            .chain(dh.reviews.iter().copied())
            .collect();
        if confirmations.is_empty() {
            continue;
        }
        let commit = if u_edited {
            None
        } else {
            let Some(last) = uh.changes.iter().find(|c| c.significant) else {
                continue;
            };
            if confirmations
                .iter()
                .any(|&c| dag.is_ancestor(last.commit, c))
            {
                continue;
            }
            Some(last.commit)
        };
        let what = match commit {
            Some(i) => {
                let c = history.commit(i);
                format!(
                    "in commit {} ({}, {}: \"{}\")",
                    c.short,
                    c.day(),
                    c.author,
                    c.subject
                )
            }
            None => "in the work tree (not committed yet)".to_owned(),
        };
        diags.push(
            Diagnostic::new(
                code::SUSPECT_LINK,
                format!("suspect link: `{d}` links to `{u}`, which changed {what} after `{d}` was last changed or reviewed"),
            )
            .at(link.span)
            .item(d.clone())
            .help(format!(
                "check `{d}` against the change to `{u}`; then update `{d}`, or commit with the trailer `{}: {d}`",
                project.config.review_trailer
            )),
        );
        out.push(Suspect {
            from: d.clone(),
            to: u.clone(),
            field: link.field.clone(),
            commit,
        });
    }
    out
}
