//! The one place that talks to git (through `git2`). Everything else in the crate sees
//! commits as [`CommitId`]s, [`CommitMeta`] and file contents, so the backend could be
//! swapped (for `gix`) without touching the history logic.

use std::path::{Component, Path, PathBuf};

use git2::{ErrorCode, ObjectType, Oid, Repository, Sort};

mod loose;
mod object_id;

pub(crate) use loose::DamagedObject;
pub(crate) use object_id::{BlobId, CommitId, ObjectId};

/// What history needs to know about a commit.
#[derive(Debug, Clone)]
pub(crate) struct CommitMeta {
    pub(crate) id: CommitId,
    pub(crate) parents: Vec<CommitId>,
    pub(crate) tree: ObjectId,
    /// Author time, seconds since the epoch, and the author's UTC offset in minutes.
    pub(crate) time: i64,
    pub(crate) offset_minutes: i32,
    pub(crate) author: String,
    pub(crate) email: String,
    pub(crate) message: String,
}

/// A part of the tree that holds item files: a folder (relative to the repository root)
/// and the file extensions that count.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    pub(crate) dir: Vec<String>,
    pub(crate) exts: &'static [&'static str],
}

/// A file of a scope that differs between two trees; `None` is "absent on that side".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileChange {
    pub(crate) path: String,
    pub(crate) old: Option<BlobId>,
    pub(crate) new: Option<BlobId>,
}

pub(crate) struct Repo {
    repo: Repository,
    /// The project folder relative to the repository's work tree.
    prefix: PathBuf,
    /// The commit that stands for HEAD when a project is read at a commit.
    pinned: Option<CommitId>,
    /// Damaged loose objects met so far, shared with the handles of [`Repo::reopen`].
    damage: loose::DamageLog,
}

/// Which state of the repository a project is read at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Revision {
    /// The files on disk, with history from HEAD.
    #[default]
    WorkTree,
    /// A commit's files, extracted to another folder (`export --at`): history is read
    /// from the repository that holds `project_dir`, as if HEAD were `commit`.
    Commit {
        project_dir: PathBuf,
        commit: CommitId,
    },
}

/// Why no repository could be opened.
pub(crate) enum OpenError {
    NotARepository,
    Other(String),
}

impl Repo {
    /// Opens the repository that contains `project_root`.
    pub(crate) fn open(project_root: &Path) -> Result<Repo, OpenError> {
        // Objects come from the user's own repository; re-hashing every object read
        // (libgit2's default) would cost a tenth of a history scan.
        git2::opts::strict_hash_verification(false);
        let repo = match Repository::discover(project_root) {
            Ok(r) => r,
            Err(e) if e.code() == ErrorCode::NotFound => return Err(OpenError::NotARepository),
            Err(e) => return Err(OpenError::Other(e.message().to_owned())),
        };
        let Some(workdir) = repo.workdir() else {
            return Err(OpenError::Other("the repository is bare".into()));
        };
        let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let prefix = abs(project_root)
            .strip_prefix(abs(workdir))
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Repo::guarded(repo, prefix, None, loose::DamageLog::default())
    }

    /// Another handle on the same repository (libgit2 handles are not shared between
    /// threads), reporting damaged objects to the same log.
    pub(crate) fn reopen(&self) -> Result<Repo, OpenError> {
        let repo = Repository::open(self.repo.path())
            .map_err(|e| OpenError::Other(e.message().to_owned()))?;
        Repo::guarded(repo, self.prefix.clone(), self.pinned, self.damage.clone())
    }

    /// Puts our loose-object reader in front of libgit2's (see [`loose`]).
    fn guarded(
        repo: Repository,
        prefix: PathBuf,
        pinned: Option<CommitId>,
        damage: loose::DamageLog,
    ) -> Result<Repo, OpenError> {
        let objects = repo.commondir().join("objects");
        let shown_from = repo.workdir().unwrap_or(repo.commondir()).to_path_buf();
        repo.odb()
            .and_then(|odb| loose::install(&odb, &objects, &shown_from, &damage))
            .map_err(|e| OpenError::Other(e.message().to_owned()))?;
        Ok(Repo {
            repo,
            prefix,
            pinned,
            damage,
        })
    }

