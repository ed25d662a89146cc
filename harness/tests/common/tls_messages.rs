//! TLS server messages built by hand for tests: a ServerHello, or a HelloRetryRequest.

/// The ServerHello random that marks a HelloRetryRequest (RFC 8446 4.1.3).
pub const HRR_RANDOM: &str = "CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C";

/// A ServerHello handshake message: `legacy` version, the suite, and the supported_versions
/// and key_share extensions when given; a HelloRetryRequest with `retry`.
pub fn server_hello_message(
    legacy: u16,
    cipher: u16,
    supported: Option<u16>,
    key_share: Option<u16>,
    retry: bool,
) -> Vec<u8> {
    let mut extensions = Vec::new();
    if let Some(v) = supported {
        extensions.extend([0, 43, 0, 2]);
        extensions.extend(v.to_be_bytes());
    }
    if let Some(g) = key_share {
        extensions.extend([0, 51, 0, 2]);
        extensions.extend(g.to_be_bytes());
    }
    let mut body = legacy.to_be_bytes().to_vec();
    if retry {
        body.extend(hex::decode(HRR_RANDOM).unwrap());
    } else {
        body.extend([0x42; 32]);
    }
    body.push(0);
    body.extend(cipher.to_be_bytes());
    body.push(0);
    body.extend((extensions.len() as u16).to_be_bytes());
    body.extend(extensions);
    let mut message = vec![2];
    message.extend(&(body.len() as u32).to_be_bytes()[1..]);
    message.extend(body);
    message
}

/// The rest of a TLS 1.2 flight after a ServerHello choosing `cipher`, as one handshake
/// record: the tls-cutoff suite's test certificate, a ServerKeyExchange where the suite's key
/// exchange needs one (a 2048-bit DH group, or x25519), and ServerHelloDone.
pub fn rest_of_flight(cipher: u16) -> Vec<u8> {
    use harness::dialect::tls::key_exchange::{Form, form};
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let cert = CertificateDer::from_pem_file(
        crate::common::repo_root().join("suites/tls-cutoff/servers/test-cert.pem"),
    )
    .unwrap();
    let vec16 = |data: &[u8]| [&(data.len() as u16).to_be_bytes()[..], data].concat();
    let message = |kind: u8, body: &[u8]| {
        [&[kind][..], &(body.len() as u32).to_be_bytes()[1..], body].concat()
    };
    let entry = [&(cert.len() as u32).to_be_bytes()[1..], &cert[..]].concat();
    let list = [&(entry.len() as u32).to_be_bytes()[1..], &entry[..]].concat();
    let signature = [&[0x08, 0x04][..], &vec16(&[1; 16])].concat();
    let key_exchange = match form(cipher) {
        Form::Dh => Some(
            [
                vec16(&[0xC9; 256]),
                vec16(&[2]),
                vec16(&[7; 256]),
                signature,
            ]
            .concat(),
        ),
        Form::Ecdh => Some([&[3, 0x00, 0x1D, 32][..], &[9; 32], &signature].concat()),
        _ => None,
    };
    let mut handshake = message(11, &list);
    if let Some(ske) = key_exchange {
        handshake.extend(message(12, &ske));
    }
    handshake.extend(message(14, &[]));
    let mut record = vec![22, 3, 3];
    record.extend((handshake.len() as u16).to_be_bytes());
    record.extend(handshake);
    record
}
