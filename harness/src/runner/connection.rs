//! Connections: plain TCP, TLS from the first byte (https-style targets), or TCP upgraded to
//! TLS in-band when the dialect says the server agreed (PostgreSQL's SSLRequest, STARTTLS).
//! TLS here is rustls, as a real client would speak it; the `tls` dialect is different: it
//! judges ClientHellos and never completes a handshake.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Where a case runs, and how it connects there.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`.
    pub addr: String,
    /// TLS from the first byte.
    pub tls_from_start: bool,
    /// How TLS is spoken, from the start or after an in-band upgrade.
    pub tls: TlsClient,
    /// At most this many cases at once here (`max_connections`): a server that refuses
    /// connections past a limit (dropbear's five unauthenticated ones per address, sshd's
    /// MaxStartups) must not lock clients out for the harness's own concurrency.
    pub connections: Option<Arc<Semaphore>>,
    /// Cases running against it now: a reset among many is the server throttling.
    pub in_flight: Arc<AtomicUsize>,
}

impl Target {
    /// Plain TCP to `addr`.
    pub fn plain(addr: impl Into<String>) -> Target {
        Target {
            addr: addr.into(),
            tls_from_start: false,
            tls: TlsClient::default(),
            connections: None,
            in_flight: Arc::default(),
        }
    }

    /// The host part of the address, without brackets.
    pub fn host(&self) -> &str {
        self.addr
            .rsplit_once(':')
            .map_or(self.addr.as_str(), |(h, _)| h)
            .trim_matches(['[', ']'])
    }

    /// Connects, and when the target says so, completes a TLS handshake.
    pub async fn connect(&self) -> io::Result<Connection> {
        let stream = TcpStream::connect(&self.addr).await?;
        let _ = stream.set_nodelay(true);
        let mut connection = Connection::Plain(stream);
        if self.tls_from_start {
            connection.upgrade(self.tls_for_upgrade()).await?;
        }
        Ok(connection)
    }

    /// The TLS client an in-band upgrade uses, with this target's server name.
    pub fn tls_for_upgrade(&self) -> (&TlsClient, &str) {
        (
            &self.tls,
            self.tls.server_name.as_deref().unwrap_or(self.host()),
        )
    }
}

/// How the harness speaks TLS as a client.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
    /// The name sent as SNI and checked against the certificate; default: the target's host.
    pub server_name: Option<String>,
    verifies: bool,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsClient")
            .field("server_name", &self.server_name)
            .field("verifies", &self.verifies)
            .finish()
    }
}

impl Default for TlsClient {
    /// Any certificate is accepted (handshake signatures are still checked): the question is
    /// whether the server admits the client, not whether the client trusts the server.
    fn default() -> TlsClient {
        static UNVERIFIED: LazyLock<Arc<ClientConfig>> = LazyLock::new(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth();
            Arc::new(config)
        });
        TlsClient {
            config: UNVERIFIED.clone(),
            server_name: None,
            verifies: false,
        }
    }
}

impl TlsClient {
    /// A client that trusts only the certificates in the PEM file `ca`.
    pub fn trusting(ca: &Path) -> Result<TlsClient, String> {
        let mut roots = RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(ca)
            .map_err(|e| format!("cannot read {}: {e}", ca.display()))?;
        for cert in certs {
            let cert = cert.map_err(|e| format!("{}: {e}", ca.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", ca.display()))?;
        }
        if roots.is_empty() {
            return Err(format!("{} holds no certificate", ca.display()));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsClient {
            config: Arc::new(config),
            server_name: None,
            verifies: true,
        })
    }
}

/// One client connection, plain or TLS.
pub enum Connection {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// A failed upgrade left nothing usable.
    Broken,
}

impl Connection {
    /// Runs a TLS handshake over the connection as it stands.
    pub async fn upgrade(&mut self, (tls, server_name): (&TlsClient, &str)) -> io::Result<()> {
        let Connection::Plain(stream) = std::mem::replace(self, Connection::Broken) else {
            return Err(io::Error::other("the connection is already TLS"));
        };
        let name = ServerName::try_from(server_name.to_string()).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("`{server_name}`: {e}"))
        })?;
        let tls = TlsConnector::from(tls.config.clone())
            .connect(name, stream)
            .await?;
        *self = Connection::Tls(Box::new(tls));
        Ok(())
    }
}

fn broken() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the TLS upgrade failed")
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Connection::Broken => Poll::Ready(Err(broken())),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Connection::Broken => Poll::Ready(Err(broken())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_flush(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Connection::Broken => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Connection::Broken => Poll::Ready(Ok(())),
        }
    }
}

/// Accepts any certificate, but still checks that the server signed the handshake with it.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
