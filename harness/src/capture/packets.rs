//! Streams packets out of a pcap or pcapng file: legacy pcap (micro- and nanosecond), pcapng
//! with several sections and interfaces (each with its own link type and timestamp resolution).
//! Memory is the read buffer, grown only as far as one block needs, up to a cap.

use pcap_parser::pcapng::Block;
use pcap_parser::{Linktype, PcapBlockOwned, PcapError, create_reader};
use std::io::Read;

/// Bytes read at a time; a block larger than this grows the buffer.
const READ_CAPACITY: usize = 1 << 20;
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
struct Interface {
    linktype: Linktype,
    /// Timestamp units per second.
    resolution: u64,
    offset_secs: i64,
}

/// Calls `each` for every packet in `input`, in file order. Returns how many blocks were read.
/// `input_len` bounds the read buffer: no block can be larger than the input.
pub fn for_each_packet<R: Read + Send>(
    input: R,
    input_len: u64,
    mut each: impl FnMut(Packet<'_>),
) -> Result<u64, ReadError> {
    let max_block = usize::try_from(input_len.saturating_add(1))
        .unwrap_or(MAX_BLOCK)
        .min(MAX_BLOCK);
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

fn to_nanos(units: u64, iface: Interface) -> u64 {
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
