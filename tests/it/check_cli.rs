//! `mdbook-qms check DIR --format json` on small projects, one kind of mistake each:
//! the code, file, line, column and item of every diagnostic, and the exit status.

use crate::support::cli::{assert_at, assert_item, errors, one, pretty, with_code, Project};

const REQ: &str = "id: REQ-A-1\ntype: requirement\ntitle: A requirement\n";

#[test]
fn a_clean_project_passes() {
    let p = Project::new();
    p.write("requirements/a.yaml", REQ);
    p.write("book/intro.md", "# Intro\n\nSee {{#qms ref REQ-A-1}}.\n");
    let (code, diags) = p.json();
    assert_eq!((code, errors(&diags).len()), (0, 0), "{}", pretty(&diags));
}

#[test]
fn malformed_yaml() {
    let p = Project::new();
    p.write(
        "requirements/bad.yaml",
        "id: REQ-X-1\ntype: requirement\ntitle: \"unclosed\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "yaml-syntax");
    assert_at(d, "requirements/bad.yaml", 3, 8);
    assert_item(d, None);
    assert_eq!(d["severity"], "error");
}

#[test]
fn unclosed_flow_list_is_a_syntax_error() {
    let p = Project::new();
    p.write(
        "requirements/bad.yaml",
        "id: REQ-X-1\ntype: requirement\ntags: [a, b\ntitle: t\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "yaml-syntax");
    assert_eq!(d["file"], "requirements/bad.yaml");
    assert!(d["line"].as_u64().unwrap() >= 3, "{d}");
}

#[test]
fn items_that_are_not_mappings() {
    let p = Project::new();
    p.write("requirements/scalar.yaml", "42\n");
    p.write("requirements/list.yaml", "- just text\n- 7\n");
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let found = with_code(&diags, "item-not-mapping");
    assert_eq!(found.len(), 3, "{}", pretty(&diags));
    assert_at(found[0], "requirements/list.yaml", 1, 3);
    assert!(found[0]["message"].as_str().unwrap().contains("found text"));
    assert_at(found[1], "requirements/list.yaml", 2, 3);
    assert!(found[1]["message"]
        .as_str()
        .unwrap()
        .contains("found a number"));
    assert_at(found[2], "requirements/scalar.yaml", 1, 1);
    for d in found {
        assert_item(d, None);
    }
}

#[test]
fn wrong_scalar_types() {
    let p = Project::new();
    p.write(
        "requirements/zone.yaml",
        "id: ZONE-A-1\ntype: zone\ntitle: [not, text]\ntrust: high\ntags: one\n",
    );
    p.write(
        "requirements/id.yaml",
        "id: 5\ntype: requirement\ntitle: x\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let found = with_code(&diags, "schema-type");
    assert_eq!(found.len(), 4, "{}", pretty(&diags));
    // Sorted by file, then position.
    assert_at(found[0], "requirements/id.yaml", 1, 5);
    assert_item(found[0], None);
    assert_at(found[1], "requirements/zone.yaml", 3, 8);
    assert!(
        found[1]["message"]
            .as_str()
            .unwrap()
            .contains("`title` must be text"),
        "{}",
        found[1]
    );
    assert_at(found[2], "requirements/zone.yaml", 4, 8);
    assert!(
        found[2]["message"]
            .as_str()
            .unwrap()
            .contains("whole number"),
        "{}",
        found[2]
    );
    assert_at(found[3], "requirements/zone.yaml", 5, 7);
    assert!(
        found[3]["message"].as_str().unwrap().contains("a list"),
        "{}",
        found[3]
    );
    for d in &found[1..] {
        assert_item(d, Some("ZONE-A-1"));
    }
}

#[test]
fn bad_enum_values_say_did_you_mean() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle: t\nstatus: aproved\ncategory: authentification\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let found = with_code(&diags, "schema-enum");
    assert_eq!(found.len(), 2, "{}", pretty(&diags));
    assert_at(found[0], "requirements/a.yaml", 4, 9);
    assert!(
        found[0]["help"]
            .as_str()
            .unwrap()
            .contains("did you mean `approved`?"),
        "{}",
        found[0]
    );
    assert_at(found[1], "requirements/a.yaml", 5, 11);
    assert!(
        found[1]["help"]
            .as_str()
            .unwrap()
            .contains("did you mean `authentication`?"),
        "{}",
        found[1]
    );
    assert_item(found[0], Some("REQ-A-1"));
}

#[test]
fn missing_required_fields() {
    let p = Project::new();
    p.write(
        "requirements/no-title.yaml",
        "id: REQ-A-1\ntype: requirement\n",
    );
    p.write("requirements/no-type.yaml", "id: REQ-A-2\ntitle: t\n");
    p.write("requirements/no-id.yaml", "\ntype: requirement\ntitle: t\n");
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let found = with_code(&diags, "schema-required");
    assert_eq!(found.len(), 3, "{}", pretty(&diags));
    assert_at(found[0], "requirements/no-id.yaml", 2, 1);
    assert!(found[0]["message"].as_str().unwrap().contains("`id`"));
    assert_item(found[0], None);
    assert_at(found[1], "requirements/no-title.yaml", 1, 1);
    assert!(found[1]["message"].as_str().unwrap().contains("`title`"));
    assert_item(found[1], Some("REQ-A-1"));
    assert_at(found[2], "requirements/no-type.yaml", 1, 1);
    assert!(found[2]["message"].as_str().unwrap().contains("`type`"));
    assert_item(found[2], Some("REQ-A-2"));
}

#[test]
fn invalid_id() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        "id: req-1\ntype: requirement\ntitle: t\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "item-invalid-id");
    assert_at(d, "requirements/a.yaml", 1, 5);
}

#[test]
fn unknown_fields_and_types_say_did_you_mean() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle: t\ncategroy: authentication\nzzz: 1\n",
    );
    p.write(
        "requirements/b.yaml",
        "id: REQ-A-2\ntype: requirment\ntitle: t\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let found = with_code(&diags, "schema-unknown-field");
    assert_eq!(found.len(), 2, "{}", pretty(&diags));
    assert_at(found[0], "requirements/a.yaml", 4, 1);
    assert_eq!(found[0]["help"], "did you mean `category`?");
    assert_at(found[1], "requirements/a.yaml", 5, 1);
    assert!(
        found[1]["help"].as_str().unwrap().contains("attributes"),
        "{}",
        found[1]
    );
    let d = one(&diags, "item-unknown-type");
    assert_at(d, "requirements/b.yaml", 2, 7);
    assert_eq!(d["help"], "did you mean `requirement`?");
    assert_item(d, Some("REQ-A-2"));
}

