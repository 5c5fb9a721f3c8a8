//! The bundle's PDFs: every built-in document as `documents/NAME.pdf` and the submission
//! index, typeset by `pdf` with the release of the exported commit (not of the work
//! tree), so `export --at REV` dates and revises them by REV and the same commit gives
//! the same bytes. The documents are typeset in parallel: each is independent, and
//! typesetting is most of an export's time.

use rayon::prelude::*;

use super::{sha256_hex, Provenance};
use crate::documents::{Documents, DOCUMENTS};
use crate::output::Failure;
use crate::pdf::index::{self, Entry, Submission};
use crate::pdf::{self, PdfError, Release};
use crate::project::Project;

/// `documents/NAME.pdf` for every built-in document, and `documents/submission-index.pdf`,
/// by their paths in the bundle.
pub(super) fn files(
    project: &Project,
    documents: &Documents,
    p: &Provenance,
) -> Result<Vec<(String, Vec<u8>)>, Failure> {
    let commit = p.commit.as_ref().map(|c| c.id.as_str());
    let release = Release::of_commit(commit, &p.tags, p.dirty, p.time);
    let typeset: Vec<(&str, pdf::Pdf)> = DOCUMENTS
        .par_iter()
        .map(|doc| {
            Ok((
                doc.name,
                pdf::render(project, documents, doc.name, &release)?,
            ))
        })
        .collect::<Result<_, PdfError>>()
        .map_err(failure)?;
    let entries: Vec<Entry<'_>> = typeset
        .iter()
        .map(|(name, pdf)| Entry {
            name,
            pages: pdf.pages,
            sha256: sha256_hex(&pdf.bytes),
        })
        .collect();
    let submission = Submission {
        commit,
        tags: &p.tags,
        dirty: p.dirty,
    };
    let index = index::render(project, &submission, &entries, &release).map_err(failure)?;
    let mut files: Vec<(String, Vec<u8>)> = typeset
        .into_iter()
        .map(|(name, pdf)| (format!("documents/{name}.pdf"), pdf.bytes))
        .collect();
    files.push((format!("documents/{}.pdf", index::NAME), index.bytes));
    Ok(files)
}

/// A template error is the project's (as `render` reports it); a typesetting error is a
/// defect of mdbook-qms.
fn failure(e: PdfError) -> Failure {
    match e {
        PdfError::Template(_) => Failure::Book(format!("{e}\n")),
        PdfError::Typeset(_) => Failure::Usage(format!("{e}\n")),
    }
}
