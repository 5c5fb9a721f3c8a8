//! JUnit XML test results, as cargo-nextest, pytest, GoogleTest, Maven Surefire, ctest
//! and most other runners write them.
//!
//! The reader is quick-xml's pull parser: it never expands entities, and a `<!DOCTYPE>`
//! is rejected outright, so neither external entities nor entity bombs can reach us.
//! Only the five predefined entities and character references are decoded.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::date::Timestamp;
use crate::diag::{code, Diagnostic};
use crate::source::{FileId, SourceFile, Span};

/// The outcome of one test case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Ran and passed.
    Passed,
    /// Did not run (`<skipped>`).
    Skipped,
    /// An assertion failed (`<failure>`).
    Failed,
    /// The test could not run to an assertion (`<error>`).
    Error,
}

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
            Outcome::Error => "error",
        }
    }
}

/// One `<testcase>`.
#[derive(Debug, Clone)]
pub struct TestCase {
    pub(crate) file: FileId,
    /// Where the `<testcase` tag starts.
    pub(crate) span: Span,
    /// The names of the enclosing `<testsuite>`s, outermost first.
    pub suites: Vec<String>,
    pub(crate) classname: String,
    pub(crate) name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The failure, error or skip message.
    pub message: Option<String>,
    /// When the run started: the nearest `timestamp` attribute (case, suite or suites),
    /// as seconds since the epoch (UTC unless the value names an offset).
    pub timestamp: Option<Timestamp>,
    /// The `<property name value>` pairs of the enclosing suites, outermost first, then
    /// of the case, in file order (a build or version is often recorded as one).
    pub properties: Vec<(String, String)>,
}

impl TestCase {
    /// The names the case is known by: `classname::name` and `classname.name` (or just
    /// `name` without a class name). Evidence names match these or a suffix of them.
    pub fn full_names(&self) -> Vec<String> {
        if self.classname.is_empty() || self.name.starts_with(&self.classname) {
            return vec![self.name.clone()];
        }
        vec![
            format!("{}::{}", self.classname, self.name),
            format!("{}.{}", self.classname, self.name),
        ]
    }
}

#[derive(Default)]
struct Frame {
    name: String,
    timestamp: Option<Timestamp>,
    properties: Vec<(String, String)>,
}

