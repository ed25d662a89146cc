//! The capture file's sha256 (every case and judged run names it): read in one streaming
//! pass before an import, or computed on a thread of its own beside it from the very bytes
//! the import reads (the file is read once, not twice: reading it costs as much as a third
//! of hashing it), where a caller that needs the hash only later (a run's header, a suite
//! written at the end) asks for it when it does, waiting only if it is not done yet.

use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc;

/// The file's sha256 (hex) and size, read in one streaming pass.
pub fn sha256_of(path: &Path) -> io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), total))
}

/// A sha256 being computed on another thread, asked for when needed.
pub struct Alongside {
    receiver: mpsc::Receiver<io::Result<String>>,
    /// What the hashing thread gave, once it has: the hash, or why the file could not be read.
    done: Option<io::Result<String>>,
}

/// Bytes handed to the hashing thread at once, and chunks on their way to it: enough that
/// neither side waits on the other for long, little memory.
const CHUNK: usize = 512 << 10;
const CHUNKS_IN_FLIGHT: usize = 4;

impl Alongside {
    /// Starts hashing `path` on a thread of `scope`, reading it on its own: the hash is
    /// done as soon as the file is read through, well before a slower import reads it.
    pub fn start<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        path: &'scope Path,
    ) -> Alongside {
        let (sender, receiver) = mpsc::sync_channel(1);
        scope.spawn(move || {
            let _ = sender.send(sha256_of(path).map(|(hash, _)| hash));
        });
        Alongside {
            receiver,
            done: None,
        }
    }

    /// Starts hashing, on a thread of `scope`, every byte of `input`: those read through the
    /// returned reader, then, when it is dropped, the rest of `input`. The file is read once,
    /// but the hash is done only when the reader is: for a caller that needs it at the end.
    pub fn through<'scope, R: Read>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        input: R,
    ) -> (Alongside, Teed<R>) {
        let (sender, receiver) = mpsc::sync_channel(1);
        let (to_hasher, chunks) = mpsc::sync_channel::<io::Result<Vec<u8>>>(CHUNKS_IN_FLIGHT);
        let (spare, spares) = mpsc::sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
        scope.spawn(move || {
            let mut hasher = Sha256::new();
            let mut result = Ok(());
            for chunk in chunks {
                match chunk {
                    Ok(chunk) => {
                        hasher.update(&chunk);
                        let _ = spare.try_send(chunk);
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            let _ = sender.send(result.map(|()| hex::encode(hasher.finalize())));
        });
        let teed = Teed {
            inner: input,
            chunk: Vec::with_capacity(CHUNK),
            to_hasher,
            spares,
        };
        (
            Alongside {
                receiver,
                done: None,
            },
            teed,
        )
    }

    /// The hash if it is done, without waiting; `None` while it is not (or when the file
    /// could not be read: [`Alongside::wait`] says why).
    pub fn ready(&mut self) -> Option<&str> {
        if self.done.is_none() {
            self.done = self.receiver.try_recv().ok();
        }
        self.done.as_ref()?.as_deref().ok()
    }

    /// The hash, waiting for it; `None` when the file could not be read.
    pub fn wait(&mut self) -> Option<&str> {
        self.finish_waiting();
        self.done.as_ref()?.as_deref().ok()
    }

    /// The hash, or why the file could not be read.
    pub fn into_result(mut self) -> io::Result<String> {
        self.finish_waiting();
        self.done
            .unwrap_or_else(|| Err(io::Error::other("the hashing thread stopped")))
    }

    fn finish_waiting(&mut self) {
        if self.done.is_none() {
            self.done = Some(
                self.receiver
                    .recv()
                    .unwrap_or_else(|_| Err(io::Error::other("the hashing thread stopped"))),
            );
        }
    }
}

/// A reader whose bytes also go to the hashing thread; dropped, it reads the rest of its
/// input for the hash (the import may stop early, at damage).
pub struct Teed<R: Read> {
    inner: R,
    chunk: Vec<u8>,
    to_hasher: mpsc::SyncSender<io::Result<Vec<u8>>>,
    /// Chunks the hashing thread is done with, to be filled again.
    spares: mpsc::Receiver<Vec<u8>>,
}

impl<R: Read> Teed<R> {
    fn keep(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        while !bytes.is_empty() {
            let room = CHUNK - self.chunk.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.chunk.extend_from_slice(now);
            bytes = later;
            if self.chunk.len() == CHUNK {
                self.send();
            }
        }
    }

    fn send(&mut self) {
        let mut next = self.spares.try_recv().unwrap_or_default();
        next.clear();
        next.reserve(CHUNK);
        let full = std::mem::replace(&mut self.chunk, next);
        // The hashing thread goes away only after an error this reader sent it.
        let _ = self.to_hasher.send(Ok(full));
    }
}

impl<R: Read> Read for Teed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.keep(&buf[..n]);
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let _ = self
                    .to_hasher
                    .send(Err(io::Error::new(e.kind(), e.to_string())));
                Err(e)
            }
        }
    }
}

impl<R: Read> Drop for Teed<R> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let mut rest = vec![0u8; 64 << 10];
        loop {
            match self.read(&mut rest) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        if !self.chunk.is_empty() {
            let last = std::mem::take(&mut self.chunk);
            let _ = self.to_hasher.send(Ok(last));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_of_a_file_read_on_its_own_is_the_hash_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("capture.pcap");
        std::fs::write(&path, b"not much of a capture").unwrap();
        let beside = std::thread::scope(|scope| Alongside::start(scope, &path).into_result());
        assert_eq!(beside.unwrap(), sha256_of(&path).unwrap().0);
        let missing = dir.path().join("gone.pcap");
        let gone = std::thread::scope(|scope| Alongside::start(scope, &missing).into_result());
        assert_eq!(gone.unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn the_hash_beside_is_the_hash_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("capture.pcap");
        let bytes: Vec<u8> = (0..(9 << 20) + 17).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let (before, size) = sha256_of(&path).unwrap();
        assert_eq!(size, bytes.len() as u64);
        assert_eq!(before, hex::encode(Sha256::digest(&bytes)));
        // Read partly through the tee (in odd sizes), the rest when it is dropped.
        let beside = std::thread::scope(|scope| {
            let (mut hash, mut teed) =
                Alongside::through(scope, std::fs::File::open(&path).unwrap());
            let mut read = 0;
            let mut buf = vec![0u8; 300_007];
            while read < 5 << 20 {
                let n = teed.read(&mut buf).unwrap();
                assert_eq!(buf[..n], bytes[read..read + n]);
                read += n;
            }
            assert_eq!(hash.ready(), None);
            drop(teed);
            let waited = hash.wait().map(str::to_string);
            assert_eq!(hash.ready().map(str::to_string), waited);
            hash.into_result().unwrap()
        });
        assert_eq!(beside, before);
    }

    /// Reads `good` bytes, then fails.
    struct Failing {
        good: usize,
    }

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.good == 0 {
                return Err(io::Error::other("the disk went away"));
            }
            let n = buf.len().min(self.good);
            buf[..n].fill(7);
            self.good -= n;
            Ok(n)
        }
    }

    #[test]
    fn an_input_that_cannot_be_read_says_why_when_asked() {
        std::thread::scope(|scope| {
            let (mut hash, teed) = Alongside::through(scope, Failing { good: 3 << 20 });
            drop(teed);
            assert_eq!(hash.wait(), None);
            let error = hash.into_result().unwrap_err();
            assert_eq!(error.to_string(), "the disk went away");
        });
    }
}
