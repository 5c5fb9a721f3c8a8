//! The threat-model pictures in a real browser: builds the insulin-pump example with
//! the library, opens it in headless Chromium (through chromedriver) from disk, with no
//! network, and checks that the data-flow diagram is drawn (non-empty, every asset and
//! flow present and on the canvas), that its links lead to the cards, and that the heat
//! maps count every risk.
//!
//! Needs `chromedriver` and Chromium on PATH (or `CHROMEDRIVER` / `CHROME_BIN`); fails
//! with a clear message without them, unless `QMS_SKIP_BROWSER=1`.
//! `QMS_RISK_SCREENSHOT=DIR` also saves screenshots of the diagram and heat maps there.

use std::path::{Path, PathBuf};

use crate::support::webdriver::{self, file_url, wait_for, Browser};
use mdbook_qms::load::ChapterSource;
use mdbook_qms::pipeline;
use serde_json::{json, Value};

fn start_browser() -> Option<Browser> {
    webdriver::start_for_tests(1280, 900)
}

fn open(b: &Browser, page: &Path) {
    let url = file_url(page);
    b.goto(&url).unwrap();
    wait_for(
        b,
        "return document.readyState === 'complete'",
        "the page to load",
    );
}

fn screenshot(b: &Browser, name: &str) {
    if let Ok(dir) = std::env::var("QMS_RISK_SCREENSHOT") {
        std::fs::write(PathBuf::from(dir).join(name), b.screenshot().unwrap()).unwrap();
    }
}

/// What the browser drew for the first data-flow diagram on the page.
const DFD_FACTS: &str = r#"
const svg = document.querySelector('svg.qms-dfd');
if (!svg) return null;
const box = svg.getBoundingClientRect();
const inside = r => r.width > 0 && r.height > 0 && r.left >= box.left - 1 && r.right <= box.right + 1
  && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
const nodes = Array.from(svg.querySelectorAll('.qms-dfd-node')).map(n => {
  const r = n.getBoundingClientRect();
  return { id: n.dataset.id, href: n.getAttribute('href'), drawn: inside(r), text: n.textContent };
});
const flows = Array.from(svg.querySelectorAll('a.qms-dfd-flow path')).map(p => ({
  id: p.closest('a').dataset.id,
  length: p.getTotalLength(),
  marker: getComputedStyle(p).markerEnd || p.getAttribute('marker-end'),
}));
const zones = Array.from(svg.querySelectorAll('.qms-dfd-zone')).map(z => ({
  id: z.dataset.id, drawn: inside(z.querySelector('rect').getBoundingClientRect()),
}));
const stroke = svg.querySelector('.qms-dfd-zone > rect');
return {
  width: box.width, height: box.height,
  nodes, flows, zones,
  zoneStroke: stroke ? getComputedStyle(stroke).strokeDasharray : null,
  legend: document.querySelector('.qms-dfd-legend').querySelectorAll('li').length,
};
"#;

