//! Generated documents: every built-in document renders for the insulin-pump example
//! and for an empty project; escaping, overrides, template diagnostics with the
//! template's file:line, unknown names, gaps, plan facts, generated chapters, and a
//! golden snapshot of two documents for a small fixture.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use mdbook_qms::diag::{Diagnostic, Location};
use mdbook_qms::documents::{self, DOCUMENTS};
use mdbook_qms::load::ChapterSource;
use mdbook_qms::pipeline;
use mdbook_qms::project::Project;

fn example() -> PathBuf {
    crate::support::repo_root().join("examples/insulin-pump")
}

/// Writes a project: book.toml, a SUMMARY listing `chapters`, and the given files.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("book")).unwrap();
    std::fs::create_dir_all(root.join("requirements")).unwrap();
    if !files.iter().any(|(p, _)| *p == "book.toml") {
        std::fs::write(
            root.join("book.toml"),
            "[book]\ntitle = \"Fixture\"\nsrc = \"book\"\n\n[preprocessor.qms]\n",
        )
        .unwrap();
    }
    let mut summary = String::from("# Summary\n\n");
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        if let Some(ch) = path.strip_prefix("book/") {
            if ch != "SUMMARY.md" {
                summary.push_str(&format!("- [{ch}]({ch})\n"));
            }
        }
    }
    if !files.iter().any(|(p, _)| *p == "book/SUMMARY.md") {
        std::fs::write(root.join("book/SUMMARY.md"), summary).unwrap();
    }
    dir
}

fn load(root: &Path) -> Project {
    pipeline::load(root, ChapterSource::Disk).unwrap()
}

fn codes(p: &Project) -> Vec<&'static str> {
    p.diagnostics.0.iter().map(|d| d.code).collect()
}

fn by_code<'a>(p: &'a Project, code: &str) -> Vec<&'a Diagnostic> {
    p.diagnostics.0.iter().filter(|d| d.code == code).collect()
}

/// (file, line) of a diagnostic.
fn place(p: &Project, d: &Diagnostic) -> (String, usize) {
    match d.location {
        Location::Span(s) => {
            let f = p.sources.get(s.file);
            (
                mdbook_qms::source::display_path(&f.path),
                f.line_col(s.start).0,
            )
        }
        Location::File(f) => (mdbook_qms::source::display_path(&p.sources.get(f).path), 0),
        Location::None => (String::new(), 0),
    }
}

#[test]
fn every_document_renders_for_the_example_with_its_title_first() {
    let p = load(&example());
    assert!(!p.diagnostics.has_errors(), "{:?}", by_code(&p, "x"));
    for doc in DOCUMENTS {
        let out = documents::render_standalone(&p, doc.name)
            .unwrap_or_else(|e| panic!("{}: {e}", doc.name));
        let first = out.markdown.lines().next().unwrap();
        assert_eq!(first, format!("# {}", doc.title), "{}", doc.name);
        assert!(
            !out.markdown.contains("{{"),
            "{}: unexpanded template text",
            doc.name
        );
    }
}

#[test]
fn the_example_has_exactly_its_two_deliberate_gaps() {
    let p = load(&example());
    let gaps: Vec<String> = by_code(&p, "document-gap")
        .iter()
        .map(|d| d.message.clone())
        .collect();
    assert_eq!(gaps.len(), 2, "{gaps:#?}");
    assert!(gaps.iter().any(|g| g
        .starts_with("security-labeling: section \"9. Backup and restore")
        && g.contains("backup-restore")));
    assert!(gaps.iter().any(|g| g
        .starts_with("cybersecurity-management-plan: section \"3. Periodic security testing\"")));
    // The gap is at the directive that placed the document.
    let d = by_code(&p, "document-gap")
        .into_iter()
        .find(|d| d.message.starts_with("security-labeling"))
        .unwrap();
    assert_eq!(
        place(&p, d),
        ("book/documents/security-labeling.md".into(), 1)
    );
}

