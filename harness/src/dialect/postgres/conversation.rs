//! One PostgreSQL connection as a client sees it, up to authentication. Reaching an
//! authentication request the client can perform (or ReadyForQuery) admits; after a
//! NegotiateProtocolVersion, a NoticeResponse, or with a deprecated method it warns. An
//! ErrorResponse before that locks out (its SQLSTATE and message the reason; a busy server's
//! SQLSTATE, such as 53300 too many connections, is an error counted as busy), as do a method
//! the client cannot perform, a declined TLS request from a client that requires TLS, and a
//! close. What the client can do is declared in the case's variables: `client_methods`
//! (e.g. `scram-sha-256,md5`) and `sslmode` (`require` and `verify-*` need TLS).
//!
//! With a `password` in the variables, a run finishes the authentication ([`Login`]) and
//! decides at AuthenticationOk or the server's refusal (a wrong password is a set-up error,
//! not a lockout); without one it decides at the request. Judging a recording, which shows
//! what the client answered, holds the request's verdict until the login's end.

use super::describe::describe;
use super::framing::is_tls;
use super::login::{Login, Next};
use super::messages::{self, Auth, Opening};
use super::policy::PgPolicy;
use super::request::PgRequest;
use crate::dialect::{Conversation, Ending, Received, RefusalClass, SendError, StepKind};
use crate::direction::Direction;
use crate::verdict::{Verdict, VerdictKind};
use bytes::Bytes;
use std::collections::BTreeMap;

/// Notices and other messages a server may send before authentication before it is judged to
/// be stalling.
pub const MAX_IDLE_MESSAGES: usize = 64;
/// Notices a warning quotes, and how much of each.
const MAX_NOTICES_KEPT: usize = 3;
const MAX_NOTICE_CHARS: usize = 200;
const NOTICE: &str = "a notice before authentication: ";
/// The variable holding the password a run logs in with.
pub const PASSWORD: &str = "password";

/// An authentication request the client reached.
struct Reached {
    /// `scram-sha-256`, `md5`, ...: as `deprecated_methods` names it.
    name: String,
    /// `SCRAM-SHA-256`, `md5`: as the server asked.
    asked: String,
    verdict: Verdict,
}

pub struct PgConversation {
    policy: PgPolicy,
    /// Declared by the case: the methods the client can perform, and its sslmode.
    methods: Option<Vec<String>>,
    sslmode: Option<String>,
    declared: bool,
    /// An SSLRequest (true) or GSSENCRequest (false) awaiting its one-byte answer.
    awaiting: Option<bool>,
    /// The server accepted TLS: the connection is now encrypted.
    upgraded: bool,
    startup: Option<String>,
    /// The client's first message was a TLS hello (`sslnegotiation=direct`), `None` before
    /// the first message.
    direct_tls: Option<bool>,
    /// What turns an admission into a warning: protocol negotiation, notices.
    warnings: Vec<String>,
    idle: usize,
    stage: &'static str,
    /// The suite's password, and the user the startup named.
    password: Option<String>,
    user: Option<String>,
    /// Steps are sent (a run), not observed (judging a recording).
    live: bool,
    /// The method the server asked for (as the policy names it, and as the request did) and
    /// the verdict of reaching it, held while the login goes on.
    reached: Option<Reached>,
    /// A run's login in progress, and the answer it has for the runner to send.
    login: Option<Login>,
    answer: Option<Bytes>,
    /// The client has answered the request (a PasswordMessage or SASL message).
    answered: bool,
}

impl PgConversation {
    pub fn new(policy: PgPolicy) -> PgConversation {
        PgConversation {
            policy,
            methods: None,
            sslmode: None,
            declared: false,
            awaiting: None,
            upgraded: false,
            startup: None,
            direct_tls: None,
            warnings: Vec::new(),
            idle: 0,
            stage: "startup",
            password: None,
            user: None,
            live: false,
            reached: None,
            login: None,
            answer: None,
            answered: false,
        }
    }

