//! The project's own schemas in `schemas/`: broken ones are reported where they break,
//! new types take part in link checking, and a project schema replaces a built-in one.
//! Also `mdbook-qms schema --out DIR`.

use crate::support::cli::{assert_at, assert_item, errors, one, pretty, run, with_code, Project};
use serde_json::Value;

const HAZARD: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "x-qms": {"type": "hazard", "prefix": "HAZ", "plural": "Hazards"},
  "$ref": "item.schema.json",
  "type": "object",
  "properties": {
    "type": {"const": "hazard"},
    "status": {"$ref": "item.schema.json#/$defs/status"},
    "harm": {"type": "string"},
    "causes": {
      "$ref": "item.schema.json#/$defs/link",
      "x-qms-link": {"targets": ["threat"], "label": "caused by", "inverse": "causes"}
    }
  },
  "unevaluatedProperties": false
}
"#;

#[test]
fn a_schema_that_is_not_json() {
    let p = Project::new();
    p.write(
        "schemas/bad.schema.json",
        "{\n  \"type\": \"object\",\n  \"properties\": {\"ä\": 1,}\n}\n",
    );
    p.write(
        "requirements/a.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle: t\nstatus: nope\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "schema-invalid");
    // serde_json counts bytes; the column counts characters (`ä` is two bytes).
    assert_at(d, "schemas/bad.schema.json", 3, 25);
    assert!(
        d["message"].as_str().unwrap().contains("not valid JSON"),
        "{d}"
    );
    // The built-in types still work.
    one(&diags, "schema-enum");
}

#[test]
fn a_schema_that_is_json_but_not_a_schema() {
    let p = Project::new();
    p.write(
        "schemas/bad.schema.json",
        "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"a\": {\"type\": \"strung\"}\n  }\n}\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "schema-invalid");
    assert_at(d, "schemas/bad.schema.json", 4, 11);
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("not a valid JSON Schema"),
        "{d}"
    );
}

#[test]
fn a_schema_with_a_dangling_ref_does_not_hide_the_built_in_types() {
    let p = Project::new();
    p.write(
        "schemas/dangling.schema.json",
        "{\n  \"$ref\": \"nope.schema.json\"\n}\n",
    );
    p.write(
        "requirements/a.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle: t\nstatus: nope\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "schema-invalid");
    assert_at(d, "schemas/dangling.schema.json", 2, 3);
    assert!(
        d["message"].as_str().unwrap().contains("nope.schema.json"),
        "{d}"
    );
    assert_eq!(
        with_code(&diags, "item-unknown-type").len(),
        0,
        "{}",
        pretty(&diags)
    );
    one(&diags, "schema-enum");
}

#[test]
fn a_link_to_an_unknown_type_in_a_schema() {
    let p = Project::new();
    p.write(
        "schemas/hazard.schema.json",
        HAZARD.replace("[\"threat\"]", "[\"ghost\"]"),
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "schema-invalid");
    assert_at(d, "schemas/hazard.schema.json", 12, 34);
    assert!(d["message"].as_str().unwrap().contains("`ghost`"), "{d}");
}

#[test]
fn a_new_type_with_a_link_field() {
    let p = Project::new();
    p.write("schemas/hazard.schema.json", HAZARD);
    p.write(
        "requirements/hazards.yaml",
        concat!(
            "- id: HAZ-A-1\n  type: hazard\n  title: Overdose\n  harm: death\n  causes: [THR-A-1, REQ-A-1, THR-A-9]\n",
            "- id: THR-A-1\n  type: threat\n  title: Spoofed bolus command\n  stride: spoofing\n",
            "- id: REQ-A-1\n  type: requirement\n  title: r\n",
            "- id: HAZ-A-2\n  type: hazard\n  title: t\n  harms: x\n",
        ),
    );
    p.write(
        "book/intro.md",
        "# Intro\n\n{{#qms table hazard}}\n\n{{#qms matrix hazard threat}}\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "link-wrong-type");
    assert_at(d, "requirements/hazards.yaml", 5, 21);
    assert_item(d, Some("HAZ-A-1"));
    let d = one(&diags, "link-unknown");
    assert_at(d, "requirements/hazards.yaml", 5, 30);
    let d = one(&diags, "schema-unknown-field");
    assert_at(d, "requirements/hazards.yaml", 16, 3);
    assert_eq!(d["help"], "did you mean `harm`?");
    assert_eq!(errors(&diags).len(), 3, "{}", pretty(&diags));
}

#[test]
fn a_project_schema_replaces_a_built_in_one() {
    let builtin: Value = serde_json::from_str(
        &std::fs::read_to_string(
            crate::support::repo_root().join("schemas/requirement.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut tightened = builtin.clone();
    tightened["required"] = serde_json::json!(["category"]);
    let item = "id: REQ-A-1\ntype: requirement\ntitle: t\n";

    // Same file name: replaces the built-in schema.
    let p = Project::new();
    p.write(
        "schemas/requirement.schema.json",
        serde_json::to_string_pretty(&tightened).unwrap(),
    );
    p.write("requirements/a.yaml", item);
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "schema-required");
    assert!(d["message"].as_str().unwrap().contains("`category`"), "{d}");
    assert_at(d, "requirements/a.yaml", 1, 1);

    // Another file name, same type: the project's schema still wins, whatever the order
    // of the file names.
    for name in ["a-req.schema.json", "zz-req.schema.json"] {
        let p = Project::new();
        p.write(
            &format!("schemas/{name}"),
            serde_json::to_string_pretty(&tightened).unwrap(),
        );
        p.write("requirements/a.yaml", item);
        let (code, diags) = p.json();
        assert_eq!(code, 1, "{name}");
        assert_eq!(
            with_code(&diags, "schema-required").len(),
            1,
            "{name}: {}",
            pretty(&diags)
        );
    }

    // Two project schemas for one type: an error.
    let p = Project::new();
    p.write(
        "schemas/a-req.schema.json",
        serde_json::to_string_pretty(&tightened).unwrap(),
    );
    p.write(
        "schemas/b-req.schema.json",
        serde_json::to_string_pretty(&builtin).unwrap(),
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "schema-invalid");
    assert_eq!(d["file"], "schemas/b-req.schema.json");
}

#[test]
fn a_loose_project_schema_still_needs_an_id() {
    let p = Project::new();
    p.write("schemas/note.schema.json", "{\"type\": \"object\"}\n");
    p.write(
        "requirements/notes.yaml",
        "- type: note\n  title: no id\n- id: lower\n  type: note\n- id: NOTE-1\n  type: note\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    assert_at(
        one(&diags, "schema-required"),
        "requirements/notes.yaml",
        1,
        3,
    );
    assert_at(
        one(&diags, "item-invalid-id"),
        "requirements/notes.yaml",
        3,
        7,
    );
    assert_eq!(errors(&diags).len(), 2, "{}", pretty(&diags));
}

fn schema_out(project: &Project, out: &std::path::Path) -> crate::support::cli::Run {
    run(&[
        "schema".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        project.path().as_os_str(),
    ])
}

/// A validator for `name` in `dir`, resolving `$ref`s between the written files.
fn validator(dir: &std::path::Path, name: &str) -> jsonschema::Validator {
    let base = "https://mdbook-qms.invalid/out/";
    let mut docs = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        docs.push((
            format!("{base}{}", path.file_name().unwrap().to_string_lossy()),
            value,
        ));
    }
    let registry = jsonschema::Registry::new()
        .extend(docs.clone())
        .unwrap()
        .prepare()
        .unwrap();
    let root = docs
        .iter()
        .find(|(uri, _)| uri.ends_with(name))
        .unwrap()
        .1
        .clone();
    jsonschema::options()
        .with_registry(&registry)
        .with_base_uri(format!("{base}{name}"))
        .build(&root)
        .unwrap()
}

fn yaml_to_json(text: &str) -> Value {
    use mdbook_qms::source::{FileId, SourceFile};
    use mdbook_qms::yaml::{parse, Origin};
    let source = SourceFile::new("x.yaml".into(), text.to_owned());
    let origin = Origin {
        file: FileId(0),
        source: &source,
        line_offset: 0,
        col_offset: 0,
    };
    parse(text, origin).unwrap().remove(0).to_json()
}

#[test]
fn schema_writes_every_schema_and_an_item_file_schema() {
    let p = Project::new();
    p.write("schemas/hazard.schema.json", HAZARD);
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("nested/schemas");
    let r = schema_out(&p, &target);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let mut names: Vec<String> = std::fs::read_dir(&target)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for expected in [
        "hazard.schema.json",
        "item.schema.json",
        "qms-items.schema.json",
        "requirement.schema.json",
        "zone.schema.json",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n.contains(".tmp")),
        "temporary file left: {names:?}"
    );
    for name in &names {
        let value: Value =
            serde_json::from_str(&std::fs::read_to_string(target.join(name)).unwrap()).unwrap();
        assert!(
            jsonschema::meta::is_valid(&value),
            "{name} is not a valid JSON Schema"
        );
    }

    let items = validator(&target, "qms-items.schema.json");
    let good = yaml_to_json(concat!(
        "- id: REQ-A-1\n  type: requirement\n  title: t\n  category: authentication\n",
        "- id: HAZ-A-1\n  type: hazard\n  title: h\n  causes: THR-A-1\n",
    ));
    assert!(
        items.is_valid(&good),
        "{:?}",
        items
            .iter_errors(&good)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    assert!(items.is_valid(&yaml_to_json(
        "id: ZONE-A\ntype: zone\ntitle: z\ntrust: 3\n"
    )));
    for bad in [
        "id: REQ-A-1\ntype: requirement\ntitle: t\nstatus: nope\n",
        "id: REQ-A-1\ntype: requirement\ntitle: t\ncategroy: x\n",
        "id: HAZ-A-1\ntype: hazard\ntitle: h\nharm: 3\n",
        "id: X-1\ntype: nosuchtype\ntitle: t\n",
        "- id: REQ-A-1\n  type: requirement\n- 42\n",
    ] {
        assert!(!items.is_valid(&yaml_to_json(bad)), "accepted:\n{bad}");
    }

    // Running again overwrites in place.
    let r = schema_out(&p, &target);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn schema_writes_nothing_when_a_project_schema_is_broken() {
    let p = Project::new();
    p.write("schemas/bad.schema.json", "{ nope");
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("schemas");
    let r = schema_out(&p, &target);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("schema-invalid"), "{}", r.stderr);
    assert!(!target.exists());

    let p = Project::new();
    p.remove("book.toml");
    assert_eq!(schema_out(&p, &target).code, 2);
}
