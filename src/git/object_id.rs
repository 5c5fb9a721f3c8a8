//! Object ids as plain bytes, so the rest of the crate does not depend on git2's types.

use std::fmt;

use git2::Oid;

/// A commit (or blob) id: the 20 raw bytes of a SHA-1 object id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ObjectId(pub [u8; 20]);

/// A commit's id.
pub(crate) type CommitId = ObjectId;
/// A blob's id.
pub(crate) type BlobId = ObjectId;

impl ObjectId {
    pub(super) fn from_oid(oid: Oid) -> Self {
        let mut b = [0u8; 20];
        let raw = oid.as_bytes();
        let n = raw.len().min(20);
        b[..n].copy_from_slice(&raw[..n]);
        ObjectId(b)
    }

    pub(super) fn oid(self) -> Oid {
        Oid::from_bytes(&self.0).unwrap_or(Oid::ZERO_SHA1)
    }

    pub(crate) fn hex(&self) -> String {
        let mut s = String::with_capacity(40);
        for b in self.0 {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    pub(crate) fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 40 {
            return None;
        }
        let mut b = [0u8; 20];
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(ObjectId(b))
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex()[..12])
    }
}
