//! Approvals: signed commits and annotated tags whose message has an `Approved:`
//! trailer, the electronic signatures of 21 CFR Part 11 (§11.50, §11.70).
//!
//! `assess` reads the records the history scan found (commits) and the annotated tags,
//! verifies each SSH signature in-process against the allowed-signers file (`signers`),
//! takes the printed name and roles from `role` items' `members`, decides per approved
//! item whether the approval is current, and checks the required approvals of
//! `[[preprocessor.qms.approvals.required]]`. Whether an approved document is current
//! needs the document rendered, so `documents::check_approvals` decides that later.

pub(crate) mod signers;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::config::approvals::{Required, Subject, MEANINGS};
use crate::config::documents::DOCUMENTS;
use crate::date::Timestamp;
use crate::diag::{code, Diagnostic};
use crate::git::{CommitId, ObjectId, Repo, Signed};
use crate::history::fingerprint::Printer;
use crate::history::trailers::{self, Trailer};
use crate::history::{History, Settings};
use crate::linked::Linked;
use signers::Refused;

/// What `Approved:` writes to approve a release: the content of the signed commit's
/// tree, for `[[preprocessor.qms.approvals.required]] release = true`.
pub const RELEASE: &str = "release";

/// Every approval record of the project, newest first (commits), then the tags by name.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Approvals {
    /// The records.
    pub records: Vec<ApprovalRecord>,
}

/// Whether a record's signature holds, as git would say it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "kebab-case")]
pub enum Verification {
    /// Signed by a key of the allowed-signers file, valid at the committer time, whose
    /// principal is a member of a role.
    Verified,
    /// No signature.
    Unsigned,
    /// The signature does not verify over the record (why).
    BadSignature(String),
    /// The key (its SHA-256 fingerprint) is not in the allowed-signers file.
    UnknownKey(String),
    /// The key's line excludes the signing time (what it says).
    KeyNotValid(String),
    /// The signature verifies, but the principal is a member of no role.
    SignerNotInRole,
}

impl Verification {
    /// Whether the signature verified against the allowed signers (member of a role or not).
    pub fn signature_holds(&self) -> bool {
        matches!(self, Verification::Verified | Verification::SignerNotInRole)
    }

    /// How a card or document shows it.
    pub fn label(&self) -> &'static str {
        match self {
            Verification::Verified => "verified",
            Verification::Unsigned => "unsigned",
            Verification::BadSignature(_) => "bad signature",
            Verification::UnknownKey(_) => "unknown key",
            Verification::KeyNotValid(_) => "key not valid then",
            Verification::SignerNotInRole => "signer in no role",
        }
    }
}

/// One approved item.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovedItem {
    /// The item's id.
    pub id: String,
    /// The item's fingerprint (of its significant fields) at the signed commit, as hex;
    /// `None` when the item was not in that commit.
    pub fingerprint: Option<String>,
    /// Whether the item changed significantly since: the commit that changed it
    /// (short id), `uncommitted` for edits in the work tree; `None` when current.
    pub changed_by: Option<String>,
}

/// One approved document.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovedDocument {
    /// The built-in document's name.
    pub name: String,
    /// `sha256:<hex>` of its standalone Markdown when approved (`Approved-Content:`).
    pub content: Option<String>,
    /// Whether the document still has that hash; decided once the documents are
    /// rendered (`documents::approvals::check`), `None` until then.
    pub current: Option<bool>,
}

