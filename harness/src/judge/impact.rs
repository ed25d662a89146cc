//! Impact from the traffic itself: sessions, and distinct accounts where the dialect knows
//! them, per client and verdict: "412 sessions of MSNMSGR 5.0.0544 (97 accounts): 100.0%
//! locked out".

use crate::verdict::VerdictKind;
use std::collections::{BTreeMap, HashSet};
use std::hash::BuildHasher;

/// Distinct clients tallied apart; the sessions of any further client are tallied together
/// as [`OTHER_CLIENTS`]: a hostile capture can name a new client in every session.
const MAX_CLIENTS: usize = 4096;
pub const OTHER_CLIENTS: &str = "(other clients)";

/// Distinct accounts remembered, all clients together, as 64-bit hashes (8 bytes each, about
/// 4 MiB in all); past it, new accounts are no longer told apart and the counts say "at least".
/// A hash collision merges two accounts with a chance of about 2^-64 per pair.
const MAX_ACCOUNTS: usize = 1 << 19;

/// Sessions by client, as they are judged: the only thing `harness judge` keeps of every
/// session. Bounded whatever the capture's size (see [`MAX_CLIENTS`], [`MAX_ACCOUNTS`]).
#[derive(Default)]
pub struct TrafficTally {
    clients: BTreeMap<String, Tally>,
    accounts: usize,
}

#[derive(Default)]
struct Tally {
    by_verdict: BTreeMap<&'static str, usize>,
    accounts: HashSet<u64>,
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
    /// More accounts were seen than could be told apart: `accounts` is a lower bound.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub accounts_at_least: bool,
}

impl TrafficTally {
    pub fn add(&mut self, client: &str, account: Option<&str>, verdict: VerdictKind) {
        let key = match self.clients.contains_key(client) || self.clients.len() < MAX_CLIENTS {
            true => client,
            false => OTHER_CLIENTS,
        };
        if !self.clients.contains_key(key) {
            self.clients.insert(key.to_string(), Tally::default());
        }
        let Some(tally) = self.clients.get_mut(key) else {
            return;
        };
        *tally.by_verdict.entry(verdict.as_str()).or_default() += 1;
        if let Some(account) = account {
            let hash = foldhash::quality::FixedState::with_seed(0).hash_one(account);
            if self.accounts < MAX_ACCOUNTS {
                self.accounts += usize::from(tally.accounts.insert(hash));
            } else {
                tally.accounts_capped |= !tally.accounts.contains(&hash);
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
                accounts_at_least: tally.accounts_capped,
            })
            .collect();
        lines.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.client.cmp(&b.client)));
        lines
    }
}

impl TrafficImpact {
    /// `412 sessions of MSNMSGR 5.0.0544 (97 accounts): 100.0% locked out; 3 undecided`.
    /// Each verdict that decided some sessions, with its percentage of the decided ones.
    pub fn shares(&self) -> Vec<(VerdictKind, f64)> {
        let decided: usize = self
            .verdicts
            .iter()
            .filter(|(k, _)| **k != VerdictKind::Undecided.as_str())
            .map(|(_, n)| n)
            .sum();
        [
            VerdictKind::Admitted,
            VerdictKind::Warned,
            VerdictKind::LockedOut,
            VerdictKind::Error,
        ]
        .into_iter()
        .filter_map(|kind| {
            let n = self.verdicts.get(kind.as_str()).copied().unwrap_or(0);
            (n > 0).then(|| (kind, 100.0 * n as f64 / decided as f64))
        })
        .collect()
    }

    pub fn sentence(&self) -> String {
        let parts: Vec<String> = self
            .shares()
            .into_iter()
            .map(|(kind, percent)| {
                let label = match kind {
                    VerdictKind::LockedOut => "locked out",
                    VerdictKind::Error => "not judged (errors)",
                    other => other.as_str(),
                };
                format!("{percent:.1}% {label}")
            })
            .collect();
        let at_least = if self.accounts_at_least {
            "at least "
        } else {
            ""
        };
        let accounts = match self.accounts {
            0 => String::new(),
            1 => format!(" ({at_least}1 account)"),
            n => format!(" ({at_least}{n} accounts)"),
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
            accounts_at_least: false,
        };
        assert_eq!(
            line.sentence(),
            "5 sessions of MSNMSGR 5.0.0544 (3 accounts): 100.0% locked out; 1 undecided (the client left, or the recording ended or began mid-session)"
        );
    }
}
