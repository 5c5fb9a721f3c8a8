//! `mdbook-qms approve`: an approval record, made as a signed empty commit whose message
//! names what is approved and what the signature means (21 CFR 11.50), and binds each
//! named document to its content (a SHA-256 of its standalone Markdown). The signature
//! is made by `git commit -S` with the user's own signing configuration; verifying
//! records is done in-process elsewhere.
//!
//! It commits nothing but the message: it refuses staged changes, a work tree whose
//! files holding the named items (or, for a document, any file of the project) differ
//! from HEAD, a project with errors, unknown names and a missing signing key.

use std::collections::BTreeSet;
use std::path::Path;

use crate::diag::did_you_mean;
use crate::documents::{self, Documents};
use crate::git::{OpenError, Repo};
use crate::linked::LoadOptions;
use crate::load::ChapterSource;
use crate::output::Failure;
use crate::pipeline;
use crate::project::Project;

/// What a signature means (21 CFR 11.50(a)(3)), the `Approval-Meaning:` trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// The signer reviewed the content.
    Review,
    /// The signer approves it.
    Approval,
    /// The signer takes responsibility for it.
    Responsibility,
    /// The signer wrote it.
    Authorship,
}

crate::choice::impl_choice!(pub Meaning {
    Review => "review",
    Approval => "approval",
    Responsibility => "responsibility",
    Authorship => "authorship",
});

/// What `mdbook-qms approve` was asked to do.
pub struct Request<'a> {
    /// The project folder.
    pub dir: &'a Path,
    /// Item ids and built-in document names, as the user wrote them.
    pub targets: &'a [String],
    /// What the signature means.
    pub meaning: Meaning,
    /// The subject line instead of `Approve A, B`.
    pub subject: Option<&'a str>,
}

/// Creates the approval record `request` asks for; returns the new commit's full id.
pub fn run(request: &Request) -> Result<String, Failure> {
    let repo = match Repo::open(request.dir) {
        Ok(repo) => repo,
        Err(OpenError::NotARepository) => {
            return Err(Failure::usage(format!(
                "{} is not in a git repository; an approval is a signed commit",
                request.dir.display()
            )))
        }
        Err(OpenError::Other(m)) => {
            return Err(Failure::usage(format!(
                "the git repository could not be read: {m}"
            )))
        }
    };
    if request.targets.is_empty() {
        return Err(Failure::usage("name at least one item id or document"));
    }
    let (project, documents) =
        pipeline::load_with_documents(request.dir, ChapterSource::Disk, LoadOptions::default())
            .map_err(pipeline::unloadable)?;
    if let Some(message) = project.history.damage_error() {
        return Err(Failure::usage(message));
    }
    if project.diagnostics.has_errors() {
        return Err(Failure::usage(
            "the project has errors (see mdbook-qms check); fix them before approving",
        ));
    }
    let targets = resolve(&project, request.targets)?;
    if repo.config_value("user.signingkey").is_none() {
        return Err(Failure::usage(
            "no signing key is configured, so the approval could not be signed; set one, e.g. for an SSH key: git config gpg.format ssh && git config user.signingkey ~/.ssh/id_ed25519.pub (add --global for every repository)",
        ));
    }
    let staged = repo
        .has_staged_changes()
        .map_err(|m| Failure::usage(format!("cannot read the index: {m}")))?;
    if staged {
        return Err(Failure::usage(
            "changes are staged; an approval commits nothing but its record: commit or unstage them first (git restore --staged PATH)",
        ));
    }
    let dirty = repo
        .dirty_paths(|_| false)
        .map_err(|m| Failure::usage(format!("cannot read the work tree's status: {m}")))?;
    refuse_dirty(&project, &targets, &dirty)?;
    let message = message(&project, &documents, &targets, request)?;
    let commit = repo
        .commit_signed_empty(&message)
        .map_err(|m| Failure::usage(format!("git could not make the signed commit: {m}")))?;
    Ok(commit.hex())
}

/// A name the user gave: an item id, a built-in document, or `release` (the content of
/// the whole commit, for the release gate).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Item(String),
    Document(&'static str),
    Release,
}

impl Target {
    fn name(&self) -> &str {
        match self {
            Target::Item(id) => id,
            Target::Document(name) => name,
            Target::Release => crate::approval::RELEASE,
        }
    }
}

/// Each name as an item or a document, each once, in the order given.
fn resolve(project: &Project, names: &[String]) -> Result<Vec<Target>, Failure> {
    let mut out: Vec<Target> = Vec::new();
    for name in names {
        let target = if project.item(name).is_some() {
            Target::Item(name.clone())
        } else if let Some(doc) = documents::find(name) {
            Target::Document(doc.name)
        } else if name == crate::approval::RELEASE {
            Target::Release
        } else {
            let candidates = project
                .items
                .iter()
                .map(|i| i.id.as_str())
                .chain(documents::DOCUMENTS.iter().map(|d| d.name));
            let hint = match did_you_mean(name, candidates) {
                Some(s) => format!("; did you mean `{s}`?"),
                None => String::new(),
            };
            return Err(Failure::usage(format!(
                "`{name}` is neither an item id, a built-in document nor `release`{hint}"
            )));
        };
        if !out.contains(&target) {
            out.push(target);
        }
    }
    Ok(out)
}

/// Refuses when what would be approved is not what HEAD holds: an item's file, or for
/// a document or the release any file of the project, differs from HEAD.
fn refuse_dirty(project: &Project, targets: &[Target], dirty: &[String]) -> Result<(), Failure> {
    let mut changed: BTreeSet<&str> = BTreeSet::new();
    for target in targets {
        match target {
            Target::Item(id) => {
                let Some(item) = project.item(id) else {
                    continue;
                };
                let file = &project.sources.get(item.node.span.file).path;
                let file = crate::source::display_path(file);
                changed.extend(dirty.iter().filter(|d| **d == file).map(String::as_str));
            }
            Target::Document(_) | Target::Release => {
                changed.extend(dirty.iter().map(String::as_str))
            }
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    let list: Vec<&str> = changed.into_iter().collect();
    Err(Failure::usage(format!(
        "the work tree differs from HEAD in what would be approved ({}); an approval signs committed content: commit or restore it first",
        list.join(", ")
    )))
}

/// The record's message: the subject, a blank line, then the trailers `Approved:`,
/// `Approval-Meaning:` and, for each document, `Approved-Content: NAME sha256:HEX`.
fn message(
    project: &Project,
    documents: &Documents,
    targets: &[Target],
    request: &Request,
) -> Result<String, Failure> {
    let names: Vec<&str> = targets.iter().map(Target::name).collect();
    let subject = match request.subject.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => s.to_owned(),
        None => format!("Approve {}", names.join(", ")),
    };
    let mut out = format!(
        "{subject}\n\nApproved: {}\nApproval-Meaning: {}\n",
        names.join(", "),
        request.meaning
    );
    for target in targets {
        let Target::Document(name) = target else {
            continue;
        };
        let hash = crate::documents::approvals::content_hash(project, documents, name)
            .map_err(|e| Failure::usage(format!("the document {name} fails to render: {e}")))?;
        out.push_str(&format!("Approved-Content: {name} {hash}\n"));
    }
    Ok(out)
}
