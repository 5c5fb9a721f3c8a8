//! Real SSH signing keys and git's own verdict on signed commits, for the approval tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The key type of `keygen`: Ed25519 (ssh-keygen's default), or ECDSA on P-256.
pub const ED25519: &[&str] = &["-t", "ed25519"];
/// ECDSA on NIST P-256.
pub const ECDSA_P256: &[&str] = &["-t", "ecdsa", "-b", "256"];

/// A new key pair of type `kind` without a passphrase at `dir/key-NAME` (commented
/// `comment`): the private key's path and the public key line (`TYPE AAAA... comment`).
pub fn keygen(dir: &Path, name: &str, comment: &str, kind: &[&str]) -> (PathBuf, String) {
    let path = dir.join(format!("key-{name}"));
    let out = Command::new("ssh-keygen")
        .arg("-q")
        .args(kind)
        .args(["-N", "", "-C", comment, "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (path, public.trim().to_owned())
}

/// `git verify-commit --raw REV` in `root` with `allowed` as the allowed-signers file:
/// whether git accepts, and what it printed.
pub fn git_verify_commit(root: &Path, allowed: &Path, rev: &str) -> (bool, String) {
    let out = Command::new("git")
        .current_dir(root)
        .arg("-c")
        .arg(format!("gpg.ssh.allowedSignersFile={}", allowed.display()))
        .args(["verify-commit", "--raw", rev])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `ssh-keygen -Y verify` of `payload` (fed on standard input) against `signature` (an
/// armored SSHSIG file) for `principal` in namespace `git`, with `extra` options such as
/// `-Overify-time=...`: the auditor's check with OpenSSH alone. Whether it accepts, and
/// what it printed on standard error.
pub fn keygen_verify(
    allowed: &Path,
    principal: &str,
    signature: &Path,
    payload: &[u8],
    extra: &[&str],
) -> (bool, String) {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args(["-I", principal, "-n", "git", "-s"])
        .arg(signature)
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(payload).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
