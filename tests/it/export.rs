//! `mdbook-qms export`: bundles from real git repositories, checked with independent
//! tools: `sha256sum -c`, openpyxl for the workbook, and the `reqif` package (the OMG
//! ReqIF 1.2 schema and its parser) for the ReqIF file, qpdf and poppler's pdftotext
//! for the PDFs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::pdf_render::{read_with, text_of};
use crate::support::git::{commit_in, git_in, req, test_item, Repo};
use crate::support::{copy_dir, repo_root, walk, ProjectBuilder};
use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

/// The example device file in `device/` of a fresh repository: tagged `v1`, then one
/// requirement retitled and tagged `v2` (checked out).
struct Device {
    _tmp: tempfile::TempDir,
    repo: PathBuf,
    project: PathBuf,
}

const RETITLED: &str = "REQ-SEC-AUTH-001";

impl Device {
    fn new() -> Device {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let project = repo.join("device");
        copy_dir(&repo_root().join("examples/insulin-pump"), &project);
        let d = Device {
            _tmp: tmp,
            repo,
            project,
        };
        git_in(&d.repo, &["init", "-q", "-b", "main"]);
        d.commit("Import the design file", 1_767_225_600);
        git_in(&d.repo, &["tag", "v1"]);
        let file = d.file_of(RETITLED);
        let text = std::fs::read_to_string(&file).unwrap();
        let old =
            "Pair the pump only through BLE LE Secure Connections with a passkey shown on the pump";
        assert!(text.contains(old), "the example changed: update RETITLED");
        std::fs::write(
            &file,
            text.replace(old, "Pair the pump only through LE Secure Connections"),
        )
        .unwrap();
        d.commit(
            &format!("Shorter pairing title\n\nImplements: {RETITLED}"),
            1_767_312_000,
        );
        git_in(&d.repo, &["tag", "v2"]);
        d
    }

    fn commit(&self, message: &str, epoch: i64) {
        commit_in(&self.repo, "Rita Regulatory", message, epoch);
    }

    /// The YAML file under requirements/ that defines `id`.
    fn file_of(&self, id: &str) -> PathBuf {
        walk(&self.project.join("requirements"))
            .into_iter()
            .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(&format!("id: {id}\n"))))
            .unwrap_or_else(|| panic!("no file defines {id}"))
    }
}

/// Runs `mdbook-qms export DIR --out OUT ARGS...`; (exit code, stderr).
fn export(dir: &Path, out: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("export")
        .arg(dir)
        .arg("--out")
        .arg(out)
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MDBOOK_QMS_TODAY")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn export_ok(dir: &Path, out: &Path, args: &[&str]) {
    let (code, stderr) = export(dir, out, args);
    assert_eq!(code, 0, "export failed: {stderr}");
}

