//! Approval records with real keys (`ssh-keygen -t ed25519`) and real signed commits
//! and tags (`git commit -S`, `git tag -s` with `gpg.format=ssh`): verification,
//! printed names from roles, outdated approvals, required approvals, and agreement with
//! `git verify-commit`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::git::*;
use crate::support::BOOK_TOML;
use mdbook_qms::approval::Verification;
use mdbook_qms::project::Project;

/// A new key pair beside the project (not in it), commented with `name`.
fn keygen(r: &Repo, name: &str) -> (PathBuf, String) {
    crate::support::ssh::keygen(r.tmp.path(), name, name, crate::support::ssh::ED25519)
}

/// Commits everything, signed with `key` (or unsigned without one), at `date`.
fn commit_signed(r: &Repo, key: Option<&Path>, message: &str, date: &str) -> String {
    r.git(&["add", "-A"]);
    let mut cmd = Command::new("git");
    cmd.current_dir(&r.root)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .args(["-c", "gpg.format=ssh"]);
    if let Some(k) = key {
        cmd.arg("-c")
            .arg(format!("user.signingkey={}", k.display()));
    }
    cmd.args(["commit", "-q", "--allow-empty", "-m", message]);
    if key.is_some() {
        cmd.arg("-S");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "git commit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    r.git(&["rev-parse", "HEAD"]).trim().to_owned()
}

const ROLES: &str = "- id: ROLE-SEC
  type: role
  title: Security lead
  responsibilities: [Approve risk acceptances]
  members:
    - {principal: alice@example.com, name: Alice Example}
- id: ROLE-CLIN
  type: role
  title: Clinical lead
  responsibilities: [Approve clinical risk]
  members:
    - {principal: carol@example.com, name: Carol Clinician}
";

fn req(id: &str, title: &str) -> String {
    format!("- id: {id}\n  type: requirement\n  title: {title}\n")
}

/// A project with two requirements and the roles, committed, whose allowed signers
/// list `signers` (lines); `required` is appended to book.toml.
fn setup(signers: &str, required: &str) -> Repo {
    let r = Repo::new();
    r.write("book.toml", &format!("{BOOK_TOML}{required}"));
    r.write(
        "requirements/reqs.yaml",
        &(req("REQ-A-1", "One") + &req("REQ-A-2", "Two")),
    );
    r.write("requirements/roles.yaml", ROLES);
    r.write("allowed_signers", signers);
    r.commit("Dev", "Add requirements and roles");
    r
}

fn codes(p: &Project) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = p
        .diagnostics
        .0
        .iter()
        .filter(|d| d.code.starts_with("approval") || d.code.starts_with("allowed-signers"))
        .map(|d| (d.code, d.message.clone()))
        .collect();
    out.sort();
    out
}

/// `git verify-commit` with the project's allowed-signers file: whether it accepts.
fn git_verifies(r: &Repo, rev: &str) -> bool {
    crate::support::ssh::git_verify_commit(&r.root, &r.root.join("allowed_signers"), rev).0
}

const APPROVE_A1: &str = "Approve REQ-A-1\n\nApproved: REQ-A-1\nApproval-Meaning: approval\n";

