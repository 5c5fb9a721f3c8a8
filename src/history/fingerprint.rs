//! Item fingerprints: a hash of an item's normalised content, so history can tell which
//! item of a multi-item file changed in a commit.
//!
//! Normalised means canonical JSON (keys sorted, the values the YAML resolves to), so
//! reformatting, reordering keys or editing comments is not a change. Two prints are
//! kept per item: `full` (every field) for its history, and `sig` (without the fields
//! `suspect-ignore` names, by default `status` and `tags`) for suspect links.
//!
//! Speed: a history scan reads one version of a file per commit that touched it, and a
//! file may hold hundreds of items of which one changed. Parsing the whole file each
//! time would cost more than git itself, so a YAML file is cut into its top-level items
//! (documents, or entries of a top-level list) by a line scan, and each piece is parsed
//! only when its exact text was not seen before ([`Printer`] keeps a memo by the piece's
//! 128-bit hash). Pieces are parsed with the project's own YAML reader (`crate::yaml`),
//! so they resolve exactly as `check` does; when a piece does not parse on its own (an
//! alias to an anchor in another item), the whole file is parsed instead.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value};
use xxhash_rust::xxh3::xxh3_128;

use crate::source::{FileId, SourceFile, SourceMap};
use crate::yaml::{self, Node, Origin};

/// A 128-bit content hash.
pub(crate) type Print = u128;

/// One item's identity and prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemPrint {
    pub(crate) id: Arc<str>,
    pub(crate) full: Print,
    pub(crate) sig: Print,
}

/// A file version as the hashes of its pieces (see [`split_items`]), sorted; the items
/// of each piece are in the [`Printer`]'s memo.
pub(crate) type FilePieces = Arc<Vec<Print>>;

/// Canonical JSON of a value: object keys sorted, no whitespace.
pub(crate) fn canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Writing to a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, k);
                out.push(b':');
                canonical(&map[k], out);
            }
            out.push(b'}');
        }
        Value::Array(list) => {
            out.push(b'[');
            for (i, v) in list.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(v, out);
            }
            out.push(b']');
        }
        other => {
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

/// The `full` and `sig` prints of an item's fields.
pub(crate) fn print_fields(fields: &Map<String, Value>, ignore: &[String]) -> (Print, Print) {
    let mut keys: Vec<&String> = fields.keys().collect();
    keys.sort();
    let mut full = Vec::with_capacity(256);
    let mut sig = Vec::with_capacity(256);
    for k in keys {
        let mut entry = Vec::new();
        let _ = serde_json::to_writer(&mut entry, k);
        entry.push(b':');
        canonical(&fields[k], &mut entry);
        entry.push(b',');
        full.extend_from_slice(&entry);
        if !ignore.iter().any(|i| i == k) {
            sig.extend_from_slice(&entry);
        }
    }
    (xxh3_128(&full), xxh3_128(&sig))
}

/// Computes and remembers piece and item prints for one scan.
pub(crate) struct Printer {
    ignore: Vec<String>,
    pieces: HashMap<Print, Arc<[ItemPrint]>, BuildPrint>,
}

/// The memo's keys are already uniform 128-bit hashes: hashing them again is waste.
#[derive(Default, Clone, Copy)]
pub(crate) struct BuildPrint;

pub(crate) struct PrintHasher(u64);

impl std::hash::Hasher for PrintHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 ^= n as u64;
    }
}

impl std::hash::BuildHasher for BuildPrint {
    type Hasher = PrintHasher;
    fn build_hasher(&self) -> PrintHasher {
        PrintHasher(0)
    }
}

/// Marks Markdown pieces so a chapter and a YAML file with the same text differ.
const MARKDOWN_SALT: Print = 0x6d64_6d64_6d64_6d64_6d64_6d64_6d64_6d64;

impl Printer {
    pub(crate) fn new(ignore: &[String]) -> Self {
        Printer {
            ignore: ignore.to_vec(),
            pieces: HashMap::default(),
        }
    }

    /// The items of a piece (a hash from [`Printer::pieces`]).
    pub(crate) fn items(&self, piece: Print) -> &[ItemPrint] {
        self.pieces.get(&piece).map_or(&[], |p| &p[..])
    }

