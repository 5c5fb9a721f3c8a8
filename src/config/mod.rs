//! `book.toml`: the book's source folder and the `[preprocessor.qms]` table.
//!
//! The qms table is read by hand rather than with `serde(deny_unknown_fields)` so that an
//! unknown key is reported at its line with a "did you mean" hint, and so the mdBook keys
//! that share the table (`command`, `before`, ...) are accepted.

pub(crate) mod approvals;
pub(crate) mod documents;
pub mod risk;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diag::{code, did_you_mean, Diagnostic, Diagnostics, Severity};
use crate::source::{FileId, SourceMap, Span};

/// Keys of `[preprocessor.qms]` that mdBook itself reads.
const MDBOOK_KEYS: &[&str] = &["command", "before", "after", "renderers", "optional"];
/// Keys of `[preprocessor.qms]` that mdbook-qms reads.
const QMS_KEYS: &[&str] = &[
    "approvals",
    "items",
    "schemas",
    "trace",
    "templates",
    "generated-chapters",
    "lints",
    "trailers",
    "review-trailer",
    "baselines",
    "suspect-ignore",
    "evidence",
    "risk",
    "documents",
    "metrics-period-months",
    "safety-file",
    "document-number",
    "gate",
];

/// The document number when `document-number` is not set: the device, "CSEC" for a
/// cybersecurity document, and the document's code.
pub(crate) const DEFAULT_DOCUMENT_NUMBER: &str = "{device}-CSEC-{doc}";

/// Keys of `[preprocessor.qms.evidence]`.
const EVIDENCE_KEYS: &[&str] = &["junit", "sbom", "osv", "kev"];

/// Keys of `[preprocessor.qms.gate]`.
const GATE_KEYS: &[&str] = &["allow-gaps"];

/// Keys of `[preprocessor.qms.safety-file]`.
const SAFETY_FILE_KEYS: &[&str] = &["name", "ids"];

/// `[preprocessor.qms.safety-file]`: the ISO 14971 safety risk management file kept
/// outside the project, whose hazard ids a risk's `hazards` may name.
#[derive(Debug, Clone, Default)]
pub(crate) struct SafetyFile {
    /// How documents name the file (title, document number).
    pub(crate) name: String,
    /// Patterns of its hazard ids (`*` and `?` wildcards, e.g. `HAZ-*`).
    pub(crate) ids: Vec<String>,
}

/// `[preprocessor.qms.evidence]`: where under `trace` the evidence files are.
#[derive(Debug, Clone)]
pub(crate) struct EvidenceConfig {
    /// Globs of JUnit XML files, relative to `trace`.
    pub(crate) junit: Vec<String>,
    /// Globs of SBOM files (CycloneDX or SPDX JSON), relative to `trace`.
    pub(crate) sbom: Vec<String>,
    /// Folder of OSV records (`*.json`), relative to `trace`.
    pub(crate) osv: PathBuf,
    /// CISA KEV catalogue (JSON), relative to `trace`; read when it exists.
    pub(crate) kev: PathBuf,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        EvidenceConfig {
            junit: vec!["**/*.xml".into()],
            sbom: vec![
                "**/*.cdx.json".into(),
                "**/*.spdx.json".into(),
                "**/bom.json".into(),
            ],
            osv: PathBuf::from("osv"),
            kev: PathBuf::from("known_exploited_vulnerabilities.json"),
        }
    }
}

