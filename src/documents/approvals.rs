//! Whether an approved document is still what was approved: the `Approved-Content:`
//! hash of its record against the SHA-256 of its standalone Markdown now. This needs the
//! document rendered, so it runs here rather than in `approval::assess`.

use crate::approval::Verification;
use crate::config::approvals::Subject;
use crate::date::Day;
use crate::diag::{code, Diagnostic};
use crate::project::Project;
use crate::text::sha256_hex;

use super::Documents;

/// Where a record's document stands: (record index, document index, current).
pub(crate) type Verdict = (usize, usize, bool);

/// The hash `approve` records for a document: `sha256:` and the hex of its standalone
/// Markdown (without source links).
pub fn content_hash(
    project: &Project,
    documents: &Documents,
    name: &str,
) -> Result<String, super::TemplateError> {
    let rendered = documents.standalone(project, name, false)?;
    Ok(format!(
        "sha256:{}",
        sha256_hex(rendered.markdown.as_bytes())
    ))
}

/// Compares every approved document's recorded hash with the document now:
/// `approval-outdated` for a changed one, and `approval-required-missing` for a required
/// document approval whose records by a role are all outdated.
/// A document's text may depend on the day (a reporting period, "as of" dates), so a
/// changed hash is checked again against the document rendered as of the signing day
/// (`as_of(day, name)`, the project loaded with that day): only a change of what the
/// document says about the items makes the approval outdated.
pub(crate) fn check(
    project: &Project,
    documents: &Documents,
    as_of: &mut dyn FnMut(Day, &str) -> Option<String>,
) -> (Vec<Diagnostic>, Vec<Verdict>) {
    let mut diags = Vec::new();
    let mut verdicts = Vec::new();
    let mut hashes: Vec<(String, Option<String>)> = Vec::new();
    for (r, record) in project.approvals.records.iter().enumerate() {
        for (d, doc) in record.documents.iter().enumerate() {
            let now = match hashes.iter().find(|(n, _)| *n == doc.name) {
                Some((_, h)) => h.clone(),
                None => {
                    let h = content_hash(project, documents, &doc.name).ok();
                    hashes.push((doc.name.clone(), h.clone()));
                    h
                }
            };
            let mut current = doc.content.is_some() && doc.content == now;
            if !current && doc.content.is_some() && record.day != project.today {
                current = as_of(record.day, &doc.name) == doc.content;
            }
            verdicts.push((r, d, current));
            if current || !record.verification.signature_holds() {
                continue;
            }
            let why = match &doc.content {
                None => format!("the record has no `Approved-Content: {} sha256:...` trailer, so what was approved is unknown", doc.name),
                Some(h) => format!(
                    "its content now hashes to {}, not {h}",
                    now.as_deref().unwrap_or("nothing (it does not render)")
                ),
            };
            let mut d = Diagnostic::new(
                code::APPROVAL_OUTDATED,
                format!(
                    "the approval of document {} in commit {} is outdated: {why}",
                    doc.name, record.short
                ),
            )
            .help(
                "review the document and approve it again (`mdbook-qms approve` records its hash)",
            );
            if let Some(f) = project.config.file {
                d = d.in_file(f);
            }
            diags.push(d);
        }
    }
    for req in &project.config.approvals.required {
        let Subject::Document(name) = &req.subject else {
            continue;
        };
        for role in &req.roles {
            let by_role: Vec<(usize, usize)> = verdicts
                .iter()
                .filter(|(r, d, _)| {
                    let rec = &project.approvals.records[*r];
                    rec.verification == Verification::Verified
                        && rec.roles.contains(role)
                        && rec.meaning.as_deref() == Some(req.meaning.as_str())
                        && rec.documents[*d].name == *name
                })
                .map(|(r, d, _)| (*r, *d))
                .collect();
            let current = verdicts
                .iter()
                .any(|(r, d, ok)| *ok && by_role.contains(&(*r, *d)));
            // With no record at all, `approval::assess` has said so already.
            if current || by_role.is_empty() {
                continue;
            }
            let short = &project.approvals.records[by_role[0].0].short;
            diags.push(
                Diagnostic::new(
                    code::APPROVAL_REQUIRED_MISSING,
                    format!(
                        "{name} needs a signed approval (meaning `{}`) by a member of {role}: the one in commit {short} is outdated",
                        req.meaning
                    ),
                )
                .at(req.span)
                .help("review the document and approve it again (`mdbook-qms approve`)"),
            );
        }
    }
    (diags, verdicts)
}
