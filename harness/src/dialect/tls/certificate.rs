//! The server's Certificate message (RFC 5246 7.4.2; RFC 8446 4.4.2): what a client checks
//! of each certificate before it goes on: the public key's type and size, the curve of an
//! EC key, and the algorithm the issuer signed it with. X.509 is read with `x509-parser`.

use super::reader::Reader;
use x509_parser::objects::{oid_registry, oid2sn};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::{PublicKey, RSAPublicKey};

const RSA_PSS: &str = "1.2.840.113549.1.1.10";

/// A certificate's public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Rsa {
        bits: u32,
    },
    /// An EC key: its curve as IANA names the group (`secp256r1`), or the OID.
    Ecdsa {
        curve: String,
        bits: u32,
    },
    Dsa {
        bits: u32,
    },
    Ed25519,
    Ed448,
    Other(String),
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Rsa { bits } => write!(f, "RSA {bits}-bit"),
            Key::Ecdsa { curve, .. } => write!(f, "ECDSA {curve}"),
            Key::Dsa { bits } => write!(f, "DSA {bits}-bit"),
            Key::Ed25519 => f.write_str("Ed25519"),
            Key::Ed448 => f.write_str("Ed448"),
            Key::Other(oid) => write!(f, "key {oid}"),
        }
    }
}

/// One certificate of the chain, as far as a client's constraints go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cert {
    pub key: Key,
    /// The issuer's signature algorithm, e.g. `sha256WithRSAEncryption`.
    pub signature: String,
    /// Issued by itself (a root, or a self-signed leaf).
    pub self_signed: bool,
}

impl Cert {
    /// The signature algorithm, when it is not one a client requiring SHA-2 accepts: any but
    /// the SHA-2 family, EdDSA, and RSA-PSS (whose hash is in parameters this leaves unread;
    /// SHA-2 in practice).
    pub fn not_sha2(&self) -> Option<&str> {
        let lower = self.signature.to_ascii_lowercase();
        let sha2 = [
            "sha224",
            "sha256",
            "sha384",
            "sha512",
            "ed25519",
            "ed448",
            "rsassapss",
        ];
        (!sha2.iter().any(|s| lower.contains(s))).then_some(self.signature.as_str())
    }
}

/// The chain the server sent, leaf first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub certs: Vec<Cert>,
}

impl Chain {
    pub fn leaf(&self) -> Option<&Cert> {
        self.certs.first()
    }

    /// The certificates whose signatures a client checks: all but self-signed ones, whose
    /// signatures vouch for nothing (a client trusts or distrusts such a certificate itself;
    /// OpenSSL leaves their signature algorithms unchecked too).
    pub fn checked(&self) -> impl Iterator<Item = &Cert> {
        self.certs.iter().filter(|c| !c.self_signed)
    }
}

/// Reads a Certificate message body (the 4-byte handshake header removed). `tls13`: the
/// TLS 1.3 form, with a request context and per-certificate extensions.
pub fn read(body: &[u8], tls13: bool) -> Result<Chain, String> {
    let mut r = Reader::new(body);
    if tls13 {
        r.vec8().ok_or("no certificate request context")?;
    }
    let list_len = r.u24().ok_or("no certificate list")?;
    let list = r
        .take(list_len)
        .ok_or("the certificate list overruns the message")?;
    let mut l = Reader::new(list);
    let mut certs = Vec::new();
    while l.rest() > 0 {
        let len = l.u24().ok_or("a certificate's length is cut short")?;
        let der = l.take(len).ok_or("a certificate overruns the list")?;
        if tls13 {
            l.vec16()
                .ok_or("a certificate's extensions are cut short")?;
        }
        certs.push(cert(der).map_err(|e| format!("certificate {}: {e}", certs.len() + 1))?);
    }
    Ok(Chain { certs })
}

