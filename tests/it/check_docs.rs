//! The user guide lists every diagnostic code (ARCHITECTURE.md: "a test keeps the two in
//! step"), and lists no code that does not exist.

use mdbook_qms::diag::CODES;

fn guide() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("book/diagnostics.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Whether `code` appears as a whole word (not as part of a longer code).
fn mentions(text: &str, code: &str) -> bool {
    let is_code_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(code).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + code.len()..].chars().next();
        !before.is_some_and(is_code_char) && !after.is_some_and(is_code_char)
    })
}

#[test]
fn every_code_is_documented() {
    let text = guide();
    let missing: Vec<&str> = CODES
        .iter()
        .map(|c| c.code)
        .filter(|c| !mentions(&text, c))
        .collect();
    assert!(
        missing.is_empty(),
        "book/diagnostics.md does not list: {missing:?}"
    );
}

#[test]
fn documented_codes_exist() {
    let text = guide();
    // Codes are documented as headings: `### code-name`.
    let unknown: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(|h| h.trim().trim_matches('`'))
        .filter(|h| h.contains('-') && h.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .filter(|h| !CODES.iter().any(|c| c.code == *h))
        .collect();
    assert!(
        unknown.is_empty(),
        "book/diagnostics.md documents unknown codes: {unknown:?}"
    );
}

#[test]
fn every_code_has_exactly_one_section() {
    let text = guide();
    let wrong: Vec<(&str, usize)> = CODES
        .iter()
        .map(|c| {
            let heading = format!("### {}", c.code);
            (c.code, text.lines().filter(|l| l.trim() == heading).count())
        })
        .filter(|(_, n)| *n != 1)
        .collect();
    assert!(
        wrong.is_empty(),
        "codes without exactly one `### code` section in book/diagnostics.md: {wrong:?}"
    );
}
