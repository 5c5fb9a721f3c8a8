//! `qms-bench`: generates realistic projects and times the real `mdbook-qms` binary on
//! them, printing each figure next to its target.
//!
//! It runs the sibling `mdbook-qms` executable (the one built next to this one, so build
//! both with `cargo build --release --bins`) as a child process, the way users and CI run
//! it, and takes each child's peak resident memory from `wait4`. A benchmark is a row
//! (see [`Row`]); later rows (book build, history scan) only need a corpus, a command
//! and a target.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use mdbook_qms::corpus::{self, Stats, DEFAULT_FILES};
use mdbook_qms::documents::DOCUMENTS;

#[derive(Parser)]
#[command(
    name = "qms-bench",
    about = "Generate corpora and time mdbook-qms on them"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Write a generated project to a folder.
    Gen {
        #[arg(long, default_value_t = 10_000)]
        items: usize,
        #[arg(long, default_value_t = DEFAULT_FILES)]
        files: usize,
        #[arg(long)]
        out: PathBuf,
        /// Also write a CycloneDX SBOM of this many components under `trace/sbom/`.
        #[arg(long, default_value_t = 0)]
        sbom: usize,
    },
    /// Time the history scan (cold and with a warm cache) on a generated git history,
    /// next to `git log -p --no-renames` and `git log --raw` on the same repository.
    History {
        #[arg(long, default_value_t = 10_000)]
        items: usize,
        #[arg(long, default_value_t = DEFAULT_FILES)]
        files: usize,
        #[arg(long, default_value_t = 20_000)]
        commits: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Keep the generated repository in this folder instead of a scratch folder.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
    /// Time `mdbook-qms build DIR --dest-dir OUT` (the whole HTML book, search index
    /// included) on generated projects of the given sizes.
    Build {
        #[arg(long, default_values_t = [10_000])]
        items: Vec<usize>,
        #[arg(long, default_value_t = DEFAULT_FILES)]
        files: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long)]
        binary: Option<PathBuf>,
    },
    /// Time `mdbook-qms export` of a committed generated project, from the work tree and
    /// with `--at HEAD`, checking that every run writes the same bytes.
    Export {
        #[arg(long, default_values_t = [10_000])]
        items: Vec<usize>,
        #[arg(long, default_value_t = DEFAULT_FILES)]
        files: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long)]
        binary: Option<PathBuf>,
    },
    /// Time `mdbook-qms render NAME --format pdf` of every built-in document, one after
    /// the other, on generated projects of the given sizes (all documents' times
    /// summed into one run).
    Pdf {
        #[arg(long, default_values_t = [10_000])]
        items: Vec<usize>,
        #[arg(long, default_value_t = DEFAULT_FILES)]
        files: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long)]
        binary: Option<PathBuf>,
    },
    /// Time `mdbook-qms check DIR --format json` on a small generated project with one
    /// CycloneDX SBOM of each given number of components.
    Sbom {
        /// Component counts, e.g. `--components 200000`.
        #[arg(long, default_values_t = [5_000, 20_000, 200_000])]
        components: Vec<usize>,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[arg(long)]
        binary: Option<PathBuf>,
    },
    /// Time `mdbook-qms check DIR --format json` on generated projects of the given sizes.
    Check {
        /// Item counts, e.g. `--items 10000 --items 100000`.
        #[arg(long, default_values_t = [10_000, 100_000])]
        items: Vec<usize>,
        #[arg(long, default_value_t = DEFAULT_FILES)]
        files: usize,
        /// Timed runs per size; the table shows the median and the fastest.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// The mdbook-qms executable to time (default: the one next to qms-bench), e.g.
        /// an older build to compare against.
        #[arg(long)]
        binary: Option<PathBuf>,
    },
}

/// What a row must meet. The check targets scale with the corpus: 0.5 s per 10,000 items
/// (so 5 s for 100,000), and peak memory under 1 GiB.
#[derive(Clone, Copy)]
struct Target {
    time: Duration,
    rss_bytes: u64,
}

impl Target {
    fn check(items: usize) -> Target {
        Target {
            time: Duration::from_micros(50 * items as u64),
            rss_bytes: 1 << 30,
        }
    }
}

impl Target {
    /// The book target: 10 s for 10,000 items (1 ms per item). Memory has no target; the
    /// bound only flags a runaway.
    fn build(items: usize) -> Target {
        Target {
            time: Duration::from_micros(1000 * items as u64),
            rss_bytes: 4 << 30,
        }
    }
}

