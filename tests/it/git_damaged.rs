//! A damaged repository: a loose object file (a blob, a tree, a commit) truncated,
//! emptied or overwritten with bytes that are not zlib data, as a crash or a full disk
//! leaves it. libgit2 1.9 spins forever inflating a truncated object, so every command
//! here runs as a real process that is killed (and the test failed) after a time limit.
//! `check` and `build` report `git-damaged` naming the object and go on with everything
//! else; `export` and `diff` stop with a clear error (exit 2).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::git::Repo;
use serde_json::{json, Value};

/// Far beyond what these commands need on a tiny repository (well under a second), so
/// only a hang reaches it.
const LIMIT: Duration = Duration::from_secs(60);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `dir`, killing it and failing the test when it outlives `LIMIT`.
fn run(dir: &Path, args: &[&str], stdin: Option<String>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let (Some(mut pipe), Some(text)) = (input, stdin) {
            // A child that stops reading (it failed) closes the pipe: not our error.
            let _ = pipe.write_all(text.as_bytes());
        }
    });
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > LIMIT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "`mdbook-qms {}` still ran after {LIMIT:?}: it hangs",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    writer.join().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Object {
    /// `requirements/a.yaml`, unchanged since the first commit.
    Blob,
    /// HEAD's `requirements` folder.
    Tree,
    /// The first commit (HEAD's parent).
    Commit,
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    /// Cut to half its size: the zlib stream ends early.
    Truncated,
    Empty,
    /// Bytes that are not zlib data.
    Garbage,
}

/// Two commits of items, one of which links to an unknown id (an error unrelated to
/// git, which must still be reported), then one object file damaged. Returns the repo
/// and the damaged object's id.
fn damaged(object: Object, damage: Damage) -> (Repo, String) {
    let r = Repo::new();
    // Text long enough that half of the compressed blob is still well inside the stream.
    let text: String = (0..60)
        .map(|i| format!("Line {i} of the first requirement's text. "))
        .collect();
    r.write(
        "requirements/a.yaml",
        &format!("id: REQ-A-001\ntype: requirement\ntitle: First\ntext: {text}\n"),
    );
    r.commit("Alice", "one");
    r.write(
        "requirements/b.yaml",
        "id: REQ-A-002\ntype: requirement\ntitle: Second\nparent: REQ-NOPE-001\n",
    );
    r.commit("Bob", "two");
    let rev = match object {
        Object::Blob => "HEAD:requirements/a.yaml",
        Object::Tree => "HEAD:requirements",
        Object::Commit => "HEAD~1",
    };
    let id = r.git(&["rev-parse", rev]).trim().to_owned();
    let file = r.root.join(".git/objects").join(&id[..2]).join(&id[2..]);
    let old = std::fs::read(&file).unwrap();
    let new = match damage {
        Damage::Truncated => old[..old.len() / 2].to_vec(),
        Damage::Empty => Vec::new(),
        Damage::Garbage => b"these bytes are not zlib data\n".repeat(4),
    };
    // git writes objects read-only.
    let mut perms = std::fs::metadata(&file).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&file, perms).unwrap();
    std::fs::write(&file, new).unwrap();
    (r, id)
}

const ALL: [(Object, Damage); 9] = [
    (Object::Blob, Damage::Truncated),
    (Object::Tree, Damage::Truncated),
    (Object::Commit, Damage::Truncated),
    (Object::Blob, Damage::Empty),
    (Object::Tree, Damage::Empty),
    (Object::Commit, Damage::Empty),
    (Object::Blob, Damage::Garbage),
    (Object::Tree, Damage::Garbage),
    (Object::Commit, Damage::Garbage),
];

#[test]
fn check_names_the_damaged_object_and_still_reports_everything_else() {
    for (object, damage) in ALL {
        let (r, id) = damaged(object, damage);
        let out = run(&r.root, &["check", ".", "--format", "json"], None);
        let case = format!("{object:?} {damage:?}: {}{}", out.stdout, out.stderr);
        assert_eq!(out.code, 1, "{case}");
        let diags: Value = serde_json::from_str(&out.stdout).expect(&case);
        let codes: Vec<&str> = diags
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&"link-unknown"), "{case}");
        assert!(!codes.contains(&"history-unavailable"), "{case}");
        let d = diags
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == "git-damaged")
            .unwrap_or_else(|| panic!("no git-damaged: {case}"));
        assert_eq!(d["severity"], "warning", "{case}");
        assert_eq!(d["file"], "book.toml", "{case}");
        let message = d["message"].as_str().unwrap();
        let path = format!(".git/objects/{}/{}", &id[..2], &id[2..]);
        assert!(message.contains(&id), "{case}");
        assert!(message.contains(&path), "{case}");
    }
}

