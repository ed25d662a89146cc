//! Naming and grouping a recorded client by the file's patterns: who it says it is (the EHLO
//! argument, IMAP's ID), the account, and its signature (what the server sees of its
//! handshake, with what changes from session to session replaced by the file's patterns).

use super::framer;
use super::spec::{Spec, group};
use crate::dialect::{Identity, RecordedIdentity};

/// How many of the client's first lines are read for its signature.
const SIGNATURE_LINES: usize = 16;

pub fn recorded(spec: &Spec, client_messages: &[&[u8]]) -> RecordedIdentity {
    let mut identity = RecordedIdentity::default();
    for message in client_messages {
        let line = framer::text(message);
        if identity.client.is_none()
            && let Some(caps) = spec
                .identity
                .client
                .as_ref()
                .and_then(|p| p.captures(&line))
        {
            identity.client = group(&caps, "name").map(|name| Identity {
                client: name.to_string(),
                version: caps
                    .name("version")
                    .map_or_else(String::new, |v| v.as_str().to_string()),
            });
        }
        if identity.account.is_none()
            && let Some(caps) = spec
                .identity
                .account
                .as_ref()
                .and_then(|p| p.captures(&line))
        {
            identity.account = group(&caps, "account").map(str::to_string);
        }
    }
    identity
}

/// What the file's signature patterns match in the client's first lines (a pattern's first
/// group, if it has one), in order, each normalised; without patterns, the first line normalised.
pub fn signature(spec: &Spec, client_messages: &[&[u8]]) -> String {
    let lines: Vec<String> = client_messages
        .iter()
        .take(SIGNATURE_LINES)
        .map(|m| framer::text(m))
        .collect();
    if spec.identity.signature.is_empty() {
        return lines
            .first()
            .map(|l| normalize(spec, l))
            .unwrap_or_default();
    }
    parts(spec, &lines).join(" | ")
}

/// The signature's parts after the first (which names the client): what tells it apart.
pub fn distinctions(spec: &Spec, client_messages: &[&[u8]]) -> Vec<String> {
    let lines: Vec<String> = client_messages
        .iter()
        .take(SIGNATURE_LINES)
        .map(|m| framer::text(m))
        .collect();
    let mut parts = parts(spec, &lines);
    parts.dedup();
    parts.into_iter().skip(1).collect()
}

fn parts(spec: &Spec, lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .flat_map(|line| {
            spec.identity
                .signature
                .iter()
                .filter_map(|p| p.captures(line))
                .filter_map(|c| c.get(1).or_else(|| c.get(0)))
                .map(|m| normalize(spec, m.as_str()))
                .take(1)
        })
        .collect()
}

/// A described message redacted, then with the file's normalisations: a recorded reply and a
/// live one compare equal when they mean the same.
pub fn normalize(spec: &Spec, text: &str) -> String {
    spec.normalize.apply(&spec.redact.apply(text))
}
