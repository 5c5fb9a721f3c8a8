//! The built-in documents: name (the directive argument and the template's stem),
//! title and template. `book.toml`'s `documents = true` lists them all; `documents`
//! renders them.

/// One built-in document: its name (the directive argument and the template's stem),
/// its full title (the document's first heading) and its template.
pub struct DocInfo {
    /// The directive argument and the template's stem (`threat-model`).
    pub name: &'static str,
    /// The full title, the document's first heading.
    pub title: &'static str,
    pub(crate) template: &'static str,
}

macro_rules! docs {
    ($($name:literal, $title:literal;)*) => {
        /// Every built-in document, in the order the user guide lists them.
        pub const DOCUMENTS: &[DocInfo] = &[
            $(DocInfo { name: $name, title: $title, template: include_str!(concat!("../documents/templates/", $name, ".md.j2")) },)*
        ];
    };
}

docs! {
    "cybersecurity-management-plan", "Cybersecurity Management Plan";
    "security-risk-management-report", "Security Risk Management Report";
    "threat-model", "Threat Model";
    "risk-assessment", "Cybersecurity Risk Assessment";
    "sbom", "Software Bill of Materials";
    "vulnerability-assessment", "Vulnerability Assessment";
    "unresolved-anomalies", "Unresolved Anomalies";
    "tplc-metrics", "Total Product Life Cycle Measures and Metrics";
    "architecture-views", "Architecture Views";
    "security-controls", "Security Controls (Appendix 1)";
    "security-testing-report", "Cybersecurity Testing Report";
    "security-labeling", "Security Labeling";
    "traceability-matrix", "Security Traceability Matrix";
    "cyber-device-summary", "Cyber Device Summary (Section 524B)";
}
