//! The built-in documents: name (the directive argument and the template's stem),
//! code (in document numbers), title and template. `book.toml`'s `documents = true`
//! lists them all; `documents` renders them.

/// One built-in document: its name (the directive argument and the template's stem),
/// its full title (the document's first heading) and its template.
pub struct DocInfo {
    /// The directive argument and the template's stem (`threat-model`).
    pub name: &'static str,
    /// The full title, the document's first heading.
    pub title: &'static str,
    /// The short code the document number carries (`{doc}` in `document-number`).
    pub code: &'static str,
    pub(crate) template: &'static str,
}

macro_rules! docs {
    ($($name:literal, $code:literal, $title:literal;)*) => {
        /// Every built-in document, in the order the user guide lists them.
        pub const DOCUMENTS: &[DocInfo] = &[
            $(DocInfo { name: $name, code: $code, title: $title, template: include_str!(concat!("../documents/templates/", $name, ".md.j2")) },)*
        ];
    };
}

docs! {
    "cybersecurity-management-plan", "CMP", "Cybersecurity Management Plan";
    "security-risk-management-report", "SRMR", "Security Risk Management Report";
    "threat-model", "TM", "Threat Model";
    "risk-assessment", "RA", "Cybersecurity Risk Assessment";
    "sbom", "SBOM", "Software Bill of Materials";
    "vulnerability-assessment", "VA", "Vulnerability Assessment";
    "unresolved-anomalies", "UA", "Unresolved Anomalies";
    "tplc-metrics", "TPLC", "Total Product Life Cycle Measures and Metrics";
    "architecture-views", "AV", "Architecture Views";
    "security-controls", "SC", "Security Controls (Appendix 1)";
    "security-testing-report", "STR", "Cybersecurity Testing Report";
    "security-labeling", "SL", "Security Labeling";
    "traceability-matrix", "STM", "Security Traceability Matrix";
    "cyber-device-summary", "CDS", "Cyber Device Summary (Section 524B)";
}
