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

/// A client's fate with its evidence: the handshake stage, a sentence saying why, and the
/// server message (as text) that decided it, when one did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub kind: VerdictKind,
    pub stage: String,
    pub reason: String,
    pub decided_by: Option<String>,
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
        }
    }

    /// A harness failure: nothing the server said can be judged.
    pub fn error(stage: impl Into<String>, reason: impl Into<String>) -> Verdict {
        Verdict::new(VerdictKind::Error, stage, reason, None)
    }
}
