//! One recorded session judged: the client's messages noted as sent, the server's fed to the
//! classifier, until it decides or the recording ends.

use super::tls_opening::{self, Opening};
use crate::capture::CaptureFile;
use crate::decrypt::{self, Entry};
use crate::dialect::tls::names;
use crate::dialect::{self, Dialect, Ending, Identity};
use crate::direction::Direction;
use crate::report::CaseResult;
use crate::runner::Transcript;
use crate::verdict::{Verdict, VerdictKind};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::time::Duration;

/// Transcript bytes kept per judged session: the handshake, not the chat after it.
const TRANSCRIPT_LIMIT: usize = 8 * 1024;

/// A judged session: its result row, and who the client was for the impact lines.
pub struct Judged {
    pub result: CaseResult,
    /// The client as the recording shows it (`MSNMSGR 5.0.0544`, else its offered versions).
    pub client: String,
    /// The account it logged in as, where the dialect knows it.
    pub account: Option<String>,
    /// Which distinct client it is, as `import --group` tells them apart.
    pub key: crate::clients::ClientKey,
    /// When the session began (RFC 3339, UTC).
    pub started: String,
}

fn undecided(stage: &str, reason: impl Into<String>) -> Verdict {
    Verdict::new(VerdictKind::Undecided, stage, reason, None)
}

/// Judges session `number` of a recording by its recorded replies.
pub fn judge(
    dialect: &'static dyn Dialect,
    number: usize,
    capture: &CaptureFile,
    settings: &dialect::Settings,
) -> Judged {
    let whole = Read {
        whole: true,
        last_at_ms: None,
    };
    judge_read(dialect, number, capture, settings, whole)
        .expect("a whole recording needs nothing more")
}

/// How much of a session's recording was read: all of it, or only its first messages (the
/// rest framed when asked for); and when its last piece came, where known (a pcap's
/// connection: else the time of its last message counts).
#[derive(Debug, Clone, Copy)]
pub struct Read {
    pub whole: bool,
    pub last_at_ms: Option<f64>,
}

/// Judges session `number` of a recording of which `read` was read; `None` when its
/// first messages decide nothing (or go into TLS): then the whole recording is needed.
pub fn judge_read(
    dialect: &'static dyn Dialect,
    number: usize,
    capture: &CaptureFile,
    settings: &dialect::Settings,
    read: Read,
) -> Option<Judged> {
    let c = &capture.capture;
    let declared = c.identity();
    let client = match &declared {
        Some(id) => id.to_string(),
        None => c
            .versions
            .clone()
            .unwrap_or_else(|| "unknown client".into()),
    };
    let mut transcript = Transcript::new(TRANSCRIPT_LIMIT);
    let verdict = verdict_of(
        dialect,
        capture,
        declared.as_ref(),
        settings,
        &mut transcript,
        read.whole,
    )
    .ok()?
    .bounded();
    let last_at_ms = read
        .last_at_ms
        .or_else(|| capture.messages.last().map(|m| m.at_ms));
    let duration = last_at_ms.map_or(
        Duration::ZERO,
        crate::runner::transcript::millis_to_duration,
    );
    Some(Judged {
        result: CaseResult {
            case_index: number,
            target_index: 0,
            // Numbered by the caller once the sessions are in connection order.
            case: c.client.clone(),
            name: client.clone(),
            target: c.server.clone(),
            suite_target: None,
            dialect: dialect.name(),
            verdict,
            expected: None,
            duration,
            transcript,
            divergences: Vec::new(),
            exchanges: Vec::new(),
            sessions: None,
        },
        client,
        account: c.account.clone(),
        key: crate::clients::ClientKey::of(dialect, capture),
        started: c.first_timestamp.clone(),
    })
}

/// The session's first messages decided nothing: the rest of its recording is needed.
struct NeedsTheRest;

