//! A generator of realistic, deterministic projects, for benchmarks and tests.
//!
//! `generate(dir, items, files)` writes a complete project that `check` accepts without
//! a diagnostic: `book.toml`, a book whose chapters use directives and one ```` ```qms ````
//! block, and `items` requirements and tests spread over `files` YAML files under
//! `requirements/`. Requirements form a hierarchy through `parent`; tests `verify` one to
//! three requirements. The same arguments always give byte-identical files (a fixed-seed
//! generator, no clock, no randomness from the system), so timings are comparable
//! between runs and machines.

pub mod history;

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// The default number of item files.
pub const DEFAULT_FILES: usize = 100;

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Items in total: requirements, tests and SBOM components, the chapter's block
    /// included.
    pub items: usize,
    /// Requirement items.
    pub requirements: usize,
    /// Test items.
    pub tests: usize,
    /// Components of a generated SBOM (the described one included), each a component
    /// item.
    pub components: usize,
    /// Item files (YAML) written.
    pub files: usize,
    /// Bytes of every file written (YAML, chapters, book.toml).
    pub bytes: u64,
}

/// SplitMix64: tiny, fast and good enough to vary a corpus; fixed seed for determinism.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }
}

/// Functional areas; each requirement id carries one, e.g. `REQ-AUTH-00042`.
const AREAS: &[(&str, &str)] = &[
    ("AUTH", "authentication"),
    ("AUTHZ", "authorization"),
    ("CRYPT", "cryptography"),
    ("INTEG", "code_data_and_execution_integrity"),
    ("CONF", "confidentiality"),
    ("LOG", "event_detection_and_logging"),
    ("RES", "resiliency_and_recovery"),
    ("UPD", "updatability_and_patchability"),
];

const SUBJECTS: &[&str] = &[
    "The pump",
    "The controller app",
    "The cloud service",
    "The bolus calculator",
    "The BLE link",
    "The firmware updater",
    "The clinician portal",
    "The audit log",
    "The sensor interface",
    "The pairing flow",
    "The therapy engine",
    "The alarm manager",
];
const VERBS: &[&str] = &[
    "shall authenticate",
    "shall reject",
    "shall encrypt",
    "shall record",
    "shall verify",
    "shall limit",
    "shall recover",
    "shall report",
    "shall sign",
    "shall rate-limit",
];
const OBJECTS: &[&str] = &[
    "every therapy command",
    "firmware images before install",
    "stored patient data",
    "failed pairing attempts",
    "configuration changes",
    "remote sessions",
    "dose limits set by the clinician",
    "log records sent to the cloud",
    "session keys",
    "malformed BLE packets",
    "expired certificates",
    "debug interfaces in production",
];
const TAGS: &[&str] = &[
    "ble", "cloud", "firmware", "app", "safety", "privacy", "update", "pairing", "logging",
];
const STATUSES: &[&str] = &["draft", "review", "approved", "approved", "approved"];
const METHODS: &[&str] = &[
    "requirements",
    "threat-mitigation",
    "vulnerability",
    "penetration",
    "fuzz",
    "static-analysis",
];
const SENTENCES: &[&str] = &[
    "This protects the patient from unintended therapy changes.",
    "The check happens before any state is changed.",
    "Failures are logged with a monotonic timestamp and the peer identity.",
    "See the threat model for the attacker capabilities assumed here.",
    "The limit is configurable by the manufacturer only.",
    "Keys never leave the secure element.",
];

enum Kind {
    Requirement,
    Test,
}

