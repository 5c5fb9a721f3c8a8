//! Architecture views and the threat model draw their diagrams in the document: a view's
//! data-flow diagram holds exactly what the view shows (and the zones around it), a
//! security use case's sequence and call flow follow the order of `shows`, the threat
//! model embeds the data-flow diagram and the STRIDE table, in `render` output and in
//! the built book; a view with `not_applicable` and content is reported.

use std::collections::BTreeSet;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

use crate::support::builder::Built;
use crate::support::ProjectBuilder;
use mdbook_qms::documents;

/// Zones nest NET > A > A1 and NET > B, C; a process in A, A1 and C, an entity in B.
const MODEL: &str = "\
- {id: ZONE-NET, type: zone, title: Network, trust: 0}
- {id: ZONE-A, type: zone, title: Device, trust: 2, parent: ZONE-NET}
- {id: ZONE-A1, type: zone, title: Secure element, trust: 3, parent: ZONE-A}
- {id: ZONE-B, type: zone, title: User, trust: 1, parent: ZONE-NET}
- {id: ZONE-C, type: zone, title: Cloud, trust: 1, parent: ZONE-NET}
- {id: AST-X, type: asset, title: Firmware, kind: process, zone: ZONE-A}
- {id: AST-Y, type: asset, title: Key store, kind: process, zone: ZONE-A1}
- {id: AST-Z, type: asset, title: User, kind: external-entity, zone: ZONE-B}
- {id: AST-W, type: asset, title: Cloud API, kind: process, zone: ZONE-C}
- {id: AST-D, type: asset, title: Settings, kind: data}
- {id: FLOW-XY, type: flow, title: Firmware reads keys, from: AST-X, to: AST-Y, protocol: SPI}
- {id: FLOW-ZX, type: flow, title: User commands, from: AST-Z, to: AST-X, protocol: BLE, data: AST-D, controls: CTL-1}
- {id: FLOW-WZ, type: flow, title: Cloud notifies the user, from: AST-W, to: AST-Z, protocol: HTTPS}
- {id: FLOW-YW, type: flow, title: Keys escrowed, from: AST-Y, to: AST-W}
- {id: CTL-1, type: control, title: Commands are authenticated}
- {id: VIEW-G, type: view, title: Global, view: global-system, shows: [ZONE-A]}
- {id: VIEW-M, type: view, title: Many patients, view: multi-patient-harm, shows: [FLOW-ZX, CTL-1]}
- {id: VIEW-N, type: view, title: Updates, view: updatability-patchability, not_applicable: No updates.}
- {id: VIEW-UC, type: view, title: Use, view: security-use-case, shows: [FLOW-WZ, FLOW-ZX, FLOW-XY]}
";

fn project() -> Built {
    ProjectBuilder::new()
        .file("requirements/model.yaml", MODEL)
        .build()
}

/// The document as the book shows it: diagrams as inline SVG.
fn render(built: &Built, name: &str) -> String {
    documents::render_as(&built.load(), name, documents::Flavour::Book)
        .unwrap()
        .markdown
}

/// The SVG of every picture of standalone Markdown, decoded from its `data:` URL.
fn pictures(markdown: &str) -> Vec<(String, String)> {
    use base64::Engine as _;
    markdown
        .match_indices("![")
        .map(|(i, _)| {
            let rest = &markdown[i + 2..];
            let (alt, rest) = rest.split_once("](data:image/svg+xml;base64,").unwrap();
            let data = &rest[..rest.find(')').unwrap()];
            let svg = base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap();
            (alt.to_owned(), String::from_utf8(svg).unwrap())
        })
        .collect()
}

