//! Stage 3, link: index items by id and resolve every link field and directive.
//!
//! Which fields are links, and which types they may point to, comes from the schemas
//! (see `schema`), so a user's type takes part without code here.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::config::SafetyFile;
use crate::diag::{a, code, did_you_mean, Diagnostic, Diagnostics};
use crate::directive::{ArgKind, Directive, Kind};
use crate::model::{Chapter, Home, Item};
use crate::schema::{LinkField, Types};
use crate::source::Span;
use crate::yaml::{Node, Value};

/// One resolved link: `from` names `to` in its field `field`.
#[derive(Debug, Clone)]
pub struct Link {
    pub from: usize,
    pub to: usize,
    pub field: String,
    /// Where the target id is written.
    pub(crate) span: Span,
}

/// All resolved links, with per-item adjacency (indexes into `links`).
#[derive(Debug, Default)]
pub struct Graph {
    pub(crate) links: Vec<Link>,
    pub(crate) outgoing: Vec<Vec<usize>>,
    pub(crate) incoming: Vec<Vec<usize>>,
    /// Item index by id (the first definition when an id is duplicated).
    pub(crate) index: HashMap<String, usize>,
    /// Component item index by purl, so links to components may name a purl.
    pub(crate) purls: HashMap<String, usize>,
}

impl Graph {
    pub fn get(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Outgoing links of an item.
    pub fn out(&self, item: usize) -> impl Iterator<Item = &Link> {
        self.outgoing[item].iter().map(|&l| &self.links[l])
    }

    /// Incoming links of an item.
    pub fn inc(&self, item: usize) -> impl Iterator<Item = &Link> {
        self.incoming[item].iter().map(|&l| &self.links[l])
    }
}

/// Builds the link graph and reports duplicate ids, dangling and wrongly typed links,
/// parent cycles and directives that name unknown ids or types.
pub(crate) fn link(
    items: &[Item],
    chapters: &[Chapter],
    types: &Types,
    safety_file: Option<&SafetyFile>,
    diags: &mut Diagnostics,
) -> Graph {
    let mut graph = Graph {
        outgoing: vec![Vec::new(); items.len()],
        incoming: vec![Vec::new(); items.len()],
        ..Graph::default()
    };
    graph.index.reserve(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(&first) = graph.index.get(&item.id) {
            diags.push(
                Diagnostic::new(code::DUPLICATE_ID, format!("duplicate id `{}`", item.id))
                    .at(item.span_of("id"))
                    .item(&item.id)
                    .related(items[first].span_of("id"), "first defined here")
                    .help("ids must be unique in the book; `mdbook-qms new TYPE` picks the next free one"),
            );
            continue;
        }
        graph.index.insert(item.id.clone(), i);
        if let Some(purl) = item.text("purl") {
            graph.purls.entry(purl.to_owned()).or_insert(i);
        }
        // A component synthesized from an SBOM entry without purl is known by its bom-ref.
        if let Some(r) = item
            .fields
            .get("attributes")
            .and_then(|a| a.get("bom-ref"))
            .and_then(|r| r.as_str())
        {
            if item.ty == "component" {
                graph.purls.entry(r.to_owned()).or_insert(i);
            }
        }
    }

    // Each item's links are resolved in parallel (reading the index only), then merged in
    // item order, so links and diagnostics come out exactly as a serial pass makes them.
    let resolved: Vec<Resolved> = items
        .par_iter()
        .enumerate()
        .flat_map_iter(|(from, item)| resolve_links(from, item, items, types, safety_file, &graph))
        .collect();
    // Ids of items that were written but dropped by validation (no or unknown type): a
    // link to one would only repeat that error as "no item has".
    let dropped: std::collections::HashSet<String> = diags
        .0
        .iter()
        .filter(|d| d.severity == crate::diag::Severity::Error)
        .filter_map(|d| d.item.clone())
        .filter(|id| !graph.index.contains_key(id))
        .collect();
    let hints = suggestions(&resolved, &graph.index);
    graph.links.reserve(resolved.len());
    for r in resolved {
        match r {
            Resolved::Link(link) => {
                let l = graph.links.len();
                graph.outgoing[link.from].push(l);
                graph.incoming[link.to].push(l);
                graph.links.push(link);
            }
            Resolved::Problem(d) => diags.push(*d),
            Resolved::Unknown(_, id) if dropped.contains(id) => {}
            Resolved::Unknown(d, id) => {
                let mut d = *d;
                if let Some(Some(s)) = hints.get(id) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                diags.push(d);
            }
        }
    }
    report_parent_cycles(items, &graph, diags);
    report_deep_nesting(items, &graph, diags);
    check_directives(items, chapters, types, &graph, &dropped, diags);
    graph
}

/// What one link target of an item came to. Diagnostics are boxed: they are rare, and
/// this keeps the list of (mostly) links small.
enum Resolved<'a> {
    Link(Link),
    Problem(Box<Diagnostic>),
    /// A link to no item; the "did you mean" hint is added once every such id is known.
    Unknown(Box<Diagnostic>, &'a str),
}

/// Resolves the link fields of item `from` against the id index.
fn resolve_links<'a>(
    from: usize,
    item: &'a Item,
    items: &[Item],
    types: &Types,
    safety_file: Option<&SafetyFile>,
    graph: &Graph,
) -> Vec<Resolved<'a>> {
    let mut out = Vec::new();
    if graph.index.get(&item.id) != Some(&from) {
        return out;
    }
    let Some(def) = types.get(&item.ty) else {
        return out;
    };
    for field in &def.links {
        for target in field_values(&item.node, &field.path)
            .into_iter()
            .flat_map(link_targets)
        {
            let Some(id) = target.as_str() else { continue };
            let to = graph.get(id).or_else(|| {
                field
                    .targets
                    .iter()
                    .any(|t| t == "component")
                    .then(|| graph.purls.get(id).copied())
                    .flatten()
            });
            let Some(to) = to else {
                if is_external_hazard(field, safety_file, id) {
                    continue;
                }
                let d = Diagnostic::new(
                    code::LINK_UNKNOWN,
                    format!("`{}` links to `{id}`, which no item has", field.name),
                )
                .at(target.span)
                .item(&item.id);
                out.push(Resolved::Unknown(Box::new(d), id));
                continue;
            };
            if to == from {
                out.push(Resolved::Problem(Box::new(
                    Diagnostic::new(
                        code::LINK_SELF,
                        format!("`{}` links {id} to itself", field.name),
                    )
                    .at(target.span)
                    .item(&item.id),
                )));
                continue;
            }
            let target_type = &items[to].ty;
            if !field.targets.iter().any(|t| t == target_type) {
                out.push(Resolved::Problem(Box::new(
                    Diagnostic::new(
                        code::LINK_WRONG_TYPE,
                        format!(
                            "`{}` of a {} must name a {}, but `{id}` is a {target_type}",
                            field.name,
                            item.ty,
                            field.targets.join(" or ")
                        ),
                    )
                    .at(target.span)
                    .item(&item.id)
                    .related(items[to].span_of("type"), format!("{id} is defined here")),
                )));
                continue;
            }
            out.push(Resolved::Link(Link {
                from,
                to,
                field: field.name.clone(),
                span: target.span,
            }));
        }
    }
    out
}

