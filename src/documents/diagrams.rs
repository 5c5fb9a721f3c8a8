//! The diagrams a template draws: `dfd()`, `stride_table()` and `sequence()`.
//!
//! A template function must own what it uses, and a diagram needs the page (its links
//! are relative to it): so each call leaves a placeholder and records what it asked
//! for, and the diagrams are drawn into the rendered text, for its page, once the
//! template is done. Only documents that call them pay for the drawing.

use std::sync::{Arc, Mutex};

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, ErrorKind};

use crate::diagram::dfd::{self, Selection};
use crate::html::escape_commonmark;
use crate::page::Page;

/// A diagram a template asked for.
pub(super) enum Request {
    /// `dfd()`, or `dfd(zone=ID)`.
    Dfd { zone: Option<String> },
    /// `dfd(shows=[IDs], title=T)`: what a view shows.
    Shows { ids: Vec<String>, title: String },
    /// `stride_table()`.
    Stride,
    /// `sequence(shows=[IDs], title=T)`: the flows among `ids`, in order.
    Sequence { ids: Vec<String>, title: String },
}

/// The requests of the document being rendered, in the order its template made them.
#[derive(Clone, Default)]
pub(super) struct Requests(Arc<Mutex<Vec<Request>>>);

impl Requests {
    /// The placeholder of a new request: `<` never survives escaping, so no item text
    /// can forge one.
    fn push(&self, request: Request) -> Value {
        let mut list = self.0.lock().unwrap_or_else(|e| e.into_inner());
        list.push(request);
        Value::from_safe_string(placeholder(list.len() - 1))
    }