#[test]
fn dfd_and_heatmap_in_the_built_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/insulin-pump");
    let project = pipeline::load(&root, ChapterSource::Disk).unwrap();
    let items = &project.items;
    let assets: Vec<&str> = items
        .iter()
        .filter(|i| i.ty == "asset" && i.text("kind") != Some("data"))
        .map(|i| i.id.as_str())
        .collect();
    let flows: Vec<&str> = items
        .iter()
        .filter(|i| i.ty == "flow")
        .map(|i| i.id.as_str())
        .collect();
    let zones: Vec<&str> = items
        .iter()
        .filter(|i| i.ty == "zone")
        .map(|i| i.id.as_str())
        .collect();
    let risks = items.iter().filter(|i| i.ty == "risk").count();
    assert!(assets.len() > 10 && flows.len() > 10 && risks > 5);

    let Some(b) = start_browser() else { return };
    let out = tempfile::tempdir().unwrap();
    let built = mdbook_qms::preprocess::build(&root, Some(&out.path().join("html")))
        .unwrap_or_else(|e| panic!("build failed: {e}"));

    // The diagram: drawn, with every element on the canvas.
    let page = built.join("architecture.html");
    open(&b, &page);
    let f: Value = b.js(DFD_FACTS, &[]).unwrap();
    assert!(f.is_object(), "no svg.qms-dfd on architecture.html");
    assert!(
        f["width"].as_f64().unwrap() > 600.0 && f["height"].as_f64().unwrap() > 300.0,
        "{f}"
    );
    let ids = |key: &str| -> Vec<String> {
        let mut v: Vec<String> = f[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let mut want: Vec<String> = assets.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(
        ids("nodes"),
        want,
        "the diagram's nodes are not the project's assets"
    );
    let mut want: Vec<String> = flows.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(
        ids("flows"),
        want,
        "the diagram's arrows are not the project's flows"
    );
    let mut want: Vec<String> = zones.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(ids("zones"), want);
    for n in f["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(f["zones"].as_array().unwrap())
    {
        assert_eq!(n["drawn"], json!(true), "not drawn inside the diagram: {n}");
    }
    for fl in f["flows"].as_array().unwrap() {
        assert!(
            fl["length"].as_f64().unwrap() > 10.0,
            "flow arrow too short to see: {fl}"
        );
        assert!(
            fl["marker"].as_str().unwrap_or_default().contains("url("),
            "flow without arrowhead: {fl}"
        );
    }
    assert_ne!(
        f["zoneStroke"],
        json!("none"),
        "zone boundaries are not dashed: {f}"
    );
    assert_eq!(f["legend"].as_u64().unwrap() as usize, flows.len());
    screenshot(&b, "dfd.png");

    // Links work: a node opens its card, a flow badge its flow card.
    for (selector, id) in [
        (".qms-dfd-node[data-id='AST-PUMP-FW']", "AST-PUMP-FW"),
        // On a generated page of its own.
        (".qms-dfd-node[data-id='AST-CGM']", "AST-CGM"),
        (
            "a.qms-dfd-badge[data-id='FLOW-APP-PUMP-CMD']",
            "FLOW-APP-PUMP-CMD",
        ),
    ] {
        open(&b, &page);
        let el = b
            .js(
                &format!("return document.querySelector(\"svg.qms-dfd {selector}\");"),
                &[],
            )
            .unwrap();
        assert!(el.is_object(), "{selector} not found");
        b.click(&el).unwrap();
        wait_for(
            &b,
            &format!("return location.hash === '#{id}' && document.readyState === 'complete'"),
            &format!("{id} to open"),
        );
        let card = b.js(&format!("const e = document.getElementById('{id}'); return !!e && e.classList.contains('qms-card-title');"), &[]).unwrap();
        assert_eq!(
            card,
            json!(true),
            "the link of {id} does not lead to its card (at {})",
            b.url().unwrap()
        );
    }

    // The heat maps: two matrices, each counting every risk once.
    open(&b, &built.join("risk-assessment.html"));
    let counts = b
        .js(
            "return Array.from(document.querySelectorAll('table.qms-heatmap')).map(t => \
               Array.from(t.querySelectorAll('td')).reduce((n, td) => n + Number(td.dataset.count), 0));",
            &[],
        )
        .unwrap();
    assert_eq!(
        counts,
        json!([risks, risks]),
        "heat maps do not count every risk"
    );
    let links = b
        .js(
            "return document.querySelectorAll('table.qms-heatmap td a.qms-ref').length;",
            &[],
        )
        .unwrap();
    assert_eq!(links, json!(2 * risks));
    screenshot(&b, "heatmap.png");

    // The STRIDE table has a row per element and no gap.
    open(&b, &built.join("threat-model.html"));
    let rows = b.js("return [document.querySelectorAll('table.qms-stride tbody tr').length, document.querySelectorAll('table.qms-stride td.qms-st-gap').length];", &[]).unwrap();
    assert_eq!(rows, json!([assets.len() + flows.len(), 0]));
}
