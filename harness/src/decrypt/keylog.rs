//! The NSS key log format that SSLKEYLOGFILE writes (curl, Python, Firefox, Chrome; OpenSSL's
//! keylog callback): one secret a line, `LABEL <client random hex> <secret hex>`, keyed by the
//! ClientHello's random. TLS 1.2 logs `CLIENT_RANDOM` (the master secret); TLS 1.3 its four
//! traffic secrets. Exporter and early-data secrets are read and set aside; `#` starts a
//! comment. A line that is none of these is an error naming the file, line and column.

use crate::source::SourceError;
use std::collections::HashMap;
use std::path::Path;

/// The most bytes a key log may hold: a busy day's sessions, not an unbounded file.
pub const MAX_KEYLOG_BYTES: u64 = 256 << 20;
/// The longest secret a line may carry (SHA-384's 48 bytes, with room).
const MAX_SECRET: usize = 64;

/// The secrets logged for one TLS session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// TLS 1.2 and earlier: the 48-byte master secret.
    pub master: Option<Vec<u8>>,
    pub client_handshake: Option<Vec<u8>>,
    pub server_handshake: Option<Vec<u8>>,
    pub client_traffic: Option<Vec<u8>>,
    pub server_traffic: Option<Vec<u8>>,
}

/// Where a label's secret goes among a session's secrets.
type Slot = fn(&mut Secrets) -> &mut Option<Vec<u8>>;

/// Every session's secrets in a key log, by client random.
#[derive(Debug, Clone, Default)]
pub struct KeyLog {
    /// What to call the key log in reasons (its file name).
    pub name: String,
    sessions: HashMap<[u8; 32], Secrets>,
}

/// Why a key log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyLogError {
    #[error("cannot read the key log {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("the key log {path} holds over {MAX_KEYLOG_BYTES} bytes")]
    TooLarge { path: String },
    #[error("{0}")]
    Line(Box<SourceError>),
}

impl KeyLog {
    /// Reads and checks the key log at `path`.
    pub fn read(path: &Path) -> Result<KeyLog, KeyLogError> {
        let shown = path.display().to_string();
        let size = std::fs::metadata(path).map_err(|error| KeyLogError::Read {
            path: shown.clone(),
            error,
        })?;
        if size.len() > MAX_KEYLOG_BYTES {
            return Err(KeyLogError::TooLarge { path: shown });
        }
        let bytes = std::fs::read(path).map_err(|error| KeyLogError::Read {
            path: shown.clone(),
            error,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        KeyLog::parse(path, &text).map_err(|e| KeyLogError::Line(Box::new(e)))
    }

    /// Parses key log `text` read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<KeyLog, SourceError> {
        let mut log = KeyLog {
            name: path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            ),
            sessions: HashMap::new(),
        };
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let content = line.trim_end_matches(['\n', '\r']);
            if content.trim().is_empty() || content.trim_start().starts_with('#') {
                continue;
            }
            log.line(content, start)
                .map_err(|(span, what)| SourceError::at(path, text, Some(span), what))?;
        }
        Ok(log)
    }

    /// One line's secret; `Err` has the offending span (offsets into the whole text).
    fn line(&mut self, line: &str, start: usize) -> Result<(), (std::ops::Range<usize>, String)> {
        let fields = fields(line, start);
        let [label, random, secret] = fields.as_slice() else {
            let span = fields
                .get(3)
                .map_or(start..start + line.len(), |f| f.1.clone());
            return Err((
                span,
                format!(
                    "a key log line has three fields, `LABEL CLIENT_RANDOM SECRET`; this one has {}",
                    fields.len()
                ),
            ));
        };
        let slot: Option<Slot> = match label.0 {
            "CLIENT_RANDOM" => Some(|s| &mut s.master),
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET" => Some(|s| &mut s.client_handshake),
            "SERVER_HANDSHAKE_TRAFFIC_SECRET" => Some(|s| &mut s.server_handshake),
            "CLIENT_TRAFFIC_SECRET_0" => Some(|s| &mut s.client_traffic),
            "SERVER_TRAFFIC_SECRET_0" => Some(|s| &mut s.server_traffic),
            // Read for their form, not kept: nothing the harness decrypts needs them.
            "EXPORTER_SECRET" | "EARLY_EXPORTER_SECRET" | "CLIENT_EARLY_TRAFFIC_SECRET" => None,
            other => {
                return Err((
                    label.1.clone(),
                    format!(
                        "`{other}` is not a key log label (expected CLIENT_RANDOM or a TLS 1.3 traffic secret such as CLIENT_TRAFFIC_SECRET_0)"
                    ),
                ));
            }
        };
        let random_bytes = hex_field(random, "client random")?;
        let random: [u8; 32] = random_bytes.as_slice().try_into().map_err(|_| {
            (
                random.1.clone(),
                format!(
                    "a client random is 32 bytes (64 hex digits), not {}",
                    random_bytes.len()
                ),
            )
        })?;
        let secret_bytes = hex_field(secret, "secret")?;
        if secret_bytes.len() < 32 || secret_bytes.len() > MAX_SECRET {
            return Err((
                secret.1.clone(),
                format!(
                    "a secret of {} bytes (expected 32 to {MAX_SECRET})",
                    secret_bytes.len()
                ),
            ));
        }
        if let Some(slot) = slot {
            *slot(self.sessions.entry(random).or_default()) = Some(secret_bytes);
        }
        Ok(())
    }

    /// The secrets logged for the session whose ClientHello carried `client_random`.
    pub fn secrets(&self, client_random: &[u8; 32]) -> Option<&Secrets> {
        self.sessions.get(client_random)
    }

    /// How many sessions the key log has secrets for.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