/// One benchmark's measurements.
struct Row {
    name: String,
    corpus: Stats,
    times: Vec<Duration>,
    /// User plus system CPU time of each run: unlike wall time, barely moved by other
    /// load on the machine, so it tells a slow machine from a slow build.
    cpu: Vec<Duration>,
    peak_rss_bytes: u64,
    target: Target,
    /// Why a run did not count (wrong exit status, unexpected diagnostics).
    failure: Option<String>,
}

impl Row {
    /// Runs `once` `runs` times (at least once) and collects its timings. `once` runs the
    /// binary and says why a run does not count (`Some(reason)`), if it does not.
    fn timed(
        name: String,
        corpus: Stats,
        target: Target,
        runs: usize,
        mut once: impl FnMut(usize) -> std::io::Result<(Run, Option<String>)>,
    ) -> std::io::Result<Row> {
        let mut row = Row {
            name,
            corpus,
            times: Vec::new(),
            cpu: Vec::new(),
            peak_rss_bytes: 0,
            target,
            failure: None,
        };
        for i in 0..runs.max(1) {
            let (r, failure) = once(i)?;
            if failure.is_some() {
                row.failure = failure;
            }
            row.times.push(r.wall);
            row.cpu.push(r.cpu);
            row.peak_rss_bytes = row.peak_rss_bytes.max(r.max_rss_bytes);
        }
        Ok(row)
    }

    fn median(&self) -> Duration {
        let mut t = self.times.clone();
        t.sort();
        t.get(t.len() / 2).copied().unwrap_or_default()
    }

    fn median_cpu(&self) -> Duration {
        let mut t = self.cpu.clone();
        t.sort();
        t.get(t.len() / 2).copied().unwrap_or_default()
    }

    fn min(&self) -> Duration {
        self.times.iter().min().copied().unwrap_or_default()
    }

    fn met(&self) -> bool {
        self.failure.is_none()
            && self.median() <= self.target.time
            && self.peak_rss_bytes < self.target.rss_bytes
    }
}

/// A child's wall time, peak RSS, exit status and standard output.
struct Run {
    wall: Duration,
    cpu: Duration,
    max_rss_bytes: u64,
    status: i32,
    stdout: Vec<u8>,
}

/// Runs `cmd` to completion and reaps it with `wait4`, which returns that one child's
/// resource usage (RUSAGE_CHILDREN would fold in every earlier child).
fn run(cmd: &mut Command) -> std::io::Result<Run> {
    let start = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let mut stdout = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_end(&mut stdout)?;
    }
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data that wait4 fills in; pid is our own unreaped child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if reaped != pid {
        return Err(std::io::Error::last_os_error());
    }
    let status = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let tv =
        |t: libc::timeval| Duration::new(t.tv_sec.max(0) as u64, (t.tv_usec.max(0) as u32) * 1000);
    Ok(Run {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        max_rss_bytes: usage.ru_maxrss.max(0) as u64 * 1024,
        status,
        stdout,
    })
}

/// The `mdbook-qms` executable built next to this one.
fn sibling_binary() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let bin = me.with_file_name(format!("mdbook-qms{}", std::env::consts::EXE_SUFFIX));
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{} not found; build both binaries: cargo build --release --bins",
            bin.display()
        ))
    }
}

