//! A KNOCK server for the plug-in test: refuses versions below 1.0, tells those below 2.0 to
//! upgrade, upgrades to TLS on STARTTLS, and admits a LOGIN only over TLS.

use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

fn acceptor() -> TlsAcceptor {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = key.cert.der().clone();
    let private =
        rustls::pki_types::PrivateKeyDer::try_from(key.signing_key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], private)
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// What the session has done so far.
#[derive(Default)]
struct State {
    tls: bool,
}

/// Serves one connection's lines until it must switch to TLS; returns whether it must.
async fn lines<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, state: &State) -> bool {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return false;
        }
        let words: Vec<&str> = line.trim_end().split(' ').collect();
        let reply = match words[0] {
            "HELLO" => match words.get(2).and_then(|v| v.parse::<f64>().ok()) {
                Some(v) if v < 1.0 => "DENIED too old\r\n",
                Some(v) if v < 2.0 => "UPGRADE to 2.0 by 2026-12-31\r\n",
                _ => "OK hello\r\n",
            },
            "STARTTLS" if !state.tls => {
                let _ = reader.get_mut().write_all(b"READY\r\n").await;
                return true;
            }
            "LOGIN" if state.tls => "OK welcome\r\n",
            "LOGIN" => "DENIED tls required\r\n",
            _ => "DENIED what\r\n",
        };
        if reader.get_mut().write_all(reply.as_bytes()).await.is_err() {
            return false;
        }
    }
}

/// Listens on loopback; `tls_first` speaks TLS from the first byte.
pub async fn start(tls_first: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = acceptor();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if !tls_first && !lines(&mut tcp, &State::default()).await {
                    return;
                }
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    lines(&mut tls, &State { tls: true }).await;
                }
            });
        }
    });
    addr
}
