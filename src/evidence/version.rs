//! Version ordering for OSV ranges: SemVer 2.0 and the ecosystems' own rules.

use std::cmp::Ordering;

/// A version ordering, chosen by a package's ecosystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// SemVer 2.0 precedence; a leading `v` and missing minor/patch are tolerated
    /// (Go's `v1.2.3`, GitHub Actions' `v4`).
    Semver,
    /// PEP 440 (PyPI), for the common forms: release, a/b/rc, post, dev, epoch.
    Pep440,
    /// Maven's ComparableVersion, for the common forms (numbers, qualifiers such as
    /// alpha, beta, milestone, rc, snapshot, ga/final/release, sp).
    Maven,
    /// Dot- and dash-separated parts, numbers compared as numbers (RubyGems, NuGet).
    Natural,
}

/// Ecosystems whose versions can be ordered, for the "unknown ecosystem" hint.
pub(crate) const KNOWN: &[&str] = &[
    "crates.io",
    "npm",
    "Go",
    "Hex",
    "Pub",
    "Packagist",
    "GitHub Actions",
    "PyPI",
    "Maven",
    "RubyGems",
    "NuGet",
];

pub(crate) fn scheme_of(ecosystem: &str) -> Option<Scheme> {
    Some(match ecosystem {
        "crates.io" | "npm" | "Go" | "Hex" | "Pub" | "Packagist" | "GitHub Actions" => {
            Scheme::Semver
        }
        "PyPI" => Scheme::Pep440,
        "Maven" => Scheme::Maven,
        "RubyGems" | "NuGet" => Scheme::Natural,
        _ => return None,
    })
}

/// Compares two versions; `None` when either does not parse in the scheme.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Option<Ordering> {
    match scheme {
        Scheme::Semver => Some(parse_semver(a)?.cmp_precedence(&parse_semver(b)?)),
        Scheme::Pep440 => Some(pep440(a)?.cmp(&pep440(b)?)),
        Scheme::Maven => Some(maven_cmp(a, b)),
        Scheme::Natural => Some(dotted_cmp(a, b)),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Semver {
    pub(crate) major: u64,
    pub(crate) minor: u64,
    pub(crate) patch: u64,
    pub(crate) pre: Vec<String>,
}

impl Semver {
    fn cmp_precedence(&self, other: &Semver) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (x, y) in self.pre.iter().zip(&other.pre) {
                        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                            (Ok(a), Ok(b)) => a.cmp(&b),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            (Err(_), Err(_)) => x.cmp(y),
                        };
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}

/// `1.2.3-rc.1+build`; also `v1.2`, `1` (missing parts are 0). Build metadata is
/// ignored, as SemVer precedence says.
pub(crate) fn parse_semver(s: &str) -> Option<Semver> {
    let s = s.trim();
    let s = s.strip_prefix('v').unwrap_or(s);
    let s = s.split('+').next()?;
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, p.split('.').map(str::to_owned).collect::<Vec<_>>()),
        None => (s, Vec::new()),
    };
    if pre
        .iter()
        .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return None;
    }
    let nums: Vec<&str> = core.split('.').collect();
    if nums.is_empty() || nums.len() > 3 {
        return None;
    }
    let mut parts = [0u64; 3];
    for (i, n) in nums.iter().enumerate() {
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        parts[i] = n.parse().ok()?;
    }
    Some(Semver {
        major: parts[0],
        minor: parts[1],
        patch: parts[2],
        pre,
    })
}

/// A PEP 440 version as a sortable key: (epoch, release, pre, post, dev), each of the
/// last three a (rank, number) pair.
type Pep440Key = (u64, Vec<u64>, (u8, u64), (u8, u64), (u8, u64));

fn pep440(s: &str) -> Option<Pep440Key> {
    let s = s.trim().to_ascii_lowercase();
    let s = s
        .strip_prefix('v')
        .unwrap_or(&s)
        .split('+')
        .next()?
        .to_owned();
    let (epoch, rest) = match s.split_once('!') {
        Some((e, r)) => (e.parse().ok()?, r.to_owned()),
        None => (0, s),
    };
    let bytes = rest.as_bytes();
    let mut i = 0;
    let mut release = Vec::new();
    loop {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        release.push(rest[start..i].parse().ok()?);
        if i < bytes.len() && bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
        } else {
            break;
        }
    }
    while release.len() > 1 && release.last() == Some(&0) {
        release.pop();
    }
    let mut tail = rest[i..].trim_start_matches(['.', '-', '_']).to_owned();
    let mut take = |names: &[&str]| -> Option<u64> {
        for n in names {
            if let Some(r) = tail.strip_prefix(n) {
                let r = r.trim_start_matches(['.', '-', '_']);
                let digits: String = r.chars().take_while(char::is_ascii_digit).collect();
                let num = digits.parse().unwrap_or(0);
                tail = r[digits.len()..]
                    .trim_start_matches(['.', '-', '_'])
                    .to_owned();
                return Some(num);
            }
        }
        None
    };
    // Absent pre sorts after any pre-release, except that a dev release with no pre
    // sorts before all pre-releases of the same release.
    let pre = if let Some(n) = take(&["alpha", "a"]) {
        (1, n)
    } else if let Some(n) = take(&["beta", "b"]) {
        (2, n)
    } else if let Some(n) = take(&["rc", "c", "preview", "pre"]) {
        (3, n)
    } else {
        (4, 0)
    };
    let post = take(&["post", "rev", "r"]).map_or((0, 0), |n| (1, n));
    let dev = take(&["dev"]).map_or((1, 0), |n| (0, n));
    if !tail.is_empty() {
        return None;
    }
    let pre = if pre.0 == 4 && dev.0 == 0 && post.0 == 0 {
        (0, 0)
    } else {
        pre
    };
    Some((epoch, release, pre, post, dev))
}

