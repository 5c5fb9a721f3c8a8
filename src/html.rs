//! Escaping and safe Markdown.
//!
//! Item data is untrusted: it may only become text in the book. The one exception is
//! Markdown the author wrote as Markdown (`text` and fields marked
//! `contentMediaType: text/markdown`), which we render ourselves so that raw HTML in it
//! is shown as text and links can only use harmless schemes.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};

/// The character reference HTML text needs instead of `c`, if any.
fn html_reference(c: char) -> Option<&'static str> {
    Some(match c {
        '&' => "&amp;",
        '<' => "&lt;",
        '>' => "&gt;",
        '"' => "&quot;",
        '\'' => "&#39;",
        // mdBook's `{{#...}}` preprocessors must not see directives in item data.
        '{' => "&#123;",
        _ => return None,
    })
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match html_reference(c) {
            Some(reference) => out.push_str(reference),
            // Newlines would let text end the HTML block the card is written as.
            None if c == '\n' => out.push_str("&#10;"),
            None => out.push(c),
        }
    }
    out
}

/// Escapes item text for Markdown that mdBook renders: HTML characters and mdBook's
/// `{{#...}}` as character references, and the Markdown punctuation that would start
/// emphasis, links, code, table cells or headings, so text stays text wherever it lands.
pub(crate) fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match html_reference(c).or_else(|| markdown_reference(c)) {
            Some(reference) => out.push_str(reference),
            None if c == '\n' || c == '\r' => out.push(' '),
            None => out.push(c),
        }
    }
    out
}

/// The character reference Markdown text needs instead of `c`, beyond HTML's.
fn markdown_reference(c: char) -> Option<&'static str> {
    Some(match c {
        '}' => "&#125;",
        '|' => "&#124;",
        '*' => "&#42;",
        '_' => "&#95;",
        '`' => "&#96;",
        '[' => "&#91;",
        ']' => "&#93;",
        '\\' => "&#92;",
        '#' => "&#35;",
        '!' => "&#33;",
        '~' => "&#126;",
        '$' => "&#36;",
        _ => return None,
    })
}

/// An HTML fragment made fit for a Markdown table cell: `|` would end the cell even
/// inside an attribute.
pub(crate) fn in_table_cell(html: &str) -> String {
    html.replace('|', "&#124;")
}

/// XML element text: markup characters escaped, characters XML 1.0 cannot hold replaced.
pub(crate) fn xml_text(s: &str) -> String {
    escape_xml(s, false)
}

/// An XML attribute value: as [`xml_text`], and line breaks and tabs as character references so
/// that a reader's attribute normalisation keeps them.
pub(crate) fn xml_attr(s: &str) -> String {
    escape_xml(s, true)
}

fn escape_xml(s: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attribute => out.push_str("&quot;"),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\r' if in_attribute => out.push_str("&#13;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            '\n' | '\r' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Renders Markdown to an HTML fragment with raw HTML escaped, unsafe link schemes
/// dropped, and no blank lines (so the fragment stays one CommonMark HTML block).
pub(crate) fn markdown(text: &str) -> String {
    let mut in_code_block = false;
    let events = Parser::new_ext(
        text,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS,
    )
    .map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        event @ Event::Start(Tag::Link { .. } | Tag::Image { .. }) => with_safe_url(event),
        Event::Start(Tag::CodeBlock(kind)) => {
            in_code_block = true;
            Event::Start(Tag::CodeBlock(kind))
        }
        Event::End(TagEnd::CodeBlock) => {
            in_code_block = false;
            Event::End(TagEnd::CodeBlock)
        }
        Event::Text(t) if in_code_block => {
            // Newlines in code are kept as character references.
            Event::Html(CowStr::from(escape(&t)))
        }
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    // `{` as a character reference everywhere (text and attributes alike), so mdBook's
    // `{{#include}}` can never see a directive that came from item data.
    collapse_blank_lines(out.trim_end()).replace('{', "&#123;")
}

/// A link or image whose destination is [`safe_url`]; other events unchanged.
fn with_safe_url(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    }
}

