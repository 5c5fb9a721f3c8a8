//! `mdbook-qms approve`: a real SSH key made by `ssh-keygen`, a real signed commit that
//! `git verify-commit` accepts with an allowed-signers file, the trailers read back
//! with `git show`, and every refusal leaving HEAD where it was.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::git::{git_in, Repo};
use crate::support::ProjectBuilder;
use mdbook_qms::export::sha256_hex;

const ITEMS: &str = "\
- {id: CTL-1, type: control, title: Pairing, category: authentication}
- {id: TST-1, type: test, title: Pairing test, verifies: [CTL-1]}
";

/// A committed project and an SSH key pair (`key`, `key.pub`) beside it, outside it.
struct Signer {
    repo: Repo,
    key: PathBuf,
    /// The user's global configuration (empty), so the machine's own is never read.
    global: PathBuf,
}

impl Signer {
    /// The project with the key configured as the repository's signing key.
    fn new() -> Signer {
        let signer = Signer::unconfigured();
        let key = signer.key.to_str().unwrap().to_owned();
        signer.config(&["gpg.format", "ssh"]);
        signer.config(&["user.signingkey", &key]);
        signer
    }

    /// The project and the key, with no signing key configured.
    fn unconfigured() -> Signer {
        let repo = ProjectBuilder::new()
            .file("requirements/items.yaml", ITEMS)
            .file(
                "requirements/other.yaml",
                "- {id: REQ-1, type: requirement, title: Other}\n",
            )
            .commit("Alice", "The design");
        let (key, public) = crate::support::ssh::keygen(
            repo.tmp.path(),
            "alice",
            "alice@example.com",
            crate::support::ssh::ED25519,
        );
        // Alice may sign and has a role, so her records are valid approvals.
        let public: Vec<&str> = public.split_whitespace().take(2).collect();
        std::fs::write(
            repo.root.join("allowed_signers"),
            format!(
                "alice@example.com namespaces=\"git\" {}\n",
                public.join(" ")
            ),
        )
        .unwrap();
        std::fs::write(
            repo.root.join("requirements/roles.yaml"),
            "- id: ROLE-SEC\n  type: role\n  title: Security lead\n  responsibilities: [Approve]\n  members: [{principal: alice@example.com, name: Alice Approver}]\n",
        )
        .unwrap();
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", "Alice signs as security lead"]);
        let global = repo.tmp.path().join("global-gitconfig");
        std::fs::write(&global, "").unwrap();
        let signer = Signer { repo, key, global };
        signer.config(&["user.name", "Alice Approver"]);
        signer.config(&["user.email", "alice@example.com"]);
        signer
    }

    fn config(&self, args: &[&str]) {
        let mut all = vec!["config"];
        all.extend(args);
        self.repo.git(&all);
    }

