//! One TLS connection followed from both sides: the hellos read in the clear, the keys
//! derived from the key log's secrets once the ServerHello names the suite, each side's
//! records opened as its keys change (TLS 1.2 at ChangeCipherSpec; TLS 1.3 from handshake to
//! application keys at that side's Finished, and at each KeyUpdate), and the application
//! data handed on. Anything it cannot follow stops it, with the reason.

use super::derive::{next_secret, tls12_keys, tls13_keys};
use super::hello::{self, ServerHello, TLS13};
use super::keylog::{KeyLog, Secrets};
use super::protect::{ALERT, APPLICATION_DATA, CHANGE_CIPHER_SPEC, HANDSHAKE, Layout, Opener};
use super::records::{Record, Records};
use super::suite::{self, Suite};
use crate::direction::Direction;

/// The most handshake bytes held while waiting for a message's end.
const MAX_HANDSHAKE: usize = 1 << 20;
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const FINISHED: u8 = 20;
const KEY_UPDATE: u8 = 24;

/// Why a TLS session cannot be followed further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    /// The key log has nothing for this session.
    #[error("the key log {keylog} has no secrets for this session (client random {random})")]
    NoKeys { keylog: String, random: String },
    #[error("{0}")]
    Unreadable(String),
}

/// What the session made of some bytes: application data, from `from`.
pub type Plain = Vec<u8>;

#[derive(Default)]
struct Side {
    records: Records,
    opener: Option<Opener>,
    /// TLS 1.2: the keys that take over at this side's ChangeCipherSpec.
    next: Option<Opener>,
    /// TLS 1.3: the current traffic secret, for a KeyUpdate; then the application secret
    /// that takes over at this side's Finished.
    secret: Vec<u8>,
    application: Option<Vec<u8>>,
    /// Handshake bytes not yet a whole message.
    handshake: Vec<u8>,
    records_seen: u64,
}

pub struct TlsSession<'k> {
    keylog: &'k KeyLog,
    client: Side,
    server: Side,
    client_random: Option<[u8; 32]>,
    negotiated: Option<(ServerHello, Suite)>,
}

