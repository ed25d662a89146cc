//! The rest of the server's first flight, after a ServerHello that admits: Certificate and
//! ServerKeyExchange up to ServerHelloDone (TLS 1.2 and older, in the clear), or
//! EncryptedExtensions, Certificate and CertificateVerify (TLS 1.3, once opened). Each
//! message is checked against the client's constraints as it arrives, as a client aborts
//! on the first thing it refuses; the flight's end admits, or warns on weak parameters, or
//! locks out when a message the suite needs never came.

use super::certificate;
use super::classify::{self, Deprecations};
use super::constraints::{self, Constraints, ServerParams};
use super::handshake::{
    CERTIFICATE, CERTIFICATE_VERIFY, COMPRESSED_CERTIFICATE, FINISHED, SERVER_HELLO_DONE,
    SERVER_KEY_EXCHANGE,
};
use super::hello::Offer;
use super::key_exchange::{self, Exchange, Form};
use super::names::{self, TLS13};
use super::reader::Reader;
use crate::verdict::{Verdict, VerdictKind};

/// What the client holds that judges the flight: the suite's deprecations, its own
/// constraints, and what its hello offered.
#[derive(Debug, Default)]
pub struct Client {
    pub deprecations: Deprecations,
    pub constraints: Constraints,
    pub offer: Option<Offer>,
}

/// A flight being read.
#[derive(Debug)]
pub struct Flight {
    pub version: u16,
    pub cipher: u16,
    /// The ServerHello, described: what decides an admission.
    pub hello_text: String,
    pub params: ServerParams,
    /// TLS 1.3: the certificate came compressed (RFC 8879), so it was not read.
    compressed: bool,
}

/// What one message did.
pub enum Read {
    /// It told the client something it judges.
    Progress,
    /// Nothing to judge in it (EncryptedExtensions, CertificateRequest, a repeat, ...).
    Nothing,
    Decided(Verdict),
}

impl Flight {
    pub fn new(version: u16, cipher: u16, hello_text: String) -> Flight {
        Flight {
            version,
            cipher,
            hello_text,
            params: ServerParams::default(),
            compressed: false,
        }
    }

    fn tls13(&self) -> bool {
        self.version == TLS13
    }

    /// TLS 1.3's key exchange is the ServerHello's key share: a group, judged as a
    /// ServerKeyExchange's would be.
    pub fn key_share(&mut self, group: u16, client: &Client) -> Option<Verdict> {
        self.params.exchange = Some(match names::ffdhe_bits(group) {
            Some(bits) => Exchange::Dh { bits },
            None => Exchange::Ecdh { group },
        });
        self.refused(client, "ServerHello", self.hello_text.clone())
    }

    /// One whole handshake message, header included.
    pub fn message(&mut self, message: &[u8], client: &Client) -> Read {
        let body = message.get(4..).unwrap_or_default();
        let decided = |verdict: Option<Verdict>| verdict.map_or(Read::Progress, Read::Decided);
        match message.first().copied() {
            // A second one adds nothing a client would look at.
            Some(CERTIFICATE) if self.params.chain.is_some() => Read::Nothing,
            Some(CERTIFICATE) => match certificate::read(body, self.tls13()) {
                Ok(chain) => {
                    let text = describe_chain(&chain);
                    self.params.chain = Some(chain);
                    decided(self.refused(client, "Certificate", text))
                }
                Err(e) => Read::Decided(Verdict::error(
                    "Certificate",
                    format!("the server's Certificate cannot be read: {e}"),
                )),
            },
            Some(COMPRESSED_CERTIFICATE) if self.tls13() && !self.compressed => {
                self.compressed = true;
                Read::Progress
            }
            Some(SERVER_KEY_EXCHANGE) if self.tls13() || self.params.exchange.is_some() => {
                Read::Nothing
            }
            Some(SERVER_KEY_EXCHANGE) => {
                match key_exchange::read(body, self.cipher, self.version) {
                    Ok(Some(ske)) => {
                        let text = describe_key_exchange(&ske);
                        self.params.exchange = Some(ske.exchange);
                        self.params.signature = ske.signature;
                        decided(self.refused(client, "ServerKeyExchange", text))
                    }
                    Ok(None) => Read::Nothing,
                    Err(e) => Read::Decided(Verdict::error(
                        "ServerKeyExchange",
                        format!("the server's ServerKeyExchange cannot be read: {e}"),
                    )),
                }
            }
            Some(SERVER_HELLO_DONE) if !self.tls13() => Read::Decided(
                self.missing()
                    .unwrap_or_else(|| self.admission(client, None)),
            ),
            Some(CERTIFICATE_VERIFY) if self.tls13() => {
                self.params.signature = Reader::new(body).u16();
                Read::Decided(self.admission(client, None))
            }
            // A TLS 1.3 flight without a certificate (a PSK) ends at the Finished.
            Some(FINISHED) if self.tls13() => Read::Decided(self.admission(client, None)),
            _ => Read::Nothing,
        }
    }

    /// A TLS 1.2 flight that ended without a message its suite needs: a client aborts
    /// (unexpected_message).
    fn missing(&self) -> Option<Verdict> {
        let suite = names::cipher_name(self.cipher);
        let needs_key_exchange = matches!(key_exchange::form(self.cipher), Form::Dh | Form::Ecdh);
        let anonymous = suite.contains("_anon_")
            || [
                "TLS_PSK_",
                "TLS_DHE_PSK_",
                "TLS_ECDHE_PSK_",
                "TLS_SRP_SHA_WITH_",
            ]
            .iter()
            .any(|p| suite.starts_with(p));
        let missing = if needs_key_exchange && self.params.exchange.is_none() {
            "ServerKeyExchange"
        } else if !anonymous
            && self
                .params
                .chain
                .as_ref()
                .is_none_or(|c| c.certs.is_empty())
        {
            "Certificate"
        } else {
            return None;
        };
        Some(Verdict::new(
            VerdictKind::LockedOut,
            "ServerHelloDone",
            format!("the server's flight has no {missing}, which {suite} needs"),
            Some("ServerHelloDone".to_string()),
        ))
    }

    fn refused(&self, client: &Client, stage: &str, text: String) -> Option<Verdict> {
        constraints::refusal(&client.constraints, client.offer.as_ref(), &self.params)
            .map(|reason| Verdict::new(VerdictKind::LockedOut, stage, reason, Some(text)))
    }

    /// The admission the flight amounts to; `note` says where reading stopped early.
    pub fn admission(&self, client: &Client, note: Option<&str>) -> Verdict {
        let compressed = "the certificate came compressed (RFC 8879) and was not read";
        let note = match (note, self.compressed) {
            (Some(note), _) => Some(note),
            (None, true) => Some(compressed),
            (None, false) => None,
        };
        classify::admitted(
            self.version,
            self.cipher,
            &self.params,
            note,
            &client.deprecations,
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
