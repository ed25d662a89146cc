//! Sessions by distinct client, as they stream past: per client its sessions, distinct
//! accounts, first and last seen, the first sessions it came from, and whatever the caller
//! keeps per client (a representative session, verdict counts). Bounded whatever the traffic:
//! at most [`MAX_CLIENTS`] clients and [`MAX_ACCOUNTS`] accounts in all, kept as 64-bit
//! hashes. Past [`MAX_CLIENTS`], a newcomer takes the place of the oldest client seen only
//! once (its session is then only counted), so that a capture's one-off clients (bots, one
//! build seen once) cannot crowd out a large client that shows up late.

use super::ClientKey;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;

/// Distinct clients kept apart; a hostile capture can show a new client in every session.
pub const MAX_CLIENTS: usize = 4096;

/// Distinct accounts remembered, all clients together (8 bytes each, about 4 MiB); past it
/// new accounts are no longer told apart and the counts say "at least". A hash collision
/// merges two accounts with a chance of about 2^-64 per pair.
const MAX_ACCOUNTS: usize = 1 << 19;

/// Source sessions named per client; the rest are counted.
pub const MAX_SOURCES: usize = 16;

#[derive(Debug)]
pub struct Group<T> {
    pub key: ClientKey,
    pub sessions: u64,
    accounts: HashSet<u64>,
    /// More accounts were seen than could be told apart: the count is a lower bound.
    pub accounts_at_least: bool,
    /// When its first and last sessions began (RFC 3339, UTC).
    pub first_seen: String,
    pub last_seen: String,
    /// The first [`MAX_SOURCES`] sessions, as the caller names them.
    pub sources: Vec<String>,
    pub extra: T,
}

impl<T> Group<T> {
    pub fn accounts(&self) -> usize {
        self.accounts.len()
    }

    /// Sessions not named in [`sources`](Group::sources).
    pub fn sources_omitted(&self) -> u64 {
        self.sessions - self.sources.len() as u64
    }
}

/// One session of a client, as [`Groups::add`] counts it.
pub struct Session<'a> {
    pub account: Option<&'a str>,
    /// When it began (RFC 3339, UTC).
    pub started: &'a str,
    /// How to name it among the client's sources.
    pub source: &'a dyn Fn() -> String,
}

#[derive(Debug, Default)]
pub struct Groups<T> {
    index: HashMap<u128, usize>,
    groups: Vec<Group<T>>,
    accounts: usize,
    /// Clients in the order they were first seen: those still seen once may give way.
    arrivals: VecDeque<u128>,
    /// The client that last gave way, for the caller to let go of what it kept for it.
    evicted: Option<Group<T>>,
    /// Sessions of clients not kept apart (one too many, or given way), only counted.
    pub overflow_sessions: u64,
}

impl<T: Default> Groups<T> {
    pub fn new() -> Groups<T> {
        Groups {
            index: HashMap::new(),
            groups: Vec::new(),
            accounts: 0,
            arrivals: VecDeque::new(),
            evicted: None,
            overflow_sessions: 0,
        }
    }

    /// The slot of the oldest client still seen only once, forgotten to make room.
    fn give_way(&mut self) -> Option<usize> {
        while let Some(hash) = self.arrivals.pop_front() {
            let Some(&at) = self.index.get(&hash) else {
                continue;
            };
            if self.groups[at].sessions == 1 {
                self.index.remove(&hash);
                return Some(at);
            }
        }
        None
    }

    /// The client that gave way to the last one added, if one did.
    pub fn take_evicted(&mut self) -> Option<Group<T>> {
        self.evicted.take()
    }

