//! A case's transcript: every chunk of bytes each way with its time offset, capped in size so
//! a server streaming endless bytes cannot exhaust memory.

use crate::direction::Direction;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub direction: Direction,
    /// Time since the connection attempt started.
    #[serde(
        rename = "at_ms",
        serialize_with = "millis",
        deserialize_with = "from_millis"
    )]
    pub at: Duration,
    #[serde(flatten)]
    pub data: Data,
}

/// Bytes shown as text when they are printable, otherwise as hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Data {
    Text(String),
    Hex(String),
}

impl Data {
    pub fn from_bytes(bytes: &[u8]) -> Data {
        match crate::printable::as_text(bytes) {
            Some(text) => Data::Text(text.to_string()),
            None => Data::Hex(hex::encode(bytes)),
        }
    }

    /// How many bytes of the wire this holds.
    pub fn byte_len(&self) -> usize {
        match self {
            Data::Text(text) => text.len(),
            Data::Hex(hex) => hex.len() / 2,
        }
    }
}

/// Milliseconds read from a file as a duration: negative, infinite or absurd values are
/// clamped, never a panic.
pub fn millis_to_duration(ms: f64) -> Duration {
    Duration::try_from_secs_f64(ms / 1e3).unwrap_or(if ms > 0.0 {
        Duration::MAX
    } else {
        Duration::ZERO
    })
}

fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3)
}

fn from_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let ms = f64::deserialize(d)?;
    Ok(crate::runner::transcript::millis_to_duration(ms))
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Transcript {
    pub entries: Vec<Entry>,
    /// Bytes that crossed the wire but were not kept, past the cap.
    pub dropped_bytes: u64,
    #[serde(skip)]
    kept_bytes: usize,
    #[serde(skip)]
    limit: usize,
}

impl Transcript {
    pub fn new(limit: usize) -> Transcript {
        Transcript {
            limit,
            ..Transcript::default()
        }
    }

    pub fn push(&mut self, direction: Direction, at: Duration, bytes: &[u8]) {
        let room = self.limit.saturating_sub(self.kept_bytes);
        let kept = &bytes[..bytes.len().min(room)];
        self.dropped_bytes += (bytes.len() - kept.len()) as u64;
        if kept.is_empty() {
            return;
        }
        self.kept_bytes += kept.len();
        self.entries.push(Entry {
            direction,
            at,
            data: Data::from_bytes(kept),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_what_it_keeps_and_counts_the_rest() {
        let mut t = Transcript::new(10);
        t.push(Direction::Client, Duration::ZERO, b"HELLO 1 v23\r\n");
        t.push(Direction::Server, Duration::ZERO, b"more");
        assert_eq!(t.entries.len(), 1);
        assert_eq!(t.entries[0].data, Data::Text("HELLO 1 v2".into()));
        assert_eq!(t.dropped_bytes, 7);
    }

    #[test]
    fn binary_bytes_are_hex() {
        assert_eq!(
            Data::from_bytes(b"\x00\x01\x02"),
            Data::Hex("000102".into())
        );
        assert_eq!(Data::from_bytes(b"OK\r\n"), Data::Text("OK\r\n".into()));
    }
}
