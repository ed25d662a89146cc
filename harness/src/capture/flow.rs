//! One connection being reassembled: both directions' streams, and the pieces they have given
//! so far in capture order, within per-connection bounds (bytes kept, pieces). Past a bound
//! the connection's record is cut there: what follows is counted, never glued on. Each
//! direction's bytes are kept end to end in one buffer, the pieces pointing into it: a piece
//! costs no allocation of its own (the import's reader thread spends its time here).

use super::stream::{self, Stream};
use crate::direction::Direction;
use std::net::SocketAddr;
use std::ops::Range;

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

/// A piece of a connection's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes kept: where they lie in their direction's bytes ([`Flow::data`] gives them).
    Data(Range<usize>),
    /// This many bytes were never captured.
    Gap(u64),
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

/// A session as every message and report names it: `#1` for the capture's first connection
/// (judge's results count from 1, and so do import's messages and a grouped case's sources).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionNumber(pub u64);

impl std::fmt::Display for SessionNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0 + 1)
    }
}

#[derive(Debug)]
pub struct Flow {
    /// Numbered in order of first appearance in the capture, from 0; shown to users as its
    /// [`SessionNumber`].
    pub id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_timestamp_ns: u64,
    /// The capture holds the connection's opening SYN (otherwise it starts mid-stream).
    pub saw_syn: bool,
    pub end: End,
    /// The side whose FIN or reset came first, where the capture shows one.
    pub closed_by: Option<Direction>,
    /// `closed_by`'s first close was a reset, not a FIN.
    pub closed_by_reset: bool,
    /// The side whose reset came first, where the capture shows one.
    pub reset_by: Option<Direction>,
    /// Capture time of the last segment.
    pub last_timestamp_ns: u64,
    record: Record,
    pub(super) to_server: Stream,
    pub(super) to_client: Stream,
}

/// What a connection has given so far: its pieces in order, and each direction's bytes end to
/// end (the client's, then the server's).
#[derive(Debug, Default)]
struct Record {
    events: Vec<Event>,
    bytes: [Vec<u8>; 2],
    /// Bytes past a bound, counted but not kept: the record stops where the first was cut.
    omitted_bytes: u64,
    /// A bound was reached: nothing more is kept.
    cut: bool,
    kept_bytes: usize,
}

fn side(direction: Direction) -> usize {
    match direction {
        Direction::Client => 0,
        Direction::Server => 1,
    }
}

