//! MSNP messages as bytes: the one framer (live replies and recordings), the client's identity
//! in a recording (VER list, CVR name and version, account), how messages read for people, and
//! the redaction that lets a recorded reply be compared with a live one.

use super::Message;
use super::codec::{self, Limits, Sender};
use crate::dialect::{FrameError, Identity, RecordedIdentity, Redactions};
use crate::direction::Direction;
use bytes::{Bytes, BytesMut};

fn sender(from: Direction) -> Sender {
    match from {
        Direction::Client => Sender::Client,
        Direction::Server => Sender::Server,
    }
}

/// One whole message off the front of `buf`, within the codec's usual limits.
pub fn frame(from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
    Ok(codec::frame_len(buf, sender(from), &Limits::default())?
        .map(|(_, total)| buf.split_to(total).freeze()))
}

fn parse(from: Direction, bytes: &[u8]) -> Option<Message> {
    codec::parse(&Bytes::copy_from_slice(bytes), sender(from))
}

/// The client message in `bytes` when its command is one of `commands`. The command is looked
/// at before the message is parsed: most of a session is chat, which is not read.
fn parse_client(bytes: &[u8], commands: &[&str]) -> Option<Message> {
    let line = &bytes[bytes.iter().position(|&b| b != b' ')?..];
    let end = line
        .iter()
        .position(|&b| matches!(b, b' ' | b'\r' | b'\n'))
        .unwrap_or(line.len());
    let command = std::str::from_utf8(&line[..end]).ok()?;
    if !commands.contains(&command) {
        return None;
    }
    parse(Direction::Client, bytes)
}

/// A message as its lines (the command line, then the body's lines); bytes that are not
/// printable text by their length and hex.
pub fn describe(_from: Direction, bytes: &[u8]) -> String {
    crate::dialect::describe_unframed(bytes)
}

pub fn identity(client_messages: &[&[u8]]) -> RecordedIdentity {
    let mut identity = RecordedIdentity::default();
    for message in client_messages
        .iter()
        .filter_map(|m| parse_client(m, &["VER", "CVR", "CVQ", "USR"]))
    {
        match message.command.as_str() {
            "VER" if identity.versions.is_none() => {
                identity.versions = Some(after_trid(&message.args).join(" "));
            }
            "CVR" | "CVQ" => {
                if let (Some(client), Some(version)) =
                    (message.arg_after_trid(4), message.arg_after_trid(5))
                {
                    identity.client = Some(Identity {
                        client: client.to_string(),
                        version: version.to_string(),
                    });
                }
                // From MSNP8 on, CVR ends with the account.
                if let Some(account) = message.arg_after_trid(7).filter(|a| a.contains('@')) {
                    identity.account.get_or_insert_with(|| account.to_string());
                }
            }
            "USR" if message.arg_after_trid(1) == Some("I") => {
                if let Some(account) = message.arg_after_trid(2) {
                    identity.account = Some(account.to_string());
                }
            }
            _ => {}
        }
    }
    identity
}

/// A message's arguments after its TrID (none when it has none: `VER \r\n`).
fn after_trid(args: &[String]) -> &[String] {
    args.get(1..).unwrap_or_default()
}

/// Commands that say what a client is, sent before the server decides: how far a session got
/// (USR, then presence and chat) must not make the same client two.
const HANDSHAKE: &[&str] = &["VER", "CVR", "CVQ"];

