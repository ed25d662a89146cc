//! The ServerKeyExchange of TLS 1.2 and older (RFC 5246 7.4.3, RFC 8422 5.4): the size of a
//! DHE group or the curve of an ECDHE key, and the scheme the server signed them with. Which
//! form the message takes follows from the negotiated cipher suite's key exchange.

use super::certificate::bits;
use super::names;
use super::reader::Reader;

/// The ephemeral key the server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exchange {
    /// Finite-field Diffie-Hellman: the size of the prime `p`.
    Dh { bits: u32 },
    /// Elliptic-curve Diffie-Hellman on a named group.
    Ecdh { group: u16 },
    /// An export suite's temporary RSA key.
    RsaExport { bits: u32 },
}

impl std::fmt::Display for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exchange::Dh { bits } => write!(f, "DHE {bits}-bit group"),
            Exchange::Ecdh { group } => write!(f, "ECDHE {}", names::group_name(*group)),
            Exchange::RsaExport { bits } => write!(f, "temporary RSA {bits}-bit key"),
        }
    }
}

/// A ServerKeyExchange, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchange {
    pub exchange: Exchange,
    /// TLS 1.2's signature scheme (older versions name none; anonymous suites sign nothing).
    pub signature: Option<u16>,
}

/// How a cipher suite's key exchange shapes its ServerKeyExchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Dh,
    Ecdh,
    RsaExport,
    /// No ServerKeyExchange is expected (RSA key exchange), or one this reader leaves alone.
    None,
}

/// The form by the suite's IANA name: `TLS_DHE_RSA_...`, `TLS_ECDHE_ECDSA_...`, ...
pub fn form(cipher: u16) -> Form {
    let name = names::cipher_name(cipher);
    if name.contains("_ECDHE_") || name.contains("_ECDH_anon_") {
        Form::Ecdh
    } else if name.contains("_DHE_") || name.contains("_DH_anon_") {
        Form::Dh
    } else if name.contains("_RSA_EXPORT") {
        Form::RsaExport
    } else {
        Form::None
    }
}

const NAMED_CURVE: u8 = 3;
const TLS12: u16 = 0x0303;

/// Reads a ServerKeyExchange body (handshake header removed) for `cipher` under `version`;
/// `None` when the suite's form is not one this reads.
pub fn read(body: &[u8], cipher: u16, version: u16) -> Result<Option<ServerKeyExchange>, String> {
    let name = names::cipher_name(cipher);
    let mut r = Reader::new(body);
    if name.contains("_PSK_") {
        r.vec16().ok_or("the PSK identity hint is cut short")?;
    }
    let exchange = match form(cipher) {
        Form::Dh => {
            let p = r.vec16().ok_or("the DH prime is cut short")?;
            r.vec16().ok_or("the DH generator is cut short")?;
            r.vec16().ok_or("the DH public value is cut short")?;
            Exchange::Dh { bits: bits(p) }
        }
        Form::Ecdh => {
            let curve_type = r.u8().ok_or("the ECDH parameters are cut short")?;
            if curve_type != NAMED_CURVE {
                return Err(format!(
                    "ECDH parameters of curve type {curve_type}, not a named curve"
                ));
            }
            let group = r.u16().ok_or("the ECDH curve is cut short")?;
            r.vec8().ok_or("the ECDH public point is cut short")?;
            Exchange::Ecdh { group }
        }
        Form::RsaExport => {
            let modulus = r.vec16().ok_or("the RSA modulus is cut short")?;
            r.vec16().ok_or("the RSA exponent is cut short")?;
            Exchange::RsaExport {
                bits: bits(modulus),
            }
        }
        Form::None => return Ok(None),
    };
    let signature = if name.contains("_anon_") || name.contains("_PSK_") || version < TLS12 {
        None
    } else {
        r.u16()
    };
    Ok(Some(ServerKeyExchange {
        exchange,
        signature,
    }))
}

/// The key a ServerKeyExchange seen without its ServerHello holds, guessed from its shape
/// (for describing a record alone): a named curve, else a DH group.
pub fn guess(body: &[u8]) -> Option<Exchange> {
    const ECDHE_RSA: u16 = 0xC02F;
    const DHE_RSA: u16 = 0x009E;
    let cipher = if body.first() == Some(&NAMED_CURVE) {
        ECDHE_RSA
    } else {
        DHE_RSA
    };
    read(body, cipher, TLS12).ok().flatten().map(|s| s.exchange)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DHE_RSA: u16 = 0x009E; // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
    const ECDHE_RSA: u16 = 0xC02F; // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256

    fn vec16(data: &[u8]) -> Vec<u8> {
        let mut v = (data.len() as u16).to_be_bytes().to_vec();
        v.extend_from_slice(data);
        v
    }

    fn dh(prime_bytes: usize) -> Vec<u8> {
        let mut p = vec![0xff; prime_bytes];
        p[0] = 0xC9;
        let mut body = vec16(&p);
        body.extend(vec16(&[2]));
        body.extend(vec16(&[7; 16]));
        body.extend([0x04, 0x01]); // rsa_pkcs1_sha256
        body.extend(vec16(&[1; 8]));
        body
    }

    #[test]
    fn a_dhe_group_is_sized_by_its_prime() {
        let ske = read(&dh(128), DHE_RSA, 0x0303).unwrap().unwrap();
        assert_eq!(ske.exchange, Exchange::Dh { bits: 1024 });
        assert_eq!(ske.signature, Some(0x0401));
        assert_eq!(ske.exchange.to_string(), "DHE 1024-bit group");
        let old = read(&dh(256), DHE_RSA, 0x0301).unwrap().unwrap();
        assert_eq!(
            (old.exchange, old.signature),
            (Exchange::Dh { bits: 2048 }, None)
        );
    }

    #[test]
    fn an_ecdhe_key_names_its_curve() {
        let mut body = vec![NAMED_CURVE, 0x00, 0x1d, 32];
        body.extend([9; 32]);
        body.extend([0x08, 0x04]);
        body.extend(vec16(&[1; 8]));
        let ske = read(&body, ECDHE_RSA, 0x0303).unwrap().unwrap();
        assert_eq!(ske.exchange.to_string(), "ECDHE x25519");
        assert_eq!(ske.signature, Some(0x0804));
        assert!(read(&[1, 0, 0x17], ECDHE_RSA, 0x0303).is_err());
    }

    #[test]
    fn suites_without_an_ephemeral_key_read_nothing_and_cut_bodies_are_errors() {
        assert_eq!(read(&[], 0x009C, 0x0303), Ok(None)); // TLS_RSA_WITH_AES_128_GCM_SHA256
        let body = dh(128);
        for n in 0..body.len() - 12 {
            assert!(read(&body[..n], DHE_RSA, 0x0303).is_err(), "cut at {n}");
        }
    }
}
