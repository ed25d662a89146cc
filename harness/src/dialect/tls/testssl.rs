//! testssl.sh's client simulation file (`etc/client-simulation.txt`): a bash script of
//! `key+=(value)` lines, one block per client starting at `names+=`. Each block becomes one
//! case: the client's recorded ClientHello and the constraints testssl.sh and SSL Labs give it.
//! Blocks are read as blocks, not as bash's parallel arrays: a key missing or misspelt in one
//! client's block shifts nothing in the clients after it. The file's one misspelling,
//! `requireseha2+=` (Java 17.0.3's block), is read as the `requiresSha2` it means, with a
//! warning.

use super::hello;
use super::names;
use crate::source::closest;
use std::collections::BTreeMap;

/// The keys a client block may hold (testssl.sh 3.2 renamed `ciphers` and `sni` to
/// `ch_ciphers` and `ch_sni`).
const KEYS: &[&str] = &[
    "names",
    "short",
    "ciphers",
    "ch_ciphers",
    "ciphersuites",
    "sni",
    "ch_sni",
    "warning",
    "handshakebytes",
    "protos",
    "tlsvers",
    "lowest_protocol",
    "highest_protocol",
    "alpn",
    "service",
    "minDhBits",
    "maxDhBits",
    "minRsaBits",
    "maxRsaBits",
    "minEcdsaBits",
    "curves",
    "requiresSha2",
    "current",
];

/// One simulated client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The line its block starts on.
    pub line: usize,
    pub fields: BTreeMap<String, String>,
}

impl Client {
    fn get(&self, key: &str) -> &str {
        self.fields.get(key).map_or("", String::as_str)
    }

    pub fn name(&self) -> &str {
        self.get("names").trim()
    }

    pub fn short(&self) -> &str {
        self.get("short").trim()
    }

    /// Whether testssl.sh runs it by default (its "current" clients).
    pub fn current(&self) -> bool {
        self.get("current") == "true"
    }

    /// The case file for this client, or why it cannot have one.
    pub fn case_file(&self, source: &str) -> Result<String, String> {
        let short = self.short();
        if short.is_empty()
            || !short
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(format!("its short name `{short}` cannot name a file"));
        }
        let hex_hello = self.get("handshakebytes").trim().to_ascii_lowercase();
        if hex_hello.is_empty() {
            return Err(
                "it has no handshakebytes (testssl.sh simulates it with openssl s_client)".into(),
            );
        }
        let bytes =
            hex::decode(&hex_hello).map_err(|e| format!("its handshakebytes are not hex: {e}"))?;
        if hello::offer(&bytes).is_none() {
            return Err("its handshakebytes are not a ClientHello record".into());
        }
        let mut text = format!(
            "# {}, imported by `harness import --from testssl` from {source} (its block at line {}).\n",
            self.name(),
            self.line
        );
        text.push_str(&format!("name = {}\n", quoted(self.name())));
        text.push_str(&format!(
            "description = {}\n\n",
            quoted(&format!(
                "testssl.sh client simulation `{short}`{}",
                if self.current() {
                    ", one testssl.sh runs by default"
                } else {
                    ""
                }
            ))
        ));
        text.push_str("# The recorded ClientHello, its server name (if any) sent as {host}.\n");
        text.push_str(&format!("[[step]]\nsend = \"replay {hex_hello}\"\n\n"));
        text.push_str("# What the client refuses past the ServerHello.\n[variables]\n");
        for (variable, value) in self.constraints() {
            text.push_str(&format!("{variable} = {}\n", quoted(&value)));
        }
        text.push_str(&format!("current = \"{}\"\n", self.current()));
        Ok(text)
    }

    /// The constraints as case variables; testssl.sh's `-1` (no limit) is left out.
    fn constraints(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (key, variable) in [
            ("minDhBits", "min_dh_bits"),
            ("maxDhBits", "max_dh_bits"),
            ("minRsaBits", "min_rsa_bits"),
            ("maxRsaBits", "max_rsa_bits"),
            ("minEcdsaBits", "min_ecdsa_bits"),
        ] {
            let value = self.get(key).trim();
            if !value.is_empty() && value != "-1" {
                out.push((variable, value.to_string()));
            }
        }
        if self.get("requiresSha2").trim() == "true" {
            out.push(("requires_sha2", "true".to_string()));
        }
        let curves: Vec<&str> = self
            .get("curves")
            .split(':')
            .map(str::trim)
            .filter(|c| !c.is_empty() && names::group_code(c).is_some())
            .collect();
        if !curves.is_empty() && self.unknown_curves().is_empty() {
            out.push(("curves", curves.join(":")));
        }
        let lowest = self.get("lowest_protocol").trim().trim_start_matches("0x");
        match u16::from_str_radix(lowest, 16) {
            // testssl.sh writes SSLv2 as 0x0200.
            Ok(0x0200) => out.push(("lowest_version", "SSLv2".to_string())),
            Ok(version @ 0x0300..=0x0304) => {
                out.push(("lowest_version", names::version_name(version)))
            }
            _ => {}
        }
        out
    }

    /// Curve names IANA's registry does not know. A list with one is left out whole: left
    /// in without it, a server choosing that curve (which the hello offers) would wrongly
    /// lock the client out.
    pub fn unknown_curves(&self) -> Vec<&str> {
        self.get("curves")
            .split(':')
            .map(str::trim)
            .filter(|c| !c.is_empty() && names::group_code(c).is_none())
            .collect()
    }
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Something in the file that is not right but loses no client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// What a misspelt key in testssl.sh's own file means.
const ALIASES: &[(&str, &str)] = &[("requireseha2", "requiresSha2")];

