//! ClientHello (RFC 8446 section 4.1.2): building one from a short description, reading a
//! recorded one (versions, cipher suites, groups, SNI; SSLv2-compatible and extension-less
//! hellos of old clients too), and rewriting its SNI for the target with every enclosing
//! length recomputed.

use super::names;
use super::reader::{Reader, u16s};
use super::sslv2;

const EXT_SERVER_NAME: u16 = 0;
const EXT_SUPPORTED_GROUPS: u16 = 10;
const EXT_EC_POINT_FORMATS: u16 = 11;
const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
const EXT_ALPN: u16 = 16;
const EXT_SUPPORTED_VERSIONS: u16 = 43;
const EXT_KEY_SHARE: u16 = 51;
const EXT_PRE_SHARED_KEY: u16 = 41;
const EXT_SESSION_TICKET: u16 = 35;
const EXT_RENEGOTIATION_INFO: u16 = 0xff01;

/// A scripted client's hello: what it offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    pub versions: Vec<u16>,
    pub ciphers: Vec<u16>,
    pub groups: Vec<u16>,
    pub sni: Option<String>,
}

impl Description {
    /// `versions=TLSv1.2,TLSv1.3 ciphers=TLS_AES_128_GCM_SHA256 groups=x25519 sni=example.org`
    pub fn parse(words: &str) -> Result<Description, String> {
        let mut d = Description {
            versions: vec![0x0303],
            ciphers: Vec::new(),
            groups: vec![0x001D, 0x0017],
            sni: None,
        };
        for word in words.split_whitespace() {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| format!("`{word}` is not key=value"))?;
            let list = |lookup: fn(&str) -> Option<u16>, what: &str| {
                value
                    .split(',')
                    .map(|v| lookup(v).ok_or_else(|| format!("unknown {what} `{v}`")))
                    .collect::<Result<Vec<u16>, String>>()
            };
            match key {
                "versions" => d.versions = list(names::version_code, "version")?,
                "ciphers" => d.ciphers = list(names::cipher_code, "cipher suite")?,
                "groups" => d.groups = list(names::group_code, "group")?,
                "sni" => d.sni = Some(value.to_string()).filter(|s| !s.is_empty()),
                _ => {
                    return Err(format!(
                        "unknown hello field `{key}` (versions, ciphers, groups, sni)"
                    ));
                }
            }
        }
        if d.ciphers.is_empty() {
            return Err("a hello needs ciphers=...".to_string());
        }
        Ok(d)
    }

    /// The ClientHello as one handshake record.
    pub fn build(&self) -> Vec<u8> {
        let max = self.versions.iter().copied().max().unwrap_or(0x0303);
        let tls13 = self.versions.contains(&0x0304);
        let mut body = Vec::new();
        body.extend_from_slice(&max.min(0x0303).to_be_bytes());
        body.extend_from_slice(&[0x5A; 32]); // random: fixed, so scripted hellos are reproducible
        if tls13 {
            body.push(32);
            body.extend_from_slice(&[0xA5; 32]);
        } else {
            body.push(0);
        }
        let mut ciphers = Vec::new();
        for c in &self.ciphers {
            ciphers.extend_from_slice(&c.to_be_bytes());
        }
        push_u16_vec(&mut body, &ciphers);
        body.extend_from_slice(&[1, 0]);
        let mut ext = Vec::new();
        if let Some(sni) = &self.sni {
            extension(&mut ext, EXT_SERVER_NAME, &server_name(sni));
        }
        let mut groups = Vec::new();
        for g in &self.groups {
            groups.extend_from_slice(&g.to_be_bytes());
        }
        let mut list = Vec::new();
        push_u16_vec(&mut list, &groups);
        extension(&mut ext, EXT_SUPPORTED_GROUPS, &list);
        extension(&mut ext, EXT_EC_POINT_FORMATS, &[1, 0]);
        let sigalgs: &[u16] = &[
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201,
        ];
        let mut algs = Vec::new();
        for a in sigalgs {
            algs.extend_from_slice(&a.to_be_bytes());
        }
        let mut list = Vec::new();
        push_u16_vec(&mut list, &algs);
        extension(&mut ext, EXT_SIGNATURE_ALGORITHMS, &list);
        extension(&mut ext, EXT_RENEGOTIATION_INFO, &[0]);
        if tls13 {
            let mut versions: Vec<u16> = self.versions.clone();
            versions.sort_unstable_by(|a, b| b.cmp(a));
            let mut v = vec![(versions.len() * 2) as u8];
            for version in versions {
                v.extend_from_slice(&version.to_be_bytes());
            }
            extension(&mut ext, EXT_SUPPORTED_VERSIONS, &v);
            let mut shares = Vec::new();
            if let Some((group, key)) = self
                .groups
                .iter()
                .find_map(|g| key_share(*g).map(|k| (*g, k)))
            {
                shares.extend_from_slice(&group.to_be_bytes());
                push_u16_vec(&mut shares, &key);
            }
            let mut list = Vec::new();
            push_u16_vec(&mut list, &shares);
            extension(&mut ext, EXT_KEY_SHARE, &list);
        }
        push_u16_vec(&mut body, &ext);
        let mut handshake = vec![1];
        handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        handshake.extend_from_slice(&body);
        let mut record = vec![22, 3, 1];
        record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
        record.extend_from_slice(&handshake);
        record
    }
}

