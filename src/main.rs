//! The `mdbook-qms` binary: maps subcommands and the mdBook protocol onto the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use mdbook_qms::approve::Meaning;
use mdbook_qms::config::Fatal;
use mdbook_qms::diag::Diagnostic;
use mdbook_qms::documents::{Documents, GapsFormat};
use mdbook_qms::export::sbom::OutFormat;
use mdbook_qms::gate::GateFormat;
use mdbook_qms::history::diff::{self, DiffFormat};
use mdbook_qms::linked::LoadOptions;
use mdbook_qms::load::ChapterSource;
use mdbook_qms::output::Failure;
use mdbook_qms::pdf::RenderFormat;
use mdbook_qms::pipeline;
use mdbook_qms::preprocess;
use mdbook_qms::project::Project;
use mdbook_qms::report::{self, Format};
use mdbook_qms::scaffold;
use mdbook_qms::source::SourceMap;
use mdbook_qms::terminal;
use mdbook_qms::trace::TraceFormat;

#[derive(Parser)]
#[command(
    name = "mdbook-qms",
    version,
    about = "Medical-device cybersecurity design files as code"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate the project and print diagnostics.
    Check {
        /// The project folder (where book.toml is).
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, default_value = "human", value_parser = one_of::<Format>(Format::NAMES))]
        format: Format,
    },
    /// Build the HTML book in-process (no separate mdBook install needed).
    Build {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Where to write the book (default: book.toml's build-dir).
        #[arg(long)]
        dest_dir: Option<PathBuf>,
    },
    /// Write an audit bundle of the project at one commit: items, matrices (CSV, XLSX),
    /// SBOM and VEX, documents, ReqIF, metadata and a SHA-256 manifest.
    Export {
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The bundle folder (replaced only if it is empty or a previous bundle).
        #[arg(long)]
        out: PathBuf,
        /// Export this tag or commit from git objects instead of the work tree.
        #[arg(long, value_name = "REV")]
        at: Option<String>,
        /// Export a work tree with uncommitted changes (marked dirty in metadata.json).
        #[arg(long)]
        allow_dirty: bool,
        /// Export even when the project has errors (counted in metadata.json).
        #[arg(long)]
        allow_errors: bool,
    },
    /// Create a starter project in DIR.
    Init { dir: PathBuf },
    /// Add an item of TYPE with the next free id.
    New {
        /// Item type, e.g. requirement, threat, test.
        #[arg(value_name = "TYPE")]
        ty: String,
        #[arg(long)]
        title: Option<String>,
        /// The project folder.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// What changed between two baselines (tags or commits), or since BASE in the work tree.
    Diff {
        /// The baseline: a tag or any git revision.
        base: String,
        /// The other side (default: the work tree).
        head: Option<String>,
        /// The project folder.
        #[arg(long, short = 'C', default_value = ".")]
        dir: PathBuf,
        #[arg(long, default_value = "human", value_parser = one_of::<DiffFormat>(DiffFormat::NAMES))]
        format: DiffFormat,
    },
    /// Print a traceability matrix: each FROM item and the TO items linked to it.
    Trace {
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, default_value = "requirement")]
        from: String,
        #[arg(long, default_value = "test")]
        to: String,
        /// Only count links through this field.
        #[arg(long)]
        via: Option<String>,
        #[arg(long, default_value = "text", value_parser = one_of::<TraceFormat>(TraceFormat::NAMES))]
        format: TraceFormat,
        /// Also list, per item, the commits whose trailers name it.
        #[arg(long)]
        commits: bool,
        /// Exit 1 when less than this percentage of FROM items is covered.
        #[arg(long, value_name = "PERCENT")]
        fail_under: Option<f64>,
        /// Only FROM items without a verified, current approval record.
        #[arg(long)]
        unapproved: bool,
    },
    /// Write the project's SBOM (CycloneDX 1.6 with support data and VEX) or an OpenVEX document.
    Sbom {
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, default_value = "cyclonedx", value_parser = one_of::<OutFormat>(OutFormat::NAMES))]
        format: OutFormat,
        /// Write to this file (atomically) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print one generated document (plan, report, labeling) as Markdown, or write it
    /// as a PDF/A-2b file with its document control.
    Render {
        /// The document, e.g. security-labeling (see the user guide for the list).
        name: String,
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Keep the "Source:" lines that name the items each section is filled from
        /// (Markdown only).
        #[arg(long)]
        with_sources: bool,
        #[arg(long, default_value = "md", value_parser = one_of::<RenderFormat>(RenderFormat::NAMES))]
        format: RenderFormat,
        /// Write to this file (atomically); required for pdf.
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
        /// Render even when the project has errors.
        #[arg(long)]
        allow_errors: bool,
    },
    /// List every gap in the generated documents and every check finding they depend on:
    /// what is missing and where it would go.
    Gaps {
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, default_value = "human", value_parser = one_of::<GapsFormat>(GapsFormat::NAMES))]
        format: GapsFormat,
        /// Exit 1 when there is any gap (for CI).
        #[arg(long)]
        deny: bool,
    },
    /// Sign an approval of items or documents: a signed empty commit (your git signing
    /// setup) whose trailers name them, what the signature means and each document's hash.
    Approve {
        /// Item ids and built-in document names.
        #[arg(required = true, value_name = "ID|DOCUMENT")]
        targets: Vec<String>,
        /// What the signature means.
        #[arg(long, value_parser = one_of::<Meaning>(Meaning::NAMES))]
        meaning: Meaning,
        /// The record's subject line (default: "Approve ID, ...").
        #[arg(long, short = 'm', value_name = "MESSAGE")]
        message: Option<String>,
        /// The project folder.
        #[arg(long, short = 'C', default_value = ".")]
        dir: PathBuf,
    },
    /// The release gate: list every blocker (errors, gaps book.toml does not allow,
    /// controls not verified, known exploited vulnerabilities); exit 0 only when there
    /// is none.
    Gate {
        /// Judge this tag or commit (read from git objects) instead of the work tree.
        rev: Option<String>,
        /// The project folder.
        #[arg(long, short = 'C', default_value = ".")]
        dir: PathBuf,
        #[arg(long, default_value = "human", value_parser = one_of::<GateFormat>(GateFormat::NAMES))]
        format: GateFormat,
    },
    /// mdBook protocol: exit 0 if the renderer is supported.
    Supports { renderer: String },
    /// Write the JSON Schemas of every item type (built-in and the project's) to a folder.
    Schema {
        #[arg(long)]
        out: PathBuf,
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

/// The parser of an option whose values are a library enum's `names` (parsed by its
/// `FromStr`): `--help` lists them, and clap's error for any other value names them.
fn one_of<T>(names: &'static [&'static str]) -> impl TypedValueParser<Value = T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    PossibleValuesParser::new(names).try_map(|name| name.parse::<T>())
}

