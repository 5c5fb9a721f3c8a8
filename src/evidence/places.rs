//! Where values are written in a JSON evidence file, which serde_json does not keep.
//!
//! One pass over the text records the byte offset of each wanted value by its JSON
//! Pointer (RFC 6901), so that diagnostics about the thousandth component of an SBOM
//! cost no more than those about the first (searching the text from its start for each
//! one made reading an SBOM quadratic in its size).

use std::collections::HashMap;

/// Byte offsets of the values a scan was asked for: of the key for an object member
/// (`"name": ...` points at `"name"`), of the value itself for an array element.
#[derive(Debug, Default)]
pub(crate) struct JsonPlaces(HashMap<String, usize>);

impl JsonPlaces {
    /// Scans `text`, which serde_json has already parsed (so it is valid JSON, nested at
    /// most 128 levels deep), recording the values whose pointer `want` accepts.
    pub(crate) fn scan(text: &str, want: impl Fn(&str) -> bool) -> JsonPlaces {
        let mut scanner = Scanner {
            text,
            at: 0,
            pointer: String::new(),
            want,
            found: HashMap::new(),
        };
        scanner.value();
        JsonPlaces(scanner.found)
    }

    /// Where the value at `pointer` is written, if it was wanted and is there.
    pub(crate) fn get(&self, pointer: &str) -> Option<usize> {
        self.0.get(pointer).copied()
    }
}

/// `pointer` extended by one reference token, escaped as RFC 6901 says.
pub(crate) fn child(pointer: &str, token: &str) -> String {
    let mut p = String::with_capacity(pointer.len() + token.len() + 1);
    p.push_str(pointer);
    push_token(&mut p, token);
    p
}

fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

struct Scanner<'a, F> {
    text: &'a str,
    at: usize,
    /// The pointer of the value being read.
    pointer: String,
    want: F,
    found: HashMap<String, usize>,
}

impl<F: Fn(&str) -> bool> Scanner<'_, F> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Records the current pointer at `offset` when it is wanted.
    fn record(&mut self, offset: usize) {
        if (self.want)(&self.pointer) {
            self.found.insert(self.pointer.clone(), offset);
        }
    }

    /// Reads one value. Recursion is bounded by the nesting serde_json accepted.
    fn value(&mut self) {
        self.skip_space();
        match self.peek() {
            Some(b'{') => {
                self.at += 1;
                loop {
                    self.skip_space();
                    match self.peek() {
                        Some(b'"') => {}
                        Some(b',') => {
                            self.at += 1;
                            continue;
                        }
                        // `}`, or the end of a text that was not valid after all.
                        _ => {
                            self.at += 1;
                            return;
                        }
                    }
                    let key_at = self.at;
                    let key = self.string();
                    self.skip_space();
                    if self.peek() == Some(b':') {
                        self.at += 1;
                    }
                    let len = self.pointer.len();
                    push_token(&mut self.pointer, &key);
                    self.record(key_at);
                    self.value();
                    self.pointer.truncate(len);
                }
            }
            Some(b'[') => {
                self.at += 1;
                let mut index = 0usize;
                loop {
                    self.skip_space();
                    match self.peek() {
                        Some(b',') => {
                            self.at += 1;
                            continue;
                        }
                        Some(b']') | None => {
                            self.at += 1;
                            return;
                        }
                        Some(_) => {}
                    }
                    let len = self.pointer.len();
                    push_token(&mut self.pointer, &index.to_string());
                    self.record(self.at);
                    self.value();
                    self.pointer.truncate(len);
                    index += 1;
                }
            }
            Some(b'"') => {
                self.string();
            }
            Some(_) => {
                // A number, `true`, `false` or `null`.
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.at += 1;
                }
            }
            None => {}
        }
    }

    /// Reads a string starting at its opening quote and returns its value: escapes
    /// (`\"`, `\u0041`) decoded, so that a key is matched as serde_json reads it.
    fn string(&mut self) -> String {
        let start = self.at;
        self.at += 1;
        let mut escaped = false;
        loop {
            match self.peek() {
                Some(b'\\') => {
                    escaped = true;
                    self.at += 2;
                }
                Some(b'"') => {
                    self.at += 1;
                    break;
                }
                Some(_) => self.at += 1,
                None => break,
            }
        }
        let raw = self
            .text
            .get(start..self.at.min(self.text.len()))
            .unwrap_or("");
        if escaped {
            serde_json::from_str(raw).unwrap_or_default()
        } else {
            raw.get(1..raw.len().saturating_sub(1))
                .unwrap_or("")
                .to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{child, JsonPlaces};

    #[test]
    fn members_point_at_keys_and_elements_at_values() {
        let text = r#"{"a": {"b~/": [1, {"c": "x\"y"}]}, "d": null}"#;
        let places = JsonPlaces::scan(text, |_| true);
        assert_eq!(places.get("/a"), Some(1));
        assert_eq!(places.get(&child("/a", "b~/")), Some(7));
        assert_eq!(places.get("/a/b~0~1/1"), Some(18));
        assert_eq!(places.get("/a/b~0~1/1/c"), Some(19));
        assert_eq!(places.get("/d"), Some(35));
        assert_eq!(places.get("/e"), None);
    }

    #[test]
    fn escaped_keys_match_as_decoded() {
        let text = r#"[{"bom\u002dref": "a"}, {"bom-ref": "\"bom-ref\": \"b"}]"#;
        let places = JsonPlaces::scan(text, |p| p.ends_with("/bom-ref"));
        assert_eq!(places.get("/0/bom-ref"), Some(2));
        assert_eq!(places.get("/1/bom-ref"), Some(25));
    }
}
