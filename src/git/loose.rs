//! Loose objects read by us instead of by libgit2.
//!
//! libgit2 1.9 inflates a loose object in a loop that never ends when the file is
//! truncated (`git_zstream_get_output` treats zlib's `Z_BUF_ERROR`, "no progress
//! possible", as retryable and retries with no more input; fixed upstream by libgit2
//! pull request 7346, in no release yet).
//! So every repository handle gets this object database backend in front of libgit2's
//! own: it reads a loose object file, inflates it with `flate2` in a loop that stops as
//! soon as a call makes no progress, and checks the header and the length. A damaged
//! file becomes an error naming the object (and is recorded in a [`DamageLog`]), for
//! every read, including the ones libgit2 makes by itself (revision walks, status,
//! revision parsing, merge bases). Packed objects are left to libgit2.

use std::ffi::{c_int, c_void, CString};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use flate2::{Decompress, FlushDecompress, Status};
use git2::{Binding, Oid};
use libgit2_sys as raw;

use super::object_id::ObjectId;

/// A loose object file that cannot be read: empty, truncated, not zlib data, or not
/// what its header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DamagedObject {
    pub(crate) id: ObjectId,
    /// The object's file: relative to the work tree (`.git/objects/ab/cdef...`) when it
    /// is inside it.
    pub(crate) path: String,
    /// What is wrong with it.
    pub(crate) reason: String,
}

impl std::fmt::Display for DamagedObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "object {} ({}) {}",
            self.id.hex(),
            self.path,
            self.reason
        )
    }
}

/// The damaged objects the handles of one repository met, each once.
#[derive(Debug, Clone, Default)]
pub(super) struct DamageLog(Arc<Mutex<Vec<DamagedObject>>>);

impl DamageLog {
    fn record(&self, damage: DamagedObject) {
        let mut log = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !log.iter().any(|d| d.id == damage.id) {
            log.push(damage);
        }
    }

    /// Sorted by object id.
    pub(super) fn objects(&self) -> Vec<DamagedObject> {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        v.sort_by_key(|d| d.id);
        v
    }
}

/// The priority of libgit2's pack backend; its loose one has 1. libgit2 keeps backends
/// of equal priority in the order they were added (a stable sort), so this one comes
/// after the packs, which costs packed objects nothing (at 3, each packed read cost a
/// failed `open` here: 120,000 on a 20,000-commit history), and before libgit2's loose
/// backend, which never inflates a loose object.
const PRIORITY: c_int = 2;

/// libgit2 follows `objects/info/alternates` this deep.
const ALTERNATES_DEPTH: usize = 5;

/// Puts a backend for `objects` (and for each of its alternates) in front of `odb`.
/// Paths in messages are shown relative to `shown_from`.
pub(super) fn install(
    odb: &git2::Odb<'_>,
    objects: &Path,
    shown_from: &Path,
    log: &DamageLog,
) -> Result<(), git2::Error> {
    let mut dirs = vec![objects.to_path_buf()];
    let mut i = 0;
    while i < dirs.len() && dirs.len() <= ALTERNATES_DEPTH + 1 {
        dirs.extend(alternates(&dirs[i]));
        i += 1;
    }
    for dir in dirs {
        let backend = Box::new(LooseBackend {
            parent: unsafe { std::mem::zeroed() },
            objects: dir,
            shown_from: shown_from.to_path_buf(),
            log: log.clone(),
        });
        let backend = Box::into_raw(backend);
        // SAFETY: `backend` is a valid, exclusively owned allocation whose first field
        // is the `git_odb_backend` libgit2 sees; once added, the odb owns it and frees
        // it through `free`.
        unsafe {
            let parent = &mut (*backend).parent;
            raw::git_odb_init_backend(parent, raw::GIT_ODB_BACKEND_VERSION);
            parent.read = Some(read);
            parent.read_prefix = Some(read_prefix);
            parent.free = Some(free);
            let code = raw::git_odb_add_backend(odb.raw(), parent, PRIORITY);
            if code < 0 {
                drop(Box::from_raw(backend));
                return Err(git2::Error::last_error(code));
            }
        }
    }
    Ok(())
}

/// The object folders named in `objects/info/alternates`.
fn alternates(objects: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(objects.join("info/alternates")) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| objects.join(l))
        .collect()
}

/// `parent` first: libgit2 casts between the two.
#[repr(C)]
struct LooseBackend {
    parent: raw::git_odb_backend,
    objects: PathBuf,
    shown_from: PathBuf,
    log: DamageLog,
}

enum Read {
    Found(raw::git_object_t, Vec<u8>),
    Missing,
    Failed(String),
}

impl LooseBackend {
    fn file(&self, hex: &str) -> PathBuf {
        self.objects.join(&hex[..2]).join(&hex[2..])
    }

