//! `{{#qms dfd [zone=ZONE]}}`: the data-flow diagram as inline SVG; the documents'
//! `dfd()` template function draws it too, also restricted to what a view `shows`.
//!
//! Laid out here, deterministically and without JavaScript or fonts from the network:
//! each trust zone is a dashed box holding its assets and, below them, its child zones;
//! flows are numbered arrows between the assets, explained in a legend under the
//! picture. Every zone, asset and flow links to its card.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use crate::directive::Directive;
use crate::html::escape;
use crate::page::Page;
use crate::project::Project;
use crate::risk::checks::{ends, out, zone_of};

const NODE_W: f64 = 178.0;
const NODE_H: f64 = 58.0;
/// Between nodes: wide enough for an arrow and its number badge.
const GAP_X: f64 = 64.0;
const GAP_Y: f64 = 52.0;
/// Between zones side by side.
const GAP: f64 = 36.0;
const PAD: f64 = 16.0;
const HEAD: f64 = 30.0;
const MARGIN: f64 = 8.0;
/// Content wider than this wraps onto a new row: mdBook's text column (750px) less
/// the margins, so the picture fits the page at full size. Wider (deeply nested zones)
/// scales down to the column.
const MAX_W: f64 = 734.0;
/// Characters per title line in a node.
const LINE: usize = 25;

const STYLE: &str = crate::page::css::DFD;

/// A box in the layout: a zone, or a group of assets with no zone (or outside the scope).
struct Block {
    /// The zone item, or the group's label.
    what: BlockKind,
    w: f64,
    h: f64,
    /// Assets, at positions relative to the block.
    nodes: Vec<(usize, f64, f64)>,
    /// Child zones, at positions relative to the block.
    subs: Vec<(Block, f64, f64)>,
}

enum BlockKind {
    Zone(usize),
    Group(String),
}

/// The diagram of the whole project, or of one zone and what it talks to.
pub(crate) fn render(page: &Page<'_>, d: &Directive) -> String {
    let scope = d.option("zone").and_then(|z| page.project.graph.get(z));
    svg(page, scope)
}

/// The diagram of the whole project (`scope` none), or of one zone and what it talks to.
pub(crate) fn svg(page: &Page<'_>, scope: Option<usize>) -> String {
    draw(page, scope, None)
}

/// The part of the diagram a view shows (`Selection::of`): what is drawn, and what the
/// view names that the picture has no shape for (controls, data), listed under it.
pub(crate) struct Selection {
    /// Names the picture: its title, and its arrowhead's id (unique on a page).
    name: String,
    key: String,
    zones: BTreeSet<usize>,
    assets: BTreeSet<usize>,
    flows: BTreeSet<usize>,
    also: Vec<usize>,
}

impl Selection {
    /// What the items `shows` draw: an asset is a box; a flow an arrow, with the boxes
    /// at its ends; a zone a boundary with everything inside it (its assets, its child
    /// zones, and the flows between two of them). Each box is drawn in its zone, inside
    /// the zones that hold that one. Controls and data assets have no shape: they are
    /// listed under the picture. `key` tells two pictures on a page apart.
    pub(crate) fn of(project: &Project, name: &str, key: &str, shows: &[usize]) -> Selection {
        let items = &project.items;
        let live = |i: usize| project.is_primary(i) && items[i].status() != "obsolete";
        let is_box = |i: usize| items[i].ty == "asset" && items[i].text("kind") != Some("data");
        // A zone's parent chain, itself first (bounded: `link` reports parent cycles).
        let chain = |z: usize| {
            let mut out = vec![z];
            while let Some(p) =
                crate::link::same_type_parent(items, &project.graph, out[out.len() - 1])
            {
                if out.contains(&p) || !live(p) {
                    break;
                }
                out.push(p);
            }
            out
        };
        let mut sel = Selection {
            name: name.to_owned(),
            key: key.to_owned(),
            zones: BTreeSet::new(),
            assets: BTreeSet::new(),
            flows: BTreeSet::new(),
            also: Vec::new(),
        };
        let mut shown_zones = BTreeSet::new();
        for &i in shows.iter().filter(|&&i| live(i)) {
            match items[i].ty.as_str() {
                "zone" => {
                    shown_zones.insert(i);
                }
                "flow" => {
                    sel.flows.insert(i);
                    if let Some((a, b)) = ends(project, i) {
                        sel.assets
                            .extend([a, b].into_iter().filter(|&x| is_box(x) && live(x)));
                    }
                }
                _ if is_box(i) => {
                    sel.assets.insert(i);
                }
                _ if !sel.also.contains(&i) => sel.also.push(i),
                _ => {}
            }
        }
        if !shown_zones.is_empty() {
            let inside = |z: usize| chain(z).iter().any(|c| shown_zones.contains(c));
            let contained: BTreeSet<usize> = (0..items.len())
                .filter(|&a| live(a) && is_box(a))
                .filter(|&a| zone_of(project, a).is_some_and(inside))
                .collect();
            sel.flows.extend((0..items.len()).filter(|&f| {
                live(f)
                    && items[f].ty == "flow"
                    && ends(project, f)
                        .is_some_and(|(a, b)| contained.contains(&a) && contained.contains(&b))
            }));
            sel.zones.extend(
                (0..items.len()).filter(|&z| live(z) && items[z].ty == "zone" && inside(z)),
            );
            sel.assets.extend(contained);
        }
        let around: Vec<usize> = sel
            .assets
            .iter()
            .filter_map(|&a| zone_of(project, a))
            .chain(shown_zones)
            .filter(|&z| live(z))
            .flat_map(chain)
            .collect();
        sel.zones.extend(around);
        sel
    }
}

