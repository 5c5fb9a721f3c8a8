//! Data-driven diagnostics: each folder `tests/cases/diagnostics/NAME/` is a small project
//! (book.toml, items, chapters, trace files, whatever the case needs) and the output of
//! `mdbook-qms check` on it, as the user reads it:
//!
//! - `expected.txt`: the exit status on the first line (`exit: 1`), then what the command
//!   printed to stdout and then to stderr, with `NO_COLOR=1` and
//!   `MDBOOK_QMS_TODAY=2026-12-03`;
//! - `expected.json` (optional): stdout of `check --format json`.
//!
//! The project is copied to a temporary folder outside any git repository before the
//! run (symbolic links stay links), so the output never depends on this repository's
//! history; the `expected.*` files are not copied.
//!
//! Each case has one `diag_case!(NAME);` line below; a test fails when a folder has no
//! line or a line has no folder. Cases are named after the diagnostic code they are for
//! (`duplicate-id` in `duplicate_id/`), and every code of `diag::CODES` has a case
//! unless [`WITHOUT_CASE`] says why not.
//!
//! After a deliberate change of the output, rewrite the expected files and review the
//! diff:
//!
//! ```console
//! $ UPDATE_SNAPSHOTS=1 cargo test --test it diag_cases::
//! $ git diff tests/cases
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::repo_root;

/// Where the cases live, relative to the repository root.
const CASES: &str = "tests/cases/diagnostics";

/// The codes without a case, each with the reason a small project on disk cannot
/// trigger it.
const WITHOUT_CASE: &[(&str, &str)] = &[
    (
        "approval-unsigned",
        "needs a signed git commit or tag (real keys); see approvals::*",
    ),
    (
        "approval-signature-invalid",
        "needs a signed git commit or tag (real keys); see approvals::*",
    ),
    (
        "approval-signer-unknown",
        "needs a signed git commit or tag (real keys); see approvals::*",
    ),
    (
        "approval-key-not-valid",
        "needs a signed git commit or tag (real keys); see approvals::*",
    ),
    (
        "approval-signer-not-in-role",
        "needs a signed git commit or tag (real keys); see approvals::*",
    ),
    (
        "approval-unknown-id",
        "needs a signed git commit or tag (real keys); see approvals::*",
    ),
    (
        "approval-meaning-missing",
        "needs a signed git commit or tag (real keys); see approvals::*",
    ),
    (
        "approval-outdated",
        "needs a signed git commit or tag (real keys); see approvals::*",
    ),
    (
        "history-shallow",
        "needs a shallow git clone; see history_scan::shallow_*",
    ),
    (
        "git-damaged",
        "needs a git repository with a damaged object file; see git_damaged::*",
    ),
    (
        "trailer-unknown-id",
        "needs git history with a commit trailer; see history_scan::*",
    ),
    (
        "suspect-link",
        "needs git history in which an upstream item changed later; see history_suspect::*",
    ),
    (
        "changes-unknown-base",
        "needs a git repository (outside one, `changes` reports history-unavailable); see book::*",
    ),
    (
        "test-result-stale",
        "needs git history dating the change; see evidence_project::results_older_than_a_change_are_stale",
    ),
    (
        "downloads-not-written",
        "reported by `mdbook build` through the preprocessor, never by `check`; see export::mdbook_build_warns_that_it_cannot_write_downloads",
    ),
    (
        "build-dir-in-sources",
        "reported by `build`, not by `check`; see nothing_lost::*",
    ),
];

macro_rules! diag_case {
    ($name:ident) => {
        #[test]
        fn $name() {
            run_case(stringify!($name));
        }
    };
}

