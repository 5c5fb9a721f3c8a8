//! Standalone Markdown (what `Documents::standalone` writes) to Typst markup, for the PDF
//! engine: a pure function of the text, reading no file.
//!
//! Escaping: every piece of text the Markdown carries (item text, link text, alt text,
//! URLs, code) is emitted as a Typst string literal, `#"..."` in markup or `"..."` as a
//! function argument, in which only `\` and `"` (and control characters) are escaped.
//! Inside a string literal no character has a markup meaning, so text always prints and
//! can never become a function call, math, a label, a reference, raw text, a heading, a
//! list, a comment, a smart quote or a shorthand; the only rule to get right is the
//! string escape (`typst_string`), instead of the context-dependent rules of markup
//! escapes (`-` only at a line start, `//` anywhere, `http://` as a link, ...). Every
//! structure is a function call with content blocks (`#heading`, `#list`, `#table`,
//! ...), never indentation-sensitive markup, so nesting cannot go wrong either, and a
//! string literal is only ever followed by `#`, whitespace or `]`, which cannot extend the
//! expression (`.`, `(` and `[` would).
//!
//! Long tokens (over [`LONG_TOKEN`] characters: URLs, hashes) are cut into pieces after
//! `/`, `_`, `.` and similar characters, and wherever [`LONG_TOKEN`] characters pass
//! without a break opportunity, joined by `#h(0pt)`, so a line or a table cell can break
//! them (zero-width spacing, not U+200B, which would stay in the PDF's text); lines break
//! after `-` anyway, so item ids stay whole. Code blocks stay verbatim.
//!
//! Links: http(s) and mailto stay links; `#anchor` links to a heading of the same
//! document become `#link(<label>)` (each heading gets a label, `<hN-slug>`, where the
//! slug is mdBook's anchor of the heading, matched against the fragment); `NAME.md` and
//! `NAME.md#anchor` (another document of the bundle) become links to `NAME.pdf`, the PDF
//! the bundle writes beside it (the fragment is dropped: a PDF link cannot name a place
//! in another file portably); any other link keeps its text and shows its target as
//! text. Images: an SVG `data:` URL becomes an [`Image`] named `img-N.svg` (N counting
//! from 1 in document order) that the engine provides as a file beside the main one;
//! any other image is marked text "image not embedded: PATH", never read.

