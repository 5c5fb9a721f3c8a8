//! `{{#qms downloads}}`: links to the matrices, SBOM and VEX files that `mdbook-qms
//! build` writes beside the book (mdBook's own `build` empties its output folder after
//! preprocessing, so only the in-process build can add files).

use std::fmt::Write as _;
use std::path::Path;

use crate::html::escape;

/// Where the files go, relative to the HTML output folder (beside the generated
/// chapters under `qms/`).
pub(crate) const FOLDER: &str = "qms/downloads";

/// One file the build writes.
pub(crate) struct Download {
    /// Relative to [`FOLDER`].
    pub(crate) path: String,
    pub(crate) what: &'static str,
    pub(crate) size: usize,
    pub(crate) sha256: String,
}

/// What the book can offer.
pub(crate) enum Downloads {
    Written(Vec<Download>),
    /// Built by `mdbook build`: nothing is written, and the page says so.
    NotWritten,
}

/// The list for a page at `page_path` (relative to the book's `src`).
pub(super) fn list(page_path: &Path, downloads: &Downloads) -> String {
    let files = match downloads {
        Downloads::NotWritten => {
            return "<p class=\"qms-gap\">The downloads (traceability matrices as CSV and XLSX, SBOM, VEX) are written by <code>mdbook-qms build</code>; this book was built without them.</p>".into()
        }
        Downloads::Written(files) => files,
    };
    let up = "../".repeat(page_path.parent().map_or(0, |p| p.components().count()));
    let mut out = String::from(
        "<table class=\"qms-table qms-downloads\"><thead><tr><th>File</th><th>Contents</th><th>Size</th><th>SHA-256</th></tr></thead><tbody>",
    );
    for f in files {
        let href = format!("{up}{FOLDER}/{}", f.path);
        let _ = write!(
            out,
            "<tr><td><a href=\"{}\" download>{}</a></td><td>{}</td><td>{}</td><td><code title=\"{}\">{}…</code></td></tr>",
            escape(&href),
            escape(&f.path),
            escape(f.what),
            size(f.size),
            escape(&f.sha256),
            escape(f.sha256.get(..16).unwrap_or(&f.sha256)),
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}
