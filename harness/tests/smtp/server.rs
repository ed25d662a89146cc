//! A small SMTP submission server for the file-dialect test, on loopback: it greets after a
//! moment and refuses a client that speaks first (as Postfix's postscreen does), offers
//! STARTTLS, and AUTH (PLAIN, LOGIN, CRAM-MD5, checked for real) only over TLS, refusing it
//! in the clear with 530 (or 538, in `Encrypt538` mode); MAIL before AUTH gets 530.

use crate::common::sasl::{PASSWORD, USER, acceptor, decode, encode, hmac_md5};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// STARTTLS required before AUTH (530 in the clear).
    Submission,
    /// AUTH offered in the clear, refused there with 538.
    Encrypt538,
    /// Greets with 421 and hangs up.
    Busy,
    /// Hangs up before any greeting.
    Silent,
}

/// Listens on loopback `port` (0: any) and serves every connection in `mode`.
pub async fn start(mode: Mode, port: u16) -> SocketAddr {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = acceptor();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp, mode, acceptor.clone()));
        }
    });
    addr
}

async fn serve(mut tcp: tokio::net::TcpStream, mode: Mode, acceptor: TlsAcceptor) {
    match mode {
        Mode::Silent => return,
        Mode::Busy => {
            let _ = tcp
                .write_all(b"421 4.3.2 Service shutting down, try later\r\n")
                .await;
            return;
        }
        Mode::Submission | Mode::Encrypt538 => {}
    }
    // A client that talks before the greeting is no SMTP client.
    let mut peek = [0u8; 1];
    if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(100), tcp.peek(&mut peek)).await {
        if n > 0 {
            let _ = tcp
                .write_all(b"554 5.5.1 Protocol error: talked before the greeting\r\n")
                .await;
        }
        return;
    }
    if tcp
        .write_all(b"220 fake.test ESMTP ready\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut session = Session {
        mode,
        tls: false,
        authed: false,
    };
    if session.lines(&mut tcp).await
        && let Ok(mut tls) = acceptor.accept(tcp).await
    {
        session.tls = true;
        session.lines(&mut tls).await;
    }
}

struct Session {
    mode: Mode,
    tls: bool,
    authed: bool,
}

impl Session {
    /// Serves lines until the client quits (false) or TLS must start (true).
    async fn lines<S: AsyncRead + AsyncWrite + Unpin>(&mut self, stream: &mut S) -> bool {
        let mut io = BufReader::new(stream);
        loop {
            let Some(line) = read_line(&mut io).await else {
                return false;
            };
            let (verb, rest) = line.split_once(' ').unwrap_or((&line, ""));
            let reply = match verb.to_ascii_uppercase().as_str() {
                "EHLO" => {
                    let mut r = String::from("250-fake.test\r\n250-PIPELINING\r\n");
                    if !self.tls {
                        r += "250-STARTTLS\r\n";
                    }
                    if self.tls || self.mode == Mode::Encrypt538 {
                        r += "250-AUTH PLAIN LOGIN CRAM-MD5\r\n";
                    }
                    r + "250 8BITMIME\r\n"
                }
                "HELO" => "250 fake.test\r\n".into(),
                "STARTTLS" if self.tls => "554 5.5.1 Error: TLS already active\r\n".into(),
                "STARTTLS" => {
                    let _ = io
                        .get_mut()
                        .write_all(b"220 2.0.0 Ready to start TLS\r\n")
                        .await;
                    return true;
                }
                "AUTH" if !self.tls && self.mode == Mode::Encrypt538 => {
                    "538 5.7.11 Encryption required for requested authentication mechanism\r\n"
                        .into()
                }
                "AUTH" if !self.tls => "530 5.7.0 Must issue a STARTTLS command first\r\n".into(),
                "AUTH" => match self.auth(&mut io, rest).await {
                    Some(true) => {
                        self.authed = true;
                        "235 2.7.0 Authentication successful\r\n".into()
                    }
                    Some(false) => {
                        "535 5.7.8 Error: authentication failed: authentication failure\r\n".into()
                    }
                    None => "504 5.5.4 Unrecognized authentication type\r\n".into(),
                },
                "MAIL" if !self.authed => "530 5.7.0 Authentication required\r\n".into(),
                "MAIL" | "RCPT" | "RSET" | "NOOP" => "250 2.0.0 Ok\r\n".into(),
                "QUIT" => {
                    let _ = io.get_mut().write_all(b"221 2.0.0 Bye\r\n").await;
                    return false;
                }
                _ => "502 5.5.2 Error: command not recognized\r\n".into(),
            };
            if io.get_mut().write_all(reply.as_bytes()).await.is_err() {
                return false;
            }
        }
    }

    /// Runs an AUTH exchange: whether the credentials hold, `None` for an unknown mechanism.
    async fn auth<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        io: &mut BufReader<&mut S>,
        args: &str,
    ) -> Option<bool> {
        let (mechanism, initial) = args.split_once(' ').unwrap_or((args, ""));
        let ask = async |io: &mut BufReader<&mut S>, prompt: &str| {
            let _ = io
                .get_mut()
                .write_all(format!("334 {prompt}\r\n").as_bytes())
                .await;
            read_line(io).await.unwrap_or_default()
        };
        match mechanism.to_ascii_uppercase().as_str() {
            "PLAIN" => {
                let response = match initial {
                    "" => ask(io, "").await,
                    given => given.to_string(),
                };
                Some(decode(&response) == format!("\0{USER}\0{PASSWORD}").into_bytes())
            }
            "LOGIN" => {
                let user = decode(&ask(io, &encode(b"Username:")).await);
                let password = decode(&ask(io, &encode(b"Password:")).await);
                Some(user == USER.as_bytes() && password == PASSWORD.as_bytes())
            }
            "CRAM-MD5" => {
                let challenge = b"<4711.1765100000@fake.test>";
                let answer = decode(&ask(io, &encode(challenge)).await);
                let expected = format!(
                    "{USER} {}",
                    hex::encode(hmac_md5(PASSWORD.as_bytes(), challenge))
                );
                Some(answer == expected.into_bytes())
            }
            _ => None,
        }
    }
}

async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(io: &mut R) -> Option<String> {
    let mut line = String::new();
    match io.read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()),
    }
}
