//! Nothing lost: `build`, `export` and `sbom` never write into the project's sources or
//! `.git`, never replace a folder they did not write, and a failed build leaves the
//! previous book. Every case runs the real binary on a real git repository and compares
//! every file of the temporary folder, byte for byte, before and after.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::cli::{run, Run};
use crate::support::git::{commit_in, Repo};

const BOOK_TOML: &str =
    "[book]\ntitle = \"T\"\nsrc = \"book\"\n\n[build]\nbuild-dir = \"build\"\n\n[preprocessor.qms]\n";

/// A committed project in `tmp/proj` with every kind of source folder, each holding a
/// file: chapters, items, evidence, schemas, templates.
fn device() -> Repo {
    let r = Repo::new();
    r.write("book.toml", BOOK_TOML);
    r.write("book/intro.md", "# Intro\n\n{{#qms table requirement}}\n");
    r.write(
        "requirements/one.yaml",
        "id: REQ-1\ntype: requirement\ntitle: The first requirement\n",
    );
    for folder in ["trace", "schemas", "templates"] {
        r.write(&format!("{folder}/README.md"), "the user's notes\n");
    }
    commit_in(&r.root, "Ada", "The sources", 1_767_225_600);
    r
}

/// Every file (bytes), symbolic link (target) and folder under `dir`, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            let content = if e.path_is_symlink() {
                let target = std::fs::read_link(e.path()).unwrap();
                format!("-> {}", target.display()).into_bytes()
            } else if e.file_type().is_dir() {
                b"<folder>".to_vec()
            } else {
                std::fs::read(e.path()).unwrap()
            };
            (rel, content)
        })
        .collect()
}

/// Asserts that two snapshots are equal, naming the paths that differ.
fn assert_unchanged(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert!(changed.is_empty(), "{what}: changed {changed:?}");
}

fn build(project: &Path, dest: Option<&Path>) -> Run {
    let mut args = vec!["build".as_ref(), project.as_os_str()];
    if let Some(dest) = dest {
        args.extend(["--dest-dir".as_ref(), dest.as_os_str()]);
    }
    run(&args)
}

/// The history cache `build` keeps in `.git/` is the one file it may add to the project.
fn sources(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = snapshot(root);
    files.retain(|path, _| !path.starts_with(".git/mdbook-qms") && !path.starts_with("build"));
    files
}

#[test]
fn a_destination_in_the_sources_is_refused_and_nothing_changes() {
    let r = device();
    let cases: &[(&str, &str)] = &[
        (
            "requirements",
            "it is the project's item folder `requirements`",
        ),
        ("trace", "it is the project's evidence folder `trace`"),
        ("schemas", "it is the project's schema folder `schemas`"),
        (
            "templates",
            "it is the project's template folder `templates`",
        ),
        ("book", "it is the project's chapter folder `book`"),
        (".git", "it is the project's git directory"),
        ("book.toml", "it is the project's book.toml"),
        (".", "it is the project folder"),
        ("..", "it contains the project folder"),
        (
            "requirements/sub",
            "it lies inside the project's item folder `requirements`",
        ),
        (
            "trace/new/deeper",
            "it lies inside the project's evidence folder `trace`",
        ),
        (
            "build/../.git/objects",
            "it lies inside the project's git directory",
        ),
    ];
    let before = snapshot(r.tmp.path());
    for (rel, why) in cases {
        let dest = r.root.join(rel);
        let out = build(&r.root, Some(&dest));
        assert_eq!(out.code, 2, "--dest-dir {rel}: {}", out.stderr);
        let expected = format!(
            "error: refusing to build the book into {}: {why}",
            dest.display()
        );
        assert!(
            out.stderr.contains(&expected),
            "--dest-dir {rel}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains("choose a --dest-dir outside them"),
            "{}",
            out.stderr
        );
        assert_unchanged(&before, &snapshot(r.tmp.path()), rel);
    }
}