    /// Cuts a file version into pieces, parsing only pieces not seen before; `path`
    /// tells YAML from Markdown.
    pub(crate) fn pieces(&mut self, path: &str, content: &[u8]) -> FilePieces {
        let mut out = if path.ends_with(".md") {
            let key = xxh3_128(content) ^ MARKDOWN_SALT;
            if !self.pieces.contains_key(&key) {
                let items = self.markdown(&String::from_utf8_lossy(content));
                self.pieces.insert(key, items.into());
            }
            vec![key]
        } else {
            self.yaml(content)
        };
        out.sort_unstable();
        Arc::new(out)
    }

    /// Every item of a file version (for tests and an approval's approved content).
    pub(crate) fn file(&mut self, path: &str, content: &[u8]) -> Vec<ItemPrint> {
        let pieces = self.pieces(path, content);
        let mut items: Vec<ItemPrint> = pieces
            .iter()
            .flat_map(|p| self.items(*p).iter().cloned())
            .collect();
        items.sort_by(|a, b| a.id.cmp(&b.id));
        items.dedup_by(|a, b| a.id == b.id);
        items
    }

    fn yaml(&mut self, text: &[u8]) -> Vec<Print> {
        let ranges = split_bytes(text);
        let mut keys = Vec::with_capacity(ranges.len());
        for r in ranges {
            let piece = &text[r];
            let key = xxh3_128(piece);
            if !self.pieces.contains_key(&key) {
                // Only new pieces are decoded and parsed; invalid UTF-8 is replaced, as
                // `check` would report the file anyway.
                match parse_items(&String::from_utf8_lossy(piece), &self.ignore) {
                    Some(items) => {
                        self.pieces.insert(key, items.into());
                    }
                    None => {
                        // Not parseable alone (e.g. an alias to another item's anchor):
                        // the whole file is one piece.
                        let key = xxh3_128(text);
                        if !self.pieces.contains_key(&key) {
                            let items = parse_items(&String::from_utf8_lossy(text), &self.ignore)
                                .unwrap_or_default();
                            self.pieces.insert(key, items.into());
                        }
                        return vec![key];
                    }
                }
            }
            keys.push(key);
        }
        keys
    }

    fn markdown(&self, text: &str) -> Vec<ItemPrint> {
        if !text.contains("```qms") && !text.contains("~~~qms") {
            return Vec::new();
        }
        let mut sources = SourceMap::default();
        let file = sources.add(PathBuf::from("chapter.md"), text.to_owned());
        let mut ignored = Vec::new();
        let (_, raw) = crate::load::scan_chapter(0, PathBuf::new(), file, &sources, &mut ignored);
        raw.iter()
            .filter_map(|r| print_node(&r.node, &self.ignore))
            .collect()
    }
}

/// Every item a YAML text holds, with its prints; `None` when it does not parse.
fn parse_items(text: &str, ignore: &[String]) -> Option<Vec<ItemPrint>> {
    let source = SourceFile::new(PathBuf::new(), text.to_owned());
    let origin = Origin {
        file: FileId(0),
        source: &source,
        line_offset: 0,
        col_offset: 0,
    };
    let docs = yaml::parse(text, origin).ok()?;
    let mut out = Vec::new();
    for doc in &docs {
        match &doc.value {
            yaml::Value::Map(_) => out.extend(print_node(doc, ignore)),
            yaml::Value::Seq(list) => out.extend(list.iter().filter_map(|n| print_node(n, ignore))),
            _ => {}
        }
    }
    Some(out)
}

fn print_node(node: &Node, ignore: &[String]) -> Option<ItemPrint> {
    let id: Arc<str> = node.get("id")?.1.as_str()?.into();
    let serde_json::Value::Object(fields) = node.to_json() else {
        return None;
    };
    let (full, sig) = print_fields(&fields, ignore);
    Some(ItemPrint { id, full, sig })
}

/// Cuts a YAML text into pieces that each parse on their own to the same items: one
/// piece per document of a mapping, one per top-level entry of a document that is a
/// block list. A block list's entries start with `-` in column 0; nothing inside an
/// entry can (its content is indented), so the cut is exact for block style. Flow-style
/// documents stay whole.
pub(crate) fn split_items(text: &str) -> Vec<&str> {
    split_bytes(text.as_bytes())
        .into_iter()
        .map(|r| &text[r])
        .collect()
}

