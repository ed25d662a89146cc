//! The MySQL/MariaDB packets of a connection's opening, read from their payloads (headers
//! already taken off by [`super::framing`]): the server's Handshake v10, the client's
//! HandshakeResponse41 (or its 32-byte SSLRequest prefix, or an old HandshakeResponse320),
//! and the authentication phase's OK, ERR, AuthSwitchRequest and AuthMoreData. Every read is
//! bounded by the payload; a short payload is `None`, never a panic.

/// Capability flags (`CLIENT_*`) the harness reads or sets.
pub mod caps {
    pub const LONG_PASSWORD: u32 = 1;
    pub const CONNECT_WITH_DB: u32 = 1 << 3;
    pub const PROTOCOL_41: u32 = 1 << 9;
    pub const SSL: u32 = 1 << 11;
    pub const TRANSACTIONS: u32 = 1 << 13;
    pub const SECURE_CONNECTION: u32 = 1 << 15;
    pub const MULTI_RESULTS: u32 = 1 << 17;
    pub const PLUGIN_AUTH: u32 = 1 << 19;
    pub const CONNECT_ATTRS: u32 = 1 << 20;
    pub const PLUGIN_AUTH_LENENC_DATA: u32 = 1 << 21;
    pub const DEPRECATE_EOF: u32 = 1 << 24;
    pub const ZSTD_COMPRESSION: u32 = 1 << 26;

    /// The flags' names, lowest bit first, for distinctions and `inspect`.
    pub const NAMES: [&str; 32] = [
        "LONG_PASSWORD",
        "FOUND_ROWS",
        "LONG_FLAG",
        "CONNECT_WITH_DB",
        "NO_SCHEMA",
        "COMPRESS",
        "ODBC",
        "LOCAL_FILES",
        "IGNORE_SPACE",
        "PROTOCOL_41",
        "INTERACTIVE",
        "SSL",
        "IGNORE_SIGPIPE",
        "TRANSACTIONS",
        "RESERVED",
        "SECURE_CONNECTION",
        "MULTI_STATEMENTS",
        "MULTI_RESULTS",
        "PS_MULTI_RESULTS",
        "PLUGIN_AUTH",
        "CONNECT_ATTRS",
        "PLUGIN_AUTH_LENENC_DATA",
        "CAN_HANDLE_EXPIRED_PASSWORDS",
        "SESSION_TRACK",
        "DEPRECATE_EOF",
        "OPTIONAL_RESULTSET_METADATA",
        "ZSTD_COMPRESSION",
        "QUERY_ATTRIBUTES",
        "MULTI_FACTOR_AUTH",
        "CAPABILITY_EXTENSION",
        "SSL_VERIFY_SERVER_CERT",
        "REMEMBER_OPTIONS",
    ];

    /// `PROTOCOL_41|SSL|...`: the flags set in `flags`.
    pub fn named(flags: u32) -> String {
        (0..32)
            .filter(|bit| flags & (1 << bit) != 0)
            .map(|bit| NAMES[bit])
            .collect::<Vec<_>>()
            .join("|")
    }
}

/// Reads a payload front to back; every read is bounded by what is left.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(payload: &'a [u8]) -> Reader<'a> {
        Reader { rest: payload }
    }

    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(taken)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    pub fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A NUL-terminated string; the rest of the payload when no NUL ends it (old servers and
    /// clients leave the last one off).
    pub fn cstring(&mut self) -> &'a [u8] {
        match memchr::memchr(0, self.rest) {
            Some(end) => {
                let s = &self.rest[..end];
                self.rest = &self.rest[end + 1..];
                s
            }
            None => self.rest(),
        }
    }

    /// A length-encoded integer (`fc xx xx`, `fd xx xx xx`, `fe` and eight bytes).
    pub fn lenenc(&mut self) -> Option<u64> {
        let first = self.u8()?;
        let wide = |bytes: &[u8]| {
            let mut all = [0u8; 8];
            all[..bytes.len()].copy_from_slice(bytes);
            u64::from_le_bytes(all)
        };
        Some(match first {
            0..=0xfa => u64::from(first),
            0xfc => wide(self.bytes(2)?),
            0xfd => wide(self.bytes(3)?),
            0xfe => wide(self.bytes(8)?),
            _ => return None,
        })
    }

    pub fn lenenc_bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.lenenc()?).ok()?;
        self.bytes(n)
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The server's Handshake v10 (its first packet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    pub server_version: String,
    pub capabilities: u32,
    /// The 20-byte nonce (auth-plugin-data, both parts, without the trailing NUL).
    pub scramble: Vec<u8>,
    /// The plugin the server names first (`caching_sha2_password`); empty from servers before
    /// plugin authentication.
    pub plugin: String,
}

