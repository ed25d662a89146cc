//! The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL runs it: the
//! client-first message with a nonce, the server-first message (the server's nonce, salt and
//! iteration count), the client-final message with the proof, and the check of the server's
//! signature. Without channel binding (gs2 header `n,,`): SCRAM-SHA-256-PLUS would need the
//! server certificate's hash from the TLS session, which the runner keeps to itself.
//! Plain functions over strings; the nonce is given, so the exchange is testable.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::{digest, hmac, pbkdf2};
use std::num::NonZeroU32;

/// The mechanism the client picks.
pub const MECHANISM: &str = "SCRAM-SHA-256";
/// `n,,`: no channel binding, no authorization identity.
const GS2_HEADER: &str = "n,,";
/// A server asking for more iterations than this is refused rather than waited for
/// (PostgreSQL's default is 4096).
pub const MAX_ITERATIONS: u32 = 1_000_000;
/// Random bytes in a client nonce (as libpq: 18, 24 characters of base64).
pub const NONCE_BYTES: usize = 18;

/// A fresh client nonce from the operating system's CSPRNG.
pub fn fresh_nonce() -> Result<String, String> {
    let mut bytes = [0u8; NONCE_BYTES];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| "the system's random number generator failed".to_string())?;
    Ok(BASE64.encode(bytes))
}

/// A SCRAM exchange after the client-first message (no `Debug`: it holds the password).
pub struct ScramClient {
    password: Vec<u8>,
    client_first_bare: String,
    nonce: String,
    /// Set once the client-final message is made: the ServerKey and the AuthMessage the
    /// server's signature must be the HMAC of.
    server_proof: Option<(hmac::Key, String)>,
}

impl ScramClient {
    /// Begins an exchange for `user` (PostgreSQL ignores it and takes the startup's: libpq
    /// sends it empty) with `nonce`; returns the client and its client-first message.
    pub fn start(user: &str, password: &str, nonce: &str) -> (ScramClient, String) {
        let client_first_bare = format!("n={},r={nonce}", escape_name(user));
        let message = format!("{GS2_HEADER}{client_first_bare}");
        (
            ScramClient {
                // SASLprep leaves ASCII as it is; a password it would change is sent as
                // given, as libpq does when SASLprep fails.
                password: password.as_bytes().to_vec(),
                client_first_bare,
                nonce: nonce.to_string(),
                server_proof: None,
            },
            message,
        )
    }

    /// Answers the server-first message with the client-final message.
    pub fn client_final(&mut self, server_first: &str) -> Result<String, String> {
        let attributes = attributes(server_first);
        if let Some(extension) = attributes.iter().find(|(k, _)| *k == 'm') {
            return Err(format!(
                "the server-first message asks for an extension the client does not know (m={})",
                extension.1
            ));
        }
        let get = |key: char| {
            attributes
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .ok_or_else(|| format!("the server-first message has no {key}="))
        };
        let nonce = get('r')?;
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err("the server's nonce does not extend the client's".into());
        }
        let salt = BASE64
            .decode(get('s')?)
            .map_err(|_| "the server's salt is not base64".to_string())?;
        let iterations: u32 = get('i')?
            .parse()
            .map_err(|_| "the server's iteration count is not a number".to_string())?;
        let iterations = NonZeroU32::new(iterations)
            .filter(|i| i.get() <= MAX_ITERATIONS)
            .ok_or_else(|| {
                format!("the server asks for {iterations} iterations (1 to {MAX_ITERATIONS})")
            })?;
        let mut salted = [0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            &salt,
            &self.password,
            &mut salted,
        );
        let salted = hmac::Key::new(hmac::HMAC_SHA256, &salted);
        let client_key = hmac::sign(&salted, b"Client Key");
        let stored_key = digest::digest(&digest::SHA256, client_key.as_ref());
        let without_proof = format!("c={},r={nonce}", BASE64.encode(GS2_HEADER));
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let client_signature = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, stored_key.as_ref()),
            auth_message.as_bytes(),
        );
        let proof: Vec<u8> = client_key
            .as_ref()
            .iter()
            .zip(client_signature.as_ref())
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = hmac::sign(&salted, b"Server Key");
        self.server_proof = Some((
            hmac::Key::new(hmac::HMAC_SHA256, server_key.as_ref()),
            auth_message,
        ));
        Ok(format!("{without_proof},p={}", BASE64.encode(proof)))
    }

    /// Checks the server-final message: the server proves it knows the password.
    pub fn verify_server_final(&self, server_final: &str) -> Result<(), String> {
        let attributes = attributes(server_final);
        if let Some((_, error)) = attributes.iter().find(|(k, _)| *k == 'e') {
            return Err(format!("the server ended the SCRAM exchange: e={error}"));
        }
        let Some((server_key, auth_message)) = &self.server_proof else {
            return Err("a server-final message before the client-final one".into());
        };
        let Some((_, signature)) = attributes.iter().find(|(k, _)| *k == 'v') else {
            return Err("the server-final message has no signature (v=)".into());
        };
        let signature = BASE64
            .decode(signature)
            .map_err(|_| "the server's signature is not base64".to_string())?;
        // ring's HMAC verification compares in constant time.
        hmac::verify(server_key, auth_message.as_bytes(), &signature).map_err(|_| {
            "the server's SCRAM signature is wrong: it does not know the password".to_string()
        })
    }
}

/// `a=value,b=value`: attributes by their one-letter names (a value may hold `=`).
fn attributes(message: &str) -> Vec<(char, &str)> {
    message
        .split(',')
        .filter_map(|part| {
            let (key, value) = part.split_once('=')?;
            let mut chars = key.chars();
            match (chars.next(), chars.next()) {
                (Some(k), None) => Some((k, value)),
                _ => None,
            }
        })
        .collect()
}

/// RFC 5802's saslname: `=` and `,` escaped.
fn escape_name(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3's example exchange, byte for byte.
    #[test]
    fn the_rfc_7677_exchange() {
        let (mut client, first) = ScramClient::start("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(first, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            client.client_final(server_first).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert_eq!(
            client.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Ok(())
        );
        let forged = client.verify_server_final("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
        assert!(forged.unwrap_err().contains("signature is wrong"));
    }

    #[test]
    fn a_hostile_server_first_message_is_refused_with_a_reason() {
        let (mut client, _) = ScramClient::start("", "pencil", "abc");
        for (server_first, says) in [
            ("r=xyz123,s=QQ==,i=4096", "does not extend"),
            ("r=abc,s=QQ==,i=4096", "does not extend"),
            ("r=abcdef,s=!!,i=4096", "salt is not base64"),
            ("r=abcdef,s=QQ==,i=0", "0 iterations"),
            ("r=abcdef,s=QQ==,i=4000000000", "4000000000 iterations"),
            ("r=abcdef,s=QQ==", "no i="),
            ("m=ext,r=abcdef,s=QQ==,i=1", "extension"),
        ] {
            let error = client.client_final(server_first).unwrap_err();
            assert!(error.contains(says), "{server_first}: {error}");
        }
        assert!(
            client
                .verify_server_final("e=invalid-proof")
                .unwrap_err()
                .contains("e=invalid-proof")
        );
    }

    #[test]
    fn nonces_are_fresh_base64() {
        let (a, b) = (fresh_nonce().unwrap(), fresh_nonce().unwrap());
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
        assert_eq!(BASE64.decode(&a).unwrap().len(), NONCE_BYTES);
    }
}