diag_case!(allowed_signers_syntax);
diag_case!(approval_required_missing);
diag_case!(asset_multiple_zones);
diag_case!(asset_no_zone);
diag_case!(boundary_data_exposed);
diag_case!(boundary_flow_unprotected);
diag_case!(component_end_of_support);
diag_case!(component_end_of_support_unassessed);
diag_case!(component_support_missing);
diag_case!(config_missing);
diag_case!(config_syntax);
diag_case!(config_unknown_key);
diag_case!(control_untested);
diag_case!(cvss_invalid);
diag_case!(cvss_mismatch);
diag_case!(device_version_mismatch);
diag_case!(directive_syntax);
diag_case!(directive_unknown);
diag_case!(directive_unknown_field);
diag_case!(directive_unknown_id);
diag_case!(directive_unknown_type);
diag_case!(document_gap);
diag_case!(document_unknown);
diag_case!(duplicate_id);
diag_case!(evidence_outside);
diag_case!(file_empty);
diag_case!(file_not_utf8);
diag_case!(finding_deferred_no_anomaly);
diag_case!(finding_disposition_missing);
diag_case!(finding_rationale_missing);
diag_case!(finding_id_duplicate);
diag_case!(flow_boundary_unknown);
diag_case!(flow_endpoints);
diag_case!(folder_missing);
diag_case!(history_unavailable);
diag_case!(io_error);
diag_case!(item_invalid_id);
diag_case!(item_not_mapping);
diag_case!(item_placed_twice);
diag_case!(item_unknown_type);
diag_case!(item_unplaced);
diag_case!(junit_invalid);
diag_case!(kev_catalogue_missing);
diag_case!(kev_claim_contradicted);
diag_case!(kev_invalid);
diag_case!(kev_not_fixed);
diag_case!(link_outside_project);
diag_case!(link_self);
diag_case!(link_unknown);
diag_case!(link_wrong_type);
diag_case!(osv_invalid);
diag_case!(osv_unknown_ecosystem);
diag_case!(parent_cycle);
diag_case!(patch_overdue);
diag_case!(pentest_incomplete);
diag_case!(reqif_depth_limit);
diag_case!(risk_acceptance_incomplete);
diag_case!(risk_acceptance_unlabeled);
diag_case!(risk_config);
diag_case!(risk_harm_mismatch);
diag_case!(risk_hazard_missing);
diag_case!(risk_residual_unexplained);
diag_case!(risk_review_expired);
diag_case!(risk_transfer_unlabeled);
diag_case!(risk_unacceptable);
diag_case!(risk_unknown_level);
diag_case!(risk_unscored);
diag_case!(sbom_duplicate_ref);
diag_case!(sbom_invalid);
diag_case!(sbom_ntia);
diag_case!(schema_enum);
diag_case!(schema_invalid);
diag_case!(schema_required);
diag_case!(schema_type);
diag_case!(schema_unknown_field);
diag_case!(schema_violation);
diag_case!(date_impossible);
diag_case!(stride_gap);
diag_case!(stride_inapplicable);
diag_case!(template_error);
diag_case!(template_syntax);
diag_case!(test_dates_reversed);
diag_case!(test_failed);
diag_case!(test_failure_unassessed);
diag_case!(test_result_missing);
diag_case!(test_result_unmatched);
diag_case!(test_skipped);
diag_case!(test_tool_missing);
diag_case!(threat_no_risk);
diag_case!(vex_incomplete);
diag_case!(vex_not_affected_patched);
diag_case!(vulnerability_dates);
diag_case!(vulnerability_risk_cvss);
diag_case!(view_not_applicable_with_content);
diag_case!(vulnerability_unassessed);
diag_case!(yaml_duplicate_key);
diag_case!(yaml_syntax);
diag_case!(yaml_unsupported);

/// Set to rewrite the expected files instead of comparing with them.
fn updating() -> bool {
    std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| !v.is_empty() && v != "0")
}

fn cases_dir() -> PathBuf {
    repo_root().join(CASES)
}

/// The case folders, by name.
fn case_folders() -> BTreeSet<String> {
    std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect()
}

