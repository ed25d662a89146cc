//! Reading a dialect file: TOML into [`model`], then each pattern compiled and each name
//! checked, every mistake reported at its file:line:col (with a did-you-mean where a name is
//! close to one the file or the format knows). All mistakes are reported, not just the first.

use super::model;
use super::spec::{Action, Spec};
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
pub(super) fn built_in(name: &str) -> bool {
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

pub(super) struct Compiler<'a> {
    pub(super) path: &'a Path,
    text: &'a str,
    errors: Vec<SourceError>,
}

pub(super) fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

impl Compiler<'_> {
    pub(super) fn error(&mut self, span: Range<usize>, message: String, help: Option<String>) {
        let mut e = SourceError::at(self.path, self.text, Some(span), message);
        if let Some(help) = help {
            e = e.with_help(help);
        }
        self.errors.push(e);
    }

    /// A pattern compiled, or an error at it (a placeholder that matches nothing stands in).
    pub(super) fn regex(&mut self, pattern: &Spanned<String>) -> Regex {
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

    pub(super) fn opt_regex(&mut self, pattern: &Option<Spanned<String>>) -> Option<Regex> {
        pattern.as_ref().map(|p| self.regex(p))
    }

    pub(super) fn limit(
        &mut self,
        value: &Option<Spanned<i64>>,
        default: usize,
        what: &str,
    ) -> usize {
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

    pub(super) fn action(&mut self, word: &Spanned<String>, table: &[(&str, Action)]) -> Action {
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
    pub(super) fn stages(
        &mut self,
        list: &Option<Vec<Spanned<String>>>,
        known: &[String],
    ) -> Vec<String> {
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
}
