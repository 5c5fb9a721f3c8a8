//! A security use case as a sequence diagram: the flows a view shows, in the order it
//! lists them, as numbered arrows between the lifelines of their ends. Laid out here,
//! deterministically, as inline SVG; every participant and arrow links to its card.

use std::fmt::Write as _;

use super::dfd::{close_link, num, open_link, wrap};
use crate::html::escape;
use crate::page::Page;
use crate::risk::checks::ends;

const STYLE: &str = crate::page::css::SEQUENCE;

/// A lifeline's column.
const COL_W: f64 = 150.0;
const BOX_H: f64 = 58.0;
/// Between two steps.
const STEP_H: f64 = 40.0;
const MARGIN: f64 = 8.0;
/// The narrowest picture: room for a label beside two lifelines.
const MIN_W: f64 = 560.0;
/// Characters per line in a participant's box.
const LINE: usize = 20;

/// A step: its number, the flow, and the flow's ends (none when it lacks one).
type Step = (usize, usize, Option<(usize, usize)>);

/// The sequence of `flows` (other items are skipped), numbered by their place among
/// them, as the call-flow list beside it numbers them. `key` tells two diagrams on one
/// page apart.
pub(crate) fn svg(page: &Page<'_>, name: &str, key: &str, flows: &[usize]) -> String {
    let items = &page.project.items;
    let steps: Vec<Step> = flows
        .iter()
        .filter(|&&f| items[f].ty == "flow")
        .enumerate()
        .map(|(n, &f)| (n + 1, f, ends(page.project, f)))
        .collect();
    let mut parts: Vec<usize> = Vec::new();
    for &(_, _, e) in &steps {
        for x in e.into_iter().flat_map(|(a, b)| [a, b]) {
            if !parts.contains(&x) {
                parts.push(x);
            }
        }
    }
    if parts.is_empty() {
        return "<p class=\"qms-seq-empty\"><em>No flows with both ends to draw.</em></p>\n".into();
    }
    let x_of = |a: usize| {
        let k = parts.iter().position(|&p| p == a).unwrap_or(0);
        MARGIN + COL_W / 2.0 + k as f64 * COL_W
    };
    let drawn = steps.iter().filter(|s| s.2.is_some()).count();
    // Wide enough for a step's label however few the lifelines.
    let width = (2.0 * MARGIN + parts.len() as f64 * COL_W).max(MIN_W);
    let top = MARGIN + BOX_H;
    let height = top + STEP_H * (drawn as f64 + 0.5) + MARGIN;
    let marker = format!("qms-seq-arrow-{}", key.to_lowercase());
    let mut out = String::from(STYLE);
    let _ = write!(
        out,
        r#"<div class="qms-seq-wrap"><svg class="qms-seq" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}"><title>{t}</title><defs><marker id="{marker}" class="qms-seq-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z"/></marker></defs>"#,
        w = num(width),
        h = num(height),
        t = escape(&format!("Sequence of {name}")),
    );
    for &a in &parts {
        let item = &items[a];
        let href = page.item_url(a);
        let x = x_of(a);
        let _ = write!(
            out,
            r#"<line class="qms-seq-life" x1="{x}" y1="{y0}" x2="{x}" y2="{y1}"/>{}<title>{}: {}</title><rect x="{}" y="{}" width="{}" height="{}" rx="4"/><text class="id" x="{x}" y="{}" text-anchor="middle">{}</text>"#,
            open_link(&href, "qms-seq-part", &item.id),
            escape(&item.id),
            escape(&item.title),
            num(x - COL_W / 2.0 + 8.0),
            num(MARGIN),
            num(COL_W - 16.0),
            num(BOX_H),
            num(MARGIN + 17.0),
            escape(&item.id),
            x = num(x),
            y0 = num(top),
            y1 = num(height - MARGIN),
        );
        for (k, line) in wrap(&item.title, LINE, 2).iter().enumerate() {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                num(x),
                num(MARGIN + 33.0 + 13.0 * k as f64),
                escape(line)
            );
        }
        out.push_str(&close_link(&href));
    }
    let mut row = 0.0;
    for &(n, f, e) in &steps {
        let Some((a, b)) = e else { continue };
        row += 1.0;
        let y = top + STEP_H * row;
        let (xa, xb) = (x_of(a), x_of(b));
        // A flow from a participant to itself loops out to the right and back.
        let path = if a == b {
            format!(
                "M{} {} C{} {} {} {} {} {}",
                num(xa),
                num(y - 8.0),
                num(xa + 40.0),
                num(y - 8.0),
                num(xa + 40.0),
                num(y + 8.0),
                num(xa + 3.0),
                num(y + 8.0)
            )
        } else {
            let dir = if xb > xa { 1.0 } else { -1.0 };
            format!(
                "M{} {} L{} {}",
                num(xa),
                num(y),
                num(xb - dir * 3.0),
                num(y)
            )
        };
        // Each step has a row of its own: its label runs from the arrow's left end to
        // the right edge, past the arrow if it must.
        let lo = xa.min(xb) + 6.0;
        let chars = (((width - MARGIN - lo) / 6.7) as usize)
            .saturating_sub(4)
            .max(8);
        let item = &items[f];
        let href = page.item_url(f);
        let label = wrap(&item.title, chars, 1).pop().unwrap_or_default();
        let _ = write!(
            out,
            r#"{}<title>{n}. {}: {}</title><path d="{path}" marker-end="url(#{marker})"/><text x="{}" y="{}"><tspan class="no">{n}.</tspan> {}</text>{}"#,
            open_link(&href, "qms-seq-step", &item.id),
            escape(&item.id),
            escape(&item.title),
            num(lo),
            num(y - 6.0),
            escape(&label),
            close_link(&href)
        );
    }
    out.push_str("</svg></div>\n");
    out
}
