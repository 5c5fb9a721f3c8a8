//! Risk scoring: scales, CVSS v3.1 and v4.0 vectors, banding, mismatches, and the
//! `[preprocessor.qms.risk]` configuration with its errors at their lines.

use crate::support::risk::{base_yaml, edited, line_of, load, risk_diags, Diag, Loaded};
use mdbook_qms::risk::cvss;

/// A score as (severity, exploitability, acceptable).
type Cell = Option<(String, String, bool)>;

fn level(l: &Loaded, id: &str) -> (Cell, Cell) {
    let p = &l.project;
    let i = p.graph.get(id).unwrap();
    let r = p.risk.of(i).unwrap();
    let s = &p.risk.scales;
    let name = |x: &Option<mdbook_qms::risk::Level>| {
        x.as_ref().map(|x| {
            (
                s.severity[x.severity].clone(),
                s.exploitability[x.exploitability].clone(),
                x.acceptable,
            )
        })
    };
    (name(&r.before), name(&r.after))
}

fn pair(s: &str, e: &str, ok: bool) -> Cell {
    Some((s.to_owned(), e.to_owned(), ok))
}

#[test]
fn scores_before_and_after() {
    let l = load(&base_yaml(), "");
    // v3.1 AV:N/AC:L/PR:N/UI:N: subscore 3.9, very-high; the residual keeps the severity.
    assert_eq!(
        level(&l, "RISK-TAKEOVER"),
        (
            pair("critical", "very-high", false),
            pair("critical", "very-low", true)
        )
    );
    assert_eq!(
        level(&l, "RISK-SETTINGS"),
        (
            pair("serious", "medium", true),
            pair("serious", "low", true)
        )
    );
    // v4.0 AV:A/AC:L/AT:N/PR:N/UI:N: 8.22 x 0.62 x 0.77 x 0.85 x 0.85 = 2.8, high; no residual.
    assert_eq!(
        level(&l, "RISK-V4"),
        (pair("minor", "high", true), pair("minor", "high", true))
    );
    let i = l.project.graph.get("RISK-V4").unwrap();
    let c = l
        .project
        .risk
        .of(i)
        .unwrap()
        .before
        .as_ref()
        .unwrap()
        .cvss
        .clone()
        .unwrap();
    assert_eq!(
        (c.version, cvss::one_decimal(c.exploitability)),
        ("4.0", "2.8".to_owned())
    );
}

#[test]
fn cvss_scores_and_bands() {
    let cases = [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "3.9"),
        ("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 9.6, "2.8"),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "1.8"),
        ("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8, "0.9"),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N", 4.2, "1.6"),
        (
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            9.3,
            "3.9",
        ),
        (
            "CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N",
            1.0,
            "0.1",
        ),
    ];
    let scales = mdbook_qms::config::risk::RiskConfig::default();
    let mut bands = Vec::new();
    for (v, score, sub) in cases {
        let s = cvss::score(v).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(
            (s.score, cvss::one_decimal(s.exploitability)),
            (score, sub.to_owned()),
            "{v}"
        );
        bands.push(scales.exploitability[scales.band(s.exploitability)].clone());
    }
    assert_eq!(
        bands,
        [
            "very-high",
            "high",
            "medium",
            "low",
            "medium",
            "very-high",
            "very-low"
        ]
    );
}

#[test]
fn invalid_vector_is_an_error_at_its_line() {
    let l = edited(
        "  cvss: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n",
        "  cvss: CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n",
    );
    let d = l.with("cvss-invalid");
    assert_eq!(d.len(), 1, "{:#?}", l.diags());
    assert_eq!(
        (d[0].item.as_deref(), d[0].line, d[0].severity.as_str()),
        (
            Some("RISK-TAKEOVER"),
            line_of(&base_yaml(), "  cvss: CVSS:3.1"),
            "error"
        )
    );
    // v4.0 with a metric missing.
    let l = edited("/VA:H/SC:N/SI:N/SA:N\n", "/VA:H\n");
    let d = l.with("cvss-invalid");
    assert_eq!(
        (d.len(), d[0].item.as_deref()),
        (1, Some("RISK-V4")),
        "{d:#?}"
    );
    // The score mismatch check does not pile on; the risk is reported unscored instead of guessed.
    assert!(l.with("cvss-mismatch").is_empty());
}

#[test]
fn stored_score_disagreeing_with_the_vector() {
    let l = edited("  cvss_score: 9.8\n", "  cvss_score: 7.5\n");
    let d = l.with("cvss-mismatch");
    assert_eq!(d.len(), 1, "{:#?}", l.diags());
    assert_eq!(
        (d[0].line, d[0].severity.as_str()),
        (line_of(&base_yaml(), "  cvss_score: 9.8"), "error")
    );
    assert!(
        d[0].message.contains("7.5") && d[0].message.contains("9.8"),
        "{}",
        d[0].message
    );
    assert_eq!(
        d[0].help.as_deref(),
        Some("write `cvss_score: 9.8`, or correct the vector")
    );
}

#[test]
fn exploitability_disagreeing_with_the_vector() {
    let l = edited(
        "  cvss_score: 9.8\n",
        "  cvss_score: 9.8\n  exploitability: low\n",
    );
    let d = l.with("cvss-mismatch");
    assert_eq!(d.len(), 1, "{:#?}", l.diags());
    assert!(
        d[0].message.contains("falls in `very-high`"),
        "{}",
        d[0].message
    );
    let l = edited(
        "  cvss_score: 9.8\n",
        "  cvss_score: 9.8\n  exploitability: very-high\n",
    );
    assert_eq!(risk_diags(&l), Vec::<Diag>::new());
}

