//! Printing diagnostics: rustc-style text, JSON (the PRODUCT.md contract), GitHub
//! workflow annotations, and SARIF 2.1.0 for code-scanning tools.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::diag::{Diagnostic, Location, Severity, CODES};
use crate::source::{display_path, SourceMap, Span};
use crate::terminal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}
crate::choice::impl_choice!(Format {
    Human => "human",
    Json => "json",
    Github => "github",
    Sarif => "sarif",
});

/// A diagnostic's position, resolved for printing. Lines and columns are 1-based;
/// columns count characters.
pub struct Resolved<'a> {
    pub diag: &'a Diagnostic,
    pub file: Option<String>,
    pub start: Option<(usize, usize)>,
    pub end: Option<(usize, usize)>,
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
pub fn resolve_all<'a>(diags: &'a [Diagnostic], sources: &SourceMap) -> Vec<Resolved<'a>> {
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

pub fn render(format: Format, diags: &[Diagnostic], sources: &SourceMap) -> String {
    let resolved = resolve_all(diags, sources);
    match format {
        Format::Human => human(&resolved, sources),
        Format::Json => {
            let list: Vec<Value> = resolved.iter().map(|r| json_object(r, sources)).collect();
            serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
        }
        Format::Github => github(&resolved),
        Format::Sarif => serde_json::to_string_pretty(&sarif(&resolved)).unwrap_or_default() + "\n",
    }
}

fn human(resolved: &[Resolved], sources: &SourceMap) -> String {
    let mut out = String::new();
    for r in resolved {
        let d = r.diag;
        let _ = writeln!(
            out,
            "{}[{}]: {}",
            d.severity.as_str(),
            d.code,
            terminal::safe(&d.message)
        );
        if let Location::Span(span) = d.location {
            snippet(&mut out, span, sources, "");
        } else if let Some(file) = &r.file {
            let _ = writeln!(out, "  --> {}", terminal::safe_line(file));
        }
        for (span, label) in &d.related {
            snippet(&mut out, *span, sources, label);
        }
        if let Some(help) = &d.help {
            let _ = writeln!(out, "   = help: {}", terminal::safe(help));
        }
        out.push('\n');
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

/// ` --> file:line:col`, the source line, and a caret under the span.
fn snippet(out: &mut String, span: Span, sources: &SourceMap, label: &str) {
    let f = sources.get(span.file);
    let (line, col) = f.line_col(span.start);
    let (end_line, end_col) = f.line_col(span.end);
    let width = line.to_string().len();
    let _ = writeln!(
        out,
        "{:width$}--> {}:{line}:{col}",
        "",
        terminal::safe_line(&display_path(&f.path))
    );
    if f.text.is_empty() {
        return;
    }
    let span_len = end_col.saturating_sub(col).max(1);
    let (text, col) = window(f.line_text(line), col);
    let rest = text.chars().count().saturating_sub(col - 1).max(1);
    let chars = if end_line == line {
        span_len.min(rest)
    } else {
        rest
    };
    // Each character as shown: an escaped control character is several columns wide,
    // and the caret line follows what is shown.
    let shown: Vec<String> = text
        .chars()
        .map(|c| terminal::safe_line(c.encode_utf8(&mut [0; 4])).into_owned())
        .collect();
    let pad: String = shown
        .iter()
        .take(col - 1)
        .map(|c| {
            if c == "\t" {
                "\t".to_owned()
            } else {
                " ".repeat(c.chars().count())
            }
        })
        .collect();
    let len: usize = shown
        .iter()
        .skip(col - 1)
        .take(chars)
        .map(|c| c.chars().count())
        .sum::<usize>()
        .max(1);
    let _ = writeln!(out, "{:width$} |", "");
    let _ = writeln!(out, "{line} | {}", shown.concat());
    let _ = writeln!(
        out,
        "{:width$} | {pad}{}{}{}",
        "",
        "^".repeat(len),
        if label.is_empty() { "" } else { " " },
        terminal::safe(label)
    );
}

/// Cuts a long line (minified data, an alias bomb) to a window around the column, so a
/// report stays readable; returns the text shown and the column within it.
fn window(text: &str, col: usize) -> (String, usize) {
    const WIDTH: usize = 120;
    let count = text.chars().count();
    if count <= WIDTH {
        return (text.to_owned(), col);
    }
    let from = (col - 1).saturating_sub(WIDTH / 2).min(count - WIDTH);
    let mut shown = String::from(if from > 0 { "…" } else { "" });
    shown.extend(text.chars().skip(from).take(WIDTH));
    if from + WIDTH < count {
        shown.push('…');
    }
    (shown, col - from + usize::from(from > 0))
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
    fn long_lines_are_cut_around_the_column() {
        let line = "x".repeat(1000);
        let (shown, col) = window(&line, 500);
        assert_eq!(shown.chars().count(), 122);
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert_eq!(shown.chars().nth(col - 1), Some('x'));
        assert_eq!(col, 62);
        assert_eq!(window("short", 3), ("short".to_owned(), 3));
        let (shown, col) = window(&line, 1);
        assert_eq!((shown.chars().next(), col), (Some('x'), 1));
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
