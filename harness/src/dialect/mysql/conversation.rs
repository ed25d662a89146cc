//! One MySQL/MariaDB connection as a client sees it: the server's greeting, the client's
//! SSLRequest (TLS starts right after it) and HandshakeResponse41, then authentication up to
//! the server's OK or ERR. With `password` among the case's variables the harness answers
//! every challenge itself (`respond`: native and caching_sha2 scrambles, caching_sha2's full
//! authentication over TLS, ed25519 signatures) and the OK admits; without one it names no
//! plugin of its own, so the server asks for the account's, and that request decides, as a
//! PostgreSQL authentication request does. An ERR refusing the client locks out (1045 is a
//! wrong or missing password, a set-up error, never a lockout), as does a switch to a plugin
//! the client cannot do; a deprecated plugin, or TLS below 1.2, warns; 1040 and 1203 are a
//! busy server. Case variables `client_plugins`, `ssl_mode` and `public_key` say what the
//! client can do.

use super::describe::describe;
use super::framing::{self, is_tls_record, payload, sequence};
use super::packets::{self, ClientHello, Greeting, Response, ServerReply, caps};
use super::policy::MysqlPolicy;
use super::request::{self, MysqlRequest, Step};
use super::scramble;
use crate::dialect::{Conversation, Ending, Received, RefusalClass, SendError, StepKind};
use crate::direction::Direction;
use crate::verdict::{Verdict, VerdictKind};
use bytes::Bytes;
use std::collections::BTreeMap;

/// The plugin the harness names when it has no password: no account uses it, so the server
/// answers with an AuthSwitchRequest for the account's own plugin, which decides.
pub const PROBE_PLUGIN: &str = "harness_no_password";
/// Authentication requests answered before the server is judged to be stalling.
const MAX_ROUNDS: usize = 8;

/// What the server last asked the client to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Challenge {
    /// A plugin's nonce (from the greeting or an AuthSwitchRequest).
    Nonce { plugin: String, nonce: Vec<u8> },
    /// caching_sha2_password's full authentication: the password itself, over TLS.
    FullAuth,
}

pub struct MysqlConversation {
    policy: MysqlPolicy,
    declared: bool,
    /// Declared by the case: the plugins the client can perform, its ssl_mode, whether it
    /// asks for the server's RSA key, and the password the harness answers with.
    client_plugins: Option<Vec<String>>,
    ssl_mode: Option<String>,
    public_key: bool,
    password: Option<Vec<u8>>,
    greeting: Option<Greeting>,
    challenge: Option<Challenge>,
    /// The plugin authentication is going on with.
    plugin: Option<String>,
    /// The client's capability flags as it sent them.
    client_caps: u32,
    /// The client asked for TLS (its SSLRequest went): the rest is encrypted.
    tls: bool,
    /// The message just sent was an SSLRequest: TLS starts with no answer in between.
    tls_follows: bool,
    /// The SSLRequest's flags, for a handshake sent in place of a recorded one inside TLS.
    ssl_request: Option<(u32, u8)>,
    /// The conversation sends (a replay or a scripted case) rather than observes a recording.
    sending: bool,
    /// The harness answered with the suite's password (a 1045 is then a wrong password).
    answered: bool,
    /// The answer to the server's last challenge, for [`Conversation::respond`].
    answer: Option<Bytes>,
    /// TLS inside the connection fell below 1.2 (read from a recorded ServerHello).
    old_tls: Option<String>,
    next_seq: u8,
    rounds: usize,
    stage: &'static str,
}

impl MysqlConversation {
    pub fn new(policy: MysqlPolicy) -> MysqlConversation {
        MysqlConversation {
            policy,
            declared: false,
            client_plugins: None,
            ssl_mode: None,
            public_key: false,
            password: None,
            greeting: None,
            challenge: None,
            plugin: None,
            client_caps: 0,
            tls: false,
            tls_follows: false,
            ssl_request: None,
            sending: false,
            answered: false,
            answer: None,
            old_tls: None,
            next_seq: 1,
            rounds: 0,
            stage: "greeting",
        }
    }

