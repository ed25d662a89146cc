//! Dotted client versions (`4.7.2009`, `6.0.0602`), compared numerically per component.

use std::cmp::Ordering;
use std::fmt;

/// A client version such as `5.0.0544`. Components compare as numbers, missing ones as zero,
/// so `5.0` equals `5.0.0000` and `4.7.2009` is above `4.7.2000`.
#[derive(Debug, Clone)]
pub struct ClientVersion {
    text: String,
    parts: Vec<u64>,
}

impl ClientVersion {
    /// Parses a dotted version; `None` unless every component is a decimal number.
    pub fn parse(text: &str) -> Option<ClientVersion> {
        if text.is_empty() || text.len() > 64 {
            return None;
        }
        let parts = text
            .split('.')
            .map(|part| {
                let all_digits = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
                all_digits.then(|| part.parse::<u64>().ok()).flatten()
            })
            .collect::<Option<Vec<u64>>>()?;
        Some(ClientVersion {
            text: text.to_string(),
            parts,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Ord for ClientVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.parts.len().max(other.parts.len());
        (0..len)
            .map(|i| {
                let a = self.parts.get(i).copied().unwrap_or(0);
                let b = other.parts.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for ClientVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ClientVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for ClientVersion {}

impl fmt::Display for ClientVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn v(text: &str) -> ClientVersion {
        ClientVersion::parse(text).unwrap()
    }

    #[rstest]
    #[case("4.7.2009", "4.7.2000")]
    #[case("6.0.0602", "5.0.0544")]
    #[case("5.0.0540", "5.0")]
    #[case("14.0.8117.0416", "8.5.1302")]
    #[case("3.5.1", "3.5")]
    #[case("4.10", "4.9")]
    fn newer_is_greater(#[case] newer: &str, #[case] older: &str) {
        assert!(v(newer) > v(older), "{newer} should be above {older}");
        assert!(v(older) < v(newer));
    }

    #[rstest]
    #[case("5.0", "5.0.0000")]
    #[case("6.0.0602", "6.0.602")]
    fn padding_and_leading_zeros_are_equal(#[case] a: &str, #[case] b: &str) {
        assert_eq!(v(a), v(b));
    }

    #[rstest]
    #[case("")]
    #[case("5..0")]
    #[case("5.0b")]
    #[case("v5")]
    #[case("99999999999999999999999")]
    fn rejects_non_numeric(#[case] text: &str) {
        assert!(ClientVersion::parse(text).is_none());
    }
}