/// The names of the `diag_case!` lines of this file.
fn case_entries() -> BTreeSet<String> {
    include_str!("diag_cases.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("diag_case!(")?.strip_suffix(");"))
        .map(str::to_owned)
        .collect()
}

/// Copies the project of a case (not its `expected.*` files), keeping symbolic links.
fn copy_case(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), target).unwrap();
        } else if kind.is_dir() {
            copy_case(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A case's project in a fresh temporary folder (`TMP/NAME`).
fn project_of(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join(name);
    copy_case(&cases_dir().join(name), &project);
    for expected in ["expected.txt", "expected.json"] {
        let _ = std::fs::remove_file(project.join(expected));
    }
    (tmp, project)
}

/// `mdbook-qms check PROJECT ARGS` run from the project's parent folder, with the
/// environment of the snapshots; the exit status, stdout and stderr, with the
/// temporary folder's path written as `<tmp>`.
fn check(project: &Path, args: &[&str]) -> (i32, String, String) {
    let tmp = project.parent().unwrap();
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_mdbook-qms"))
        .arg("check")
        .arg(project)
        .args(args)
        .current_dir(tmp)
        .env("NO_COLOR", "1")
        .env("MDBOOK_QMS_TODAY", "2026-12-03")
        .env_remove("CLICOLOR_FORCE")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let code = out.status.code().expect("exited (not killed)");
    let text =
        |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(&tmp.display().to_string(), "<tmp>");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_ne!(code, 101, "mdbook-qms panicked:\n{stderr}");
    assert!(
        !stderr.contains("panicked"),
        "mdbook-qms panicked:\n{stderr}"
    );
    (code, stdout, stderr)
}

/// Compares `actual` with the file at `path`, or writes it there when updating.
fn compare(path: &Path, actual: &str) {
    if updating() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; write it with UPDATE_SNAPSHOTS=1 cargo test --test it diag_cases::",
            path.display()
        )
    });
    if expected != actual {
        panic!(
            "{} differs from the output (UPDATE_SNAPSHOTS=1 rewrites it; then review `git diff`).\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        );
    }
}

fn run_case(name: &str) {
    let case = cases_dir().join(name);
    assert!(case.is_dir(), "no case folder {}", case.display());
    let (_tmp, project) = project_of(name);
    let (code, stdout, stderr) = check(&project, &[]);
    compare(
        &case.join("expected.txt"),
        &format!("exit: {code}\n{stdout}{stderr}"),
    );
    let json = case.join("expected.json");
    if json.exists() {
        let (_, stdout, _) = check(&project, &["--format", "json"]);
        compare(&json, &stdout);
    }
}

#[test]
fn every_case_folder_has_an_entry_and_every_entry_a_folder() {
    let folders = case_folders();
    let entries = case_entries();
    let without_entry: Vec<_> = folders.difference(&entries).collect();
    let without_folder: Vec<_> = entries.difference(&folders).collect();
    assert!(
        without_entry.is_empty() && without_folder.is_empty(),
        "case folders without a `diag_case!` line: {without_entry:?}; `diag_case!` lines without a folder in {CASES}: {without_folder:?}"
    );
}

/// Every code has a case named after it that reports it, unless [`WITHOUT_CASE`] says
/// why not; and the allow-list names only codes that exist and have no case.
#[test]
fn every_code_has_a_case_or_a_reason() {
    let folders = case_folders();
    let codes: BTreeSet<&str> = mdbook_qms::diag::CODES.iter().map(|c| c.code).collect();
    let mut problems = Vec::new();
    for (code, _) in WITHOUT_CASE {
        if !codes.contains(code) {
            problems.push(format!("WITHOUT_CASE names `{code}`, which is no code"));
        }
        if folders.contains(&code.replace('-', "_")) {
            problems.push(format!("`{code}` has a case: take it out of WITHOUT_CASE"));
        }
    }
    for code in &codes {
        let folder = code.replace('-', "_");
        if WITHOUT_CASE.iter().any(|(c, _)| c == code) {
            continue;
        }
        if !folders.contains(&folder) {
            problems.push(format!(
                "`{code}` has no case: add {CASES}/{folder}/ (or a reason to WITHOUT_CASE)"
            ));
            continue;
        }
        let (_tmp, project) = project_of(&folder);
        let (_, stdout, stderr) = check(&project, &["--format", "json"]);
        let reported: Vec<Value> = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{folder}: invalid JSON ({e}):\n{stdout}{stderr}"));
        if !reported.iter().any(|d| d["code"] == *code) {
            problems.push(format!("the case {folder}/ does not report `{code}`"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
