//! `mdbook-qms trace`: the coverage matrix in the terminal, as JSON and as CSV.

use std::path::Path;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

fn trace(args: &[&str]) -> (Option<i32>, String, String) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/basic");
    let out = std::process::Command::cargo_bin("mdbook-qms")
        .unwrap()
        .arg("trace")
        .arg(fixture)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn text_lists_each_row_and_marks_uncovered_ones() {
    let (code, out, _) = trace(&[]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "requirement -> test: 2 of 3 covered (66.7%)");
    assert!(lines[1].starts_with("REQ-001  TST-001"), "{out}");
    assert!(lines[3].starts_with("REQ-003  NOT COVERED"), "{out}");
}

#[test]
fn json_has_counts_and_linked_ids() {
    let (code, out, _) = trace(&["--format", "json", "--from", "test", "--to", "requirement"]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["covered"], 1);
    assert_eq!(v["total"], 1);
    assert_eq!(
        v["rows"][0]["linked"],
        serde_json::json!(["REQ-001", "REQ-002"])
    );
}

#[test]
fn csv_quotes_fields_and_defuses_formulas() {
    let (code, out, _) = trace(&["--format", "csv", "--via", "verifies"]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "id,title,status,test");
    // The title has no comma or quote; the row is plain.
    assert_eq!(lines[2], "REQ-002,Child requirement,draft,TST-001");
    assert_eq!(lines[3], "REQ-003,Uncovered requirement,draft,");
}

#[test]
fn fail_under_gates_coverage_and_unknown_types_are_usage_errors() {
    assert_eq!(trace(&["--fail-under", "50"]).0, Some(0));
    let (code, _, err) = trace(&["--fail-under", "90"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("coverage 66.7% is under 90%"), "{err}");
    let (code, _, err) = trace(&["--from", "requirment"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown type `requirment`"));
}