#[test]
fn build_in_process_and_through_the_mdbook_protocol_finish_with_the_warning() {
    for object in [Object::Blob, Object::Tree, Object::Commit] {
        let (r, id) = damaged(object, Damage::Truncated);
        // The unrelated error makes the build fail; the damage must not hang it first.
        let out = r.tmp.path().join("out");
        let built = run(
            &r.root,
            &["build", ".", "--dest-dir", out.to_str().unwrap()],
            None,
        );
        let case = format!("{object:?}: {}{}", built.stdout, built.stderr);
        assert_eq!(built.code, 1, "{case}");
        assert!(built.stderr.contains("git-damaged"), "{case}");
        assert!(built.stderr.contains(&id), "{case}");
        assert!(built.stderr.contains("link-unknown"), "{case}");

        let context = json!({
            "root": r.root,
            "config": {"book": {"title": "T", "src": "book"}, "preprocessor": {"qms": {}}},
            "renderer": "html",
            "mdbook_version": "0.5.4",
        });
        let intro = json!({"Chapter": {
            "name": "Intro", "content": "# Intro\n", "number": null, "sub_items": [],
            "path": "intro.md", "source_path": "intro.md", "parent_names": [],
        }});
        let input = json!([context, {"items": [intro]}]).to_string();
        let piped = run(&r.root, &[], Some(input));
        let case = format!("{object:?} protocol: {}", piped.stderr);
        assert_eq!(piped.code, 1, "{case}");
        assert!(piped.stderr.contains("git-damaged"), "{case}");
        assert!(piped.stderr.contains("link-unknown"), "{case}");
    }
}

#[test]
fn export_and_diff_stop_with_a_clear_error() {
    for object in [Object::Blob, Object::Tree, Object::Commit] {
        let (r, id) = damaged(object, Damage::Truncated);
        // A short id is looked up by prefix, a path of its own in libgit2.
        let short = r.git(&["rev-parse", "--short=7", "HEAD~1"]);
        for args in [
            vec!["export", ".", "--out", "../bundle"],
            vec!["export", ".", "--out", "../bundle", "--at", "HEAD"],
            vec!["diff", "HEAD~1", "HEAD"],
            vec!["diff", "HEAD~1"],
            vec!["diff", short.trim()],
        ] {
            let out = run(&r.root, &args, None);
            let case = format!("{object:?} {args:?}: {}{}", out.stdout, out.stderr);
            assert_eq!(out.code, 2, "{case}");
            assert!(out.stderr.contains("damaged"), "{case}");
            assert!(out.stderr.contains(&id), "{case}");
            assert!(!r.tmp.path().join("bundle").exists(), "{case}");
        }
    }
}

#[test]
fn a_damaged_loose_object_is_found_next_to_packed_ones() {
    let r = Repo::new();
    r.write(
        "requirements/a.yaml",
        "id: REQ-A-001\ntype: requirement\ntitle: First\n",
    );
    r.commit("Alice", "one");
    r.git(&["repack", "-a", "-d", "-q"]);
    r.write(
        "requirements/b.yaml",
        "id: REQ-A-002\ntype: requirement\ntitle: Second\nparent: REQ-NOPE-001\n",
    );
    r.commit("Bob", "two");
    let id = r.git(&["rev-parse", "HEAD:requirements/b.yaml"]);
    let id = id.trim();
    let file = r.root.join(".git/objects").join(&id[..2]).join(&id[2..]);
    let old = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, &old[..old.len() / 2]).unwrap();
    let out = run(&r.root, &["check", "."], None);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("warning[git-damaged]"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(id), "{}", out.stderr);
    assert!(out.stderr.contains("error[link-unknown]"), "{}", out.stderr);
}