/// Writes a project with `items` items over `files` item files into `dir` (created if
/// missing; files already there are overwritten, others left alone).
pub fn generate(dir: &Path, items: usize, files: usize) -> io::Result<Stats> {
    let items = items.max(2);
    let files = files.clamp(1, items);
    let mut stats = Stats::default();
    let mut rng = Rng(0x0005_EED0_F9D5);

    // Three requirements for every two tests, interleaved so every file holds both.
    let kinds: Vec<Kind> = (0..items)
        .map(|i| {
            if i % 5 < 3 {
                Kind::Requirement
            } else {
                Kind::Test
            }
        })
        .collect();
    // One requirement moves into a chapter's ```qms block; the rest go to YAML files.
    let mut req_ids: Vec<String> = Vec::new();
    let mut bodies: Vec<String> = Vec::with_capacity(items);
    let mut test_number = 0;
    for kind in &kinds {
        let mut out = String::with_capacity(400);
        match kind {
            Kind::Requirement => {
                let n = req_ids.len() + 1;
                let (area, category) = AREAS[rng.below(AREAS.len())];
                let id = format!("REQ-{area}-{n:05}");
                write_requirement(&mut out, &id, category, &req_ids, &mut rng);
                req_ids.push(id);
            }
            Kind::Test => {
                test_number += 1;
                let id = format!("TST-{test_number:05}");
                write_test(&mut out, &id, &req_ids, &mut rng);
            }
        }
        bodies.push(out);
    }
    stats.requirements = req_ids.len();
    stats.tests = test_number;
    stats.items = items;

    let block_item = bodies.remove(0);
    let file_bodies = bodies;

    std::fs::create_dir_all(dir.join("requirements"))?;
    std::fs::create_dir_all(dir.join("book"))?;
    let mut write = |rel: &str, text: &str| -> io::Result<()> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, text)?;
        stats.bytes += text.len() as u64;
        Ok(())
    };

    write(
        "book.toml",
        // Generated outside git: silence the one warning that says so, so that a clean
        // corpus checks to `[]`.
        "[book]\ntitle = \"Generated device\"\nsrc = \"book\"\n\n[preprocessor.qms]\n\n[preprocessor.qms.lints]\nhistory-unavailable = \"allow\"\n",
    )?;

    // Items in order, split evenly; files in sub-folders of 20 like a grown project.
    let n = file_bodies.len();
    let files = files.min(n.max(1));
    let mut written_files = 0;
    for f in 0..files {
        let chunk = &file_bodies[f * n / files..(f + 1) * n / files];
        let mut text = String::with_capacity(chunk.iter().map(|b| b.len() + 4).sum::<usize>() + 64);
        let _ = writeln!(text, "# Generated by mdbook-qms corpus, file {f}.");
        for body in chunk {
            list_entry(&mut text, body);
        }
        write(
            &format!("requirements/part-{:02}/items-{f:04}.yaml", f / 20),
            &text,
        )?;
        written_files += 1;
    }
    stats.files = written_files;

    write(
        "book/SUMMARY.md",
        "# Summary\n\n[Introduction](intro.md)\n\n- [Requirements](requirements.md)\n- [Verification](verification.md)\n",
    )?;
    let first_req = req_ids.first().cloned().unwrap_or_default();
    let last_req = req_ids.last().cloned().unwrap_or_default();
    write(
        "book/intro.md",
        &format!(
            "# Introduction\n\nA generated device file with {items} items. The top-level \
             requirement is {{{{#qms ref {first_req}}}}}; the last one written is \
             {{{{#qms ref {last_req}}}}}.\n\n```qms\n{block_item}```\n"
        ),
    )?;
    write(
        "book/requirements.md",
        &format!(
            "# Requirements\n\n{{{{#qms item {last_req}}}}}\n\n## Approved\n\n\
             {{{{#qms table requirement status=approved}}}}\n\n## Authentication\n\n\
             {{{{#qms table requirement category=authentication tag=ble}}}}\n"
        ),
    )?;
    write(
        "book/verification.md",
        "# Verification\n\n{{#qms matrix requirement test}}\n\n{{#qms table test}}\n",
    )?;
    Ok(stats)
}