/// An approval record: a signed commit or annotated tag with an `Approved:` trailer.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalRecord {
    /// The commit (for a tag: the commit it points at), full hex.
    pub commit: String,
    /// Its first 7 hex digits.
    pub short: String,
    /// The tag's name, when the record is a tag.
    pub tag: Option<String>,
    /// The signed object's id (the tag's own id for a tag).
    pub object: String,
    /// The signer's principal (from the allowed-signers line of the signing key).
    pub principal: Option<String>,
    /// The signer's printed name, from the roles' `members`.
    pub name: Option<String>,
    /// The role items the principal is a member of.
    pub roles: Vec<String>,
    /// `Approval-Meaning:` (review, approval, responsibility, authorship), when valid.
    pub meaning: Option<String>,
    /// The committer (tagger) time, RFC 3339 with its offset.
    pub time: String,
    /// The approved items.
    pub items: Vec<ApprovedItem>,
    /// The approved documents.
    pub documents: Vec<ApprovedDocument>,
    /// Whether `Approved:` names `release`: the release of the content of `tree`
    /// (judged by the release gate).
    pub release: bool,
    /// The tree of the signed commit, full hex: the content a release approval covers.
    pub tree: String,
    /// The day (UTC) it was signed: the day a document's dates were rendered as.
    #[serde(skip)]
    pub(crate) day: crate::date::Day,
    /// The armored signature, if any.
    pub signature: Option<String>,
    /// The bytes the signature covers (the commit or tag object without the signature).
    pub payload: String,
    /// The verdict.
    pub verification: Verification,
}

impl ApprovalRecord {
    /// Whether its approval of item `id` still holds the content signed: `None` when it
    /// does not approve that item.
    pub fn approves_current(&self, id: &str) -> Option<bool> {
        let mut of_id = self.items.iter().filter(|i| i.id == id).peekable();
        of_id.peek()?;
        Some(of_id.all(|i| i.changed_by.is_none()))
    }

    /// Whether the record is a valid approval: signed by a role member.
    pub fn is_verified(&self) -> bool {
        self.verification == Verification::Verified
    }
}

impl ApprovalRecord {
    /// What templates see of the record as an approval of `id` (an item or document):
    /// who, roles, meaning, when, which commit, verified, and whether it is current
    /// (`null` for a document not compared yet).
    pub(crate) fn summary(&self, id: &str) -> Value {
        let (current, changed_by) = match self.items.iter().find(|i| i.id == id) {
            Some(i) => (Value::Bool(i.changed_by.is_none()), json!(i.changed_by)),
            None => (
                json!(self
                    .documents
                    .iter()
                    .find(|d| d.name == id)
                    .and_then(|d| d.current)),
                Value::Null,
            ),
        };
        json!({
            "name": self.name,
            "principal": self.principal,
            "roles": self.roles,
            "meaning": self.meaning,
            "time": self.time,
            "commit": self.commit,
            "short": self.short,
            "tag": self.tag,
            "verified": self.is_verified(),
            "verification": self.verification.label(),
            "current": current,
            "changed_by": changed_by,
        })
    }
}

impl Approvals {
    /// The records that name item (or document) `id`, newest first.
    /// Whether item `id` has an approval that holds: a verified record whose approval
    /// of it is current. (`matrix approved=`, `trace --unapproved`.)
    pub fn approves(&self, id: &str) -> bool {
        self.of(id)
            .any(|r| r.is_verified() && r.approves_current(id) == Some(true))
    }

    /// The records that approve item or document `id`.
    pub fn of(&self, id: &str) -> impl Iterator<Item = &ApprovalRecord> + '_ {
        let id = id.to_owned();
        self.records.iter().filter(move |r| {
            r.items.iter().any(|i| i.id == id) || r.documents.iter().any(|d| d.name == id)
        })
    }
}

/// A role member: principal -> (printed name, role ids).
type Members = BTreeMap<String, (String, Vec<String>)>;

/// The members of every `role` item, by principal; the printed name comes from the
/// first role (by id) that lists the principal.
fn members(linked: &Linked) -> Members {
    let mut roles: Vec<&crate::model::Item> =
        linked.items.iter().filter(|i| i.ty == "role").collect();
    roles.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = Members::new();
    for role in roles {
        let Some(Value::Array(list)) = role.fields.get("members") else {
            continue;
        };
        for m in list {
            let (Some(p), Some(n)) = (
                m.get("principal").and_then(Value::as_str),
                m.get("name").and_then(Value::as_str),
            ) else {
                continue;
            };
            let entry = out
                .entry(p.to_owned())
                .or_insert_with(|| (n.to_owned(), Vec::new()));
            if !entry.1.contains(&role.id) {
                entry.1.push(role.id.clone());
            }
        }
    }
    out
}