#[test]
fn a_signed_record_verifies_and_names_the_signer_as_git_does() {
    let (r, key) = signed_setup();
    let id = commit_signed(&r, Some(&key), APPROVE_A1, "2026-03-01T10:00:00+01:00");
    let p = r.project();
    assert_eq!(codes(&p), []);
    let rec = &p.approvals.records[0];
    assert_eq!(rec.commit, id);
    assert_eq!(rec.verification, Verification::Verified);
    assert_eq!(rec.principal.as_deref(), Some("alice@example.com"));
    assert_eq!(rec.name.as_deref(), Some("Alice Example"));
    assert_eq!(rec.roles, ["ROLE-SEC"]);
    assert_eq!(rec.meaning.as_deref(), Some("approval"));
    assert_eq!(rec.time, "2026-03-01T10:00:00+01:00");
    assert_eq!(rec.items.len(), 1);
    assert_eq!(rec.items[0].id, "REQ-A-1");
    assert!(rec.items[0]
        .fingerprint
        .as_ref()
        .is_some_and(|f| f.len() == 32));
    assert_eq!(rec.items[0].changed_by, None);
    assert!(rec
        .signature
        .as_deref()
        .unwrap()
        .starts_with("-----BEGIN SSH SIGNATURE-----"));
    assert!(rec.payload.contains("Approved: REQ-A-1"));
    assert!(!rec.payload.contains("gpgsig"));
    // A second check reads the record's trailers from the history cache.
    let again = r.project();
    assert!(again.history.from_cache);
    assert_eq!(again.approvals.records.len(), 1);
    assert_eq!(
        again.approvals.records[0].verification,
        Verification::Verified
    );
    assert!(
        git_verifies(&r, &id),
        "git verify-commit rejects what we verified"
    );
    // The auditor's way with OpenSSH alone, as the guide shows it: the signature and
    // the payload the record carries.
    let sig = r.tmp.path().join("sig.txt");
    std::fs::write(&sig, rec.signature.as_deref().unwrap()).unwrap();
    let (ok, stderr) = crate::support::ssh::keygen_verify(
        &r.root.join("allowed_signers"),
        "alice@example.com",
        &sig,
        rec.payload.as_bytes(),
        &["-Overify-time=20260301090000Z"],
    );
    assert!(ok, "{stderr}");
}

fn signed_setup() -> (Repo, PathBuf) {
    let r = setup("", "");
    let (key, public) = keygen(&r, "alice");
    r.write("allowed_signers", &format!("alice@example.com {public}\n"));
    r.commit("Dev", "Allowed signers");
    (r, key)
}

#[test]
fn an_unsigned_record_is_no_approval() {
    let (r, _) = signed_setup();
    commit_signed(&r, None, APPROVE_A1, "2026-03-01T10:00:00Z");
    let p = r.project();
    assert_eq!(p.approvals.records[0].verification, Verification::Unsigned);
    let c = codes(&p);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].0, "approval-unsigned");
}

#[test]
fn a_tampered_record_fails_here_and_in_git() {
    let (r, key) = signed_setup();
    let id = commit_signed(&r, Some(&key), APPROVE_A1, "2026-03-01T10:00:00Z");
    // The same signature over different content: the approval moved to another item.
    let raw = r.git(&["cat-file", "commit", &id]);
    let forged = raw.replace("Approved: REQ-A-1", "Approved: REQ-A-2");
    assert_ne!(raw, forged);
    let forged_file = r.tmp.path().join("forged");
    std::fs::write(&forged_file, forged).unwrap();
    let forged_id = r
        .git(&[
            "hash-object",
            "-t",
            "commit",
            "-w",
            forged_file.to_str().unwrap(),
        ])
        .trim()
        .to_owned();
    r.git(&["update-ref", "refs/heads/main", &forged_id]);
    let p = r.project();
    let rec = &p.approvals.records[0];
    assert_eq!(rec.commit, forged_id);
    assert!(
        matches!(rec.verification, Verification::BadSignature(_)),
        "{:?}",
        rec.verification
    );
    let c = codes(&p);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].0, "approval-signature-invalid");
    assert!(
        !git_verifies(&r, &forged_id),
        "git verify-commit accepts the forgery"
    );
    assert!(git_verifies(&r, &id));
}

#[test]
fn a_key_not_in_the_allowed_signers_is_unknown() {
    let (r, _) = signed_setup();
    let (mallory, _) = keygen(&r, "mallory");
    let id = commit_signed(&r, Some(&mallory), APPROVE_A1, "2026-03-01T10:00:00Z");
    let p = r.project();
    assert!(matches!(
        p.approvals.records[0].verification,
        Verification::UnknownKey(_)
    ));
    let c = codes(&p);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].0, "approval-signer-unknown");
    assert!(c[0].1.contains("SHA256:"), "{}", c[0].1);
    assert!(!git_verifies(&r, &id));
}