/// A project's configuration, with defaults filled in.
#[derive(Debug, Clone)]
pub struct Config {
    /// The project folder (where `book.toml` is).
    pub(crate) root: PathBuf,
    /// `book.toml` in the source map, for diagnostics.
    pub(crate) file: Option<FileId>,
    /// The book's title, if set.
    pub(crate) title: Option<String>,
    /// `[book] src`, relative to the root.
    pub(crate) src: PathBuf,
    /// Folders holding YAML item files, relative to the root.
    pub(crate) items: Vec<PathBuf>,
    /// Where each of `items` is written in `book.toml` (`None` for the default), so a
    /// missing folder is reported there.
    pub(crate) item_spans: Vec<Option<Span>>,
    /// The project's own JSON Schemas.
    pub(crate) schemas: PathBuf,
    /// Evidence: test results, SBOMs, vulnerability records.
    pub(crate) trace: PathBuf,
    /// Template overrides.
    pub(crate) templates: PathBuf,
    /// Whether items no chapter places get generated chapters.
    pub(crate) generated_chapters: bool,
    /// Per-code severity overrides; `None` silences the code.
    pub(crate) lints: BTreeMap<String, Option<Severity>>,
    /// Commit trailers that link a commit to the items it names (`Implements: REQ-1`).
    pub(crate) trailers: Vec<String>,
    /// The trailer that confirms an item after what it links to changed (`Reviewed: ID`).
    pub(crate) review_trailer: String,
    /// Tags matching this glob are baselines.
    pub(crate) baselines: String,
    /// Fields whose change does not make links to the item suspect.
    pub(crate) suspect_ignore: Vec<String>,
    /// `[preprocessor.qms.evidence]`: where the evidence files are.
    pub(crate) evidence: EvidenceConfig,
    /// `[preprocessor.qms.risk]`: risk scales, acceptability matrix, CVSS bands.
    pub(crate) risk: crate::config::risk::RiskConfig,
    /// `[preprocessor.qms.safety-file]`, when the hazards live in an external file.
    pub(crate) safety_file: Option<SafetyFile>,
    /// Generated documents (see `documents`) that get a chapter of their own.
    pub documents: Vec<String>,
    /// `metrics-period-months`: the TPLC measures cover this many months up to the
    /// check's date.
    pub metrics_period_months: u32,
    /// `document-number`: the pattern of a document's number in its PDF (`{device}` and
    /// `{doc}` are replaced, see `pdf`).
    pub(crate) document_number: String,
    /// `[build] build-dir` as book.toml writes it, and where (mdBook reads the value;
    /// the place is for the diagnostic that it would replace the sources).
    pub(crate) build_dir: Option<(PathBuf, Span)>,
    /// `[preprocessor.qms.gate] allow-gaps`: keys (or `*` patterns) of the gaps the
    /// release gate lets through.
    pub(crate) gate_allow_gaps: Vec<String>,
    /// `[preprocessor.qms.approvals]`: the allowed signers and the required approvals.
    pub(crate) approvals: approvals::ApprovalsConfig,
}

impl Config {
    /// The configuration of a project that has no `[preprocessor.qms]` table.
    pub(crate) fn defaults(root: PathBuf) -> Self {
        Config {
            root,
            file: None,
            title: None,
            src: PathBuf::from("src"),
            items: vec![PathBuf::from("requirements")],
            item_spans: vec![None],
            schemas: PathBuf::from("schemas"),
            trace: PathBuf::from("trace"),
            templates: PathBuf::from("templates"),
            generated_chapters: true,
            lints: BTreeMap::new(),
            trailers: ["Implements", "Verifies", "Mitigates", "Refs"]
                .map(String::from)
                .to_vec(),
            review_trailer: "Reviewed".into(),
            baselines: "*".into(),
            suspect_ignore: vec!["status".into(), "tags".into()],
            evidence: EvidenceConfig::default(),
            risk: crate::config::risk::RiskConfig::default(),
            safety_file: None,
            documents: Vec::new(),
            metrics_period_months: 12,
            document_number: DEFAULT_DOCUMENT_NUMBER.into(),
            build_dir: None,
            gate_allow_gaps: Vec::new(),
            approvals: approvals::ApprovalsConfig::default(),
        }
    }
}

/// Why a project could not be loaded at all (exit status 2).
#[derive(Debug)]
pub struct Fatal(pub Box<Diagnostic>);

impl Fatal {
    pub(crate) fn new(diagnostic: Diagnostic) -> Self {
        Fatal(Box::new(diagnostic))
    }
}

