//! The poll's timestamp: ISO 8601 in UTC with a `Z` (a `+00:00` would need its `+` escaped, and a
//! raw `+` reads as a space at the server).

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for a Unix time in seconds and microseconds.
pub fn iso8601_utc(unix_s: u64, micros: u32) -> String {
    let days = (unix_s / 86_400) as i64;
    let secs = unix_s % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z", secs / 3600, secs / 60 % 60, secs % 60, micros.min(999_999))
}

#[cfg(test)]
mod tests {
    use super::iso8601_utc;

    #[test]
    fn dates_match_the_calendar() {
        assert_eq!(iso8601_utc(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(iso8601_utc(951_782_400, 5), "2000-02-29T00:00:00.000005Z");
        assert_eq!(iso8601_utc(1_796_513_529, 93_245), "2026-12-05T23:32:09.093245Z");
        assert_eq!(iso8601_utc(4_102_444_799, 0), "2099-12-31T23:59:59.000000Z");
    }
}