pub fn greeting(payload: &[u8]) -> Option<Greeting> {
    let mut r = Reader::new(payload);
    if r.u8()? != 10 {
        return None;
    }
    let server_version = text(r.cstring());
    let _thread = r.u32()?;
    let mut scramble = r.bytes(8)?.to_vec();
    let _filler = r.u8()?;
    let low = r.u16()?;
    let mut capabilities = u32::from(low);
    if r.is_empty() {
        return Some(Greeting {
            server_version,
            capabilities,
            scramble,
            plugin: String::new(),
        });
    }
    let _charset = r.u8()?;
    let _status = r.u16()?;
    capabilities |= u32::from(r.u16()?) << 16;
    let data_len = usize::from(r.u8()?);
    let _reserved = r.bytes(10)?;
    if capabilities & caps::SECURE_CONNECTION != 0 {
        let part2 = data_len.saturating_sub(8).max(13);
        let second = r.bytes(part2.min(r.rest.len()))?;
        let second = second.strip_suffix(&[0]).unwrap_or(second);
        scramble.extend_from_slice(second);
    }
    let plugin = if capabilities & caps::PLUGIN_AUTH != 0 {
        text(r.cstring())
    } else {
        String::new()
    };
    Some(Greeting {
        server_version,
        capabilities,
        scramble,
        plugin,
    })
}

/// What the client sends first, after the greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientHello {
    /// The 32-byte prefix with `CLIENT_SSL`: TLS starts right after it, no answer between.
    SslRequest {
        capabilities: u32,
        charset: u8,
    },
    Response(Response),
}

/// A HandshakeResponse41 (or 320).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    pub capabilities: u32,
    /// MariaDB's extended capabilities (the last four filler bytes), 0 from MySQL clients.
    pub mariadb_capabilities: u32,
    pub max_packet: u32,
    pub charset: u8,
    pub user: String,
    pub auth_response: Vec<u8>,
    pub database: Option<String>,
    pub plugin: Option<String>,
    pub attributes: Vec<(String, String)>,
}

impl Response {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Attributes past this many are not read (a client sends a dozen).
const MAX_ATTRIBUTES: usize = 64;

pub fn client_hello(payload: &[u8]) -> Option<ClientHello> {
    let mut r = Reader::new(payload);
    let low = r.u16()?;
    if u32::from(low) & caps::PROTOCOL_41 == 0 {
        // HandshakeResponse320: two bytes of flags, three of max packet size, the user.
        let max = r.bytes(3)?;
        let mut response = Response {
            capabilities: u32::from(low),
            max_packet: u32::from_le_bytes([max[0], max[1], max[2], 0]),
            user: text(r.cstring()),
            ..Response::default()
        };
        response.auth_response = r.cstring().to_vec();
        if response.capabilities & caps::CONNECT_WITH_DB != 0 && !r.is_empty() {
            response.database = Some(text(r.cstring()));
        }
        return Some(ClientHello::Response(response));
    }
    let capabilities = u32::from(low) | (u32::from(r.u16()?) << 16);
    let max_packet = r.u32()?;
    let charset = r.u8()?;
    let filler = r.bytes(23)?;
    if r.is_empty() && capabilities & caps::SSL != 0 {
        return Some(ClientHello::SslRequest {
            capabilities,
            charset,
        });
    }
    let mariadb_capabilities = u32::from_le_bytes([filler[19], filler[20], filler[21], filler[22]]);
    let user = text(r.cstring());
    let auth_response = if capabilities & caps::PLUGIN_AUTH_LENENC_DATA != 0 {
        r.lenenc_bytes()?.to_vec()
    } else if capabilities & caps::SECURE_CONNECTION != 0 {
        let n = usize::from(r.u8()?);
        r.bytes(n)?.to_vec()
    } else {
        r.cstring().to_vec()
    };
    let database =
        (capabilities & caps::CONNECT_WITH_DB != 0 && !r.is_empty()).then(|| text(r.cstring()));
    let plugin =
        (capabilities & caps::PLUGIN_AUTH != 0 && !r.is_empty()).then(|| text(r.cstring()));
    let mut attributes = Vec::new();
    if capabilities & caps::CONNECT_ATTRS != 0
        && !r.is_empty()
        && let Some(all) = r.lenenc_bytes()
    {
        let mut a = Reader::new(all);
        while !a.is_empty() && attributes.len() < MAX_ATTRIBUTES {
            let (Some(k), Some(v)) = (a.lenenc_bytes(), a.lenenc_bytes()) else {
                break;
            };
            attributes.push((text(k), text(v)));
        }
    }
    Some(ClientHello::Response(Response {
        capabilities,
        mariadb_capabilities,
        max_packet,
        charset,
        user,
        auth_response,
        database,
        plugin,
        attributes,
    }))
}

/// A server packet of the authentication phase, by its first byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerReply {
    Ok,
    Err {
        code: u16,
        sqlstate: Option<String>,
        message: String,
    },
    /// `fe` with a plugin name and its data; `plugin` empty for the old `fe`-only switch to
    /// mysql_old_password.
    AuthSwitch {
        plugin: String,
        data: Vec<u8>,
    },
    /// `01` and the plugin's data: caching_sha2_password's `03` (fast authentication
    /// succeeded) and `04` (full authentication needed), or a PEM public key.
    MoreData(Vec<u8>),
    /// `02`: MySQL's multi-factor authentication asks for its next factor.
    NextFactor {
        plugin: String,
    },
    Other(u8),
}

