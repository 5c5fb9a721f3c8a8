//! `export`: a frozen, verifiable bundle of one commit for auditors and requirement
//! tools.
//!
//! The project is read either from the work tree (which must be clean) or, with
//! `--at REV`, from git objects extracted to a scratch folder, so exporting a tag gives
//! the same bytes whether or not it is checked out. Everything in the bundle is derived
//! from the commit: no wall-clock time, date checks as of the commit's date, stable
//! ordering. The files are built in memory, written to a temporary folder beside OUT and
//! renamed into place, so OUT is either the old bundle or the whole new one.

pub mod items;
pub mod matrices;
pub mod reqif;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::diag::Severity;
use crate::history::git::{OpenError, Origin, Repo};
use crate::history::CommitInfo;
use crate::project::{ChapterSource, LoadOptions, Project};
use crate::report::{self, Format};

/// The `format` of `metadata.json`; a reader checks it before trusting the layout.
pub const FORMAT: &str = "mdbook-qms-export/1";

/// What `mdbook-qms export` was asked to do.
pub struct Request<'a> {
    pub dir: &'a Path,
    pub out: &'a Path,
    /// A tag or commit to export instead of the work tree.
    pub at: Option<&'a str>,
    pub allow_dirty: bool,
    pub allow_errors: bool,
}

/// Why no bundle was written: the project has errors (exit 1) or the request cannot be
/// met (exit 2).
#[derive(Debug)]
pub enum Failure {
    Book(String),
    Usage(String),
}

/// A written bundle.
pub struct Written {
    pub files: usize,
    pub commit: Option<String>,
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
    /// Seconds since the epoch that stand for "now" in the bundle.
    time: i64,
}

/// Exports the bundle `request` asks for.
pub fn run(request: &Request) -> Result<Written, Failure> {
    let repo = match Repo::open(request.dir) {
        Ok(r) => Some(r),
        Err(OpenError::NotARepository) => None,
        Err(OpenError::Other(m)) => {
            return Err(Failure::Usage(format!(
                "the git repository could not be read: {m}"
            )))
        }
    };
    // With `--at`, the commit's files go to a scratch folder that lives until the
    // bundle is written.
    let scratch;
    let (root, origin, provenance) = match (request.at, &repo) {
        (Some(rev), None) => {
            return Err(Failure::Usage(format!(
                "--at {rev} needs a git repository, and {} is not in one",
                request.dir.display()
            )))
        }
        (Some(rev), Some(repo)) => {
            let commit = repo
                .resolve(rev)
                .map_err(|m| Failure::Usage(format!("`{rev}` names no commit or tag: {m}")))?;
            scratch = tempfile::tempdir()
                .map_err(|e| Failure::Usage(format!("cannot create a scratch folder: {e}")))?;
            repo.extract(commit, scratch.path())
                .map_err(|m| Failure::Usage(format!("cannot read {rev} from git: {m}")))?;
            let origin = Origin::Commit {
                project_dir: request.dir.to_path_buf(),
                commit,
            };
            let provenance = committed(repo, commit, Vec::new())?;
            (scratch.path().to_path_buf(), origin, provenance)
        }
        (None, Some(repo)) => {
            let head = repo
                .head()
                .map_err(|m| Failure::Usage(format!("HEAD could not be read: {m}")))?;
            let skip = inside(request.dir, request.out);
            let dirty = repo
                .dirty_paths(skip.as_deref())
                .map_err(|m| Failure::Usage(format!("cannot read the work tree's status: {m}")))?;
            let provenance = match head {
                Some(head) => committed(repo, head, dirty)?,
                None => Provenance {
                    commit: None,
                    tags: Vec::new(),
                    dirty: true,
                    uncommitted: dirty,
                    folder: repo.project_dir(),
                    time: source_date_epoch().unwrap_or(0),
                },
            };
            if provenance.dirty && !request.allow_dirty {
                return Err(Failure::Usage(dirty_message(&provenance)));
            }
            (request.dir.to_path_buf(), Origin::WorkTree, provenance)
        }
        (None, None) => {
            if !request.allow_dirty {
                return Err(Failure::Usage(format!(
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
                time: source_date_epoch().unwrap_or(0),
            };
            (request.dir.to_path_buf(), Origin::WorkTree, provenance)
        }
    };
    let today = std::env::var("MDBOOK_QMS_TODAY")
        .ok()
        .filter(|d| crate::date::is_well_formed(d))
        .unwrap_or_else(|| match provenance.commit {
            Some(_) => crate::date::format_days(provenance.time.div_euclid(86_400)),
            None => crate::date::today(),
        });
    let options = LoadOptions {
        origin,
        today: Some(today),
    };
    let project = Project::load_with(&root, ChapterSource::Disk, options).map_err(|fatal| {
        Failure::Usage(report::render(
            Format::Human,
            &[*fatal.0],
            &crate::source::SourceMap::default(),
        ))
    })?;
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
    let files = bundle(&project, &provenance)?;
    write(request.out, &files)
        .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", request.out.display())))?;
    Ok(Written {
        files: files.len(),
        commit: provenance.commit.map(|c| c.id),
        dirty: provenance.dirty,
        summary,
    })
}

fn committed(
    repo: &Repo,
    commit: crate::history::git::CommitId,
    uncommitted: Vec<String>,
) -> Result<Provenance, Failure> {
    let meta = repo
        .commit(commit)
        .map_err(|m| Failure::Usage(format!("cannot read commit: {m}")))?;
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
        time: source_date_epoch().unwrap_or(info.time),
        commit: Some(info),
    })
}

fn source_date_epoch() -> Option<i64> {
    std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()
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

/// `out` relative to the project folder when it lies inside it (a bundle kept in the
/// project does not make the work tree dirty).
fn inside(dir: &Path, out: &Path) -> Option<PathBuf> {
    let dir = dir.canonicalize().ok()?;
    let out = std::path::absolute(out).ok()?;
    let parent = out.parent()?.canonicalize().ok()?;
    let out = parent.join(out.file_name()?);
    out.strip_prefix(&dir).ok().map(Path::to_path_buf)
}

/// Every file of the bundle by its path inside it, `MANIFEST.sha256` included.
fn bundle(project: &Project, p: &Provenance) -> Result<BTreeMap<String, Vec<u8>>, Failure> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let json = |v: &serde_json::Value| {
        let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
        s.push('\n');
        s.into_bytes()
    };
    let title = title(project);
    let time = crate::evidence::rfc3339(p.time);
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

    tables_and_sbom(project, &title, p.time, &mut files).map_err(Failure::Usage)?;

    let documents = crate::documents::render_all_standalone(project)
        .map_err(|e| Failure::Book(format!("error[{}]: {e}", e.code)))?;
    for (name, doc) in documents {
        files.insert(format!("documents/{name}.md"), doc.markdown.into_bytes());
    }

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
    let readme = readme(&title, &comment, &files.keys().cloned().collect::<Vec<_>>());
    files.insert("README.md".into(), readme.into_bytes());

    let manifest = manifest(&files);
    files.insert("MANIFEST.sha256".into(), manifest.into_bytes());
    Ok(files)
}

/// The files a book offers as downloads (`{{#qms downloads}}`, written by
/// `mdbook-qms build`): the matrices as CSV and XLSX, the SBOM, the VEX document, and
/// their manifest, as in a bundle of the same commit.
pub fn downloads(project: &Project) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let time = crate::evidence::commit_secs(project).unwrap_or(0);
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
    time: i64,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), String> {
    use crate::evidence::sbom_out::{generate, OutFormat};
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
        "as_of": project.today,
        "diagnostics": {
            "errors": project.diagnostics.count(Severity::Error),
            "warnings": project.diagnostics.count(Severity::Warning),
        },
        "items": {"total": project.items.len(), "by_type": by_type},
    })
}