#[test]
fn the_example_labeling_is_assembled_from_its_sources() {
    let p = load(&example());
    let md = documents::render_standalone(&p, "security-labeling")
        .unwrap()
        .markdown;
    for n in 1..=14 {
        assert!(
            md.contains(&format!("\n## {n}. ")),
            "labeling item {n} missing"
        );
    }
    // Ports and interfaces users reach, with protocol, port and endpoints by host; the
    // internal database link is not among them.
    assert!(md.contains("| Interface and purpose | Used by | Protocol | Port | Direction: from → to (the approved endpoints) |"));
    assert!(md.contains("| HTTPS (TLS 1.3, pinned) | 443 | AcmeFlow mobile app (iOS and Android) → AcmeCare cloud API (api.acmecare.example) |"), "{md}");
    assert!(!md.contains("PostgreSQL wire protocol"));
    // Labeling text of a control under its topic, and the transferred risk.
    let backup = md.find("## 9. ").unwrap();
    let decommission = md.find("## 14. ").unwrap();
    assert!(md[decommission..].contains("Erase everything"));
    assert!(md[backup..].contains("**Gap: "));
    let transferred = &md[md.find("## Risks transferred to users").unwrap()..];
    assert!(
        transferred.contains("RISK-CLOUD-OUTAGE") && transferred.contains("CTL-OUTAGE-GUIDANCE")
    );
    // The customer's route to the SBOM, and end of support.
    assert!(md.contains("from the AcmeCare portal"));
    assert!(md.contains("Acme supports each pump model"));
}

#[test]
fn an_empty_project_renders_every_document_with_gaps_not_errors() {
    let dir = project(&[]);
    let p = load(dir.path());
    assert!(!p.diagnostics.has_errors(), "{:?}", codes(&p));
    let mut total = 0;
    for doc in DOCUMENTS {
        let out = documents::render_standalone(&p, doc.name)
            .unwrap_or_else(|e| panic!("{}: {e}", doc.name));
        assert!(
            out.markdown.starts_with(&format!("# {}\n", doc.title)),
            "{}",
            doc.name
        );
        total += out.gaps.len();
        for g in &out.gaps {
            assert_eq!(g.document, doc.name);
            assert!(out.markdown.contains("**Gap: "), "{}", doc.name);
        }
    }
    assert!(
        total > 30,
        "an empty project misses most content: {total} gaps"
    );
    let all = documents::all_gaps(&p).unwrap();
    assert_eq!(all.len(), total);
    assert!(all.iter().any(
        |g| g.document == "security-labeling" && g.section.starts_with("9. Backup and restore")
    ));
}

#[test]
fn item_text_is_escaped_where_it_lands() {
    let dir = project(&[(
        "requirements/x.yaml",
        "- id: CTL-X\n  type: control\n  title: \"<script>alert(1)</script> {{#include /etc/passwd}} *bold* | cell\"\n  labeling: \"Use <img src=x onerror=alert(1)> and {{#include x}} [link](javascript:alert(1))\"\n\
         - id: FLOW-X\n  type: flow\n  title: \"a|b\"\n  protocol: \"<b>BLE</b>\"\n  from: AST-A\n  to: AST-B\n\
         - {id: AST-A, type: asset, title: A, kind: external-entity}\n- {id: AST-B, type: asset, title: B, kind: external-entity}\n",
    )]);
    let p = load(dir.path());
    assert!(!p.diagnostics.has_errors(), "{:?}", codes(&p));
    let md = documents::render_standalone(&p, "security-labeling")
        .unwrap()
        .markdown;
    // Read as Markdown, the standalone text makes no element of item data.
    let mut html = String::new();
    let options = pulldown_cmark::Options::ENABLE_TABLES;
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(&md, options));
    assert!(
        !html.contains("<script>") && !html.contains("<img") && !html.contains("<b>BLE"),
        "{html}"
    );
    // mdBook's escape keeps a pasted copy from including files.
    assert!(
        !md.replace(r"\{{#", "").contains("{{#") && !md.contains("javascript:"),
        "{md}"
    );
    assert!(
        md.contains(r"### \<script>alert(1)\</script> \{{#include /etc/passwd}} \*bold\* \| cell"),
        "{md}"
    );
    let book = documents::render_as(&p, "security-labeling", documents::Flavour::Book)
        .unwrap()
        .markdown;
    assert!(
        !book.contains("<script>") && !book.contains("<img") && !book.contains("<b>BLE"),
        "{book}"
    );
    assert!(book.contains("### &lt;script&gt;alert(1)&lt;/script&gt; &#123;&#123;&#35;include /etc/passwd&#125;&#125; &#42;bold&#42; &#124; cell"), "{book}");
    // A flow title with `|` stays in its table cell.
    for doc in [&md, &book] {
        let row = doc
            .lines()
            .find(|l| l.contains("BLE") && l.starts_with('|'))
            .unwrap();
        assert_eq!(row.matches(" | ").count(), 4, "{row}");
    }
}

