//! The capture file's content hash: the sha256 every imported case names its source by, and
//! the BLAKE3 a judged run names its capture by (`b3sum` prints it; a quarter of sha256's
//! cost, which on a 2-core machine is the difference between judging at 700 MB/s and at
//! 1 GB/s). Read in one streaming pass, either before an import or on a thread of its own
//! beside it (fed the bytes the import reads, so the file is read once), where a caller that
//! needs the hash only later (a run's header, a suite written at the end) asks for it when it
//! does, waiting only if it is not done yet.

use super::chunks::Fed;
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

/// Which content hash names a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentHash {
    Sha256,
    Blake3,
}

impl ContentHash {
    /// The hash (hex) of the bytes `fed` is sent, once told they ended.
    fn of_fed(self, fed: mpsc::Receiver<Fed>) -> io::Result<String> {
        let mut hashing = Hashing::new(self);
        for f in fed {
            match f {
                Fed::Bytes(buffer, range) => hashing.update(&buffer[range]),
                Fed::End => return Ok(hashing.hex()),
                Fed::Failed(e) => return Err(e),
            }
        }
        Err(io::Error::other("the file was not read to its end"))
    }
}

/// A [`ContentHash`] under way.
enum Hashing {
    Sha256(Sha256),
    Blake3(Box<blake3::Hasher>),
}

impl Hashing {
    fn new(hash: ContentHash) -> Hashing {
        match hash {
            ContentHash::Sha256 => Hashing::Sha256(Sha256::new()),
            ContentHash::Blake3 => Hashing::Blake3(Box::default()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hashing::Sha256(hasher) => hasher.update(bytes),
            Hashing::Blake3(hasher) => {
                hasher.update(bytes);
            }
        }
    }

    fn hex(self) -> String {
        match self {
            Hashing::Sha256(hasher) => hex::encode(hasher.finalize()),
            Hashing::Blake3(hasher) => hasher.finalize().to_hex().to_string(),
        }
    }
}

/// A content hash being computed on another thread, asked for when needed.
pub struct Alongside {
    receiver: mpsc::Receiver<io::Result<String>>,
    /// What the hashing thread gave, once it has: the hash, or why the file could not be read.
    done: Option<io::Result<String>>,
}

impl Alongside {
    /// Starts hashing the bytes `fed` is sent with `hash`, on a thread of `scope`, until
    /// their end.
    pub fn of_feed<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        fed: mpsc::Receiver<Fed>,
        hash: ContentHash,
    ) -> Alongside {
        let (sender, receiver) = mpsc::sync_channel(1);
        scope.spawn(move || {
            let _ = sender.send(hash.of_fed(fed));
        });
        Alongside {
            receiver,
            done: None,
        }
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

#[cfg(test)]
mod tests {
    use super::super::chunks::{Chunks, Feed};
    use super::*;

    #[test]
    fn the_hash_beside_is_the_hash_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("capture.pcap");
        let bytes: Vec<u8> = (0..(9 << 20) + 17).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let (before, size) = sha256_of(&path).unwrap();
        assert_eq!(size, bytes.len() as u64);
        assert_eq!(before, hex::encode(Sha256::digest(&bytes)));
        assert_eq!(beside(&path, ContentHash::Sha256), before);
        assert_eq!(
            beside(&path, ContentHash::Blake3),
            blake3::hash(&bytes).to_hex().as_str()
        );
    }

    /// The hash of the file at `path` computed beside a reader of it.
    fn beside(path: &Path, content_hash: ContentHash) -> String {
        std::thread::scope(|scope| {
            let (feed, fed) = Feed::channel();
            let mut hash = Alongside::of_feed(scope, fed, content_hash);
            let mut chunks = Chunks::new(std::fs::File::open(path).unwrap(), Some(feed));
            chunks.fill(1 << 20).unwrap();
            chunks.consume(1000);
            chunks.finish();
            let waited = hash.wait().map(str::to_string);
            assert_eq!(hash.ready().map(str::to_string), waited);
            hash.into_result().unwrap()
        })
    }

    /// The BLAKE3 of nothing, as its specification's test vectors give it: `b3sum` agrees.
    #[test]
    fn blake3_is_the_standard_one() {
        let (feed, fed) = Feed::channel();
        let chunks = Chunks::new(&b""[..], Some(feed));
        chunks.finish();
        assert_eq!(
            ContentHash::Blake3.of_fed(fed).unwrap(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
    }

    /// A feed dropped before the file's end (a reader that panicked) gives no hash.
    #[test]
    fn a_file_not_read_to_its_end_has_no_hash() {
        std::thread::scope(|scope| {
            let (feed, fed) = Feed::channel();
            let mut hash = Alongside::of_feed(scope, fed, ContentHash::Sha256);
            let mut chunks = Chunks::new(&b"the first bytes"[..], Some(feed));
            chunks.fill(1 << 20).unwrap();
            drop(chunks);
            assert_eq!(hash.wait(), None);
            let error = hash.into_result().unwrap_err();
            assert!(error.to_string().contains("not read to its end"), "{error}");
        });
    }
}
