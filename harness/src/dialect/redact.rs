//! Redaction lists: patterns whose matches are replaced in turn, so that what changes from run
//! to run (server versions, process ids, challenges, ports) reads the same in every snapshot.
//! A built-in dialect declares its list as data ([`Redactions::new`]); a dialect file's
//! `[[redact]]` and `[[normalize]]` build the same type ([`Redactions::compiled`]).

use regex::Regex;
use std::sync::OnceLock;

/// One pattern and what its matches become.
#[derive(Debug)]
pub struct Redaction {
    pattern: Regex,
    with: String,
    first_group: bool,
}

impl Redaction {
    /// Each whole match becomes `with`, in which `$1` stands for the match's first group.
    pub fn whole(pattern: Regex, with: impl Into<String>) -> Redaction {
        Redaction {
            pattern,
            with: with.into(),
            first_group: false,
        }
    }

    /// Each match's first group becomes `with`, word for word, the rest of the match kept;
    /// a pattern without a group is replaced whole (as a dialect file's lists read).
    pub fn first_group(pattern: Regex, with: impl Into<String>) -> Redaction {
        let first_group = pattern.captures_len() > 1;
        Redaction {
            pattern,
            with: with.into(),
            first_group,
        }
    }

    fn apply(&self, text: &str) -> String {
        if !self.first_group {
            return self
                .pattern
                .replace_all(text, self.with.as_str())
                .into_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for group in self.pattern.captures_iter(text).filter_map(|c| c.get(1)) {
            out.push_str(&text[last..group.start()]);
            out.push_str(&self.with);
            last = group.end();
        }
        out.push_str(&text[last..]);
        out
    }
}

/// A dialect's redactions, applied in the order written.
#[derive(Debug)]
pub struct Redactions {
    written: &'static [(&'static str, &'static str)],
    list: OnceLock<Vec<Redaction>>,
}

impl Redactions {
    /// A built-in list of `(pattern, replacement)`, each whole match replaced as
    /// [`Redaction::whole`] says; compiled when first used. The patterns are the dialect's
    /// own constants, so one that does not compile is a bug its tests catch.
    pub const fn new(written: &'static [(&'static str, &'static str)]) -> Redactions {
        Redactions {
            written,
            list: OnceLock::new(),
        }
    }

    /// A list already compiled (from a dialect file).
    pub fn compiled(list: Vec<Redaction>) -> Redactions {
        Redactions {
            written: &[],
            list: OnceLock::from(list),
        }
    }

    /// `text` with every redaction applied in turn.
    pub fn apply(&self, text: &str) -> String {
        self.list()
            .iter()
            .fold(text.to_string(), |text, redaction| redaction.apply(&text))
    }

    fn list(&self) -> &[Redaction] {
        self.list.get_or_init(|| {
            self.written
                .iter()
                .map(|(pattern, with)| {
                    let pattern = Regex::new(pattern)
                        .unwrap_or_else(|e| panic!("redaction pattern {pattern:?}: {e}"));
                    Redaction::whole(pattern, *with)
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_matches_are_replaced_in_turn_with_their_groups_expanded() {
        static LIST: Redactions = Redactions::new(&[
            (r"\b(nginx)/[0-9.]+", "$1/<version>"),
            (r"<version>", "<v>"),
        ]);
        assert_eq!(
            LIST.apply("Server: nginx/1.22.1, nginx/1.2"),
            "Server: nginx/<v>, nginx/<v>"
        );
    }

    #[test]
    fn a_file_pattern_replaces_its_first_group_word_for_word_or_the_whole_match() {
        let list = Redactions::compiled(vec![
            Redaction::first_group(Regex::new(r"OK \[(\w+)\]").unwrap(), "<$tag>"),
            Redaction::first_group(Regex::new(r"\d{4}").unwrap(), "<year>"),
        ]);
        assert_eq!(
            list.apply("OK [abc] ready OK [de] 2026"),
            "OK [<$tag>] ready OK [<$tag>] <year>"
        );
    }
}