    fn requires_tls(&self) -> bool {
        self.sslmode
            .as_deref()
            .is_some_and(|m| m == "require" || m.starts_with("verify"))
    }

    fn answer(&mut self, byte: u8, text: String) -> Received {
        let tls = self.awaiting.take() == Some(true);
        match byte {
            b'S' => {
                self.upgraded = true;
                Received {
                    upgrade_to_tls: true,
                    ..Received::reply(text)
                }
            }
            b'N' if tls && self.requires_tls() => Received::decided(
                text.clone(),
                Verdict::new(
                    VerdictKind::LockedOut,
                    "SSLRequest",
                    format!(
                        "the server declined TLS, and the client requires it (sslmode={})",
                        self.sslmode.as_deref().unwrap_or_default()
                    ),
                    Some(text),
                ),
            ),
            b'N' => Received::reply(text),
            b'G' => Received::decided(
                text,
                Verdict::error(
                    "GSSENCRequest",
                    "the server accepted GSS encryption, which the harness does not speak",
                ),
            ),
            other => Received::decided(
                text,
                Verdict::error(
                    self.stage,
                    format!("the server answered the request for encryption with 0x{other:02x}"),
                ),
            ),
        }
    }

    /// The verdict of reaching the request for `method` (`outcome` says how far the login
    /// went), or of an AuthenticationOk no request came before.
    fn admission(&self, method: Option<(&str, &[String])>, outcome: &str, text: &str) -> Verdict {
        let stage = "authentication";
        if let Some((name, mechanisms)) = method {
            let asked = if mechanisms.is_empty() {
                name.to_string()
            } else {
                mechanisms.join(", ")
            };
            if let Some(can) = &self.methods {
                let performs = if mechanisms.is_empty() {
                    can.iter().any(|m| m.eq_ignore_ascii_case(name))
                } else {
                    mechanisms
                        .iter()
                        .any(|m| can.iter().any(|c| c.eq_ignore_ascii_case(m)))
                };
                if !performs {
                    return Verdict::new(
                        VerdictKind::LockedOut,
                        stage,
                        format!(
                            "the server asks for {asked}, which the client cannot perform (it does {})",
                            can.join(", ")
                        ),
                        Some(text.to_string()),
                    );
                }
            }
            let reason = format!(
                "the server asks for {asked}: the client reached authentication; {outcome}"
            );
            return with_warnings(stage, reason, self.warnings_with(name), text);
        }
        let reason = "the server let the client in without a password".to_string();
        with_warnings(stage, reason, self.warnings.clone(), text)
    }

    /// The warnings an admission with `method` carries: the conversation's, and the method's
    /// deprecation.
    fn warnings_with(&self, method: &str) -> Vec<String> {
        let mut warnings = self.warnings.clone();
        if self.policy.deprecated_methods.iter().any(|d| d == method) {
            warnings.push(format!("{method} is deprecated"));
        }
        warnings
    }

    /// The server asks for a method: a run with a password answers it, one without decides
    /// here; judging a recording holds the verdict until the login's end.
    fn requested(
        &mut self,
        name: String,
        mechanisms: &[String],
        body: &[u8],
        text: String,
    ) -> Received {
        let method = Some((name.as_str(), mechanisms));
        // A method the client cannot perform stops it here, whatever the password.
        let refused = self.admission(method, "", &text);
        if refused.kind == VerdictKind::LockedOut {
            return Received::decided(text, refused);
        }
        let outcome = match (self.password.clone(), self.live) {
            (_, false) => "the recording does not show the login completed".to_string(),
            (None, true) => "no password given, not completed".to_string(),
            (Some(password), true) => {
                let user = self.user.as_deref().unwrap_or_default();
                match Login::start(body, user, &password) {
                    Ok((login, answer)) => {
                        self.reached = Some(Reached {
                            asked: login.method.to_string(),
                            name,
                            verdict: refused,
                        });
                        self.login = Some(login);
                        self.answer = Some(Bytes::from(answer));
                        return Received {
                            compared: true,
                            ..Received::aside(text)
                        };
                    }
                    Err(why) => format!("{why}: not completed"),
                }
            }
        };
        let verdict = self.admission(method, &outcome, &text);
        if self.live {
            return Received::decided(text, verdict);
        }
        let asked = if mechanisms.is_empty() {
            name.clone()
        } else {
            mechanisms.join(", ")
        };
        self.reached = Some(Reached {
            name,
            asked,
            verdict,
        });
        Received::reply(text)
    }