/// Standalone, a diagram is a picture that needs nothing else: the same SVG with its
/// styles inside; the STRIDE table is a Markdown table; no HTML is left.
#[test]
fn standalone_diagrams_are_self_contained_pictures_and_markdown() {
    let built = project();
    let book = render(&built, "architecture-views");
    let md = documents::render_standalone(&built.load(), "architecture-views")
        .unwrap()
        .markdown;
    let shown = pictures(&md);
    assert_eq!(
        shown.len(),
        3,
        "the global, multi-patient and use-case views: {md}"
    );
    for (alt, svg) in &shown {
        assert!(
            svg.starts_with("<svg ") && svg.ends_with("</svg>"),
            "{alt}: {svg}"
        );
        let open = svg.find('>').unwrap();
        assert!(
            svg[..open].contains("xmlns=\"http://www.w3.org/2000/svg\""),
            "{alt}"
        );
        assert!(
            svg[open + 1..].starts_with("<style>"),
            "{alt}: the styles inside"
        );
        // The shapes are the book's, without the links into the book.
        assert!(!svg.contains("<a ") && !svg.contains("</a>"), "{alt}");
        // The links' classes stay (the styles select on them), as plain groups.
        assert!(
            svg.contains("<g class=\"qms-dfd-node") || svg.contains("<g class=\"qms-seq"),
            "{alt}: {svg}"
        );
        let body = &svg[svg.find("</style>").unwrap() + "</style>".len()..];
        let first_shape = &body[..body.find('>').unwrap()];
        assert!(book.contains(first_shape), "{alt}");
    }
    assert!(shown.iter().any(|(alt, _)| alt == "Global"));
    let without_pictures: String = md
        .lines()
        .filter(|l| !l.starts_with("!["))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!without_pictures.contains('<'), "{without_pictures}");

    let threat_model = documents::render_standalone(&built.load(), "threat-model")
        .unwrap()
        .markdown;
    assert!(
        threat_model.contains("| Element | Kind | S | T | R | I | D | E |\n| --- |"),
        "{threat_model}"
    );
    assert!(
        threat_model.contains("| AST-Z | external-entity |"),
        "{threat_model}"
    );
    assert!(!threat_model.contains("<table"), "{threat_model}");
}

/// The section of `doc` under the heading `### TITLE`.
fn section<'d>(doc: &'d str, title: &str) -> &'d str {
    let start = doc
        .find(&format!("### {title}\n"))
        .unwrap_or_else(|| panic!("no section {title}:\n{doc}"));
    let rest = &doc[start + 4..];
    &rest[..rest.find("\n#").unwrap_or(rest.len())]
}

/// The `data-id`s of the SVG elements whose class starts with `class`, in order.
fn ids(svg: &str, class: &str) -> Vec<String> {
    svg.split(&format!("class=\"{class}"))
        .skip(1)
        .filter_map(|tag| {
            let tag = &tag[..tag.find('>')?];
            let at = tag.find("data-id=\"")? + 9;
            Some(tag[at..at + tag[at..].find('"')?].to_owned())
        })
        .collect()
}

fn set(list: Vec<String>) -> BTreeSet<String> {
    list.into_iter().collect()
}