/// A public key that is valid for the group: the group's base point, which a server accepts
/// as a share (the handshake never gets far enough to need the private key).
fn key_share(group: u16) -> Option<Vec<u8>> {
    match group {
        0x001D => {
            let mut u = vec![0u8; 32];
            u[0] = 9;
            Some(u)
        }
        0x0017 => Some(
            hex::decode("046B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C2964FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5")
                .unwrap_or_default(),
        ),
        _ => None,
    }
}

fn server_name(host: &str) -> Vec<u8> {
    let mut entry = vec![0];
    push_u16_vec(&mut entry, host.as_bytes());
    let mut list = Vec::new();
    push_u16_vec(&mut list, &entry);
    list
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    push_u16_vec(out, data);
}

fn push_u16_vec(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// Where a ClientHello record's parts are, for reading and rewriting.
struct Layout {
    session_id_len: usize,
    /// Offset of the extensions block's length (the u16 before the extensions); none when
    /// the hello has no extensions block (SSLv3 and early TLS clients).
    extensions_len_at: Option<usize>,
    extensions: Vec<(u16, std::ops::Range<usize>)>,
    versions_legacy: u16,
    ciphers: Vec<u16>,
}

fn layout(record: &[u8]) -> Option<Layout> {
    // Strict: every enclosing length must account for exactly the bytes inside it, so that a
    // rewrite that adjusts them produces a hello that reads back the same way.
    let mut r = Reader::new(record);
    if r.u8()? != 22 {
        return None;
    }
    r.take(2)?;
    if usize::from(r.u16()?) != record.len().checked_sub(5)? {
        return None;
    }
    if r.u8()? != 1 {
        return None;
    }
    if r.u24()? != record.len().checked_sub(9)? {
        return None;
    }
    let versions_legacy = r.u16()?;
    r.take(32)?;
    let session_id_len = r.vec8()?.len();
    let ciphers = u16s(r.vec16()?);
    r.vec8()?;
    let mut extensions = Vec::new();
    if r.rest() == 0 {
        // RFC 5246 7.4.1.2: a hello may end after its compression methods.
        return Some(Layout {
            session_id_len,
            extensions_len_at: None,
            extensions,
            versions_legacy,
            ciphers,
        });
    }
    let extensions_len_at = r.at();
    if usize::from(r.u16()?) != r.rest() {
        return None;
    }
    while r.rest() > 0 {
        let kind = r.u16()?;
        let len = usize::from(r.u16()?);
        let start = r.at();
        r.take(len)?;
        extensions.push((kind, start..start + len));
    }
    Some(Layout {
        session_id_len,
        extensions_len_at: Some(extensions_len_at),
        extensions,
        versions_legacy,
        ciphers,
    })
}

/// What a recorded ClientHello offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// From the supported_versions extension; without one, the one highest version the
    /// hello's legacy field (or an SSLv2-compatible hello's header) names.
    pub versions: Vec<u16>,
    /// Whether `versions` is the supported_versions list; when not, every version from SSLv3
    /// up to the one it holds is on offer (RFC 5246 appendix E.1).
    pub supported_versions: bool,
    pub ciphers: Vec<u16>,
    pub groups: Vec<u16>,
    pub sni: Option<String>,
    /// Extension types in the order sent.
    pub extensions: Vec<u16>,
    /// The first protocol the ALPN extension names.
    pub alpn: Option<Vec<u8>>,
    pub signature_algorithms: Vec<u16>,
    /// It offers a session to resume: a session id, a session ticket or a pre-shared key.
    pub resumes: bool,
}

