//! The TLS handshake after an in-band upgrade (STARTTLS, PostgreSQL's SSLRequest), as far as
//! it is in the clear: the client's ClientHello (the highest version it offers) and the
//! server's first record. An alert there, or a close, refuses the client at `TLS handshake`;
//! a ServerHello says which version the server chose, and what follows is encrypted.

use crate::capture::RecordedMessage;
use crate::dialect::Ending;
use crate::dialect::tls::{alerts, hello, is_grease, names, record, server_hello};
use crate::direction::Direction;
use crate::verdict::{Verdict, VerdictKind};
use bytes::BytesMut;

/// The stage a refusal in the handshake names.
pub const STAGE: &str = "TLS handshake";

/// What the clear part of the handshake shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Opening {
    /// The server answered the client's hello with an alert, or ended the connection on it.
    Refused(Verdict),
    /// The server chose this version.
    Chosen(u16),
    /// Nothing readable: no hello, a gap, bytes that are not TLS, or no answer yet.
    Unread,
}

/// Reads `after`, the recorded messages following the server's agreement to upgrade;
/// `server_ended` is how the server ended the connection, if it ended it first.
pub fn read(after: &[RecordedMessage], server_ended: Option<Ending>) -> Opening {
    let Some(offered) = first_record(after, Direction::Client)
        .and_then(|r| hello::offer(&r.raw))
        .and_then(|offer| highest(&offer))
    else {
        return Opening::Unread;
    };
    let offered = names::version_name(offered);
    let Some(answer) = first_record(after, Direction::Server) else {
        return match server_ended {
            Some(how) => Opening::Refused(ended_on_hello(&offered, how)),
            None => Opening::Unread,
        };
    };
    match answer.content_type {
        record::ALERT => match answer.fragment.get(1) {
            Some(&description) => Opening::Refused(alerted(&offered, description)),
            None => Opening::Unread,
        },
        record::HANDSHAKE => server_hello::server_answer(&answer.fragment)
            .map_or(Opening::Unread, |a| Opening::Chosen(a.version())),
        _ => Opening::Unread,
    }
}

/// The highest version a hello offers: from supported_versions, else its legacy field.
fn highest(offer: &hello::Offer) -> Option<u16> {
    offer
        .versions
        .iter()
        .copied()
        .filter(|v| !is_grease(*v))
        .max()
}

/// The first whole TLS record one side sent, its messages read in order.
fn first_record(messages: &[RecordedMessage], from: Direction) -> Option<record::Record> {
    let mut buf = BytesMut::new();
    for message in messages.iter().filter(|m| m.from == from) {
        buf.extend_from_slice(&message.bytes()?);
        match record::decode(&mut buf, true) {
            Ok(Some(record)) => return Some(record),
            Ok(None) => continue,
            Err(_) => return None,
        }
    }
    None
}

fn alerted(offered: &str, description: u8) -> Verdict {
    let name = names::alert_name(description);
    let lockout = Verdict::new(
        VerdictKind::LockedOut,
        STAGE,
        format!("the server refused the client's {offered} hello: alert {name}"),
        Some(format!("alert {name} ({description})")),
    );
    alerts::classed(&alerts::defaults(), description, lockout)
}

/// A server that closes on a hello refuses it (Dovecot below its ssl_min_protocol); a reset
/// is its failure, as a reset is elsewhere.
fn ended_on_hello(offered: &str, how: Ending) -> Verdict {
    let reason = format!(
        "the server {} the connection on the client's {offered} hello, before any answer",
        how.verb()
    );
    match how {
        Ending::Reset => Verdict::error(STAGE, reason),
        _ => Verdict::new(VerdictKind::LockedOut, STAGE, reason, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS 1.1 ClientHello as an old client sends it: legacy_version 0x0302, no
    /// supported_versions, one suite (c00a), null compression, no extensions.
    fn hello_tls11() -> String {
        format!("160301002d010000290302{}000002c00a0100", "00".repeat(32))
    }

    fn message(from: Direction, hex: &str) -> RecordedMessage {
        RecordedMessage::data(from, 0.0, &hex::decode(hex).unwrap())
    }

    #[test]
    fn an_alert_answering_the_hello_locks_the_client_out_naming_its_version() {
        let after = [
            message(Direction::Client, &hello_tls11()),
            message(Direction::Server, "15030200020246"),
        ];
        let Opening::Refused(verdict) = read(&after, Some(Ending::Closed)) else {
            panic!("not refused");
        };
        assert_eq!(verdict.kind, VerdictKind::LockedOut);
        assert_eq!(verdict.stage, "TLS handshake");
        assert_eq!(
            verdict.reason,
            "the server refused the client's TLSv1.1 hello: alert protocol_version"
        );
        assert_eq!(
            verdict.decided_by.as_deref(),
            Some("alert protocol_version (70)")
        );
    }

    #[test]
    fn internal_error_is_the_servers_failure_and_a_close_a_refusal() {
        let hello = message(Direction::Client, &hello_tls11());
        let failed = read(
            &[hello.clone(), message(Direction::Server, "15030200020250")],
            None,
        );
        assert!(matches!(failed, Opening::Refused(v) if v.kind == VerdictKind::Error));
        let closed = read(std::slice::from_ref(&hello), Some(Ending::Closed));
        assert!(
            matches!(&closed, Opening::Refused(v) if v.kind == VerdictKind::LockedOut
            && v.reason == "the server closed the connection on the client's TLSv1.1 hello, before any answer")
        );
        let reset = read(std::slice::from_ref(&hello), Some(Ending::Reset));
        assert!(matches!(reset, Opening::Refused(v) if v.kind == VerdictKind::Error));
        // The client closed first: the server decided nothing.
        assert_eq!(read(&[hello], None), Opening::Unread);
    }

    #[test]
    fn a_server_hello_gives_the_version_chosen_and_garbage_reads_as_nothing() {
        // ServerHello: version 0x0302, 32-byte random, empty session id, suite c00a, null
        // compression, no extensions.
        let server_hello = format!(
            "16030200{:02x}02000026{}{}00c00a00",
            4 + 38,
            "0302",
            "00".repeat(32)
        );
        let after = [
            message(Direction::Client, &hello_tls11()),
            message(Direction::Server, &server_hello),
        ];
        assert_eq!(read(&after, None), Opening::Chosen(0x0302));
        let garbage = [message(Direction::Client, "414243440d0a")];
        assert_eq!(read(&garbage, Some(Ending::Closed)), Opening::Unread);
    }
}
