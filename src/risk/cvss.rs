//! CVSS vectors: parsed and scored with the RustSec `cvss` crate, plus the
//! exploitability subscore the risk matrix is banded on.

use std::str::FromStr;

/// A parsed, scored vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// "3.0", "3.1" or "4.0".
    pub version: &'static str,
    /// The base score (v3) or the CVSS-B/BT/BE/BTE score (v4), 0.0 to 10.0.
    pub score: f64,
    /// The exploitability subscore, 0.1 to 3.9.
    pub exploitability: f64,
    /// The vector as written (trimmed), for documents that show it beside the score.
    pub vector: String,
}

/// Parses and scores a vector; the error says what is wrong with it.
pub fn score(vector: &str) -> Result<Scored, String> {
    let parsed = cvss::Cvss::from_str(vector.trim()).map_err(|e| e.to_string())?;
    match &parsed {
        cvss::Cvss::CvssV30(v) | cvss::Cvss::CvssV31(v) => Ok(Scored {
            version: if matches!(parsed, cvss::Cvss::CvssV30(_)) {
                "3.0"
            } else {
                "3.1"
            },
            score: v.score().value(),
            exploitability: v.exploitability().value(),
            vector: vector.trim().to_owned(),
        }),
        cvss::Cvss::CvssV40(v) => Ok(Scored {
            version: "4.0",
            score: v.score().value(),
            exploitability: v4_exploitability(vector),
            vector: vector.trim().to_owned(),
        }),
        _ => Err("only CVSS v3.0, v3.1 and v4.0 vectors are supported".into()),
    }
}

/// CVSS v4.0 has no exploitability subscore, so the v3.1 formula
/// (8.22 x AV x AC x PR x UI) is applied to the v4.0 base exploitability metrics with the
/// v3.1 weights: Attack Requirements Present counts as high complexity, and both Passive
/// and Active user interaction as Required. One banding then serves both versions.
/// Only called on a vector the crate accepted, so every metric is present and valid.
fn v4_exploitability(vector: &str) -> f64 {
    let metric = |name: &str| {
        vector
            .split('/')
            .filter_map(|part| part.split_once(':'))
            .find(|(k, _)| *k == name)
            .map_or("", |(_, v)| v)
    };
    let av = match metric("AV") {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        _ => 0.2,
    };
    let ac = if metric("AC") == "H" || metric("AT") == "P" {
        0.44
    } else {
        0.77
    };
    let pr = match metric("PR") {
        "N" => 0.85,
        "L" => 0.62,
        _ => 0.27,
    };
    let ui = if metric("UI") == "N" { 0.85 } else { 0.62 };
    8.22 * av * ac * pr * ui
}

/// One decimal, as CVSS scores are written.
pub fn one_decimal(x: f64) -> String {
    format!("{:.1}", (x * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v31_scores_and_subscore() {
        let s = score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert_eq!((s.version, s.score), ("3.1", 9.8));
        assert_eq!(one_decimal(s.exploitability), "3.9");
        let s = score("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N").unwrap();
        assert_eq!(one_decimal(s.exploitability), "0.1");
    }

    #[test]
    fn v40_scores() {
        let s = score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert_eq!((s.version, s.score), ("4.0", 9.3));
        assert_eq!(one_decimal(s.exploitability), "3.9");
    }

    #[test]
    fn bad_vectors() {
        assert!(score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").is_err());
        assert!(score("CVSS:4.0/AV:N").is_err());
        assert!(score("nonsense").is_err());
    }
}