/// The diagram of what a view shows.
pub(crate) fn view_svg(page: &Page<'_>, selection: &Selection) -> String {
    draw(page, None, Some(selection))
}

/// The diagram of the whole project, of zone `scope`, or of a view's `selection`.
fn draw(page: &Page<'_>, scope: Option<usize>, selection: Option<&Selection>) -> String {
    let project = page.project;
    let items = &project.items;
    let live = |i: usize| project.is_primary(i) && items[i].status() != "obsolete";
    let chosen = |set: fn(&Selection) -> &BTreeSet<usize>, i: usize| {
        selection.is_none_or(|s| set(s).contains(&i))
    };
    let zones: Vec<usize> = (0..items.len())
        .filter(|&i| live(i) && items[i].ty == "zone" && chosen(|s| &s.zones, i))
        .collect();
    let drawn_in = enclosing_zones(project, &zones);
    let parent = |z: usize| drawn_in.get(&z).copied();
    let mut children: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut roots = Vec::new();
    for &z in &zones {
        match parent(z) {
            Some(p) => children.entry(p).or_default().push(z),
            None => roots.push(z),
        }
    }
    let in_scope = |z: usize| match scope {
        None => true,
        Some(s) => {
            let mut at = Some(z);
            let mut steps = 0;
            while let Some(x) = at {
                if x == s {
                    return true;
                }
                steps += 1;
                if steps > zones.len() {
                    break;
                }
                at = parent(x);
            }
            false
        }
    };

    // Assets drawn as nodes: everything but the data that flows carry.
    let elements: Vec<usize> = (0..items.len())
        .filter(|&i| live(i) && items[i].ty == "asset" && items[i].text("kind") != Some("data"))
        .filter(|&i| chosen(|s| &s.assets, i))
        .collect();
    let mut by_zone: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut unzoned = Vec::new();
    for &a in &elements {
        match zone_of(project, a).filter(|z| zones.contains(z)) {
            Some(z) => by_zone.entry(z).or_default().push(a),
            None => unzoned.push(a),
        }
    }
    let drawn_inside = |a: usize| match zone_of(project, a).filter(|z| zones.contains(z)) {
        Some(z) => in_scope(z),
        None => scope.is_none(),
    };
    let flows: Vec<(usize, usize, usize)> = (0..items.len())
        .filter(|&i| live(i) && items[i].ty == "flow" && chosen(|s| &s.flows, i))
        .filter_map(|f| ends(project, f).map(|(a, b)| (f, a, b)))
        .filter(|&(_, a, b)| a != b && elements.contains(&a) && elements.contains(&b))
        .filter(|&(_, a, b)| drawn_inside(a) || drawn_inside(b))
        .collect();

    let mut outside: Vec<usize> = Vec::new();
    if scope.is_some() {
        for &(_, a, b) in &flows {
            for x in [a, b] {
                if !drawn_inside(x) && !outside.contains(&x) {
                    outside.push(x);
                }
            }
        }
        outside.sort_unstable();
    }
    let layout = |by_zone: &BTreeMap<usize, Vec<usize>>, unzoned: &[usize], outside: &[usize]| {
        let mut top: Vec<Block> = Vec::new();
        match scope {
            None => {
                for &r in &roots {
                    top.push(zone_block(r, &children, by_zone, MAX_W, project));
                }
                if !unzoned.is_empty() {
                    top.push(group_block("No trust zone".into(), unzoned, MAX_W));
                }
            }
            Some(s) => {
                top.push(zone_block(s, &children, by_zone, MAX_W, project));
                if !outside.is_empty() {
                    top.push(group_block(
                        format!("Outside {}", items[s].id),
                        outside,
                        MAX_W,
                    ));
                }
            }
        }
        if top.is_empty() {
            return None;
        }
        // A scoped diagram puts what lies outside the zone in a row of its own below it.
        let row_w = if scope.is_some() { 0.0 } else { MAX_W };
        let (placed, total_w, total_h) = shelf(top, row_w, GAP);
        // Absolute node positions (top-left corners).
        let mut node_at: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
        let (mut body, mut nodes) = (String::new(), String::new());
        for (block, x, y) in &placed {
            draw_block(
                page,
                block,
                MARGIN + x,
                MARGIN + y,
                &mut body,
                &mut nodes,
                &mut node_at,
            );
        }
        Some((
            body,
            nodes,
            node_at,
            total_w + 2.0 * MARGIN,
            total_h + 2.0 * MARGIN,
        ))
    };
    let Some((_, _, first, _, _)) = layout(&by_zone, &unzoned, &outside) else {
        return format!(
            "<p class=\"qms-dfd-empty\"><em>No trust zones or assets to draw.</em></p>{}\n",
            selection.map_or(String::new(), |s| also_shown(page, s, &[]))
        );
    };
    // Second pass: in each box, the assets with the most flows pick first among the
    // box's slots, each the free slot nearest the centre of what it talks to, which
    // shortens arrows and keeps them off other boxes.
    let reorder = |list: &mut Vec<usize>| {
        // Boxes outside a scoped diagram were not drawn: nothing to reorder.
        let Some(slots) = list
            .iter()
            .map(|a| first.get(a).copied())
            .collect::<Option<Vec<(f64, f64)>>>()
        else {
            return;
        };
        let neighbours = |a: usize| -> Vec<(f64, f64)> {
            flows
                .iter()
                .filter_map(|&(_, x, y)| {
                    if x == a {
                        Some(y)
                    } else if y == a {
                        Some(x)
                    } else {
                        None
                    }
                })
                .filter_map(|n| first.get(&n).copied())
                .collect()
        };
        let mut by_degree: Vec<(usize, usize)> =
            list.iter().enumerate().map(|(k, &a)| (k, a)).collect();
        by_degree.sort_by_key(|&(k, a)| (std::cmp::Reverse(neighbours(a).len()), k));
        let mut taken: Vec<Option<usize>> = vec![None; slots.len()];
        for (k, a) in by_degree {
            let ns = neighbours(a);
            let target = if ns.is_empty() {
                slots[k]
            } else {
                // Halfway between its first slot and its neighbours' centre: a pull,
                // not a jump, so one busy asset does not drag its box apart.
                let n = ns.len() as f64;
                (
                    (slots[k].0 + ns.iter().map(|p| p.0).sum::<f64>() / n) / 2.0,
                    (slots[k].1 + ns.iter().map(|p| p.1).sum::<f64>() / n) / 2.0,
                )
            };
            let best = (0..slots.len())
                .filter(|&i| taken[i].is_none())
                .min_by(|&i, &j| {
                    let d = |i: usize| {
                        (slots[i].0 - target.0).powi(2) + (slots[i].1 - target.1).powi(2)
                    };
                    d(i).total_cmp(&d(j)).then(i.cmp(&j))
                })
                .unwrap_or(k);
            taken[best] = Some(a);
        }
        *list = taken.into_iter().flatten().collect();
    };
    for list in by_zone.values_mut() {
        reorder(list);
    }
    reorder(&mut unzoned);
    reorder(&mut outside);
    let Some((body, nodes, node_at, width, height)) = layout(&by_zone, &unzoned, &outside) else {
        return String::new();
    };

    // Flows: parallel and opposite flows between two assets bow apart.
    let mut pairs: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    for (n, &(_, a, b)) in flows.iter().enumerate() {
        pairs.entry((a.min(b), a.max(b))).or_default().push(n);
    }
    let marker = format!(
        "qms-dfd-arrow-{}",
        match (selection, scope) {
            (Some(sel), _) => format!("view-{}", sel.key.to_lowercase()),
            (None, Some(s)) => items[s].id.to_lowercase(),
            (None, None) => "all".to_owned(),
        }
    );
    let mut edges = String::new();
    let mut badges = String::new();
    // Where the number badges already are, so two never overlap.
    let mut badges_at: Vec<(f64, f64)> = Vec::new();
    for (n, &(f, a, b)) in flows.iter().enumerate() {
        let (Some(&pa), Some(&pb)) = (node_at.get(&a), node_at.get(&b)) else {
            continue;
        };
        let group = &pairs[&(a.min(b), a.max(b))];
        let k = group.iter().position(|&x| x == n).unwrap_or(0) as f64;
        let bow = (k - (group.len() as f64 - 1.0) / 2.0) * 36.0;
        let c0 = (pa.0 + NODE_W / 2.0, pa.1 + NODE_H / 2.0);
        let c1 = (pb.0 + NODE_W / 2.0, pb.1 + NODE_H / 2.0);
        // The normal of the pair's canonical direction, so a reverse flow bows the other way.
        let (lo, hi) = if a < b { (c0, c1) } else { (c1, c0) };
        let (dx, dy) = (hi.0 - lo.0, hi.1 - lo.1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (nx, ny) = (-dy / len, dx / len);
        let mid = ((c0.0 + c1.0) / 2.0, (c0.1 + c1.1) / 2.0);
        // Bend the arrow further, first one way then the other, until it clears the
        // other nodes (the first bend that does; the straightest if none does).
        let others: Vec<(f64, f64)> = node_at
            .iter()
            .filter(|(&k, _)| k != a && k != b)
            .map(|(_, &p)| p)
            .collect();
        let sign = if bow < 0.0 { -1.0 } else { 1.0 };
        // The drawn curve runs between the node borders, towards the control point.
        let curve = |ctrl: (f64, f64)| (clip(c0, ctrl, 0.0), ctrl, clip(c1, ctrl, 3.0));
        let (start, ctrl, end) = [0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 4.0, -4.0]
            .iter()
            .map(|k| bow * 2.0 + sign * k * 60.0)
            .map(|b| curve((mid.0 + nx * b, mid.1 + ny * b)))
            .find(|&(s, c, e)| {
                let badge = (
                    0.25 * s.0 + 0.5 * c.0 + 0.25 * e.0,
                    0.25 * s.1 + 0.5 * c.1 + 0.25 * e.1,
                );
                inside(s, c, e, width, height)
                    && !others.iter().any(|&o| hits(s, c, e, o))
                    && !badges_at
                        .iter()
                        .any(|&(x, y): &(f64, f64)| (x - badge.0).hypot(y - badge.1) < 24.0)
            })
            .unwrap_or_else(|| curve((mid.0 + nx * bow * 2.0, mid.1 + ny * bow * 2.0)));
        // The number sits mid-curve, or, where the curve runs behind a box, at the
        // nearest point of it that is clear of every box.
        let at = |t: f64| {
            let u = 1.0 - t;
            (
                u * u * start.0 + 2.0 * u * t * ctrl.0 + t * t * end.0,
                u * u * start.1 + 2.0 * u * t * ctrl.1 + t * t * end.1,
            )
        };
        let clear = |p: (f64, f64)| {
            node_at.values().all(|n| {
                p.0 < n.0 - 10.0
                    || p.0 > n.0 + NODE_W + 10.0
                    || p.1 < n.1 - 10.0
                    || p.1 > n.1 + NODE_H + 10.0
            })
        };
        let label = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.15, 0.85]
            .into_iter()
            .map(at)
            .find(|&p| clear(p))
            .unwrap_or_else(|| at(0.5));
        badges_at.push(label);
        let item = &items[f];
        let tip = format!("{}: {}", item.id, item.title);
        let href = page.item_url(f);
        let path = format!(
            r#"<path d="M{} {} Q{} {} {} {}" marker-end="url(#{marker})"/>"#,
            num(start.0),
            num(start.1),
            num(ctrl.0),
            num(ctrl.1),
            num(end.0),
            num(end.1)
        );
        let _ = write!(
            edges,
            "{}<title>{}</title>{path}{}",
            open_link(&href, "qms-dfd-flow", &item.id),
            escape(&tip),
            close_link(&href)
        );
        let _ = write!(
            badges,
            r#"{}<title>{}</title><circle cx="{}" cy="{}" r="9"/><text x="{}" y="{}" text-anchor="middle">{}</text>{}"#,
            open_link(&href, "qms-dfd-flow qms-dfd-badge", &item.id),
            escape(&tip),
            num(label.0),
            num(label.1),
            num(label.0),
            num(label.1 + 3.5),
            n + 1,
            close_link(&href)
        );
    }

    let title = match (selection, scope) {
        (Some(sel), _) => format!("Data-flow diagram of {}", sel.name),
        (None, Some(s)) => format!("Data-flow diagram of {}", items[s].title),
        (None, None) => "Data-flow diagram".to_owned(),
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"{STYLE}<div class="qms-dfd-wrap"><svg class="qms-dfd" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}"><title>{t}</title><defs><marker id="{marker}" class="qms-dfd-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z"/></marker></defs>"#,
        w = num(width),
        h = num(height),
        t = escape(&title),
    );
    // Zones, then arrows, then the boxes over them (an arrow that cannot avoid a box
    // passes behind it), then the numbers on top.
    svg.push_str(&body);
    svg.push_str(&edges);
    svg.push_str(&nodes);
    svg.push_str(&badges);
    svg.push_str("</svg></div>");
    svg.push_str(&legend(page, &flows));
    if let Some(sel) = selection {
        svg.push_str(&also_shown(page, sel, &flows));
    }
    svg.push('\n');
    svg
}

