//! MSNP steps: a scripted command line (and body), or a recorded message made replayable.
//! `{trid}` is the conversation's own counter, one per message sent.

use super::codec::{self, Sender};
use crate::dialect::{SendError, StepError, StepSource};
use crate::template::Template;
use bytes::Bytes;
use std::collections::BTreeMap;

/// The variable MSNP numbers itself: the transaction id of each message sent.
pub const TRID: &str = "trid";
/// The variable a recorded account is replayed as.
pub const ACCOUNT: &str = "email";

/// One compiled MSNP step.
#[derive(Debug)]
pub enum MsnpRequest {
    /// `send = "USR {trid} TWN I {email}"`, with an optional `body` whose length MSNP appends.
    Line {
        send: Template,
        body: Option<Template>,
    },
    /// A recorded message: its words (the TrID and the account as slots) and body.
    Recorded {
        words: Vec<Word>,
        body: Option<Bytes>,
    },
}

/// A word of a recorded command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word {
    Text(String),
    Trid,
    Account,
}

/// Checks a case file's step: a text step is a command line (three capitals or digits).
pub fn compile(source: &StepSource<'_>) -> Result<MsnpRequest, StepError> {
    let (send, body) = (source.send, source.body);
    if let Some(at) = source.text.find(['\r', '\n']) {
        return Err(StepError::at(at, 1, "a command line has no line break")
            .with_help("MSNP ends the line itself; put a payload in `body`"));
    }
    let prefix = send.literal_prefix();
    let command = prefix.split(' ').next().unwrap_or_default();
    let complete = prefix.len() > command.len() || send.variables().next().is_none();
    if complete
        && (command.len() != 3
            || !command
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
    {
        return Err(StepError::at(
            0,
            command.len(),
            format!("`{command}` is not an MSNP command"),
        )
        .with_help("a command is three capital letters or digits: VER, CVR, USR, ..."));
    }
    Ok(MsnpRequest::Line {
        send: send.clone(),
        body: body.cloned(),
    })
}

/// A recorded client message as a step: the TrID renumbered, the account a variable, the
/// body's length left for the encoder to append.
pub fn replay(message: &[u8], account: Option<&str>) -> Result<MsnpRequest, String> {
    let parsed = codec::parse(&Bytes::copy_from_slice(message), Sender::Client)
        .ok_or("not a whole MSNP message")?;
    let has_trid = parsed.trid().is_some();
    let kept = parsed.args.len() - usize::from(parsed.body.is_some());
    let mut words = vec![Word::Text(parsed.command.clone())];
    for (i, arg) in parsed.args[..kept].iter().enumerate() {
        words.push(if i == 0 && has_trid {
            Word::Trid
        } else if Some(arg.as_str()) == account {
            Word::Account
        } else {
            Word::Text(arg.clone())
        });
    }
    Ok(MsnpRequest::Recorded {
        words,
        body: parsed.body,
    })
}

impl MsnpRequest {
    /// The bytes to send, with this message's transaction id.
    pub fn encode(&self, values: &BTreeMap<String, String>, trid: u32) -> Result<Bytes, SendError> {
        let trid = trid.to_string();
        let lookup = |name: &str| {
            if name == TRID {
                Some(trid.as_str())
            } else {
                values.get(name).map(String::as_str)
            }
        };
        match self {
            MsnpRequest::Line { send, body } => {
                let line = send.expand_with(lookup).map_err(SendError::Unset)?;
                let body = body
                    .as_ref()
                    .map(|b| b.expand_with(lookup))
                    .transpose()
                    .map_err(SendError::Unset)?;
                Ok(codec::encode(&line, body.as_deref().map(str::as_bytes)))
            }
            MsnpRequest::Recorded { words, body } => {
                let mut line = Vec::with_capacity(words.len());
                for word in words {
                    line.push(match word {
                        Word::Text(text) => text.as_str(),
                        Word::Trid => trid.as_str(),
                        Word::Account => {
                            lookup(ACCOUNT).ok_or_else(|| SendError::Unset(ACCOUNT.to_string()))?
                        }
                    });
                }
                Ok(codec::encode(&line.join(" "), body.as_deref()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{text_step, typed_text_step};

    fn encode(request: &MsnpRequest, trid: u32) -> Vec<u8> {
        let values = BTreeMap::from([(ACCOUNT.to_string(), "suite@hotmail.com".to_string())]);
        request.encode(&values, trid).unwrap().to_vec()
    }

    #[test]
    fn replay_renumbers_trids_and_hides_the_account() {
        let step = replay(b"USR 3 TWN I bob@hotmail.com\r\n", Some("bob@hotmail.com")).unwrap();
        assert_eq!(encode(&step, 7), b"USR 7 TWN I suite@hotmail.com\r\n");
        let step = replay(b"QRY 9 msmsgs@msnmsgr.com 7\r\n{a}\r\nbc", None).unwrap();
        assert_eq!(encode(&step, 2), b"QRY 2 msmsgs@msnmsgr.com 7\r\n{a}\r\nbc");
        assert!(replay(b"\x00\x01", None).is_err());
    }

    #[test]
    fn a_scripted_line_gets_the_conversation_trid_and_a_body_its_length() {
        let step = typed_text_step(&super::super::Msnp, "VER {trid} MSNP8 CVR0").unwrap();
        assert_eq!(encode(&step, 1), b"VER 1 MSNP8 CVR0\r\n");
    }

    #[test]
    fn a_line_that_is_not_a_command_is_refused_where_it_starts() {
        let msnp = &super::super::Msnp;
        let err = text_step(msnp, "ver {trid}").unwrap_err();
        assert_eq!((err.offset, err.len), (0, 3));
        assert!(
            text_step(msnp, "{cmd} 1").is_ok(),
            "a variable command is known only when sent"
        );
        assert!(text_step(msnp, "VERSION 1").is_err());
    }
}