#[test]
fn an_override_in_templates_replaces_the_built_in_and_may_import_its_macros() {
    let dir = project(&[
        ("requirements/x.yaml", "id: CTL-X\ntype: control\ntitle: Lock the phone\n"),
        (
            "templates/security-labeling.md.j2",
            "{% import \"qms-macros.md.j2\" as m %}\n# Our {{ document.title }}\n\n{% for c in items.control %}- {{ link(c.id) }} {{ c.title }}\n{% endfor %}{{ gap(\"Extra\", \"our own gap\") }}\n",
        ),
    ]);
    let p = load(dir.path());
    let out = documents::render_standalone(&p, "security-labeling").unwrap();
    assert!(
        out.markdown.starts_with("# Our Security Labeling\n"),
        "{}",
        out.markdown
    );
    assert!(
        out.markdown.contains("- CTL-X Lock the phone"),
        "{}",
        out.markdown
    );
    assert_eq!(out.gaps.len(), 1);
    assert_eq!(
        (out.gaps[0].section.as_str(), out.gaps[0].what.as_str()),
        ("Extra", "our own gap")
    );
    // Other documents still use the built-ins.
    assert!(documents::render_standalone(&p, "sbom")
        .unwrap()
        .markdown
        .starts_with("# Software Bill of Materials"));
}

fn placed_with_override(template: &str) -> (tempfile::TempDir, Project) {
    let dir = project(&[
        (
            "book/labeling.md",
            "# Labeling\n\n{{#qms document security-labeling}}\n",
        ),
        ("templates/security-labeling.md.j2", template),
    ]);
    let p = load(dir.path());
    (dir, p)
}

#[test]
fn a_syntax_error_in_an_override_points_at_its_line() {
    let (_dir, p) = placed_with_override("# T\n\n{% for c in %}\n{% endfor %}\n");
    let d = by_code(&p, "template-syntax");
    assert_eq!(d.len(), 1, "{:?}", codes(&p));
    assert_eq!(
        place(&p, d[0]),
        ("templates/security-labeling.md.j2".into(), 3)
    );
    assert!(
        d[0].message
            .starts_with("security-labeling.md.j2: syntax error"),
        "{}",
        d[0].message
    );
}

#[test]
fn an_undefined_field_in_an_override_points_at_its_line() {
    let (_dir, p) = placed_with_override("# T\n\nok\n{{ document.no_such_field }}\n");
    let d = by_code(&p, "template-error");
    assert_eq!(d.len(), 1, "{:?}", codes(&p));
    assert_eq!(
        place(&p, d[0]),
        ("templates/security-labeling.md.j2".into(), 4)
    );
    assert!(d[0].message.contains("undefined"), "{}", d[0].message);
    // An undefined field of an item is an error too (strict), not an empty string.
    let dir = project(&[
        (
            "requirements/x.yaml",
            "id: CTL-X\ntype: control\ntitle: X\n",
        ),
        (
            "templates/sbom.md.j2",
            "# T\n{% for c in items.control %}{{ c.labelling }}{% endfor %}\n",
        ),
    ]);
    let e = documents::render_standalone(&load(dir.path()), "sbom").unwrap_err();
    assert_eq!((e.code, e.line), ("template-error", Some(2)));
    assert_eq!(e.file.as_deref(), Some(Path::new("templates/sbom.md.j2")));
    assert!(e.to_string().starts_with("templates/sbom.md.j2:2: "), "{e}");
}

