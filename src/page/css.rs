//! The pages' style blocks, from the `.css` files in `css/`: each file's rules, one per
//! line there, become one `<style>` line here, at compile time, so a block stays a single
//! line of Markdown wherever it is placed (in a list, in a block quote).

/// `<style>`, the CSS file's text without its line breaks, `</style>`.
macro_rules! style {
    ($file:literal) => {{
        const BLOCK: &str = concat!("<style>", include_str!($file), "</style>");
        const ONE_LINE: [u8; one_line_len(BLOCK)] = one_line(BLOCK);
        match std::str::from_utf8(&ONE_LINE) {
            Ok(style) => style,
            Err(_) => panic!(concat!($file, ": removing line breaks cannot break UTF-8")),
        }
    }};
}

/// Cards, tables and matrices (`page::STYLE`).
pub(crate) const QMS: &str = style!("css/qms.css");
/// The data-flow diagram.
pub(crate) const DFD: &str = style!("css/dfd.css");
/// The risk heat maps.
pub(crate) const HEATMAP: &str = style!("css/heatmap.css");
/// The STRIDE table.
pub(crate) const STRIDE: &str = style!("css/stride.css");
/// A security use case's sequence diagram.
pub(crate) const SEQUENCE: &str = style!("css/sequence.css");

/// How many bytes `text` has that are not line breaks (`\n`, or `\r` from a checkout
/// with Windows line endings).
const fn one_line_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut i, mut len) = (0, 0);
    while i < bytes.len() {
        if !matches!(bytes[i], b'\n' | b'\r') {
            len += 1;
        }
        i += 1;
    }
    len
}

/// `text` without its line breaks; `N` is [`one_line_len`] of it.
const fn one_line<const N: usize>(text: &str) -> [u8; N] {
    let bytes = text.as_bytes();
    let mut out = [0; N];
    let (mut i, mut len) = (0, 0);
    while i < bytes.len() {
        if !matches!(bytes[i], b'\n' | b'\r') {
            out[len] = bytes[i];
            len += 1;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_style_is_one_line_with_every_rule() {
        for (style, css) in [
            (super::QMS, include_str!("css/qms.css")),
            (super::DFD, include_str!("css/dfd.css")),
            (super::HEATMAP, include_str!("css/heatmap.css")),
            (super::STRIDE, include_str!("css/stride.css")),
            (super::SEQUENCE, include_str!("css/sequence.css")),
        ] {
            assert!(!style.contains('\n'), "{style}");
            assert_eq!(
                style,
                format!("<style>{}</style>", css.lines().collect::<String>())
            );
        }
    }
}
