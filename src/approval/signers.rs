//! The allowed-signers file: who may sign approval records, in ssh-keygen's ALLOWED
//! SIGNERS format (`ssh-keygen(1)`), so that `git verify-commit` with
//! `gpg.ssh.allowedSignersFile` pointing at the same file agrees with `check`.
//!
//! A line is `principals [options] keytype base64 [comment]`; `#` starts a comment line.
//! Options: `namespaces="git,..."`, `valid-after=`, `valid-before=` (timestamps
//! `YYYYMMDD[HHMM[SS]][Z]`); `cert-authority` is not supported (a diagnostic). Read
//! while loading, so every syntax error points at its line and column.

use std::path::Path;

use ssh_key::{PublicKey, SshSig};

use crate::config::Config;
use crate::date::{Day, Timestamp};
use crate::diag::{code, Diagnostic, Diagnostics};
use crate::project_files::{self, ProjectFiles, Refusal};
use crate::source::{FileId, SourceMap, Span};

/// One line of the allowed-signers file.
#[derive(Debug, Clone)]
pub(crate) struct Signer {
    /// The principals (patterns with `*` and `?`, as ssh-keygen matches them).
    pub(crate) principals: Vec<String>,
    /// `namespaces=`: the patterns of namespaces the key may sign in; empty is any.
    pub(crate) namespaces: Vec<String>,
    /// `valid-after=` and `valid-before=`, seconds since the epoch.
    pub(crate) valid_after: Option<i64>,
    pub(crate) valid_before: Option<i64>,
    pub(crate) key: PublicKey,
    /// The line in the file.
    pub(crate) span: Span,
}

/// The allowed-signers file as read; empty when the project has none.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedSigners {
    /// The file, when it exists and was read.
    pub(crate) file: Option<FileId>,
    pub(crate) signers: Vec<Signer>,
}

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not an SSH signature (OpenPGP, X.509) or not parseable.
    Unreadable(String),
    /// No line of the file has the signing key (for the `git` namespace).
    UnknownKey {
        /// The key's SHA-256 fingerprint, as `ssh-keygen -l` shows it.
        fingerprint: String,
    },
    /// The key's line does not allow the signing time.
    NotValid {
        /// Its principal.
        principal: String,
        /// What the line says: `valid-before 20260101` or `valid-after ...`.
        why: String,
        /// The line.
        line: Span,
    },
    /// The signature does not match the signed content.
    Bad(String),
}

/// The namespace git signs commits and tags in.
const NAMESPACE: &str = "git";

impl AllowedSigners {
    /// Verifies `signature` (armored SSHSIG) over `payload`, made at `time` (the
    /// committer time): the principal of the key's line when it verifies.
    pub(crate) fn verify(
        &self,
        signature: &str,
        payload: &[u8],
        time: i64,
    ) -> Result<String, Refused> {
        let sig = SshSig::from_pem(signature.trim().as_bytes())
            .map_err(|e| Refused::Unreadable(e.to_string()))?;
        let candidates: Vec<&Signer> = self
            .signers
            .iter()
            .filter(|s| s.key.key_data() == sig.public_key())
            .filter(|s| {
                s.namespaces.is_empty()
                    || s.namespaces
                        .iter()
                        .any(|n| crate::evidence::glob_match(n, NAMESPACE))
            })
            .collect();
        if candidates.is_empty() {
            let key = PublicKey::from(sig.public_key().clone());
            return Err(Refused::UnknownKey {
                fingerprint: key.fingerprint(Default::default()).to_string(),
            });
        }
        // The signature itself first: a tampered record is reported as such even when its
        // key has also expired.
        candidates[0]
            .key
            .verify(NAMESPACE, payload, &sig)
            .map_err(|e| Refused::Bad(e.to_string()))?;
        let mut why = String::new();
        for s in &candidates {
            let principal = s.principals.first().cloned().unwrap_or_default();
            match (s.valid_after, s.valid_before) {
                (Some(after), _) if time < after => {
                    why = format!(
                        "{principal}: valid-after {}",
                        Timestamp::utc(after).rfc3339()
                    )
                }
                (_, Some(before)) if time > before => {
                    why = format!(
                        "{principal}: valid-before {}",
                        Timestamp::utc(before).rfc3339()
                    )
                }
                _ => return Ok(principal),
            }
        }
        let principal = candidates[0]
            .principals
            .first()
            .cloned()
            .unwrap_or_default();
        Err(Refused::NotValid {
            principal,
            why,
            line: candidates[0].span,
        })
    }
}

