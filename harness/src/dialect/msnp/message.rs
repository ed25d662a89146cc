//! One MSNP message: a command, its arguments and, for payload commands, a body.

use bytes::Bytes;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Three letters (`VER`) or, for an error reply, three digits (`911`).
    pub command: String,
    /// The words after the command; for most commands the first is the TrID.
    pub args: Vec<String>,
    pub body: Option<Bytes>,
}

impl Message {
    /// The transaction id, when the first argument is one.
    pub fn trid(&self) -> Option<u32> {
        self.args.first().and_then(|a| a.parse().ok())
    }

    /// The code of an error reply (`911 5` is error 911 in reply to TrID 5).
    pub fn error_code(&self) -> Option<u16> {
        if self.command.bytes().all(|b| b.is_ascii_digit()) {
            self.command.parse().ok()
        } else {
            None
        }
    }

    /// The argument after the TrID at `index` (0-based), if present.
    pub fn arg_after_trid(&self, index: usize) -> Option<&str> {
        self.args.get(index + 1).map(String::as_str)
    }

    /// The command line without its CRLF.
    pub fn head(&self) -> String {
        let mut head = self.command.clone();
        for arg in &self.args {
            head.push(' ');
            head.push_str(arg);
        }
        head
    }

    /// The whole message as text: the command line, and the body (lossily decoded) after a CRLF.
    pub fn text(&self) -> String {
        match &self.body {
            Some(body) => format!("{}\r\n{}", self.head(), String::from_utf8_lossy(body)),
            None => self.head(),
        }
    }
}
