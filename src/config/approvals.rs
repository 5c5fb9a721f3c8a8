//! `[preprocessor.qms.approvals]`: where the allowed-signers file is, and which
//! approvals items, documents and releases need (`[[preprocessor.qms.approvals.required]]`).

use std::path::PathBuf;

use toml::de::DeValue;
use toml::Spanned;

use crate::diag::{code, did_you_mean, Diagnostic, Diagnostics};
use crate::source::Span;

/// Keys of `[preprocessor.qms.approvals]`.
const KEYS: &[&str] = &["allowed-signers", "required"];
/// Keys of one `[[preprocessor.qms.approvals.required]]` entry.
const REQUIRED_KEYS: &[&str] = &["type", "document", "release", "where", "roles", "meaning"];

/// The meanings an approval may carry (21 CFR 11.50(a)(3)).
pub(crate) const MEANINGS: &[&str] = &["review", "approval", "responsibility", "authorship"];

/// `[preprocessor.qms.approvals]`.
#[derive(Debug, Clone)]
pub(crate) struct ApprovalsConfig {
    /// The allowed-signers file (ssh-keygen's format), relative to the project folder.
    pub(crate) allowed_signers: PathBuf,
    /// What must be approved, in book.toml order.
    pub(crate) required: Vec<Required>,
}

impl Default for ApprovalsConfig {
    fn default() -> Self {
        ApprovalsConfig {
            allowed_signers: PathBuf::from("allowed_signers"),
            required: Vec::new(),
        }
    }
}

/// What a required approval applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Subject {
    /// Every item of a type (filtered by `where`).
    Type(String),
    /// A built-in document, by name.
    Document(String),
    /// A release (evaluated by the release gate).
    Release,
}

/// One `[[preprocessor.qms.approvals.required]]` entry.
#[derive(Debug, Clone)]
pub(crate) struct Required {
    pub(crate) subject: Subject,
    /// Field equalities an item must meet (`where = { disposition = "accept" }`).
    pub(crate) filter: Vec<(String, String)>,
    /// Role item ids: one approval by a member of each is needed.
    pub(crate) roles: Vec<String>,
    /// The meaning the approvals must carry.
    pub(crate) meaning: String,
    /// The entry in book.toml.
    pub(crate) span: Span,
}

/// Reads `[preprocessor.qms.approvals]`; bad entries are diagnostics and left out.
pub(crate) fn parse(
    value: &Spanned<DeValue<'_>>,
    span: &dyn Fn(std::ops::Range<usize>) -> Span,
    diags: &mut Diagnostics,
) -> ApprovalsConfig {
    let mut out = ApprovalsConfig::default();
    let DeValue::Table(table) = value.get_ref() else {
        diags.push(wrong(
            span(value.span()),
            "a table with allowed-signers and required",
        ));
        return out;
    };
    for (key, v) in table.iter() {
        let name = key.get_ref().as_ref();
        match name {
            "allowed-signers" => match v.get_ref() {
                DeValue::String(s) if inside(s) => out.allowed_signers = PathBuf::from(s.as_ref()),
                _ => diags.push(wrong(
                    span(v.span()),
                    "a path relative to book.toml that stays below it",
                )),
            },
            "required" => match v.get_ref() {
                DeValue::Array(list) => {
                    for entry in list {
                        if let Some(r) = required(entry, span, diags) {
                            out.required.push(r);
                        }
                    }
                }
                _ => diags.push(wrong(
                    span(v.span()),
                    "an array of tables ([[...required]])",
                )),
            },
            _ => diags.push(unknown(name, "", KEYS, span(key.span()))),
        }
    }
    out
}

fn inside(path: &str) -> bool {
    !PathBuf::from(path).components().any(|c| {
        matches!(
            c,
            std::path::Component::ParentDir
                | std::path::Component::RootDir
                | std::path::Component::Prefix(_)
        )
    })
}

fn wrong(at: Span, expected: &str) -> Diagnostic {
    Diagnostic::new(code::CONFIG_SYNTAX, format!("expected {expected}")).at(at)
}

