//! What the server's key-exchange messages must be for the method both sides negotiated.
//! Message 31 means three things: KEX_ECDH_REPLY for the ECDH methods and their hybrids
//! (curve25519, NIST curves, sntrup761x25519, mlkem768x25519: RFC 5656 section 4, RFC 8731),
//! KEXDH_REPLY for the fixed Diffie-Hellman groups (RFC 4253 section 8), and KEX_DH_GEX_GROUP
//! for group exchange (RFC 4419), whose reply is 33. Each is decoded as its method has it.

use super::wire::{self, Reader};

/// The shape of a key exchange, by its method's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// One init (a public key or encapsulation), one KEX_ECDH_REPLY.
    Ecdh,
    /// One init (e), one KEXDH_REPLY.
    Dh,
    /// A request, the server's group (31), an init (32), the reply (33).
    GroupExchange,
    /// A method the harness does not know: any reply of the usual shape is taken.
    Unknown,
}

pub fn family(kex: &str) -> Family {
    if kex.starts_with("diffie-hellman-group-exchange-") {
        Family::GroupExchange
    } else if kex.starts_with("diffie-hellman-group") {
        Family::Dh
    } else if [
        "curve25519-",
        "curve448-",
        "ecdh-sha2-",
        "sntrup761x25519-",
        "mlkem",
    ]
    .iter()
    .any(|p| kex.starts_with(p))
    {
        Family::Ecdh
    } else {
        Family::Unknown
    }
}

/// Message `kind` as the method names it, for reasons.
pub fn name(family: Family, kind: u8) -> String {
    let name = match (family, kind) {
        (Family::Ecdh, wire::KEX_REPLY) => "KEX_ECDH_REPLY",
        (Family::Dh, wire::KEX_REPLY) => "KEXDH_REPLY",
        (Family::GroupExchange, wire::KEX_REPLY) => "KEX_DH_GEX_GROUP",
        (Family::Unknown, wire::KEX_REPLY) => "a key-exchange reply",
        (_, wire::GEX_REPLY) => "KEX_DH_GEX_REPLY",
        (_, wire::KEXINIT) => "KEXINIT",
        (_, wire::NEWKEYS) => "NEWKEYS",
        (_, wire::IGNORE) => "IGNORE",
        (_, wire::DEBUG) => "DEBUG",
        (_, wire::UNIMPLEMENTED) => "UNIMPLEMENTED",
        (_, wire::EXT_INFO) => "EXT_INFO",
        (_, wire::DISCONNECT) => "DISCONNECT",
        _ => "message",
    };
    format!("{name} ({kind})")
}

/// The length of the server's public value in a KEX_ECDH_REPLY (its Q_S), where the method
/// fixes one: a curve point, or for the hybrids the post-quantum ciphertext followed by the
/// X25519 key (sntrup761: 1039 + 32; ML-KEM-768: 1088 + 32). The client's is another length.
fn server_public_len(kex: &str) -> Option<usize> {
    Some(match kex {
        "curve25519-sha256" | "curve25519-sha256@libssh.org" => 32,
        "ecdh-sha2-nistp256" => 65,
        "ecdh-sha2-nistp384" => 97,
        "ecdh-sha2-nistp521" => 133,
        "sntrup761x25519-sha512" | "sntrup761x25519-sha512@openssh.com" => 1071,
        "mlkem768x25519-sha256" => 1120,
        _ => return None,
    })
}

/// Checks a reply's fields as method `kex` (of `family`) has them: the host key, the server's
/// public value (for ECDH of the method's length where it is known; an mpint for
/// Diffie-Hellman) and the signature, with nothing after them.
pub fn check(family: Family, kex: &str, payload: &[u8]) -> Result<(), String> {
    let mut r = Reader(payload.get(1..).unwrap_or_default());
    let short = |what: &str| format!("it ends before its {what}");
    let host_key = r.string().ok_or_else(|| short("host key"))?;
    if host_key.is_empty() {
        return Err("its host key is empty".into());
    }
    let value = r.string().ok_or_else(|| match family {
        Family::Ecdh => short("public key"),
        _ => short("public value f"),
    })?;
    if family == Family::Ecdh
        && let Some(length) = server_public_len(kex)
        && value.len() != length
    {
        return Err(format!(
            "its public key is {} bytes, not the {length} bytes {kex} has",
            value.len()
        ));
    }
    if value.is_empty() {
        return Err("its public value is empty".into());
    }
    r.string().ok_or_else(|| short("signature"))?;
    if !r.0.is_empty() {
        return Err(format!("{} bytes follow its signature", r.0.len()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(kind: u8, value_len: usize) -> Vec<u8> {
        let mut out = vec![kind];
        wire::put_string(&mut out, b"host key");
        wire::put_string(&mut out, &vec![7; value_len]);
        wire::put_string(&mut out, b"signature");
        out
    }

    #[test]
    fn thirty_one_is_named_by_the_method() {
        assert_eq!(family("curve25519-sha256"), Family::Ecdh);
        assert_eq!(family("mlkem768x25519-sha256"), Family::Ecdh);
        assert_eq!(family("diffie-hellman-group14-sha256"), Family::Dh);
        assert_eq!(
            family("diffie-hellman-group-exchange-sha256"),
            Family::GroupExchange
        );
        assert_eq!(name(Family::Ecdh, 31), "KEX_ECDH_REPLY (31)");
        assert_eq!(name(Family::Dh, 31), "KEXDH_REPLY (31)");
        assert_eq!(name(Family::GroupExchange, 31), "KEX_DH_GEX_GROUP (31)");
    }

    #[test]
    fn a_reply_is_decoded_as_its_method_has_it() {
        assert_eq!(
            check(Family::Ecdh, "curve25519-sha256", &reply(31, 32)),
            Ok(())
        );
        assert_eq!(
            check(Family::Ecdh, "sntrup761x25519-sha512", &reply(31, 1071)),
            Ok(())
        );
        assert_eq!(
            check(Family::Ecdh, "curve25519-sha256", &reply(31, 256)),
            Err("its public key is 256 bytes, not the 32 bytes curve25519-sha256 has".into())
        );
        assert_eq!(
            check(Family::Dh, "diffie-hellman-group14-sha256", &reply(31, 256)),
            Ok(())
        );
        let mut trailing = reply(31, 32);
        trailing.push(0);
        assert!(check(Family::Ecdh, "curve25519-sha256", &trailing).is_err());
        assert!(check(Family::Ecdh, "curve25519-sha256", &[31, 0, 0]).is_err());
    }
}
