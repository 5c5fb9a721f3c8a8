//! Printing diagnostics: rustc-style text, JSON (the PRODUCT.md contract), GitHub
//! workflow annotations, and SARIF 2.1.0 for code-scanning tools.

use std::fmt::Write as _;
use std::ops::RangeInclusive;

use annotate_snippets::{
    Annotation, AnnotationKind, Element, Group, Level, Origin, Renderer, Snippet,
};
use serde_json::{json, Value};

use crate::diag::{Diagnostic, Location, Severity, CODES};
use crate::source::{display_path, FileId, SourceFile, SourceMap, Span};
use crate::terminal;

/// How diagnostics are printed (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text for people: each diagnostic with the source lines it points at.
    Human,
    /// A JSON array, one object per diagnostic.
    Json,
    /// GitHub Actions workflow commands, shown as annotations on the pull request.
    Github,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}
crate::choice::impl_choice!(pub Format {
    Human => "human",
    Json => "json",
    Github => "github",
    Sarif => "sarif",
});

/// A diagnostic's position, resolved for printing. Lines and columns are 1-based;
/// columns count characters.
pub(crate) struct Resolved<'a> {
    pub(crate) diag: &'a Diagnostic,
    pub(crate) file: Option<String>,
    pub(crate) start: Option<(usize, usize)>,
    pub(crate) end: Option<(usize, usize)>,
}

fn resolve<'a>(d: &'a Diagnostic, sources: &SourceMap) -> Resolved<'a> {
    match d.location {
        Location::Span(span) => {
            let f = sources.get(span.file);
            Resolved {
                diag: d,
                file: Some(display_path(&f.path)),
                start: Some(f.line_col(span.start)),
                end: Some(f.line_col(span.end)),
            }
        }
        Location::File(file) => Resolved {
            diag: d,
            file: Some(display_path(&sources.get(file).path)),
            start: None,
            end: None,
        },
        Location::None => Resolved {
            diag: d,
            file: None,
            start: None,
            end: None,
        },
    }
}

/// Resolves positions and orders diagnostics by file, line and column, so output does not
/// depend on the order stages ran in.
pub(crate) fn resolve_all<'a>(diags: &'a [Diagnostic], sources: &SourceMap) -> Vec<Resolved<'a>> {
    let mut out: Vec<Resolved> = diags.iter().map(|d| resolve(d, sources)).collect();
    out.sort_by(|a, b| {
        (&a.file, a.start, a.diag.code, &a.diag.message).cmp(&(
            &b.file,
            b.start,
            b.diag.code,
            &b.diag.message,
        ))
    });
    out
}

/// Prints `diags` in `format`; `sources` resolves their spans to lines and columns.
pub fn render(format: Format, diags: &[Diagnostic], sources: &SourceMap) -> String {
    let resolved = resolve_all(diags, sources);
    match format {
        Format::Human => human(&resolved, sources, false),
        Format::Json => {
            let list: Vec<Value> = resolved.iter().map(|r| json_object(r, sources)).collect();
            serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
        }
        Format::Github => github(&resolved),
        Format::Sarif => serde_json::to_string_pretty(&sarif(&resolved)).unwrap_or_default() + "\n",
    }
}

/// The human format: rustc-style snippets drawn by annotate-snippets (the renderer of rustc
/// and cargo), then a summary line. `colour` adds ANSI styles; see `terminal::colour_stderr`.
pub fn render_human(diags: &[Diagnostic], sources: &SourceMap, colour: bool) -> String {
    human(&resolve_all(diags, sources), sources, colour)
}

