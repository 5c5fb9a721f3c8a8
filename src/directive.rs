//! `{{#qms NAME ARGS...}}` directives in chapters.
//!
//! Parsing and checking live here so `check` reports a bad directive without building
//! the book; the render stage decides what each one turns into. Directives inside code
//! (fenced, indented or inline) are left alone, and `\{{#qms ...}}` is an escape, as
//! with mdBook's own `{{#include}}`.

use crate::diag::{code, did_you_mean, Diagnostic};
use crate::source::{FileId, Span};

/// What a positional argument must name; the check stage resolves ids and types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgKind {
    Id,
    Type,
    Word,
}

/// Every directive this version understands. The parser sets it once; code matches on
/// it, never on the name, so a new directive does not compile until each `match`
/// handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Ref,
    Item,
    Table,
    Matrix,
    History,
    Changes,
    Dfd,
    Heatmap,
    Stride,
    Results,
    Sbom,
    Document,
    Metrics,
    Downloads,
}

crate::choice::impl_choice!(pub(crate) Kind {
    Ref => "ref",
    Item => "item",
    Table => "table",
    Matrix => "matrix",
    History => "history",
    Changes => "changes",
    Dfd => "dfd",
    Heatmap => "heatmap",
    Stride => "stride",
    Results => "results",
    Sbom => "sbom",
    Document => "document",
    Metrics => "metrics",
    Downloads => "downloads",
});

/// A directive's grammar: positional arguments, and whether `key=value` options are
/// accepted (and which keys, `None` meaning any key).
pub(crate) struct Spec {
    pub(crate) args: &'static [ArgKind],
    pub(crate) options: Option<&'static [&'static str]>,
    pub(crate) usage: &'static str,
}

impl Kind {
    pub(crate) const fn spec(self) -> &'static Spec {
        match self {
            Kind::Ref => &Spec {
                args: &[ArgKind::Id],
                options: Some(&[]),
                usage: "{{#qms ref ID}}",
            },
            Kind::Item => &Spec {
                args: &[ArgKind::Id],
                options: Some(&[]),
                usage: "{{#qms item ID}}",
            },
            Kind::Table => &Spec {
                args: &[ArgKind::Type],
                // Any other key filters on that field.
                options: None,
                usage: "{{#qms table TYPE [status=S] [tag=T] [FIELD=VALUE] [columns=a,b]}}",
            },
            Kind::Matrix => &Spec {
                args: &[ArgKind::Type, ArgKind::Type],
                options: Some(&["via", "status", "tag", "commits", "approved"]),
                usage: "{{#qms matrix FROM TO [via=FIELD] [commits=true] [approved=true|false]}}",
            },
            Kind::History => &Spec {
                args: &[ArgKind::Id],
                options: Some(&[]),
                usage: "{{#qms history ID}}",
            },
            Kind::Changes => &Spec {
                // A git revision: a baseline tag or a commit.
                args: &[ArgKind::Word],
                options: Some(&[]),
                usage: "{{#qms changes BASE}}",
            },
            Kind::Dfd => &Spec {
                args: &[],
                // `zone=` names the zone to draw; the risk stage checks it.
                options: Some(&["zone"]),
                usage: "{{#qms dfd [zone=ZONE]}}",
            },
            Kind::Heatmap => &Spec {
                args: &[],
                options: Some(&["show"]),
                usage: "{{#qms heatmap [show=before|after|both]}}",
            },
            Kind::Stride => &Spec {
                args: &[],
                options: Some(&[]),
                usage: "{{#qms stride}}",
            },
            Kind::Results => &Spec {
                args: &[],
                options: Some(&[]),
                usage: "{{#qms results}}",
            },
            Kind::Sbom => &Spec {
                args: &[],
                options: Some(&[]),
                usage: "{{#qms sbom}}",
            },
            Kind::Document => &Spec {
                // A built-in document's name; `documents::check` reports an unknown one.
                args: &[ArgKind::Word],
                options: Some(&[]),
                usage: "{{#qms document NAME}}",
            },
            Kind::Metrics => &Spec {
                args: &[],
                options: Some(&[]),
                usage: "{{#qms metrics}}",
            },
            Kind::Downloads => &Spec {
                args: &[],
                options: Some(&[]),
                usage: "{{#qms downloads}}",
            },
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Arg {
    pub(crate) text: String,
    pub(crate) span: Span,
}

#[derive(Debug, Clone)]
pub(crate) struct Directive {
    pub(crate) kind: Kind,
    pub(crate) args: Vec<Arg>,
    pub(crate) options: Vec<(Arg, Arg)>,
    /// The whole `{{#qms ...}}`, which rendering replaces.
    pub(crate) span: Span,
}

impl Directive {
    pub(crate) fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k.text == key)
            .map(|(_, v)| v.text.as_str())
    }
}

