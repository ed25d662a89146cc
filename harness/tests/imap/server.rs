//! A small IMAP server for the file-dialect test, on loopback, answering as Dovecot does with
//! `ssl = required` and `disable_plaintext_auth`: LOGINDISABLED before TLS, a plaintext LOGIN
//! refused with an ALERT and `NO [PRIVACYREQUIRED]`, STARTTLS, then LOGIN and AUTHENTICATE
//! (PLAIN, CRAM-MD5, checked for real) over TLS; `Busy` says BYE at its greeting.

use crate::common::sasl::{PASSWORD, USER, acceptor, decode, encode, hmac_md5};
use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Required,
    Busy,
}

pub async fn start(mode: Mode, port: u16) -> SocketAddr {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = acceptor();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if mode == Mode::Busy {
                    let _ = tcp
                        .write_all(b"* BYE Too many connections, try again later\r\n")
                        .await;
                    return;
                }
                let greeting =
                    b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] fake ready.\r\n";
                if tcp.write_all(greeting).await.is_err() {
                    return;
                }
                if lines(&mut tcp, false).await
                    && let Ok(mut tls) = acceptor.accept(tcp).await
                {
                    lines(&mut tls, true).await;
                }
            });
        }
    });
    addr
}

async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(io: &mut R) -> Option<String> {
    let mut line = String::new();
    match io.read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()),
    }
}

fn unquote(word: &str) -> &str {
    word.trim_matches('"')
}

/// Serves lines until the client logs out (false) or TLS must start (true).
async fn lines<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, tls: bool) -> bool {
    let mut io = BufReader::new(stream);
    loop {
        let Some(line) = read_line(&mut io).await else {
            return false;
        };
        let mut words = line.splitn(3, ' ');
        let tag = words.next().unwrap_or_default().to_string();
        let verb = words.next().unwrap_or_default().to_ascii_uppercase();
        let rest = words.next().unwrap_or_default().to_string();
        let reply = match verb.as_str() {
            "CAPABILITY" if tls => format!(
                "* CAPABILITY IMAP4rev1 ID AUTH=PLAIN AUTH=CRAM-MD5\r\n{tag} OK Pre-login capabilities listed, post-login capabilities have more.\r\n"
            ),
            "CAPABILITY" => format!(
                "* CAPABILITY IMAP4rev1 ID STARTTLS LOGINDISABLED\r\n{tag} OK Pre-login capabilities listed, post-login capabilities have more.\r\n"
            ),
            "ID" => format!("* ID (\"name\" \"fake\")\r\n{tag} OK ID completed.\r\n"),
            "NOOP" => format!("{tag} OK NOOP completed.\r\n"),
            "STARTTLS" if tls => format!("{tag} BAD TLS is already active.\r\n"),
            "STARTTLS" => {
                let _ = io
                    .get_mut()
                    .write_all(format!("{tag} OK Begin TLS negotiation now.\r\n").as_bytes())
                    .await;
                return true;
            }
            "LOGIN" | "AUTHENTICATE" if !tls => format!(
                "* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. If anyone was listening, the password was exposed.\r\n{tag} NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"
            ),
            "LOGIN" => {
                let (user, password) = rest.split_once(' ').unwrap_or((&rest, ""));
                answer(&tag, unquote(user) == USER && unquote(password) == PASSWORD)
            }
            "AUTHENTICATE" => {
                let (mechanism, initial) = rest.split_once(' ').unwrap_or((&rest, ""));
                let mut ask = async |prompt: &str| {
                    let _ = io
                        .get_mut()
                        .write_all(format!("+ {prompt}\r\n").as_bytes())
                        .await;
                    read_line(&mut io).await.unwrap_or_default()
                };
                match mechanism.to_ascii_uppercase().as_str() {
                    "PLAIN" => {
                        let response = match initial {
                            "" => ask("").await,
                            given => given.to_string(),
                        };
                        answer(
                            &tag,
                            decode(&response) == format!("\0{USER}\0{PASSWORD}").into_bytes(),
                        )
                    }
                    "CRAM-MD5" => {
                        let challenge = b"<4711.1765100000@fake.test>";
                        let got = decode(&ask(&encode(challenge)).await);
                        let want = format!(
                            "{USER} {}",
                            hex::encode(hmac_md5(PASSWORD.as_bytes(), challenge))
                        );
                        answer(&tag, got == want.into_bytes())
                    }
                    _ => format!("{tag} NO Unsupported authentication mechanism.\r\n"),
                }
            }
            "LOGOUT" => {
                let bye = format!("* BYE Logging out\r\n{tag} OK Logout completed.\r\n");
                let _ = io.get_mut().write_all(bye.as_bytes()).await;
                return false;
            }
            _ => format!("{tag} BAD Error in IMAP command received by server.\r\n"),
        };
        if io.get_mut().write_all(reply.as_bytes()).await.is_err() {
            return false;
        }
    }
}

fn answer(tag: &str, ok: bool) -> String {
    if ok {
        format!("{tag} OK [CAPABILITY IMAP4rev1 ID] Logged in\r\n")
    } else {
        format!("{tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
    }
}