    /// Counts a session of `key`'s client: its group's place (see [`get_mut`](Groups::get_mut))
    /// and whether the session is its first, or `None` when the client is one too many to keep
    /// apart. A client that gave way to it is then in [`take_evicted`](Groups::take_evicted).
    pub fn add(&mut self, key: ClientKey, session: &Session<'_>) -> Option<(usize, bool)> {
        let (at, new) = match self.index.get(&key.hash) {
            Some(&at) => (at, false),
            None => {
                let slot = match self.groups.len() < MAX_CLIENTS {
                    true => None,
                    false => match self.give_way() {
                        Some(slot) => Some(slot),
                        None => {
                            self.overflow_sessions += 1;
                            return None;
                        }
                    },
                };
                let hash = key.hash;
                let fresh = Group {
                    key,
                    sessions: 0,
                    accounts: HashSet::new(),
                    accounts_at_least: false,
                    first_seen: session.started.to_string(),
                    last_seen: session.started.to_string(),
                    sources: Vec::new(),
                    extra: T::default(),
                };
                let at = match slot {
                    Some(at) => {
                        let gone = std::mem::replace(&mut self.groups[at], fresh);
                        self.overflow_sessions += gone.sessions;
                        self.evicted = Some(gone);
                        at
                    }
                    None => {
                        self.groups.push(fresh);
                        self.groups.len() - 1
                    }
                };
                self.index.insert(hash, at);
                self.arrivals.push_back(hash);
                (at, true)
            }
        };
        let group = &mut self.groups[at];
        group.sessions += 1;
        if session.started < group.first_seen.as_str() {
            group.first_seen = session.started.to_string();
        }
        if session.started > group.last_seen.as_str() {
            group.last_seen = session.started.to_string();
        }
        if group.sources.len() < MAX_SOURCES {
            group.sources.push((session.source)());
        }
        if let Some(account) = session.account {
            let hash = foldhash::quality::FixedState::with_seed(0).hash_one(account);
            if self.accounts < MAX_ACCOUNTS {
                self.accounts += usize::from(group.accounts.insert(hash));
            } else {
                group.accounts_at_least |= !group.accounts.contains(&hash);
            }
        }
        Some((at, new))
    }

    pub fn get_mut(&mut self, at: usize) -> &mut Group<T> {
        &mut self.groups[at]
    }
}

impl<T> Groups<T> {
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Each client's distinct name, in order of first appearance.
    fn names(&self) -> Vec<String> {
        let clients: Vec<(String, Vec<String>)> = self
            .groups
            .iter()
            .map(|g| (g.key.base.clone(), g.key.traits.clone()))
            .collect();
        super::distinct_names(&clients, true)
    }

    /// Every client, in order of first appearance, with its distinct name.
    pub fn named(&self) -> Vec<(String, &Group<T>)> {
        self.names().into_iter().zip(&self.groups).collect()
    }

    pub fn groups_mut(&mut self) -> impl Iterator<Item = &mut Group<T>> {
        self.groups.iter_mut()
    }

    pub fn into_named(self) -> Vec<(String, Group<T>)> {
        self.names().into_iter().zip(self.groups).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u128, base: &str) -> ClientKey {
        ClientKey {
            hash: n,
            base: base.to_string(),
            traits: Vec::new(),
        }
    }

    #[test]
    fn one_off_clients_give_way_to_a_large_client_that_comes_late() {
        let mut groups: Groups<()> = Groups::new();
        let source = String::new;
        let session = Session {
            account: None,
            started: "2026-01-01T00:00:00Z",
            source: &source,
        };
        for n in 0..MAX_CLIENTS as u128 + 200 {
            groups.add(key(n, "bot"), &session);
        }
        for _ in 0..300 {
            groups.add(key(u128::MAX, "MainApp"), &session);
        }
        assert_eq!(groups.len(), MAX_CLIENTS);
        let main = groups.named().into_iter().find(|(n, _)| n == "MainApp");
        assert_eq!(main.map(|(_, g)| g.sessions), Some(300));
        assert_eq!(groups.overflow_sessions, 201);
        let kept: u64 = groups.named().iter().map(|(_, g)| g.sessions).sum();
        assert_eq!(
            kept + groups.overflow_sessions,
            MAX_CLIENTS as u64 + 200 + 300
        );
    }
}
