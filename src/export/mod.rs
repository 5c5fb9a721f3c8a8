//! `export`: a frozen, verifiable bundle of one commit for auditors and requirement
//! tools.
//!
//! The project is read either from the work tree (which must be clean) or, with
//! `--at REV`, from git objects extracted to a scratch folder, so exporting a tag gives
//! the same bytes whether or not it is checked out. Everything in the bundle is derived
//! from the commit: no wall-clock time, date checks as of the commit's date, stable
//! ordering. The files are built in memory, written to a temporary folder beside OUT and
//! renamed into place, so OUT is either the old bundle or the whole new one.

pub(crate) mod items;
pub(crate) mod matrices;
mod pdf;
pub(crate) mod reqif;
pub mod sbom;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::date::{Day, Timestamp};
use crate::diag::Severity;
use crate::documents::Documents;
use crate::git::{OpenError, Repo};
use crate::history::CommitInfo;
use crate::linked::LoadOptions;
use crate::load::ChapterSource;
use crate::output::Failure;
use crate::pipeline;
use crate::project::Project;
use crate::report::{self, Format};

/// The `format` of `metadata.json`; a reader checks it before trusting the layout.
pub(crate) const FORMAT: &str = "mdbook-qms-export/1";

/// What `mdbook-qms export` was asked to do.
pub struct Request<'a> {
    /// The project folder.
    pub dir: &'a Path,
    /// The bundle folder to write (replaced as a whole).
    pub out: &'a Path,
    /// A tag or commit to export instead of the work tree.
    pub at: Option<&'a str>,
    /// Export a work tree that differs from HEAD (recorded as dirty in the bundle).
    pub allow_dirty: bool,
    /// Export even when the project has errors.
    pub allow_errors: bool,
}

/// A written bundle.
pub struct Written {
    /// How many files the bundle holds.
    pub files: usize,
    /// The full id of the commit exported; `None` outside git.
    pub commit: Option<String>,
    /// Whether the work tree differed from that commit.
    pub dirty: bool,
    /// How many errors and warnings the project has (they are in `diagnostics.json`).
    pub summary: String,
}

/// The git facts a bundle records.
struct Provenance {
    commit: Option<CommitInfo>,
    tags: Vec<String>,
    /// Project paths that differ from the commit (`--allow-dirty`); a folder outside git
    /// is dirty with no paths.
    uncommitted: Vec<String>,
    dirty: bool,
    /// The project folder inside the repository (`""` at its root).
    folder: String,
    /// The moment that stands for "now" in the bundle.
    time: Timestamp,
}