fn verdict_of(
    dialect: &dyn Dialect,
    capture: &CaptureFile,
    declared: Option<&Identity>,
    settings: &dialect::Settings,
    transcript: &mut Transcript,
    whole: bool,
) -> Result<Verdict, NeedsTheRest> {
    let tls = capture.capture.tls.as_ref();
    let Some(first) = capture.first_client_message() else {
        // A TLS session that stopped before its first inner message says why.
        let why = tls.and_then(|t| t.stopped.clone());
        return Ok(undecided(
            "connect",
            why.unwrap_or_else(|| "the client sent nothing".into()),
        ));
    };
    let decrypted = tls.is_some_and(|t| t.decrypted.is_some());
    // What the harness cannot see is undecided: an encrypted session, unless its messages
    // here are the decrypted inner protocol's.
    let encrypted = |stage: &str, entry: Entry| {
        let reason = tls
            .and_then(|t| t.stopped.clone())
            .unwrap_or_else(|| entry.undecided().to_string());
        undecided(stage, reason)
    };
    if !decrypted && !dialect.speaks_tls() && decrypt::is_client_hello(&first) {
        transcript.push(Direction::Client, Duration::ZERO, &first);
        return Ok(encrypted("TLS", Entry::FirstByte));
    }
    if let Some(why) = capture.missing_handshake(dialect) {
        return Ok(undecided(
            "mid-connection",
            format!("{why}: no verdict is claimed"),
        ));
    }
    let mut conversation = dialect.conversation(declared, settings);
    conversation.declare(&implied_variables(dialect, capture, whole));
    for (index, message) in capture.messages.iter().enumerate() {
        let at = crate::runner::transcript::millis_to_duration(message.at_ms);
        let Some(bytes) = message.bytes() else {
            return Ok(conversation.pending().unwrap_or_else(|| {
                undecided(
                    &conversation.stage(),
                    "bytes were lost from the recording before any decision",
                )
            }));
        };
        transcript.push(message.from, at, &bytes);
        match message.from {
            Direction::Client => {
                conversation.observe_sent(&bytes);
                if conversation.tls_follows() && !decrypted {
                    // What follows is TLS: read as the whole recording reads it.
                    if !whole {
                        return Err(NeedsTheRest);
                    }
                    return Ok(encrypted(&conversation.stage(), Entry::Upgrade));
                }
            }
            Direction::Server => {
                let received = conversation.receive(Bytes::from(bytes));
                if let Some(verdict) = received.verdict {
                    return Ok(verdict);
                }
                if received.upgrade_to_tls {
                    if !whole {
                        return Err(NeedsTheRest);
                    }
                    let after = &capture.messages[index + 1..];
                    if let Some(verdict) =
                        upgraded(conversation.as_mut(), capture, after, &encrypted)
                    {
                        return Ok(verdict);
                    }
                }
            }
        }
    }
    if !whole {
        return Err(NeedsTheRest);
    }
    // A TLS session read only in part: how it ends says nothing of the inner protocol.
    if let Some(stopped) = tls.and_then(|t| t.stopped.as_ref()) {
        return Ok(conversation
            .pending()
            .unwrap_or_else(|| undecided(&conversation.stage(), stopped.clone())));
    }
    Ok(ending(conversation.as_mut(), capture))
}

/// After the server agreed to upgrade: the verdict the clear part of the TLS handshake gives
/// (a refusal), else the undecided one of a session left encrypted; `None` when the messages
/// that follow are the decrypted inner protocol's, the version the key log's session used
/// having been told to the conversation (a dialect may warn it).
fn upgraded(
    conversation: &mut dyn dialect::Conversation,
    capture: &CaptureFile,
    after: &[crate::capture::RecordedMessage],
    encrypted: &dyn Fn(&str, Entry) -> Verdict,
) -> Option<Verdict> {
    let decrypted = capture
        .capture
        .tls
        .as_ref()
        .and_then(|t| t.decrypted.as_ref());
    if let Some(decrypted) = decrypted {
        let version = decrypted
            .split([' ', ','])
            .next()
            .and_then(names::version_code);
        if let Some(version) = version {
            conversation.tls_negotiated(version);
        }
        return None;
    }
    let c = &capture.capture;
    let server_ended = match c.closed_by {
        Some(Direction::Server) if server_reset(c) => Some(Ending::Reset),
        Some(Direction::Server) => Some(Ending::Closed),
        _ => None,
    };
    let stage = conversation.stage();
    Some(match tls_opening::read(after, server_ended) {
        Opening::Refused(verdict) => verdict,
        Opening::Chosen(version) => {
            let warnings = conversation.tls_negotiated(version);
            let left = encrypted(&stage, Entry::Upgrade);
            if warnings.is_empty() {
                return Some(left);
            }
            let reason = format!(
                "the server chose {} (warned: {}); {}",
                names::version_name(version),
                warnings.join("; "),
                left.reason
            );
            undecided(&stage, reason)
        }
        Opening::Unread => encrypted(&stage, Entry::Upgrade),
    })
}

