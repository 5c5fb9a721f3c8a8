//! End-to-end test of the rendered book in a real browser: builds a book with the
//! library, then drives headless Chromium through chromedriver (WebDriver) over it.
//!
//! Needs `chromedriver` and Chromium on PATH (or `CHROMEDRIVER` / `CHROME_BIN`); fails
//! with a clear message without them, unless `QMS_SKIP_BROWSER=1`.
//! `QMS_WRITE_SCREENSHOT=1` also refreshes `book/images/example-page.png`.

use crate::support::webdriver::{self, file_url, wait_for, Browser};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One Chromium at a time: the machine and CI runners are small.
static BROWSER_LOCK: Mutex<()> = Mutex::new(());

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;

fn start_browser() -> Option<Browser> {
    webdriver::start_for_tests(WIDTH, HEIGHT)
}

fn build(rel: &str) -> (tempfile::TempDir, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("html");
    let built = mdbook_qms::preprocess::build(&root, Some(&dest))
        .unwrap_or_else(|e| panic!("building {rel} failed:\n{e}"));
    (out, built)
}

/// Every HTML page of the built book, relative to its root, sorted.
fn pages(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| e.path().strip_prefix(root).unwrap().to_path_buf())
        .collect();
    out.sort();
    out
}

/// Pages a reader opens: everything but mdBook's 404 page (which assumes it is
/// served from the site root) and the sidebar fragment.
fn reader_pages(root: &Path) -> Vec<PathBuf> {
    pages(root)
        .into_iter()
        .filter(|p| p != Path::new("404.html") && p != Path::new("toc.html"))
        .collect()
}

