//! The MSNP framer and classifier. The framer never panics and never buffers past its limits;
//! the classifier, fed any server replies after a real client's opening, never panics and
//! only ever names a message the server actually sent.

use crate::campaign::check;
use crate::feed::feed;
use bytes::BytesMut;
use harness::dialect::msnp::{Limits, Sender, codec};
use harness::dialect::{Ending, FrameError, Identity, Settings, text_step};
use harness::direction::Direction;
use harness::verdict::VerdictKind;
use proptest::prelude::*;
use std::collections::BTreeMap;

#[test]
fn framer_never_panics_and_never_buffers_past_its_limits() {
    let strategy = (
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..40),
        any::<bool>(),
    );
    check(
        "framer_never_panics_and_never_buffers_past_its_limits",
        file!(),
        strategy,
        |(chunks, server)| {
            let sender = if server {
                Sender::Server
            } else {
                Sender::Client
            };
            let limits = Limits {
                max_line: 512,
                max_body: 1024,
            };
            // Waiting for more only while a message could still fit the limits.
            let most = limits.max_line + 2 + limits.max_body;
            feed(
                chunks,
                most,
                |buf| codec::decode(buf, sender, &limits),
                |_| Ok(()),
            )
        },
    );
}

#[test]
fn framer_accepts_msnp_shaped_noise() {
    let strategy = (
        "[A-Z0-9]{3}",
        prop::collection::vec("[!-~]{1,12}", 0..6),
        prop::collection::vec(any::<u8>(), 0..64),
    );
    check(
        "framer_accepts_msnp_shaped_noise",
        file!(),
        strategy,
        |(command, args, body)| {
            let line = std::iter::once(command)
                .chain(args)
                .collect::<Vec<_>>()
                .join(" ");
            let bytes = codec::encode(&line, Some(&body));
            let mut buf = BytesMut::from(&bytes[..]);
            let _ = codec::decode(&mut buf, Sender::Server, &Limits::default());
            Ok(())
        },
    );
}

/// A real MSN Messenger 5.0 opening (msnp.md section 5): what the classifier is judging.
const OPENING: [&str; 3] = [
    "VER 1 MSNP8 MSNP7 MSNP6 CVR0",
    "CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0540 MSMSGS alice@example.com",
    "USR 3 TWN I alice@example.com",
];

/// Server replies as MSNP: real commands and codes, TrIDs near the client's, real-looking
/// arguments and, for MSG, a body that may be an upgrade notice.
fn server_reply() -> impl Strategy<Value = Vec<u8>> {
    let command = prop::sample::select(vec![
        "VER", "CVR", "CVQ", "USR", "XFR", "OUT", "MSG", "CHL", "QNG", "715", "911", "420", "600",
        "0", "99999", "usr", "",
    ]);
    let arg = prop::sample::select(vec![
        "MSNP8",
        "CVR0",
        "0",
        "S",
        "OK",
        "TWN",
        "MD5",
        "NS",
        "OTH",
        "SSD",
        "5.0.0540",
        "6.2.0205",
        "1.0.0000",
        "7.0.0777",
        "http://download.example/",
        "lc=1033,id=507",
        "Hotmail",
        "x",
    ]);
    let body = prop::option::of(prop::sample::select(vec![
        "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsupgradenotice\r\n\r\nMessage: upgrade\r\n",
        "Content-Type: text/x-msmsgsprofile\r\n\r\n",
        "",
    ]));
    (
        command,
        prop::option::of(0u32..5),
        prop::collection::vec(arg, 0..6),
        body,
    )
        .prop_map(|(command, trid, args, body)| {
            let mut line = command.to_string();
            if let Some(trid) = trid {
                line.push_str(&format!(" {trid}"));
            }
            for arg in args {
                line.push(' ');
                line.push_str(arg);
            }
            let body = body.filter(|_| command == "MSG");
            codec::encode(&line, body.map(str::as_bytes)).to_vec()
        })
}