/// Reads and verifies every approval record and checks the required approvals.
pub fn assess(linked: &Linked, history: &History, diags: &mut Vec<Diagnostic>) -> Approvals {
    let mut approvals = Approvals::default();
    let required = &linked.config.approvals.required;
    let Ok(repo) = Repo::open_at(&linked.config.root, &linked.revision) else {
        report_required(linked, &approvals, required, diags);
        return approvals;
    };
    let mut signed: Vec<(Signed, Vec<Trailer>)> = Vec::new();
    for (index, found) in &history.approval_commits {
        let Some(id) = ObjectId::from_hex(&history.commit(*index).id) else {
            continue;
        };
        if let Ok(s) = repo.signed_commit(id) {
            signed.push((s, found.clone()));
        }
    }
    let head = history
        .head
        .as_ref()
        .and_then(|h| ObjectId::from_hex(&h.id));
    for tag in repo.signed_tags() {
        let found = trailers::approval(&tag.message);
        let reachable = head.is_some_and(|h| repo.is_ancestor(tag.commit, h));
        if reachable && found.iter().any(|t| t.name == trailers::APPROVED) {
            signed.push((tag, found));
        }
    }
    let members = members(linked);
    let settings = Settings::new(linked, &repo);
    for (s, found) in signed {
        if about_another_project(linked, history, &found) {
            continue;
        }
        let record = record(
            linked, history, &repo, &settings, &members, s, &found, diags,
        );
        approvals.records.push(record);
    }
    report_required(linked, &approvals, required, diags);
    approvals
}

/// Whether a record is about another design file in the same repository (a monorepo):
/// it approves item ids and this project knows none of them, now or in its history. As
/// for the other trailers, its ids are then not typos of ours. A record that names only
/// documents or `release` is always this project's.
fn about_another_project(linked: &Linked, history: &History, found: &[Trailer]) -> bool {
    let mut ids = found
        .iter()
        .filter(|t| t.name == trailers::APPROVED)
        .flat_map(|t| t.ids.iter())
        .filter(|id| *id != RELEASE && !DOCUMENTS.iter().any(|d| d.name == id.as_str()))
        .peekable();
    ids.peek().is_some()
        && !ids.any(|id| linked.graph.get(id).is_some() || history.item(id).is_some())
}

/// Where a record's diagnostics point: book.toml (a record is a commit, not a file).
fn at_config(linked: &Linked, d: Diagnostic) -> Diagnostic {
    match linked.config.file {
        Some(f) => d.in_file(f),
        None => d,
    }
}

fn describe(s: &Signed) -> String {
    let short = &s.commit.hex()[..7];
    match &s.tag {
        Some(t) => format!("approval tag `{t}` (on commit {short})"),
        None => format!("approval commit {short}"),
    }
}