/// Every file of a folder by relative path, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            (rel, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// The item `id` of an `items.json` document.
fn item_of(doc: &Value, id: &str) -> Value {
    doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("items.json has no {id}"))
        .clone()
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn sha256sum_check(dir: &Path) -> (bool, String) {
    let out = Command::new("sha256sum")
        .args(["-c", "MANIFEST.sha256"])
        .current_dir(dir)
        .output()
        .expect("sha256sum (GNU coreutils) is needed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Runs tests/data/read_bundle.py, which needs `pip install reqif==0.1.0`
/// (`.ci/run` installs it).
fn read_bundle(kind: &str, target: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/read_bundle.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(kind)
        .arg(target)
        .output()
        .expect("python3 is needed to read bundles back; `./test` installs it");
    assert!(
        out.status.success(),
        "read_bundle.py {kind} failed (run the tests with `./test`, which installs its readers from tests/requirements.txt):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn bundles_are_reproducible_and_verifiable() {
    let d = Device::new();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    export_ok(&d.project, &a, &[]);
    export_ok(&d.project, &b, &[]);
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (path, bytes) in &fa {
        assert!(bytes == &fb[path], "{path} differs between two exports");
    }
    for wanted in [
        "metadata.json",
        "items.json",
        "items.schema.json",
        "diagnostics.json",
        "matrices.xlsx",
        "matrices/summary.csv",
        "matrices/requirement-test.csv",
        "sbom/cyclonedx.json",
        "sbom/openvex.json",
        "documents/security-labeling.md",
        "documents/security-labeling.pdf",
        "documents/submission-index.pdf",
        "requirements.reqif",
        "gate.json",
        "README.md",
        "MANIFEST.sha256",
    ] {
        assert!(fa.contains_key(wanted), "the bundle has no {wanted}");
    }

    // The manifest names every other file, and sha256sum agrees with it...
    let manifest = String::from_utf8(fa["MANIFEST.sha256"].clone()).unwrap();
    let listed: BTreeSet<&str> = manifest.lines().map(|l| &l[66..]).collect();
    let others: BTreeSet<&str> = fa
        .keys()
        .map(String::as_str)
        .filter(|f| *f != "MANIFEST.sha256")
        .collect();
    assert_eq!(listed, others);
    let (ok, out) = sha256sum_check(&a);
    assert!(ok, "sha256sum -c failed on a fresh bundle:\n{out}");
    // ...until one byte of one file changes.
    let target = a.join("matrices/requirement-test.csv");
    let mut bytes = std::fs::read(&target).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&target, bytes).unwrap();
    let (ok, out) = sha256sum_check(&a);
    assert!(!ok, "sha256sum -c passed after a change:\n{out}");
    assert!(
        out.contains("matrices/requirement-test.csv: FAILED"),
        "{out}"
    );

    // Metadata names the commit and its tag; the tree was clean.
    let head = git_in(&d.repo, &["rev-parse", "HEAD"]).trim().to_owned();
    let meta = json(&b.join("metadata.json"));
    assert_eq!(meta["format"], "mdbook-qms-export/1");
    assert_eq!(meta["commit"]["id"], head.as_str());
    assert_eq!(meta["tags"], serde_json::json!(["v2"]));
    assert_eq!(meta["dirty"], false);
    assert_eq!(meta["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(meta["project"]["folder"], "device");
    // Date checks run as of the commit, not of the day the export ran.
    assert_eq!(meta["as_of"], "2026-01-02");

    // The bundle records the gate's verdict on the commit (the example does not pass),
    // the same JSON `gate REV` prints, and the README says so.
    let gate = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["gate", "v2", "--format", "json", "-C"])
        .arg(&d.project)
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("MDBOOK_QMS_TODAY")
        .output()
        .unwrap();
    assert_eq!(gate.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(gate.stdout).unwrap(),
        String::from_utf8(fa["gate.json"].clone()).unwrap()
    );
    let verdict = json(&a.join("gate.json"));
    assert_eq!(verdict["passed"], false);
    assert_eq!(verdict["revision"], head.as_str());
    let blockers = verdict["blockers"].as_array().unwrap().len();
    let readme = String::from_utf8(fa["README.md"].clone()).unwrap();
    assert!(
        readme.contains(&format!(
            "The release gate did not pass: {blockers} blockers (listed in `gate.json`)."
        )),
        "{readme}"
    );
}

#[test]
fn items_json_holds_links_history_and_verification_and_fits_its_schema() {
    let d = Device::new();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");
    export_ok(&d.project, &out, &[]);
    let doc = json(&out.join("items.json"));
    let schema = json(&out.join("items.schema.json"));
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "items.json does not fit its schema: {errors:?}"
    );

    let items = doc["items"].as_array().unwrap();
    let meta = json(&out.join("metadata.json"));
    assert_eq!(items.len() as u64, meta["items"]["total"].as_u64().unwrap());
    let by_id: BTreeMap<&str, &Value> = items
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i))
        .collect();

    // The retitled requirement: two changes, the newer one the retitle with its trailer.
    let r = by_id[RETITLED];
    assert_eq!(
        r["title"],
        "Pair the pump only through LE Secure Connections"
    );
    let changes = r["history"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0]["kind"], "modified");
    assert_eq!(changes[1]["kind"], "added");
    assert_eq!(r["history"]["commits"][0]["trailer"], "Implements");
    let commits: BTreeSet<&str> = doc["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(commits.contains(changes[0]["commit"].as_str().unwrap()));

    // Links both ways: every outgoing link shows up as incoming on its target.
    let mut outgoing = 0;
    for item in items {
        for l in item["links"]["out"].as_array().unwrap() {
            outgoing += 1;
            let target = by_id[l["id"].as_str().unwrap()];
            let back = target["links"]["in"].as_array().unwrap().iter().any(|b| {
                b["id"] == item["id"] && b["field"] == l["field"] && b["type"] == item["type"]
            });
            assert!(back, "{} -> {} has no incoming twin", item["id"], l["id"]);
        }
    }
    assert!(outgoing > 500, "only {outgoing} links");
    // The suspect link the example leaves unreviewed is marked.
    let suspect = by_id["RISK-CLOUD-OUTAGE"]["links"]["out"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "CTL-OUTAGE-GUIDANCE")
        .unwrap()
        .clone();
    assert_eq!(
        suspect["suspect"], false,
        "a fresh repository has no suspect links"
    );

    // Verification status from the JUnit results: the failing test fails.
    let v = &by_id["TST-CLOUD-RESILIENCE"]["verification"];
    assert_eq!(v["status"], "failed");
    assert!(v["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["outcome"] == "failed" && r["file"] == "trace/results/junit.xml"));
    assert_eq!(by_id["REQ-SEC-001"]["verification"], Value::Null);
}

#[test]
fn workbook_cells_match_the_csv_files() {
    let d = Device::new();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");
    export_ok(&d.project, &out, &[]);
    let read = read_bundle("xlsx", &out);
    let sheets = read["sheets"].as_object().unwrap();
    let csv = read["csv"].as_object().unwrap();
    assert_eq!(read["sheet_order"][0], "Summary");
    assert_eq!(sheets["Summary"], csv["matrices/summary.csv"]);
    // Every other sheet is named in the summary with its CSV twin.
    let summary = csv["matrices/summary.csv"].as_array().unwrap();
    assert_eq!(
        summary.len(),
        sheets.len(),
        "one summary row per matrix sheet"
    );
    for row in &summary[1..] {
        let sheet = row[0].as_str().unwrap();
        let file = row[7].as_str().unwrap();
        assert_eq!(
            sheets[sheet], csv[file],
            "sheet {sheet} differs from {file}"
        );
        let rows = row[4].as_str().unwrap().parse::<usize>().unwrap();
        assert_eq!(csv[file].as_array().unwrap().len(), rows + 1, "{file}");
    }
    // The matrices a reviewer needs are there, with real content.
    let req_test = sheets["requirement-test"].as_array().unwrap();
    assert_eq!(req_test[0][0], "requirement");
    assert!(req_test
        .iter()
        .any(|r| r[0] == RETITLED && r[3].as_str().unwrap().contains("TST-")));
    // The risk without a control shows as not covered.
    let risk_control = &sheets["risk-control"];
    assert!(risk_control
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r[4] == "no"));
}

#[test]
fn reqif_validates_against_the_schema_and_reads_back() {
    let d = Device::new();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");
    export_ok(&d.project, &out, &[]);
    let read = read_bundle("reqif", &out.join("requirements.reqif"));
    assert_eq!(read["schema_errors"], serde_json::json!([]));
    let doc = json(&out.join("items.json"));
    let items = doc["items"].as_array().unwrap();

    let objects: BTreeMap<&str, &Value> = read["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["values"]["ReqIF.ForeignID"].as_str().unwrap(),
                &o["values"],
            )
        })
        .collect();
    let ids: BTreeSet<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(objects.keys().copied().collect::<BTreeSet<_>>(), ids);
    let r = objects[RETITLED];
    assert_eq!(
        r["ReqIF.Name"],
        "Pair the pump only through LE Secure Connections"
    );
    // Multi-line Markdown survives the attribute round trip.
    let item = items.iter().find(|i| i["id"] == RETITLED).unwrap();
    assert_eq!(r["ReqIF.Text"], item["fields"]["text"]);
    assert_eq!(objects["TST-CLOUD-RESILIENCE"]["verification"], "failed");

    let relations: BTreeSet<(String, String, String)> = read["relations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_owned();
            (s("from"), s("type"), s("to"))
        })
        .collect();
    let links: BTreeSet<(String, String, String)> = items
        .iter()
        .flat_map(|i| {
            i["links"]["out"].as_array().unwrap().iter().map(move |l| {
                let s = |v: &Value| v.as_str().unwrap().to_owned();
                (s(&i["id"]), s(&l["field"]), s(&l["id"]))
            })
        })
        .collect();
    assert_eq!(relations, links);
    assert_eq!(
        read["hierarchy_nodes"].as_u64().unwrap() as usize,
        ids.len()
    );
}

