//! Escaping and safe Markdown.
//!
//! Item data is untrusted: it may only become text in the book. The one exception is
//! Markdown the author wrote as Markdown (`text` and fields marked
//! `contentMediaType: text/markdown`), which we render ourselves so that raw HTML in it
//! is shown as text and links can only use harmless schemes.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // mdBook's `{{#...}}` preprocessors must not see directives in item data.
            '{' => out.push_str("&#123;"),
            // Newlines would let text end the HTML block the card is written as.
            '\n' => out.push_str("&#10;"),
            _ => out.push(c),
        }
    }
    out
}

/// Renders Markdown to an HTML fragment with raw HTML escaped, unsafe link schemes
/// dropped, and no blank lines (so the fragment stays one CommonMark HTML block).
pub fn markdown(text: &str) -> String {
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
pub fn generated_markdown(text: &str) -> String {
    let mut out = String::new();
    html::push_html(&mut out, Parser::new(text));
    collapse_blank_lines(out.trim_end()).replace('{', "&#123;")
}
