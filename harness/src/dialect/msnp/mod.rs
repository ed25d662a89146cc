//! MSNP, the MSN Messenger notification-server protocol (see `shared/docs/msnp.md`).

mod classify;
pub mod codec;
pub mod errors;
mod message;
mod recording;

pub use classify::{Classifier, UPGRADE_NOTICE_TYPE};
pub use codec::{Limits, Sender};
pub use message::Message;

use super::{
    Conversation, Dialect, Direction, Ending, FrameError, Identity, Received, RecordedIdentity,
    ReplayStep,
};
use crate::verdict::Verdict;
use bytes::{Bytes, BytesMut};

/// The MSNP dialect.
pub struct Msnp;

impl Dialect for Msnp {
    fn name(&self) -> &'static str {
        "msnp"
    }

    fn conversation(
        &self,
        declared: Option<&Identity>,
        _settings: &toml::Table,
    ) -> Box<dyn Conversation> {
        Box::new(MsnpConversation {
            classifier: Classifier::new(declared.cloned()),
            limits: Limits::default(),
        })
    }

    fn default_port(&self) -> u16 {
        1863
    }

    fn split(&self, from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        recording::split(from, buf)
    }

    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity {
        recording::identity(client_messages)
    }

    fn replay_step(&self, message: &[u8], account: Option<&str>) -> Option<ReplayStep> {
        recording::replay_step(message, account)
    }

    fn answers(&self, request: &[u8], reply: &[u8]) -> bool {
        recording::answers(request, reply)
    }

    fn normalize(&self, message: &str) -> String {
        recording::normalize(message)
    }

    fn redact(&self, text: &str) -> String {
        recording::redact(text)
    }
}

struct MsnpConversation {
    classifier: Classifier,
    limits: Limits,
}

impl Conversation for MsnpConversation {
    fn send(&mut self, line: &str, body: Option<&str>) -> Result<Bytes, String> {
        let bytes = codec::encode(line, body.map(str::as_bytes));
        let mut sent = BytesMut::from(&bytes[..]);
        // Our own bytes always frame; a script line that does not is still sent as written.
        if let Ok(Some((message, _))) =
            codec::decode(&mut sent, Sender::Client, &Limits::unbounded())
        {
            self.classifier.on_sent(&message);
        }
        Ok(bytes)
    }

    fn receive(&mut self, buf: &mut BytesMut) -> Result<Option<Received>, FrameError> {
        let Some((message, raw)) = codec::decode(buf, Sender::Server, &self.limits)? else {
            return Ok(None);
        };
        let observed = self.classifier.on_received(&message);
        Ok(Some(Received {
            raw,
            text: message.text(),
            answers_request: observed.answers_request,
            verdict: observed.verdict,
        }))
    }

    fn stage(&self) -> String {
        self.classifier.stage().to_string()
    }

    fn pending(&self) -> Option<Verdict> {
        self.classifier.pending()
    }

    fn ended(&mut self, how: Ending) -> Verdict {
        self.classifier.on_end(how)
    }

    fn farewell(&self) -> Option<Bytes> {
        Some(Bytes::from_static(b"OUT\r\n"))
    }
}