/// The numbered flows under the picture.
fn legend(page: &Page<'_>, flows: &[(usize, usize, usize)]) -> String {
    let items = &page.project.items;
    let mut out = String::from(
        "<p class=\"qms-dfd-key\">Dashed red boxes are trust zones (trust boundaries); thick boxes are external entities, rounded boxes processes, boxes open at the sides data stores. Numbered arrows are data flows:</p><ol class=\"qms-dfd-legend\">",
    );
    for (n, &(f, a, b)) in flows.iter().enumerate() {
        let protocol = items[f]
            .text("protocol")
            .map_or(String::new(), |p| format!(", <em>{}</em>", escape(p)));
        let _ = write!(
            out,
            "<li value=\"{}\">{} {}: {} &rarr; {}{protocol}</li>",
            n + 1,
            page.item_ref(f),
            escape(&items[f].title),
            page.item_ref(a),
            page.item_ref(b)
        );
    }
    out.push_str("</ol>");
    out
}

/// What a view shows that has no shape in the picture: each control with the numbers of
/// the drawn flows it protects, and data.
fn also_shown(page: &Page<'_>, selection: &Selection, flows: &[(usize, usize, usize)]) -> String {
    if selection.also.is_empty() {
        return String::new();
    }
    let entries: Vec<String> = selection
        .also
        .iter()
        .map(|&i| {
            let on: Vec<String> = flows
                .iter()
                .enumerate()
                .filter(|(_, &(f, _, _))| out(page.project, f, "controls").contains(&i))
                .map(|(n, _)| (n + 1).to_string())
                .collect();
            let on = match on.len() {
                0 => String::new(),
                1 => format!(" (on flow {})", on[0]),
                _ => format!(" (on flows {})", on.join(", ")),
            };
            format!(
                "{} {}{on}",
                page.item_ref(i),
                escape(&page.project.items[i].title)
            )
        })
        .collect();
    format!(
        "<p class=\"qms-dfd-key qms-dfd-also\">Also shown: {}.</p>",
        entries.join("; ")
    )
}