impl Record {
    /// Adds a piece one direction gave, unless a bound has been reached: after that only its
    /// bytes are counted.
    fn push(&mut self, direction: Direction, timestamp_ns: u64, piece: stream::Piece<'_>) {
        let len = match piece {
            stream::Piece::Data(bytes) => bytes.len(),
            stream::Piece::Gap(_) => 0,
        };
        if !self.cut
            && (self.kept_bytes + len > MAX_FLOW_BYTES || self.events.len() >= MAX_FLOW_PIECES)
        {
            self.cut = true;
        }
        if self.cut {
            self.omitted_bytes += len as u64;
            return;
        }
        self.kept_bytes += len;
        let piece = match piece {
            stream::Piece::Data(bytes) => {
                let kept = &mut self.bytes[side(direction)];
                let start = kept.len();
                kept.extend_from_slice(bytes);
                Piece::Data(start..kept.len())
            }
            stream::Piece::Gap(n) => Piece::Gap(n),
        };
        self.events.push(Event {
            direction,
            timestamp_ns,
            piece,
        });
    }
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
            end: End::EndOfCapture,
            closed_by: None,
            closed_by_reset: false,
            reset_by: None,
            last_timestamp_ns: timestamp_ns,
            record: Record::default(),
            to_server: Stream::default(),
            to_client: Stream::default(),
        }
    }

    /// A connection observed directly (by the recording proxy) rather than reassembled: its
    /// chunks in order, already within the bounds.
    pub fn observed<'a>(
        id: u64,
        (client, server): (SocketAddr, SocketAddr),
        first_timestamp_ns: u64,
        chunks: impl IntoIterator<Item = (Direction, u64, &'a [u8])>,
        omitted_bytes: u64,
        end: End,
    ) -> Flow {
        let mut flow = Flow::new(id, client, server, first_timestamp_ns, true);
        let record = &mut flow.record;
        for (direction, at_ns, bytes) in chunks {
            let kept = &mut record.bytes[side(direction)];
            let start = kept.len();
            kept.extend_from_slice(bytes);
            record.kept_bytes += bytes.len();
            record.events.push(Event {
                direction,
                timestamp_ns: at_ns,
                piece: Piece::Data(start..kept.len()),
            });
        }
        record.omitted_bytes = omitted_bytes;
        record.cut = omitted_bytes > 0;
        flow.end = end;
        flow
    }

    /// The pieces in capture order.
    pub fn events(&self) -> &[Event] {
        &self.record.events
    }

    /// The bytes of `event` (none for a gap).
    pub fn data(&self, event: &Event) -> &[u8] {
        match &event.piece {
            Piece::Data(range) => self.record.bytes[side(event.direction)]
                .get(range.clone())
                .unwrap_or_default(),
            Piece::Gap(_) => &[],
        }
    }

    /// Each direction's bytes, the client's first, taken out: [`Flow::data`] gives nothing
    /// after this. The pieces of a direction lie end to end in its bytes, in order.
    pub fn take_bytes(&mut self) -> [Vec<u8>; 2] {
        std::mem::take(&mut self.record.bytes)
    }

    /// Bytes past a bound, counted but not kept: the record stops where the first was cut.
    pub fn omitted_bytes(&self) -> u64 {
        self.record.omitted_bytes
    }

    /// Whether a bound cut the record short.
    pub fn truncated(&self) -> bool {
        self.record.cut
    }

    /// Memory this connection holds, roughly: what the import's memory bound counts.
    pub fn cost(&self) -> usize {
        FLOW_OVERHEAD
            + self.record.kept_bytes
            + self.record.events.capacity() * PIECE_OVERHEAD
            + self.to_server.held_cost()
            + self.to_client.held_cost()
    }

    pub fn gaps(&self) -> impl Iterator<Item = (Direction, u64)> + '_ {
        self.record.events.iter().filter_map(|e| match e.piece {
            Piece::Gap(n) => Some((e.direction, n)),
            Piece::Data(_) => None,
        })
    }

    /// Payload bytes kept (at most [`MAX_FLOW_BYTES`]).
    pub fn kept_bytes(&self) -> usize {
        self.record.kept_bytes
    }

    pub fn has_data(&self) -> bool {
        self.record
            .events
            .iter()
            .any(|e| matches!(e.piece, Piece::Data(_)))
    }

    /// Takes one segment of `direction` (its sequence number, payload and FIN) captured at
    /// `at_ns` into that direction's stream, keeping the pieces it puts in order.
    pub(super) fn segment(
        &mut self,
        direction: Direction,
        (seq, payload, fin): (u32, &[u8], bool),
        at_ns: u64,
    ) {
        let stream = match direction {
            Direction::Client => &mut self.to_server,
            Direction::Server => &mut self.to_client,
        };
        let record = &mut self.record;
        stream.segment(seq, payload, fin, at_ns, &mut |at, piece| {
            record.push(direction, at, piece)
        });
    }

    pub(super) fn finish(mut self, end: End) -> Flow {
        let record = &mut self.record;
        self.to_server
            .flush(&mut |at, piece| record.push(Direction::Client, at, piece));
        self.to_client
            .flush(&mut |at, piece| record.push(Direction::Server, at, piece));
        // Bytes held behind a hole come out last but keep their own times: put both directions
        // back in time order. Stable, and each direction's times never go back, so each
        // direction's bytes stay in stream order.
        let events = &mut self.record.events;
        if !events.is_sorted_by_key(|e| e.timestamp_ns) {
            events.sort_by_key(|e| e.timestamp_ns);
        }
        self.end = end;
        self
    }
}
