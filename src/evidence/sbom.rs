//! SBOMs in: CycloneDX JSON 1.4 to 1.6 and SPDX 2.3 JSON.
//!
//! Each SBOM component is known by its purl, or by its `bom-ref` (SPDXID) when it has
//! none. A component item with the same purl (or whose purl equals the bom-ref) is the
//! same component: the item's fields win, the SBOM fills the rest. Every other SBOM
//! component becomes a synthesized component item homed in the SBOM file, so links,
//! tables, cards and the SBOM output treat both alike.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value as J;

use super::places::{child, JsonPlaces};
use crate::diag::{code, Diagnostic};
use crate::model::{Home, RawItem};
use crate::source::{display_path, FileId, SourceFile, Span};
use crate::yaml::{Node, Value};

/// The SBOM standards read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CycloneDX JSON.
    CycloneDx,
    /// SPDX 2 JSON.
    Spdx,
}

/// One SBOM file.
#[derive(Debug, Clone)]
pub struct Sbom {
    pub(crate) file: FileId,
    /// Which standard the file follows.
    pub format: Format,
    pub(crate) spec_version: String,
    pub(crate) timestamp: Option<String>,
    /// Who or what made the SBOM (NTIA "author").
    pub author: Option<String>,
    /// Whether the SBOM has a dependency section at all.
    pub(crate) has_dependencies: bool,
    /// Its components, in file order.
    pub components: Vec<Component>,
    /// The component the SBOM describes (CycloneDX `metadata.component`), as an index
    /// into `components`.
    pub(crate) top: Option<usize>,
}

/// One component as an SBOM lists it.
#[derive(Debug, Clone, Default)]
pub struct Component {
    pub(crate) file: Option<FileId>,
    /// Where the component's entry is in the file.
    pub span: Option<Span>,
    /// The SBOM's own reference to the component (CycloneDX `bom-ref`, SPDX `SPDXID`).
    pub bom_ref: String,
    /// The package URL.
    pub purl: Option<String>,
    pub(crate) cpe: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) name: Option<String>,
    /// The component's version.
    pub version: Option<String>,
    /// Who supplies the component.
    pub supplier: Option<String>,
    pub(crate) license: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) support: Option<String>,
    pub(crate) end_of_support: Option<String>,
    /// bom-refs of what this component depends on.
    pub depends_on: Vec<String>,
    /// Whether the dependency section names the component (as `ref` or a target).
    pub in_dependencies: bool,
    /// The id of the component item this component is (an item or a synthesized one).
    pub(crate) item: Option<String>,
    /// Whether the item was synthesized from this SBOM entry.
    pub(crate) synthesized: bool,
}

impl Component {
    /// The key links use: the purl, else the bom-ref.
    pub(crate) fn key(&self) -> &str {
        self.purl.as_deref().unwrap_or(&self.bom_ref)
    }
}

