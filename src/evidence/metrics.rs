//! TPLC measures the FDA asks for, from the dates of vulnerability items, over a
//! reporting period that ends on the check's date (`metrics-period-months`, 12 by
//! default): the share of the vulnerabilities open in the period that are patched, the
//! mean time from identification to patch and from patch to deployment, the age of
//! every open vulnerability, and each patch against its own timeline in the plan (the
//! regular cycle, or the out-of-cycle deadline for a critical vulnerability).
//! Vulnerabilities assessed `not_affected` need no patch and are left out of every
//! measure.

use crate::date::Day;
use crate::linked::Linked;

/// The reporting period: `months` months up to and including `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The same day `months` months before `end`.
    pub start: Day,
    /// The check's date.
    pub end: Day,
    /// The configured length.
    pub months: u32,
}

impl Period {
    fn contains(&self, day: Day) -> bool {
        self.start <= day && day <= self.end
    }
}

/// A vulnerability not yet patched (`affected` or `under_investigation`).
#[derive(Debug, Clone, PartialEq)]
pub struct Open {
    /// The vulnerability item.
    pub item: usize,
    /// Its VEX status.
    pub status: String,
    /// Its `identified` date, when it has one.
    pub identified: Option<Day>,
    /// Days from `identified` to the end of the period.
    pub age_days: Option<i64>,
}

/// A vulnerability with `identified` and `patched` dates, against its timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// The vulnerability item.
    pub item: usize,
    /// Days from identification to patch.
    pub days: i64,
    /// Critical (CVSS base score 9.0 or more, or in the KEV catalogue): the out-of-cycle
    /// deadline applies; otherwise the regular cycle.
    pub critical: bool,
    /// The deadline in days, when the plan gives one mdbook-qms can read.
    pub target_days: Option<i64>,
    /// Whether the patch was released in the reporting period.
    pub in_period: bool,
}

/// The patch timelines of the plan (`plan` item with `topic: patching`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timelines {
    /// The plan item.
    pub plan: Option<usize>,
    /// `regular_cycle` as written, and in days when it names a period mdbook-qms reads.
    pub regular_cycle: Option<String>,
    /// The regular cycle in days.
    pub regular_days: Option<i64>,
    /// `out_of_cycle_days`.
    pub out_of_cycle_days: Option<i64>,
}

/// The TPLC measures of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct Tplc {
    /// The reporting period.
    pub period: Period,
    /// Every vulnerability item.
    pub total: usize,
    /// Vulnerability items assessed `not_affected`, left out of every measure.
    pub not_affected: usize,
    /// Vulnerabilities that needed a patch and were open at some time in the period:
    /// status `affected` or `fixed`, or a `patched` date, identified by its end and not
    /// patched before its start.
    pub needing_patch: usize,
    /// Of those, the ones patched by the end of the period (a `patched` date, or status
    /// `fixed`).
    pub patched: usize,
    /// Mean days from `identified` to `patched`, over the patches of the period.
    pub identify_to_patch: Option<f64>,
    /// How many patches that mean is over.
    pub identify_to_patch_n: usize,
    /// Mean days from `patched` to `deployed`, over the deployments of the period.
    pub patch_to_deploy: Option<f64>,
    /// How many deployments that mean is over.
    pub patch_to_deploy_n: usize,
    /// Every open vulnerability with its age, oldest first.
    pub open: Vec<Open>,
    /// Every patch, in item order, against its own timeline.
    pub patches: Vec<Patch>,
    /// The plan's timelines.
    pub timelines: Timelines,
}

impl Tplc {
    /// Patched of those needing a patch, in percent; `None` when none needed one.
    pub fn patched_percent(&self) -> Option<f64> {
        (self.needing_patch > 0).then(|| self.patched as f64 * 100.0 / self.needing_patch as f64)
    }
}

/// A regular cycle as written in the plan (`quarterly (app and cloud monthly)`, `every
/// 30 days`) in days: the first period word, or a number of days or weeks.
pub fn cycle_days(text: &str) -> Option<i64> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    for (n, word) in words.iter().enumerate() {
        let named = match word.as_str() {
            "weekly" => Some(7),
            "monthly" => Some(31),
            "quarterly" => Some(92),
            "half-yearly" | "semi-annually" | "semiannually" | "biannually" => Some(183),
            "yearly" | "annually" => Some(366),
            _ => None,
        };
        if named.is_some() {
            return named;
        }
        if let Ok(count) = word.parse::<i64>() {
            match words.get(n + 1).map(String::as_str) {
                Some("day" | "days") => return Some(count),
                Some("week" | "weeks") => return Some(count * 7),
                _ => {}
            }
        }
    }
    None
}