/// [`split_items`] on bytes, as ranges: a history scan cuts every file version it reads,
/// so this looks at no more than the first bytes of each line.
pub(crate) fn split_bytes(text: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut pieces = Vec::new();
    let mut start = 0; // start of the current piece
    let mut doc_is_list: Option<bool> = None;
    let mut seen_entry = false;
    let mut here = 0;
    while here < text.len() {
        let end = memchr_nl(&text[here..]).map_or(text.len(), |i| here + i + 1);
        let line = &text[here..end];
        let first = line[0];
        if first == b'-' || first == b'.' {
            let bare = trim_eol(line);
            let is_marker =
                |m: &[u8]| bare.starts_with(m) && matches!(bare.get(3), None | Some(b' ' | b'\t'));
            if is_marker(b"---") || is_marker(b"...") {
                if here > start {
                    pieces.push(start..here);
                }
                // The marker line stays with the next piece (`--- !tag` or `--- {..}` too).
                start = here;
                seen_entry = false;
                let rest = trim_ascii(&bare[3..]);
                doc_is_list = (!rest.is_empty() && rest[0] != b'#').then_some(false);
                here = end;
                continue;
            }
        }
        let content = !matches!(first, b' ' | b'#' | b'\n' | b'\r' | b'\t');
        if content {
            let bare = trim_eol(line);
            let starts_entry = bare == b"-" || bare.starts_with(b"- ") || bare.starts_with(b"-\t");
            match doc_is_list {
                None => {
                    doc_is_list = Some(starts_entry);
                    seen_entry = starts_entry;
                }
                Some(true) if starts_entry => {
                    if seen_entry && here > start {
                        pieces.push(start..here);
                        start = here;
                    }
                    seen_entry = true;
                }
                _ => {}
            }
        }
        here = end;
    }
    if start < text.len() {
        pieces.push(start..text.len());
    }
    pieces
}

fn memchr_nl(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == b'\n')
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &line[..end]
}

fn trim_ascii(s: &[u8]) -> &[u8] {
    s.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_entries_are_cut_at_column_zero_dashes() {
        let text = "# head\n- id: A-1\n  tags:\n  - x\n- id: A-2\n  text: |\n    - not an entry\n";
        let p = split_items(text);
        assert_eq!(
            p,
            vec![
                "# head\n- id: A-1\n  tags:\n  - x\n",
                "- id: A-2\n  text: |\n    - not an entry\n"
            ]
        );
    }

    #[test]
    fn mapping_documents_stay_whole() {
        let text = "id: A-1\ntags:\n- x\n- y\n---\nid: A-2\n";
        assert_eq!(
            split_items(text),
            vec!["id: A-1\ntags:\n- x\n- y\n", "---\nid: A-2\n"]
        );
    }

    #[test]
    fn pieces_print_like_the_whole_file() {
        let text = "- id: A-1\n  title: a\n  status: draft\n- id: A-2\n  title: b\n";
        let mut p = Printer::new(&["status".into()]);
        let pieces = p.file("x.yaml", text.as_bytes());
        let mut whole = parse_items(text, &["status".into()]).unwrap();
        whole.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(pieces, whole);
    }

    #[test]
    fn anchors_across_items_fall_back_to_the_whole_file() {
        let text = "- id: A-1\n  title: &t shared\n- id: A-2\n  title: *t\n";
        let mut p = Printer::new(&[]);
        let items = p.file("x.yaml", text.as_bytes());
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn key_order_and_formatting_do_not_change_the_print() {
        let mut p = Printer::new(&[]);
        let a = p.file("a.yaml", b"id: A-1\ntitle: x\ntags: [a, b]\n");
        let b = p.file("b.yaml", b"# c\ntags:\n  - a\n  - b\ntitle: 'x'\nid: A-1\n");
        assert_eq!(a, b);
    }

    #[test]
    fn status_changes_only_the_full_print() {
        let ignore = ["status".to_string(), "tags".to_string()];
        let mut p = Printer::new(&ignore);
        let a = p.file("a.yaml", b"id: A-1\ntitle: x\nstatus: draft\n");
        let b = p.file("a.yaml", b"id: A-1\ntitle: x\nstatus: approved\n");
        assert_ne!(a[0].full, b[0].full);
        assert_eq!(a[0].sig, b[0].sig);
    }
}
