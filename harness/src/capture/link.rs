//! Link and network layers: finds the TCP segment in a captured frame, for the link types
//! captures come in (Ethernet with VLAN tags, Linux cooked SLL and SLL2, raw IPv4/IPv6, BSD
//! loopback/NULL), over IPv4 or IPv6; a fragment of a datagram is handed on whole, to be put
//! together with the others (`fragments`).

use etherparse::{EtherType, Ipv6ExtensionSlice, NetSlice, SlicedPacket, TcpSlice, TransportSlice};
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

/// One fragment of an IP datagram carrying TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub id: u32,
    pub protocol: u8,
    /// Where this fragment's bytes go in the datagram's payload.
    pub offset: usize,
    /// More fragments follow this one.
    pub more: bool,
    pub payload: &'a [u8],
}

/// What a frame held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    Tcp(Segment<'a>),
    /// A piece of a fragmented IP datagram carrying TCP: put together before it is read.
    Fragment(Fragment<'a>),
    /// UDP, ICMP, ARP, ...: skipped and counted.
    NotTcp,
    /// Truncated or malformed headers (e.g. a snap length cutting the frame short).
    Undecodable,
    UnsupportedLink,
}

const SLL_HEADER: usize = 16;
const SLL2_HEADER: usize = 20;
/// Protocol field values below this are not EtherTypes (Linux uses them for 802.2, CAN, ...).
const FIRST_ETHER_TYPE: u16 = 0x0600;

pub fn decode(linktype: Linktype, data: &[u8]) -> Frame<'_> {
    let common = match linktype {
        Linktype::ETHERNET => super::fast_tcp::ethernet(data),
        Linktype::RAW | Linktype::IPV4 => super::fast_tcp::ipv4(data),
        _ => None,
    };
    match common {
        Some(segment) => Frame::Tcp(segment),
        None => sliced(linktype, data),
    }
}

/// [`decode`] the general way: every layer sliced by etherparse.
pub(super) fn sliced(linktype: Linktype, data: &[u8]) -> Frame<'_> {
    let sliced = match linktype {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(data),
        // Linux cooked captures (`tcpdump -i any`): the header names the interface's hardware
        // type (Ethernet, loopback 772, tun 65534, cellular, ...) and the payload's protocol.
        // Only the protocol matters here, so every hardware type decodes alike.
        Linktype::LINUX_SLL | Linktype::LINUX_SLL2 => {
            let (at, header) = if linktype == Linktype::LINUX_SLL {
                (14, SLL_HEADER)
            } else {
                (0, SLL2_HEADER)
            };
            let (Some(protocol), Some(payload)) = (data.get(at..at + 2), data.get(header..)) else {
                return Frame::Undecodable;
            };
            let protocol = u16::from_be_bytes([protocol[0], protocol[1]]);
            if protocol < FIRST_ETHER_TYPE {
                return Frame::NotTcp;
            }
            SlicedPacket::from_ether_type(EtherType(protocol), payload)
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
        Some(NetSlice::Ipv4(ip)) => {
            let (src, dst) = (ip.header().source_addr(), ip.header().destination_addr());
            if ip.is_payload_fragmented() {
                let payload = ip.payload();
                if payload.ip_number != etherparse::IpNumber::TCP {
                    return Frame::NotTcp;
                }
                return Frame::Fragment(Fragment {
                    src: src.into(),
                    dst: dst.into(),
                    id: u32::from(ip.header().identification()),
                    protocol: payload.ip_number.0,
                    offset: usize::from(ip.header().fragments_offset().value()) * 8,
                    more: ip.header().more_fragments(),
                    payload: payload.payload,
                });
            }
            (src.into(), dst.into())
        }
        Some(NetSlice::Ipv6(ip)) => {
            let (src, dst) = (ip.header().source_addr(), ip.header().destination_addr());
            if ip.is_payload_fragmented() {
                let payload = ip.payload();
                let header = ip.extensions().clone().into_iter().find_map(|e| match e {
                    Ipv6ExtensionSlice::Fragment(f) => Some(f),
                    _ => None,
                });
                let Some(header) = header else {
                    return Frame::Undecodable;
                };
                if payload.ip_number != etherparse::IpNumber::TCP {
                    return Frame::NotTcp;
                }
                return Frame::Fragment(Fragment {
                    src: src.into(),
                    dst: dst.into(),
                    id: header.identification(),
                    protocol: payload.ip_number.0,
                    offset: usize::from(header.fragment_offset().value()) * 8,
                    more: header.more_fragments(),
                    payload: payload.payload,
                });
            }
            (src.into(), dst.into())
        }
        Some(NetSlice::Arp(_)) | None => return Frame::NotTcp,
    };
    match packet.transport {
        Some(TransportSlice::Tcp(tcp)) => Frame::Tcp(segment(src_ip, dst_ip, &tcp)),
        _ => Frame::NotTcp,
    }
}

/// The TCP segment in a reassembled datagram's payload.
pub fn reassembled(src: IpAddr, dst: IpAddr, payload: &[u8]) -> Frame<'_> {
    match TcpSlice::from_slice(payload) {
        Ok(tcp) => Frame::Tcp(segment(src, dst, &tcp)),
        Err(_) => Frame::Undecodable,
    }
}

fn segment<'a>(src: IpAddr, dst: IpAddr, tcp: &TcpSlice<'a>) -> Segment<'a> {
    Segment {
        src: SocketAddr::new(src, tcp.source_port()),
        dst: SocketAddr::new(dst, tcp.destination_port()),
        seq: tcp.sequence_number(),
        syn: tcp.syn(),
        ack: tcp.ack(),
        fin: tcp.fin(),
        rst: tcp.rst(),
        payload: tcp.payload(),
    }
}
