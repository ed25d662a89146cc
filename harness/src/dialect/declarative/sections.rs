//! Compiling each part of a dialect file: the header (name, port, who speaks first), the
//! framing, the verbs, the reply rules, the endings and the warnings; what the file says is
//! checked against what the rest of it names (a stage must be a verb of the file).

use super::load::{Compiler, built_in, leak};
use super::model;
use super::spec::{self, ACTIONS, ENDS, Spec};
use crate::dialect::tls::names;
use crate::dialect::{Doc, Redaction, Redactions};
use toml::Spanned;

impl Compiler<'_> {
    pub(super) fn compile(&mut self, file: model::File) -> Spec {
        let (name, port, server_first) = self.header(&file);
        let framing = self.framing(&file.framing);
        let (verbs, docs) = self.verbs(&file);
        let mut known: Vec<String> = verbs.iter().map(|v| v.name.clone()).collect();
        known.push(spec::first_stage(server_first).to_string());
        let rules = self.rules(&file.rule, &known);
        let endings = self.endings(&file.ending, &known);
        let warns = self.warns(&file);
        let replaces = |c: &mut Self, list: &[model::Replace]| {
            Redactions::compiled(
                list.iter()
                    .map(|r| Redaction::first_group(c.regex(&r.pattern), r.with.clone()))
                    .collect(),
            )
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
            name,
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
            free_line: self.opt_regex(&file.free_line),
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

    fn header(&mut self, file: &model::File) -> (&'static str, u16, bool) {
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
        (leak(name), port, server_first)
    }

    fn framing(&mut self, framing: &model::Framing) -> spec::Framing {
        let terminator = match &framing.terminator {
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
        let max_line = self.limit(&framing.max_line, 4096, "a line limit");
        let max_reply = self.limit(&framing.max_reply, 64 * 1024, "a reply limit");
        if max_reply < max_line
            && let Some(v) = &framing.max_reply
        {
            self.error(
                v.span(),
                format!("a reply limit is at least the line limit ({max_line})"),
                None,
            );
        }
        spec::Framing {
            terminator,
            continues: self.opt_regex(&framing.continues),
            max_line,
            max_reply: max_reply.max(max_line),
        }
    }

    /// The verbs, and the step forms `harness dialects` shows for them.
    fn verbs(&mut self, file: &model::File) -> (Vec<spec::Verb>, Vec<Doc>) {
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
        if file.free_line.is_some() {
            docs.push(Doc {
                name: "send = \"<line>\"",
                about: "a line that is no verb, as `free_line` allows",
            });
        }
        docs.push(Doc {
            name: "send_hex",
            about: "raw bytes, sent as they are",
        });

        (verbs, docs)
    }

    fn rules(&mut self, list: &[model::Rule], known: &[String]) -> Vec<spec::Rule> {
        let mut rules = Vec::new();
        for rule in list {
            let reply = self.regex(&rule.reply);
            let request = self.opt_regex(&rule.request);
            let stages = self.stages(&rule.stage, known);
            let then = self.action(&rule.then, ACTIONS);
            rules.push(spec::Rule {
                reply,
                request,
                stages,
                then,
                reason: rule.reason.clone(),
            });
        }
        rules
    }

    fn endings(&mut self, list: &[model::Ending], known: &[String]) -> Vec<spec::Ending> {
        let mut endings = Vec::new();
        for ending in list {
            let stages = self.stages(&ending.stage, known);
            let closed = ending.closed.as_ref().map(|a| self.action(a, ENDS));
            let reset = ending.reset.as_ref().map(|a| self.action(a, ENDS));
            endings.push(spec::Ending {
                stages,
                closed,
                reset,
                reason: ending.reason.clone(),
            });
        }
        endings
    }

    fn warns(&mut self, file: &model::File) -> Vec<spec::Warn> {
        let mut warns = Vec::new();
        for warn in &file.warn {
            let reply = self.opt_regex(&warn.reply);
            let request = self.opt_regex(&warn.request);
            let tls_below = warn.tls_below.as_ref().and_then(|v| self.tls_version(v));
            let given = [
                warn.reply.as_ref(),
                warn.request.as_ref(),
                warn.tls_below.as_ref(),
            ];
            if given.iter().flatten().count() != 1 {
                let at = given
                    .into_iter()
                    .flatten()
                    .nth(1)
                    .map_or(file.name.span(), Spanned::span);
                self.error(
                    at,
                    "a [[warn]] gives `reply`, `request` or `tls_below`, one of them".into(),
                    None,
                );
            }
            warns.push(spec::Warn {
                reply,
                request,
                deprecated: warn.deprecated.clone().unwrap_or_default(),
                tls_below,
                reason: warn.reason.clone(),
            });
        }
        warns
    }

    fn tls_version(&mut self, version: &Spanned<String>) -> Option<u16> {
        let code = names::version_code(version.get_ref()).filter(|&v| v >= 0x0300);
        if code.is_none() {
            self.error(
                version.span(),
                format!("`{}` is not a TLS version", version.get_ref()),
                Some("one of SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3".into()),
            );
        }
        code
    }
}
