//! TLS records as a reader wants them: `ClientHello versions=... ciphers=... ja4=...`,
//! `ServerHello TLSv1.2 ...; Certificate RSA 2048-bit (...), chain of 1; ServerHelloDone`,
//! `HelloRetryRequest TLSv1.3 ... secp384r1`, `Alert fatal handshake_failure`; anything else
//! by type and length. One record at a time: a message split across records reads as its
//! first part here, and whole in the verdict that it decides.

use super::certificate;
use super::classify::alert_level;
use super::flight::describe_chain;
use super::handshake::{
    CERTIFICATE, CERTIFICATE_REQUEST, CERTIFICATE_STATUS, CERTIFICATE_VERIFY, CLIENT_HELLO,
    COMPRESSED_CERTIFICATE, ENCRYPTED_EXTENSIONS, FINISHED, HELLO_REQUEST, MAX_MESSAGE,
    SERVER_HELLO_DONE, SERVER_KEY_EXCHANGE,
};
use super::hello::{self, Offer};
use super::ja4::ja4;
use super::key_exchange;
use super::names;
use super::record;
use super::server_hello::{SERVER_HELLO, ServerAnswer, server_answer};
use crate::direction::Direction;
use bytes::BytesMut;

pub fn describe(from: Direction, bytes: &[u8]) -> String {
    let mut buf = BytesMut::from(bytes);
    let Ok(Some(r)) = record::decode(&mut buf, from == Direction::Client) else {
        return format!("{} bytes, not a TLS record", bytes.len());
    };
    if let Some(o) = hello::offer(&r.raw) {
        return describe_offer(&o, r.sslv2);
    }
    if r.sslv2 {
        return format!(
            "SSLv2-compatible ClientHello (malformed), version {}",
            names::version_name(r.version)
        );
    }
    match r.content_type {
        record::HANDSHAKE => describe_handshake(&r.fragment),
        record::ALERT if r.fragment.len() >= 2 => format!(
            "Alert {} {}",
            alert_level(r.fragment[0]),
            names::alert_name(r.fragment[1])
        ),
        record::CHANGE_CIPHER_SPEC => "ChangeCipherSpec".to_string(),
        record::APPLICATION_DATA => format!("encrypted record, {} bytes", r.fragment.len()),
        kind => format!("record type {kind}, {} bytes", r.fragment.len()),
    }
}

/// A handshake record by the messages it holds, `; ` between them; a message that goes on in
/// the next record says how much of it this one holds.
fn describe_handshake(fragment: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut rest = fragment;
    while !rest.is_empty() {
        let Some(&[kind, a, b, c]) = rest.get(..4) else {
            parts.push(format!("handshake fragment, {} bytes", rest.len()));
            break;
        };
        let length = 4 + ((usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c));
        let Some(message) = rest.get(..length) else {
            parts.push(if length > 4 + MAX_MESSAGE {
                format!("handshake fragment, {} bytes", rest.len())
            } else {
                format!(
                    "{} (first {} of {length} bytes)",
                    message_name(kind),
                    rest.len()
                )
            });
            break;
        };
        parts.push(describe_message(message));
        rest = &rest[length..];
    }
    parts.join("; ")
}

/// One whole handshake message sent in the clear.
fn describe_message(message: &[u8]) -> String {
    match message[0] {
        SERVER_HELLO => describe_server_hello(message),
        CERTIFICATE => match certificate::read(&message[4..], false) {
            Ok(chain) => describe_chain(&chain),
            Err(e) => format!("Certificate (unreadable: {e})"),
        },
        SERVER_KEY_EXCHANGE => match key_exchange::guess(&message[4..]) {
            Some(exchange) => format!("ServerKeyExchange {exchange}"),
            None => format!("ServerKeyExchange, {} bytes", message.len()),
        },
        kind @ (HELLO_REQUEST | SERVER_HELLO_DONE) => message_name(kind),
        kind => format!("{}, {} bytes", message_name(kind), message.len()),
    }
}

fn message_name(kind: u8) -> String {
    match kind {
        HELLO_REQUEST => "HelloRequest",
        CLIENT_HELLO => "ClientHello",
        SERVER_HELLO => "ServerHello",
        4 => "NewSessionTicket",
        ENCRYPTED_EXTENSIONS => "EncryptedExtensions",
        CERTIFICATE => "Certificate",
        SERVER_KEY_EXCHANGE => "ServerKeyExchange",
        CERTIFICATE_REQUEST => "CertificateRequest",
        SERVER_HELLO_DONE => "ServerHelloDone",
        CERTIFICATE_VERIFY => "CertificateVerify",
        16 => "ClientKeyExchange",
        FINISHED => "Finished",
        CERTIFICATE_STATUS => "CertificateStatus",
        COMPRESSED_CERTIFICATE => "CompressedCertificate",
        other => return format!("handshake message {other}"),
    }
    .to_string()
}

/// One whole ServerHello message, header included.
pub fn describe_server_hello(message: &[u8]) -> String {
    match server_answer(message) {
        Some(ServerAnswer::Hello {
            version, cipher, ..
        }) => format!(
            "ServerHello {} {}",
            names::version_name(version),
            names::cipher_name(cipher)
        ),
        Some(ServerAnswer::RetryRequest {
            version,
            cipher,
            group,
        }) => {
            let mut text = format!(
                "HelloRetryRequest {} {}",
                names::version_name(version),
                names::cipher_name(cipher)
            );
            if let Some(g) = group {
                text.push(' ');
                text.push_str(&names::group_name(g));
            }
            text
        }
        None => "ServerHello (malformed)".to_string(),
    }
}

fn describe_offer(o: &Offer, sslv2: bool) -> String {
    let versions: Vec<String> = o.versions.iter().map(|v| names::version_name(*v)).collect();
    let ciphers: Vec<String> = o.ciphers.iter().map(|c| names::cipher_name(*c)).collect();
    let mut text = format!(
        "{}ClientHello versions={} ciphers={}",
        if sslv2 { "SSLv2-compatible " } else { "" },
        versions.join(","),
        ciphers.join(",")
    );
    if !sslv2 {
        let groups: Vec<String> = o.groups.iter().map(|g| names::group_name(*g)).collect();
        text.push_str(&format!(" groups={}", groups.join(",")));
    }
    if let Some(sni) = &o.sni {
        text.push_str(&format!(" sni={sni}"));
    }
    text.push_str(&format!(" ja4={}", ja4(o)));
    text
}
