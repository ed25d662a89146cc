//! Reads a case file (TOML) into a [`Case`], checking every template, pattern and variable
//! before anything runs, and having the case's dialect compile each step; errors point at
//! the file, line and column.

use super::{ByteTemplate, Case, Condition, Step, Template};
use crate::dialect::{self, Dialect, Identity, Payload, Settings};
use crate::source::{self, SourceError};
use regex::Regex;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use toml::Spanned;

/// Variables every case has: `{host}` is the target's host (unless the suite defines it).
/// Dialects add their own (MSNP: `{trid}`).
pub const BUILTIN_VARIABLES: &[&str] = &["host"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: Option<String>,
    description: Option<String>,
    dialect: Option<Spanned<String>>,
    identity: Option<RawIdentity>,
    #[serde(default)]
    variables: BTreeMap<Spanned<String>, String>,
    #[serde(default, rename = "step")]
    steps: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    client: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    send: Option<Spanned<String>>,
    send_hex: Option<Spanned<String>>,
    body: Option<Spanned<String>>,
    expect: Option<Spanned<String>>,
    capture: Option<Spanned<String>>,
    #[serde(default)]
    when: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    unless: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// Reads and checks one case file. `known` holds the variables the suite provides; `dialect`
/// is the suite's, which the case file may override.
pub fn load_case(
    path: &Path,
    known: &BTreeSet<String>,
    dialect: &'static dyn Dialect,
) -> Result<Case, SourceError> {
    load_case_in(path, known, dialect, &Settings::none())
}

/// [`load_case`] in a suite whose `[dialect_settings]` are `settings`: they may say where a
/// capture case's client identity is.
pub fn load_case_in(
    path: &Path,
    known: &BTreeSet<String>,
    dialect: &'static dyn Dialect,
    settings: &Settings,
) -> Result<Case, SourceError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SourceError::at(path, "", None, format!("cannot read case file: {e}")))?;
    parse_case_in(path, &text, known, dialect, settings)
}

/// Parses and checks case text read from `path`.
pub fn parse_case(
    path: &Path,
    text: &str,
    known: &BTreeSet<String>,
    suite_dialect: &'static dyn Dialect,
) -> Result<Case, SourceError> {
    parse_case_in(path, text, known, suite_dialect, &Settings::none())
}

fn parse_case_in(
    path: &Path,
    text: &str,
    known: &BTreeSet<String>,
    suite_dialect: &'static dyn Dialect,
    settings: &Settings,
) -> Result<Case, SourceError> {
    if is_capture(text) {
        return super::case_from_capture(path, text, known, settings);
    }
    let raw: RawCase = toml::from_str(text).map_err(|e| source::from_toml(path, text, &e))?;
    let at = |span: std::ops::Range<usize>, message: String| {
        SourceError::at(path, text, Some(span), message)
    };

    let dialect = match &raw.dialect {
        None => suite_dialect,
        Some(name) => dialect::by_name(name.get_ref()).ok_or_else(|| {
            at(name.span(), format!("unknown dialect `{}`", name.get_ref()))
                .with_help(format!("known dialects: {}", dialect::names().join(", ")))
        })?,
    };
    let mut defined: BTreeSet<String> = known.clone();
    defined.extend(BUILTIN_VARIABLES.iter().map(|v| v.to_string()));
    defined.extend(dialect.variables().iter().map(|v| v.to_string()));
    for name in raw.variables.keys() {
        if !crate::template::is_identifier(name.get_ref()) {
            return Err(at(
                name.span(),
                format!("`{}` is not a variable name", name.get_ref()),
            ));
        }
        if let Err(e) = dialect.check_variable(name.get_ref(), &raw.variables[name]) {
            return Err(at(name.span(), e));
        }
        defined.insert(name.get_ref().clone());
    }
    if raw.steps.is_empty() {
        return Err(
            SourceError::at(path, text, None, "a case needs at least one `[[step]]`")
                .with_help("add `[[step]]` tables with `send = \"...\"`"),
        );
    }

    let mut steps = Vec::with_capacity(raw.steps.len());
    for (index, raw_step) in raw.steps.into_iter().enumerate() {
        let conditions = conditions(&raw_step.when, false, &defined, &at)?
            .into_iter()
            .chain(conditions(&raw_step.unless, true, &defined, &at)?)
            .collect();
        let (payload, written) = match (&raw_step.send, &raw_step.send_hex) {
            (Some(send), None) => {
                let body = raw_step
                    .body
                    .as_ref()
                    .map(|b| template(b, &defined, text, &at))
                    .transpose()?;
                let send_template = template(send, &defined, text, &at)?;
                (
                    Payload::Text {
                        send: send_template,
                        body,
                    },
                    send,
                )
            }
            (None, Some(hex)) => {
                if let Some(body) = &raw_step.body {
                    return Err(at(
                        body.span(),
                        "`body` goes with `send`; a `send_hex` step is its bytes alone".into(),
                    ));
                }
                (
                    Payload::Bytes(byte_template(hex, &defined, text, &at)?),
                    hex,
                )
            }
            (Some(send), Some(_)) => {
                return Err(at(
                    send.span(),
                    "a step has either `send` (text) or `send_hex` (bytes), not both".into(),
                ));
            }
            (None, None) => {
                return Err(SourceError::at(
                    path,
                    text,
                    None,
                    format!("step {} has nothing to send", index + 1),
                )
                .with_help("give it `send = \"...\"` (text) or `send_hex = \"...\"` (bytes)"));
            }
        };
        let content = Content::of(written, text);
        let request = dialect.step(&payload, written.get_ref()).map_err(|e| {
            let error = at(content.span(e.offset, e.len), e.message);
            match e.help {
                Some(help) => error.with_help(help),
                None => error,
            }
        })?;
        let expect = raw_step
            .expect
            .as_ref()
            .map(|p| pattern(p, &at))
            .transpose()?;
        let capture = raw_step
            .capture
            .as_ref()
            .map(|p| pattern(p, &at))
            .transpose()?;
        for regex in expect.iter().chain(&capture) {
            defined.extend(regex.capture_names().flatten().map(str::to_string));
        }
        steps.push(Step {
            request: Arc::from(request),
            expect,
            capture,
            conditions,
            recorded_reply: None,
            location: location(path, text, content.whole.start),
        });
    }

    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Case {
        name: raw.name.unwrap_or_else(|| id.clone()),
        id,
        path: path.to_path_buf(),
        description: raw.description,
        dialect,
        identity: raw.identity.map(|i| Identity {
            client: i.client,
            version: i.version,
        }),
        variables: raw
            .variables
            .into_iter()
            .map(|(k, v)| (k.into_inner(), v))
            .collect(),
        steps,
        distinctions: Vec::new(),
        origin: super::Origin::Script,
    })
}

