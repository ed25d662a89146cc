//! MSNP, the MSN Messenger notification-server protocol (see `shared/docs/msnp.md`).

mod classify;
pub mod codec;
pub mod errors;
mod message;

pub use classify::{Classifier, UPGRADE_NOTICE_TYPE};
pub use codec::{Limits, Sender};
pub use message::Message;

use super::{Conversation, Dialect, Ending, FrameError, Identity, Received};
use crate::verdict::Verdict;
use bytes::{Bytes, BytesMut};

/// The MSNP dialect.
pub struct Msnp;

impl Dialect for Msnp {
    fn name(&self) -> &'static str {
        "msnp"
    }

    fn conversation(&self, declared: Option<&Identity>) -> Box<dyn Conversation> {
        Box::new(MsnpConversation {
            classifier: Classifier::new(declared.cloned()),
            limits: Limits::default(),
        })
    }
}

struct MsnpConversation {
    classifier: Classifier,
    limits: Limits,
}

impl Conversation for MsnpConversation {
    fn send(&mut self, line: &str, body: Option<&str>) -> Bytes {
        let bytes = codec::encode(line, body.map(str::as_bytes));
        let mut sent = BytesMut::from(&bytes[..]);
        // Our own bytes always frame; a script line that does not is still sent as written.
        if let Ok(Some((message, _))) =
            codec::decode(&mut sent, Sender::Client, &Limits::unbounded())
        {
            self.classifier.on_sent(&message);
        }
        bytes
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