/// Zones drawn inside each other at most this deep: each level takes room (and a frame
/// of recursion) from the one around it.
const MAX_NESTED_ZONES: usize = 16;

/// The zone each zone is drawn in: its `parent` zone (none when the parent chain loops,
/// reported by `link` as parent-cycle), except that a zone nested deeper than
/// [`MAX_NESTED_ZONES`] is drawn next to its parent, in the zone that holds that one.
/// Linear in the zones, however long their parent chains.
fn enclosing_zones(project: &Project, zones: &[usize]) -> HashMap<usize, usize> {
    let levels = crate::link::parent_levels(&project.items, &project.graph);
    let mut by_level = zones.to_vec();
    // Parents first, so each deep zone finds where its parent is drawn.
    by_level.sort_by_key(|&z| levels[z]);
    let mut drawn_in = HashMap::new();
    for z in by_level {
        let parent = match crate::link::same_type_parent(&project.items, &project.graph, z) {
            Some(p) if levels[z] > 1 => p,
            _ => continue,
        };
        let holder = if levels[z] <= MAX_NESTED_ZONES {
            Some(parent)
        } else {
            drawn_in.get(&parent).copied()
        };
        if let Some(h) = holder {
            drawn_in.insert(z, h);
        }
    }
    drawn_in
}