    fn read(&self, id: Oid) -> Read {
        let hex = id.to_string();
        let file = self.file(&hex);
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read::Missing,
            Err(e) => return Read::Failed(format!("cannot read {}: {e}", file.display())),
        };
        match inflate(&bytes) {
            Ok((kind, body)) => Read::Found(kind, body),
            Err(reason) => {
                let damage = DamagedObject {
                    id: ObjectId::from_oid(id),
                    path: file
                        .strip_prefix(&self.shown_from)
                        .unwrap_or(&file)
                        .to_string_lossy()
                        .replace('\\', "/"),
                    reason,
                };
                let message = format!("the git repository is damaged: {damage}");
                self.log.record(damage);
                Read::Failed(message)
            }
        }
    }

    /// The loose objects whose hex id starts with `prefix` (at least two digits).
    fn matching(&self, prefix: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.objects.join(&prefix[..2])) else {
            return Vec::new();
        };
        let mut out: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| {
                n.len() == 38
                    && n.starts_with(&prefix[2..])
                    && n.bytes().all(|b| b.is_ascii_hexdigit())
            })
            .map(|n| format!("{}{n}", &prefix[..2]))
            .collect();
        out.sort();
        out
    }
}

/// Inflates a loose object file: `TYPE SIZE\0` and the content. Every call into zlib
/// either consumes input or produces output, or the stream is declared cut short, so
/// this ends on any input.
fn inflate(file: &[u8]) -> Result<(raw::git_object_t, Vec<u8>), String> {
    const CUT_SHORT: &str = "is truncated: its compressed data ends early";
    const BAD_HEADER: &str = "has no valid `TYPE SIZE` header";
    if file.is_empty() {
        return Err("is empty".into());
    }
    let corrupt = |e: flate2::DecompressError| format!("is not valid zlib data ({e})");
    let mut z = Decompress::new(true);
    // git's longest header, `commit 18446744073709551615\0`, fits in 64 bytes.
    let mut head = [0u8; 64];
    let mut status = z
        .decompress(file, &mut head, FlushDecompress::None)
        .map_err(corrupt)?;
    let got = z.total_out() as usize;
    let Some(nul) = head[..got].iter().position(|&b| b == 0) else {
        let cut = got < head.len() && status != Status::StreamEnd;
        return Err((if cut { CUT_SHORT } else { BAD_HEADER }).into());
    };
    let (kind, size) = header(&head[..nul]).ok_or(BAD_HEADER)?;
    // Deflate expands at most about 1032 times: a larger size is a damaged header, and
    // must not become a huge allocation.
    if size > file.len().saturating_mul(1032) + head.len() {
        return Err(format!("has a header that claims {size} bytes"));
    }
    let mut body = vec![0u8; size];
    let early = &head[nul + 1..got];
    if early.len() > size {
        return Err(format!("holds more than the {size} bytes its header says"));
    }
    body[..early.len()].copy_from_slice(early);
    let mut filled = early.len();
    while status != Status::StreamEnd {
        let (used, made) = (z.total_in(), z.total_out());
        let input = &file[used as usize..];
        status = if filled < size {
            z.decompress(input, &mut body[filled..], FlushDecompress::Finish)
        } else {
            // All the content is there; only the end of the stream may follow.
            let mut extra = [0u8; 1];
            z.decompress(input, &mut extra, FlushDecompress::Finish)
        }
        .map_err(corrupt)?;
        let new = (z.total_out() - made) as usize;
        if filled + new > size {
            return Err(format!("holds more than the {size} bytes its header says"));
        }
        filled += new;
        if status != Status::StreamEnd && new == 0 && z.total_in() == used {
            return Err(CUT_SHORT.into());
        }
    }
    if filled < size {
        return Err(format!("holds {filled} bytes, but its header says {size}"));
    }
    if (z.total_in() as usize) < file.len() {
        return Err("has bytes after the end of its compressed data".into());
    }
    Ok((kind, body))
}

/// `blob 1234` -> (type, size).
fn header(h: &[u8]) -> Option<(raw::git_object_t, usize)> {
    let h = std::str::from_utf8(h).ok()?;
    let (kind, size) = h.split_once(' ')?;
    let kind = match kind {
        "commit" => raw::GIT_OBJECT_COMMIT,
        "tree" => raw::GIT_OBJECT_TREE,
        "blob" => raw::GIT_OBJECT_BLOB,
        "tag" => raw::GIT_OBJECT_TAG,
        _ => return None,
    };
    if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((kind, size.parse().ok()?))
}

