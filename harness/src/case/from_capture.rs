//! A capture case as a [`Case`]: each recorded client message becomes a step, made replayable
//! by the dialect (MSNP: TrIDs renumbered, the account replaced by `{email}`), with the server's
//! recorded reply kept beside it for comparison.

use super::{Case, Origin, Step, Template};
use crate::capture::{CaptureFile, RecordedMessage};
use crate::dialect::{self, Direction, Identity};
use crate::source::{self, SourceError};
use std::collections::BTreeSet;
use std::path::Path;

pub fn case_from_capture(
    path: &Path,
    text: &str,
    known: &BTreeSet<String>,
) -> Result<Case, SourceError> {
    let capture: CaptureFile =
        toml::from_str(text).map_err(|e| source::from_toml(path, text, &e))?;
    let at_start = |message: String| SourceError::at(path, text, None, message);
    let Some(dialect) = dialect::by_name(&capture.capture.dialect) else {
        return Err(at_start(format!(
            "unknown dialect `{}`",
            capture.capture.dialect
        )));
    };
    let account = capture.capture.account.as_deref();
    if account.is_some() && !known.contains("email") {
        return Err(at_start(
            "this capture's account is replayed as {email}, which the suite does not define"
                .to_string(),
        )
        .with_help("add `email = \"...\"` to the suite's [variables]"));
    }
    let messages = &capture.messages;
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
        let Some(step) = dialect.replay_step(&bytes, account) else {
            return Err(at_start(format!(
                "message {number} is not a whole {} message and cannot be replayed",
                dialect.name()
            )));
        };
        let template = |text: &str| {
            Template::parse(text).map_err(|e| at_start(format!("message {number}: {}", e.message)))
        };
        steps.push(Step {
            send: template(&step.send)?,
            body: step.body.as_deref().map(template).transpose()?,
            expect: None,
            capture: None,
            conditions: Vec::new(),
            recorded_reply: recorded_reply(dialect, &bytes, &messages[index + 1..]),
        });
    }
    if steps.is_empty() {
        return Err(at_start(
            "the capture holds no client message to replay".to_string(),
        ));
    }
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let c = &capture.capture;
    let identity = match (&c.client_name, &c.client_version) {
        (Some(client), Some(version)) => Some(Identity {
            client: client.clone(),
            version: version.clone(),
        }),
        _ => None,
    };
    let name = match &identity {
        Some(identity) => format!("{} {} (captured)", identity.client, identity.version),
        None => format!(
            "{} (captured)",
            c.versions.as_deref().unwrap_or("unknown client")
        ),
    };
    Ok(Case {
        id,
        name,
        path: path.to_path_buf(),
        description: Some(format!(
            "recorded {} → {} in {}",
            c.client, c.server, c.source
        )),
        dialect: Some(c.dialect.clone()),
        identity,
        variables: Default::default(),
        steps,
        origin: Origin::Capture {
            source: c.source.clone(),
            sha256: c.sha256.clone(),
        },
    })
}

/// The recorded server message that answered `request`, before the client's next message.
fn recorded_reply(
    dialect: &dyn dialect::Dialect,
    request: &[u8],
    after: &[RecordedMessage],
) -> Option<String> {
    after
        .iter()
        .take_while(|m| m.from == Direction::Server)
        .filter_map(RecordedMessage::bytes)
        .find(|reply| dialect.answers(request, reply))
        .map(|reply| match std::str::from_utf8(&reply) {
            Ok(text) => text.to_string(),
            Err(_) => dialect.describe(Direction::Server, &reply),
        })
}