/// Whether `id`, which no item has, is a hazard of the external safety risk file that
/// `field` may name: such a link is kept as the id alone (documents show it as a
/// reference into that file), not reported as broken.
pub(crate) fn is_external_hazard(
    field: &LinkField,
    safety_file: Option<&SafetyFile>,
    id: &str,
) -> bool {
    field.targets.iter().any(|t| t == "hazard")
        && safety_file.is_some_and(|f| f.ids.iter().any(|p| crate::evidence::glob_match(p, id)))
}

/// "Did you mean" hints for the ids that no item has, each computed once. Comparing an id
/// with every known id is the one per-error cost that grows with the project, so the ids
/// are compared in parallel chunks, and in sorted order so that ties resolve the same way
/// on every run (a HashMap's order changes between runs).
fn suggestions<'a>(
    resolved: &[Resolved<'a>],
    index: &HashMap<String, usize>,
) -> HashMap<&'a str, Option<String>> {
    let mut wanted: Vec<&str> = resolved
        .iter()
        .filter_map(|r| match r {
            Resolved::Unknown(_, id) => Some(*id),
            _ => None,
        })
        .collect();
    if wanted.is_empty() {
        return HashMap::new();
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut known: Vec<&str> = index.keys().map(String::as_str).collect();
    known.sort_unstable();
    wanted
        .par_iter()
        .map(|&id| {
            // The best of each chunk's best is the best overall: did_you_mean's ties do
            // not depend on the order of the candidates.
            let winners: Vec<&str> = known
                .par_chunks(2048)
                .filter_map(|chunk| did_you_mean(id, chunk.iter().copied()))
                .collect();
            (id, did_you_mean(id, winners).map(str::to_owned))
        })
        .collect()
}

