//! Calendar dates (`YYYY-MM-DD`): policy phase boundaries and `--as-of`.

use chrono::{Datelike, NaiveDate, Utc};
use std::fmt;
use std::str::FromStr;

/// A proleptic Gregorian calendar date; ordering is chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(NaiveDate);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a date: expected YYYY-MM-DD, e.g. 2003-10-15")]
pub struct DateError {
    text: String,
}

impl Date {
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        NaiveDate::from_ymd_opt(year, month.into(), day.into()).map(Date)
    }

    /// Today's date in UTC.
    pub fn today() -> Date {
        Date(Utc::now().date_naive())
    }

    /// The date `days` after 1970-01-01 (before it, when negative); saturates at chrono's
    /// range, about 262,000 years either way.
    pub fn from_days_since_epoch(days: i64) -> Date {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
        let limit = if days < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        };
        Date(
            chrono::TimeDelta::try_days(days)
                .and_then(|delta| epoch.checked_add_signed(delta))
                .unwrap_or(limit),
        )
    }
}

impl FromStr for Date {
    type Err = DateError;

    /// Exactly `YYYY-MM-DD`: chrono alone would also take `2003-1-5` or a signed year.
    fn from_str(text: &str) -> Result<Date, DateError> {
        let err = || DateError {
            text: text.to_string(),
        };
        let shape = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !shape {
            return Err(err());
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(Date)
            .map_err(|_| err())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
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