fn human(resolved: &[Resolved], sources: &SourceMap, colour: bool) -> String {
    let renderer = if colour {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for r in resolved {
        let (report, locations) = group(r.diag, sources);
        out.push_str(&write_locations(&renderer.render(&[report]), &locations));
        out.push_str("\n\n");
    }
    let errors = resolved
        .iter()
        .filter(|r| r.diag.severity == Severity::Error)
        .count();
    let warnings = resolved.len() - errors;
    let _ = writeln!(
        out,
        "{errors} error{}, {warnings} warning{}",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" }
    );
    out
}

/// One place a diagnostic shows: its own span (primary) or a related one with its label,
/// with the line and column, and the byte, where it starts and where its underline ends.
struct Place<'a> {
    file: FileId,
    start: (usize, usize),
    end: (usize, usize),
    bytes: (usize, usize),
    label: &'a str,
    primary: bool,
}

impl<'a> Place<'a> {
    fn new(span: Span, label: &'a str, primary: bool, sources: &SourceMap) -> Self {
        let f = sources.get(span.file);
        // A span computed by byte arithmetic may end inside a character.
        let floor = |mut i: usize| {
            i = i.min(f.text.len());
            while !f.text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let end = shown_end(f, span);
        Place {
            file: span.file,
            start: f.line_col(span.start),
            end: f.line_col(end),
            bytes: (floor(span.start), floor(end)),
            label,
            primary,
        }
    }
}

/// Places of one file closer than this many lines share a snippet. A farther one gets a
/// snippet of its own, so no diagnostic copies the lines in between (each duplicate of the
/// first item of a large file would otherwise show all of the file up to it).
const NEAR: usize = 5;

/// A diagnostic as `error[code]: message`, its places as snippets (its own first; a
/// related place as a label, in the same snippet when near it in the same file), and the
/// help as a `= help:` footer. Every text from the project is escaped for a terminal.
fn group(d: &Diagnostic, sources: &SourceMap) -> (Group<'static>, Vec<SnippetLocation>) {
    let level = match d.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level
        .primary_title(terminal::safe(&d.message).into_owned())
        .id(d.code);
    let mut elements: Vec<Element<'static>> = Vec::new();
    let mut places = Vec::new();
    match d.location {
        Location::Span(span) => places.push(Place::new(span, "", true, sources)),
        Location::File(file) => {
            elements.push(Origin::path(shown_path(sources.get(file))).into());
        }
        Location::None => {}
    }
    places.extend(
        d.related
            .iter()
            .map(|(span, label)| Place::new(*span, label, false, sources)),
    );
    // Each snippet: its file, its first and last line, its places.
    let mut snippets: Vec<(FileId, usize, usize, Vec<&Place>)> = Vec::new();
    for place in &places {
        let near = snippets.iter_mut().find(|(file, first, last, _)| {
            *file == place.file && place.start.0 <= last + NEAR && place.end.0 + NEAR >= *first
        });
        match near {
            Some((_, first, last, here)) => {
                *first = (*first).min(place.start.0);
                *last = (*last).max(place.end.0);
                here.push(place);
            }
            None => snippets.push((place.file, place.start.0, place.end.0, vec![place])),
        }
    }
    let mut locations = Vec::new();
    for (file, first, last, here) in snippets {
        let f = sources.get(file);
        if f.text.is_empty() {
            let (line, column) = here[0].start;
            elements.push(
                Origin::path(shown_path(f))
                    .line(line)
                    .char_column(column)
                    .into(),
            );
            continue;
        }
        let (snippet, location) = snippet(f, first..=last, &here, locations.len());
        elements.push(snippet);
        locations.push(location);
    }
    if let Some(help) = &d.help {
        elements.push(
            Level::HELP
                .message(terminal::safe(help).into_owned())
                .into(),
        );
    }
    (title.elements(elements), locations)
}

/// Where the underline of `span` ends: a span that runs on over line breaks into the
/// indentation of the next line (a YAML mapping's does) stops at its last visible character.
fn shown_end(f: &SourceFile, span: Span) -> usize {
    let end = span.end.max(span.start);
    let Some(text) = f.text.get(span.start..end) else {
        return end;
    };
    let kept = text.trim_end();
    if text[kept.len()..].contains('\n') {
        span.start + kept.len()
    } else {
        end
    }
}

fn shown_path(f: &SourceFile) -> String {
    terminal::safe_line(&display_path(&f.path)).into_owned()
}

/// Where a snippet is, for its `--> file:line:column` line. The renderer is given a
/// placeholder for the path and counts columns in the lines as shown, which a long line
/// shows cut; [`write_locations`] writes the path and the column in the file.
struct SnippetLocation {
    placeholder: String,
    path: String,
    first_line: usize,
    /// For each line from `first_line`, the columns the cut removed before what is shown.
    shifts: Vec<usize>,
}

/// The places in `lines` of one file as one snippet (the `index`th of its diagnostic).
/// Each unsafe character in those lines is replaced by one visible character
/// (`terminal::one_column`), so the carets stay under what they mark and the column in
/// `--> file:line:col` counts characters of the file, as before and as JSON does.
fn snippet(
    f: &SourceFile,
    lines: RangeInclusive<usize>,
    places: &[&Place],
    index: usize,
) -> (Element<'static>, SnippetLocation) {
    let first = *lines.start();
    let mut source = String::new();
    let mut shown = Vec::new();
    for n in lines {
        if n > first {
            source.push('\n');
        }
        let line_start = f.offset(n, 0);
        // The byte to keep in view when the line is cut: where a place starts or ends.
        let at = places
            .iter()
            .find_map(|p| (p.start.0 == n).then_some(p.bytes.0))
            .or_else(|| {
                places
                    .iter()
                    .find_map(|p| (p.end.0 == n).then_some(p.bytes.1))
            })
            .map_or(0, |b| b - line_start);
        let window = Window::new(f.line_text(n), at);
        let start = source.len();
        source.push_str(&window.shown);
        shown.push((start..source.len(), line_start, window));
    }
    // The renderer drops an empty last line: a place there (the end of the file) still
    // needs its line.
    if source.ends_with('\n') {
        source.push(' ');
    }
    let offset = |line: usize, byte: usize| {
        let (range, line_start, window) = &shown[line - first];
        let column = window.column(f.line_text(line), byte - line_start);
        range.start
            + source[range.clone()]
                .char_indices()
                .nth(column)
                .map_or(range.len(), |(i, _)| i)
    };
    let annotations: Vec<Annotation<'static>> = places
        .iter()
        .map(|place| {
            let kind = if place.primary {
                AnnotationKind::Primary
            } else {
                AnnotationKind::Context
            };
            let span = offset(place.start.0, place.bytes.0)..offset(place.end.0, place.bytes.1);
            let annotation = kind.span(span);
            if place.label.is_empty() {
                annotation
            } else {
                annotation.label(terminal::safe(place.label).into_owned())
            }
        })
        .collect();
    // A control character: every text from the project reaches the renderer escaped or
    // sanitized, so the placeholder occurs nowhere else in its output.
    let placeholder = format!("\u{1}{index}\u{1}");
    let snippet = Snippet::source(source)
        .line_start(first)
        .path(placeholder.clone())
        .annotations(annotations)
        .into();
    let location = SnippetLocation {
        placeholder,
        path: shown_path(f),
        first_line: first,
        shifts: shown.iter().map(|(_, _, window)| window.shift).collect(),
    };
    (snippet, location)
}

/// The rendered `text` with each snippet's placeholder, and the `:line:column` the
/// renderer wrote after it, replaced by the path and the line and column in the file.
fn write_locations(text: &str, locations: &[SnippetLocation]) -> String {
    let mut text = text.to_owned();
    for location in locations {
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find(&location.placeholder) {
            out.push_str(&rest[..at]);
            out.push_str(&location.path);
            rest = &rest[at + location.placeholder.len()..];
            let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let Some(after) = rest.strip_prefix(':') else {
                continue;
            };
            let line_len = digits(after);
            let Some(after_line) = after[line_len..].strip_prefix(':') else {
                continue;
            };
            let column_len = digits(after_line);
            let (Ok(line), Ok(column)) = (
                after[..line_len].parse::<usize>(),
                after_line[..column_len].parse::<usize>(),
            ) else {
                continue;
            };
            let shift = line
                .checked_sub(location.first_line)
                .and_then(|i| location.shifts.get(i))
                .copied()
                .unwrap_or(0);
            let _ = write!(out, ":{line}:{}", column + shift);
            rest = &after_line[column_len..];
        }
        out.push_str(rest);
        text = out;
    }
    text
}

/// A line as shown: cut to a window of `WIDTH` characters around a byte when it is long
/// (minified data, a one-line JUnit report), so a report stays readable and drawing a
/// snippet costs the same for any line, and made safe for a terminal.
struct Window {
    shown: String,
    /// The bytes of the line in the window.
    from: usize,
    to: usize,
    /// How many columns the cut removed before the window (less the `…` that marks it).
    shift: usize,
}

impl Window {
    const WIDTH: usize = 120;