/// The ReqIF file of a project whose requirements form one `parent` chain `depth` long,
/// and the bundle's diagnostics.
fn reqif_of_a_chain(depth: usize) -> (String, Value) {
    let r = Repo::plain();
    let mut yaml = String::new();
    for n in 1..=depth {
        yaml += &req(&format!("REQ-{n:05}"), "Level");
        if n > 1 {
            yaml += &format!("  parent: REQ-{:05}\n", n - 1);
        }
    }
    r.write("requirements/chain.yaml", &yaml);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");
    export_ok(&r.root, &out, &["--allow-dirty"]);
    (
        std::fs::read_to_string(out.join("requirements.reqif")).unwrap(),
        json(&out.join("diagnostics.json")),
    )
}

/// What a generic XML reader sees in a ReqIF file: the deepest element nesting, and the
/// objects of the SPEC-HIERARCHY elements in document order.
fn hierarchy_of(reqif: &str) -> (usize, Vec<String>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(reqif);
    let (mut depth, mut deepest) = (0, 0);
    let mut path: Vec<String> = Vec::new();
    let object_ref = ["SPEC-HIERARCHY", "OBJECT", "SPEC-OBJECT-REF"].map(String::from);
    let mut objects = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                path.push(e.name().into_inner().to_owned());
                depth += 1;
                deepest = deepest.max(depth);
            }
            Event::End(_) => {
                path.pop();
                depth -= 1;
            }
            Event::Text(t) if path.ends_with(&object_ref) => {
                objects.push(t.into_inner().into_owned());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unclosed elements");
    (deepest, objects)
}