    /// AuthenticationOk: logged in, after the method the server asked for.
    fn logged_in(&self, text: &str) -> Verdict {
        let Some(reached) = &self.reached else {
            return self.admission(None, "", text);
        };
        if self.login.as_ref().is_some_and(|l| !l.may_end()) {
            return Verdict::new(
                VerdictKind::Error,
                "authentication",
                "AuthenticationOk before the server proved it knows the password (no AuthenticationSASLFinal)",
                Some(text.to_string()),
            );
        }
        let reason = format!("logged in: AuthenticationOk after {}", reached.asked);
        with_warnings(
            "authentication",
            reason,
            self.warnings_with(&reached.name),
            text,
        )
    }

    /// AuthenticationSASLContinue or AuthenticationSASLFinal: a run's SCRAM exchange goes on;
    /// a recording's shows the client's answer next.
    fn continued(&mut self, body: &[u8], text: String) -> Received {
        let Some(login) = &mut self.login else {
            return Received::aside(text);
        };
        match login.next(body) {
            Ok(Next::Answer(answer)) => {
                self.answer = Some(Bytes::from(answer));
                Received::aside(text)
            }
            Ok(Next::AwaitOk) => Received::aside(text),
            Err(why) => {
                let verdict = Verdict::new(
                    VerdictKind::Error,
                    "authentication",
                    format!("the SCRAM exchange failed: {why}"),
                    Some(text.clone()),
                );
                Received::decided(text, verdict)
            }
        }
    }

    /// An ErrorResponse to the client's password: 28P01 (invalid_password), or 28000 after a
    /// SCRAM exchange, says the password was wrong, which is the set-up's fault, not policy.
    fn wrong_password(&self, code: &str, said: &str, text: &str) -> Option<Verdict> {
        let reached = self.reached.as_ref().filter(|_| self.answered)?;
        if code != "28P01" && !(code == "28000" && reached.name == "scram-sha-256") {
            return None;
        }
        let whose = if self.live {
            "the suite's"
        } else {
            "the client's"
        };
        Some(Verdict::new(
            VerdictKind::Error,
            "authentication",
            format!(
                "wrong password: the server refused {whose} password ({}): {said}",
                reached.asked
            ),
            Some(text.to_string()),
        ))
    }

