//! Reference servers: the network side every dialect's reference server shares (listener,
//! connection limit, eviction, idle timeout, one log line per client), and the traits a dialect
//! implements to bring one: a policy file format and a per-connection session.

mod activity;
mod limits;
mod listener;

pub use limits::{connection_capacity, raise_descriptor_limit};
pub use listener::{RunningServer, ServerConfig, StartError, start};

use crate::date::Date;
use crate::source::SourceError;
use bytes::{Bytes, BytesMut};
use std::path::Path;
use std::sync::Arc;

/// A dialect's reference server: reads its policy files.
pub trait ReferenceServer: Send + Sync {
    /// Reads and checks a policy file; errors point at the file, line and column.
    fn load_policy(&self, path: &Path) -> Result<Arc<dyn ServerPolicy>, SourceError>;
}

/// An admission policy a reference server enforces, as of a date.
pub trait ServerPolicy: Send + Sync + std::fmt::Debug {
    /// The policy's own name.
    fn name(&self) -> &str;
    /// What is in force on `as_of`, in a few words for the server's first line; `Err` when
    /// the policy says nothing for that date.
    fn in_force(&self, as_of: Date) -> Result<String, String>;
    /// The phase in force on `as_of`, in a few words for a report's column heading.
    fn phase(&self, as_of: Date) -> Option<String>;
    /// A new client connection's session; `None` when nothing is in force on `as_of`.
    fn session(&self, as_of: Date) -> Option<Box<dyn ServerSession + '_>>;
}

/// One client connection on a reference server: a synchronous state machine fed the client's
/// bytes.
pub trait ServerSession: Send {
    /// Takes one whole client message off `buf` and says what to do: `Ok(None)` when more
    /// bytes are needed; `Err` (malformed input) closes the connection.
    fn handle(&mut self, buf: &mut BytesMut) -> Result<Option<Vec<Action>>, String>;
    /// The client and what the server decided, for the server's log line.
    fn summary(&self) -> String;
    /// Whether the client has reached the admission point. One that has not within the
    /// server's admission budget stays evictable however often it sends.
    fn admitted(&self) -> bool;
}

/// How long a connection may take to reach the admission point before the messages it sends
/// stop keeping it from eviction (a handshake takes milliseconds).
pub const DEFAULT_ADMISSION_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// What the server does in reply to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Send(Bytes),
    /// The server ends the connection.
    Close,
    /// The client asked to end it (a sign-out); the server closes.
    ClientLeft,
}