#[test]
fn book_toml_build_dir_in_the_sources_is_refused() {
    let r = device();
    for (toml, why) in [
        (
            BOOK_TOML.replace("build-dir = \"build\"", "build-dir = \"requirements\""),
            "it is the project's item folder `requirements`",
        ),
        // Without build-dir, mdBook writes to `book`: here, the chapters.
        (
            BOOK_TOML.replace("[build]\nbuild-dir = \"build\"\n", ""),
            "it is the project's chapter folder `book`",
        ),
    ] {
        r.write("book.toml", &toml);
        let before = snapshot(r.tmp.path());
        let out = build(&r.root, None);
        assert_eq!(out.code, 2, "{toml}: {}", out.stderr);
        assert!(out.stderr.contains(why), "{}", out.stderr);
        assert!(
            out.stderr
                .contains("set [build] build-dir in book.toml to a folder outside them"),
            "{}",
            out.stderr
        );
        assert_unchanged(&before, &snapshot(r.tmp.path()), &toml);
    }
}

#[test]
fn a_folder_the_build_did_not_write_is_refused_and_kept() {
    let r = device();
    let notes = r.tmp.path().join("notes");
    std::fs::create_dir(&notes).unwrap();
    std::fs::write(notes.join("minutes.txt"), "keep me\n").unwrap();
    let file = r.tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let empty = r.tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let link = r.tmp.path().join("link");
    std::os::unix::fs::symlink(&empty, &link).unwrap();
    let before = snapshot(r.tmp.path());
    for (dest, why) in [
        (&notes, "it exists and is not a book mdbook-qms built"),
        (&file, "it exists and is not a folder"),
        (&link, "it is a symbolic link"),
    ] {
        let out = build(&r.root, Some(dest));
        assert_eq!(out.code, 2, "{}: {}", dest.display(), out.stderr);
        assert!(
            out.stderr.contains(&dest.display().to_string()),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains(why), "{}", out.stderr);
        assert_unchanged(
            &before,
            &snapshot(r.tmp.path()),
            &dest.display().to_string(),
        );
    }
}

