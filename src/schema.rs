//! Item types: JSON Schemas (draft 2020-12), built-in and the project's own.
//!
//! A type is one schema file. Its name, id prefix and link fields are read from the
//! schema itself (`x-qms` at the root, `x-qms-link` on a property), so a schema dropped
//! into the project's `schemas/` adds a type, with links, without code changes. A
//! project file with the same name as a built-in one replaces it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::diag::{code, Diagnostic, Diagnostics};
use crate::source::{FileId, SourceMap, Span};

/// Base URI the schemas are registered under. `.invalid` never resolves, and the
/// validator has no network retrieval anyway.
pub(crate) const BASE_URI: &str = "https://mdbook-qms.invalid/schemas/";

/// The built-in schemas, embedded in the binary: (file name, text).
pub(crate) const BUILTIN: &[(&str, &str)] = &[
    (
        "item.schema.json",
        include_str!("../schemas/item.schema.json"),
    ),
    (
        "requirement.schema.json",
        include_str!("../schemas/requirement.schema.json"),
    ),
    (
        "zone.schema.json",
        include_str!("../schemas/zone.schema.json"),
    ),
    (
        "asset.schema.json",
        include_str!("../schemas/asset.schema.json"),
    ),
    (
        "flow.schema.json",
        include_str!("../schemas/flow.schema.json"),
    ),
    (
        "threat.schema.json",
        include_str!("../schemas/threat.schema.json"),
    ),
    (
        "risk.schema.json",
        include_str!("../schemas/risk.schema.json"),
    ),
    (
        "control.schema.json",
        include_str!("../schemas/control.schema.json"),
    ),
    (
        "test.schema.json",
        include_str!("../schemas/test.schema.json"),
    ),
    (
        "component.schema.json",
        include_str!("../schemas/component.schema.json"),
    ),
    (
        "vulnerability.schema.json",
        include_str!("../schemas/vulnerability.schema.json"),
    ),
    (
        "device.schema.json",
        include_str!("../schemas/device.schema.json"),
    ),
    (
        "role.schema.json",
        include_str!("../schemas/role.schema.json"),
    ),
    (
        "plan.schema.json",
        include_str!("../schemas/plan.schema.json"),
    ),
    (
        "assumption.schema.json",
        include_str!("../schemas/assumption.schema.json"),
    ),
    (
        "view.schema.json",
        include_str!("../schemas/view.schema.json"),
    ),
    (
        "anomaly.schema.json",
        include_str!("../schemas/anomaly.schema.json"),
    ),
    (
        "hazard.schema.json",
        include_str!("../schemas/hazard.schema.json"),
    ),
];

/// The schema every type builds on; it defines no type itself.
const BASE_SCHEMA: &str = "item.schema.json";

/// A link field as declared by `x-qms-link` in a type's schema.
#[derive(Debug, Clone)]
pub(crate) struct LinkField {
    /// The field's name; a link inside a list of objects is named by its path
    /// (`findings.item`: `item` of each entry of `findings`).
    pub(crate) name: String,
    /// `name`'s parts: where the ids are written.
    pub(crate) path: Vec<String>,
    /// Types an id in this field may name.
    pub(crate) targets: Vec<String>,
    /// How the link reads from the linking item ("verifies").
    pub(crate) label: String,
    /// How the link reads from the target ("verified by").
    pub(crate) inverse: String,
}

/// One item type.
pub struct TypeDef {
    pub(crate) name: String,
    /// Id prefix for `new` ("REQ").
    pub(crate) prefix: String,
    /// Heading for generated chapters and tables ("Requirements").
    pub(crate) plural: String,
    pub(crate) links: Vec<LinkField>,
    /// Every field the schema defines, for "did you mean" hints.
    pub(crate) fields: Vec<String>,
    /// Fields whose text is Markdown (`contentMediaType: text/markdown`), rendered as such.
    pub(crate) markdown_fields: Vec<String>,
    pub(crate) validator: jsonschema::Validator,
    /// The schema's file name, and where it came from when it is the project's own.
    pub(crate) file_name: String,
    pub(crate) file: Option<FileId>,
}