/// Maven ComparableVersion, simplified: split on `.`, `-` and digit/letter changes;
/// numbers compare numerically; qualifiers rank alpha < beta < milestone < rc <
/// snapshot < "" (= ga, final, release) < sp; unknown qualifiers sort after sp,
/// alphabetically; trailing zero and "" items are dropped.
pub(crate) fn maven_cmp(a: &str, b: &str) -> Ordering {
    #[derive(PartialEq, Eq, PartialOrd, Ord, Debug)]
    enum Part {
        Qual(u8, String),
        Num(u64),
    }
    fn parts(s: &str) -> Vec<Part> {
        let s = s.trim().to_ascii_lowercase();
        let mut out = Vec::new();
        let mut cur = String::new();
        let flush = |cur: &mut String, out: &mut Vec<Part>| {
            if cur.is_empty() {
                return;
            }
            let p = match cur.parse::<u64>() {
                Ok(n) => Part::Num(n),
                Err(_) => {
                    let q = match cur.as_str() {
                        "a" | "alpha" => (0, String::new()),
                        "b" | "beta" => (1, String::new()),
                        "m" | "milestone" => (2, String::new()),
                        "rc" | "cr" => (3, String::new()),
                        "snapshot" => (4, String::new()),
                        "ga" | "final" | "release" => (5, String::new()),
                        "sp" => (6, String::new()),
                        other => (7, other.to_owned()),
                    };
                    Part::Qual(q.0, q.1)
                }
            };
            out.push(p);
            cur.clear();
        };
        for ch in s.chars() {
            if ch == '.' || ch == '-' || ch == '_' {
                flush(&mut cur, &mut out);
            } else if !cur.is_empty()
                && cur.chars().last().is_some_and(|c| c.is_ascii_digit()) != ch.is_ascii_digit()
            {
                flush(&mut cur, &mut out);
                cur.push(ch);
            } else {
                cur.push(ch);
            }
        }
        flush(&mut cur, &mut out);
        while matches!(out.last(), Some(Part::Num(0)) | Some(Part::Qual(5, _))) {
            out.pop();
        }
        out
    }
    let (pa, pb) = (parts(a), parts(b));
    let n = pa.len().max(pb.len());
    for i in 0..n {
        // A missing part is 0 against a number and "" (release) against a qualifier.
        let o = match (pa.get(i), pb.get(i)) {
            (Some(x), Some(y)) => match (x, y) {
                (Part::Num(_), Part::Qual(..)) => Ordering::Greater,
                (Part::Qual(..), Part::Num(_)) => Ordering::Less,
                _ => x.cmp(y),
            },
            (Some(Part::Num(n)), None) => n.cmp(&0),
            (None, Some(Part::Num(n))) => 0.cmp(n),
            (Some(Part::Qual(q, s)), None) => (*q, s.as_str()).cmp(&(5, "")),
            (None, Some(Part::Qual(q, s))) => (5, "").cmp(&(*q, s.as_str())),
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Parts split on `.`, `-`, `+` and `_`; numeric parts compare as numbers and rank
/// above text parts (so 1.0 > 1.0.rc1 is not assumed; 1.0.a < 1.0.1).
fn dotted_cmp(a: &str, b: &str) -> Ordering {
    let split = |s: &str| -> Vec<String> {
        let s = s.trim();
        s.strip_prefix('v')
            .unwrap_or(s)
            .split(['.', '-', '+', '_'])
            .map(str::to_owned)
            .collect()
    };
    let (pa, pb) = (split(a), split(b));
    for i in 0..pa.len().max(pb.len()) {
        let o = match (pa.get(i), pb.get(i)) {
            (Some(x), Some(y)) => match (x.parse::<u64>(), y.parse::<u64>()) {
                (Ok(m), Ok(n)) => m.cmp(&n),
                (Ok(_), Err(_)) => Ordering::Greater,
                (Err(_), Ok(_)) => Ordering::Less,
                _ => x.cmp(y),
            },
            // 1.0 < 1.0.1, but 1.0.pre < 1.0
            (Some(x), None) => {
                if x.parse::<u64>().is_ok() {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (None, Some(y)) => {
                if y.parse::<u64>().is_ok() {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (None, None) => Ordering::Equal,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}
