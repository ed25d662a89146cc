//! Finishing authentication with the suite's password: the client's answers to the server's
//! authentication requests (a cleartext PasswordMessage, MD5's `md5` + md5(md5(password +
//! user) + salt), SCRAM-SHA-256's SASLInitialResponse and SASLResponse) and the check of the
//! server's SCRAM signature in AuthenticationSASLFinal. Bytes in, bytes out: the conversation
//! decides what the answers mean.

use super::scram::{self, ScramClient};
use md5::{Digest, Md5};

/// AuthenticationSASLContinue and AuthenticationSASLFinal's codes.
const SASL_CONTINUE: u32 = 11;
const SASL_FINAL: u32 = 12;

/// An authentication in progress: what the client answered with, and for SCRAM what is still
/// to come.
pub struct Login {
    /// As the verdict names it: `SCRAM-SHA-256`, `md5`, `password`.
    pub method: &'static str,
    scram: Option<ScramClient>,
    /// SCRAM only: the server proved it knows the password (AuthenticationSASLFinal).
    pub server_verified: bool,
}

/// What the client does with a message in the middle of the exchange.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Send these bytes.
    Answer(Vec<u8>),
    /// Nothing to send: AuthenticationOk (or an error) comes next.
    AwaitOk,
}

impl Login {
    /// Answers the authentication request `body` (after the 'R' and length) for `user` with
    /// `password`; `Err` says why the harness cannot (a method it does not perform).
    pub fn start(body: &[u8], user: &str, password: &str) -> Result<(Login, Vec<u8>), String> {
        let code = u32::from_be_bytes(
            body.get(..4)
                .and_then(|c| c.try_into().ok())
                .ok_or("a short authentication request")?,
        );
        let login = |method| Login {
            method,
            scram: None,
            server_verified: false,
        };
        match code {
            3 => Ok((login("password"), password_message(password))),
            5 => {
                let salt = body.get(4..8).ok_or("an MD5 request without its salt")?;
                Ok((
                    login("md5"),
                    password_message(&md5_answer(user, password, salt)),
                ))
            }
            10 => {
                let offered = body[4..].split(|&b| b == 0).any(|m| m == b"SCRAM-SHA-256");
                if !offered {
                    return Err("the harness does SCRAM-SHA-256 only, not channel binding (SCRAM-SHA-256-PLUS), and the server does not offer it".into());
                }
                let (client, first) = ScramClient::start("", password, &scram::fresh_nonce()?);
                let mut data = scram::MECHANISM.as_bytes().to_vec();
                data.push(0);
                data.extend_from_slice(&(first.len() as u32).to_be_bytes());
                data.extend_from_slice(first.as_bytes());
                Ok((
                    Login {
                        scram: Some(client),
                        ..login("SCRAM-SHA-256")
                    },
                    typed(b'p', &data),
                ))
            }
            _ => Err("the harness completes password, md5 and SCRAM-SHA-256 only".into()),
        }
    }

    /// The server's AuthenticationSASLContinue or AuthenticationSASLFinal (`body` after the
    /// 'R' and length).
    pub fn next(&mut self, body: &[u8]) -> Result<Next, String> {
        let Some(client) = &mut self.scram else {
            return Err(format!(
                "a SASL message in answer to a {} password",
                self.method
            ));
        };
        let code = body
            .get(..4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
        let data = String::from_utf8_lossy(body.get(4..).unwrap_or_default());
        match code {
            Some(SASL_CONTINUE) => {
                let client_final = client.client_final(&data)?;
                Ok(Next::Answer(typed(b'p', client_final.as_bytes())))
            }
            Some(SASL_FINAL) => {
                client.verify_server_final(&data)?;
                self.server_verified = true;
                Ok(Next::AwaitOk)
            }
            _ => Err("an authentication message out of turn in the SCRAM exchange".into()),
        }
    }

    /// Whether AuthenticationOk may come now: after SCRAM, only once the server has proved
    /// it knows the password.
    pub fn may_end(&self) -> bool {
        self.scram.is_none() || self.server_verified
    }
}

/// `md5` + md5(md5(password + user) + salt), in lowercase hex.
pub fn md5_answer(user: &str, password: &str, salt: &[u8]) -> String {
    let inner = hex::encode(Md5::digest([password.as_bytes(), user.as_bytes()].concat()));
    let outer = hex::encode(Md5::digest([inner.as_bytes(), salt].concat()));
    format!("md5{outer}")
}

/// A PasswordMessage: the text, NUL-terminated.
fn password_message(text: &str) -> Vec<u8> {
    let mut body = text.as_bytes().to_vec();
    body.push(0);
    typed(b'p', &body)
}

fn typed(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut message = vec![kind];
    message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    message.extend_from_slice(body);
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::postgres::describe::describe;
    use crate::direction::Direction;

    #[test]
    fn md5_answers_as_postgres_checks_them() {
        // psql's answer in captures/postgres/psql-sslmode-disable.pcap, for harness/harness
        // and the salt a3b6e655 the server sent.
        assert_eq!(
            md5_answer("harness", "harness", &[0xa3, 0xb6, 0xe6, 0x55]),
            "md51f9993da8f9467ad88c26239fc520aa1"
        );
        let (login, bytes) =
            Login::start(&[0, 0, 0, 5, 0xa3, 0xb6, 0xe6, 0x55], "harness", "harness").unwrap();
        assert_eq!(login.method, "md5");
        assert_eq!(
            hex::encode(bytes),
            "70000000286d6435316639393933646138663934363761643838633236323339666335323061613100"
        );
    }

    #[test]
    fn scram_starts_with_a_fresh_nonce_and_no_channel_binding() {
        let body = b"\x00\x00\x00\x0aSCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0";
        let (mut login, first) = Login::start(body, "harness", "harness").unwrap();
        let (_, again) = Login::start(body, "harness", "harness").unwrap();
        assert_ne!(first, again, "the nonce is fresh each time");
        assert_eq!(
            describe(Direction::Client, &first),
            "SASLInitialResponse SCRAM-SHA-256"
        );
        let text = String::from_utf8_lossy(&first[5..]);
        assert!(text.contains("n,,n=,r="), "{text}");
        assert!(!login.may_end());
        assert!(
            login.next(b"\x00\x00\x00\x0cv=AAAA").is_err(),
            "a final before the continue"
        );
    }

    #[test]
    fn methods_the_harness_cannot_complete_say_so() {
        let plus_only = Login::start(b"\x00\x00\x00\x0aSCRAM-SHA-256-PLUS\0\0", "u", "p");
        assert!(plus_only.err().unwrap().contains("SCRAM-SHA-256-PLUS"));
        let gss = Login::start(&[0, 0, 0, 7], "u", "p");
        assert!(
            gss.err()
                .unwrap()
                .contains("completes password, md5 and SCRAM-SHA-256 only")
        );
        assert!(Login::start(&[0, 0], "u", "p").is_err());
        let (login, bytes) = Login::start(&[0, 0, 0, 3], "u", "secret").unwrap();
        assert_eq!(
            (login.method, bytes),
            ("password", b"p\0\0\0\x0bsecret\0".to_vec())
        );
    }
}