fn zone_block(
    z: usize,
    children: &BTreeMap<usize, Vec<usize>>,
    by_zone: &BTreeMap<usize, Vec<usize>>,
    max_w: f64,
    project: &Project,
) -> Block {
    let inner = max_w - 2.0 * PAD;
    let subs: Vec<Block> = children
        .get(&z)
        .map(|c| {
            c.iter()
                .map(|&c| zone_block(c, children, by_zone, inner, project))
                .collect()
        })
        .unwrap_or_default();
    let label = zone_label(project, z);
    assemble(
        BlockKind::Zone(z),
        by_zone.get(&z).map_or(&[][..], Vec::as_slice),
        subs,
        text_w(&label),
        max_w,
    )
}

fn group_block(label: String, assets: &[usize], max_w: f64) -> Block {
    let w = text_w(&label);
    assemble(BlockKind::Group(label), assets, Vec::new(), w, max_w)
}

/// Assets in a grid at the top, child zones packed in rows below.
fn assemble(
    what: BlockKind,
    assets: &[usize],
    subs: Vec<Block>,
    label_w: f64,
    max_w: f64,
) -> Block {
    let inner = max_w - 2.0 * PAD;
    let cols =
        (((inner + GAP_X) / (NODE_W + GAP_X)).floor() as usize).clamp(1, assets.len().max(1));
    let rows = assets.len().div_ceil(cols);
    let nodes_w = if assets.is_empty() {
        0.0
    } else {
        cols as f64 * (NODE_W + GAP_X) - GAP_X
    };
    let nodes_h = if assets.is_empty() {
        0.0
    } else {
        rows as f64 * (NODE_H + GAP_Y) - GAP_Y
    };
    let (packed, subs_w, subs_h) = shelf(subs, inner, GAP);
    let content_w = nodes_w.max(subs_w).max(label_w).max(NODE_W);
    let between = if nodes_h > 0.0 && subs_h > 0.0 {
        GAP_Y
    } else {
        0.0
    };
    let nodes = assets
        .iter()
        .enumerate()
        .map(|(k, &a)| {
            (
                a,
                PAD + (k % cols) as f64 * (NODE_W + GAP_X),
                HEAD + (k / cols) as f64 * (NODE_H + GAP_Y),
            )
        })
        .collect();
    let subs = packed
        .into_iter()
        .map(|(b, x, y)| (b, PAD + x, HEAD + nodes_h + between + y))
        .collect();
    Block {
        what,
        w: content_w + 2.0 * PAD,
        h: HEAD + nodes_h + between + subs_h + PAD,
        nodes,
        subs,
    }
}

