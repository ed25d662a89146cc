//! The SSLv2-compatible ClientHello of very old clients (RFC 6101 appendix E.2, RFC 5246
//! appendix E.2): a 2-byte header with the top bit set, then the hello with 3-byte cipher
//! specs. Its version field is the highest version the client offers.

use super::hello::Offer;
use super::reader::Reader;

const CLIENT_HELLO: u8 = 1;

/// What an SSLv2-compatible ClientHello offers: its header's version and the specs that are
/// TLS cipher suites (`00 XX YY`; SSLv2-only kinds have no TLS code and are left out).
pub fn offer(record: &[u8]) -> Option<Offer> {
    let mut r = Reader::new(record);
    let length = usize::from(r.u16()? & 0x7fff);
    if length != r.rest() || r.u8()? != CLIENT_HELLO {
        return None;
    }
    let version = r.u16()?;
    let specs = usize::from(r.u16()?);
    let session_id = usize::from(r.u16()?);
    let challenge = usize::from(r.u16()?);
    if !specs.is_multiple_of(3) || specs + session_id + challenge != r.rest() {
        return None;
    }
    let ciphers = r
        .take(specs)?
        .chunks_exact(3)
        .filter(|spec| spec[0] == 0)
        .map(|spec| u16::from_be_bytes([spec[1], spec[2]]))
        .collect();
    Some(Offer {
        versions: vec![version],
        supported_versions: false,
        ciphers,
        ..Offer::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS 1.0 client's SSLv2-compatible hello: two TLS suites, one SSLv2-only kind.
    fn hello() -> Vec<u8> {
        let mut body = vec![CLIENT_HELLO, 3, 1, 0, 9, 0, 0, 0, 16];
        body.extend([0, 0, 0x2F, 0x01, 0x00, 0x80, 0, 0, 0x0A]);
        body.extend([0xAB; 16]);
        let mut record = (0x8000 | body.len() as u16).to_be_bytes().to_vec();
        record.extend(body);
        record
    }

    #[test]
    fn reads_the_header_version_and_tls_suites() {
        let offer = offer(&hello()).unwrap();
        assert_eq!(offer.versions, [0x0301]);
        assert_eq!(offer.ciphers, [0x002F, 0x000A]);
        assert!(offer.offers_version(0x0300) && !offer.offers_version(0x0303));
    }

    #[test]
    fn lengths_must_add_up() {
        let record = hello();
        for n in 0..record.len() {
            assert_eq!(super::offer(&record[..n]), None, "truncated to {n}");
        }
        let mut longer = record.clone();
        longer.push(0);
        assert_eq!(super::offer(&longer), None);
    }
}