/// Reads the allowed-signers file of `config` (relative to the project folder); a
/// missing file is no file, not an error: a project without approvals needs none.
pub(crate) fn load(
    config: &Config,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> AllowedSigners {
    let rel = &config.approvals.allowed_signers;
    let text = match read(&config.root, rel) {
        Ok(Some(text)) => text,
        Ok(None) => return AllowedSigners::default(),
        Err(unread) => {
            project_files::report(vec![*unread], sources, diags);
            return AllowedSigners::default();
        }
    };
    let file = sources.add(rel.clone(), text);
    let signers = parse(&sources.get(file).text, file, diags);
    AllowedSigners {
        file: Some(file),
        signers,
    }
}

fn read(root: &Path, rel: &Path) -> Result<Option<String>, Box<project_files::Unread>> {
    let files = ProjectFiles::new(root);
    let real = match files.resolve(rel) {
        Ok((real, _)) => real,
        Err(Refusal::Missing { link: None }) => return Ok(None),
        Err(why) => {
            return Err(Box::new(project_files::unread(
                rel,
                &why,
                code::LINK_OUTSIDE_PROJECT,
            )))
        }
    };
    match std::fs::read(root.join(real)).map(String::from_utf8) {
        Ok(Ok(text)) => Ok(Some(text)),
        Ok(Err(_)) => Err(Box::new(project_files::Unread {
            path: rel.to_path_buf(),
            diagnostic: Diagnostic::new(
                code::FILE_NOT_UTF8,
                format!("{} is not valid UTF-8", crate::source::display_path(rel)),
            ),
        })),
        Err(e) => Err(Box::new(project_files::unread(
            rel,
            &Refusal::Io(e.to_string()),
            code::LINK_OUTSIDE_PROJECT,
        ))),
    }
}

/// Parses the file's lines; a bad line is a diagnostic and left out.
pub(crate) fn parse(text: &str, file: FileId, diags: &mut Diagnostics) -> Vec<Signer> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let lead = body.len() - body.trim_start().len();
        let body = body.trim();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let span = |from: usize, len: usize| Span {
            file,
            start: start + lead + from,
            end: start + lead + from + len,
        };
        match parse_line(body, span(0, body.len())) {
            Ok(s) => out.push(s),
            Err((at, len, message)) => diags.push(
                Diagnostic::new(code::ALLOWED_SIGNERS_SYNTAX, message)
                    .at(span(at, len))
                    .help("a line is `principal[,principal...] [namespaces=\"git\",valid-after=\"YYYYMMDD\",valid-before=\"YYYYMMDD\"] ssh-ed25519 AAAA... [comment]` (ssh-keygen(1), ALLOWED SIGNERS)"),
            ),
        }
    }
    out
}

/// A field of a line: its text (quotes removed) and its byte range in the line.
/// A field of a line: its text (quotes removed), where it starts and its length.
type Field = (String, usize, usize);

fn fields(line: &str) -> Result<Vec<Field>, LineError> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let begin = i;
        let mut quoted = false;
        let mut text = String::new();
        while i < bytes.len() && (quoted || !bytes[i].is_ascii_whitespace()) {
            if bytes[i] == b'"' {
                quoted = !quoted;
            } else {
                let ch = line[i..].chars().next().unwrap_or(' ');
                text.push(ch);
                i += ch.len_utf8();
                continue;
            }
            i += 1;
        }
        if quoted {
            return Err((
                begin,
                i - begin,
                "a quoted value has no closing `\"`".into(),
            ));
        }
        out.push((text, begin, i - begin));
    }
    Ok(out)
}

fn is_key_type(s: &str) -> bool {
    s.starts_with("ssh-") || s.starts_with("ecdsa-sha2-") || s.starts_with("sk-")
}

type LineError = (usize, usize, String);

fn parse_line(line: &str, span: Span) -> Result<Signer, LineError> {
    let f = fields(line)?;
    let (principals, p_at, p_len) = f[0].clone();
    let principals: Vec<String> = principals.split(',').map(str::to_owned).collect();
    if principals.iter().any(String::is_empty) {
        return Err((p_at, p_len, "an empty principal".into()));
    }
    let mut signer = Options::default();
    let mut rest = &f[1..];
    let Some(first) = rest.first() else {
        return Err((p_at, p_len, "the line has a principal but no key".into()));
    };
    if !is_key_type(&first.0) {
        options(&line[first.1..first.1 + first.2], first.1, &mut signer)?;
        rest = &rest[1..];
    }
    let Some((ty, t_at, t_len)) = rest.first() else {
        return Err((p_at, line.len() - p_at, "the line has no key".into()));
    };
    let Some((blob, b_at, b_len)) = rest.get(1) else {
        return Err((
            *t_at,
            *t_len,
            format!("the key type `{ty}` is not followed by the key"),
        ));
    };
    if !is_key_type(ty) {
        return Err((
            *t_at,
            *t_len,
            format!("`{ty}` is not an SSH key type (ssh-ed25519, ecdsa-sha2-nistp256, ...)"),
        ));
    }
    let key = PublicKey::from_openssh(&format!("{ty} {blob}"))
        .map_err(|e| (*b_at, *b_len, format!("the `{ty}` key does not parse: {e}")))?;
    if &key.algorithm().to_string() != ty {
        return Err((
            *t_at,
            *t_len,
            format!("the key is a `{}` key, not `{ty}`", key.algorithm()),
        ));
    }
    Ok(Signer {
        principals,
        namespaces: signer.namespaces,
        valid_after: signer.valid_after,
        valid_before: signer.valid_before,
        key,
        span,
    })
}