/// Only relative links, fragments and http(s)/mailto survive; `javascript:` and the like
/// become `#`.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let scheme = lower.split_once(':').map(|(s, _)| s);
    let safe = match scheme {
        None => true,
        Some(s) if s.contains('/') || s.contains('#') || s.contains('?') => true,
        Some("http" | "https" | "mailto") => true,
        Some(_) => false,
    };
    if safe {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

fn collapse_blank_lines(html: &str) -> String {
    html.lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Renders Markdown that mdbook-qms generated itself (its untrusted parts already
/// escaped, e.g. the history line of a card): inline HTML is kept, the result is one
/// HTML block with `{` as a character reference.
pub(crate) fn generated_markdown(text: &str) -> String {
    let mut out = String::new();
    html::push_html(&mut out, Parser::new(text));
    collapse_blank_lines(out.trim_end()).replace('{', "&#123;")
}

/// Decodes the character references [`escape`] writes (and numeric ones), for text
/// taken back out of HTML this crate wrote.
pub(crate) fn unescape(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "rarr" => '→',
                _ => {
                    let number = name.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escapes item text for standalone Markdown (`render`, the export bundle): plain
/// CommonMark that a person pastes into another document, so punctuation that would
/// start emphasis, links, code, HTML, table cells, headings or list items is
/// backslash-escaped (no character references), and line breaks become spaces.
pub(crate) fn escape_commonmark(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_alphanumeric() || " ,;:()/'\"?%@".contains(c));
    if plain {
        return text.to_owned();
    }
    let one_line = text.replace(['\r', '\n'], " ");
    // The value lands inside a line: a leading no-break space (Unicode whitespace, as a
    // space before the value would be) keeps the writer from escaping what only matters
    // at the start of a line, and makes it escape what a preceding space would open.
    let events = [
        Event::Start(Tag::Paragraph),
        Event::Text(CowStr::from(format!("\u{a0}{one_line}"))),
        Event::End(TagEnd::Paragraph),
    ];
    let mut out = String::new();
    let written = pulldown_cmark_to_cmark::cmark(events.iter(), &mut out, Options::empty());
    // The writer ends the paragraph with a line break; the text's own trailing spaces
    // (between two parts of a line) stay.
    let trailing = &one_line[one_line.trim_end().len()..];
    match (written, out.trim_end().strip_prefix('\u{a0}')) {
        (Ok(_), Some(inline)) => {
            let escaped = escape_pipes(&escape_mdbook_directives(&backslash_ampersands(inline)));
            format!("{}{trailing}", escape_line_start(&escaped))
        }
        // Writing to a String does not fail; if the writer ever does, no markup may
        // slip through: every ASCII punctuation character is escaped.
        _ => one_line
            .chars()
            .flat_map(|c| {
                let escape = c.is_ascii_punctuation().then_some('\\');
                escape.into_iter().chain([c])
            })
            .collect(),
    }
}

/// The writer escapes every `&` of the text as `&amp;`; `\&` says the same without a
/// character reference.
fn backslash_ampersands(markdown: &str) -> String {
    markdown.replace("&amp;", "\\&")
}

/// `{{#` as mdBook's own escape `\{{#`: pasted into an mdBook chapter, item text never
/// runs `{{#include}}`; elsewhere `\{` is CommonMark's escaped `{`.
fn escape_mdbook_directives(markdown: &str) -> String {
    markdown.replace("{{#", "\\{{#")
}

/// Every `|` that is not already escaped (an even number of backslashes before it) as
/// `\|`: the writer leaves `|` alone outside tables, but the text may land in a cell.
fn escape_pipes(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut backslashes = 0;
    for c in markdown.chars() {
        if c == '|' && backslashes % 2 == 0 {
            out.push('\\');
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
        out.push(c);
    }
    out
}

/// Escapes what would make `text` a block if a template put it at the start of a line:
/// a heading, bullet item, block quote or setext underline. A leading `1. ` stays: the
/// templates print numbered section titles after `## `, where `1\.` would be noise, and
/// no value is printed where a number would start a list.
fn escape_line_start(text: &str) -> String {
    let marker_then_space = |marker: usize| {
        text[marker..]
            .chars()
            .nth(1)
            .is_none_or(|c| c == ' ' || c == '\t')
    };
    let starts_block = match text.chars().next() {
        Some('>') => true,
        Some('#') => marker_then_space(text.len() - text.trim_start_matches('#').len() - 1),
        Some('-' | '+' | '*') if marker_then_space(0) => true,
        Some(c @ ('=' | '-')) => text.trim_end().chars().all(|d| d == c),
        _ => false,
    };
    if starts_block {
        format!("\\{text}")
    } else {
        text.to_owned()
    }
}

/// Markdown the author wrote, for standalone Markdown: parsed and written back as
/// CommonMark with raw HTML shown as text and unsafe link schemes dropped, as
/// [`markdown`] does for the book. `inline` makes it one line (paragraphs joined, `|`
/// escaped) for a table cell.
pub(crate) fn standalone_markdown(text: &str, inline: bool) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events: Vec<Event<'_>> = Parser::new_ext(text, options)
        .map(|event| match event {
            Event::Html(raw) | Event::InlineHtml(raw) => {
                Event::Text(CowStr::from(raw.trim_end().replace('\n', " ")))
            }
            Event::SoftBreak => Event::Text(CowStr::Borrowed(" ")),
            // Raw HTML blocks become paragraphs of text, so the writer escapes them.
            Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
            Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
            event @ Event::Start(Tag::Link { .. } | Tag::Image { .. }) => with_safe_url(event),
            other => other,
        })
        .collect();
    let mut out = String::new();
    if pulldown_cmark_to_cmark::cmark(events.iter(), &mut out, options).is_err() {
        return escape_commonmark(text);
    }
    let out = escape_mdbook_directives(&backslash_ampersands(out.trim()));
    let out = out.as_str();
    if inline {
        // GFM ends a table cell at `|` even inside a code span, unless escaped.
        escape_pipes(out)
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        out.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_text_text() {
        assert_eq!(
            escape_markdown("<script>{{#include x}}</script>"),
            "&lt;script&gt;&#123;&#123;&#35;include x&#125;&#125;&lt;/script&gt;"
        );
        assert_eq!(
            escape_markdown("a|b *c* [d](e)"),
            "a&#124;b &#42;c&#42; &#91;d&#93;(e)"
        );
    }

    /// Whatever the text, Markdown renders it back as that text: no link, emphasis, code,
    /// table cell, heading or HTML (history subjects and document fields rely on it).
    #[test]
    fn escaped_markdown_renders_as_the_text() {
        let text = r#"[x](javascript:alert(1)) <b>*a* _b_ `c` | d # e ! ~f~ {{#include x}} $g$ \ 'h' "i" &amp;"#;
        let html = escape(text)
            .replace("&#39;", "'")
            .replace("&quot;", "\"")
            .replace("&#123;", "{");
        assert_eq!(
            generated_markdown(&escape_markdown(text)),
            format!("<p>{html}</p>").replace('{', "&#123;")
        );
    }

    /// Standalone Markdown escapes with backslashes, and still renders as the text.
    #[test]
    fn commonmark_escaping_renders_as_the_text() {
        let cases = [
            r#"[x](javascript:alert(1)) <b>*a* _b_ `c` | d # e ! ~f~ {{#include x}} $g$ \ 'h' "i" &amp;"#,
            "- not a list",
            "# not a heading",
            "snake_case_name",
            "Plain title, version 3.2 (AF3-100)",
            "CVSS 3.1",
            "3.1",
            "+ plus",
            "> quote",
            "===",
            "_a_ and *b*",
            "R&D &amp; more",
        ];
        for text in cases {
            let escaped = escape_commonmark(text);
            assert!(!escaped.contains("&#"), "{escaped}");
            let mut html = String::new();
            html::push_html(
                &mut html,
                Parser::new_ext(
                    &escaped,
                    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
                ),
            );
            let expected = escape(text)
                .replace("&#39;", "'")
                .replace("&quot;", "\"")
                .replace("&#123;", "{");
            assert_eq!(html.trim(), format!("<p>{expected}</p>"), "{text}");
        }
        // No noise where none is needed.
        assert_eq!(escape_commonmark("snake_case_name"), "snake_case_name");
        assert_eq!(escape_commonmark("3.1"), "3.1");
        assert_eq!(escape_commonmark("1. Scope"), "1. Scope");
        assert_eq!(escape_commonmark("R&D"), "R\\&D");
        assert_eq!(
            escape_commonmark("has no *x* "),
            "has no \\*x\\* ",
            "trailing space kept"
        );
        assert_eq!(escape_commonmark("AF3-100 v3.2.0"), "AF3-100 v3.2.0");
    }

    #[test]
    fn standalone_markdown_keeps_markdown_and_shows_html_as_text() {
        let text = "A *safe* [link](https://example.com) and [bad](javascript:alert(1)).\n<script>x</script>\n\n- one\n- two";
        let block = standalone_markdown(text, false);
        assert!(block.contains("*safe*"), "{block}");
        assert!(block.contains("(https://example.com)"), "{block}");
        assert!(!block.contains("javascript"), "{block}");
        assert!(block.contains("\\<script>x\\</script>"), "{block}");
        assert!(block.contains("\n\n"), "paragraphs stay apart: {block}");
        let cell = standalone_markdown("a `x|y` b\n\nsecond | paragraph", true);
        assert!(!cell.contains('\n'), "{cell}");
        assert!(!cell.replace("\\|", "").contains('|'), "{cell}");
    }

    #[test]
    fn unescape_reverses_escape() {
        let text = "<a href=\"x\">'Tom' & {{#include}}\n";
        assert_eq!(unescape(&escape(text)), text);
        assert_eq!(unescape("&#x41;&#66; & &bogus; &"), "AB & &bogus; &");
    }

    #[test]
    fn attributes_keep_line_breaks_and_drop_control_characters() {
        assert_eq!(
            xml_attr("a\n\"b\"\u{1}<"),
            "a&#10;&quot;b&quot;\u{FFFD}&lt;"
        );
    }
}