#[test]
fn an_error_in_an_included_template_names_that_template() {
    let dir = project(&[
        ("book/labeling.md", "{{#qms document security-labeling}}\n"),
        (
            "templates/security-labeling.md.j2",
            "# T\n{% include \"part.md.j2\" %}\n",
        ),
        ("templates/part.md.j2", "one\ntwo {{ nothing_here }}\n"),
    ]);
    let p = load(dir.path());
    let d = by_code(&p, "template-error");
    assert_eq!(d.len(), 1, "{:?}", codes(&p));
    assert_eq!(place(&p, d[0]), ("templates/part.md.j2".into(), 2));
}

#[test]
fn templates_are_sandboxed() {
    // No path may leave the templates folder through include/import.
    // (`\\\\` is one backslash in the template's string literal.)
    for name in [
        "../book.toml",
        "/etc/passwd",
        "sub/x.md.j2",
        "..\\\\x.md.j2",
    ] {
        let dir = project(&[(
            "templates/sbom.md.j2",
            &*format!("# T\n{{% include \"{name}\" %}}\n"),
        )]);
        std::fs::write(dir.path().join("secret.md.j2"), "SECRET").unwrap();
        let e = documents::render_standalone(&load(dir.path()), "sbom").unwrap_err();
        assert_eq!(e.code, "template-error", "{name}: {e}");
    }
    // A runaway template stops instead of hanging the build.
    let dir = project(&[(
        "templates/sbom.md.j2",
        "# T\n{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}\n",
    )]);
    let e = documents::render_standalone(&load(dir.path()), "sbom").unwrap_err();
    assert_eq!(e.code, "template-error", "{e}");
}

#[cfg(unix)]
#[test]
fn an_override_that_links_outside_the_project_is_not_read() {
    let dir = project(&[("book/s.md", "{{#qms document sbom}}\n")]);
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("sbom.md.j2"), "# stolen\n").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("sbom.md.j2"),
        dir.path().join("templates/sbom.md.j2"),
    )
    .unwrap();
    let p = load(dir.path());
    let d = by_code(&p, "link-outside-project");
    assert_eq!(d.len(), 1, "{:?}", codes(&p));
    assert_eq!(place(&p, d[0]), ("templates/sbom.md.j2".into(), 0));
    // The link is left out, as every reader leaves it out: the built-in is rendered.
    let doc = documents::render_standalone(&p, "sbom").unwrap();
    assert!(!doc.markdown.contains("stolen"), "{}", doc.markdown);
}

#[test]
fn an_unknown_document_name_is_an_error_with_a_suggestion() {
    let dir = project(&[("book/a.md", "# A\n\n{{#qms document security-labelling}}\n")]);
    let p = load(dir.path());
    let d = by_code(&p, "document-unknown");
    assert_eq!(d.len(), 1, "{:?}", codes(&p));
    assert!(
        d[0].message.contains("did you mean `security-labeling`?"),
        "{}",
        d[0].message
    );
    assert_eq!(place(&p, d[0]), ("book/a.md".into(), 3));

    let dir = project(&[(
        "book.toml",
        "[book]\nsrc = \"book\"\n[preprocessor.qms]\ndocuments = [\"nope\"]\n",
    )]);
    let p = load(dir.path());
    let d = by_code(&p, "document-unknown");
    assert_eq!(d.len(), 1, "{:?}", codes(&p));
    assert_eq!(place(&p, d[0]).0, "book.toml");
}

