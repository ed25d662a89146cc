//! testssl.sh's client simulation file (`etc/client-simulation.txt`): a bash script of
//! `key+=(value)` lines, one block per client starting at `names+=`. Each block becomes one
//! case: the client's recorded ClientHello and the constraints testssl.sh and SSL Labs give it.
//! Blocks are read as blocks, not as bash's parallel arrays: a key missing or misspelt in one
//! client's block shifts nothing in the clients after it. The file's one misspelling,
//! `requireseha2+=` (Java 17.0.3's block), is read as the `requiresSha2` it means, with a
//! warning.

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
    /// The column its `names+=` starts at.
    pub column: usize,
    pub fields: BTreeMap<String, Field>,
}

/// One value of a client's block, and where it is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Without its quotes.
    pub value: String,
    /// 1-based line and column (in characters) of the value's first character.
    pub line: usize,
    pub column: usize,
}

/// A client's case file, and which of the client's values each of its lines holds, so that
/// what the case loader says of a line can be said of the value in the client file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseText {
    pub text: String,
    /// By line of `text`, from 0.
    origins: Vec<Option<Origin>>,
}

/// Where a case file line took its value from: `key`'s value, from its character `from` on,
/// written from column `column` (1-based) of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Origin {
    key: &'static str,
    column: usize,
    from: usize,
}

impl CaseText {
    /// Appends `chunk`, whose first line holds `origin`'s value.
    fn push(&mut self, chunk: String, origin: Option<Origin>) {
        for index in 0..chunk.matches('\n').count() {
            self.origins.push(if index == 0 { origin } else { None });
        }
        self.text.push_str(&chunk);
    }
}

/// A place in the client file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The key whose value is there; `names` for the client's block as a whole.
    pub key: &'static str,
    pub line: usize,
    pub column: usize,
}

impl Client {
    fn get(&self, key: &str) -> &str {
        self.fields.get(key).map_or("", |f| f.value.as_str())
    }

    /// Where `key`'s value is, or the start of the block when the block has none.
    pub fn place(&self, key: &'static str) -> Place {
        match self.fields.get(key) {
            Some(field) => Place {
                key,
                line: field.line,
                column: field.column,
            },
            None => self.block(),
        }
    }

    /// Where the block starts: its `names+=`.
    fn block(&self) -> Place {
        Place {
            key: "names",
            line: self.line,
            column: self.column,
        }
    }

    /// The place in the client file of what is at `line` and `column` (1-based) of the case
    /// file [`case_file`](Client::case_file) wrote: in the value that line holds (at the
    /// column's character where the line copies it verbatim), else the block's start.
    pub fn place_in(&self, case: &CaseText, line: usize, column: usize) -> Place {
        let origin = line
            .checked_sub(1)
            .and_then(|index| case.origins.get(index).copied().flatten());
        let Some(origin) = origin else {
            return self.block();
        };
        let mut place = self.place(origin.key);
        if place.key == origin.key {
            place.column += origin.from + column.saturating_sub(origin.column);
        }
        place
    }

    pub fn name(&self) -> &str {
        self.get("names").trim()
    }

    pub fn short(&self) -> &str {
        self.get("short").trim()
    }

    /// Whether testssl.sh runs it by default (its "current" clients).
    pub fn current(&self) -> bool {
        self.get("current").trim() == "true"
    }

    /// [`current`](Client::current), or where the block gives it as neither `true` nor
    /// `false` (nor leaves it out).
    pub fn current_value(&self) -> Result<bool, (Place, String)> {
        match self.get("current").trim() {
            "true" => Ok(true),
            "" | "false" => Ok(false),
            other => Err((
                self.place("current"),
                format!("`{other}` is not true or false"),
            )),
        }
    }

    /// The case file for this client, or why it has none (no recorded hello). The file is
    /// not checked here: the importer has the case loader check it, as `harness check` would.
    pub fn case_file(&self, source: &str) -> Result<CaseText, String> {
        let short = self.short();
        let raw_hello = self.get("handshakebytes");
        let hex_hello = raw_hello.trim().to_ascii_lowercase();
        if hex_hello.is_empty() {
            return Err(
                "it has no handshakebytes (testssl.sh simulates it with openssl s_client)".into(),
            );
        }
        let mut case = CaseText {
            text: String::new(),
            origins: Vec::new(),
        };
        let whole = |key| {
            Some(Origin {
                key,
                column: 1,
                from: 0,
            })
        };
        case.push(
            format!(
                "# {}, imported by `harness import --from testssl` from {source} (its block at line {}).\n",
                self.name(),
                self.line
            ),
            None,
        );
        case.push(format!("name = {}\n", quoted(self.name())), whole("names"));
        case.push(
            format!(
                "description = {}\n\n",
                quoted(&format!(
                    "testssl.sh client simulation `{short}`{}",
                    if self.current() {
                        ", one testssl.sh runs by default"
                    } else {
                        ""
                    }
                ))
            ),
            None,
        );
        case.push(
            "# The recorded ClientHello, its server name (if any) sent as {host}.\n".into(),
            None,
        );
        case.push("[[step]]\n".into(), None);
        const REPLAY: &str = "send = \"replay ";
        case.push(
            format!("{REPLAY}{hex_hello}\"\n\n"),
            Some(Origin {
                key: "handshakebytes",
                column: REPLAY.len() + 1,
                from: raw_hello.chars().take_while(|c| c.is_whitespace()).count(),
            }),
        );
        case.push(
            "# What the client refuses past the ServerHello.\n[variables]\n".into(),
            None,
        );
        for (key, variable, value) in self.constraints() {
            case.push(format!("{variable} = {}\n", quoted(&value)), whole(key));
        }
        case.push(
            format!("current = \"{}\"\n", self.current()),
            whole("current"),
        );
        Ok(case)
    }