/// Packs blocks left to right in rows no wider than `max_w` (a wider block gets a row of
/// its own); returns them with their positions and the total size.
fn shelf(blocks: Vec<Block>, max_w: f64, gap: f64) -> (Vec<(Block, f64, f64)>, f64, f64) {
    let mut out = Vec::with_capacity(blocks.len());
    let (mut x, mut y, mut row_h, mut w) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    for b in blocks {
        if x > 0.0 && x + b.w > max_w {
            y += row_h + gap;
            x = 0.0;
            row_h = 0.0;
        }
        w = w.max(x + b.w);
        row_h = row_h.max(b.h);
        let bw = b.w;
        out.push((b, x, y));
        x += bw + gap;
    }
    let h = if out.is_empty() { 0.0 } else { y + row_h };
    (out, w, h)
}

fn draw_block(
    page: &Page<'_>,
    block: &Block,
    x: f64,
    y: f64,
    out: &mut String,
    nodes: &mut String,
    node_at: &mut BTreeMap<usize, (f64, f64)>,
) {
    let project = page.project;
    let (class, label, href, id) = match &block.what {
        BlockKind::Zone(z) => (
            "qms-dfd-zone",
            zone_label(project, *z),
            page.item_url(*z),
            project.items[*z].id.as_str(),
        ),
        BlockKind::Group(l) => ("qms-dfd-outside", l.clone(), None, ""),
    };
    let _ = write!(
        out,
        r#"<g class="{class}" data-id="{}"><rect x="{}" y="{}" width="{}" height="{}" rx="10"/>{}<text class="qms-dfd-zone-label" x="{}" y="{}">{}</text>{}</g>"#,
        escape(id),
        num(x),
        num(y),
        num(block.w),
        num(block.h),
        open_link(&href, "", id),
        num(x + 12.0),
        num(y + 19.0),
        escape(&label),
        close_link(&href)
    );
    for (sub, sx, sy) in &block.subs {
        draw_block(page, sub, x + sx, y + sy, out, nodes, node_at);
    }
    for &(a, nx, ny) in &block.nodes {
        let (ax, ay) = (x + nx, y + ny);
        node_at.insert(a, (ax, ay));
        draw_node(page, a, ax, ay, nodes);
    }
}