/// Reads `DIR/book.toml`. A missing or unreadable file is fatal; problems inside it are
/// diagnostics, with defaults used for the values in error.
// A `Diagnostic` is the error; it is built only on failure, so boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub(crate) fn load(
    root: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Result<Config, Fatal> {
    let path = root.join("book.toml");
    // Like every file of the project, book.toml is not read through a link out of it.
    let project = crate::project_files::ProjectFiles::new(root);
    match project.resolve(Path::new("book.toml")) {
        Ok(_) | Err(crate::project_files::Refusal::Missing { link: None }) => {}
        Err(why) => {
            let unread = crate::project_files::unread(
                Path::new("book.toml"),
                &why,
                code::LINK_OUTSIDE_PROJECT,
            );
            return Err(Fatal::new(Diagnostic {
                severity: crate::diag::Severity::Error,
                ..unread.diagnostic
            }));
        }
    }
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            Fatal::new(Diagnostic::new(
                code::FILE_NOT_UTF8,
                "book.toml is not valid UTF-8",
            ))
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Fatal::new(
                Diagnostic::new(
                    code::CONFIG_MISSING,
                    format!("no book.toml in {}", root.display()),
                )
                .help("run `mdbook-qms init DIR` to create a project, or pass the project folder"),
            ))
        }
        Err(e) => {
            return Err(Fatal::new(Diagnostic::new(
                code::IO_ERROR,
                format!("cannot read {}: {e}", path.display()),
            )))
        }
    };
    let file = sources.add(PathBuf::from("book.toml"), text);
    let text = &sources.get(file).text;
    let mut config = Config::defaults(root.to_path_buf());
    config.file = Some(file);
    let span = |r: std::ops::Range<usize>| Span {
        file,
        start: r.start,
        end: r.end,
    };
    let table = match DeTable::parse(text) {
        Ok(t) => t.into_inner(),
        Err(e) => {
            let r = e.span().unwrap_or(0..0);
            diags.push(Diagnostic::new(code::CONFIG_SYNTAX, e.message().to_owned()).at(span(r)));
            return Ok(config);
        }
    };
    let mut reader = Reader { diags, span: &span };
    if let Some(book) = get_table(&table, "book") {
        if let Some(v) = get(book, "title") {
            config.title = reader.string(v);
        }
        if let Some(v) = get(book, "src") {
            config.src = reader.path(v).unwrap_or(config.src);
        }
    }
    if let Some(v) = get_table(&table, "build").and_then(|b| get(b, "build-dir")) {
        if let DeValue::String(dir) = v.get_ref() {
            config.build_dir = Some((PathBuf::from(dir.as_ref()), span(v.span())));
        }
    }
    let Some(qms) = get_table(&table, "preprocessor").and_then(|p| get_table(p, "qms")) else {
        return Ok(config);
    };
    for (key, value) in qms.iter() {
        let name = key.get_ref().as_ref();
        match name {
            "items" => {
                let values: Vec<&Spanned<DeValue<'_>>> = match value.get_ref() {
                    DeValue::Array(list) => list.iter().collect(),
                    _ => vec![value],
                };
                config.items.clear();
                config.item_spans.clear();
                for v in values {
                    if let Some(path) = reader.path(v) {
                        config.items.push(path);
                        config.item_spans.push(Some(span(v.span())));
                    }
                }
            }
            "schemas" => config.schemas = reader.path(value).unwrap_or(config.schemas),
            "trace" => config.trace = reader.path(value).unwrap_or(config.trace),
            "templates" => config.templates = reader.path(value).unwrap_or(config.templates),
            "generated-chapters" => match value.get_ref() {
                DeValue::Boolean(b) => config.generated_chapters = *b,
                _ => reader.wrong_type(value, "true or false"),
            },
            "lints" => config.lints = reader.lints(value),
            "trailers" => config.trailers = reader.strings(value).unwrap_or(config.trailers),
            "review-trailer" => {
                config.review_trailer = reader.string(value).unwrap_or(config.review_trailer)
            }
            "baselines" => config.baselines = reader.string(value).unwrap_or(config.baselines),
            "suspect-ignore" => {
                config.suspect_ignore = reader.strings(value).unwrap_or(config.suspect_ignore)
            }
            "evidence" => reader.evidence(value, &mut config.evidence),
            "risk" => config.risk = crate::config::risk::parse(value, &span, reader.diags),
            "safety-file" => config.safety_file = reader.safety_file(value),
            "gate" => reader.gate(value, &mut config.gate_allow_gaps),
            "approvals" => config.approvals = approvals::parse(value, &span, reader.diags),
            "documents" => match value.get_ref() {
                // `documents = true`: every built-in document gets a chapter.
                DeValue::Boolean(true) => {
                    config.documents = documents::DOCUMENTS
                        .iter()
                        .map(|d| d.name.to_owned())
                        .collect()
                }
                DeValue::Boolean(false) => config.documents.clear(),
                _ => config.documents = reader.strings(value).unwrap_or_default(),
            },
            "document-number" => {
                if let Some(pattern) = reader.document_number(value) {
                    config.document_number = pattern;
                }
            }
            "metrics-period-months" => {
                if let Some(months) = reader.months(value) {
                    config.metrics_period_months = months;
                }
            }
            _ if MDBOOK_KEYS.contains(&name) => {}
            _ => {
                let mut d = Diagnostic::new(
                    code::CONFIG_UNKNOWN_KEY,
                    format!("unknown key `{name}` in [preprocessor.qms]"),
                )
                .at(span(key.span()));
                d = match did_you_mean(name, QMS_KEYS.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("known keys: {}", QMS_KEYS.join(", "))),
                };
                reader.diags.push(d);
            }
        }
    }
    Ok(config)
}

