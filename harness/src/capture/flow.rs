//! One connection being reassembled: both directions' streams, and the pieces they have given
//! so far in capture order, within per-connection bounds (bytes kept, pieces). Past a bound
//! the connection's record is cut there: what follows is counted, never glued on.

use super::stream::{Piece, Stream, Timed};
use crate::direction::Direction;
use std::net::SocketAddr;

/// Bytes kept per connection; past this they are counted, not kept.
pub const MAX_FLOW_BYTES: usize = 8 << 20;
/// Pieces (data and gaps) kept per connection: each costs more than its bytes, in memory and
/// in the case file.
pub const MAX_FLOW_PIECES: usize = 16_384;
/// What a connection costs besides its pieces: the flow (both streams) and its table slot,
/// counted four times over for the table's spare room.
const FLOW_OVERHEAD: usize = std::mem::size_of::<Flow>() + 4 * (64 + 8);
/// What one piece costs besides its bytes (the event, the allocation), roughly.
const PIECE_OVERHEAD: usize = std::mem::size_of::<Event>() + 16;

/// A piece of one direction, stamped with the capture time its bytes became readable in order
/// (the time of the segment that carried them, or that filled the hole before them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub direction: Direction,
    pub timestamp_ns: u64,
    pub piece: Piece,
}

/// How a connection's record ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Fin,
    Reset,
    /// A new connection reused the same addresses and ports.
    Reused,
    EndOfCapture,
    /// No segment for longer than the idle timeout (capture time).
    Idle,
    /// Ended early to keep the import within its bounds (open connections or memory).
    Evicted,
    /// The recording proxy stopped (interrupted, or its session limit reached).
    Stopped,
}

#[derive(Debug)]
pub struct Flow {
    /// Numbered in order of first appearance in the capture.
    pub id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_timestamp_ns: u64,
    /// The capture holds the connection's opening SYN (otherwise it starts mid-stream).
    pub saw_syn: bool,
    pub events: Vec<Event>,
    /// Bytes past a bound, counted but not kept: the record stops where the first was cut.
    pub omitted_bytes: u64,
    pub end: End,
    /// The side whose FIN or reset came first, where the capture shows one.
    pub closed_by: Option<Direction>,
    /// `closed_by`'s first close was a reset, not a FIN.
    pub closed_by_reset: bool,
    /// The side whose reset came first, where the capture shows one.
    pub reset_by: Option<Direction>,
    /// Capture time of the last segment.
    pub last_timestamp_ns: u64,
    /// A bound was reached: nothing more is kept.
    cut: bool,
    kept_bytes: usize,
    pub(super) to_server: Stream,
    pub(super) to_client: Stream,
}

impl Flow {
    /// A connection first seen in a segment at `timestamp_ns`.
    pub fn new(
        id: u64,
        client: SocketAddr,
        server: SocketAddr,
        timestamp_ns: u64,
        saw_syn: bool,
    ) -> Flow {
        Flow {
            id,
            client,
            server,
            first_timestamp_ns: timestamp_ns,
            saw_syn,
            events: Vec::new(),
            omitted_bytes: 0,
            end: End::EndOfCapture,
            closed_by: None,
            closed_by_reset: false,
            reset_by: None,
            last_timestamp_ns: timestamp_ns,
            cut: false,
            kept_bytes: 0,
            to_server: Stream::default(),
            to_client: Stream::default(),
        }
    }

    /// A connection observed directly (by the recording proxy) rather than reassembled.
    pub fn observed(
        id: u64,
        (client, server): (SocketAddr, SocketAddr),
        first_timestamp_ns: u64,
        events: Vec<Event>,
        omitted_bytes: u64,
        end: End,
    ) -> Flow {
        let mut flow = Flow::new(id, client, server, first_timestamp_ns, true);
        flow.events = events;
        flow.omitted_bytes = omitted_bytes;
        flow.cut = omitted_bytes > 0;
        flow.end = end;
        flow
    }

    /// Whether a bound cut the record short.
    pub fn truncated(&self) -> bool {
        self.cut
    }

    /// Memory this connection holds, roughly: what the import's memory bound counts.
    pub fn cost(&self) -> usize {
        FLOW_OVERHEAD
            + self.kept_bytes
            + self.events.capacity() * PIECE_OVERHEAD
            + self.to_server.held_cost()
            + self.to_client.held_cost()
    }

    pub fn gaps(&self) -> impl Iterator<Item = (Direction, u64)> + '_ {
        self.events.iter().filter_map(|e| match e.piece {
            Piece::Gap(n) => Some((e.direction, n)),
            Piece::Data(_) => None,
        })
    }

    /// Payload bytes kept (at most [`MAX_FLOW_BYTES`]).
    pub fn kept_bytes(&self) -> usize {
        self.kept_bytes
    }

    pub fn has_data(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e.piece, Piece::Data(_)))
    }

    /// Adds the pieces one direction gave, in order, until a bound is reached; after that
    /// only their bytes are counted.
    pub(super) fn push(&mut self, direction: Direction, pieces: Vec<Timed>) {
        for (timestamp_ns, piece) in pieces {
            let len = match &piece {
                Piece::Data(bytes) => bytes.len(),
                Piece::Gap(_) => 0,
            };
            if !self.cut
                && (self.kept_bytes + len > MAX_FLOW_BYTES || self.events.len() >= MAX_FLOW_PIECES)
            {
                self.cut = true;
            }
            if self.cut {
                self.omitted_bytes += len as u64;
                continue;
            }
            self.kept_bytes += len;
            self.events.push(Event {
                direction,
                timestamp_ns,
                piece,
            });
        }
    }

    pub(super) fn finish(mut self, end: End) -> Flow {
        let client = self.to_server.flush();
        self.push(Direction::Client, client);
        let server = self.to_client.flush();
        self.push(Direction::Server, server);
        // Bytes held behind a hole come out last but keep their own times: put both directions
        // back in time order. Stable, and each direction's times never go back, so each
        // direction's bytes stay in stream order.
        if !self.events.is_sorted_by_key(|e| e.timestamp_ns) {
            self.events.sort_by_key(|e| e.timestamp_ns);
        }
        self.end = end;
        self
    }
}