    fn new(text: &str, at: usize) -> Window {
        let at = at.min(text.len());
        if text.len() <= Self::WIDTH || text.chars().count() <= Self::WIDTH {
            return Window {
                shown: terminal::one_column(text).into_owned(),
                from: 0,
                to: text.len(),
                shift: 0,
            };
        }
        // Bytes counted back and forth from `at` in characters, only over the window.
        let back = |end: usize, n: usize| {
            text[..end]
                .char_indices()
                .rev()
                .nth(n.saturating_sub(1))
                .map_or(0, |(i, _)| i)
        };
        let mut from = back(at, Self::WIDTH / 2);
        let mut to = text[from..]
            .char_indices()
            .nth(Self::WIDTH)
            .map_or(text.len(), |(i, _)| from + i);
        if to == text.len() {
            from = back(text.len(), Self::WIDTH);
            to = text.len();
        }
        let mut shown = String::from(if from > 0 { "…" } else { "" });
        shown.push_str(&terminal::one_column(&text[from..to]));
        if to < text.len() {
            shown.push('…');
        }
        Window {
            shown,
            from,
            to,
            shift: text[..from].chars().count() - usize::from(from > 0),
        }
    }

    /// The 0-based column in `shown` of the character at `byte` of the line `text`.
    fn column(&self, text: &str, byte: usize) -> usize {
        let byte = byte.clamp(self.from, self.to);
        text[self.from..byte].chars().count() + usize::from(self.from > 0)
    }
}

fn json_object(r: &Resolved, sources: &SourceMap) -> Value {
    let d = r.diag;
    let related: Vec<Value> = d
        .related
        .iter()
        .map(|(span, label)| {
            let f = sources.get(span.file);
            let (line, column) = f.line_col(span.start);
            json!({"message": label, "file": display_path(&f.path), "line": line, "column": column})
        })
        .collect();
    json!({
        "severity": d.severity.as_str(),
        "code": d.code,
        "message": d.message,
        "file": r.file,
        "line": r.start.map(|s| s.0),
        "column": r.start.map(|s| s.1),
        "end_line": r.end.map(|s| s.0),
        "end_column": r.end.map(|s| s.1),
        "item": d.item,
        "help": d.help,
        "related": related,
    })
}

/// GitHub Actions workflow commands: `::error file=F,line=L,col=C::message`.
fn github(resolved: &[Resolved]) -> String {
    // The log shows the data as text: a control character other than a line break
    // (escaped as GitHub asks) is written as `\u{..}`, as in the human format.
    let escape_data = |s: &str| {
        let data = s
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        terminal::safe(&data).into_owned()
    };
    let escape_prop = |s: &str| escape_data(s).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for r in resolved {
        let d = r.diag;
        let mut props = Vec::new();
        if let Some(file) = &r.file {
            props.push(format!("file={}", escape_prop(file)));
        }
        if let (Some((line, col)), Some((end_line, end_col))) = (r.start, r.end) {
            props.push(format!("line={line}"));
            props.push(format!("col={col}"));
            props.push(format!("endLine={end_line}"));
            if end_line == line {
                props.push(format!("endColumn={end_col}"));
            }
        }
        props.push(format!(
            "title={}",
            escape_prop(&format!("mdbook-qms {}", d.code))
        ));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let _ = writeln!(
            out,
            "::{} {}::{}",
            d.severity.as_str(),
            props.join(","),
            escape_data(&message)
        );
    }
    out
}

fn sarif(resolved: &[Resolved]) -> Value {
    let rules: Vec<Value> = CODES
        .iter()
        .map(|c| {
            json!({
                "id": c.code,
                "shortDescription": {"text": c.summary},
                "defaultConfiguration": {"level": c.severity.as_str()},
            })
        })
        .collect();
    let results: Vec<Value> = resolved
        .iter()
        .map(|r| {
            let d = r.diag;
            let mut result = json!({
                "ruleId": d.code,
                "ruleIndex": CODES.iter().position(|c| c.code == d.code),
                "level": d.severity.as_str(),
                "message": {"text": match &d.help { Some(h) => format!("{}\nhelp: {h}", d.message), None => d.message.clone() }},
            });
            if let Some(file) = &r.file {
                let mut physical = json!({"artifactLocation": {"uri": file}});
                if let (Some((line, col)), Some((end_line, end_col))) = (r.start, r.end) {
                    physical["region"] = json!({"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col.max(col)});
                }
                result["locations"] = json!([{"physicalLocation": physical}]);
            }
            if let Some(item) = &d.item {
                result["properties"] = json!({"item": item});
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mdbook-qms",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::code;

    #[test]
    fn a_long_line_is_cut_around_the_place_and_keeps_its_column() {
        let mut sources = SourceMap::default();
        let line = format!(
            "{}\u{1b}{}TARGET{}END\n",
            "x".repeat(590),
            "x".repeat(9),
            "y".repeat(1000)
        );
        let f = sources.add("a.json".into(), line.clone());
        let at = |needle: &str| {
            let start = line.find(needle).unwrap();
            Span {
                file: f,
                start,
                end: start + needle.len(),
            }
        };
        let diags = [
            Diagnostic::new(code::YAML_SYNTAX, "middle").at(at("TARGET")),
            Diagnostic::new(code::YAML_SYNTAX, "end").at(at("END")),
        ];
        let text = render(Format::Human, &diags, &sources);
        let middle = format!(
            " --> a.json:1:601\n  |\n1 | …{}␛{}TARGET{}…\n  | {}^^^^^^\n",
            "x".repeat(50),
            "x".repeat(9),
            "y".repeat(54),
            " ".repeat(61)
        );
        assert!(text.contains(&middle), "{text}");
        let end = format!(
            " --> a.json:1:1607\n  |\n1 | …{}END\n  | {}^^^\n",
            "y".repeat(117),
            " ".repeat(118)
        );
        assert!(text.contains(&end), "{text}");
    }

    #[test]
    fn output_is_sorted_by_file_and_position() {
        let mut sources = SourceMap::default();
        let b = sources.add("b.yaml".into(), "a: 1\nb: 2\n".into());
        let a = sources.add("a.yaml".into(), "a: 1\n".into());
        let diags = vec![
            Diagnostic::new(code::YAML_SYNTAX, "second").at(Span {
                file: b,
                start: 5,
                end: 6,
            }),
            Diagnostic::new(code::YAML_SYNTAX, "first").at(Span {
                file: b,
                start: 0,
                end: 1,
            }),
            Diagnostic::new(code::YAML_SYNTAX, "zeroth").at(Span {
                file: a,
                start: 0,
                end: 1,
            }),
        ];
        let order: Vec<&str> = resolve_all(&diags, &sources)
            .iter()
            .map(|r| r.diag.message.as_str())
            .collect();
        assert_eq!(order, ["zeroth", "first", "second"]);
        let text = render(Format::Human, &diags, &sources);
        assert!(
            text.contains("\n --> b.yaml:2:1\n  |\n2 | b: 2\n  | ^\n"),
            "{text}"
        );
        assert!(text.ends_with("3 errors, 0 warnings\n"));
    }

    #[test]
    fn a_related_place_far_away_in_the_same_file_gets_a_snippet_of_its_own() {
        let mut sources = SourceMap::default();
        let text: String = (1..=100).map(|n| format!("line {n}\n")).collect();
        let f = sources.add("a.yaml".into(), text.clone());
        let at = |needle: &str| {
            let start = text.find(needle).unwrap();
            Span {
                file: f,
                start,
                end: start + needle.len(),
            }
        };
        let d = Diagnostic::new(code::DUPLICATE_ID, "far")
            .at(at("line 100"))
            .related(at("line 1\n"), "first")
            .related(at("line 97"), "near");
        let text = render(Format::Human, &[d], &sources);
        // Lines 97 and 100 share the primary snippet; line 1 has its own, and the lines
        // between are not copied (a large file would make that quadratic).
        assert!(text.contains(" --> a.yaml:100:1\n"), "{text}");
        assert!(text.contains("97 | line 97\n"), "{text}");
        assert!(text.contains(" ::: a.yaml:1:1\n"), "{text}");
        assert!(!text.contains("line 50"), "{text}");
    }

    #[test]
    fn a_diagnostic_without_a_span_prints_its_title_file_and_help() {
        let mut sources = SourceMap::default();
        let f = sources.add("book.toml".into(), "[book]\n".into());
        let diags = [
            Diagnostic::new(code::CONFIG_MISSING, "no book.toml in x").help("run init"),
            Diagnostic::new(code::FILE_EMPTY, "book.toml holds no item").in_file(f),
        ];
        assert_eq!(
            render(Format::Human, &diags, &sources),
            concat!(
                "error[config-missing]: no book.toml in x\n |\n = help: run init\n\n",
                "warning[file-empty]: book.toml holds no item\n--> book.toml\n\n",
                "1 error, 1 warning\n",
            )
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let mut sources = SourceMap::default();
        let f = sources.add("a.yaml".into(), "a: 1\n".into());
        let d = Diagnostic::new(code::YAML_SYNTAX, "m").at(Span {
            file: f,
            start: 0,
            end: 1,
        });
        let plain = render_human(std::slice::from_ref(&d), &sources, false);
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert_eq!(
            plain,
            render(Format::Human, std::slice::from_ref(&d), &sources)
        );
        assert!(render_human(&[d], &sources, true).contains("\u{1b}["));
    }

    #[test]
    fn a_span_inside_a_character_does_not_panic() {
        let mut sources = SourceMap::default();
        let f = sources.add("a.json".into(), "x😀y\n".into());
        let d = Diagnostic::new(code::YAML_SYNTAX, "m").at(Span {
            file: f,
            start: 2,
            end: 3,
        });
        for format in [Format::Human, Format::Json, Format::Github, Format::Sarif] {
            assert!(render(format, std::slice::from_ref(&d), &sources).contains("a.json"));
        }
    }

    #[test]
    fn github_escapes_properties_and_data() {
        let mut sources = SourceMap::default();
        let f = sources.add("a,b:c.yaml".into(), "x\n".into());
        let d = Diagnostic::new(code::YAML_SYNTAX, "50% bad\nline").at(Span {
            file: f,
            start: 0,
            end: 1,
        });
        let text = render(Format::Github, &[d], &sources);
        assert!(
            text.starts_with("::error file=a%2Cb%3Ac.yaml,line=1,col=1,"),
            "{text}"
        );
        assert!(text.trim_end().ends_with("::50%25 bad%0Aline"), "{text}");
    }
}