    /// The requests made since the last call, in order (rendering failed or not).
    pub(super) fn take(&self) -> Vec<Request> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// `text` with the placeholder of each of `requests` (taken after its template ran)
/// replaced by its diagram, drawn for `page`, as an HTML block of its own; in
/// standalone Markdown, a picture (an SVG image with its styles inside) and text.
pub(super) fn draw(page: &Page, text: &str, requests: Vec<Request>, standalone: bool) -> String {
    let mut out = text.to_owned();
    for (n, request) in requests.iter().enumerate() {
        let ids = |ids: &[String]| -> Vec<usize> {
            ids.iter()
                .filter_map(|id| page.project.graph.get(id))
                .collect()
        };
        let html = match request {
            Request::Dfd { zone } => dfd::svg(
                page,
                zone.as_deref().and_then(|z| page.project.graph.get(z)),
            ),
            Request::Shows { ids: shown, title } => {
                let selection = Selection::of(page.project, title, &key(shown), &ids(shown));
                dfd::view_svg(page, &selection)
            }
            Request::Stride if standalone => crate::diagram::stride::markdown_table(page.project),
            Request::Stride => crate::diagram::stride::table(page),
            Request::Sequence { ids: shown, title } => {
                crate::diagram::sequence::svg(page, title, &key(shown), &ids(shown))
            }
        };
        let block = match request {
            Request::Stride => html,
            _ if standalone => standalone_picture(&html, &request.title()),
            _ => html,
        };
        out = out.replacen(&placeholder(n), &format!("\n\n{}\n\n", block.trim_end()), 1);
    }
    out
}

impl Request {
    /// What the picture shows, as its alternative text.
    fn title(&self) -> String {
        match self {
            Request::Dfd { zone: None } => "Data-flow diagram".into(),
            Request::Dfd { zone: Some(z) } => format!("Data-flow diagram of {z}"),
            Request::Shows { title, .. } | Request::Sequence { title, .. } => title.clone(),
            Request::Stride => "STRIDE per element".into(),
        }
    }
}

/// A diagram as standalone Markdown: the SVG, with the book's styles for it moved
/// inside, as a `data:` image (Markdown a person can paste, one picture that needs no
/// stylesheet), then the text of the paragraphs that follow it (the key, "Also shown").
fn standalone_picture(html: &str, alt: &str) -> String {
    use base64::Engine as _;
    let style = html
        .strip_prefix("<style>")
        .and_then(|rest| rest.split_once("</style>"))
        .map_or("", |(css, _)| css);
    let (Some(start), Some(end)) = (html.find("<svg"), html.find("</svg>")) else {
        return String::new();
    };
    let svg = &html[start..end + "</svg>".len()];
    let svg = match svg.find('>') {
        Some(open) => format!(
            "{}<style>{style}</style>{}",
            &svg[..=open],
            &svg[open + 1..]
        ),
        None => svg.to_owned(),
    };
    // Links into the book lead nowhere from a picture on its own.
    let svg = without_links(&svg);
    let data = base64::engine::general_purpose::STANDARD.encode(svg);
    let mut out = format!(
        "![{}](data:image/svg+xml;base64,{data})",
        escape_commonmark(alt)
    );
    // The key that follows the picture: paragraphs, and the numbered flows as a list.
    let mut blocks: Vec<(bool, String)> = Vec::new();
    for piece in html[end..].split('<').skip(1) {
        let (tag, text) = piece.split_once('>').unwrap_or((piece, ""));
        let name = tag.split([' ', '/']).next().unwrap_or_default();
        match name {
            "p" => blocks.push((false, String::new())),
            "li" => blocks.push((true, String::new())),
            _ => {}
        }
        if let Some((_, block)) = blocks.last_mut() {
            block.push_str(text);
        }
    }
    let mut number = 0;
    for (item, html) in blocks {
        let text = crate::html::unescape(html.trim());
        if text.is_empty() {
            continue;
        }
        if item {
            number += 1;
            out.push_str(&format!("\n{number}. {}", escape_commonmark(&text)));
        } else {
            number = 0;
            out.push_str(&format!("\n\n{}\n", escape_commonmark(&text)));
        }
    }
    out
}

/// `svg` with each link (`<a href=...>`, which carries the element's class and id) made
/// a plain group: the picture keeps its styles, without links into the book.
fn without_links(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(start) = rest.find("<a ") {
        out.push_str(&rest[..start]);
        let tag = &rest[start + "<a".len()..];
        let Some(end) = tag.find('>') else {
            rest = "";
            break;
        };
        let attributes = &tag[..end];
        let kept = match attributes.find(" href=\"") {
            Some(at) => {
                let after = &attributes[at + " href=\"".len()..];
                let close = after.find('"').map_or(after.len(), |c| c + 1);
                format!("{}{}", &attributes[..at], &after[close..])
            }
            None => attributes.to_owned(),
        };
        out.push_str("<g");
        out.push_str(&kept);
        out.push('>');
        rest = &tag[end + 1..];
    }
    out.push_str(rest);
    out.replace("</a>", "</g>")
}

fn placeholder(n: usize) -> String {
    format!("<qms-diagram n=\"{n}\">")
}

/// A short name for a list of ids, the same wherever the list is drawn, so two
/// diagrams on one page have different arrowheads.
fn key(ids: &[String]) -> String {
    // FNV-1a: stable across builds and platforms, unlike the standard hasher.
    let mut hash: u32 = 0x811c_9dc5;
    for byte in ids.join(",").bytes() {
        hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
    }
    format!("{hash:08x}")
}

/// Registers `dfd`, `stride_table` and `sequence`, whose calls `requests` records.
pub(super) fn register(env: &mut Environment<'static>, requests: &Requests) {
    let r = requests.clone();
    env.add_function("dfd", move |kwargs: Kwargs| -> Result<Value, Error> {
        let zone: Option<String> = kwargs.get("zone")?;
        let shows: Option<Vec<String>> = kwargs.get("shows")?;
        let title: Option<String> = kwargs.get("title")?;
        kwargs.assert_all_used()?;
        Ok(r.push(match (shows, zone) {
            (Some(_), Some(_)) => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    "dfd() takes `zone` or `shows`, not both",
                ))
            }
            (Some(ids), None) => Request::Shows {
                ids,
                title: title.unwrap_or_else(|| "the view".into()),
            },
            (None, zone) => Request::Dfd { zone },
        }))
    });
    let r = requests.clone();
    env.add_function("stride_table", move || -> Value { r.push(Request::Stride) });
    let r = requests.clone();
    env.add_function("sequence", move |kwargs: Kwargs| -> Result<Value, Error> {
        let ids: Vec<String> = kwargs.get("shows")?;
        let title: Option<String> = kwargs.get("title")?;
        kwargs.assert_all_used()?;
        Ok(r.push(Request::Sequence {
            ids,
            title: title.unwrap_or_else(|| "the use case".into()),
        }))
    });
}