    fn typed(&mut self, kind: u8, body: &[u8], text: String) -> Received {
        match kind {
            b'R' => match messages::auth(body) {
                Some(Auth::Ok) => {
                    let verdict = self.logged_in(&text);
                    Received::decided(text, verdict)
                }
                Some(Auth::Method { name, mechanisms }) => {
                    self.requested(name, &mechanisms, body, text)
                }
                Some(Auth::Continue(_)) if self.reached.is_some() => self.continued(body, text),
                _ => Received::decided(
                    text.clone(),
                    Verdict::error(
                        self.stage,
                        format!("an authentication message out of turn: {text}"),
                    ),
                ),
            },
            b'Z' => {
                let verdict = self.admission(None, "", &text);
                Received::decided(text, verdict)
            }
            b'E' => {
                let said = messages::error_text(body);
                let code = messages::error_code(body).unwrap_or_default();
                if let Some(verdict) = self.wrong_password(&code, &said, &text) {
                    return Received::decided(text, verdict);
                }
                let verdict = match self.policy.refusals.class(&code) {
                    RefusalClass::LockedOut => Verdict::new(
                        VerdictKind::LockedOut,
                        self.stage,
                        format!("the server refused: {said}"),
                        Some(text.clone()),
                    ),
                    RefusalClass::Busy => Verdict::busy(
                        self.stage,
                        format!("the server was busy, not refusing the client: {said}"),
                        Some(text.clone()),
                        None,
                    ),
                    RefusalClass::Error => Verdict::new(
                        VerdictKind::Error,
                        self.stage,
                        format!("the server failed: {said}"),
                        Some(text.clone()),
                    ),
                };
                Received::decided(text, verdict)
            }
            b'v' => {
                let said = match messages::negotiate_protocol(body) {
                    Some((minor, options)) if options.is_empty() => {
                        format!("the server speaks protocol 3.{minor} at most")
                    }
                    Some((minor, options)) => format!(
                        "the server speaks protocol 3.{minor} at most and not {}",
                        options.join(", ")
                    ),
                    None => "the server negotiated the protocol version down".to_string(),
                };
                self.warnings.push(said);
                // The authentication request follows it: that is the answer to wait for.
                Received::aside(text)
            }
            b'N' | b'S' | b'K' => {
                // A flood of long notices must not grow the verdict without bound: the first
                // few, shortened, say what there is to say.
                let notices = self
                    .warnings
                    .iter()
                    .filter(|w| w.starts_with(NOTICE))
                    .count();
                if kind == b'N' && notices < MAX_NOTICES_KEPT {
                    let said = messages::error_text(body);
                    let said = match said.char_indices().nth(MAX_NOTICE_CHARS) {
                        Some((end, _)) => format!("{}…", &said[..end]),
                        None => said,
                    };
                    self.warnings.push(format!("{NOTICE}{said}"));
                }
                self.idle += 1;
                if self.idle > MAX_IDLE_MESSAGES {
                    let verdict = Verdict::error(
                        self.stage,
                        format!(
                            "the server sent {} messages before any authentication",
                            self.idle
                        ),
                    );
                    return Received::decided(text, verdict);
                }
                Received::aside(text)
            }
            other => Received::decided(
                text.clone(),
                Verdict::error(
                    self.stage,
                    format!(
                        "an unexpected '{}' message before authentication: {text}",
                        char::from(other)
                    ),
                ),
            ),
        }
    }
}

fn with_warnings(stage: &str, reason: String, warnings: Vec<String>, text: &str) -> Verdict {
    Verdict::admitted_or_warned(
        stage,
        reason,
        &warnings,
        ("; ", "; "),
        Some(text.to_string()),
    )
}

impl Conversation<PgRequest> for PgConversation {
    fn prepare(&mut self, _: StepKind, _: &BTreeMap<String, String>) -> Result<(), SendError> {
        self.live = true;
        Ok(())
    }

    fn send(
        &mut self,
        request: &PgRequest,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        Ok(Bytes::from(request.encode(values)?))
    }

    fn send_recorded(
        &mut self,
        recorded: &[u8],
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        // A recording's startup inside its own TLS session cannot be read or replayed; inside
        // the live one the harness sends a startup of its own, for the suite's `user` and
        // `database`.
        if self.upgraded && is_tls(recorded) {
            return Ok(Bytes::from(PgRequest::SuiteStartup.encode(values)?));
        }
        Ok(Bytes::copy_from_slice(recorded))
    }

    fn declare(&mut self, values: &BTreeMap<String, String>) {
        if self.declared {
            return;
        }
        self.declared = true;
        self.methods = values.get("client_methods").map(|m| {
            m.split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(|s| s.to_ascii_lowercase())
                .collect()
        });
        self.sslmode = values.get("sslmode").cloned();
        self.password = values.get(PASSWORD).cloned();
        self.user = values.get("user").cloned();
    }