/// The variables a replay of the recording would run with: what the recording implies of its
/// client (a PostgreSQL client that hung up when refused TLS requires it), then what the
/// capture case declares, which outranks it (as `case::from_capture` has it).
///
/// Of a session read only as far as its first messages (`whole` false), the client went on
/// past them: it did not hang up after its first message, which is what a dialect reads from
/// the last one.
fn implied_variables(
    dialect: &dyn Dialect,
    capture: &CaptureFile,
    whole: bool,
) -> BTreeMap<String, String> {
    let last = match whole {
        true => capture
            .messages
            .iter()
            .rev()
            .filter(|m| m.from == Direction::Client)
            .find_map(|m| m.bytes())
            .unwrap_or_default(),
        false => Vec::new(),
    };
    dialect
        .replay_ending(&last)
        .variables
        .into_iter()
        .chain(capture.variables.clone())
        .collect()
}

/// The verdict of a session whose recorded messages decided nothing: by how it ended.
fn ending(conversation: &mut dyn dialect::Conversation, capture: &CaptureFile) -> Verdict {
    let c = &capture.capture;
    let stage = conversation.stage();
    if conversation.client_left() {
        return conversation
            .pending()
            .unwrap_or_else(|| undecided(&stage, "the client signed out before any decision"));
    }
    match (c.ended_by.as_str(), c.closed_by) {
        ("end-of-capture", _) => conversation.pending().unwrap_or_else(|| {
            undecided(&stage, "the capture ended before any decision")
        }),
        (_, Some(Direction::Client)) => conversation.pending().unwrap_or_else(|| {
            undecided(&stage, "the client left before any decision (it closed first)")
        }),
        (_, Some(Direction::Server)) if server_reset(c) => conversation.ended(Ending::Reset),
        (_, Some(Direction::Server)) => conversation.ended(Ending::Closed),
        (_, None) => conversation.pending().unwrap_or_else(|| {
            undecided(
                &stage,
                "the session ended before any decision, and the recording does not say which side closed",
            )
        }),
    }
}

