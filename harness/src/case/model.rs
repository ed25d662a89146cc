//! The case model: one client presented to a server, as a sequence of steps.

use super::Template;
use crate::dialect::Identity;
use regex::Regex;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One client: what it is and what it says.
#[derive(Debug, Clone)]
pub struct Case {
    /// The file stem: how suites, expectations and reports name the case.
    pub id: String,
    /// A human name (`MSN Messenger 6.0`); the id when the file gives none.
    pub name: String,
    pub path: PathBuf,
    pub description: Option<String>,
    /// Overrides the suite's dialect.
    pub dialect: Option<String>,
    pub identity: Option<Identity>,
    pub variables: BTreeMap<String, String>,
    pub steps: Vec<Step>,
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
    pub send: Template,
    /// A body for payload commands; the dialect frames it (MSNP appends its length).
    pub body: Option<Template>,
    /// The reply must match, or the client gives up.
    pub expect: Option<Regex>,
    /// Named groups become variables when the reply matches; no match is not a failure.
    pub capture: Option<Regex>,
    /// The step runs only if every condition holds.
    pub conditions: Vec<Condition>,
    /// The server's reply to this message in the recording, for replayed captures.
    pub recorded_reply: Option<String>,
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