#[test]
fn duplicate_ids_in_one_file() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        "- id: REQ-A-1\n  type: requirement\n  title: one\n- id: REQ-A-1\n  type: requirement\n  title: two\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "duplicate-id");
    assert_at(d, "requirements/a.yaml", 4, 7);
    assert_item(d, Some("REQ-A-1"));
    let related = &d["related"][0];
    assert_eq!(
        (
            related["file"].as_str(),
            related["line"].as_u64(),
            related["column"].as_u64()
        ),
        (Some("requirements/a.yaml"), Some(1), Some(7))
    );
}

#[test]
fn duplicate_ids_across_files() {
    let p = Project::new();
    p.write("requirements/a.yaml", REQ);
    p.write("requirements/sub/b.yml", REQ);
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "duplicate-id");
    assert_at(d, "requirements/sub/b.yml", 1, 5);
    assert_eq!(d["related"][0]["file"], "requirements/a.yaml");
    assert_eq!(d["related"][0]["line"], 1);
}

#[test]
fn duplicate_id_between_a_file_and_a_chapter_block() {
    let p = Project::new();
    p.write("requirements/a.yaml", REQ);
    p.write(
        "book/intro.md",
        "# Intro\n\n```qms\nid: REQ-A-1\ntype: requirement\ntitle: again\n```\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "duplicate-id");
    // Both places are named: one as the location, the other in `related`.
    let mut places = vec![
        (
            d["file"].as_str().unwrap().to_owned(),
            d["line"].as_u64().unwrap(),
        ),
        (
            d["related"][0]["file"].as_str().unwrap().to_owned(),
            d["related"][0]["line"].as_u64().unwrap(),
        ),
    ];
    places.sort();
    assert_eq!(
        places,
        vec![
            ("book/intro.md".to_owned(), 4),
            ("requirements/a.yaml".to_owned(), 1)
        ]
    );
}

#[test]
fn dangling_and_wrongly_typed_links() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        concat!(
            "- id: REQ-A-1\n  type: requirement\n  title: t\n  parent: REQ-A-9\n",
            "- id: AST-A-1\n  type: asset\n  title: a\n",
            "- id: TST-A-1\n  type: test\n  title: t\n  verifies: [REQ-A-1, AST-A-1]\n",
        ),
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "link-unknown");
    assert_at(d, "requirements/a.yaml", 4, 11);
    assert_item(d, Some("REQ-A-1"));
    assert_eq!(d["help"], "did you mean `REQ-A-1`?");
    let d = one(&diags, "link-wrong-type");
    assert_at(d, "requirements/a.yaml", 11, 23);
    assert_item(d, Some("TST-A-1"));
    assert_eq!(d["related"][0]["line"], 6);
}