#[test]
fn plan_items_missing_required_facts_are_schema_errors() {
    let dir = project(&[(
        "requirements/plan.yaml",
        "- id: PLAN-PATCH\n  type: plan\n  title: Patching\n  topic: patching\n  regular_cycle: quarterly\n\
         - id: PLAN-CVD\n  type: plan\n  title: CVD\n  topic: disclosure\n  intake: https://x.example\n  acknowledge_days: 3\n  response_days: 30\n\
         - id: ROLE-X\n  type: role\n  title: PSIRT\n\
         - id: DEV-X\n  type: device\n  title: Pump\n  software: true\n  connectivity: [ble]\n",
    )]);
    let p = load(dir.path());
    let req: Vec<(String, Option<String>)> = by_code(&p, "schema-required")
        .iter()
        .map(|d| (d.message.clone(), d.item.clone()))
        .collect();
    assert_eq!(req.len(), 3, "{req:#?}");
    assert!(
        req.iter()
            .any(|(m, i)| m.contains("out_of_cycle_days") && i.as_deref() == Some("PLAN-PATCH")),
        "{req:#?}"
    );
    assert!(
        req.iter()
            .any(|(m, i)| m.contains("responsibilities") && i.as_deref() == Some("ROLE-X")),
        "{req:#?}"
    );
    assert!(
        req.iter()
            .any(|(m, i)| m.contains("intended_use") && i.as_deref() == Some("DEV-X")),
        "{req:#?}"
    );
}

#[test]
fn documents_in_book_toml_become_generated_chapters() {
    let dir = project(&[("book.toml", "[book]\nsrc = \"book\"\n[preprocessor.qms]\ndocuments = [\"security-labeling\", \"sbom\"]\n")]);
    let p = load(dir.path());
    // Placed by book.toml: their gaps are reported in book.toml.
    let gaps = by_code(&p, "document-gap");
    assert!(!gaps.is_empty() && gaps.iter().all(|d| place(&p, d).0 == "book.toml"));
    let rendered = mdbook_qms::render::render(&p);
    let docs: Vec<(String, String)> = rendered
        .generated
        .iter()
        .filter(|c| c.path.starts_with("qms/documents"))
        .map(|c| (mdbook_qms::source::display_path(&c.path), c.name.clone()))
        .collect();
    assert_eq!(
        docs,
        [
            (
                "qms/documents/security-labeling.md".to_owned(),
                "Security Labeling".to_owned()
            ),
            (
                "qms/documents/sbom.md".to_owned(),
                "Software Bill of Materials".to_owned()
            )
        ]
    );

    let dir = project(&[(
        "book.toml",
        "[book]\nsrc = \"book\"\n[preprocessor.qms]\ndocuments = true\n",
    )]);
    assert_eq!(load(dir.path()).config.documents.len(), DOCUMENTS.len());
}

#[test]
fn the_cli_renders_one_document_and_lists_gaps() {
    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["render", "tplc-metrics"])
        .arg(example())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.starts_with("# Total Product Life Cycle Measures and Metrics\n"),
        "{md}"
    );

    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["render", "labeling"])
        .arg(example())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("document-unknown"));

    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("gaps")
        .arg(example())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("no control has `labeling` text with `labeling_topic: backup-restore` (backup and restore of authenticated configuration) (security-labeling: 9. Backup and restore of configuration)"), "{text}");

    // check --format json: the template's file and line.
    let dir = project(&[
        ("book/l.md", "{{#qms document sbom}}\n"),
        ("templates/sbom.md.j2", "# T\n\n{% if %}\n"),
    ]);
    let out = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .args(["check", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = json
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "template-syntax")
        .unwrap();
    assert_eq!(
        (d["file"].as_str(), d["line"].as_u64()),
        (Some("templates/sbom.md.j2"), Some(3))
    );
}