fn strings(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_view_draws_exactly_what_it_shows_inside_its_zones() {
    let built = project();
    let doc = render(&built, "architecture-views");
    assert!(
        !doc.contains("<qms-diagram"),
        "a placeholder is left:\n{doc}"
    );

    // A zone shows what is inside it: its assets, child zones and the flows between them;
    // the zones around it are drawn as boundaries.
    let global = section(&doc, "Global");
    assert_eq!(
        global.matches("<svg class=\"qms-dfd\"").count(),
        1,
        "{global}"
    );
    assert_eq!(
        set(ids(global, "qms-dfd-node")),
        strings(&["AST-X", "AST-Y"])
    );
    assert_eq!(
        set(ids(global, "qms-dfd-zone")),
        strings(&["ZONE-A", "ZONE-A1", "ZONE-NET"])
    );
    assert_eq!(set(ids(global, "qms-dfd-flow")), strings(&["FLOW-XY"]));

    // A flow brings its ends (in their zones); a control is listed with its flow.
    let many = section(&doc, "Many patients");
    assert_eq!(set(ids(many, "qms-dfd-node")), strings(&["AST-X", "AST-Z"]));
    assert_eq!(
        set(ids(many, "qms-dfd-zone")),
        strings(&["ZONE-A", "ZONE-B", "ZONE-NET"])
    );
    assert_eq!(set(ids(many, "qms-dfd-flow")), strings(&["FLOW-ZX"]));
    assert!(many.contains("Also shown: "), "{many}");
    assert!(
        many.contains("Commands are authenticated (on flow 1)"),
        "{many}"
    );
    assert_ne!(
        global.split("marker id=\"").nth(1).map(|s| &s[..20]),
        many.split("marker id=\"").nth(1).map(|s| &s[..20]),
        "two diagrams on a page share an arrowhead id"
    );

    // Not applicable: the justification, no diagram.
    let updates = section(&doc, "Updates");
    assert!(updates.contains("Not applicable: "), "{updates}");
    assert!(!updates.contains("<svg"), "{updates}");
}

#[test]
fn a_security_use_case_follows_the_order_of_its_flows() {
    let built = project();
    let doc = render(&built, "architecture-views");
    let uc = section(&doc, "Use");
    // The sequence diagram: one arrow per flow, numbered in the order of `shows`.
    let steps: Vec<&str> = uc
        .split("class=\"qms-seq-step\"")
        .skip(1)
        .filter_map(|s| {
            let at = s.find("<title>")? + 7;
            Some(&s[at..at + s[at..].find(':')?])
        })
        .collect();
    assert_eq!(steps, ["1. FLOW-WZ", "2. FLOW-ZX", "3. FLOW-XY"], "{uc}");
    // Lifelines in order of first appearance.
    assert_eq!(
        ids(uc, "qms-seq-part"),
        ["AST-W", "AST-Z", "AST-X", "AST-Y"]
    );
    // The call flow, numbered as the arrows are, with from, to, protocol and controls.
    let list: Vec<&str> = uc
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(list.len(), 3, "{uc}");
    for (n, (line, flow)) in list
        .iter()
        .zip(["FLOW-WZ", "FLOW-ZX", "FLOW-XY"])
        .enumerate()
    {
        assert!(line.starts_with(&format!("{}. ", n + 1)), "{line}");
        assert!(line.contains(flow), "{line}");
    }
    assert!(list[0].contains("protocol: HTTPS"), "{}", list[0]);
    assert!(
        list[1].contains("CTL-1") && list[1].contains("AST-D"),
        "{}",
        list[1]
    );
    // A use case is drawn as a sequence, not as a data-flow diagram.
    assert!(!uc.contains("qms-dfd-node"), "{uc}");
}

#[test]
fn the_threat_model_embeds_the_data_flow_diagram_and_the_stride_table() {
    let built = project();
    let doc = render(&built, "threat-model");
    let dfd = &doc[doc.find("## 7. Data-flow diagram").expect("section 7")..];
    let dfd = &dfd[..dfd.find("## 8.").expect("section 8")];
    assert!(dfd.contains("<svg class=\"qms-dfd\""), "{dfd}");
    // The whole diagram: every asset that is not data, every flow.
    assert_eq!(
        set(ids(dfd, "qms-dfd-node")),
        strings(&["AST-W", "AST-X", "AST-Y", "AST-Z"])
    );
    assert_eq!(
        set(ids(dfd, "qms-dfd-flow")),
        strings(&["FLOW-WZ", "FLOW-XY", "FLOW-YW", "FLOW-ZX"])
    );
    let stride = &doc[doc.find("## 8. STRIDE per element").expect("section 8")..];
    assert!(stride.contains("<table class=\"qms-stride\">"), "{stride}");
    for element in ["AST-X", "AST-Z", "FLOW-ZX"] {
        assert!(
            stride.contains(&format!("<tr data-id=\"{element}\">")),
            "{element}: {stride}"
        );
    }
}

#[test]
fn the_diagrams_are_html_in_the_built_book() {
    let built = ProjectBuilder::new()
        .toml("documents = [\"architecture-views\", \"threat-model\"]\n")
        .file("requirements/model.yaml", MODEL)
        .build();
    let out = built.path().join("site");
    let run = Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("build")
        .arg(built.path())
        .arg("--dest-dir")
        .arg(&out)
        .env("MDBOOK_QMS_TODAY", "2026-12-03")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let page = |name: &str| {
        std::fs::read_to_string(out.join(format!("qms/documents/{name}.html"))).unwrap()
    };
    let views = page("architecture-views");
    // Two data-flow diagrams and a sequence, as SVG, not as text or in a paragraph.
    assert_eq!(views.matches("<svg class=\"qms-dfd\"").count(), 2, "views");
    assert_eq!(views.matches("<svg class=\"qms-seq\"").count(), 1, "views");
    assert!(!views.contains("&lt;svg") && !views.contains("<p><style>"));
    // Links in a diagram lead to the cards from the document's page.
    assert!(views.contains("href=\"../../qms/asset/requirements/model.html#AST-X\""));
    let threats = page("threat-model");
    assert!(threats.contains("<svg class=\"qms-dfd\""));
    assert!(threats.contains("<table class=\"qms-stride\">"));
}

#[test]
fn a_view_with_not_applicable_and_content_is_reported_and_one_without_is_not() {
    let code = "view-not-applicable-with-content";
    let fired = |p: &Built| -> Vec<String> {
        p.load()
            .diagnostics
            .0
            .iter()
            .filter(|d| d.code == code)
            .map(|d| d.message.clone())
            .collect()
    };
    // VIEW-N has only its justification.
    assert!(fired(&project()).is_empty());
    for content in [
        "text: It does.",
        "diagram: img/updates.svg",
        "shows: [AST-X]",
    ] {
        let model = MODEL.replace(
            "not_applicable: No updates.}",
            &format!("not_applicable: No updates., {content}}}"),
        );
        let p = ProjectBuilder::new()
            .file("requirements/model.yaml", &model)
            .build();
        let found = fired(&p);
        let field = content.split(':').next().unwrap();
        assert_eq!(found.len(), 1, "{content}: {found:?}");
        assert!(found[0].contains(&format!("`{field}`")), "{found:?}");
    }
}
