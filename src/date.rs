//! Calendar days and moments in time without a date crate: `Day` (`YYYY-MM-DD`, days
//! since 1970-01-01, proleptic Gregorian, Howard Hinnant's algorithms) and [`Timestamp`]
//! (seconds since 1970-01-01T00:00:00Z, RFC 3339). Every stage that compares or prints
//! dates uses them: history (commit times), risk (review dates), evidence (end of
//! support, VEX and test-result dates, TPLC measures) and the outputs' timestamps.

use std::cmp::Ordering;
use std::fmt;

const SECONDS_PER_DAY: i64 = 86_400;

/// A calendar day, as days since 1970-01-01. Ordered; the difference of two days is a
/// number of days; shown as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i64);

impl Day {
    /// The day `days` after 1970-01-01 (before it when negative).
    #[cfg(test)]
    pub(crate) const fn from_days_since_epoch(days: i64) -> Day {
        Day(days)
    }

    /// A `YYYY-MM-DD` date (month 1-12, day 1-31); `None` for anything else.
    pub fn parse(s: &str) -> Option<Day> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let y: i64 = s[..4].parse().ok()?;
        let m: i64 = s[5..7].parse().ok()?;
        let d: i64 = s[8..10].parse().ok()?;
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return None;
        }
        Some(Day::from_civil(y, m, d))
    }

    /// The day of year `y`, month `m` (1-12), day `d`.
    fn from_civil(y: i64, m: i64, d: i64) -> Day {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Day(era * 146_097 + doe - 719_468)
    }

    /// The same day of the month `months` months earlier, or the last day of that month
    /// when it is shorter (2026-03-31 less one month is 2026-02-28).
    pub fn months_before(self, months: u32) -> Day {
        let (y, m, d) = self.civil();
        let index = y * 12 + i64::from(m) - 1 - i64::from(months);
        let (y, m) = (index.div_euclid(12), index.rem_euclid(12) + 1);
        let first = Day::from_civil(y, m, 1);
        let next = if m == 12 {
            Day::from_civil(y + 1, 1, 1)
        } else {
            Day::from_civil(y, m + 1, 1)
        };
        Day(first.0 + i64::from(d).min(next.0 - first.0) - 1)
    }

    /// Today (UTC), or `MDBOOK_QMS_TODAY` when set to a date, so that a check can be
    /// reproduced as of a given day.
    pub(crate) fn today() -> Day {
        Day::today_override().unwrap_or_else(|| Timestamp::now().day())
    }

    /// `MDBOOK_QMS_TODAY`, when set to a `YYYY-MM-DD` date.
    pub(crate) fn today_override() -> Option<Day> {
        Day::parse(&std::env::var("MDBOOK_QMS_TODAY").ok()?)
    }

    /// How many days after `earlier` this day is (negative when it is before).
    pub fn days_since(self, earlier: Day) -> i64 {
        self.0 - earlier.0
    }

    /// Year, month and day.
    fn civil(self) -> (i64, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (if m <= 2 { y + 1 } else { y }, m, d)
    }
}

impl fmt::Display for Day {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// A moment: seconds since 1970-01-01T00:00:00Z, and the UTC offset (in minutes) it is
/// shown with, when it has one (a commit's author time). Two timestamps are equal and
/// ordered as moments, whatever their offsets.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp {
    secs: i64,
    offset_minutes: Option<i32>,
}

impl Timestamp {
    /// A moment shown in UTC (`...Z`).
    pub const fn utc(secs: i64) -> Timestamp {
        Timestamp {
            secs,
            offset_minutes: None,
        }
    }

    /// A moment shown in local time with its offset (`...+01:00`), as git records it.
    pub(crate) const fn with_offset(secs: i64, offset_minutes: i32) -> Timestamp {
        Timestamp {
            secs,
            offset_minutes: Some(offset_minutes),
        }
    }