/// Joins a relative href's path part onto a page, resolving `..`.
fn resolve(page: &Path, href_path: &str) -> PathBuf {
    if href_path.is_empty() {
        return page.to_path_buf();
    }
    let mut out = PathBuf::new();
    for c in page
        .parent()
        .unwrap_or(Path::new(""))
        .join(href_path)
        .components()
    {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

/// `(href, text)` of each `a.qms-ref` in the HTML.
fn refs(html: &str) -> Vec<(String, String)> {
    html.match_indices("<a class=\"qms-ref\"")
        .map(|(at, _)| {
            let rest = &html[at..];
            let tag = &rest[..rest.find('>').unwrap()];
            let text = &rest[tag.len() + 1..rest.find("</a>").unwrap()];
            (
                attr(tag, "href").unwrap().replace("&amp;", "&"),
                // `<wbr>` only offers line breaks (long ids in narrow cells).
                text.replace("<wbr>", ""),
            )
        })
        .collect()
}

/// Ids of item cards in the HTML, in order.
fn card_ids(html: &str) -> Vec<String> {
    html.match_indices("<div class=\"qms-card ")
        .filter_map(|(at, _)| {
            attr(&html[at..at + html[at..].find("</h4>")?], "id").map(str::to_owned)
        })
        .collect()
}

fn all_ids(html: &str) -> BTreeSet<String> {
    html.match_indices(" id=\"")
        .filter_map(|(at, m)| {
            let rest = &html[at + m.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect()
}

/// Reads the built HTML: every ref resolves to a page holding an element with that
/// id, all refs to one item agree on its page, and no page repeats a card.
/// Returns each item's page.
fn check_links_in_files(root: &Path) -> BTreeMap<String, PathBuf> {
    let html: BTreeMap<PathBuf, String> = pages(root)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read_to_string(root.join(&p)).unwrap()))
        .collect();
    let ids: BTreeMap<&PathBuf, BTreeSet<String>> =
        html.iter().map(|(p, h)| (p, all_ids(h))).collect();
    let mut homes: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut checked = 0;
    for (page, text) in &html {
        let cards = card_ids(text);
        let unique: BTreeSet<&String> = cards.iter().collect();
        assert_eq!(
            unique.len(),
            cards.len(),
            "{}: a card appears twice: {cards:?}",
            page.display()
        );
        for (href, label) in refs(text) {
            assert!(
                !href.contains("://"),
                "{}: ref {label} leaves the book: {href}",
                page.display()
            );
            let (path, fragment) = href.split_once('#').unwrap_or_else(|| {
                panic!("{}: ref {label} has no fragment: {href}", page.display())
            });
            assert_eq!(
                fragment,
                label,
                "{}: ref text and target differ",
                page.display()
            );
            let target = resolve(page, path);
            let target_ids = ids.get(&target).unwrap_or_else(|| {
                panic!("{}: ref {href} points to a missing page", page.display())
            });
            assert!(
                target_ids.contains(fragment),
                "{}: ref {href}: {} has no element with id {fragment}",
                page.display(),
                target.display()
            );
            // print.html holds every chapter, so its refs are page-local.
            if page != Path::new("print.html") {
                let home = homes
                    .entry(fragment.to_owned())
                    .or_insert_with(|| target.clone());
                assert_eq!(
                    *home,
                    target,
                    "{}: refs to {fragment} disagree on its page",
                    page.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "no qms-ref links in the book");
    eprintln!(
        "files: {} pages, {checked} ref links resolved, {} items referenced",
        html.len(),
        homes.len()
    );
    homes
}

/// Per page, in the browser: what a reader sees.
const PAGE_FACTS: &str = r#"
const cards = Array.from(document.querySelectorAll('.qms-card'));
return {
  title: document.title,
  main: !!document.querySelector('main h1, main h2, main .qms-card'),
  cards: cards.length,
  cardBorders: cards.map(c => parseFloat(getComputedStyle(c).borderTopWidth) || 0),
  cardScripts: document.querySelectorAll('.qms-card script, .qms-table script, .qms-matrix script').length,
  jsLinks: document.querySelectorAll('.qms-card a[href^="javascript:" i]').length,
  refs: Array.from(document.querySelectorAll('a.qms-ref')).map(a => [a.href, a.textContent]),
  matrices: Array.from(document.querySelectorAll('table.qms-matrix')).map(t => ({
    caption: t.caption ? t.caption.textContent : null,
    captionVisible: !!t.caption && t.caption.getBoundingClientRect().height > 0,
    rows: t.tBodies[0] ? t.tBodies[0].rows.length : 0,
    uncovered: Array.from(t.querySelectorAll('tbody tr.qms-uncovered')).map(r => ({
      id: r.cells[0].textContent,
      background: getComputedStyle(r.cells[0]).backgroundColor,
      gap: !!r.querySelector('.qms-gap'),
    })),
  })),
  tables: document.querySelectorAll('table.qms-table').length,
};
"#;

struct Seen {
    cards: usize,
    matrices: usize,
    uncovered: usize,
    /// Target page URL (no fragment) -> ids expected there.
    targets: BTreeMap<String, BTreeSet<String>>,
}

fn check_page(b: &Browser, root: &Path, page: &Path, seen: &mut Seen) {
    let url = file_url(&root.join(page));
    b.goto(&url).unwrap();
    wait_for(
        b,
        "return document.readyState === 'complete'",
        &format!("{} to load", page.display()),
    );
    assert_eq!(b.url().unwrap(), url, "{} redirected", page.display());
    assert_eq!(
        b.alert_text(),
        None,
        "{}: a script in the page opened an alert",
        page.display()
    );
    let f = b.js(PAGE_FACTS, &[]).unwrap();
    let name = page.display();
    assert!(
        f["main"] == json!(true),
        "{name}: no content in <main>: {f}"
    );
    assert!(
        !f["title"].as_str().unwrap_or_default().is_empty(),
        "{name}: empty <title>"
    );
    assert_eq!(
        f["cardScripts"],
        json!(0),
        "{name}: a <script> element inside rendered items"
    );
    assert_eq!(
        f["jsLinks"],
        json!(0),
        "{name}: a javascript: link inside a card"
    );
    for w in f["cardBorders"].as_array().unwrap() {
        assert!(
            w.as_f64().unwrap() > 0.0,
            "{name}: a .qms-card has no border: the card CSS is not applied"
        );
    }
    seen.cards += f["cards"].as_u64().unwrap() as usize;

    for m in f["matrices"].as_array().unwrap() {
        let caption = m["caption"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: matrix without caption"));
        assert!(
            m["captionVisible"] == json!(true),
            "{name}: matrix caption is not shown"
        );
        let (n, total, pct) =
            parse_caption(caption).unwrap_or_else(|| panic!("{name}: odd caption {caption:?}"));
        let rows = m["rows"].as_u64().unwrap() as usize;
        let uncovered = m["uncovered"].as_array().unwrap();
        assert_eq!(total, rows, "{name}: caption {caption:?} but {rows} rows");
        assert_eq!(
            total - n,
            uncovered.len(),
            "{name}: caption {caption:?} but {} uncovered rows",
            uncovered.len()
        );
        if total > 0 {
            let expected = 100.0 * n as f64 / total as f64;
            assert!(
                (pct - expected).abs() < 0.06,
                "{name}: caption {caption:?}: {pct}% is not {n}/{total}"
            );
        }
        for row in uncovered {
            assert!(
                row["gap"] == json!(true),
                "{name}: uncovered row {} does not say so",
                row["id"]
            );
            let bg = row["background"].as_str().unwrap();
            assert!(
                bg != "rgba(0, 0, 0, 0)" && bg != "transparent",
                "{name}: uncovered row {} is not highlighted",
                row["id"]
            );
        }
        seen.matrices += 1;
        seen.uncovered += uncovered.len();
    }

    for r in f["refs"].as_array().unwrap() {
        let href = r[0].as_str().unwrap();
        let (target, fragment) = href
            .split_once('#')
            .unwrap_or_else(|| panic!("{name}: ref without fragment {href}"));
        assert!(
            target.starts_with("file://"),
            "{name}: ref leaves the book: {href}"
        );
        assert_eq!(
            fragment,
            r[1].as_str().unwrap(),
            "{name}: ref text and fragment differ"
        );
        seen.targets
            .entry(target.to_owned())
            .or_default()
            .insert(fragment.to_owned());
    }
}

/// `"X to Y: n of m covered (p%)"` -> (n, m, p).
fn parse_caption(caption: &str) -> Option<(usize, usize, f64)> {
    let (head, tail) = caption.rsplit_once(": ")?;
    if !head.contains(" to ") {
        return None;
    }
    let (n, rest) = tail.split_once(" of ")?;
    let (m, rest) = rest.split_once(" covered (")?;
    let pct = rest.strip_suffix("%)")?;
    Some((n.parse().ok()?, m.parse().ok()?, pct.parse().ok()?))
}

/// Clicks a ref that leads to another page and checks where the reader lands.
/// Skips ids in `done`, so each click tests a new target.
fn check_click(b: &Browser, root: &Path, page: &Path, done: &[String]) -> Option<String> {
    b.goto(&file_url(&root.join(page))).unwrap();
    wait_for(b, "return document.readyState === 'complete'", "page load");
    // A ref inside the content (not the sidebar) whose page differs from this one.
    let pick = b
        .js(
            "const here = location.href.split('#')[0];
             const a = Array.from(document.querySelectorAll('main a.qms-ref'))
               .find(a => a.href.split('#')[0] !== here && !arguments[0].includes(a.textContent));
             return a ? [a, a.textContent, a.href] : null;",
            &[json!(done)],
        )
        .unwrap();
    if pick.is_null() {
        return None;
    }
    let id = pick[1].as_str().unwrap().to_owned();
    let href = pick[2].as_str().unwrap().to_owned();
    b.click(&pick[0])
        .unwrap_or_else(|e| panic!("{}: clicking ref {id}: {e}", page.display()));
    wait_for(
        b,
        &format!(
            "return location.href === {} && document.readyState === 'complete'",
            json!(href)
        ),
        &format!("ref {id} on {} to navigate", page.display()),
    );
    // Let the browser finish scrolling to the fragment.
    std::thread::sleep(Duration::from_millis(200));
    let v = b
        .js(
            "const id = arguments[0];
             const el = document.getElementById(id);
             if (!el) return {found: false, hash: location.hash};
             const card = el.closest('.qms-card');
             const r = (card || el).getBoundingClientRect();
             const h = el.getBoundingClientRect();
             const top = document.elementFromPoint(h.left + Math.min(20, h.width / 2), h.top + h.height / 2);
             return {found: true, card: !!card, hash: location.hash, top: r.top, bottom: r.bottom,
                     headTop: h.top, viewport: innerHeight, onTop: !!top && (top === el || el.contains(top)),
                     target: document.querySelector(':target') === el};",
            &[json!(id)],
        )
        .unwrap();
    let name = page.display();
    assert!(
        v["found"] == json!(true),
        "{name}: after clicking {id}, no element #{id} on {href}"
    );
    assert_eq!(
        v["hash"],
        json!(format!("#{id}")),
        "{name}: clicking {id} landed on the wrong fragment"
    );
    assert!(
        v["card"] == json!(true),
        "{name}: #{id} is not inside a .qms-card"
    );
    assert!(
        v["target"] == json!(true),
        "{name}: #{id} is not the :target"
    );
    let (top, bottom, head, vh) = (
        v["top"].as_f64().unwrap(),
        v["bottom"].as_f64().unwrap(),
        v["headTop"].as_f64().unwrap(),
        v["viewport"].as_f64().unwrap(),
    );
    assert!(
        bottom > 0.0 && top < vh,
        "{name}: card {id} is off screen after the click: {v}"
    );
    assert!(
        head >= 0.0 && head < vh,
        "{name}: title of card {id} is off screen: {v}"
    );
    // Not hidden under mdBook's sticky menu bar.
    assert!(
        v["onTop"] == json!(true),
        "{name}: title of card {id} is covered by something: {v}"
    );
    Some(id)
}

/// Everything a reader sees, over every page of the book at `rel`.
/// `extra` runs last, on the same browser and built book.
fn check_book(rel: &str, screenshot: Option<(&str, &str)>, extra: impl FnOnce(&Browser, &Path)) {
    let _guard = BROWSER_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (_tmp, root) = build(rel);
    let homes = check_links_in_files(&root);
    let Some(b) = start_browser() else { return };
    let started = Instant::now();

    let pages = reader_pages(&root);
    let mut seen = Seen {
        cards: 0,
        matrices: 0,
        uncovered: 0,
        targets: BTreeMap::new(),
    };
    for page in &pages {
        check_page(&b, &root, page, &mut seen);
    }
    let console: Vec<_> = b
        .console()
        .unwrap()
        .into_iter()
        .filter(|(level, _)| level == "SEVERE")
        .collect();
    assert!(console.is_empty(), "browser console errors: {console:#?}");
    assert!(seen.cards > 0, "no item cards in the book");
    assert!(seen.matrices > 0, "no matrix in the book");
    assert!(seen.uncovered > 0, "no uncovered matrix row in the book");

    // Each page a ref leads to, opened once: the browser agrees every id is there.
    for (url, ids) in &seen.targets {
        b.goto(url).unwrap();
        wait_for(&b, "return document.readyState === 'complete'", url);
        let missing = b
            .js(
                "return arguments[0].filter(id => !document.getElementById(id));",
                &[json!(ids)],
            )
            .unwrap();
        assert_eq!(
            missing,
            json!([]),
            "{url}: ref targets missing in the browser"
        );
    }

    // Click through from each content page (print.html repeats them all).
    // At most 20: each click is a page load, and the example has hundreds of refs.
    let mut clicked = Vec::new();
    for page in pages.iter().filter(|p| *p != Path::new("print.html")) {
        if clicked.len() == 20 {
            break;
        }
        if let Some(id) = check_click(&b, &root, page, &clicked) {
            assert!(homes.contains_key(&id));
            clicked.push(id);
        }
    }
    assert!(!clicked.is_empty(), "no ref to another page to click");

    if let Some((page, selector)) = screenshot {
        take_screenshot(&b, &root.join(page), selector);
    }
    extra(&b, &root);
    eprintln!(
        "browser: {rel}: {} pages, {} cards, {} matrices ({} uncovered rows), {} target pages, clicked {:?}, {:.1}s",
        pages.len(),
        seen.cards,
        seen.matrices,
        seen.uncovered,
        seen.targets.len(),
        clicked,
        started.elapsed().as_secs_f64()
    );
}

/// A screenshot of `page` scrolled so that the element at `selector` is at the top.
fn take_screenshot(b: &Browser, page: &Path, selector: &str) {
    b.goto(&file_url(page)).unwrap();
    wait_for(
        b,
        "return document.readyState === 'complete'",
        "screenshot page",
    );
    let found = b
        .js(
            "const el = document.querySelector(arguments[0]);
             if (!el) return false;
             window.scrollTo(0, el.getBoundingClientRect().top + scrollY - 60);
             return true;",
            &[json!(selector)],
        )
        .unwrap();
    assert_eq!(
        found,
        json!(true),
        "screenshot: no {selector} on {}",
        page.display()
    );
    std::thread::sleep(Duration::from_millis(200));
    let png = b.screenshot().unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "screenshot is not a PNG"
    );
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert!(
        w > 0 && w <= WIDTH && h > 0 && h <= HEIGHT,
        "screenshot is {w}x{h}"
    );
    if std::env::var("QMS_WRITE_SCREENSHOT").as_deref() == Ok("1") {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/images/example-page.png");
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let tmp = out.with_extension("png.tmp");
        std::fs::write(&tmp, &png).unwrap();
        std::fs::rename(&tmp, &out).unwrap();
        eprintln!("wrote {} ({w}x{h}, {} bytes)", out.display(), png.len());
    }
}

/// The fixture carries hostile item text: raw `<script>`, a `javascript:` link, HTML
/// in the title. The reader must see it as text, and nothing may run.
#[test]
fn fixture_book_in_browser() {
    check_book("tests/fixtures/basic", None, hostile_text_stays_text);
}

fn hostile_text_stays_text(b: &Browser, root: &Path) {
    b.goto(&file_url(&root.join("index.html"))).unwrap();
    wait_for(b, "return document.readyState === 'complete'", "index.html");
    let v = b
        .js(
            "const card = document.getElementById('REQ-001').closest('.qms-card');
             return {text: card.textContent, title: card.querySelector('.qms-title').textContent,
                     bold: card.querySelectorAll('.qms-title b').length,
                     strong: card.querySelectorAll('.qms-text strong').length,
                     links: Array.from(card.querySelectorAll('.qms-text a')).map(a => a.getAttribute('href'))};",
            &[],
        )
        .unwrap();
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("<script>alert(1)</script>"),
        "injected script is not shown as text: {v}"
    );
    assert_eq!(
        v["title"],
        json!("Top-level <b>requirement</b> {{#include /etc/passwd}}")
    );
    assert_eq!(v["bold"], json!(0), "HTML in a title became markup");
    assert_eq!(
        v["strong"],
        json!(1),
        "Markdown in item text is not rendered"
    );
    let links: Vec<&str> = v["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap_or_default())
        .collect();
    assert!(
        links.contains(&"https://example.org/"),
        "a safe link was dropped: {links:?}"
    );
    assert!(
        !links
            .iter()
            .any(|l| l.trim().to_ascii_lowercase().starts_with("javascript:")),
        "a javascript: link survived: {links:?}"
    );
    assert_eq!(b.alert_text(), None);
}

#[test]
fn example_book_in_browser() {
    check_book(
        "examples/insulin-pump",
        Some(("verification.html", "#threats-to-tests")),
        |_, _| {},
    );
}

#[test]
fn caption_parsing() {
    assert_eq!(
        parse_caption("Requirements to Tests: 2 of 3 covered (66.7%)"),
        Some((2, 3, 66.7))
    );
    assert_eq!(
        parse_caption("Threats to Controls: 0 of 0 covered (100%)"),
        Some((0, 0, 100.0))
    );
    assert_eq!(parse_caption("2 of 3 covered"), None);
}

#[test]
fn hrefs_resolve_relative_to_the_page() {
    assert_eq!(
        resolve(Path::new("nested/chapter.html"), "../qms/test.html"),
        PathBuf::from("qms/test.html")
    );
    assert_eq!(
        resolve(Path::new("nested/chapter.html"), ""),
        PathBuf::from("nested/chapter.html")
    );
    assert_eq!(
        resolve(Path::new("index.html"), "./a.html"),
        PathBuf::from("a.html")
    );
}

thread_local! {
    static EXPECTING_PANIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, catching its panic without printing it: the panic is the expected
/// outcome. Panics elsewhere still print through the previous hook.
fn expect_panic(f: &mut dyn FnMut()) -> std::thread::Result<()> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !EXPECTING_PANIC.with(|e| e.get()) {
                previous(info);
            }
        }));
    });
    EXPECTING_PANIC.with(|e| e.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    EXPECTING_PANIC.with(|e| e.set(false));
    result
}

/// The checks above can fail: each breakage of a built book is caught, by the check
/// meant for it.
#[test]
fn checks_catch_a_broken_book() {
    let _guard = BROWSER_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let (_tmp, root) = build("tests/fixtures/basic");
    let page = Path::new("requirements.html");
    let original = std::fs::read_to_string(root.join(page)).unwrap();
    let panic_text = |f: &mut dyn FnMut()| -> String {
        let err = expect_panic(f).expect_err("the check passed a broken book");
        err.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    let mutate = |from: &str, to: &str| {
        assert!(original.contains(from), "fixture no longer has {from:?}");
        std::fs::write(root.join(page), original.replacen(from, to, 1)).unwrap();
    };

    mutate("href=\"#REQ-002\"", "href=\"#REQ-999\"");
    assert!(panic_text(&mut || drop(check_links_in_files(&root)))
        .contains("ref text and target differ"));
    mutate(
        "href=\"index.html#REQ-001\"",
        "href=\"nowhere.html#REQ-001\"",
    );
    assert!(panic_text(&mut || drop(check_links_in_files(&root))).contains("missing page"));

    let Some(b) = start_browser() else { return };
    let mut seen = Seen {
        cards: 0,
        matrices: 0,
        uncovered: 0,
        targets: BTreeMap::new(),
    };
    let cases = [
        (
            ".qms-card{border:1px solid",
            ".qms-card{border:0 solid",
            "has no border",
        ),
        (
            "<h4 id=\"REQ-002\"",
            "<script>1</script><h4 id=\"REQ-002\"",
            "<script> element inside rendered items",
        ),
        ("<tr class=\"qms-uncovered\">", "<tr>", "uncovered rows"),
        (
            ".qms-uncovered td{background:#c6282822}",
            "",
            "is not highlighted",
        ),
        ("covered (66.7%)", "covered (50.0%)", "is not 2/3"),
    ];
    for (from, to, expected) in cases {
        mutate(from, to);
        let text = panic_text(&mut || check_page(&b, &root, page, &mut seen));
        assert!(
            text.contains(expected),
            "{from:?} -> {to:?}: expected a failure with {expected:?}, got {text:?}"
        );
    }
    std::fs::write(root.join(page), &original).unwrap();
    check_page(&b, &root, page, &mut seen);
}