type Table<'i> = DeTable<'i>;

fn get<'a, 'i>(table: &'a Table<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == key)
        .map(|(_, v)| v)
}

fn get_table<'a, 'i>(table: &'a Table<'i>, key: &str) -> Option<&'a Table<'i>> {
    match get(table, key)?.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => None,
    }
}

struct Reader<'a, F: Fn(std::ops::Range<usize>) -> Span> {
    diags: &'a mut Diagnostics,
    span: &'a F,
}

impl<F: Fn(std::ops::Range<usize>) -> Span> Reader<'_, F> {
    fn wrong_type(&mut self, value: &Spanned<DeValue<'_>>, expected: &str) {
        self.diags.push(
            Diagnostic::new(code::CONFIG_SYNTAX, format!("expected {expected}"))
                .at((self.span)(value.span())),
        );
    }

    fn string(&mut self, value: &Spanned<DeValue<'_>>) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong_type(value, "a string");
                None
            }
        }
    }

    /// A document number pattern: text whose only `{...}` placeholders are `{device}`
    /// and `{doc}`, so a typo never prints as is on every page.
    fn document_number(&mut self, value: &Spanned<DeValue<'_>>) -> Option<String> {
        let pattern = self.string(value)?;
        let rest = pattern.replace("{device}", "").replace("{doc}", "");
        if rest.contains(['{', '}']) || pattern.trim().is_empty() {
            self.wrong_type(
                value,
                "a document number pattern whose only placeholders are {device} and {doc}",
            );
            return None;
        }
        Some(pattern)
    }

    /// A whole number of months, 1 to 1200 (a century).
    fn months(&mut self, value: &Spanned<DeValue<'_>>) -> Option<u32> {
        let months = match value.get_ref() {
            DeValue::Integer(i) => i.as_str().parse::<u32>().ok(),
            _ => None,
        };
        let months = months.filter(|m| (1..=1200).contains(m));
        if months.is_none() {
            self.wrong_type(value, "a whole number of months from 1 to 1200");
        }
        months
    }

    /// A list of strings (a single string is a list of one).
    fn strings(&mut self, value: &Spanned<DeValue<'_>>) -> Option<Vec<String>> {
        match value.get_ref() {
            DeValue::Array(list) => {
                let mut out = Vec::new();
                for v in list {
                    out.push(self.string(v)?);
                }
                Some(out)
            }
            DeValue::String(s) => Some(vec![s.to_string()]),
            _ => {
                self.wrong_type(value, "a list of strings");
                None
            }
        }
    }

    /// A folder relative to the project root that stays inside it.
    fn path(&mut self, value: &Spanned<DeValue<'_>>) -> Option<PathBuf> {
        let s = self.string(value)?;
        let path = PathBuf::from(&s);
        let escapes = path.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::RootDir | Component::Prefix(_)
            )
        });
        if escapes {
            self.diags.push(
                Diagnostic::new(
                    code::CONFIG_SYNTAX,
                    format!("`{s}` leaves the project folder"),
                )
                .at((self.span)(value.span()))
                .help("paths in [preprocessor.qms] are relative to book.toml and stay below it"),
            );
            return None;
        }
        Some(path)
    }

    /// `[preprocessor.qms.evidence]`; globs may not leave the `trace` folder.
    fn evidence(&mut self, value: &Spanned<DeValue<'_>>, out: &mut EvidenceConfig) {
        let DeValue::Table(table) = value.get_ref() else {
            self.wrong_type(value, "a table with junit, sbom, osv, kev");
            return;
        };
        for (key, v) in table.iter() {
            let name = key.get_ref().as_ref();
            match name {
                "junit" | "sbom" => {
                    let Some(globs) = self.strings(v) else {
                        continue;
                    };
                    if let Some(bad) = globs
                        .iter()
                        .find(|g| g.starts_with('/') || g.split('/').any(|p| p == ".."))
                    {
                        self.diags.push(
                            Diagnostic::new(
                                code::CONFIG_SYNTAX,
                                format!("`{bad}` leaves the trace folder"),
                            )
                            .at((self.span)(v.span()))
                            .help(
                                "evidence globs are relative to the trace folder and stay below it",
                            ),
                        );
                        continue;
                    }
                    if name == "junit" {
                        out.junit = globs;
                    } else {
                        out.sbom = globs;
                    }
                }
                "osv" => out.osv = self.path(v).unwrap_or(out.osv.clone()),
                "kev" => out.kev = self.path(v).unwrap_or(out.kev.clone()),
                _ => {
                    let mut d = Diagnostic::new(
                        code::CONFIG_UNKNOWN_KEY,
                        format!("unknown key `{name}` in [preprocessor.qms.evidence]"),
                    )
                    .at((self.span)(key.span()));
                    d = match did_you_mean(name, EVIDENCE_KEYS.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("known keys: {}", EVIDENCE_KEYS.join(", "))),
                    };
                    self.diags.push(d);
                }
            }
        }
    }

    /// `[preprocessor.qms.gate]`: the gaps the release gate allows.
    fn gate(&mut self, value: &Spanned<DeValue<'_>>, allow_gaps: &mut Vec<String>) {
        let DeValue::Table(table) = value.get_ref() else {
            self.wrong_type(value, "a table with allow-gaps");
            return;
        };
        for (key, v) in table.iter() {
            let name = key.get_ref().as_ref();
            match name {
                "allow-gaps" => *allow_gaps = self.strings(v).unwrap_or_default(),
                _ => {
                    let mut d = Diagnostic::new(
                        code::CONFIG_UNKNOWN_KEY,
                        format!("unknown key `{name}` in [preprocessor.qms.gate]"),
                    )
                    .at((self.span)(key.span()));
                    d = match did_you_mean(name, GATE_KEYS.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("known keys: {}", GATE_KEYS.join(", "))),
                    };
                    self.diags.push(d);
                }
            }
        }
    }

    /// `[preprocessor.qms.safety-file]`: `name` and `ids` are both required, since a
    /// hazard id means nothing to a reader without the file it comes from.
    fn safety_file(&mut self, value: &Spanned<DeValue<'_>>) -> Option<SafetyFile> {
        let DeValue::Table(table) = value.get_ref() else {
            self.wrong_type(value, "a table with name and ids");
            return None;
        };
        let mut name = None;
        let mut ids = None;
        for (key, v) in table.iter() {
            let key_name = key.get_ref().as_ref();
            match key_name {
                "name" => name = self.string(v).filter(|n| !n.trim().is_empty()),
                "ids" => ids = self.strings(v).filter(|ids| !ids.is_empty()),
                _ => {
                    let mut d = Diagnostic::new(
                        code::CONFIG_UNKNOWN_KEY,
                        format!("unknown key `{key_name}` in [preprocessor.qms.safety-file]"),
                    )
                    .at((self.span)(key.span()));
                    d = match did_you_mean(key_name, SAFETY_FILE_KEYS.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("known keys: {}", SAFETY_FILE_KEYS.join(", "))),
                    };
                    self.diags.push(d);
                }
            }
        }
        match (name, ids) {
            (Some(name), Some(ids)) => Some(SafetyFile { name, ids }),
            _ => {
                self.diags.push(
                    Diagnostic::new(
                        code::CONFIG_SYNTAX,
                        "[preprocessor.qms.safety-file] needs a `name` and a non-empty list of `ids`",
                    )
                    .at((self.span)(value.span()))
                    .help("e.g. name = \"Risk Management File RMF-0042\", ids = [\"HAZ-*\"]"),
                );
                None
            }
        }
    }

    fn lints(&mut self, value: &Spanned<DeValue<'_>>) -> BTreeMap<String, Option<Severity>> {
        let mut lints = BTreeMap::new();
        let DeValue::Table(table) = value.get_ref() else {
            self.wrong_type(
                value,
                "a table of code = \"error\" | \"warning\" | \"allow\"",
            );
            return lints;
        };
        for (key, level) in table.iter() {
            let name = key.get_ref().as_ref();
            if !crate::diag::CODES.iter().any(|c| c.code == name) {
                let mut d = Diagnostic::new(
                    code::CONFIG_UNKNOWN_KEY,
                    format!("unknown diagnostic code `{name}` in [preprocessor.qms.lints]"),
                )
                .at((self.span)(key.span()));
                if let Some(s) = did_you_mean(name, crate::diag::CODES.iter().map(|c| c.code)) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                self.diags.push(d);
                continue;
            }
            let parsed = match level.get_ref() {
                DeValue::String(s) if s == "error" => Some(Some(Severity::Error)),
                DeValue::String(s) if s == "warning" => Some(Some(Severity::Warning)),
                DeValue::String(s) if s == "allow" => Some(None),
                _ => None,
            };
            match parsed {
                Some(level) => {
                    lints.insert(name.to_owned(), level);
                }
                None => self.wrong_type(level, "\"error\", \"warning\" or \"allow\""),
            }
        }
        lints
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> (Config, Diagnostics, SourceMap) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("book.toml"), text).unwrap();
        let mut sources = SourceMap::default();
        let mut diags = Diagnostics::default();
        let config = load(dir.path(), &mut sources, &mut diags).unwrap();
        (config, diags, sources)
    }

    #[test]
    fn reads_the_qms_table_with_spans() {
        let text = "[book]\nsrc = \"doc\"\n[preprocessor.qms]\nitems = [\"a\", \"b/c\"]\ngenerated-chapters = false\ncommand = \"x\"\n";
        let (config, diags, sources) = load_text(text);
        assert!(diags.0.is_empty(), "{:?}", diags.0);
        assert_eq!(config.src, PathBuf::from("doc"));
        assert_eq!(config.items, [PathBuf::from("a"), PathBuf::from("b/c")]);
        let span = config.item_spans[1].unwrap();
        assert_eq!(
            &sources.get(span.file).text[span.start..span.end],
            "\"b/c\""
        );
        assert!(!config.generated_chapters);
    }

    #[test]
    fn reads_required_approvals_and_reports_bad_ones() {
        let (config, diags, sources) = load_text(
            "[preprocessor.qms.approvals]\nallowed-signers = \"keys/signers\"\n\n[[preprocessor.qms.approvals.required]]\ntype = \"risk\"\nwhere = { disposition = \"accept\" }\nroles = [\"ROLE-A\", \"ROLE-B\"]\n\n[[preprocessor.qms.approvals.required]]\ndocument = \"security-risk-management-report\"\nroles = \"ROLE-A\"\nmeaning = \"review\"\n\n[[preprocessor.qms.approvals.required]]\nrelease = true\nroles = [\"ROLE-QA\"]\n\n[[preprocessor.qms.approvals.required]]\ntype = \"risk\"\nrole = [\"ROLE-A\"]\n\n[[preprocessor.qms.approvals.required]]\ntype = \"risk\"\nroles = [\"ROLE-A\"]\nmeaning = \"nodded\"\n",
        );
        let a = &config.approvals;
        assert_eq!(a.allowed_signers, PathBuf::from("keys/signers"));
        let subjects: Vec<&approvals::Subject> = a.required.iter().map(|r| &r.subject).collect();
        assert_eq!(
            subjects,
            [
                &approvals::Subject::Type("risk".into()),
                &approvals::Subject::Document("security-risk-management-report".into()),
                &approvals::Subject::Release,
            ]
        );
        assert_eq!(
            a.required[0].filter,
            [("disposition".to_owned(), "accept".to_owned())]
        );
        assert_eq!(a.required[0].roles, ["ROLE-A", "ROLE-B"]);
        assert_eq!(a.required[0].meaning, "approval");
        assert_eq!(a.required[1].meaning, "review");
        let span = a.required[2].span;
        assert!(sources.get(span.file).text[span.start..]
            .starts_with("[[preprocessor.qms.approvals.required]]\nrelease"));
        // `role` is unknown (did you mean `roles`?), so that entry lacks roles; `nodded` is no meaning.
        let found: Vec<(&str, Option<&str>)> = diags
            .0
            .iter()
            .map(|d| (d.code, d.help.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                (code::CONFIG_UNKNOWN_KEY, Some("did you mean `roles`?")),
                (
                    code::CONFIG_SYNTAX,
                    Some("e.g. type = \"risk\", roles = [\"ROLE-SECURITY-LEAD\"]")
                ),
                (code::CONFIG_SYNTAX, None),
            ]
        );
    }

    #[test]
    fn reports_bad_values_and_keeps_defaults() {
        let (config, diags, _) = load_text(
            "[preprocessor.qms]\nitems = \"../outside\"\ngenerated-chapters = \"no\"\nschemaz = \"s\"\n[preprocessor.qms.lints]\nfile-empty = \"loud\"\n",
        );
        let mut codes: Vec<&str> = diags.0.iter().map(|d| d.code).collect();
        codes.sort();
        assert_eq!(
            codes,
            [
                code::CONFIG_SYNTAX,
                code::CONFIG_SYNTAX,
                code::CONFIG_SYNTAX,
                code::CONFIG_UNKNOWN_KEY
            ]
        );
        assert!(config.items.is_empty());
        let unknown = diags
            .0
            .iter()
            .find(|d| d.code == code::CONFIG_UNKNOWN_KEY)
            .unwrap();
        assert_eq!(unknown.help.as_deref(), Some("did you mean `schemas`?"));
    }

    #[test]
    fn document_number_takes_only_the_known_placeholders() {
        let (config, diags, _) =
            load_text("[preprocessor.qms]\ndocument-number = \"QMS-{doc}-{device}\"\n");
        assert!(diags.0.is_empty(), "{:?}", diags.0);
        assert_eq!(config.document_number, "QMS-{doc}-{device}");
        let (config, diags, sources) =
            load_text("[preprocessor.qms]\ndocument-number = \"{dev}-{doc}\"\n");
        let [d] = diags.0.as_slice() else {
            panic!("{:?}", diags.0)
        };
        assert_eq!(d.code, code::CONFIG_SYNTAX);
        let crate::diag::Location::Span(span) = d.location else {
            panic!("not at the value: {d:?}")
        };
        assert_eq!(
            &sources.get(span.file).text[span.start..span.end],
            "\"{dev}-{doc}\""
        );
        assert_eq!(config.document_number, DEFAULT_DOCUMENT_NUMBER);
    }

    #[test]
    fn a_missing_book_toml_is_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(
            dir.path(),
            &mut SourceMap::default(),
            &mut Diagnostics::default(),
        )
        .unwrap_err();
        assert_eq!(err.0.code, code::CONFIG_MISSING);
    }
}