#[allow(clippy::too_many_arguments)]
fn record(
    linked: &Linked,
    history: &History,
    repo: &Repo,
    settings: &Settings,
    members: &Members,
    s: Signed,
    found: &[Trailer],
    diags: &mut Vec<Diagnostic>,
) -> ApprovalRecord {
    let what = describe(&s);
    let values = |name: &str| -> Vec<String> {
        found
            .iter()
            .filter(|t| t.name == name)
            .flat_map(|t| t.ids.clone())
            .collect()
    };
    let approved = values(trailers::APPROVED);
    let meaning = values("Approval-Meaning");
    let meaning = match meaning.as_slice() {
        [m] if MEANINGS.contains(&m.to_ascii_lowercase().as_str()) => Some(m.to_ascii_lowercase()),
        _ => {
            let said = if meaning.is_empty() {
                "has no `Approval-Meaning:` trailer".to_owned()
            } else {
                format!("has `Approval-Meaning: {}`", meaning.join(" "))
            };
            diags.push(at_config(
                linked,
                Diagnostic::new(code::APPROVAL_MEANING_MISSING, format!("{what} {said}"))
                    .help("add one trailer `Approval-Meaning: review`, `approval`, `responsibility` or `authorship` (21 CFR 11.50: the meaning of the signature)"),
            ));
            None
        }
    };
    // `Approved-Content: NAME sha256:HEX` gives the pair as two values.
    let contents: Vec<(String, String)> = found
        .iter()
        .filter(|t| t.name == "Approved-Content")
        .filter_map(|t| match t.ids.as_slice() {
            [name, hash] => Some((name.clone(), hash.clone())),
            _ => None,
        })
        .collect();
    let mut items = Vec::new();
    let mut documents = Vec::new();
    let mut release = false;
    for id in approved {
        // An item removed since keeps its approvals (outdated by the removal).
        if linked.graph.get(&id).is_some() || history.item(&id).is_some() {
            items.push(id);
        } else if id == RELEASE {
            release = true;
        } else if DOCUMENTS.iter().any(|d| d.name == id) {
            let content = contents
                .iter()
                .find(|(n, _)| *n == id)
                .map(|(_, h)| h.clone());
            documents.push(ApprovedDocument {
                name: id,
                content,
                current: None,
            });
        } else {
            diags.push(at_config(
                linked,
                Diagnostic::new(
                    code::APPROVAL_UNKNOWN_ID,
                    format!("{what} approves `{id}`, which is neither an item id nor a built-in document"),
                )
                .help("`Approved:` names item ids, built-in document names and `release`, separated by commas"),
            ));
        }
    }
    let prints = fingerprints(repo, settings, s.commit, &items);
    let items: Vec<ApprovedItem> = items
        .into_iter()
        .map(|id| {
            let changed_by = changed_since(history, repo, s.commit, &id);
            ApprovedItem {
                fingerprint: prints.get(&id).cloned(),
                changed_by,
                id,
            }
        })
        .collect();
    let signers = &linked.allowed_signers;
    let mut principal = None;
    let verification = match &s.signature {
        None => {
            diags.push(at_config(
                linked,
                Diagnostic::new(
                    code::APPROVAL_UNSIGNED,
                    format!("{what} has an `Approved:` trailer but is not signed"),
                )
                .help("sign approvals: `git commit --allow-empty -S` (or `git tag -s`) with `gpg.format=ssh` and a key listed in the allowed-signers file"),
            ));
            Verification::Unsigned
        }
        Some(sig) => match signers.verify(sig, &s.payload, s.time) {
            Ok(p) => {
                principal = Some(p.clone());
                if members.contains_key(&p) {
                    Verification::Verified
                } else {
                    diags.push(at_config(
                        linked,
                        Diagnostic::new(
                            code::APPROVAL_SIGNER_NOT_IN_ROLE,
                            format!("{what} is signed by `{p}`, who is a member of no role"),
                        )
                        .help("list the principal with the printed name in a role item's `members: [{principal, name}]`"),
                    ));
                    Verification::SignerNotInRole
                }
            }
            Err(Refused::Unreadable(e)) | Err(Refused::Bad(e)) => {
                diags.push(at_config(
                    linked,
                    Diagnostic::new(
                        code::APPROVAL_SIGNATURE_INVALID,
                        format!("{what} has a signature that does not verify: {e}"),
                    )
                    .help("the record was changed after it was signed, or it is not an SSH signature; `git verify-commit` (or `git verify-tag`) shows the same"),
                ));
                Verification::BadSignature(e)
            }
            Err(Refused::UnknownKey { fingerprint }) => {
                let mut d = Diagnostic::new(
                    code::APPROVAL_SIGNER_UNKNOWN,
                    format!("{what} is signed by key {fingerprint}, which the allowed-signers file does not list for namespace `git`"),
                )
                .help(format!(
                    "add the signer's public key to {} (`principal ssh-ed25519 AAAA...`)",
                    linked.config.approvals.allowed_signers.display()
                ));
                d = match signers.file {
                    Some(f) => d.in_file(f),
                    None => at_config(linked, d),
                };
                diags.push(d);
                Verification::UnknownKey(fingerprint)
            }
            Err(Refused::NotValid {
                principal: p,
                why,
                line,
            }) => {
                principal = Some(p);
                let signed_at = Timestamp::with_offset(s.time, s.offset_minutes).rfc3339();
                let d = Diagnostic::new(
                    code::APPROVAL_KEY_NOT_VALID,
                    format!("{what} was signed at {signed_at}, outside its key's validity ({why})"),
                )
                .help("a key past its `valid-before` (revoked or expired) or before its `valid-after` signs nothing; sign again with a valid key")
                .at(line);
                diags.push(d);
                Verification::KeyNotValid(why)
            }
        },
    };
    let (name, roles) = match principal.as_ref().and_then(|p| members.get(p)) {
        Some((n, r)) => (Some(n.clone()), r.clone()),
        None => (None, Vec::new()),
    };
    if verification.signature_holds() {
        for item in &items {
            // A removed item needs no new approval.
            let Some(now) = linked.item(&item.id) else {
                continue;
            };
            if let Some(by) = &item.changed_by {
                let d = Diagnostic::new(
                    code::APPROVAL_OUTDATED,
                    format!(
                        "the approval of {} by {} ({what}) is outdated: the item changed since, in {}",
                        item.id,
                        name.as_deref().or(principal.as_deref()).unwrap_or("?"),
                        if by == "uncommitted" { "the work tree".to_owned() } else { format!("commit {by}") }
                    ),
                )
                .item(item.id.clone())
                .help("approve the item again (a new signed record) once the change is reviewed")
                .at(now.span_of("id"));
                diags.push(d);
            }
        }
    }
    let commit = s.commit.hex();
    let tree = repo
        .commit(s.commit)
        .map(|meta| meta.tree.hex())
        .unwrap_or_default();
    ApprovalRecord {
        short: commit[..7].to_owned(),
        commit,
        tag: s.tag,
        object: s.object.hex(),
        principal,
        name,
        roles,
        meaning,
        time: Timestamp::with_offset(s.time, s.offset_minutes).rfc3339(),
        items,
        documents,
        release,
        tree,
        day: Timestamp::utc(s.time).day(),
        signature: s.signature,
        payload: String::from_utf8_lossy(&s.payload).into_owned(),
        verification,
    }
}

