//! Stage 2, validate: check each raw item against its type's JSON Schema.
//!
//! Schema errors carry a JSON pointer; the item's YAML tree turns it back into the
//! file:line:column of the offending key or value.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use rayon::prelude::*;
use serde_json::Value;

use crate::diag::{a, code, did_you_mean, Diagnostic, Diagnostics};
use crate::model::{Item, RawItem};
use crate::schema::Types;
use crate::yaml::Node;

/// Validates raw items in parallel. Items without a usable id or type are dropped (their
/// links could only produce follow-on noise); items with other schema errors are kept so
/// that links to them still resolve.
pub(crate) fn validate(raw: Vec<RawItem>, types: &Types, diags: &mut Diagnostics) -> Vec<Item> {
    let results: Vec<(Option<Item>, Vec<Diagnostic>)> = raw
        .into_par_iter()
        .map(|r| {
            let mut ds = Vec::new();
            let item = validate_one(r, types, &mut ds);
            (item, ds)
        })
        .collect();
    let mut items = Vec::with_capacity(results.len());
    for (item, ds) in results {
        diags.extend(ds);
        items.extend(item);
    }
    items
}

fn validate_one(raw: RawItem, types: &Types, diags: &mut Vec<Diagnostic>) -> Option<Item> {
    let node = &raw.node;
    let json = node.to_json();
    let id = node
        .get("id")
        .and_then(|(_, v)| v.as_str())
        .map(str::to_owned);
    let Some((_, type_node)) = node.get("type") else {
        diags.push(
            Diagnostic::new(code::SCHEMA_REQUIRED, "the item has no `type`")
                .at(node.span)
                .help(format!(
                    "add `type:` with one of: {}",
                    types.names().collect::<Vec<_>>().join(", ")
                ))
                .maybe_item(id.as_deref()),
        );
        return None;
    };
    let Some(ty) = type_node.as_str() else {
        diags.push(
            Diagnostic::new(code::SCHEMA_TYPE, "`type` must be text naming an item type")
                .at(type_node.span)
                .maybe_item(id.as_deref()),
        );
        return None;
    };
    let Some(def) = types.get(ty) else {
        let mut d = Diagnostic::new(code::ITEM_UNKNOWN_TYPE, format!("unknown item type `{ty}`"))
            .at(type_node.span)
            .maybe_item(id.as_deref());
        d = match did_you_mean(ty, types.names()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!(
                "known types: {} (add a schema to schemas/ for a new type)",
                types.names().collect::<Vec<_>>().join(", ")
            )),
        };
        diags.push(d);
        return None;
    };

    let mut id_ok = id.is_some();
    let mut id_reported = false;
    // Most items are valid: `is_valid` short-circuits and builds no error values, so
    // the slower error walk runs only for items that have errors.
    let errors = (!def.validator.is_valid(&json)).then(|| def.validator.iter_errors(&json));
    for error in errors.into_iter().flatten() {
        let pointer = error.instance_path().as_str().to_owned();
        let (key, value) = node.locate(&pointer);
        let field = pointer
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        if field == "id" {
            id_ok = false;
            id_reported = true;
        }
        let d = match error.kind() {
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                if name == "id" {
                    id_ok = false;
                    id_reported = true;
                }
                Diagnostic::new(code::SCHEMA_REQUIRED, format!("missing required field `{name}`"))
                    .at(key.unwrap_or(value).span)
                    .help(format!("{} needs `{name}`", a(ty)))
            }
            ValidationErrorKind::UnevaluatedProperties { unexpected }
            | ValidationErrorKind::AdditionalProperties { unexpected } => {
                for name in unexpected.iter().skip(1) {
                    diags.push(unknown_field(name, value, pointer.is_empty(), &def.fields, ty, id.as_deref()));
                }
                match unexpected.first() {
                    Some(name) => unknown_field(name, value, pointer.is_empty(), &def.fields, ty, id.as_deref()),
                    None => continue,
                }
            }
            ValidationErrorKind::Enum { options } => {
                let allowed: Vec<&str> = options
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let found = value_text(value);
                let mut d = Diagnostic::new(
                    code::SCHEMA_ENUM,
                    format!("`{found}` is not an allowed value for `{}`", field_path(&pointer)),
                )
                .at(value.span);
                d = match did_you_mean(&found, allowed.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`? allowed: {}", allowed.join(", "))),
                    None => d.help(format!("allowed: {}", allowed.join(", "))),
                };
                d
            }
            ValidationErrorKind::Constant { expected_value } => Diagnostic::new(
                code::SCHEMA_ENUM,
                format!("`{}` must be {expected_value}", field_path(&pointer)),
            )
            .at(value.span),
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    TypeKind::Single(t) => type_word(&t.to_string()),
                    TypeKind::Multiple(set) => set
                        .iter()
                        .map(|t| type_word(&t.to_string()))
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                Diagnostic::new(
                    code::SCHEMA_TYPE,
                    format!(
                        "`{}` must be {expected}, found {}",
                        field_path(&pointer),
                        found_word(value)
                    ),
                )
                .at(value.span)
            }
            ValidationErrorKind::Pattern { pattern } if field == "id" => Diagnostic::new(
                code::ITEM_INVALID_ID,
                format!("`{}` is not a valid id", value_text(value)),
            )
            .at(value.span)
            .help(format!(
                "an id is an upper-case prefix, then `-`-separated parts of upper-case letters and digits, e.g. {}-001 (pattern {pattern})",
                def.prefix
            )),
            _ => Diagnostic::new(
                code::SCHEMA_VIOLATION,
                format!("`{}`: {}", field_path(&pointer), error.masked()),
            )
            .at(value.span),
        };
        diags.push(d.maybe_item(id.as_deref()));
    }
    // A project's schema need not constrain `id`, but the link graph and the book are
    // keyed by it: check it here rather than drop the item silently.
    if !id_reported {
        let problem = match (id.as_deref(), node.get("id")) {
            (Some(s), _) if is_valid_id(s) => None,
            (Some(s), Some((_, v))) => Some(
                Diagnostic::new(code::ITEM_INVALID_ID, format!("`{s}` is not a valid id"))
                    .at(v.span)
                    .help(format!("an id is an upper-case prefix, then `-`-separated parts of upper-case letters and digits, e.g. {}-001", def.prefix)),
            ),
            (_, Some((_, v))) => Some(
                Diagnostic::new(code::SCHEMA_TYPE, format!("`id` must be text, found {}", found_word(v))).at(v.span),
            ),
            (_, None) => Some(
                Diagnostic::new(code::SCHEMA_REQUIRED, "missing required field `id`")
                    .at(node.span)
                    .help(format!("{} needs `id`", a(ty))),
            ),
        };
        if let Some(d) = problem {
            diags.push(d.maybe_item(id.as_deref()));
            return None;
        }
    }
    if !id_ok {
        return None;
    }
    let title = json
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Value::Object(fields) = json else {
        return None;
    };
    Some(Item {
        id: id.unwrap_or_default(),
        ty: ty.to_owned(),
        title,
        fields,
        node: raw.node,
        home: raw.home,
    })
}

/// `^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$`, the id rule of `item.schema.json`.
fn is_valid_id(id: &str) -> bool {
    let mut parts = id.split('-');
    let upper_digit = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    let first_ok = parts
        .next()
        .is_some_and(|p| upper_digit(p) && p.as_bytes()[0].is_ascii_uppercase());
    let rest: Vec<&str> = parts.collect();
    first_ok && !rest.is_empty() && rest.iter().all(|p| upper_digit(p))
}

fn unknown_field(
    name: &str,
    parent: &Node,
    top_level: bool,
    fields: &[String],
    ty: &str,
    id: Option<&str>,
) -> Diagnostic {
    let span = parent.get(name).map_or(parent.span, |(k, _)| k.span);
    let mut d = Diagnostic::new(
        code::SCHEMA_UNKNOWN_FIELD,
        format!("unknown field `{name}`"),
    )
    .at(span)
    .maybe_item(id);
    if top_level {
        d = match did_you_mean(name, fields.iter().map(String::as_str)) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help(format!(
                "{} has: {}; put your own fields under `attributes:`",
                a(ty),
                fields.join(", ")
            )),
        };
    }
    d
}

/// `/residual/severity` reads as `residual.severity`.
fn field_path(pointer: &str) -> String {
    let p = pointer.trim_start_matches('/').replace('/', ".");
    if p.is_empty() {
        "item".into()
    } else {
        p
    }
}

fn value_text(node: &Node) -> String {
    match node.to_json() {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn type_word(t: &str) -> String {
    match t {
        "string" => "text".into(),
        "array" => "a list".into(),
        "object" => "a mapping".into(),
        "integer" => "a whole number".into(),
        "number" => "a number".into(),
        "boolean" => "true or false".into(),
        "null" => "empty".into(),
        other => other.into(),
    }
}

fn found_word(node: &Node) -> String {
    match node.to_json() {
        Value::String(s) => format!("text `{s}`"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
        Value::Null => "nothing".into(),
        other => format!("`{other}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_rule_matches_the_schema_pattern() {
        for ok in ["REQ-1", "REQ-AUTH-001", "A-B", "X1-2-3"] {
            assert!(is_valid_id(ok), "{ok}");
        }
        for bad in [
            "REQ", "req-1", "1REQ-1", "REQ--1", "REQ-1-", "-REQ-1", "REQ-a", "RÉQ-1", "",
        ] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn words_for_users() {
        assert_eq!(field_path("/residual/severity"), "residual.severity");
        assert_eq!(field_path(""), "item");
        assert_eq!(type_word("integer"), "a whole number");
    }
}