/// The client's version and identity lines with TrIDs and the account (CVR's last argument
/// from MSNP8 on) set aside.
pub fn signature(client_messages: &[&[u8]]) -> String {
    client_messages
        .iter()
        .filter_map(|m| parse_client(m, HANDSHAKE))
        .filter(|p| HANDSHAKE.contains(&p.command.as_str()))
        .map(|mut p| {
            if p.args.last().is_some_and(|a| a.contains('@')) && p.args.len() > 1 {
                p.args.pop();
            }
            normalize(&p.head())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `VER MSNP9 MSNP8 CVR0`, then the CVR's `os winnt 5.1 i386` and `locale 0x0409`.
pub fn distinctions(client_messages: &[&[u8]]) -> Vec<String> {
    let mut traits = Vec::new();
    for message in client_messages
        .iter()
        .filter_map(|m| parse_client(m, &["VER", "CVR"]))
    {
        match message.command.as_str() {
            "VER" => traits.push(format!("VER {}", after_trid(&message.args).join(" "))),
            "CVR" => {
                let os: Vec<&str> = (1..4).filter_map(|i| message.arg_after_trid(i)).collect();
                traits.push(format!("os {}", os.join(" ")));
                if let Some(locale) = message.arg_after_trid(0) {
                    traits.push(format!("locale {locale}"));
                }
            }
            _ => {}
        }
    }
    traits
}

pub fn answers(request: &[u8], reply: &[u8]) -> bool {
    match (
        parse(Direction::Client, request),
        parse(Direction::Server, reply),
    ) {
        (Some(request), Some(reply)) => request.trid().is_some() && request.trid() == reply.trid(),
        _ => false,
    }
}

/// TrIDs become `{trid}`; challenge strings (MD5 salt, TWN policy, SSO nonce) become
/// `{challenge}`. Only the command line counts.
pub fn normalize(message: &str) -> String {
    let head = message.split('\n').next().unwrap_or_default();
    let head = head.strip_suffix('\r').unwrap_or(head);
    let mut words: Vec<String> = head.split(' ').map(str::to_string).collect();
    let has_trid = words
        .get(1)
        .is_some_and(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()));
    if has_trid && words.get(1).is_some_and(|w| w != "0") {
        words[1] = "{trid}".to_string();
    }
    if words.first().is_some_and(|c| c == "USR") && words.get(3).is_some_and(|w| w == "S") {
        words.truncate(4);
        words.push("{challenge}".to_string());
    }
    words.join(" ")
}

/// The challenge of `USR t MD5|TWN|SSO S ...` (salt, Passport policy with its time stamp, nonce).
pub static REDACTIONS: Redactions = Redactions::new(&[(
    r"(USR \d+ (?:MD5|TWN|SSO) S)(?: MBI_KEY_OLD)? [^\s`]+",
    "$1 [challenge]",
)]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_from_a_recorded_session() {
        let id = identity(&[
            b"VER 1 MSNP9 MSNP8 CVR0\r\n",
            b"CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS bob@hotmail.com\r\n",
            b"USR 3 TWN I bob@hotmail.com\r\n",
        ]);
        assert_eq!(id.versions.as_deref(), Some("MSNP9 MSNP8 CVR0"));
        assert_eq!(id.client.unwrap().version, "6.0.0602");
        assert_eq!(id.account.as_deref(), Some("bob@hotmail.com"));
    }

    #[test]
    fn redaction_hides_challenges_wherever_they_are_quoted() {
        assert_eq!(
            REDACTIONS.apply("USR 3 TWN S lc=1033,id=507,ct=1062764229,tpf=43f8"),
            "USR 3 TWN S [challenge]"
        );
        assert_eq!(
            REDACTIONS.apply("closed after `USR 4 MD5 S 1013928519.693957190`"),
            "closed after `USR 4 MD5 S [challenge]`"
        );
        assert_eq!(
            REDACTIONS.apply("USR 5 SSO S MBI_KEY_OLD 8f3a"),
            "USR 5 SSO S [challenge]"
        );
        assert_eq!(
            REDACTIONS.apply("USR 3 TWN I bob@hotmail.com"),
            "USR 3 TWN I bob@hotmail.com"
        );
    }

    #[test]
    fn normalization_hides_trids_and_challenges() {
        assert_eq!(
            normalize("USR 7 TWN S lc=1033,id=507,ct=1"),
            normalize("USR 3 TWN S lc=1033,id=507,ct=2")
        );
        assert_eq!(
            normalize("CVR 2 6.0 6.0 5.0 a b"),
            "CVR {trid} 6.0 6.0 5.0 a b"
        );
        assert_ne!(normalize("VER 1 MSNP8 CVR0"), normalize("VER 1 0"));
        assert!(answers(b"VER 4 MSNP8\r\n", b"VER 4 0\r\n"));
        assert!(!answers(b"VER 4 MSNP8\r\n", b"VER 5 0\r\n"));
    }
}
