//! The poll's timestamp: ISO 8601 in UTC with a `Z` (a `+00:00` would need its `+` escaped, and a
//! raw `+` reads as a space at the server).

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for a Unix time in seconds and microseconds.
pub fn iso8601_utc(unix_s: u64, micros: u32) -> String {
    let (year, month, day, h, m, sec) = crate::clock::civil_utc(unix_s);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{sec:02}.{:06}Z", micros.min(999_999))
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
