//! Text from a server or a recording made safe to print: control characters (a terminal's
//! escape sequences, line breaks inside one line) and bidirectional overrides shown escaped,
//! and a hostile length cut with a note of what was cut.

use std::borrow::Cow;

/// The bytes as text, when they are UTF-8 with no control characters but line breaks and tabs.
pub fn as_text(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok().filter(|text| {
        text.chars()
            .all(|c| !c.is_control() || matches!(c, '\r' | '\n' | '\t'))
    })
}

/// Whether `c` must not reach a terminal or a one-line field as it is: C0 and C1 controls,
/// DEL, and the bidirectional embeddings, overrides and isolates that reorder what is shown.
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character written as its Rust escape (`\u{1b}`, `\n`).
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` cut to at most `max` bytes (at a character boundary), ending `… N bytes more` when
/// it was cut.
pub fn cap(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}… {} bytes more", &text[..end], text.len() - end))
}

/// Escaped, then capped: what a one-line field of a report may hold. Text that is already
/// safe and short enough is handed back as it is, with no copy (every verdict passes here).
pub fn field(text: String, max: usize) -> String {
    if text.len() <= max && !text.chars().any(unsafe_char) {
        return text;
    }
    cap(&escape_controls(&text), max).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_and_line_breaks_are_shown_not_obeyed() {
        assert_eq!(
            escape_controls("a\u{1b}]0;TITLE\u{7}\u{1b}[2Jb\r\nc"),
            "a\\u{1b}]0;TITLE\\u{7}\\u{1b}[2Jb\\r\\nc"
        );
        assert_eq!(escape_controls("\u{9b}31m"), "\\u{9b}31m", "C1 CSI too");
        assert_eq!(escape_controls("ab\u{202e}cd"), "ab\\u{202e}cd");
        assert!(matches!(escape_controls("plain ünïcode"), Cow::Borrowed(_)));
    }

    #[test]
    fn long_text_is_cut_at_a_character_with_what_was_cut() {
        assert_eq!(cap("short", 10), "short");
        assert_eq!(cap("aaaaaaaaaa", 4), "aaaa… 6 bytes more");
        assert_eq!(cap("ééé", 3), "é… 4 bytes more", "never inside a character");
        assert_eq!(
            field("\u{1b}".repeat(100), 12),
            "\\u{1b}\\u{1b}… 588 bytes more"
        );
    }
}
