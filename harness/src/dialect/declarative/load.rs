//! Reading a dialect file: TOML into [`model`], then each pattern compiled and each name
//! checked, every mistake reported at its file:line:col (with a did-you-mean where a name is
//! close to one the file or the format knows). All mistakes are reported, not just the first.

use super::model;
use super::spec::{self, ACTIONS, Action, ENDS, Spec};
use crate::dialect::Doc;
use crate::source::{SourceError, closest};
use regex::Regex;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// The longest line limit a file may set: a reply is held whole in memory.
const MAX_LIMIT: i64 = 1 << 20;
/// Regexes from a file are bounded, so a pathological one cannot take the memory.
const REGEX_SIZE: usize = 1 << 20;

/// Names no file dialect may take: they name the built-in ones.
fn built_in(name: &str) -> bool {
    crate::dialect::all()
        .iter()
        .any(|d| d.name() == name && !super::is_file_dialect(*d))
}

/// Compiles the dialect file at `path` whose text is `text`.
pub fn parse(path: &Path, text: &str) -> Result<Spec, Vec<SourceError>> {
    let file: model::File =
        toml::from_str(text).map_err(|e| vec![crate::source::from_toml(path, text, &e)])?;
    let mut c = Compiler {
        path,
        text,
        errors: Vec::new(),
    };
    let spec = c.compile(file);
    if c.errors.is_empty() {
        Ok(spec)
    } else {
        Err(c.errors)
    }
}

struct Compiler<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<SourceError>,
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