impl<'k> TlsSession<'k> {
    pub fn new(keylog: &'k KeyLog) -> TlsSession<'k> {
        TlsSession {
            keylog,
            client: Side::default(),
            server: Side::default(),
            client_random: None,
            negotiated: None,
        }
    }

    /// What was negotiated, for people: `TLSv1.3 TLS_AES_128_GCM_SHA256`.
    pub fn negotiated(&self) -> Option<String> {
        self.negotiated.as_ref().map(|(hello, suite)| {
            format!(
                "{} {}",
                crate::dialect::tls::names::version_name(hello.version),
                crate::dialect::tls::names::cipher_name(suite.code)
            )
        })
    }

    /// Takes bytes `from` one side; returns the application data they completed.
    pub fn feed(&mut self, from: Direction, bytes: &[u8]) -> Result<Vec<Plain>, Stop> {
        let mut out = Vec::new();
        self.side(from).records.push(bytes);
        loop {
            let record = match self.side(from).records.next() {
                Ok(Some(record)) => record,
                Ok(None) => return Ok(out),
                Err(e) => return Err(Stop::Unreadable(format!("{} sent {e}", who(from)))),
            };
            self.side(from).records_seen += 1;
            self.record(from, record, &mut out)?;
        }
    }

    fn side(&mut self, from: Direction) -> &mut Side {
        match from {
            Direction::Client => &mut self.client,
            Direction::Server => &mut self.server,
        }
    }

    fn record(
        &mut self,
        from: Direction,
        record: Record,
        out: &mut Vec<Plain>,
    ) -> Result<(), Stop> {
        let tls13 = self
            .negotiated
            .as_ref()
            .is_some_and(|(h, _)| h.version == TLS13);
        let kind = record.content_type();
        if kind == CHANGE_CIPHER_SPEC {
            // TLS 1.3 sends one for middleboxes only; TLS 1.2's switches this side's keys.
            if !tls13 {
                let side = self.side(from);
                side.opener = side.next.take();
            }
            return Ok(());
        }
        let n = self.side(from).records_seen;
        let (kind, plain) = match self.side(from).opener.as_mut() {
            Some(opener) => opener
                .open(record.header, &record.body)
                .map_err(|e| Stop::Unreadable(format!("the {}'s TLS record {n} {e}", who(from))))?,
            None => (kind, record.body),
        };
        match kind {
            HANDSHAKE => self.handshake(from, &plain),
            APPLICATION_DATA if self.side(from).opener.is_some() => {
                out.push(plain);
                Ok(())
            }
            APPLICATION_DATA => Err(Stop::Unreadable(format!(
                "the {} sent application data before any keys were agreed",
                who(from)
            ))),
            // Alerts (close_notify above all) say nothing of the inner protocol; nor do
            // heartbeats or content types TLS may add.
            ALERT => Ok(()),
            _ => Ok(()),
        }
    }

    /// Handshake bytes from `from`, whole messages acted on.
    fn handshake(&mut self, from: Direction, plain: &[u8]) -> Result<(), Stop> {
        let side = self.side(from);
        side.handshake.extend_from_slice(plain);
        if side.handshake.len() > MAX_HANDSHAKE {
            return Err(Stop::Unreadable(format!(
                "the {} sent a handshake message of over {MAX_HANDSHAKE} bytes",
                who(from)
            )));
        }
        loop {
            let side = self.side(from);
            let Some(head) = side.handshake.get(..4) else {
                return Ok(());
            };
            let len = u32::from_be_bytes([0, head[1], head[2], head[3]]) as usize;
            if side.handshake.len() < 4 + len {
                return Ok(());
            }
            let kind = head[0];
            let message: Vec<u8> = side.handshake.drain(..4 + len).collect();
            self.message(from, kind, &message[4..])?;
        }
    }

    fn message(&mut self, from: Direction, kind: u8, body: &[u8]) -> Result<(), Stop> {
        match (from, kind) {
            (Direction::Client, CLIENT_HELLO) => {
                let random = hello::client_random(body).ok_or_else(|| {
                    Stop::Unreadable("the client's ClientHello is cut short".into())
                })?;
                // A second ClientHello (after a HelloRetryRequest) keeps its random.
                self.client_random.get_or_insert(random);
                Ok(())
            }
            (Direction::Server, SERVER_HELLO) if self.negotiated.is_none() => {
                let hello = hello::server_hello(body).ok_or_else(|| {
                    Stop::Unreadable("the server's ServerHello is cut short".into())
                })?;
                if hello.retry {
                    return Ok(());
                }
                self.keys(hello)
            }
            (_, FINISHED) => {
                // TLS 1.3: this side's next records are under its application secret.
                let side = self.side(from);
                if let (Some(secret), Some(opener)) = (side.application.take(), &side.opener) {
                    let suite = *opener.suite();
                    side.opener = Some(Opener::new(
                        suite,
                        Layout::Tls13,
                        tls13_keys(&suite, &secret),
                        false,
                    ));
                    side.secret = secret;
                }
                Ok(())
            }
            (_, KEY_UPDATE) => {
                let side = self.side(from);
                if let Some(opener) = &side.opener
                    && opener.layout() == Layout::Tls13
                {
                    let suite = *opener.suite();
                    side.secret = next_secret(&suite, &side.secret);
                    side.opener = Some(Opener::new(
                        suite,
                        Layout::Tls13,
                        tls13_keys(&suite, &side.secret),
                        false,
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The ServerHello is in: both sides' keys from the key log's secrets.
    fn keys(&mut self, hello: ServerHello) -> Result<(), Stop> {
        let random = self.client_random.ok_or_else(|| {
            Stop::Unreadable("the server's ServerHello came before any ClientHello".into())
        })?;
        let version = crate::dialect::tls::names::version_name(hello.version);
        if hello.version != TLS13 && hello.version != 0x0303 {
            return Err(Stop::Unreadable(format!(
                "{version} is not decrypted (TLS 1.2 and 1.3 are)"
            )));
        }
        let suite = suite::by_code(hello.suite).ok_or_else(|| {
            Stop::Unreadable(format!(
                "the cipher suite {} is not one the harness decrypts",
                crate::dialect::tls::names::cipher_name(hello.suite)
            ))
        })?;
        let keylog = self.keylog;
        let secrets = keylog.secrets(&random).ok_or_else(|| Stop::NoKeys {
            keylog: keylog.name.clone(),
            random: hex::encode(&random[..8]) + "…",
        })?;
        let need = |secret: &Option<Vec<u8>>, label: &str| {
            secret.clone().ok_or_else(|| {
                Stop::Unreadable(format!(
                    "the key log {} has no {label} for this session",
                    keylog.name
                ))
            })
        };
        if hello.version == TLS13 {
            let Secrets {
                client_handshake,
                server_handshake,
                client_traffic,
                server_traffic,
                ..
            } = secrets;
            let handshake_side = |secret: Vec<u8>, application: Vec<u8>| Side {
                opener: Some(Opener::new(
                    suite,
                    Layout::Tls13,
                    tls13_keys(&suite, &secret),
                    false,
                )),
                secret,
                application: Some(application),
                ..Side::default()
            };
            let client = handshake_side(
                need(client_handshake, "CLIENT_HANDSHAKE_TRAFFIC_SECRET")?,
                need(client_traffic, "CLIENT_TRAFFIC_SECRET_0")?,
            );
            let server = handshake_side(
                need(server_handshake, "SERVER_HANDSHAKE_TRAFFIC_SECRET")?,
                need(server_traffic, "SERVER_TRAFFIC_SECRET_0")?,
            );
            adopt(&mut self.client, client);
            adopt(&mut self.server, server);
        } else {
            let master = need(&secrets.master, "CLIENT_RANDOM (master secret)")?;
            let (client, server) = tls12_keys(&suite, &master, &random, &hello.random);
            let etm = hello.encrypt_then_mac;
            self.client.next = Some(Opener::new(suite, Layout::Tls12, client, etm));
            self.server.next = Some(Opener::new(suite, Layout::Tls12, server, etm));
        }
        self.negotiated = Some((hello, suite));
        Ok(())
    }
}

/// Takes `keys`' openers and secrets into `side`, keeping the bytes it already holds.
fn adopt(side: &mut Side, keys: Side) {
    side.opener = keys.opener;
    side.secret = keys.secret;
    side.application = keys.application;
}

fn who(from: Direction) -> &'static str {
    match from {
        Direction::Client => "client",
        Direction::Server => "server",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the bytes, the session reads or stops with a reason: it never panics, and
        /// holds no more than a record and a handshake message.
        #[test]
        fn hostile_bytes_stop_it_with_a_reason(
            chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..20),
        ) {
            let keylog = KeyLog::default();
            let mut session = TlsSession::new(&keylog);
            for (client, bytes) in chunks {
                let from = if client { Direction::Client } else { Direction::Server };
                if session.feed(from, &bytes).is_err() {
                    break;
                }
            }
        }
    }

    #[test]
    fn a_session_without_secrets_in_the_key_log_says_so() {
        let keylog = KeyLog::parse(std::path::Path::new("keys.log"), "# empty\n").unwrap();
        let mut session = TlsSession::new(&keylog);
        let mut hello = vec![1, 0, 0, 37, 3, 3];
        hello.extend([9u8; 32]);
        hello.extend([0, 0, 0]);
        let record = [&[22u8, 3, 1, 0, hello.len() as u8][..], &hello].concat();
        assert_eq!(session.feed(Direction::Client, &record), Ok(Vec::new()));
        let mut server = vec![2, 0, 0, 38, 3, 3];
        server.extend([5u8; 32]);
        server.extend([0, 0xc0, 0x2f, 0]);
        let record = [&[22u8, 3, 3, 0, server.len() as u8][..], &server].concat();
        let stop = session.feed(Direction::Server, &record).unwrap_err();
        assert_eq!(
            stop.to_string(),
            "the key log keys.log has no secrets for this session (client random 0909090909090909…)"
        );
    }
}
