//! Impact from the traffic itself: sessions, and distinct accounts where the dialect knows
//! them, per distinct client (as `import --group` tells clients apart) and verdict: "412
//! sessions of MSNMSGR 5.0.0544 (97 accounts): 100.0% locked out". Per client and verdict it
//! may keep one session's result as an example, for the reports that show rows; nothing else
//! of a session is kept. Traffic lines carry the client's key, so that judged captures merge.

use crate::clients::{ClientKey, Groups, Session};
use crate::report::{CaseResult, SessionCount};
use crate::verdict::VerdictKind;
use std::collections::BTreeMap;

pub const OTHER_CLIENTS: &str = "(other clients)";

/// Example results kept in all: a row per client and verdict for the table, JUnit, Markdown
/// and HTML, within a bound whatever the traffic (each holds at most a few KiB of transcript).
const MAX_EXAMPLES: usize = 4096;

/// Sessions by distinct client, as they are judged: the only thing `harness judge` keeps of
/// every session. Bounded whatever the capture's size: at most
/// [`MAX_CLIENTS`](crate::clients::MAX_CLIENTS) clients kept apart (the sessions of further
/// ones are tallied together as [`OTHER_CLIENTS`]), a bounded number of accounts (see
/// [`Groups`]) and of examples ([`MAX_EXAMPLES`]).
#[derive(Default)]
pub struct TrafficTally {
    clients: Groups<ClientVerdicts>,
    other: BTreeMap<String, usize>,
    /// Keep an example result per client and verdict.
    keep_examples: bool,
    examples: usize,
    /// Examples not kept for want of room.
    pub examples_dropped: usize,
}

/// A client's name, sessions, example per verdict and sessions per verdict.
type ClientExamples = (
    String,
    usize,
    BTreeMap<String, CaseResult>,
    BTreeMap<String, usize>,
);

#[derive(Default)]
struct ClientVerdicts {
    counts: BTreeMap<String, usize>,
    examples: BTreeMap<String, CaseResult>,
}

/// One client's line.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrafficImpact {
    /// Its name, told apart from namesakes.
    pub client: String,
    pub sessions: usize,
    pub accounts: usize,
    /// Sessions per verdict (`admitted`, `warned`, `locked-out`, `error`, `undecided`).
    pub verdicts: BTreeMap<String, usize>,
    /// More accounts were seen than could be told apart: `accounts` is a lower bound.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accounts_at_least: bool,
    /// Which client it is across captures (its signature's hash), the name it goes by before
    /// it is told apart and what can tell it apart: what `harness merge` joins by.
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub base: String,
    #[serde(default)]
    pub traits: Vec<String>,
    /// When its first and last sessions began (RFC 3339, UTC).
    #[serde(default)]
    pub first_seen: String,
    #[serde(default)]
    pub last_seen: String,
}

impl TrafficTally {
    /// A tally that keeps one example result per client and verdict, for reports with rows.
    pub fn with_examples() -> TrafficTally {
        TrafficTally {
            keep_examples: true,
            ..TrafficTally::default()
        }
    }

