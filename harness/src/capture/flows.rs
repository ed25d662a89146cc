//! The flow table: groups TCP segments into connections, decides which side is the client,
//! reassembles both directions, and hands back each connection as soon as it ends (FIN both
//! ways, RST, a new SYN reusing the ports) or must be let go: idle for too long in capture
//! time, or pushed out by the bounds on open connections and on the memory they hold. So the
//! table's memory has a fixed bound, whatever the capture holds.

pub use super::flow::{End, Event, Flow, MAX_FLOW_BYTES, MAX_FLOW_PIECES};
use super::link::Segment;
use crate::direction::Direction;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

/// The bounds on what the table holds at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once; past this the least recently active are evicted.
    pub max_open: usize,
    /// Capture time without a segment after which a connection is ended as idle.
    pub idle_ns: u64,
    /// Memory all open connections may hold (their bytes, held segments and bookkeeping);
    /// past this the largest are evicted.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_open: 65_536,
            idle_ns: 600 * 1_000_000_000,
            max_bytes: 256 << 20,
        }
    }
}

/// Counts of what the flow table saw and let go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub segments: u64,
    pub other_ports: u64,
    pub retransmitted_bytes: u64,
    /// Connections ended after no segment for the idle timeout.
    pub ended_idle: u64,
    /// Connections evicted because the open-connection bound was reached.
    pub evicted_at_cap: u64,
    /// Connections evicted because the open connections held too much memory.
    pub evicted_for_memory: u64,
    /// The most memory the open connections held at once, by the table's count.
    pub peak_bytes: usize,
    /// Connections opened (a SYN seen) to each port not imported, at most
    /// [`MAX_OTHER_PORTS`] ports: where the traffic was, when it was not on the port asked for.
    pub other_server_ports: BTreeMap<u16, u64>,
}

/// Ports counted in [`FlowStats::other_server_ports`].
const MAX_OTHER_PORTS: usize = 256;

/// Connections remembered as opened from the port imported to another one, at most;
/// past it the memory is cleared and starts again.
const MAX_ELSEWHERE: usize = 65_536;

impl FlowStats {
    /// A segment not on the port imported; a connection's opening SYN counts for its server's
    /// port (never the client's).
    fn other_port(&mut self, segment: &Segment<'_>) {
        self.other_ports += 1;
        let port = segment.dst.port();
        if segment.syn
            && !segment.ack
            && (self.other_server_ports.len() < MAX_OTHER_PORTS
                || self.other_server_ports.contains_key(&port))
        {
            *self.other_server_ports.entry(port).or_default() += 1;
        }
    }
}

/// A connection's two ends, the lower first. Two IPv4 ends are packed in one number, hashed
/// and compared at once (the table looks a key up for every segment); ordered, as the
/// others, as the pair of addresses is (an end's address, then its port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Key {
    V4(u128),
    Other(SocketAddr, SocketAddr),
}

pub struct FlowTable {
    server_port: Option<u16>,
    limits: Limits,
    /// foldhash, randomly seeded: several times faster than the default SipHash on every
    /// segment, and a crafted capture still cannot predict its collisions. Boxed so the
    /// table's own slots stay small: after many evictions it may hold spare room for twice
    /// the open connections.
    flows: HashMap<Key, Box<Flow>, foldhash::fast::RandomState>,
    /// The sum of the open connections' [`Flow::cost`].
    bytes: usize,
    next_id: u64,
    /// When (capture time) to look for idle connections next.
    next_sweep_ns: Option<u64>,
    /// Connections opened from the port imported to another one: the port is their client's.
    elsewhere: std::collections::HashSet<Key, foldhash::fast::RandomState>,
    pub stats: FlowStats,
}

fn key(a: SocketAddr, b: SocketAddr) -> Key {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    match (lo, hi) {
        (SocketAddr::V4(lo), SocketAddr::V4(hi)) => Key::V4(
            u128::from(lo.ip().to_bits()) << 80
                | u128::from(lo.port()) << 64
                | u128::from(hi.ip().to_bits()) << 16
                | u128::from(hi.port()),
        ),
        _ => Key::Other(lo, hi),
    }
}

