//! IP fragments put back together (IPv4, and IPv6 fragment headers), within fixed bounds: a
//! datagram incomplete after 30 s of capture time, or pushed out when too many are in
//! progress, is dropped and counted; the TCP stream then shows a gap where its bytes were.

use super::link::Fragment;
use std::collections::HashMap;
use std::net::IpAddr;

/// Datagrams being put back together at once; the oldest goes first past this.
const MAX_DATAGRAMS: usize = 1024;
/// Fragment bytes held across all of them.
const MAX_HELD_BYTES: usize = 4 << 20;
/// Fragments one datagram may come in (64 KiB in 8-byte fragments would be 8192).
const MAX_PARTS: usize = 256;
/// How long (capture time) a datagram may wait for its last fragment, as Linux's ipfrag_time.
const TIMEOUT_NS: u64 = 30_000_000_000;
/// The largest IP payload a datagram can carry.
const MAX_DATAGRAM: usize = 65_535;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    protocol: u8,
}

#[derive(Debug, Default)]
struct Datagram {
    first_ns: u64,
    /// Offset and bytes, in order of arrival (the first copy of a byte wins).
    parts: Vec<(usize, Vec<u8>)>,
    /// The payload's length, once the last fragment was seen.
    total: Option<usize>,
    bytes: usize,
}

impl Datagram {
    /// Whether the parts cover the whole payload.
    fn complete(&self) -> bool {
        let Some(total) = self.total else {
            return false;
        };
        let mut ranges: Vec<(usize, usize)> = self
            .parts
            .iter()
            .map(|(at, bytes)| (*at, at + bytes.len()))
            .collect();
        ranges.sort_unstable();
        let mut covered = 0;
        for (start, end) in ranges {
            if start > covered {
                return false;
            }
            covered = covered.max(end);
        }
        covered >= total
    }

    fn assemble(self) -> Vec<u8> {
        let total = self.total.unwrap_or(0);
        let mut out = vec![0u8; total];
        let mut filled = vec![false; total];
        for (at, bytes) in self.parts {
            for (i, byte) in bytes.into_iter().enumerate() {
                if let Some(slot) = filled.get_mut(at + i).filter(|f| !**f) {
                    *slot = true;
                    out[at + i] = byte;
                }
            }
        }
        out
    }
}

/// Counts of what the reassembly did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FragmentStats {
    pub fragments: u64,
    pub reassembled: u64,
    /// Datagrams given up on: incomplete at timeout or at the end, pushed out by the bounds,
    /// or malformed (overlong, too many parts).
    pub dropped: u64,
}

#[derive(Default)]
pub struct Fragments {
    datagrams: HashMap<Key, Datagram, foldhash::fast::RandomState>,
    held_bytes: usize,
    pub stats: FragmentStats,
}

impl Fragments {
    /// Takes one fragment; returns the datagram's whole payload once every part is in.
    pub fn add(&mut self, at_ns: u64, fragment: &Fragment<'_>) -> Option<Vec<u8>> {
        self.stats.fragments += 1;
        self.expire(at_ns);
        let key = Key {
            src: fragment.src,
            dst: fragment.dst,
            id: fragment.id,
            protocol: fragment.protocol,
        };
        let end = fragment.offset + fragment.payload.len();
        if end > MAX_DATAGRAM {
            return self.give_up(key);
        }
        if !self.datagrams.contains_key(&key) {
            while self.datagrams.len() >= MAX_DATAGRAMS {
                self.drop_oldest();
            }
        }
        let datagram = self.datagrams.entry(key).or_insert_with(|| Datagram {
            first_ns: at_ns,
            ..Datagram::default()
        });
        if !fragment.more {
            datagram.total.get_or_insert(end);
        }
        if datagram.parts.len() >= MAX_PARTS || datagram.total.is_some_and(|t| end > t) {
            return self.give_up(key);
        }
        datagram
            .parts
            .push((fragment.offset, fragment.payload.to_vec()));
        datagram.bytes += fragment.payload.len();
        self.held_bytes += fragment.payload.len();
        if datagram.complete() {
            let datagram = self.datagrams.remove(&key)?;
            self.held_bytes -= datagram.bytes;
            self.stats.reassembled += 1;
            return Some(datagram.assemble());
        }
        while self.held_bytes > MAX_HELD_BYTES {
            self.drop_oldest();
        }
        None
    }

    /// Gives up on every datagram still incomplete (the capture is over).
    pub fn finish(&mut self) {
        self.stats.dropped += self.datagrams.len() as u64;
        self.datagrams.clear();
        self.held_bytes = 0;
    }

    fn give_up(&mut self, key: Key) -> Option<Vec<u8>> {
        if let Some(datagram) = self.datagrams.remove(&key) {
            self.held_bytes -= datagram.bytes;
        }
        self.stats.dropped += 1;
        None
    }

    fn drop_oldest(&mut self) {
        let oldest = self
            .datagrams
            .iter()
            .min_by_key(|(_, d)| d.first_ns)
            .map(|(k, _)| *k);
        if let Some(key) = oldest {
            self.give_up(key);
        }
    }

    fn expire(&mut self, now_ns: u64) {
        let before = self.datagrams.len();
        let mut freed = 0;
        self.datagrams.retain(|_, d| {
            let keep = now_ns.saturating_sub(d.first_ns) < TIMEOUT_NS;
            if !keep {
                freed += d.bytes;
            }
            keep
        });
        self.held_bytes -= freed;
        self.stats.dropped += (before - self.datagrams.len()) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(offset: usize, more: bool, payload: &[u8]) -> Fragment<'_> {
        Fragment {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            id: 7,
            protocol: 6,
            offset,
            more,
            payload,
        }
    }

    #[test]
    fn out_of_order_fragments_make_the_datagram() {
        let mut f = Fragments::default();
        assert_eq!(f.add(1, &part(8, false, b"ijkl")), None);
        assert_eq!(
            f.add(2, &part(0, true, b"abcdefgh")).as_deref(),
            Some(&b"abcdefghijkl"[..])
        );
        assert_eq!(f.stats.reassembled, 1);
        assert_eq!(f.held_bytes, 0);
    }

    #[test]
    fn the_first_copy_of_a_fragment_wins() {
        let mut f = Fragments::default();
        f.add(1, &part(0, true, b"abcdefgh"));
        f.add(2, &part(0, true, b"XXXXXXXX"));
        let whole = f.add(3, &part(8, false, b"ij"));
        assert_eq!(whole.as_deref(), Some(&b"abcdefghij"[..]));
    }

    #[test]
    fn an_incomplete_datagram_expires_and_is_counted() {
        let mut f = Fragments::default();
        f.add(0, &part(0, true, b"abcdefgh"));
        let mut later = part(0, true, b"abcdefgh");
        later.id = 8;
        f.add(TIMEOUT_NS + 1, &later);
        assert_eq!(f.stats.dropped, 1);
        f.finish();
        assert_eq!(f.stats.dropped, 2);
    }

    #[test]
    fn held_datagrams_are_bounded() {
        let mut f = Fragments::default();
        let chunk = vec![0u8; 60_000];
        for id in 0..(MAX_DATAGRAMS as u32 * 2) {
            let mut p = part(0, true, &chunk);
            p.id = id;
            f.add(1, &p);
        }
        assert!(f.datagrams.len() <= MAX_DATAGRAMS);
        assert!(f.held_bytes <= MAX_HELD_BYTES);
        assert_eq!(f.stats.dropped + f.datagrams.len() as u64, 2048);
    }
}
