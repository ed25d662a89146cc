//! The SSH framer, classifier and step compiler. The framer, fed any bytes in any split from
//! either side, never panics, never holds more than a packet, and frames what it emitted the
//! same way again; identification lines and packets of any payload and padding frame the same
//! whatever the split. The classifier, fed any server messages after a scripted opening, never
//! panics and admits only on a key-exchange reply after the server's identification and
//! KEXINIT. No text compiles or sends into a panic.

use crate::campaign::check;
use crate::feed::feed;
use bytes::Bytes;
use harness::dialect::ssh::Ssh;
use harness::dialect::ssh::framing::{MAX_PACKET, NEWKEYS, payload};
use harness::dialect::ssh::wire::{self, KexInit};
use harness::dialect::{Dialect, Ending, FrameError, Framer, Wire, text_step};
use harness::direction::Direction;
use harness::verdict::VerdictKind;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// The most a framer may hold while it waits for more: a whole packet less one byte.
const MOST_BUFFERED: usize = 4 + MAX_PACKET;

fn direction(client: bool) -> Direction {
    if client {
        Direction::Client
    } else {
        Direction::Server
    }
}

fn framer(from: Direction) -> Box<dyn Framer + 'static> {
    Ssh.own_framer(from)
        .expect("SSH frames with its own framer")
}

/// Frames `chunks` as a connection does, up to the first framing error: the messages.
fn frame_chunks(
    from: Direction,
    chunks: impl IntoIterator<Item = impl AsRef<[u8]>>,
) -> Result<Vec<Bytes>, TestCaseError> {
    let mut framer = framer(from);
    let mut out = Vec::new();
    feed(
        chunks,
        MOST_BUFFERED,
        |buf| framer.next(buf),
        |message| {
            prop_assert!(!message.is_empty(), "an empty message");
            out.push(message);
            Ok(())
        },
    )?;
    Ok(out)
}

/// Messages as they compare across splits: after NEWKEYS the bytes pass as they come, so
/// however they were split, they are one stream.
fn normalized(messages: &[Bytes]) -> Vec<Vec<u8>> {
    let mut identified = false;
    let mut out: Vec<Vec<u8>> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        out.push(message.to_vec());
        let is_line = !identified || message[0] != 0 && message[0].is_ascii_graphic();
        if !identified && message.starts_with(b"SSH-") {
            identified = true;
        } else if !is_line && message.get(5) == Some(&NEWKEYS) {
            out.push(messages[i + 1..].concat());
            break;
        }
    }
    out
}

#[test]
fn ssh_framer_never_panics_never_holds_past_a_packet_and_reframes_itself() {
    let strategy = (
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..40),
        any::<bool>(),
        any::<bool>(),
    );
    check(
        "ssh_framer_never_panics_never_holds_past_a_packet_and_reframes_itself",
        file!(),
        strategy,
        |(mut chunks, client, banner_first)| {
            if banner_first {
                // Past the lines, into the packets: where the lengths are.
                chunks.insert(0, b"SSH-2.0-x\r\n".to_vec());
            }
            let from = direction(client);
            let messages = frame_chunks(from, &chunks)?;
            for message in &messages {
                let _ = payload(message);
                let _ = harness::dialect::ssh::describe(from, message);
                let _ = Ssh.frame(from, &mut bytes::BytesMut::from(&message[..]));
            }
            let again = frame_chunks(from, [messages.concat()])?;
            prop_assert_eq!(normalized(&messages), normalized(&again));
            Ok(())
        },
    );
}

/// One packet in the clear: `payload` with `padding` (at least 4 bytes, RFC 4253 section 6;
/// any value up to 255 is framed).
fn packet_with(payload: &[u8], padding: &[u8]) -> Vec<u8> {
    let length = 1 + payload.len() + padding.len();
    let mut out = (length as u32).to_be_bytes().to_vec();
    out.push(padding.len() as u8);
    out.extend_from_slice(payload);
    out.extend_from_slice(padding);
    out
}

/// A payload that is not NEWKEYS (which ends the packets).
fn clear_payload() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u8>().prop_filter("not NEWKEYS", |&t| t != NEWKEYS),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(kind, rest)| [vec![kind], rest].concat())
}