fn main() -> ExitCode {
    // glibc grows each worker thread's heap a few pages at a time, one mprotect call per
    // step: 75,000 system calls (and contention on the address-space lock) when checking
    // 100,000 items. A 64 MiB step takes that to a few dozen; untouched pages cost no memory.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; no allocation is in flight yet.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
    // `mdbook-qms gaps | head -1`: when the reader of our output goes away, end quietly
    // as Unix tools do. Rust ignores SIGPIPE, so the next print would panic instead.
    #[cfg(unix)]
    // SAFETY: restores the default action of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let done = match cli.command {
        Some(Command::Check { dir, format }) => check(&dir, format),
        Some(Command::Schema { out, dir }) => write_schemas(&dir, &out),
        Some(Command::Build { dir, dest_dir }) => build(&dir, dest_dir.as_deref()),
        Some(Command::Export {
            dir,
            out,
            at,
            allow_dirty,
            allow_errors,
        }) => export(&mdbook_qms::export::Request {
            dir: &dir,
            out: &out,
            at: at.as_deref(),
            allow_dirty,
            allow_errors,
        }),
        Some(Command::Init { dir }) => init(&dir),
        Some(Command::New { ty, title, dir }) => new_item(&dir, &ty, title.as_deref()),
        Some(Command::Trace {
            dir,
            from,
            to,
            via,
            format,
            commits,
            fail_under,
            unapproved,
        }) => trace(
            &dir,
            &TraceRequest {
                from,
                to,
                via,
                format,
                commits,
                fail_under,
                unapproved,
            },
        ),
        Some(Command::Sbom { dir, format, out }) => sbom(&dir, format, out.as_deref()),
        Some(Command::Render {
            name,
            dir,
            with_sources,
            format,
            out,
            allow_errors,
        }) => render_document(
            &dir,
            &name,
            &RenderRequest {
                with_sources,
                format,
                out,
                allow_errors,
            },
        ),
        Some(Command::Gaps { dir, format, deny }) => gaps(&dir, format, deny),
        Some(Command::Approve {
            targets,
            meaning,
            message,
            dir,
        }) => approve(&mdbook_qms::approve::Request {
            dir: &dir,
            targets: &targets,
            meaning,
            subject: message.as_deref(),
        }),
        Some(Command::Gate { rev, dir, format }) => gate(&dir, rev.as_deref(), format),
        Some(Command::Supports { .. }) => Ok(()),
        Some(Command::Diff {
            base,
            head,
            dir,
            format,
        }) => diff(&dir, &base, head.as_deref(), format),
        None => protocol(),
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => error.exit(),
    }
}