    /// The loose objects found damaged by this handle and those of [`Repo::reopen`],
    /// sorted by id.
    pub(crate) fn damaged(&self) -> Vec<DamagedObject> {
        self.damage.objects()
    }

    /// Opens the repository a project at `project_root` is read from: its own, or for
    /// [`Revision::Commit`] the original one with HEAD pinned to the commit.
    pub(crate) fn open_at(project_root: &Path, revision: &Revision) -> Result<Repo, OpenError> {
        match revision {
            Revision::WorkTree => Repo::open(project_root),
            Revision::Commit {
                project_dir,
                commit,
            } => Ok(Repo {
                pinned: Some(*commit),
                ..Repo::open(project_dir)?
            }),
        }
    }

    /// The project folder relative to the repository root, with `/` separators (empty
    /// at the root).
    pub(crate) fn project_dir(&self) -> String {
        self.repo_dir(Path::new("")).join("/")
    }

    /// The git directory (`.git`), where the history cache lives.
    pub(crate) fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// Every folder git keeps its data in: the work tree's `.git` (a file in a linked
    /// work tree), the repository's own folder and the one it shares with other work
    /// trees. No command writes there.
    pub(crate) fn git_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self
            .repo
            .workdir()
            .map(|w| w.join(".git"))
            .into_iter()
            .collect();
        dirs.push(self.repo.path().to_path_buf());
        dirs.push(self.repo.commondir().to_path_buf());
        dirs
    }

    /// The path components of a project-relative folder, relative to the repository.
    pub(crate) fn repo_dir(&self, project_rel: &Path) -> Vec<String> {
        self.prefix
            .join(project_rel)
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect()
    }

    /// A repository path (`a/b/c.yaml`) as a path relative to the project folder.
    pub(crate) fn project_path(&self, repo_path: &str) -> PathBuf {
        let p = Path::new(repo_path);
        p.strip_prefix(&self.prefix).unwrap_or(p).to_path_buf()
    }

    /// The commit HEAD points at; `None` in a repository with no commit yet.
    pub(crate) fn head(&self) -> Result<Option<CommitId>, String> {
        if let Some(pinned) = self.pinned {
            return Ok(Some(pinned));
        }
        match self.repo.head() {
            Ok(r) => r
                .peel_to_commit()
                .map(|c| Some(ObjectId::from_oid(c.id())))
                .map_err(|e| e.message().to_owned()),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
            Err(e) => Err(e.message().to_owned()),
        }
    }

    /// The commits whose parents a shallow clone cut off (`.git/shallow`).
    pub(crate) fn shallow_boundary(&self) -> Vec<CommitId> {
        if !self.repo.is_shallow() {
            return Vec::new();
        }
        let text = std::fs::read_to_string(self.repo.path().join("shallow")).unwrap_or_default();
        let mut ids: Vec<CommitId> = text
            .lines()
            .filter_map(|l| ObjectId::from_hex(l.trim()))
            .collect();
        ids.sort();
        ids
    }

    /// Every commit reachable from `from` (all parents of merges), newest first in
    /// topological order, leaving out those reachable from `hide`.
    pub(crate) fn walk(
        &self,
        from: CommitId,
        hide: Option<CommitId>,
    ) -> Result<Vec<CommitId>, String> {
        let err = |e: git2::Error| e.message().to_owned();
        let mut walk = self.repo.revwalk().map_err(err)?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .map_err(err)?;
        walk.push(from.oid()).map_err(err)?;
        if let Some(h) = hide {
            walk.hide(h.oid()).map_err(err)?;
        }
        walk.map(|r| r.map(ObjectId::from_oid).map_err(err))
            .collect()
    }

    pub(crate) fn commit(&self, id: CommitId) -> Result<CommitMeta, String> {
        let c = self
            .repo
            .find_commit(id.oid())
            .map_err(|e| e.message().to_owned())?;
        let author = c.author();
        let when = author.when();
        Ok(CommitMeta {
            id,
            parents: c.parent_ids().map(ObjectId::from_oid).collect(),
            tree: ObjectId::from_oid(c.tree_id()),
            time: when.seconds(),
            offset_minutes: when.offset_minutes(),
            author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            message: String::from_utf8_lossy(c.message_bytes()).into_owned(),
        })
    }

    /// Whether `ancestor` is `commit` or one of its ancestors.
    pub(crate) fn is_ancestor(&self, ancestor: CommitId, commit: CommitId) -> bool {
        ancestor == commit
            || self
                .repo
                .graph_descendant_of(commit.oid(), ancestor.oid())
                .unwrap_or(false)
    }

    /// The commit a revision names (`v1.0`, a commit id, `HEAD~2`, ...). With HEAD
    /// pinned to a commit, `HEAD` (or `@`) in `rev` means that commit.
    pub(crate) fn resolve(&self, rev: &str) -> Result<CommitId, String> {
        let pinned_rev;
        let rev = match self.pinned {
            Some(pinned) => {
                let rest = rev
                    .strip_prefix("HEAD")
                    .or_else(|| rev.strip_prefix('@').filter(|r| !r.starts_with('{')));
                match rest {
                    Some(rest) if rest.is_empty() || rest.starts_with(['~', '^']) => {
                        pinned_rev = format!("{}{rest}", pinned.hex());
                        pinned_rev.as_str()
                    }
                    _ => rev,
                }
            }
            None => rev,
        };
        let obj = self
            .repo
            .revparse_single(rev)
            .map_err(|e| e.message().to_owned())?;
        let c = obj.peel_to_commit().map_err(|e| e.message().to_owned())?;
        Ok(ObjectId::from_oid(c.id()))
    }

    /// Tags matching a glob, with the commits they name, sorted by name.
    pub(crate) fn tags(&self, pattern: &str) -> Vec<(String, CommitId)> {
        let Ok(names) = self.repo.tag_names(Some(pattern)) else {
            return Vec::new();
        };
        let mut out: Vec<(String, CommitId)> = names
            .iter()
            .flatten()
            .flatten()
            .filter_map(|name| {
                let obj = self
                    .repo
                    .revparse_single(&format!("refs/tags/{name}"))
                    .ok()?;
                let c = obj.peel_to_commit().ok()?;
                Some((name.to_owned(), ObjectId::from_oid(c.id())))
            })
            .collect();
        out.sort();
        out
    }

    /// A commit as its signature covers it: the armored signature (from the `gpgsig`
    /// header), the signed bytes (the commit object without that header), and the
    /// committer time, which is what git checks a key's validity against.
    pub(crate) fn signed_commit(&self, id: CommitId) -> Result<Signed, String> {
        let err = |e: git2::Error| e.message().to_owned();
        let c = self.repo.find_commit(id.oid()).map_err(err)?;
        let when = c.committer().when();
        let (signature, payload) = match self.repo.extract_signature(&id.oid(), None) {
            Ok((sig, data)) => (
                Some(String::from_utf8_lossy(&sig).into_owned()),
                data.to_vec(),
            ),
            Err(e) if e.code() == ErrorCode::NotFound => {
                let odb = self.repo.odb().map_err(err)?;
                let raw = odb.read(id.oid()).map_err(err)?.data().to_vec();
                (None, raw)
            }
            Err(e) => return Err(err(e)),
        };
        Ok(Signed {
            object: id,
            commit: id,
            tag: None,
            signature,
            payload,
            time: when.seconds(),
            offset_minutes: when.offset_minutes(),
            message: String::from_utf8_lossy(c.message_bytes()).into_owned(),
        })
    }

    /// The annotated tags that point (through other tags) at a commit, as their
    /// signatures cover them, sorted by name. git appends a tag's signature to its
    /// message; the signed bytes are the tag object before the signature.
    pub(crate) fn signed_tags(&self) -> Vec<Signed> {
        let Ok(names) = self.repo.tag_names(None) else {
            return Vec::new();
        };
        let Ok(odb) = self.repo.odb() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for name in names.iter().flatten().flatten() {
            let Ok(reference) = self.repo.find_reference(&format!("refs/tags/{name}")) else {
                continue;
            };
            let Some(tag) = reference.target().and_then(|t| self.repo.find_tag(t).ok()) else {
                continue;
            };
            let Ok(commit) = tag.as_object().peel_to_commit() else {
                continue;
            };
            let Ok(raw) = odb.read(tag.id()) else {
                continue;
            };
            let raw = raw.data();
            let start = SIGNATURE_STARTS
                .iter()
                .filter_map(|m| find(raw, m.as_bytes()))
                .min();
            let (payload, signature) = match start {
                Some(at) => (&raw[..at], Some(&raw[at..])),
                None => (raw, None),
            };
            let message = tag.message_bytes().unwrap_or_default();
            let message = match SIGNATURE_STARTS
                .iter()
                .filter_map(|m| find(message, m.as_bytes()))
                .min()
            {
                Some(at) => &message[..at],
                None => message,
            };
            let (time, offset_minutes) = tag
                .tagger()
                .map(|t| (t.when().seconds(), t.when().offset_minutes()))
                .unwrap_or_default();
            out.push(Signed {
                object: ObjectId::from_oid(tag.id()),
                commit: ObjectId::from_oid(commit.id()),
                tag: Some(name.to_owned()),
                signature: signature.map(|s| String::from_utf8_lossy(s).into_owned()),
                payload: payload.to_vec(),
                time,
                offset_minutes,
                message: String::from_utf8_lossy(message).into_owned(),
            });
        }
        out.sort_by(|a, b| a.tag.cmp(&b.tag));
        out
    }

    /// The files of the scopes that differ between two trees (`old` absent: all files of
    /// `new`). Subtrees with equal ids are skipped without being read, which is what
    /// makes a history scan cheap: most commits touch no item folder at all.
    pub(crate) fn changed_files(
        &self,
        old: Option<ObjectId>,
        new: ObjectId,
        scopes: &[Scope],
    ) -> Result<Vec<FileChange>, String> {
        let mut out = Vec::new();
        for scope in scopes {
            let a = match old {
                Some(t) => self.subtree(t, &scope.dir)?,
                None => None,
            };
            let b = self.subtree(new, &scope.dir)?;
            if a == b {
                continue;
            }
            let mut prefix = scope.dir.join("/");
            if !prefix.is_empty() {
                prefix.push('/');
            }
            self.diff_trees(a, b, &prefix, scope.exts, &mut out)?;
        }
        out.sort_by(|x, y| x.path.cmp(&y.path));
        out.dedup_by(|x, y| x.path == y.path);
        Ok(out)
    }

    /// Every file of the scopes in a commit's tree.
    pub(crate) fn files(
        &self,
        commit: CommitId,
        scopes: &[Scope],
    ) -> Result<Vec<(String, BlobId)>, String> {
        let meta = self.commit(commit)?;
        Ok(self
            .changed_files(None, meta.tree, scopes)?
            .into_iter()
            .filter_map(|c| Some((c.path, c.new?)))
            .collect())
    }

    /// The id git would give a file with this content, to compare a work-tree file
    /// with a committed one without reading the blob.
    pub(crate) fn hash_blob(content: &[u8]) -> BlobId {
        Oid::hash_object(ObjectType::Blob, content)
            .map(ObjectId::from_oid)
            .unwrap_or(ObjectId([0; 20]))
    }

    pub(crate) fn blob(&self, id: BlobId) -> Result<Vec<u8>, String> {
        self.repo
            .find_blob(id.oid())
            .map(|b| b.content().to_vec())
            .map_err(|e| e.message().to_owned())
    }

    /// Calls `f` with a blob's content without copying it.
    pub(crate) fn with_blob<T>(&self, id: BlobId, f: impl FnOnce(&[u8]) -> T) -> Result<T, String> {
        let b = self
            .repo
            .find_blob(id.oid())
            .map_err(|e| e.message().to_owned())?;
        Ok(f(b.content()))
    }

    /// When the last commit that changed `rel` (relative to the project root) was made.
    /// Walks first parents from HEAD, newest first, up to a bound; `None` when the file
    /// was never committed.
    pub(crate) fn last_commit_time(&self, rel: &Path) -> Option<i64> {
        let path = self.prefix.join(rel);
        let head = self.head().ok()??;
        let mut commit = self.repo.find_commit(head.oid()).ok()?;
        let entry_id = |c: &git2::Commit| {
            c.tree()
                .ok()
                .and_then(|t| t.get_path(&path).ok())
                .map(|e| e.id())
        };
        let mut current = entry_id(&commit)?;
        for _ in 0..100_000 {
            let Ok(parent) = commit.parent(0) else {
                return Some(commit.time().seconds());
            };
            match entry_id(&parent) {
                Some(id) if id == current => commit = parent,
                _ => return Some(commit.time().seconds()),
            }
            current = entry_id(&commit)?;
        }
        None
    }

    /// Writes the project folder as it is in `commit` into `dest` (an existing folder),
    /// from git objects alone: the work tree and the index are not touched. Regular and
    /// executable files are written, and symbolic links are made as they are committed
    /// (their targets as written), so a link leads out of `dest` exactly when it leads
    /// out of the project folder and readers treat both alike; submodules are skipped.
    /// Returns the number of files and links written.
    pub(crate) fn extract(&self, commit: CommitId, dest: &Path) -> Result<usize, String> {
        let err = |e: git2::Error| e.message().to_owned();
        let meta = self.commit(commit)?;
        let dir = self.repo_dir(Path::new(""));
        let Some(tree) = self.subtree(meta.tree, &dir)? else {
            return Err(format!(
                "commit {} has no folder `{}`",
                &commit.hex()[..7],
                dir.join("/")
            ));
        };
        let tree = self.repo.find_tree(tree.oid()).map_err(err)?;
        let mut written = 0;
        let mut failure = None;
        // Links are made after every file and folder, so nothing is written through one.
        let mut links: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
            // Only a name that is one plain path component is written: nothing a tree
            // object holds can reach outside `dest`.
            let name = entry.name().unwrap_or("");
            let mut parts = Path::new(name).components();
            let plain =
                matches!(parts.next(), Some(Component::Normal(_))) && parts.next().is_none();
            if !plain || name.contains(['/', '\\', ':']) {
                return git2::TreeWalkResult::Skip;
            }
            let target = dest.join(parent).join(name);
            let result = match entry.kind() {
                Some(ObjectType::Tree) => {
                    std::fs::create_dir_all(&target).map_err(|e| e.to_string())
                }
                // 0o120000 is a symbolic link: its blob is the target.
                Some(ObjectType::Blob) if entry.filemode() == 0o120000 => self
                    .repo
                    .find_blob(entry.id())
                    .map_err(err)
                    .map(|b| links.push((target.clone(), b.content().to_vec()))),
                Some(ObjectType::Blob) => self
                    .repo
                    .find_blob(entry.id())
                    .map_err(err)
                    .and_then(|b| std::fs::write(&target, b.content()).map_err(|e| e.to_string()))
                    .map(|()| written += 1),
                _ => return git2::TreeWalkResult::Skip,
            };
            match result {
                Ok(()) => git2::TreeWalkResult::Ok,
                Err(e) => {
                    failure = Some(format!("{}: {e}", target.display()));
                    git2::TreeWalkResult::Abort
                }
            }
        })
        .or_else(|e| {
            if failure.is_some() {
                Ok(())
            } else {
                Err(err(e))
            }
        })?;
        if let Some(f) = failure {
            return Err(f);
        }
        for (path, target) in links {
            make_link(&target, &path).map_err(|e| format!("{}: {e}", path.display()))?;
            written += 1;
        }
        Ok(written)
    }

    /// Project-relative paths in the work tree that differ from HEAD: modified, staged,
    /// deleted or new (ignored files do not count), leaving out those `skip` accepts.
    pub(crate) fn dirty_paths(&self, skip: impl Fn(&Path) -> bool) -> Result<Vec<String>, String> {
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        let dir = self.project_dir();
        if !dir.is_empty() {
            opts.pathspec(format!("{dir}/"));
        }
        let statuses = self
            .repo
            .statuses(Some(&mut opts))
            .map_err(|e| e.message().to_owned())?;
        let mut out: Vec<String> = statuses
            .iter()
            .filter(|s| !s.status().is_empty() && !s.status().contains(git2::Status::IGNORED))
            .filter_map(|s| {
                let rel = self.project_path(&String::from_utf8_lossy(s.path_bytes()));
                if skip(&rel) {
                    return None;
                }
                Some(rel.to_string_lossy().replace('\\', "/"))
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Whether the index differs from HEAD (something is staged); a repository with no commit yet has nothing to compare with and counts
    /// as staged when its index holds anything.
    pub(crate) fn has_staged_changes(&self) -> Result<bool, String> {
        let message = |e: git2::Error| e.message().to_owned();
        let index = self.repo.index().map_err(message)?;
        let head = match self.repo.head() {
            Ok(r) => Some(r.peel_to_tree().map_err(message)?),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => None,
            Err(e) => return Err(message(e)),
        };
        let diff = self
            .repo
            .diff_tree_to_index(head.as_ref(), Some(&index), None)
            .map_err(message)?;
        Ok(diff.deltas().len() > 0)
    }

    /// A value of the user's git configuration as `git` itself reads it (repository,
    /// global, system, `GIT_CONFIG_*`), for the settings `git commit -S` will use.
    pub(crate) fn config_value(&self, key: &str) -> Option<String> {
        let out = std::process::Command::new("git")
            .args(["config", "--get", key])
            .current_dir(self.git_workdir())
            .output()
            .ok()?;
        let value = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        (out.status.success() && !value.is_empty()).then_some(value)
    }

    /// Creates a signed commit of HEAD's tree with `message` (`git commit --allow-empty
    /// -S`), so the user's own signing setup (`gpg.format`, `user.signingkey`, an agent)
    /// makes the signature; returns the new commit. The caller makes sure nothing is
    /// staged, so the commit records nothing but the message.
    pub(crate) fn commit_signed_empty(&self, message: &str) -> Result<CommitId, String> {
        use std::io::Write as _;
        let mut child = std::process::Command::new("git")
            .args([
                "commit",
                "--quiet",
                "--allow-empty",
                "--gpg-sign",
                "--cleanup=verbatim",
                "--file=-",
            ])
            .current_dir(self.git_workdir())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(message.as_bytes())
                .map_err(|e| format!("cannot pass the message to git: {e}"))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("git did not finish: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        self.head()?
            .ok_or_else(|| "git committed, but HEAD names no commit".to_owned())
    }

    /// The repository's work tree (`open` refuses a bare repository).
    fn git_workdir(&self) -> &Path {
        self.repo.workdir().unwrap_or(self.repo.path())
    }

    fn subtree(&self, tree: ObjectId, dir: &[String]) -> Result<Option<ObjectId>, String> {
        let mut id = tree.oid();
        for part in dir {
            let t = self
                .repo
                .find_tree(id)
                .map_err(|e| e.message().to_owned())?;
            let next = match t.get_name(part) {
                Some(e) if e.kind() == Some(ObjectType::Tree) => e.id(),
                _ => return Ok(None),
            };
            id = next;
        }
        Ok(Some(ObjectId::from_oid(id)))
    }

    fn diff_trees(
        &self,
        a: Option<ObjectId>,
        b: Option<ObjectId>,
        prefix: &str,
        exts: &[&str],
        out: &mut Vec<FileChange>,
    ) -> Result<(), String> {
        let load = |t: Option<ObjectId>| -> Result<Option<git2::Tree<'_>>, String> {
            t.map(|t| {
                self.repo
                    .find_tree(t.oid())
                    .map_err(|e| e.message().to_owned())
            })
            .transpose()
        };
        let (ta, tb) = (load(a)?, load(b)?);
        // (name, id, is a tree), sorted by name; submodules are skipped.
        let entries = |t: &Option<git2::Tree<'_>>| -> Vec<(Vec<u8>, Oid, bool)> {
            let mut v: Vec<(Vec<u8>, Oid, bool)> = t
                .iter()
                .flat_map(|t| t.iter())
                .filter_map(|e| {
                    let is_tree = match e.kind() {
                        Some(ObjectType::Tree) => true,
                        Some(ObjectType::Blob) => false,
                        _ => return None,
                    };
                    Some((e.name_bytes().to_vec(), e.id(), is_tree))
                })
                .collect();
            v.sort_by(|x, y| x.0.cmp(&y.0));
            v
        };
        let (ea, eb) = (entries(&ta), entries(&tb));
        let wanted = |name: &[u8]| exts.iter().any(|x| name.ends_with(x.as_bytes()));
        let (mut i, mut j) = (0, 0);
        while i < ea.len() || j < eb.len() {
            let (x, y) = match (ea.get(i), eb.get(j)) {
                (Some(x), Some(y)) if x.0 == y.0 => {
                    i += 1;
                    j += 1;
                    (Some(x), Some(y))
                }
                (Some(x), Some(y)) if x.0 < y.0 => {
                    i += 1;
                    (Some(x), None)
                }
                (Some(x), None) => {
                    i += 1;
                    (Some(x), None)
                }
                (_, y) => {
                    j += 1;
                    (None, y)
                }
            };
            if let (Some(x), Some(y)) = (x, y) {
                if x.1 == y.1 && x.2 == y.2 {
                    continue;
                }
            }
            let name = &x.or(y).map(|e| e.0.as_slice()).unwrap_or_default();
            let tree_of = |e: Option<&(Vec<u8>, Oid, bool)>| {
                e.filter(|e| e.2).map(|e| ObjectId::from_oid(e.1))
            };
            let blob_of = |e: Option<&(Vec<u8>, Oid, bool)>| {
                e.filter(|e| !e.2).map(|e| ObjectId::from_oid(e.1))
            };
            let (sa, sb) = (tree_of(x), tree_of(y));
            if (sa.is_some() || sb.is_some()) && sa != sb {
                let sub = format!("{prefix}{}/", String::from_utf8_lossy(name));
                self.diff_trees(sa, sb, &sub, exts, out)?;
            }
            if wanted(name) {
                let (ba, bb) = (blob_of(x), blob_of(y));
                if ba != bb {
                    let path = format!("{prefix}{}", String::from_utf8_lossy(name));
                    out.push(FileChange {
                        path,
                        old: ba,
                        new: bb,
                    });
                }
            }
        }
        Ok(())
    }
}

/// How a signature block starts in a tag object (SSH, OpenPGP, X.509).
const SIGNATURE_STARTS: &[&str] = &[
    "-----BEGIN SSH SIGNATURE-----",
    "-----BEGIN PGP SIGNATURE-----",
    "-----BEGIN SIGNED MESSAGE-----",
];

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A commit or annotated tag as its signature covers it.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    /// The commit's or the tag's own id.
    pub(crate) object: ObjectId,
    /// The commit (for a tag: the commit it points at).
    pub(crate) commit: CommitId,
    /// The tag's name, for a tag.
    pub(crate) tag: Option<String>,
    /// The armored signature, if the object is signed.
    pub(crate) signature: Option<String>,
    /// The bytes the signature covers (the whole object when unsigned).
    pub(crate) payload: Vec<u8>,
    /// Committer (tagger) time, seconds since the epoch, and its UTC offset in minutes.
    pub(crate) time: i64,
    pub(crate) offset_minutes: i32,
    /// The message, without a tag's signature.
    pub(crate) message: String,
}

/// The trailers of a commit message as (key, value), as `git interpret-trailers` reads them.
pub(crate) fn trailers(message: &str) -> Vec<(String, String)> {
    match git2::message_trailers_strs(message) {
        Ok(t) => t
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Makes a symbolic link at `path` to `target` (a committed link's bytes).
#[cfg(unix)]
fn make_link(target: &[u8], path: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt as _;
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), path)
}

/// Without Unix symbolic links, a committed link is left out.
#[cfg(not(unix))]
fn make_link(_: &[u8], _: &Path) -> std::io::Result<()> {
    Ok(())
}
