//! Commit trailers that link commits to items: `Implements: REQ-1, REQ-2`.
//!
//! Trailers are read the way `git interpret-trailers` reads them (the last paragraph of
//! the message, `Key: value` lines), through the git layer's parser. Names compare
//! case-insensitively, as git does; values are ids separated by commas or spaces.

/// A trailer naming items: its configured name (as configured, not as written) and ids.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Trailer {
    pub(crate) name: String,
    pub(crate) ids: Vec<String>,
}

/// The trailers of `message` whose key is one of `names`, in message order.
pub(crate) fn parse(message: &str, names: &[String]) -> Vec<Trailer> {
    let mut out = Vec::new();
    for (key, value) in crate::git::trailers(message) {
        let Some(name) = names.iter().find(|n| n.eq_ignore_ascii_case(key.trim())) else {
            continue;
        };
        let ids: Vec<String> = value
            .split([',', ' ', '\t', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if !ids.is_empty() {
            out.push(Trailer {
                name: name.clone(),
                ids,
            });
        }
    }
    out
}

/// The trailer that makes a commit or tag an approval record.
pub(crate) const APPROVED: &str = "Approved";
/// The trailers of an approval record: what it approves, its meaning, and the content
/// hash of each approved document.
pub(crate) const APPROVAL: [&str; 3] = [APPROVED, "Approval-Meaning", "Approved-Content"];

/// The approval trailers of `message` ([`APPROVAL`]), in message order.
pub(crate) fn approval(message: &str) -> Vec<Trailer> {
    if !message.contains(':') {
        return Vec::new();
    }
    parse(message, &APPROVAL.map(String::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["Implements", "Verifies", "Reviewed"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn reads_the_trailer_block() {
        let msg = "Add login\n\nBody text.\nImplements: not-a-trailer\n\nImplements: REQ-1, REQ-2\nverifies: TST-1\nSigned-off-by: A <a@b>\n";
        let t = parse(msg, &names());
        assert_eq!(
            t,
            vec![
                Trailer {
                    name: "Implements".into(),
                    ids: vec!["REQ-1".into(), "REQ-2".into()]
                },
                Trailer {
                    name: "Verifies".into(),
                    ids: vec!["TST-1".into()]
                },
            ]
        );
    }

    #[test]
    fn a_subject_alone_has_no_trailers() {
        assert!(parse("Implements: REQ-1", &names()).is_empty());
    }
}
