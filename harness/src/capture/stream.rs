//! One direction of a TCP connection, reassembled: in-order bytes out, retransmissions and
//! overlaps trimmed (the first copy of every byte wins, held or delivered), out-of-order
//! segments held until the hole fills, and a hole that never fills reported as a gap, never
//! glued over. Every piece carries the capture time of the segment that brought its bytes, or
//! the later time at which the hole before it filled: times never go backwards.

use std::collections::BTreeMap;

/// Out-of-order bytes held per direction before the earliest hole is declared lost.
pub const MAX_PENDING: usize = 4 << 20;
/// Out-of-order segments held per direction, likewise: each costs more than its bytes.
pub const MAX_HELD: usize = 4096;
/// What holding one segment costs besides its bytes (map entry, allocation), roughly.
const HELD_OVERHEAD: usize = 96;
/// A segment further ahead than this is not part of the stream (a stray or corrupt packet).
const MAX_AHEAD: i64 = 64 << 20;

/// A piece of a reassembled stream, as it is handed out with the capture time (ns since the
/// epoch) it became readable in order: bytes borrowed from the segment that carried them (or
/// from where they were held), for the receiver to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Data(&'a [u8]),
    /// This many bytes were never captured.
    Gap(u64),
}

/// Bytes held out of order, with the capture time of the segment that carried them.
#[derive(Debug)]
struct Held {
    at_ns: u64,
    bytes: Vec<u8>,
}

#[derive(Debug, Default)]
pub struct Stream {
    /// The sequence number of the next byte expected; `None` before the first segment.
    next: Option<u32>,
    /// Stream offset of the next byte expected (bytes delivered plus gaps).
    delivered: u64,
    /// Held segments by stream offset. They never overlap: each is trimmed to the bytes no
    /// earlier copy holds.
    pending: BTreeMap<u64, Held>,
    pending_bytes: usize,
    /// The time of the last piece handed out.
    last_ns: u64,
    /// Where the sender's FIN lies, and when it was seen.
    fin_at: Option<(u64, u64)>,
    pub retransmitted_bytes: u64,
    pub ignored_segments: u64,
}

impl Stream {
    /// Whether anything was sent in this direction.
    pub fn started(&self) -> bool {
        self.delivered > 0 || !self.pending.is_empty()
    }

    /// Memory the held segments take, roughly.
    pub fn held_cost(&self) -> usize {
        self.pending_bytes + self.pending.len() * HELD_OVERHEAD
    }

    /// Whether the sender's FIN has been reached.
    pub fn finished(&self) -> bool {
        self.fin_at.is_some_and(|(fin, _)| self.delivered >= fin)
    }

    pub fn syn(&mut self, seq: u32) {
        if !self.started() {
            self.next = Some(seq.wrapping_add(1));
        }
    }