/// Whether the server, closing first, closed with a reset: a reset the client sent after the
/// server's FIN, or one the server sent after its own FIN, is not how the server closed.
/// Cases recorded before resets were put down to their senders say only that one ended them.
fn server_reset(c: &crate::capture::Provenance) -> bool {
    match c.reset_by {
        Some(_) => c.closed_by_reset,
        None => c.ended_by == "reset",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STARTUP: &str = "000000160003000075736572006861726e6573730000";
    const SSL_REQUEST: &str = "0000000804d2162f";

    fn judged(capture: &str, messages: &[(&str, &str)]) -> Verdict {
        let mut text = format!(
            "[capture]\ndialect = \"postgres\"\nsource = \"x\"\nclient = \"127.0.0.1:40000\"\nserver = \"127.0.0.1:5432\"\nfirst_timestamp = \"t\"\nversions = \"protocol 3.0\"\nclient_name = \"psql\"\nclient_version = \"\"\naccount = \"harness\"\n{capture}\n"
        );
        for (i, (from, hex)) in messages.iter().enumerate() {
            text += &format!("[[message]]\nfrom = \"{from}\"\nat_ms = {i}.0\nhex = \"{hex}\"\n");
        }
        let capture: CaptureFile = toml::from_str(&text).unwrap();
        let postgres = dialect::by_name("postgres").unwrap();
        judge(postgres, 0, &capture, &dialect::Settings::none())
            .result
            .verdict
    }

    #[test]
    fn a_reset_the_client_sent_after_the_servers_close_is_not_the_servers() {
        let startup = [("client", STARTUP)];
        let verdict = judged(
            "ended_by = \"reset\"\nclosed_by = \"server\"\nreset_by = \"client\"",
            &startup,
        );
        assert_eq!(verdict.kind, VerdictKind::LockedOut);
        assert!(
            verdict.reason.contains("the server closed the connection"),
            "{}",
            verdict.reason
        );
        let verdict = judged(
            "ended_by = \"reset\"\nclosed_by = \"server\"\nclosed_by_reset = true\nreset_by = \"server\"",
            &startup,
        );
        assert!(
            verdict.reason.contains("the server reset the connection"),
            "{}",
            verdict.reason
        );
        // Recorded before resets were put down to their senders: the reset ended it.
        let verdict = judged("ended_by = \"reset\"\nclosed_by = \"server\"", &startup);
        assert!(
            verdict.reason.contains("the server reset the connection"),
            "{}",
            verdict.reason
        );
    }

    #[test]
    fn an_encrypted_session_is_undecided_never_a_lockout_from_its_teardown() {
        // SSLRequest, 'S', then TLS records; the server reset on the client's late close_notify.
        let messages = [
            ("client", SSL_REQUEST),
            ("server", "53"),
            ("client", "160301000401000000"),
            ("server", "1603030004020000001503030002010015"),
        ];
        let verdict = judged(
            "ended_by = \"reset\"\nclosed_by = \"server\"\nclosed_by_reset = true\nreset_by = \"server\"",
            &messages,
        );
        assert_eq!(verdict.kind, VerdictKind::Undecided);
        assert_eq!(verdict.stage, "SSLRequest");
        assert_eq!(
            verdict.reason,
            "encrypted after the TLS upgrade; --keylog FILE decrypts it"
        );
        // From the first byte: the ClientHello is the client's first message.
        let verdict = judged("ended_by = \"fin\"\nclosed_by = \"server\"", &messages[2..]);
        assert_eq!(verdict.kind, VerdictKind::Undecided);
        assert_eq!(
            verdict.reason,
            "encrypted from the first byte; --keylog FILE decrypts it"
        );
        // Decrypted in part: what stopped it is the reason, not the teardown.
        let verdict = judged(
            "ended_by = \"reset\"\nclosed_by = \"server\"\nclosed_by_reset = true\nreset_by = \"server\"\n[capture.tls]\ndecrypted = \"TLSv1.3\"\nstopped = \"the server's TLS record 3 failed to authenticate\"",
            &[
                ("client", SSL_REQUEST),
                ("server", "53"),
                ("client", STARTUP),
            ],
        );
        assert_eq!(verdict.kind, VerdictKind::Undecided);
        assert_eq!(
            verdict.reason,
            "the server's TLS record 3 failed to authenticate"
        );
    }

    #[test]
    fn a_client_that_hangs_up_when_refused_tls_is_judged_as_its_replay_is() {
        // psql with sslmode=require against a server without TLS: 'N', and psql leaves.
        let refused = [("client", SSL_REQUEST), ("server", "4e")];
        let verdict = judged("ended_by = \"fin\"\nclosed_by = \"client\"", &refused);
        assert_eq!(verdict.kind, VerdictKind::LockedOut, "{}", verdict.reason);
        assert_eq!(verdict.stage, "SSLRequest");
        assert_eq!(
            verdict.reason,
            "the server declined TLS, and the client requires it (sslmode=require)"
        );
        // What a reviewer declared outranks what the recording implies.
        let verdict = judged(
            "ended_by = \"fin\"\nclosed_by = \"client\"\n[variables]\nsslmode = \"prefer\"",
            &refused,
        );
        assert_eq!(verdict.kind, VerdictKind::Undecided, "{}", verdict.reason);
        // A client that went on in the clear required nothing.
        let verdict = judged(
            "ended_by = \"fin\"\nclosed_by = \"client\"",
            &[
                refused[0],
                refused[1],
                ("client", STARTUP),
                ("server", "520000000800000000"),
            ],
        );
        assert_eq!(verdict.kind, VerdictKind::Admitted, "{}", verdict.reason);
    }
}