/// Exports the bundle `request` asks for.
pub fn run(request: &Request) -> Result<Written, Failure> {
    let out = crate::output::Sources::of_project(request.dir)
        .refuse_if_in_sources(request.out)
        .map_err(|why| {
            Failure::usage(format!(
                "refusing to write the bundle to {}: {why}; choose a folder outside the project's sources",
                request.out.display()
            ))
        })?;
    let repo = match Repo::open(request.dir) {
        Ok(r) => Some(r),
        Err(OpenError::NotARepository) => None,
        Err(OpenError::Other(m)) => {
            return Err(Failure::usage(format!(
                "the git repository could not be read: {m}"
            )))
        }
    };
    let (commit, provenance) = match (request.at, &repo) {
        (Some(rev), None) => {
            return Err(Failure::usage(format!(
                "--at {rev} needs a git repository, and {} is not in one",
                request.dir.display()
            )))
        }
        (Some(rev), Some(repo)) => {
            let commit = repo
                .resolve(rev)
                .map_err(|m| Failure::usage(format!("`{rev}` names no commit or tag: {m}")))?;
            (Some(commit), committed(repo, commit, Vec::new())?)
        }
        (None, Some(repo)) => {
            let head = repo
                .head()
                .map_err(|m| Failure::usage(format!("HEAD could not be read: {m}")))?;
            let skip = leftovers(request.dir, &out);
            let dirty = repo
                .dirty_paths(|p| skip.iter().any(|s| s.matches(p)))
                .map_err(|m| Failure::usage(format!("cannot read the work tree's status: {m}")))?;
            let provenance = match head {
                Some(head) => committed(repo, head, dirty)?,
                None => Provenance {
                    commit: None,
                    tags: Vec::new(),
                    dirty: true,
                    uncommitted: dirty,
                    folder: repo.project_dir(),
                    time: Timestamp::source_date_epoch().unwrap_or(Timestamp::utc(0)),
                },
            };
            if provenance.dirty && !request.allow_dirty {
                return Err(Failure::usage(dirty_message(&provenance)));
            }
            // A clean tree is exported from HEAD's objects, like `--at HEAD`: files git
            // ignores or cannot see (generated results, links out of the tree) stay out
            // of a bundle that names the commit.
            (head.filter(|_| !provenance.dirty), provenance)
        }
        (None, None) => {
            if !request.allow_dirty {
                return Err(Failure::usage(format!(
                    "{} is not in a git repository, so the bundle could name no commit; commit the project, or pass --allow-dirty to export it marked as dirty",
                    request.dir.display()
                )));
            }
            let provenance = Provenance {
                commit: None,
                tags: Vec::new(),
                uncommitted: Vec::new(),
                dirty: true,
                folder: String::new(),
                time: Timestamp::source_date_epoch().unwrap_or(Timestamp::utc(0)),
            };
            (None, provenance)
        }
    };
    // Date checks as of the commit's day (not of `SOURCE_DATE_EPOCH`, which only stamps
    // times), or of today for a folder that has no commit.
    let today = Day::today_override().unwrap_or_else(|| match &provenance.commit {
        Some(c) => Timestamp::utc(c.time).day(),
        None => Day::today(),
    });
    // A commit's files go to a scratch folder that lives until the bundle is written.
    let (project, documents, _scratch) = match (commit, &repo) {
        (Some(commit), Some(repo)) => {
            let (project, documents, scratch) =
                pipeline::load_commit(request.dir, repo, commit, today)?;
            (project, documents, Some(scratch))
        }
        _ => {
            let options = LoadOptions {
                today: Some(today),
                ..LoadOptions::default()
            };
            let (project, documents) =
                pipeline::load_with_documents(request.dir, ChapterSource::Disk, options)
                    .map_err(pipeline::unloadable)?;
            (project, documents, None)
        }
    };
    // A bundle names its commit as the record of the project: one read from a damaged
    // repository would be that record with parts missing.
    if let Some(message) = project.history.damage_error() {
        return Err(Failure::usage(message));
    }
    if project.diagnostics.has_errors() && !request.allow_errors {
        let report = report::render(Format::Human, &project.diagnostics.0, &project.sources);
        return Err(Failure::Book(format!(
            "{report}the project has errors, so no bundle was written (pass --allow-errors to export it anyway)"
        )));
    }
    let summary = format!(
        "{} errors, {} warnings",
        project.diagnostics.count(Severity::Error),
        project.diagnostics.count(Severity::Warning)
    );
    let files = bundle(&project, &documents, &provenance)?;
    write(&out, &files)
        .map_err(|e| Failure::usage(format!("cannot write {}: {e}", request.out.display())))?;
    Ok(Written {
        files: files.len(),
        commit: provenance.commit.map(|c| c.id),
        dirty: provenance.dirty,
        summary,
    })
}

fn committed(
    repo: &Repo,
    commit: crate::git::CommitId,
    uncommitted: Vec<String>,
) -> Result<Provenance, Failure> {
    let meta = repo
        .commit(commit)
        .map_err(|m| Failure::usage(format!("cannot read commit: {m}")))?;
    let info = CommitInfo::from_meta(&meta);
    Ok(Provenance {
        tags: repo
            .tags("*")
            .into_iter()
            .filter(|(_, id)| *id == commit)
            .map(|(name, _)| name)
            .collect(),
        dirty: !uncommitted.is_empty(),
        uncommitted,
        folder: repo.project_dir(),
        time: Timestamp::source_date_epoch().unwrap_or(Timestamp::utc(info.time)),
        commit: Some(info),
    })
}

fn dirty_message(p: &Provenance) -> String {
    if p.commit.is_none() {
        return "the repository has no commit yet, so the bundle could name none; commit the project, or pass --allow-dirty to export it marked as dirty".into();
    }
    let shown: Vec<String> = p
        .uncommitted
        .iter()
        .take(10)
        .map(|f| format!("\n  {f}"))
        .collect();
    let more = p.uncommitted.len().saturating_sub(10);
    format!(
        "the work tree has uncommitted changes, so the bundle would match no commit:{}{}\ncommit them, export a commit with --at REV, or pass --allow-dirty to export the work tree marked as dirty",
        shown.concat(),
        if more > 0 { format!("\n  and {more} more") } else { String::new() }
    )
}

