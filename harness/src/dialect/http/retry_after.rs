//! Retry-After (RFC 9110 §10.2.3) as seconds to wait: delta-seconds, or an HTTP-date read
//! against the response's own Date (else the clock), so a recording's date in the past does
//! not turn into a wait.

use super::head::Head;
use chrono::{DateTime, Utc};

/// The longest wait a server can ask for that the harness keeps: a day.
const MAX_SECS: u64 = 24 * 60 * 60;

/// The seconds the response's Retry-After asks the client to wait, when it gives a readable one.
pub fn seconds(head: &Head) -> Option<u64> {
    let value = head.header("Retry-After")?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs.min(MAX_SECS));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    let now = head
        .header("Date")
        .and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok())
        .map_or_else(Utc::now, |d| d.with_timezone(&Utc));
    let wait = (at - now).num_seconds().max(0);
    Some((wait as u64).min(MAX_SECS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &str) -> Head {
        let text = format!("HTTP/1.1 429 Too Many Requests\r\n{headers}\r\n");
        super::super::head::parse(text.as_bytes(), false)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn reads_seconds_and_dates() {
        assert_eq!(seconds(&head("Retry-After: 120\r\n")), Some(120));
        assert_eq!(
            seconds(&head(
                "Date: Wed, 21 Oct 2015 07:28:00 GMT\r\nRetry-After: Wed, 21 Oct 2015 07:29:30 GMT\r\n"
            )),
            Some(90)
        );
        assert_eq!(
            seconds(&head(
                "Date: Wed, 21 Oct 2015 07:28:00 GMT\r\nRetry-After: Wed, 21 Oct 2015 07:00:00 GMT\r\n"
            )),
            Some(0),
            "a date in the past is no wait"
        );
        assert_eq!(
            seconds(&head("Retry-After: 99999999999\r\n")),
            Some(MAX_SECS)
        );
        assert_eq!(seconds(&head("Retry-After: soon\r\n")), None);
        assert_eq!(seconds(&head("")), None);
    }
}