/// The options of a line.
#[derive(Default)]
struct Options {
    namespaces: Vec<String>,
    valid_after: Option<i64>,
    valid_before: Option<i64>,
}

/// The options field: comma-separated, values may be quoted and hold commas.
fn options(raw: &str, at: usize, signer: &mut Options) -> Result<(), LineError> {
    let mut parts = Vec::new();
    let (mut begin, mut quoted) = (0, false);
    for (i, ch) in raw.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push((begin, &raw[begin..i]));
                begin = i + 1;
            }
            _ => {}
        }
    }
    parts.push((begin, &raw[begin..]));
    for (off, part) in parts {
        let here = (at + off, part.len());
        let (name, value) = match part.split_once('=') {
            Some((n, v)) => (n, Some(v.trim_matches('"'))),
            None => (part, None),
        };
        match (name.to_ascii_lowercase().as_str(), value) {
            ("namespaces", Some(v)) => {
                signer.namespaces = v.split(',').map(str::to_owned).collect();
            }
            ("valid-after", Some(v)) => {
                signer.valid_after = Some(time(v).ok_or_else(|| bad_time(here, v))?);
            }
            ("valid-before", Some(v)) => {
                signer.valid_before = Some(time(v).ok_or_else(|| bad_time(here, v))?);
            }
            ("cert-authority", None) => {
                return Err((here.0, here.1, "`cert-authority` (SSH certificates) is not supported: list each signer's own key".into()));
            }
            _ => {
                return Err((here.0, here.1, format!("unknown option `{part}` (known: namespaces=, valid-after=, valid-before=), or the key type is missing")));
            }
        }
    }
    Ok(())
}

fn bad_time(at: (usize, usize), v: &str) -> LineError {
    (
        at.0,
        at.1,
        format!("`{v}` is not a time of the form YYYYMMDD[HHMM[SS]][Z]"),
    )
}

/// `YYYYMMDD[HHMM[SS]][Z]` as seconds since the epoch. ssh-keygen reads a time without
/// `Z` as the machine's local time; this reads it as UTC (write `Z` to mean the same
/// everywhere).
fn time(v: &str) -> Option<i64> {
    let digits = v.strip_suffix(['Z', 'z']).unwrap_or(v);
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return None;
    }
    let day = Day::parse(&format!(
        "{}-{}-{}",
        &digits[..4],
        &digits[4..6],
        &digits[6..8]
    ))?;
    let num = |r: std::ops::Range<usize>| digits.get(r).map_or(Some(0), |s| s.parse::<i64>().ok());
    let (h, m, s) = (num(8..10)?, num(10..12)?, num(12..14)?);
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(day.days_since(Day::parse("1970-01-01")?) * 86_400 + h * 3600 + m * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    fn parse_text(text: &str) -> (Vec<Signer>, Diagnostics) {
        let mut diags = Diagnostics::default();
        let signers = parse(text, FileId(0), &mut diags);
        (signers, diags)
    }

    #[test]
    fn reads_principals_options_and_keys() {
        let text = format!("# team\n\nalice@example.com,a@b {KEY} alice\nbob@example.com namespaces=\"git,file\",valid-after=\"20260101\",valid-before=20270101120000Z {KEY}\n");
        let (s, d) = parse_text(&text);
        assert!(d.0.is_empty(), "{:?}", d.0);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].principals, ["alice@example.com", "a@b"]);
        assert_eq!(s[1].namespaces, ["git", "file"]);
        assert_eq!(s[1].valid_after, Some(1_767_225_600));
        assert_eq!(s[1].valid_before, Some(1_798_804_800));
    }

    #[test]
    fn reports_bad_lines_at_their_place() {
        let text = format!("alice cert-authority {KEY}\nbob valid-before=2026 {KEY}\ncarol ssh-ed25519 AAAAbroken\ndave\n");
        let (s, d) = parse_text(&text);
        assert!(s.is_empty());
        let starts: Vec<usize> =
            d.0.iter()
                .map(|d| match d.location {
                    crate::diag::Location::Span(s) => s.start,
                    _ => usize::MAX,
                })
                .collect();
        let line2 = text.find("bob").unwrap();
        let line3 = text.find("carol").unwrap();
        assert_eq!(
            starts,
            [6, line2 + 4, line3 + 18, text.find("dave").unwrap()]
        );
        assert!(d.0.iter().all(|d| d.code == code::ALLOWED_SIGNERS_SYNTAX));
    }
}
