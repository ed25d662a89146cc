//! JA4 fingerprints of ClientHellos (FoxIO's JA4, TLS over TCP): `t13d1516h2_8daaf6152771_
//! e5627efa2ab1`, so a client in a suite can be matched to the same client in a server's
//! own logs. GREASE values are left out everywhere, as the fingerprint requires.

use super::hello::Offer;
use super::is_grease;
use sha2::{Digest, Sha256};

const EXT_SERVER_NAME: u16 = 0x0000;
const EXT_ALPN: u16 = 0x0010;

/// The JA4 fingerprint of what a hello offers.
pub fn ja4(offer: &Offer) -> String {
    let ciphers: Vec<u16> = offer
        .ciphers
        .iter()
        .copied()
        .filter(|c| !is_grease(*c))
        .collect();
    let extensions: Vec<u16> = offer
        .extensions
        .iter()
        .copied()
        .filter(|e| !is_grease(*e))
        .collect();
    let version = offer
        .versions
        .iter()
        .copied()
        .filter(|v| !is_grease(*v))
        .max()
        .unwrap_or(0);
    let a = format!(
        "t{}{}{:02}{:02}{}",
        version_label(version),
        if extensions.contains(&EXT_SERVER_NAME) {
            'd'
        } else {
            'i'
        },
        ciphers.len().min(99),
        extensions.len().min(99),
        alpn_label(offer.alpn.as_deref()),
    );
    let mut sorted_ciphers = ciphers;
    sorted_ciphers.sort_unstable();
    let b = truncated_hash(&hex_list(&sorted_ciphers));
    let mut sorted_extensions: Vec<u16> = extensions
        .into_iter()
        .filter(|e| *e != EXT_SERVER_NAME && *e != EXT_ALPN)
        .collect();
    sorted_extensions.sort_unstable();
    let c = if sorted_extensions.is_empty() {
        "000000000000".to_string()
    } else {
        let mut text = hex_list(&sorted_extensions);
        let algorithms: Vec<u16> = offer
            .signature_algorithms
            .iter()
            .copied()
            .filter(|s| !is_grease(*s))
            .collect();
        if !algorithms.is_empty() {
            text.push('_');
            text.push_str(&hex_list(&algorithms));
        }
        truncated_hash(&text)
    };
    format!("{a}_{b}_{c}")
}

fn version_label(version: u16) -> &'static str {
    match version {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        _ => "00",
    }
}

/// The first and last characters of the first ALPN protocol; of its hex form when either
/// is not alphanumeric; `00` without one.
fn alpn_label(alpn: Option<&[u8]>) -> String {
    let Some((&first, &last)) = alpn.and_then(|a| Some((a.first()?, a.last()?))) else {
        return "00".to_string();
    };
    if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
        format!("{}{}", first as char, last as char)
    } else {
        let first = format!("{first:02x}");
        let last = format!("{last:02x}");
        format!("{}{}", &first[..1], &last[1..])
    }
}

fn hex_list(values: &[u16]) -> String {
    values
        .iter()
        .map(|v| format!("{v:04x}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn truncated_hash(text: &str) -> String {
    if text.is_empty() {
        return "000000000000".to_string();
    }
    hex::encode(Sha256::digest(text.as_bytes()))[..12].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<u16> {
        text.split(',')
            .map(|c| u16::from_str_radix(c, 16).unwrap())
            .collect()
    }

    /// The worked example of FoxIO's JA4 specification (technical_details/JA4.md), with
    /// GREASE values added that must make no difference.
    #[test]
    fn the_specifications_example_fingerprints_as_published() {
        let mut ciphers = vec![0x0a0a];
        ciphers.extend(codes(
            "1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035",
        ));
        let mut extensions = vec![0x1a1a];
        extensions.extend(codes(
            "001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015",
        ));
        extensions.push(0x2a2a);
        let offer = Offer {
            versions: vec![0x3a3a, 0x0304, 0x0303],
            supported_versions: true,
            ciphers,
            extensions,
            alpn: Some(b"h2".to_vec()),
            signature_algorithms: codes("0403,0804,0401,0503,0805,0501,0806,0601"),
            ..Offer::default()
        };
        assert_eq!(ja4(&offer), "t13d1516h2_8daaf6152771_e5627efa2ab1");
        let no_algorithms = Offer {
            signature_algorithms: Vec::new(),
            ..offer.clone()
        };
        assert!(ja4(&no_algorithms).ends_with("_6d807ffa2a79"));
    }

    #[test]
    fn alpn_edges_and_empty_lists_follow_the_specification() {
        assert_eq!(alpn_label(Some(b"http/1.1")), "h1");
        assert_eq!(alpn_label(Some(&[0xAB])), "ab");
        assert_eq!(alpn_label(Some(&[0xAB, 0xCD])), "ad");
        assert_eq!(alpn_label(Some(&[0x30, 0xAB])), "3b");
        assert_eq!(alpn_label(Some(&[0x30, 0xAB, 0xCD, 0x31])), "01");
        assert_eq!(alpn_label(Some(b"x")), "xx");
        assert_eq!(alpn_label(Some(b"")), "00");
        assert_eq!(alpn_label(None), "00");
        let bare = Offer {
            versions: vec![0x0301],
            ..Offer::default()
        };
        assert_eq!(ja4(&bare), "t10i000000_000000000000_000000000000");
    }
}
