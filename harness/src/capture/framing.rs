//! A reassembled connection framed into messages, per direction, in capture order, and made
//! into its case: all at once ([`from_flow`]), or as far as its first messages with the rest
//! framed when asked for ([`from_flow_lazily`], for `judge`).

use super::file::{
    CaptureFile, IDENTITY_MESSAGES, Provenance, RecordedMessage, Source, client_messages,
};
use super::flow::Piece;
use super::flows::{End, Flow};
use crate::dialect::{self, Dialect, Framer};
use crate::direction::Direction;
use bytes::BytesMut;

/// Frames a reassembled connection's bytes into messages, per direction, in capture order.
/// Each direction's bytes are framed where they lie, not copied: each piece is split off the
/// front of its direction's bytes and joined to what the framer has not taken yet, which it
/// follows in memory.
pub fn from_flow(flow: Flow, dialect: &dyn Dialect, source: &Source<'_>) -> CaptureFile {
    let mut framing = Framing::new(flow, dialect);
    let mut messages = Vec::new();
    framing.finish(&mut messages);
    case_of(&framing.flow, messages, dialect, source)
}

/// A connection framed as far as its first messages ([`FIRST_MESSAGES`], with at least
/// [`IDENTITY_MESSAGES`] of the client's), and the framing of the rest, for a reader that
/// most often needs no more (`judge`: a handshake decides within its first messages, while a
/// session's bytes are mostly what follows it). What is framed is the start of what
/// [`from_flow`] gives, message for message; [`Framing::finish`] adds the rest.
pub fn from_flow_lazily<'a>(
    flow: Flow,
    dialect: &'a dyn Dialect,
    source: &Source<'_>,
) -> Partly<'a> {
    let mut framing = Framing::new(flow, dialect);
    let mut messages = Vec::new();
    let stopped = framing.frame_first(&mut messages);
    if !stopped {
        framing.finish(&mut messages);
    }
    Partly {
        case: case_of(&framing.flow, messages, dialect, source),
        last_at_ms: Some(framing.last_at_ms()),
        rest: stopped.then_some(framing),
    }
}

/// A connection framed as far as its first messages: [`from_flow_lazily`].
pub struct Partly<'a> {
    pub case: CaptureFile,
    /// The framing of the rest; `None` when the whole connection was framed.
    pub rest: Option<Framing<'a>>,
    /// When the connection's last piece came (milliseconds since its first packet); `None`
    /// for a case read from its file.
    pub last_at_ms: Option<f64>,
}

/// Messages framed before [`from_flow_lazily`] stops.
pub const FIRST_MESSAGES: usize = 2 * IDENTITY_MESSAGES;

/// A connection's bytes being framed into messages, per direction, in capture order. Each
/// direction's bytes are framed where they lie, not copied: each piece is split off the front
/// of its direction's bytes and joined to what the framer has not taken yet, which it follows
/// in memory.
pub struct Framing<'a> {
    /// The connection, its bytes taken out into `unread`.
    flow: Flow,
    unread: [BytesMut; 2],
    client: Side<'a>,
    server: Side<'a>,
    /// The next of the flow's events to frame.
    next: usize,
    /// Each direction's last event: framing may stop early only before both.
    last_event: [usize; 2],
    /// The events' times never go back: where framing stops, nothing framed later is placed
    /// before what was framed.
    in_time_order: bool,
}

