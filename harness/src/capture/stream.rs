//! One direction of a TCP connection, reassembled: in-order bytes out, retransmissions and
//! overlaps trimmed (the first copy wins), out-of-order segments held until the hole fills, and
//! a hole that never fills reported as a gap, never glued over.

use std::collections::BTreeMap;

/// Out-of-order bytes held per direction before the earliest hole is declared lost.
pub const MAX_PENDING: usize = 4 << 20;
/// A segment further ahead than this is not part of the stream (a stray or corrupt packet).
const MAX_AHEAD: i64 = 64 << 20;

/// A piece of a reassembled stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Data(Vec<u8>),
    /// This many bytes were never captured.
    Gap(u64),
}

#[derive(Debug, Default)]
pub struct Stream {
    /// The sequence number of the next byte expected; `None` before the first segment.
    next: Option<u32>,
    /// Stream offset of the next byte expected (bytes delivered plus gaps).
    delivered: u64,
    /// Held segments by stream offset.
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    fin_at: Option<u64>,
    pub retransmitted_bytes: u64,
    pub ignored_segments: u64,
}

impl Stream {
    /// Whether anything was sent in this direction.
    pub fn started(&self) -> bool {
        self.delivered > 0 || !self.pending.is_empty()
    }

    /// Whether the sender's FIN has been reached.
    pub fn finished(&self) -> bool {
        self.fin_at.is_some_and(|fin| self.delivered >= fin)
    }

    pub fn syn(&mut self, seq: u32) {
        if !self.started() {
            self.next = Some(seq.wrapping_add(1));
        }
    }

    /// Takes one segment; returns the pieces now in order.
    pub fn segment(&mut self, seq: u32, payload: &[u8], fin: bool) -> Vec<Piece> {
        let next = *self.next.get_or_insert(seq);
        let ahead = i64::from(seq.wrapping_sub(next) as i32);
        if ahead > MAX_AHEAD {
            self.ignored_segments += 1;
            return Vec::new();
        }
        let start = self.delivered as i64 + ahead;
        if fin {
            let end = start + payload.len() as i64;
            if end >= 0 {
                self.fin_at.get_or_insert(end as u64);
            }
        }
        let mut out = Vec::new();
        if payload.is_empty() {
            return out;
        }
        let end = start + payload.len() as i64;
        if end <= self.delivered as i64 {
            self.retransmitted_bytes += payload.len() as u64;
            return out;
        }
        if start <= self.delivered as i64 {
            let skip = (self.delivered as i64 - start) as usize;
            self.retransmitted_bytes += skip as u64;
            self.deliver(payload[skip..].to_vec(), &mut out);
            self.drain(&mut out);
        } else {
            let start = start as u64;
            let held = self.pending.entry(start).or_default();
            if payload.len() > held.len() {
                self.pending_bytes += payload.len() - held.len();
                *held = payload.to_vec();
            }
            while self.pending_bytes > MAX_PENDING {
                self.skip_to_pending(&mut out);
            }
        }
        out
    }

    /// Everything still held, with gaps for the holes, and a final gap when the FIN was seen
    /// beyond the last byte captured.
    pub fn flush(&mut self) -> Vec<Piece> {
        let mut out = Vec::new();
        while !self.pending.is_empty() {
            self.skip_to_pending(&mut out);
        }
        if let Some(fin) = self.fin_at
            && fin > self.delivered
        {
            out.push(Piece::Gap(fin - self.delivered));
            self.delivered = fin;
        }
        out
    }

    fn deliver(&mut self, bytes: Vec<u8>, out: &mut Vec<Piece>) {
        self.delivered += bytes.len() as u64;
        self.next = self.next.map(|n| n.wrapping_add(bytes.len() as u32));
        out.push(Piece::Data(bytes));
    }

    fn drain(&mut self, out: &mut Vec<Piece>) {
        while let Some(entry) = self.pending.first_entry() {
            let start = *entry.key();
            if start > self.delivered {
                break;
            }
            let bytes = entry.remove();
            self.pending_bytes -= bytes.len();
            let skip = (self.delivered - start) as usize;
            if skip < bytes.len() {
                self.retransmitted_bytes += skip as u64;
                self.deliver(bytes[skip..].to_vec(), out);
            } else {
                self.retransmitted_bytes += bytes.len() as u64;
            }
        }
    }

    /// Declares the hole before the earliest held segment lost and moves past it.
    fn skip_to_pending(&mut self, out: &mut Vec<Piece>) {
        let Some((&start, _)) = self.pending.first_key_value() else {
            return;
        };
        if start > self.delivered {
            let gap = start - self.delivered;
            out.push(Piece::Gap(gap));
            self.delivered = start;
            self.next = self.next.map(|n| n.wrapping_add(gap as u32));
        }
        self.drain(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pieces: &[Piece]) -> Vec<u8> {
        pieces
            .iter()
            .flat_map(|p| match p {
                Piece::Data(d) => d.clone(),
                Piece::Gap(n) => vec![b'?'; *n as usize],
            })
            .collect()
    }

    #[test]
    fn in_order_out_of_order_and_retransmitted() {
        let mut s = Stream::default();
        s.syn(999);
        let mut out = s.segment(1000, b"VER ", false);
        out.extend(s.segment(1008, b"CVR0", false));
        out.extend(s.segment(1000, b"VER ", false));
        out.extend(s.segment(1004, b"1 MS", false));
        assert_eq!(data(&out), b"VER 1 MSCVR0");
        assert_eq!(s.retransmitted_bytes, 4);
    }

    #[test]
    fn overlap_keeps_the_first_copy() {
        let mut s = Stream::default();
        let mut out = s.segment(10, b"abcd", false);
        out.extend(s.segment(12, b"XXef", false));
        assert_eq!(data(&out), b"abcdef");
    }

    #[test]
    fn a_lost_segment_is_a_gap() {
        let mut s = Stream::default();
        let mut out = s.segment(0, b"ab", false);
        out.extend(s.segment(5, b"fg", true));
        out.extend(s.flush());
        assert_eq!(out[1], Piece::Gap(3));
        assert_eq!(data(&out), b"ab???fg");
        assert!(s.finished());
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut s = Stream::default();
        s.syn(u32::MAX - 1);
        let mut out = s.segment(u32::MAX, b"ab", false);
        out.extend(s.segment(1, b"cd", false));
        assert_eq!(data(&out), b"abcd");
    }

    #[test]
    fn pending_is_bounded() {
        let mut s = Stream::default();
        s.segment(0, b"x", false);
        let chunk = vec![0u8; 1 << 20];
        let mut gaps = 0;
        for i in 0..8u32 {
            let pieces = s.segment(10 + i * (1 << 20), &chunk, false);
            gaps += pieces.iter().filter(|p| matches!(p, Piece::Gap(_))).count();
        }
        assert!(s.pending_bytes <= MAX_PENDING);
        assert_eq!(gaps, 1);
    }
}
