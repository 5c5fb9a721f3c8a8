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

    #[test]
    fn attributes_keep_line_breaks_and_drop_control_characters() {
        assert_eq!(
            xml_attr("a\n\"b\"\u{1}<"),
            "a&#10;&quot;b&quot;\u{FFFD}&lt;"
        );
    }
}
