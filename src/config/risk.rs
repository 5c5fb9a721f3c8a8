//! `[preprocessor.qms.risk]`: the severity and exploitability scales, the acceptability
//! matrix and the CVSS exploitability bands, read by hand so that every problem is
//! reported at its place in `book.toml`.

use toml::de::DeValue;
use toml::Spanned;

use crate::diag::{code, did_you_mean, Diagnostic, Diagnostics};
use crate::source::Span;

/// Keys of `[preprocessor.qms.risk]`.
pub(crate) const KEYS: &[&str] = &["severity", "exploitability", "matrix", "cvss-bands"];

/// ISO 14971 harm, lowest first.
pub(crate) const DEFAULT_SEVERITY: &[&str] =
    &["negligible", "minor", "serious", "critical", "catastrophic"];
/// Exploitability, lowest first.
pub(crate) const DEFAULT_EXPLOITABILITY: &[&str] =
    &["very-low", "low", "medium", "high", "very-high"];
/// Lowest CVSS exploitability subscore of each default level above the first (the
/// subscore runs from 0.1 to 3.9).
pub(crate) const DEFAULT_BANDS: &[f64] = &[0.5, 1.0, 2.0, 3.0];

/// The risk scales of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskConfig {
    /// Severity levels, lowest first.
    pub severity: Vec<String>,
    /// Exploitability levels, lowest first.
    pub exploitability: Vec<String>,
    /// `acceptable[severity][exploitability]`.
    pub(crate) acceptable: Vec<Vec<bool>>,
    /// `bands[k]` is the lowest exploitability subscore of level `k + 1`.
    pub(crate) bands: Vec<f64>,
}

impl Default for RiskConfig {
    fn default() -> Self {
        let severity: Vec<String> = DEFAULT_SEVERITY.iter().map(|s| s.to_string()).collect();
        let exploitability: Vec<String> = DEFAULT_EXPLOITABILITY
            .iter()
            .map(|s| s.to_string())
            .collect();
        RiskConfig {
            acceptable: default_matrix(severity.len(), exploitability.len()),
            severity,
            exploitability,
            bands: DEFAULT_BANDS.to_vec(),
        }
    }
}

impl RiskConfig {
    pub(crate) fn is_acceptable(&self, severity: usize, exploitability: usize) -> bool {
        self.acceptable
            .get(severity)
            .and_then(|row| row.get(exploitability))
            .copied()
            .unwrap_or(false)
    }

    /// The exploitability level a CVSS exploitability subscore falls in.
    pub fn band(&self, subscore: f64) -> usize {
        self.bands.iter().take_while(|&&t| subscore >= t).count()
    }
}

/// A cell is acceptable when severity and exploitability, each scaled to 0..1, add up to
/// at most 1: the anti-diagonal of the matrix and everything below it.
pub(crate) fn default_matrix(severities: usize, exploitabilities: usize) -> Vec<Vec<bool>> {
    let (s_max, e_max) = (
        severities.saturating_sub(1).max(1),
        exploitabilities.saturating_sub(1).max(1),
    );
    (0..severities)
        .map(|s| {
            (0..exploitabilities)
                .map(|e| s * e_max + e * s_max <= s_max * e_max)
                .collect()
        })
        .collect()
}

/// Bands spread evenly over the subscore's range, for a scale without `cvss-bands`.
pub(crate) fn default_bands(levels: usize) -> Vec<f64> {
    if levels == DEFAULT_EXPLOITABILITY.len() {
        return DEFAULT_BANDS.to_vec();
    }
    (1..levels)
        .map(|k| ((k as f64 * 3.9 / levels as f64) * 10.0).round() / 10.0)
        .collect()
}