/// What a file of a bundle (or of a book's downloads) holds, in a few words.
pub fn describe(file: &str) -> &'static str {
    match file {
        "metadata.json" => "commit, tags, tool version, dirty flag, counts",
        "items.json" => "every item: fields, links both ways, history, verification",
        "items.schema.json" => "JSON Schema (2020-12) of items.json",
        "diagnostics.json" => "the warnings (and errors) mdbook-qms check reports",
        "matrices.xlsx" => "the traceability matrices, one sheet each, and a summary sheet",
        "matrices/summary.csv" => "the coverage of each matrix, as CSV",
        "requirements.reqif" => "ReqIF 1.2: items and their links, for requirement tools",
        "sbom/cyclonedx.json" => "CycloneDX 1.6 SBOM with support data and VEX",
        "sbom/openvex.json" => "OpenVEX statements",
        "README.md" => "this file",
        "MANIFEST.sha256" => "SHA-256 of every other file, for sha256sum -c",
        f if f.starts_with("matrices/") => "a traceability matrix as CSV",
        f if f.starts_with("documents/") => "a generated document as Markdown",
        _ => "",
    }
}

/// What a reader of the folder sees first: what each file is and how to verify them.
fn readme(title: &str, comment: &str, files: &[String]) -> String {
    let mut out = format!(
        "# Audit bundle: {}\n\nExported by mdbook-qms {} from {}.\n\nVerify every file with `sha256sum -c MANIFEST.sha256` in this folder.\n\n| File | What it is |\n| --- | --- |\n",
        crate::documents::md_escape(title),
        env!("CARGO_PKG_VERSION"),
        comment
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

/// The SHA-256 of `bytes` as lower-case hex, as `sha256sum` prints it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

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

/// Writes the files to a temporary folder beside `out`, then renames it into place.
/// An existing `out` is replaced only when it is empty or a previous bundle.
fn write(out: &Path, files: &BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind};
    let name = out
        .file_name()
        .ok_or_else(|| Error::new(ErrorKind::InvalidInput, "the output needs a folder name"))?
        .to_string_lossy()
        .into_owned();
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let replace = match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => return Err(e),
        Ok(m) if m.is_dir() && (is_bundle(out) || std::fs::read_dir(out)?.next().is_none()) => true,
        Ok(_) => {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                "it exists and is not an mdbook-qms bundle; remove it or choose another --out",
            ))
        }
    };
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(parent)?;
    for (rel, bytes) in files {
        let path = tmp.path().join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::File::create(&path)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    // A temporary folder is private (0700); the bundle is an ordinary folder.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))?;
    }
    if replace {
        let old = tempfile::Builder::new()
            .prefix(&format!(".{name}.old-"))
            .tempdir_in(parent)?;
        std::fs::rename(out, old.path())?;
        std::fs::rename(tmp.keep(), out)?;
        old.close()?;
    } else {
        std::fs::rename(tmp.keep(), out)?;
    }
    Ok(())
}

/// Whether a folder holds a bundle this command wrote (its metadata names the format).
fn is_bundle(dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("metadata.json")) else {
        return false;
    };
    serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| {
        v["format"]
            .as_str()
            .is_some_and(|f| f.starts_with("mdbook-qms-export/"))
    }) && dir.join("MANIFEST.sha256").is_file()
}
