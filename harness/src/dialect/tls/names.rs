//! IANA names of TLS protocol versions, cipher suites, named groups and alerts (RFC 8446,
//! RFC 5246 and the IANA TLS registries), both ways.

const VERSIONS: &[(u16, &str)] = &[
    (0x0300, "SSLv3"),
    (0x0301, "TLSv1"),
    (0x0302, "TLSv1.1"),
    (0x0303, "TLSv1.2"),
    (0x0304, "TLSv1.3"),
];

const CIPHERS: &[(u16, &str)] = &[
    (0x1301, "TLS_AES_128_GCM_SHA256"),
    (0x1302, "TLS_AES_256_GCM_SHA384"),
    (0x1303, "TLS_CHACHA20_POLY1305_SHA256"),
    (0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    (0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    (0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    (0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    (0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    (0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
    (0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
    (0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    (0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    (0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    (0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    (0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5"),
    (0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),
    (0x5600, "TLS_FALLBACK_SCSV"),
];

const GROUPS: &[(u16, &str)] = &[
    (0x0017, "secp256r1"),
    (0x0018, "secp384r1"),
    (0x0019, "secp521r1"),
    (0x001D, "x25519"),
    (0x001E, "x448"),
    (0x0100, "ffdhe2048"),
    (0x0101, "ffdhe3072"),
];

const ALERTS: &[(u8, &str)] = &[
    (0, "close_notify"),
    (10, "unexpected_message"),
    (20, "bad_record_mac"),
    (22, "record_overflow"),
    (40, "handshake_failure"),
    (42, "bad_certificate"),
    (47, "illegal_parameter"),
    (48, "unknown_ca"),
    (50, "decode_error"),
    (51, "decrypt_error"),
    (70, "protocol_version"),
    (71, "insufficient_security"),
    (80, "internal_error"),
    (86, "inappropriate_fallback"),
    (90, "user_canceled"),
    (109, "missing_extension"),
    (110, "unsupported_extension"),
    (112, "unrecognized_name"),
    (120, "no_application_protocol"),
];

fn name<T: PartialEq + Copy>(table: &[(T, &'static str)], code: T) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

fn code<T: Copy>(table: &[(T, &'static str)], text: &str) -> Option<T> {
    table
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(text))
        .map(|(c, _)| *c)
}

/// `0x` followed by four hex digits.
fn hex_code(text: &str) -> Option<u16> {
    text.strip_prefix("0x")
        .filter(|h| h.len() == 4)
        .and_then(|h| u16::from_str_radix(h, 16).ok())
}

pub fn version_name(v: u16) -> String {
    name(VERSIONS, v).map_or_else(|| format!("0x{v:04x}"), str::to_string)
}

pub fn version_code(text: &str) -> Option<u16> {
    code(VERSIONS, text).or_else(|| hex_code(text))
}

pub fn cipher_name(c: u16) -> String {
    name(CIPHERS, c).map_or_else(|| format!("0x{c:04X}"), str::to_string)
}

pub fn cipher_code(text: &str) -> Option<u16> {
    code(CIPHERS, text).or_else(|| hex_code(text))
}

pub fn group_name(g: u16) -> String {
    name(GROUPS, g).map_or_else(|| format!("0x{g:04x}"), str::to_string)
}

pub fn group_code(text: &str) -> Option<u16> {
    code(GROUPS, text).or_else(|| hex_code(text))
}

pub fn alert_name(a: u8) -> String {
    name(ALERTS, a).map_or_else(|| format!("alert {a}"), str::to_string)
}
