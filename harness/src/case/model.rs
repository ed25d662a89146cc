//! The case model: one client presented to a server, as a sequence of steps compiled by its
//! dialect.

use crate::dialect::{Dialect, Identity, Request};
use regex::Regex;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// One client: what it is and what it says.
#[derive(Debug, Clone)]
pub struct Case {
    /// The file stem: how suites, expectations and reports name the case.
    pub id: String,
    /// A human name (`MSN Messenger 6.0`); the id when the file gives none.
    pub name: String,
    pub path: PathBuf,
    pub description: Option<String>,
    /// The dialect the case speaks: its own `dialect`, else the suite's.
    pub dialect: &'static dyn Dialect,
    pub identity: Option<Identity>,
    pub variables: BTreeMap<String, String>,
    pub steps: Vec<Step>,
    /// What can tell a recorded client from namesakes (the dialect's distinctions), for a
    /// name the suite makes distinct; empty where the name was written.
    pub distinctions: Vec<String>,
    pub origin: Origin,
}

/// Where a case's steps come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Written by hand.
    Script,
    /// Replayed from a recorded session.
    Capture {
        source: String,
        sha256: Option<String>,
    },
}

/// One message the client sends, and what it makes of the reply.
#[derive(Debug, Clone)]
pub struct Step {
    /// What to send, compiled by the case's dialect when the case loaded.
    pub request: Arc<dyn Request>,
    /// The reply must match, or the client gives up.
    pub expect: Option<Regex>,
    /// Named groups become variables when the reply matches; no match is not a failure.
    pub capture: Option<Regex>,
    /// The step runs only if every condition holds.
    pub conditions: Vec<Condition>,
    /// The server's reply to this message in the recording, described, for replayed captures.
    pub recorded_reply: Option<String>,
    /// Where the step is written (`cases/x.toml:12`), for messages at run time.
    pub location: String,
}

/// `when = { var = "regex" }` (or `unless`): a guard on a variable captured earlier.
#[derive(Debug, Clone)]
pub struct Condition {
    pub variable: String,
    pub pattern: Regex,
    pub negated: bool,
}

impl Condition {
    /// Whether the condition holds; an unset variable matches nothing.
    pub fn holds(&self, values: &BTreeMap<String, String>) -> bool {
        let matched = values
            .get(&self.variable)
            .is_some_and(|v| self.pattern.is_match(v));
        matched != self.negated
    }
}