    /// Takes one segment captured at `at_ns`; `out` receives the pieces now in order.
    pub fn segment(
        &mut self,
        seq: u32,
        payload: &[u8],
        fin: bool,
        at_ns: u64,
        out: &mut impl FnMut(u64, Piece<'_>),
    ) {
        let next = *self.next.get_or_insert(seq);
        let ahead = i64::from(seq.wrapping_sub(next) as i32);
        if ahead > MAX_AHEAD {
            self.ignored_segments += 1;
            return;
        }
        let start = self.delivered as i64 + ahead;
        if fin {
            let end = start + payload.len() as i64;
            if end >= 0 {
                self.fin_at.get_or_insert((end as u64, at_ns));
            }
        }
        if payload.is_empty() {
            return;
        }
        let end = start + payload.len() as i64;
        if end <= self.delivered as i64 {
            self.retransmitted_bytes += payload.len() as u64;
            return;
        }
        let skip = (self.delivered as i64 - start).max(0) as usize;
        self.retransmitted_bytes += skip as u64;
        let start = start.max(self.delivered as i64) as u64;
        let payload = &payload[skip..];
        if start == self.delivered && self.pending.is_empty() {
            // In order with nothing held: the common case, no copy kept aside.
            self.deliver(at_ns, payload, out);
        } else {
            self.hold(start, payload, at_ns);
            self.drain(out);
            while self.pending_bytes > MAX_PENDING || self.pending.len() > MAX_HELD {
                self.skip_to_pending(out);
            }
        }
    }

    /// Everything still held, with gaps for the holes, and a final gap when the FIN was seen
    /// beyond the last byte captured.
    pub fn flush(&mut self, out: &mut impl FnMut(u64, Piece<'_>)) {
        while !self.pending.is_empty() {
            self.skip_to_pending(out);
        }
        if let Some((fin, seen_ns)) = self.fin_at
            && fin > self.delivered
        {
            let at = self.last_ns.max(seen_ns);
            out(at, Piece::Gap(fin - self.delivered));
            self.delivered = fin;
        }
    }

    /// Keeps the bytes of `payload` (at stream offset `start`, past what was delivered) that no
    /// held segment already has: a later copy never replaces an earlier one.
    fn hold(&mut self, start: u64, payload: &[u8], at_ns: u64) {
        let end = start + payload.len() as u64;
        let mut kept = 0;
        let mut from = start;
        if let Some((&s, held)) = self.pending.range(..=start).next_back() {
            from = from.max(s + held.bytes.len() as u64).min(end);
        }
        while from < end {
            let next = self
                .pending
                .range(from..end)
                .next()
                .map(|(&s, held)| (s, s + held.bytes.len() as u64));
            let until = next.map_or(end, |(s, _)| s);
            if until > from {
                let bytes = payload[(from - start) as usize..(until - start) as usize].to_vec();
                kept += bytes.len();
                self.pending_bytes += bytes.len();
                self.pending.insert(from, Held { at_ns, bytes });
            }
            match next {
                Some((_, held_end)) => from = held_end.min(end),
                None => from = end,
            }
        }
        self.retransmitted_bytes += (payload.len() - kept) as u64;
    }

    fn deliver(&mut self, at_ns: u64, bytes: &[u8], out: &mut impl FnMut(u64, Piece<'_>)) {
        self.delivered += bytes.len() as u64;
        self.next = self.next.map(|n| n.wrapping_add(bytes.len() as u32));
        self.last_ns = self.last_ns.max(at_ns);
        out(self.last_ns, Piece::Data(bytes));
    }

    /// Hands out the held segments the delivered bytes have reached.
    fn drain(&mut self, out: &mut impl FnMut(u64, Piece<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > self.delivered {
                break;
            }
            let start = *entry.key();
            let held = entry.remove();
            self.pending_bytes -= held.bytes.len();
            let skip = (self.delivered - start) as usize;
            if skip < held.bytes.len() {
                self.retransmitted_bytes += skip as u64;
                self.deliver(held.at_ns, &held.bytes[skip..], out);
            } else {
                self.retransmitted_bytes += held.bytes.len() as u64;
            }
        }
    }

    /// Declares the hole before the earliest held segment lost and moves past it. The gap is
    /// stamped with the time of the segment after it: the hole was known from then on.
    fn skip_to_pending(&mut self, out: &mut impl FnMut(u64, Piece<'_>)) {
        let Some((&start, held)) = self.pending.first_key_value() else {
            return;
        };
        if start > self.delivered {
            let gap = start - self.delivered;
            self.last_ns = self.last_ns.max(held.at_ns);
            out(self.last_ns, Piece::Gap(gap));
            self.delivered = start;
            self.next = self.next.map(|n| n.wrapping_add(gap as u32));
        }
        self.drain(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A piece as the tests keep it, with its time.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Owned {
        Data(Vec<u8>),
        Gap(u64),
    }
    type Timed = (u64, Owned);

    fn owned(at: u64, piece: Piece<'_>) -> Timed {
        match piece {
            Piece::Data(bytes) => (at, Owned::Data(bytes.to_vec())),
            Piece::Gap(n) => (at, Owned::Gap(n)),
        }
    }

    /// The stream's pieces collected, as the tests read them.
    trait Collected {
        fn seg(&mut self, seq: u32, payload: &[u8], fin: bool, at_ns: u64) -> Vec<Timed>;
        fn flushed(&mut self) -> Vec<Timed>;
    }

    impl Collected for Stream {
        fn seg(&mut self, seq: u32, payload: &[u8], fin: bool, at_ns: u64) -> Vec<Timed> {
            let mut out = Vec::new();
            self.segment(seq, payload, fin, at_ns, &mut |at, p| {
                out.push(owned(at, p))
            });
            out
        }

        fn flushed(&mut self) -> Vec<Timed> {
            let mut out = Vec::new();
            self.flush(&mut |at, p| out.push(owned(at, p)));
            out
        }
    }

    fn data(pieces: &[Timed]) -> Vec<u8> {
        pieces
            .iter()
            .flat_map(|(_, p)| match p {
                Owned::Data(d) => d.clone(),
                Owned::Gap(n) => vec![b'?'; *n as usize],
            })
            .collect()
    }

    #[test]
    fn in_order_out_of_order_and_retransmitted() {
        let mut s = Stream::default();
        s.syn(999);
        let mut out = s.seg(1000, b"VER ", false, 1);
        out.extend(s.seg(1008, b"CVR0", false, 2));
        out.extend(s.seg(1000, b"VER ", false, 3));
        out.extend(s.seg(1004, b"1 MS", false, 4));
        assert_eq!(data(&out), b"VER 1 MSCVR0");
        assert_eq!(s.retransmitted_bytes, 4);
    }

    #[test]
    fn overlap_keeps_the_first_copy() {
        let mut s = Stream::default();
        let mut out = s.seg(10, b"abcd", false, 1);
        out.extend(s.seg(12, b"XXef", false, 2));
        assert_eq!(data(&out), b"abcdef");
    }

    #[test]
    fn a_later_longer_copy_held_at_the_same_offset_does_not_win() {
        let mut s = Stream::default();
        let mut out = s.seg(0, b"ab", false, 1);
        out.extend(s.seg(4, b"ef", false, 2));
        out.extend(s.seg(4, b"XXgh", false, 3));
        out.extend(s.seg(2, b"cd", false, 4));
        assert_eq!(data(&out), b"abcdefgh");
        assert_eq!(s.retransmitted_bytes, 2);
    }

    #[test]
    fn a_later_copy_starting_earlier_does_not_win_over_held_bytes() {
        let mut s = Stream::default();
        let mut out = s.seg(0, b"ab", false, 1);
        out.extend(s.seg(6, b"gh", false, 2));
        out.extend(s.seg(4, b"efXXij", false, 3));
        out.extend(s.seg(2, b"cdYYYY", false, 4));
        assert_eq!(data(&out), b"abcdefghij");
        assert_eq!(s.retransmitted_bytes, 6);
    }

    #[test]
    fn a_lost_segment_is_a_gap() {
        let mut s = Stream::default();
        let mut out = s.seg(0, b"ab", false, 1);
        out.extend(s.seg(5, b"fg", true, 2));
        out.extend(s.flushed());
        assert_eq!(out[1].1, Owned::Gap(3));
        assert_eq!(data(&out), b"ab???fg");
        assert!(s.finished());
    }

    #[test]
    fn held_bytes_after_a_hole_that_never_fills_keep_their_own_time() {
        let mut s = Stream::default();
        let mut out = s.seg(0, b"ab", false, 10);
        out.extend(s.seg(5, b"fg", false, 20));
        out.extend(s.seg(7, b"hi", false, 30));
        out.extend(s.flushed());
        let times: Vec<u64> = out.iter().map(|(at, _)| *at).collect();
        assert_eq!(times, [10, 20, 20, 30]);
    }

    #[test]
    fn bytes_waiting_on_a_hole_are_readable_when_it_fills() {
        let mut s = Stream::default();
        let mut out = s.seg(0, b"ab", false, 10);
        out.extend(s.seg(4, b"ef", false, 20));
        out.extend(s.seg(2, b"cd", false, 30));
        let times: Vec<u64> = out.iter().map(|(at, _)| *at).collect();
        assert_eq!(times, [10, 30, 30]);
        assert_eq!(data(&out), b"abcdef");
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut s = Stream::default();
        s.syn(u32::MAX - 1);
        let mut out = s.seg(u32::MAX, b"ab", false, 1);
        out.extend(s.seg(1, b"cd", false, 2));
        assert_eq!(data(&out), b"abcd");
    }

    #[test]
    fn pending_is_bounded() {
        let mut s = Stream::default();
        s.seg(0, b"x", false, 1);
        let chunk = vec![0u8; 1 << 20];
        let mut gaps = 0;
        for i in 0..8u32 {
            let pieces = s.seg(10 + i * (1 << 20), &chunk, false, 2);
            gaps += pieces
                .iter()
                .filter(|(_, p)| matches!(p, Owned::Gap(_)))
                .count();
        }
        assert!(s.pending_bytes <= MAX_PENDING);
        assert_eq!(gaps, 1);
    }

    #[test]
    fn held_segments_are_bounded_in_number_too() {
        let mut s = Stream::default();
        s.seg(0, b"x", false, 1);
        let mut out = Vec::new();
        for i in 0..(MAX_HELD as u32 * 2) {
            out.extend(s.seg(2 + 2 * i, b"y", false, 2));
        }
        assert!(s.pending.len() <= MAX_HELD);
        let gaps = out
            .iter()
            .filter(|(_, p)| matches!(p, Owned::Gap(1)))
            .count();
        assert_eq!(gaps, MAX_HELD);
    }
}