#[test]
fn a_key_used_outside_its_validity_signs_nothing() {
    let r = setup("", "");
    let (key, public) = keygen(&r, "alice");
    r.write(
        "allowed_signers",
        &format!("alice@example.com valid-before=\"20260201Z\" {public}\n"),
    );
    r.commit("Dev", "Allowed signers");
    let late = commit_signed(&r, Some(&key), APPROVE_A1, "2026-03-01T10:00:00Z");
    let p = r.project();
    let c = codes(&p);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].0, "approval-key-not-valid");
    assert!(
        c[0].1.contains("valid-before 2026-02-01T00:00:00Z"),
        "{}",
        c[0].1
    );
    assert!(
        !git_verifies(&r, &late),
        "git accepts a signature after valid-before"
    );
    // valid-after: the same key, not yet valid at the signing time.
    r.write(
        "allowed_signers",
        &format!("alice@example.com valid-after=\"20260401\" {public}\n"),
    );
    r.commit("Dev", "Allowed signers later");
    commit_signed(&r, Some(&key), APPROVE_A1, "2026-03-02T10:00:00Z");
    let p = r.project();
    assert!(codes(&p)
        .iter()
        .any(|(code, m)| *code == "approval-key-not-valid" && m.contains("valid-after")));
}

#[test]
fn records_name_known_ids_and_a_meaning() {
    let (r, key) = signed_setup();
    commit_signed(
        &r,
        Some(&key),
        "Approve\n\nApproved: REQ-A-1, REQ-NOPE\n",
        "2026-03-01T10:00:00Z",
    );
    commit_signed(
        &r,
        Some(&key),
        "Approve\n\nApproved: REQ-A-2\nApproval-Meaning: looked-at\n",
        "2026-03-01T11:00:00Z",
    );
    // Ids none of which this project knows: a record of another design file in the
    // same repository (a monorepo), not reported here.
    commit_signed(
        &r,
        Some(&key),
        "Approve\n\nApproved: RISK-ELSEWHERE-1\nApproval-Meaning: approval\n",
        "2026-03-01T12:00:00Z",
    );
    let p = r.project();
    let c: Vec<&str> = codes(&p).iter().map(|(c, _)| *c).collect();
    assert_eq!(
        c,
        [
            "approval-meaning-missing",
            "approval-meaning-missing",
            "approval-unknown-id"
        ]
    );
}

#[test]
fn a_change_after_the_approval_makes_it_outdated() {
    let (r, key) = signed_setup();
    commit_signed(&r, Some(&key), APPROVE_A1, "2026-03-01T10:00:00Z");
    // A status change is not significant; a title change is.
    r.write(
        "requirements/reqs.yaml",
        &(req("REQ-A-1", "One") + "  status: approved\n" + &req("REQ-A-2", "Two")),
    );
    r.commit("Dev", "Approve status");
    assert_eq!(codes(&r.project()), []);
    r.write(
        "requirements/reqs.yaml",
        &(req("REQ-A-1", "One, changed") + &req("REQ-A-2", "Two")),
    );
    let change = r.commit("Dev", "Change one");
    let p = r.project();
    let item = &p.approvals.records[0].items[0];
    assert_eq!(item.changed_by.as_deref(), Some(&change[..7]));
    let c = codes(&p);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].0, "approval-outdated");
    assert!(c[0].1.contains(&change[..7]), "{}", c[0].1);
    // An uncommitted edit outdates it too.
    r.write(
        "requirements/reqs.yaml",
        &(req("REQ-A-1", "One, again") + &req("REQ-A-2", "Two")),
    );
    let p = r.project();
    assert_eq!(
        p.approvals.records[0].items[0].changed_by.as_deref(),
        Some("uncommitted")
    );
}

const REQUIRED: &str = "\n[[preprocessor.qms.approvals.required]]\ntype = \"requirement\"\nwhere = { title = \"One\" }\nroles = [\"ROLE-SEC\", \"ROLE-CLIN\"]\n";

