//! What an HTTP response means, as the suite's `[dialect_settings]` say (each key has a
//! default): which statuses admit, lock out or are server faults, and which response headers
//! or body patterns turn an admission into a warning.

use super::identity::Rules;
use crate::dialect::{FromSettings, SettingError};
use crate::verdict::VerdictKind;
use regex::Regex;
use std::collections::BTreeMap;

pub const ADMITTED: &str = "admitted_statuses";
pub const LOCKED_OUT: &str = "locked_out_statuses";
pub const ERROR: &str = "error_statuses";
pub const BUSY: &str = "busy_statuses";
pub const WARNING_HEADERS: &str = "warning_headers";
pub const WARNING_BODY: &str = "warning_body";

/// Reaching authentication (401, 407) is admission: the server let the client in far enough
/// to ask who it is.
const DEFAULT_ADMITTED: &[&str] = &["2xx", "3xx", "101", "401", "407"];
const DEFAULT_LOCKED_OUT: &[&str] = &["4xx", "505"];
/// A server fault is not a policy: the harness cannot judge what the server meant.
const DEFAULT_ERROR: &[&str] = &["5xx"];
/// Request Timeout, Too Many Requests and Service Unavailable: the server turns the client
/// away for now, whoever it is (rate limits, overload, maintenance).
const DEFAULT_BUSY: &[&str] = &["408", "429", "503"];
/// RFC 9745's Deprecation, RFC 8594's Sunset, and RFC 7234's `Warning: 299` (miscellaneous
/// persistent warning), which APIs use to say "upgrade".
const DEFAULT_WARNING_HEADERS: &[&str] = &["Deprecation", "Sunset", "Warning: ^299\\b"];

/// The typed settings of the HTTP dialect.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Exact statuses, then classes (`4xx` as 4), with what each means.
    exact: BTreeMap<u16, StatusClass>,
    classes: BTreeMap<u16, StatusClass>,
    pub warning_headers: Vec<HeaderRule>,
    pub warning_body: Vec<Regex>,
    /// Where a recorded client's identity is, when the suite says.
    pub identity: Rules,
}

/// What a final status means: a verdict, or a busy server (an error counted apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    Verdict(VerdictKind),
    Busy,
}

/// A response header that warns: by name, and where a pattern is given, by value too.
#[derive(Debug, Clone)]
pub struct HeaderRule {
    pub name: String,
    pub value: Option<Regex>,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy::from_settings(&BTreeMap::new()).expect("the defaults are valid")
    }
}

impl FromSettings for Policy {
    fn from_settings(table: &BTreeMap<String, toml::Value>) -> Result<Policy, SettingError> {
        let mut policy = Policy {
            exact: BTreeMap::new(),
            classes: BTreeMap::new(),
            warning_headers: Vec::new(),
            warning_body: Vec::new(),
            identity: Rules::from_settings(table)?,
        };
        // Defaults first, then what the suite gives, which overrides them; a status the suite
        // puts in two lists is an error naming both.
        let lists = [
            (
                ADMITTED,
                StatusClass::Verdict(VerdictKind::Admitted),
                DEFAULT_ADMITTED,
            ),
            (
                LOCKED_OUT,
                StatusClass::Verdict(VerdictKind::LockedOut),
                DEFAULT_LOCKED_OUT,
            ),
            (
                ERROR,
                StatusClass::Verdict(VerdictKind::Error),
                DEFAULT_ERROR,
            ),
            (BUSY, StatusClass::Busy, DEFAULT_BUSY),
        ];
        let (given, defaulted): (Vec<_>, Vec<_>) =
            lists.iter().partition(|(key, ..)| table.contains_key(*key));
        let mut owners: BTreeMap<String, &str> = BTreeMap::new();
        for &(key, kind, default) in defaulted.into_iter().chain(given.iter().copied()) {
            let from_suite = table.contains_key(key);
            for pattern in list(table, key, default)? {
                let (code, is_class) = status_pattern(&pattern).ok_or_else(|| {
                    SettingError::new(key, format!("`{pattern}` is not a status"))
                        .with_help("a status such as `426`, or a class such as `4xx`")
                })?;
                if from_suite && let Some(other) = owners.insert(pattern.to_ascii_lowercase(), key)
                {
                    return Err(SettingError::new(
                        key,
                        format!("`{pattern}` is also in {other}"),
                    ));
                }
                let map = if is_class {
                    &mut policy.classes
                } else {
                    &mut policy.exact
                };
                map.insert(code, kind);
            }
        }
        for rule in list(table, WARNING_HEADERS, DEFAULT_WARNING_HEADERS)? {
            policy.warning_headers.push(header_rule(&rule)?);
        }
        for pattern in list(table, WARNING_BODY, &[])? {
            policy.warning_body.push(Regex::new(&pattern).map_err(|e| {
                SettingError::new(WARNING_BODY, format!("`{pattern}` is not a pattern: {e}"))
            })?);
        }
        Ok(policy)
    }
}