impl FlowTable {
    /// Keeps only connections with `server_port` on one side, when given.
    pub fn new(server_port: Option<u16>, limits: Limits) -> FlowTable {
        FlowTable {
            server_port,
            limits: Limits {
                max_open: limits.max_open.max(1),
                ..limits
            },
            flows: HashMap::default(),
            bytes: 0,
            next_id: 0,
            next_sweep_ns: None,
            elsewhere: Default::default(),
            stats: FlowStats::default(),
        }
    }

    pub fn open_flows(&self) -> usize {
        self.flows.len()
    }

    /// Takes one segment; returns the connections it ended, in order of first appearance
    /// for those let go together.
    pub fn segment(&mut self, timestamp_ns: u64, segment: &Segment<'_>) -> Vec<Flow> {
        if let Some(port) = self.server_port
            && segment.src.port() != port
            && segment.dst.port() != port
        {
            self.stats.other_port(segment);
            return Vec::new();
        }
        let key = key(segment.src, segment.dst);
        // A connection whose opening went to another port, from this one as the client's.
        if !self.elsewhere.is_empty() && self.elsewhere.contains(&key) {
            let opening = segment.syn && !segment.ack;
            // Its end, or a new opening (to whichever port: decided below), forgets it.
            if segment.fin || segment.rst || opening {
                self.elsewhere.remove(&key);
            }
            if !opening {
                self.stats.other_port(segment);
                return Vec::new();
            }
        }
        self.stats.segments += 1;
        let mut ended = Vec::new();
        self.sweep_idle(timestamp_ns, &mut ended);
        let opening = segment.syn && !segment.ack;
        if opening && let Some(flow) = self.flows.get(&key) {
            let same_opening = flow.client == segment.src
                && !flow.to_server.started()
                && !flow.to_client.started();
            if !same_opening {
                self.end(key, End::Reused, &mut ended);
            }
        }
        if !self.flows.contains_key(&key) {
            // A bare ACK or RST after a connection ended opens nothing.
            if !segment.syn && segment.payload.is_empty() {
                return ended;
            }
            if self.flows.len() >= self.limits.max_open {
                self.evict_least_recent(&mut ended);
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
            // The port was the client's side of a connection to another port: so are the
            // connection's later segments.
            if self.server_port.is_some_and(|port| server.port() != port) {
                self.stats.segments -= 1;
                self.stats.other_port(segment);
                if self.elsewhere.len() >= MAX_ELSEWHERE {
                    self.elsewhere.clear();
                }
                self.elsewhere.insert(key);
                return ended;
            }
            let flow = Box::new(Flow::new(
                self.next_id,
                client,
                server,
                timestamp_ns,
                segment.syn,
            ));
            self.bytes += flow.cost();
            self.flows.insert(key, flow);
            self.next_id += 1;
        }
        let Some(flow) = self.flows.get_mut(&key) else {
            return ended;
        };
        let cost_before = flow.cost();
        flow.last_timestamp_ns = flow.last_timestamp_ns.max(timestamp_ns);
        let direction = if segment.src == flow.client {
            Direction::Client
        } else {
            Direction::Server
        };
        // Each close is the doing of the side that sent it: the first FIN or reset says who
        // closed, and a reset is put down to its own sender, not to whoever closed first.
        if (segment.fin || segment.rst) && flow.closed_by.is_none() {
            flow.closed_by = Some(direction);
            flow.closed_by_reset = segment.rst && !segment.fin;
        }
        if segment.rst && flow.reset_by.is_none() {
            flow.reset_by = Some(direction);
        }
        let seq = if segment.syn {
            let stream = match direction {
                Direction::Client => &mut flow.to_server,
                Direction::Server => &mut flow.to_client,
            };
            stream.syn(segment.seq);
            segment.seq.wrapping_add(1)
        } else {
            segment.seq
        };
        flow.segment(direction, (seq, segment.payload, segment.fin), timestamp_ns);
        self.bytes = self.bytes - cost_before + flow.cost();
        let done = if segment.rst {
            Some(End::Reset)
        } else if flow.to_server.finished() && flow.to_client.finished() {
            Some(End::Fin)
        } else {
            None
        };
        if let Some(end) = done {
            self.end(key, end, &mut ended);
        }
        self.stats.peak_bytes = self.stats.peak_bytes.max(self.bytes);
        if self.bytes > self.limits.max_bytes {
            self.evict_largest(&mut ended);
        }
        ended
    }

    /// Ends every connection still open (the capture is over), in order of first appearance,
    /// handing each to `each` as it goes rather than all at once.
    pub fn finish(&mut self, mut each: impl FnMut(Flow)) {
        let mut open: Vec<(u64, Key)> = self.flows.iter().map(|(k, f)| (f.id, *k)).collect();
        open.sort_unstable();
        for (_, key) in open {
            if let Some(flow) = self.flows.remove(&key) {
                self.bytes -= flow.cost();
                each(self.retire(*flow, End::EndOfCapture));
            }
        }
    }

    fn end(&mut self, key: Key, end: End, ended: &mut Vec<Flow>) {
        if let Some(flow) = self.flows.remove(&key) {
            self.bytes -= flow.cost();
            ended.push(self.retire(*flow, end));
        }
    }

    /// Ends `keys` together, in order of first appearance.
    fn end_all(&mut self, keys: Vec<Key>, end: End, ended: &mut Vec<Flow>) {
        let mut flows: Vec<Box<Flow>> = keys
            .into_iter()
            .filter_map(|k| self.flows.remove(&k))
            .collect();
        flows.sort_by_key(|f| f.id);
        for flow in flows {
            self.bytes -= flow.cost();
            ended.push(self.retire(*flow, end));
        }
    }

    /// Every so often in capture time (a quarter of the idle timeout), ends the connections
    /// that have had no segment for the whole timeout.
    fn sweep_idle(&mut self, now_ns: u64, ended: &mut Vec<Flow>) {
        let every = (self.limits.idle_ns / 4).max(1);
        let due = *self
            .next_sweep_ns
            .get_or_insert(now_ns.saturating_add(every));
        if now_ns < due {
            return;
        }
        self.next_sweep_ns = Some(now_ns.saturating_add(every));
        let idle: Vec<Key> = self
            .flows
            .iter()
            .filter(|(_, f)| now_ns.saturating_sub(f.last_timestamp_ns) >= self.limits.idle_ns)
            .map(|(k, _)| *k)
            .collect();
        self.stats.ended_idle += idle.len() as u64;
        self.end_all(idle, End::Idle, ended);
    }

    /// Makes room for a new connection: evicts the least recently active sixteenth of the
    /// bound at once, so the search is paid once per many new connections.
    fn evict_least_recent(&mut self, ended: &mut Vec<Flow>) {
        let mut by_age: Vec<(u64, Key)> = self
            .flows
            .iter()
            .map(|(k, f)| (f.last_timestamp_ns, *k))
            .collect();
        let n = (self.limits.max_open / 16).clamp(1, by_age.len());
        if n < by_age.len() {
            by_age.select_nth_unstable(n - 1);
        }
        let keys: Vec<Key> = by_age.into_iter().take(n).map(|(_, k)| k).collect();
        self.stats.evicted_at_cap += keys.len() as u64;
        self.end_all(keys, End::Evicted, ended);
    }

    /// Brings the memory held back under three quarters of the bound, largest connections
    /// first.
    fn evict_largest(&mut self, ended: &mut Vec<Flow>) {
        let mut by_cost: Vec<(usize, Key)> =
            self.flows.iter().map(|(k, f)| (f.cost(), *k)).collect();
        by_cost.sort_unstable_by_key(|(cost, _)| std::cmp::Reverse(*cost));
        let target = self.limits.max_bytes / 4 * 3;
        let mut freed = 0;
        let keys: Vec<Key> = by_cost
            .into_iter()
            .take_while(|(cost, _)| {
                let go = self.bytes - freed > target;
                freed += cost;
                go
            })
            .map(|(_, k)| k)
            .collect();
        self.stats.evicted_for_memory += keys.len() as u64;
        self.end_all(keys, End::Evicted, ended);
    }

    fn retire(&mut self, flow: Flow, end: End) -> Flow {
        let flow = flow.finish(end);
        self.stats.retransmitted_bytes +=
            flow.to_server.retransmitted_bytes + flow.to_client.retransmitted_bytes;
        flow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment<'a>(from_client: bool, seq: u32, flags: &str, payload: &'a [u8]) -> Segment<'a> {
        let (client, server) = ("127.0.0.1:40000", "127.0.0.1:5432");
        let (src, dst) = match from_client {
            true => (client, server),
            false => (server, client),
        };
        Segment {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            seq,
            syn: flags.contains('S'),
            ack: flags.contains('A'),
            fin: flags.contains('F'),
            rst: flags.contains('R'),
            payload,
        }
    }