/// What an export writes or may leave behind inside the project folder: OUT itself and,
/// beside it, the temporary folders of an interrupted run. A bundle kept in the project
/// does not make the work tree dirty.
struct Leftover {
    /// Relative to the project folder.
    parent: PathBuf,
    name: String,
}

impl Leftover {
    fn matches(&self, path: &Path) -> bool {
        let Ok(rest) = path.strip_prefix(&self.parent) else {
            return false;
        };
        let first = rest
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        crate::output::is_output_or_leftover(&first, &self.name)
    }
}

fn leftovers(dir: &Path, out: &Path) -> Vec<Leftover> {
    let inside = || -> Option<Leftover> {
        let dir = dir.canonicalize().ok()?;
        let out = std::path::absolute(out).ok()?;
        let parent = out.parent()?.canonicalize().ok()?;
        Some(Leftover {
            parent: parent.strip_prefix(&dir).ok()?.to_path_buf(),
            name: out.file_name()?.to_string_lossy().into_owned(),
        })
    };
    inside().into_iter().collect()
}

/// Every file of the bundle by its path inside it, `MANIFEST.sha256` included.
fn bundle(
    project: &Project,
    documents: &Documents,
    p: &Provenance,
) -> Result<BTreeMap<String, Vec<u8>>, Failure> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let json = |v: &serde_json::Value| {
        let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
        s.push('\n');
        s.into_bytes()
    };
    let title = title(project);
    let time = p.time.rfc3339();
    let tool = format!("mdbook-qms {}", env!("CARGO_PKG_VERSION"));
    let comment = match &p.commit {
        Some(c) => format!(
            "commit {}{}{}",
            c.id,
            if p.tags.is_empty() {
                String::new()
            } else {
                format!(" ({})", p.tags.join(", "))
            },
            if p.dirty {
                ", with uncommitted changes"
            } else {
                ""
            }
        ),
        None => "no commit: exported from a folder outside git".into(),
    };

    files.insert("metadata.json".into(), json(&metadata(project, p, &time)));
    files.insert("items.json".into(), json(&items::document(project)));
    files.insert(
        "items.schema.json".into(),
        items::SCHEMA.as_bytes().to_vec(),
    );
    let diagnostics = report::render(Format::Json, &project.diagnostics.0, &project.sources);
    files.insert("diagnostics.json".into(), diagnostics.into_bytes());

    tables_and_sbom(project, &title, p.time, &mut files).map_err(Failure::usage)?;

    let rendered = documents
        .all_standalone(project)
        .map_err(|e| Failure::Book(format!("error[{}]: {e}", e.code)))?;
    for (name, doc) in rendered {
        files.insert(format!("documents/{name}.md"), doc.markdown.into_bytes());
    }
    files.extend(pdf::files(project, documents, p)?);

    let identifier = p.commit.as_ref().map_or("uncommitted", |c| c.id.as_str());
    let header = reqif::Header {
        identifier,
        title: &title,
        comment: &comment,
        time: &time,
        tool: &tool,
    };
    files.insert(
        "requirements.reqif".into(),
        reqif::document(project, &header).into_bytes(),
    );
    files.insert("approvals.json".into(), json(&approvals(project)));
    if let Some(file) = project.allowed_signers.file {
        let signers = project.sources.get(file).text.as_bytes().to_vec();
        files.insert("approvals/allowed_signers".into(), signers);
    }
    // The gate's verdict is recorded, never enforced: a bundle of a failing revision is
    // still the record of what it was.
    let revision = p.commit.as_ref().filter(|_| !p.dirty).map(|c| c.id.clone());
    let gate = crate::gate::evaluate(project, documents, revision);
    files.insert("gate.json".into(), json(&gate.json()));
    let verdict = match gate.blockers.len() {
        0 => "The release gate passed (`gate.json`).".to_owned(),
        n => format!(
            "The release gate did not pass: {n} blocker{} (listed in `gate.json`).",
            if n == 1 { "" } else { "s" }
        ),
    };
    let readme = readme(
        &title,
        &comment,
        &verdict,
        &files.keys().cloned().collect::<Vec<_>>(),
    );
    files.insert("README.md".into(), readme.into_bytes());

    let manifest = manifest(&files);
    files.insert("MANIFEST.sha256".into(), manifest.into_bytes());
    Ok(files)
}

