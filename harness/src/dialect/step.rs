//! Steps as a dialect sees them: what a case file wrote (text or bytes, with `{variables}`),
//! compiled when the case loads, so a step the dialect cannot parse is a load error pointing at
//! its column. Bytes (`send_hex`) and recorded messages are the core's ([`Step`]); a dialect
//! compiles only its own text steps.

use crate::template::{ByteTemplate, Template};
use std::any::Any;
use std::fmt::Debug;

/// What one `[[step]]` of a case file sends.
#[derive(Debug, Clone)]
pub enum Payload {
    /// `send = "..."` (and `body = "..."`): text with `{variables}`.
    Text {
        send: Template,
        body: Option<Template>,
    },
    /// `send_hex = "..."`: bytes written as hex, `{variables}` inserted as their text.
    Bytes(ByteTemplate),
}

/// A text step for a dialect to compile: its templates, and the source text of its `send`
/// value (for dialects that parse its literal parts).
#[derive(Debug, Clone, Copy)]
pub struct StepSource<'a> {
    pub send: &'a Template,
    pub body: Option<&'a Template>,
    /// The `send` value as written, before templating.
    pub text: &'a str,
}

/// A compiled step as the core holds it: bytes the core sends for every dialect, or one of the
/// dialect's own steps (`S`, its [`super::Protocol::Step`]).
#[derive(Debug)]
pub enum Step<S> {
    /// A step the dialect compiled from text.
    Own(S),
    /// `send_hex = "..."`: bytes sent as written, `{variables}` filled.
    Raw(ByteTemplate),
    /// A recorded client message, sent as recorded unless the dialect rewrites it
    /// ([`super::Conversation::send_recorded`]).
    Recorded(Vec<u8>),
}

impl<S> Step<S> {
    /// Which kind of step this is, for [`super::Conversation::prepare`].
    pub fn kind(&self) -> StepKind {
        match self {
            Step::Own(_) => StepKind::Own,
            Step::Raw(_) => StepKind::Raw,
            Step::Recorded(_) => StepKind::Recorded,
        }
    }
}

/// The kind of a [`Step`] about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Own,
    Raw,
    Recorded,
}

/// Why a dialect rejected a step: a byte range of the `send` value, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
    pub help: Option<String>,
}

impl StepError {
    pub fn at(offset: usize, len: usize, message: impl Into<String>) -> StepError {
        StepError {
            offset,
            len: len.max(1),
            message: message.into(),
            help: None,
        }
    }

    /// An error about an item of `len` bytes at `offset`; an empty item (`protocol=` with
    /// nothing after it) is pointed at by the byte before it, never past the text's end.
    pub fn at_item(offset: usize, len: usize, message: impl Into<String>) -> StepError {
        if len == 0 {
            StepError::at(offset.saturating_sub(1), 1, message)
        } else {
            StepError::at(offset, len, message)
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> StepError {
        self.help = Some(help.into());
        self
    }
}

/// A compiled step as the core holds it: a dialect's own [`super::Protocol::Step`], boxed;
/// only [`super::erased`] reads it back.
pub trait Request: Any + Send + Sync + Debug {}

impl<T: Any + Send + Sync + Debug> Request for T {}

/// Compiles one text step as a case file's `send = "..."` would be: for tools and tests
/// that script a conversation without a case file.
pub fn text_step(dialect: &dyn super::Dialect, send: &str) -> Result<Box<dyn Request>, StepError> {
    let template = Template::parse(send).map_err(|e| StepError::at(e.offset, e.len, e.message))?;
    let payload = Payload::Text {
        send: template,
        body: None,
    };
    dialect.step(&payload, send)
}

/// [`text_step`] as the dialect's own step type, for its tests.
pub fn typed_text_step<P: super::Protocol>(protocol: &P, send: &str) -> Result<P::Step, StepError> {
    let template = Template::parse(send).map_err(|e| StepError::at(e.offset, e.len, e.message))?;
    super::Protocol::step(
        protocol,
        &StepSource {
            send: &template,
            body: None,
            text: send,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every dialect points at an empty value inside the step, never past its end.
    #[test]
    fn an_empty_item_at_the_end_is_pointed_at_inside_the_step() {
        let cases: [(&dyn super::super::Dialect, &str); 4] = [
            (&super::super::http::Http, "a _ "),
            (&super::super::ssh::Ssh, "kexinit kex="),
            (
                &super::super::postgres::Postgres,
                "startup user=a protocol=",
            ),
            (&super::super::tls::Tls, "hello ciphers="),
        ];
        for (dialect, text) in cases {
            let err = text_step(dialect, text).unwrap_err();
            assert!(
                err.offset + err.len <= text.len(),
                "{}: {text:?} {err:?}",
                dialect.name()
            );
        }
    }
}