impl<'a> Framing<'a> {
    fn new(mut flow: Flow, dialect: &'a dyn Dialect) -> Framing<'a> {
        let [to_server, to_client] = flow.take_bytes();
        let unread = [to_server, to_client].map(|bytes| BytesMut::from(bytes::Bytes::from(bytes)));
        let events = flow.events();
        let mut last_event = [0; 2];
        for (index, event) in events.iter().enumerate() {
            last_event[usize::from(event.direction == Direction::Server)] = index;
        }
        let in_time_order = events
            .windows(2)
            .all(|pair| pair[0].timestamp_ns <= pair[1].timestamp_ns);
        Framing {
            flow,
            unread,
            client: Side::new(dialect, Direction::Client),
            server: Side::new(dialect, Direction::Server),
            next: 0,
            last_event,
            in_time_order,
        }
    }

    fn at_ms(&self, ns: u64) -> f64 {
        (ns.saturating_sub(self.flow.first_timestamp_ns) as f64 / 1e3).round() / 1e3
    }

    fn last_at_ms(&self) -> f64 {
        self.flow
            .events()
            .iter()
            .map(|e| e.timestamp_ns)
            .max()
            .map_or(0.0, |ns| self.at_ms(ns))
    }

    /// Frames the next event; `false` when none is left.
    fn step(&mut self, messages: &mut Vec<RecordedMessage>) -> bool {
        let Some(event) = self.flow.events().get(self.next) else {
            return false;
        };
        self.next += 1;
        let at = self.at_ms(event.timestamp_ns);
        let (side, other) = match event.direction {
            Direction::Client => (&mut self.client, &mut self.server),
            Direction::Server => (&mut self.server, &mut self.client),
        };
        // When each direction's last bytes arrived: a partial message left at the end is
        // stamped with its own direction's time, not the other's.
        side.end = at;
        match &event.piece {
            Piece::Data(range) => {
                let unread = &mut self.unread[usize::from(event.direction == Direction::Server)];
                side.buf
                    .unsplit(unread.split_to(range.len().min(unread.len())));
                side.take_messages(at, messages, other);
            }
            Piece::Gap(missing) => {
                side.flush(at, messages);
                messages.push(RecordedMessage {
                    from: event.direction,
                    at_ms: at,
                    text: None,
                    hex: None,
                    gap: Some(*missing),
                });
            }
        }
        true
    }

    /// Frames the connection's first messages; whether it stopped before the end. It stops
    /// only where what it framed stays the start of the whole framing: both directions
    /// between messages (nothing held, no message begun), each with more to come, times that
    /// never go back, and the messages so far in time order, so that nothing framed later is
    /// placed or sorted before them.
    fn frame_first(&mut self, messages: &mut Vec<RecordedMessage>) -> bool {
        if !self.in_time_order {
            return false;
        }
        let mut client_messages = 0;
        loop {
            let before = messages.len();
            if !self.step(messages) {
                return false;
            }
            // What a step frames is all its event's direction's: messages, and a gap's marker.
            let event = &self.flow.events()[self.next - 1];
            if event.direction == Direction::Client {
                let gap = usize::from(matches!(event.piece, Piece::Gap(_)));
                client_messages += messages.len() - before - gap;
            }
            let enough = messages.len() >= FIRST_MESSAGES && client_messages >= IDENTITY_MESSAGES;
            let between_messages = [&self.client, &self.server]
                .iter()
                .all(|side| side.buf.is_empty() && side.began.is_none());
            let more_to_come = self.last_event.iter().all(|&last| last >= self.next);
            if enough && between_messages && more_to_come {
                // A message placed where it began can leave them out of time order, which
                // the whole framing's last sort puts right; messages are only ever added, so
                // a prefix out of order stays so: the whole connection is framed instead.
                return messages.is_sorted_by(|a, b| a.at_ms <= b.at_ms);
            }
        }
    }

    /// Frames the rest of the connection, then what each direction still holds, and puts the
    /// messages in time order, as [`from_flow`] gives them.
    pub fn finish(&mut self, messages: &mut Vec<RecordedMessage>) {
        while self.step(messages) {}
        let (client_end, server_end) = (self.client.end, self.server.end);
        self.client.flush(client_end, messages);
        self.server.flush(server_end, messages);
        // Those last partial messages go where their time puts them (a stable sort: each
        // direction's messages are already in time order).
        if !messages.is_sorted_by(|a, b| a.at_ms <= b.at_ms) {
            messages.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
        }
    }
}

/// The case of a connection framed into `messages`: its provenance, and the identity the
/// dialect reads in the client's first messages.
fn case_of(
    flow: &Flow,
    messages: Vec<RecordedMessage>,
    dialect: &dyn Dialect,
    source: &Source<'_>,
) -> CaptureFile {
    // A client states its identity in its first messages; long sessions need not be parsed.
    let client_bytes = client_messages(&messages, IDENTITY_MESSAGES);
    let refs: Vec<&[u8]> = client_bytes.iter().map(|m| &**m).collect();
    let identity = dialect.recorded_identity(&refs);
    let fingerprint = dialect.fingerprint(&refs);
    CaptureFile {
        variables: Default::default(),
        sessions: None,
        capture: Provenance {
            name: None,
            dialect: dialect.name().to_string(),
            source: source.name.to_string(),
            sha256: source.sha256.map(str::to_string),
            client: flow.client.to_string(),
            server: flow.server.to_string(),
            first_timestamp: super::time::rfc3339(flow.first_timestamp_ns),
            mid_stream: !flow.saw_syn,
            ended_by: if flow.truncated() {
                "truncated"
            } else {
                match flow.end {
                    End::Fin => "fin",
                    End::Reset => "reset",
                    End::Reused => "reused",
                    End::EndOfCapture => "end-of-capture",
                    End::Idle => "idle",
                    End::Evicted => "evicted",
                    End::Stopped => "stopped",
                }
            }
            .to_string(),
            closed_by: flow.closed_by,
            closed_by_reset: flow.closed_by_reset,
            reset_by: flow.reset_by,
            versions: identity.versions,
            client_name: identity.client.as_ref().map(|c| c.client.clone()),
            client_version: identity.client.map(|c| c.version),
            account: identity.account,
            fingerprint,
            omitted_bytes: flow.omitted_bytes(),
            tls: None,
        },
        messages,
    }
}

/// One direction of a connection being framed: its framer and the bytes not yet framed.
pub(crate) struct Side<'a> {
    from: Direction,
    framer: Box<dyn Framer + 'a>,
    pub(crate) buf: BytesMut,
    end: f64,
    /// The message on its way: when its first bytes came, and how many messages were
    /// framed by then. A message is placed where it began, not where it ended: a request
    /// whose body the client sent after the server's `100 Continue` (as `Expect:
    /// 100-continue` has it) came before that 100.
    began: Option<(f64, usize)>,
}