/// Writes the project of [`generate`] (`items` items in `files` files), plus a CycloneDX SBOM of
/// `components` components at `trace/sbom/firmware.cdx.json`. Every component has what
/// the NTIA minimum elements and the support checks ask for (supplier, name, version,
/// purl, a dependency, a support level and end of support), so the project still checks
/// clean; every tenth holds the next one nested in its own `components` (an assembly).
/// Each component becomes a synthesized component item, counted in `items`. Without
/// components no SBOM is written.
pub fn generate_sbom(
    dir: &Path,
    items: usize,
    files: usize,
    components: usize,
) -> io::Result<Stats> {
    let mut stats = generate(dir, items, files)?;
    if components == 0 {
        return Ok(stats);
    }
    let bom_ref = |k: usize| format!("c-{k:06}");
    let mut text = String::with_capacity(400 * components + 1024);
    text.push_str(concat!(
        "{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.6\",\n  \"version\": 1,\n",
        "  \"metadata\": {\n    \"timestamp\": \"2026-01-01T00:00:00Z\",\n",
        "    \"authors\": [{\"name\": \"Generated\"}],\n",
        "    \"component\": {\"type\": \"firmware\", \"bom-ref\": \"fw\", \"name\": \"pump-fw\", ",
        "\"version\": \"1.0.0\", \"supplier\": {\"name\": \"Acme\"}, ",
        "\"purl\": \"pkg:generic/acme/pump-fw@1.0.0\", \"properties\": [",
        "{\"name\": \"acme:support-level\", \"value\": \"active\"}, ",
        "{\"name\": \"acme:end-of-support\", \"value\": \"2099-12-31\"}]}\n  },\n",
        "  \"components\": [\n"
    ));
    for k in 0..components {
        let nests = k % 10 == 0 && k + 1 < components;
        let nested = k % 10 == 1;
        if nested {
            text.push_str(",\n      \"components\": [");
        } else if k > 0 {
            text.push_str(",\n");
        }
        if !nested {
            text.push_str("    ");
        }
        let (r, version, supplier) = (bom_ref(k), format!("1.{}.{}", k % 7, k % 13), k % 97);
        let _ = write!(
            text,
            "{{\"type\": \"library\", \"bom-ref\": \"{r}\", \"name\": \"lib-{k:06}\", \"version\": \"{version}\", \"supplier\": {{\"name\": \"Supplier {supplier}\"}}, \"purl\": \"pkg:generic/acme/lib-{k:06}@{version}\", \"properties\": [{{\"name\": \"acme:support-level\", \"value\": \"active\"}}, {{\"name\": \"acme:end-of-support\", \"value\": \"2099-12-31\"}}]"
        );
        if nested {
            text.push_str("}]}");
        } else if !nests {
            text.push('}');
        }
    }
    text.push_str("\n  ],\n  \"dependencies\": [\n");
    let _ = write!(text, "    {{\"ref\": \"fw\", \"dependsOn\": [");
    if components > 0 {
        let _ = write!(text, "\"{}\"", bom_ref(0));
    }
    text.push_str("]}");
    for k in 0..components {
        let _ = write!(
            text,
            ",\n    {{\"ref\": \"{}\", \"dependsOn\": [",
            bom_ref(k)
        );
        if k + 1 < components {
            let _ = write!(text, "\"{}\"", bom_ref(k + 1));
        }
        text.push_str("]}");
    }
    text.push_str("\n  ]\n}\n");
    std::fs::create_dir_all(dir.join("trace/sbom"))?;
    std::fs::write(dir.join("trace/sbom/firmware.cdx.json"), &text)?;
    stats.bytes += text.len() as u64;
    stats.components = components + 1;
    stats.items += components + 1;
    Ok(stats)
}

/// Indents an item's mapping under `- `.
fn list_entry(text: &mut String, body: &str) {
    for (i, line) in body.lines().enumerate() {
        text.push_str(if i == 0 {
            "- "
        } else if line.is_empty() {
            ""
        } else {
            "  "
        });
        text.push_str(line);
        text.push('\n');
    }
}

fn write_requirement(
    out: &mut String,
    id: &str,
    category: &str,
    earlier: &[String],
    rng: &mut Rng,
) {
    let _ = writeln!(out, "id: {id}");
    let _ = writeln!(out, "type: requirement");
    let _ = writeln!(
        out,
        "title: {} {} {}",
        rng.pick(SUBJECTS),
        rng.pick(VERBS),
        rng.pick(OBJECTS)
    );
    let _ = writeln!(out, "status: {}", rng.pick(STATUSES));
    // A forest: about one in eight is a root; the rest hang under a recent requirement,
    // which keeps chains a handful deep like a real hierarchy.
    if !earlier.is_empty() && !rng.chance(12) {
        let window = earlier.len().min(64);
        let parent = &earlier[earlier.len() - 1 - rng.below(window)];
        let _ = writeln!(out, "parent: {parent}");
    }
    if rng.chance(70) {
        let _ = writeln!(out, "category: {category}");
    }
    write_tags(out, rng);
    if rng.chance(60) {
        out.push_str("text: |\n");
        for _ in 0..1 + rng.below(3) {
            let _ = writeln!(out, "  {}", rng.pick(SENTENCES));
        }
    }
    if rng.chance(30) {
        let _ = writeln!(
            out,
            "acceptance: {} is demonstrated by test.",
            rng.pick(OBJECTS)
        );
    }
}

fn write_test(out: &mut String, id: &str, requirements: &[String], rng: &mut Rng) {
    let _ = writeln!(out, "id: {id}");
    let _ = writeln!(out, "type: test");
    let _ = writeln!(
        out,
        "title: Verify that {} {}",
        rng.pick(OBJECTS),
        rng.pick(&["are handled", "are rejected", "are logged"])
    );
    let _ = writeln!(out, "status: {}", rng.pick(STATUSES));
    let mut targets: Vec<&str> = Vec::new();
    for _ in 0..if requirements.is_empty() {
        0
    } else {
        1 + rng.below(3)
    } {
        let window = requirements.len().min(200);
        let t = &requirements[requirements.len() - 1 - rng.below(window)];
        if !targets.contains(&t.as_str()) {
            targets.push(t);
        }
    }
    match targets.as_slice() {
        [] => {}
        [one] => {
            let _ = writeln!(out, "verifies: {one}");
        }
        many => {
            out.push_str("verifies:\n");
            for t in many {
                let _ = writeln!(out, "  - {t}");
            }
        }
    }
    let method = rng.pick(METHODS);
    let _ = writeln!(out, "method: {method}");
    // What a real test record says about how it was run (no random draw, so the rest
    // of the corpus is the same as before these fields existed).
    match method {
        "penetration" => out.push_str(
            "independence: third-party\nscope: The device and its cloud service.\nstarted: 2026-01-12\nfinished: 2026-01-23\n",
        ),
        "vulnerability" | "fuzz" | "static-analysis" => {
            out.push_str("tool: generated-scanner\ntool_version: 1.0.0\n");
        }
        _ => {}
    }
    if rng.chance(50) {
        let _ = writeln!(
            out,
            "evidence: tests::{}::case_{}",
            rng.pick(TAGS),
            rng.below(1000)
        );
    }
    write_tags(out, rng);
}