/// A scratch folder removed when dropped (no tempfile dependency in the binary).
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> std::io::Result<Scratch> {
        let path = std::env::temp_dir().join(format!("qms-bench-{}-{label}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir_all(&path)?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn check_row(bin: &Path, items: usize, files: usize, runs: usize) -> std::io::Result<Row> {
    let scratch = Scratch::new(&items.to_string())?;
    let corpus = corpus::generate(&scratch.0, items, files)?;
    let name = format!("check {}", short_count(items));
    timed_check(bin, &scratch.0, name, corpus, runs)
}

/// `check` of 100 items and an SBOM of `components` components; the check target of as
/// many items.
fn sbom_row(bin: &Path, components: usize, runs: usize) -> std::io::Result<Row> {
    let scratch = Scratch::new(&format!("sbom-{components}"))?;
    let corpus = corpus::generate_sbom(&scratch.0, 100, DEFAULT_FILES, components)?;
    let name = format!("check sbom {}", short_count(components));
    timed_check(bin, &scratch.0, name, corpus, runs)
}

/// Times `check DIR --format json` on a generated (so clean) project.
fn timed_check(
    bin: &Path,
    dir: &Path,
    name: String,
    corpus: Stats,
    runs: usize,
) -> std::io::Result<Row> {
    Row::timed(name, corpus, Target::check(corpus.items), runs, |_| {
        let r = run(Command::new(bin)
            .arg("check")
            .arg(dir)
            .args(["--format", "json"]))?;
        // A generated corpus is clean: anything but exit 0 and `[]` means we timed a
        // broken run, not a check.
        let out = String::from_utf8_lossy(&r.stdout);
        let failure = (r.status != 0 || out.trim() != "[]").then(|| {
            let first: String = out.chars().take(300).collect();
            format!("exit status {}, output: {first}", r.status)
        });
        Ok((r, failure))
    })
}

fn build_row(bin: &Path, items: usize, files: usize, runs: usize) -> std::io::Result<Row> {
    let scratch = Scratch::new(&format!("build-{items}"))?;
    let corpus = corpus::generate(&scratch.0, items, files)?;
    let out = scratch.0.join("site");
    let name = format!("build {}", short_count(items));
    Row::timed(name, corpus, Target::build(items), runs, |_| {
        let r = run(Command::new(bin)
            .arg("build")
            .arg(&scratch.0)
            .arg("--dest-dir")
            .arg(&out))?;
        // A run counts only if it wrote the book, search index included.
        let wrote = out.join("index.html").is_file()
            && std::fs::read_dir(&out)?
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("searchindex"));
        let failure = (r.status != 0 || !wrote)
            .then(|| format!("exit status {}, book written: {wrote}", r.status));
        Ok((r, failure))
    })
}

/// Every built-in document of a generated project typeset as PDF, one `render` after
/// another (the one-command equivalent is `export`, which also writes everything else).
/// A run counts only if every render exits 0 and writes a PDF.
fn pdf_row(bin: &Path, items: usize, files: usize, runs: usize) -> std::io::Result<Row> {
    let scratch = Scratch::new(&format!("pdf-{items}"))?;
    let corpus = corpus::generate(&scratch.0, items, files)?;
    let out = scratch.0.join("pdf");
    std::fs::create_dir_all(&out)?;
    let name = format!("pdf {} ({} documents)", short_count(items), DOCUMENTS.len());
    Row::timed(name, corpus, Target::build(items), runs, |_| {
        let mut all = Run {
            wall: Duration::ZERO,
            cpu: Duration::ZERO,
            max_rss_bytes: 0,
            status: 0,
            stdout: Vec::new(),
        };
        let mut failure = None;
        for doc in DOCUMENTS {
            let file = out.join(format!("{}.pdf", doc.name));
            let r = run(Command::new(bin)
                .args(["render", doc.name])
                .arg(&scratch.0)
                .args(["--format", "pdf", "-o"])
                .arg(&file))?;
            let written = std::fs::read(&file).is_ok_and(|b| b.starts_with(b"%PDF-"));
            if r.status != 0 || !written {
                failure.get_or_insert(format!(
                    "{}: exit status {}, PDF written: {written}",
                    doc.name, r.status
                ));
            }
            all.wall += r.wall;
            all.cpu += r.cpu;
            all.max_rss_bytes = all.max_rss_bytes.max(r.max_rss_bytes);
        }
        Ok((all, failure))
    })
}

/// `export` from the work tree and `export --at HEAD` of one committed corpus. Every run
/// must succeed and write the bytes of the first (the bundle is reproducible).
fn export_rows(bin: &Path, items: usize, files: usize, runs: usize) -> std::io::Result<Vec<Row>> {
    let scratch = Scratch::new(&format!("export-{items}"))?;
    let dir = scratch.0.join("project");
    let corpus = corpus::generate(&dir, items, files)?;
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
            "commit",
            "-q",
            "-m",
            "corpus",
        ],
    ] {
        if !Command::new("git")
            .args(args)
            .current_dir(&dir)
            .status()?
            .success()
        {
            return Err(std::io::Error::other(format!("git {args:?} failed")));
        }
    }
    let mut rows = Vec::new();
    for (name, extra) in [
        ("export", &[][..]),
        ("export --at HEAD", &["--at", "HEAD"][..]),
    ] {
        let name = format!("{name} {}", short_count(items));
        let mode = rows.len();
        let mut first: Option<Vec<u8>> = None;
        let row = Row::timed(name, corpus, Target::build(items), runs, |i| {
            let out = scratch.0.join(format!("bundle-{mode}-{i}"));
            let r = run(Command::new(bin)
                .arg("export")
                .arg(&dir)
                .arg("--out")
                .arg(&out)
                .args(extra))?;
            // The manifest holds every file's hash: equal manifests, equal bundles.
            let manifest = std::fs::read(out.join("MANIFEST.sha256")).unwrap_or_default();
            let same = first.get_or_insert_with(|| manifest.clone()) == &manifest;
            let failure = (r.status != 0 || manifest.is_empty() || !same).then(|| {
                format!(
                    "exit status {}, manifest written: {}, same bytes as run 1: {same}",
                    r.status,
                    !manifest.is_empty()
                )
            });
            Ok((r, failure))
        })?;
        rows.push(row);
    }
    Ok(rows)
}

