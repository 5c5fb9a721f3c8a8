//! mdbook-qms: medical-device cybersecurity design files as code.
//!
//! The pipeline runs in stages, each a module, each reading only what the earlier ones
//! produced (see ARCHITECTURE.md):
//! `config` -> `load` -> `validate` -> `link` -> `render`, with `report` printing
//! diagnostics and `project` tying the stages together.

#![warn(unreachable_pub, missing_docs)]

pub mod approval;
pub mod approve;
pub mod atomic;
mod choice;
pub mod config;
pub mod corpus;
pub mod date;
pub mod diag;
mod diagram;
mod directive;
pub mod documents;
pub mod evidence;
pub mod export;
pub mod gate;
mod git;
pub mod history;
mod html;
mod link;
pub mod linked;
pub mod load;
pub mod model;
pub mod output;
pub mod page;
pub mod pdf;
pub mod pipeline;
pub mod preprocess;
pub mod project;
mod project_files;
pub mod render;
pub mod report;
pub mod risk;
pub mod scaffold;
pub mod schema;
pub mod source;
pub mod terminal;
mod text;
pub mod trace;
mod validate;
pub mod yaml;