fn cert(der: &[u8]) -> Result<Cert, String> {
    let (_, x509) = X509Certificate::from_der(der).map_err(|e| format!("not X.509: {e}"))?;
    let spki = x509.public_key();
    let algorithm = spki.algorithm.algorithm.to_id_string();
    let key = match (algorithm.as_str(), spki.parsed()) {
        (_, Ok(PublicKey::RSA(rsa))) => Key::Rsa {
            bits: bits(rsa.modulus),
        },
        // RSASSA-PSS keys (RFC 4055) hold an RSAPublicKey that x509-parser leaves unparsed.
        (RSA_PSS, _) => match RSAPublicKey::from_der(&spki.subject_public_key.data) {
            Ok((_, rsa)) => Key::Rsa {
                bits: bits(rsa.modulus),
            },
            Err(_) => Key::Other(RSA_PSS.to_string()),
        },
        (_, Ok(PublicKey::EC(point))) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| curve_name(&oid.to_id_string()))
                .unwrap_or_else(|| "an unnamed curve".to_string());
            Key::Ecdsa {
                curve,
                bits: point.key_size() as u32,
            }
        }
        (_, Ok(PublicKey::DSA(y))) => Key::Dsa { bits: bits(y) },
        ("1.3.101.112", _) => Key::Ed25519,
        ("1.3.101.113", _) => Key::Ed448,
        (other, _) => Key::Other(other.to_string()),
    };
    let oid = &x509.signature_algorithm.algorithm;
    let signature = oid2sn(oid, oid_registry())
        .map(str::to_string)
        .unwrap_or_else(|_| oid.to_id_string());
    Ok(Cert {
        key,
        signature,
        self_signed: x509.subject() == x509.issuer(),
    })
}

/// The size of a big-endian unsigned integer in bits, leading zeros left out.
pub fn bits(be: &[u8]) -> u32 {
    let digits: &[u8] = match be.iter().position(|b| *b != 0) {
        Some(first) => &be[first..],
        None => return 0,
    };
    digits.len() as u32 * 8 - digits[0].leading_zeros()
}

/// IANA's group name for a named curve's OID.
fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.1" => "secp192r1",
        "1.3.132.0.33" => "secp224r1",
        "1.2.840.10045.3.1.7" => "secp256r1",
        "1.3.132.0.34" => "secp384r1",
        "1.3.132.0.35" => "secp521r1",
        "1.3.132.0.10" => "secp256k1",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        other => return other.to_string(),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;

    /// The tls-cutoff suite's test certificate: RSA 2048, sha256WithRSAEncryption.
    fn test_cert() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../suites/tls-cutoff/servers/test-cert.pem"
        );
        rustls::pki_types::CertificateDer::from_pem_file(path)
            .unwrap()
            .to_vec()
    }

    fn message(ders: &[&[u8]], tls13: bool) -> Vec<u8> {
        let mut list = Vec::new();
        for der in ders {
            list.extend_from_slice(&(der.len() as u32).to_be_bytes()[1..]);
            list.extend_from_slice(der);
            if tls13 {
                list.extend_from_slice(&[0, 0]);
            }
        }
        let mut body = Vec::new();
        if tls13 {
            body.push(0);
        }
        body.extend_from_slice(&(list.len() as u32).to_be_bytes()[1..]);
        body.extend_from_slice(&list);
        body
    }

    #[test]
    fn a_chain_reads_key_size_and_signature_in_both_forms() {
        let der = test_cert();
        for tls13 in [false, true] {
            let chain = read(&message(&[&der, &der], tls13), tls13).unwrap();
            assert_eq!(chain.certs.len(), 2);
            let leaf = chain.leaf().unwrap();
            assert_eq!(leaf.key, Key::Rsa { bits: 2048 });
            assert_eq!(leaf.signature, "sha256WithRSAEncryption");
            assert!(leaf.self_signed);
            assert_eq!(leaf.not_sha2(), None);
            assert_eq!(chain.checked().count(), 0, "self-signed: nothing to check");
        }
    }

    #[test]
    fn bits_leave_out_leading_zeros() {
        assert_eq!(bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bits(&[0x01, 0xff]), 9);
        assert_eq!(bits(&[0, 0]), 0);
        assert_eq!(bits(&[]), 0);
    }

    #[test]
    fn cut_and_garbled_messages_are_errors_not_panics() {
        let der = test_cert();
        let whole = message(&[&der], false);
        for n in 0..whole.len() {
            assert!(read(&whole[..n], false).is_err(), "cut at {n}");
        }
        let mut garbled = whole.clone();
        garbled[10] ^= 0xff;
        let _ = read(&garbled, false);
        assert!(read(&[0, 0, 3, 0, 0, 1], false).is_err());
    }
}