/// A `parent` chain as long as the project: the ReqIF file grows with the number of
/// items, not with the square of the depth (indentation by depth did that), nesting
/// stops at 100 levels with one warning, and a generic XML reader reads every item.
#[test]
fn a_deep_parent_chain_gives_a_reqif_file_linear_in_its_length() {
    let (short, _) = reqif_of_a_chain(1_000);
    let (long, diagnostics) = reqif_of_a_chain(2_000);
    let ratio = long.len() as f64 / short.len() as f64;
    assert!(
        (1.8..2.2).contains(&ratio),
        "{} bytes for 1,000 levels, {} for 2,000",
        short.len(),
        long.len()
    );
    let (deepest, objects) = hierarchy_of(&long);
    // libxml2 (lxml) refuses more than 256 levels by default.
    assert!(deepest < 256, "elements nested {deepest} deep");
    let chain: Vec<String> = (1..=2_000).map(|n| format!("SO-REQ-{n:05}")).collect();
    assert_eq!(objects, chain, "every item once, in the order of the chain");
    let warnings: Vec<&str> = diagnostics
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "reqif-depth-limit")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        warnings,
        ["REQ-00101 is 101 levels deep in the `parent` hierarchy; the ReqIF export nests at most 100 levels, so it places REQ-00101 and the 1899 items under it at level 100"]
    );
}

#[test]
fn export_at_an_older_tag_matches_a_checkout_of_it_and_leaves_the_work_tree_alone() {
    let d = Device::new();
    let tmp = tempfile::tempdir().unwrap();
    // Uncommitted work in progress: `--at` reads git objects, so it neither sees nor
    // disturbs it.
    let wip = d.file_of("REQ-SEC-001");
    let wip_text = std::fs::read_to_string(&wip).unwrap() + "\n# work in progress\n";
    std::fs::write(&wip, &wip_text).unwrap();
    let status_before = git_in(&d.repo, &["status", "--porcelain"]);

    let at = tmp.path().join("at-v1");
    export_ok(&d.project, &at, &["--at", "v1"]);
    assert_eq!(git_in(&d.repo, &["status", "--porcelain"]), status_before);
    assert_eq!(std::fs::read_to_string(&wip).unwrap(), wip_text);
    assert_eq!(git_in(&d.repo, &["describe", "--tags"]).trim(), "v2");

    git_in(&d.repo, &["stash", "-q"]);
    git_in(&d.repo, &["checkout", "-q", "v1"]);
    let checked_out = tmp.path().join("checkout-v1");
    export_ok(&d.project, &checked_out, &[]);
    let (fa, fb) = (files(&at), files(&checked_out));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (path, bytes) in &fa {
        assert!(
            bytes == &fb[path],
            "{path}: --at v1 differs from a checkout of v1"
        );
    }
    // It is v1's content, not the work tree's of the time.
    let meta = json(&at.join("metadata.json"));
    assert_eq!(meta["tags"], serde_json::json!(["v1"]));
    let items = json(&at.join("items.json"));
    let r = item_of(&items, RETITLED);
    assert!(r["title"]
        .as_str()
        .unwrap()
        .contains("BLE LE Secure Connections"));
    assert_eq!(r["history"]["changes"].as_array().unwrap().len(), 1);
}

