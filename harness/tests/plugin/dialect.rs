//! KNOCK, a made-up line protocol that exists only to prove a dialect plugs in from outside
//! the crate: `HELLO <client> <version>`, `STARTTLS`, `LOGIN <user>`, each answered by one
//! line. `OK` admits at LOGIN, `UPGRADE` warns first, `DENIED` locks out, `READY` (to
//! STARTTLS) continues over TLS.

use bytes::{Bytes, BytesMut};
use harness::dialect::{
    Conversation, Doc, Ending, FrameError, FromSettings, Identity, Protocol, Received,
    RecordedIdentity, Recordings, SendError, SettingError, Step, StepError, StepSource, Wire,
    describe_unframed,
};
use harness::direction::Direction;
use harness::template::Template;
use harness::verdict::{Verdict, VerdictKind};
use std::collections::BTreeMap;

/// The dialect under its name; another name makes an impostor for the registry test.
pub struct Knock {
    pub name: &'static str,
}

pub static KNOCK: Knock = Knock { name: "knock" };

/// `[dialect_settings]`: clients older than `warn_below` are warned even when admitted.
#[derive(Debug, Clone, Default)]
pub struct KnockSettings {
    warn_below: Option<f64>,
}

impl FromSettings for KnockSettings {
    fn from_settings(table: &BTreeMap<String, toml::Value>) -> Result<Self, SettingError> {
        let warn_below = match table.get("warn_below") {
            None => None,
            Some(v) => Some(
                v.as_float()
                    .ok_or_else(|| SettingError::new("warn_below", "expected a number"))?,
            ),
        };
        Ok(KnockSettings { warn_below })
    }
}

#[derive(Debug)]
pub struct Line(Template);

const VERBS: &[&str] = &["HELLO", "STARTTLS", "LOGIN"];

impl Wire for Knock {
    fn name(&self) -> &'static str {
        self.name
    }

    fn summary(&self) -> &'static str {
        "a made-up line protocol for tests"
    }

    fn default_port(&self) -> u16 {
        7000
    }

    fn step_kinds(&self) -> &'static [Doc] {
        &[Doc {
            name: "send",
            about: "HELLO, STARTTLS or LOGIN",
        }]
    }

    fn setting_keys(&self) -> &'static [Doc] {
        &[Doc {
            name: "warn_below",
            about: "client versions below this are warned",
        }]
    }

    fn frame(&self, _from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        match buf.windows(2).position(|w| w == b"\r\n") {
            Some(end) => Ok(Some(buf.split_to(end + 2).freeze())),
            None if buf.len() > 256 => Err(FrameError::TooLong("a line over 256 bytes".into())),
            None => Ok(None),
        }
    }

    fn describe(&self, from: Direction, bytes: &[u8]) -> String {
        let side = match from {
            Direction::Client => "knock",
            Direction::Server => "answer",
        };
        format!("{side}: {}", describe_unframed(bytes))
    }

    fn recordings(&self) -> Option<&dyn Recordings> {
        Some(self)
    }
}

impl Recordings for Knock {
    fn recorded_identity(&self, _client_messages: &[&[u8]]) -> RecordedIdentity {
        RecordedIdentity::default()
    }

    fn opens_handshake(&self, first: &[u8]) -> bool {
        first.starts_with(b"HELLO ")
    }

    fn replay_note(&self) -> &'static str {
        ""
    }

    fn answers(&self, _request: &[u8], _reply: &[u8]) -> bool {
        true
    }
}

impl Protocol for Knock {
    type Step = Line;
    type Settings = KnockSettings;

    fn step(&self, source: &StepSource<'_>) -> Result<Line, StepError> {
        let verb = source.text.split(' ').next().unwrap_or_default();
        if !VERBS.contains(&verb) {
            return Err(StepError::at(
                0,
                verb.len(),
                format!("`{verb}` is not a KNOCK verb"),
            ));
        }
        Ok(Line(source.send.clone()))
    }

    fn conversation(
        &self,
        _declared: Option<&Identity>,
        settings: &KnockSettings,
    ) -> Box<dyn Conversation<Line>> {
        Box::new(KnockConversation {
            settings: settings.clone(),
            version: None,
            upgrade: None,
            stage: "connect".into(),
        })
    }

    fn replay(&self, message: &[u8], _account: Option<&str>) -> Result<Step<Line>, String> {
        let text = std::str::from_utf8(message).map_err(|e| e.to_string())?;
        let template = Template::parse(&text.trim_end().replace('{', "{{").replace('}', "}}"))
            .map_err(|e| e.message)?;
        Ok(Step::Own(Line(template)))
    }
}

struct KnockConversation {
    settings: KnockSettings,
    version: Option<f64>,
    upgrade: Option<String>,
    stage: String,
}

impl Conversation<Line> for KnockConversation {
    fn send(
        &mut self,
        Line(template): &Line,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        let line = template.expand(values).map_err(SendError::Unset)?;
        let mut words = line.split(' ');
        self.stage = words.next().unwrap_or_default().to_string();
        if self.stage == "HELLO" {
            self.version = words.nth(1).and_then(|v| v.parse().ok());
        }
        Ok(Bytes::from(format!("{line}\r\n")))
    }
    fn observe_sent(&mut self, message: &[u8]) {
        self.stage = String::from_utf8_lossy(message)
            .split(' ')
            .next()
            .unwrap_or_default()
            .trim_end()
            .to_string();
    }
    fn receive(&mut self, message: Bytes) -> Received {
        let text = String::from_utf8_lossy(&message).trim_end().to_string();
        let decided = |kind, reason: String| {
            Some(Verdict::new(
                kind,
                self.stage.clone(),
                reason,
                Some(text.clone()),
            ))
        };
        let mut received = Received::reply(text.clone());
        if let Some(reason) = text.strip_prefix("DENIED ") {
            received.verdict = decided(VerdictKind::LockedOut, format!("denied: {reason}"));
        } else if let Some(notice) = text.strip_prefix("UPGRADE ") {
            self.upgrade = Some(notice.to_string());
        } else if text == "READY" {
            received.upgrade_to_tls = true;
        } else if text.starts_with("OK") && self.stage == "LOGIN" {
            let old =
                matches!((self.version, self.settings.warn_below), (Some(v), Some(min)) if v < min);
            received.verdict = match (&self.upgrade, old) {
                (Some(notice), _) => decided(
                    VerdictKind::Warned,
                    format!("logged in, told to upgrade: {notice}"),
                ),
                (None, true) => decided(
                    VerdictKind::Warned,
                    "logged in on a deprecated version".into(),
                ),
                (None, false) => decided(VerdictKind::Admitted, "logged in".into()),
            };
        }
        received
    }
    fn stage(&self) -> String {
        self.stage.clone()
    }
    fn pending(&self) -> Option<Verdict> {
        None
    }
    fn ended(&mut self, how: Ending) -> Verdict {
        match how {
            Ending::ScriptEnded => Verdict::error(
                self.stage.clone(),
                "the case ended before LOGIN was answered",
            ),
            Ending::Closed | Ending::Reset => Verdict::new(
                VerdictKind::LockedOut,
                self.stage.clone(),
                "the server hung up".to_string(),
                None,
            ),
        }
    }
    fn farewell(&self) -> Option<Bytes> {
        None
    }
}
