//! russh-client HOST PORT: connects with russh's default settings (`client::Config::default()`,
//! so `Preferred::DEFAULT` algorithms), accepts any host key, tries user "test" with a wrong
//! password and prints what happened. Exits 0 once key exchange completed (the server's
//! key-exchange reply was verified and its host key offered to `check_server_key`), 1 if not.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use russh::client;
use russh::keys::PublicKeyOrCertificate;

static KEX_DONE: AtomicBool = AtomicBool::new(false);

struct AcceptAnyHostKey;

impl client::Handler for AcceptAnyHostKey {
    type Error = russh::Error;

    async fn check_server_key(&mut self, _key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        KEX_DONE.store(true, Ordering::SeqCst);
        eprintln!("key exchange completed");
        Ok(true)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let host = args.next().unwrap_or_else(|| "127.0.0.1".into());
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(22);
    let config = Arc::new(client::Config::default());
    let attempt = async {
        let mut session = client::connect(config, (host.as_str(), port), AcceptAnyHostKey).await?;
        let auth = session.authenticate_password("test", "wrong-password").await?;
        eprintln!("authentication: {auth:?}");
        Ok::<_, russh::Error>(())
    };
    match tokio::time::timeout(Duration::from_secs(20), attempt).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("error: {e}"),
        Err(_) => eprintln!("error: timed out"),
    }
    std::process::exit(if KEX_DONE.load(Ordering::SeqCst) { 0 } else { 1 });
}