#[test]
fn required_approvals_need_a_current_record_per_role() {
    let r = setup("", REQUIRED);
    let (alice, a_pub) = keygen(&r, "alice");
    let (carol, c_pub) = keygen(&r, "carol");
    let (bob, b_pub) = keygen(&r, "bob");
    r.write(
        "allowed_signers",
        &format!("alice@example.com {a_pub}\ncarol@example.com {c_pub}\nbob@example.com {b_pub}\n"),
    );
    r.commit("Dev", "Allowed signers");
    let p = r.project();
    let c = codes(&p);
    // REQ-A-2 does not match the filter.
    assert_eq!(c.len(), 2, "{c:?}");
    assert!(c
        .iter()
        .all(|(code, m)| *code == "approval-required-missing" && m.starts_with("REQ-A-1 ")));
    commit_signed(&r, Some(&alice), APPROVE_A1, "2026-03-01T10:00:00Z");
    // Bob is in the allowed signers but in no role.
    commit_signed(&r, Some(&bob), APPROVE_A1, "2026-03-01T11:00:00Z");
    let c = codes(&r.project());
    let names: Vec<&str> = c.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        names,
        ["approval-required-missing", "approval-signer-not-in-role"],
        "{c:?}"
    );
    assert!(c[0].1.contains("ROLE-CLIN"));
    commit_signed(&r, Some(&carol), APPROVE_A1, "2026-03-01T12:00:00Z");
    let c = codes(&r.project());
    assert_eq!(
        c.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        ["approval-signer-not-in-role"]
    );
}

#[test]
fn a_signed_tag_is_a_record() {
    let (r, key) = signed_setup();
    let out = Command::new("git")
        .current_dir(&r.root)
        .env("GIT_COMMITTER_DATE", "2026-03-05T09:00:00Z")
        .args(["-c", "gpg.format=ssh"])
        .arg("-c")
        .arg(format!("user.signingkey={}", key.display()))
        .args(["tag", "-s", "approve-1", "-m", APPROVE_A1])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = r.project();
    assert_eq!(codes(&p), []);
    let rec = &p.approvals.records[0];
    assert_eq!(rec.tag.as_deref(), Some("approve-1"));
    assert_eq!(rec.verification, Verification::Verified);
    assert_eq!(rec.time, "2026-03-05T09:00:00+00:00");
    assert_eq!(rec.items[0].id, "REQ-A-1");
}

#[test]
fn a_bad_allowed_signers_line_is_reported_at_its_place() {
    let r = setup("alice@example.com cert-authority ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n", "");
    let p = r.project();
    let d = p
        .diagnostics
        .0
        .iter()
        .find(|d| d.code == "allowed-signers-syntax")
        .expect("a diagnostic");
    assert!(d.message.contains("cert-authority"));
}

const PLAN: &str = "cybersecurity-management-plan";

fn plan_hash(r: &Repo) -> String {
    let (project, documents) = mdbook_qms::pipeline::load_with_documents(
        &r.root,
        mdbook_qms::load::ChapterSource::Disk,
        Default::default(),
    )
    .unwrap_or_else(|e| panic!("{}", e.0.message));
    mdbook_qms::documents::approvals::content_hash(&project, &documents, PLAN).unwrap()
}

#[test]
fn an_approved_document_is_current_while_its_markdown_hashes_the_same() {
    let (r, key) = signed_setup();
    let hash = plan_hash(&r);
    assert!(
        hash.starts_with("sha256:") && hash.len() == 7 + 64,
        "{hash}"
    );
    commit_signed(
        &r,
        Some(&key),
        &format!("Approve the plan\n\nApproved: {PLAN}\nApproval-Meaning: approval\nApproved-Content: {PLAN} {hash}\n"),
        "2026-03-01T10:00:00Z",
    );
    let p = r.project();
    assert_eq!(codes(&p), []);
    let docs = p.approvals_of_document(PLAN);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].documents[0].content.as_deref(), Some(hash.as_str()));
    assert_eq!(docs[0].documents[0].current, Some(true));
    // The plan lists the roles: a new role changes it.
    r.write(
        "requirements/roles.yaml",
        &format!("{ROLES}- id: ROLE-NEW\n  type: role\n  title: New role\n  responsibilities: [Something]\n"),
    );
    r.commit("Dev", "Add a role");
    let p = r.project();
    assert_ne!(plan_hash(&r), hash, "the plan does not show roles");
    assert_eq!(
        p.approvals_of_document(PLAN)[0].documents[0].current,
        Some(false)
    );
    let c = codes(&p);
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].0, "approval-outdated");
    assert!(c[0].1.contains(PLAN), "{}", c[0].1);
}