/// Hands an object to libgit2 in memory it can free: `len` bytes and a NUL, as its own
/// backends do.
///
/// # Safety
/// The pointers are libgit2's output arguments of a backend `read`.
unsafe fn hand_over(
    backend: *mut raw::git_odb_backend,
    kind: raw::git_object_t,
    body: &[u8],
    data_p: *mut *mut c_void,
    len_p: *mut usize,
    type_p: *mut raw::git_object_t,
) -> c_int {
    let buf = raw::git_odb_backend_data_alloc(backend, body.len() + 1) as *mut u8;
    if buf.is_null() {
        return fail("out of memory");
    }
    std::ptr::copy_nonoverlapping(body.as_ptr(), buf, body.len());
    *buf.add(body.len()) = 0;
    *data_p = buf as *mut c_void;
    *len_p = body.len();
    *type_p = kind;
    0
}

fn fail(message: &str) -> c_int {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: a valid C string, copied by libgit2.
    unsafe { raw::git_error_set_str(raw::GIT_ERROR_ODB as c_int, text.as_ptr()) };
    raw::GIT_ERROR
}

extern "C" fn read(
    data_p: *mut *mut c_void,
    len_p: *mut usize,
    type_p: *mut raw::git_object_t,
    backend: *mut raw::git_odb_backend,
    oid: *const raw::git_oid,
) -> c_int {
    // SAFETY: libgit2 passes the backend `install` created and a valid object id.
    let (this, id) = unsafe { (&*(backend as *const LooseBackend), Oid::from_raw(oid)) };
    match this.read(id) {
        // SAFETY: libgit2's output arguments.
        Read::Found(kind, body) => unsafe {
            hand_over(backend, kind, &body, data_p, len_p, type_p)
        },
        Read::Missing => raw::GIT_ENOTFOUND,
        Read::Failed(message) => fail(&message),
    }
}

/// libgit2 asks every backend (to find ambiguous prefixes), its own loose one last: the
/// object is read, and a damaged one reported, here first.
extern "C" fn read_prefix(
    out_oid: *mut raw::git_oid,
    data_p: *mut *mut c_void,
    len_p: *mut usize,
    type_p: *mut raw::git_object_t,
    backend: *mut raw::git_odb_backend,
    short_oid: *const raw::git_oid,
    len: usize,
) -> c_int {
    // SAFETY: as in `read`.
    let (this, short) = unsafe { (&*(backend as *const LooseBackend), Oid::from_raw(short_oid)) };
    let hex = short.to_string();
    let prefix = &hex[..len.clamp(2, hex.len())];
    let found = this.matching(prefix);
    let full = match found.as_slice() {
        [] => return raw::GIT_ENOTFOUND,
        [one] => match Oid::from_str(one) {
            Ok(id) => id,
            Err(_) => return raw::GIT_ENOTFOUND,
        },
        _ => {
            fail(&format!("ambiguous object id prefix {prefix}"));
            return raw::GIT_EAMBIGUOUS;
        }
    };
    match this.read(full) {
        // SAFETY: libgit2's output arguments; `out_oid` takes a copy of the id.
        Read::Found(kind, body) => unsafe {
            *out_oid = *full.raw();
            hand_over(backend, kind, &body, data_p, len_p, type_p)
        },
        Read::Missing => raw::GIT_ENOTFOUND,
        Read::Failed(message) => fail(&message),
    }
}

extern "C" fn free(backend: *mut raw::git_odb_backend) {
    // SAFETY: the odb frees each backend once; it was made by `Box::into_raw`.
    unsafe { drop(Box::from_raw(backend as *mut LooseBackend)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflates_a_loose_object_and_names_every_kind_of_damage() {
        let text: Vec<u8> = (0..2000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut object = format!("blob {}\0", text.len()).into_bytes();
        object.extend_from_slice(&text);
        let file = deflate(&object);
        assert_eq!(inflate(&file), Ok((raw::GIT_OBJECT_BLOB, text.clone())));
        for cut in [1, 2, 10, file.len() / 2, file.len() - 1] {
            assert!(
                inflate(&file[..cut]).unwrap_err().contains("truncated"),
                "cut at {cut}"
            );
        }
        assert_eq!(inflate(b""), Err("is empty".into()));
        assert!(inflate(b"not zlib").unwrap_err().contains("not valid zlib"));
        let mut longer = file.clone();
        longer.push(0);
        assert!(inflate(&longer).unwrap_err().contains("after the end"));
        let lying = deflate(b"blob 3\0four");
        assert!(inflate(&lying)
            .unwrap_err()
            .contains("more than the 3 bytes"));
        let short = deflate(b"blob 5\0four");
        assert!(inflate(&short).unwrap_err().contains("holds 4 bytes"));
        assert!(inflate(&deflate(b"blub 4\0four"))
            .unwrap_err()
            .contains("header"));
        let huge = deflate(b"blob 99999999999999\0x");
        assert!(inflate(&huge).unwrap_err().contains("claims"));
        assert_eq!(
            inflate(&deflate(b"tree 0\0")),
            Ok((raw::GIT_OBJECT_TREE, Vec::new()))
        );
    }
}
