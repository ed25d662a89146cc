//! Impact from the traffic itself: sessions, and distinct accounts where the dialect knows
//! them, per client and verdict: "412 sessions of MSNMSGR 5.0.0544 (97 accounts): 100.0%
//! locked out".

use super::Judged;
use crate::verdict::VerdictKind;
use std::collections::{BTreeMap, HashSet};

/// Distinct accounts counted per client, at most; past it the count says "at least".
const MAX_ACCOUNTS: usize = 1_000_000;

/// Sessions by client, as they are judged.
#[derive(Default)]
pub struct TrafficTally {
    clients: BTreeMap<String, Tally>,
}

#[derive(Default)]
struct Tally {
    by_verdict: BTreeMap<&'static str, usize>,
    accounts: HashSet<String>,
    accounts_capped: bool,
}

/// One client's line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TrafficImpact {
    pub client: String,
    pub sessions: usize,
    pub accounts: usize,
    /// Sessions per verdict (`admitted`, `warned`, `locked-out`, `error`, `undecided`).
    pub verdicts: BTreeMap<&'static str, usize>,
}

impl TrafficTally {
    pub fn add(&mut self, judged: &Judged) {
        let tally = self.clients.entry(judged.client.clone()).or_default();
        *tally
            .by_verdict
            .entry(judged.result.verdict.kind.as_str())
            .or_default() += 1;
        if let Some(account) = &judged.account {
            if tally.accounts.len() < MAX_ACCOUNTS {
                tally.accounts.insert(account.clone());
            } else {
                tally.accounts_capped |= !tally.accounts.contains(account);
            }
        }
    }

    /// A line per client, the most sessions first.
    pub fn lines(&self) -> Vec<TrafficImpact> {
        let mut lines: Vec<TrafficImpact> = self
            .clients
            .iter()
            .map(|(client, tally)| TrafficImpact {
                client: client.clone(),
                sessions: tally.by_verdict.values().sum(),
                accounts: tally.accounts.len(),
                verdicts: tally.by_verdict.clone(),
            })
            .collect();
        lines.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.client.cmp(&b.client)));
        lines
    }
}

impl TrafficImpact {
    /// `412 sessions of MSNMSGR 5.0.0544 (97 accounts): 100.0% locked out; 3 undecided`.
    pub fn sentence(&self) -> String {
        let decided: usize = self
            .verdicts
            .iter()
            .filter(|(k, _)| **k != VerdictKind::Undecided.as_str())
            .map(|(_, n)| n)
            .sum();
        let mut parts = Vec::new();
        for kind in [
            VerdictKind::Admitted,
            VerdictKind::Warned,
            VerdictKind::LockedOut,
            VerdictKind::Error,
        ] {
            let n = self.verdicts.get(kind.as_str()).copied().unwrap_or(0);
            if n > 0 {
                let label = match kind {
                    VerdictKind::LockedOut => "locked out",
                    VerdictKind::Error => "not judged (errors)",
                    other => other.as_str(),
                };
                parts.push(format!("{:.1}% {label}", 100.0 * n as f64 / decided as f64));
            }
        }
        let accounts = match self.accounts {
            0 => String::new(),
            1 => " (1 account)".to_string(),
            n => format!(" ({n} accounts)"),
        };
        let noun = if self.sessions == 1 {
            "session"
        } else {
            "sessions"
        };
        let mut text = format!("{} {noun} of {}{accounts}: ", self.sessions, self.client);
        text.push_str(&if parts.is_empty() {
            "none decided".to_string()
        } else {
            parts.join(", ")
        });
        if let Some(n) = self.verdicts.get(VerdictKind::Undecided.as_str()) {
            text.push_str(&format!(
                "; {n} undecided (the client left, or the recording ended or began mid-session)"
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_counts_sessions_accounts_and_shares_of_the_decided() {
        let line = TrafficImpact {
            client: "MSNMSGR 5.0.0544".into(),
            sessions: 5,
            accounts: 3,
            verdicts: BTreeMap::from([("locked-out", 4), ("undecided", 1)]),
        };
        assert_eq!(
            line.sentence(),
            "5 sessions of MSNMSGR 5.0.0544 (3 accounts): 100.0% locked out; 1 undecided (the client left, or the recording ended or began mid-session)"
        );
    }
}
