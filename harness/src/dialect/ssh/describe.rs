//! SSH messages as people read them: lines as text; packets by type (`KEXINIT kex=...
//! hostkey=... ciphers=... macs=... hassh=...`, `KEX_REPLY host key ssh-ed25519, signature
//! ssh-ed25519`, `DISCONNECT 3 (key exchange failed): ...`); encrypted bytes by their count.
//! Keys, cookies and signatures change on every run and are never shown.

use super::framing::payload;
use super::kex;
use super::wire::{self, KexInit, Reader};
use crate::dialect::Redactions;
use crate::direction::Direction;

/// Whether a framed message is a text line rather than a packet (a packet's length starts
/// with a zero byte).
pub fn is_line(message: &[u8]) -> bool {
    message.first().is_some_and(|&b| b != 0) && message.ends_with(b"\n")
}

pub fn describe(from: Direction, bytes: &[u8]) -> String {
    if is_line(bytes) {
        return String::from_utf8_lossy(bytes).trim_end().to_string();
    }
    let Some(p) = payload(bytes).filter(|p| !p.is_empty() && bytes[0] == 0) else {
        return format!("{} bytes, encrypted or not SSH", bytes.len());
    };
    match p[0] {
        wire::KEXINIT => match KexInit::parse(p) {
            Some(offer) => kexinit(&offer, from),
            None => "KEXINIT (malformed)".to_string(),
        },
        wire::KEX_INIT => match Reader(&p[1..]).string() {
            Some(value) => format!("KEX_INIT ({})", public_value(value)),
            None => "KEX_INIT".to_string(),
        },
        wire::KEX_REPLY | wire::GEX_REPLY => {
            let name = if p[0] == wire::KEX_REPLY {
                "KEX_REPLY"
            } else {
                "KEX_DH_GEX_REPLY"
            };
            if let Some((key, signature)) = wire::reply_host_key(p) {
                format!("{name} host key {key}, signature {signature}")
            } else if let Some((prime, _)) = kex::gex_group(p) {
                format!("KEX_DH_GEX_GROUP {}-bit prime", prime.bits())
            } else {
                format!("{name} (malformed)")
            }
        }
        wire::GEX_REQUEST => {
            let mut r = Reader(&p[1..]);
            match (r.u32(), r.u32(), r.u32()) {
                (Some(min), Some(n), Some(max)) => {
                    format!("KEX_DH_GEX_REQUEST min={min} n={n} max={max}")
                }
                _ => "KEX_DH_GEX_REQUEST (malformed)".to_string(),
            }
        }
        wire::GEX_INIT => "KEX_DH_GEX_INIT".to_string(),
        wire::NEWKEYS => "NEWKEYS".to_string(),
        wire::IGNORE => "IGNORE".to_string(),
        wire::UNIMPLEMENTED => "UNIMPLEMENTED".to_string(),
        wire::EXT_INFO => "EXT_INFO".to_string(),
        wire::DEBUG => {
            let mut r = Reader(&p[1..]);
            r.byte();
            let text = r.string().map(String::from_utf8_lossy).unwrap_or_default();
            format!("DEBUG {}", text.trim())
        }
        wire::DISCONNECT => match wire::disconnect(p) {
            Some((code, text)) => format!(
                "DISCONNECT {code} ({}): {}",
                wire::disconnect_reason(code),
                text.trim()
            ),
            None => "DISCONNECT (malformed)".to_string(),
        },
        other => format!("message {other}, {} bytes", p.len()),
    }
}

/// A key-exchange public value by its size: ECDH points and hybrid shares have one fixed size
/// each; a Diffie-Hellman value's bytes vary by one or two from key to key, so it shows as its
/// group's size.
fn public_value(value: &[u8]) -> String {
    let fixed = matches!(value.len(), 32 | 1190 | 1216)
        || (value.first() == Some(&4) && matches!(value.len(), 65 | 97 | 133));
    if fixed {
        return format!("{}-byte public value", value.len());
    }
    let significant = value.iter().skip_while(|&&b| b == 0).count();
    let bits = (significant * 8).div_ceil(512) * 512;
    format!("{bits}-bit Diffie-Hellman value")
}

fn kexinit(offer: &KexInit, from: Direction) -> String {
    let both = |a: &[String], b: &[String]| {
        if a == b {
            a.join(",")
        } else {
            format!("{}/{}", a.join(","), b.join(","))
        }
    };
    let fingerprint = if from == Direction::Client {
        "hassh"
    } else {
        "hasshServer"
    };
    format!(
        "KEXINIT kex={} hostkey={} ciphers={} macs={} compression={} {fingerprint}={}",
        offer.kex.join(","),
        offer.host_key.join(","),
        both(&offer.cipher_c2s, &offer.cipher_s2c),
        both(&offer.mac_c2s, &offer.mac_s2c),
        both(&offer.compression_c2s, &offer.compression_s2c),
        offer.hassh(from == Direction::Client)
    )
}

/// A distribution's patch level in an identification changes with every security update.
pub static REDACTIONS: Redactions =
    Redactions::new(&[(r"\b(Debian|Ubuntu|Raspbian)-[0-9A-Za-z.+~-]+", "$1-<patch>")]);

#[cfg(test)]
mod tests {
    use super::super::framing::packet;
    use super::*;

    #[test]
    fn messages_read_by_type() {
        assert_eq!(
            describe(
                Direction::Server,
                b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"
            ),
            "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
        );
        let mut disconnect = vec![wire::DISCONNECT, 0, 0, 0, 3];
        wire::put_string(&mut disconnect, b"no matching key exchange method found");
        assert_eq!(
            describe(Direction::Server, &packet(&disconnect)),
            "DISCONNECT 3 (key exchange failed): no matching key exchange method found"
        );
        assert_eq!(
            describe(Direction::Server, &packet(&[wire::NEWKEYS])),
            "NEWKEYS"
        );
        assert_eq!(
            describe(Direction::Server, b"\x8f\x12\x00"),
            "3 bytes, encrypted or not SSH"
        );
        assert_eq!(
            REDACTIONS.apply("OpenSSH_9.2p1 Debian-2+deb12u3 x"),
            "OpenSSH_9.2p1 Debian-<patch> x"
        );
    }
}
