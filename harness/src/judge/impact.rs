//! Impact from the traffic itself: sessions, and distinct accounts where the dialect knows
//! them, per distinct client (as `import --group` tells clients apart) and verdict: "412
//! sessions of MSNMSGR 5.0.0544 (97 accounts): 100.0% locked out".

use crate::clients::{ClientKey, Groups, Session};
use crate::verdict::VerdictKind;
use std::collections::BTreeMap;

pub const OTHER_CLIENTS: &str = "(other clients)";

/// Sessions by distinct client, as they are judged: the only thing `harness judge` keeps of
/// every session. Bounded whatever the capture's size: at most
/// [`MAX_CLIENTS`](crate::clients::MAX_CLIENTS) clients kept
/// apart (the sessions of further ones are tallied together as [`OTHER_CLIENTS`]) and a
/// bounded number of accounts (see [`Groups`]).
#[derive(Default)]
pub struct TrafficTally {
    clients: Groups<BTreeMap<&'static str, usize>>,
    other: BTreeMap<&'static str, usize>,
}

/// One client's line.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TrafficImpact {
    /// Its name, told apart from namesakes.
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
    /// Counts one judged session of `key`'s client that began at `started`.
    pub fn add(
        &mut self,
        key: ClientKey,
        account: Option<&str>,
        started: &str,
        verdict: VerdictKind,
    ) {
        let session = Session {
            account,
            started,
            source: &String::new,
        };
        match self.clients.add(key, &session) {
            Some((group, _)) => *group.extra.entry(verdict.as_str()).or_default() += 1,
            None => *self.other.entry(verdict.as_str()).or_default() += 1,
        }
    }

    /// A line per client, the most sessions first.
    pub fn lines(&self) -> Vec<TrafficImpact> {
        let mut lines: Vec<TrafficImpact> = self
            .clients
            .named()
            .into_iter()
            .map(|(client, group)| TrafficImpact {
                client,
                sessions: group.extra.values().sum(),
                accounts: group.accounts(),
                verdicts: group.extra.clone(),
                accounts_at_least: group.accounts_at_least,
            })
            .collect();
        if !self.other.is_empty() {
            lines.push(TrafficImpact {
                client: OTHER_CLIENTS.to_string(),
                sessions: self.other.values().sum(),
                accounts: 0,
                verdicts: self.other.clone(),
                accounts_at_least: false,
            });
        }
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