/// Lines before the identification, the identification, packets of random payloads and
/// padding, and perhaps NEWKEYS and encrypted bytes: as either side sends them.
fn ssh_stream() -> impl Strategy<Value = (Vec<Vec<u8>>, Vec<u8>)> {
    (
        prop::collection::vec("[ -~]{0,80}", 0..4),
        "[ -~]{0,60}",
        prop::collection::vec(
            (
                clear_payload(),
                prop::collection::vec(any::<u8>(), 4..=255usize),
            ),
            0..6,
        ),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..200)),
    )
        .prop_map(|(pre, software, packets, encrypted)| {
            let mut messages: Vec<Vec<u8>> = pre
                .into_iter()
                .filter(|l| !l.starts_with("SSH-"))
                .map(|l| format!("{l}\r\n").into_bytes())
                .collect();
            messages.push(format!("SSH-2.0-{software}\r\n").into_bytes());
            for (payload, padding) in packets {
                messages.push(packet_with(&payload, &padding));
            }
            let mut tail = Vec::new();
            if let Some(encrypted) = encrypted {
                messages.push(packet_with(&[NEWKEYS], &[0; 10]));
                tail = encrypted;
            }
            (messages, tail)
        })
}

#[test]
fn ssh_streams_frame_the_same_whatever_the_split() {
    let strategy = (
        ssh_stream(),
        prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        any::<bool>(),
    );
    check(
        "ssh_streams_frame_the_same_whatever_the_split",
        file!(),
        strategy,
        |((messages, tail), cuts, client)| {
            let bytes = [messages.concat(), tail.clone()].concat();
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            at.extend([0, bytes.len()]);
            at.sort_unstable();
            let chunks: Vec<&[u8]> = at.windows(2).map(|w| &bytes[w[0]..w[1]]).collect();
            let framed = frame_chunks(direction(client), chunks)?;
            prop_assert!(framed.len() >= messages.len(), "{} framed", framed.len());
            for (framed, sent) in framed.iter().zip(&messages) {
                prop_assert_eq!(&framed[..], &sent[..]);
                if sent[0] == 0 {
                    let length = sent.len() - 4;
                    let padding = usize::from(sent[4]);
                    prop_assert_eq!(payload(framed), Some(&sent[5..4 + length - padding]));
                }
            }
            prop_assert_eq!(framed[messages.len()..].concat(), tail);
            Ok(())
        },
    );
}

/// The server KEXINIT the scripted client agrees with, or one it does not.
fn server_kexinit(agrees: bool) -> Vec<u8> {
    let one = |name: &str| vec![name.to_string()];
    let cipher = if agrees { "aes128-ctr" } else { "3des-cbc" };
    KexInit {
        kex: one("curve25519-sha256"),
        host_key: one("ssh-ed25519"),
        cipher_c2s: one(cipher),
        cipher_s2c: one(cipher),
        mac_c2s: one("hmac-sha2-256"),
        mac_s2c: one("hmac-sha2-256"),
        compression_c2s: one("none"),
        compression_s2c: one("none"),
        first_kex_follows: false,
    }
    .encode([9; 16])
}

/// What a server may send: identifications of any version, other lines, and packets of the
/// types a key exchange meets (valid KEXINITs among them) or others, with padding that may end
/// in a newline.
fn server_message() -> impl Strategy<Value = Vec<u8>> {
    let padding = prop::collection::vec(prop::sample::select(vec![0u8, b'\n', b'S', 0xff]), 4..12);
    let kind = prop::sample::select(vec![
        wire::DISCONNECT,
        wire::IGNORE,
        wire::UNIMPLEMENTED,
        wire::DEBUG,
        wire::EXT_INFO,
        wire::KEXINIT,
        wire::NEWKEYS,
        wire::KEX_INIT,
        wire::KEX_REPLY,
        wire::GEX_REPLY,
        94,
        0,
    ]);
    prop_oneof![
        prop::sample::select(vec![
            "SSH-2.0-OpenSSH_9.6\r\n",
            "SSH-1.99-Old\r\n",
            "SSH-1.5-Older\r\n",
            "SSH-\r\n",
            "Protocol major versions differ.\r\n",
            "Welcome\r\n",
        ])
        .prop_map(|l| l.as_bytes().to_vec()),
        (any::<bool>(), padding.clone())
            .prop_map(|(agrees, padding)| packet_with(&server_kexinit(agrees), &padding)),
        (kind, prop::collection::vec(any::<u8>(), 0..80), padding)
            .prop_map(|(kind, body, padding)| packet_with(&[vec![kind], body].concat(), &padding)),
        prop::collection::vec(any::<u8>(), 1..40),
    ]
}