impl TypeDef {
    pub(crate) fn link(&self, field: &str) -> Option<&LinkField> {
        self.links.iter().find(|l| l.name == field)
    }
}

impl LinkField {
    /// The ids the field holds in an item's fields: one string or a list of strings, in
    /// each object on its path (every entry of a list of objects).
    pub(crate) fn ids<'a>(&self, fields: &'a Map<String, Value>) -> Vec<&'a str> {
        let mut values: Vec<&Value> = fields.get(&self.path[0]).into_iter().collect();
        for part in &self.path[1..] {
            values = values
                .into_iter()
                .flat_map(|v| match v {
                    Value::Array(list) => list.iter().collect(),
                    other => vec![other],
                })
                .filter_map(|v| v.get(part))
                .collect();
        }
        values
            .into_iter()
            .flat_map(|v| match v {
                Value::String(s) => vec![s.as_str()],
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            })
            .collect()
    }
}

/// All item types of a project.
#[derive(Default)]
pub struct Types {
    types: BTreeMap<String, TypeDef>,
    /// Every schema document by file name, as written out by `mdbook-qms schema`.
    documents: BTreeMap<String, Value>,
}

impl Types {
    /// The type named `name`.
    pub fn get(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// Every type's name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.types.keys().map(String::as_str)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &TypeDef> {
        self.types.values()
    }

    pub(crate) fn documents(&self) -> &BTreeMap<String, Value> {
        &self.documents
    }

    /// The built-in types only.
    #[cfg(test)]
    pub(crate) fn builtin() -> Self {
        load(None, &mut SourceMap::default(), &mut Diagnostics::default())
    }
}