/// The values at a field's path in an item: the field itself, or the named field of each
/// object a list (or an object) on the way holds.
fn field_values<'a>(node: &'a Node, path: &[String]) -> Vec<&'a Node> {
    let mut values = vec![node];
    for part in path {
        values = values
            .into_iter()
            .flat_map(|v| match &v.value {
                Value::Seq(list) => list.iter().collect(),
                _ => vec![v],
            })
            .filter_map(|v| v.get(part).map(|(_, value)| value))
            .collect();
    }
    values
}

/// The ids in a link field: one string or a list of strings (other shapes were already
/// reported by the schema).
fn link_targets(value: &Node) -> Vec<&Node> {
    match &value.value {
        Value::String(_) => vec![value],
        Value::Seq(list) => list.iter().filter(|n| n.as_str().is_some()).collect(),
        _ => Vec::new(),
    }
}

/// Reports each cycle of `parent` links once, at the link that closes it.
fn report_parent_cycles(items: &[Item], graph: &Graph, diags: &mut Diagnostics) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnPath,
        Done,
    }
    let parents = |i: usize| graph.out(i).filter(|l| l.field == "parent");
    let mut state = vec![State::New; items.len()];
    for start in 0..items.len() {
        if state[start] != State::New {
            continue;
        }
        // Iterative depth-first walk; `path` holds (item, link index being followed).
        let mut path: Vec<(usize, Vec<&Link>)> = vec![(start, parents(start).collect())];
        state[start] = State::OnPath;
        while let Some((node, pending)) = path.last_mut() {
            let node = *node;
            match pending.pop() {
                Some(link) => match state[link.to] {
                    State::New => {
                        state[link.to] = State::OnPath;
                        path.push((link.to, parents(link.to).collect()));
                    }
                    State::OnPath => {
                        let cycle_start = path.iter().position(|(n, _)| *n == link.to).unwrap_or(0);
                        let mut ids: Vec<&str> = path[cycle_start..]
                            .iter()
                            .map(|(n, _)| items[*n].id.as_str())
                            .collect();
                        ids.push(&items[link.to].id);
                        diags.push(
                            Diagnostic::new(
                                code::PARENT_CYCLE,
                                format!("`parent` links form a cycle: {}", ids.join(" -> ")),
                            )
                            .at(link.span)
                            .item(&items[node].id)
                            .help("a parent chain must end at an item without `parent`"),
                        );
                    }
                    State::Done => {}
                },
                None => {
                    state[node] = State::Done;
                    path.pop();
                }
            }
        }
    }
}

/// The deepest level of a `parent` hierarchy the ReqIF export nests. XML readers limit
/// nesting (libxml2, which lxml and many requirement tools use, to 256 elements), and
/// each level takes two elements; deeper items are placed at this level, with a
/// `reqif-depth-limit` warning.
pub(crate) const REQIF_MAX_DEPTH: usize = 100;

/// An item's parent in the hierarchy of its type: its first `parent` link to an item of
/// the same type.
pub(crate) fn same_type_parent(items: &[Item], graph: &Graph, i: usize) -> Option<usize> {
    graph
        .out(i)
        .find(|l| l.field == "parent" && items[l.to].ty == items[i].ty)
        .map(|l| l.to)
}

/// Each item's level in the `parent` hierarchy of its type: 1 for an item without a
/// parent of its type, one more than its parent's otherwise, and 0 when its parent chain
/// runs into a cycle (reported as `parent-cycle`). Each chain is walked once, so a
/// chain as long as the project costs no more than a flat one.
pub(crate) fn parent_levels(items: &[Item], graph: &Graph) -> Vec<usize> {
    const UNKNOWN: usize = usize::MAX;
    const ON_PATH: usize = usize::MAX - 1;
    let mut level = vec![UNKNOWN; items.len()];
    let mut path = Vec::new();
    for start in 0..items.len() {
        path.clear();
        let mut at = start;
        // Up the chain to an item whose level is known (None: it runs into a cycle).
        let above = loop {
            match level[at] {
                UNKNOWN => {}
                ON_PATH | 0 => break None,
                known => break Some(known),
            }
            level[at] = ON_PATH;
            path.push(at);
            match same_type_parent(items, graph, at) {
                Some(p) => at = p,
                None => break Some(0),
            }
        };
        let mut next = above;
        for &i in path.iter().rev() {
            next = next.map(|l| l + 1);
            level[i] = next.unwrap_or(0);
        }
    }
    level
}