/// Reads the `risk` table; problems are reported and defaults kept for the values in error.
pub(crate) fn parse(
    value: &Spanned<DeValue<'_>>,
    span: &dyn Fn(std::ops::Range<usize>) -> Span,
    diags: &mut Diagnostics,
) -> RiskConfig {
    let mut config = RiskConfig::default();
    let DeValue::Table(table) = value.get_ref() else {
        diags.push(Diagnostic::new(code::CONFIG_SYNTAX, "expected a table").at(span(value.span())));
        return config;
    };
    let mut matrix = None;
    let mut bands = None;
    for (key, v) in table.iter() {
        let name = key.get_ref().as_ref();
        match name {
            "severity" | "exploitability" => {
                if let Some(levels) = levels(v, name, span, diags) {
                    if name == "severity" {
                        config.severity = levels;
                    } else {
                        config.exploitability = levels;
                    }
                }
            }
            "matrix" => matrix = Some(v),
            "cvss-bands" => bands = Some(v),
            _ => {
                let mut d = Diagnostic::new(
                    code::CONFIG_UNKNOWN_KEY,
                    format!("unknown key `{name}` in [preprocessor.qms.risk]"),
                )
                .at(span(key.span()));
                d = match did_you_mean(name, KEYS.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("known keys: {}", KEYS.join(", "))),
                };
                diags.push(d);
            }
        }
    }
    config.acceptable = match matrix {
        Some(m) => read_matrix(m, &config, span, diags),
        None => None,
    }
    .unwrap_or_else(|| default_matrix(config.severity.len(), config.exploitability.len()));
    config.bands = match bands {
        Some(b) => read_bands(b, config.exploitability.len(), span, diags),
        None => None,
    }
    .unwrap_or_else(|| default_bands(config.exploitability.len()));
    config
}

/// A scale: a non-empty list of distinct strings.
fn levels(
    v: &Spanned<DeValue<'_>>,
    name: &str,
    span: &dyn Fn(std::ops::Range<usize>) -> Span,
    diags: &mut Diagnostics,
) -> Option<Vec<String>> {
    let bad = |msg: String| Diagnostic::new(code::RISK_CONFIG, msg).at(span(v.span()));
    let DeValue::Array(list) = v.get_ref() else {
        diags.push(bad(format!(
            "`{name}` must be a list of level names, lowest first"
        )));
        return None;
    };
    let mut out: Vec<String> = Vec::new();
    for item in list {
        let DeValue::String(s) = item.get_ref() else {
            diags.push(
                Diagnostic::new(code::RISK_CONFIG, "a level name must be a string")
                    .at(span(item.span())),
            );
            return None;
        };
        if out.iter().any(|o| o == s.as_ref()) {
            diags.push(
                Diagnostic::new(
                    code::RISK_CONFIG,
                    format!("level `{s}` appears twice in `{name}`"),
                )
                .at(span(item.span())),
            );
            return None;
        }
        out.push(s.to_string());
    }
    if out.is_empty() {
        diags.push(bad(format!("`{name}` needs at least one level")));
        return None;
    }
    Some(out)
}