fn s(v: Option<&J>) -> Option<String> {
    v.and_then(J::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// The byte offset where `"key": "value"` is first written, for the one-off places of
/// a file (its version); the many places of an SBOM's components are found by one
/// [`JsonPlaces`] scan instead.
pub(crate) fn locate(text: &str, key: &str, value: &str) -> Option<usize> {
    let quoted_key = format!("\"{key}\"");
    let quoted = serde_json::to_string(value).ok()?;
    let mut from = 0;
    while let Some(i) = text[from..].find(&quoted_key) {
        let after = from + i + quoted_key.len();
        let rest = text[after..].trim_start();
        if let Some(rest) = rest.strip_prefix(':') {
            if rest.trim_start().starts_with(&quoted) {
                return Some(from + i);
            }
        }
        from = after;
    }
    None
}

/// An `sbom-invalid` diagnostic about the file, not yet placed.
fn invalid(source: &SourceFile, msg: &str) -> Diagnostic {
    Diagnostic::new(
        code::SBOM_INVALID,
        format!("{}: {msg}", display_path(&source.path)),
    )
}

fn err(file: FileId, source: &SourceFile, at: Option<usize>, msg: String) -> Diagnostic {
    place(invalid(source, &msg), file, source, at)
}

/// One character at byte offset `at` of an SBOM file, when it could be found.
fn span_at(file: FileId, source: &SourceFile, at: usize) -> Span {
    Span {
        file,
        start: at,
        end: (at + 1).min(source.text.len()).max(at),
    }
}

/// Points a diagnostic at `at`, or at the whole file when the place is unknown.
fn place(d: Diagnostic, file: FileId, source: &SourceFile, at: Option<usize>) -> Diagnostic {
    match at {
        Some(a) => d.at(span_at(file, source, a)),
        None => d.in_file(file),
    }
}

/// Parses a JSON evidence file, turning a syntax error into a diagnostic at its line.
// A `Diagnostic` is the error; it is built only on failure, so boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub(crate) fn parse_json(
    file: FileId,
    source: &SourceFile,
    code: &'static str,
) -> Result<J, Diagnostic> {
    serde_json::from_str(&source.text).map_err(|e| {
        let at = source.offset(e.line(), e.column().saturating_sub(1));
        Diagnostic::new(
            code,
            format!("{}: not valid JSON: {e}", display_path(&source.path)),
        )
        .at(Span {
            file,
            start: at,
            end: (at + 1).min(source.text.len()).max(at),
        })
    })
}

/// Reads one SBOM file; problems inside it are pushed to `diags`, a file that is not a
/// supported SBOM at all is one diagnostic and `None`.
pub fn parse(file: FileId, source: &SourceFile, diags: &mut Vec<Diagnostic>) -> Option<Sbom> {
    let json = match parse_json(file, source, code::SBOM_INVALID) {
        Ok(j) => j,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    if json.get("bomFormat").and_then(J::as_str) == Some("CycloneDX") {
        cyclonedx(file, source, &json, diags)
    } else if json.get("spdxVersion").is_some() {
        spdx(file, source, &json, diags)
    } else {
        diags.push(
            err(file, source, Some(0), "neither a CycloneDX JSON SBOM (`bomFormat`) nor an SPDX JSON document (`spdxVersion`)".into())
                .help("mdbook-qms reads CycloneDX 1.4-1.6 JSON and SPDX 2.3 JSON"),
        );
        None
    }
}

/// The elements of a JSON list with their pointers, last first (to be popped in order).
fn elements_rev<'j>(list: Option<&'j J>, pointer: &str) -> Vec<(&'j J, String)> {
    list.and_then(J::as_array)
        .map(|l| {
            l.iter()
                .enumerate()
                .rev()
                .map(|(k, x)| (x, child(pointer, &k.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Where an SBOM object is written: its first member of `keys`, else the object itself.
fn anchor(object: &J, pointer: &str, keys: &[&str]) -> String {
    keys.iter()
        .find(|k| object.get(**k).is_some())
        .map_or_else(|| pointer.to_owned(), |k| child(pointer, k))
}

/// Reads the objects of one SBOM file and keeps what must be placed in its text (each
/// component's place, each diagnostic's) as JSON Pointers, so that one scan of the text
/// at the end finds them all.
struct Reader<'a> {
    file: FileId,
    source: &'a SourceFile,
    /// For each component kept, the pointer of where it is written.
    anchors: Vec<String>,
    /// Diagnostics with the pointer of their place, and the component (an index into
    /// the components kept) they relate to.
    pending: Vec<(Diagnostic, String, Option<usize>)>,
}

impl<'a> Reader<'a> {
    fn new(file: FileId, source: &'a SourceFile) -> Self {
        Reader {
            file,
            source,
            anchors: Vec::new(),
            pending: Vec::new(),
        }
    }

    fn report(&mut self, d: Diagnostic, at: String, related: Option<usize>) {
        self.pending.push((d, at, related));
    }

    /// The text of member `key` of the object at `pointer`, trimmed, if not empty. A
    /// value that is not a string (nor null) is reported at its key, so that `"name": 5`
    /// is not taken for a missing name.
    fn text(&mut self, object: &J, pointer: &str, key: &str) -> Option<String> {
        match object.get(key)? {
            J::String(t) => Some(t.trim()).filter(|t| !t.is_empty()).map(str::to_owned),
            J::Null => None,
            other => {
                let what = match other {
                    J::Array(_) => "a list".to_owned(),
                    J::Object(_) => "an object".to_owned(),
                    scalar => format!("`{scalar}`"),
                };
                let d = invalid(
                    self.source,
                    &format!("`{key}` must be a string, not {what}"),
                );
                self.report(d, child(pointer, key), None);
                None
            }
        }
    }

    /// Finds every place with one scan of the text: the components' spans, then the
    /// diagnostics', which go to `diags`.
    fn finish(self, components: &mut [Component], diags: &mut Vec<Diagnostic>) {
        let places = {
            let wanted: HashSet<&str> = self
                .anchors
                .iter()
                .chain(self.pending.iter().map(|(_, at, _)| at))
                .map(String::as_str)
                .collect();
            JsonPlaces::scan(&self.source.text, |p| wanted.contains(p))
        };
        for (c, at) in components.iter_mut().zip(&self.anchors) {
            c.span = places.get(at).map(|a| span_at(self.file, self.source, a));
        }
        for (d, at, related) in self.pending {
            let mut d = place(d, self.file, self.source, places.get(&at));
            if let Some(sp) = related.and_then(|i| components.get(i)).and_then(|c| c.span) {
                d = d.related(sp, "first used here");
            }
            diags.push(d);
        }
    }
}

fn cyclonedx(
    file: FileId,
    source: &SourceFile,
    json: &J,
    diags: &mut Vec<Diagnostic>,
) -> Option<Sbom> {
    let text = &source.text;
    let version = s(json.get("specVersion")).unwrap_or_default();
    if !matches!(version.as_str(), "1.4" | "1.5" | "1.6") {
        diags.push(
            err(
                file,
                source,
                locate(text, "specVersion", &version).or(Some(0)),
                format!("CycloneDX specVersion `{version}` is not supported"),
            )
            .help("supported: CycloneDX 1.4, 1.5 and 1.6 JSON"),
        );
        return None;
    }
    let meta = json.get("metadata");
    let timestamp = s(meta.and_then(|m| m.get("timestamp")));
    let author = meta.and_then(|m| {
        let names = |k: &str| -> Option<String> {
            match m.get(k)? {
                J::Array(list) => list.iter().find_map(|a| s(a.get("name"))),
                J::Object(o) => s(o.get("name")).or_else(|| {
                    o.get("components")
                        .and_then(J::as_array)
                        .and_then(|l| l.iter().find_map(|c| s(c.get("name"))))
                }),
                _ => None,
            }
        };
        names("authors")
            .or_else(|| names("manufacturer"))
            .or_else(|| names("tools"))
            .or_else(|| names("supplier"))
    });
    // Every component with its pointer, in reading order: the described one first, then
    // the list depth first (nested components, assemblies, are components too).
    let mut found: Vec<(&J, String)> = Vec::new();
    if let Some(main) = meta.and_then(|m| m.get("component")) {
        found.push((main, "/metadata/component".to_owned()));
    }
    let mut stack = elements_rev(json.get("components"), "/components");
    while let Some((c, pointer)) = stack.pop() {
        stack.extend(elements_rev(
            c.get("components"),
            &child(&pointer, "components"),
        ));
        found.push((c, pointer));
    }
    let mut r = Reader::new(file, source);
    let mut components: Vec<Component> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut top = None;
    for (c, pointer) in found {
        let reported = r.pending.len();
        let purl = r.text(c, &pointer, "purl");
        let name = r.text(c, &pointer, "name");
        let version = r.text(c, &pointer, "version");
        let bom_ref = r
            .text(c, &pointer, "bom-ref")
            .or_else(|| purl.clone())
            .or_else(|| {
                let name = name.clone()?;
                Some(match &version {
                    Some(v) => format!("{name}@{v}"),
                    None => name,
                })
            });
        let at = anchor(c, &pointer, &["bom-ref", "purl", "name"]);
        let Some(bom_ref) = bom_ref else {
            // A name that is not a string has just been reported as such.
            if r.pending.len() == reported {
                let d = invalid(
                    source,
                    "a component has neither `bom-ref`, `purl` nor `name`",
                );
                r.report(d, at, None);
            }
            continue;
        };
        if let Some(&first) = seen.get(&bom_ref) {
            let d = Diagnostic::new(
                code::SBOM_DUPLICATE_REF,
                format!(
                    "{}: bom-ref `{bom_ref}` is used by two components",
                    display_path(&source.path)
                ),
            )
            .help("every bom-ref must be unique in the SBOM");
            r.report(d, at, Some(first));
            continue;
        }
        let mut support = None;
        let mut eos = None;
        for p in c
            .get("properties")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(n), Some(v)) = (s(p.get("name")), s(p.get("value"))) else {
                continue;
            };
            let n = n.to_ascii_lowercase();
            if n.ends_with("support-level")
                || n.ends_with("supportlevel")
                || n.ends_with(":support")
            {
                support = Some(v);
            } else if n.ends_with("end-of-support") || n.ends_with("endofsupport") {
                eos = Some(v.get(..10).unwrap_or(&v).to_owned());
            }
        }
        let license = c.get("licenses").and_then(J::as_array).and_then(|l| {
            l.iter().find_map(|x| {
                s(x.get("expression")).or_else(|| {
                    x.get("license")
                        .and_then(|y| s(y.get("id")).or_else(|| s(y.get("name"))))
                })
            })
        });
        let author = r.text(c, &pointer, "author");
        let publisher = r.text(c, &pointer, "publisher");
        seen.insert(bom_ref.clone(), components.len());
        if pointer == "/metadata/component" {
            top = Some(components.len());
        }
        components.push(Component {
            file: Some(file),
            bom_ref,
            purl,
            cpe: r.text(c, &pointer, "cpe"),
            kind: r.text(c, &pointer, "type"),
            name,
            version,
            supplier: c
                .get("supplier")
                .and_then(|x| s(x.get("name")))
                .or(author)
                .or(publisher),
            license,
            description: r.text(c, &pointer, "description"),
            support,
            end_of_support: eos,
            ..Component::default()
        });
        r.anchors.push(at);
    }
    let deps = json.get("dependencies").and_then(J::as_array);
    let index: HashMap<String, usize> = components
        .iter()
        .enumerate()
        .map(|(i, c)| (c.bom_ref.clone(), i))
        .collect();
    for (n, d) in deps.into_iter().flatten().enumerate() {
        let Some(from) = s(d.get("ref")) else {
            continue;
        };
        let Some(&i) = index.get(&from) else {
            r.report(
                unknown_ref(source, &from),
                format!("/dependencies/{n}/ref"),
                None,
            );
            continue;
        };
        components[i].in_dependencies = true;
        let targets = d.get("dependsOn").and_then(J::as_array);
        for (m, t) in targets.into_iter().flatten().enumerate() {
            let Some(t) = s(Some(t)) else { continue };
            match index.get(&t) {
                Some(&j) => components[j].in_dependencies = true,
                None => {
                    let at = format!("/dependencies/{n}/dependsOn/{m}");
                    r.report(unknown_ref(source, &t), at, None);
                    continue;
                }
            }
            components[i].depends_on.push(t);
        }
    }
    r.finish(&mut components, diags);
    Some(Sbom {
        file,
        format: Format::CycloneDx,
        spec_version: version,
        timestamp,
        author,
        has_dependencies: deps.is_some(),
        top,
        components,
    })
}

fn unknown_ref(source: &SourceFile, r: &str) -> Diagnostic {
    invalid(
        source,
        &format!("the dependency graph names `{r}`, which no component of this SBOM has"),
    )
}

fn spdx(file: FileId, source: &SourceFile, json: &J, diags: &mut Vec<Diagnostic>) -> Option<Sbom> {
    let text = &source.text;
    let version = s(json.get("spdxVersion")).unwrap_or_default();
    if version != "SPDX-2.3" {
        diags.push(
            err(
                file,
                source,
                locate(text, "spdxVersion", &version).or(Some(0)),
                format!("SPDX version `{version}` is not supported"),
            )
            .help("supported: SPDX 2.3 JSON"),
        );
        return None;
    }
    let info = json.get("creationInfo");
    let timestamp = s(info.and_then(|i| i.get("created")));
    let author = info
        .and_then(|i| i.get("creators"))
        .and_then(J::as_array)
        .and_then(|l| l.iter().find_map(|c| s(Some(c))))
        .map(|c| strip_actor(&c));
    let mut r = Reader::new(file, source);
    let mut components: Vec<Component> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let packages = json.get("packages").and_then(J::as_array);
    for (n, p) in packages.into_iter().flatten().enumerate() {
        let pointer = format!("/packages/{n}");
        let at = anchor(p, &pointer, &["SPDXID", "name"]);
        let reported = r.pending.len();
        let Some(id) = r.text(p, &pointer, "SPDXID") else {
            // An SPDXID that is not a string has just been reported as such.
            if r.pending.len() == reported {
                r.report(invalid(source, "a package has no `SPDXID`"), at, None);
            }
            continue;
        };
        if let Some(&first) = index.get(&id) {
            let d = Diagnostic::new(
                code::SBOM_DUPLICATE_REF,
                format!(
                    "{}: SPDXID `{id}` is used by two packages",
                    display_path(&source.path)
                ),
            )
            .help("every SPDXID must be unique in the document");
            r.report(d, at, Some(first));
            continue;
        }
        let refs: Vec<&J> = p
            .get("externalRefs")
            .and_then(J::as_array)
            .map(|l| l.iter().collect())
            .unwrap_or_default();
        let ext = |ty: &str| {
            refs.iter()
                .find(|r| s(r.get("referenceType")).is_some_and(|t| t.starts_with(ty)))
                .and_then(|r| s(r.get("referenceLocator")))
        };
        let noassert = |v: Option<String>| v.filter(|x| x != "NOASSERTION" && x != "NONE");
        let concluded = noassert(r.text(p, &pointer, "licenseConcluded"));
        let declared = noassert(r.text(p, &pointer, "licenseDeclared"));
        let summary = r.text(p, &pointer, "summary");
        let description = r.text(p, &pointer, "description");
        index.insert(id.clone(), components.len());
        components.push(Component {
            file: Some(file),
            bom_ref: id,
            purl: ext("purl"),
            cpe: ext("cpe"),
            kind: r
                .text(p, &pointer, "primaryPackagePurpose")
                .map(|k| k.to_ascii_lowercase()),
            name: r.text(p, &pointer, "name"),
            version: r.text(p, &pointer, "versionInfo"),
            supplier: noassert(r.text(p, &pointer, "supplier")).map(|x| strip_actor(&x)),
            license: concluded.or(declared),
            description: summary.or(description),
            support: None,
            end_of_support: r
                .text(p, &pointer, "validUntilDate")
                .map(|d| d.get(..10).unwrap_or(&d).to_owned()),
            ..Component::default()
        });
        r.anchors.push(at);
    }
    let rels = json.get("relationships").and_then(J::as_array);
    for (n, rel) in rels.into_iter().flatten().enumerate() {
        let (Some(a), Some(kind), Some(b)) = (
            s(rel.get("spdxElementId")),
            s(rel.get("relationshipType")),
            s(rel.get("relatedSpdxElement")),
        ) else {
            continue;
        };
        let (from, to) = match kind.as_str() {
            "DEPENDS_ON" | "CONTAINS" | "STATIC_LINK" | "DYNAMIC_LINK" | "HAS_PREREQUISITE" => {
                (&a, &b)
            }
            "DEPENDENCY_OF" | "CONTAINED_BY" | "PREREQUISITE_FOR" => (&b, &a),
            "DESCRIBES" => {
                if let Some(&j) = index.get(&b) {
                    components[j].in_dependencies = true;
                }
                continue;
            }
            _ => continue,
        };
        if from == "SPDXRef-DOCUMENT" {
            continue;
        }
        let (Some(&i), Some(&j)) = (index.get(from), index.get(to)) else {
            let missing = if index.contains_key(from) { to } else { from };
            if missing != "NONE" && missing != "NOASSERTION" {
                let key = if *missing == a {
                    "spdxElementId"
                } else {
                    "relatedSpdxElement"
                };
                let at = child(&format!("/relationships/{n}"), key);
                r.report(unknown_ref(source, missing), at, None);
            }
            continue;
        };
        components[i].in_dependencies = true;
        components[j].in_dependencies = true;
        let t = components[j].bom_ref.clone();
        components[i].depends_on.push(t);
    }
    r.finish(&mut components, diags);
    Some(Sbom {
        file,
        format: Format::Spdx,
        spec_version: version,
        timestamp,
        author,
        has_dependencies: rels.is_some(),
        components,
        top: None,
    })
}

/// `Organization: Acme (mail)` -> `Acme`.
fn strip_actor(s: &str) -> String {
    let s = s.split_once(':').map_or(s, |(_, rest)| rest).trim();
    s.split(" (").next().unwrap_or(s).trim().to_owned()
}

/// The purl without version, qualifiers or subpath, lower-cased: what identifies the
/// package across versions.
pub(crate) fn purl_base(purl: &str) -> String {
    let p = purl.split(['?', '#']).next().unwrap_or(purl);
    // The version separator is the last `@` after the last `/` (a namespace may hold `@`
    // in npm scopes, percent-encoded as %40 in purls).
    let cut = match (p.rfind('/'), p.rfind('@')) {
        (Some(slash), Some(at)) if at > slash => at,
        _ => p.len(),
    };
    p[..cut].to_ascii_lowercase()
}

/// The version in a purl, percent-decoded.
pub(crate) fn purl_version(purl: &str) -> Option<String> {
    let p = purl.split(['?', '#']).next().unwrap_or(purl);
    let slash = p.rfind('/')?;
    let at = p.rfind('@').filter(|&a| a > slash)?;
    Some(percent_decode(&p[at + 1..]))
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the raw items already say about components: purls and ids in use.
pub(crate) struct KnownItems {
    pub(crate) purls: HashMap<String, String>,
    pub(crate) ids: HashSet<String>,
}

impl KnownItems {
    pub(crate) fn of(raw: &[RawItem]) -> Self {
        let mut purls = HashMap::new();
        let mut ids = HashSet::new();
        for r in raw {
            let id = r
                .node
                .get("id")
                .and_then(|(_, v)| v.as_str())
                .map(str::to_owned);
            if let Some(id) = &id {
                ids.insert(id.clone());
            }
            let is_component =
                r.node.get("type").and_then(|(_, v)| v.as_str()) == Some("component");
            if let (true, Some(id), Some(purl)) = (
                is_component,
                &id,
                r.node.get("purl").and_then(|(_, v)| v.as_str()),
            ) {
                purls.entry(purl.to_owned()).or_insert_with(|| id.clone());
            }
        }
        KnownItems { purls, ids }
    }
}

/// Merges the components of all SBOMs: one per key (purl or bom-ref), each tied to the
/// component item with that purl, or to a synthesized item. Returns the synthesized
/// items as raw items for validation.
pub(crate) fn merge(sboms: &mut [Sbom], known: &mut KnownItems) -> Vec<RawItem> {
    let mut out = Vec::new();
    let mut by_key: BTreeMap<String, String> = BTreeMap::new();
    for sbom in sboms.iter_mut() {
        let refs: HashMap<String, String> = sbom
            .components
            .iter()
            .map(|c| (c.bom_ref.clone(), c.key().to_owned()))
            .collect();
        let mut pending: Vec<(usize, String)> = Vec::new();
        for (ci, c) in sbom.components.iter_mut().enumerate() {
            let key = c.key().to_owned();
            let item = known
                .purls
                .get(&key)
                .or_else(|| known.purls.get(&c.bom_ref))
                .cloned()
                .or_else(|| by_key.get(&key).cloned());
            match item {
                Some(id) => {
                    by_key.insert(key, id.clone());
                    c.item = Some(id);
                }
                None => {
                    let id = synth_id(c, &known.ids);
                    known.ids.insert(id.clone());
                    by_key.insert(key, id.clone());
                    c.item = Some(id.clone());
                    c.synthesized = true;
                    pending.push((ci, id));
                }
            }
        }
        for (ci, id) in pending {
            let c = &sbom.components[ci];
            let deps: Vec<String> = c
                .depends_on
                .iter()
                .filter_map(|r| refs.get(r).and_then(|k| by_key.get(k)).cloned())
                .collect();
            out.push(synth_item(c, &id, &deps, sbom.file));
        }
    }
    out
}

/// `CMP-` and the component's name and version in upper case: `serde_json` 1.0.2 ->
/// `CMP-SERDE-JSON-1-0-2`, with `-2`, `-3`... on collision.
fn synth_id(c: &Component, taken: &HashSet<String>) -> String {
    let raw = format!(
        "{} {}",
        c.name.as_deref().unwrap_or(&c.bom_ref),
        c.version.as_deref().unwrap_or("")
    );
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    for ch in raw.chars() {
        if ch.is_ascii_alphanumeric() {
            cur.push(ch.to_ascii_uppercase());
        } else if !cur.is_empty() {
            parts.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    if parts.is_empty() {
        parts.push("COMPONENT".into());
    }
    let base = format!("CMP-{}", parts.join("-"));
    if !taken.contains(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken.contains(id))
        .unwrap_or(base)
}

fn synth_item(c: &Component, id: &str, deps: &[String], file: FileId) -> RawItem {
    let span = c.span.unwrap_or(Span {
        file,
        start: 0,
        end: 0,
    });
    let node = |value: Value| Node { value, span };
    let text = |t: &str| node(Value::String(t.to_owned()));
    let mut map: Vec<(Node, Node)> = Vec::new();
    let mut put = |k: &str, v: Node| map.push((text(k), v));
    put("id", text(id));
    put("type", text("component"));
    let title = match (&c.name, &c.version) {
        (Some(n), Some(v)) => format!("{n} {v}"),
        (Some(n), None) => n.clone(),
        _ => c.bom_ref.clone(),
    };
    put("title", text(&title.replace(['\n', '\r'], " ")));
    if let Some(d) = &c.description {
        put("text", text(d));
    }
    for (k, v) in [
        ("name", &c.name),
        ("version", &c.version),
        ("supplier", &c.supplier),
        ("purl", &c.purl),
        ("license", &c.license),
        ("support", &c.support),
        ("end_of_support", &c.end_of_support),
    ] {
        if let Some(v) = v {
            put(k, text(v));
        }
    }
    if !deps.is_empty() {
        put(
            "depends_on",
            node(Value::Seq(deps.iter().map(|d| text(d)).collect())),
        );
    }
    if c.purl.is_none() {
        // Links may name the component by bom-ref (see link::link).
        put(
            "attributes",
            node(Value::Map(vec![(text("bom-ref"), text(&c.bom_ref))])),
        );
    }
    RawItem {
        node: node(Value::Map(map)),
        home: Home::File(file),
    }
}