/// Loads the built-in schemas and the project's `schemas/` folder (if given and present).
pub(crate) fn load(
    dir: Option<(&Path, &Path)>,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Types {
    let mut documents: BTreeMap<String, (Value, Option<FileId>)> = BUILTIN
        .iter()
        .map(|(name, text)| {
            let value = serde_json::from_str(text).expect("built-in schemas are valid JSON");
            (name.to_string(), (value, None))
        })
        .collect();
    let builtin = documents.clone();
    if let Some((root, rel)) = dir {
        let mut project = read_project_schemas(root, rel, sources, diags);
        drop_dangling_refs(&mut project, &builtin, sources, diags);
        for (name, value, file) in project {
            documents.insert(name, (value, Some(file)));
        }
    }

    // One bad project schema must not take the built-in types down with it: fall back
    // to the built-in schemas so items of those types are still checked.
    let registry = match registry_of(&documents) {
        Ok(r) => r,
        Err(e) => {
            diags.push(Diagnostic::new(
                code::SCHEMA_INVALID,
                format!("the project's schemas cannot be loaded together ({e}); only the built-in schemas are used"),
            ));
            documents = builtin;
            match registry_of(&documents) {
                Ok(r) => r,
                Err(_) => return Types::default(),
            }
        }
    };

    let mut types = BTreeMap::new();
    for (name, (schema, file)) in &documents {
        if name == BASE_SCHEMA {
            continue;
        }
        let report = |msg: String| {
            let d = Diagnostic::new(code::SCHEMA_INVALID, format!("schema {name}: {msg}"));
            match file {
                Some(f) => d.in_file(*f),
                None => d,
            }
        };
        let type_name = type_name(name, schema);
        if let Some(existing) = types.get(&type_name) {
            let existing: &TypeDef = existing;
            match (existing.file, file) {
                // The project's schema for a type replaces the built-in one.
                (Some(_), None) => continue,
                (Some(_), Some(_)) => {
                    diags.push(report(format!(
                        "defines type `{type_name}`, which {} already defines",
                        existing.file_name
                    )));
                    continue;
                }
                (None, _) => {}
            }
        }
        let meta = schema.get("x-qms");
        let text_of = |key: &str| meta.and_then(|m| m.get(key)).and_then(Value::as_str);
        let validator = match jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .with_registry(&registry)
            .with_base_uri(format!("{BASE_URI}{name}"))
            .build(schema)
        {
            Ok(v) => v,
            Err(e) => {
                diags.push(report(e.to_string()));
                continue;
            }
        };
        let mut fields = Vec::new();
        let mut links = Vec::new();
        let mut markdown_fields = Vec::new();
        collect_fields(
            schema,
            &documents,
            &mut fields,
            &mut links,
            &mut markdown_fields,
            0,
        );
        fields.sort();
        fields.dedup();
        markdown_fields.sort();
        markdown_fields.dedup();
        types.insert(
            type_name.clone(),
            TypeDef {
                prefix: text_of("prefix")
                    .map(str::to_owned)
                    .unwrap_or_else(|| type_name.to_uppercase().replace(['-', '_'], "")),
                plural: text_of("plural")
                    .map(str::to_owned)
                    .unwrap_or_else(|| type_name.clone()),
                name: type_name,
                links,
                fields,
                markdown_fields,
                validator,
                file_name: name.clone(),
                file: *file,
            },
        );
    }
    // Link targets must be types that exist.
    for def in types.values() {
        for link in &def.links {
            for target in &link.targets {
                if !types.contains_key(target) {
                    let d = Diagnostic::new(
                        code::SCHEMA_INVALID,
                        format!(
                            "schema {}: link field `{}` names unknown type `{target}`",
                            def.file_name, link.name
                        ),
                    );
                    // Point at the target name when the field is declared in this file
                    // (the search finds each part of a nested field's path in turn).
                    let pointer = format!(
                        "/properties/{}/x-qms-link/targets/{target}",
                        link.path.join("/")
                    );
                    diags.push(
                        match def.file {
                            Some(f) => d.at(json_pointer_span(&sources.get(f).text, &pointer, f)),
                            None => d,
                        }
                        .help(format!(
                            "types: {}",
                            types
                                .keys()
                                .map(String::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    );
                }
            }
        }
    }
    Types {
        types,
        documents: documents.into_iter().map(|(k, (v, _))| (k, v)).collect(),
    }
}

/// The type a schema defines: `x-qms.type`, else `properties.type.const`, else the file
/// name without `.schema.json`.
fn type_name(file_name: &str, schema: &Value) -> String {
    schema
        .pointer("/x-qms/type")
        .or_else(|| schema.pointer("/properties/type/const"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            file_name
                .trim_end_matches(".json")
                .trim_end_matches(".schema")
                .to_owned()
        })
}

/// Gathers field names and link fields from a schema, following `$ref`s to other schema
/// files and `allOf`, so fields inherited from `item.schema.json` count.
fn collect_fields(
    schema: &Value,
    documents: &BTreeMap<String, (Value, Option<FileId>)>,
    fields: &mut Vec<String>,
    links: &mut Vec<LinkField>,
    markdown_fields: &mut Vec<String>,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            fields.push(name.clone());
            if prop.get("contentMediaType").and_then(Value::as_str) == Some("text/markdown") {
                markdown_fields.push(name.clone());
            }
            link_fields(prop, vec![name.clone()], links, depth);
        }
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let (file, fragment) = r.split_once('#').unwrap_or((r, ""));
        if !file.is_empty() && fragment.is_empty() {
            let file = file.rsplit('/').next().unwrap_or(file);
            if let Some((doc, _)) = documents.get(file) {
                collect_fields(doc, documents, fields, links, markdown_fields, depth + 1);
            }
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for sub in all {
            collect_fields(sub, documents, fields, links, markdown_fields, depth + 1);
        }
    }
}

/// The link fields a property declares with `x-qms-link`: the property itself, or a
/// property of its objects (of an object, or of a list's items), named by its path.
fn link_fields(prop: &Value, path: Vec<String>, links: &mut Vec<LinkField>, depth: usize) {
    if depth > 8 {
        return;
    }
    let name = path.join(".");
    if let Some(link) = prop.get("x-qms-link") {
        if links.iter().any(|l| l.name == name) {
            return;
        }
        let targets = match link.get("targets") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        };
        let label = link.get("label").and_then(Value::as_str).unwrap_or(&name);
        let inverse = link
            .get("inverse")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{label} (from)"));
        links.push(LinkField {
            label: label.to_owned(),
            inverse,
            targets,
            name,
            path,
        });
        return;
    }
    let object = prop.get("items").unwrap_or(prop);
    if let Some(props) = object.get("properties").and_then(Value::as_object) {
        for (sub, sub_prop) in props {
            let mut sub_path = path.clone();
            sub_path.push(sub.clone());
            link_fields(sub_prop, sub_path, links, depth + 1);
        }
    }
}

/// Reads `*.json` from the project's schema folder, reporting files that are not JSON or
/// not valid draft 2020-12 schemas.
fn read_project_schemas(
    root: &Path,
    rel: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Vec<(String, Value, FileId)> {
    let listing = crate::project_files::ProjectFiles::new(root).list(
        [rel],
        crate::project_files::Depth::Flat,
        |name| Path::new(name).extension().is_some_and(|e| e == "json"),
        code::LINK_OUTSIDE_PROJECT,
    );
    crate::project_files::report(listing.unread, sources, diags);
    let mut out = Vec::new();
    for rel_path in listing.files {
        let name = rel_path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let bytes = match std::fs::read(root.join(&rel_path)) {
            Ok(b) => b,
            Err(e) => {
                diags.push(Diagnostic::new(
                    code::IO_ERROR,
                    format!("cannot read {}: {e}", rel_path.display()),
                ));
                continue;
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            diags.push(Diagnostic::new(
                code::FILE_NOT_UTF8,
                format!("{} is not valid UTF-8", rel_path.display()),
            ));
            continue;
        };
        let file = sources.add(rel_path, text);
        let source = sources.get(file);
        let value: Value = match serde_json::from_str(&source.text) {
            Ok(v) => v,
            Err(e) => {
                // serde_json counts columns in bytes, not characters.
                let line_start = source.offset(e.line(), 0);
                let mut offset = (line_start + e.column().saturating_sub(1)).min(source.text.len());
                while !source.text.is_char_boundary(offset) {
                    offset -= 1;
                }
                diags.push(
                    Diagnostic::new(
                        code::SCHEMA_INVALID,
                        format!("schema {name} is not valid JSON: {e}"),
                    )
                    .at(Span {
                        file,
                        start: offset,
                        end: offset,
                    }),
                );
                continue;
            }
        };
        if let Err(e) = jsonschema::meta::validate(&value) {
            diags.push(
                Diagnostic::new(
                    code::SCHEMA_INVALID,
                    format!(
                        "schema {name} is not a valid JSON Schema: {e} (at {})",
                        e.instance_path()
                    ),
                )
                .at(json_pointer_span(
                    &source.text,
                    e.instance_path().as_str(),
                    file,
                )),
            );
            continue;
        }
        out.push((name, value, file));
    }
    out
}

/// A registry of every schema document under [`BASE_URI`].
fn registry_of(
    documents: &BTreeMap<String, (Value, Option<FileId>)>,
) -> Result<jsonschema::Registry<'static>, String> {
    jsonschema::Registry::new()
        .extend(
            documents
                .iter()
                .map(|(name, (v, _))| (format!("{BASE_URI}{name}"), v.clone())),
        )
        .and_then(|b| b.prepare())
        .map_err(|e| e.to_string())
}

/// Drops project schemas whose `$ref` names a file that is neither built in nor in the
/// schema folder, reporting the `$ref`. Repeats because dropping one can strand another.
/// Schemas with their own `$id` resolve relative refs elsewhere and are left to the
/// registry.
fn drop_dangling_refs(
    project: &mut Vec<(String, Value, FileId)>,
    builtin: &BTreeMap<String, (Value, Option<FileId>)>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) {
    loop {
        let known: std::collections::BTreeSet<String> = builtin
            .keys()
            .cloned()
            .chain(project.iter().map(|(name, _, _)| name.clone()))
            .collect();
        let before = project.len();
        project.retain(|(name, value, file)| {
            if value.get("$id").is_some() {
                return true;
            }
            let mut refs = Vec::new();
            external_refs(value, "", &mut refs, 0);
            let missing = refs.into_iter().find(|(r, _)| {
                let target = r.split('#').next().unwrap_or("");
                let target = target.strip_prefix(BASE_URI).unwrap_or(target);
                let target = target.strip_prefix("./").unwrap_or(target);
                !target.is_empty() && !target.contains(':') && !known.contains(target)
            });
            let Some((r, pointer)) = missing else {
                return true;
            };
            diags.push(
                Diagnostic::new(
                    code::SCHEMA_INVALID,
                    format!("schema {name}: `$ref` names `{r}`, which is neither a built-in schema nor a file in the schema folder"),
                )
                .at(json_pointer_span(&sources.get(*file).text, &pointer, *file))
                .help(format!(
                    "built-in schemas: {}",
                    builtin.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
                )),
            );
            false
        });
        if project.len() == before {
            return;
        }
    }
}

/// Every `$ref` in a schema with the JSON pointer of the `$ref` key. Depth is bounded
/// (serde_json already caps nesting at 128).
fn external_refs(value: &Value, pointer: &str, out: &mut Vec<(String, String)>, depth: usize) {
    if depth > 128 {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let here = format!("{pointer}/{key}");
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push((r.clone(), here)),
                    _ => external_refs(v, &here, out, depth + 1),
                }
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                external_refs(v, &format!("{pointer}/{i}"), out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Best-effort span of a JSON pointer in a JSON text: the last key named in the pointer,
/// or the start of the file.
fn json_pointer_span(text: &str, pointer: &str, file: FileId) -> Span {
    let mut offset = 0;
    for segment in pointer.split('/').skip(1) {
        let needle = format!("\"{segment}\"");
        if let Some(i) = text[offset..].find(&needle) {
            offset += i;
        }
    }
    Span {
        file,
        start: offset,
        end: offset,
    }
}

/// The generated schema that accepts a whole item file, written next to the type schemas
/// by `mdbook-qms schema --out DIR`.
pub(crate) const ITEMS_SCHEMA: &str = "qms-items.schema.json";

/// A schema for a YAML item file (one item, or a list of items) that dispatches on
/// `type` to each type's schema file, so a YAML language server checks items while they
/// are typed. The `$ref`s are relative: the file must sit beside the type schemas.
pub(crate) fn items_schema(types: &Types) -> Value {
    let names: Vec<&str> = types.names().collect();
    let dispatch: Vec<Value> = types
        .iter()
        .map(|def| {
            serde_json::json!({
                "if": {"properties": {"type": {"const": def.name}}, "required": ["type"]},
                "then": {"$ref": def.file_name},
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mdbook-qms item file",
        "description": "One item (a mapping) or a list of items; each is checked against the schema of its `type`. Generated by `mdbook-qms schema`.",
        "if": {"type": "array"},
        "then": {"type": "array", "items": {"$ref": "#/$defs/item"}},
        "else": {"$ref": "#/$defs/item"},
        "$defs": {
            "item": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"enum": names}},
                "allOf": dispatch,
            }
        }
    })
}

/// What `mdbook-qms schema` did: the files written (none when the project's schemas have
/// errors) and the diagnostics found while loading them.
pub struct Export {
    /// The schema files read, for the diagnostics' spans.
    pub sources: SourceMap,
    /// Problems in the project's schemas.
    pub diagnostics: Diagnostics,
    /// The files written.
    pub written: Vec<PathBuf>,
}

/// Writes every schema document of the project in `root` (built-in and its own) and the
/// `ITEMS_SCHEMA` dispatcher into `out`. Nothing is written when a schema has errors,
/// so an editor never picks up a half-valid set. A missing `book.toml` or a write
/// failure is fatal.
// A `Diagnostic` is the error; it is built only on failure, so boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub fn export(root: &Path, out: &Path) -> Result<Export, crate::config::Fatal> {
    let mut sources = SourceMap::default();
    let mut diagnostics = Diagnostics::default();
    let config = crate::config::load(root, &mut sources, &mut diagnostics)?;
    let before = diagnostics.0.len();
    let types = load(
        Some((root, &config.schemas)),
        &mut sources,
        &mut diagnostics,
    );
    let schema_errors = diagnostics.0[before..]
        .iter()
        .any(|d| d.severity == crate::diag::Severity::Error);
    let mut written = Vec::new();
    if !schema_errors {
        written = write_documents(&types, out).map_err(|e| {
            crate::config::Fatal::new(Diagnostic::new(
                code::IO_ERROR,
                format!("cannot write schemas to {}: {e}", out.display()),
            ))
        })?;
    }
    Ok(Export {
        sources,
        diagnostics,
        written,
    })
}

/// Writes the schema documents and the dispatcher into `out`, each atomically.
pub(crate) fn write_documents(types: &Types, out: &Path) -> std::io::Result<Vec<PathBuf>> {
    if types.documents().contains_key(ITEMS_SCHEMA) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("a project schema is named {ITEMS_SCHEMA}, the name of the generated file"),
        ));
    }
    std::fs::create_dir_all(out)?;
    let items = items_schema(types);
    let mut written = Vec::new();
    for (name, value) in types
        .documents()
        .iter()
        .chain([(&ITEMS_SCHEMA.to_owned(), &items)])
    {
        let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)? + "\n";
        let path = out.join(name);
        crate::atomic::write(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_refs_with_pointers() {
        let schema = serde_json::json!({"$ref": "a.json", "properties": {"x": {"$ref": "#/$defs/y"}, "z": {"allOf": [{"$ref": "b.json#/c"}]}}});
        let mut refs = Vec::new();
        external_refs(&schema, "", &mut refs, 0);
        refs.sort();
        assert_eq!(
            refs,
            [
                ("#/$defs/y".to_owned(), "/properties/x/$ref".to_owned()),
                ("a.json".to_owned(), "/$ref".to_owned()),
                (
                    "b.json#/c".to_owned(),
                    "/properties/z/allOf/0/$ref".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn builtin_types_load_without_diagnostics() {
        let mut diags = Diagnostics::default();
        let types = load(None, &mut SourceMap::default(), &mut diags);
        assert!(diags.0.is_empty(), "{:?}", diags.0);
        let names: Vec<&str> = types.names().collect();
        for ty in [
            "requirement",
            "zone",
            "asset",
            "flow",
            "threat",
            "risk",
            "control",
            "test",
            "component",
            "vulnerability",
        ] {
            assert!(names.contains(&ty), "{ty} missing");
        }
        let req = types.get("requirement").unwrap();
        assert_eq!(req.link("parent").unwrap().targets, ["requirement"]);
        assert!(
            req.fields.iter().any(|f| f == "title"),
            "inherited fields count"
        );
    }

    #[test]
    fn a_link_inside_a_list_of_objects_is_named_by_its_path() {
        let types = Types::builtin();
        let finding = types.get("test").unwrap().link("findings.item").unwrap();
        assert_eq!(finding.path, ["findings", "item"]);
        assert_eq!(finding.targets, ["vulnerability", "anomaly"]);
        let fields = serde_json::json!({
            "verifies": "REQ-1",
            "findings": [
                {"id": "F-1", "item": "VUL-1"},
                {"id": "F-2"},
                {"id": "F-3", "item": ["VUL-2", "ANOM-1"]},
            ],
        });
        let fields = fields.as_object().unwrap();
        assert_eq!(finding.ids(fields), ["VUL-1", "VUL-2", "ANOM-1"]);
        let verifies = types.get("test").unwrap().link("verifies").unwrap();
        assert_eq!(verifies.ids(fields), ["REQ-1"]);
    }

    #[test]
    fn items_schema_dispatches_on_type() {
        let types = Types::builtin();
        let items = items_schema(&types);
        let dispatch = items
            .pointer("/$defs/item/allOf")
            .unwrap()
            .as_array()
            .unwrap();
        assert_eq!(dispatch.len(), types.iter().count());
        for (def, rule) in types.iter().zip(dispatch) {
            assert_eq!(
                rule.pointer("/if/properties/type/const").unwrap(),
                def.name.as_str()
            );
            assert_eq!(rule.pointer("/then/$ref").unwrap(), def.file_name.as_str());
        }
        assert!(jsonschema::meta::is_valid(&items));
    }
}