    fn head(&self) -> String {
        self.repo.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// Runs `mdbook-qms approve ARGS -C PROJECT` with only the repository's git
    /// configuration; (exit status, stdout, stderr).
    fn approve(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
            .arg("approve")
            .args(args)
            .arg("-C")
            .arg(&self.repo.root)
            .env("GIT_CONFIG_GLOBAL", &self.global)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        let r = (
            out.status.code().unwrap(),
            text(out.stdout),
            text(out.stderr),
        );
        assert!(!r.2.contains("panicked"), "{}", r.2);
        r
    }

    /// Refuses with exit status 2, a message containing `wanted`, and no commit.
    fn refuses(&self, args: &[&str], wanted: &str) {
        let before = self.head();
        let (code, stdout, stderr) = self.approve(args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(wanted), "{args:?}: {stderr}");
        assert_eq!(self.head(), before, "{args:?} committed");
    }
}

#[test]
fn an_approval_is_a_signed_empty_commit_with_its_trailers() {
    let s = Signer::new();
    let parent = s.head();
    let document = "security-risk-management-report";
    let (code, stdout, stderr) = s.approve(&["CTL-1", document, "--meaning", "approval"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let commit = s.head();
    assert_eq!(stdout, format!("{commit}\n"));
    assert_ne!(commit, parent);

    // Really signed by the key: git verifies it against the allowed signers.
    let allowed = s.repo.root.join("allowed_signers");
    let (ok, text) = crate::support::ssh::git_verify_commit(&s.repo.root, &allowed, &commit);
    assert!(ok, "git verify-commit failed:\n{text}");
    assert!(
        text.contains("Good \"git\" signature for alice@example.com"),
        "{text}"
    );

    // The message: subject, blank line, trailers; the document's hash is that of the
    // Markdown `render` prints.
    let rendered = Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
        .args(["render", document])
        .arg(&s.repo.root)
        .output()
        .unwrap();
    assert!(rendered.status.success());
    let message = s.repo.git(&["show", "-s", "--format=%B", "HEAD"]);
    assert_eq!(
        message,
        format!(
            "Approve CTL-1, {document}\n\nApproved: CTL-1, {document}\nApproval-Meaning: approval\nApproved-Content: {document} sha256:{}\n\n",
            sha256_hex(&rendered.stdout)
        )
    );
    let trailers = s.repo.git(&[
        "show",
        "-s",
        "--format=%(trailers:key=Approved,valueonly)",
        "HEAD",
    ]);
    assert_eq!(trailers.trim(), format!("CTL-1, {document}"));

    // It records nothing else: the tree is the parent's.
    let tree = |rev: &str| s.repo.git(&["rev-parse", &format!("{rev}^{{tree}}")]);
    assert_eq!(tree("HEAD"), tree(&parent));

    // -m sets the subject; the trailers stay.
    let (code, _, stderr) = s.approve(&[
        "TST-1",
        "--meaning",
        "review",
        "-m",
        "Review of the pairing test",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let message = s.repo.git(&["show", "-s", "--format=%B", "HEAD"]);
    assert!(
        message.starts_with(
            "Review of the pairing test\n\nApproved: TST-1\nApproval-Meaning: review\n"
        ),
        "{message}"
    );
}

#[test]
fn unknown_names_and_meanings_are_refused() {
    let s = Signer::new();
    s.refuses(&["CTL-l", "--meaning", "approval"], "did you mean `CTL-1`?");
    s.refuses(
        &["security-risk-managment-report", "--meaning", "approval"],
        "did you mean `security-risk-management-report`?",
    );
    s.refuses(
        &["CTL-1", "--meaning", "approve"],
        "possible values: review, approval, responsibility, authorship",
    );
    s.refuses(&["CTL-1"], "--meaning");
}

#[test]
fn no_signing_key_is_refused_with_how_to_set_one() {
    let s = Signer::unconfigured();
    s.refuses(
        &["CTL-1", "--meaning", "approval"],
        "git config user.signingkey",
    );
}

#[test]
fn a_dirty_work_tree_staged_changes_and_errors_are_refused() {
    let s = Signer::new();
    // The file holding CTL-1 differs from HEAD.
    s.repo.write(
        "requirements/items.yaml",
        &ITEMS.replace("title: Pairing,", "title: Passkey pairing,"),
    );
    s.refuses(
        &["CTL-1", "--meaning", "approval"],
        "requirements/items.yaml",
    );
    // Another item's file is clean: it may be approved; a document, which reads every
    // file, may not.
    s.refuses(
        &["traceability-matrix", "--meaning", "approval"],
        "requirements/items.yaml",
    );
    let (code, _, stderr) = s.approve(&["REQ-1", "--meaning", "approval"]);
    assert_eq!(code, 0, "{stderr}");
    git_in(&s.repo.root, &["checkout", "--", "requirements/items.yaml"]);

    // Anything staged would go into the record's commit.
    s.repo.write("notes.txt", "draft\n");
    s.repo.git(&["add", "notes.txt"]);
    s.refuses(&["CTL-1", "--meaning", "approval"], "changes are staged");
    s.repo.git(&["rm", "-q", "--cached", "notes.txt"]);

    // A project with errors.
    s.repo.write(
        "requirements/other.yaml",
        "- {id: REQ-1, type: requirement, title: Other, parent: REQ-404}\n",
    );
    s.repo.commit("Alice", "A broken link");
    s.refuses(
        &["CTL-1", "--meaning", "approval"],
        "the project has errors",
    );
}

/// The approval blockers of `gate -C ROOT [REV]`, as (subject, message) pairs.
fn approval_blockers(root: &Path, rev: Option<&str>) -> Vec<(String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
        .args(["gate", "--format", "json", "-C"])
        .arg(root)
        .args(rev)
        .output()
        .unwrap();
    let gate: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    gate["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["kind"] == "approval")
        .map(|b| {
            (
                b["subject"].as_str().unwrap_or_default().to_owned(),
                b["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_release_approval_covers_the_content_it_signs_and_the_gate_knows() {
    let s = Signer::new();
    std::fs::write(
        s.repo.root.join("book.toml"),
        format!(
            "{}\n[[preprocessor.qms.approvals.required]]\nrelease = true\nroles = [\"ROLE-SEC\"]\n\n[[preprocessor.qms.approvals.required]]\ntype = \"control\"\nroles = [\"ROLE-SEC\"]\n",
            std::fs::read_to_string(s.repo.root.join("book.toml")).unwrap()
        ),
    )
    .unwrap();
    s.repo.git(&[
        "commit",
        "-q",
        "-am",
        "Releases and controls need the security lead",
    ]);
    let before = approval_blockers(&s.repo.root, None);
    assert_eq!(before.len(), 2, "{before:?}");
    assert!(
        before
            .iter()
            .any(|(subject, m)| subject == "CTL-1" && m.contains("ROLE-SEC")),
        "{before:?}"
    );
    assert!(
        before
            .iter()
            .any(|(subject, m)| subject == "ROLE-SEC" && m.contains("approve release")),
        "{before:?}"
    );

    let (code, stdout, stderr) = s.approve(&["release", "CTL-1", "--meaning", "approval"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), s.head());
    assert_eq!(approval_blockers(&s.repo.root, None), Vec::new());
    s.repo.git(&["tag", "v1"]);
    assert_eq!(approval_blockers(&s.repo.root, Some("v1")), Vec::new());

    // New content is not what was approved: the release approval no longer covers it,
    // and a changed control's approval is outdated.
    std::fs::write(
        s.repo.root.join("requirements/items.yaml"),
        ITEMS.replace("title: Pairing,", "title: Pairing with a PIN,"),
    )
    .unwrap();
    s.repo.git(&["commit", "-q", "-am", "Change the control"]);
    let after = approval_blockers(&s.repo.root, None);
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(
        after
            .iter()
            .any(|(subject, m)| subject == "CTL-1" && m.contains("outdated")),
        "{after:?}"
    );
    // The tagged release still has its approvals.
    assert_eq!(approval_blockers(&s.repo.root, Some("v1")), Vec::new());
}

/// An auditor's check of the bundle alone: the signature and payload of `approvals.json`
/// verify with `ssh-keygen -Y verify` against the bundle's allowed-signers file.
#[test]
fn the_bundle_holds_each_record_for_offline_verification() {
    let s = Signer::new();
    let (code, _, stderr) = s.approve(&["CTL-1", "--meaning", "review"]);
    assert_eq!(code, 0, "{stderr}");
    let out = s.repo.tmp.path().join("bundle");
    let export = Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
        .arg("export")
        .arg(&s.repo.root)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let approvals: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("approvals.json")).unwrap()).unwrap();
    assert_eq!(approvals["allowed_signers"], "approvals/allowed_signers");
    let records = approvals["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{approvals}");
    let record = &records[0];
    assert_eq!(record["commit"], s.head());
    assert_eq!(record["principal"], "alice@example.com");
    assert_eq!(record["name"], "Alice Approver");
    assert_eq!(record["meaning"], "review");
    assert_eq!(record["verified"], true);
    assert_eq!(record["items"][0]["id"], "CTL-1");
    assert_eq!(record["items"][0]["current"], true);

    let dir = s.repo.tmp.path();
    std::fs::write(dir.join("sig.txt"), record["signature"].as_str().unwrap()).unwrap();
    let verify = |payload: &str| {
        crate::support::ssh::keygen_verify(
            &out.join("approvals/allowed_signers"),
            "alice@example.com",
            &dir.join("sig.txt"),
            payload.as_bytes(),
            &[],
        )
    };
    let payload = record["payload"].as_str().unwrap();
    let (good, stderr) = verify(payload);
    assert!(good, "{stderr}");
    // The payload is what the signature binds: another approval's bytes fail.
    let forged = payload.replace("Approval-Meaning: review", "Approval-Meaning: approval");
    assert_ne!(forged, payload);
    assert!(!verify(&forged).0);
}

/// The FROM ids `trace --unapproved` lists.
fn unapproved(root: &Path) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
        .args([
            "trace",
            "--from",
            "control",
            "--to",
            "test",
            "--unapproved",
            "--format",
            "json",
        ])
        .arg(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn traceability_views_filter_unapproved_items() {
    let s = Signer::new();
    assert_eq!(unapproved(&s.repo.root), ["CTL-1"]);
    let (code, _, stderr) = s.approve(&["CTL-1", "--meaning", "approval"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(unapproved(&s.repo.root), Vec::<String>::new());

    // The matrix directive takes `approved=true|false`, and nothing else.
    let chapter = s.repo.root.join("book/approvals.md");
    std::fs::write(
        &chapter,
        "# Approvals\n\n{{#qms matrix control test approved=false}}\n\n{{#qms matrix control test approved=true}}\n\n{{#qms matrix control test approved=maybe}}\n",
    )
    .unwrap();
    let summary = s.repo.root.join("book/SUMMARY.md");
    let mut text = std::fs::read_to_string(&summary).unwrap();
    text.push_str("- [Approvals](approvals.md)\n");
    std::fs::write(&summary, text).unwrap();
    let check = Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
        .args(["check", "--format", "json"])
        .arg(&s.repo.root)
        .output()
        .unwrap();
    let diags: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let syntax: Vec<&serde_json::Value> = diags
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "directive-syntax")
        .collect();
    assert_eq!(syntax.len(), 1, "{diags}");
    assert!(
        syntax[0]["message"]
            .as_str()
            .unwrap()
            .contains("approved=maybe"),
        "{diags}"
    );
    assert_eq!(syntax[0]["line"], 7);

    // Without the bad one, the book builds: CTL-1 is in the approved matrix only.
    std::fs::write(
        &chapter,
        "# Approvals\n\n<div id=\"waiting\">\n\n{{#qms matrix control test approved=false}}\n\n</div>\n<div id=\"done\">\n\n{{#qms matrix control test approved=true}}\n\n</div>\n",
    )
    .unwrap();
    let out = s.repo.tmp.path().join("site");
    let build = Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
        .arg("build")
        .arg(&s.repo.root)
        .arg("--dest-dir")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let html = std::fs::read_to_string(out.join("approvals.html")).unwrap();
    let (waiting, done) = html.split_once("id=\"done\"").unwrap();
    let waiting = waiting.split_once("id=\"waiting\"").unwrap().1;
    assert!(!waiting.contains(">CTL-1<"), "{waiting}");
    assert!(done.contains(">CTL-1<"), "{done}");
}

/// The approval codes `check` reports as of `day`.
fn approval_codes_on(root: &Path, day: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
        .args(["check", "--format", "json"])
        .arg(root)
        .env("MDBOOK_QMS_TODAY", day)
        .output()
        .unwrap();
    let diags: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    diags
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_owned())
        .filter(|c| c.starts_with("approval"))
        .collect()
}

#[test]
fn a_document_whose_text_names_the_day_stays_approved_on_other_days() {
    let s = Signer::new();
    let render_on = |day: &str| {
        Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
            .args(["render", "tplc-metrics"])
            .arg(&s.repo.root)
            .env("MDBOOK_QMS_TODAY", day)
            .output()
            .unwrap()
            .stdout
    };
    // Not vacuous: the document's reporting period ends on the day it is rendered.
    assert_ne!(render_on("2027-06-01"), render_on("2027-06-02"));
    let (code, _, stderr) = s.approve(&["tplc-metrics", "--meaning", "approval"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        approval_codes_on(&s.repo.root, "2027-06-01"),
        Vec::<String>::new()
    );

    // What it says about the items changes: outdated, on any day.
    std::fs::write(
        s.repo.root.join("requirements/vulns.yaml"),
        "- {id: VUL-1, type: vulnerability, title: A flaw, status: under_investigation, identified: 2027-01-10}\n",
    )
    .unwrap();
    s.repo.git(&["add", "-A"]);
    s.repo.git(&["commit", "-q", "-m", "A vulnerability"]);
    assert!(approval_codes_on(&s.repo.root, "2027-06-01").contains(&"approval-outdated".to_owned()));
}