impl Policy {
    /// The verdict a final response's status gives, before any warning (a busy status is an
    /// error).
    pub fn status(&self, status: u16) -> Option<VerdictKind> {
        self.class(status).map(|class| match class {
            StatusClass::Verdict(kind) => kind,
            StatusClass::Busy => VerdictKind::Error,
        })
    }

    /// Whether `status` says the server is busy (`busy_statuses`).
    pub fn is_busy(&self, status: u16) -> bool {
        self.class(status) == Some(StatusClass::Busy)
    }

    fn class(&self, status: u16) -> Option<StatusClass> {
        self.exact
            .get(&status)
            .or_else(|| self.classes.get(&(status / 100)))
            .copied()
    }
}

/// `426` as (426, false), `4xx` as (4, true).
fn status_pattern(text: &str) -> Option<(u16, bool)> {
    let b = text.as_bytes();
    if b.len() != 3 || !(b'1'..=b'5').contains(&b[0]) {
        return None;
    }
    if b[1..].eq_ignore_ascii_case(b"xx") {
        return Some((u16::from(b[0] - b'0'), true));
    }
    text.parse().ok().map(|code| (code, false))
}

/// `Name` or `Name: pattern`.
fn header_rule(text: &str) -> Result<HeaderRule, SettingError> {
    let (name, pattern) = match text.split_once(':') {
        Some((name, pattern)) => (name.trim(), Some(pattern.trim())),
        None => (text.trim(), None),
    };
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid_name {
        return Err(
            SettingError::new(WARNING_HEADERS, format!("`{name}` is not a header name"))
                .with_help("`Name`, or `Name: pattern` to match its value, e.g. `Warning: ^299`"),
        );
    }
    let value = pattern
        .map(|p| {
            Regex::new(p).map_err(|e| {
                SettingError::new(WARNING_HEADERS, format!("`{p}` is not a pattern: {e}"))
            })
        })
        .transpose()?;
    Ok(HeaderRule {
        name: name.to_string(),
        value,
    })
}

fn list(
    table: &BTreeMap<String, toml::Value>,
    key: &str,
    default: &[&str],
) -> Result<Vec<String>, SettingError> {
    Ok(crate::dialect::string_list(table, key)?
        .unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Result<Policy, SettingError> {
        let table: BTreeMap<String, toml::Value> = toml::from_str(text).unwrap();
        Policy::from_settings(&table)
    }

    #[test]
    fn exact_statuses_outrank_classes() {
        let policy = Policy::default();
        assert_eq!(policy.status(401), Some(VerdictKind::Admitted));
        assert_eq!(policy.status(426), Some(VerdictKind::LockedOut));
        assert_eq!(policy.status(505), Some(VerdictKind::LockedOut));
        assert_eq!(policy.status(503), Some(VerdictKind::Error));
        assert!(policy.is_busy(503) && policy.is_busy(429) && policy.is_busy(408));
        assert!(!policy.is_busy(500) && !policy.is_busy(403));
        assert_eq!(policy.status(302), Some(VerdictKind::Admitted));
        let policy = settings(
            "locked_out_statuses = [\"4xx\", \"5xx\"]\nerror_statuses = []\nbusy_statuses = []",
        )
        .unwrap();
        assert_eq!(policy.status(503), Some(VerdictKind::LockedOut));
        let policy = settings("locked_out_statuses = [\"429\"]").unwrap();
        assert!(!policy.is_busy(429), "the suite moves a busy status");
        assert_eq!(policy.status(429), Some(VerdictKind::LockedOut));
        let policy = settings("admitted_statuses = [\"4xx\"]").unwrap();
        assert_eq!(
            policy.status(403),
            Some(VerdictKind::Admitted),
            "the suite's word wins"
        );
        assert_eq!(policy.status(505), Some(VerdictKind::LockedOut));
    }

    #[test]
    fn bad_settings_name_the_key_and_value() {
        let e = settings("admitted_statuses = [\"2xx\", \"42\"]").unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.message.as_str()),
            ("admitted_statuses", "`42` is not a status")
        );
        let e =
            settings("admitted_statuses = [\"2xx\"]\nlocked_out_statuses = [\"2xx\"]").unwrap_err();
        assert_eq!(e.message, "`2xx` is also in admitted_statuses");
        let e = settings("warning_headers = [\"Bad Name\"]").unwrap_err();
        assert_eq!(e.message, "`Bad Name` is not a header name");
        let e = settings("warning_body = [\"(\"]").unwrap_err();
        assert!(e.message.starts_with("`(` is not a pattern"));
        assert!(settings("warning_headers = \"Sunset\"").is_err());
    }
}