/// Reads the whole file: its clients in order, and what was odd about it.
pub fn parse(text: &str) -> Result<(Vec<Client>, Vec<Warning>), SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut clients: Vec<Client> = Vec::new();
    let mut warnings = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let indent = raw.len() - raw.trim_start().len();
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let error = |column: usize, message: String| SyntaxError {
            line,
            column: column + 1,
            message,
        };
        let Some((key, rest)) = trimmed.split_once("+=(") else {
            return Err(error(indent, "expected `key+=(value)`".to_string()));
        };
        let value_at = indent + key.len() + 3;
        let Some(close) = closing_paren(rest) else {
            return Err(error(
                indent + trimmed.len(),
                "expected `)` at the end of the value".into(),
            ));
        };
        let after = rest[close + 1..].trim();
        if !after.is_empty() && !after.starts_with('#') {
            return Err(error(
                value_at + close + 1,
                format!("unexpected `{after}` after the value"),
            ));
        }
        let value = unquote(rest[..close].trim())
            .ok_or_else(|| error(value_at, "a quoted value without its closing quote".into()))?;
        let warn = |warnings: &mut Vec<Warning>, message: String| {
            warnings.push(Warning {
                line,
                column: indent + 1,
                message,
            })
        };
        let key = match ALIASES.iter().find(|(misspelt, _)| *misspelt == key) {
            Some((misspelt, meant)) => {
                warn(&mut warnings, format!("`{misspelt}` read as `{meant}`"));
                *meant
            }
            None => key,
        };
        if key == "names" {
            clients.push(Client {
                line,
                fields: BTreeMap::new(),
            });
        }
        if !KEYS.contains(&key) {
            let meant = closest(key, KEYS.iter().copied())
                .map_or(String::new(), |m| format!(" (did you mean `{m}`?)"));
            warn(
                &mut warnings,
                format!("unknown key `{key}`{meant}: left out"),
            );
            continue;
        }
        let Some(client) = clients.last_mut() else {
            warn(
                &mut warnings,
                format!("`{key}` before any client's `names+=`: left out"),
            );
            continue;
        };
        if client
            .fields
            .insert(key.to_string(), value.to_string())
            .is_some()
        {
            // Two clients' values would be mixed into one case.
            return Err(error(
                indent,
                format!(
                    "`{key}` a second time in the client block from line {}: is a `names+=` line missing?",
                    client.line
                ),
            ));
        }
    }
    Ok((clients, warnings))
}

/// Where the value's closing `)` is: the first one outside quotes.
fn closing_paren(rest: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ')') => return Some(i),
            _ => {}
        }
    }
    None
}