/// Why a command failed. [`CliError::exit`] is the one place that turns it into an exit
/// status (PRODUCT.md, book/cli.md): 1 the book has errors, 2 usage or I/O failure.
/// (clap exits with 2 itself for bad arguments, before any command runs.)
#[derive(Debug)]
enum CliError {
    /// The book has errors; the command has printed its report.
    Findings,
    /// The project could not be loaded; the command has printed its report.
    Unloadable,
    /// The book has errors, described by this text (complete lines, printed as is).
    Book(String),
    /// A usage or I/O failure, or a project that cannot be loaded, described by this text
    /// (complete lines, printed as is).
    Usage(String),
}

impl CliError {
    /// A usage or I/O failure described in one line: `error: MESSAGE`.
    fn usage(message: impl std::fmt::Display) -> Self {
        CliError::Usage(format!("error: {message}\n"))
    }

    /// Prints what is not printed yet, to stderr, and gives the exit status.
    fn exit(self) -> ExitCode {
        let (status, text) = match &self {
            CliError::Findings => (1, ""),
            CliError::Book(text) => (1, text.as_str()),
            CliError::Unloadable => (2, ""),
            CliError::Usage(text) => (2, text.as_str()),
        };
        eprint!("{text}");
        ExitCode::from(status)
    }
}

impl From<Failure> for CliError {
    fn from(failure: Failure) -> Self {
        // Display trims the text's end, so each failure ends in exactly one line break.
        let text = format!("{failure}\n");
        match failure {
            Failure::Book(_) => CliError::Book(text),
            Failure::Usage(_) => CliError::Usage(text),
        }
    }
}

/// The diagnostic that stopped loading the project, as a human report.
impl From<Fatal> for CliError {
    fn from(fatal: Fatal) -> Self {
        CliError::Usage(report_text(
            Format::Human,
            &[*fatal.0],
            &SourceMap::default(),
        ))
    }
}

/// No subcommand: mdBook runs us as a preprocessor with `[context, book]` on stdin.
fn protocol() -> Result<(), CliError> {
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    let warnings = preprocess::run_protocol(stdin, stdout)?;
    eprint!("{warnings}");
    Ok(())
}

fn build(dir: &Path, dest: Option<&Path>) -> Result<(), CliError> {
    let out = preprocess::build(dir, dest)?;
    eprintln!("book written to {}", out.display());
    Ok(())
}