    fn requires_tls(&self) -> bool {
        self.ssl_mode.as_deref().is_some_and(|m| {
            let m = m.to_ascii_lowercase();
            m == "required" || m.starts_with("verify")
        })
    }

    /// Whether the client can perform `plugin`: as declared, else the plugin it named.
    fn can_do(&self, plugin: &str) -> bool {
        match &self.client_plugins {
            Some(can) => can.iter().any(|c| c == plugin),
            None => true,
        }
    }

    fn packet(&mut self, body: &[u8]) -> Vec<u8> {
        let bytes = framing::packets(body, self.next_seq);
        self.next_seq = self.next_seq.wrapping_add(1);
        bytes
    }

    /// The auth response for the current challenge, from the password; `None` without one.
    fn answer(&self) -> Option<Vec<u8>> {
        let password = self.password.as_deref()?;
        match self.challenge.as_ref()? {
            Challenge::FullAuth => Some(scramble::clear(password)),
            // Clear passwords go only inside TLS.
            Challenge::Nonce { plugin, .. }
                if !self.tls
                    && matches!(plugin.as_str(), "mysql_clear_password" | "sha256_password") =>
            {
                None
            }
            Challenge::Nonce { plugin, nonce } => scramble::answer(plugin, password, nonce),
        }
    }

    /// A handshake response as the client would send it, with the harness's auth response:
    /// the scramble for its plugin, or, without a password, the probe plugin and nothing.
    fn fill(&mut self, mut response: Response) -> Vec<u8> {
        // The handshake inside TLS carries the flags its SSLRequest announced (MariaDB answers
        // a change with 1043 Bad handshake): a database only where they let one through.
        if let Some((flags, charset)) = self.ssl_request.filter(|_| self.tls) {
            response.capabilities = flags | caps::SSL;
            response.charset = charset;
            if flags & caps::CONNECT_WITH_DB == 0 {
                response.database = None;
            } else if response.database.is_none() {
                response.database = Some(String::new());
            }
        }
        let plugin = response
            .plugin
            .clone()
            .filter(|p| !p.is_empty())
            .or_else(|| self.greeting.as_ref().map(|g| g.plugin.clone()))
            .unwrap_or_else(|| "mysql_native_password".to_string());
        let nonce = self
            .greeting
            .as_ref()
            .map(|g| g.scramble.clone())
            .unwrap_or_default();
        self.challenge = Some(Challenge::Nonce {
            plugin: plugin.clone(),
            nonce,
        });
        match (self.answer(), self.password.is_some()) {
            (Some(auth), _) => {
                response.auth_response = auth;
                self.answered = true;
            }
            // A plugin the harness cannot answer, or no password: the server then asks for
            // the account's own plugin.
            (None, true) => response.auth_response.clear(),
            (None, false) => {
                response.auth_response.clear();
                if response.capabilities & caps::PLUGIN_AUTH != 0 {
                    response.plugin = Some(PROBE_PLUGIN.to_string());
                }
            }
        }
        self.plugin = Some(plugin);
        response.plugin = response
            .plugin
            .filter(|_| response.capabilities & caps::PLUGIN_AUTH != 0);
        self.client_caps = response.capabilities;
        self.stage = "handshake";
        request::response_payload(&response)
    }

    fn auth_packet(&mut self) -> Result<Vec<u8>, SendError> {
        let Some(auth) = self.answer() else {
            return Err(SendError::Malformed(match &self.challenge {
                None => "no authentication request to answer".to_string(),
                Some(_) if self.password.is_none() => {
                    "no `password` in the case's variables to answer with".to_string()
                }
                Some(_) => "the harness cannot answer this request".to_string(),
            }));
        };
        self.answered = true;
        Ok(self.packet(&auth))
    }