/// The files `.mdbook-qms-build` lists, after its comment lines.
fn marked_files(book: &Path) -> Vec<String> {
    std::fs::read_to_string(book.join(".mdbook-qms-build"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn an_empty_folder_or_a_previous_build_is_replaced_but_not_one_with_added_files() {
    let r = device();
    // An empty folder is filled; the book lists its own files.
    let site = r.tmp.path().join("site");
    std::fs::create_dir(&site).unwrap();
    let out = build(&r.root, Some(&site));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let listed = marked_files(&site);
    let mut present: Vec<String> = snapshot(&site)
        .into_iter()
        .filter(|(_, v)| v != b"<folder>")
        .map(|(k, _)| k)
        .filter(|k| k != ".mdbook-qms-build")
        .collect();
    present.sort();
    assert_eq!(listed, present);
    assert!(
        listed.iter().any(|f| f.starts_with("searchindex")),
        "{listed:?}"
    );
    assert!(std::fs::read_to_string(site.join("intro.html"))
        .unwrap()
        .contains("The first requirement"));

    // A previous build is replaced by the new one.
    r.write(
        "requirements/one.yaml",
        "id: REQ-1\ntype: requirement\ntitle: The first requirement, reworded\n",
    );
    commit_in(&r.root, "Ada", "Reword", 1_767_312_000);
    let sources_before = sources(&r.root);
    let out = build(&r.root, Some(&site));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(std::fs::read_to_string(site.join("intro.html"))
        .unwrap()
        .contains("reworded"));
    let beside: Vec<String> = std::fs::read_dir(r.tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(beside.is_empty(), "left beside the book: {beside:?}");
    assert_unchanged(&sources_before, &sources(&r.root), "the sources");

    // A file someone added to the book (a CNAME for the web host) makes it not ours.
    std::fs::write(site.join("CNAME"), "docs.example.com\n").unwrap();
    let before = snapshot(r.tmp.path());
    let out = build(&r.root, Some(&site));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("it is a book mdbook-qms built, with files added since (CNAME)"),
        "{}",
        out.stderr
    );
    assert_unchanged(
        &before,
        &snapshot(r.tmp.path()),
        "a book with an added file",
    );

    // book.toml's build-dir inside the project is fine, and is replaced the same way.
    for _ in 0..2 {
        let out = build(&r.root, None);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    assert!(r.root.join("build/.mdbook-qms-build").is_file());
}

#[test]
fn a_failing_build_leaves_the_previous_book() {
    let r = device();
    let site = r.tmp.path().join("site");
    let out = build(&r.root, Some(&site));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let before = snapshot(r.tmp.path());
    let book = snapshot(&site);
    r.write(
        "requirements/bad.yaml",
        "id: REQ-2\ntype: requirement\ntitle: Dangling\nparent: REQ-404\n",
    );
    let out = build(&r.root, Some(&site));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("error[link-unknown]"), "{}", out.stderr);
    assert_unchanged(&book, &snapshot(&site), "the previous book");
    let mut after = snapshot(r.tmp.path());
    after.remove("proj/requirements/bad.yaml");
    after.retain(|k, _| !k.starts_with("proj/.git/mdbook-qms"));
    let mut before = before;
    before.retain(|k, _| !k.starts_with("proj/.git/mdbook-qms"));
    assert_unchanged(&before, &after, "the folder around the book");
}

/// Kills `build` at points spread over its run: the book is always the old one or the
/// new one, whole (its marker lists exactly its files).
#[test]
fn an_interrupted_build_leaves_the_old_book_or_the_new_one() {
    let r = device();
    let site = r.tmp.path().join("site");
    assert_eq!(build(&r.root, Some(&site)).code, 0);
    let old = std::fs::read_to_string(site.join("intro.html")).unwrap();
    r.write(
        "requirements/one.yaml",
        "id: REQ-1\ntype: requirement\ntitle: The first requirement, reworded\n",
    );
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
            .arg("build")
            .arg(&r.root)
            .arg("--dest-dir")
            .arg(&site)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let started = std::time::Instant::now();
    spawn().wait().unwrap();
    let whole = started.elapsed();
    let new = std::fs::read_to_string(site.join("intro.html")).unwrap();
    assert_ne!(old, new);
    let rendering = || {
        std::fs::read_dir(r.tmp.path())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".site.tmp-"))
    };
    let rounds = 12u32;
    let mut killed_while_rendering = 0;
    for k in 0..rounds {
        let mut child = spawn();
        std::thread::sleep(whole * k / rounds);
        if rendering() && child.try_wait().unwrap().is_none() {
            killed_while_rendering += 1;
        }
        let _ = child.kill();
        child.wait().unwrap();
        let page = std::fs::read_to_string(site.join("intro.html"))
            .unwrap_or_else(|e| panic!("round {k}: no book: {e}"));
        assert!(
            page == old || page == new,
            "round {k}: a page of neither book"
        );
        let mut present: Vec<String> = snapshot(&site)
            .into_iter()
            .filter(|(k, v)| v != b"<folder>" && k != ".mdbook-qms-build")
            .map(|(k, _)| k)
            .collect();
        present.sort();
        assert_eq!(marked_files(&site), present, "round {k}: half a book");
        // Leftover temporary folders are allowed; the next round starts without them.
        for e in std::fs::read_dir(r.tmp.path()).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with(".site.") {
                std::fs::remove_dir_all(e.path()).unwrap();
            }
        }
    }
    assert!(
        killed_while_rendering > 0,
        "no round killed the build while it was rendering beside the book"
    );
}

