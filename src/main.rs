//! The `mdbook-qms` binary: maps subcommands and the mdBook protocol onto the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mdbook_qms::diag::Diagnostic;
use mdbook_qms::history::diff::DiffFormat;
use mdbook_qms::preprocess::{self, Failure};
use mdbook_qms::project::{ChapterSource, Project};
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
        #[arg(long, value_enum, default_value = "human")]
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
        #[arg(long, value_enum, default_value = "human")]
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
        #[arg(long, value_enum, default_value = "text")]
        format: TraceFormat,
        /// Also list, per item, the commits whose trailers name it.
        #[arg(long)]
        commits: bool,
        /// Exit 1 when less than this percentage of FROM items is covered.
        #[arg(long, value_name = "PERCENT")]
        fail_under: Option<f64>,
    },
    /// Write the project's SBOM (CycloneDX 1.6 with support data and VEX) or an OpenVEX document.
    Sbom {
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "cyclonedx")]
        format: mdbook_qms::evidence::sbom_out::OutFormat,
        /// Write to this file (atomically) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print one generated document (plan, report, labeling) as Markdown.
    Render {
        /// The document, e.g. security-labeling (see the user guide for the list).
        name: String,
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// List every gap in the generated documents: what is missing and what would fill it.
    Gaps {
        #[arg(default_value = ".")]
        dir: PathBuf,
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
    match cli.command {
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
        }) => trace(
            &dir,
            &TraceRequest {
                from,
                to,
                via,
                format,
                commits,
                fail_under,
            },
        ),
        Some(Command::Sbom { dir, format, out }) => sbom(&dir, format, out.as_deref()),
        Some(Command::Render { name, dir }) => render_document(&dir, &name),
        Some(Command::Gaps { dir }) => gaps(&dir),
        Some(Command::Supports { .. }) => ExitCode::SUCCESS,
        Some(Command::Diff {
            base,
            head,
            dir,
            format,
        }) => match mdbook_qms::history::diff::command(&dir, &base, head.as_deref(), format) {
            Ok(text) => {
                match format {
                    DiffFormat::Human => print!("{}", terminal::safe(&text)),
                    DiffFormat::Json => print!("{text}"),
                }
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        },
        None => protocol(),
    }
}

/// No subcommand: mdBook runs us as a preprocessor with `[context, book]` on stdin.
fn protocol() -> ExitCode {
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    match preprocess::run_protocol(stdin, stdout) {
        Ok(warnings) => {
            eprint!("{warnings}");
            ExitCode::SUCCESS
        }
        Err(failure) => fail(failure),
    }
}

fn fail(failure: Failure) -> ExitCode {
    eprintln!("{failure}");
    ExitCode::from(match failure {
        Failure::Book(_) => 1,
        Failure::Usage(_) => 2,
    })
}

fn build(dir: &Path, dest: Option<&Path>) -> ExitCode {
    match preprocess::build(dir, dest) {
        Ok(out) => {
            eprintln!("book written to {}", out.display());
            ExitCode::SUCCESS
        }
        Err(failure) => fail(failure),
    }
}