impl Compiler<'_> {
    fn error(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        let mut e = SourceError::at(self.path, self.text, Some(span), message);
        if let Some(help) = help {
            e = e.with_help(help);
        }
        self.errors.push(e);
    }

    /// A pattern compiled, or an error at it (a placeholder that matches nothing stands in).
    fn regex(&mut self, pattern: &Spanned<String>) -> Regex {
        match regex::RegexBuilder::new(pattern.get_ref())
            .size_limit(REGEX_SIZE)
            .build()
        {
            Ok(regex) => regex,
            Err(e) => {
                let why = e.to_string();
                let last = why.lines().last().unwrap_or("").trim().to_string();
                self.error(
                    pattern.span(),
                    format!("`{}` is not a valid pattern: {last}", pattern.get_ref()),
                    None,
                );
                Regex::new("[^\\s\\S]").expect("a pattern that matches nothing")
            }
        }
    }

    fn opt_regex(&mut self, pattern: &Option<Spanned<String>>) -> Option<Regex> {
        pattern.as_ref().map(|p| self.regex(p))
    }

    fn limit(&mut self, value: &Option<Spanned<i64>>, default: usize, what: &str) -> usize {
        match value {
            None => default,
            Some(v) if (3..=MAX_LIMIT).contains(v.get_ref()) => *v.get_ref() as usize,
            Some(v) => {
                self.error(
                    v.span(),
                    format!("{what} is from 3 to {MAX_LIMIT} bytes"),
                    None,
                );
                default
            }
        }
    }

    fn action(&mut self, word: &Spanned<String>, table: &[(&str, Action)]) -> Action {
        if let Some((_, action)) = table.iter().find(|(n, _)| n == word.get_ref()) {
            return *action;
        }
        let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
        let help = match closest(word.get_ref(), names.iter().copied()) {
            Some(meant) => format!("did you mean `{meant}`?"),
            None => format!("one of: {}", names.join(", ")),
        };
        self.error(
            word.span(),
            format!("`{}` is not a verdict here", word.get_ref()),
            Some(help),
        );
        Action::Error
    }

    /// A list of stage names, each a verb of the file, `greeting` or `connect`.
    fn stages(&mut self, list: &Option<Vec<Spanned<String>>>, known: &[String]) -> Vec<String> {
        let Some(list) = list else {
            return Vec::new();
        };
        for stage in list {
            if !known.contains(stage.get_ref()) {
                let help = match closest(stage.get_ref(), known.iter().map(String::as_str)) {
                    Some(meant) => format!("did you mean `{meant}`?"),
                    None => format!("stages: {}", known.join(", ")),
                };
                self.error(
                    stage.span(),
                    format!("`{}` is not a stage of this dialect", stage.get_ref()),
                    Some(help),
                );
            }
        }
        list.iter().map(|s| s.get_ref().clone()).collect()
    }

    fn compile(&mut self, file: model::File) -> Spec {
        let name = file.name.get_ref().clone();
        let name_ok = !name.is_empty()
            && !name.ends_with(".toml")
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            self.error(
                file.name.span(),
                format!("`{name}` is not a dialect name: lowercase letters, digits and `-`"),
                None,
            );
        } else if built_in(&name) {
            self.error(
                file.name.span(),
                format!("`{name}` is the name of a built-in dialect"),
                Some("give the file dialect a name of its own".into()),
            );
        }
        let port = match u16::try_from(*file.port.get_ref()) {
            Ok(port) if port > 0 => port,
            _ => {
                self.error(file.port.span(), "a port is from 1 to 65535".into(), None);
                0
            }
        };
        let server_first = match &file.speaks_first {
            None => false,
            Some(s) if s.get_ref() == "server" => true,
            Some(s) if s.get_ref() == "client" => false,
            Some(s) => {
                self.error(
                    s.span(),
                    format!(
                        "`{}`: who speaks first is `server` or `client`",
                        s.get_ref()
                    ),
                    None,
                );
                false
            }
        };
        let terminator = match &file.framing.terminator {
            None => "\r\n",
            Some(t) if t.get_ref() == "\r\n" => "\r\n",
            Some(t) if t.get_ref() == "\n" => "\n",
            Some(t) => {
                self.error(
                    t.span(),
                    "a line terminator is \"\\r\\n\" or \"\\n\"".into(),
                    None,
                );
                "\r\n"
            }
        };
        let max_line = self.limit(&file.framing.max_line, 4096, "a line limit");
        let max_reply = self.limit(&file.framing.max_reply, 64 * 1024, "a reply limit");
        if max_reply < max_line
            && let Some(v) = &file.framing.max_reply
        {
            self.error(
                v.span(),
                format!("a reply limit is at least the line limit ({max_line})"),
                None,
            );
        }
        let framing = spec::Framing {
            terminator,
            continues: self.opt_regex(&file.framing.continues),
            max_line,
            max_reply: max_reply.max(max_line),
        };

        let mut verbs = Vec::new();
        let mut docs = Vec::new();
        for verb in &file.verb {
            let word = verb.name.get_ref();
            if word.is_empty() || word.contains(char::is_whitespace) {
                self.error(verb.name.span(), "a verb is one word".into(), None);
            } else if verbs
                .iter()
                .any(|v: &spec::Verb| v.name.eq_ignore_ascii_case(word))
            {
                self.error(
                    verb.name.span(),
                    format!("verb `{word}` is given twice"),
                    None,
                );
            }
            let args = self.opt_regex(&verb.args);
            let shown = match &verb.args {
                Some(_) => format!("send = \"{word} ...\""),
                None => format!("send = \"{word}\""),
            };
            docs.push(Doc {
                name: leak(shown),
                about: leak(verb.about.clone().unwrap_or_default()),
            });
            verbs.push(spec::Verb {
                name: word.clone(),
                args,
            });
        }
        if verbs.is_empty() {
            self.error(
                file.name.span(),
                "a dialect file names its verbs: add a [[verb]]".into(),
                None,
            );
        }
        let free_line = self.opt_regex(&file.free_line);
        if free_line.is_some() {
            docs.push(Doc {
                name: "send = \"<line>\"",
                about: "a line that is no verb, as `free_line` allows",
            });
        }
        docs.push(Doc {
            name: "send_hex",
            about: "raw bytes, sent as they are",
        });

        let mut known: Vec<String> = verbs.iter().map(|v| v.name.clone()).collect();
        known.push(spec::first_stage(server_first).to_string());
        let mut rules = Vec::new();
        for rule in &file.rule {
            let reply = self.regex(&rule.reply);
            let request = self.opt_regex(&rule.request);
            let stages = self.stages(&rule.stage, &known);
            let then = self.action(&rule.then, ACTIONS);
            rules.push(spec::Rule {
                reply,
                request,
                stages,
                then,
                reason: rule.reason.clone(),
            });
        }
        let mut endings = Vec::new();
        for ending in &file.ending {
            let stages = self.stages(&ending.stage, &known);
            let closed = ending.closed.as_ref().map(|a| self.action(a, ENDS));
            let reset = ending.reset.as_ref().map(|a| self.action(a, ENDS));
            endings.push(spec::Ending {
                stages,
                closed,
                reset,
                reason: ending.reason.clone(),
            });
        }
        let mut warns = Vec::new();
        for warn in &file.warn {
            let reply = self.opt_regex(&warn.reply);
            let request = self.opt_regex(&warn.request);
            if reply.is_none() == request.is_none() {
                let at = warn
                    .reply
                    .as_ref()
                    .or(warn.request.as_ref())
                    .map_or(file.name.span(), Spanned::span);
                self.error(
                    at,
                    "a [[warn]] gives `reply` or `request`, one of them".into(),
                    None,
                );
            }
            warns.push(spec::Warn {
                reply,
                request,
                deprecated: warn.deprecated.clone().unwrap_or_default(),
                reason: warn.reason.clone(),
            });
        }
        let replaces = |c: &mut Self, list: &[model::Replace]| {
            list.iter()
                .map(|r| spec::Replace {
                    pattern: c.regex(&r.pattern),
                    with: r.with.clone(),
                })
                .collect()
        };
        let redact = replaces(self, &file.redact);
        let normalize = replaces(self, &file.normalize);
        let identity = spec::Identity {
            client: self.opt_regex(&file.identity.client),
            account: self.opt_regex(&file.identity.account),
            signature: file
                .identity
                .signature
                .iter()
                .map(|p| self.regex(p))
                .collect(),
        };
        Spec {
            name: leak(name),
            summary: leak(
                file.summary
                    .unwrap_or_else(|| "a line protocol from a dialect file".into()),
            ),
            port,
            server_first,
            tagged: file.tagged,
            farewell: file.farewell,
            opens: self.opt_regex(&file.opens),
            framing,
            free_line,
            verbs,
            rules,
            endings,
            warns,
            redact,
            normalize,
            identity,
            source: self.path.to_path_buf(),
            step_docs: Box::leak(docs.into_boxed_slice()),
        }
    }
}
