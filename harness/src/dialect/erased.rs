//! The one place a dialect's own types are erased and recovered: every [`Protocol`] is a
//! [`Dialect`] the core can hold, its steps boxed as [`Request`]s, its settings kept as
//! [`Settings`], its conversation taking erased steps. A step or settings of another dialect
//! handed back is reported here, so no dialect checks a type by hand.

use super::{
    Conversation, Dialect, Ending, FromSettings, HeldBack, Identity, Payload, Protocol, Received,
    RecordedIdentity, ReplayEnding, Request, SendError, SettingError, Step, StepError, StepKind,
    StepSource,
};
use crate::verdict::Verdict;
use bytes::Bytes;
use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A dialect's settings as the core holds them, read from the suite's `[dialect_settings]`
/// when it loads; only the dialect that made them reads them.
#[derive(Clone, Default)]
pub struct Settings(Option<Arc<dyn Any + Send + Sync>>);

impl Settings {
    /// No settings: the dialect's defaults apply.
    pub fn none() -> Settings {
        Settings(None)
    }

    /// The settings of protocol `P`: the ones it made, else its defaults.
    fn with<P: Protocol, T>(&self, f: impl FnOnce(&P::Settings) -> T) -> T {
        match self.0.as_deref().and_then(|s| s.downcast_ref()) {
            Some(settings) => f(settings),
            None => f(&P::Settings::default()),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Settings(..)"
        } else {
            "Settings(default)"
        })
    }
}

impl<P: Protocol> Dialect for P {
    fn settings(&self, table: &BTreeMap<String, toml::Value>) -> Result<Settings, SettingError> {
        let settings = P::Settings::from_settings(table)?;
        Ok(Settings(Some(Arc::new(settings))))
    }

    fn step(&self, payload: &Payload, text: &str) -> Result<Box<dyn Request>, StepError> {
        let step = match payload {
            Payload::Bytes(bytes) => Step::Raw(bytes.clone()),
            Payload::Text { send, body } => Step::Own(Protocol::step(
                self,
                &StepSource {
                    send,
                    body: body.as_ref(),
                    text,
                },
            )?),
        };
        Ok(Box::new(step) as Box<dyn Request>)
    }

    fn conversation(
        &self,
        declared: Option<&Identity>,
        settings: &Settings,
    ) -> Box<dyn Conversation> {
        let typed = settings.with::<P, _>(|s| Protocol::conversation(self, declared, s));
        Box::new(Typed::<P::Step>(typed))
    }

    fn identity_in(
        &self,
        settings: &Settings,
        client_messages: &mut dyn Iterator<Item = Vec<u8>>,
    ) -> Option<RecordedIdentity> {
        let traffic = self.identity_in_traffic()?;
        settings.with::<P, _>(|s| traffic.identity_in(s, client_messages))
    }

    fn replay(&self, message: &[u8], account: Option<&str>) -> Result<Box<dyn Request>, String> {
        Ok(Box::new(Protocol::replay(self, message, account)?))
    }

    fn replay_ending(&self, last: &[u8]) -> ReplayEnding {
        let ending = Protocol::replay_ending(self, last);
        ReplayEnding {
            variables: ending.variables,
            steps: ending
                .steps
                .into_iter()
                .map(|(step, why)| (Box::new(Step::Own(step)) as Box<dyn Request>, why))
                .collect(),
        }
    }
}

/// A dialect's conversation, taking erased steps: before each it declares the case's
/// variables and prepares the conversation, raw bytes and recorded messages it sends itself,
/// the dialect's own steps it hands on typed; every message sent it notes with
/// [`Conversation::observe_sent`].
struct Typed<S: 'static>(Box<dyn Conversation<S>>);

