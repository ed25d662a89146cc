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
