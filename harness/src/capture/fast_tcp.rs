//! The frame most captures are made of, read directly: Ethernet II (or raw IP) carrying an
//! unfragmented IPv4 datagram with a TCP segment, every length in agreement. The general
//! decoder (`link`, through etherparse) slices every layer for every link type, which costs
//! the import's reader thread more than reassembly does; this gives the same segment for the
//! frames it takes and leaves everything else (VLAN tags, IPv6, fragments, lengths that do
//! not add up, short frames) to the general way.

use super::link::Segment;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

const ETHERNET_HEADER: usize = 14;
const IPV4: [u8; 2] = [0x08, 0x00];
const TCP: u8 = 6;
/// The IPv4 flags and offset bits that make a fragment: more-fragments and the offset.
const FRAGMENT_BITS: u16 = 0x3fff;
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// The TCP segment in an Ethernet II frame, when it is the common case.
pub fn ethernet(frame: &[u8]) -> Option<Segment<'_>> {
    if frame.get(12..ETHERNET_HEADER)? != IPV4 {
        return None;
    }
    ipv4(&frame[ETHERNET_HEADER..])
}

/// The TCP segment in an IPv4 datagram, when it is whole and its lengths agree. Bytes past
/// the datagram's total length (Ethernet padding) are not the segment's.
pub fn ipv4(ip: &[u8]) -> Option<Segment<'_>> {
    let first = *ip.first()?;
    let header = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header < 20 || ip.len() < header || ip[9] != TCP {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if total < header || total > ip.len() {
        return None;
    }
    if u16::from_be_bytes([ip[6], ip[7]]) & FRAGMENT_BITS != 0 {
        return None;
    }
    let tcp = &ip[header..total];
    if tcp.len() < 20 {
        return None;
    }
    let offset = usize::from(tcp[12] >> 4) * 4;
    if offset < 20 || offset > tcp.len() {
        return None;
    }
    let address = |at: usize| IpAddr::V4(Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]));
    let port = |at: usize| u16::from_be_bytes([tcp[at], tcp[at + 1]]);
    let flags = tcp[13];
    Some(Segment {
        src: SocketAddr::new(address(12), port(0)),
        dst: SocketAddr::new(address(16), port(2)),
        seq: u32::from_be_bytes([tcp[4], tcp[5], tcp[6], tcp[7]]),
        syn: flags & SYN != 0,
        ack: flags & ACK != 0,
        fin: flags & FIN != 0,
        rst: flags & RST != 0,
        payload: &tcp[offset..],
    })
}

#[cfg(test)]
mod tests {
    use super::super::link::{Frame, sliced};
    use super::*;
    use pcap_parser::Linktype;
    use proptest::prelude::*;

    /// An Ethernet frame: IPv4 (with `options` words of options), TCP, the payload, padding.
    fn frame(options: usize, payload: &[u8], padding: usize) -> Vec<u8> {
        let header = 20 + options * 4;
        let total = header + 20 + payload.len();
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
        f.extend([0x40 | (header / 4) as u8, 0]);
        f.extend((total as u16).to_be_bytes());
        f.extend([0x12, 0x34, 0x40, 0x00, 64, TCP, 0, 0]);
        f.extend([10, 0, 0, 1, 192, 0, 2, 1]);
        f.extend(vec![1u8; options * 4]);
        f.extend([0x9c, 0x40, 0x07, 0x47]);
        f.extend(1000u32.to_be_bytes());
        f.extend(2000u32.to_be_bytes());
        f.extend([0x50, ACK | 0x08, 0xff, 0xff, 0, 0, 0, 0]);
        f.extend(payload);
        f.extend(vec![0u8; padding]);
        f
    }

    #[test]
    fn the_common_frame_is_read_as_the_general_decoder_reads_it() {
        for (options, padding) in [(0, 0), (0, 6), (2, 0), (10, 3)] {
            let f = frame(options, b"VER 1 MSNP8 CVR0\r\n", padding);
            let fast = ethernet(&f).expect("the common case");
            assert_eq!(fast.payload, b"VER 1 MSNP8 CVR0\r\n");
            assert_eq!(fast.src, "10.0.0.1:40000".parse().unwrap());
            assert_eq!(fast.dst, "192.0.2.1:1863".parse().unwrap());
            assert_eq!(sliced(Linktype::ETHERNET, &f), Frame::Tcp(fast));
        }
    }

    #[test]
    fn fragments_and_other_layers_go_the_general_way() {
        let mut fragment = frame(0, b"x", 0);
        fragment[14 + 6] = 0x20;
        assert_eq!(ethernet(&fragment), None);
        let mut vlan = frame(0, b"x", 0);
        vlan[12..14].copy_from_slice(&[0x81, 0x00]);
        assert_eq!(ethernet(&vlan), None);
        let short = frame(0, b"payload", 0);
        assert_eq!(ethernet(&short[..short.len() - 1]), None);
    }

    proptest! {
        /// Whatever is changed in a frame's headers or wherever it is cut, a segment read
        /// here is the one the general decoder reads.
        #[test]
        fn what_it_reads_the_general_decoder_reads_alike(
            options in 0usize..4,
            payload in proptest::collection::vec(any::<u8>(), 0..64),
            padding in 0usize..8,
            changes in proptest::collection::vec((0usize..80, any::<u8>()), 0..4),
            cut in 0usize..200,
        ) {
            let mut f = frame(options, &payload, padding);
            for (at, byte) in changes {
                if at < f.len() {
                    f[at] = byte;
                }
            }
            if cut >= 100 {
                let n = f.len();
                f.truncate(n - (cut - 100) % (n + 1));
            }
            if let Some(fast) = ethernet(&f) {
                prop_assert_eq!(sliced(Linktype::ETHERNET, &f), Frame::Tcp(fast));
            }
            if let Some(fast) = ipv4(&f[14.min(f.len())..]) {
                prop_assert_eq!(sliced(Linktype::RAW, &f[14..]), Frame::Tcp(fast));
            }
        }
    }
}
