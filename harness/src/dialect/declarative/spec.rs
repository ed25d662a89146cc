//! A dialect file compiled: regexes built, names checked, numbers in range. What the framer,
//! the step compiler and the conversation read; built once by [`super::load`].

use crate::dialect::{Doc, Redactions};
use regex::Regex;
use std::path::PathBuf;

#[derive(Debug)]
pub struct Spec {
    pub name: &'static str,
    pub summary: &'static str,
    pub port: u16,
    /// The server greets before the client says anything.
    pub server_first: bool,
    /// Each client line starts with a tag, its verb after it (IMAP's `a1 LOGIN ...`).
    pub tagged: bool,
    pub farewell: Option<String>,
    pub opens: Option<Regex>,
    pub framing: Framing,
    /// Lines that are not verbs but may be sent (SMTP: a base64 answer to `334`).
    pub free_line: Option<Regex>,
    pub verbs: Vec<Verb>,
    pub rules: Vec<Rule>,
    pub endings: Vec<Ending>,
    pub warns: Vec<Warn>,
    pub redact: Redactions,
    pub normalize: Redactions,
    pub identity: Identity,
    /// The file it was read from, for `harness dialects` and registry errors.
    pub source: PathBuf,
    pub step_docs: &'static [Doc],
}

#[derive(Debug)]
pub struct Framing {
    pub terminator: &'static str,
    pub continues: Option<Regex>,
    pub max_line: usize,
    pub max_reply: usize,
}

#[derive(Debug)]
pub struct Verb {
    pub name: String,
    pub args: Option<Regex>,
}

/// What a reply that a rule matches means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Admitted,
    Warned,
    LockedOut,
    Busy,
    /// Beside the point: keep reading for the answer.
    Aside,
    /// Go on over TLS on the same connection (STARTTLS).
    UpgradeTls,
    Error,
    /// Answers the request and decides nothing.
    Continue,
}

pub const ACTIONS: &[(&str, Action)] = &[
    ("admitted", Action::Admitted),
    ("warned", Action::Warned),
    ("locked-out", Action::LockedOut),
    ("busy", Action::Busy),
    ("aside", Action::Aside),
    ("upgrade-tls", Action::UpgradeTls),
    ("error", Action::Error),
    ("continue", Action::Continue),
];

/// How a close or reset is judged.
pub const ENDS: &[(&str, Action)] = &[
    ("locked-out", Action::LockedOut),
    ("busy", Action::Busy),
    ("error", Action::Error),
];

#[derive(Debug)]
pub struct Rule {
    pub reply: Regex,
    pub request: Option<Regex>,
    /// The stages it applies at; empty: all.
    pub stages: Vec<String>,
    pub then: Action,
    pub reason: Option<String>,
}

#[derive(Debug)]
pub struct Ending {
    pub stages: Vec<String>,
    pub closed: Option<Action>,
    pub reset: Option<Action>,
    pub reason: Option<String>,
}

#[derive(Debug)]
pub struct Warn {
    pub reply: Option<Regex>,
    pub request: Option<Regex>,
    /// Items named by `request`'s `item` group (or its first) that warn; none: any match.
    pub deprecated: Vec<String>,
    /// A session upgraded to a TLS version below this one is warned.
    pub tls_below: Option<u16>,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Identity {
    pub client: Option<Regex>,
    pub account: Option<Regex>,
    pub signature: Vec<Regex>,
}

/// The stage before the client's first request: the server's greeting, or the connection.
pub fn first_stage(server_first: bool) -> &'static str {
    if server_first { "greeting" } else { "connect" }
}

/// The text a group of `caps` holds: `name` if the pattern has it, else the first group,
/// else the whole match.
pub fn group<'t>(caps: &regex::Captures<'t>, name: &str) -> Option<&'t str> {
    caps.name(name)
        .or_else(|| caps.get(1))
        .or_else(|| caps.get(0))
        .map(|m| m.as_str())
}