/// Critical for the out-of-cycle deadline: a CVSS base score of 9.0 or more, or listed
/// in the KEV catalogue.
fn is_critical(item: &crate::model::Item) -> bool {
    let kev = item.fields.get("kev") == Some(&serde_json::Value::Bool(true));
    let severe = item
        .text("cvss")
        .and_then(|v| crate::risk::cvss::score(v).ok())
        .is_some_and(|s| s.score >= 9.0);
    kev || severe
}

/// Whether a vulnerability is critical, and the days the plan gives to patch it: the
/// out-of-cycle deadline for a critical one, the regular cycle otherwise.
pub(crate) fn deadline(timelines: &Timelines, item: &crate::model::Item) -> (bool, Option<i64>) {
    let critical = is_critical(item);
    let days = if critical {
        timelines.out_of_cycle_days
    } else {
        timelines.regular_days
    };
    (critical, days)
}

fn timelines(project: &Linked) -> Timelines {
    let plan = (0..project.items.len()).find(|&i| {
        let item = &project.items[i];
        item.ty == "plan" && project.is_primary(i) && item.text("topic") == Some("patching")
    });
    let Some(plan) = plan else {
        return Timelines::default();
    };
    let item = &project.items[plan];
    let regular_cycle = item.text("regular_cycle").map(str::to_owned);
    Timelines {
        plan: Some(plan),
        regular_days: regular_cycle.as_deref().and_then(cycle_days),
        regular_cycle,
        out_of_cycle_days: item
            .fields
            .get("out_of_cycle_days")
            .and_then(serde_json::Value::as_i64),
    }
}

/// The measures for the period of `months` months ending on the project's date.
pub fn compute(project: &Linked) -> Tplc {
    let end = project.today;
    let months = project.config.metrics_period_months;
    let period = Period {
        start: end.months_before(months),
        end,
        months,
    };
    let timelines = timelines(project);
    let mut t = Tplc {
        period,
        total: 0,
        not_affected: 0,
        needing_patch: 0,
        patched: 0,
        identify_to_patch: None,
        identify_to_patch_n: 0,
        patch_to_deploy: None,
        patch_to_deploy_n: 0,
        open: Vec::new(),
        patches: Vec::new(),
        timelines,
    };
    let (mut to_patch, mut to_deploy) = (0i64, 0i64);
    for (i, item) in project.items.iter().enumerate() {
        if item.ty != "vulnerability" || !project.is_primary(i) {
            continue;
        }
        t.total += 1;
        let status = item.text("status").unwrap_or("");
        if status == "not_affected" {
            t.not_affected += 1;
            continue;
        }
        let date = |k: &str| item.text(k).and_then(Day::parse);
        let (identified, patched, deployed) =
            (date("identified"), date("patched"), date("deployed"));
        let needs_patch = matches!(status, "affected" | "fixed") || patched.is_some();
        let open_in_period =
            identified.is_none_or(|d| d <= end) && patched.is_none_or(|d| d >= period.start);
        if needs_patch && open_in_period {
            t.needing_patch += 1;
            if patched.is_some_and(|d| d <= end) || status == "fixed" {
                t.patched += 1;
            }
        }
        if patched.is_none() && matches!(status, "affected" | "under_investigation") {
            t.open.push(Open {
                item: i,
                status: status.to_owned(),
                identified,
                age_days: identified.map(|d| end.days_since(d)),
            });
        }
        if let (Some(a), Some(b)) = (identified, patched) {
            if b >= a {
                let (critical, target_days) = deadline(&t.timelines, item);
                let in_period = period.contains(b);
                if in_period {
                    to_patch += b.days_since(a);
                    t.identify_to_patch_n += 1;
                }
                t.patches.push(Patch {
                    item: i,
                    days: b.days_since(a),
                    critical,
                    target_days,
                    in_period,
                });
            }
        }
        if let (Some(a), Some(b)) = (patched, deployed) {
            if b >= a && period.contains(b) {
                to_deploy += b.days_since(a);
                t.patch_to_deploy_n += 1;
            }
        }
    }
    t.open.sort_by_key(|o| std::cmp::Reverse(o.age_days));
    if t.identify_to_patch_n > 0 {
        t.identify_to_patch = Some(to_patch as f64 / t.identify_to_patch_n as f64);
    }
    if t.patch_to_deploy_n > 0 {
        t.patch_to_deploy = Some(to_deploy as f64 / t.patch_to_deploy_n as f64);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::cycle_days;

    #[test]
    fn regular_cycles_in_days() {
        assert_eq!(cycle_days("quarterly (app and cloud monthly)"), Some(92));
        assert_eq!(cycle_days("Monthly"), Some(31));
        assert_eq!(cycle_days("every 45 days"), Some(45));
        assert_eq!(cycle_days("every 2 weeks"), Some(14));
        assert_eq!(cycle_days("when needed"), None);
    }
}