/// `path:line` of a byte offset into the file's text.
fn location(path: &Path, text: &str, offset: usize) -> String {
    let line = text[..offset.min(text.len())].matches('\n').count() + 1;
    format!("{}:{line}", path.display())
}

/// A capture case file has a `[capture]` table.
fn is_capture(text: &str) -> bool {
    text.lines().any(|line| line.trim() == "[capture]")
}

type At<'a> = dyn Fn(std::ops::Range<usize>, String) -> SourceError + 'a;

/// Where a TOML string's content stands in the file, to point inside it.
struct Content {
    /// The byte offset of the content (after the opening quotes).
    start: usize,
    /// The content is written exactly as it reads (no escapes, no line-ending backslash), so
    /// an offset into the value is an offset into the file.
    exact: bool,
    whole: std::ops::Range<usize>,
}

impl Content {
    fn of(value: &Spanned<String>, text: &str) -> Content {
        let whole = value.span();
        let rest = &text[whole.start.min(text.len())..];
        let quotes = rest
            .bytes()
            .take_while(|b| *b == b'"' || *b == b'\'')
            .count()
            .min(3);
        let mut start = whole.start + quotes;
        // TOML drops a line break right after a multi-line string's opening quotes.
        if quotes == 3 {
            let after = &text[start.min(text.len())..];
            if after.starts_with("\r\n") {
                start += 2;
            } else if after.starts_with('\n') {
                start += 1;
            }
        }
        let exact =
            text.get(start..start + value.get_ref().len()) == Some(value.get_ref().as_str());
        Content {
            start,
            exact,
            whole,
        }
    }

    /// The file span of `len` bytes at `offset` into the value; the whole value where the
    /// written form differs from the value (escapes, line breaks).
    fn span(&self, offset: usize, len: usize) -> std::ops::Range<usize> {
        if self.exact {
            self.start + offset..self.start + offset + len
        } else {
            self.whole.clone()
        }
    }
}

fn template(
    value: &Spanned<String>,
    defined: &BTreeSet<String>,
    text: &str,
    at: &At,
) -> Result<Template, SourceError> {
    let content = Content::of(value, text);
    let template = Template::parse(value.get_ref())
        .map_err(|e| at(content.span(e.offset, e.len), e.message))?;
    let variables: Vec<(&str, usize)> = template.variables().collect();
    check_variables(&variables, &content, defined, at)?;
    Ok(template)
}

