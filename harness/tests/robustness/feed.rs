//! Feeding bytes to a framer the way a connection does: a chunk at a time, every whole message
//! taken after each, and a framing error ending the connection.

use bytes::BytesMut;
use proptest::prelude::*;

/// Feeds `chunks` to `next` (which takes one whole message off the buffer, `Ok(None)` when it
/// needs more) and hands each message to `each`. While waiting for more, the buffer may hold at
/// most `max_buffered` bytes. Stops at the first framing error, as a connection would.
pub fn feed<M, E>(
    chunks: impl IntoIterator<Item = impl AsRef<[u8]>>,
    max_buffered: usize,
    mut next: impl FnMut(&mut BytesMut) -> Result<Option<M>, E>,
    mut each: impl FnMut(M) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let mut buf = BytesMut::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk.as_ref());
        loop {
            match next(&mut buf) {
                Ok(Some(message)) => each(message)?,
                Ok(None) => break,
                Err(_) => return Ok(()),
            }
        }
        prop_assert!(
            buf.len() <= max_buffered,
            "{} bytes buffered waiting for more",
            buf.len()
        );
    }
    Ok(())
}