/// The files a book offers as downloads (`{{#qms downloads}}`, written by
/// `mdbook-qms build`): the matrices as CSV and XLSX, the SBOM, the VEX document, and
/// their manifest, as in a bundle of the same commit.
pub(crate) fn downloads(project: &Project) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let time = project.commit_time().unwrap_or(Timestamp::utc(0));
    let mut files = BTreeMap::new();
    tables_and_sbom(project, &title(project), time, &mut files)?;
    let manifest = manifest(&files);
    files.insert("MANIFEST.sha256".into(), manifest.into_bytes());
    Ok(files)
}

fn title(project: &Project) -> String {
    project
        .config
        .title
        .clone()
        .unwrap_or_else(|| "mdbook-qms project".into())
}

/// The matrices (CSV files and the workbook), the SBOM and the VEX document: the same
/// bytes in a bundle and in a book's downloads.
fn tables_and_sbom(
    project: &Project,
    title: &str,
    time: Timestamp,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), String> {
    use crate::export::sbom::{generate, OutFormat};
    let tables = matrices::tables(project);
    for t in &tables {
        files.insert(format!("matrices/{}.csv", t.file), t.csv().into_bytes());
    }
    let comment = match &project.history.head {
        Some(c) => format!("commit {}", c.id),
        None => "no commit".to_owned(),
    };
    let xlsx = matrices::workbook(&tables, title, &comment, time)
        .map_err(|e| format!("cannot write the workbook: {e}"))?;
    files.insert("matrices.xlsx".into(), xlsx);
    files.insert(
        "sbom/cyclonedx.json".into(),
        generate(project, OutFormat::Cyclonedx).into_bytes(),
    );
    files.insert(
        "sbom/openvex.json".into(),
        generate(project, OutFormat::Openvex).into_bytes(),
    );
    Ok(())
}

/// Every approval record with what an auditor needs to verify it offline: the signer,
/// printed name, roles, meaning and time, what it approves and the content hashes, our
/// verdict, and the signature with the exact bytes it signs (`payload`).
fn approvals(project: &Project) -> serde_json::Value {
    let records: Vec<serde_json::Value> = project
        .approvals
        .records
        .iter()
        .map(|r| {
            let items: Vec<serde_json::Value> = r
                .items
                .iter()
                .map(|i| json!({"id": i.id, "fingerprint": i.fingerprint, "current": i.changed_by.is_none(), "changed_by": i.changed_by}))
                .collect();
            let documents: Vec<serde_json::Value> = r
                .documents
                .iter()
                .map(|d| json!({"name": d.name, "content": d.content, "current": d.current}))
                .collect();
            json!({
                "commit": r.commit,
                "tag": r.tag,
                "object": r.object,
                "tree": r.tree,
                "principal": r.principal,
                "name": r.name,
                "roles": r.roles,
                "meaning": r.meaning,
                "time": r.time,
                "items": items,
                "documents": documents,
                "release": r.release,
                "verified": r.is_verified(),
                "verification": r.verification.label(),
                "signature": r.signature,
                "payload": r.payload,
            })
        })
        .collect();
    let signers = project
        .allowed_signers
        .file
        .map(|_| "approvals/allowed_signers");
    json!({"allowed_signers": signers, "records": records})
}

fn metadata(project: &Project, p: &Provenance, time: &str) -> serde_json::Value {
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for item in &project.items {
        *by_type.entry(&item.ty).or_default() += 1;
    }
    let commit = p.commit.as_ref().map(|c| {
        json!({"id": c.id, "date": c.date, "author": c.author, "email": c.email, "subject": c.subject})
    });
    json!({
        "format": FORMAT,
        "tool": {"name": "mdbook-qms", "version": env!("CARGO_PKG_VERSION")},
        "project": {"title": project.config.title, "folder": p.folder},
        "commit": commit,
        "tags": p.tags,
        "dirty": p.dirty,
        "uncommitted": p.uncommitted,
        "time": time,
        "as_of": project.today.to_string(),
        "diagnostics": {
            "errors": project.diagnostics.count(Severity::Error),
            "warnings": project.diagnostics.count(Severity::Warning),
        },
        "items": {"total": project.items.len(), "by_type": by_type},
    })
}