    /// Counts one judged session of `key`'s client that began at `started`; `traits` reads
    /// what tells the client apart, when the session is its first.
    pub fn add(
        &mut self,
        key: ClientKey,
        traits: impl FnOnce() -> Vec<String>,
        account: Option<&str>,
        started: &str,
        result: &CaseResult,
    ) {
        let verdict = result.verdict.kind.as_str();
        let session = Session {
            account,
            started,
            source: &String::new,
        };
        let added = self.clients.add(key, &session);
        // A client that gave way to this one: its sessions are tallied with the others'.
        if let Some(gone) = self.clients.take_evicted() {
            for (verdict, n) in gone.extra.counts {
                *self.other.entry(verdict).or_default() += n;
            }
            self.examples -= gone.extra.examples.len();
        }
        let Some((at, new)) = added else {
            *self.other.entry(verdict.to_string()).or_default() += 1;
            return;
        };
        let group = self.clients.get_mut(at);
        if new {
            group.key.traits = traits();
        }
        let tally = &mut group.extra;
        *tally.counts.entry(verdict.to_string()).or_default() += 1;
        if self.keep_examples && !tally.examples.contains_key(verdict) {
            if self.examples < MAX_EXAMPLES {
                self.examples += 1;
                tally.examples.insert(verdict.to_string(), result.clone());
            } else {
                self.examples_dropped += 1;
            }
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
                sessions: group.extra.counts.values().sum(),
                accounts: group.accounts(),
                verdicts: group.extra.counts.clone(),
                accounts_at_least: group.accounts_at_least,
                key: format!("{:032x}", group.key.hash),
                base: group.key.base.clone(),
                traits: group.key.traits.clone(),
                first_seen: group.first_seen.clone(),
                last_seen: group.last_seen.clone(),
            })
            .collect();
        if !self.other.is_empty() {
            lines.push(TrafficImpact {
                client: OTHER_CLIENTS.to_string(),
                sessions: self.other.values().sum(),
                accounts: 0,
                verdicts: self.other.clone(),
                accounts_at_least: false,
                key: String::new(),
                base: OTHER_CLIENTS.to_string(),
                traits: Vec::new(),
                first_seen: String::new(),
                last_seen: String::new(),
            });
        }
        sort(&mut lines);
        lines
    }

    /// One example result per client and verdict, the clients with the most sessions first:
    /// each named after its client and how many sessions it stands for
    /// (`MSMSGS 4.7.0041: 2 of 3 sessions`).
    pub fn examples(&mut self) -> Vec<CaseResult> {
        let mut clients: Vec<ClientExamples> = Vec::new();
        let names: Vec<String> = self.clients.named().into_iter().map(|(n, _)| n).collect();
        for (name, group) in names.into_iter().zip(self.clients.groups_mut()) {
            let counts = group.extra.counts.clone();
            let total = counts.values().sum();
            clients.push((
                name,
                total,
                std::mem::take(&mut group.extra.examples),
                counts,
            ));
        }
        clients.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut out = Vec::new();
        for (name, total, examples, counts) in clients {
            for (verdict, mut result) in examples {
                let sessions = SessionCount {
                    with_verdict: counts.get(&verdict).copied().unwrap_or(0),
                    of_client: total,
                };
                result.case = format!("{name}: {sessions}");
                result.sessions = Some(sessions);
                result.name = name.clone();
                result.case_index = out.len() + 1;
                out.push(result);
            }
        }
        out
    }
}

/// `9 sessions judged: 7 admitted, 0 warned, 1 locked out, 0 errors, 1 undecided`: the
/// traffic's totals, where a judged report's rows are its clients.
pub fn totals(lines: &[TrafficImpact]) -> String {
    let count = |kind: VerdictKind| -> usize {
        lines
            .iter()
            .filter_map(|l| l.verdicts.get(kind.as_str()))
            .sum()
    };
    let sessions: usize = lines.iter().map(|l| l.sessions).sum();
    format!(
        "{sessions} sessions judged: {} admitted, {} warned, {} locked out, {} errors, {} undecided",
        count(VerdictKind::Admitted),
        count(VerdictKind::Warned),
        count(VerdictKind::LockedOut),
        count(VerdictKind::Error),
        count(VerdictKind::Undecided),
    )
}

/// The most sessions first, then by name.
pub fn sort(lines: &mut [TrafficImpact]) {
    lines.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.client.cmp(&b.client)));
}

impl TrafficImpact {
    /// `412 sessions of MSNMSGR 5.0.0544 (97 accounts): 100.0% locked out; 3 undecided`.
    /// Each verdict that decided some sessions, with its percentage of the decided ones.
    pub fn shares(&self) -> Vec<(VerdictKind, f64)> {
        let decided: usize = self
            .verdicts
            .iter()
            .filter(|(k, _)| k.as_str() != VerdictKind::Undecided.as_str())
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
            verdicts: BTreeMap::from([("locked-out".into(), 4), ("undecided".into(), 1)]),
            accounts_at_least: false,
            key: String::new(),
            base: String::new(),
            traits: Vec::new(),
            first_seen: String::new(),
            last_seen: String::new(),
        };
        assert_eq!(
            line.sentence(),
            "5 sessions of MSNMSGR 5.0.0544 (3 accounts): 100.0% locked out; 1 undecided (the client left, or the recording ended or began mid-session)"
        );
    }
}
