//! The flow table: groups TCP segments into connections, decides which side is the client,
//! reassembles both directions, and hands back each connection as soon as it ends (FIN both
//! ways, RST, or a new SYN reusing the ports), so memory is bounded by the open connections.

use super::link::Segment;
use super::stream::{Piece, Stream, Timed};
use crate::direction::Direction;
use std::collections::HashMap;
use std::net::SocketAddr;

/// Bytes kept per connection; past this they are counted, not kept.
pub const MAX_FLOW_BYTES: usize = 8 << 20;

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
    pub omitted_bytes: u64,
    pub end: End,
    kept_bytes: usize,
    to_server: Stream,
    to_client: Stream,
}

impl Flow {
    /// A connection observed directly (by the recording proxy) rather than reassembled.
    pub fn observed(
        id: u64,
        client: SocketAddr,
        server: SocketAddr,
        first_timestamp_ns: u64,
        events: Vec<Event>,
        end: End,
    ) -> Flow {
        Flow {
            id,
            client,
            server,
            first_timestamp_ns,
            saw_syn: true,
            events,
            omitted_bytes: 0,
            end,
            kept_bytes: 0,
            to_server: Stream::default(),
            to_client: Stream::default(),
        }
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

    fn push(&mut self, direction: Direction, pieces: Vec<Timed>) {
        for (timestamp_ns, piece) in pieces {
            let piece = match piece {
                Piece::Data(bytes) if self.kept_bytes + bytes.len() > MAX_FLOW_BYTES => {
                    self.omitted_bytes += bytes.len() as u64;
                    continue;
                }
                Piece::Data(bytes) => {
                    self.kept_bytes += bytes.len();
                    Piece::Data(bytes)
                }
                gap => gap,
            };
            self.events.push(Event {
                direction,
                timestamp_ns,
                piece,
            });
        }
    }

    fn finish(mut self, end: End) -> Flow {
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

/// Counts of what the flow table saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub segments: u64,
    pub other_ports: u64,
    pub retransmitted_bytes: u64,
}

pub struct FlowTable {
    server_port: Option<u16>,
    /// foldhash, randomly seeded: several times faster than the default SipHash on every
    /// segment, and a crafted capture still cannot predict its collisions.
    flows: HashMap<(SocketAddr, SocketAddr), Flow, foldhash::fast::RandomState>,
    next_id: u64,
    last_timestamp_ns: u64,
    pub stats: FlowStats,
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

impl FlowTable {
    /// Keeps only connections with `server_port` on one side, when given.
    pub fn new(server_port: Option<u16>) -> FlowTable {
        FlowTable {
            server_port,
            flows: HashMap::default(),
            next_id: 0,
            last_timestamp_ns: 0,
            stats: FlowStats::default(),
        }
    }

    pub fn open_flows(&self) -> usize {
        self.flows.len()
    }

    /// Takes one segment; returns the connections it ended.
    pub fn segment(&mut self, timestamp_ns: u64, segment: &Segment<'_>) -> Vec<Flow> {
        if let Some(port) = self.server_port
            && segment.src.port() != port
            && segment.dst.port() != port
        {
            self.stats.other_ports += 1;
            return Vec::new();
        }
        self.stats.segments += 1;
        self.last_timestamp_ns = self.last_timestamp_ns.max(timestamp_ns);
        let key = key(segment.src, segment.dst);
        let mut ended = Vec::new();
        let opening = segment.syn && !segment.ack;
        if opening && let Some(flow) = self.flows.get(&key) {
            let same_opening = flow.client == segment.src
                && !flow.to_server.started()
                && !flow.to_client.started();
            if !same_opening && let Some(old) = self.flows.remove(&key) {
                ended.push(self.retire(old, End::Reused));
            }
        }
        if !self.flows.contains_key(&key) {
            // A bare ACK or RST after a connection ended opens nothing.
            if !segment.syn && segment.payload.is_empty() {
                return ended;
            }
            let client_is_src = if segment.syn {
                !segment.ack
            } else if let Some(port) = self.server_port {
                segment.dst.port() == port
            } else {
                segment.src.port() > segment.dst.port()
            };
            let (client, server) = if client_is_src {
                (segment.src, segment.dst)
            } else {
                (segment.dst, segment.src)
            };
            self.flows.insert(
                key,
                Flow {
                    id: self.next_id,
                    client,
                    server,
                    first_timestamp_ns: timestamp_ns,
                    saw_syn: segment.syn,
                    events: Vec::new(),
                    omitted_bytes: 0,
                    end: End::EndOfCapture,
                    kept_bytes: 0,
                    to_server: Stream::default(),
                    to_client: Stream::default(),
                },
            );
            self.next_id += 1;
        }
        let Some(flow) = self.flows.get_mut(&key) else {
            return ended;
        };
        let direction = if segment.src == flow.client {
            Direction::Client
        } else {
            Direction::Server
        };
        let stream = match direction {
            Direction::Client => &mut flow.to_server,
            Direction::Server => &mut flow.to_client,
        };
        if segment.syn {
            stream.syn(segment.seq);
        }
        let seq = if segment.syn {
            segment.seq.wrapping_add(1)
        } else {
            segment.seq
        };
        let pieces = stream.segment(seq, segment.payload, segment.fin, timestamp_ns);
        flow.push(direction, pieces);
        let done = if segment.rst {
            Some(End::Reset)
        } else if flow.to_server.finished() && flow.to_client.finished() {
            Some(End::Fin)
        } else {
            None
        };
        if let Some(end) = done
            && let Some(flow) = self.flows.remove(&key)
        {
            ended.push(self.retire(flow, end));
        }
        ended
    }

    /// Ends every connection still open (the capture is over), in order of first appearance.
    pub fn finish(&mut self) -> Vec<Flow> {
        let mut open: Vec<Flow> = self.flows.drain().map(|(_, flow)| flow).collect();
        open.sort_by_key(|f| f.id);
        open.into_iter()
            .map(|f| self.retire(f, End::EndOfCapture))
            .collect()
    }

    fn retire(&mut self, flow: Flow, end: End) -> Flow {
        let flow = flow.finish(end);
        self.stats.retransmitted_bytes +=
            flow.to_server.retransmitted_bytes + flow.to_client.retransmitted_bytes;
        flow
    }
}