const OPEN: &str = "{{#qms";

/// Finds the directives of a chapter outside the given code ranges. Returns the
/// directives that parse; the others become diagnostics.
pub(crate) fn scan(
    text: &str,
    file: FileId,
    code_ranges: &[std::ops::Range<usize>],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Directive> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find(OPEN) {
        let start = from + i;
        from = start + OPEN.len();
        if code_ranges.iter().any(|r| r.contains(&start)) {
            continue;
        }
        if text[..start].ends_with('\\') {
            continue;
        }
        let span = |s: usize, e: usize| Span {
            file,
            start: s,
            end: e,
        };
        let Some(close) = text[start..].find("}}") else {
            diags.push(
                Diagnostic::new(code::DIRECTIVE_SYNTAX, "`{{#qms` is never closed with `}}`")
                    .at(span(start, from)),
            );
            break;
        };
        let end = start + close + 2;
        from = end;
        match parse(text, start, end, file) {
            Ok(d) => found.push(d),
            Err(d) => diags.push(d),
        }
    }
    found
}

/// Parses the directive at `text[start..end]` and checks it against its [`Spec`].
// A `Diagnostic` is the error; it is built only on failure, so boxing it buys nothing.
#[allow(clippy::result_large_err)]
fn parse(text: &str, start: usize, end: usize, file: FileId) -> Result<Directive, Diagnostic> {
    let whole = Span { file, start, end };
    let body_start = start + OPEN.len();
    let body = &text[body_start..end - 2];
    if !body.starts_with(char::is_whitespace) && !body.is_empty() {
        return Err(
            Diagnostic::new(code::DIRECTIVE_SYNTAX, "expected a space after `{{#qms`").at(whole),
        );
    }
    let mut words = body.split_whitespace().map(|w| {
        let offset = w.as_ptr() as usize - body.as_ptr() as usize + body_start;
        Arg {
            text: w.to_owned(),
            span: Span {
                file,
                start: offset,
                end: offset + w.len(),
            },
        }
    });
    let Some(name) = words.next() else {
        return Err(
            Diagnostic::new(code::DIRECTIVE_SYNTAX, "the directive has no name")
                .at(whole)
                .help(format!("directives: {}", names())),
        );
    };
    let Ok(kind) = name.text.parse::<Kind>() else {
        let mut d = Diagnostic::new(
            code::DIRECTIVE_UNKNOWN,
            format!("unknown directive `{}`", name.text),
        )
        .at(name.span);
        d = match did_you_mean(&name.text, Kind::NAMES.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`? directives: {}", names())),
            None => d.help(format!("directives: {}", names())),
        };
        return Err(d);
    };
    let spec = kind.spec();
    let mut args = Vec::new();
    let mut options = Vec::new();
    for word in words {
        match word.text.split_once('=') {
            Some((k, v)) => {
                if k.is_empty() || v.is_empty() {
                    return Err(Diagnostic::new(
                        code::DIRECTIVE_SYNTAX,
                        format!("`{}` must be KEY=VALUE", word.text),
                    )
                    .at(word.span)
                    .help(spec.usage));
                }
                let allowed = spec.options.is_none_or(|keys| keys.contains(&k));
                if !allowed {
                    let keys = spec.options.unwrap_or_default();
                    let mut d = Diagnostic::new(
                        code::DIRECTIVE_SYNTAX,
                        format!("`{kind}` takes no option `{k}`"),
                    )
                    .at(word.span)
                    .help(spec.usage);
                    if let Some(s) = did_you_mean(k, keys.iter().copied()) {
                        d = d.help(format!("did you mean `{s}`? usage: {}", spec.usage));
                    }
                    return Err(d);
                }
                let key_end = word.span.start + k.len();
                options.push((
                    Arg {
                        text: k.to_owned(),
                        span: Span {
                            file,
                            start: word.span.start,
                            end: key_end,
                        },
                    },
                    Arg {
                        text: v.to_owned(),
                        span: Span {
                            file,
                            start: key_end + 1,
                            end: word.span.end,
                        },
                    },
                ));
            }
            None if !options.is_empty() => {
                return Err(Diagnostic::new(
                    code::DIRECTIVE_SYNTAX,
                    format!("`{}` comes after options; arguments go first", word.text),
                )
                .at(word.span)
                .help(spec.usage));
            }
            None => args.push(word),
        }
    }
    if args.len() != spec.args.len() {
        let d = Diagnostic::new(
            code::DIRECTIVE_SYNTAX,
            format!(
                "`{kind}` takes {} argument{}, found {}",
                spec.args.len(),
                if spec.args.len() == 1 { "" } else { "s" },
                args.len()
            ),
        )
        .at(args.get(spec.args.len()).map_or(whole, |a| a.span))
        .help(format!("usage: {}", spec.usage));
        return Err(d);
    }
    Ok(Directive {
        kind,
        args,
        options,
        span: whole,
    })
}

fn names() -> String {
    Kind::NAMES.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_str(text: &str, code: &[std::ops::Range<usize>]) -> (Vec<Directive>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let found = scan(text, FileId(0), code, &mut diags);
        (found, diags)
    }

    #[test]
    fn parses_arguments_and_options_with_spans() {
        let text = "x {{#qms table requirement status=approved}} y";
        let (found, diags) = scan_str(text, &[]);
        assert!(diags.is_empty());
        let d = &found[0];
        assert_eq!(
            (d.kind, d.args[0].text.as_str(), d.option("status")),
            (Kind::Table, "requirement", Some("approved"))
        );
        assert_eq!(
            &text[d.span.start..d.span.end],
            "{{#qms table requirement status=approved}}"
        );
        let (k, v) = &d.options[0];
        assert_eq!(
            (
                &text[k.span.start..k.span.end],
                &text[v.span.start..v.span.end]
            ),
            ("status", "approved")
        );
    }

    /// The usage line repeats the name and the arguments, so it must agree with the kind
    /// the parser reads and the arity it checks.
    #[test]
    fn each_usage_shows_its_name_and_arguments() {
        for name in Kind::NAMES {
            let kind: Kind = name.parse().unwrap();
            let spec = kind.spec();
            let words: Vec<&str> = spec.usage["{{#qms ".len()..spec.usage.len() - 2]
                .split_whitespace()
                .collect();
            assert_eq!(words[0], *name, "{}", spec.usage);
            let args = words[1..].iter().filter(|w| !w.starts_with('['));
            assert_eq!(args.count(), spec.args.len(), "{}", spec.usage);
        }
    }

    #[test]
    fn escapes_and_code_are_skipped() {
        let text = "\\{{#qms nope}} `{{#qms nope}}`";
        let code = std::ops::Range { start: 15, end: 30 };
        let (found, diags) = scan_str(text, std::slice::from_ref(&code));
        assert!(found.is_empty() && diags.is_empty());
    }

    #[test]
    fn errors() {
        let codes = |text: &str| {
            scan_str(text, &[])
                .1
                .into_iter()
                .map(|d| d.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(codes("{{#qms reff X-1}}"), [code::DIRECTIVE_UNKNOWN]);
        assert_eq!(codes("{{#qms}}"), [code::DIRECTIVE_SYNTAX]);
        assert_eq!(codes("{{#qms ref}}"), [code::DIRECTIVE_SYNTAX]);
        assert_eq!(codes("{{#qms ref A-1 B-1}}"), [code::DIRECTIVE_SYNTAX]);
        assert_eq!(codes("{{#qms ref A-1 k=v}}"), [code::DIRECTIVE_SYNTAX]);
        assert_eq!(codes("{{#qms matrix a via=x b}}"), [code::DIRECTIVE_SYNTAX]);
        assert_eq!(codes("{{#qms table a k=}}"), [code::DIRECTIVE_SYNTAX]);
        assert_eq!(codes("{{#qms ref A-1"), [code::DIRECTIVE_SYNTAX]);
        assert_eq!(
            codes("{{#qms ref Ä-1}} {{#qms ref B-1}}"),
            Vec::<&str>::new()
        );
    }
}