#[test]
fn parent_cycles() {
    let p = Project::new();
    p.write(
        "requirements/req.yaml",
        concat!(
            "- id: REQ-A-1\n  type: requirement\n  title: a\n  parent: REQ-A-2\n",
            "- id: REQ-A-2\n  type: requirement\n  title: b\n  parent: REQ-A-1\n",
        ),
    );
    p.write(
        "requirements/zone.yaml",
        concat!(
            "- {id: ZONE-A, type: zone, title: a, parent: ZONE-B}\n",
            "- {id: ZONE-B, type: zone, title: b, parent: ZONE-C}\n",
            "- {id: ZONE-C, type: zone, title: c, parent: ZONE-A}\n",
            "- {id: ZONE-D, type: zone, title: d, parent: ZONE-D}\n",
        ),
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let cycles = with_code(&diags, "parent-cycle");
    assert_eq!(cycles.len(), 2, "{}", pretty(&diags));
    assert_at(cycles[0], "requirements/req.yaml", 8, 11);
    assert!(
        cycles[0]["message"]
            .as_str()
            .unwrap()
            .contains("REQ-A-1 -> REQ-A-2 -> REQ-A-1"),
        "{}",
        cycles[0]
    );
    assert_eq!(cycles[1]["file"], "requirements/zone.yaml");
    assert!(
        cycles[1]["message"]
            .as_str()
            .unwrap()
            .contains("ZONE-A -> ZONE-B -> ZONE-C -> ZONE-A"),
        "{}",
        cycles[1]
    );
    let d = one(&diags, "link-self");
    assert_at(d, "requirements/zone.yaml", 4, 46);
    assert_item(d, Some("ZONE-D"));
}

#[test]
fn bad_directives() {
    let p = Project::new();
    p.write("requirements/a.yaml", REQ);
    p.write(
        "book/intro.md",
        concat!(
            "# Intro\n",
            "\n",
            "Ünïcödé {{#qms reff REQ-A-1}} and {{#qms ref REQ-A-9}}.\n",
            "{{#qms table requirment}}\n",
            "{{#qms matrix requirement tset}}\n",
            "{{#qms matrix requirement}}\n",
            "{{#qms ref REQ-A-1 x=1}}\n",
            "{{#qms table requirement status=}}\n",
            "{{#qms ref\n",
        ),
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "directive-unknown");
    assert_at(d, "book/intro.md", 3, 16);
    assert!(
        d["help"]
            .as_str()
            .unwrap()
            .starts_with("did you mean `ref`?"),
        "{d}"
    );
    let d = one(&diags, "directive-unknown-id");
    assert_at(d, "book/intro.md", 3, 46);
    assert_eq!(d["help"], "did you mean `REQ-A-1`?");
    let types = with_code(&diags, "directive-unknown-type");
    assert_eq!(types.len(), 2, "{}", pretty(&diags));
    assert_at(types[0], "book/intro.md", 4, 14);
    assert_eq!(types[0]["help"], "did you mean `requirement`?");
    assert_at(types[1], "book/intro.md", 5, 27);
    assert_eq!(types[1]["help"], "did you mean `test`?");
    let syntax = with_code(&diags, "directive-syntax");
    assert_eq!(syntax.len(), 4, "{}", pretty(&diags));
    assert_at(syntax[0], "book/intro.md", 6, 1);
    assert!(syntax[0]["message"]
        .as_str()
        .unwrap()
        .contains("takes 2 arguments, found 1"));
    assert_at(syntax[1], "book/intro.md", 7, 20);
    assert_at(syntax[2], "book/intro.md", 8, 26);
    assert_at(syntax[3], "book/intro.md", 9, 1);
    assert!(syntax[3]["message"]
        .as_str()
        .unwrap()
        .contains("never closed"));
}

#[test]
fn directives_in_code_and_escaped_directives_are_ignored() {
    let p = Project::new();
    p.write(
        "book/intro.md",
        concat!(
            "# Intro\n\n",
            "Inline `{{#qms bogus}}` code and an escape: \\{{#qms bogus}}.\n\n",
            "```\n{{#qms bogus}}\n```\n\n",
            "~~~markdown\n{{#qms ref NOPE-1}}\n~~~\n\n",
            "    {{#qms bogus}} (indented code)\n\n",
            "``{{#qms ref NOPE-2}}``\n",
        ),
    );
    let (code, diags) = p.json();
    assert_eq!((code, errors(&diags).len()), (0, 0), "{}", pretty(&diags));
}

#[test]
fn an_empty_file_is_a_warning() {
    let p = Project::new();
    p.write("requirements/a.yaml", REQ);
    p.write("requirements/empty.yaml", "");
    p.write("requirements/comments.yaml", "# nothing yet\n---\n");
    let (code, diags) = p.json();
    assert_eq!(code, 0, "{}", pretty(&diags));
    let found = with_code(&diags, "file-empty");
    assert_eq!(found.len(), 2);
    assert_eq!(found[0]["file"], "requirements/comments.yaml");
    assert_eq!(found[1]["file"], "requirements/empty.yaml");
    assert_eq!(found[0]["severity"], "warning");
}

#[test]
fn a_file_that_is_not_utf8() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        b"id: REQ-A-1\ntitle: caf\xe9\n".as_slice(),
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "file-not-utf8");
    assert_at(d, "requirements/a.yaml", 2, 11);
    // The human report shows the line with the bad byte replaced.
    let human = p.check("human");
    assert!(
        human.stderr.contains("--> requirements/a.yaml:2:11"),
        "{}",
        human.stderr
    );
}

