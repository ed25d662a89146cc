//! The rest of the server's first flight, after a ServerHello that admits: Certificate and
//! ServerKeyExchange up to ServerHelloDone (TLS 1.2 and older, in the clear), or
//! EncryptedExtensions, Certificate and CertificateVerify (TLS 1.3, once opened). Each
//! message is checked against the client's constraints as it arrives, as a client aborts
//! on the first thing it refuses; the flight's end admits, or warns on weak parameters.

use super::certificate;
use super::classify::{self, Deprecations};
use super::constraints::{self, Constraints, ServerParams};
use super::hello::Offer;
use super::key_exchange::{self, Exchange};
use super::names;
use super::reader::Reader;
use crate::verdict::{Verdict, VerdictKind};

const CERTIFICATE: u8 = 11;
const SERVER_KEY_EXCHANGE: u8 = 12;
const SERVER_HELLO_DONE: u8 = 14;
const CERTIFICATE_VERIFY: u8 = 15;
const FINISHED: u8 = 20;

/// What the client holds that judges the flight.
pub struct Judge<'a> {
    pub constraints: &'a Constraints,
    pub offer: Option<&'a Offer>,
    pub policy: &'a Deprecations,
}

/// A flight being read.
#[derive(Debug)]
pub struct Flight {
    pub version: u16,
    pub cipher: u16,
    /// The ServerHello, described: what decides an admission.
    pub hello_text: String,
    pub params: ServerParams,
}

/// What one message did.
pub enum Read {
    /// Nothing to judge yet; `true` when the message was one the flight is made of.
    More(bool),
    Decided(Verdict),
}

impl Flight {
    pub fn new(version: u16, cipher: u16, hello_text: String) -> Flight {
        Flight {
            version,
            cipher,
            hello_text,
            params: ServerParams::default(),
        }
    }

    fn tls13(&self) -> bool {
        self.version == 0x0304
    }

    /// TLS 1.3's key exchange is the ServerHello's key share: a group, judged as a
    /// ServerKeyExchange's would be.
    pub fn key_share(&mut self, group: u16, judge: &Judge<'_>) -> Option<Verdict> {
        self.params.exchange = Some(match names::ffdhe_bits(group) {
            Some(bits) => Exchange::Dh { bits },
            None => Exchange::Ecdh { group },
        });
        self.refused(judge, "ServerHello", self.hello_text.clone())
    }

    /// One whole handshake message, header included.
    pub fn message(&mut self, message: &[u8], judge: &Judge<'_>) -> Read {
        let body = &message[4.min(message.len())..];
        match message.first().copied() {
            Some(CERTIFICATE) => match certificate::read(body, self.tls13()) {
                Ok(chain) => {
                    let text = describe_chain(&chain);
                    self.params.chain = Some(chain);
                    self.refused(judge, "Certificate", text)
                        .map_or(Read::More(true), Read::Decided)
                }
                Err(e) => Read::Decided(Verdict::error(
                    "Certificate",
                    format!("the server's Certificate cannot be read: {e}"),
                )),
            },
            Some(SERVER_KEY_EXCHANGE) if !self.tls13() => {
                match key_exchange::read(body, self.cipher, self.version) {
                    Ok(Some(ske)) => {
                        let text = describe_key_exchange(&ske);
                        self.params.exchange = Some(ske.exchange);
                        self.params.signature = ske.signature;
                        self.refused(judge, "ServerKeyExchange", text)
                            .map_or(Read::More(true), Read::Decided)
                    }
                    Ok(None) => Read::More(true),
                    Err(e) => Read::Decided(Verdict::error(
                        "ServerKeyExchange",
                        format!("the server's ServerKeyExchange cannot be read: {e}"),
                    )),
                }
            }
            Some(SERVER_HELLO_DONE) if !self.tls13() => {
                Read::Decided(self.admission(judge.policy, None))
            }
            Some(CERTIFICATE_VERIFY) if self.tls13() => {
                self.params.signature = Reader::new(body).u16();
                Read::Decided(self.admission(judge.policy, None))
            }
            // A TLS 1.3 flight without a certificate (a PSK) ends at the Finished.
            Some(FINISHED) if self.tls13() => Read::Decided(self.admission(judge.policy, None)),
            // EncryptedExtensions, CertificateRequest, CertificateStatus, ...
            _ => Read::More(false),
        }
    }

    fn refused(&self, judge: &Judge<'_>, stage: &str, text: String) -> Option<Verdict> {
        constraints::refusal(judge.constraints, judge.offer, &self.params)
            .map(|reason| Verdict::new(VerdictKind::LockedOut, stage, reason, Some(text)))
    }

    /// The admission the flight so far amounts to; `note` says where reading stopped early.
    pub fn admission(&self, policy: &Deprecations, note: Option<&str>) -> Verdict {
        classify::admitted(
            self.version,
            self.cipher,
            &self.params,
            note,
            policy,
            &self.hello_text,
        )
    }
}

/// `Certificate RSA 2048-bit (sha256WithRSAEncryption), chain of 1`
pub fn describe_chain(chain: &certificate::Chain) -> String {
    match chain.leaf() {
        Some(leaf) => format!(
            "Certificate {} ({}), chain of {}",
            leaf.key,
            leaf.signature,
            chain.certs.len()
        ),
        None => "Certificate (empty)".to_string(),
    }
}

/// `ServerKeyExchange DHE 1024-bit group, signed rsa_pkcs1_sha256`
pub fn describe_key_exchange(ske: &key_exchange::ServerKeyExchange) -> String {
    match ske.signature {
        Some(scheme) => format!(
            "ServerKeyExchange {}, signed {}",
            ske.exchange,
            names::signature_scheme_name(scheme)
        ),
        None => format!("ServerKeyExchange {}", ske.exchange),
    }
}
