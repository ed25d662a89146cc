//! Sessions by distinct client, as they stream past: per client its sessions, distinct
//! accounts, first and last seen, the first sessions it came from, and whatever the caller
//! keeps per client (a representative session, verdict counts). Bounded whatever the traffic:
//! at most [`MAX_CLIENTS`] clients (the sessions of further ones are only counted) and
//! [`MAX_ACCOUNTS`] accounts in all, kept as 64-bit hashes.

use super::ClientKey;
use std::collections::{HashMap, HashSet};
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
    /// Sessions of clients past [`MAX_CLIENTS`], counted but not kept apart.
    pub overflow_sessions: u64,
}

impl<T: Default> Groups<T> {
    pub fn new() -> Groups<T> {
        Groups {
            index: HashMap::new(),
            groups: Vec::new(),
            accounts: 0,
            overflow_sessions: 0,
        }
    }

    /// Counts a session of `key`'s client: its group and whether the session is its first,
    /// or `None` when the client is one too many to keep apart.
    pub fn add(&mut self, key: ClientKey, session: &Session<'_>) -> Option<(&mut Group<T>, bool)> {
        let (at, new) = match self.index.get(&key.hash) {
            Some(&at) => (at, false),
            None if self.groups.len() >= MAX_CLIENTS => {
                self.overflow_sessions += 1;
                return None;
            }
            None => {
                self.index.insert(key.hash, self.groups.len());
                self.groups.push(Group {
                    key,
                    sessions: 0,
                    accounts: HashSet::new(),
                    accounts_at_least: false,
                    first_seen: session.started.to_string(),
                    last_seen: session.started.to_string(),
                    sources: Vec::new(),
                    extra: T::default(),
                });
                (self.groups.len() - 1, true)
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
        Some((group, new))
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
