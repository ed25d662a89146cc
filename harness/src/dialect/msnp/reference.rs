//! MSNP's reference server as the core's server traits see it: policy files load through
//! [`Policy::load`], and each connection is a [`Session`] fed framed client messages.

use super::codec::{self, Limits, Sender};
use super::policy::Policy;
use super::session::Session;
use crate::date::Date;
use crate::server::{Action, ReferenceServer, ServerPolicy, ServerSession};
use crate::source::SourceError;
use bytes::BytesMut;
use std::path::Path;
use std::sync::Arc;

/// The limits the server holds clients to: real client lines and bodies are far smaller.
const CLIENT_LIMITS: Limits = Limits {
    max_line: 8 * 1024,
    max_body: 64 * 1024,
};

/// Loads MSNP admission policies.
pub struct MsnpServer;

impl ReferenceServer for MsnpServer {
    fn load_policy(&self, path: &Path) -> Result<Arc<dyn ServerPolicy>, SourceError> {
        Ok(Arc::new(Policy::load(path)?))
    }
}

impl ServerPolicy for Policy {
    fn name(&self) -> &str {
        &self.name
    }

    fn in_force(&self, as_of: Date) -> Result<String, String> {
        let phase = self.phase_at(as_of)?;
        Ok(format!(
            "policy \"{}\", phase \"{}\" (from {}; below the minimum: {})",
            self.name,
            phase.name,
            phase.from,
            phase.below_minimum.as_str()
        ))
    }

    fn phase(&self, as_of: Date) -> Option<String> {
        let phase = self.phase_at(as_of).ok()?;
        Some(format!("{} (from {})", phase.name, phase.from))
    }

    fn session(&self, as_of: Date) -> Option<Box<dyn ServerSession + '_>> {
        let phase = self.phase_at(as_of).ok()?;
        Some(Box::new(Session::new(self, phase, as_of)))
    }
}

impl ServerSession for Session<'_> {
    fn handle(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Action>>, String> {
        let Some((message, _)) =
            codec::decode(buf, Sender::Client, &CLIENT_LIMITS).map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let signing_out = message.command == "OUT";
        let mut actions = Session::handle(self, &message);
        for action in &mut actions {
            if signing_out && *action == Action::Close {
                *action = Action::ClientLeft;
            }
        }
        Ok(Some(actions))
    }

    fn admitted(&self) -> bool {
        self.decision()
            .is_some_and(|d| d.verdict != crate::verdict::VerdictKind::LockedOut)
    }

    fn summary(&self) -> String {
        let client = self.client().unwrap_or_else(|| "(no CVR)".to_string());
        let protocol = self.protocol().unwrap_or_else(|| "-".to_string());
        let (verdict, reason) = match self.decision() {
            Some(d) => (d.verdict.as_str(), d.reason.as_str()),
            None => ("undecided", "left before the admission point"),
        };
        format!("{client} {protocol} {verdict}: {reason}")
    }
}
