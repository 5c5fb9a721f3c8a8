//! Shared by the risk_* tests: a copy of the risk fixture with edits, loaded with the
//! real pipeline.

use std::path::PathBuf;

use mdbook_qms::diag::Location;
use mdbook_qms::project::Project;

use super::ProjectBuilder;

pub fn fixture() -> PathBuf {
    super::fixture("risk")
}

pub fn base_yaml() -> String {
    std::fs::read_to_string(fixture().join("requirements/model.yaml")).unwrap()
}

/// A diagnostic as a test looks at it.
#[derive(Debug, Clone, PartialEq)]
pub struct Diag {
    pub code: String,
    pub severity: String,
    pub item: Option<String>,
    pub file: String,
    pub line: usize,
    pub message: String,
    pub help: Option<String>,
}

pub struct Loaded {
    /// Holds the project folder until the test is done with it.
    pub _dir: tempfile::TempDir,
    pub project: Project,
}

impl Loaded {
    pub fn diags(&self) -> Vec<Diag> {
        let p = &self.project;
        p.diagnostics
            .0
            .iter()
            .map(|d| {
                let (file, line) = match d.location {
                    Location::Span(s) => {
                        let f = p.sources.get(s.file);
                        (f.path.display().to_string(), f.line_col(s.start).0)
                    }
                    Location::File(f) => (p.sources.get(f).path.display().to_string(), 0),
                    Location::None => (String::new(), 0),
                };
                Diag {
                    code: d.code.to_owned(),
                    severity: d.severity.as_str().to_owned(),
                    item: d.item.clone(),
                    file,
                    line,
                    message: d.message.clone(),
                    help: d.help.clone(),
                }
            })
            .collect()
    }

    /// Diagnostics with the given code.
    pub fn with(&self, code: &str) -> Vec<Diag> {
        self.diags()
            .into_iter()
            .filter(|d| d.code == code)
            .collect()
    }
}

/// Loads the fixture with `yaml` as its items and `toml_extra` appended to book.toml.
pub fn load(yaml: &str, toml_extra: &str) -> Loaded {
    load_with_chapter(yaml, toml_extra, None)
}

/// As [`load`], with `chapter` (if given) as the text of the fixture's chapter.
pub fn load_with_chapter(yaml: &str, toml_extra: &str, chapter: Option<&str>) -> Loaded {
    let read = |rel: &str| std::fs::read_to_string(fixture().join(rel)).unwrap();
    let built = ProjectBuilder::new()
        .book_toml(&(read("book.toml") + toml_extra))
        .file("book/SUMMARY.md", read("book/SUMMARY.md"))
        .file(
            "book/model.md",
            chapter.map_or_else(|| read("book/model.md"), str::to_owned),
        )
        .file("requirements/model.yaml", yaml)
        .build();
    let project = built.load();
    Loaded {
        _dir: built.dir,
        project,
    }
}

/// The fixture with `old` replaced by `new` (exactly once).
pub fn edited(old: &str, new: &str) -> Loaded {
    let yaml = base_yaml();
    assert_eq!(
        yaml.matches(old).count(),
        1,
        "`{old}` must occur once in the fixture"
    );
    load(&yaml.replacen(old, new, 1), "")
}

/// 1-based line of the first occurrence of `needle` in `text`.
pub fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in text"));
    text[..at].matches('\n').count() + 1
}

/// The codes the risk stage owns (other stages' findings are not these tests' business).
pub const RISK_CODES: &[&str] = &[
    "risk-config",
    "risk-unknown-level",
    "risk-unscored",
    "cvss-invalid",
    "cvss-mismatch",
    "risk-unacceptable",
    "risk-acceptance-incomplete",
    "risk-review-expired",
    "risk-residual-unexplained",
    "risk-acceptance-unlabeled",
    "risk-transfer-unlabeled",
    "asset-multiple-zones",
    "flow-endpoints",
    "asset-no-zone",
    "flow-boundary-unknown",
    "boundary-flow-unprotected",
    "boundary-data-exposed",
    "stride-gap",
    "stride-inapplicable",
    "threat-no-risk",
    "control-untested",
    "parent-cycle",
    "link-wrong-type",
];

pub fn risk_diags(l: &Loaded) -> Vec<Diag> {
    l.diags()
        .into_iter()
        .filter(|d| RISK_CODES.contains(&d.code.as_str()))
        .collect()
}