pub fn server_reply(payload: &[u8]) -> Option<ServerReply> {
    let mut r = Reader::new(payload);
    Some(match r.u8()? {
        0x00 => ServerReply::Ok,
        0xff => {
            let code = r.u16()?;
            let rest = r.rest();
            let (sqlstate, message) = match rest.strip_prefix(b"#") {
                Some(marked) if marked.len() >= 5 => (Some(text(&marked[..5])), text(&marked[5..])),
                _ => (None, text(rest)),
            };
            ServerReply::Err {
                code,
                sqlstate,
                message,
            }
        }
        0xfe => {
            let plugin = text(r.cstring());
            let data = r.rest();
            // A 20-byte scramble goes with a NUL after it; an ed25519 nonce (32 bytes) ends
            // where it ends, whatever its last byte.
            let data = match data {
                [nonce @ .., 0] if nonce.len() == 20 => nonce,
                _ => data,
            };
            ServerReply::AuthSwitch {
                plugin,
                data: data.to_vec(),
            }
        }
        0x01 => ServerReply::MoreData(r.rest().to_vec()),
        0x02 => ServerReply::NextFactor {
            plugin: text(r.cstring()),
        },
        other => ServerReply::Other(other),
    })
}

/// An ERR packet sent before any greeting (too many connections, host not allowed): a code
/// and a message, never a SQLSTATE.
pub fn is_err(payload: &[u8]) -> bool {
    payload.first() == Some(&0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MySQL 8.4's greeting as the protocol documentation lays it out.
    pub fn mysql84_greeting() -> Vec<u8> {
        let mut g = vec![10];
        g.extend_from_slice(b"8.4.3\0");
        g.extend_from_slice(&7u32.to_le_bytes());
        g.extend_from_slice(b"abcdefgh\0");
        let flags: u32 = caps::PROTOCOL_41
            | caps::SECURE_CONNECTION
            | caps::PLUGIN_AUTH
            | caps::SSL
            | caps::CONNECT_ATTRS;
        g.extend_from_slice(&(flags as u16).to_le_bytes());
        g.push(255);
        g.extend_from_slice(&2u16.to_le_bytes());
        g.extend_from_slice(&((flags >> 16) as u16).to_le_bytes());
        g.push(21);
        g.extend_from_slice(&[0; 10]);
        g.extend_from_slice(b"ijklmnopqrst\0");
        g.extend_from_slice(b"caching_sha2_password\0");
        g
    }

    #[test]
    fn a_greeting_gives_its_version_scramble_and_plugin() {
        let g = greeting(&mysql84_greeting()).unwrap();
        assert_eq!(g.server_version, "8.4.3");
        assert_eq!(g.scramble, b"abcdefghijklmnopqrst");
        assert_eq!(g.plugin, "caching_sha2_password");
        assert!(greeting(&mysql84_greeting()[..20]).is_none());
    }

    #[test]
    fn errors_switches_and_more_data_read_by_first_byte() {
        assert_eq!(
            server_reply(b"\xff\x87\x0c#08004Insecure"),
            Some(ServerReply::Err {
                code: 3207,
                sqlstate: Some("08004".into()),
                message: "Insecure".into()
            })
        );
        assert_eq!(
            server_reply(b"\xfeclient_ed25519\0nonce"),
            Some(ServerReply::AuthSwitch {
                plugin: "client_ed25519".into(),
                data: b"nonce".to_vec()
            })
        );
        assert_eq!(
            server_reply(b"\x01\x04"),
            Some(ServerReply::MoreData(vec![4]))
        );
        assert_eq!(server_reply(b""), None);
    }
}