/// Words separated by single spaces: pdftotext's text of a table, whatever the cells'
/// line breaks and the stand-in converter's `|` between cells.
fn words(text: &str) -> String {
    text.replace('|', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_bundle_has_a_pdf_per_document_and_a_submission_index_of_them() {
    let d = Device::new();
    let tmp = tempfile::tempdir().unwrap();
    // v1 while v2 is checked out: the PDFs are revised and dated by the exported commit.
    let out = tmp.path().join("v1");
    export_ok(&d.project, &out, &["--at", "v1"]);
    let bundle = files(&out);
    let manifest = String::from_utf8(bundle["MANIFEST.sha256"].clone()).unwrap();
    let index = out.join("documents/submission-index.pdf");
    read_with("qpdf", &["--check".as_ref(), index.as_os_str()]);
    let index_text = words(&text_of(&index));
    let hashes: String = index_text.split_whitespace().collect();
    for needed in [
        "Submission Index",
        "DEV-ACMEFLOW-3-CSEC-IDX",
        "Revision v1",
        "2026-01-01",
        "Acme Diabetes Care",
        "AcmeFlow 3 (AF3-100)",
    ] {
        assert!(
            index_text.contains(needed),
            "no `{needed}` in the index:\n{index_text}"
        );
    }
    let commit = git_in(&d.repo, &["rev-parse", "v1"]).trim().to_owned();
    assert!(
        hashes.contains(&commit),
        "the index names no commit:\n{index_text}"
    );

    for doc in mdbook_qms::documents::DOCUMENTS {
        let file = format!("documents/{}.pdf", doc.name);
        assert!(bundle.contains_key(&format!("documents/{}.md", doc.name)));
        let pdf = out.join(&file);
        // The manifest lists the PDF with the hash sha256sum computes.
        let sum = read_with("sha256sum", &[pdf.as_os_str()]);
        let sha = sum.split_whitespace().next().unwrap();
        assert!(
            manifest.contains(&format!("{sha}  {file}\n")),
            "{file} is not in the manifest with {sha}:\n{manifest}"
        );
        // The index lists it: number, title, revision, the page count qpdf counts, hash.
        let pages = read_with("qpdf", &["--show-npages".as_ref(), pdf.as_os_str()]);
        let row = format!(
            "DEV-ACMEFLOW-3-CSEC-{} {} v1 {}",
            doc.code,
            doc.title,
            pages.trim()
        );
        assert!(
            index_text.contains(&row),
            "no `{row}` in the index:\n{index_text}"
        );
        assert!(
            hashes.contains(sha),
            "no hash of {file} in the index:\n{index_text}"
        );
    }
    let text = text_of(&out.join("documents/threat-model.pdf"));
    assert!(text.contains("Revision v1 "), "{text}");
    assert!(!text.contains("Revision v2"), "{text}");
}

/// A small project for the refusals (they need no realistic content).
fn small_repo() -> Repo {
    ProjectBuilder::new()
        .items(
            "reqs.yaml",
            &[
                req("REQ-1", "Authenticate users"),
                test_item("TST-1", "Login test", "REQ-1"),
            ],
        )
        .commit("Alice", "First requirement")
}

#[test]
fn a_dirty_work_tree_is_refused_unless_allowed_and_then_marked() {
    let r = small_repo();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");
    r.write("requirements/new.yaml", &req("REQ-2", "Log out"));
    let (code, stderr) = export(&r.root, &out, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("uncommitted changes") && stderr.contains("requirements/new.yaml"),
        "{stderr}"
    );
    assert!(!out.exists(), "a refused export wrote {}", out.display());

    export_ok(&r.root, &out, &["--allow-dirty"]);
    let meta = json(&out.join("metadata.json"));
    assert_eq!(meta["dirty"], true);
    assert_eq!(
        meta["uncommitted"],
        serde_json::json!(["requirements/new.yaml"])
    );
    let items = json(&out.join("items.json"));
    let new = item_of(&items, "REQ-2");
    assert_eq!(new["history"]["uncommitted"], "new");
    // The gate judged the work tree, which is no commit.
    assert_eq!(json(&out.join("gate.json"))["revision"], Value::Null);

    // A bundle kept inside the project (or what a killed export leaves beside it) does
    // not make the next export dirty.
    r.remove("requirements/new.yaml");
    let inside = r.root.join("audit");
    export_ok(&r.root, &inside, &[]);
    std::fs::create_dir_all(r.root.join(".audit.tmp-x1y2z3")).unwrap();
    std::fs::write(r.root.join(".audit.tmp-x1y2z3/items.json"), "{").unwrap();
    export_ok(&r.root, &inside, &[]);
}

#[test]
fn a_clean_work_tree_is_exported_as_its_commit_without_ignored_files() {
    let r = small_repo();
    r.write(".gitignore", "trace/generated/\n");
    r.commit("Alice", "Ignore generated results");
    // Results a test run left in an ignored folder: not part of the commit.
    r.write(
        "trace/generated/junit.xml",
        "<testsuite name=\"s\" tests=\"1\"><testcase classname=\"c\" name=\"login\"/></testsuite>",
    );
    assert_eq!(r.git(&["status", "--porcelain"]), "");
    let tmp = tempfile::tempdir().unwrap();
    let (work, at) = (tmp.path().join("work"), tmp.path().join("at"));
    export_ok(&r.root, &work, &[]);
    export_ok(&r.root, &at, &["--at", "HEAD"]);
    assert_eq!(files(&work), files(&at));
    let items = std::fs::read_to_string(work.join("items.json")).unwrap();
    assert!(
        !items.contains("trace/generated"),
        "an ignored file reached the bundle"
    );
    // The same file in the work tree export with --allow-dirty of an edited tree is read.
    r.write(
        "requirements/reqs.yaml",
        &(req("REQ-1", "Authenticate users")
            + &test_item("TST-1", "Login test", "REQ-1")
            + "  evidence: [login]\n"),
    );
    let dirty = tmp.path().join("dirty");
    export_ok(&r.root, &dirty, &["--allow-dirty"]);
    let items = json(&dirty.join("items.json"));
    let test = item_of(&items, "TST-1");
    assert_eq!(test["verification"]["status"], "passed");
}

/// `mdbook-qms check DIR --format json`: (exit code, the diagnostics).
fn check_json(dir: &Path) -> (i32, Value) {
    let output = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("check")
        .arg(dir)
        .args(["--format", "json"])
        .env_remove("MDBOOK_QMS_TODAY")
        .output()
        .unwrap();
    let diags = serde_json::from_slice(&output.stdout).unwrap();
    (output.status.code().unwrap_or(-1), diags)
}

#[cfg(unix)]
#[test]
fn check_and_export_read_the_same_files_through_symbolic_links() {
    use std::os::unix::fs::symlink;
    let r = small_repo();
    // Beside the project (and its repository), so out of both.
    let outside = r.tmp.path().join("outside");
    std::fs::create_dir_all(outside.join("folder")).unwrap();
    std::fs::write(outside.join("stolen.yaml"), req("REQ-STOLEN-1", "Stolen")).unwrap();
    std::fs::write(
        outside.join("folder/more.yaml"),
        req("REQ-STOLEN-2", "Stolen"),
    )
    .unwrap();
    r.write("shared/extra.yaml", &req("REQ-2", "Log out"));
    let link = |target: &Path, name: &str| symlink(target, r.root.join(name)).unwrap();
    link(
        Path::new("../../outside/stolen.yaml"),
        "requirements/stolen.yaml",
    );
    link(Path::new("/etc/passwd"), "requirements/x.yaml");
    link(Path::new("../../outside/folder"), "requirements/folder");
    link(Path::new("loop-b.yaml"), "requirements/loop-a.yaml");
    link(Path::new("loop-a.yaml"), "requirements/loop-b.yaml");
    link(Path::new("../shared/extra.yaml"), "requirements/extra.yaml");
    link(Path::new("extra.yaml"), "requirements/extra-again.yaml");
    // An absolute target inside the project would name the work tree from an export's
    // scratch folder: it is refused everywhere.
    link(
        &r.root.join("shared/extra.yaml"),
        "requirements/absolute.yaml",
    );
    r.commit("Alice", "Links");

    let (code, checked) = check_json(&r.root);
    assert_eq!(code, 1, "{checked:#}");
    let tmp = tempfile::tempdir().unwrap();
    let (clean, at) = (tmp.path().join("clean"), tmp.path().join("at"));
    export_ok(&r.root, &clean, &["--allow-errors"]);
    export_ok(&r.root, &at, &["--at", "HEAD", "--allow-errors"]);
    // A dirty tree is read from the work tree itself, links and all.
    r.write("notes.txt", "not read\n");
    let dirty = tmp.path().join("dirty");
    export_ok(&r.root, &dirty, &["--allow-dirty", "--allow-errors"]);

    let refused: Vec<(String, String)> = checked
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "link-outside-project" || d["code"] == "io-error")
        .map(|d| {
            (
                d["code"].as_str().unwrap().into(),
                d["file"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("link-outside-project", "requirements/absolute.yaml"),
        ("link-outside-project", "requirements/folder"),
        ("io-error", "requirements/loop-a.yaml"),
        ("io-error", "requirements/loop-b.yaml"),
        ("link-outside-project", "requirements/stolen.yaml"),
        ("link-outside-project", "requirements/x.yaml"),
    ]
    .map(|(c, f)| (c.to_owned(), f.to_owned()));
    assert_eq!(refused, expected, "{checked:#}");
    for bundle in [&clean, &at, &dirty] {
        assert_eq!(
            json(&bundle.join("diagnostics.json")),
            checked,
            "{}",
            bundle.display()
        );
        let items = json(&bundle.join("items.json"));
        let mut ids: Vec<&str> = items["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        ids.sort();
        assert_eq!(ids, ["REQ-1", "REQ-2", "TST-1"], "{}", bundle.display());
        // Read once, at the path of the first link to it in path order.
        assert_eq!(
            item_of(&items, "REQ-2")["source"]["file"],
            "requirements/extra-again.yaml"
        );
    }
    // Nothing of /etc/passwd is in any output.
    if let Some(line) = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|t| t.lines().next().map(str::to_owned))
    {
        for bundle in [&clean, &at, &dirty] {
            for (name, bytes) in files(bundle) {
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(&line),
                    "{name} shows /etc/passwd"
                );
            }
        }
        assert!(!checked.to_string().contains(&line));
    }
}

#[test]
fn head_in_a_revision_means_the_exported_commit() {
    let r = ProjectBuilder::new()
        .items("reqs.yaml", &[req("REQ-1", "Authenticate users")])
        .file("book/intro.md", "# Intro\n\n{{#qms changes HEAD~1}}\n")
        .repo();
    let first = r.commit("Alice", "First");
    r.write(
        "requirements/reqs.yaml",
        &req("REQ-1", "Authenticate every user"),
    );
    r.commit("Alice", "Second");
    // At the first commit, HEAD~1 does not exist, whatever HEAD is now.
    let tmp = tempfile::tempdir().unwrap();
    let at = tmp.path().join("at");
    export_ok(&r.root, &at, &["--at", &first, "--allow-errors"]);
    r.git(&["checkout", "-q", &first]);
    let checked_out = tmp.path().join("checkout");
    export_ok(&r.root, &checked_out, &["--allow-errors"]);
    assert_eq!(files(&at), files(&checked_out));
    let diagnostics = std::fs::read_to_string(at.join("diagnostics.json")).unwrap();
    assert!(
        diagnostics.contains("changes-unknown-base"),
        "{diagnostics}"
    );
}

#[test]
fn an_existing_folder_is_replaced_only_when_it_is_a_bundle() {
    let r = small_repo();
    let tmp = tempfile::tempdir().unwrap();
    let precious = tmp.path().join("precious");
    std::fs::create_dir_all(&precious).unwrap();
    std::fs::write(precious.join("notes.txt"), "keep me").unwrap();
    let (code, stderr) = export(&r.root, &precious, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not an mdbook-qms bundle"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(precious.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert_eq!(std::fs::read_dir(&precious).unwrap().count(), 1);

    let a_file = tmp.path().join("file");
    std::fs::write(&a_file, "x").unwrap();
    assert_eq!(export(&r.root, &a_file, &[]).0, 2);
    assert_eq!(std::fs::read_to_string(&a_file).unwrap(), "x");

    // A previous bundle is replaced, but not while it holds a file someone added.
    let out = tmp.path().join("bundle");
    export_ok(&r.root, &out, &[]);
    std::fs::write(out.join("SIGNATURE.asc"), "signed").unwrap();
    r.write("requirements/more.yaml", &req("REQ-3", "Lock the screen"));
    r.commit("Bob", "Another requirement");
    let (code, stderr) = export(&r.root, &out, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("SIGNATURE.asc"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join("SIGNATURE.asc")).unwrap(),
        "signed"
    );
    std::fs::remove_file(out.join("SIGNATURE.asc")).unwrap();
    export_ok(&r.root, &out, &[]);
    let (ok, check) = sha256sum_check(&out);
    assert!(ok, "{check}");
    assert!(std::fs::read_to_string(out.join("items.json"))
        .unwrap()
        .contains("REQ-3"));
    // Nothing is left beside it: no temporary or old folders.
    let beside: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

#[test]
fn an_interrupted_export_leaves_the_old_bundle_or_the_new_one() {
    let d = Device::new();
    let tmp = tempfile::tempdir().unwrap();
    // The two possible outcomes: the bundle of v2 (already there) and that of v1.
    let v1 = tmp.path().join("v1");
    export_ok(&d.project, &v1, &["--at", "v1"]);
    let out = tmp.path().join("bundle");
    export_ok(&d.project, &out, &[]);
    let manifest = |dir: &Path| std::fs::read(dir.join("MANIFEST.sha256")).unwrap();
    let (old, new) = (manifest(&out), manifest(&v1));
    assert_ne!(old, new);
    let writing = || {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".bundle.tmp-"))
    };
    let spawn = || {
        Command::cargo_bin("mdbook-qms")
            .unwrap()
            .arg("export")
            .arg(&d.project)
            .arg("--out")
            .arg(&out)
            .args(["--at", "v1"])
            .env_remove("SOURCE_DATE_EPOCH")
            .env_remove("MDBOOK_QMS_TODAY")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // Waits until the child starts writing its temporary folder (or ends): when.
    let until_writing = |child: &mut std::process::Child| {
        while child.try_wait().unwrap().is_none() && !writing() {
            std::thread::yield_now();
        }
        std::time::Instant::now()
    };
    // How long writing takes, from the temporary folder's first sight to the end.
    let mut child = spawn();
    let started = until_writing(&mut child);
    child.wait().unwrap();
    let phase = started.elapsed();
    assert_eq!(manifest(&out), new);
    export_ok(&d.project, &out, &[]);
    // Kill `export --at v1 --out bundle` at points spread over its writing phase, the
    // swap at its end included.
    let rounds = 20u32;
    let mut killed_while_writing = 0;
    for k in 0..rounds {
        let mut child = spawn();
        until_writing(&mut child);
        std::thread::sleep(phase * k / (rounds - 4));
        if child.try_wait().unwrap().is_none() {
            killed_while_writing += 1;
        }
        let _ = child.kill();
        child.wait().unwrap();
        assert!(out.is_dir(), "round {k}: the bundle folder is gone");
        let (ok, check) = sha256sum_check(&out);
        assert!(ok, "round {k}: {check}");
        let now = manifest(&out);
        assert!(
            now == old || now == new,
            "round {k}: a bundle of neither commit"
        );
        // Leftover temporary folders are allowed; start each round from v2.
        for e in std::fs::read_dir(tmp.path()).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with('.') {
                std::fs::remove_dir_all(e.path()).unwrap();
            }
        }
        if now == new {
            export_ok(&d.project, &out, &[]);
        }
    }
    assert!(
        killed_while_writing > 0,
        "no round killed the export while it was writing its temporary folder"
    );
}

#[test]
fn errors_unknown_revisions_and_folders_outside_git_are_refused() {
    let r = small_repo();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bundle");

    let (code, stderr) = export(&r.root, &out, &["--at", "no-such-tag"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`no-such-tag` names no commit or tag"),
        "{stderr}"
    );

    r.write(
        "requirements/bad.yaml",
        &test_item("TST-9", "Dangling", "REQ-404"),
    );
    r.commit("Alice", "A test of nothing");
    let (code, stderr) = export(&r.root, &out, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("REQ-404") && stderr.contains("--allow-errors"),
        "{stderr}"
    );
    assert!(!out.exists());
    export_ok(&r.root, &out, &["--allow-errors"]);
    assert_eq!(json(&out.join("metadata.json"))["diagnostics"]["errors"], 1);

    let plain = Repo::plain();
    let plain_out = tmp.path().join("plain");
    let (code, stderr) = export(&plain.root, &plain_out, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not in a git repository"), "{stderr}");
    let (code, stderr) = export(&plain.root, &plain_out, &["--at", "v1"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--at v1 needs a git repository"),
        "{stderr}"
    );
    assert!(!plain_out.exists());
    export_ok(&plain.root, &plain_out, &["--allow-dirty"]);
    let meta = json(&plain_out.join("metadata.json"));
    assert_eq!(
        (meta["dirty"].clone(), meta["commit"].clone()),
        (Value::Bool(true), Value::Null)
    );
}

#[test]
fn the_built_book_offers_the_matrices_and_sbom_as_downloads() {
    let d = Device::new();
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("build")
        .arg(&d.project)
        .arg("--dest-dir")
        .arg(&site)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let folder = site.join("qms/downloads");
    let (ok, check) = sha256sum_check(&folder);
    assert!(ok, "{check}");

    // The page links every file, with the hash of what was written.
    let page = std::fs::read_to_string(site.join("verification.html")).unwrap();
    let written = files(&folder);
    assert!(written.contains_key("matrices.xlsx") && written.contains_key("sbom/cyclonedx.json"));
    for (path, bytes) in &written {
        let href = format!("href=\"qms/downloads/{path}\"");
        assert!(page.contains(&href), "verification.html has no {href}");
        let hash = mdbook_qms::export::sha256_hex(bytes);
        assert!(
            page.contains(&format!("title=\"{hash}\"")),
            "{path}: wrong hash on the page"
        );
    }

    // They are the bundle's own files for the same commit.
    let bundle = tmp.path().join("bundle");
    export_ok(&d.project, &bundle, &[]);
    for (path, bytes) in &written {
        if path != "MANIFEST.sha256" {
            let theirs = std::fs::read(bundle.join(path)).unwrap();
            assert!(bytes == &theirs, "{path} differs from the bundle's");
        }
    }
}

#[test]
fn mdbook_build_warns_that_it_cannot_write_downloads() {
    let r = small_repo();
    r.write("book/intro.md", "# Intro\n\n{{#qms downloads}}\n");
    let content = std::fs::read_to_string(r.root.join("book/intro.md")).unwrap();
    let input = serde_json::json!([
        {"root": r.root, "config": {"book": {"src": "book"}, "build": {"build-dir": "build"}}, "renderer": "html", "mdbook_version": "0.5.4"},
        {"items": [{"Chapter": {"name": "Intro", "content": content, "number": null, "sub_items": [], "path": "intro.md", "source_path": "intro.md", "parent_names": []}}]}
    ]);
    let mut child = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning[downloads-not-written]"),
        "{stderr}"
    );
    assert!(stderr.contains("book/intro.md:3:1"), "{stderr}");
    let book: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rendered = book["items"][0]["Chapter"]["content"].as_str().unwrap();
    assert!(
        rendered.contains("are written by <code>mdbook-qms build</code>"),
        "{rendered}"
    );
}