#[test]
fn a_missing_item_folder() {
    let p = Project::new();
    p.write(
        "book.toml",
        format!(
            "{}items = [\"requirements\", \"more\"]\n",
            crate::support::BOOK_TOML
        ),
    );
    p.write("requirements/a.yaml", REQ);
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "folder-missing");
    assert_at(d, "book.toml", 6, 26);
    assert!(d["message"].as_str().unwrap().contains("`more`"));
}

#[test]
fn unknown_keys_in_book_toml() {
    let p = Project::new();
    p.write(
        "book.toml",
        format!("{}itemz = [\"requirements\"]\ncommand = \"mdbook-qms\"\n\n[preprocessor.qms.lints]\nlink-unknwn = \"warning\"\n", crate::support::BOOK_TOML),
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let found = with_code(&diags, "config-unknown-key");
    assert_eq!(found.len(), 2, "{}", pretty(&diags));
    assert_at(found[0], "book.toml", 6, 1);
    assert_eq!(found[0]["help"], "did you mean `items`?");
    assert_at(found[1], "book.toml", 10, 1);
    assert_eq!(found[1]["help"], "did you mean `link-unknown`?");
}

#[test]
fn book_toml_syntax_error() {
    let p = Project::new();
    p.write("book.toml", "[book]\nsrc = \"book\n");
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "config-syntax");
    assert_eq!(d["file"], "book.toml");
    assert_eq!(d["line"], 2);
}

#[test]
fn a_missing_book_toml_exits_2() {
    let p = Project::new();
    p.remove("book.toml");
    let (code, diags) = p.json();
    assert_eq!(code, 2);
    one(&diags, "config-missing");
    let human = p.check("human");
    assert_eq!(human.code, 2);
    assert!(
        human.stderr.contains("error[config-missing]"),
        "{}",
        human.stderr
    );
}

#[test]
fn crlf_line_endings() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        "id: REQ-A-1\r\ntype: requirement\r\ntitle: t\r\nstatus: nope\r\n",
    );
    p.write(
        "book/intro.md",
        "# Intro\r\n\r\n```qms\r\nid: REQ-A-2\r\ntype: requirement\r\ntitle: t\r\nstatus: nope\r\n```\r\n\r\n{{#qms ref REQ-A-9}}\r\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let found = with_code(&diags, "schema-enum");
    assert_eq!(found.len(), 2, "{}", pretty(&diags));
    assert_at(found[0], "book/intro.md", 7, 9);
    assert_at(found[1], "requirements/a.yaml", 4, 9);
    assert_eq!(
        (
            found[1]["end_line"].as_u64(),
            found[1]["end_column"].as_u64()
        ),
        (Some(4), Some(13))
    );
    assert_at(one(&diags, "directive-unknown-id"), "book/intro.md", 10, 12);
    // The caret line has no stray carriage return.
    let human = p.check("human");
    assert!(
        human.stderr.contains("4 | status: nope\n"),
        "{}",
        human.stderr
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle: \"Ärger 😀\"\ntext: Übel\nattributes: {note: \"ß😀\", x: 1}\nstatus: [nope]\n",
    );
    p.write(
        "requirements/b.yaml",
        "id: REQ-A-2\ntype: requirement\ntitle: \"日本語\"\ncategory: \"日本\"\n",
    );
    p.write(
        "book/intro.md",
        "# Ünïcödé\n\n日本語 😀 {{#qms ref REQ-A-9}}\n\n```qms\nid: REQ-A-3\ntitle: \"😀😀\"\ntype: requirement\nstatus: nöpe\n```\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let enums = with_code(&diags, "schema-enum");
    assert_eq!(enums.len(), 3, "{}", pretty(&diags));
    assert_at(enums[0], "book/intro.md", 9, 9);
    assert_eq!(enums[0]["end_column"], 13);
    assert_at(enums[1], "requirements/a.yaml", 6, 9);
    assert_at(enums[2], "requirements/b.yaml", 4, 11);
    assert_eq!(enums[2]["end_column"], 15);
    assert_at(one(&diags, "directive-unknown-id"), "book/intro.md", 3, 18);
}

#[test]
fn anchors_and_aliases_work() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        concat!(
            "- id: REQ-A-1\n  type: requirement\n  title: base\n  tags: &tags [safety, security]\n",
            "- id: REQ-A-2\n  type: requirement\n  title: &t shared title\n  tags: *tags\n  parent: REQ-A-1\n",
            "- id: REQ-A-3\n  type: requirement\n  title: *t\n  status: *bad\n",
        ),
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    // Only the alias to an anchor that does not exist is an error.
    let d = one(&diags, "yaml-syntax");
    assert_at(d, "requirements/a.yaml", 13, 11);
    let p2 = Project::new();
    p2.write(
        "requirements/a.yaml",
        concat!(
            "- id: REQ-A-1\n  type: requirement\n  title: base\n  tags: &tags [safety, security]\n",
            "- id: REQ-A-2\n  type: requirement\n  title: other\n  tags: *tags\n  parent: REQ-A-1\n",
        ),
    );
    let (code, diags) = p2.json();
    assert_eq!((code, errors(&diags).len()), (0, 0), "{}", pretty(&diags));
}