    /// The constraints as case variables, each with the key it is read from; testssl.sh's
    /// `-1` (no limit) is left out. Values are written as the file gives them (but for the
    /// protocol codes testssl.sh writes, which become version names): the case loader judges
    /// them.
    fn constraints(&self) -> Vec<(&'static str, &'static str, String)> {
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
                out.push((key, variable, value.to_string()));
            }
        }
        match self.get("requiresSha2").trim() {
            "" | "false" => {}
            value => out.push(("requiresSha2", "requires_sha2", value.to_string())),
        }
        let curves: Vec<&str> = self
            .get("curves")
            .split(':')
            .map(str::trim)
            .filter(|c| !c.is_empty() && names::group_code(c).is_some())
            .collect();
        if !curves.is_empty() && self.unknown_curves().is_empty() {
            out.push(("curves", "curves", curves.join(":")));
        }
        let lowest = self.get("lowest_protocol").trim();
        let version = match u16::from_str_radix(lowest.trim_start_matches("0x"), 16) {
            _ if lowest.is_empty() => None,
            // testssl.sh writes SSLv2 as 0x0200.
            Ok(0x0200) => Some("SSLv2".to_string()),
            Ok(version @ 0x0300..=0x0304) => Some(names::version_name(version)),
            _ => Some(lowest.to_string()),
        };
        if let Some(version) = version {
            out.push(("lowest_protocol", "lowest_version", version));
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
        let written = rest[..close].trim();
        let value = unquote(written)
            .ok_or_else(|| error(value_at, "a quoted value without its closing quote".into()))?;
        // The value's first character: past the spaces after `(` and an opening quote.
        let value_start = value_at
            + (rest.len() - rest.trim_start().len())
            + usize::from(written.len() != value.len());
        let field = Field {
            value: value.to_string(),
            line,
            column: raw[..value_start].chars().count() + 1,
        };
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
                column: raw[..indent].chars().count() + 1,
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
        if client.fields.insert(key.to_string(), field).is_some() {
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
        let case = clients[0].case_file("client-simulation.txt").unwrap().text;
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
            !constraints.iter().any(|(_, v, _)| *v == "curves"),
            "nosuchcurve: {constraints:?}"
        );
        assert!(constraints.contains(&("minDhBits", "min_dh_bits", "2048".to_string())));
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
            !constraints.iter().any(|(_, v, _)| *v == "curves"),
            "{constraints:?}"
        );
        assert!(constraints.contains(&("lowest_protocol", "lowest_version", "SSLv2".to_string())));
    }

    #[test]
    fn each_value_knows_its_line_and_column() {
        let text = "names+=(\"A\")\n   short+=( 'a_1' )\n\tminDhBits+=(abc)\ncurrent+=(\"\")\n";
        let (clients, _) = parse(text).unwrap();
        let at = |key| {
            let place = clients[0].place(key);
            (place.key, place.line, place.column)
        };
        assert_eq!(at("names"), ("names", 1, 10));
        assert_eq!(at("short"), ("short", 2, 14));
        assert_eq!(at("minDhBits"), ("minDhBits", 3, 14), "a tab is one column");
        assert_eq!(
            at("current"),
            ("current", 4, 12),
            "an empty value: past its quote"
        );
        assert_eq!(at("curves"), ("names", 1, 1), "absent: the block's start");
    }

    #[test]
    fn a_place_in_the_case_file_is_the_place_of_the_value_it_holds() {
        let text = "  names+=(\"A\")\n  short+=(\"a\")\n  handshakebytes+=(\" 16030100zz\")\n  maxRsaBits+=(x)\n";
        let (clients, _) = parse(text).unwrap();
        let client = &clients[0];
        let case = client.case_file("f").unwrap();
        let find = |needle: &str| {
            let (index, line) = case
                .text
                .lines()
                .enumerate()
                .find(|(_, l)| l.contains(needle))
                .unwrap();
            (index + 1, line.find(needle).unwrap() + 1)
        };
        // The `z` in the hello: copied verbatim, so the column within it carries over.
        let (line, column) = find("zz");
        let place = client.place_in(&case, line, column);
        assert_eq!(
            (place.key, place.line, place.column),
            ("handshakebytes", 3, 30)
        );
        // A variable's name: the value it was written from.
        let (line, column) = find("max_rsa_bits");
        let place = client.place_in(&case, line, column);
        assert_eq!((place.key, place.line, place.column), ("maxRsaBits", 4, 16));
        // A line no value wrote: the block.
        let place = client.place_in(&case, 1, 1);
        assert_eq!((place.key, place.line, place.column), ("names", 1, 3));
    }
}
