//! The capture file read once, in large chunks: the packet reader parses records straight out
//! of the chunk in hand, and each chunk's newly read bytes go to the thread hashing the file
//! (a [`Feed`]), so the file is not read a second time for its sha256. Memory is a few chunks:
//! the one in hand, those the hasher still holds (its channel is bounded), one block's growth.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc;

/// Bytes read at a time.
pub const CHUNK: usize = 1 << 20;
/// Chunks waiting for the hasher at most; the reader waits beyond that. With one, the reader
/// and the hasher took turns on each chunk whenever the framer held a core: eight let them
/// run apart (grouped import 924 → 1179 MB/s, judge 613 → 755, for 7 MiB more at most).
const QUEUED_FOR_HASH: usize = 8;

/// What the hashing thread is sent: bytes of the file in order, then that it ended (or why
/// reading it failed). A feed that stops without either was cut short: no hash.
pub enum Fed {
    Bytes(Arc<Vec<u8>>, Range<usize>),
    End,
    Failed(io::Error),
}

/// The sending side of the hasher's channel.
pub struct Feed(mpsc::SyncSender<Fed>);

impl Feed {
    pub fn channel() -> (Feed, mpsc::Receiver<Fed>) {
        let (sender, receiver) = mpsc::sync_channel(QUEUED_FOR_HASH);
        (Feed(sender), receiver)
    }

    fn send(&self, fed: Fed) {
        // A hasher that went away only panicked, which its owner re-raises.
        let _ = self.0.send(fed);
    }
}

/// A file read in chunks: [`data`](Chunks::data) is what is read and not yet consumed.
pub struct Chunks<R> {
    input: R,
    current: Arc<Vec<u8>>,
    /// Buffers read before, reused once the hasher has let go of them.
    spare: Vec<Arc<Vec<u8>>>,
    start: usize,
    end: usize,
    /// File offset of `data()`'s first byte.
    offset: u64,
    /// The last fill read nothing: the file ends after `data()`.
    exhausted: bool,
    feed: Option<Feed>,
}

impl<R: Read> Chunks<R> {
    pub fn new(input: R, feed: Option<Feed>) -> Chunks<R> {
        Chunks {
            input,
            current: Arc::new(Vec::new()),
            spare: Vec::new(),
            start: 0,
            end: 0,
            offset: 0,
            exhausted: false,
            feed,
        }
    }

    pub fn data(&self) -> &[u8] {
        &self.current[self.start..self.end]
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn exhausted(&self) -> bool {
        self.exhausted
    }

    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset += n as u64;
    }

    /// Reads on until `data()` holds at least `wanted` bytes (in a buffer of at least
    /// `capacity`), or the file ends (then [`exhausted`](Chunks::exhausted) says so if this
    /// fill read nothing). What is unconsumed moves to the front of a buffer the hasher does
    /// not hold.
    pub fn fill(&mut self, capacity: usize) -> io::Result<()> {
        let left = self.end - self.start;
        let size = capacity.max(CHUNK).max(left);
        let mut next = self.free_buffer(size);
        {
            let buffer = Arc::get_mut(&mut next).expect("a free buffer has no other owner");
            buffer.resize(size, 0);
            buffer[..left].copy_from_slice(&self.current[self.start..self.end]);
        }
        let old = std::mem::replace(&mut self.current, next);
        self.spare.push(old);
        self.start = 0;
        self.end = left;
        let before = self.end;
        let buffer = Arc::get_mut(&mut self.current).expect("the buffer in hand is not shared");
        while self.end < buffer.len() {
            match self.input.read(&mut buffer[self.end..]) {
                Ok(0) => break,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if let Some(feed) = &self.feed {
                        feed.send(Fed::Failed(io::Error::new(e.kind(), e.to_string())));
                    }
                    self.feed = None;
                    return Err(e);
                }
            }
        }
        self.exhausted = self.end == before;
        if let Some(feed) = &self.feed
            && self.end > before
        {
            feed.send(Fed::Bytes(Arc::clone(&self.current), before..self.end));
        }
        Ok(())
    }

    /// Reads the rest of the file for the hasher only (the packets stopped early), and lets
    /// it know the file has ended.
    pub fn finish(mut self) {
        if self.feed.is_none() {
            return;
        }
        self.start = self.end;
        while !self.exhausted {
            if self.fill(CHUNK).is_err() {
                return;
            }
            self.start = self.end;
        }
        if let Some(feed) = &self.feed {
            feed.send(Fed::End);
        }
    }

    /// A buffer of at least `size` bytes that nobody else holds: a spare one, or a new one.
    fn free_buffer(&mut self, size: usize) -> Arc<Vec<u8>> {
        let free = self
            .spare
            .iter()
            .position(|b| Arc::strong_count(b) == 1 && b.capacity() >= size);
        match free {
            Some(at) => self.spare.swap_remove(at),
            None => {
                // Buffers too small for the block in hand are let go, as are any beyond the
                // few the hasher can hold at once.
                self.spare
                    .retain(|b| b.capacity() >= size && Arc::strong_count(b) > 1);
                Arc::new(Vec::with_capacity(size))
            }
        }
    }
}

/// The chunks as a plain reader, for a parser that keeps its own buffer (pcapng).
impl<R: Read> Read for Chunks<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.start == self.end && !self.exhausted {
            self.fill(CHUNK)?;
        }
        let n = out.len().min(self.end - self.start);
        out[..n].copy_from_slice(&self.current[self.start..self.start + n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives at most `step` bytes a call, as a pipe might.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(self.1).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn the_hasher_is_fed_every_byte_once_in_order_even_when_reading_stops_early() {
        let file = bytes(3 * CHUNK + 12_345);
        let (feed, fed) = Feed::channel();
        let collector = std::thread::spawn(move || {
            let mut all = Vec::new();
            for f in fed {
                match f {
                    Fed::Bytes(buffer, range) => all.extend_from_slice(&buffer[range]),
                    Fed::End => return all,
                    Fed::Failed(e) => panic!("{e}"),
                }
            }
            panic!("the feed stopped without its end")
        });
        let mut chunks = Chunks::new(Trickle(&file, 70_000), Some(feed));
        chunks.fill(CHUNK).unwrap();
        // A block larger than a chunk, straddling the first one's end.
        chunks.consume(CHUNK - 10);
        chunks.fill(2 * CHUNK).unwrap();
        assert_eq!(chunks.offset(), (CHUNK - 10) as u64);
        assert_eq!(chunks.data()[..10], file[CHUNK - 10..CHUNK]);
        assert_eq!(chunks.data().len(), 2 * CHUNK);
        chunks.finish();
        assert_eq!(collector.join().unwrap(), file);
    }

    #[test]
    fn read_gives_the_file_as_it_is() {
        let file = bytes(CHUNK + 99);
        let mut chunks = Chunks::new(Trickle(&file, 4096), None);
        let mut back = Vec::new();
        chunks.read_to_end(&mut back).unwrap();
        assert_eq!(back, file);
        assert!(chunks.exhausted());
    }
}