impl Offer {
    /// Whether a server may choose `version` for this client.
    pub fn offers_version(&self, version: u16) -> bool {
        if self.supported_versions {
            self.versions.contains(&version)
        } else {
            (0x0300..=self.versions.iter().copied().max().unwrap_or(0)).contains(&version)
        }
    }
}

/// What a ClientHello record offers: a TLS one, or the SSLv2-compatible hello of a very old
/// client.
pub fn offer(record: &[u8]) -> Option<Offer> {
    if record.first().is_some_and(|b| b & 0x80 != 0) {
        return sslv2::offer(record);
    }
    let l = layout(record)?;
    let ext = |kind: u16| {
        l.extensions
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, r)| &record[r.clone()])
    };
    let (versions, supported_versions) = match ext(EXT_SUPPORTED_VERSIONS) {
        Some(data) => (u16s(data.get(1..)?), true),
        None => (vec![l.versions_legacy], false),
    };
    let groups = ext(EXT_SUPPORTED_GROUPS)
        .and_then(|d| d.get(2..))
        .map(u16s)
        .unwrap_or_default();
    let sni = ext(EXT_SERVER_NAME)
        .and_then(|d| d.get(5..))
        .map(|n| String::from_utf8_lossy(n).into_owned());
    let alpn = ext(EXT_ALPN).and_then(|d| {
        Reader::new(d)
            .vec16()
            .and_then(|list| Reader::new(list).vec8())
    });
    let signature_algorithms = ext(EXT_SIGNATURE_ALGORITHMS)
        .and_then(|d| d.get(2..))
        .map(u16s)
        .unwrap_or_default();
    Some(Offer {
        versions,
        supported_versions,
        ciphers: l.ciphers,
        groups,
        sni,
        resumes: l.session_id_len > 0
            || ext(EXT_SESSION_TICKET).is_some_and(|t| !t.is_empty())
            || ext(EXT_PRE_SHARED_KEY).is_some(),
        extensions: l.extensions.iter().map(|(k, _)| *k).collect(),
        alpn: alpn.map(<[u8]>::to_vec),
        signature_algorithms,
    })
}

/// Where each key share's public key lies in a ClientHello record: its group and the byte
/// range of its key_exchange, for replacing it in place.
pub fn key_shares(record: &[u8]) -> Vec<(u16, std::ops::Range<usize>)> {
    let Some(l) = layout(record) else {
        return Vec::new();
    };
    let Some((_, range)) = l.extensions.iter().find(|(k, _)| *k == EXT_KEY_SHARE) else {
        return Vec::new();
    };
    let mut shares = Vec::new();
    let mut r = Reader::new(&record[range.clone()]);
    let Some(list) = r.vec16() else {
        return shares;
    };
    let base = range.start + 2;
    let mut entries = Reader::new(list);
    while let (Some(group), Some(key)) = (entries.u16(), entries.vec16()) {
        let end = base + entries.at();
        shares.push((group, end - key.len()..end));
    }
    shares
}

