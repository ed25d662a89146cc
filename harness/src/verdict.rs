//! The one verdict type: what happened to a client, and which server message decided it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The fates of a client. Every `match` over it names every variant, so a new one cannot be
/// silently ignored by a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum VerdictKind {
    /// The server reached the admission point with no upgrade request.
    Admitted,
    /// Admitted, but the server asked the client to upgrade.
    Warned,
    /// The server ended the session before the admission point.
    LockedOut,
    /// The harness could not judge: refused, timeout, unparseable reply.
    Error,
    /// A recorded session that ended before the server decided anything: the client left,
    /// or the recording did. Only `harness judge` gives it; it is never a lockout.
    Undecided,
}

impl VerdictKind {
    pub const ALL: [VerdictKind; 5] = [
        VerdictKind::Admitted,
        VerdictKind::Warned,
        VerdictKind::LockedOut,
        VerdictKind::Error,
        VerdictKind::Undecided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Admitted => "admitted",
            VerdictKind::Warned => "warned",
            VerdictKind::LockedOut => "locked-out",
            VerdictKind::Error => "error",
            VerdictKind::Undecided => "undecided",
        }
    }

    pub fn parse(text: &str) -> Option<VerdictKind> {
        VerdictKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest stage, reason and deciding message a verdict keeps, in bytes.
pub const MAX_STAGE: usize = 200;
pub const MAX_REASON: usize = 2048;
pub const MAX_DECIDED_BY: usize = 1024;

/// A client's fate with its evidence: the handshake stage, a sentence saying why, and the
/// server message (as text) that decided it, when one did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub stage: String,
    pub reason: String,
    pub decided_by: Option<String>,
    /// Set when the server turned the client away for now (too many connections, rate
    /// limited, shutting down): an `error`, counted apart, never a lockout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy: Option<Busy>,
}

/// A temporary refusal, and when the server said to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Busy {
    /// Seconds from the server's Retry-After (or the dialect's equivalent), when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl Verdict {
    pub fn new(
        kind: VerdictKind,
        stage: impl Into<String>,
        reason: impl Into<String>,
        decided_by: Option<String>,
    ) -> Verdict {
        Verdict {
            kind,
            stage: stage.into(),
            reason: reason.into(),
            decided_by,
            busy: None,
        }
    }

    /// The server was busy: an `error` (nothing about the client's admission is known), whose
    /// reason says so and which reports count apart from other errors.
    pub fn busy(
        stage: impl Into<String>,
        reason: impl Into<String>,
        decided_by: Option<String>,
        retry_after_secs: Option<u64>,
    ) -> Verdict {
        Verdict {
            busy: Some(Busy { retry_after_secs }),
            ..Verdict::new(VerdictKind::Error, stage, reason, decided_by)
        }
    }

    /// The verdict with its texts safe for any report: control characters escaped, the stage,
    /// reason and deciding message capped (a server's 200 KB DISCONNECT text stays a line).
    pub fn bounded(self) -> Verdict {
        use crate::printable::field;
        Verdict {
            stage: field(self.stage, MAX_STAGE),
            reason: field(self.reason, MAX_REASON),
            decided_by: self.decided_by.map(|d| field(d, MAX_DECIDED_BY)),
            ..self
        }
    }

    pub fn is_busy(&self) -> bool {
        self.busy.is_some()
    }

    /// A harness failure: nothing the server said can be judged.
    pub fn error(stage: impl Into<String>, reason: impl Into<String>) -> Verdict {
        Verdict::new(VerdictKind::Error, stage, reason, None)
    }

    /// An admission, or a warning when the policy found `deprecated` items: the reason then
    /// goes on with `lead` and the items joined by `separator`. The one shape of every
    /// dialect's deprecated-list verdict (SSH: `; deprecated: a, b`; TLS: `: a; b`).
    pub fn admitted_or_warned(
        stage: impl Into<String>,
        reason: String,
        deprecated: &[String],
        (lead, separator): (&str, &str),
        decided_by: Option<String>,
    ) -> Verdict {
        if deprecated.is_empty() {
            return Verdict::new(VerdictKind::Admitted, stage, reason, decided_by);
        }
        let reason = format!("{reason}{lead}{}", deprecated.join(separator));
        Verdict::new(VerdictKind::Warned, stage, reason, decided_by)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deprecated_items_turn_an_admission_into_a_warning_that_lists_them() {
        let decided = |deprecated: &[String]| {
            let v = Verdict::admitted_or_warned(
                "kex",
                "ok".into(),
                deprecated,
                ("; deprecated: ", ", "),
                None,
            );
            (v.kind, v.reason)
        };
        assert_eq!(decided(&[]), (VerdictKind::Admitted, "ok".to_string()));
        assert_eq!(
            decided(&["ssh-rsa".into(), "3des-cbc".into()]),
            (
                VerdictKind::Warned,
                "ok; deprecated: ssh-rsa, 3des-cbc".to_string()
            )
        );
    }
}
