//! Markdown for the history directives and item cards. Commit subjects, author names and
//! item titles come from users and commit messages, so every such text goes through
//! `escape_markdown`: a subject like `[x](javascript:...)` or `<script>` shows as
//! written and never becomes a link or markup.

use std::fmt::Write as _;

use crate::history::diff::{value_text, Diff, Impact};
use crate::history::{ChangeKind, CommitInfo, History, ScanStatus, Uncommitted};
use crate::html::escape_markdown;

fn commit_cell(c: &CommitInfo) -> String {
    format!(
        "<code title=\"{}\">{}</code>",
        escape_markdown(&c.id),
        escape_markdown(&c.short)
    )
}

/// One line for an item card: created, last changed, authors, uncommitted edits.
pub fn history_compact(history: &History, id: &str) -> String {
    if let ScanStatus::Unavailable(_) = history.status {
        return String::new();
    }
    let Some(h) = history.item(id) else {
        return String::new();
    };
    let mut parts = Vec::new();
    if let Some(c) = history.created(id) {
        let word = if h.incomplete {
            "First seen"
        } else {
            "Created"
        };
        parts.push(format!(
            "{word} {} by {} ({})",
            c.day(),
            escape_markdown(&c.author),
            commit_cell(c)
        ));
    }
    if h.changes.len() > 1 {
        if let Some(c) = history.last_changed(id) {
            parts.push(format!(
                "last changed {} by {} ({})",
                c.day(),
                escape_markdown(&c.author),
                commit_cell(c)
            ));
        }
        parts.push(format!("{} changes", h.changes.len()));
    }
    if !h.links.is_empty() {
        parts.push(format!(
            "{} linked commit{}",
            h.links.len(),
            if h.links.len() == 1 { "" } else { "s" }
        ));
    }
    match h.uncommitted {
        Some(Uncommitted::New) => parts.push("**not committed yet**".into()),
        Some(Uncommitted::Modified { .. }) => parts.push("**uncommitted edits**".into()),
        None => {}
    }
    if h.incomplete {
        parts.push("history incomplete (shallow clone)".into());
    }
    parts.join(" · ")
}

/// The full history of an item (`{{#qms history ID}}`).
pub fn history_markdown(history: &History, id: &str) -> String {
    let mut out = String::new();
    if let ScanStatus::Unavailable(reason) = &history.status {
        let _ = writeln!(
            out,
            "> History of `{}` is unavailable: {}.",
            escape_markdown(id),
            escape_markdown(reason)
        );
        return out;
    }
    let empty = Default::default();
    let h = history.item(id).unwrap_or(&empty);
    let authors = history.authors(id);
    if let Some(c) = history.created(id) {
        let word = if h.incomplete {
            "First seen"
        } else {
            "Created"
        };
        let _ = writeln!(
            out,
            "- **{word}:** {} by {} ({})",
            c.day(),
            escape_markdown(&c.author),
            commit_cell(c)
        );
    }
    if let Some(c) = history.last_changed(id) {
        let _ = writeln!(
            out,
            "- **Last changed:** {} by {} ({})",
            c.day(),
            escape_markdown(&c.author),
            commit_cell(c)
        );
    }
    if !authors.is_empty() {
        let list: Vec<String> = authors.iter().map(|a| escape_markdown(a)).collect();
        let _ = writeln!(out, "- **Authors:** {}", list.join(", "));
    }
    match h.uncommitted {
        Some(Uncommitted::New) => {
            out.push_str("- **Uncommitted:** the item is not in any commit yet\n")
        }
        Some(Uncommitted::Modified { .. }) => {
            out.push_str("- **Uncommitted:** the work tree has edits not committed yet\n")
        }
        None => {}
    }
    if h.incomplete {
        out.push_str(
            "- **Incomplete:** the repository is a shallow clone; older changes are not shown\n",
        );
    }
    if h.changes.is_empty() && h.links.is_empty() {
        if h.uncommitted.is_none() {
            let _ = writeln!(out, "\nNo commit changed `{}`.", escape_markdown(id));
        }
        return out;
    }
    if !h.changes.is_empty() {
        out.push_str("\n| Commit | Date | Author | Change | Subject |\n|---|---|---|---|---|\n");
        for c in &h.changes {
            let ci = history.commit(c.commit);
            let kind = match (c.kind, c.significant) {
                (ChangeKind::Modified, false) => "modified (status/tags)".to_owned(),
                (k, _) => k.as_str().to_owned(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                commit_cell(ci),
                ci.day(),
                escape_markdown(&ci.author),
                kind,
                escape_markdown(&ci.subject)
            );
        }
    }
    if !h.links.is_empty() || !h.reviews.is_empty() {
        out.push_str("\n| Commit | Date | Author | Trailer | Subject |\n|---|---|---|---|---|\n");
        let reviews = h.reviews.iter().map(|&c| (c, "Reviewed".to_owned()));
        let mut rows: Vec<(usize, String)> = h
            .links
            .iter()
            .map(|l| (l.commit, l.trailer.clone()))
            .chain(reviews)
            .collect();
        rows.sort();
        for (c, trailer) in rows {
            let ci = history.commit(c);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                commit_cell(ci),
                ci.day(),
                escape_markdown(&ci.author),
                escape_markdown(&trailer),
                escape_markdown(&ci.subject)
            );
        }
    }
    out
}

/// What changed since a baseline (`{{#qms changes BASE}}`).
pub fn changes_markdown(diff: &Diff) -> String {
    let mut out = String::new();
    let side = |s: &crate::history::diff::Side| match &s.commit {
        Some(c) => format!(
            "`{}` ({}, {})",
            escape_markdown(&s.rev),
            commit_cell(c),
            c.day()
        ),
        None => escape_markdown(&s.rev),
    };
    let _ = writeln!(
        out,
        "Changes from {} to {}.\n",
        side(&diff.base),
        side(&diff.head)
    );
    if diff.added.is_empty() && diff.removed.is_empty() && diff.changed.is_empty() {
        out.push_str("No item changed.\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{} added, {} removed, {} changed, {} impacted.\n",
        diff.added.len(),
        diff.removed.len(),
        diff.changed.len(),
        diff.impacted().len()
    );
    out.push_str("| Item | Title | Change | Impacted |\n|---|---|---|---|\n");
    let impacted = |list: &[Impact]| -> String {
        list.iter()
            .map(|i| format!("`{}`", escape_markdown(&i.id)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for a in &diff.added {
        let _ = writeln!(
            out,
            "| `{}` | {} | added | |",
            escape_markdown(&a.id),
            escape_markdown(&a.title)
        );
    }
    for r in &diff.removed {
        let _ = writeln!(
            out,
            "| `{}` | {} | removed | {} |",
            escape_markdown(&r.item.id),
            escape_markdown(&r.item.title),
            impacted(&r.impacted)
        );
    }
    for c in &diff.changed {
        let fields: Vec<String> = c
            .fields
            .iter()
            .map(|f| {
                format!(
                    "{}: {} → {}",
                    escape_markdown(&f.field),
                    escape_markdown(&value_text(&f.old)),
                    escape_markdown(&value_text(&f.new))
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            escape_markdown(&c.item.id),
            escape_markdown(&c.item.title),
            fields.join("<br>"),
            impacted(&c.impacted)
        );
    }
    out
}