    fn worded(
        &mut self,
        step: Step,
        values: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>, SendError> {
        Ok(match step {
            Step::Ssl => {
                let charset = request::DEFAULT_CHARSET;
                // With a database: the handshake that follows names the suite's, if any.
                let flags = request::DEFAULT_CAPABILITIES | caps::CONNECT_WITH_DB;
                self.ssl_request = Some((flags, charset));
                self.packet(&request::ssl_request_payload(flags, charset))
            }
            Step::Handshake(handshake) => {
                let response = handshake.response(handshake.plugin.clone(), Vec::new());
                let body = self.fill(response);
                self.packet(&body)
            }
            Step::Quit => {
                let _ = values;
                framing::packets(&[0x01], 0)
            }
        })
    }

    /// A recorded client message for the live connection: its handshake with the suite's
    /// user and a fresh answer, its answers recomputed; inside TLS (unreadable in the
    /// recording) a handshake for the suite's user, then answers.
    fn recorded(
        &mut self,
        bytes: &[u8],
        values: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>, SendError> {
        if is_tls_record(bytes) {
            if !self.tls {
                return Err(SendError::Malformed(
                    "the recording opens with TLS, which MySQL does not".into(),
                ));
            }
            return match self.stage {
                "SSLRequest" => self.suite_handshake(values),
                _ => Err(SendError::Malformed(
                    "the recording goes on inside TLS past its handshake, which the harness answers itself".into(),
                )),
            };
        }
        match framing::client_opening(bytes) {
            Some(ClientHello::Response(mut response)) if self.stage != "authentication" => {
                if let Some(user) = values.get("user") {
                    response.user = user.clone();
                }
                if response.database.is_some()
                    && let Some(database) = values.get("database")
                {
                    response.database = Some(database.clone());
                }
                let body = self.fill(response);
                Ok(self.packet(&body))
            }
            Some(ClientHello::SslRequest { .. }) => Ok(self.packet(&payload(bytes))),
            _ if sequence(bytes) == Some(0) => Ok(bytes.to_vec()),
            _ if self.challenge.is_some() && self.password.is_some() => self.auth_packet(),
            _ => Ok(self.packet(&payload(bytes))),
        }
    }

    fn suite_handshake(&mut self, values: &BTreeMap<String, String>) -> Result<Vec<u8>, SendError> {
        let (capabilities, charset) = self
            .ssl_request
            .unwrap_or((request::DEFAULT_CAPABILITIES, request::DEFAULT_CHARSET));
        let user = values.get("user").cloned().unwrap_or_else(|| "root".into());
        let database = values.get("database").cloned();
        let mut flags = capabilities & !caps::CONNECT_WITH_DB;
        if database.is_some() {
            flags |= caps::CONNECT_WITH_DB;
        }
        let response = Response {
            capabilities: flags,
            max_packet: 16 << 20,
            charset,
            user,
            database,
            plugin: values.get("plugin").cloned(),
            ..Response::default()
        };
        let body = self.fill(response);
        Ok(self.packet(&body))
    }

    fn refused(&self, code: u16, text: &str, said: &str) -> Verdict {
        let decided = Some(text.to_string());
        if code == 1045
            && self.sending
            && self.answered
            && !self.tls
            && self.policy.refused_in_clear
        {
            return Verdict::new(
                VerdictKind::LockedOut,
                self.stage,
                format!(
                    "the server refused a client without TLS ({said}): refused_in_clear says this server answers clear-text connections so; over TLS the suite's password gets in"
                ),
                decided,
            );
        }
        if code == 1045 && !self.sending && !self.tls && self.policy.refused_in_clear {
            // A recording cannot tell this server's refusal of clear text from a wrong
            // password: both are the same 1045.
            return Verdict::new(
                VerdictKind::Undecided,
                self.stage,
                format!(
                    "a client without TLS refused ({said}): refused_in_clear says this server answers clear-text connections so, and a wrong password the same; the recording cannot tell which"
                ),
                decided,
            );
        }
        if code == 1045 {
            let plugin = self.plugin.as_deref().unwrap_or("no plugin");
            let why = if !self.sending {
                format!(
                    "wrong password: the server refused the client's password ({plugin}), a set-up error, not the server's policy"
                )
            } else if self.answered {
                format!(
                    "wrong password: the server refused the suite's password ({plugin}), a set-up error, not a lockout"
                )
            } else {
                "no password given: the harness could not answer, so this refusal says nothing of the server's policy".to_string()
            };
            return Verdict::new(
                VerdictKind::Error,
                self.stage,
                format!("{why}: {said}"),
                decided,
            );
        }
        match self.policy.refusals.class(&code.to_string()) {
            RefusalClass::LockedOut => Verdict::new(
                VerdictKind::LockedOut,
                self.stage,
                format!("the server refused: {said}"),
                decided,
            ),
            RefusalClass::Busy => Verdict::busy(
                self.stage,
                format!("the server was busy, not refusing the client: {said}"),
                decided,
                None,
            ),
            RefusalClass::Error => Verdict::new(
                VerdictKind::Error,
                self.stage,
                format!("the server failed: {said}"),
                decided,
            ),
        }
    }

    /// Admitted, or warned for a deprecated plugin or old TLS.
    fn admitted(&self, reason: String, text: &str) -> Verdict {
        let mut warnings = Vec::new();
        if let Some(plugin) = &self.plugin
            && self.policy.deprecated_plugins.iter().any(|d| d == plugin)
        {
            warnings.push(format!("{plugin} is deprecated"));
        }
        if let Some(version) = &self.old_tls {
            warnings.push(format!("{version} is below TLS 1.2"));
        }
        Verdict::admitted_or_warned(
            "authentication",
            reason,
            &warnings,
            ("; ", "; "),
            Some(text.to_string()),
        )
    }

    fn locked_out(&self, reason: String, text: &str) -> Received {
        Received::decided(
            text.to_string(),
            Verdict::new(
                VerdictKind::LockedOut,
                self.stage,
                reason,
                Some(text.to_string()),
            ),
        )
    }

    fn on_greeting(&mut self, body: &[u8], text: String) -> Received {
        let Some(greeting) = packets::greeting(body) else {
            return Received::decided(
                text.clone(),
                Verdict::error("greeting", format!("not a Handshake v10 greeting: {text}")),
            );
        };
        if self.requires_tls() && greeting.capabilities & caps::SSL == 0 {
            let reason = format!(
                "the server offers no TLS, and the client requires it (ssl_mode={})",
                self.ssl_mode.as_deref().unwrap_or_default()
            );
            return self.locked_out(reason, &text);
        }
        self.greeting = Some(greeting);
        Received::reply(text)
    }

    fn on_switch(&mut self, plugin: String, nonce: Vec<u8>, text: String) -> Received {
        let plugin = if plugin.is_empty() {
            "mysql_old_password".to_string()
        } else {
            plugin
        };
        if self.client_caps & caps::PLUGIN_AUTH == 0 && self.rounds == 0 && self.sending {
            let reason = format!(
                "the server switches to {plugin}, and the client cannot switch plugins (no CLIENT_PLUGIN_AUTH)"
            );
            return self.locked_out(reason, &text);
        }
        if !self.can_do(&plugin) {
            let can = self.client_plugins.clone().unwrap_or_default().join(", ");
            return self.locked_out(
                format!("the server asks for {plugin}, which the client cannot do (it does {can})"),
                &text,
            );
        }
        self.plugin = Some(plugin.clone());
        self.challenge = Some(Challenge::Nonce {
            plugin: plugin.clone(),
            nonce,
        });
        self.stage = "authentication";
        self.challenged(
            format!("the server asks for {plugin}, which the client can do"),
            text,
        )
    }

    /// A challenge the client can meet: answered from the password when the harness sends
    /// (the answer waits for [`Conversation::respond`]), decided here when it cannot answer;
    /// a recording goes on to the server's OK or ERR.
    fn challenged(&mut self, asked: String, text: String) -> Received {
        if !self.sending {
            return Received::aside(text);
        }
        if let Ok(answer) = self.auth_packet() {
            self.answer = Some(Bytes::from(answer));
            return Received {
                compared: true,
                ..Received::aside(text)
            };
        }
        let why = if self.password.is_none() {
            "no password given, not completed"
        } else {
            "the harness cannot answer it, not completed"
        };
        let verdict = self.admitted(format!("{asked}: it reached authentication; {why}"), &text);
        Received::decided(text, verdict)
    }

    fn on_more_data(&mut self, data: &[u8], text: String) -> Received {
        match data {
            [3] => Received::aside(text),
            [4] if self.tls => {
                self.challenge = Some(Challenge::FullAuth);
                self.challenged(
                    "caching_sha2_password asks for the password over TLS (full authentication)"
                        .into(),
                    text,
                )
            }
            [4] if !self.public_key => self.locked_out(
                "caching_sha2_password asks for full authentication, which needs TLS or the server's RSA key: the client has neither (declare public_key=request if it asks for the key)".into(),
                &text,
            ),
            [4] if self.sending => {
                let verdict = self.admitted(
                    "caching_sha2_password asks for full authentication without TLS, and the client asks for the server's RSA key: it reached authentication; the harness does not encrypt with RSA, not completed".into(),
                    &text,
                );
                Received::decided(text, verdict)
            }
            _ => Received::reply(text),
        }
    }

    /// A ServerHello in the clear in a recording: its version, when below TLS 1.2.
    fn note_tls(&mut self, raw: &[u8]) {
        if raw.len() > 10 && raw[5] == 2 {
            let version = u16::from_be_bytes([raw[9], raw[10]]);
            self.old_tls = match version {
                0x0300 => Some("SSL 3.0".into()),
                0x0301 => Some("TLS 1.0".into()),
                0x0302 => Some("TLS 1.1".into()),
                _ => None,
            };
        }
    }
}

impl MysqlConversation {
    pub fn declare_values(&mut self, values: &BTreeMap<String, String>) {
        if self.declared {
            return;
        }
        self.declared = true;
        self.client_plugins = values.get("client_plugins").map(|m| {
            m.split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        });
        self.ssl_mode = values.get("ssl_mode").cloned();
        self.public_key = values.get("public_key").is_some_and(|v| v == "request");
        self.password = values.get("password").map(|p| p.as_bytes().to_vec());
    }

    /// Notes a client message (sent, or seen in a recording).
    pub fn note_sent(&mut self, message: &[u8]) {
        self.tls_follows = false;
        if is_tls_record(message) {
            return;
        }
        match framing::client_opening(message) {
            Some(ClientHello::SslRequest {
                capabilities,
                charset,
            }) => {
                self.tls = true;
                self.tls_follows = true;
                self.ssl_request = Some((capabilities, charset));
                self.client_caps = capabilities;
                self.stage = "SSLRequest";
            }
            Some(ClientHello::Response(response)) if self.stage != "authentication" => {
                self.client_caps = response.capabilities;
                if !self.sending {
                    self.plugin = response
                        .plugin
                        .or_else(|| self.greeting.as_ref().map(|g| g.plugin.clone()));
                }
                self.stage = "handshake";
            }
            _ => {}
        }
        if let Some(seq) = sequence(message) {
            self.next_seq = seq.wrapping_add(1);
        }
    }

    pub fn receive_packet(&mut self, raw: Bytes) -> Received {
        let text = describe(Direction::Server, &raw);
        if is_tls_record(&raw) {
            self.note_tls(&raw);
            return Received::aside(text);
        }
        let body = payload(&raw);
        if let Some(seq) = sequence(&raw) {
            self.next_seq = seq.wrapping_add(1);
        }
        if self.greeting.is_none() && self.stage == "greeting" && !packets::is_err(&body) {
            return self.on_greeting(&body, text);
        }
        self.rounds += 1;
        if self.rounds > MAX_ROUNDS {
            return Received::decided(
                text,
                Verdict::error(
                    self.stage,
                    format!(
                        "the server sent {MAX_ROUNDS} authentication requests without deciding"
                    ),
                ),
            );
        }
        match packets::server_reply(&body) {
            Some(ServerReply::Ok) => {
                let reason = match (&self.plugin, self.answered || !self.sending) {
                    (Some(plugin), true) => format!("the server let the client in with {plugin}"),
                    _ => "the server let the client in without a password".to_string(),
                };
                let verdict = self.admitted(reason, &text);
                Received::decided(text, verdict)
            }
            Some(ServerReply::Err { code, message, .. }) => {
                let verdict = self.refused(code, &text, &format!("ERR {code} {message}"));
                Received::decided(text, verdict)
            }
            Some(ServerReply::AuthSwitch { plugin, data }) => self.on_switch(plugin, data, text),
            Some(ServerReply::MoreData(data)) => self.on_more_data(&data, text),
            Some(ServerReply::NextFactor { plugin }) => self.on_switch(plugin, Vec::new(), text),
            Some(ServerReply::Other(_)) | None => Received::decided(
                text.clone(),
                Verdict::error(
                    self.stage,
                    format!("a packet out of turn during authentication: {text}"),
                ),
            ),
        }
    }

    pub fn ending(&self, how: Ending) -> Verdict {
        let closed = if how == Ending::Reset {
            "reset"
        } else {
            "closed"
        };
        match (how, self.stage) {
            (Ending::ScriptEnded, _) => Verdict::error(
                self.stage,
                "the case ended before the server let the client in or refused it",
            ),
            (_, "greeting") => Verdict::error(
                self.stage,
                format!("the server {closed} the connection before the client's handshake"),
            ),
            (_, stage) => Verdict::new(
                VerdictKind::LockedOut,
                stage,
                format!(
                    "the server {closed} the connection after the client's {stage}, without OK or ERR"
                ),
                None,
            ),
        }
    }

    pub fn tls_follows(&self) -> bool {
        self.tls_follows
    }
}

impl Conversation<MysqlRequest> for MysqlConversation {
    fn prepare(&mut self, _: StepKind, _: &BTreeMap<String, String>) -> Result<(), SendError> {
        self.sending = true;
        Ok(())
    }

    fn send(
        &mut self,
        request: &MysqlRequest,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        let bytes = match request {
            MysqlRequest::Worded(template) => {
                let text = template.expand(values).map_err(SendError::Unset)?;
                let step = request::expanded(&text)?;
                self.worded(step, values)?
            }
            MysqlRequest::SuiteHandshake => self.suite_handshake(values)?,
        };
        Ok(Bytes::from(bytes))
    }

    fn send_recorded(
        &mut self,
        message: &[u8],
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        Ok(Bytes::from(self.recorded(message, values)?))
    }

    fn declare(&mut self, values: &BTreeMap<String, String>) {
        self.declare_values(values);
    }

    fn observe_sent(&mut self, message: &[u8]) {
        self.note_sent(message);
    }

    fn receive(&mut self, message: Bytes) -> Received {
        self.receive_packet(message)
    }

    fn tls_follows(&self) -> bool {
        MysqlConversation::tls_follows(self)
    }

    fn respond(&mut self) -> Option<Bytes> {
        self.answer.take()
    }

    fn stage(&self) -> String {
        self.stage.to_string()
    }

    fn pending(&self) -> Option<Verdict> {
        None
    }

    fn ended(&mut self, how: Ending) -> Verdict {
        self.ending(how)
    }

    fn farewell(&self) -> Option<Bytes> {
        Some(Bytes::from(framing::packets(&[0x01], 0)))
    }
}
