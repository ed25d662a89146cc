//! What every step compiler does with a step's text: split it into words with their offsets,
//! split `key=value` words, and answer a verb or field it does not know with the closest one
//! it does (or the whole list), so each dialect keeps only its own table.

use super::StepError;
use crate::source::closest;

/// The non-empty words of `text` from byte `start` on, split at spaces, each with its offset
/// in `text`.
pub fn words(text: &str, start: usize) -> impl Iterator<Item = (usize, &str)> {
    let mut offset = start;
    text[start..].split(' ').filter_map(move |word| {
        let at = offset;
        offset += word.len() + 1;
        (!word.is_empty()).then_some((at, word))
    })
}

/// The key and value of the word at `at`; `form` names what was expected (`key=value`).
pub fn key_value<'w>(
    at: usize,
    word: &'w str,
    form: &str,
) -> Result<(&'w str, &'w str), StepError> {
    word.split_once('=')
        .ok_or_else(|| StepError::at(at, word.len(), format!("`{word}` is not {form}")))
}

/// The help for a word none of `known` is: the closest one (`meant`, when the caller found
/// it), else all of them after `listed`.
pub fn help(meant: Option<&str>, known: &[&str], listed: &str) -> String {
    match meant {
        Some(meant) => format!("did you mean `{meant}`?"),
        None => format!("{listed}: {}", known.join(", ")),
    }
}

impl StepError {
    /// Adds the help for `word`, which none of `known` is (see [`help`]).
    pub fn unknown(self, word: &str, known: &[&str], listed: &str) -> StepError {
        let meant = closest(word, known.iter().copied());
        self.with_help(help(meant, known, listed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_offsets_past_repeated_spaces() {
        let found: Vec<_> = words("hello  a=1 b", 5).collect();
        assert_eq!(found, [(7, "a=1"), (11, "b")]);
    }

    #[test]
    fn an_unknown_word_is_answered_with_the_closest_or_the_list() {
        let known = ["kex", "hostkey"];
        let near = StepError::at(0, 6, "x").unknown("hotkey", &known, "fields");
        assert_eq!(near.help.as_deref(), Some("did you mean `hostkey`?"));
        let far = StepError::at(0, 6, "x").unknown("banana", &known, "fields");
        assert_eq!(far.help.as_deref(), Some("fields: kex, hostkey"));
    }
}
