//! Declarative dialects: a line protocol (SMTP, IMAP, POP3, ...) written as a TOML file,
//! with no Rust. The file gives the port, who speaks first, the framing, the verbs a step
//! may use, reply rules in order, endings, warnings, redactions and how a client is named;
//! [`load`] compiles it (every mistake at its file:line:col) and registers it as one more
//! [`Dialect`], found by its name afterwards like a built-in one.

mod conversation;
mod framer;
mod identity;
mod load;
mod model;
mod rules;
mod sections;
mod spec;
mod steps;

use crate::dialect::{
    Conversation, Dialect, Distinguish, Doc, FrameError, Identity, Protocol, RecordedIdentity,
    Recordings, Redactions, Step, StepError, StepSource, Wire, describe_unframed,
};
use crate::direction::Direction;
use crate::source::SourceError;
use bytes::{Bytes, BytesMut};
use spec::Spec;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A dialect read from a file.
#[derive(Debug)]
pub struct FileDialect {
    spec: &'static Spec,
}

/// The file dialects loaded so far, with their file's canonical path and text: loading a
/// file twice (or a copy of it, as an imported suite holds) gives the same dialect.
static LOADED: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());

struct Loaded {
    path: PathBuf,
    text: String,
    dialect: &'static FileDialect,
}

/// Whether a dialect name on a command line or in a suite names a dialect file.
pub fn is_path(name: &str) -> bool {
    name.ends_with(".toml")
}

/// Compiles the dialect file at `path` without registering it (`harness check`).
pub fn parse(path: &Path) -> Result<FileDialect, Vec<SourceError>> {
    parse_text(path, &read(path)?)
}

fn read(path: &Path) -> Result<String, Vec<SourceError>> {
    std::fs::read_to_string(path).map_err(|e| {
        vec![SourceError::at(
            path,
            "",
            None,
            format!("cannot read dialect file: {e}"),
        )]
    })
}

fn parse_text(path: &Path, text: &str) -> Result<FileDialect, Vec<SourceError>> {
    let spec = load::parse(path, text)?;
    Ok(FileDialect {
        spec: Box::leak(Box::new(spec)),
    })
}

/// Loads the dialect file at `path` and registers it, so suites, captures and reports find
/// it by name; the same file (or the same text) loaded again is the same dialect, and another
/// dialect under its name (a built-in one, another file) is refused.
pub fn load(path: &Path) -> Result<&'static dyn Dialect, Vec<SourceError>> {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let text = read(path)?;
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(same) = loaded
        .iter()
        .find(|l| l.path == canonical || l.text == text)
    {
        return Ok(same.dialect);
    }
    let dialect: &'static FileDialect = Box::leak(Box::new(parse_text(path, &text)?));
    if let Err(e) = crate::dialect::register(dialect) {
        let other = loaded
            .iter()
            .find(|l| l.dialect.spec.name == dialect.spec.name)
            .map(|l| format!(" (from {})", l.path.display()));
        // The `name` key's line: the file parsed, so it has one at the top level.
        let at = text
            .match_indices("name")
            .map(|(at, _)| at)
            .find(|&at| at == 0 || text[..at].ends_with('\n'))
            .map(|at| at..at + 4);
        return Err(vec![
            SourceError::at(path, &text, at, format!("{e}{}", other.unwrap_or_default()))
                .with_help("give this dialect a name of its own"),
        ]);
    }
    loaded.push(Loaded {
        path: canonical,
        text,
        dialect,
    });
    Ok(dialect)
}

impl FileDialect {
    /// The most bytes its framer holds while it waits for the rest of a message: a reply
    /// less its last line, and that line.
    pub fn most_held(&self) -> usize {
        self.spec.framing.max_reply + self.spec.framing.max_line
    }
}

/// Whether `dialect` came from a file.
pub fn is_file_dialect(dialect: &dyn Dialect) -> bool {
    dialect.source_file().is_some()
}

impl Wire for FileDialect {
    fn name(&self) -> &'static str {
        self.spec.name
    }

    fn summary(&self) -> &'static str {
        self.spec.summary
    }

    fn default_port(&self) -> u16 {
        self.spec.port
    }

    fn source_file(&self) -> Option<&Path> {
        Some(&self.spec.source)
    }

    fn server_speaks_first(&self) -> bool {
        self.spec.server_first
    }

    fn step_kinds(&self) -> &'static [Doc] {
        self.spec.step_docs
    }

    fn frame(&self, from: Direction, buf: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        framer::frame(&self.spec.framing, from, buf)
    }

    fn normalize(&self, described: &str) -> String {
        identity::normalize(self.spec, described)
    }

    fn redactions(&self) -> &Redactions {
        &self.spec.redact
    }

    fn describe(&self, _from: Direction, bytes: &[u8]) -> String {
        describe_unframed(bytes)
    }

    super::offers!(Recordings, Distinguish);
}

impl Recordings for FileDialect {
    fn recorded_identity(&self, client_messages: &[&[u8]]) -> RecordedIdentity {
        identity::recorded(self.spec, client_messages)
    }

    fn opens_handshake(&self, first: &[u8]) -> bool {
        let line = framer::text(first);
        match &self.spec.opens {
            Some(pattern) => pattern.is_match(&line),
            None => steps::verb_of(self.spec, &line).is_some(),
        }
    }

    fn replay_note(&self) -> &'static str {
        "the client's lines are sent as recorded"
    }

    fn answers(&self, _request: &[u8], _reply: &[u8]) -> bool {
        true
    }
}

impl Distinguish for FileDialect {
    fn client_signature(&self, client_messages: &[&[u8]]) -> String {
        identity::signature(self.spec, client_messages)
    }

    fn distinctions(&self, client_messages: &[&[u8]]) -> Vec<String> {
        identity::distinctions(self.spec, client_messages)
    }
}

impl Protocol for FileDialect {
    type Step = steps::FileStep;
    type Settings = ();

    fn step(&self, source: &StepSource<'_>) -> Result<Self::Step, StepError> {
        steps::compile(self.spec, source)
    }

    fn conversation(
        &self,
        _declared: Option<&Identity>,
        _settings: &Self::Settings,
    ) -> Box<dyn Conversation<Self::Step>> {
        Box::new(conversation::FileConversation::new(self.spec))
    }

    fn replay(&self, message: &[u8], _account: Option<&str>) -> Result<Step<Self::Step>, String> {
        if message
            .iter()
            .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n'))
        {
            return Err("it is not a line of text".into());
        }
        Ok(Step::Recorded(message.to_vec()))
    }
}

#[cfg(test)]
mod tests;