fn write_tags(out: &mut String, rng: &mut Rng) {
    if rng.chance(40) {
        let first = rng.below(TAGS.len());
        let second = (first + 1 + rng.below(TAGS.len() - 1)) % TAGS.len();
        let _ = writeln!(out, "tags: [{}, {}]", TAGS[first], TAGS[second]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                (rel, std::fs::read(e.path()).unwrap())
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn same_arguments_same_bytes() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let sa = generate(a.path(), 500, 7).unwrap();
        let sb = generate(b.path(), 500, 7).unwrap();
        assert_eq!(sa, sb);
        assert_eq!(read_all(a.path()), read_all(b.path()));
        assert_eq!(sa.items, 500);
        assert_eq!(sa.requirements + sa.tests, 500);
        assert_eq!(sa.files, 7);
        let bytes: u64 = read_all(a.path()).iter().map(|(_, b)| b.len() as u64).sum();
        assert_eq!(sa.bytes, bytes);
    }

    /// The generated project at `dir`, which must have no diagnostics at all.
    fn load_clean(dir: &Path) -> crate::project::Project {
        let project = crate::pipeline::load(dir, crate::load::ChapterSource::Disk).unwrap();
        let text = crate::report::render(
            crate::report::Format::Human,
            &project.diagnostics.0,
            &project.sources,
        );
        assert!(project.diagnostics.0.is_empty(), "{text}");
        project
    }

    #[test]
    fn generated_project_checks_clean() {
        let dir = tempfile::tempdir().unwrap();
        let stats = generate(dir.path(), 2_000, 13).unwrap();
        let project = load_clean(dir.path());
        assert_eq!(project.items.len(), stats.items);
        // Every test links at least one requirement; most requirements have a parent.
        let parents = project
            .graph
            .links
            .iter()
            .filter(|l| l.field == "parent")
            .count();
        let verifies = project
            .graph
            .links
            .iter()
            .filter(|l| l.field == "verifies")
            .count();
        assert!(
            parents > stats.requirements * 3 / 4,
            "{parents} parent links"
        );
        assert!(verifies >= stats.tests, "{verifies} verifies links");
    }

    /// Dangling links on a large index: every one reported at its place, in file order,
    /// each with the same "did you mean" hint on every run.
    #[test]
    fn generated_sbom_checks_clean() {
        let dir = tempfile::tempdir().unwrap();
        let stats = generate_sbom(dir.path(), 20, 3, 25).unwrap();
        let project = load_clean(dir.path());
        assert_eq!(project.items.len(), stats.items);
        let sbom = &project.traces.sboms[0];
        assert_eq!(sbom.components.len(), 26);
        assert!(sbom
            .components
            .iter()
            .all(|c| c.in_dependencies && c.span.is_some()));
    }

    #[test]
    fn dangling_links_get_stable_hints() {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), 3_000, 5).unwrap();
        let file = dir.path().join("requirements/part-00/items-0002.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        // A typo in every parent of one file: `REQ-LOG-00123` -> `REQ-LOG-00123X`.
        let mut expected = 0;
        let broken: String = text
            .split_inclusive('\n')
            .map(|line| {
                if line.trim_start().starts_with("parent: REQ-") {
                    expected += 1;
                    format!("{}X\n", line.trim_end())
                } else {
                    line.to_owned()
                }
            })
            .collect();
        std::fs::write(&file, &broken).unwrap();
        assert!(expected > 10);
        let run = || {
            let p = crate::pipeline::load(dir.path(), crate::load::ChapterSource::Disk).unwrap();
            let json =
                crate::report::render(crate::report::Format::Json, &p.diagnostics.0, &p.sources);
            (
                p.diagnostics
                    .0
                    .iter()
                    .filter(|d| d.code == crate::diag::code::LINK_UNKNOWN)
                    .count(),
                json,
            )
        };
        let (count, first) = run();
        assert_eq!(count, expected);
        assert!(first.contains("did you mean `REQ-"), "{first}");
        for _ in 0..3 {
            assert_eq!(run().1, first);
        }
    }
}
