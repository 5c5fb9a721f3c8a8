//! A small project in a temporary folder and the real binary run on it.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// A project in a temporary folder: `book.toml` (`src = "book"`, a `[preprocessor.qms]`
/// table), `book/SUMMARY.md` listing `book/intro.md`, and an empty `requirements/`.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Self {
        let p = Project {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        super::write_minimal_project(p.path());
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating folders); bytes are written as given.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        super::write(self.path(), rel, content);
        self
    }

    pub fn remove(&self, rel: &str) -> &Self {
        let path = self.path().join(rel);
        if path.is_dir() {
            std::fs::remove_dir_all(path).unwrap();
        } else {
            std::fs::remove_file(path).unwrap();
        }
        self
    }

    /// `mdbook-qms check DIR --format FORMAT`.
    pub fn check(&self, format: &str) -> Run {
        run(&[
            "check".as_ref(),
            self.path().as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
        ])
    }

    /// `check --format json`, parsed.
    pub fn json(&self) -> (i32, Vec<Value>) {
        let r = self.check("json");
        let list: Value = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("--format json printed invalid JSON ({e}):\n{}", r.stdout));
        let list = list.as_array().expect("a JSON array").clone();
        for d in &list {
            for key in [
                "severity", "code", "message", "file", "line", "column", "item",
            ] {
                assert!(d.get(key).is_some(), "diagnostic without `{key}`: {d}");
            }
        }
        (r.code, list)
    }
}

/// What one run of the binary printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the real binary with a timeout (an alias bomb must not hang it) and checks it
/// did not panic.
pub fn run(args: &[&std::ffi::OsStr]) -> Run {
    run_within(args, Duration::from_secs(30))
}

/// [`run`] with a longer timeout, for work that is slow in a debug build (typesetting a
/// PDF: Typst unoptimised is some ten times slower).
pub fn run_within(args: &[&std::ffi::OsStr], timeout: Duration) -> Run {
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
        .args(args)
        .timeout(timeout)
        .output()
        .expect("run mdbook-qms");
    let r = Run {
        code: out
            .status
            .code()
            .expect("exited (not killed by a signal or the timeout)"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_ne!(r.code, 101, "mdbook-qms panicked:\n{}", r.stderr);
    assert!(
        !r.stderr.contains("panicked"),
        "mdbook-qms panicked:\n{}",
        r.stderr
    );
    r
}

/// The diagnostics with `code`.
pub fn with_code<'a>(diags: &'a [Value], code: &str) -> Vec<&'a Value> {
    diags.iter().filter(|d| d["code"] == code).collect()
}

/// The errors only: warnings (coverage lints and the like) come and go as features land.
pub fn errors(diags: &[Value]) -> Vec<&Value> {
    diags.iter().filter(|d| d["severity"] == "error").collect()
}

/// The only diagnostic with `code`.
pub fn one<'a>(diags: &'a [Value], code: &str) -> &'a Value {
    let found = with_code(diags, code);
    assert_eq!(
        found.len(),
        1,
        "expected one `{code}`, got {}:\n{}",
        found.len(),
        pretty(diags)
    );
    found[0]
}

/// Asserts file, line and column (and severity `error` unless told otherwise).
pub fn assert_at(d: &Value, file: &str, line: u64, column: u64) {
    assert_eq!(
        (d["file"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
        (Some(file), Some(line), Some(column)),
        "wrong place for {d}"
    );
}

pub fn assert_item(d: &Value, item: Option<&str>) {
    assert_eq!(d["item"].as_str(), item, "wrong item for {d}");
}

pub fn pretty(diags: &[Value]) -> String {
    serde_json::to_string_pretty(diags).unwrap()
}