fn draw_node(page: &Page<'_>, a: usize, x: f64, y: f64, out: &mut String) {
    let item = &page.project.items[a];
    let kind = item.text("kind").unwrap_or("asset");
    let kind_class = match kind {
        "external-entity" | "process" | "data-store" => kind,
        _ => "other",
    };
    let href = page.item_url(a);
    let _ = write!(
        out,
        "{}<title>{}: {} ({})</title>",
        open_link(&href, &format!("qms-dfd-node {kind_class}"), &item.id),
        escape(&item.id),
        escape(&item.title),
        escape(kind)
    );
    let (w, h) = (num(NODE_W), num(NODE_H));
    match kind_class {
        "process" => {
            let _ = write!(
                out,
                r#"<rect class="shape" x="{}" y="{}" width="{w}" height="{h}" rx="22"/>"#,
                num(x),
                num(y)
            );
        }
        "data-store" => {
            let _ = write!(
                out,
                r#"<rect class="shape" x="{x0}" y="{y0}" width="{w}" height="{h}"/><line class="rule" x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}"/><line class="rule" x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}"/>"#,
                x0 = num(x),
                y0 = num(y),
                x1 = num(x + NODE_W),
                y1 = num(y + NODE_H),
            );
        }
        _ => {
            let _ = write!(
                out,
                r#"<rect class="shape" x="{}" y="{}" width="{w}" height="{h}"/>"#,
                num(x),
                num(y)
            );
        }
    }
    let cx = num(x + NODE_W / 2.0);
    let lines = wrap(&item.title, LINE, 2);
    let top = y + NODE_H / 2.0 - (lines.len() as f64 * 13.0) / 2.0 + 3.0;
    let _ = write!(
        out,
        r#"<text class="id" x="{cx}" y="{}" text-anchor="middle">{}</text>"#,
        num(top),
        escape(&item.id)
    );
    for (k, line) in lines.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text x="{cx}" y="{}" text-anchor="middle">{}</text>"#,
            num(top + 13.0 * (k as f64 + 1.0)),
            escape(line)
        );
    }
    out.push_str(&close_link(&href));
}

fn zone_label(project: &Project, z: usize) -> String {
    let item = &project.items[z];
    match item.fields.get("trust").and_then(serde_json::Value::as_i64) {
        Some(t) => format!("{} · {} · trust {t}", item.title, item.id),
        None => format!("{} · {}", item.title, item.id),
    }
}