/// Warns about each item the ReqIF export cannot nest as deep as its `parent` chain
/// goes: one warning per item just past the limit, counting the items under it.
fn report_deep_nesting(items: &[Item], graph: &Graph, diags: &mut Diagnostics) {
    let levels = parent_levels(items, graph);
    let mut deep: Vec<usize> = (0..items.len())
        .filter(|&i| levels[i] > REQIF_MAX_DEPTH)
        .collect();
    if deep.is_empty() {
        return;
    }
    // Parents before children, so each item finds the one past the limit above it.
    deep.sort_by_key(|&i| levels[i]);
    let mut first_past: HashMap<usize, usize> = HashMap::new();
    let mut under: HashMap<usize, usize> = HashMap::new();
    for &i in &deep {
        let top = match same_type_parent(items, graph, i) {
            Some(p) if levels[i] > REQIF_MAX_DEPTH + 1 => first_past.get(&p).copied().unwrap_or(i),
            _ => i,
        };
        first_past.insert(i, top);
        if top != i {
            *under.entry(top).or_default() += 1;
        }
    }
    deep.sort_unstable();
    for i in deep
        .into_iter()
        .filter(|&i| levels[i] == REQIF_MAX_DEPTH + 1 && graph.get(&items[i].id) == Some(i))
    {
        let id = &items[i].id;
        let placed = match under.get(&i) {
            Some(n) => format!("{id} and the {n} items under it"),
            None => id.clone(),
        };
        diags.push(
            Diagnostic::new(
                code::REQIF_DEPTH_LIMIT,
                format!(
                    "{id} is {} levels deep in the `parent` hierarchy; the ReqIF export nests at most {REQIF_MAX_DEPTH} levels, so it places {placed} at level {REQIF_MAX_DEPTH}",
                    REQIF_MAX_DEPTH + 1
                ),
            )
            .at(items[i].span_of("parent"))
            .item(id)
            .help("requirement tools and XML readers limit nesting; a flatter hierarchy is exported as written"),
        );
    }
}

/// Directive arguments that name ids or types must name existing ones; an item is placed
/// in the book at most once.
fn check_directives(
    items: &[Item],
    chapters: &[Chapter],
    types: &Types,
    graph: &Graph,
    dropped: &std::collections::HashSet<String>,
    diags: &mut Diagnostics,
) {
    let mut placed: HashMap<usize, Span> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Home::Chapter { block, .. } = item.home {
            if graph.get(&item.id) == Some(i) {
                placed.insert(i, block);
            }
        }
    }
    for chapter in chapters {
        for d in &chapter.directives {
            for (arg, kind) in d.args.iter().zip(d.kind.spec().args) {
                match kind {
                    ArgKind::Id => match graph.get(&arg.text) {
                        None if dropped.contains(&arg.text) => {}
                        None => {
                            let mut diag = Diagnostic::new(
                                code::DIRECTIVE_UNKNOWN_ID,
                                format!("`{}` names `{}`, which no item has", d.kind, arg.text),
                            )
                            .at(arg.span);
                            if let Some(s) =
                                did_you_mean(&arg.text, graph.index.keys().map(String::as_str))
                            {
                                diag = diag.help(format!("did you mean `{s}`?"));
                            }
                            diags.push(diag);
                        }
                        Some(i) if d.kind == Kind::Item => {
                            if let Some(first) = placed.insert(i, d.span) {
                                diags.push(
                                    Diagnostic::new(
                                        code::ITEM_PLACED_TWICE,
                                        format!("{} is already placed in the book", arg.text),
                                    )
                                    .at(d.span)
                                    .item(&arg.text)
                                    .related(first, "placed here first")
                                    .help(format!(
                                        "use {{{{#qms ref {}}}}} to link to it instead",
                                        arg.text
                                    )),
                                );
                            }
                        }
                        Some(_) => {}
                    },
                    ArgKind::Type => {
                        if types.get(&arg.text).is_none() {
                            let mut diag = Diagnostic::new(
                                code::DIRECTIVE_UNKNOWN_TYPE,
                                format!(
                                    "`{}` names type `{}`, which no schema defines",
                                    d.kind, arg.text
                                ),
                            )
                            .at(arg.span);
                            diag = match did_you_mean(&arg.text, types.names()) {
                                Some(s) => diag.help(format!("did you mean `{s}`?")),
                                None => diag.help(format!(
                                    "types: {}",
                                    types.names().collect::<Vec<_>>().join(", ")
                                )),
                            };
                            diags.push(diag);
                        }
                    }
                    ArgKind::Word => {}
                }
            }
            check_directive_fields(d, types, diags);
        }
    }
}