#[test]
fn unknown_scale_values_at_their_line() {
    let l = edited("  severity: critical\n", "  severity: critcal\n");
    let d = l.with("risk-unknown-level");
    assert_eq!(d.len(), 1, "{:#?}", l.diags());
    assert_eq!(
        (d[0].line, d[0].item.as_deref()),
        (
            line_of(&base_yaml(), "  severity: critical"),
            Some("RISK-TAKEOVER")
        )
    );
    assert!(d[0]
        .help
        .as_deref()
        .unwrap()
        .starts_with("did you mean `critical`?"));
    // In a residual too.
    let l = edited("    exploitability: low\n", "    exploitability: tiny\n");
    let d = l.with("risk-unknown-level");
    assert_eq!(d[0].line, line_of(&base_yaml(), "    exploitability: low"));
}

#[test]
fn missing_scores_are_warnings() {
    let l = edited("  severity: serious\n", "");
    let d = l.with("risk-unscored");
    assert_eq!(
        (d.len(), d[0].severity.as_str(), d[0].item.as_deref()),
        (1, "warning", Some("RISK-SETTINGS"))
    );
}

#[test]
fn configured_scales_and_matrix() {
    let toml = r#"
[preprocessor.qms.risk]
severity = ["low", "high"]
exploitability = ["hard", "easy"]
matrix = [
  ["acceptable", "acceptable"],
  ["acceptable", "unacceptable"],
]
cvss-bands = [2.0]
"#;
    let yaml = base_yaml()
        .replace("severity: critical", "severity: high")
        .replace("severity: serious", "severity: low")
        .replace("severity: minor", "severity: low")
        .replace("exploitability: very-low", "exploitability: hard")
        .replace("exploitability: medium", "exploitability: easy")
        .replace("exploitability: low", "exploitability: hard");
    let l = load(&yaml, toml);
    assert_eq!(risk_diags(&l), Vec::<Diag>::new());
    assert_eq!(
        level(&l, "RISK-TAKEOVER"),
        (pair("high", "easy", false), pair("high", "hard", true))
    );
    // The old scale's names are now unknown, at their lines.
    let l = load(&base_yaml(), toml);
    let d = l.with("risk-unknown-level");
    assert!(
        d.iter()
            .any(|d| d.line == line_of(&base_yaml(), "  severity: critical")),
        "{d:#?}"
    );
    let helps = |scale: &str| {
        d.iter()
            .filter(|d| d.help.as_deref().unwrap().contains(scale))
            .count()
    };
    assert_eq!(
        helps("levels, lowest first: low, high") + helps("levels, lowest first: hard, easy"),
        d.len(),
        "{d:#?}"
    );
}

fn config_errors(toml: &str) -> Vec<(usize, String)> {
    let l = load(&base_yaml(), toml);
    l.diags()
        .into_iter()
        .filter(|d| d.file == "book.toml" && d.code != "history-unavailable")
        .map(|d| (d.line, format!("{}: {}", d.code, d.message)))
        .collect()
}

#[test]
fn matrix_of_the_wrong_size() {
    // book.toml of the fixture has 9 lines; the appended table starts on line 10.
    let rows = "[preprocessor.qms.risk]\nmatrix = [\n  [\"acceptable\"],\n]\n";
    assert_eq!(
        config_errors(rows),
        [(
            11,
            "risk-config: `matrix` has 1 rows but the severity scale has 5 levels".to_owned()
        )]
    );
    let a = "\"acceptable\", ";
    let cells = format!(
        "[preprocessor.qms.risk]\nmatrix = [\n  [{a}{a}{a}{a}\"acceptable\"],\n  [{a}{a}{a}{a}\"acceptable\"],\n  [{a}{a}\"acceptable\"],\n  [{a}{a}{a}{a}\"acceptable\"],\n  [{a}{a}{a}{a}\"acceptable\"],\n]\n"
    );
    let e = config_errors(&cells);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].0, 14);
    assert!(e[0].1.contains("row 3 (serious) has 3 cells"), "{}", e[0].1);
    let bad_cell = cells.replacen(
        "[\"acceptable\", \"acceptable\", \"acceptable\"]",
        "[\"acceptable\", \"ok\", \"acceptable\", \"acceptable\", \"acceptable\"]",
        1,
    );
    let e = config_errors(&bad_cell);
    assert_eq!(
        e,
        [(
            14,
            "risk-config: a `matrix` cell must be \"acceptable\" or \"unacceptable\"".to_owned()
        )]
    );
}

#[test]
fn bad_bands_and_keys() {
    let e = config_errors("[preprocessor.qms.risk]\ncvss-bands = [1.0, 2.0]\n");
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].0, 11);
    assert!(e[0]
        .1
        .contains("2 thresholds but the exploitability scale has 5 levels"));
    let e = config_errors("[preprocessor.qms.risk]\ncvss-bands = [1.0, 2.0, 1.5, 3.0]\n");
    assert_eq!(
        e,
        [(
            11,
            "risk-config: `cvss-bands` thresholds must increase".to_owned()
        )]
    );
    let mut e = config_errors("[preprocessor.qms.risk]\nseverity = [\"a\", \"a\"]\nmatrixx = 1\n");
    e.sort();
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e[0].1.contains("level `a` appears twice") && e[1].1.starts_with("config-unknown-key"),
        "{e:#?}"
    );
    assert_eq!((e[0].0, e[1].0), (11, 12));
}

#[test]
fn default_scales_documented_in_the_book() {
    let s = mdbook_qms::config::risk::RiskConfig::default();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/book/risk.md")).unwrap();
    for level in s.severity.iter().chain(&s.exploitability) {
        assert!(
            text.contains(&format!("`{level}`")),
            "book/risk.md does not name `{level}`"
        );
    }
}
