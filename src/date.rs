//! Calendar dates without a date crate: `YYYY-MM-DD` text and days since 1970-01-01
//! (proleptic Gregorian, Howard Hinnant's algorithms). Shared by the stages that compare
//! dates: history (commit dates), risk (review dates), evidence (end of support, VEX and
//! test-result dates).

/// Today's date (UTC) as `YYYY-MM-DD`, or `MDBOOK_QMS_TODAY` when set to such a date, so
/// a check can be reproduced as of a given day.
pub fn today() -> String {
    if let Some(day) = today_override() {
        return day;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_days(secs as i64 / 86_400)
}

/// `MDBOOK_QMS_TODAY`, when set to a `YYYY-MM-DD` date.
pub fn today_override() -> Option<String> {
    std::env::var("MDBOOK_QMS_TODAY")
        .ok()
        .filter(|d| is_well_formed(d))
}

/// `DDDD-DD-DD`: the shape of a date, digits and dashes (the values are not checked).
pub fn is_well_formed(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
pub fn parse(s: &str) -> Option<i64> {
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
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Year, month and day of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
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

/// `YYYY-MM-DD` of a count of days since 1970-01-01.
pub fn format_days(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `SOURCE_DATE_EPOCH`, the reproducible-builds convention for "now" in outputs.
pub fn source_date_epoch() -> Option<i64> {
    std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()
}

/// Seconds since 1970 as an RFC 3339 UTC timestamp.
pub fn rfc3339(secs: i64) -> String {
    let rem = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        format_days(secs.div_euclid(86_400)),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_round_trip() {
        assert_eq!(format_days(0), "1970-01-01");
        assert_eq!(format_days(20_512), "2026-02-28");
        assert_eq!(format_days(11_016), "2000-02-29");
        assert_eq!(format_days(-1), "1969-12-31");
        for days in [-1000, 0, 59, 60, 11_016, 20_512, 40_000] {
            assert_eq!(parse(&format_days(days)), Some(days));
        }
        assert_eq!(parse("2026-13-01"), None);
        assert!(is_well_formed("2026-02-28") && !is_well_formed("2026-2-28"));
    }
}
