//! Diagnostics: what every stage reports, with a stable code and a source span.
//!
//! Stages never print; they push [`Diagnostic`]s into a [`Diagnostics`] list that the
//! caller renders (see `report`). The table [`CODES`] is the single list of codes: the
//! user guide documents each one and a test keeps the two in step.

use crate::source::{FileId, Span};

/// How bad a diagnostic is: an error fails `check`, `build` and `export`; a warning does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Reported; the run still succeeds.
    Warning,
    /// Fails the run.
    Error,
}

impl Severity {
    /// The name every output format uses: `warning` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Where a diagnostic points: a span, or a whole file when there is no better place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A byte range in a file.
    Span(Span),
    /// A whole file.
    File(FileId),
    /// No place in the project (a command-line or environment problem).
    None,
}

/// One finding of a stage: what, where, and how to fix it.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// The code's default severity unless a stage says otherwise.
    pub severity: Severity,
    /// One of [`CODES`]; the stable name users filter and search by.
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where it is.
    pub location: Location,
    /// The id of the item the diagnostic is about.
    pub item: Option<String>,
    /// A hint shown under the message ("did you mean ...").
    pub help: Option<String>,
    /// Other places that explain the diagnostic (e.g. the first definition of a duplicate).
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    /// A diagnostic with the default severity of its code.
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: default_severity(code),
            code,
            message: message.into(),
            location: Location::None,
            item: None,
            help: None,
            related: Vec::new(),
        }
    }

    pub(crate) fn at(mut self, span: Span) -> Self {
        self.location = Location::Span(span);
        self
    }

    pub(crate) fn in_file(mut self, file: FileId) -> Self {
        self.location = Location::File(file);
        self
    }

    pub(crate) fn item(mut self, id: impl Into<String>) -> Self {
        self.item = Some(id.into());
        self
    }

    /// Names the item when its id is known.
    pub(crate) fn maybe_item(mut self, id: Option<&str>) -> Self {
        self.item = id.map(str::to_owned);
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub(crate) fn related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }
}

/// The diagnostics of one run, in the order the stages found them.
#[derive(Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub(crate) fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub(crate) fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(other);
    }

    /// Whether any diagnostic is an error, so the command fails.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub(crate) fn count(&self, severity: Severity) -> usize {
        self.0.iter().filter(|d| d.severity == severity).count()
    }
}

/// One diagnostic code: its name, default severity and a one-line summary for the guide.
pub struct CodeInfo {
    /// The code as diagnostics print it (`link-unresolved`).
    pub code: &'static str,
    pub(crate) severity: Severity,
    pub(crate) summary: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $sev:ident, $summary:literal;)*) => {
        /// Stable diagnostic codes.
        pub mod code {
            $(#[doc = concat!("`", $code, "`: ", $summary)] pub const $name: &str = $code;)*
        }
        /// Every code, in the order the user guide lists them.
        pub const CODES: &[CodeInfo] = &[
            $(CodeInfo { code: $code, severity: Severity::$sev, summary: $summary },)*
        ];
    };
}