#[test]
fn an_alias_bomb_is_a_clean_error() {
    let p = Project::new();
    p.write("requirements/ok.yaml", REQ);
    let mut bomb = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i", "j"])
    {
        let list = vec![format!("*{prev}"); 9].join(", ");
        bomb.push_str(&format!("{name}: &{name} [{list}]\n"));
    }
    p.write("requirements/bomb.yaml", bomb);
    let started = std::time::Instant::now();
    let (code, diags) = p.json();
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(code, 1);
    let d = one(&diags, "yaml-unsupported");
    assert_eq!(d["file"], "requirements/bomb.yaml");
    assert!(d["message"].as_str().unwrap().contains("alias"), "{d}");
    assert_eq!(errors(&diags).len(), 1, "{}", pretty(&diags));
}

#[test]
fn deep_nesting_is_a_clean_error() {
    let p = Project::new();
    let depth = 100_000;
    p.write(
        "requirements/deep.yaml",
        format!(
            "id: REQ-A-1\ntype: requirement\ntitle: t\nattributes:\n  x: {}{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    assert_eq!(one(&diags, "yaml-syntax")["file"], "requirements/deep.yaml");
    // The human report cuts the 200 000-character line down to a window.
    let human = p.check("human");
    assert!(
        human.stderr.len() < 2_000,
        "{} bytes of report",
        human.stderr.len()
    );
}

#[test]
fn duplicate_yaml_keys() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle: one\nattributes:\n  k: 1\n  k: 2\n",
    );
    p.write(
        "requirements/b.yaml",
        "id: REQ-A-2\ntype: requirement\ntitle: one\ntitle: two\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let found = with_code(&diags, "yaml-duplicate-key");
    assert_eq!(found.len(), 2, "{}", pretty(&diags));
    assert_at(found[0], "requirements/a.yaml", 6, 3);
    assert_eq!(found[0]["related"][0]["line"], 5);
    assert_at(found[1], "requirements/b.yaml", 4, 1);
    assert_eq!(found[1]["related"][0]["line"], 3);
}

#[test]
fn non_string_keys_and_tabs() {
    let p = Project::new();
    p.write("requirements/a.yaml", "? [a]\n: b\n");
    p.write(
        "requirements/b.yaml",
        "id: REQ-A-1\ntype: requirement\n\ttitle: t\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    assert_at(one(&diags, "yaml-unsupported"), "requirements/a.yaml", 1, 3);
    assert_at(one(&diags, "yaml-syntax"), "requirements/b.yaml", 3, 1);
}

#[test]
fn an_indented_qms_fence_in_a_list_item() {
    let p = Project::new();
    p.write(
        "book/intro.md",
        concat!(
            "# Intro\n\n",
            "1. Ünïcödé first step\n\n",
            "   ```qms\n",
            "   id: REQ-B-1\n",
            "   type: requirement\n",
            "   title: \"Ärger\"\n",
            "   bogus: 1\n",
            "   ```\n\n",
            "   - nested\n\n",
            "     ```qms\n",
            "     id: REQ-B-2\n",
            "     type: requirement\n",
            "     title: t\n",
            "     status: nope\n",
            "     ```\n",
        ),
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "schema-unknown-field");
    assert_at(d, "book/intro.md", 9, 4);
    assert_item(d, Some("REQ-B-1"));
    let d = one(&diags, "schema-enum");
    assert_at(d, "book/intro.md", 18, 14);
    assert_item(d, Some("REQ-B-2"));
}

#[test]
fn qms_blocks_that_hold_no_item_or_two() {
    let p = Project::new();
    p.write(
        "book/intro.md",
        "# Intro\n\n```qms\n```\n\n```qms\nid: REQ-A-1\ntype: requirement\ntitle: t\n---\nid: REQ-A-2\n```\n\n```qms\n- a\n```\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let found = with_code(&diags, "item-not-mapping");
    assert_eq!(found.len(), 3, "{}", pretty(&diags));
    assert_at(found[0], "book/intro.md", 3, 1);
    assert_at(found[1], "book/intro.md", 11, 1);
    assert_at(found[2], "book/intro.md", 15, 1);
}

#[test]
fn an_item_placed_twice() {
    let p = Project::new();
    p.write("requirements/a.yaml", REQ);
    p.write(
        "book/intro.md",
        "# Intro\n\n{{#qms item REQ-A-1}}\n\n{{#qms item REQ-A-1}}\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "item-placed-twice");
    assert_at(d, "book/intro.md", 5, 1);
    assert_eq!(d["related"][0]["line"], 3);
}

#[test]
fn a_summary_listing_a_missing_chapter() {
    let p = Project::new();
    p.write(
        "book/SUMMARY.md",
        "# Summary\n\n- [Intro](intro.md)\n- [Gone](gone.md)\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    assert_at(one(&diags, "io-error"), "book/SUMMARY.md", 4, 10);
}

#[test]
fn lint_levels_change_severity() {
    let p = Project::new();
    p.write(
        "book.toml",
        format!(
            "{}\n[preprocessor.qms.lints]\nlink-unknown = \"warning\"\nfile-empty = \"allow\"\n",
            crate::support::BOOK_TOML
        ),
    );
    p.write(
        "requirements/a.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle: t\nparent: REQ-A-9\n",
    );
    p.write("requirements/empty.yaml", "");
    let (code, diags) = p.json();
    assert_eq!(code, 0, "{}", pretty(&diags));
    assert_eq!(
        with_code(&diags, "file-empty").len(),
        0,
        "{}",
        pretty(&diags)
    );
    assert_eq!(one(&diags, "link-unknown")["severity"], "warning");
}

/// The first line of `/etc/passwd`, which no output may show.
#[cfg(unix)]
fn passwd_first_line() -> Option<String> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines()
        .next()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
}

#[cfg(unix)]
#[test]
fn item_links_out_of_the_project_are_not_read_and_links_inside_are_read_once() {
    use std::os::unix::fs::symlink;
    let p = Project::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir(outside.path().join("folder")).unwrap();
    std::fs::write(
        outside.path().join("stolen.yaml"),
        "id: REQ-STOLEN-1\ntype: requirement\ntitle: Stolen\n",
    )
    .unwrap();
    std::fs::write(
        outside.path().join("folder/more.yaml"),
        "id: REQ-STOLEN-2\ntype: requirement\ntitle: Stolen too\n",
    )
    .unwrap();
    let req = p.path().join("requirements");
    // Out of the project: a relative link that climbs out, an absolute one to a system
    // file, an absolute one to a folder.
    let sibling = outside.path().file_name().unwrap().to_str().unwrap();
    symlink(
        format!("../../{sibling}/stolen.yaml"),
        req.join("stolen.yaml"),
    )
    .unwrap();
    symlink("/etc/passwd", req.join("x.yaml")).unwrap();
    symlink(outside.path().join("folder"), req.join("folder")).unwrap();
    // Inside: a file outside the item folder, linked twice; a folder loop; a link loop.
    p.write(
        "shared/a.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle: t\nstatus: nope\n",
    );
    symlink("../shared/a.yaml", req.join("a.yaml")).unwrap();
    symlink("a.yaml", req.join("b.yaml")).unwrap();
    symlink(".", req.join("again")).unwrap();
    symlink("loop-b.yaml", req.join("loop-a.yaml")).unwrap();
    symlink("loop-a.yaml", req.join("loop-b.yaml")).unwrap();

    let (code, diags) = p.json();
    assert_eq!(code, 1, "{}", pretty(&diags));
    let outside_links: Vec<(&str, &str)> = with_code(&diags, "link-outside-project")
        .iter()
        .map(|d| (d["file"].as_str().unwrap(), d["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outside_links,
        [
            ("requirements/folder", "warning"),
            ("requirements/stolen.yaml", "warning"),
            ("requirements/x.yaml", "warning")
        ],
        "{}",
        pretty(&diags)
    );
    // The linked file is read once, at the first link's path.
    assert_at(one(&diags, "schema-enum"), "requirements/a.yaml", 4, 9);
    assert!(
        with_code(&diags, "duplicate-id").is_empty(),
        "{}",
        pretty(&diags)
    );
    let loops: Vec<&str> = with_code(&diags, "io-error")
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        loops,
        ["requirements/loop-a.yaml", "requirements/loop-b.yaml"]
    );
    // Nothing of the targets outside is read: no item, no line of theirs.
    for run in [p.check("json"), p.check("human")] {
        let out = format!("{}{}", run.stdout, run.stderr);
        assert!(!out.contains("REQ-STOLEN"), "{out}");
        if let Some(line) = passwd_first_line() {
            assert!(!out.contains(&line), "{out}");
        }
    }
}

#[cfg(unix)]
#[test]
fn chapters_schemas_templates_and_evidence_follow_the_same_rule() {
    use std::os::unix::fs::symlink;
    let p = Project::new();
    p.write("requirements/a.yaml", REQ);
    let outside = tempfile::tempdir().unwrap();
    let secret = |name: &str, text: &str| {
        let path = outside.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let chapter = secret(
        "chapter.md",
        "# Secret chapter\n\n```qms\nid: REQ-STOLEN-1\ntype: requirement\ntitle: Stolen\n```\n",
    );
    let schema = secret("schema.json", "{\"Secret\": ");
    let template = secret("sbom.md.j2", "# Secret {{ undefined_thing }}\n");
    let results = secret("results.xml", "<testsuite name=\"Secret\"/>");
    p.write(
        "book/SUMMARY.md",
        "# Summary\n\n- [Intro](intro.md)\n- [Linked](linked.md)\n",
    );
    symlink(&chapter, p.path().join("book/linked.md")).unwrap();
    std::fs::create_dir_all(p.path().join("schemas")).unwrap();
    symlink(&schema, p.path().join("schemas/extra.json")).unwrap();
    std::fs::create_dir_all(p.path().join("templates")).unwrap();
    symlink(&template, p.path().join("templates/sbom.md.j2")).unwrap();
    std::fs::create_dir_all(p.path().join("trace")).unwrap();
    symlink(&results, p.path().join("trace/results.xml")).unwrap();

    let (_, diags) = p.json();
    let refused: Vec<(&str, &str, &str)> = diags
        .iter()
        .filter(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .contains("leads outside the project")
        })
        .map(|d| {
            (
                d["file"].as_str().unwrap(),
                d["code"].as_str().unwrap(),
                d["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        refused,
        [
            ("book/linked.md", "link-outside-project", "warning"),
            ("schemas/extra.json", "link-outside-project", "warning"),
            ("templates/sbom.md.j2", "link-outside-project", "warning"),
            ("trace/results.xml", "evidence-outside", "error"),
        ],
        "{}",
        pretty(&diags)
    );
    // The targets were not read: none of them reached another diagnostic.
    let text = pretty(&diags);
    for unseen in [
        "REQ-STOLEN",
        "Secret",
        "undefined_thing",
        "template-error",
        "schema-invalid",
        "junit-invalid",
    ] {
        assert!(!text.contains(unseen), "{unseen}: {text}");
    }

    // `build` reads the chapters mdBook hands it by the same rule: the page stays empty.
    // (Without the evidence link, whose code is an error.)
    p.remove("trace/results.xml");
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("html");
    let build = crate::support::cli::run(&[
        "build".as_ref(),
        p.path().as_os_str(),
        "--dest-dir".as_ref(),
        dest.as_os_str(),
    ]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    assert!(
        build.stderr.contains("book/linked.md leads outside"),
        "{}",
        build.stderr
    );
    let page = std::fs::read_to_string(dest.join("linked.html")).unwrap();
    assert!(
        !page.contains("REQ-STOLEN") && !page.contains("Secret chapter"),
        "{page}"
    );
}

#[test]
fn links_to_an_item_with_a_bad_type_do_not_cascade() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        "- id: REQ-A-1\n  type: requirment\n  title: t\n- id: REQ-A-2\n  type: requirement\n  title: t\n  parent: REQ-A-1\n",
    );
    p.write("book/intro.md", "# Intro\n\n{{#qms ref REQ-A-1}}\n");
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    assert_at(
        one(&diags, "item-unknown-type"),
        "requirements/a.yaml",
        2,
        9,
    );
    assert_eq!(errors(&diags).len(), 1, "{}", pretty(&diags));
}

#[test]
fn a_broken_override_of_a_document_the_book_does_not_place_fails_check() {
    // `export` renders every document, placed or not: check must fail where it would.
    let p = Project::new();
    p.write("requirements/a.yaml", REQ);
    p.write("templates/sbom.md.j2", "# SBOM\n\n{{ no_such_value }}\n");
    let (code, diags) = p.json();
    assert_eq!(code, 1, "{}", pretty(&diags));
    assert_at(one(&diags, "template-error"), "templates/sbom.md.j2", 3, 4);

    // A shared template every document imports breaks them all: reported once.
    let p = Project::new();
    p.write("requirements/a.yaml", REQ);
    p.write("templates/qms-macros.md.j2", "{# macros #}\n{% if %}\n");
    let (code, diags) = p.json();
    assert_eq!(code, 1, "{}", pretty(&diags));
    assert_at(
        one(&diags, "template-syntax"),
        "templates/qms-macros.md.j2",
        2,
        7,
    );
}

#[cfg(unix)]
#[test]
fn a_book_toml_that_links_out_of_the_project_is_not_read() {
    let p = Project::new();
    p.remove("book.toml");
    std::os::unix::fs::symlink("/etc/passwd", p.path().join("book.toml")).unwrap();
    let r = p.check("human");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("book.toml leads outside the project folder"),
        "{}",
        r.stderr
    );
    if let Some(line) = passwd_first_line() {
        assert!(
            !r.stderr.contains(&line) && !r.stdout.contains(&line),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn an_item_copied_by_an_alias_is_a_duplicate_at_the_alias() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        "- &pump\n  id: REQ-A-1\n  type: requirement\n  title: base\n- *pump\n",
    );
    let (code, diags) = p.json();
    assert_eq!(code, 1);
    let d = one(&diags, "duplicate-id");
    // The copy is written at the alias (line 5), the original at the anchor (line 2).
    assert_at(d, "requirements/a.yaml", 5, 3);
    assert_eq!(d["related"][0]["line"], 2, "{d}");
}

#[test]
fn new_refuses_a_title_that_is_not_one_line() {
    let p = Project::new();
    for (title, says) in [
        ("", "the title is empty"),
        ("  ", "the title is empty"),
        ("first\nsecond", "a line break"),
        ("red\u{1b}[31m", "U+001B"),
    ] {
        let r = crate::support::cli::run(&[
            "new".as_ref(),
            "requirement".as_ref(),
            "--title".as_ref(),
            title.as_ref(),
            "--dir".as_ref(),
            p.path().as_os_str(),
        ]);
        assert_eq!(r.code, 2, "{title:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{title:?}: {}", r.stderr);
    }
    let written: Vec<_> = crate::support::walk(&p.path().join("requirements"));
    assert!(written.is_empty(), "nothing is written: {written:?}");
}

#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    use std::os::unix::process::ExitStatusExt as _;
    use std::process::{Command, Stdio};
    let example = crate::support::repo_root().join("examples/insulin-pump");
    for args in [
        vec!["gaps"],
        vec!["check", "--format", "json"],
        vec!["trace"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
            .args(&args)
            .arg(&example)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `| head -0`: the reader is gone before the command prints anything.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            out.status.signal() == Some(libc::SIGPIPE) || out.status.success(),
            "{args:?} ended with {:?}: {stderr}",
            out.status
        );
    }
}

#[test]
fn a_format_not_offered_is_a_usage_error_that_lists_the_formats() {
    for (command, formats) in [
        (&["check"][..], "human, json, github, sarif"),
        (&["diff", "v1"][..], "human, json"),
        (&["trace"][..], "text, json, csv"),
        (&["sbom"][..], "cyclonedx, openvex"),
        (&["gate"][..], "human, json"),
    ] {
        let listed = format!("[possible values: {formats}]");
        let run = |more: &[&str]| {
            let args: Vec<&str> = command.iter().chain(more).copied().collect();
            crate::support::cli::run(&args.iter().map(std::ffi::OsStr::new).collect::<Vec<_>>())
        };
        let help = run(&["--help"]);
        assert_eq!(help.code, 0, "{command:?}: {}", help.stderr);
        assert!(
            help.stdout.contains(&listed),
            "{command:?}: {}",
            help.stdout
        );
        let bad = run(&["--format", "JSON"]);
        assert_eq!(bad.code, 2, "{command:?}: {}", bad.stderr);
        assert!(
            bad.stderr.contains(&format!(
                "invalid value 'JSON' for '--format <FORMAT>'\n  {listed}"
            )),
            "{command:?}: {}",
            bad.stderr
        );
    }
}

/// clap stays in the binaries: the library's options are plain enums with `FromStr`.
#[test]
fn the_library_names_no_clap() {
    let src = crate::support::repo_root().join("src");
    let mut library = crate::support::walk(&src);
    library.retain(|f| f != &src.join("main.rs") && !f.starts_with(src.join("bin")));
    library.sort();
    let mut naming = Vec::new();
    for file in library {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.contains("clap") {
                naming.push(format!("{}:{}: {line}", file.display(), i + 1));
            }
        }
    }
    assert!(naming.is_empty(), "{}", naming.join("\n"));
}