#[test]
fn export_and_sbom_refuse_the_sources() {
    let r = device();
    let before = snapshot(r.tmp.path());
    let export = |out: &Path| {
        run(&[
            "export".as_ref(),
            r.root.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ])
    };
    let sbom = |out: &Path| {
        run(&[
            "sbom".as_ref(),
            r.root.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ])
    };
    for (rel, why) in [
        (
            "requirements/bundle",
            "it lies inside the project's item folder `requirements`",
        ),
        ("book", "it is the project's chapter folder `book`"),
        (".git", "it is the project's git directory"),
        (".", "it is the project folder"),
    ] {
        let out = export(&r.root.join(rel));
        assert_eq!(out.code, 2, "export --out {rel}: {}", out.stderr);
        let expected = format!(
            "error: refusing to write the bundle to {}: {why}",
            r.root.join(rel).display()
        );
        assert!(out.stderr.contains(&expected), "{}", out.stderr);
        assert_unchanged(&before, &snapshot(r.tmp.path()), rel);
    }
    for (rel, why) in [
        (
            "trace/sbom.cdx.json",
            "it lies inside the project's evidence folder `trace`",
        ),
        (
            "trace/README.md",
            "it lies inside the project's evidence folder `trace`",
        ),
        (
            ".git/sbom.json",
            "it lies inside the project's git directory",
        ),
        ("book.toml", "it is the project's book.toml"),
    ] {
        let out = sbom(&r.root.join(rel));
        assert_eq!(out.code, 2, "sbom --out {rel}: {}", out.stderr);
        let expected = format!(
            "error: refusing to write the SBOM to {}: {why}",
            r.root.join(rel).display()
        );
        assert!(out.stderr.contains(&expected), "{}", out.stderr);
        let mut after = snapshot(r.tmp.path());
        after.retain(|k, _| !k.starts_with("proj/.git/mdbook-qms"));
        let mut before = before.clone();
        before.retain(|k, _| !k.starts_with("proj/.git/mdbook-qms"));
        assert_unchanged(&before, &after, rel);
    }
    // Beside the sources is fine, and the next run replaces what the last one wrote.
    let ours = r.tmp.path().join("sbom.cdx.json");
    for _ in 0..2 {
        let out = sbom(&ours);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    // A file it did not write is kept.
    let theirs = r.tmp.path().join("other-tool.cdx.json");
    std::fs::write(&theirs, "{\"bomFormat\": \"CycloneDX\"}\n").unwrap();
    let out = sbom(&theirs);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("it exists and is not an SBOM or VEX document mdbook-qms wrote"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&theirs).unwrap(),
        "{\"bomFormat\": \"CycloneDX\"}\n"
    );
}

/// Under `mdbook build`, mdBook empties its build folder after the preprocessors ran:
/// mdbook-qms fails the build first when that folder is a source folder. This runs
/// mdBook's own build (mdbook-driver) with the real binary as its preprocessor.
#[test]
fn mdbook_stops_before_emptying_a_source_folder() {
    let r = device();
    let command = format!("command = {:?}\n", env!("CARGO_BIN_EXE_mdbook-qms"));
    r.write(
        "book.toml",
        &(BOOK_TOML.replace("[build]\nbuild-dir = \"build\"\n", "") + &command),
    );
    let before = snapshot(r.tmp.path());
    let book = mdbook_driver::MDBook::load(&r.root).unwrap();
    let err = book
        .build()
        .expect_err("mdBook must not build into the chapters");
    assert!(format!("{err:#}").contains("qms"), "{err:#}");
    let mut after = snapshot(r.tmp.path());
    after.retain(|k, _| !k.starts_with("proj/.git/mdbook-qms"));
    assert_unchanged(&before, &after, "the project");

    // What the preprocessor says, at book.toml's build-dir.
    r.write(
        "book.toml",
        &BOOK_TOML.replace("build-dir = \"build\"", "build-dir = \"trace\""),
    );
    let input = serde_json::json!([
        {"root": r.root, "config": {"book": {"src": "book"}, "build": {"build-dir": "trace"}}, "renderer": "html", "mdbook_version": "0.5.4"},
        {"items": [{"Chapter": {"name": "Intro", "content": "# Intro\n", "number": null, "sub_items": [], "path": "intro.md", "source_path": "intro.md", "parent_names": []}}]}
    ]);
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
        .write_stdin(input.to_string())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error[build-dir-in-sources]"), "{stderr}");
    assert!(
        stderr.contains("it is the project's evidence folder `trace`"),
        "{stderr}"
    );
    assert!(stderr.contains("book.toml:6:13"), "{stderr}");
    assert!(out.stdout.is_empty(), "no book for mdBook to render");
}
