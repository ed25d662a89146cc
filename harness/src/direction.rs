//! Which side of a connection sent a message: the one fact about traffic that every part of the
//! harness shares, whatever the protocol.

/// The sender of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Sent by the client (the harness, when it replays one).
    Client,
    /// Sent by the server.
    Server,
}

impl Direction {
    /// `>` for the client, `<` for the server, as transcripts and snapshots show them.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::Client => ">",
            Direction::Server => "<",
        }
    }
}
