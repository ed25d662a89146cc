//! Link and network layers: finds the TCP segment in a captured frame, for the link types
//! captures come in (Ethernet with VLAN tags, Linux cooked SLL and SLL2, raw IPv4/IPv6, BSD
//! loopback/NULL), over IPv4 or IPv6.

use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::Linktype;
use std::net::{IpAddr, SocketAddr};

/// A TCP segment's addressing, flags and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
}

/// What a frame held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    Tcp(Segment<'a>),
    /// UDP, ICMP, ARP, ...: skipped and counted.
    NotTcp,
    /// Truncated or malformed headers (e.g. a snap length cutting the frame short).
    Undecodable,
    UnsupportedLink,
}

const SLL2_HEADER: usize = 20;

pub fn decode(linktype: Linktype, data: &[u8]) -> Frame<'_> {
    let sliced = match linktype {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(data),
        Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(data),
        Linktype::LINUX_SLL2 => {
            if data.len() < SLL2_HEADER {
                return Frame::Undecodable;
            }
            let protocol = u16::from_be_bytes([data[0], data[1]]);
            SlicedPacket::from_ether_type(EtherType(protocol), &data[SLL2_HEADER..])
        }
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => SlicedPacket::from_ip(data),
        // BSD loopback: a 4-byte address family, in host order (NULL) or network order (LOOP).
        Linktype::NULL | Linktype::LOOP => {
            if data.len() < 4 {
                return Frame::Undecodable;
            }
            SlicedPacket::from_ip(&data[4..])
        }
        _ => return Frame::UnsupportedLink,
    };
    let Ok(packet) = sliced else {
        return Frame::Undecodable;
    };
    let (src_ip, dst_ip): (IpAddr, IpAddr) = match &packet.net {
        Some(NetSlice::Ipv4(ip)) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        Some(NetSlice::Ipv6(ip)) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        Some(NetSlice::Arp(_)) | None => return Frame::NotTcp,
    };
    match packet.transport {
        Some(TransportSlice::Tcp(tcp)) => Frame::Tcp(Segment {
            src: SocketAddr::new(src_ip, tcp.source_port()),
            dst: SocketAddr::new(dst_ip, tcp.destination_port()),
            seq: tcp.sequence_number(),
            syn: tcp.syn(),
            ack: tcp.ack(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            payload: tcp.payload(),
        }),
        _ => Frame::NotTcp,
    }
}