    /// The session, then how it closes: each closing segment (`F` or `R`) from its side.
    fn closed(closes: &[(bool, &str)]) -> Flow {
        let mut table = FlowTable::new(Some(5432), Limits::default());
        let mut ended = Vec::new();
        let opening = [
            segment(true, 100, "S", b""),
            segment(false, 500, "SA", b""),
            segment(true, 101, "A", b"hello"),
            segment(false, 501, "A", b"hi"),
        ];
        for (t, s) in opening.iter().enumerate() {
            ended.extend(table.segment(t as u64, s));
        }
        for (t, (from_client, flags)) in closes.iter().enumerate() {
            let seq = if *from_client { 106 } else { 503 };
            ended.extend(table.segment(10 + t as u64, &segment(*from_client, seq, flags, b"")));
        }
        ended.pop().expect("the connection ended")
    }

    #[test]
    fn keys_are_ordered_as_the_pairs_of_addresses() {
        let ends = [
            "10.0.0.1:40000",
            "10.0.0.1:40001",
            "10.0.0.2:1",
            "192.0.2.1:1863",
            "255.255.255.255:65535",
            "[::1]:5432",
            "[2001:db8::1]:80",
        ]
        .map(|a| a.parse::<SocketAddr>().unwrap());
        for a in ends {
            for b in ends {
                for c in ends {
                    for d in ends {
                        let pair =
                            |x: SocketAddr, y: SocketAddr| if x <= y { (x, y) } else { (y, x) };
                        // Both ends of a connection are of one family.
                        if a.is_ipv4() != b.is_ipv4() || c.is_ipv4() != d.is_ipv4() {
                            continue;
                        }
                        assert_eq!(key(a, b).cmp(&key(c, d)), pair(a, b).cmp(&pair(c, d)));
                        assert_eq!(key(a, b), key(b, a));
                    }
                }
            }
        }
    }

    #[test]
    fn each_close_and_reset_is_put_down_to_the_side_that_sent_it() {
        // The server closed first, and the client reset after it: the server did not reset.
        let flow = closed(&[(false, "FA"), (true, "RA")]);
        assert_eq!(flow.end, End::Reset);
        assert_eq!(flow.closed_by, Some(Direction::Server));
        assert!(!flow.closed_by_reset);
        assert_eq!(flow.reset_by, Some(Direction::Client));
        // The server reset the connection outright.
        let flow = closed(&[(false, "RA")]);
        assert_eq!(flow.closed_by, Some(Direction::Server));
        assert!(flow.closed_by_reset);
        assert_eq!(flow.reset_by, Some(Direction::Server));
        // The client closed, then the server reset on the client's late bytes.
        let flow = closed(&[(true, "FA"), (false, "RA")]);
        assert_eq!(flow.closed_by, Some(Direction::Client));
        assert!(!flow.closed_by_reset);
        assert_eq!(flow.reset_by, Some(Direction::Server));
        // Both closed with FINs: no reset at all.
        let flow = closed(&[(true, "FA"), (false, "FA")]);
        assert_eq!((flow.end, flow.reset_by), (End::Fin, None));
    }
}
