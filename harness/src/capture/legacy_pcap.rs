//! Legacy pcap records (micro- or nanosecond, either byte order) parsed straight out of the
//! chunk in hand, with no copy into a parser's own buffer: the common case of a large
//! capture, and the import's hottest loop. Its errors and their byte offsets are the ones
//! pcap-parser's reader gives (which reads every other kind of file here).

use super::chunks::Chunks;
use super::packets::{Interface, Packet, ReadError, to_nanos};
use pcap_parser::Linktype;
use std::io::Read;

/// The file header's length.
const HEADER_LEN: usize = 24;
/// A record header's length: seconds, fraction, captured length, original length.
const RECORD_HEADER_LEN: usize = 16;

/// The file header of a legacy pcap read here: its byte order and interface.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    big_endian: bool,
    interface: Interface,
}

impl Header {
    /// The header at the start of `data`, if it is a legacy pcap's (not the "modified" kind,
    /// which pcap-parser reads).
    pub fn parse(data: &[u8]) -> Option<Header> {
        let word = |at: usize, big_endian: bool| {
            let bytes = [data[at], data[at + 1], data[at + 2], data[at + 3]];
            match big_endian {
                true => u32::from_be_bytes(bytes),
                false => u32::from_le_bytes(bytes),
            }
        };
        if data.len() < HEADER_LEN {
            return None;
        }
        let (big_endian, nanos) = match word(0, false) {
            0xa1b2_c3d4 => (false, false),
            0xa1b2_3c4d => (false, true),
            0xd4c3_b2a1 => (true, false),
            0x4d3c_b2a1 => (true, true),
            _ => return None,
        };
        Some(Header {
            big_endian,
            interface: Interface {
                linktype: Linktype(word(20, big_endian) as i32),
                resolution: if nanos { 1_000_000_000 } else { 1_000_000 },
                offset_secs: 0,
            },
        })
    }

    fn word(&self, bytes: &[u8]) -> u32 {
        let bytes = [bytes[0], bytes[1], bytes[2], bytes[3]];
        match self.big_endian {
            true => u32::from_be_bytes(bytes),
            false => u32::from_le_bytes(bytes),
        }
    }
}

/// Calls `each` for every record after the file header (at the start of `chunks`); returns
/// the blocks read, the header counted. `capacity` is the buffer's starting size, which grows
/// for a larger record up to `max_block`.
pub fn for_each_record<R: Read>(
    chunks: &mut Chunks<R>,
    header: Header,
    mut capacity: usize,
    max_block: usize,
    each: &mut dyn FnMut(Packet<'_>),
) -> Result<u64, ReadError> {
    chunks.consume(HEADER_LEN);
    let mut blocks = 1u64;
    let iface = header.interface;
    loop {
        let offset = chunks.offset();
        let data = chunks.data();
        if data.is_empty() && chunks.exhausted() {
            return Ok(blocks);
        }
        let needed = match data.get(..RECORD_HEADER_LEN) {
            Some(head) => RECORD_HEADER_LEN.saturating_add(header.word(&head[8..]) as usize),
            None => RECORD_HEADER_LEN,
        };
        if let Some(record) = data.get(..needed) {
            let units = u64::from(header.word(record)) * iface.resolution
                + u64::from(header.word(&record[4..]));
            each(Packet {
                timestamp_ns: to_nanos(units, iface),
                linktype: iface.linktype,
                data: &record[RECORD_HEADER_LEN..],
                offset,
            });
            blocks += 1;
            chunks.consume(needed);
            continue;
        }
        if chunks.exhausted() {
            return Err(ReadError {
                offset,
                what: "truncated block (the file ends inside it)".to_string(),
            });
        }
        if needed >= capacity {
            if capacity >= max_block {
                return Err(ReadError {
                    offset,
                    what: format!(
                        "block larger than the {max_block}-byte limit (a corrupt length?)"
                    ),
                });
            }
            capacity = (capacity * 2).min(max_block);
        }
        chunks.fill(capacity).map_err(|_| ReadError {
            offset,
            what: "read failed".to_string(),
        })?;
    }
}