/// Parses one JUnit file. On malformed input the cases read so far are dropped and one
/// diagnostic names the file, line and column.
// A `Diagnostic` is the error; it is built only on failure, so boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub fn parse(file: FileId, source: &SourceFile) -> Result<Vec<TestCase>, Diagnostic> {
    let text = source.text.as_str();
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut cases = Vec::new();
    let mut suites: Vec<Frame> = Vec::new();
    let mut root_seen = false;
    let mut current: Option<TestCase> = None;
    // Text of <failure>/<error>/<skipped>/<property> bodies is collected for messages.
    let mut in_result: Option<Outcome> = None;
    let mut depth = 0usize;
    let err = |at: usize, msg: String| {
        let end = (at + 1).min(text.len());
        Diagnostic::new(
            code::JUNIT_INVALID,
            format!("{}: {msg}", crate::source::display_path(&source.path)),
        )
        .at(Span {
            file,
            start: at.min(text.len()),
            end,
        })
    };
    loop {
        let at = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                return Err(err(
                    reader.error_position() as usize,
                    format!("malformed XML: {e}"),
                ))
            }
        };
        match event {
            Event::DocType(_) => {
                return Err(err(
                    at,
                    "a DOCTYPE is not allowed in test results (entities are never expanded)".into(),
                )
                .help("JUnit XML needs no DTD; remove the <!DOCTYPE ...> declaration"))
            }
            Event::GeneralRef(r) => {
                let ok = r.is_char_ref()
                    || matches!(&*r.xml10_content(), "lt" | "gt" | "amp" | "apos" | "quot");
                if !ok {
                    return Err(err(
                        at,
                        format!(
                            "undefined entity `&{};` (entities are never expanded)",
                            r.xml10_content()
                        ),
                    ));
                }
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name().as_ref().to_owned();
                if !empty {
                    depth += 1;
                }
                if !root_seen {
                    root_seen = true;
                    if name != "testsuites" && name != "testsuite" {
                        return Err(err(at, format!("not a JUnit report: the root element is <{name}>, not <testsuites> or <testsuite>")));
                    }
                }
                let attrs = attributes(e).map_err(|m| err(at, m))?;
                let attr = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                match name.as_str() {
                    "testsuites" | "testsuite" => {
                        let ts = match attr("timestamp") {
                            Some(t) => Some(Timestamp::parse(&t).ok_or_else(|| {
                                err(
                                    at,
                                    format!("`timestamp=\"{t}\"` is not an ISO 8601 date and time"),
                                )
                            })?),
                            None => None,
                        };
                        if !empty {
                            suites.push(Frame {
                                name: attr("name").unwrap_or_default(),
                                timestamp: ts,
                                properties: Vec::new(),
                            });
                        }
                    }
                    "testcase" => {
                        if current.is_some() {
                            return Err(err(at, "a <testcase> inside another <testcase>".into()));
                        }
                        let Some(case_name) = attr("name") else {
                            return Err(err(at, "a <testcase> without a `name`".into()));
                        };
                        let timestamp = match attr("timestamp") {
                            Some(t) => Timestamp::parse(&t),
                            None => suites.iter().rev().find_map(|f| f.timestamp),
                        };
                        let case = TestCase {
                            file,
                            span: Span {
                                file,
                                start: at,
                                end: reader.buffer_position() as usize,
                            },
                            suites: suites.iter().map(|f| f.name.clone()).collect(),
                            classname: attr("classname").unwrap_or_default(),
                            name: case_name,
                            outcome: Outcome::Passed,
                            message: None,
                            timestamp,
                            properties: suites
                                .iter()
                                .flat_map(|f| f.properties.iter().cloned())
                                .collect(),
                        };
                        if empty {
                            cases.push(case);
                        } else {
                            current = Some(case);
                        }
                    }
                    "failure" | "error" | "skipped" | "flakyFailure" | "rerunFailure"
                    | "flakyError" | "rerunError" => {
                        if let Some(case) = current.as_mut() {
                            let outcome = match name.as_str() {
                                "failure" => Outcome::Failed,
                                "error" => Outcome::Error,
                                "skipped" => Outcome::Skipped,
                                // A flaky test passed on a retry: its result stands.
                                _ => case.outcome,
                            };
                            if outcome > case.outcome || case.outcome == Outcome::Passed {
                                case.outcome = outcome.max(case.outcome);
                                if case.message.is_none() || outcome == case.outcome {
                                    case.message = attr("message").or(case.message.take());
                                }
                            }
                            if !empty {
                                in_result = Some(outcome);
                            }
                        }
                    }
                    "property" => {
                        if let Some(n) = attr("name") {
                            let pair = (n, attr("value").unwrap_or_default());
                            match (current.as_mut(), suites.last_mut()) {
                                (Some(case), _) => case.properties.push(pair),
                                (None, Some(suite)) => suite.properties.push(pair),
                                (None, None) => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                match e.local_name().as_ref() {
                    "testsuite" | "testsuites" => {
                        suites.pop();
                    }
                    "testcase" => {
                        if let Some(case) = current.take() {
                            cases.push(case);
                        }
                    }
                    "failure" | "error" | "skipped" => in_result = None,
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let (Some(case), Some(_)) = (current.as_mut(), in_result) {
                    if case.message.is_none() {
                        case.message = first_line(&t.xml10_content());
                    }
                }
            }
            // GoogleTest writes failure bodies as CDATA.
            Event::CData(t) => {
                if let (Some(case), Some(_)) = (current.as_mut(), in_result) {
                    if case.message.is_none() {
                        case.message = first_line(&t.xml10_content());
                    }
                }
            }
            Event::Eof => {
                if !root_seen {
                    return Err(err(
                        0,
                        "not a JUnit report: the file holds no XML element".into(),
                    ));
                }
                if depth > 0 || current.is_some() {
                    return Err(err(
                        text.len().saturating_sub(1),
                        "the file ends before its elements are closed (truncated?)".into(),
                    ));
                }
                break;
            }
            _ => {}
        }
    }
    Ok(cases)
}

fn first_line(body: &str) -> Option<String> {
    body.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
}

/// The attributes of a tag, with the predefined entities and character references
/// decoded; any other entity is an error.
fn attributes(e: &BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| format!("malformed attribute: {e}"))?;
        let key = a.key.local_name().as_ref().to_owned();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("attribute `{key}`: {e} (entities are never expanded)"))?
            .into_owned();
        out.push((key, value));
    }
    Ok(out)
}
