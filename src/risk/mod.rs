//! Stage 4, risk: scores every risk before and after mitigation on the configured scales
//! (levels, or CVSS vectors banded by their exploitability subscore) and runs the threat
//! model checks (trust boundaries, STRIDE coverage, acceptance, tests).
//!
//! Runs after `link` on the checked items and their graph; `render` draws the data-flow
//! diagram, heat maps and STRIDE table from the [`RiskModel`] it returns.

pub(crate) mod checks;
pub mod cvss;
mod model;

pub use model::{Level, RiskModel, RiskScore};

use crate::config::risk::RiskConfig;
use crate::diag::{code, did_you_mean, Diagnostic, Diagnostics};
use crate::linked::Linked;
use crate::model::Item;
use crate::yaml::{Node, Value};

/// Scores the risks and runs the checks.
pub(crate) fn analyze(project: &Linked, diags: &mut Diagnostics) -> RiskModel {
    let scales = project.config.risk.clone();
    let mut risks = Vec::new();
    for (i, item) in project.items.iter().enumerate() {
        if !project.is_primary(i) {
            continue;
        }
        match item.ty.as_str() {
            "risk" => risks.push(score_risk(i, item, &scales, diags)),
            "vulnerability" => {
                if let Some((_, v)) = item.node.get("cvss") {
                    let _ = vector(v, item, diags);
                }
            }
            _ => {}
        }
    }
    let model = RiskModel { scales, risks };
    checks::run(project, &model, diags);
    model
}

fn score_risk(
    index: usize,
    item: &Item,
    scales: &RiskConfig,
    diags: &mut Diagnostics,
) -> RiskScore {
    let before = assess(&item.node, None, item, scales, diags);
    match &before {
        Some(_) => {}
        None => {
            let missing = if item.node.get("severity").is_none() {
                "a `severity`"
            } else {
                "an `exploitability` or `cvss` vector"
            };
            // A level in error was already reported; only a missing one is news.
            if item.node.get("severity").is_none()
                || (item.node.get("exploitability").is_none() && item.node.get("cvss").is_none())
            {
                diags.push(
                    Diagnostic::new(
                        code::RISK_UNSCORED,
                        format!("{} has no score: it needs {missing}", item.id),
                    )
                    .at(item.span_of("id"))
                    .item(&item.id)
                    .help(format!("severity levels: {}", scales.severity.join(", "))),
                );
            }
        }
    }
    let after = match item.node.get("residual") {
        Some((_, residual)) => before
            .as_ref()
            .and_then(|b| assess(residual, Some(b), item, scales, diags)),
        None => before.clone(),
    };
    RiskScore {
        item: index,
        before,
        after,
    }
}

/// Scores one mapping (the risk itself, or its `residual`); missing fields come from
/// `inherit`.
fn assess(
    node: &Node,
    inherit: Option<&Level>,
    item: &Item,
    scales: &RiskConfig,
    diags: &mut Diagnostics,
) -> Option<Level> {
    let severity = match node.get("severity") {
        Some((_, v)) => level(v, "severity", &scales.severity, item, diags),
        None => inherit.map(|l| l.severity),
    };
    let scored = node.get("cvss").and_then(|(_, v)| vector(v, item, diags));
    if let (Some(s), Some((_, stored))) = (&scored, node.get("cvss_score")) {
        let value = match stored.value {
            Value::Int(n) => Some(n as f64),
            Value::Float(f) => Some(f),
            _ => None,
        };
        if let Some(value) = value.filter(|v| (v - s.score).abs() > 0.05) {
            diags.push(
                Diagnostic::new(
                    code::CVSS_MISMATCH,
                    format!(
                        "`cvss_score` is {value} but the CVSS {} vector scores {}",
                        s.version,
                        cvss::one_decimal(s.score)
                    ),
                )
                .at(stored.span)
                .item(&item.id)
                .help(format!(
                    "write `cvss_score: {}`, or correct the vector",
                    cvss::one_decimal(s.score)
                )),
            );
        }
    }
    let banded = scored.as_ref().map(|s| scales.band(s.exploitability));
    let explicit = node.get("exploitability").and_then(|(_, v)| {
        let l = level(v, "exploitability", &scales.exploitability, item, diags)?;
        if let (Some(b), Some(s)) = (banded, &scored) {
            if b != l {
                diags.push(
                    Diagnostic::new(
                        code::CVSS_MISMATCH,
                        format!(
                            "exploitability `{}` disagrees with the CVSS vector: its exploitability subscore {} falls in `{}`",
                            scales.exploitability[l],
                            cvss::one_decimal(s.exploitability),
                            scales.exploitability[b]
                        ),
                    )
                    .at(v.span)
                    .item(&item.id)
                    .help(format!("write `exploitability: {}`, drop it (the vector sets it), or change `cvss-bands`", scales.exploitability[b])),
                );
            }
        }
        Some(l)
    });
    let exploitability = explicit.or(banded).or_else(|| {
        // A residual with its own vector but a bad one must not inherit silently.
        if node.get("cvss").is_some() {
            None
        } else {
            inherit.map(|l| l.exploitability)
        }
    })?;
    let severity = severity?;
    let cvss = scored.or_else(|| {
        if node.get("exploitability").is_none() {
            inherit.and_then(|l| l.cvss.clone())
        } else {
            None
        }
    });
    Some(Level {
        severity,
        exploitability,
        cvss,
        acceptable: scales.is_acceptable(severity, exploitability),
    })
}

/// A level name on a scale; an unknown one is reported at its line.
fn level(
    v: &Node,
    what: &str,
    scale: &[String],
    item: &Item,
    diags: &mut Diagnostics,
) -> Option<usize> {
    let name = v.as_str()?;
    if let Some(i) = scale.iter().position(|s| s == name) {
        return Some(i);
    }
    let mut d = Diagnostic::new(
        code::RISK_UNKNOWN_LEVEL,
        format!("`{name}` is not a {what} level"),
    )
    .at(v.span)
    .item(&item.id);
    d = match did_you_mean(name, scale.iter().map(String::as_str)) {
        Some(s) => d.help(format!(
            "did you mean `{s}`? {what} levels, lowest first: {}",
            scale.join(", ")
        )),
        None => d.help(format!(
            "{what} levels, lowest first: {} (set in [preprocessor.qms.risk])",
            scale.join(", ")
        )),
    };
    diags.push(d);
    None
}

/// Parses a `cvss` field; a bad vector is reported at its line.
fn vector(v: &Node, item: &Item, diags: &mut Diagnostics) -> Option<cvss::Scored> {
    let text = v.as_str()?;
    match cvss::score(text) {
        Ok(s) => Some(s),
        Err(e) => {
            diags.push(
                Diagnostic::new(code::CVSS_INVALID, format!("invalid CVSS vector `{text}`: {e}"))
                    .at(v.span)
                    .item(&item.id)
                    .help("a CVSS v3.1 vector is CVSS:3.1/AV:_/AC:_/PR:_/UI:_/S:_/C:_/I:_/A:_; a v4.0 one CVSS:4.0/AV:_/AC:_/AT:_/PR:_/UI:_/VC:_/VI:_/VA:_/SC:_/SI:_/SA:_"),
            );
            None
        }
    }
}
