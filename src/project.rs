//! `Project`: the linked model plus every analysis stage's output, complete when
//! constructed. Commands, documents and the renderer read a `Project`; `pipeline` builds
//! one.

use std::collections::BTreeMap;
use std::ops::Deref;

use crate::approval::Approvals;
use crate::diag::{Diagnostic, Diagnostics};
use crate::evidence::assess::Evidence;
use crate::history::diff::Diff;
use crate::history::History;
use crate::linked::Linked;
use crate::risk::RiskModel;

/// The linked project and every analysis stage's output: what commands, documents and the renderer read.
pub struct Project {
    pub(crate) linked: Linked,
    /// What git says about each item.
    pub history: History,
    /// `{{#qms changes BASE}}` comparisons by BASE, or why there is none.
    pub(crate) baseline_diffs: BTreeMap<String, Result<Diff, String>>,
    /// Risk scores before and after mitigation (see `risk`).
    pub risk: RiskModel,
    /// Test verification and vulnerability matches (see `evidence::assess`).
    pub evidence: Evidence,
    /// The approval records and their verification (see `approval::assess`).
    pub approvals: Approvals,
    /// Every stage's diagnostics, with `[preprocessor.qms.lints]` applied; `report` sorts
    /// them for printing.
    pub diagnostics: Diagnostics,
}

/// A project reads as its linked model too: `project.items`, `project.config`, ...
impl Deref for Project {
    type Target = Linked;

    fn deref(&self) -> &Linked {
        &self.linked
    }
}

impl Project {
    /// Adds a diagnostic found after loading (by the mdBook glue), at the level
    /// `[preprocessor.qms.lints]` gives its code.
    pub(crate) fn report(&mut self, mut diagnostic: Diagnostic) {
        match self.linked.config.lints.get(diagnostic.code) {
            Some(Some(severity)) => diagnostic.severity = *severity,
            Some(None) => return,
            None => {}
        }
        self.diagnostics.push(diagnostic);
    }

    /// The approval records that name document (or item) `name`, newest first.
    pub fn approvals_of_document(&self, name: &str) -> Vec<&crate::approval::ApprovalRecord> {
        self.approvals.of(name).collect()
    }

    /// Applies `[preprocessor.qms.lints]`: change a code's severity, or drop it.
    pub(crate) fn apply_lint_levels(&mut self) {
        let lints = &self.linked.config.lints;
        if lints.is_empty() {
            return;
        }
        self.diagnostics.0.retain_mut(|d| match lints.get(d.code) {
            Some(Some(severity)) => {
                d.severity = *severity;
                true
            }
            Some(None) => false,
            None => true,
        });
    }
}
