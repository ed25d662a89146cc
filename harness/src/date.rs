//! Calendar dates (`YYYY-MM-DD`): policy phase boundaries and `--as-of`.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// A proleptic Gregorian calendar date; ordering is chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a date: expected YYYY-MM-DD, e.g. 2003-10-15")]
pub struct DateError {
    text: String,
}

impl Date {
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    /// Today's date in UTC.
    pub fn today() -> Date {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date::from_days_since_epoch((secs / 86_400) as i64)
    }

    /// Converts a day count since 1970-01-01 (civil-from-days, after H. Hinnant).
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl FromStr for Date {
    type Err = DateError;

    fn from_str(text: &str) -> Result<Date, DateError> {
        let err = || DateError {
            text: text.to_string(),
        };
        let mut parts = text.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(err());
        }
        let year = y.parse().map_err(|_| err())?;
        let month = m.parse().map_err(|_| err())?;
        let day = d.parse().map_err(|_| err())?;
        Date::new(year, month, day).ok_or_else(err)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A date in a TOML file, written as a TOML date (`2003-10-15`) or a string (`"2003-10-15"`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum DateText {
    Toml(toml::value::Datetime),
    Text(String),
}

impl DateText {
    pub fn to_date(&self) -> Result<Date, String> {
        match self {
            DateText::Text(text) => text.parse::<Date>().map_err(|e| e.to_string()),
            DateText::Toml(dt) => dt
                .date
                .filter(|_| dt.time.is_none())
                .and_then(|d| Date::new(i32::from(d.year), d.month, d.day))
                .ok_or_else(|| format!("`{dt}` is not a date: expected YYYY-MM-DD")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_dates() {
        let sep: Date = "2003-09-18".parse().unwrap();
        let oct: Date = "2003-10-15".parse().unwrap();
        assert!(sep < oct);
        assert_eq!(oct.to_string(), "2003-10-15");
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in [
            "2003-02-29",
            "2003-13-01",
            "2003-1-01",
            "03-10-15",
            "2003-10-15x",
            "",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad} accepted");
        }
        assert!("2004-02-29".parse::<Date>().is_ok());
    }

    #[test]
    fn converts_epoch_days() {
        assert_eq!(Date::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(
            Date::from_days_since_epoch(12_340).to_string(),
            "2003-10-15"
        );
        assert_eq!(
            Date::from_days_since_epoch(11_016).to_string(),
            "2000-02-29"
        );
    }
}
