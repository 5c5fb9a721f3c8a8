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
        let keys = repo.tmp.path().join("keys");
        std::fs::create_dir_all(&keys).unwrap();
        let key = keys.join("id_ed25519");
        let made = Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "alice@example.com",
                "-f",
            ])
            .arg(&key)
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
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

/// `git verify-commit COMMIT` with an allowed-signers file naming the key.
fn verify_commit(root: &Path, key: &Path, commit: &str) -> (bool, String) {
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let allowed = root.parent().unwrap().join("allowed_signers");
    std::fs::write(&allowed, format!("alice@example.com {public}")).unwrap();
    let out = Command::new("git")
        .args([
            "-c",
            &format!("gpg.ssh.allowedSignersFile={}", allowed.display()),
        ])
        .args(["verify-commit", "--raw", commit])
        .current_dir(root)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
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
    let (ok, text) = verify_commit(&s.repo.root, &s.key, &commit);
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
