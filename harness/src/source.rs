//! Errors located in a source file, printed like rustc: `--> file:line:column`, the line, a caret.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// An error in a suite, case or policy file, pointing at the offending text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub path: PathBuf,
    /// 1-based line and column (in characters) of the start of the offending text.
    pub line: usize,
    pub column: usize,
    pub message: String,
    source_line: String,
    caret_len: usize,
    help: Option<String>,
}

impl SourceError {
    /// An error at `span` (byte offsets into `text`), or at the start of the file without one.
    pub fn at(
        path: &Path,
        text: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> SourceError {
        let span = span.unwrap_or(0..0);
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let source_line = text[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let line = text[..start].matches('\n').count() + 1;
        let column = text[line_start..start].chars().count() + 1;
        let end = floor_char_boundary(text, span.end.clamp(start, line_end));
        let caret_len = text[start..end].chars().count().max(1);
        SourceError {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
            source_line,
            caret_len,
            help: None,
        }
    }

    /// Adds a one-line suggestion printed under the caret.
    pub fn with_help(mut self, help: impl Into<String>) -> SourceError {
        self.help = Some(help.into());
        self
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while index > 0 && !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gutter = " ".repeat(self.line.to_string().len());
        writeln!(f, "{}", self.message)?;
        writeln!(
            f,
            "{gutter}--> {}:{}:{}",
            self.path.display(),
            self.line,
            self.column
        )?;
        writeln!(f, "{gutter} |")?;
        writeln!(f, "{} | {}", self.line, self.source_line)?;
        let pad: String = self
            .source_line
            .chars()
            .take(self.column - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "{gutter} | {pad}{}", "^".repeat(self.caret_len))?;
        if let Some(help) = &self.help {
            write!(f, "\n{gutter} = help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SourceError {}

/// Turns a TOML deserialisation error into a located one, suggesting the field meant when a
/// field name is misspelt.
pub fn from_toml(path: &Path, text: &str, err: &toml::de::Error) -> SourceError {
    let message = err.message().trim_end().to_string();
    let suggestion = did_you_mean(&message);
    let error = SourceError::at(path, text, err.span(), message);
    match suggestion {
        Some(field) => error.with_help(format!("did you mean `{field}`?")),
        None => error,
    }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`": the closest expected field.
fn did_you_mean(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, expected) = rest.split_once('`')?;
    closest(unknown, expected.split('`').skip(1).step_by(2)).map(str::to_string)
}

/// The candidate within two edits of `word`, the nearest first: what a typo probably meant.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_line_and_column() {
        let text = "name = \"x\"\n[[step]]\nsned = \"VER\"\n";
        let start = text.find("sned").unwrap();
        let err = SourceError::at(
            Path::new("c.toml"),
            text,
            Some(start..start + 4),
            "unknown field `sned`",
        )
        .with_help("did you mean `send`?");
        assert_eq!((err.line, err.column), (3, 1));
        assert_eq!(
            err.to_string(),
            "unknown field `sned`\n --> c.toml:3:1\n  |\n3 | sned = \"VER\"\n  | ^^^^\n  = help: did you mean `send`?"
        );
    }

    #[test]
    fn suggests_the_field_meant() {
        let message = "unknown field `expcet`, expected one of `send`, `body`, `expect`, `capture`";
        assert_eq!(did_you_mean(message).as_deref(), Some("expect"));
        assert_eq!(
            did_you_mean("unknown field `zzzzzz`, expected `send`"),
            None
        );
        assert_eq!(edit_distance("sned", "send"), 2);
    }

    #[test]
    fn survives_spans_past_the_end_and_inside_characters() {
        let text = "a = \"é\"";
        let err = SourceError::at(Path::new("x"), text, Some(6..100), "bad");
        assert_eq!(err.line, 1);
        assert!(err.to_string().contains("x:1:"));
    }
}
