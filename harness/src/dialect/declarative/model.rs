//! The dialect file as written: every value that can be wrong keeps its span, so the loader
//! points at it. Nothing here is checked beyond its TOML type; [`super::load`] compiles it.

use serde::Deserialize;
use toml::Spanned;

/// A whole dialect file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub name: Spanned<String>,
    #[serde(default)]
    pub summary: Option<String>,
    pub port: Spanned<i64>,
    /// `"server"` (a greeting comes first, as in SMTP, IMAP, POP3, FTP) or `"client"`.
    #[serde(default)]
    pub speaks_first: Option<Spanned<String>>,
    /// Client lines start with a tag, the verb after it (IMAP).
    #[serde(default)]
    pub tagged: bool,
    /// A line sent politely after a verdict, before closing (SMTP: `QUIT`).
    #[serde(default)]
    pub farewell: Option<String>,
    /// The client's first line of a recorded session that opens the handshake.
    #[serde(default)]
    pub opens: Option<Spanned<String>>,
    pub framing: Framing,
    #[serde(default)]
    pub free_line: Option<Spanned<String>>,
    #[serde(default)]
    pub verb: Vec<Verb>,
    #[serde(default)]
    pub rule: Vec<Rule>,
    #[serde(default)]
    pub ending: Vec<Ending>,
    #[serde(default)]
    pub warn: Vec<Warn>,
    #[serde(default)]
    pub redact: Vec<Replace>,
    #[serde(default)]
    pub normalize: Vec<Replace>,
    #[serde(default)]
    pub identity: Identity,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framing {
    /// `"\r\n"` or `"\n"`: what ends each line sent; lines received end at `\n`, a `\r`
    /// before it dropped.
    #[serde(default)]
    pub terminator: Option<Spanned<String>>,
    /// A server line matching this is followed by more lines of the same reply.
    #[serde(default)]
    pub continues: Option<Spanned<String>>,
    /// The most bytes in one line, its terminator included.
    #[serde(default)]
    pub max_line: Option<Spanned<i64>>,
    /// The most bytes in one reply of several lines.
    #[serde(default)]
    pub max_reply: Option<Spanned<i64>>,
}

/// A step verb and the arguments it takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verb {
    pub name: Spanned<String>,
    /// A pattern the text after the verb must match; without one the verb takes none.
    #[serde(default)]
    pub args: Option<Spanned<String>>,
    #[serde(default)]
    pub about: Option<String>,
}

/// One reply rule: the first whose patterns all match decides what a reply means.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub reply: Spanned<String>,
    #[serde(default)]
    pub request: Option<Spanned<String>>,
    #[serde(default)]
    pub stage: Option<Vec<Spanned<String>>>,
    pub then: Spanned<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// How a close or reset is judged at some stages (all, without `stage`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ending {
    #[serde(default)]
    pub stage: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub closed: Option<Spanned<String>>,
    #[serde(default)]
    pub reset: Option<Spanned<String>>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// What makes an admission a warning: a server notice, or a client request naming a
/// deprecated item (its `item` group, else its first).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Warn {
    #[serde(default)]
    pub reply: Option<Spanned<String>>,
    #[serde(default)]
    pub request: Option<Spanned<String>>,
    #[serde(default)]
    pub deprecated: Option<Vec<String>>,
    /// A TLS version (`TLSv1.2`): a session upgraded to an older one is warned.
    #[serde(default)]
    pub tls_below: Option<Spanned<String>>,
    pub reason: String,
}

/// A pattern and what its match (its first group, if it has one) is replaced by.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replace {
    pub pattern: Spanned<String>,
    pub with: String,
}

/// How a client is named and grouped from its recorded lines.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// Its `name` group (else the first) names the client; `version` gives its version.
    #[serde(default)]
    pub client: Option<Spanned<String>>,
    #[serde(default)]
    pub account: Option<Spanned<String>>,
    /// Patterns over the client's first lines; what they match is its signature.
    #[serde(default)]
    pub signature: Vec<Spanned<String>>,
}