    fn observe_sent(&mut self, message: &[u8]) {
        self.direct_tls.get_or_insert_with(|| is_tls(message));
        match messages::opening(message) {
            Some(Opening::SslRequest) => {
                self.awaiting = Some(true);
                self.stage = "SSLRequest";
            }
            Some(Opening::GssEncRequest) => {
                self.awaiting = Some(false);
                self.stage = "GSSENCRequest";
            }
            Some(Opening::Startup {
                major,
                minor,
                params,
            }) => {
                self.startup = Some(format!("{major}.{minor}"));
                self.stage = "startup";
                if let Some((_, user)) = params.into_iter().find(|(k, _)| k == "user") {
                    self.user = Some(user);
                }
            }
            // A PasswordMessage or SASL message: the client answered the request.
            None if message.first() == Some(&b'p') => self.answered = true,
            _ => {}
        }
    }

    fn receive(&mut self, raw: Bytes) -> Received {
        let text = describe(Direction::Server, &raw);
        if raw.len() == 1 && self.awaiting.is_some() {
            return self.answer(raw[0], text);
        }
        // A protocol 2 server's error is a type byte and a NUL-terminated text.
        if self.startup.as_deref().is_some_and(|v| v.starts_with("2."))
            && raw.first() == Some(&b'E')
        {
            let said =
                String::from_utf8_lossy(raw[1..].split(|&b| b == 0).next().unwrap_or_default());
            let verdict = Verdict::new(
                VerdictKind::LockedOut,
                self.stage,
                format!("the server refused: {}", said.trim()),
                Some(text.clone()),
            );
            return Received::decided(text, verdict);
        }
        match messages::typed(&raw) {
            // The reply a recording's is compared with is the one to the startup, before the
            // login's answers.
            Some((kind, body)) if self.login.is_some() => Received {
                compared: false,
                ..self.typed(kind, body, text)
            },
            Some((kind, body)) => self.typed(kind, body, text),
            // TLS bytes in a recording: nothing can be read past them.
            None => Received::aside(text),
        }
    }

    fn respond(&mut self) -> Option<Bytes> {
        let answer = self.answer.take()?;
        self.answered = true;
        Some(answer)
    }

    fn stage(&self) -> String {
        self.stage.to_string()
    }

    /// A recording that stops after the request: the request's verdict.
    fn pending(&self) -> Option<Verdict> {
        self.reached
            .as_ref()
            .filter(|_| !self.live)
            .map(|r| r.verdict.clone())
    }

    fn ended(&mut self, how: Ending) -> Verdict {
        let closed = how.verb();
        if let Some(held) = self.pending() {
            return held;
        }
        if let Some(reached) = self.reached.as_ref().filter(|_| self.answered) {
            return Verdict::error(
                "authentication",
                format!(
                    "the server {closed} the connection after the client's {} answer, before AuthenticationOk or an error",
                    reached.asked
                ),
            );
        }
        match (how, &self.startup) {
            (Ending::ScriptEnded, _) => Verdict::error(
                self.stage,
                "the case ended before the server asked for authentication",
            ),
            (_, Some(version)) => Verdict::new(
                VerdictKind::LockedOut,
                self.stage,
                format!(
                    "the server {closed} the connection after the client's protocol {version} startup, before authentication"
                ),
                None,
            ),
            (_, None) if self.direct_tls == Some(true) => Verdict::new(
                VerdictKind::LockedOut,
                self.stage,
                format!(
                    "the server {closed} the connection after the client's direct TLS hello (sslnegotiation=direct)"
                ),
                None,
            ),
            (_, None) if self.stage != "startup" => Verdict::new(
                VerdictKind::LockedOut,
                self.stage,
                format!(
                    "the server {closed} the connection after the client's {}",
                    self.stage
                ),
                None,
            ),
            (_, None) => Verdict::error(
                self.stage,
                format!("the server {closed} the connection before the client's startup"),
            ),
        }
    }

    fn farewell(&self) -> Option<Bytes> {
        // Terminate: a polite goodbye a server logs as such, not as a lost connection.
        Some(Bytes::from_static(b"X\x00\x00\x00\x04"))
    }
}