codes! {
    CONFIG_MISSING = "config-missing", Error, "The project folder has no `book.toml`.";
    CONFIG_SYNTAX = "config-syntax", Error, "`book.toml` is not valid TOML, or a `[preprocessor.qms]` value has the wrong type.";
    CONFIG_UNKNOWN_KEY = "config-unknown-key", Error, "`[preprocessor.qms]` has a key mdbook-qms does not know.";
    FOLDER_MISSING = "folder-missing", Error, "A configured item folder (`items`) does not exist.";
    IO_ERROR = "io-error", Error, "A file could not be read.";
    LINK_OUTSIDE_PROJECT = "link-outside-project", Warning, "A symbolic link in the project leads outside the project folder (or has an absolute target), so its target is not read.";
    FILE_NOT_UTF8 = "file-not-utf8", Error, "A YAML or chapter file is not valid UTF-8.";
    FILE_EMPTY = "file-empty", Warning, "A YAML file holds no item.";
    YAML_SYNTAX = "yaml-syntax", Error, "The YAML is malformed.";
    YAML_DUPLICATE_KEY = "yaml-duplicate-key", Error, "A mapping has the same key twice.";
    YAML_UNSUPPORTED = "yaml-unsupported", Error, "A YAML feature items cannot use: non-string keys, or aliases that expand too far.";
    ITEM_NOT_MAPPING = "item-not-mapping", Error, "An item is not a mapping of fields.";
    ITEM_UNKNOWN_TYPE = "item-unknown-type", Error, "An item's `type` names no known schema.";
    ITEM_INVALID_ID = "item-invalid-id", Error, "An item's `id` is not an upper-case prefix followed by `-`-separated parts.";
    SCHEMA_REQUIRED = "schema-required", Error, "A required field is missing.";
    SCHEMA_UNKNOWN_FIELD = "schema-unknown-field", Error, "A field the item's schema does not define.";
    SCHEMA_TYPE = "schema-type", Error, "A value has the wrong type (e.g. a list where text is expected).";
    SCHEMA_ENUM = "schema-enum", Error, "A value is not one of the allowed values.";
    SCHEMA_VIOLATION = "schema-violation", Error, "Any other schema rule (pattern, length, format, ...) is broken.";
    SCHEMA_INVALID = "schema-invalid", Error, "A schema in the project's `schemas/` folder is not a valid mdbook-qms schema.";
    DUPLICATE_ID = "duplicate-id", Error, "Two items have the same id.";
    LINK_UNKNOWN = "link-unknown", Error, "A link field names an id that no item has.";
    LINK_WRONG_TYPE = "link-wrong-type", Error, "A link field names an item of a type the field does not accept.";
    LINK_SELF = "link-self", Error, "An item links to itself.";
    PARENT_CYCLE = "parent-cycle", Error, "A chain of `parent` links leads back to where it started.";
    REQIF_DEPTH_LIMIT = "reqif-depth-limit", Warning, "A `parent` hierarchy is nested deeper than the ReqIF export's 100 levels; deeper items are exported at level 100.";
    DIRECTIVE_UNKNOWN = "directive-unknown", Error, "A `{{#qms ...}}` directive name is not known.";
    DIRECTIVE_SYNTAX = "directive-syntax", Error, "A directive has missing, extra or malformed arguments.";
    DIRECTIVE_UNKNOWN_ID = "directive-unknown-id", Error, "A directive names an id that no item has.";
    DIRECTIVE_UNKNOWN_TYPE = "directive-unknown-type", Error, "A directive names a type that no schema defines.";
    DIRECTIVE_UNKNOWN_FIELD = "directive-unknown-field", Error, "A `table` filter or column, or a `matrix` `via=`, names a field the type does not have.";
    CHANGES_UNKNOWN_BASE = "changes-unknown-base", Error, "A `{{#qms changes BASE}}` names a tag or commit that git cannot find.";
    ITEM_UNPLACED = "item-unplaced", Warning, "With `generated-chapters = false`, an item that no chapter places (it has no page to link to).";
    ITEM_PLACED_TWICE = "item-placed-twice", Error, "An item is placed in the book twice (two `item` directives, or a block plus a directive).";
    HISTORY_UNAVAILABLE = "history-unavailable", Warning, "Item history could not be read: the project is not in a git repository, or the repository could not be read.";
    HISTORY_SHALLOW = "history-shallow", Warning, "The repository is a shallow clone: histories that reach the boundary are incomplete.";
    GIT_DAMAGED = "git-damaged", Warning, "A git object file is damaged (truncated, empty, not zlib data): history that needs it is unavailable.";
    TRAILER_UNKNOWN_ID = "trailer-unknown-id", Warning, "A commit trailer (`Implements:`, `Reviewed:`, ...) names an id that no item has.";
    ALLOWED_SIGNERS_SYNTAX = "allowed-signers-syntax", Error, "A line of the allowed-signers file is not in ssh-keygen's ALLOWED SIGNERS format (or uses `cert-authority`, which is not supported).";
    APPROVAL_UNSIGNED = "approval-unsigned", Error, "A commit or tag with an `Approved:` trailer is not signed, so it is no approval.";
    APPROVAL_SIGNATURE_INVALID = "approval-signature-invalid", Error, "An approval record's signature does not verify over its content: the record was changed after signing, or the signature is not an SSH signature.";
    APPROVAL_SIGNER_UNKNOWN = "approval-signer-unknown", Error, "An approval record is signed by a key that no line of the allowed-signers file lists (for the `git` namespace).";
    APPROVAL_KEY_NOT_VALID = "approval-key-not-valid", Error, "An approval record was signed at a time its key's allowed-signers line excludes (`valid-after`, `valid-before`).";
    APPROVAL_SIGNER_NOT_IN_ROLE = "approval-signer-not-in-role", Error, "An approval record's signer is a member of no `role` item, or of none of the roles an approved item requires.";
    APPROVAL_UNKNOWN_ID = "approval-unknown-id", Error, "An `Approved:` trailer names neither an item nor a built-in document.";
    APPROVAL_MEANING_MISSING = "approval-meaning-missing", Error, "An approval record has no `Approval-Meaning:` trailer, or one that is not review, approval, responsibility or authorship.";
    APPROVAL_OUTDATED = "approval-outdated", Warning, "An approved item or document changed significantly after the approval was signed.";
    APPROVAL_REQUIRED_MISSING = "approval-required-missing", Warning, "An item or document lacks a required approval (`[[preprocessor.qms.approvals.required]]`): no valid, current record by a member of the role with the required meaning.";
    SUSPECT_LINK = "suspect-link", Warning, "An item links to an item that changed after it was last changed or reviewed (`Reviewed: ID`).";
    EVIDENCE_OUTSIDE = "evidence-outside", Error, "A symbolic link under `trace` leads outside the project folder (or has an absolute target), so the evidence it names is not read.";
    JUNIT_INVALID = "junit-invalid", Error, "A test-result file is not well-formed JUnit XML (truncated, another format, a DOCTYPE or an undefined entity).";
    TEST_FAILED = "test-failed", Warning, "A test case named by a test item's `evidence` failed or had an error.";
    TEST_SKIPPED = "test-skipped", Warning, "A test case named by a test item's `evidence` was skipped (and none failed).";
    TEST_FAILURE_UNASSESSED = "test-failure-unassessed", Warning, "A failed or skipped test has neither an anomaly item that names it nor a `deferral` saying why it can wait.";
    TEST_RESULT_MISSING = "test-result-missing", Warning, "A test item has no `evidence`, or an evidence name or pattern matches no test case.";
    TEST_RESULT_STALE = "test-result-stale", Warning, "A test result is older than the last change of the test item or of an item it verifies.";
    TEST_RESULT_UNMATCHED = "test-result-unmatched", Warning, "Test cases in a result file that no test item's `evidence` names.";
    PENTEST_INCOMPLETE = "pentest-incomplete", Warning, "A penetration test has no `independence`, `scope`, `started` or `finished`.";
    TEST_TOOL_MISSING = "test-tool-missing", Warning, "A vulnerability test (vulnerability scanning, fuzzing, static or dynamic analysis, software composition) has no `tool` or `tool_version`.";
    TEST_DATES_REVERSED = "test-dates-reversed", Warning, "A test's `finished` date is before its `started` date.";
    FINDING_ID_DUPLICATE = "finding-id-duplicate", Error, "Two findings of one test have the same id.";
    FINDING_DISPOSITION_MISSING = "finding-disposition-missing", Warning, "A finding of a test has no `disposition` (fixed, accepted, deferred, false-positive).";
    FINDING_RATIONALE_MISSING = "finding-rationale-missing", Warning, "An accepted or false-positive finding of a test gives no `rationale`.";
    FINDING_DEFERRED_NO_ANOMALY = "finding-deferred-no-anomaly", Warning, "A deferred finding names no anomaly item in its `item`.";
    SBOM_INVALID = "sbom-invalid", Error, "An SBOM file is not CycloneDX 1.4-1.6 or SPDX 2.3 JSON, or its dependency graph names unknown components.";
    SBOM_DUPLICATE_REF = "sbom-duplicate-ref", Error, "Two components of one SBOM have the same bom-ref (SPDXID).";
    SBOM_NTIA = "sbom-ntia", Warning, "An SBOM or its components lack an NTIA minimum element: author, timestamp, supplier, name, version, unique id, dependency relation.";
    COMPONENT_SUPPORT_MISSING = "component-support-missing", Warning, "A component has no support level (`support`) or no end-of-support date.";
    COMPONENT_END_OF_SUPPORT = "component-end-of-support", Warning, "A component's end of support has passed.";
    COMPONENT_END_OF_SUPPORT_UNASSESSED = "component-end-of-support-unassessed", Warning, "A component past its end of support that no risk or vulnerability item assesses.";
    OSV_INVALID = "osv-invalid", Error, "An OSV record is not valid JSON or has bad `affected` ranges.";
    OSV_UNKNOWN_ECOSYSTEM = "osv-unknown-ecosystem", Warning, "An OSV range uses an ecosystem whose versions mdbook-qms cannot order.";
    KEV_INVALID = "kev-invalid", Error, "The CISA KEV catalogue file is not valid KEV JSON.";
    VULNERABILITY_UNASSESSED = "vulnerability-unassessed", Error, "An OSV record affects a component, but no vulnerability item assesses it for that component.";
    VEX_INCOMPLETE = "vex-incomplete", Error, "A vulnerability item has no VEX status, `not_affected` without `justification`, or `affected` without `action`.";
    KEV_NOT_FIXED = "kev-not-fixed", Error, "A vulnerability in CISA's Known Exploited Vulnerabilities catalogue is not `fixed`.";
    VULNERABILITY_DATES = "vulnerability-dates", Warning, "A vulnerability's `identified`, `patched` and `deployed` dates are out of order, or `fixed` has no `patched` date.";
    DEVICE_VERSION_MISMATCH = "device-version-mismatch", Warning, "The device's `version` disagrees with the version of the SBOM's top component, with the version recorded in test results, or with the `build` a test item names.";
    VULNERABILITY_RISK_CVSS = "vulnerability-risk-cvss", Warning, "A vulnerability's CVSS base score is higher than that of a risk it names in `risks` (the risk understates it).";
    VEX_NOT_AFFECTED_PATCHED = "vex-not-affected-patched", Warning, "A `not_affected` vulnerability has a `patched` or `deployed` date: either it needed a patch, or the dates are wrong.";
    PATCH_OVERDUE = "patch-overdue", Warning, "An `affected` vulnerability is open for longer than the plan's patch timeline (out-of-cycle for a critical one, the regular cycle otherwise).";
    KEV_CATALOGUE_MISSING = "kev-catalogue-missing", Warning, "Vulnerability items claim `kev: true` or `kev: false`, but there is no KEV catalogue under `trace/` to check the claims against.";
    KEV_CLAIM_CONTRADICTED = "kev-claim-contradicted", Warning, "A vulnerability's `kev` claim disagrees with the KEV catalogue (where `kev-not-fixed` does not already say so).";
    RISK_CONFIG = "risk-config", Error, "`[preprocessor.qms.risk]` is invalid: a scale, the acceptability matrix (wrong size, unknown cell) or the CVSS bands.";
    RISK_UNKNOWN_LEVEL = "risk-unknown-level", Error, "A risk's `severity` or `exploitability` is not a level of the configured scale.";
    RISK_UNSCORED = "risk-unscored", Warning, "A risk has no severity, or neither an exploitability nor a CVSS vector.";
    CVSS_INVALID = "cvss-invalid", Error, "A `cvss` vector does not parse as CVSS v3.0, v3.1 or v4.0.";
    CVSS_MISMATCH = "cvss-mismatch", Error, "A stored `cvss_score`, or the `exploitability` written next to a vector, disagrees with the vector.";
    RISK_UNACCEPTABLE = "risk-unacceptable", Error, "A risk's residual (after mitigation) falls in an unacceptable cell of the risk matrix.";
    RISK_ACCEPTANCE_INCOMPLETE = "risk-acceptance-incomplete", Error, "An accepted or transferred risk lacks its `rationale`, `approved_by` or `review_by`.";
    RISK_REVIEW_EXPIRED = "risk-review-expired", Error, "A risk's `review_by` date has passed.";
    RISK_RESIDUAL_UNEXPLAINED = "risk-residual-unexplained", Warning, "A risk's residual score differs from its initial score and the risk has no `rationale`.";
    RISK_ACCEPTANCE_UNLABELED = "risk-acceptance-unlabeled", Warning, "An accepted risk's `rationale` says users are told about it (labeling, IFU, user manual, communicated, informed), but none of its controls has `labeling` text.";
    RISK_TRANSFER_UNLABELED = "risk-transfer-unlabeled", Error, "A risk transferred to users has no control with `labeling` text.";
    RISK_HAZARD_MISSING = "risk-hazard-missing", Warning, "A risk whose `harm` is `safety` or `both` names no hazard in `hazards`, so it is not handed to the ISO 14971 safety risk management file.";
    RISK_HARM_MISMATCH = "risk-harm-mismatch", Warning, "A risk names hazards in `hazards` but its `harm` is `privacy` or `none`: either the hazards or the harm is wrong.";
    ASSET_MULTIPLE_ZONES = "asset-multiple-zones", Error, "An asset names more than one trust zone.";
    FLOW_ENDPOINTS = "flow-endpoints", Error, "A flow does not name exactly one `from` and one `to` asset.";
    ASSET_NO_ZONE = "asset-no-zone", Warning, "An asset (other than `kind: data`) is in no trust zone.";
    FLOW_BOUNDARY_UNKNOWN = "flow-boundary-unknown", Warning, "A flow's `from` or `to` asset is not in exactly one trust zone, so whether the flow crosses a trust boundary is unknown and the boundary checks skip it.";
    BOUNDARY_FLOW_UNPROTECTED = "boundary-flow-unprotected", Warning, "A flow crosses a trust boundary without an authentication control and an integrity control.";
    BOUNDARY_DATA_EXPOSED = "boundary-data-exposed", Warning, "A flow carries confidential data across a trust boundary without a confidentiality control.";
    STRIDE_GAP = "stride-gap", Warning, "A data-flow element has a STRIDE category with neither a threat nor a not-applicable reason.";
    STRIDE_INAPPLICABLE = "stride-inapplicable", Warning, "A threat's `stride` category, or a `stride_not_applicable` entry, names a category that cannot apply to the element's kind (e.g. spoofing on a data flow).";
    VIEW_NOT_APPLICABLE_WITH_CONTENT = "view-not-applicable-with-content", Warning, "An architecture view says it does not apply (`not_applicable`) and also gives a `diagram`, `text` or `shows`.";
    THREAT_NO_RISK = "threat-no-risk", Warning, "No risk assesses a threat.";
    CONTROL_UNTESTED = "control-untested", Warning, "No test verifies a control.";
    DOCUMENT_UNKNOWN = "document-unknown", Error, "A `{{#qms document NAME}}` directive or the `documents` key in `book.toml` names no built-in document.";
    DOCUMENT_GAP = "document-gap", Warning, "A generated document has a section with nothing to fill it (the document shows the gap); the message names the document, the section and what would fill it.";
    TEMPLATE_SYNTAX = "template-syntax", Error, "A document template (an override in `templates/`) is not valid minijinja syntax.";
    TEMPLATE_ERROR = "template-error", Error, "A document template failed while rendering: an undefined variable or field, a bad filter argument, or a template name that is not a plain file name.";
    DOWNLOADS_NOT_WRITTEN = "downloads-not-written", Warning, "A `{{#qms downloads}}` directive in a book built by `mdbook build`: only `mdbook-qms build` writes the download files.";
    BUILD_DIR_IN_SOURCES = "build-dir-in-sources", Error, "mdBook's build folder (`[build] build-dir`, `book` when unset) is, contains or lies inside the project's sources, which mdBook would empty before writing the book.";
}

