//! Reading a reply by the file's rules, in order: the first rule whose reply pattern, request
//! pattern and stages all match says what it means. Warnings and endings are looked up here too.

use super::spec::{Action, Spec, group};
use crate::dialect::tls::names::version_name;

/// What the rules make of one reply: the action and the reason the file gives, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading<'s> {
    pub action: Action,
    pub reason: Option<&'s str>,
}

/// The first rule matching `reply` to `request` (the line last sent) at `stage`; a reply no
/// rule matches answers the request and decides nothing.
pub fn read<'s>(spec: &'s Spec, stage: &str, request: &str, reply: &str) -> Reading<'s> {
    spec.rules
        .iter()
        .find(|rule| {
            (rule.stages.is_empty() || rule.stages.iter().any(|s| s == stage))
                && rule.request.as_ref().is_none_or(|p| p.is_match(request))
                && rule.reply.is_match(reply)
        })
        .map_or(
            Reading {
                action: Action::Continue,
                reason: None,
            },
            |rule| Reading {
                action: rule.then,
                reason: rule.reason.as_deref(),
            },
        )
}

/// The warnings a line the client sent earns: a deprecated item it names, or its pattern.
pub fn request_warnings(spec: &Spec, line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for warn in &spec.warns {
        let Some(caps) = warn.request.as_ref().and_then(|p| p.captures(line)) else {
            continue;
        };
        if warn.deprecated.is_empty() {
            out.push(warn.reason.clone());
            continue;
        }
        if let Some(item) = group(&caps, "item")
            && warn.deprecated.iter().any(|d| d.eq_ignore_ascii_case(item))
        {
            out.push(format!("{} ({item})", warn.reason));
        }
    }
    out
}

/// The warnings a session upgraded to TLS `version` earns: each `tls_below` it is under.
pub fn tls_warnings(spec: &Spec, version: u16) -> Vec<String> {
    spec.warns
        .iter()
        .filter(|w| w.tls_below.is_some_and(|below| version < below))
        .map(|w| format!("{} ({} negotiated)", w.reason, version_name(version)))
        .collect()
}

/// The warnings a server reply carries (a notice to upgrade).
pub fn reply_warnings(spec: &Spec, reply: &str) -> Vec<String> {
    spec.warns
        .iter()
        .filter(|w| w.reply.as_ref().is_some_and(|p| p.is_match(reply)))
        .map(|w| w.reason.clone())
        .collect()
}

/// How a close (`reset` false) or reset at `stage` is judged, and the file's reason: by the
/// first ending naming the stage (or naming none); a close locks out, a reset is an error,
/// where the file says nothing.
pub fn ending<'s>(spec: &'s Spec, stage: &str, reset: bool) -> Reading<'s> {
    let found = spec
        .endings
        .iter()
        .filter(|e| e.stages.is_empty() || e.stages.iter().any(|s| s == stage))
        .find_map(|e| {
            let action = if reset { e.reset } else { e.closed };
            action.map(|action| Reading {
                action,
                reason: e.reason.as_deref(),
            })
        });
    found.unwrap_or(Reading {
        action: if reset {
            Action::Error
        } else {
            Action::LockedOut
        },
        reason: None,
    })
}
