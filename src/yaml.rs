//! YAML with a source span on every node.
//!
//! Items need file:line:column for every key and value, schema errors included, so we
//! build our own small tree from `saphyr-parser`'s spanned events (the parser behind
//! saphyr's `MarkedYaml`). Doing it here also lets us reject what YAML libraries
//! silently accept: duplicate keys (YAML 1.2 forbids them; most parsers keep the last)
//! and alias bombs. Scalars are resolved with the YAML 1.2 core schema, so `no` stays
//! a string and dates stay strings.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::source::{FileId, SourceFile, Span};

/// A YAML value with the span it was written at.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub(crate) value: Value,
    pub(crate) span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    /// Keys keep their own spans, so "unknown field" points at the key.
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The entry with key `key` in a mapping.
    pub(crate) fn get(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// Converts to JSON for schema validation.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::String(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The node at a JSON pointer (as in a schema error's instance path), and the key
    /// node when the last step is a mapping key.
    pub(crate) fn locate<'a>(&'a self, pointer: &str) -> (Option<&'a Node>, &'a Node) {
        let mut node = self;
        let mut key = None;
        for raw in pointer.split('/').skip(1) {
            let segment = raw.replace("~1", "/").replace("~0", "~");
            let next = match &node.value {
                Value::Map(_) => node.get(&segment).map(|(k, v)| (Some(k), v)),
                Value::Seq(items) => segment
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|v| (None, v)),
                _ => None,
            };
            match next {
                Some((k, v)) => {
                    key = k;
                    node = v;
                }
                None => break,
            }
        }
        (key, node)
    }
}

/// A YAML error with the span where it was found.
#[derive(Debug)]
pub struct YamlError {
    pub(crate) kind: YamlErrorKind,
    pub(crate) message: String,
    pub(crate) span: Span,
    /// For duplicate keys: where the key was first written.
    pub(crate) first: Option<Span>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum YamlErrorKind {
    Syntax,
    DuplicateKey,
    Unsupported,
}

/// Where a YAML text sits in its file: embedded blocks start at a line and column
/// offset inside a chapter.
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    /// The file the YAML text is in.
    pub file: FileId,
    /// That file's contents, for spans and line offsets.
    pub source: &'a SourceFile,
    /// Lines before the YAML text's first line.
    pub line_offset: usize,
    /// Characters stripped from the start of every line (an indented fence).
    pub col_offset: usize,
}

impl Origin<'_> {
    fn span(&self, start: saphyr_parser::Marker, end: saphyr_parser::Marker) -> Span {
        Span {
            file: self.file,
            start: self.offset(start),
            end: self.offset(end).max(self.offset(start)),
        }
    }

    fn offset(&self, m: saphyr_parser::Marker) -> usize {
        if self.line_offset == 0 && self.col_offset == 0 && self.source.is_ascii() {
            return m.index().min(self.source.text.len());
        }
        self.source
            .offset(m.line() + self.line_offset, m.col() + self.col_offset)
    }
}

/// How many nodes aliases may copy in one text before we call it an alias bomb.
const ALIAS_BUDGET: usize = 10_000;

enum Frame {
    Seq(Node, usize),
    Map(Node, usize, Option<Node>),
}

/// Parses every document of a YAML text.
pub fn parse(text: &str, origin: Origin<'_>) -> Result<Vec<Node>, YamlError> {
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut alias_budget = ALIAS_BUDGET;
    let mut parser = Parser::new_from_str(text);
    for event in parser.by_ref() {
        let (event, span) = event.map_err(|e| {
            let m = *e.marker();
            let mut span = origin.span(m, m);
            // The parser marks where the token began, which for a stray tab can be lines
            // earlier: point at the tab itself.
            if e.info().contains("tab") {
                if let Some(i) = origin.source.text[span.start..].find('\t') {
                    span.start += i;
                    span.end = span.start + 1;
                }
            }
            YamlError {
                kind: YamlErrorKind::Syntax,
                message: e.info().to_owned(),
                span,
                first: None,
            }
        })?;
        let span = origin.span(span.start, span.end);
        let complete = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let force_string = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = if style == ScalarStyle::Plain && !force_string {
                    resolve_plain(&text)
                } else {
                    Value::String(text.into_owned())
                };
                let node = Node { value, span };
                if anchor > 0 {
                    anchors.insert(anchor, node.clone());
                }
                Some(node)
            }
            Event::Alias(id) => {
                let node = anchors.get(&id).cloned().ok_or_else(|| YamlError {
                    kind: YamlErrorKind::Syntax,
                    message: "alias to an unknown anchor".into(),
                    span,
                    first: None,
                })?;
                let size = count_nodes(&node);
                if size > alias_budget {
                    return Err(YamlError {
                        kind: YamlErrorKind::Unsupported,
                        message: format!(
                            "aliases expand to more than {ALIAS_BUDGET} values (an alias bomb?)"
                        ),
                        span,
                        first: None,
                    });
                }
                alias_budget -= size;
                Some(Node { span, ..node })
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(
                    Node {
                        value: Value::Seq(Vec::new()),
                        span,
                    },
                    anchor,
                ));
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(
                    Node {
                        value: Value::Map(Vec::new()),
                        span,
                    },
                    anchor,
                    None,
                ));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (mut node, anchor) = match stack.pop() {
                    Some(Frame::Seq(n, a)) | Some(Frame::Map(n, a, _)) => (n, a),
                    None => continue,
                };
                node.span.end = span.end.max(node.span.start);
                if anchor > 0 {
                    anchors.insert(anchor, node.clone());
                }
                Some(node)
            }
            Event::DocumentEnd => {
                anchors.clear();
                None
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) | Event::Nothing => {
                None
            }
        };
        if let Some(node) = complete {
            match stack.last_mut() {
                None => docs.push(node),
                Some(Frame::Seq(seq, _)) => {
                    if let Value::Seq(items) = &mut seq.value {
                        items.push(node);
                    }
                }
                Some(Frame::Map(map, _, pending)) => match pending.take() {
                    None => *pending = Some(key_node(node)?),
                    Some(key) => {
                        if let Value::Map(entries) = &mut map.value {
                            if let Some((first, _)) =
                                entries.iter().find(|(k, _)| k.value == key.value)
                            {
                                return Err(YamlError {
                                    kind: YamlErrorKind::DuplicateKey,
                                    message: format!(
                                        "duplicate key `{}`",
                                        key.as_str().unwrap_or_default()
                                    ),
                                    span: key.span,
                                    first: Some(first.span),
                                });
                            }
                            entries.push((key, node));
                        }
                    }
                },
            }
        }
    }
    Ok(docs)
}