/// `table` filters and columns, and `matrix via=`, must name fields the types have.
fn check_directive_fields(d: &Directive, types: &Types, diags: &mut Diagnostics) {
    let Some(def) = d.args.first().and_then(|a| types.get(&a.text)) else {
        return;
    };
    let unknown = |name: &str, span: Span, known: &[&str]| {
        let mut diag = Diagnostic::new(
            code::DIRECTIVE_UNKNOWN_FIELD,
            format!(
                "`{}` names field `{name}`, which {} does not have",
                d.kind,
                a(&def.name)
            ),
        )
        .at(span);
        diag = match did_you_mean(name, known.iter().copied()) {
            Some(s) => diag.help(format!("did you mean `{s}`?")),
            None => diag.help(format!("fields: {}", known.join(", "))),
        };
        diag
    };
    let fields: Vec<&str> = def.fields.iter().map(String::as_str).collect();
    match d.kind {
        Kind::Table => {
            for (key, value) in &d.options {
                match key.text.as_str() {
                    "status" | "tag" => {}
                    "columns" => {
                        let mut offset = value.span.start;
                        for column in value.text.split(',') {
                            let span = Span {
                                file: value.span.file,
                                start: offset,
                                end: offset + column.len(),
                            };
                            offset += column.len() + 1;
                            if !column.is_empty() && !fields.contains(&column) {
                                diags.push(unknown(column, span, &fields));
                            }
                        }
                    }
                    field if !fields.contains(&field) => {
                        diags.push(unknown(field, key.span, &fields))
                    }
                    _ => {}
                }
            }
        }
        Kind::Matrix => {
            let Some((key, via)) = d.options.iter().find(|(k, _)| k.text == "via") else {
                return;
            };
            let link_fields: Vec<&str> = d
                .args
                .iter()
                .filter_map(|a| types.get(&a.text))
                .flat_map(|t| t.links.iter().map(|l| l.name.as_str()))
                .collect();
            if !link_fields.contains(&via.text.as_str()) {
                let mut diag = Diagnostic::new(
                    code::DIRECTIVE_UNKNOWN_FIELD,
                    format!(
                        "`via={}`: neither type has a link field `{}`",
                        via.text, via.text
                    ),
                )
                .at(Span {
                    file: key.span.file,
                    start: key.span.start,
                    end: via.span.end,
                });
                diag = diag.help(format!("link fields: {}", link_fields.join(", ")));
                diags.push(diag);
            }
        }
        Kind::Ref
        | Kind::Item
        | Kind::History
        | Kind::Changes
        | Kind::Dfd
        | Kind::Heatmap
        | Kind::Stride
        | Kind::Results
        | Kind::Sbom
        | Kind::Document
        | Kind::Metrics
        | Kind::Downloads => {}
    }
}

/// With generated chapters off, an item that no chapter places has no page: links to
/// it cannot work, so each one is reported.
pub(crate) fn report_unplaced(
    items: &[Item],
    chapters: &[Chapter],
    graph: &Graph,
    diags: &mut Diagnostics,
) {
    let mut placed = vec![false; items.len()];
    for (i, item) in items.iter().enumerate() {
        placed[i] = matches!(item.home, Home::Chapter { .. });
    }
    for chapter in chapters {
        for d in chapter.directives.iter().filter(|d| d.kind == Kind::Item) {
            if let Some(i) = d.args.first().and_then(|a| graph.get(&a.text)) {
                placed[i] = true;
            }
        }
    }
    for (i, item) in items.iter().enumerate() {
        if !placed[i] && graph.get(&item.id) == Some(i) {
            diags.push(
                Diagnostic::new(
                    code::ITEM_UNPLACED,
                    format!("{} is placed in no chapter", item.id),
                )
                .at(item.span_of("id"))
                .item(&item.id)
                .help(format!(
                    "add {{{{#qms item {}}}}} to a chapter, or set generated-chapters = true",
                    item.id
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two known ids equally close to an unknown one: the hint is the alphabetically
    /// first, as in every other "did you mean" (link's own rule once gave the last).
    #[test]
    fn unknown_id_hints_break_ties_like_did_you_mean() {
        let index: HashMap<String, usize> = [("REQ-3".to_owned(), 0), ("REQ-1".to_owned(), 1)]
            .into_iter()
            .collect();
        let unknown = Diagnostic::new(code::LINK_UNKNOWN, "`parent` links to `REQ-2`");
        let resolved = [Resolved::Unknown(Box::new(unknown), "REQ-2")];
        let hints = suggestions(&resolved, &index);
        assert_eq!(hints["REQ-2"].as_deref(), Some("REQ-1"));
    }
}