#[test]
fn golden_labeling_and_management_plan_for_a_small_fixture() {
    let dir = project(&[
        (
            "requirements/device.yaml",
            "id: DEV-1\ntype: device\ntitle: Tiny pump\nmodel: T-1\nintended_use: Insulin delivery.\nuse_environment: Use at home.\nsoftware: true\nconnectivity: [ble]\n",
        ),
        (
            "requirements/arch.yaml",
            "- {id: ZONE-A, type: zone, title: Body}\n- {id: ZONE-B, type: zone, title: Phone}\n\
             - {id: AST-PUMP, type: asset, title: Pump, kind: process, zone: ZONE-A}\n- {id: AST-APP, type: asset, title: App, kind: process, zone: ZONE-B}\n\
             - {id: FLOW-CMD, type: flow, title: Bolus commands, from: AST-APP, to: AST-PUMP, protocol: BLE GATT, carries: [commands], controls: CTL-PAIR}\n",
        ),
        (
            "requirements/controls.yaml",
            "- id: CTL-PAIR\n  type: control\n  title: Passkey pairing\n  category: authentication\n  labeling: Pair **only** in private.\n\
             - id: CTL-WIPE\n  type: control\n  title: Factory reset\n  labeling_topic: decommissioning\n  labeling: Reset before disposal.\n\
             - id: RISK-1\n  type: risk\n  title: Stolen phone\n  severity: serious\n  exploitability: low\n  disposition: transfer\n  controls: CTL-PAIR\n  rationale: Users lock phones.\n  approved_by: QA\n  review_by: '2099-01-01'\n",
        ),
        (
            "requirements/plan.yaml",
            "- {id: ROLE-PSIRT, type: role, title: PSIRT, person: Ann, responsibilities: [triage]}\n\
             - {id: PLAN-MON, type: plan, title: Monitoring, topic: monitoring, owner: ROLE-PSIRT, sources: [NVD, CISA KEV], frequency: weekly}\n\
             - {id: PLAN-PATCH, type: plan, title: Patching, topic: patching, regular_cycle: quarterly, out_of_cycle_days: 90}\n",
        ),
    ]);
    let p = load(dir.path());
    assert!(!p.diagnostics.has_errors(), "{:?}", codes(&p));
    insta::assert_snapshot!(
        "fixture_security_labeling",
        documents::render_standalone(&p, "security-labeling")
            .unwrap()
            .markdown
    );
    insta::assert_snapshot!(
        "fixture_management_plan",
        documents::render_standalone(&p, "cybersecurity-management-plan")
            .unwrap()
            .markdown
    );
}

#[test]
fn minimal_items_of_every_type_never_break_a_built_in_template() {
    // Only the required fields, and links to items that lack everything optional.
    let dir = project(&[(
        "requirements/all.yaml",
        "- {id: REQ-1, type: requirement, title: R}\n\
         - {id: ZONE-1, type: zone, title: Z}\n\
         - {id: AST-1, type: asset, title: A}\n\
         - {id: AST-2, type: asset, title: B, zone: ZONE-1}\n\
         - {id: FLOW-1, type: flow, title: F, from: AST-1, to: AST-2}\n\
         - {id: THR-1, type: threat, title: T, targets: FLOW-1}\n\
         - {id: RISK-1, type: risk, title: K, threats: THR-1, disposition: transfer, rationale: r, approved_by: a, review_by: '2099-01-01'}\n\
         - {id: RISK-2, type: risk, title: K2, disposition: accept}\n\
         - {id: CTL-1, type: control, title: C}\n\
         - {id: TST-1, type: test, title: X, verifies: CTL-1}\n\
         - {id: CMP-1, type: component, title: P}\n\
         - {id: VUL-1, type: vulnerability, title: V, components: CMP-1}\n\
         - {id: DEV-1, type: device, title: D, intended_use: u, software: false, connectivity: []}\n\
         - {id: ROLE-1, type: role, title: O, responsibilities: [x]}\n\
         - {id: PLAN-1, type: plan, title: M, topic: monitoring, sources: [NVD], frequency: weekly}\n\
         - {id: PLAN-2, type: plan, title: E, topic: end-of-support, text: t, notice_months: 1}\n\
         - {id: ASM-1, type: assumption, title: S, text: s}\n\
         - {id: VIEW-1, type: view, title: W, view: global-system}\n\
         - {id: ANOM-1, type: anomaly, title: N, security_impact: i, rationale: r}\n",
    )]);
    let p = load(dir.path());
    for doc in DOCUMENTS {
        let out = documents::render_standalone(&p, doc.name)
            .unwrap_or_else(|e| panic!("{}: {e}", doc.name));
        assert!(
            out.markdown.starts_with(&format!("# {}\n", doc.title)),
            "{}",
            doc.name
        );
    }
    let md = documents::render_standalone(&p, "cyber-device-summary")
        .unwrap()
        .markdown;
    assert!(
        md.contains("the device is **not** a cyber device (derived from the criteria above)"),
        "{md}"
    );
    let gaps = documents::all_gaps(&p).unwrap();
    let has = |doc: &str, what: &str| {
        gaps.iter()
            .any(|g| g.document == doc && g.what.contains(what))
    };
    assert!(has(
        "security-labeling",
        "RISK-1 is transferred to users but none of its controls has `labeling` text"
    ));
    assert!(has("risk-assessment", "RISK-2 has no rationale"));
    assert!(has(
        "risk-assessment",
        "RISK-1 has no severity or exploitability"
    ));
    assert!(has("vulnerability-assessment", "VUL-1 has no VEX status"));
    assert!(has("sbom", "CMP-1 has no version"));
    assert!(has("architecture-views", "VIEW-1 has neither a diagram"));
    assert!(
        has("threat-model", "FLOW-1 has no protocol")
            || has("security-labeling", "FLOW-1 has no protocol")
    );
}