/// `matrix`: one row per severity level (lowest first), each one cell per exploitability
/// level (lowest first), each cell "acceptable" or "unacceptable".
fn read_matrix(
    v: &Spanned<DeValue<'_>>,
    config: &RiskConfig,
    span: &dyn Fn(std::ops::Range<usize>) -> Span,
    diags: &mut Diagnostics,
) -> Option<Vec<Vec<bool>>> {
    let shape = format!(
        "{} rows (severity: {}), each with {} cells (exploitability: {})",
        config.severity.len(),
        config.severity.join(", "),
        config.exploitability.len(),
        config.exploitability.join(", ")
    );
    let DeValue::Array(rows) = v.get_ref() else {
        diags.push(
            Diagnostic::new(code::RISK_CONFIG, "`matrix` must be a list of rows")
                .at(span(v.span()))
                .help(shape),
        );
        return None;
    };
    if rows.len() != config.severity.len() {
        diags.push(
            Diagnostic::new(
                code::RISK_CONFIG,
                format!(
                    "`matrix` has {} rows but the severity scale has {} levels",
                    rows.len(),
                    config.severity.len()
                ),
            )
            .at(span(v.span()))
            .help(format!("expected {shape}")),
        );
        return None;
    }
    let mut out = Vec::with_capacity(rows.len());
    for (s, row) in rows.iter().enumerate() {
        let DeValue::Array(cells) = row.get_ref() else {
            diags.push(
                Diagnostic::new(code::RISK_CONFIG, "a `matrix` row must be a list of cells")
                    .at(span(row.span()))
                    .help(shape),
            );
            return None;
        };
        if cells.len() != config.exploitability.len() {
            diags.push(
                Diagnostic::new(
                    code::RISK_CONFIG,
                    format!(
                        "`matrix` row {} ({}) has {} cells but the exploitability scale has {} levels",
                        s + 1,
                        config.severity[s],
                        cells.len(),
                        config.exploitability.len()
                    ),
                )
                .at(span(row.span()))
                .help(format!("expected {shape}")),
            );
            return None;
        }
        let mut line = Vec::with_capacity(cells.len());
        for cell in cells {
            match cell.get_ref() {
                DeValue::String(c) if c == "acceptable" => line.push(true),
                DeValue::String(c) if c == "unacceptable" => line.push(false),
                _ => {
                    diags.push(
                        Diagnostic::new(
                            code::RISK_CONFIG,
                            "a `matrix` cell must be \"acceptable\" or \"unacceptable\"",
                        )
                        .at(span(cell.span())),
                    );
                    return None;
                }
            }
        }
        out.push(line);
    }
    Some(out)
}

/// `cvss-bands`: one increasing threshold per exploitability level above the first.
fn read_bands(
    v: &Spanned<DeValue<'_>>,
    levels: usize,
    span: &dyn Fn(std::ops::Range<usize>) -> Span,
    diags: &mut Diagnostics,
) -> Option<Vec<f64>> {
    let help = format!("give {} increasing exploitability subscores (0.1 to 3.9), the lowest of each level above the first", levels - 1);
    let DeValue::Array(list) = v.get_ref() else {
        diags.push(
            Diagnostic::new(code::RISK_CONFIG, "`cvss-bands` must be a list of numbers")
                .at(span(v.span()))
                .help(help),
        );
        return None;
    };
    if list.len() + 1 != levels {
        diags.push(
            Diagnostic::new(
                code::RISK_CONFIG,
                format!("`cvss-bands` has {} thresholds but the exploitability scale has {levels} levels", list.len()),
            )
            .at(span(v.span()))
            .help(help),
        );
        return None;
    }
    let mut out: Vec<f64> = Vec::new();
    for t in list {
        let n = match t.get_ref() {
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            DeValue::Integer(i) => i.as_str().parse::<f64>().ok(),
            _ => None,
        };
        let Some(n) = n.filter(|n| n.is_finite()) else {
            diags.push(
                Diagnostic::new(code::RISK_CONFIG, "a CVSS band threshold must be a number")
                    .at(span(t.span())),
            );
            return None;
        };
        if out.last().is_some_and(|&last| n <= last) {
            diags.push(
                Diagnostic::new(code::RISK_CONFIG, "`cvss-bands` thresholds must increase")
                    .at(span(t.span()))
                    .help(help),
            );
            return None;
        }
        out.push(n);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_matrix_is_the_lower_anti_diagonal() {
        let m = default_matrix(5, 5);
        assert!(m[0].iter().all(|&c| c));
        assert_eq!(m[4], [true, false, false, false, false]);
        assert_eq!(m[2], [true, true, true, false, false]);
    }

    #[test]
    fn bands() {
        let c = RiskConfig::default();
        assert_eq!(
            [
                c.band(0.12),
                c.band(0.5),
                c.band(1.8),
                c.band(2.835),
                c.band(3.887)
            ],
            [0, 1, 2, 3, 4]
        );
        assert_eq!(default_bands(3), [1.3, 2.6]);
    }
}
