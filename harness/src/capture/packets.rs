//! Streams packets out of a pcap or pcapng file: legacy pcap (micro- and nanosecond), pcapng
//! with several sections and interfaces (each with its own link type and timestamp resolution).
//! Memory is the read buffer, grown only as far as one block needs, up to a cap.

use super::chunks::{self, Chunks, Feed};
use super::legacy_pcap;
use pcap_parser::pcapng::Block;
use pcap_parser::{Linktype, PcapBlockOwned, PcapError, create_reader};
use std::io::Read;

/// Bytes read at a time; a block larger than this grows the buffer.
const READ_CAPACITY: usize = chunks::CHUNK;
/// The largest block accepted: far above any real snap length.
const MAX_BLOCK: usize = 64 << 20;

/// One captured packet, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// Nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    pub linktype: Linktype,
    pub data: &'a [u8],
    /// Where the packet's block starts in the file.
    pub offset: u64,
}

/// Why reading stopped before the end of the file. Every packet before `offset` was delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte offset {offset}")]
pub struct ReadError {
    pub offset: u64,
    pub what: String,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Interface {
    pub linktype: Linktype,
    /// Timestamp units per second.
    pub resolution: u64,
    pub offset_secs: i64,
}

/// Calls `each` for every packet in `input`, in file order. Returns how many blocks were read.
/// `input_len` bounds the read buffer: no block can be larger than the input. Every byte of
/// the input is sent to `feed` (when given), whether or not the packets could all be read.
pub fn for_each_packet<R: Read + Send>(
    input: R,
    input_len: u64,
    feed: Option<Feed>,
    mut each: impl FnMut(Packet<'_>),
) -> Result<u64, ReadError> {
    let max_block = usize::try_from(input_len.saturating_add(1))
        .unwrap_or(MAX_BLOCK)
        .min(MAX_BLOCK);
    let mut chunks = Chunks::new(input, feed);
    let read = match chunks.fill(READ_CAPACITY) {
        Err(_) => Err(ReadError {
            offset: 0,
            what: "read failed".to_string(),
        }),
        Ok(()) => match legacy_pcap::Header::parse(chunks.data()) {
            Some(header) => legacy_pcap::for_each_record(
                &mut chunks,
                header,
                READ_CAPACITY,
                max_block,
                &mut each,
            ),
            None => for_each_block(&mut chunks, max_block, &mut each),
        },
    };
    chunks.finish();
    read
}

/// [`for_each_packet`] by pcap-parser's reader: pcapng, and legacy pcap of the rarer kinds.
fn for_each_block<R: Read + Send>(
    input: &mut Chunks<R>,
    max_block: usize,
    each: &mut dyn FnMut(Packet<'_>),
) -> Result<u64, ReadError> {
    let mut reader = create_reader(READ_CAPACITY, input).map_err(|e| ReadError {
        offset: 0,
        what: match e {
            PcapError::Eof => "empty file".to_string(),
            PcapError::Incomplete(_) | PcapError::UnexpectedEof => {
                "truncated file header".to_string()
            }
            PcapError::ReadError => "read failed".to_string(),
            _ => "not a pcap or pcapng file (unknown magic number)".to_string(),
        },
    })?;
    let mut capacity = READ_CAPACITY;
    let mut legacy: Option<Interface> = None;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut blocks = 0u64;
    loop {
        let offset = reader.consumed() as u64;
        match reader.next() {
            Ok((length, block)) => {
                blocks += 1;
                match block {
                    PcapBlockOwned::LegacyHeader(header) => {
                        legacy = Some(Interface {
                            linktype: header.network,
                            resolution: if header.is_nanosecond_precision() {
                                1_000_000_000
                            } else {
                                1_000_000
                            },
                            offset_secs: 0,
                        });
                    }
                    PcapBlockOwned::Legacy(packet) => {
                        if let Some(iface) = legacy {
                            let units = u64::from(packet.ts_sec) * iface.resolution
                                + u64::from(packet.ts_usec);
                            each(Packet {
                                timestamp_ns: to_nanos(units, iface),
                                linktype: iface.linktype,
                                data: packet.data,
                                offset,
                            });
                        }
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push(Interface {
                            linktype: idb.linktype,
                            resolution: idb.ts_resolution().unwrap_or(1_000_000).max(1),
                            offset_secs: idb.ts_offset(),
                        })
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let Some(iface) = interfaces.get(epb.if_id as usize).copied() else {
                            return Err(ReadError {
                                offset,
                                what: format!("packet for undeclared interface {}", epb.if_id),
                            });
                        };
                        let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                        each(Packet {
                            timestamp_ns: to_nanos(units, iface),
                            linktype: iface.linktype,
                            data: epb.data,
                            offset,
                        });
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        if let Some(iface) = interfaces.first().copied() {
                            each(Packet {
                                timestamp_ns: 0,
                                linktype: iface.linktype,
                                data: spb.data,
                                offset,
                            });
                        }
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(length);
            }
            Err(PcapError::Eof) => return Ok(blocks),
            Err(PcapError::Incomplete(_)) => reader.refill().map_err(|_| ReadError {
                offset,
                what: "read failed".to_string(),
            })?,
            Err(PcapError::BufferTooSmall) => {
                if capacity >= max_block {
                    return Err(ReadError {
                        offset,
                        what: format!(
                            "block larger than the {}-byte limit (a corrupt length?)",
                            max_block
                        ),
                    });
                }
                capacity = (capacity * 2).min(max_block);
                reader.grow(capacity);
                reader.refill().map_err(|_| ReadError {
                    offset,
                    what: "read failed".to_string(),
                })?;
            }
            Err(PcapError::UnexpectedEof) => {
                return Err(ReadError {
                    offset,
                    what: "truncated block (the file ends inside it)".to_string(),
                });
            }
            Err(e) => {
                return Err(ReadError {
                    offset,
                    what: format!("corrupt block ({})", describe(&e)),
                });
            }
        }
    }
}

pub(super) fn to_nanos(units: u64, iface: Interface) -> u64 {
    // Micro- and nanoseconds with no offset, as nearly every capture has them: no 128-bit
    // division for every packet.
    if iface.offset_secs == 0 {
        let nanos = match iface.resolution {
            1_000_000_000 => Some(units),
            1_000_000 => units.checked_mul(1_000),
            _ => None,
        };
        if let Some(nanos) = nanos {
            return nanos;
        }
    }
    let nanos = u128::from(units) * 1_000_000_000 / u128::from(iface.resolution);
    let shifted = nanos as i128 + i128::from(iface.offset_secs) * 1_000_000_000;
    shifted.clamp(0, i128::from(u64::MAX)) as u64
}

fn describe(error: &PcapError<&[u8]>) -> String {
    match error {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => format!("{kind:?}"),
        PcapError::HeaderNotRecognized => "header not recognized".to_string(),
        PcapError::ReadError => "read failed".to_string(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Read = (Vec<(u64, i32, Vec<u8>, u64)>, Result<u64, ReadError>);

    /// Every packet and the outcome, as `for_each_packet` reads `file`.
    fn read_fast(file: &[u8]) -> Read {
        let mut packets = Vec::new();
        let result = for_each_packet(file, file.len() as u64, None, |p| {
            packets.push((p.timestamp_ns, p.linktype.0, p.data.to_vec(), p.offset))
        });
        (packets, result)
    }

    /// The same, read by pcap-parser's reader.
    fn read_by_pcap_parser(file: &[u8]) -> Read {
        let max_block = (file.len() + 1).min(MAX_BLOCK);
        let mut packets = Vec::new();
        let result = for_each_block(&mut Chunks::new(file, None), max_block, &mut |p| {
            packets.push((p.timestamp_ns, p.linktype.0, p.data.to_vec(), p.offset))
        });
        (packets, result)
    }

    /// A legacy pcap in the given byte order and resolution: records of 0 bytes to over 1 MiB (past
    /// the first read), each a different length.
    fn legacy(big_endian: bool, nanos: bool) -> Vec<u8> {
        let word = |v: u32| match big_endian {
            true => v.to_be_bytes(),
            false => v.to_le_bytes(),
        };
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let mut file = Vec::new();
        file.extend(word(magic));
        file.extend(&word(0x0004_0002)[..]);
        file.extend(word(0));
        file.extend(word(0));
        file.extend(word(262_144));
        file.extend(word(1));
        for (i, len) in [60usize, 0, 1514, (1 << 20) + 5000, 7, 9000]
            .into_iter()
            .enumerate()
        {
            file.extend(word(1_066_262_400 + i as u32));
            file.extend(word(999 * i as u32));
            file.extend(word(len as u32));
            file.extend(word(len as u32));
            file.extend((0..len).map(|b| (b * 7 + i) as u8));
        }
        file
    }

    #[test]
    fn legacy_pcap_reads_as_pcap_parser_reads_it_whole_cut_short_or_with_a_bad_length() {
        for (big_endian, nanos) in [(false, false), (false, true), (true, false), (true, true)] {
            let file = legacy(big_endian, nanos);
            let whole = read_fast(&file);
            assert_eq!(whole.0.len(), 6);
            assert_eq!(whole.1, Ok(7));
            assert_eq!(whole, read_by_pcap_parser(&file));
            let record_starts = whole.0.iter().map(|p| p.3 as usize);
            let cuts: Vec<usize> = record_starts
                .flat_map(|at| [at, at + 1, at + 15, at + 16, at + 17, at + 100])
                .chain([0, 3, 23, 24, 25, file.len() - 1])
                .collect();
            for cut in cuts {
                let cut = &file[..cut.min(file.len())];
                assert_eq!(
                    read_fast(cut),
                    read_by_pcap_parser(cut),
                    "cut at {}",
                    cut.len()
                );
            }
            // A record whose length field says more than the file holds, or than any block.
            for length in [5000u32, 3 << 20, 1 << 30, u32::MAX] {
                let mut bad = file.clone();
                let second = whole.0[1].3 as usize;
                let field = match big_endian {
                    true => length.to_be_bytes(),
                    false => length.to_le_bytes(),
                };
                bad[second + 8..second + 12].copy_from_slice(&field);
                assert_eq!(
                    read_fast(&bad),
                    read_by_pcap_parser(&bad),
                    "length {length}"
                );
            }
        }
    }

    #[test]
    fn timestamps_in_every_resolution_and_offset_come_out_in_nanoseconds() {
        let at = |resolution, offset_secs, units| {
            let iface = Interface {
                linktype: Linktype::ETHERNET,
                resolution,
                offset_secs,
            };
            to_nanos(units, iface)
        };
        let second = 1_066_262_400u64;
        assert_eq!(
            at(1_000_000, 0, second * 1_000_000 + 7),
            second * 1_000_000_000 + 7_000
        );
        assert_eq!(
            at(1_000_000_000, 0, second * 1_000_000_000 + 7),
            second * 1_000_000_000 + 7
        );
        assert_eq!(
            at(1_000, 0, second * 1_000 + 7),
            second * 1_000_000_000 + 7_000_000
        );
        assert_eq!(at(1_000_000, 2, 5), 2_000_005_000);
        assert_eq!(at(1_000_000, -1, 5), 0);
        assert_eq!(at(1_000_000, 0, u64::MAX), u64::MAX);
    }
}
