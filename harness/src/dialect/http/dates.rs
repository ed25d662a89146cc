//! The dates warning headers carry, as `YYYY-MM-DD` for reasons: an HTTP-date (Sunset, RFC
//! 8594) or a structured-field date `@seconds` (Deprecation, RFC 9745), or a date written in a
//! `Warning` text.

use chrono::{DateTime, Utc};

/// The calendar date `value` of header `name` gives, if it gives one.
pub fn date_in(name: &str, value: &str) -> Option<String> {
    let value = value.trim();
    if let Some(seconds) = value.strip_prefix('@') {
        let at = DateTime::<Utc>::from_timestamp(seconds.parse().ok()?, 0)?;
        return Some(at.format("%Y-%m-%d").to_string());
    }
    if let Ok(at) = DateTime::parse_from_rfc2822(value) {
        return Some(at.with_timezone(&Utc).format("%Y-%m-%d").to_string());
    }
    // `Warning: 299 - "..." "Thu, 01 Jan 2026 00:00:00 GMT"`: the quoted warn-date.
    if name.eq_ignore_ascii_case("warning") {
        return value
            .split('"')
            .filter_map(|part| DateTime::parse_from_rfc2822(part.trim()).ok())
            .map(|at| at.with_timezone(&Utc).format("%Y-%m-%d").to_string())
            .next();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_dates_warning_headers_carry() {
        assert_eq!(
            date_in("Deprecation", "@1767225600").as_deref(),
            Some("2026-01-01")
        );
        assert_eq!(
            date_in("Sunset", "Thu, 01 Jan 2026 00:00:00 GMT").as_deref(),
            Some("2026-01-01")
        );
        assert_eq!(
            date_in(
                "Warning",
                r#"299 - "going away" "Sat, 31 Jan 2026 12:00:00 GMT""#
            )
            .as_deref(),
            Some("2026-01-31")
        );
        assert_eq!(date_in("Deprecation", "true"), None);
        assert_eq!(date_in("Sunset", "@x"), None);
    }
}
