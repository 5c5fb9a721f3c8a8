//! A generated git history for the history benchmark: a `git fast-import` stream over a
//! project written by `crate::corpus::generate`.
//!
//! The first commit imports the whole project; each later commit edits one item (its
//! title) in one item file, like a team's day-to-day history. Some commits carry
//! `Implements:` and `Reviewed:` trailers. Authors and dates are fixed, so the same
//! arguments give the same commit ids. This only writes the stream; the caller pipes it
//! into `git fast-import` (the benchmark tool does), so the library never runs git.

use std::io::{self, Write};
use std::path::Path;

use crate::history::fingerprint::split_items;

const AUTHORS: &[&str] = &[
    "Ana Ruiz",
    "Ben Okafor",
    "Chen Wei",
    "Dana Novak",
    "Eli Haddad",
    "Femi Ade",
    "Gita Rao",
];

/// What the stream holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryStats {
    /// Commits in the stream.
    pub commits: usize,
    /// Bytes of file content in the stream (every version of every file written).
    pub bytes: u64,
}

/// Writes a fast-import stream for branch `main`: the project in `dir` as the first
/// commit, then `commits - 1` one-item edits.
pub fn fast_import_stream(
    dir: &Path,
    commits: usize,
    out: &mut impl Write,
) -> io::Result<HistoryStats> {
    let mut stats = HistoryStats::default();
    let mut files: Vec<(String, String)> = Vec::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.map_err(io::Error::other)?;
        let rel = e.path().strip_prefix(dir).unwrap_or(e.path());
        if !e.file_type().is_file() || rel.starts_with(".git") {
            continue;
        }
        let rel = crate::source::display_path(rel);
        files.push((rel, std::fs::read_to_string(e.path())?));
    }
    // Item files as pieces (one per item) with the item's original title line.
    let mut item_files: Vec<(String, Vec<String>)> = files
        .iter()
        .filter(|(p, _)| p.starts_with("requirements/") && p.ends_with(".yaml"))
        .map(|(p, t)| {
            (
                p.clone(),
                split_items(t).into_iter().map(str::to_owned).collect(),
            )
        })
        .collect();
    let mut rng = 0x0123_4567_89AB_CDEFu64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let base_time: i64 = 1_735_689_600; // 2025-01-01
    let write_commit = |out: &mut dyn Write,
                        n: usize,
                        message: &str,
                        changes: &[(&str, &str)]|
     -> io::Result<u64> {
        let author = AUTHORS[n % AUTHORS.len()];
        let email = author.to_lowercase().replace(' ', ".");
        let when = base_time + n as i64 * 600;
        writeln!(out, "commit refs/heads/main\nmark :{}", n + 1)?;
        writeln!(out, "author {author} <{email}@example.com> {when} +0000")?;
        writeln!(out, "committer {author} <{email}@example.com> {when} +0000")?;
        writeln!(out, "data {}\n{message}", message.len())?;
        if n > 0 {
            writeln!(out, "from :{}", n)?;
        }
        let mut bytes = 0;
        for (path, text) in changes {
            writeln!(out, "M 100644 inline {path}\ndata {}\n{text}", text.len())?;
            bytes += text.len() as u64;
        }
        writeln!(out)?;
        Ok(bytes)
    };
    let all: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    stats.bytes += write_commit(out, 0, "Import the device file", &all)?;
    stats.commits = 1;
    if item_files.is_empty() {
        return Ok(stats);
    }
    for n in 1..commits {
        let f = (next() % item_files.len() as u64) as usize;
        let (path, pieces) = &mut item_files[f];
        // Piece 0 may be the file's header comment alone; edit a piece with an item.
        let candidates: Vec<usize> = (0..pieces.len())
            .filter(|&i| pieces[i].contains("\n  title: "))
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let p = candidates[(next() % candidates.len() as u64) as usize];
        let piece = &mut pieces[p];
        let id = piece
            .lines()
            .find_map(|l| l.strip_prefix("- id: ").or_else(|| l.strip_prefix("id: ")))
            .unwrap_or("item")
            .to_owned();
        let start = piece.find("\n  title: ").map_or(0, |i| i + 1);
        let end = piece[start..].find('\n').map_or(piece.len(), |i| start + i);
        let line = &piece[start..end];
        let base = line.split(" (rev ").next().unwrap_or(line).to_owned();
        piece.replace_range(start..end, &format!("{base} (rev {n})"));
        let text: String = pieces.concat();
        let mut message = format!("Edit {id}\n\nRevision {n} of the device file.\n");
        match n % 10 {
            3 => message.push_str(&format!("\nImplements: {id}\n")),
            7 => message.push_str(&format!("\nReviewed: {id}\n")),
            _ => {}
        }
        stats.bytes += write_commit(out, n, &message, &[(path.as_str(), text.as_str())])?;
        stats.commits += 1;
    }
    Ok(stats)
}
