//! The one rule for reading the project's own files, shared by every reader
//! (`book.toml`, item folders, chapters, `schemas/`, `templates/`, `trace/`).
//!
//! Nothing outside the project folder is read: a path is resolved one component at a
//! time inside the folder, and a symbolic link is followed only while its target stays
//! inside. A link whose target leaves the folder (`..` past the top, even to come back,
//! or an absolute target) is not read and is reported at the link's path (with the
//! reader's code: `link-outside-project`, or `evidence-outside` under `trace/`). Such a
//! link means the same in the work tree, in another clone and in the scratch folder
//! `export` extracts a commit to, so `check`, `build` and `export` read the same files.
//! A link inside the project is read once: a folder reached twice (a loop) is walked
//! once, a file reached twice is listed once, under its own path when it has one.

use std::collections::{HashSet, VecDeque};
use std::ffi::OsString;
use std::fs::FileType;
use std::path::{Component, Path, PathBuf};

use crate::diag::{code, Diagnostic, Diagnostics};
use crate::source::{display_path, SourceMap};

/// How many links one path may pass through (Linux's limit), so a loop of links ends.
const MAX_LINKS: usize = 40;

/// Why a path is not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// It leads out of the project folder: through `link` (its path relative to the
    /// root, and its target as written), or by `..` in the path itself.
    Outside { link: Option<(PathBuf, PathBuf)> },
    /// Nothing is there; `link` is the link whose target is missing, if any.
    Missing { link: Option<(PathBuf, PathBuf)> },
    /// Links that lead to each other without end.
    Loop { link: PathBuf },
    /// The operating system refused to look (permissions, ...).
    Io(String),
}

/// A path (relative to the root) that a reader found but does not read, with the
/// diagnostic that says why (it has no place yet; see [`report`]).
#[derive(Debug)]
pub(crate) struct Unread {
    pub(crate) path: PathBuf,
    pub(crate) diagnostic: Diagnostic,
}

/// What a folder holds for a reader.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Files to read, relative to the root, sorted. A file reached through a link keeps
    /// the link's name; reading that path reads the same file.
    pub(crate) files: Vec<PathBuf>,
    pub(crate) unread: Vec<Unread>,
}

/// Whether a listing goes into sub-folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// The folder's own entries only (`schemas/`, `templates/`).
    Flat,
    /// Every file below the folder (item folders, `trace/`).
    Deep,
}

/// A project folder, canonical, that paths are resolved in.
pub(crate) struct ProjectFiles {
    root: PathBuf,
}