/// Mapping keys become strings (`1:` is the key "1"); lists and mappings as keys are
/// rejected because items are JSON objects.
fn key_node(node: Node) -> Result<Node, YamlError> {
    let text = match node.value {
        Value::String(s) => s,
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Seq(_) | Value::Map(_) => {
            return Err(YamlError {
                kind: YamlErrorKind::Unsupported,
                message: "a list or mapping cannot be a key".into(),
                span: node.span,
                first: None,
            })
        }
    };
    Ok(Node {
        value: Value::String(text),
        span: node.span,
    })
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries.iter().map(|(_, v)| 1 + count_nodes(v)).sum(),
        _ => 0,
    }
}

/// The YAML 1.2 core schema for plain scalars.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Int(i);
        }
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Int(i);
        }
    }
    if looks_like_float(digits) {
        if let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::String(text.to_owned())
}

/// `[0-9]*(\.[0-9]*)?([eE][-+]?[0-9]+)?` with at least one digit before the exponent.
fn looks_like_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("");
    let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits_ok(int) && digits_ok(frac) && !(int.is_empty() && frac.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits_ok(e)
    });
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Vec<Node>, YamlError> {
        let source = SourceFile::new("t.yaml".into(), text.to_owned());
        let origin = Origin {
            file: FileId(0),
            source: &source,
            line_offset: 0,
            col_offset: 0,
        };
        parse(text, origin)
    }

    fn json(text: &str) -> serde_json::Value {
        parse_str(text).unwrap().remove(0).to_json()
    }

    #[test]
    fn core_schema_scalars() {
        let v = json("a: no\nb: 2024-01-02\nc: 0x1F\nd: 1e3\ne: ~\nf: True\ng: '1'\nh: 007\ni: .5\nj: 1.2.3\n");
        assert_eq!(
            v,
            serde_json::json!({"a": "no", "b": "2024-01-02", "c": 31, "d": 1000.0, "e": null,
                "f": true, "g": "1", "h": 7, "i": 0.5, "j": "1.2.3"})
        );
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "id: REQ-1\nlist:\n  - x\n";
        let doc = parse_str(text).unwrap().remove(0);
        let (k, v) = doc.get("id").unwrap();
        assert_eq!(
            (
                &text[k.span.start..k.span.end],
                &text[v.span.start..v.span.end]
            ),
            ("id", "REQ-1")
        );
        let (key, node) = doc.locate("/list/0");
        assert!(key.is_none());
        assert_eq!(&text[node.span.start..node.span.end], "x");
    }

    #[test]
    fn non_ascii_spans_are_byte_offsets() {
        let text = "t: \"ä😀\"\nu: x\n";
        let doc = parse_str(text).unwrap().remove(0);
        let (_, v) = doc.get("u").unwrap();
        assert_eq!(&text[v.span.start..v.span.end], "x");
    }

    #[test]
    fn duplicate_keys_are_rejected_with_both_places() {
        let e = parse_str("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.kind, YamlErrorKind::DuplicateKey);
        assert_eq!((e.span.start, e.first.unwrap().start), (10, 0));
    }

    #[test]
    fn aliases_copy_and_bombs_stop() {
        assert_eq!(
            json("a: &x [1, 2]\nb: *x\n"),
            serde_json::json!({"a": [1, 2], "b": [1, 2]})
        );
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (p, n) in ["a", "b", "c", "d", "e"]
            .iter()
            .zip(["b", "c", "d", "e", "f"])
        {
            bomb.push_str(&format!(
                "{n}: &{n} [{}]\n",
                vec![format!("*{p}"); 10].join(", ")
            ));
        }
        assert_eq!(
            parse_str(&bomb).unwrap_err().kind,
            YamlErrorKind::Unsupported
        );
        assert_eq!(
            parse_str("a: *nope\n").unwrap_err().kind,
            YamlErrorKind::Syntax
        );
    }

    #[test]
    fn collection_keys_are_unsupported() {
        assert_eq!(
            parse_str("? [a]\n: b\n").unwrap_err().kind,
            YamlErrorKind::Unsupported
        );
        assert_eq!(
            json("1: a\ntrue: b\n"),
            serde_json::json!({"1": "a", "true": "b"})
        );
    }
}