/// Every variable a template uses must be defined by then.
fn check_variables(
    variables: &[(&str, usize)],
    content: &Content,
    defined: &BTreeSet<String>,
    at: &At,
) -> Result<(), SourceError> {
    for &(name, offset) in variables {
        if !defined.contains(name) {
            let span = content.span(offset, name.len() + 2);
            let mut known: Vec<&str> = defined.iter().map(String::as_str).collect();
            known.sort_unstable();
            return Err(at(span, format!("unknown variable `{{{name}}}`")).with_help(format!(
                "defined here: {} (suite variables, case variables, and named groups of earlier `expect`/`capture` patterns)",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

fn byte_template(
    value: &Spanned<String>,
    defined: &BTreeSet<String>,
    text: &str,
    at: &At,
) -> Result<ByteTemplate, SourceError> {
    let content = Content::of(value, text);
    let template = ByteTemplate::parse(value.get_ref())
        .map_err(|e| at(content.span(e.offset, e.len), e.message))?;
    let variables: Vec<(&str, usize)> = template.variables().collect();
    check_variables(&variables, &content, defined, at)?;
    Ok(template)
}

fn pattern(value: &Spanned<String>, at: &At) -> Result<Regex, SourceError> {
    Regex::new(value.get_ref()).map_err(|e| {
        let detail = e.to_string();
        let last = detail
            .lines()
            .last()
            .unwrap_or("invalid pattern")
            .trim()
            .to_string();
        at(value.span(), format!("invalid regular expression: {last}"))
    })
}

fn conditions(
    raw: &BTreeMap<Spanned<String>, Spanned<String>>,
    negated: bool,
    defined: &BTreeSet<String>,
    at: &At,
) -> Result<Vec<Condition>, SourceError> {
    raw.iter()
        .map(|(variable, regex)| {
            if !defined.contains(variable.get_ref()) {
                return Err(at(
                    variable.span(),
                    format!("condition on unknown variable `{}`", variable.get_ref()),
                )
                .with_help("capture it first with a named group of an earlier step, e.g. capture = '(?P<name>\\S+)'"));
            }
            Ok(Condition {
                variable: variable.get_ref().clone(),
                pattern: pattern(regex, at)?,
                negated,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Case, SourceError> {
        let known = BTreeSet::from(["email".to_string()]);
        parse_case(
            Path::new("cases/x.toml"),
            text,
            &known,
            dialect::by_name("msnp").unwrap(),
        )
    }

    #[test]
    fn parses_steps_conditions_and_captures() {
        let case = parse(
            r#"
name = "Gaim 0.7x"
identity = { client = "MSNMSGR", version = "6.0.0602" }
[[step]]
send = "VER {trid} MSNP9 MSNP8 MSNP7 CVR0"
capture = '^VER \d+ (?P<protocol>\S+)'
[[step]]
when = { protocol = "^MSNP7$" }
send = "INF {trid}"
[[step]]
unless = { protocol = "^MSNP7$" }
send = "USR {trid} TWN I {email}"
"#,
        )
        .unwrap();
        assert_eq!(case.id, "x");
        assert_eq!(case.steps.len(), 3);
        let values = BTreeMap::from([("protocol".to_string(), "MSNP8".to_string())]);
        assert!(!case.steps[1].conditions[0].holds(&values));
        assert!(case.steps[2].conditions[0].holds(&values));
    }

    #[test]
    fn unknown_variable_points_at_the_placeholder() {
        let err = parse("[[step]]\nsend = \"USR {trid} TWN I {emial}\"\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 26));
        assert!(err.message.contains("unknown variable `{emial}`"));
    }

    #[test]
    fn an_escaped_value_points_at_the_whole_value_and_a_multi_line_one_inside_it() {
        let err = parse("[[step]]\nsend = \"VER {trid} \\\"MSNP8\\\" {emial}\"\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 8), "{err}");
        let err = parse("[[step]]\nsend = \"\"\"\nVER {trid} {emial}\"\"\"\n").unwrap_err();
        assert_eq!((err.line, err.column), (3, 12), "{err}");
        let err = parse("[[step]]\nsend = '''\r\nVER {trid} {emial}'''\n").unwrap_err();
        assert_eq!((err.line, err.column), (3, 12), "{err}");
        let err = parse("[[step]]\nsend = \"\"\"\nVER {trid} \\\n {emial}\"\"\"\n").unwrap_err();
        assert_eq!(
            (err.line, err.column),
            (2, 8),
            "a line-ending backslash: {err}"
        );
    }

    #[test]
    fn misspelt_key_names_line_and_column() {
        let err = parse("[[step]]\nsned = \"VER 1\"\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.message.contains("unknown field `sned`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn bad_regex_and_condition_on_unknown_variable_are_rejected() {
        let err = parse("[[step]]\nsend = \"VER\"\nexpect = \"(\"\n").unwrap_err();
        assert_eq!(err.line, 3);
        let err = parse("[[step]]\nwhen = { proto = \"x\" }\nsend = \"VER\"\n").unwrap_err();
        assert!(err.message.contains("unknown variable `proto`"));
    }

    #[test]
    fn a_case_without_steps_is_rejected() {
        assert!(
            parse("name = \"x\"\n")
                .unwrap_err()
                .message
                .contains("at least one")
        );
    }
}