impl ProjectFiles {
    pub(crate) fn new(root: &Path) -> ProjectFiles {
        ProjectFiles {
            root: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()),
        }
    }

    /// Resolves `rel` (relative to the root) to the path without links that it names,
    /// and what is there. Nothing outside the root is looked at.
    pub(crate) fn resolve(&self, rel: &Path) -> Result<(PathBuf, FileType), Refusal> {
        self.resolve_in(PathBuf::new(), rel)
    }

    /// [`resolve`](Self::resolve) of `rest` from `real`, a path without links.
    fn resolve_in(&self, mut real: PathBuf, rest: &Path) -> Result<(PathBuf, FileType), Refusal> {
        // The steps still to take: `None` is `..`. A link's target is spliced in front.
        let mut steps: VecDeque<Option<OsString>> = VecDeque::new();
        if !push_steps(&mut steps, rest) {
            return Err(Refusal::Outside { link: None });
        }
        let mut link: Option<(PathBuf, PathBuf)> = None;
        let mut followed = 0;
        while let Some(step) = steps.pop_front() {
            let Some(name) = step else {
                if !real.pop() {
                    return Err(Refusal::Outside { link });
                }
                continue;
            };
            let next = real.join(&name);
            let meta = match std::fs::symlink_metadata(self.root.join(&next)) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(Refusal::Missing { link })
                }
                Err(e) => return Err(Refusal::Io(e.to_string())),
            };
            if !meta.file_type().is_symlink() {
                real = next;
                continue;
            }
            followed += 1;
            if followed > MAX_LINKS {
                return Err(Refusal::Loop { link: next });
            }
            let target = std::fs::read_link(self.root.join(&next))
                .map_err(|e| Refusal::Io(e.to_string()))?;
            let mut spliced = VecDeque::new();
            let relative = push_steps(&mut spliced, &target);
            link = Some((next, target));
            if !relative {
                return Err(Refusal::Outside { link });
            }
            spliced.append(&mut steps);
            steps = spliced;
        }
        match std::fs::symlink_metadata(self.root.join(&real)) {
            Ok(m) => Ok((real, m.file_type())),
            Err(e) => Err(Refusal::Io(e.to_string())),
        }
    }

    /// The files in `folders` (relative to the root) whose names `wanted` accepts, for
    /// a reader whose diagnostic code for a link out of the project is `outside`. A
    /// missing folder has no files.
    pub(crate) fn list<'a>(
        &self,
        folders: impl IntoIterator<Item = &'a Path>,
        depth: Depth,
        wanted: impl Fn(&str) -> bool,
        outside: &'static str,
    ) -> Listing {
        let mut listing = Listing::default();
        let mut dirs: VecDeque<(PathBuf, PathBuf)> = VecDeque::new();
        for folder in folders {
            match self.resolve(folder) {
                Ok((real, t)) if t.is_dir() => dirs.push_back((folder.to_path_buf(), real)),
                Ok(_) | Err(Refusal::Missing { link: None }) => {}
                Err(why) => listing.unread.push(unread(folder, &why, outside)),
            }
        }
        // The folders' own trees first, then the folders their links lead to, each walked
        // once: a file or folder that has a path of its own keeps it.
        let mut seen_dirs: HashSet<PathBuf> = HashSet::new();
        let mut seen_files: HashSet<PathBuf> = HashSet::new();
        let mut links: VecDeque<(PathBuf, PathBuf)> = VecDeque::new();
        loop {
            while let Some((shown, real)) = dirs.pop_front() {
                if !seen_dirs.insert(real.clone()) {
                    continue;
                }
                let entries = match std::fs::read_dir(self.root.join(&real)) {
                    Ok(e) => e,
                    Err(e) => {
                        listing
                            .unread
                            .push(unread(&shown, &Refusal::Io(e.to_string()), outside));
                        continue;
                    }
                };
                let mut entries: Vec<(OsString, Option<FileType>)> = entries
                    .filter_map(Result::ok)
                    .map(|e| (e.file_name(), e.file_type().ok()))
                    .collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                for (name, file_type) in entries {
                    let Some(t) = file_type else { continue };
                    let (shown, real) = (shown.join(&name), real.join(&name));
                    let deep = depth == Depth::Deep;
                    // A flat listing reads only files of wanted names; a deep one must
                    // look where any link leads (it may be a folder).
                    if t.is_symlink() && (deep || wanted(&name.to_string_lossy())) {
                        links.push_back((shown, real));
                    } else if t.is_dir() && deep {
                        dirs.push_back((shown, real));
                    } else if t.is_file()
                        && wanted(&name.to_string_lossy())
                        && seen_files.insert(real)
                    {
                        listing.files.push(shown);
                    }
                }
            }
            let Some((shown, link)) = links.pop_front() else {
                break;
            };
            let (parent, name) = (
                link.parent().map(Path::to_path_buf).unwrap_or_default(),
                link.file_name().map(PathBuf::from).unwrap_or_default(),
            );
            match self.resolve_in(parent, &name) {
                Ok((real, t)) if t.is_dir() => {
                    if depth == Depth::Deep {
                        dirs.push_back((shown, real));
                    }
                }
                Ok((real, t)) if t.is_file() => {
                    let wanted = shown
                        .file_name()
                        .is_some_and(|n| wanted(&n.to_string_lossy()));
                    if wanted && seen_files.insert(real) {
                        listing.files.push(shown);
                    }
                }
                Ok(_) => {}
                Err(why) => listing.unread.push(unread(&shown, &why, outside)),
            }
        }
        listing.files.sort();
        listing.unread.sort_by(|a, b| a.path.cmp(&b.path));
        listing
    }
}

/// Appends the steps of a relative path (`None` for `..`); false for an absolute one.
fn push_steps(steps: &mut VecDeque<Option<OsString>>, path: &Path) -> bool {
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => steps.push_back(None),
            Component::Normal(name) => steps.push_back(Some(name.to_owned())),
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    true
}

