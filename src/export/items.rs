//! `items.json`: every item with its fields, links both ways, history and verification
//! status, in natural id order. Its JSON Schema (`items.schema.json`) ships in the bundle.

use serde_json::{json, Map, Value};

use crate::history::Uncommitted;
use crate::model::Home;
use crate::project::Project;
use crate::source::display_path;
use crate::text::natural_cmp;

/// The schema of `items.json`, written next to it.
pub(crate) const SCHEMA: &str = include_str!("items.schema.json");

/// The `items.json` document.
pub(crate) fn document(project: &Project) -> Value {
    let mut order: Vec<usize> = (0..project.items.len()).collect();
    // Stable: a duplicated id (only with `--allow-errors`) keeps its load order.
    order.sort_by(|&a, &b| natural_cmp(&project.items[a].id, &project.items[b].id));
    let mut used_commits = vec![false; project.history.commits.len()];
    let items: Vec<Value> = order
        .into_iter()
        .map(|i| item(project, i, &mut used_commits))
        .collect();
    // Each commit once, newest first; items refer to them by id.
    let commits: Vec<Value> = project
        .history
        .commits
        .iter()
        .zip(&used_commits)
        .filter(|(_, used)| **used)
        .map(|(c, _)| {
            json!({
                "id": c.id,
                "date": c.date,
                "author": c.author,
                "email": c.email,
                "subject": c.subject,
            })
        })
        .collect();
    json!({
        "format": "mdbook-qms-items/1",
        "items": items,
        "commits": commits,
    })
}

fn item(project: &Project, i: usize, used_commits: &mut [bool]) -> Value {
    let item = &project.items[i];
    let (file, span) = match item.home {
        Home::File(f) => (f, item.node.span),
        Home::Chapter { chapter, block } => (project.chapters[chapter].file, block),
    };
    let source = project.sources.get(file);
    let line = source.line_col(span.start).0;
    let primary = project.graph.get(&item.id) == Some(i);
    let suspect = |to: &str, field: &str| {
        project
            .history
            .suspects
            .iter()
            .any(|s| s.from == item.id && s.to == to && s.field == field)
    };
    let mut out_links = Vec::new();
    let mut in_links = Vec::new();
    if primary {
        for l in project.graph.out(i) {
            let to = &project.items[l.to];
            out_links.push(json!({"field": l.field, "id": to.id, "type": to.ty, "suspect": suspect(&to.id, &l.field)}));
        }
        for l in project.graph.inc(i) {
            let from = &project.items[l.from];
            in_links.push(json!({"field": l.field, "id": from.id, "type": from.ty}));
        }
    }
    let by_link = |a: &Value, b: &Value| {
        (a["field"].as_str(), a["id"].as_str().map(IdKey))
            .cmp(&(b["field"].as_str(), b["id"].as_str().map(IdKey)))
    };
    out_links.sort_by(by_link);
    in_links.sort_by(by_link);
    let mut value = json!({
        "id": item.id,
        "type": item.ty,
        "title": item.title,
        "status": item.status(),
        "source": {"file": display_path(&source.path), "line": line},
        "fields": Value::Object(item.fields.clone()),
        "links": {"out": out_links, "in": in_links},
        "history": history(project, &item.id, used_commits),
        "verification": verification(project, &item.id),
    });
    if !primary {
        value["duplicate"] = Value::Bool(true);
    }
    value
}

/// Orders ids naturally (REQ-2 before REQ-10) inside a tuple comparison.
#[derive(PartialEq, Eq)]
struct IdKey<'a>(&'a str);

impl PartialOrd for IdKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for IdKey<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        natural_cmp(self.0, other.0)
    }
}

fn history(project: &Project, id: &str, used_commits: &mut [bool]) -> Value {
    let history = &project.history;
    if !history.is_available() {
        return Value::Null;
    }
    let Some(h) = history.item(id) else {
        return json!({"changes": [], "commits": [], "reviews": [], "uncommitted": null, "incomplete": false});
    };
    let mut commit = |index: usize| {
        used_commits[index] = true;
        Value::String(history.commit(index).id.clone())
    };
    let changes: Vec<Value> = h
        .changes
        .iter()
        .map(|c| {
            json!({
                "commit": commit(c.commit),
                "kind": c.kind.as_str(),
                "significant": c.significant,
            })
        })
        .collect();
    let commits: Vec<Value> = h
        .links
        .iter()
        .map(|l| json!({"commit": commit(l.commit), "trailer": l.trailer}))
        .collect();
    let reviews: Vec<Value> = h.reviews.iter().map(|&r| commit(r)).collect();
    let uncommitted = match h.uncommitted {
        None => Value::Null,
        Some(Uncommitted::New) => json!("new"),
        Some(Uncommitted::Modified { .. }) => json!("modified"),
    };
    json!({
        "changes": changes,
        "commits": commits,
        "reviews": reviews,
        "uncommitted": uncommitted,
        "incomplete": h.incomplete,
    })
}

fn verification(project: &Project, id: &str) -> Value {
    let Some(v) = project.evidence.verification(id) else {
        return Value::Null;
    };
    let results: Vec<Value> = v
        .cases
        .iter()
        .map(|&c| {
            let case = &project.traces.cases[c];
            let mut r = Map::new();
            r.insert("name".into(), json!(case.full_names()[0]));
            r.insert(
                "file".into(),
                json!(display_path(&project.sources.get(case.file).path)),
            );
            r.insert("outcome".into(), json!(case.outcome.as_str()));
            if let Some(m) = &case.message {
                r.insert("message".into(), json!(m));
            }
            Value::Object(r)
        })
        .collect();
    json!({"status": v.status.as_str(), "detail": v.detail, "results": results})
}