fn unknown(name: &str, sub: &str, known: &[&str], at: Span) -> Diagnostic {
    let d = Diagnostic::new(
        code::CONFIG_UNKNOWN_KEY,
        format!("unknown key `{name}` in [preprocessor.qms.approvals{sub}]"),
    )
    .at(at);
    match did_you_mean(name, known.iter().copied()) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(format!("known keys: {}", known.join(", "))),
    }
}

fn string(v: &Spanned<DeValue<'_>>) -> Option<String> {
    match v.get_ref() {
        DeValue::String(s) => Some(s.to_string()),
        _ => None,
    }
}

fn required(
    value: &Spanned<DeValue<'_>>,
    span: &dyn Fn(std::ops::Range<usize>) -> Span,
    diags: &mut Diagnostics,
) -> Option<Required> {
    let at = span(value.span());
    let DeValue::Table(table) = value.get_ref() else {
        diags.push(wrong(
            at,
            "a table with type, document or release, and roles",
        ));
        return None;
    };
    let mut subjects = Vec::new();
    let mut filter = Vec::new();
    let mut roles = None;
    let mut meaning = "approval".to_owned();
    let mut ok = true;
    for (key, v) in table.iter() {
        let name = key.get_ref().as_ref();
        match name {
            "type" | "document" => match string(v) {
                Some(s) if name == "type" => subjects.push(Subject::Type(s)),
                Some(s) => subjects.push(Subject::Document(s)),
                None => {
                    diags.push(wrong(span(v.span()), "a string"));
                    ok = false;
                }
            },
            "release" => match v.get_ref() {
                DeValue::Boolean(true) => subjects.push(Subject::Release),
                _ => {
                    diags.push(wrong(span(v.span()), "`release = true`"));
                    ok = false;
                }
            },
            "where" => match v.get_ref() {
                DeValue::Table(t) => {
                    for (field, fv) in t.iter() {
                        let text = match fv.get_ref() {
                            DeValue::String(s) => Some(s.to_string()),
                            DeValue::Boolean(b) => Some(b.to_string()),
                            DeValue::Integer(i) => Some(i.as_str().to_owned()),
                            _ => None,
                        };
                        match text {
                            Some(t) => filter.push((field.get_ref().to_string(), t)),
                            None => {
                                diags.push(wrong(span(fv.span()), "a string, number or boolean"));
                                ok = false;
                            }
                        }
                    }
                }
                _ => {
                    diags.push(wrong(span(v.span()), "a table of field = value"));
                    ok = false;
                }
            },
            "roles" => {
                let list: Option<Vec<String>> = match v.get_ref() {
                    DeValue::Array(a) => a.iter().map(string).collect(),
                    DeValue::String(s) => Some(vec![s.to_string()]),
                    _ => None,
                };
                match list.filter(|l| !l.is_empty()) {
                    Some(l) => roles = Some(l),
                    None => {
                        diags.push(wrong(span(v.span()), "a non-empty list of role item ids"));
                        ok = false;
                    }
                }
            }
            "meaning" => match string(v).filter(|m| MEANINGS.contains(&m.as_str())) {
                Some(m) => meaning = m,
                None => {
                    diags.push(wrong(
                        span(v.span()),
                        "one of review, approval, responsibility, authorship",
                    ));
                    ok = false;
                }
            },
            _ => diags.push(unknown(name, ".required", REQUIRED_KEYS, span(key.span()))),
        }
    }
    if subjects.len() != 1 || roles.is_none() {
        if ok {
            diags.push(
                Diagnostic::new(
                    code::CONFIG_SYNTAX,
                    "a required approval needs exactly one of `type`, `document` or `release = true`, and `roles`",
                )
                .at(at)
                .help("e.g. type = \"risk\", roles = [\"ROLE-SECURITY-LEAD\"]"),
            );
        }
        return None;
    }
    if !ok {
        return None;
    }
    Some(Required {
        subject: subjects.remove(0),
        filter,
        roles: roles.unwrap_or_default(),
        meaning,
        span: at,
    })
}