/// Whether the hello offers a pre-shared key (resumption): its binder covers the whole
/// hello, so nothing in it can be replaced.
pub fn offers_psk(record: &[u8]) -> bool {
    layout(record).is_some_and(|l| l.extensions.iter().any(|(k, _)| *k == EXT_PRE_SHARED_KEY))
}

/// The record with its server_name replaced by `host` (or left alone when it has none):
/// the extension, extensions block, handshake and record lengths are all recomputed.
pub fn rewrite_sni(record: &[u8], host: &str) -> Option<Vec<u8>> {
    let l = layout(record)?;
    let (Some((_, range)), Some(extensions_len_at)) = (
        l.extensions.iter().find(|(k, _)| *k == EXT_SERVER_NAME),
        l.extensions_len_at,
    ) else {
        return Some(record.to_vec());
    };
    let new = server_name(host);
    let delta = new.len() as isize - range.len() as isize;
    let mut out = Vec::with_capacity(record.len() + new.len());
    out.extend_from_slice(&record[..range.start - 2]);
    out.extend_from_slice(&(new.len() as u16).to_be_bytes());
    out.extend_from_slice(&new);
    out.extend_from_slice(&record[range.end..]);
    let adjust16 = |out: &mut Vec<u8>, at: usize| {
        let v = u16::from_be_bytes([out[at], out[at + 1]]) as isize + delta;
        out[at..at + 2].copy_from_slice(&(v as u16).to_be_bytes());
    };
    adjust16(&mut out, 3); // record length
    let hs = ((usize::from(out[6]) << 16) | (usize::from(out[7]) << 8) | usize::from(out[8]))
        as isize
        + delta;
    out[6..9].copy_from_slice(&(hs as u32).to_be_bytes()[1..]);
    adjust16(&mut out, extensions_len_at);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn description() -> Description {
        Description::parse("versions=TLSv1.2,TLSv1.3 ciphers=TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 groups=x25519,secp256r1 sni=example.org").unwrap()
    }

    #[test]
    fn built_hello_reads_back_what_it_offers() {
        let record = description().build();
        let offer = offer(&record).unwrap();
        assert_eq!(offer.versions, [0x0304, 0x0303]);
        assert_eq!(offer.ciphers, [0x1301, 0xC02F]);
        assert_eq!(offer.groups, [0x001D, 0x0017]);
        assert_eq!(offer.sni.as_deref(), Some("example.org"));
        let length = usize::from(u16::from_be_bytes([record[3], record[4]]));
        assert_eq!(length + 5, record.len());
    }

    #[test]
    fn sni_rewrite_recomputes_every_length() {
        let record = description().build();
        for host in ["localhost", "a-much-longer-host-name.internal.example", "x"] {
            let rewritten = rewrite_sni(&record, host).unwrap();
            let offer = offer(&rewritten).unwrap();
            assert_eq!(offer.sni.as_deref(), Some(host));
            assert_eq!(
                offer.ciphers,
                [0x1301, 0xC02F],
                "what follows the SNI is intact"
            );
            assert_eq!(
                usize::from(u16::from_be_bytes([rewritten[3], rewritten[4]])) + 5,
                rewritten.len()
            );
            let hs = (usize::from(rewritten[6]) << 16)
                | (usize::from(rewritten[7]) << 8)
                | usize::from(rewritten[8]);
            assert_eq!(hs + 9, rewritten.len());
        }
    }

    #[test]
    fn bad_descriptions_are_rejected() {
        assert!(
            Description::parse("ciphers=NOT_A_CIPHER")
                .unwrap_err()
                .contains("unknown cipher suite")
        );
        assert!(
            Description::parse("versions=TLSv1.2")
                .unwrap_err()
                .contains("needs ciphers")
        );
        assert!(Description::parse("colour=blue ciphers=0x002F").is_err());
    }

    #[test]
    fn truncated_hellos_never_panic() {
        let record = description().build();
        for n in 0..record.len() {
            let _ = offer(&record[..n]);
            let _ = rewrite_sni(&record[..n], "h");
        }
    }
}