/// The default severity of a code (errors for codes not in the table, which cannot happen
/// for the constants above).
pub(crate) fn default_severity(code: &str) -> Severity {
    CODES
        .iter()
        .find(|c| c.code == code)
        .map(|c| c.severity)
        .unwrap_or(Severity::Error)
}

/// `word` with its indefinite article: "a requirement", "an asset".
pub(crate) fn a(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        // Ties go to the alphabetically first candidate, whatever the input order.
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// `strsim::jaro_winkler`, step for step and so to the last bit, for the common case of
/// short ASCII ids, without its per-call allocation and character decoding (which made
/// it the cost of a "did you mean" over 100,000 ids). Anything else goes to strsim.
fn jaro_winkler(a: &str, b: &str) -> f64 {
    const MAX: usize = 64;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (la, lb) = (a.len(), b.len());
    if la > MAX || lb > MAX || !a.is_ascii() || !b.is_ascii() {
        return strsim::jaro_winkler(
            std::str::from_utf8(a).unwrap_or(""),
            std::str::from_utf8(b).unwrap_or(""),
        );
    }
    let sim = if la == 0 && lb == 0 {
        1.0
    } else if la == 0 || lb == 0 {
        0.0
    } else {
        let range = (la.max(lb) / 2).saturating_sub(1);
        let (mut a_flags, mut b_flags) = ([false; MAX], [false; MAX]);
        let mut matches = 0_usize;
        for i in 0..la {
            for j in i.saturating_sub(range)..lb.min(i + range + 1) {
                if a[i] == b[j] && !b_flags[j] {
                    a_flags[i] = true;
                    b_flags[j] = true;
                    matches += 1;
                    break;
                }
            }
        }
        if matches == 0 {
            0.0
        } else {
            let mut transpositions = 0_usize;
            let mut k = 0;
            for i in (0..la).filter(|&i| a_flags[i]) {
                while !b_flags[k] {
                    k += 1;
                }
                if a[i] != b[k] {
                    transpositions += 1;
                }
                k += 1;
            }
            transpositions /= 2;
            ((matches as f64 / la as f64)
                + (matches as f64 / lb as f64)
                + ((matches - transpositions) as f64 / matches as f64))
                / 3.0
        }
    };
    if sim > 0.7 {
        let prefix = a.iter().take(4).zip(b).take_while(|(x, y)| x == y).count();
        sim + 0.1 * prefix as f64 * (1.0 - sim)
    } else {
        sim
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast Jaro-Winkler must give strsim's exact value, or hints would change.
    #[test]
    fn jaro_winkler_matches_strsim_bit_for_bit() {
        let ids = [
            "",
            "A",
            "REQ-1",
            "REQ-AUTH-00042",
            "REQ-AUTH-00024",
            "REQ-AUHT-00042",
            "TST-00042",
            "REQ-AUTH-0042",
            "REQ-CRYPT-01234",
            "RISK-7",
            "QER-HTUA-24000",
            "REQ-AUTH-00042-EXTRA",
            "ZZZZ",
            "REQ-ÄUTH-1",
        ];
        let mut seed = 7_u64;
        let mut words: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        for _ in 0..300 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (seed >> 58) as usize;
            words.push(
                (0..len)
                    .map(|k| b"RQE-0123AT"[((seed >> (k * 3 % 60)) % 10) as usize] as char)
                    .collect(),
            );
        }
        for a in &words {
            for b in &words {
                assert_eq!(
                    jaro_winkler(a, b).to_bits(),
                    strsim::jaro_winkler(a, b).to_bits(),
                    "{a:?} {b:?}"
                );
            }
        }
        assert_eq!(
            did_you_mean("REQ-AUTH-0042", ["REQ-AUTH-00042", "TST-1"]),
            Some("REQ-AUTH-00042")
        );
        assert_eq!(did_you_mean("NOTHING-LIKE", ["REQ-1"]), None);
    }

    /// Equally close candidates: the alphabetically first wins in any order, so that
    /// link's parallel chunks and every other caller give the same hint.
    #[test]
    fn ties_go_to_the_alphabetically_first_candidate() {
        assert_eq!(did_you_mean("REQ-2", ["REQ-3", "REQ-1"]), Some("REQ-1"));
        assert_eq!(did_you_mean("REQ-2", ["REQ-1", "REQ-3"]), Some("REQ-1"));
    }
}
