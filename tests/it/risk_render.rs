//! Golden tests of the data-flow diagram, the heat maps and the STRIDE table, rendered
//! from tests/fixtures/risk; plus the structure a reviewer relies on (links, counts).
//! Refresh with `cargo insta review` after a deliberate change, and look at the result.

use mdbook_qms::load::ChapterSource;
use mdbook_qms::pipeline;

fn rendered() -> String {
    let project = pipeline::load(&crate::support::risk::fixture(), ChapterSource::Disk).unwrap();
    assert!(!project.diagnostics.has_errors());
    mdbook_qms::render::render(&project).chapters.remove(0)
}

/// The piece of the chapter produced by the directive at position `n` (0-based), split
/// on the blank lines that separate the directives in the fixture chapter.
fn part(n: usize) -> String {
    let page = rendered();
    let body = page.split_once("\n\n# Threat model\n\n").unwrap().1;
    body.split("\n\n").nth(n).unwrap().to_owned()
}

/// One element per line, so a snapshot diff shows what moved.
fn lines(html: &str) -> String {
    html.replace("><", ">\n<")
}

#[test]
fn dfd_golden() {
    insta::assert_snapshot!("dfd_all", lines(&part(0)));
    insta::assert_snapshot!("dfd_zone", lines(&part(1)));
}

#[test]
fn heatmap_golden() {
    insta::assert_snapshot!("heatmap_both", lines(&part(2)));
    insta::assert_snapshot!("heatmap_after", lines(&part(3)));
}

#[test]
fn stride_golden() {
    insta::assert_snapshot!("stride", lines(&part(4)));
}

#[test]
fn dfd_draws_zones_nodes_and_linked_flows() {
    let svg = part(0);
    for id in ["ZONE-OUT", "ZONE-DEV", "AST-USER", "AST-APP", "AST-DB"] {
        assert!(svg.contains(&format!("data-id=\"{id}\"")), "{id} missing");
    }
    // Data assets are what flows carry, not boxes.
    assert!(!svg.contains("data-id=\"AST-DATA\""));
    // Three flows, three arrows, each linking to its card; the legend names them.
    assert_eq!(svg.matches("marker-end=").count(), 3);
    assert!(
        svg.contains(r##"href="qms/flow/requirements/model.html#FLOW-LOGIN""##),
        "{svg}"
    );
    assert!(svg.contains("<li value=\"3\">"));
    // Titles are escaped.
    assert!(svg.contains("Outside world &lt;untrusted&gt;") && svg.contains("User &amp; operator"));
    // The scoped diagram shows the zone, and the user outside it.
    let scoped = part(1);
    assert!(scoped.contains("Outside ZONE-DEV") && scoped.contains("data-id=\"AST-USER\""));
    assert!(!scoped.contains("data-id=\"ZONE-OUT\""));
    // Deterministic.
    assert_eq!(part(0), svg);
}

#[test]
fn heatmap_counts_and_links_every_risk() {
    let both = part(2);
    assert_eq!(both.matches("<table class=\"qms-heatmap").count(), 2);
    // Before: RISK-TAKEOVER critical x very-high is unacceptable.
    assert!(
        both.contains("(3 risks, 1 unacceptable)") && both.contains("(3 risks, 0 unacceptable)"),
        "{both}"
    );
    assert!(both.contains(
        r#"title="critical severity, very-high exploitability: unacceptable" data-count="1""#
    ));
    let after = part(3);
    assert_eq!(after.matches("<table class=\"qms-heatmap").count(), 1);
    assert_eq!(after.matches("class=\"qms-ref\"").count(), 3);
}

#[test]
fn stride_table_marks_threats_reasons_and_gaps() {
    let t = part(4);
    assert!(t.contains("6 elements") && t.contains("0 gaps"), "{t}");
    assert!(t.contains("n/a: An in-process call."));
    assert_eq!(
        t.matches("qms-st-gap").count(),
        1,
        "only the style rule mentions gaps"
    );
}

/// A `parent` chain of zones as long as a large project: drawn without deep recursion
/// (zones deeper than the nesting limit are drawn next to their parent), every zone
/// once, and the asset in the deepest one.
#[test]
fn dfd_of_a_deep_zone_chain_draws_every_zone() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut yaml = String::new();
    for n in 1..=5_000 {
        yaml += &format!("- id: ZONE-{n:05}\n  type: zone\n  title: Zone {n}\n");
        if n > 1 {
            yaml += &format!("  parent: ZONE-{:05}\n", n - 1);
        }
    }
    yaml += "- id: AST-DEEP\n  type: asset\n  title: Deep\n  kind: process\n  zone: ZONE-05000\n";
    for (rel, text) in [
        (
            "book.toml",
            "[book]\ntitle = \"Zones\"\nsrc = \"book\"\n[preprocessor.qms]\n",
        ),
        ("book/SUMMARY.md", "# Summary\n\n- [Model](model.md)\n"),
        ("book/model.md", "# Model\n\n{{#qms dfd}}\n"),
        ("requirements/zones.yaml", &yaml),
    ] {
        std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
        std::fs::write(root.join(rel), text).unwrap();
    }
    let project = pipeline::load(root, ChapterSource::Disk).unwrap();
    assert!(!project.diagnostics.has_errors());
    let page = mdbook_qms::render::render(&project).chapters.remove(0);
    assert_eq!(page.matches("class=\"qms-dfd-zone\"").count(), 5_000);
    assert!(page.contains("data-id=\"AST-DEEP\""));
}
