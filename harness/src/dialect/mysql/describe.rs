//! MySQL packets as people read them: `Handshake v10 8.4.3 caching_sha2_password`,
//! `SSLRequest`, `HandshakeResponse41 user=app plugin=mysql_native_password
//! _client_name=libmariadb`, `AuthSwitchRequest client_ed25519`, `AuthMoreData 04 (full
//! authentication)`, `ERR 3159 (HY000) Connections using insecure transport are prohibited`,
//! `OK`. Scrambles, nonces and passwords are never shown.

use super::framing::{is_tls_record, payload, sequence};
use super::packets::{self, ClientHello, ServerReply};
use crate::dialect::Redactions;
use crate::direction::Direction;

pub fn describe(from: Direction, bytes: &[u8]) -> String {
    if is_tls_record(bytes) {
        return format!("{} bytes of TLS", bytes.len());
    }
    let Some(seq) = sequence(bytes) else {
        return crate::dialect::describe_unframed(bytes);
    };
    let body = payload(bytes);
    match from {
        Direction::Server => server(seq, &body),
        Direction::Client => client(seq, &body),
    }
}

fn server(seq: u8, body: &[u8]) -> String {
    if seq == 0
        && let Some(g) = packets::greeting(body)
    {
        return match g.plugin.as_str() {
            "" => format!("Handshake v10 {}", g.server_version),
            plugin => format!("Handshake v10 {} {plugin}", g.server_version),
        };
    }
    // After the login, a command's answer: its first packet (sequence 1) heads a result set
    // unless it is an OK or ERR, and a short `fe` packet is an EOF, not a plugin switch.
    match body.first() {
        Some(0x00 | 0xff) => {}
        Some(0xfe) if (5..9).contains(&body.len()) => return "EOF".to_string(),
        Some(_) if seq == 1 => return format!("result set, {} bytes", body.len()),
        _ => {}
    }
    match packets::server_reply(body) {
        Some(ServerReply::Ok) => "OK".to_string(),
        Some(ServerReply::Err {
            code,
            sqlstate,
            message,
        }) => match sqlstate {
            Some(state) => format!("ERR {code} ({state}) {message}"),
            None => format!("ERR {code} {message}"),
        },
        Some(ServerReply::AuthSwitch { plugin, .. }) if plugin.is_empty() => {
            "AuthSwitchRequest (old: mysql_old_password)".to_string()
        }
        Some(ServerReply::AuthSwitch { plugin, .. }) => format!("AuthSwitchRequest {plugin}"),
        Some(ServerReply::MoreData(data)) => match data.as_slice() {
            [3] => "AuthMoreData 03 (fast authentication succeeded)".to_string(),
            [4] => "AuthMoreData 04 (full authentication)".to_string(),
            d if d.starts_with(b"-----BEGIN") => "AuthMoreData (public key)".to_string(),
            d => format!("AuthMoreData, {} bytes", d.len()),
        },
        Some(ServerReply::NextFactor { plugin }) => format!("AuthNextFactor {plugin}"),
        Some(ServerReply::Other(_)) | None => format!("packet {seq}, {} bytes", body.len()),
    }
}

fn client(seq: u8, body: &[u8]) -> String {
    if seq == 0 {
        return match body.first() {
            Some(0x01) => "COM_QUIT".to_string(),
            Some(0x03) => format!(
                "COM_QUERY {}",
                String::from_utf8_lossy(&body[1..body.len().min(200)])
            ),
            Some(command) => format!("command 0x{command:02x}, {} bytes", body.len()),
            None => "empty packet".to_string(),
        };
    }
    if matches!(seq, 1 | 2) {
        match packets::client_hello(body) {
            Some(ClientHello::SslRequest { .. }) => return "SSLRequest".to_string(),
            Some(ClientHello::Response(r)) => {
                let protocol = if r.capabilities & packets::caps::PROTOCOL_41 != 0 {
                    "HandshakeResponse41"
                } else {
                    "HandshakeResponse320"
                };
                let mut text = format!("{protocol} user={}", r.user);
                if let Some(db) = &r.database {
                    text.push_str(&format!(" database={db}"));
                }
                if let Some(plugin) = &r.plugin {
                    text.push_str(&format!(" plugin={plugin}"));
                }
                for (k, v) in &r.attributes {
                    text.push_str(&format!(" {k}={v}"));
                }
                return text;
            }
            None => {}
        }
    }
    format!("auth data, {} bytes", body.len())
}

/// Server versions change with every release; the connection attributes that name the
/// client's process and thread, with every run of the same driver.
pub static REDACTIONS: Redactions = Redactions::new(&[
    (r"(Handshake v10 )[0-9][^\s]*", "$1<version>"),
    (r"\b(_pid|_thread)=[^\s]*", "$1=<$1>"),
]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::mysql::framing::packets as frame;

    #[test]
    fn per_process_attributes_and_server_versions_are_redacted() {
        assert_eq!(
            REDACTIONS.apply(
                "< Handshake v10 10.11.19-MariaDB > HandshakeResponse41 _pid=28762 _thread=4411 _client_name=x"
            ),
            "< Handshake v10 <version> > HandshakeResponse41 _pid=<_pid> _thread=<_thread> _client_name=x"
        );
    }

    #[test]
    fn packets_read_by_direction_and_sequence() {
        assert_eq!(
            describe(
                Direction::Server,
                &frame(
                    b"\xff\x67\x0c#HY000Connections using insecure transport are prohibited",
                    2
                )
            ),
            "ERR 3175 (HY000) Connections using insecure transport are prohibited"
        );
        assert_eq!(
            describe(Direction::Server, &frame(b"\x01\x04", 4)),
            "AuthMoreData 04 (full authentication)"
        );
        assert_eq!(describe(Direction::Client, &frame(b"\x01", 0)), "COM_QUIT");
        assert_eq!(
            describe(Direction::Server, &frame(b"\x01", 1)),
            "result set, 1 bytes"
        );
        assert_eq!(
            describe(Direction::Server, &frame(b"\xfe\x00\x00\x02\x00", 3)),
            "EOF"
        );
        assert_eq!(
            describe(Direction::Client, &frame(b"secret-scramble", 3)),
            "auth data, 15 bytes"
        );
        assert_eq!(
            REDACTIONS.apply("Handshake v10 10.11.6-MariaDB-0+deb12u1 mysql_native_password"),
            "Handshake v10 <version> mysql_native_password"
        );
    }
}
