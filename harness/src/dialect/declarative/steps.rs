//! Steps of a file dialect: a verb the file names with arguments its pattern allows (checked
//! when the case loads where they are written out, when sent where they hold variables), a
//! free line where the file allows one. Raw bytes and recorded lines are the core's steps.

use super::spec::{Spec, Verb};
use crate::dialect::verbs::help;
use crate::dialect::{SendError, StepError, StepSource};
use crate::source::closest;
use crate::template::Template;
use std::collections::BTreeMap;

/// A line (the terminator is added), checked again once its variables are filled.
#[derive(Debug)]
pub struct FileStep(Template);

/// Where a line's verb is, and the verb as written: its first word, or (a tagged protocol,
/// IMAP) the word after its tag.
fn verb_word<'l>(spec: &Spec, line: &'l str) -> (usize, &'l str) {
    let start = match spec.tagged {
        true => line.find(' ').map_or(line.len(), |space| space + 1),
        false => 0,
    };
    let word = line[start..].split(' ').next().unwrap_or_default();
    (start, word)
}

/// The verb of a line, matched as the file spells it (case aside).
pub fn verb_of<'s>(spec: &'s Spec, line: &str) -> Option<&'s Verb> {
    let (_, word) = verb_word(spec, line);
    spec.verbs
        .iter()
        .find(|v| v.name.eq_ignore_ascii_case(word))
}

/// Why `line` is no step of the dialect: (offset, length, message, help).
fn check(spec: &Spec, line: &str) -> Option<(usize, usize, String, Option<String>)> {
    let (start, word) = verb_word(spec, line);
    let Some(verb) = verb_of(spec, line) else {
        let names = spec.verbs.iter().map(|v| v.name.as_str());
        let meant = closest(&word.to_ascii_uppercase(), names.clone())
            .or_else(|| closest(word, names.clone()))
            .filter(|_| !word.is_empty());
        if meant.is_none() && spec.free_line.as_ref().is_some_and(|p| p.is_match(line)) {
            return None;
        }
        let help = help(meant, &names.collect::<Vec<_>>(), "verbs");
        let message = match word {
            "" => format!("a {} line has a verb after its tag", spec.name),
            word => format!("`{word}` is not a {} verb", spec.name),
        };
        return Some((
            start.min(line.len().saturating_sub(1)),
            word.len(),
            message,
            Some(help),
        ));
    };
    let at = start + word.len() + 1;
    let args = line.get(at..);
    match (&verb.args, args) {
        (None, None) => None,
        (None, Some(args)) => Some((
            at,
            args.len(),
            format!("`{}` takes no arguments", verb.name),
            None,
        )),
        (Some(pattern), args) if pattern.is_match(args.unwrap_or_default()) => None,
        (Some(pattern), args) => Some((
            at.min(line.len()),
            args.map_or(0, str::len),
            format!(
                "`{}` does not match the arguments of `{}`: /{}/",
                args.unwrap_or_default(),
                verb.name,
                pattern.as_str()
            ),
            None,
        )),
    }
}

pub fn compile(spec: &Spec, source: &StepSource<'_>) -> Result<FileStep, StepError> {
    let send = source.send;
    if source.body.is_some() {
        return Err(StepError::at(
            0,
            source.text.len(),
            format!("{} steps are one line and have no body", spec.name),
        ));
    }
    let text = source.text;
    if text.contains(['\r', '\n']) {
        return Err(StepError::at(
            0,
            text.len(),
            "a step is one line; the terminator is added",
        ));
    }
    // A step holding variables is checked once they are filled, when it is sent; its verb,
    // when written out, is checked now.
    let (start, word) = verb_word(spec, text);
    let head = &text[..start + word.len()];
    let problem = if send.variables().next().is_none() {
        check(spec, text)
    } else if word.contains('{') || verb_of(spec, head).is_some() {
        None
    } else {
        check(spec, head)
    };
    if let Some((at, len, message, help)) = problem {
        let error = StepError::at_item(at, len, message);
        return Err(match help {
            Some(help) => error.with_help(help),
            None => error,
        });
    }
    Ok(FileStep(send.clone()))
}

/// The bytes of `step`, its variables filled from `values`, checked again as a line.
pub fn expand(
    spec: &Spec,
    FileStep(template): &FileStep,
    values: &BTreeMap<String, String>,
) -> Result<Vec<u8>, SendError> {
    let line = template.expand(values).map_err(SendError::Unset)?;
    if line.contains(['\r', '\n']) {
        return Err(SendError::LineBreak);
    }
    if let Some((_, _, message, _)) = check(spec, &line) {
        return Err(SendError::Malformed(message));
    }
    Ok(format!("{line}{}", spec.framing.terminator).into_bytes())
}