fn export(request: &mdbook_qms::export::Request) -> Result<(), CliError> {
    let written = mdbook_qms::export::run(request)?;
    eprintln!("{} (listed in diagnostics.json)", written.summary);
    eprintln!(
        "wrote {} files to {} ({}{}); verify with: cd {} && sha256sum -c MANIFEST.sha256",
        written.files,
        request.out.display(),
        written
            .commit
            .as_deref()
            .map_or("no commit".to_owned(), |c| format!("commit {}", &c[..12])),
        if written.dirty { ", dirty" } else { "" },
        request.out.display()
    );
    Ok(())
}

/// `diff BASE [HEAD]`: the report on stdout. An unreadable revision or a damaged
/// repository is a usage error (2).
fn diff(dir: &Path, base: &str, head: Option<&str>, format: DiffFormat) -> Result<(), CliError> {
    let project =
        pipeline::load(dir, ChapterSource::Disk).map_err(|f| CliError::usage(f.0.message))?;
    if let Some(message) = project.history.damage_error() {
        return Err(CliError::usage(message));
    }
    let compared = diff::diff(&project, base, head).map_err(CliError::usage)?;
    match format {
        DiffFormat::Human => print!("{}", terminal::safe(&diff::to_text(&compared))),
        DiffFormat::Json => {
            let json = serde_json::to_string_pretty(&diff::to_json(&compared)).unwrap_or_default();
            println!("{json}");
        }
    }
    Ok(())
}

/// The options of `trace`.
struct TraceRequest {
    from: String,
    to: String,
    via: Option<String>,
    format: TraceFormat,
    commits: bool,
    fail_under: Option<f64>,
    unapproved: bool,
}