/// The Vulnerability Assessment says how each vulnerability was found, and a
/// vulnerability that names its component by purl shows that component's id.
#[test]
fn vulnerabilities_show_how_they_were_found_and_the_component_a_purl_names() {
    let p = load(&example());
    let md = documents::render_standalone(&p, "vulnerability-assessment")
        .unwrap()
        .markdown;
    let row = md
        .lines()
        .find(|l| l.starts_with("| VUL-2025-27809 "))
        .unwrap();
    assert!(
        row.contains(
            "| scanner (OSV match of the pump firmware SBOM in trace/sbom); identified 2025-03-26 |"
        ),
        "{row}"
    );
    assert!(
        row.contains("| CMP-MBEDTLS |") && !row.contains("pkg:github"),
        "written as a purl, shown as the component: {row}"
    );

    let dir = project(&[(
        "requirements/v.yaml",
        "id: VUL-1\ntype: vulnerability\ntitle: Found somehow\nstatus: under_investigation\naction: Triage.\n",
    )]);
    let out = documents::render_standalone(&load(dir.path()), "vulnerability-assessment").unwrap();
    let gap = out
        .gaps
        .iter()
        .find(|g| g.what == "VUL-1 does not say how it was found")
        .unwrap_or_else(|| panic!("{:#?}", out.gaps));
    assert_eq!(
        (gap.fix.item.as_deref(), gap.fix.field.as_deref()),
        (Some("VUL-1"), Some("source"))
    );
}

/// In the template data a link written as a purl is the component's id, so templates
/// can follow it with `item(id)`.
#[test]
fn a_link_written_as_a_purl_is_the_components_id_in_template_data() {
    let dir = project(&[
        (
            "requirements/x.yaml",
            "- {id: CMP-TLS, type: component, title: Mbed TLS, purl: \"pkg:github/Mbed-TLS/mbedtls@v3.6.2\"}\n\
             - {id: VUL-1, type: vulnerability, title: Hostname, components: \"pkg:github/Mbed-TLS/mbedtls@v3.6.2\", status: under_investigation, action: Triage.}\n",
        ),
        (
            "templates/vulnerability-assessment.md.j2",
            "# {{ document.title }}\n\n{% for v in items.vulnerability %}{{ v.components[0] }}: {{ item(v.components[0]).title }}\n{% endfor %}",
        ),
    ]);
    let out = documents::render_standalone(&load(dir.path()), "vulnerability-assessment").unwrap();
    assert!(
        out.markdown.contains("CMP-TLS: Mbed TLS"),
        "{}",
        out.markdown
    );
}