/// The significant-field fingerprints of `ids` at `commit`, as hex.
fn fingerprints(
    repo: &Repo,
    settings: &Settings,
    commit: CommitId,
    ids: &[String],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if ids.is_empty() {
        return out;
    }
    let mut printer = Printer::new(&settings.ignore);
    let Ok(files) = repo.files(commit, &settings.scopes) else {
        return out;
    };
    for (path, blob) in files {
        let Ok(prints) = repo.with_blob(blob, |bytes| printer.file(&path, bytes)) else {
            continue;
        };
        for p in prints {
            if ids.iter().any(|i| **i == *p.id) {
                out.entry(p.id.to_string())
                    .or_insert_with(|| format!("{:032x}", p.sig));
            }
        }
    }
    out
}

/// The newest significant change of item `id` that the approval at `signed` does not
/// include (short commit id), or `uncommitted` for a significant edit in the work tree.
fn changed_since(history: &History, repo: &Repo, signed: CommitId, id: &str) -> Option<String> {
    let h = history.item(id)?;
    if let Some(crate::history::Uncommitted::Modified { significant: true }) = h.uncommitted {
        return Some("uncommitted".to_owned());
    }
    h.changes
        .iter()
        .filter(|c| c.significant || c.kind != crate::history::ChangeKind::Modified)
        .map(|c| history.commit(c.commit))
        .find(|c| ObjectId::from_hex(&c.id).is_some_and(|change| !repo.is_ancestor(change, signed)))
        .map(|c| c.short.clone())
}

