//! Text for a terminal or a CI log: the escaper of the human output formats.
//!
//! Item text, file names, JUnit messages and commit messages are untrusted. Printed raw,
//! an ESC sequence could move the cursor, recolour or erase what a CI log shows, and a
//! bidirectional override could make a line read differently from what it says. Such
//! characters are shown as Rust-style escapes (`\u{1b}`), which also tells the reader
//! exactly what the input holds; in a source line under a caret, as one visible character
//! each (`␛`), so columns stay true.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::io::IsTerminal;

/// Whether the human report on stderr gets colours: only on a terminal, and never when
/// `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
pub fn colour_stderr() -> bool {
    colour_wanted(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

fn colour_wanted(terminal: bool, no_color: Option<&OsStr>) -> bool {
    terminal && no_color.is_none_or(OsStr::is_empty)
}

/// `text` with every control character except line feed and tab, and every
/// bidirectional formatting character, written as `\u{XX}`.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push(&mut out, c);
    }
    Cow::Owned(out)
}

/// Like [`safe`], for one line: a line feed is escaped too.
pub fn safe_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c == '\n' || needs_escape(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\n' {
            out.push_str("\\u{a}");
        } else {
            push(&mut out, c);
        }
    }
    Cow::Owned(out)
}

/// `line` with every character [`safe`] would escape replaced by one visible character
/// instead: a C0 control or DEL by its control picture (`\u{1b}` becomes `␛`), any other
/// by U+FFFD. For source lines under a caret: each character keeps its column, so the
/// caret and the column number stay where they belong. Tabs are kept.
pub(crate) fn one_column(line: &str) -> Cow<'_, str> {
    if !line.chars().any(needs_escape) {
        return Cow::Borrowed(line);
    }
    let visible = |c: char| match u32::from(c) {
        _ if !needs_escape(c) => c,
        n @ 0..=0x1f => char::from_u32(0x2400 + n).unwrap_or('\u{fffd}'),
        0x7f => '\u{2421}',
        _ => '\u{fffd}',
    };
    line.chars().map(visible).collect()
}

fn push(out: &mut String, c: char) {
    if needs_escape(c) {
        out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
    } else {
        out.push(c);
    }
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_and_bidi_but_keeps_lines_and_tabs() {
        assert_eq!(safe("plain\ttext\n"), "plain\ttext\n");
        assert!(matches!(safe("plain"), Cow::Borrowed(_)));
        assert_eq!(safe("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(safe("x\ry\u{7f}\u{9b}"), "x\\u{d}y\\u{7f}\\u{9b}");
        assert_eq!(safe("\u{202e}abc"), "\\u{202e}abc");
        assert_eq!(safe_line("a\nb"), "a\\u{a}b");
    }

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some(OsStr::new(""))));
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, None));
    }

    #[test]
    fn one_column_replaces_each_unsafe_character_by_one_visible_one() {
        assert!(matches!(one_column("plain\ttext"), Cow::Borrowed(_)));
        assert_eq!(one_column("a\u{1b}[2Jb\u{7f}"), "a␛[2Jb␡");
        assert_eq!(one_column("\u{202e}x\u{9b}\r"), "\u{fffd}x\u{fffd}␍");
    }
}
