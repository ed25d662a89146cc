//! Byte templates: binary steps written as hex (`16 03 01 {len} ...`), whitespace ignored,
//! with `{name}` placeholders filled with the variable's text.

use super::TemplateError;
use super::text::placeholder;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Bytes(Vec<u8>),
    Variable { name: String, offset: usize },
}

/// A parsed byte template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteTemplate {
    parts: Vec<Part>,
}

impl ByteTemplate {
    pub fn parse(text: &str) -> Result<ByteTemplate, TemplateError> {
        let mut parts = Vec::new();
        let mut bytes = Vec::new();
        let mut high: Option<(usize, u8)> = None;
        let mut chars = text.char_indices();
        while let Some((i, c)) = chars.next() {
            if c.is_whitespace() {
                continue;
            }
            if c == '{' {
                if let Some((at, _)) = high {
                    return Err(odd_digit(at));
                }
                let (name, close) = placeholder(text, i)?;
                if !bytes.is_empty() {
                    parts.push(Part::Bytes(std::mem::take(&mut bytes)));
                }
                parts.push(Part::Variable {
                    name: name.to_string(),
                    offset: i,
                });
                for _ in 0..close {
                    chars.next();
                }
                continue;
            }
            let Some(digit) = c.to_digit(16) else {
                return Err(TemplateError {
                    offset: i,
                    len: c.len_utf8(),
                    message: format!("`{c}` is not a hex digit"),
                });
            };
            match high.take() {
                Some((_, h)) => bytes.push(h << 4 | digit as u8),
                None => high = Some((i, digit as u8)),
            }
        }
        if let Some((at, _)) = high {
            return Err(odd_digit(at));
        }
        if !bytes.is_empty() {
            parts.push(Part::Bytes(bytes));
        }
        Ok(ByteTemplate { parts })
    }

    /// Each variable the template uses, with its byte offset in the template text.
    pub fn variables(&self) -> impl Iterator<Item = (&str, usize)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable { name, offset } => Some((name.as_str(), *offset)),
            Part::Bytes(_) => None,
        })
    }

    /// The bytes, variables filled with their text; `Err(name)` names one with no value.
    pub fn expand(&self, values: &BTreeMap<String, String>) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        for part in &self.parts {
            match part {
                Part::Bytes(bytes) => out.extend_from_slice(bytes),
                Part::Variable { name, .. } => {
                    out.extend_from_slice(values.get(name).ok_or_else(|| name.clone())?.as_bytes());
                }
            }
        }
        Ok(out)
    }
}

fn odd_digit(at: usize) -> TemplateError {
    TemplateError {
        offset: at,
        len: 1,
        message: "an odd number of hex digits: each byte is two".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_with_variables_and_spaces() {
        let t = ByteTemplate::parse("16 03 01 {host} ff").unwrap();
        let values = BTreeMap::from([("host".to_string(), "ab".to_string())]);
        assert_eq!(t.expand(&values).unwrap(), b"\x16\x03\x01ab\xff");
        assert_eq!(t.variables().collect::<Vec<_>>(), [("host", 9)]);
    }

    #[test]
    fn bad_digits_point_at_themselves() {
        assert_eq!(ByteTemplate::parse("16 0g").unwrap_err().offset, 4);
        assert_eq!(ByteTemplate::parse("16 0").unwrap_err().offset, 3);
        assert_eq!(ByteTemplate::parse("16 {x").unwrap_err().offset, 3);
        assert!(ByteTemplate::parse("1 {x}").is_err());
    }
}
