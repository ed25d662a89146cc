//! RFC 3339 timestamps for provenance.

use crate::date::Date;

/// `2026-11-25T20:31:02.123456Z` from nanoseconds since the Unix epoch.
pub fn rfc3339(nanos: u64) -> String {
    let secs = nanos / 1_000_000_000;
    let micros = (nanos % 1_000_000_000) / 1_000;
    let date = Date::from_days_since_epoch((secs / 86_400) as i64);
    let day = secs % 86_400;
    format!(
        "{date}T{:02}:{:02}:{:02}.{micros:06}Z",
        day / 3600,
        day % 3600 / 60,
        day % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc() {
        assert_eq!(
            super::rfc3339(1_066_262_400_500_000_000),
            "2003-10-16T00:00:00.500000Z"
        );
    }
}
