//! Keeps ARCHITECTURE.md true: the library's modules form layers, a module imports only
//! from its own layer's modules or lower layers, and no file of `src/` reaches itself
//! through imports (no cycle). The layer table is read from ARCHITECTURE.md, so the
//! document and the code cannot drift apart.
//!
//! "Imports" are the module paths a file names: `crate::a::b`, `super::x`, `self::x`
//! and, in a module with children, `child::x`. Test modules (`#[cfg(test)]` to the end
//! of a file) are skipped: they may reach anything in their own file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`render::card`) -> the file that defines it.
fn library_files() -> BTreeMap<String, PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != src.join("bin") {
                    stack.push(path);
                }
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap().with_extension("");
            let mut segments: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if segments.last().is_some_and(|s| s == "mod") {
                segments.pop();
            }
            let module = segments.join("::");
            if module == "lib" || module == "main" || path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            files.insert(module, path);
        }
    }
    files
}

/// The code of a file without its test module and comments.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module path the code names, resolved to absolute module paths (segments).
fn named_paths(module: &str, is_mod_file: bool, code: &str) -> Vec<Vec<String>> {
    let this: Vec<String> = module.split("::").map(str::to_owned).collect();
    // `super` of `a::b` declared in a/b.rs is `a`; in a/b/mod.rs it is `a` as well.
    let parent: Vec<String> = this[..this.len() - 1].to_vec();
    let _ = is_mod_file;
    let children: BTreeSet<String> = code
        .lines()
        .filter_map(|l| {
            let l = l
                .trim()
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ");
            l.strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned)
        })
        .collect();
    let bytes = code.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !word(bytes[i]) || (i > 0 && (word(bytes[i - 1]) || bytes[i - 1] == b':')) {
            i += 1;
            continue;
        }
        // A path: words joined by `::`.
        let start = i;
        let mut segments = Vec::new();
        loop {
            let s = i;
            while i < bytes.len() && word(bytes[i]) {
                i += 1;
            }
            segments.push(code[s..i].to_owned());
            if code[i..].starts_with("::") && i + 2 < bytes.len() && word(bytes[i + 2]) {
                i += 2;
            } else {
                break;
            }
        }
        if i == start {
            i += 1;
            continue;
        }
        if segments.len() < 2 {
            continue;
        }
        let resolved = match segments[0].as_str() {
            "crate" => segments[1..].to_vec(),
            "super" => {
                let mut base = parent.clone();
                let mut rest = &segments[1..];
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                base
            }
            "self" => this
                .iter()
                .cloned()
                .chain(segments[1..].iter().cloned())
                .collect(),
            first if children.contains(first) => this
                .iter()
                .cloned()
                .chain(segments.iter().cloned())
                .collect(),
            _ => continue,
        };
        found.push(resolved);
    }
    found
}

/// The file module a path lands in: its longest prefix that is a file of the library.
fn owner(path: &[String], files: &BTreeMap<String, PathBuf>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| files.contains_key(m))
}

/// `module -> layer number`, from the table under `## Layers` in ARCHITECTURE.md: rows
/// `| N | name | `a`, `b::c` | ... |`.
fn layers() -> Vec<(String, usize)> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .unwrap();
    let section = doc
        .split("\n## Layers")
        .nth(1)
        .expect("ARCHITECTURE.md has a `## Layers` section");
    let section = section.split("\n## ").next().unwrap();
    let mut table = Vec::new();
    for line in section.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(Ok(layer)) = cells.get(1).map(|c| c.parse::<usize>()) else {
            continue;
        };
        for module in cells[3].split(',') {
            let module = module.trim().trim_matches('`');
            if !module.is_empty() {
                table.push((module.to_owned(), layer));
            }
        }
    }
    assert!(!table.is_empty(), "no layer rows under `## Layers`");
    table
}

/// The layer of a module: the row naming its longest prefix.
fn layer_of(module: &str, table: &[(String, usize)]) -> Option<(usize, String)> {
    table
        .iter()
        .filter(|(m, _)| module == m || module.starts_with(&format!("{m}::")))
        .max_by_key(|(m, _)| m.len())
        .map(|(m, l)| (*l, m.clone()))
}

struct Graph {
    /// File module -> the file modules it imports (itself excluded).
    edges: BTreeMap<String, BTreeSet<String>>,
}

fn graph() -> Graph {
    let files = library_files();
    let mut edges = BTreeMap::new();
    for (module, path) in &files {
        let is_mod = path.file_name().is_some_and(|n| n == "mod.rs");
        let targets = named_paths(module, is_mod, &code_of(path))
            .iter()
            .filter_map(|p| owner(p, &files))
            .filter(|t| t != module)
            .collect();
        edges.insert(module.clone(), targets);
    }
    Graph { edges }
}

#[test]
fn every_module_has_a_layer() {
    let table = layers();
    let missing: Vec<String> = graph()
        .edges
        .keys()
        .filter(|m| layer_of(m, &table).is_none())
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a row in ARCHITECTURE.md's layer table: {missing:?}"
    );
}

#[test]
fn imports_go_down_the_layers() {
    let table = layers();
    let mut wrong = Vec::new();
    for (module, targets) in &graph().edges {
        let Some((from, _)) = layer_of(module, &table) else {
            continue;
        };
        for target in targets {
            let Some((to, _)) = layer_of(target, &table) else {
                continue;
            };
            if to > from {
                wrong.push(format!(
                    "{module} (layer {from}) imports {target} (layer {to})"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_file_imports_itself_through_others() {
    let graph = graph();
    // Tarjan's strongly connected components; any with two or more files is a cycle.
    struct State<'g> {
        edges: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        cycles: Vec<Vec<&'g str>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.cycles.push(component);
            }
        }
    }
    let mut state = State {
        edges: &graph.edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        cycles: Vec::new(),
    };
    for v in graph.edges.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    let cycles: Vec<String> = state.cycles.iter().map(|c| c.join(" <-> ")).collect();
    assert!(
        cycles.is_empty(),
        "import cycles among files of src/:\n{}",
        cycles.join("\n")
    );
}