use base64::Engine as _;
use pulldown_cmark::{
    Alignment, CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use std::collections::HashMap;

/// Typst markup for one document and the pictures it references.
#[derive(Debug)]
pub(crate) struct Converted {
    /// The markup, without any page setup (the engine adds it).
    pub(crate) markup: String,
    /// The SVG pictures the markup references by name (`#image("img-1.svg", ...)`), in
    /// order.
    pub(crate) images: Vec<Image>,
}

/// One SVG picture decoded from a `data:` URL of the Markdown.
#[derive(Debug)]
pub(crate) struct Image {
    /// The file name the markup uses, `img-N.svg`.
    pub(crate) name: String,
    /// The SVG document, as decoded.
    pub(crate) svg: Vec<u8>,
}

/// Tokens longer than this many characters get break opportunities.
const LONG_TOKEN: usize = 20;

/// Frames nested deeper than this are flattened into their parent (content kept,
/// structure dropped), so that hostile nesting cannot exhaust Typst's (or our) stack.
const MAX_DEPTH: usize = 32;

/// Quotes and lists nested deeper than this are flattened too: each costs Typst two to
/// four levels of its show-rule depth (64, checked with Typst 0.15: 12 quotes with a
/// list each exceed it), and the engine's own show rules need some.
const MAX_CONTAINERS: usize = 8;

/// The colour of gaps and of images that could not be embedded.
const MARK: &str = "rgb(\"#c00000\")";

const SVG_DATA_URL: &str = "data:image/svg+xml;base64,";

/// Converts standalone Markdown (CommonMark with GFM tables, strikethrough and task
/// lists) to Typst markup.
pub(crate) fn to_typst(markdown: &str) -> Converted {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events: Vec<Event<'_>> = Parser::new_ext(markdown, options).collect();
    let headings = heading_labels(&events);
    let mut converter = Converter {
        stack: vec![Open {
            frame: Frame::Root,
            out: String::with_capacity(markdown.len() * 2),
            plain_start: 0,
        }],
        pending: String::new(),
        plain: String::new(),
        anchors: headings
            .iter()
            .map(|(slug, label)| (slug.clone(), label.clone()))
            .collect(),
        labels: headings.into_iter().map(|(_, label)| label).collect(),
        next_heading: 0,
        containers: 0,
        flat: 0,
        images: Vec::new(),
    };
    for event in events {
        converter.event(event);
    }
    converter.flush_text();
    let root = converter.stack.swap_remove(0);
    let mut markup = root.out.trim_end().to_owned();
    markup.push('\n');
    Converted {
        markup,
        images: converter.images,
    }
}

/// Each heading's mdBook anchor (unique in the document, as mdBook numbers repeats) and
/// the Typst label the converter gives it, in document order.
fn heading_labels(events: &[Event<'_>]) -> Vec<(String, String)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut labels = Vec::new();
    let mut text: Option<String> = None;
    for event in events {
        match event {
            Event::Start(Tag::Heading { .. }) => text = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(text) = &mut text {
                    text.push_str(t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let id = mdbook_id(&text.take().unwrap_or_default());
                let count = seen.entry(id.clone()).or_insert(0);
                let slug = match *count {
                    0 => id,
                    n => format!("{id}-{n}"),
                };
                *count += 1;
                // The index keeps labels unique; the slug, cut to ASCII, keeps them
                // readable. Typst's label syntax accepts letters, digits, `-` and `_`.
                let ascii: String = slug
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .take(40)
                    .collect();
                labels.push((slug, format!("h{}-{ascii}", labels.len() + 1)));
            }
            _ => {}
        }
    }
    labels
}

/// mdBook's anchor of a heading: lower case, letters, digits, `_` and `-` kept,
/// whitespace as `-`, everything else dropped.
fn mdbook_id(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

enum Frame {
    Root,
    /// Beyond [`MAX_DEPTH`] or [`MAX_CONTAINERS`]: its content goes to the parent as is.
    Flat {
        block: bool,
    },
    Paragraph,
    Heading {
        level: usize,
        label: Option<String>,
    },
    BlockQuote,
    List {
        start: Option<u64>,
        loose: bool,
        items: Vec<String>,
    },
    Item,
    CodeBlock {
        lang: Option<String>,
        code: String,
    },
    Emphasis,
    Strong,
    Strikethrough,
    Link {
        target: LinkTarget,
    },
    Image {
        dest: String,
    },
    Table {
        columns: Vec<Alignment>,
        header: Vec<String>,
        body: Vec<String>,
    },
    TableHead,
    TableRow,
    TableCell,
}

/// Where a link points, decided when it opens.
enum LinkTarget {
    Url(String),
    Label(String),
    /// Not linkable: the text is followed by the target, shown as text.
    Shown(String),
    /// Not linkable and nothing worth showing (an unknown fragment, an unsafe scheme).
    TextOnly,
}

struct Open {
    frame: Frame,
    out: String,
    /// Where this frame's text starts in `Converter::plain`.
    plain_start: usize,
}

struct Converter {
    stack: Vec<Open>,
    /// Text not yet written, so that adjacent text events become one string literal.
    pending: String,
    /// Every text of the document, in order; a frame reads its own text as a suffix.
    plain: String,
    anchors: HashMap<String, String>,
    labels: Vec<String>,
    next_heading: usize,
    /// Open quotes and lists (not flattened ones).
    containers: usize,
    /// Open flattened frames, which do not count towards [`MAX_DEPTH`].
    flat: usize,
    images: Vec<Image>,
}

impl Converter {
    fn out(&mut self) -> &mut String {
        // The root frame is never popped.
        &mut self.stack.last_mut().expect("root frame").out
    }

    fn text(&mut self, text: &str) {
        self.plain.push_str(text);
        if let Some(Open {
            frame: Frame::CodeBlock { code, .. },
            ..
        }) = self.stack.last_mut()
        {
            code.push_str(text);
        } else {
            self.pending.push_str(text);
        }
    }

    fn flush_text(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.pending);
        let markup = text_markup(&text);
        self.out().push_str(&markup);
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Text(text) => return self.text(&text),
            // Raw HTML should not occur in standalone Markdown; if it does, it prints.
            Event::Html(text) | Event::InlineHtml(text) => {
                return self.text(&text.replace('\n', " "));
            }
            Event::SoftBreak => return self.text(" "),
            Event::TaskListMarker(done) => return self.text(if done { "[x] " } else { "[ ] " }),
            // Not enabled by the options; printed as text should that change.
            Event::FootnoteReference(text) | Event::InlineMath(text) | Event::DisplayMath(text) => {
                return self.text(&text)
            }
            _ => {}
        }
        if let (
            Event::End(_),
            Some(Open {
                frame: Frame::Paragraph,
                ..
            }),
        ) = (&event, self.stack.last())
        {
            // The line break that ends raw HTML in a paragraph.
            let text_end = self.pending.trim_end().len();
            self.pending.truncate(text_end);
        }
        self.flush_text();
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(_) => self.end(),
            Event::Code(code) => {
                self.plain.push_str(&code);
                let markup = breakable(&code, |piece| format!("#raw({})", typst_string(piece)));
                self.out().push_str(&markup);
            }
            Event::HardBreak => self.out().push_str("#linebreak()\n"),
            Event::Rule => {
                let out = self.out();
                start_block(out);
                out.push_str("#line(length: 100%)\n\n");
            }
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        let in_flat = matches!(
            self.stack.last(),
            Some(Open {
                frame: Frame::Flat { .. },
                ..
            })
        );
        // The parts of a list or table go with it: flattened only if it is.
        let part = matches!(
            tag,
            Tag::Item | Tag::TableHead | Tag::TableRow | Tag::TableCell
        );
        let container = matches!(tag, Tag::BlockQuote(_) | Tag::List(_));
        let too_deep = self.stack.len() - self.flat > MAX_DEPTH
            || (container && self.containers >= MAX_CONTAINERS);
        if (part && in_flat) || (!part && too_deep) {
            let block = !matches!(
                tag,
                Tag::Emphasis | Tag::Strong | Tag::Strikethrough | Tag::Link { .. }
            );
            if let Tag::Heading { .. } = tag {
                self.next_heading += 1;
            }
            self.flat += 1;
            return self.push(Frame::Flat { block });
        }
        let frame = match tag {
            Tag::Paragraph | Tag::HtmlBlock => {
                let len = self.stack.len();
                if let [.., list, item] = &mut self.stack[..len] {
                    if let (Frame::List { loose, .. }, Frame::Item) = (&mut list.frame, &item.frame)
                    {
                        *loose = true;
                    }
                }
                Frame::Paragraph
            }
            Tag::Heading { level, .. } => {
                let label = self.labels.get(self.next_heading).cloned();
                self.next_heading += 1;
                Frame::Heading {
                    level: heading_level(level),
                    label,
                }
            }
            Tag::BlockQuote(_) => Frame::BlockQuote,
            Tag::CodeBlock(kind) => Frame::CodeBlock {
                lang: match kind {
                    CodeBlockKind::Fenced(info) => language(&info),
                    CodeBlockKind::Indented => None,
                },
                code: String::new(),
            },
            Tag::List(start) => Frame::List {
                start,
                loose: false,
                items: Vec::new(),
            },
            Tag::Item => Frame::Item,
            Tag::Emphasis => Frame::Emphasis,
            Tag::Strong => Frame::Strong,
            Tag::Strikethrough => Frame::Strikethrough,
            Tag::Link {
                link_type,
                dest_url,
                ..
            } => Frame::Link {
                target: self.link_target(link_type, dest_url),
            },
            Tag::Image { dest_url, .. } => Frame::Image {
                dest: dest_url.into_string(),
            },
            Tag::Table(columns) => Frame::Table {
                columns,
                header: Vec::new(),
                body: Vec::new(),
            },
            Tag::TableHead => Frame::TableHead,
            Tag::TableRow => Frame::TableRow,
            Tag::TableCell => Frame::TableCell,
            // Not enabled by the options: their content is kept.
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_)
            | Tag::Superscript
            | Tag::Subscript => Frame::Flat { block: true },
        };
        if container {
            self.containers += 1;
        }
        self.push(frame);
    }

    fn push(&mut self, frame: Frame) {
        self.stack.push(Open {
            frame,
            out: String::new(),
            plain_start: self.plain.len(),
        });
    }

    fn link_target(&self, link_type: LinkType, dest: CowStr<'_>) -> LinkTarget {
        let dest = dest.trim();
        if link_type == LinkType::Email {
            return LinkTarget::Url(format!("mailto:{dest}"));
        }
        let lower = dest.to_ascii_lowercase();
        if ["http://", "https://", "mailto:"]
            .iter()
            .any(|scheme| lower.starts_with(scheme))
        {
            return LinkTarget::Url(dest.to_owned());
        }
        if let Some(fragment) = dest.strip_prefix('#') {
            return match self.anchors.get(fragment) {
                Some(label) => LinkTarget::Label(label.clone()),
                None => LinkTarget::TextOnly,
            };
        }
        let has_scheme = dest
            .split_once(':')
            .is_some_and(|(scheme, _)| !scheme.contains(['/', '#', '?']));
        if has_scheme {
            return LinkTarget::TextOnly;
        }
        let path = dest.strip_prefix("./").unwrap_or(dest);
        let file = path.split_once('#').map_or(path, |(file, _)| file);
        match file.strip_suffix(".md") {
            Some(name)
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') =>
            {
                LinkTarget::Url(format!("{name}.pdf"))
            }
            _ if dest.is_empty() => LinkTarget::TextOnly,
            _ => LinkTarget::Shown(dest.to_owned()),
        }
    }

    fn end(&mut self) {
        // Events are well nested: an end closes the innermost frame; never the root.
        if self.stack.len() < 2 {
            return;
        }
        let Open {
            frame,
            out: content,
            plain_start,
        } = self.stack.pop().expect("checked above");
        match frame {
            Frame::BlockQuote | Frame::List { .. } => self.containers -= 1,
            Frame::Flat { .. } => self.flat -= 1,
            _ => {}
        }
        let own_text = &self.plain[plain_start..];
        let mut rendered = String::new();
        match frame {
            Frame::Root => {}
            Frame::Flat { block } => {
                rendered.push_str(&content);
                if block {
                    rendered.push_str("\n\n");
                }
            }
            Frame::Paragraph => {
                rendered.push_str(content.trim_end());
                rendered.push_str("\n\n");
            }
            Frame::Heading { level, label } => {
                rendered.push_str(&format!("#heading(level: {level})[{}]", content.trim()));
                if let Some(label) = label {
                    rendered.push_str(&format!(" <{label}>"));
                }
                rendered.push_str("\n\n");
            }
            Frame::BlockQuote => {
                rendered.push_str(&format!("#quote(block: true)[{}]\n\n", content.trim()));
            }
            Frame::CodeBlock { lang, code } => {
                rendered.push_str("#raw(");
                // Verbatim: code keeps its lines as written.
                rendered.push_str(&typst_string(code.trim_end_matches('\n')));
                rendered.push_str(", block: true");
                if let Some(lang) = lang {
                    rendered.push_str(&format!(", lang: \"{lang}\""));
                }
                rendered.push_str(")\n\n");
            }
            Frame::List {
                start,
                loose,
                items,
            } => {
                match start {
                    Some(start) => rendered.push_str(&format!("#enum(start: {start}")),
                    None => rendered.push_str("#list("),
                }
                if start.is_some() {
                    rendered.push_str(", ");
                }
                rendered.push_str(&format!("tight: {}", !loose));
                for item in items {
                    rendered.push_str(",\n  [");
                    rendered.push_str(&item);
                    rendered.push(']');
                }
                rendered.push_str(",\n)\n\n");
            }
            Frame::Item => {
                if let Some(Open {
                    frame: Frame::List { items, .. },
                    ..
                }) = self.stack.last_mut()
                {
                    items.push(content.trim().to_owned());
                }
                return;
            }
            Frame::Emphasis => rendered.push_str(&format!("#emph[{content}]")),
            Frame::Strong => {
                if own_text.starts_with("Gap:") {
                    rendered.push_str(&format!("#text(fill: {MARK})[#strong[{content}]]"));
                } else {
                    rendered.push_str(&format!("#strong[{content}]"));
                }
            }
            Frame::Strikethrough => rendered.push_str(&format!("#strike[{content}]")),
            Frame::Link { target } => match target {
                LinkTarget::Url(url) => {
                    rendered.push_str(&format!("#link({})[{content}]", typst_string(&url)));
                }
                LinkTarget::Label(label) => {
                    rendered.push_str(&format!("#link(<{label}>)[{content}]"));
                }
                LinkTarget::Shown(dest) => {
                    rendered.push_str(&content);
                    rendered.push_str(&text_markup(&format!(" ({dest})")));
                }
                LinkTarget::TextOnly => rendered.push_str(&content),
            },
            Frame::Image { dest } => {
                let alt = own_text.to_owned();
                rendered.push_str(&self.image(&dest, &alt));
            }
            Frame::Table {
                columns,
                header,
                body,
            } => rendered.push_str(&table(&columns, &header, &body)),
            Frame::TableHead | Frame::TableRow => {
                if let Some(Open {
                    frame:
                        Frame::Table {
                            columns,
                            header,
                            body,
                        },
                    ..
                }) = self.stack.last_mut()
                {
                    let cells = if matches!(frame, Frame::TableHead) {
                        header
                    } else {
                        body
                    };
                    // Pad or cut every row to the header's width, so rows stay rows.
                    let row = content.split('\u{0}').skip(1).map(str::to_owned);
                    let mut row: Vec<String> = row.take(columns.len()).collect();
                    row.resize(columns.len(), String::new());
                    cells.extend(row);
                }
                return;
            }
            Frame::TableCell => {
                // Cells of a row are separated by NUL, which text cannot contain
                // (pulldown-cmark replaces it) and string literals escape.
                rendered.push('\u{0}');
                rendered.push_str(content.trim());
            }
        }
        let out = self.out();
        if rendered.ends_with("\n\n") {
            start_block(out);
        }
        out.push_str(&rendered);
    }

    fn image(&mut self, dest: &str, alt: &str) -> String {
        let svg = dest
            .get(..SVG_DATA_URL.len())
            .filter(|prefix| prefix.eq_ignore_ascii_case(SVG_DATA_URL))
            .and_then(|_| {
                base64::engine::general_purpose::STANDARD
                    .decode(&dest[SVG_DATA_URL.len()..])
                    .ok()
            })
            .filter(|svg| std::str::from_utf8(svg).is_ok_and(|s| s.contains("<svg")));
        match svg {
            Some(svg) => {
                let name = format!("img-{}.svg", self.images.len() + 1);
                let call = format!(
                    "#image({}, format: \"svg\", {}, alt: {})",
                    typst_string(&name),
                    picture_size(&svg),
                    typst_string(alt)
                );
                self.images.push(Image { name, svg });
                call
            }
            None => {
                let path = if dest.to_ascii_lowercase().starts_with("data:") {
                    "data URL that is not a valid SVG"
                } else {
                    dest
                };
                format!(
                    "#text(fill: {MARK})[#emph[{}]]",
                    text_markup(&format!("image not embedded: {path}"))
                )
            }
        }
    }
}

/// Ends the current line before a block, so the block does not run into the text before.
fn start_block(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn heading_level(level: HeadingLevel) -> usize {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// The language of a fenced code block for Typst's highlighting, if it is a plain name.
fn language(info: &str) -> Option<String> {
    let word = info.split_whitespace().next()?;
    let plain = word.len() <= 32
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-_".contains(c));
    plain.then(|| word.to_owned())
}

/// `#table` with the header repeated on every page; `cells` hold one row after another,
/// each row as wide as `columns`.
fn table(columns: &[Alignment], header: &[String], body: &[String]) -> String {
    let align: Vec<&str> = columns
        .iter()
        .map(|a| match a {
            Alignment::None | Alignment::Left => "left",
            Alignment::Center => "center",
            Alignment::Right => "right",
        })
        .collect();
    let mut out = String::with_capacity(body.iter().map(|c| c.len() + 4).sum::<usize>() + 128);
    out.push_str(&format!(
        "#table(\n  columns: {},\n  align: ({},),\n  table.header(repeat: true",
        columns.len(),
        align.join(", ")
    ));
    for cell in header {
        out.push_str(", [");
        out.push_str(cell);
        out.push(']');
    }
    out.push_str("),\n");
    for row in body.chunks(columns.len().max(1)) {
        let cells: Vec<String> = row.iter().map(|cell| format!("[{cell}]")).collect();
        out.push_str("  ");
        out.push_str(&cells.join(", "));
        out.push_str(",\n");
    }
    out.push_str(")\n\n");
    out
}

/// How large a picture is set: the text width, unless that makes it taller than a page
/// holds (a tall data-flow diagram), then a page's height less room for a heading.
fn picture_size(svg: &[u8]) -> &'static str {
    let text = String::from_utf8_lossy(svg);
    let open = text
        .find("<svg")
        .and_then(|at| text[at..].find('>').map(|end| &text[at..at + end]));
    let number = |name: &str| -> Option<f64> {
        let tag = open?;
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        tag[at..].split('"').next()?.trim().parse().ok()
    };
    // The text column is 17 cm wide (A4 less 2 cm margins); 21 cm of a page's 24.7 cm
    // leave room for the heading above the picture.
    match (number("width"), number("height")) {
        (Some(w), Some(h)) if w > 0.0 && h / w > 21.0 / 17.0 => "height: 21cm",
        _ => "width: 100%",
    }
}

/// A Typst string literal of `text`: `\` and `"` escaped, control characters as escapes,
/// so the literal is one line and nothing in it is markup or code.
pub(super) fn typst_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text as markup: string literals, with break opportunities in long tokens.
fn text_markup(text: &str) -> String {
    breakable(text, |piece| format!("#{}", typst_string(piece)))
}

/// `text` cut into pieces at break opportunities, each piece written by `write`, joined
/// by a zero-width space that Typst may break a line at (`#h(0pt)`: spacing, which
/// unlike U+200B leaves no character in the PDF's text).
fn breakable(text: &str, write: impl Fn(&str) -> String) -> String {
    pieces(text)
        .into_iter()
        .map(write)
        .collect::<Vec<_>>()
        .join("#h(0pt)")
}

/// `text` cut inside tokens longer than [`LONG_TOKEN`] characters: after URL
/// punctuation, and wherever [`LONG_TOKEN`] characters pass without a break
/// opportunity, so the token can break at the end of a line or a table cell. Item ids
/// (letters and digits between hyphens, after which lines break anyway) and short
/// tokens stay whole, so they stay searchable in the PDF's text.
fn pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut piece_start = 0;
    let mut token_start = 0;
    for (at, c) in text.char_indices().chain([(text.len(), ' ')]) {
        if !c.is_whitespace() {
            continue;
        }
        let token = &text[token_start..at];
        if token.chars().count() > LONG_TOKEN {
            let mut run = 0;
            let mut chars = token.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                run += 1;
                if c == '-' {
                    run = 0;
                } else if chars.peek().is_some()
                    && ("/_.?&=:,;#@+|\\~".contains(c) || run >= LONG_TOKEN)
                {
                    let cut = token_start + i + c.len_utf8();
                    pieces.push(&text[piece_start..cut]);
                    piece_start = cut;
                    run = 0;
                }
            }
        }
        token_start = at + c.len_utf8();
    }
    pieces.push(&text[piece_start..]);
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::{Duration, Instant};

    /// The markup with every string literal replaced by `""`, and the literals' values
    /// (escapes decoded, the pieces of a long token joined).
    fn split_literals(markup: &str) -> (String, Vec<String>) {
        let markup = markup
            .replace("\"#h(0pt)#\"", "")
            .replace("\")#h(0pt)#raw(\"", "");
        let mut skeleton = String::new();
        let mut literals = Vec::new();
        let mut chars = markup.chars();
        while let Some(c) = chars.next() {
            if c != '"' {
                skeleton.push(c);
                continue;
            }
            skeleton.push_str("\"\"");
            let mut value = String::new();
            loop {
                match chars.next().expect("unterminated string literal") {
                    '"' => break,
                    '\\' => match chars.next().expect("escape at the end") {
                        'n' => value.push('\n'),
                        'r' => value.push('\r'),
                        't' => value.push('\t'),
                        'u' => {
                            let hex: String =
                                chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                            value.push(
                                char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap(),
                            );
                        }
                        c @ ('\\' | '"') => value.push(c),
                        other => panic!("unknown escape \\{other}"),
                    },
                    c => value.push(c),
                }
            }
            literals.push(value);
        }
        (skeleton, literals)
    }

    /// The skeleton with heading labels (which come from the heading's text) blanked.
    fn structure(markup: &str) -> String {
        let (skeleton, _) = split_literals(markup);
        let mut out = String::new();
        let mut rest = skeleton.as_str();
        while let Some(at) = rest.find(" <h") {
            out.push_str(&rest[..at]);
            let end = rest[at..].find('>').unwrap() + at;
            out.push_str(" <label>");
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }

    const HOSTILE: &[&str] = &[
        "#import \"x\": *",
        "#{panic()} #let x = 1",
        "$x^2$ and $ y $",
        "<label> and @ref and @h1-title",
        "= heading",
        "- list",
        "+ numbered",
        "/ term: x",
        "back\\slash \\u{41} \\",
        "`raw` and ```raw block```",
        "*strong* _emph_ **both**",
        "// comment /* block */",
        "https://example.com/path and http://x",
        "~ -- --- ... 'single' \"double\"",
        "[content] ]unbalanced[ {braces}",
        "ends with a backslash\\",
        "a\"; #panic(); \"",
        "tab\there",
    ];

    /// Every place item text lands: the text is the tool's own escaping of `text`, as
    /// the templates write it.
    fn document_with(text: &str) -> String {
        let t = crate::html::escape_commonmark(text);
        format!(
            "# Title {t}\n\n## {t}\n\nA paragraph: {t}.\n\n- {t}\n  - nested {t}\n\n1. {t}\n\n> {t}\n\n| Head {t} | B |\n| --- | --- |\n| {t} | x |\n\n**Gap: {t}**\n\n*{t}* ~~{t}~~ [{t}](https://example.com)\n\n![{t}](missing.png)\n"
        )
    }

    #[test]
    fn hostile_text_prints_and_never_executes() {
        let plain = to_typst(&document_with("x")).markup;
        for text in HOSTILE {
            let markup = to_typst(&document_with(text)).markup;
            // The structure does not depend on the text: nothing in it became markup.
            assert_eq!(structure(&markup), structure(&plain), "{text}:\n{markup}");
            // And all of it prints.
            let (_, literals) = split_literals(&markup);
            let printed = literals.join("|");
            let count = printed.matches(text).count();
            assert!(count >= 11, "{text} printed {count} times:\n{printed}");
        }
    }

    #[test]
    fn markdown_markup_inside_text_stays_markdown_not_typst() {
        let markup = to_typst("Price: $5 for #1 @home <b>bold</b> = fine").markup;
        assert_eq!(
            markup,
            "#\"Price: $5 for #1 @home \"#\"<b>\"#\"bold\"#\"</b>\"#\" = fine\"\n"
                .replace("\"#\"", "")
        );
    }

    #[test]
    fn string_literals_escape_backslash_quote_and_control_characters() {
        assert_eq!(typst_string("a\\\"b\n\u{1}"), "\"a\\\\\\\"b\\n\\u{1}\"");
        let (_, literals) = split_literals(&typst_string("x\\u{41}\"\t"));
        assert_eq!(literals, ["x\\u{41}\"\t"]);
    }

    #[test]
    fn headings_keep_levels_and_get_unique_labels() {
        let markup = to_typst("# Title\n\n## 1. Scope\n\n### Scope\n\n## 1. Scope\n").markup;
        assert!(
            markup.contains("#heading(level: 1)[#\"Title\"] <h1-title>"),
            "{markup}"
        );
        assert!(
            markup.contains("#heading(level: 2)[#\"1. Scope\"] <h2-1-scope>"),
            "{markup}"
        );
        assert!(
            markup.contains("#heading(level: 3)[#\"Scope\"] <h3-scope>"),
            "{markup}"
        );
        // mdBook numbers a repeated anchor.
        assert!(markup.contains("<h4-1-scope-1>"), "{markup}");
    }

    #[test]
    fn links_go_only_where_they_can_land() {
        let md = "# Doc\n\n## Two words\n\n[web](https://example.com/a?b=\"c\") [mail](mailto:a@b.example) <x@y.example> [here](#two-words) [nowhere](#missing) [other](threat-model.md#2-assets) [bad](javascript:alert(1)) [file](../items/REQ-1.yaml)\n";
        let markup = to_typst(md).markup;
        for expected in [
            "#link(\"https://example.com/a?b=\\\"c\\\"\")[#\"web\"]",
            "#link(\"mailto:a@b.example\")[#\"mail\"]",
            "#link(\"mailto:x@y.example\")[#\"x@y.example\"]",
            "#link(<h2-two-words>)[#\"here\"]",
            "#\" \"#\"nowhere\"#\" \"",
            "#link(\"threat-model.pdf\")[#\"other\"]",
            "#\" \"#\"bad\"#\" \"",
        ] {
            assert!(markup.contains(expected), "{expected} in\n{markup}");
        }
        let (_, literals) = split_literals(&markup);
        assert!(
            literals.contains(&" (../items/REQ-1.yaml)".to_owned()),
            "{literals:?}"
        );
        assert!(!markup.contains("javascript"), "{markup}");
    }

    #[test]
    fn svg_data_images_are_decoded_and_other_images_are_marked() {
        let svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"1\" height=\"1\"/></svg>";
        // A picture taller than a page holds is set by its height instead.
        assert_eq!(
            picture_size(b"<svg width=\"742\" height=\"1258\">"),
            "height: 21cm"
        );
        assert_eq!(
            picture_size(b"<svg width=\"742\" height=\"600\">"),
            "width: 100%"
        );
        let data = base64::engine::general_purpose::STANDARD.encode(svg);
        let md = format!(
            "![Data flow](data:image/svg+xml;base64,{data})\n\n![Heat map](data:image/svg+xml;base64,{data})\n\n![broken](data:image/svg+xml;base64,!!!)\n\n![photo](/etc/passwd)\n"
        );
        let converted = to_typst(&md);
        let names: Vec<&str> = converted.images.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["img-1.svg", "img-2.svg"]);
        assert_eq!(converted.images[0].svg, svg.as_bytes());
        let markup = &converted.markup;
        assert!(
            markup.contains(
                "#image(\"img-1.svg\", format: \"svg\", width: 100%, alt: \"Data flow\")"
            ),
            "{markup}"
        );
        assert!(markup.contains("#image(\"img-2.svg\""), "{markup}");
        assert!(
            markup.contains("image not embedded: data URL that is not a valid SVG"),
            "{markup}"
        );
        let (_, literals) = split_literals(markup);
        assert!(
            literals
                .iter()
                .any(|l| l == "image not embedded: /etc/passwd"),
            "{markup}"
        );
        assert!(
            markup.contains("#text(fill: rgb(\"#c00000\"))[#emph["),
            "{markup}"
        );
    }

    #[test]
    fn gaps_are_red_and_other_strong_text_is_not() {
        let markup = to_typst("**Gap: no owner** and **Device:** x").markup;
        assert!(
            markup.starts_with("#text(fill: rgb(\"#c00000\"))[#strong[#\"Gap: no owner\"]]"),
            "{markup}"
        );
        assert!(markup.contains(" and \"#strong[#\"Device:\"]"), "{markup}");
    }

    #[test]
    fn tables_align_columns_and_repeat_their_header() {
        let md = "| L | C | R | N |\n| :-- | :-: | --: | --- |\n| a | b | c | d |\n| short |\n";
        let markup = to_typst(md).markup;
        assert!(
            markup.contains("  columns: 4,\n  align: (left, center, right, left,),\n"),
            "{markup}"
        );
        assert!(
            markup.contains("table.header(repeat: true, [#\"L\"], [#\"C\"], [#\"R\"], [#\"N\"]),"),
            "{markup}"
        );
        assert!(
            markup.contains("  [#\"a\"], [#\"b\"], [#\"c\"], [#\"d\"],\n"),
            "{markup}"
        );
        // A short row is padded, so the next row starts in the first column.
        assert!(markup.contains("  [#\"short\"], [], [], [],\n"), "{markup}");
    }

    fn table_rows(rows: usize) -> String {
        let mut md = String::from("| Id | Title | Status |\n| --- | --- | --- |\n");
        for row in 0..rows {
            md.push_str(&format!(
                "| REQ-{row} | A requirement *with* text {row} | ok |\n"
            ));
        }
        md
    }

    fn fastest(md: &str) -> Duration {
        (0..3)
            .map(|_| {
                let start = Instant::now();
                let converted = to_typst(md);
                std::hint::black_box(converted);
                start.elapsed()
            })
            .min()
            .unwrap()
    }

    #[test]
    fn a_2000_row_table_converts_in_linear_time() {
        let small = table_rows(2_000);
        let markup = to_typst(&small).markup;
        assert_eq!(markup.matches("[#\"REQ-").count(), 2_000);
        assert!(markup.contains(
            "[#\"REQ-1999\"], [#\"A requirement \"#emph[#\"with\"]#\" text 1999\"], [#\"ok\"],"
        ));
        let large = table_rows(16_000);
        let (small, large) = (fastest(&small), fastest(&large));
        // 8 times the rows; quadratic work would take 64 times as long.
        assert!(
            large < small * 24 + Duration::from_millis(20),
            "{small:?} -> {large:?}"
        );
    }

    #[test]
    fn lists_nest_number_and_know_tight_from_loose() {
        let md = "- one\n  - two\n    1. three\n    2. four\n- [x] done\n- [ ] open\n\n10. loose\n\n11. list\n";
        let markup = to_typst(md).markup;
        assert_eq!(
            markup,
            "#list(tight: true,\n  [#\"one\"\n#list(tight: true,\n  [#\"two\"\n#enum(start: 1, tight: true,\n  [#\"three\"],\n  [#\"four\"],\n)],\n)],\n  [#\"[x] done\"],\n  [#\"[ ] open\"],\n)\n\n#enum(start: 10, tight: false,\n  [#\"loose\"],\n  [#\"list\"],\n)\n"
        );
    }

    #[test]
    fn hostile_nesting_is_flattened_and_keeps_its_text() {
        let md = format!("{} deep *text*\n", ">".repeat(5_000));
        let markup = to_typst(&md).markup;
        assert_eq!(
            markup.matches("#quote(").count(),
            MAX_CONTAINERS,
            "{markup}"
        );
        assert!(markup.contains("[#\"deep \"#emph[#\"text\"]]"), "{markup}");
        let md = format!("{}item\n", "- ".repeat(2_000));
        let markup = to_typst(&md).markup;
        assert_eq!(markup.matches("#list(").count(), MAX_CONTAINERS, "{markup}");
        assert!(markup.contains("#\"item\""));
        let md = format!("{}x{}\n", "*".repeat(3_000), "*".repeat(3_000));
        let markup = to_typst(&md).markup;
        assert!(markup.matches('[').count() <= MAX_DEPTH, "{markup}");
        assert!(markup.contains("#\"x\""));
    }

    #[test]
    fn code_html_breaks_and_rules() {
        let md = "Inline `a \"b\" \\c` code.\n\n```rust title=\"x\"\nfn main() {\n    println!(\"#hi\");\n}\n```\n\n```bad\"lang\nx\n```\n\nline one  \nline two\nsoft\n\n---\n\n<div>raw *html*</div>\n\n~~gone~~\n";
        let markup = to_typst(md).markup;
        for expected in [
            "#raw(\"a \\\"b\\\" \\\\c\")",
            "#raw(\"fn main() {\\n    println!(\\\"#hi\\\");\\n}\", block: true, lang: \"rust\")",
            "#raw(\"x\", block: true)\n",
            "#\"line one\"#linebreak()\n#\"line two soft\"",
            "#line(length: 100%)",
            "#\"<div>raw *html*</div>\"",
            "#strike[#\"gone\"]",
        ] {
            assert!(markup.contains(expected), "{expected} in\n{markup}");
        }
    }

    #[test]
    fn long_tokens_break_but_ids_stay_whole() {
        let url = "https://example.com/a/very/long/path/to/some_resource.json?query=value";
        let text = format!("see {url} and AST-DATA-FW-IMAGE-WITH-A-LONG-NAME");
        let cut = pieces(&text);
        assert_eq!(cut.concat(), text);
        assert_eq!(cut[..4], ["see https:", "/", "/", "example."]);
        assert!(
            cut.last()
                .unwrap()
                .ends_with(" AST-DATA-FW-IMAGE-WITH-A-LONG-NAME"),
            "{cut:?}"
        );
        let hash = "0123456789abcdef".repeat(4);
        assert_eq!(pieces(&hash).len(), 4);
        assert_eq!(pieces("short/path"), ["short/path"]);
        assert_eq!(
            to_typst(&format!("`{hash}`")).markup,
            "#raw(\"0123456789abcdef0123\")#h(0pt)#raw(\"456789abcdef01234567\")#h(0pt)#raw(\"89abcdef0123456789ab\")#h(0pt)#raw(\"cdef\")\n"
        );
    }

    /// `tests/cases/pdf-markup/NAME/input.md` converts to `expected.typ` (and to the
    /// `img-N.svg` files beside it). `UPDATE_SNAPSHOTS=1` rewrites them for review.
    #[test]
    fn golden_cases() {
        let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/pdf-markup");
        let update =
            std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| !v.is_empty() && v != "0");
        let mut names: Vec<_> = std::fs::read_dir(&cases)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        assert!(names.len() >= 3, "{names:?}");
        for case in names {
            let input = std::fs::read_to_string(case.join("input.md")).unwrap();
            let converted = to_typst(&input);
            let mut files = vec![("expected.typ".to_owned(), converted.markup.into_bytes())];
            files.extend(converted.images.into_iter().map(|i| (i.name, i.svg)));
            for (name, actual) in files {
                let path = case.join(&name);
                if update {
                    std::fs::write(&path, &actual).unwrap();
                    continue;
                }
                let expected = std::fs::read(&path).unwrap_or_else(|e| {
                    panic!("{}: {e}; write it with UPDATE_SNAPSHOTS=1", path.display())
                });
                assert!(
                    expected == actual,
                    "{} differs (UPDATE_SNAPSHOTS=1 rewrites it; then review `git diff`):\n{}",
                    path.display(),
                    String::from_utf8_lossy(&actual)
                );
            }
        }
    }
}
