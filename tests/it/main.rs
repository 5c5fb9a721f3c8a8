//! The integration tests, one binary (`cargo test --test it`), one module per subject.
//! Run one module with `cargo test --test it check_cli::`. Everything they share is in
//! [`support`]. The tests of a binary run in parallel threads: a test never changes the
//! process's environment or working folder, it hands both to the child processes it
//! starts (`Command::env`, `Command::current_dir`).

mod support;

mod approvals;
mod approve;
mod book;
mod browser;
mod check_cli;
mod check_docs;
mod check_formats;
mod check_schemas;
mod diag_cases;
mod documents_conclusion;
mod documents_controls;
mod documents_engine;
mod documents_gaps;
mod documents_labeling;
mod documents_views;
mod evidence_junit;
mod evidence_osv;
mod evidence_project;
mod evidence_sbom_out;
mod evidence_self;
mod evidence_testing;
mod export;
mod gate;
mod git_damaged;
mod history_diff;
mod history_scan;
mod history_suspect;
mod layers;
mod nothing_lost;
mod pdf_render;
mod risk_browser;
mod risk_checks;
mod risk_hazards;
mod risk_render;
mod risk_scoring;
mod trace_cli;