const OPENING: [&str; 2] = [
    "SSH-2.0-Test_1.0",
    "kexinit kex=curve25519-sha256 hostkey=ssh-ed25519 ciphers=aes128-ctr macs=hmac-sha2-256",
];

/// Feeds `server` bytes, `step` at a time, to an SSH conversation that sent the opening (and
/// `kex` once the server's KEXINIT is in), as the runner does.
fn check_ssh_server(server: &[u8], step: usize, how: Ending) -> Result<(), TestCaseError> {
    let settings = Ssh.settings(&BTreeMap::new()).unwrap();
    let mut conversation = Ssh.conversation(None, &settings);
    let mut framer = framer(Direction::Server);
    for line in OPENING {
        let step = text_step(&Ssh, line).unwrap();
        let sent = conversation.send(step.as_ref(), &BTreeMap::new()).unwrap();
        framer.client_sent(&sent);
    }
    let kex = text_step(&Ssh, "kex").unwrap();
    // What the server had sent before each message: its identification, a valid KEXINIT.
    let mut identified = false;
    let mut kexinit = false;
    let decided = std::cell::Cell::new(false);
    feed(
        server.chunks(step.max(1)),
        MOST_BUFFERED,
        |buf| {
            if decided.get() {
                buf.clear(); // the runner reads no further
                return Ok(None);
            }
            let Some(raw) = framer.next(buf)? else {
                return Ok(None);
            };
            let before = (identified, kexinit);
            let received = conversation.receive(raw.clone());
            let _ = conversation.stage();
            let _ = conversation.pending();
            let kind = payload(&raw)
                .filter(|_| raw[0] == 0 && identified)
                .and_then(|p| p.first().copied());
            identified |= raw.starts_with(b"SSH-");
            if received.verdict.is_none()
                && kind == Some(wire::KEXINIT)
                && payload(&raw).and_then(KexInit::parse).is_some()
            {
                kexinit = true;
                // The client's key-exchange init goes out once the server's KEXINIT is in.
                let _ = conversation.send(kex.as_ref(), &BTreeMap::new());
            }
            Ok::<_, FrameError>(Some((raw, received, kind, before)))
        },
        |(raw, received, kind, (identified, kexinit))| {
            let Some(verdict) = received.verdict else {
                return Ok(());
            };
            decided.set(true);
            if matches!(verdict.kind, VerdictKind::Admitted | VerdictKind::Warned) {
                prop_assert!(
                    identified
                        && kexinit
                        && matches!(kind, Some(wire::KEX_REPLY | wire::GEX_REPLY)),
                    "admitted on {:?} ({}), identified {}, KEXINIT {}",
                    raw,
                    received.text,
                    identified,
                    kexinit
                );
            }
            Ok(())
        },
    )?;
    let ended = conversation.ended(how);
    if !decided.get() {
        prop_assert!(
            !matches!(ended.kind, VerdictKind::Admitted | VerdictKind::Warned),
            "admitted by an ending: {:?}",
            ended
        );
    }
    Ok(())
}

#[test]
fn ssh_classifier_admits_only_on_a_key_exchange_reply() {
    let strategy = (
        prop::collection::vec(server_message(), 0..8),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        1usize..64,
        prop::sample::select(vec![Ending::Closed, Ending::Reset, Ending::ScriptEnded]),
    );
    check(
        "ssh_classifier_admits_only_on_a_key_exchange_reply",
        file!(),
        strategy,
        |(messages, flips, step, how)| {
            let mut bytes = messages.concat();
            for (at, value) in flips {
                if !bytes.is_empty() {
                    let i = at.index(bytes.len());
                    bytes[i] = value;
                }
            }
            check_ssh_server(&bytes, step, how)
        },
    );
}

#[test]
fn ssh_steps_of_any_text_compile_and_send_without_panic() {
    let strategy = prop_oneof![
        any::<String>(),
        "(SSH-[0-9.]{0,4}-[ -~]{0,20}|kex|kexinit( [a-z]{0,12}=[a-z0-9,{}@.-]{0,20}){0,6})",
    ];
    check(
        "ssh_steps_of_any_text_compile_and_send_without_panic",
        file!(),
        strategy,
        |text| {
            if let Ok(step) = text_step(&Ssh, &text) {
                let mut conversation = Ssh.conversation(None, &harness::dialect::Settings::none());
                let _ = conversation.send(step.as_ref(), &BTreeMap::new());
            }
            Ok(())
        },
    );
}