/// A line's whitespace-separated fields with their spans in the whole text.
fn fields(line: &str, start: usize) -> Vec<(&str, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut at = 0;
    for piece in line.split([' ', '\t']) {
        if !piece.is_empty() {
            out.push((piece, start + at..start + at + piece.len()));
        }
        at += piece.len() + 1;
    }
    out
}

fn hex_field(
    field: &(&str, std::ops::Range<usize>),
    what: &str,
) -> Result<Vec<u8>, (std::ops::Range<usize>, String)> {
    hex::decode(field.0).map_err(|e| {
        let span = match e {
            hex::FromHexError::InvalidHexCharacter { index, .. } => {
                field.1.start + index..field.1.start + index + 1
            }
            _ => field.1.clone(),
        };
        (span, format!("the {what} is not hex: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANDOM: &str = "aa00000000000000000000000000000000000000000000000000000000000001";

    #[test]
    fn reads_both_versions_comments_and_labels_set_aside() {
        let text = format!(
            "# SSL/TLS secrets log file\n\nCLIENT_RANDOM {RANDOM} {}\r\nSERVER_TRAFFIC_SECRET_0 {RANDOM} {}\nEXPORTER_SECRET {RANDOM} {}\n",
            "11".repeat(48),
            "22".repeat(32),
            "33".repeat(32)
        );
        let log = KeyLog::parse(Path::new("keys.log"), &text).unwrap();
        let random: [u8; 32] = hex::decode(RANDOM).unwrap().try_into().unwrap();
        let secrets = log.secrets(&random).unwrap();
        assert_eq!(secrets.master.as_deref(), Some(&[0x11; 48][..]));
        assert_eq!(secrets.server_traffic.as_deref(), Some(&[0x22; 32][..]));
        assert_eq!(secrets.client_traffic, None);
        assert_eq!(log.len(), 1);
    }

    #[test]
    fn a_bad_line_names_its_file_line_and_column() {
        let text = format!(
            "CLIENT_RANDOM {RANDOM} {}\nCLIENT_RANDOM zz {}\n",
            "11".repeat(48),
            "11".repeat(48)
        );
        let e = KeyLog::parse(Path::new("keys.log"), &text).unwrap_err();
        assert_eq!((e.line, e.column), (2, 15), "{e}");
        assert!(e.to_string().contains("keys.log:2:15"), "{e}");
        assert!(e.message.contains("client random is not hex"), "{e}");

        let e = KeyLog::parse(Path::new("k"), "CLIENT_RANDOMS a b\n").unwrap_err();
        assert!(
            e.message
                .contains("`CLIENT_RANDOMS` is not a key log label"),
            "{e}"
        );
        let e = KeyLog::parse(Path::new("k"), &format!("CLIENT_RANDOM {RANDOM}\n")).unwrap_err();
        assert!(e.message.contains("this one has 2"), "{e}");
        let e = KeyLog::parse(
            Path::new("k"),
            &format!("CLIENT_RANDOM {} 00\n", "ab".repeat(31)),
        )
        .unwrap_err();
        assert!(
            e.message.contains("32 bytes (64 hex digits), not 31"),
            "{e}"
        );
        let e = KeyLog::parse(Path::new("k"), &format!("CLIENT_RANDOM {RANDOM} 1\n")).unwrap_err();
        assert_eq!(e.column, 80, "{e}");
    }
}