/// An `<a>` around an element when the item has a page, else a plain group.
pub(super) fn open_link(href: &Option<String>, class: &str, id: &str) -> String {
    let class = if class.is_empty() {
        String::new()
    } else {
        format!(r#" class="{class}""#)
    };
    match href {
        Some(h) => format!(
            r#"<a href="{}"{class} data-id="{}">"#,
            escape(h),
            escape(id)
        ),
        None => format!(r#"<g{class} data-id="{}">"#, escape(id)),
    }
}

pub(super) fn close_link(href: &Option<String>) -> String {
    if href.is_some() { "</a>" } else { "</g>" }.to_owned()
}

/// The point where the line from a node's centre towards `toward` leaves the node, pulled
/// back by `back` so an arrowhead ends on the border.
fn clip(center: (f64, f64), toward: (f64, f64), back: f64) -> (f64, f64) {
    let (dx, dy) = (toward.0 - center.0, toward.1 - center.1);
    if dx == 0.0 && dy == 0.0 {
        return center;
    }
    let tx = if dx == 0.0 {
        f64::INFINITY
    } else {
        (NODE_W / 2.0 + back) / dx.abs()
    };
    let ty = if dy == 0.0 {
        f64::INFINITY
    } else {
        (NODE_H / 2.0 + back) / dy.abs()
    };
    let t = tx.min(ty);
    (center.0 + dx * t, center.1 + dy * t)
}

/// Whether the quadratic curve from `p0` via `ctrl` to `p2` passes through the node
/// whose top-left corner is `node` (with a small margin).
fn hits(p0: (f64, f64), ctrl: (f64, f64), p2: (f64, f64), node: (f64, f64)) -> bool {
    (1..40).any(|i| {
        let t = i as f64 / 40.0;
        let u = 1.0 - t;
        let x = u * u * p0.0 + 2.0 * u * t * ctrl.0 + t * t * p2.0;
        let y = u * u * p0.1 + 2.0 * u * t * ctrl.1 + t * t * p2.1;
        x > node.0 - 6.0
            && x < node.0 + NODE_W + 6.0
            && y > node.1 - 6.0
            && y < node.1 + NODE_H + 6.0
    })
}

/// Whether the curve (and the badge at its middle) stays on the canvas.
fn inside(p0: (f64, f64), ctrl: (f64, f64), p2: (f64, f64), width: f64, height: f64) -> bool {
    let mid = (
        0.25 * p0.0 + 0.5 * ctrl.0 + 0.25 * p2.0,
        0.25 * p0.1 + 0.5 * ctrl.1 + 0.25 * p2.1,
    );
    [p0, mid, p2]
        .iter()
        .all(|&(x, y)| x >= 12.0 && x <= width - 12.0 && y >= 12.0 && y <= height - 12.0)
}

/// Words wrapped into at most `max_lines` lines of `width` characters, the last one
/// cut with an ellipsis when the text is longer.
pub(super) fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        let last = &mut lines[max_lines - 1];
        let keep: String = last.chars().take(width.saturating_sub(1)).collect();
        *last = format!("{}…", keep.trim_end());
    }
    lines
        .into_iter()
        .map(|l| {
            if l.chars().count() > width {
                format!("{}…", l.chars().take(width - 1).collect::<String>())
            } else {
                l
            }
        })
        .collect()
}

/// Estimated width of a label in the 12px monospace face.
fn text_w(s: &str) -> f64 {
    s.chars().count() as f64 * 7.3 + 24.0
}

/// Coordinates with at most one decimal, so the output is stable and short.
pub(super) fn num(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_cuts() {
        assert_eq!(
            wrap(
                "Pump firmware (therapy task, BLE stack, Zephyr RTOS)",
                26,
                2
            ),
            ["Pump firmware (therapy", "task, BLE stack, Zephyr…"]
        );
        assert_eq!(wrap("short", 26, 2), ["short"]);
    }

    #[test]
    fn clips_to_the_border() {
        let c = (100.0, 100.0);
        assert_eq!(clip(c, (400.0, 100.0), 0.0), (100.0 + NODE_W / 2.0, 100.0));
        assert_eq!(clip(c, (100.0, 0.0), 0.0), (100.0, 100.0 - NODE_H / 2.0));
    }
}