fn export(request: &mdbook_qms::export::Request) -> ExitCode {
    use mdbook_qms::export::Failure;
    match mdbook_qms::export::run(request) {
        Ok(written) => {
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
            ExitCode::SUCCESS
        }
        Err(Failure::Book(message)) => {
            eprintln!("{message}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The options of `trace`.
struct TraceRequest {
    from: String,
    to: String,
    via: Option<String>,
    format: TraceFormat,
    commits: bool,
    fail_under: Option<f64>,
}

fn trace(dir: &Path, request: &TraceRequest) -> ExitCode {
    let (from, to) = (request.from.as_str(), request.to.as_str());
    let project = match load_clean(dir) {
        Ok(p) => p,
        Err(status) => return status,
    };
    for ty in [from, to] {
        if project.types.get(ty).is_none() {
            eprintln!(
                "error: unknown type `{ty}`; types: {}",
                project.types.names().collect::<Vec<_>>().join(", ")
            );
            return ExitCode::from(2);
        }
    }
    let coverage =
        mdbook_qms::trace::coverage(&project, from, to, request.via.as_deref(), |_| true);
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
        Some(min) if coverage.percent() < min => {
            eprintln!("coverage {:.1}% is under {min}%", coverage.percent());
            ExitCode::from(1)
        }
        _ => ExitCode::SUCCESS,
    }
}

/// `sbom`: refuses a project with errors, since its SBOM would be incomplete.
fn sbom(
    dir: &Path,
    format: mdbook_qms::evidence::sbom_out::OutFormat,
    out: Option<&Path>,
) -> ExitCode {
    let project = match load_clean(dir) {
        Ok(p) => p,
        Err(status) => return status,
    };
    let out = match out
        .map(|path| mdbook_qms::output::Sources::of(&project.config).refuse_if_in_sources(path))
        .transpose()
    {
        Ok(out) => out,
        Err(why) => {
            eprintln!(
                "error: refusing to write the SBOM to {}: {why}; choose a file outside the project's sources",
                out.unwrap_or(Path::new("")).display()
            );
            return ExitCode::from(2);
        }
    };
    // Never over a file someone else wrote (another tool's SBOM, a README).
    if let Some(path) = out.as_deref() {
        let ours = std::fs::read(path).map(|b| mdbook_qms::evidence::sbom_out::is_generated(&b));
        if matches!(ours, Ok(false)) || path.is_dir() {
            eprintln!(
                "error: refusing to write the SBOM to {}: it exists and is not an SBOM or VEX document mdbook-qms wrote; remove it or choose another file",
                path.display()
            );
            return ExitCode::from(2);
        }
    }
    let text = mdbook_qms::evidence::sbom_out::generate(&project, format);
    match out.as_deref() {
        Some(path) => match mdbook_qms::atomic::write(path, text.as_bytes()) {
            Ok(()) => {
                eprintln!("wrote {}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                ExitCode::from(2)
            }
        },
        None => {
            print!("{text}");
            ExitCode::SUCCESS
        }
    }
}

/// Loads a project for a command that needs it free of errors (exit 1 otherwise, 2 when
/// it cannot be loaded at all).
fn load_clean(dir: &Path) -> Result<Project, ExitCode> {
    let project = match Project::load(dir, ChapterSource::Disk) {
        Ok(p) => p,
        Err(fatal) => {
            eprint!(
                "{}",
                report_text(Format::Human, &[*fatal.0], &SourceMap::default())
            );
            return Err(ExitCode::from(2));
        }
    };
    if project.diagnostics.has_errors() {
        eprint!(
            "{}",
            report_text(Format::Human, &project.diagnostics.0, &project.sources)
        );
        return Err(ExitCode::from(1));
    }
    Ok(project)
}

/// `render NAME`: the document on stdout; an unknown name is a usage error (2), a
/// template that fails is a book error (1).
fn render_document(dir: &Path, name: &str) -> ExitCode {
    if mdbook_qms::documents::find(name).is_none() {
        let e = mdbook_qms::documents::render_standalone_unknown(name);
        eprintln!("error[document-unknown]: {e}");
        return ExitCode::from(2);
    }
    let project = match load_clean(dir) {
        Ok(p) => p,
        Err(code) => return code,
    };
    match mdbook_qms::documents::render_standalone(&project, name) {
        Ok(doc) => {
            print!("{}", doc.markdown);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error[{}]: {e}", e.code);
            ExitCode::from(1)
        }
    }
}

/// `gaps`: one line per gap, `document: section: what`; exit 0 either way (gaps are
/// warnings), 1 when a template fails.
fn gaps(dir: &Path) -> ExitCode {
    let project = match load_clean(dir) {
        Ok(p) => p,
        Err(code) => return code,
    };
    match mdbook_qms::documents::all_gaps(&project) {
        Ok(gaps) => {
            for g in &gaps {
                let line = format!("{}: {}: {}", g.document, g.section, g.what);
                println!("{}", terminal::safe_line(&line));
            }
            eprintln!(
                "{} gap{}",
                gaps.len(),
                if gaps.len() == 1 { "" } else { "s" }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error[{}]: {e}", e.code);
            ExitCode::from(1)
        }
    }
}

fn init(dir: &Path) -> ExitCode {
    match scaffold::init(dir) {
        Ok(files) => {
            for f in files {
                eprintln!("created {}", dir.join(f).display());
            }
            eprintln!(
                "next: mdbook-qms check {0} && mdbook-qms build {0}",
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn new_item(dir: &Path, ty: &str, title: Option<&str>) -> ExitCode {
    match scaffold::new_item(dir, ty, title) {
        Ok((id, path)) => {
            println!("{id}");
            eprintln!("created {}", dir.join(path).display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn check(dir: &std::path::Path, format: Format) -> ExitCode {
    match Project::load(dir, ChapterSource::Disk) {
        Ok(project) => {
            let text = report_text(format, &project.diagnostics.0, &project.sources);
            print_report(format, &text);
            let status = ExitCode::from(if project.diagnostics.has_errors() {
                1
            } else {
                0
            });
            // The process ends here: freeing every item one by one would add about a
            // tenth to a large check (see book/performance.md), for memory the OS
            // reclaims anyway.
            std::mem::forget(project);
            status
        }
        Err(fatal) => {
            let text = report_text(format, &[*fatal.0], &SourceMap::default());
            print_report(format, &text);
            ExitCode::from(2)
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

fn write_schemas(dir: &std::path::Path, out: &std::path::Path) -> ExitCode {
    match mdbook_qms::schema::export(dir, out) {
        Ok(export) => {
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
            ExitCode::from(if export.diagnostics.has_errors() {
                1
            } else {
                0
            })
        }
        Err(fatal) => {
            eprint!(
                "{}",
                report_text(Format::Human, &[*fatal.0], &SourceMap::default())
            );
            ExitCode::from(2)
        }
    }
}
