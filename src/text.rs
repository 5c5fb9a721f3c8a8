//! Text utilities every layer shares: ordering ids as people read them, content hashes.

use std::cmp::Ordering;

use sha2::{Digest, Sha256};

/// Whether `text` names `id`: it appears with no id character right before or after
/// it, so `RISK-1` is not found in `RISK-10` or `XRISK-1`.
pub(crate) fn names_id(text: &str, id: &str) -> bool {
    let part_of_id = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    !id.is_empty()
        && text.match_indices(id).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + id.len()..].chars().next();
            !before.is_some_and(part_of_id) && !after.is_some_and(part_of_id)
        })
}

/// The SHA-256 of `bytes` as lower-case hex, as `sha256sum` prints it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares ids so that runs of digits compare as numbers (REQ-2 < REQ-10).
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let key = |s: &str| {
        let mut parts: Vec<(String, u64)> = Vec::new();
        let mut text = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_ascii_digit() {
                let mut n = u64::from(c.to_digit(10).unwrap_or(0));
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n.saturating_mul(10).saturating_add(u64::from(d));
                    chars.next();
                }
                parts.push((std::mem::take(&mut text), n));
            } else {
                text.push(c);
            }
        }
        parts.push((text, u64::MAX));
        parts
    };
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::names_id;

    #[test]
    fn ids_are_named_as_whole_words() {
        assert!(names_id("see RISK-1, and", "RISK-1"));
        assert!(names_id("RISK-1", "RISK-1"));
        assert!(!names_id("see RISK-10", "RISK-1"));
        assert!(!names_id("XRISK-1", "RISK-1"));
        assert!(!names_id("anything", ""));
    }
}
