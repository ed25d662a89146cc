//! Step templates: text with `{name}` placeholders (`{{` and `}}` for literal braces).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable { name: String, offset: usize },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// A template syntax error at a byte offset into the template text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let (name, close) = placeholder(text, i)?;
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Variable {
                        name: name.to_string(),
                        offset: i,
                    });
                    while chars.peek().is_some_and(|&(j, _)| j <= i + close) {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(TemplateError {
                        offset: i,
                        len: 1,
                        message: "unmatched `}`: write `}}` for a literal brace".to_string(),
                    });
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template { parts })
    }

    /// Each variable the template uses, with its byte offset in the template text.
    pub fn variables(&self) -> impl Iterator<Item = (&str, usize)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable { name, offset } => Some((name.as_str(), *offset)),
            Part::Literal(_) => None,
        })
    }

    /// Fills the placeholders; `Err(name)` names the first variable with no value.
    pub fn expand(&self, values: &BTreeMap<String, String>) -> Result<String, String> {
        self.expand_with(|name| values.get(name).map(String::as_str))
    }

    /// Fills the placeholders from `lookup` (a dialect adds its own variables to the case's).
    pub fn expand_with<'v>(
        &self,
        lookup: impl Fn(&str) -> Option<&'v str>,
    ) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Variable { name, .. } => {
                    out.push_str(lookup(name).ok_or_else(|| name.clone())?);
                }
            }
        }
        Ok(out)
    }

    /// The literal text before the first variable.
    pub fn literal_prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Literal(text)) => text,
            _ => "",
        }
    }
}

/// The `{name}` placeholder opening at byte `at` of `text`: its name and the offset of its
/// `}` from `at`.
pub fn placeholder(text: &str, at: usize) -> Result<(&str, usize), TemplateError> {
    let close = text[at..].find('}').ok_or_else(|| TemplateError {
        offset: at,
        len: 1,
        message: "unclosed `{`: write `{{` for a literal brace".to_string(),
    })?;
    let name = &text[at + 1..at + close];
    if !is_identifier(name) {
        return Err(TemplateError {
            offset: at,
            len: close + 1,
            message: format!("`{{{name}}}` is not a variable name (letters, digits, `_`)"),
        });
    }
    Ok((name, close))
}

pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_variables_and_escapes() {
        let t = Template::parse("LOGIN {n} AS {user} {{x}}").unwrap();
        let values = BTreeMap::from([
            ("n".to_string(), "3".to_string()),
            ("user".to_string(), "a@b.c".to_string()),
        ]);
        assert_eq!(t.expand(&values).unwrap(), "LOGIN 3 AS a@b.c {x}");
        assert_eq!(t.variables().collect::<Vec<_>>(), [("n", 6), ("user", 13)]);
        assert_eq!(t.literal_prefix(), "LOGIN ");
    }

    #[test]
    fn reports_missing_values_and_bad_syntax() {
        let t = Template::parse("{nope}").unwrap();
        assert_eq!(t.expand(&BTreeMap::new()), Err("nope".to_string()));
        assert_eq!(Template::parse("VER {n").unwrap_err().offset, 4);
        assert_eq!(Template::parse("a } b").unwrap_err().offset, 2);
        assert!(
            Template::parse("{1x}")
                .unwrap_err()
                .message
                .contains("not a variable name")
        );
    }
}