fn short_count(n: usize) -> String {
    if n >= 1000 && n.is_multiple_of(1000) {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn print_table(rows: &[Row]) {
    let header = [
        "benchmark",
        "items",
        "files",
        "corpus",
        "runs",
        "median",
        "min",
        "CPU",
        "peak RSS",
        "target",
        "result",
    ];
    let lines: Vec<[String; 11]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.corpus.items.to_string(),
                r.corpus.files.to_string(),
                mib(r.corpus.bytes),
                r.times.len().to_string(),
                secs(r.median()),
                secs(r.min()),
                secs(r.median_cpu()),
                mib(r.peak_rss_bytes),
                format!(
                    "<= {:.2} s, < {}",
                    r.target.time.as_secs_f64(),
                    mib(r.target.rss_bytes)
                ),
                if r.met() {
                    "ok".into()
                } else if r.failure.is_some() {
                    "FAILED RUN".into()
                } else {
                    "MISSED".into()
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for line in &lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.len());
        }
    }
    let print = |cells: &[&str]| {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            // Names left-aligned, figures right-aligned.
            .map(|(i, (c, w))| {
                if i == 0 || i >= 9 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        println!("{}", text.join("  ").trim_end());
    };
    print(&header);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    print(&rule.iter().map(String::as_str).collect::<Vec<_>>());
    for line in &lines {
        print(&line.iter().map(String::as_str).collect::<Vec<_>>());
    }
    for r in rows {
        if let Some(f) = &r.failure {
            println!("\n{}: {f}", r.name);
        }
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::Gen {
            items,
            files,
            out,
            sbom,
        } => match corpus::generate_sbom(&out, items, files, sbom) {
            Ok(s) => {
                println!(
                    "wrote {} items ({} requirements, {} tests, {} SBOM components) in {} files, {} to {}",
                    s.items,
                    s.requirements,
                    s.tests,
                    s.components,
                    s.files,
                    mib(s.bytes),
                    out.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", out.display());
                ExitCode::from(2)
            }
        },
        Cmd::History {
            items,
            files,
            commits,
            runs,
            keep,
        } => match history_bench(items, files, commits, runs, keep) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("error: history benchmark failed: {e}");
                ExitCode::from(2)
            }
        },
        Cmd::Build {
            items,
            files,
            runs,
            binary,
        } => time_rows(binary, &items, |bin, n| {
            build_row(bin, n, files, runs).map(|r| vec![r])
        }),
        Cmd::Check {
            items,
            files,
            runs,
            binary,
        } => time_rows(binary, &items, |bin, n| {
            check_row(bin, n, files, runs).map(|r| vec![r])
        }),
        Cmd::Export {
            items,
            files,
            runs,
            binary,
        } => time_rows(binary, &items, |bin, n| export_rows(bin, n, files, runs)),
        Cmd::Pdf {
            items,
            files,
            runs,
            binary,
        } => time_rows(binary, &items, |bin, n| {
            pdf_row(bin, n, files, runs).map(|r| vec![r])
        }),
        Cmd::Sbom {
            components,
            runs,
            binary,
        } => time_rows(binary, &components, |bin, n| {
            sbom_row(bin, n, runs).map(|r| vec![r])
        }),
    }
}

/// Runs one timed row per corpus size against the binary under test and prints the
/// table; exit 1 when a target is missed, so CI can gate on it.
fn time_rows(
    binary: Option<PathBuf>,
    items: &[usize],
    rows_for: impl Fn(&Path, usize) -> std::io::Result<Vec<Row>>,
) -> ExitCode {
    let bin = match binary.map_or_else(sibling_binary, Ok) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!("binary: {}", bin.display());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Wall times only mean something on an otherwise idle machine; say when not.
    let load = std::fs::read_to_string("/proc/loadavg").ok();
    let load1: Option<f64> = load
        .as_deref()
        .and_then(|l| l.split_whitespace().next()?.parse().ok());
    match load1 {
        Some(l) if l > cores as f64 / 2.0 => println!(
            "machine: {cores} cores, load average {l:.1}: busy, so wall times are inflated (CPU times much less)\n"
        ),
        Some(l) => println!("machine: {cores} cores, load average {l:.1}\n"),
        None => println!("machine: {cores} cores\n"),
    }
    let mut rows = Vec::new();
    for &n in items {
        match rows_for(&bin, n) {
            Ok(r) => rows.extend(r),
            Err(e) => {
                eprintln!("error: benchmark of {n} items failed: {e}");
                return ExitCode::from(2);
            }
        }
    }
    print_table(&rows);
    if rows.iter().all(Row::met) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The history rows: builds the repository with `git fast-import`, times git's own log
/// walks as the yardstick, then the in-process scan cold (cache removed) and warm.
/// Returns whether both targets were met.
fn history_bench(
    items: usize,
    files: usize,
    commits: usize,
    runs: usize,
    keep: Option<PathBuf>,
) -> std::io::Result<bool> {
    use mdbook_qms::history;
    use std::io::Write as _;
    let scratch;
    let dir = match keep {
        Some(d) => {
            std::fs::create_dir_all(&d)?;
            d
        }
        None => {
            scratch = Scratch::new("history")?;
            scratch.0.clone()
        }
    };
    let git = |args: &[&str]| -> std::io::Result<()> {
        let s = Command::new("git")
            .args(args)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .status()?;
        if s.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("git {args:?} failed")))
        }
    };
    let stats = corpus::generate(&dir, items, files)?;
    let build = Instant::now();
    git(&["init", "-q", "-b", "main"])?;
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .spawn()?;
    let hs = {
        let mut stdin = std::io::BufWriter::new(child.stdin.take().expect("piped stdin"));
        let hs = mdbook_qms::corpus::history::fast_import_stream(&dir, commits, &mut stdin)?;
        stdin.flush()?;
        hs
    };
    if !child.wait()?.success() {
        return Err(std::io::Error::other("git fast-import failed"));
    }
    git(&["reset", "-q", "--hard", "main"])?;
    println!(
        "repository: {} items in {} files, {} commits ({} of file versions), built in {}\n",
        stats.items,
        stats.files,
        hs.commits,
        mib(hs.bytes),
        secs(build.elapsed())
    );
    let time_git = |args: &[&str]| -> std::io::Result<Vec<Duration>> {
        let mut t = Vec::new();
        for _ in 0..runs.max(1) {
            let start = Instant::now();
            git(args)?;
            t.push(start.elapsed());
        }
        Ok(t)
    };
    let log_p = time_git(&["log", "-p", "--no-renames"])?;
    let log_raw = time_git(&["log", "--raw"])?;
    let project = mdbook_qms::pipeline::load(&dir, mdbook_qms::load::ChapterSource::Disk)
        .map_err(|f| std::io::Error::other(f.0.message))?;
    let cache = dir.join(".git/mdbook-qms");
    let scan = |cold: bool| -> std::io::Result<(Duration, usize)> {
        if cold && cache.exists() {
            std::fs::remove_dir_all(&cache)?;
        }
        let mut diags = Vec::new();
        let start = Instant::now();
        let h = history::scan(&project, &mut diags);
        let t = start.elapsed();
        if !h.is_available() || h.commits.len() != hs.commits || h.from_cache == cold {
            return Err(std::io::Error::other(format!(
                "unexpected scan result: {} commits, from cache {}, {} diagnostics",
                h.commits.len(),
                h.from_cache,
                diags.len()
            )));
        }
        Ok((t, h.items.values().map(|i| i.changes.len()).sum()))
    };
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    let mut changes = 0;
    for _ in 0..runs.max(1) {
        let (t, c) = scan(true)?;
        cold.push(t);
        changes = c;
        warm.push(scan(false)?.0);
    }
    let median = |v: &[Duration]| {
        let mut v = v.to_vec();
        v.sort();
        v[v.len() / 2]
    };
    let (p, raw, c, w) = (
        median(&log_p),
        median(&log_raw),
        median(&cold),
        median(&warm),
    );
    let warm_target = Duration::from_millis(100);
    println!("{:<40} {:>10}  target", "history", "median");
    println!("{:<40} {:>10}", "git log --raw", secs(raw));
    println!("{:<40} {:>10}", "git log -p --no-renames", secs(p));
    println!(
        "{:<40} {:>10}  <= git log -p: {}",
        "history scan, cold (fingerprints incl.)",
        secs(c),
        if c <= p { "ok" } else { "MISSED" }
    );
    println!(
        "{:<40} {:>10}  <= 0.100 s: {}",
        "history scan, warm cache",
        secs(w),
        if w <= warm_target { "ok" } else { "MISSED" }
    );
    println!("\n{changes} item changes found over {} commits", hs.commits);
    Ok(c <= p && w <= warm_target)
}