/// The diagnostic for `path`, not read because of `why`; `outside` is the reader's code
/// for a path that leads out of the project. It names the link's target as written,
/// never anything read from there.
pub(crate) fn unread(path: &Path, why: &Refusal, outside: &'static str) -> Unread {
    let shown = display_path(path);
    let through = |link: &Option<(PathBuf, PathBuf)>| match link {
        Some((l, target)) if l == path => format!(" (a symbolic link to `{}`)", target.display()),
        Some((l, target)) => format!(
            " (through the symbolic link `{}` to `{}`)",
            display_path(l),
            target.display()
        ),
        None => String::new(),
    };
    let diagnostic = match why {
        Refusal::Outside { link } => {
            let absolute = link.as_ref().is_some_and(|(_, t)| t.has_root());
            Diagnostic::new(
                outside,
                format!("{shown} leads outside the project folder{}; it is not read", through(link)),
            )
            .help(if absolute {
                "links are followed only by relative targets inside the project folder: an absolute target names another file in another clone or in an export; link relatively, or copy the file into the project"
            } else {
                "only files inside the project folder are read, so that the book and its audit bundle hold what the commit holds; copy the file into the project instead of linking to it"
            })
        }
        Refusal::Missing { link } => Diagnostic::new(
            code::IO_ERROR,
            format!(
                "{shown} leads to nothing{}: the target does not exist",
                through(link)
            ),
        ),
        Refusal::Loop { link } => Diagnostic::new(
            code::IO_ERROR,
            format!(
                "{shown} cannot be read: the symbolic link `{}` is part of a loop of links",
                display_path(link)
            ),
        ),
        Refusal::Io(e) => Diagnostic::new(code::IO_ERROR, format!("cannot read {shown}: {e}")),
    };
    Unread {
        path: path.to_path_buf(),
        diagnostic,
    }
}

/// Adds the unread paths' diagnostics, each at its path (an empty file in `sources`, as
/// nothing of it was read).
pub(crate) fn report(unread: Vec<Unread>, sources: &mut SourceMap, diags: &mut Diagnostics) {
    for u in unread {
        let file = sources.add(u.path, String::new());
        diags.push(u.diagnostic.in_file(file));
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(paths: &[PathBuf]) -> Vec<String> {
        paths.iter().map(|p| display_path(p)).collect()
    }

    #[test]
    fn links_are_followed_inside_the_project_only() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("project");
        let items = root.join("items");
        std::fs::create_dir_all(items.join("sub")).unwrap();
        std::fs::create_dir_all(root.join("shared")).unwrap();
        std::fs::write(outer.path().join("outside.yaml"), "x").unwrap();
        std::fs::write(items.join("a.yaml"), "a").unwrap();
        std::fs::write(items.join("sub/b.yaml"), "b").unwrap();
        std::fs::write(root.join("shared/c.yaml"), "c").unwrap();
        symlink("../../outside.yaml", items.join("out.yaml")).unwrap();
        symlink("../../project/items/a.yaml", items.join("back-in.yaml")).unwrap();
        symlink("/etc/passwd", items.join("passwd.yaml")).unwrap();
        symlink("a.yaml", items.join("0-same.yaml")).unwrap();
        symlink("../shared", items.join("shared")).unwrap();
        symlink("..", items.join("sub/up")).unwrap();
        symlink("loop-b.yaml", items.join("loop-a.yaml")).unwrap();
        symlink("loop-a.yaml", items.join("loop-b.yaml")).unwrap();
        symlink("gone.yaml", items.join("dangling.yaml")).unwrap();

        let files = ProjectFiles::new(&root);
        let listing = files.list(
            [Path::new("items")],
            Depth::Deep,
            |n| n.ends_with(".yaml"),
            code::IO_ERROR,
        );
        assert_eq!(
            names(&listing.files),
            ["items/a.yaml", "items/shared/c.yaml", "items/sub/b.yaml"]
        );
        let unread: Vec<(String, &str)> = listing
            .unread
            .iter()
            .map(|u| (display_path(&u.path), u.diagnostic.message.as_str()))
            .collect();
        assert_eq!(unread.len(), 6, "{unread:#?}");
        assert!(unread[0].0 == "items/back-in.yaml" && unread[0].1.contains("outside"));
        assert!(unread[1].0 == "items/dangling.yaml" && unread[1].1.contains("nothing"));
        assert!(unread[2].1.contains("loop") && unread[3].1.contains("loop"));
        assert!(unread[4].0 == "items/out.yaml" && unread[4].1.contains("outside"));
        assert!(unread[5].0 == "items/passwd.yaml" && unread[5].1.contains("/etc/passwd"));
    }

    #[test]
    fn a_path_is_resolved_without_leaving_the_root() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("p");
        std::fs::create_dir_all(root.join("book")).unwrap();
        std::fs::write(root.join("book/a.md"), "a").unwrap();
        let files = ProjectFiles::new(&root);
        assert_eq!(
            files.resolve(Path::new("book/./a.md")).unwrap().0,
            Path::new("book/a.md")
        );
        assert_eq!(
            files.resolve(Path::new("book/../../p/book/a.md")),
            Err(Refusal::Outside { link: None })
        );
        assert_eq!(
            files.resolve(Path::new("book/b.md")),
            Err(Refusal::Missing { link: None })
        );
    }
}