/// A bash word without its quotes; `None` for an unclosed quote.
fn unquote(value: &str) -> Option<&str> {
    match value.chars().next() {
        Some(q @ ('"' | '\'')) => value[1..].strip_suffix(q),
        _ => Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written for these tests in the file's format: two clients, the second with a misspelt
    /// key and a value the first leaves at -1.
    const FILE: &str = r#"# client handshakes
     names+=("Old Client 1.0")
     short+=("old_10")
     ciphers+=("AES128-SHA")
     sni+=("")
     handshakebytes+=("160301002d010000290301000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f000002002f0100")
     lowest_protocol+=("0x0300")
     highest_protocol+=("0x0301")
     minDhBits+=(-1)
     maxDhBits+=(1024)
     minRsaBits+=(-1)
     maxRsaBits+=(-1)
     minEcdsaBits+=(-1)
     curves+=("")
     requiresSha2+=(false)
     current+=(false)

     names+=("New Client 2")
     short+=("new_2")
     handshakebytes+=("")
     minDhBits+=(2048)
     requireseha2+=(true)
     curves+=("prime256v1:secp384r1:nosuchcurve")
     current+=(true)
"#;

    #[test]
    fn blocks_are_clients_and_odd_keys_shift_nothing() {
        let (clients, warnings) = parse(FILE).unwrap();
        assert_eq!(clients.len(), 2);
        assert_eq!(clients[0].short(), "old_10");
        assert_eq!(clients[0].line, 2);
        assert_eq!(clients[1].name(), "New Client 2");
        assert!(clients[1].current());
        assert_eq!(warnings.len(), 1);
        assert_eq!((warnings[0].line, warnings[0].column), (22, 6));
        assert_eq!(warnings[0].message, "`requireseha2` read as `requiresSha2`");
        assert_eq!(clients[1].get("requiresSha2"), "true");
    }

    #[test]
    fn a_client_becomes_a_case_with_its_hello_and_constraints() {
        let (clients, _) = parse(FILE).unwrap();
        let case = clients[0].case_file("client-simulation.txt").unwrap();
        assert!(case.contains("name = \"Old Client 1.0\""), "{case}");
        assert!(case.contains("send = \"replay 160301002d"), "{case}");
        assert!(case.contains("max_dh_bits = \"1024\""), "{case}");
        assert!(!case.contains("min_dh_bits"), "-1 is no limit: {case}");
        assert!(case.contains("lowest_version = \"SSLv3\""), "{case}");
        assert!(case.contains("current = \"false\""), "{case}");
        let e = clients[1].case_file("f").unwrap_err();
        assert!(e.contains("no handshakebytes"), "{e}");
        let constraints = clients[1].constraints();
        assert!(
            !constraints.iter().any(|(k, _)| *k == "curves"),
            "nosuchcurve: {constraints:?}"
        );
        assert!(constraints.contains(&("min_dh_bits", "2048".to_string())));
    }

    #[test]
    fn a_broken_line_names_its_line_and_column() {
        let e = parse("names+=(\"a\")\n  short+=(\"b\"\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 14));
        let e = parse("names+=(\"a)\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 12), "the quote never closes");
        let e = parse("  echo hello\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 3));
        let e = parse("names+=(\"a\") junk\n").unwrap_err();
        assert_eq!(
            (e.line, e.column, e.message.as_str()),
            (1, 13, "unexpected `junk` after the value")
        );
    }

    #[test]
    fn a_second_value_for_a_key_is_a_missing_block_start_not_a_silent_merge() {
        let e =
            parse("names+=(\"A\")\nshort+=(\"a\")\nnames +=(\"B\")\nshort+=(\"b\")\n").unwrap_err();
        assert_eq!((e.line, e.column), (4, 1));
        assert!(
            e.message.contains("is a `names+=` line missing?"),
            "{}",
            e.message
        );
    }

    #[test]
    fn bash_spellings_of_a_value_read_alike() {
        let text = "\u{feff}names+=( \"A\" )  # a comment\nshort+=('a_1')\ncurrent+=(true)\n";
        let (clients, warnings) = parse(text).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!((clients[0].name(), clients[0].short()), ("A", "a_1"));
        assert!(clients[0].current());
        let (clients, warnings) =
            parse("names+=(\"A\")\nch_ciphers+=(\"X\")\nch_sni+=(\"\")\n").unwrap();
        assert!(warnings.is_empty(), "testssl.sh 3.2's keys: {warnings:?}");
        assert_eq!(clients.len(), 1);
    }

    #[test]
    fn a_curve_list_with_a_name_iana_lacks_is_left_out_whole() {
        let (clients, _) = parse("names+=(\"A\")\ncurves+=(\"prime256v1:brainpoolP999r1\")\nlowest_protocol+=(\"0x0200\")\n").unwrap();
        assert_eq!(clients[0].unknown_curves(), ["brainpoolP999r1"]);
        let constraints = clients[0].constraints();
        assert!(
            !constraints.iter().any(|(k, _)| *k == "curves"),
            "{constraints:?}"
        );
        assert!(constraints.contains(&("lowest_version", "SSLv2".to_string())));
    }
}