/// Whether `item` meets a requirement's `where` filter.
fn matches(item: &crate::model::Item, filter: &[(String, String)]) -> bool {
    filter
        .iter()
        .all(|(field, want)| match item.fields.get(field) {
            Some(Value::String(s)) => s == want,
            Some(Value::Bool(b)) => b.to_string() == *want,
            Some(Value::Number(n)) => n.to_string() == *want,
            _ => false,
        })
}

/// `approval-required-missing` for every item or document a requirement applies to
/// that lacks a verified, current approval by a member of each required role, and
/// `approval-signer-not-in-role` for approvals by signers of none of the required roles.
fn report_required(
    linked: &Linked,
    approvals: &Approvals,
    required: &[Required],
    diags: &mut Vec<Diagnostic>,
) {
    for req in required {
        let subjects: Vec<(String, Option<&crate::model::Item>)> = match &req.subject {
            Subject::Type(ty) => linked
                .items
                .iter()
                .enumerate()
                .filter(|(i, it)| it.ty == *ty && linked.is_primary(*i) && matches(it, &req.filter))
                .map(|(_, it)| (it.id.clone(), Some(it)))
                .collect(),
            Subject::Document(name) => vec![(name.clone(), None)],
            Subject::Release => continue,
        };
        for (id, item) in subjects {
            let records: Vec<&ApprovalRecord> = approvals
                .of(&id)
                .filter(|r| r.meaning.as_deref() == Some(req.meaning.as_str()))
                .collect();
            for r in &records {
                // A signer in no role at all is reported with the record already.
                if r.is_verified() && !r.roles.iter().any(|x| req.roles.contains(x)) {
                    let who = r.name.as_deref().or(r.principal.as_deref()).unwrap_or("?");
                    let d = Diagnostic::new(
                        code::APPROVAL_SIGNER_NOT_IN_ROLE,
                        format!(
                            "{id} is approved by {who} (commit {}), who holds none of the required roles {}",
                            r.short,
                            req.roles.join(", ")
                        ),
                    )
                    .maybe_item(item.map(|i| i.id.as_str()))
                    .help("the approval counts only when signed by a member of a required role");
                    diags.push(place(linked, d, item, req));
                }
            }
            for role in &req.roles {
                let by_role: Vec<&&ApprovalRecord> = records
                    .iter()
                    .filter(|r| r.is_verified() && r.roles.contains(role))
                    .collect();
                // A document's records approve no item: their currency is judged where
                // documents render (`documents::approvals`).
                let current = by_role
                    .iter()
                    .any(|r| r.approves_current(&id) != Some(false));
                if current {
                    continue;
                }
                let why = if by_role.is_empty() {
                    "there is none".to_owned()
                } else {
                    format!("the one in commit {} is outdated", by_role[0].short)
                };
                let d = Diagnostic::new(
                    code::APPROVAL_REQUIRED_MISSING,
                    format!(
                        "{id} needs a signed approval (meaning `{}`) by a member of {role}: {why}",
                        req.meaning
                    ),
                )
                .maybe_item(item.map(|i| i.id.as_str()))
                .help(format!(
                    "a member of {role} signs a record: `git commit --allow-empty -S` with trailers `Approved: {id}` and `Approval-Meaning: {}`",
                    req.meaning
                ))
                .related(req.span, "required here".to_owned());
                diags.push(place(linked, d, item, req));
            }
        }
    }
}

fn place(
    _linked: &Linked,
    d: Diagnostic,
    item: Option<&crate::model::Item>,
    req: &Required,
) -> Diagnostic {
    match item {
        Some(i) => d.at(i.span_of("id")),
        None => d.at(req.span),
    }
}
