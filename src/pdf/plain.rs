//! A stand-in Markdown -> Typst converter: headings (so the PDF has its outline), one
//! paragraph per block, every other character printed as text, and the SVG pictures
//! the standalone Markdown carries as `data:` URLs. `markup::to_typst` (tables, lists,
//! emphasis, links) replaces it; both have the same interface.

use base64::Engine as _;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// A document's body as Typst markup and the pictures it shows by name.
pub(crate) struct Converted {
    /// Typst markup: item text escaped, pictures as `image("NAME", format: "svg")`.
    pub(crate) markup: String,
    /// The pictures, by the name the markup uses, with their SVG bytes.
    pub(crate) images: Vec<Image>,
}

/// One SVG picture of the Markdown, served to Typst as a file beside the main one.
pub(crate) struct Image {
    /// The file name the markup uses.
    pub(crate) name: String,
    /// The SVG document.
    pub(crate) svg: Vec<u8>,
}

/// `markdown` as Typst markup.
pub(crate) fn to_typst(markdown: &str) -> Converted {
    let mut out = Converted {
        markup: String::new(),
        images: Vec::new(),
    };
    let mut in_image = false;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                out.markup.push_str(&"=".repeat(level as usize));
                out.markup.push(' ');
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                in_image = true;
                if let Some(svg) = svg_data(&dest_url) {
                    let name = format!("img-{}.svg", out.images.len() + 1);
                    out.markup
                        .push_str(&format!("#image(\"{name}\", format: \"svg\")\n\n"));
                    out.images.push(Image { name, svg });
                }
            }
            Event::End(TagEnd::Image) => in_image = false,
            // An image's text is its description, shown by the picture itself.
            Event::Text(_) if in_image => {}
            Event::Text(text) | Event::Code(text) | Event::Html(text) | Event::InlineHtml(text) => {
                out.markup.push_str(&escape(&text))
            }
            Event::SoftBreak | Event::HardBreak => out.markup.push(' '),
            Event::End(TagEnd::TableCell) => out.markup.push_str(" \\| "),
            Event::End(
                TagEnd::Heading(_)
                | TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::TableHead
                | TagEnd::TableRow
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_),
            ) => out.markup.push_str("\n\n"),
            _ => {}
        }
    }
    out
}

/// The SVG of a `data:image/svg+xml;base64,` URL; any other picture is left out.
fn svg_data(url: &str) -> Option<Vec<u8>> {
    let data = url.strip_prefix("data:image/svg+xml;base64,")?;
    base64::engine::general_purpose::STANDARD.decode(data).ok()
}

/// Text as Typst markup that prints it: every ASCII punctuation character escaped with a
/// backslash (none can start markup then), line breaks as spaces.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_print_as_text() {
        let converted = to_typst("# A *b* `#set page(width: 1pt)`\n\n$x$ <y> @z // c");
        assert_eq!(
            converted.markup,
            "= A b \\#set page\\(width\\: 1pt\\)\n\n\\$x\\$ \\<y\\> \\@z \\/\\/ c\n\n"
        );
    }

    #[test]
    fn svg_pictures_are_served_by_name() {
        let converted = to_typst("![DFD](data:image/svg+xml;base64,PHN2Zy8+)");
        let [image] = converted.images.as_slice() else {
            panic!("one picture expected");
        };
        assert_eq!(
            (image.name.as_str(), image.svg.as_slice()),
            ("img-1.svg", &b"<svg/>"[..])
        );
        assert!(converted
            .markup
            .contains("#image(\"img-1.svg\", format: \"svg\")"));
    }
}