#[test]
fn cards_list_approvals_with_name_role_meaning_time_commit_and_state() {
    let (r, key) = signed_setup();
    let id = commit_signed(&r, Some(&key), APPROVE_A1, "2026-03-01T10:00:00Z");
    r.write(
        "requirements/reqs.yaml",
        &(req("REQ-A-1", "One") + &req("REQ-A-2", "Two, changed")),
    );
    r.commit("Dev", "Change two");
    let site = r.tmp.path().join("site");
    mdbook_qms::preprocess::build(&r.root, Some(&site)).unwrap();
    let html =
        std::fs::read_to_string(site.join("qms/requirement/requirements/reqs.html")).unwrap();
    let card = &html[html.find("id=\"REQ-A-1\"").unwrap()..];
    let card = &card[..card.find("qms-source").unwrap()];
    let expected = format!(
        "<li class=\"qms-approval-valid\">Alice Example (Security lead), approval, 2026-03-01T10:00:00+00:00, commit <code>{}</code>, verified, current</li>",
        &id[..7]
    );
    assert!(card.contains(&expected), "{card}");
    let other = &html[html.find("id=\"REQ-A-2\"").unwrap()..];
    let other = &other[..other.find("qms-source").unwrap()];
    assert!(!other.contains("qms-approvals"), "{other}");
}

#[test]
fn templates_see_the_approvals_of_items_and_of_their_document() {
    let (r, key) = signed_setup();
    r.write(
        &format!("templates/{PLAN}.md.j2"),
        "{% for i in items.requirement %}{{ i.id }}:{% for a in i.approvals %}{{ a.name }}/{{ a.roles[0] }}/{{ a.meaning }}/{{ a.verified }}/{{ a.current }}{% endfor %};{% endfor %}|{% for a in document.approvals %}{{ a.name }}/{{ a.short }}{% endfor %}\n",
    );
    r.commit("Dev", "A template");
    let id = commit_signed(
        &r,
        Some(&key),
        &format!("Approve\n\nApproved: REQ-A-1, {PLAN}\nApproval-Meaning: review\n"),
        "2026-03-01T10:00:00Z",
    );
    let (project, documents) = mdbook_qms::pipeline::load_with_documents(
        &r.root,
        mdbook_qms::load::ChapterSource::Disk,
        Default::default(),
    )
    .unwrap_or_else(|e| panic!("{}", e.0.message));
    let md = documents
        .standalone(&project, PLAN, false)
        .unwrap()
        .markdown;
    assert_eq!(
        md.trim(),
        format!(
            "REQ-A-1:Alice Example/ROLE-SEC/review/True/True;REQ-A-2:;|Alice Example/{}",
            &id[..7]
        )
    );
}

#[test]
fn an_approval_of_a_removed_item_is_neither_unknown_nor_to_be_renewed() {
    let (r, key) = signed_setup();
    commit_signed(
        &r,
        Some(&key),
        "Approve two\n\nApproved: REQ-A-2\nApproval-Meaning: review\n",
        "2026-03-01T10:00:00Z",
    );
    r.write("requirements/reqs.yaml", &req("REQ-A-1", "One"));
    let removal = r.commit("Dev", "Drop two");
    let p = r.project();
    assert_eq!(codes(&p), []);
    let item = &p.approvals.records[0].items[0];
    assert_eq!(item.id, "REQ-A-2");
    assert_eq!(item.changed_by.as_deref(), Some(&removal[..7]));
}

#[test]
fn an_ecdsa_p256_key_verifies_too() {
    let r = setup("", "");
    let (path, public) = crate::support::ssh::keygen(
        r.tmp.path(),
        "ecdsa",
        "alice",
        crate::support::ssh::ECDSA_P256,
    );
    r.write("allowed_signers", &format!("alice@example.com {public}\n"));
    r.commit("Dev", "Allowed signers");
    let id = commit_signed(&r, Some(&path), APPROVE_A1, "2026-03-01T10:00:00Z");
    let p = r.project();
    assert_eq!(codes(&p), []);
    assert_eq!(p.approvals.records[0].verification, Verification::Verified);
    assert!(git_verifies(&r, &id));
}