    /// Now, from the system clock.
    pub fn now() -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Timestamp::utc(secs as i64)
    }

    /// `SOURCE_DATE_EPOCH`, the reproducible-builds convention for "now" in outputs.
    pub(crate) fn source_date_epoch() -> Option<Timestamp> {
        let secs = std::env::var("SOURCE_DATE_EPOCH")
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some(Timestamp::utc(secs))
    }

    /// Parses `2026-11-24T02:00:00Z`, `2026-11-24T02:00:00.123+01:00`,
    /// `2026-11-24T02:00:00` (UTC assumed), `2026-11-24 02:00:00` or `2026-11-24`
    /// (midnight UTC). The moment is kept, shown in UTC; fractions of a second are dropped.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        let day = Day::parse(s.get(..10)?)?;
        let midnight = day.0 * SECONDS_PER_DAY;
        let rest = s.get(10..).unwrap_or("");
        if rest.is_empty() {
            return Some(Timestamp::utc(midnight));
        }
        let rest = rest.strip_prefix(['T', ' '])?;
        let hms = rest.get(..8)?;
        let mut parts = hms.split(':').map(|p| p.parse::<i64>().ok());
        let (h, m, sec) = (parts.next()??, parts.next()??, parts.next()??);
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        let mut tail = &rest[8..];
        if let Some(frac) = tail.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            tail = &frac[digits..];
        }
        let offset = match tail {
            "" | "Z" | "z" => 0,
            t if (t.starts_with('+') || t.starts_with('-')) && t.len() == 6 && &t[3..4] == ":" => {
                let sign = if t.starts_with('-') { -1 } else { 1 };
                let oh: i64 = t[1..3].parse().ok()?;
                let om: i64 = t[4..6].parse().ok()?;
                sign * (oh * 3600 + om * 60)
            }
            _ => return None,
        };
        Some(Timestamp::utc(midnight + h * 3600 + m * 60 + sec - offset))
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub(crate) fn secs(self) -> i64 {
        self.secs
    }

    /// The seconds since 1970 of the local time (UTC plus the offset).
    fn local_secs(self) -> i64 {
        self.secs + i64::from(self.offset_minutes.unwrap_or(0)) * 60
    }

    /// The day of this moment where it is shown (UTC, or the local day with an offset).
    pub(crate) fn day(self) -> Day {
        Day(self.local_secs().div_euclid(SECONDS_PER_DAY))
    }

    /// Year, month, day, hour, minute and second in UTC (for a PDF's dates).
    pub(crate) fn utc_parts(self) -> (i64, u32, u32, u32, u32, u32) {
        let (y, m, d) = Day(self.secs.div_euclid(SECONDS_PER_DAY)).civil();
        let rem = self.secs.rem_euclid(SECONDS_PER_DAY) as u32;
        (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
    }

    /// RFC 3339: `2026-11-28T12:05:00Z`, or `2026-11-28T13:05:00+01:00` with an offset.
    pub fn rfc3339(self) -> String {
        let rem = self.local_secs().rem_euclid(SECONDS_PER_DAY);
        let zone = match self.offset_minutes {
            None => "Z".to_owned(),
            Some(minutes) => {
                let sign = if minutes < 0 { '-' } else { '+' };
                let off = minutes.unsigned_abs();
                format!("{sign}{:02}:{:02}", off / 60, off % 60)
            }
        };
        format!(
            "{}T{:02}:{:02}:{:02}{zone}",
            self.day(),
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

impl PartialEq for Timestamp {
    fn eq(&self, other: &Self) -> bool {
        self.secs == other.secs
    }
}

impl Eq for Timestamp {}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.secs.cmp(&other.secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_before_keeps_the_day_or_takes_the_month_end() {
        let at = |s: &str, n| Day::parse(s).unwrap().months_before(n).to_string();
        assert_eq!(at("2026-12-03", 12), "2025-12-03");
        assert_eq!(at("2026-03-31", 1), "2026-02-28");
        assert_eq!(at("2024-03-31", 1), "2024-02-29");
        assert_eq!(at("2026-01-15", 1), "2025-12-15");
        assert_eq!(at("2026-05-31", 17), "2024-12-31");
    }

    #[test]
    fn days_and_dates_round_trip() {
        let day = |n| Day::from_days_since_epoch(n).to_string();
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(20_512), "2026-02-28");
        assert_eq!(day(11_016), "2000-02-29");
        assert_eq!(day(-1), "1969-12-31");
        for days in [-1000, 0, 59, 60, 11_016, 20_512, 40_000] {
            assert_eq!(Day::parse(&day(days)), Some(Day(days)));
        }
        assert_eq!(Day::parse("2026-13-01"), None);
        assert_eq!(Day::parse("2026-2-28"), None);
        let (a, b) = (Day::parse("2026-02-28"), Day::parse("2026-03-01"));
        assert!(a < b);
        assert_eq!(b.unwrap().days_since(a.unwrap()), 1);
    }

    #[test]
    fn timestamps_show_utc_or_their_offset() {
        let t = Timestamp::parse("2026-11-27T09:15:02.5+01:00").unwrap();
        assert_eq!(t, Timestamp::parse("2026-11-27T08:15:02Z").unwrap());
        assert_eq!(t.rfc3339(), "2026-11-27T08:15:02Z");
        let local = Timestamp::with_offset(t.secs(), -90);
        assert_eq!(local.rfc3339(), "2026-11-27T06:45:02-01:30");
        assert_eq!(
            Timestamp::with_offset(0, 0).rfc3339(),
            "1970-01-01T00:00:00+00:00"
        );
        // The day is the local one: 23:30 UTC is the next day at +01:00.
        let late = Timestamp::parse("2026-11-27T23:30:00Z").unwrap();
        assert_eq!(late.day().to_string(), "2026-11-27");
        assert_eq!(
            Timestamp::with_offset(late.secs(), 60).day().to_string(),
            "2026-11-28"
        );
        assert_eq!(Timestamp::utc(-1).rfc3339(), "1969-12-31T23:59:59Z");
        assert_eq!(Timestamp::parse("2026-11-24T02:00"), None);
    }
}
