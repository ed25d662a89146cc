//! A capture case as a [`Case`]: each recorded client message becomes a step, compiled by the
//! dialect for replay (what it changes is the dialect's [`replay_note`]), with the server's
//! recorded reply kept beside it for comparison.
//!
//! [`replay_note`]: crate::dialect::Wire::replay_note

use super::{Case, Origin, Step};
use crate::capture::{CaptureFile, RecordedMessage};
use crate::dialect::{self, Dialect, Settings};
use crate::direction::Direction;
use crate::source::{self, SourceError};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

pub fn case_from_capture(
    path: &Path,
    text: &str,
    known: &BTreeSet<String>,
    settings: &Settings,
) -> Result<Case, SourceError> {
    let mut capture: CaptureFile =
        toml::from_str(text).map_err(|e| source::from_toml(path, text, &e))?;
    let at_start = |message: String| SourceError::at(path, text, None, message);
    let Some(dialect) = dialect::by_name(&capture.capture.dialect) else {
        return Err(at_start(dialect::unknown(&capture.capture.dialect)));
    };
    capture.identify_in(dialect, settings);
    let account = capture.capture.account.as_deref();
    if account.is_some()
        && let Some(variable) = dialect.account_variable()
        && !known.contains(variable)
    {
        return Err(at_start(format!(
            "this capture's account is replayed as {{{variable}}}, which the suite does not define"
        ))
        .with_help(format!(
            "add `{variable} = \"...\"` to the suite's [variables]"
        )));
    }
    for (name, value) in &capture.variables {
        if let Err(e) = dialect.check_variable(name, value) {
            // The key's line: the capture's [variables] table keeps no spans of its own.
            let span = text
                .find(&format!("\n{name}"))
                .map(|at| at + 1..at + 1 + name.len());
            return Err(SourceError::at(path, text, span, e));
        }
    }
    let messages = &capture.messages;
    if let Some(mid) = capture.missing_handshake(dialect) {
        return Err(at_start(format!(
            "this session has no {} handshake ({mid}): there is nothing to replay and no verdict to claim",
            dialect.name()
        ))
        .with_help("leave it out of the suite; `harness import` flags such sessions"));
    }
    let mut steps = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        if message.from != Direction::Client {
            continue;
        }
        let number = index + 1;
        let Some(bytes) = message.bytes() else {
            return Err(at_start(format!(
                "message {number} is a gap: bytes the client sent were never captured, so the session cannot be replayed"
            )));
        };
        let request = dialect
            .replay(&bytes, account)
            .map_err(|why| at_start(format!("message {number} cannot be replayed: {why}")))?;
        steps.push(Step {
            request: Arc::from(request),
            expect: None,
            capture: None,
            conditions: Vec::new(),
            recorded_reply: recorded_reply(dialect, &bytes, &messages[index + 1..]),
            location: format!("{} message {number}", path.display()),
        });
    }
    if steps.is_empty() {
        return Err(at_start(
            "the capture holds no client message to replay".to_string(),
        ));
    }
    let last = messages
        .iter()
        .rev()
        .filter(|m| m.from == Direction::Client)
        .find_map(|m| m.bytes())
        .unwrap_or_default();
    let ending = dialect.replay_ending(&last);
    for (request, why) in ending.steps {
        steps.push(Step {
            request: Arc::from(request),
            expect: None,
            capture: None,
            conditions: Vec::new(),
            recorded_reply: None,
            location: format!("{} (added: {why})", path.display()),
        });
    }
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let c = &capture.capture;
    let identity = c.identity();
    // A name a reviewer (or `import --group`) gave stands as written.
    let name = match (c.name.as_ref().filter(|n| !n.trim().is_empty()), &identity) {
        (Some(name), _) => name.clone(),
        (None, Some(identity)) => format!("{identity} (captured)"),
        (None, None) => format!(
            "{} (captured)",
            c.versions.as_deref().unwrap_or("unknown client")
        ),
    };
    let client = crate::capture::file::client_messages(messages, 16);
    let client: Vec<&[u8]> = client.iter().map(|m| &**m).collect();
    let distinctions = match c.name.as_ref().filter(|n| !n.trim().is_empty()) {
        Some(_) => Vec::new(),
        None => dialect.distinctions(&client),
    };
    Ok(Case {
        id,
        name,
        path: path.to_path_buf(),
        description: Some(format!(
            "recorded {} → {} in {}",
            c.client, c.server, c.source
        )),
        dialect,
        identity,
        // What the reviewer declared outranks what the recording implies.
        variables: ending
            .variables
            .into_iter()
            .chain(capture.variables.clone())
            .collect(),
        steps,
        distinctions,
        origin: Origin::Capture {
            source: c.source.clone(),
            sha256: c.sha256.clone(),
        },
    })
}

/// The recorded server message that answered `request`, before the client's next message,
/// as the dialect describes it.
fn recorded_reply(
    dialect: &dyn Dialect,
    request: &[u8],
    after: &[RecordedMessage],
) -> Option<String> {
    after
        .iter()
        .take_while(|m| m.from == Direction::Server)
        .filter_map(RecordedMessage::bytes)
        .find(|reply| dialect.answers(request, reply))
        .map(|reply| dialect.describe(Direction::Server, &reply))
}