/// What a file of a bundle (or of a book's downloads) holds, in a few words.
pub(crate) fn describe(file: &str) -> &'static str {
    match file {
        "metadata.json" => "commit, tags, tool version, dirty flag, counts",
        "items.json" => "every item: fields, links both ways, history, verification",
        "items.schema.json" => "JSON Schema (2020-12) of items.json",
        "diagnostics.json" => "the warnings (and errors) mdbook-qms check reports",
        "gate.json" => "the release gate's verdict: passed or not, and every blocker",
        "approvals.json" => {
            "every approval record: signer, printed name, meaning, time, content, signature and signed bytes"
        }
        "approvals/allowed_signers" => {
            "the allowed-signers file, for git verify-commit and ssh-keygen -Y verify"
        }
        "matrices.xlsx" => "the traceability matrices, one sheet each, and a summary sheet",
        "matrices/summary.csv" => "the coverage of each matrix, as CSV",
        "requirements.reqif" => "ReqIF 1.2: items and their links, for requirement tools",
        "sbom/cyclonedx.json" => "CycloneDX 1.6 SBOM with support data and VEX",
        "sbom/openvex.json" => "OpenVEX statements",
        "README.md" => "this file",
        "MANIFEST.sha256" => "SHA-256 of every other file, for sha256sum -c",
        f if f.starts_with("matrices/") => "a traceability matrix as CSV",
        "documents/submission-index.pdf" => {
            "the submission index: device, release, each PDF's number, revision, pages, SHA-256"
        }
        f if f.starts_with("documents/") && f.ends_with(".pdf") => {
            "a generated document as PDF/A-2b, with its document control"
        }
        f if f.starts_with("documents/") => "a generated document as Markdown",
        _ => "",
    }
}

/// What a reader of the folder sees first: what each file is and how to verify them.
fn readme(title: &str, comment: &str, verdict: &str, files: &[String]) -> String {
    let mut out = format!(
        "# Audit bundle: {}\n\nExported by mdbook-qms {} from {}.\n\n{verdict}\n\nVerify every file with `sha256sum -c MANIFEST.sha256` in this folder.\n\n| File | What it is |\n| --- | --- |\n",
        crate::html::escape_markdown(title),
        env!("CARGO_PKG_VERSION"),
        crate::html::escape_markdown(comment)
    );
    for f in files
        .iter()
        .map(String::as_str)
        .chain(["README.md", "MANIFEST.sha256"])
    {
        out.push_str(&format!("| `{f}` | {} |\n", describe(f)));
    }
    out
}

pub use crate::text::sha256_hex;

/// `sha256sum` lines for every file, in path order.
fn manifest(files: &BTreeMap<String, Vec<u8>>) -> String {
    let mut out = String::new();
    for (path, bytes) in files {
        out.push_str(&sha256_hex(bytes));
        out.push_str("  ");
        out.push_str(path);
        out.push('\n');
    }
    out
}

/// Writes the files to a temporary folder beside `out`, then swaps it into place.
/// An existing `out` is replaced only when it is empty or a previous bundle.
fn write(out: &Path, files: &BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
    let staged = crate::output::stage(out, bundle_files)?;
    for (rel, bytes) in files {
        staged.write(Path::new(rel), bytes)?;
    }
    staged.finish()
}

/// `Ok` when a folder holds a bundle this command wrote and nothing else: its metadata
/// names the format, and its files are exactly those its manifest lists (a file someone
/// added, such as a signature, would be lost by replacing it).
fn bundle_files(dir: &Path) -> Result<(), String> {
    let not_bundle = "it exists and is not an mdbook-qms bundle; remove it or choose another --out";
    let format = std::fs::read_to_string(dir.join("metadata.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["format"].as_str().map(str::to_owned));
    if !format.is_some_and(|f| f.starts_with("mdbook-qms-export/")) {
        return Err(not_bundle.into());
    }
    let Ok(manifest) = std::fs::read_to_string(dir.join("MANIFEST.sha256")) else {
        return Err(not_bundle.into());
    };
    let mut listed: std::collections::BTreeSet<&str> =
        manifest.lines().filter_map(|l| l.get(66..)).collect();
    listed.insert("MANIFEST.sha256");
    let extra = crate::output::unlisted_files(dir, &listed)?;
    if extra.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "it is a bundle with files that are not part of it ({}); move them out or choose another --out",
            extra.join(", ")
        ))
    }
}