// Every method is handed on, defaults included: a default left out here would silently undo
// what a dialect overrides, so the lint makes leaving one out a build failure.
#[deny(clippy::missing_trait_methods)]
impl<S: Request> Conversation for Typed<S> {
    fn prepare(
        &mut self,
        kind: StepKind,
        values: &BTreeMap<String, String>,
    ) -> Result<(), SendError> {
        self.0.prepare(kind, values)
    }
    fn send(
        &mut self,
        request: &dyn Request,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        let any: &dyn Any = request;
        let step = any
            .downcast_ref::<Step<S>>()
            .ok_or(SendError::OtherDialect)?;
        self.0.declare(values);
        self.0.prepare(step.kind(), values)?;
        let bytes = match step {
            Step::Own(own) => self.0.send(own, values)?,
            Step::Raw(template) => Bytes::from(template.expand(values).map_err(SendError::Unset)?),
            Step::Recorded(message) => self.0.send_recorded(message, values)?,
        };
        self.0.observe_sent(&bytes);
        Ok(bytes)
    }
    fn send_recorded(
        &mut self,
        message: &[u8],
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        self.0.send_recorded(message, values)
    }
    fn observe_sent(&mut self, message: &[u8]) {
        self.0.observe_sent(message)
    }
    fn declare(&mut self, values: &BTreeMap<String, String>) {
        self.0.declare(values)
    }
    fn receive(&mut self, message: Bytes) -> Received {
        self.0.receive(message)
    }
    fn held_back(&self, request: &[u8]) -> Option<HeldBack> {
        self.0.held_back(request)
    }
    fn unfinished(&mut self, message: &[u8]) -> Option<Verdict> {
        self.0.unfinished(message)
    }
    fn respond(&mut self) -> Option<Bytes> {
        self.0.respond()
    }
    fn tls_negotiated(&mut self, version: u16) -> Vec<String> {
        self.0.tls_negotiated(version)
    }
    fn tls_follows(&self) -> bool {
        self.0.tls_follows()
    }
    fn stage(&self) -> String {
        self.0.stage()
    }
    fn pending(&self) -> Option<Verdict> {
        self.0.pending()
    }
    fn ended(&mut self, how: Ending) -> Verdict {
        self.0.ended(how)
    }
    fn farewell(&self) -> Option<Bytes> {
        self.0.farewell()
    }
    fn client_left(&self) -> bool {
        self.0.client_left()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{http::Http, msnp::Msnp, ssh::Ssh, text_step};

    /// A step handed to another dialect's conversation is refused by the wrapper, in the words
    /// the runner shows, and nothing is sent.
    #[test]
    fn a_step_of_another_dialect_is_refused_by_name() {
        let step = text_step(&Ssh, "SSH-2.0-OpenSSH_9.6").unwrap();
        let mut conversation = Dialect::conversation(&Http, None, &Settings::none());
        let err = conversation
            .send(step.as_ref(), &BTreeMap::new())
            .unwrap_err();
        assert_eq!(err, SendError::OtherDialect);
        assert_eq!(
            err.to_string(),
            "this step was compiled for another dialect"
        );
    }

    /// `send_hex` is the core's for every dialect: sent as written with its variables
    /// filled, prepared for and noted like any other step (MSNP numbers it, so the scripted
    /// line after it takes the next TrID).
    #[test]
    fn a_raw_step_is_sent_as_written_and_counts_as_sent() {
        let hex = "{greeting} 0d 0a";
        let raw = Dialect::step(
            &Msnp,
            &Payload::Bytes(crate::template::ByteTemplate::parse(hex).unwrap()),
            hex,
        )
        .unwrap();
        let line = text_step(&Msnp, "VER {trid} MSNP8 CVR0").unwrap();
        let mut conversation = Dialect::conversation(&Msnp, None, &Settings::none());
        let values = BTreeMap::from([("greeting".to_string(), "PNG".to_string())]);
        let sent = conversation.send(raw.as_ref(), &values).unwrap();
        assert_eq!(&sent[..], b"PNG\r\n");
        let sent = conversation.send(line.as_ref(), &values).unwrap();
        assert_eq!(&sent[..], b"VER 2 MSNP8 CVR0\r\n");
    }

    /// A recorded message goes out as recorded unless the dialect rewrites it for the live
    /// server, and either way the conversation notes what went out.
    #[test]
    fn a_recorded_message_is_sent_as_recorded_and_noted() {
        let ident = b"SSH-2.0-OpenSSH_9.6\r\n";
        let step = Dialect::replay(&Ssh, ident, None).unwrap();
        let mut conversation = Dialect::conversation(&Ssh, None, &Settings::none());
        let sent = conversation.send(step.as_ref(), &BTreeMap::new()).unwrap();
        assert_eq!(&sent[..], ident);
        conversation.receive(Bytes::from_static(b"SSH-2.0-OpenSSH_9.2\r\n"));
        assert_eq!(
            conversation.ended(Ending::Closed).reason,
            "the server closed the connection after the client's identification \
             `SSH-2.0-OpenSSH_9.6`, before its KEXINIT"
        );
    }

    /// Settings a suite gave reach the conversation typed; none at all mean the defaults.
    #[test]
    fn settings_reach_the_conversation_typed_or_as_defaults() {
        let table = BTreeMap::from([(
            "deprecated_algorithms".to_string(),
            toml::Value::Array(vec![toml::Value::String("nope".into())]),
        )]);
        let given = Dialect::settings(&Ssh, &table).unwrap();
        let listed = |settings: &Settings| {
            settings.with::<Ssh, _>(|s| format!("{:?}", s.deprecations).contains("\"nope\""))
        };
        assert!(listed(&given));
        assert!(!listed(&Settings::none()));
    }
}