impl<'a> Side<'a> {
    pub(crate) fn new(dialect: &'a dyn Dialect, from: Direction) -> Side<'a> {
        Side {
            from,
            framer: dialect::framer(dialect, from),
            buf: BytesMut::new(),
            end: 0.0,
            began: None,
        }
    }

    /// Frames what `buf` holds; each client message is shown to the server's framer.
    pub(crate) fn take_messages(
        &mut self,
        at: f64,
        out: &mut Vec<RecordedMessage>,
        other: &mut Side<'_>,
    ) {
        loop {
            if !self.buf.is_empty() {
                self.began.get_or_insert((at, out.len()));
            }
            match self.framer.next(&mut self.buf) {
                Ok(Some(message)) => {
                    if self.from == Direction::Client {
                        other.framer.client_sent(&message);
                    }
                    self.place(at, out, &message);
                }
                Ok(None) => return,
                // Not this protocol: keep the bytes as they are, in one piece.
                Err(_) => {
                    self.flush(at, out);
                    return;
                }
            }
        }
    }

    /// Puts a message framed at `at` in `out`: where it began when messages of the other
    /// side came while it was on its way (stamped with the time it began), else last.
    fn place(&mut self, at: f64, out: &mut Vec<RecordedMessage>, message: &[u8]) {
        match self.began.take() {
            Some((began, index)) if index < out.len() => {
                out.insert(index, RecordedMessage::data(self.from, began, message));
            }
            _ => out.push(RecordedMessage::data(self.from, at, message)),
        }
    }

    /// The direction ended (or lost bytes): what the framer holds, then the bytes left over,
    /// are kept as they are; framing starts afresh after it.
    pub(crate) fn flush(&mut self, at: f64, out: &mut Vec<RecordedMessage>) {
        if let Some(message) = self.framer.finish(&mut self.buf) {
            self.place(at, out, &message);
        }
        self.began = None;
        if !self.buf.is_empty() {
            let rest = self.buf.split();
            out.push(RecordedMessage::data(self.from, at, &rest));
        }
    }
}
