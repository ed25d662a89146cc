//! MSNP, the MSN Messenger notification-server protocol (see `shared/docs/msnp.md`): framing,
//! steps, classification, recordings, and the policy-enforcing reference server.

mod classify;
pub mod codec;
pub mod errors;
mod message;
pub mod policy;
mod recording;
mod reference;
mod refusals;
mod request;
pub mod session;
mod synthetic;

pub use classify::{Classifier, UPGRADE_NOTICE_TYPE};
pub use codec::{Limits, Sender};
pub use message::Message;
pub use policy::Policy;
pub use request::MsnpRequest;

use super::{
    Conversation, Doc, Ending, FrameError, Identity, Protocol, Received, RecordedIdentity,
    Recordings, SendError, Signatures, Step, StepError, StepKind, StepSource, Wire,
};
use crate::direction::Direction;
use crate::server::ReferenceServer;
use crate::verdict::Verdict;
use bytes::{Bytes, BytesMut};
use std::collections::BTreeMap;

/// The MSNP dialect.
pub struct Msnp;

const STEP_KINDS: &[Doc] = &[
    Doc {
        name: "send",
        about: "a command line without CRLF, e.g. `VER {trid} MSNP8 CVR0`; {trid} is numbered per message",
    },
    Doc {
        name: "send + body",
        about: "a payload command; its body's length is appended to the line",
    },
    Doc {
        name: "send_hex",
        about: "raw bytes, sent as they are",
    },
];

const SETTING_KEYS: &[Doc] = &[
    Doc {
        name: refusals::BUSY,
        about: "error codes of a busy or unavailable server, an error counted as busy and never a lockout (default 600, 601, 604, 910, 912, 914-916, 918, 919, 921, 922)",
    },
    Doc {
        name: refusals::ERROR,
        about: "error codes that are server faults, not policy (default 500)",
    },
    Doc {
        name: refusals::LOCKED_OUT,
        about: "error codes that lock out (default: every code no other list names)",
    },
];

const SIGNATURES: Signatures = Signatures::of(recording::signature, recording::distinctions);

impl Wire for Msnp {
    super::facts! {
        name: "msnp",
        summary: "MSN Messenger notification server (MSNP2-MSNP15): VER, CVR, USR; the 2003 lockout",
        port: 1863,
        steps: STEP_KINDS,
        settings: SETTING_KEYS,
        describe: recording::describe,
        redactions: recording::REDACTIONS,
    }

    fn variables(&self) -> &'static [&'static str] {
        &[request::TRID]
    }

    fn frame(&self, from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        recording::frame(from, buf)
    }

    fn normalize(&self, described: &str) -> String {
        recording::normalize(described)
    }

    fn reference_server(&self) -> Option<&dyn ReferenceServer> {
        Some(&reference::MsnpServer)
    }

    super::offers!(Recordings, Distinguish(SIGNATURES));
}

impl Recordings for Msnp {
    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity {
        recording::identity(client_messages)
    }

    fn opens_handshake(&self, first: &[u8]) -> bool {
        first.starts_with(b"VER ")
    }

    fn account_variable(&self) -> Option<&'static str> {
        Some(request::ACCOUNT)
    }

    fn replay_note(&self) -> &'static str {
        "(TrIDs renumbered, the account replaced by {email})"
    }

    fn answers(&self, request: &[u8], reply: &[u8]) -> bool {
        recording::answers(request, reply)
    }

    fn synthetic_session(&self, n: u64) -> Vec<(Direction, Vec<u8>)> {
        synthetic::session(n)
    }
}

impl Protocol for Msnp {
    type Step = MsnpRequest;
    type Settings = refusals::Refusals;

    fn step(&self, source: &StepSource<'_>) -> Result<Self::Step, StepError> {
        request::compile(source)
    }

    fn conversation(
        &self,
        declared: Option<&Identity>,
        settings: &Self::Settings,
    ) -> Box<dyn Conversation<Self::Step>> {
        Box::new(MsnpConversation {
            classifier: Classifier::new(declared.cloned()).with_refusals(settings.0.clone()),
            trid: 0,
        })
    }

    fn replay(&self, message: &[u8], account: Option<&str>) -> Result<Step<Self::Step>, String> {
        request::replay(message, account).map(Step::Own)
    }
}

struct MsnpConversation {
    classifier: Classifier,
    /// The last transaction id sent.
    trid: u32,
}

impl Conversation<MsnpRequest> for MsnpConversation {
    /// Every message sent takes the next transaction id, a raw one too.
    fn prepare(
        &mut self,
        _kind: StepKind,
        _values: &BTreeMap<String, String>,
    ) -> Result<(), SendError> {
        self.trid += 1;
        Ok(())
    }

    fn send(
        &mut self,
        request: &MsnpRequest,
        values: &BTreeMap<String, String>,
    ) -> Result<Bytes, SendError> {
        request.encode(values, self.trid)
    }

    /// A raw step that is not MSNP is still sent as written; the classifier never sees it.
    fn observe_sent(&mut self, message: &[u8]) {
        if let Some(message) = codec::parse(&Bytes::copy_from_slice(message), Sender::Client) {
            self.classifier.on_sent(&message);
        }
    }

    fn receive(&mut self, raw: Bytes) -> Received {
        let Some(message) = codec::parse(&raw, Sender::Server) else {
            return Received {
                verdict: Some(Verdict::error(
                    self.classifier.stage(),
                    "unparseable reply: not one whole MSNP message",
                )),
                ..Received::aside(super::describe_unframed(&raw))
            };
        };
        let observed = self.classifier.on_received(&message);
        Received {
            answers_request: observed.answers_request,
            compared: observed.answers_request,
            verdict: observed.verdict,
            ..Received::reply(message.text())
        }
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

    fn client_left(&self) -> bool {
        self.classifier.client_left()
    }
}