fn trace(dir: &Path, request: &TraceRequest) -> Result<(), CliError> {
    let (from, to) = (request.from.as_str(), request.to.as_str());
    let (project, _) = load_clean(dir)?;
    for ty in [from, to] {
        if project.types.get(ty).is_none() {
            return Err(CliError::usage(format!(
                "unknown type `{ty}`; types: {}",
                project.types.names().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let coverage = mdbook_qms::trace::coverage(&project, from, to, request.via.as_deref(), |i| {
        !request.unapproved || !project.approvals.approves(&project.items[i].id)
    });
    let text = mdbook_qms::trace::report(
        &project,
        &coverage,
        from,
        to,
        request.format,
        request.commits,
    );
    match request.format {
        TraceFormat::Text => print!("{}", terminal::safe(&text)),
        TraceFormat::Json | TraceFormat::Csv => print!("{text}"),
    }
    match request.fail_under {
        Some(min) if coverage.percent() < min => Err(CliError::Book(format!(
            "coverage {:.1}% is under {min}%\n",
            coverage.percent()
        ))),
        _ => Ok(()),
    }
}

/// `sbom`: refuses a project with errors, since its SBOM would be incomplete.
fn sbom(dir: &Path, format: OutFormat, out: Option<&Path>) -> Result<(), CliError> {
    let (project, _) = load_clean(dir)?;
    let out = out
        .map(|path| mdbook_qms::output::Sources::of(&project.config).refuse_if_in_sources(path))
        .transpose()
        .map_err(|why| {
            CliError::usage(format!(
                "refusing to write the SBOM to {}: {why}; choose a file outside the project's sources",
                out.unwrap_or(Path::new("")).display()
            ))
        })?;
    // Never over a file someone else wrote (another tool's SBOM, a README).
    if let Some(path) = out.as_deref() {
        let ours = std::fs::read(path).map(|b| mdbook_qms::export::sbom::is_generated(&b));
        if matches!(ours, Ok(false)) || path.is_dir() {
            return Err(CliError::usage(format!(
                "refusing to write the SBOM to {}: it exists and is not an SBOM or VEX document mdbook-qms wrote; remove it or choose another file",
                path.display()
            )));
        }
    }
    let text = mdbook_qms::export::sbom::generate(&project, format);
    match out.as_deref() {
        Some(path) => {
            mdbook_qms::atomic::write(path, text.as_bytes())
                .map_err(|e| CliError::usage(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// Loads a project for a command that needs it free of errors (exit 1 otherwise, 2 when
/// it cannot be loaded at all).
fn load_clean(dir: &Path) -> Result<(Project, Documents), CliError> {
    let (project, documents) =
        pipeline::load_with_documents(dir, ChapterSource::Disk, LoadOptions::default())?;
    if project.diagnostics.has_errors() {
        return Err(CliError::Book(report_text(
            Format::Human,
            &project.diagnostics.0,
            &project.sources,
        )));
    }
    Ok((project, documents))
}

/// The options of `render`.
struct RenderRequest {
    with_sources: bool,
    format: RenderFormat,
    out: Option<PathBuf>,
    allow_errors: bool,
}

/// `render NAME`: the document on stdout (or in `-o FILE`); an unknown name or a PDF
/// with no `-o` is a usage error (2), a project with errors (unless `--allow-errors`)
/// or a template that fails is a book error (1).
fn render_document(dir: &Path, name: &str, request: &RenderRequest) -> Result<(), CliError> {
    if mdbook_qms::documents::find(name).is_none() {
        let e = mdbook_qms::documents::render_standalone_unknown(name);
        return Err(CliError::Usage(format!("error[document-unknown]: {e}\n")));
    }
    if request.format == RenderFormat::Pdf && request.out.is_none() {
        return Err(CliError::usage(
            "a PDF is written to a file: add -o FILE (e.g. -o document.pdf)",
        ));
    }
    let (project, documents) = if request.allow_errors {
        pipeline::load_with_documents(dir, ChapterSource::Disk, LoadOptions::default())?
    } else {
        load_clean(dir)?
    };
    let out = request
        .out
        .as_deref()
        .map(|path| {
            mdbook_qms::output::Sources::of(&project.config)
                .refuse_if_in_sources(path)
                .map_err(|why| {
                    CliError::usage(format!(
                        "refusing to write the document to {}: {why}; choose a file outside the project's sources",
                        path.display()
                    ))
                })
        })
        .transpose()?;
    let bytes = match request.format {
        RenderFormat::Md => documents
            .standalone(&project, name, request.with_sources)
            .map_err(|e| CliError::Book(format!("error[{}]: {e}\n", e.code)))?
            .markdown
            .into_bytes(),
        RenderFormat::Pdf => {
            let release = mdbook_qms::pdf::Release::of_work_tree(&project, out.as_deref());
            mdbook_qms::pdf::render(&project, &documents, name, &release)
                .map_err(|e| match e {
                    mdbook_qms::pdf::PdfError::Template(_) => CliError::Book(format!("{e}\n")),
                    mdbook_qms::pdf::PdfError::Typeset(_) => CliError::Usage(format!("{e}\n")),
                })?
                .bytes
        }
    };
    // Never over a file someone else wrote: only a rendering of this document (a PDF
    // mdbook-qms wrote, Markdown with the same first line) is replaced.
    if let Some(path) = out.as_deref() {
        let first_line = |b: &[u8]| b.split(|&c| c == b'\n').next().map(<[u8]>::to_vec);
        let ours = std::fs::read(path).map(|b| match request.format {
            RenderFormat::Md => first_line(&b) == first_line(&bytes),
            RenderFormat::Pdf => mdbook_qms::pdf::is_generated(&b),
        });
        if matches!(ours, Ok(false)) || path.is_dir() {
            return Err(CliError::usage(format!(
                "refusing to write the document to {}: it exists and is not this document as mdbook-qms renders it; remove it or choose another file",
                path.display()
            )));
        }
    }
    match out.as_deref() {
        Some(path) => {
            mdbook_qms::atomic::write(path, &bytes)
                .map_err(|e| CliError::usage(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("wrote {}", path.display());
        }
        None => {
            use std::io::Write as _;
            std::io::stdout()
                .write_all(&bytes)
                .map_err(|e| CliError::usage(format!("cannot write the document: {e}")))?;
        }
    }
    Ok(())
}

/// `gaps`: the to-do list on stdout, its count on stderr; exit 0 either way (gaps are
/// warnings) unless `--deny`, 1 when a template fails.
fn gaps(dir: &Path, format: GapsFormat, deny: bool) -> Result<(), CliError> {
    let (project, documents) = load_clean(dir)?;
    let todos = documents
        .todo(&project)
        .map_err(|e| CliError::Book(format!("error[{}]: {e}\n", e.code)))?;
    print!("{}", mdbook_qms::documents::todo_report(&todos, format));
    eprintln!(
        "{} gap{}",
        todos.len(),
        if todos.len() == 1 { "" } else { "s" }
    );
    if deny && !todos.is_empty() {
        return Err(CliError::Findings);
    }
    Ok(())
}

/// `approve`: the new record's commit id on stdout; every refusal is a usage error (2).
fn approve(request: &mdbook_qms::approve::Request) -> Result<(), CliError> {
    let commit = mdbook_qms::approve::run(request)?;
    println!("{commit}");
    eprintln!(
        "signed approval record {} ({})",
        &commit[..12],
        request.targets.join(", ")
    );
    Ok(())
}

/// `gate`: the verdict on stdout; exit 1 when anything blocks the release.
fn gate(dir: &Path, at: Option<&str>, format: GateFormat) -> Result<(), CliError> {
    let gate = mdbook_qms::gate::run(dir, at)?;
    print!("{}", gate.report(format));
    if gate.passed() {
        Ok(())
    } else {
        Err(CliError::Findings)
    }
}

fn init(dir: &Path) -> Result<(), CliError> {
    let files = scaffold::init(dir).map_err(CliError::usage)?;
    for f in files {
        eprintln!("created {}", dir.join(f).display());
    }
    eprintln!(
        "next: mdbook-qms check {0} && mdbook-qms build {0}",
        dir.display()
    );
    Ok(())
}

fn new_item(dir: &Path, ty: &str, title: Option<&str>) -> Result<(), CliError> {
    let (id, path) = scaffold::new_item(dir, ty, title).map_err(CliError::usage)?;
    println!("{id}");
    eprintln!("created {}", dir.join(path).display());
    Ok(())
}

fn check(dir: &std::path::Path, format: Format) -> Result<(), CliError> {
    match pipeline::load(dir, ChapterSource::Disk) {
        Ok(project) => {
            let text = report_text(format, &project.diagnostics.0, &project.sources);
            print_report(format, &text);
            let has_errors = project.diagnostics.has_errors();
            // The process ends here: freeing every item one by one would add about a
            // tenth to a large check (see book/performance.md), for memory the OS
            // reclaims anyway.
            std::mem::forget(project);
            if has_errors {
                Err(CliError::Findings)
            } else {
                Ok(())
            }
        }
        Err(fatal) => {
            let text = report_text(format, &[*fatal.0], &SourceMap::default());
            print_report(format, &text);
            Err(CliError::Unloadable)
        }
    }
}

/// The report in `format`; the human one goes to stderr and is coloured when that is a
/// terminal that wants colour.
fn report_text(format: Format, diags: &[Diagnostic], sources: &SourceMap) -> String {
    match format {
        Format::Human => report::render_human(diags, sources, terminal::colour_stderr()),
        _ => report::render(format, diags, sources),
    }
}

/// Machine formats go to stdout; the human report goes to stderr like a compiler's.
fn print_report(format: Format, text: &str) {
    match format {
        Format::Human => eprint!("{text}"),
        _ => print!("{text}"),
    }
}

fn write_schemas(dir: &std::path::Path, out: &std::path::Path) -> Result<(), CliError> {
    let export = mdbook_qms::schema::export(dir, out)?;
    if !export.diagnostics.0.is_empty() {
        eprint!(
            "{}",
            report_text(Format::Human, &export.diagnostics.0, &export.sources)
        );
    }
    if !export.written.is_empty() {
        eprintln!(
            "wrote {} schema files to {}",
            export.written.len(),
            out.display()
        );
    }
    if export.diagnostics.has_errors() {
        Err(CliError::Findings)
    } else {
        Ok(())
    }
}