/// Feeds `server` bytes to an MSNP conversation after the opening, `step` bytes at a time,
/// and checks every verdict against what was received.
pub fn check_msnp_server(server: &[u8], step: usize, how: Ending) -> Result<(), TestCaseError> {
    let dialect = harness::dialect::by_name("msnp").unwrap();
    let declared = Identity {
        client: "MSNMSGR".into(),
        version: "5.0.0540".into(),
    };
    let mut conversation = dialect.conversation(Some(&declared), &Settings::none());
    let mut last_sent = String::new();
    for line in OPENING {
        let step = text_step(dialect, line).unwrap();
        let sent = conversation.send(step.as_ref(), &BTreeMap::new()).unwrap();
        last_sent = String::from_utf8_lossy(&sent).trim_end().to_string();
    }
    let mut heads: Vec<String> = Vec::new();
    feed(
        server.chunks(step.max(1)),
        usize::MAX,
        |buf| {
            Ok::<_, FrameError>(
                dialect
                    .frame(Direction::Server, buf)?
                    .map(|raw| conversation.receive(raw)),
            )
        },
        |received| {
            let head = received.text.split("\r\n").next().unwrap_or("").to_string();
            heads.push(head.clone());
            let Some(verdict) = received.verdict else {
                return Ok(());
            };
            let command = head.split(' ').next().unwrap_or("");
            // An error code locks out, unless it says the server is busy (600) or failed
            // (500): those are errors, the busy one marked so.
            if command.bytes().all(|b| b.is_ascii_digit()) && command.parse::<u16>().is_ok() {
                let expected = match command.trim_start_matches('0') {
                    "500" | "600" | "601" | "604" | "910" | "912" | "914" | "915" | "916"
                    | "918" | "919" | "921" | "922" => VerdictKind::Error,
                    _ => VerdictKind::LockedOut,
                };
                prop_assert_eq!(verdict.kind, expected, "error reply `{}`", head);
                prop_assert_eq!(
                    verdict.busy.is_some(),
                    expected == VerdictKind::Error && command != "500",
                    "error reply `{}`",
                    head
                );
            }
            if matches!(verdict.kind, VerdictKind::Admitted | VerdictKind::Warned) {
                prop_assert!(
                    command == "USR" || command == "XFR",
                    "admitted on `{}`",
                    head
                );
            }
            if let Some(decided_by) = &verdict.decided_by {
                prop_assert!(
                    heads.contains(decided_by),
                    "`{}` was never received",
                    decided_by
                );
            }
            Ok(())
        },
    )?;
    let _ = conversation.stage();
    let _ = conversation.pending();
    let ended = conversation.ended(how);
    if let Some(decided_by) = &ended.decided_by {
        // A close decides at the request it left unanswered; anything else at a reply.
        prop_assert!(
            heads.contains(decided_by) || *decided_by == last_sent,
            "`{}` was never received, nor the request left unanswered",
            decided_by
        );
    }
    if heads.is_empty() {
        prop_assert_eq!(ended.kind, VerdictKind::Error, "a verdict with no reply");
    }
    Ok(())
}

fn ending() -> impl Strategy<Value = Ending> {
    prop::sample::select(vec![Ending::Closed, Ending::Reset, Ending::ScriptEnded])
}

#[test]
fn classifier_judges_any_server_replies_by_what_was_sent() {
    let strategy = (
        prop::collection::vec(server_reply(), 0..8),
        1usize..64,
        ending(),
    );
    check(
        "classifier_judges_any_server_replies_by_what_was_sent",
        file!(),
        strategy,
        |(replies, step, how)| check_msnp_server(&replies.concat(), step, how),
    );
}

#[test]
fn classifier_survives_corrupted_replies() {
    let strategy = (
        prop::collection::vec(server_reply(), 1..8),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        1usize..64,
        ending(),
    );
    check(
        "classifier_survives_corrupted_replies",
        file!(),
        strategy,
        |(replies, flips, step, how)| {
            let mut bytes = replies.concat();
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            check_msnp_server(&bytes, step, how)
        },
    );
}
