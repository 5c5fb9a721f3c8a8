//! What the risk stage computes: each risk's position before and after mitigation.

use super::cvss;
use crate::config::risk::RiskConfig;

/// A risk's position in the matrix at one point (before or after mitigation).
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// Index into [`RiskConfig::severity`].
    pub severity: usize,
    /// Index into [`RiskConfig::exploitability`].
    pub exploitability: usize,
    /// The vector's score, when the exploitability came from (or was checked against) one.
    pub cvss: Option<cvss::Scored>,
    /// Whether the project's risk matrix accepts this cell.
    pub acceptable: bool,
}

/// One risk item, scored.
#[derive(Debug, Clone)]
pub struct RiskScore {
    /// Index into `Project::items`.
    pub(crate) item: usize,
    /// The initial risk; `None` when the item's fields do not give one.
    pub before: Option<Level>,
    /// The residual risk: `residual` with missing fields taken from before, or the
    /// initial risk when there is no `residual`.
    pub after: Option<Level>,
}

/// What the risk stage computed.
#[derive(Debug, Clone, Default)]
pub struct RiskModel {
    /// The project's scales and acceptability matrix the scores use.
    pub scales: RiskConfig,
    /// By item index, ascending.
    pub(crate) risks: Vec<RiskScore>,
}

impl RiskModel {
    /// The score of the risk item at index `item`; `None` for other items.
    pub fn of(&self, item: usize) -> Option<&RiskScore> {
        self.risks
            .binary_search_by_key(&item, |r| r.item)
            .ok()
            .map(|i| &self.risks[i])
    }
}
