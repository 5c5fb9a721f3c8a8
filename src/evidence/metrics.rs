//! TPLC measures the FDA asks for, from the dates of vulnerability items: the share of
//! identified vulnerabilities that are patched, the mean time from identification to
//! patch, and from patch to deployment.

use crate::date::Day;
use crate::linked::Linked;

/// Total-product-life-cycle measures over the vulnerability items (FDA's TPLC metrics).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tplc {
    /// Vulnerabilities that need a patch: status `affected` or `fixed`, or a `patched` date.
    pub needing_patch: usize,
    /// Of those, the ones with a `patched` date or status `fixed`.
    pub patched: usize,
    /// Mean days from `identified` to `patched`, and over how many vulnerabilities.
    pub identify_to_patch: Option<f64>,
    /// How many vulnerabilities `identify_to_patch` averages over.
    pub identify_to_patch_n: usize,
    /// Mean days from `patched` to `deployed`, and over how many.
    pub patch_to_deploy: Option<f64>,
    /// How many vulnerabilities `patch_to_deploy` averages over.
    pub patch_to_deploy_n: usize,
    /// Every vulnerability item.
    pub total: usize,
}

impl Tplc {
    pub(crate) fn patched_percent(&self) -> Option<f64> {
        (self.needing_patch > 0).then(|| self.patched as f64 * 100.0 / self.needing_patch as f64)
    }
}

/// Measures the project's vulnerability items as of `project.today`.
pub fn compute(project: &Linked) -> Tplc {
    let mut t = Tplc::default();
    let (mut sum1, mut sum2) = (0i64, 0i64);
    for (i, item) in project.items.iter().enumerate() {
        if item.ty != "vulnerability" || !project.is_primary(i) {
            continue;
        }
        t.total += 1;
        let date = |k: &str| item.text(k).and_then(Day::parse);
        let (identified, patched, deployed) =
            (date("identified"), date("patched"), date("deployed"));
        let status = item.text("status").unwrap_or("");
        if matches!(status, "affected" | "fixed") || patched.is_some() {
            t.needing_patch += 1;
            if patched.is_some() || status == "fixed" {
                t.patched += 1;
            }
        }
        if let (Some(a), Some(b)) = (identified, patched) {
            if b >= a {
                sum1 += b.days_since(a);
                t.identify_to_patch_n += 1;
            }
        }
        if let (Some(a), Some(b)) = (patched, deployed) {
            if b >= a {
                sum2 += b.days_since(a);
                t.patch_to_deploy_n += 1;
            }
        }
    }
    if t.identify_to_patch_n > 0 {
        t.identify_to_patch = Some(sum1 as f64 / t.identify_to_patch_n as f64);
    }
    if t.patch_to_deploy_n > 0 {
        t.patch_to_deploy = Some(sum2 as f64 / t.patch_to_deploy_n as f64);
    }
    t
}
