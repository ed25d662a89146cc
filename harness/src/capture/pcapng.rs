//! Writing captures: pcapng (sections, interfaces, enhanced packets) and legacy pcap, and a
//! synthesiser that turns a TCP session's payloads into packets (handshake, data, FINs) over
//! the link types the importer reads. `harness record` writes its sessions with it; the tests
//! build their fixtures with it.

use crate::direction::Direction;
use etherparse::{PacketBuilder, TcpHeader};
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const EPB: u32 = 6;

fn block(out: &mut impl Write, kind: u32, body: &[u8]) -> io::Result<()> {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&vec![0u8; padded - body.len()])?;
    out.write_all(&total.to_le_bytes())
}

/// A little-endian pcapng file, nanosecond timestamps on every interface.
pub struct PcapngWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapngWriter<W> {
    pub fn new(out: W) -> io::Result<PcapngWriter<W>> {
        let mut writer = PcapngWriter { out };
        writer.section()?;
        Ok(writer)
    }

    /// Starts a new section: interfaces must be declared again.
    pub fn section(&mut self) -> io::Result<()> {
        let mut body = Vec::new();
        body.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&(-1i64).to_le_bytes());
        block(&mut self.out, SHB, &body)
    }

    /// Declares an interface with a link type and nanosecond resolution.
    pub fn interface(&mut self, linktype: u16) -> io::Result<()> {
        let mut body = Vec::new();
        body.extend_from_slice(&linktype.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes());
        body.extend_from_slice(&262_144u32.to_le_bytes());
        // if_tsresol = 9 (10^-9 s), then opt_endofopt.
        body.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        block(&mut self.out, IDB, &body)
    }

    pub fn packet(&mut self, interface: u32, timestamp_ns: u64, data: &[u8]) -> io::Result<()> {
        let mut body = Vec::with_capacity(20 + data.len());
        body.extend_from_slice(&interface.to_le_bytes());
        body.extend_from_slice(&((timestamp_ns >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(timestamp_ns as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        block(&mut self.out, EPB, &body)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// A little-endian legacy pcap file.
pub struct PcapWriter<W: Write> {
    out: W,
    nanos: bool,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut out: W, linktype: u16, nanos: bool) -> io::Result<PcapWriter<W>> {
        let magic: u32 = if nanos { 0xA1B2_3C4D } else { 0xA1B2_C3D4 };
        out.write_all(&magic.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&262_144u32.to_le_bytes())?;
        out.write_all(&u32::from(linktype).to_le_bytes())?;
        Ok(PcapWriter { out, nanos })
    }

    /// Writes a packet whose first `captured` bytes were kept (a snap length).
    pub fn packet_truncated(
        &mut self,
        timestamp_ns: u64,
        data: &[u8],
        captured: usize,
    ) -> io::Result<()> {
        let kept = &data[..captured.min(data.len())];
        let secs = (timestamp_ns / 1_000_000_000) as u32;
        let frac = if self.nanos {
            timestamp_ns % 1_000_000_000
        } else {
            timestamp_ns % 1_000_000_000 / 1_000
        } as u32;
        for field in [secs, frac, kept.len() as u32, data.len() as u32] {
            self.out.write_all(&field.to_le_bytes())?;
        }
        self.out.write_all(kept)
    }

    pub fn packet(&mut self, timestamp_ns: u64, data: &[u8]) -> io::Result<()> {
        self.packet_truncated(timestamp_ns, data, data.len())
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The link layer to wrap IP packets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    RawIp,
    Ethernet,
    EthernetVlan(u16),
    /// Linux cooked v1 from an interface of this ARPHRD hardware type (1 Ethernet, 772
    /// loopback, 65534 tun, ...), as `tcpdump -i any` writes.
    LinuxSll(u16),
    LinuxSll2,
    BsdNull,
}

impl Link {
    pub fn linktype(self) -> u16 {
        match self {
            Link::RawIp => 101,
            Link::Ethernet | Link::EthernetVlan(_) => 1,
            Link::LinuxSll(_) => 113,
            Link::LinuxSll2 => 276,
            Link::BsdNull => 0,
        }
    }

    /// Wraps an IP packet in this link's header.
    pub fn frame(self, ip: &[u8]) -> Vec<u8> {
        let v6 = ip.first().is_some_and(|b| b >> 4 == 6);
        let ethertype: u16 = if v6 { 0x86DD } else { 0x0800 };
        let mut out = Vec::with_capacity(ip.len() + 24);
        match self {
            Link::RawIp => {}
            Link::Ethernet => {
                out.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]);
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            Link::EthernetVlan(id) => {
                out.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00]);
                out.extend_from_slice(&(id & 0x0FFF).to_be_bytes());
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            Link::LinuxSll(hardware) => {
                // Packet type (0: to us), hardware type, address length, address (8 bytes).
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&hardware.to_be_bytes());
                out.extend_from_slice(&[0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
                out.extend_from_slice(&ethertype.to_be_bytes());
            }
            Link::LinuxSll2 => {
                out.extend_from_slice(&ethertype.to_be_bytes());
                out.extend_from_slice(&[
                    0, 0, 0, 0, 0, 1, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0,
                ]);
            }
            Link::BsdNull => {
                let family: u32 = if v6 { 30 } else { 2 };
                out.extend_from_slice(&family.to_le_bytes());
            }
        }
        out.extend_from_slice(ip);
        out
    }
}

/// Builds the packets of one TCP connection: both sides' sequence numbers kept consistent.
pub struct TcpSession {
    pub client: SocketAddr,
    pub server: SocketAddr,
    client_seq: u32,
    server_seq: u32,
}

/// TCP flags for one synthesised segment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
}

impl Flags {
    const NONE: Flags = Flags {
        syn: false,
        ack: false,
        fin: false,
        rst: false,
    };
    pub const SYN: Flags = Flags {
        syn: true,
        ..Flags::NONE
    };
    pub const SYN_ACK: Flags = Flags {
        ack: true,
        ..Flags::SYN
    };
    pub const ACK: Flags = Flags {
        ack: true,
        ..Flags::NONE
    };
    pub const FIN_ACK: Flags = Flags {
        fin: true,
        ..Flags::ACK
    };
}

impl TcpSession {
    pub fn new(
        client: SocketAddr,
        server: SocketAddr,
        client_isn: u32,
        server_isn: u32,
    ) -> TcpSession {
        TcpSession {
            client,
            server,
            client_seq: client_isn,
            server_seq: server_isn,
        }
    }

    /// The next sequence number of one side.
    pub fn seq(&self, from: Direction) -> u32 {
        match from {
            Direction::Client => self.client_seq,
            Direction::Server => self.server_seq,
        }
    }

    /// An IP packet from one side with an explicit sequence number; does not advance.
    pub fn raw(&self, from: Direction, seq: u32, flags: Flags, payload: &[u8]) -> Vec<u8> {
        let (src, dst, ack) = match from {
            Direction::Client => (self.client, self.server, self.server_seq),
            Direction::Server => (self.server, self.client, self.client_seq),
        };
        let mut tcp = TcpHeader::new(src.port(), dst.port(), seq, 65_535);
        tcp.syn = flags.syn;
        tcp.fin = flags.fin;
        tcp.rst = flags.rst;
        tcp.psh = !payload.is_empty();
        if flags.ack {
            tcp.ack = true;
            tcp.acknowledgment_number = ack;
        }
        let builder = match (src.ip(), dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => PacketBuilder::ipv4(s.octets(), d.octets(), 64),
            (IpAddr::V6(s), IpAddr::V6(d)) => PacketBuilder::ipv6(s.octets(), d.octets(), 64),
            (s, d) => {
                let (s, d) = (to_v6(s), to_v6(d));
                PacketBuilder::ipv6(s, d, 64)
            }
        };
        let mut out = Vec::with_capacity(payload.len() + 60);
        // Writing to a Vec fails only on a payload too large for IP, which callers never pass.
        let _ = builder.tcp_header(tcp).write(&mut out, payload);
        out
    }

    /// The next packet from one side, advancing its sequence number past SYN, data and FIN.
    pub fn next(&mut self, from: Direction, flags: Flags, payload: &[u8]) -> Vec<u8> {
        let packet = self.raw(from, self.seq(from), flags, payload);
        let advance = payload.len() as u32 + u32::from(flags.syn) + u32::from(flags.fin);
        match from {
            Direction::Client => self.client_seq = self.client_seq.wrapping_add(advance),
            Direction::Server => self.server_seq = self.server_seq.wrapping_add(advance),
        }
        packet
    }

    /// SYN, SYN-ACK, ACK.
    pub fn open(&mut self) -> Vec<Vec<u8>> {
        vec![
            self.next(Direction::Client, Flags::SYN, &[]),
            self.next(Direction::Server, Flags::SYN_ACK, &[]),
            self.next(Direction::Client, Flags::ACK, &[]),
        ]
    }

    /// One data segment.
    pub fn data(&mut self, from: Direction, payload: &[u8]) -> Vec<u8> {
        self.next(from, Flags::ACK, payload)
    }

    /// FIN from the client, FIN from the server, the last ACK.
    pub fn close(&mut self) -> Vec<Vec<u8>> {
        vec![
            self.next(Direction::Client, Flags::FIN_ACK, &[]),
            self.next(Direction::Server, Flags::FIN_ACK, &[]),
            self.next(Direction::Client, Flags::ACK, &[]),
        ]
    }

    /// A whole connection: open, the exchanges in order, close.
    pub fn whole(&mut self, exchanges: &[(Direction, &[u8])]) -> Vec<Vec<u8>> {
        let mut packets = self.open();
        for (from, payload) in exchanges {
            packets.push(self.data(*from, payload));
        }
        packets.extend(self.close());
        packets
    }
}

fn to_v6(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}
