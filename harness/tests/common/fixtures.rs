//! Builds the capture fixtures in `tests/fixtures/`: one small file per situation the importer
//! must handle, named after it. `UPDATE_FIXTURES=1 cargo test --test import` rewrites them.

use harness::capture::pcapng::{Flags, Link, PcapWriter, PcapngWriter, TcpSession};
use harness::direction::Direction::{self, Client, Server};
use std::net::SocketAddr;

/// The MSNP handshake every fixture carries (MSN Messenger 6.0 against a 2003 server).
pub const EXCHANGES: &[(Direction, &[u8])] = &[
    (Client, b"VER 1 MSNP9 MSNP8 CVR0\r\n"),
    (Server, b"VER 1 MSNP9 CVR0\r\n"),
    (
        Client,
        b"CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS bob@hotmail.com\r\n",
    ),
    (
        Server,
        b"CVR 2 6.0.0602 6.0.0602 5.0 http://dl http://info\r\n",
    ),
    (Client, b"USR 3 TWN I bob@hotmail.com\r\n"),
    (Server, b"USR 3 TWN S lc=1033,id=507,tw=40\r\n"),
];

pub fn client_bytes() -> Vec<u8> {
    side(EXCHANGES, Client)
}

pub fn server_bytes() -> Vec<u8> {
    side(EXCHANGES, Server)
}

pub fn side(exchanges: &[(Direction, &[u8])], from: Direction) -> Vec<u8> {
    exchanges
        .iter()
        .filter(|(d, _)| *d == from)
        .flat_map(|(_, b)| b.to_vec())
        .collect()
}

const T0: u64 = 1_066_262_400_000_000_000; // 2003-10-16T00:00:00Z

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

fn session(client: &str) -> TcpSession {
    TcpSession::new(addr(client), addr("10.0.0.2:1863"), 1_000, 5_000_000)
}

fn pcap(link: Link, packets: &[Vec<u8>]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), link.linktype(), false).unwrap();
    for (i, p) in packets.iter().enumerate() {
        w.packet(T0 + i as u64 * 1_000_000, &link.frame(p)).unwrap();
    }
    w.into_inner()
}

/// Every fixture: file name and bytes.
pub fn all() -> Vec<(&'static str, Vec<u8>)> {
    let whole = session("10.0.0.1:40001").whole(EXCHANGES);
    let mut out = vec![("ethernet-whole-session.pcap", pcap(Link::Ethernet, &whole))];

    let mut swapped = whole.clone();
    swapped.swap(3, 5); // the client's VER after its CVR
    out.push(("out-of-order-segments.pcap", pcap(Link::Ethernet, &swapped)));

    let mut repeated = whole.clone();
    repeated.insert(6, whole[5].clone());
    repeated.insert(4, whole[3].clone());
    out.push(("retransmission.pcap", pcap(Link::Ethernet, &repeated)));

    out.push((
        "overlapping-segments.pcap",
        pcap(Link::Ethernet, &overlapping()),
    ));

    out.push(("mid-stream-start.pcap", pcap(Link::Ethernet, &whole[3..])));

    let mut lost = whole.clone();
    lost.remove(5); // the client's CVR never captured
    out.push(("lost-segment.pcap", pcap(Link::Ethernet, &lost)));

    let mut both = whole.clone();
    both.remove(5); // the client's CVR
    both.remove(4); // the server's VER
    out.push(("gaps-in-both-directions.pcap", pcap(Link::Ethernet, &both)));

    out.push((
        "overlapping-held-segments.pcap",
        pcap(Link::Ethernet, &overlapping_held()),
    ));

    let v6 = TcpSession::new(
        addr("[2001:db8::1]:40001"),
        addr("[2001:db8::2]:1863"),
        1,
        2,
    )
    .whole(EXCHANGES);
    out.push(("ipv6.pcap", pcap(Link::RawIp, &v6)));
    out.push(("linux-sll2.pcap", pcap(Link::LinuxSll2, &whole)));

    // The client's CVR segment (whole[5]) split into IP fragments of 32 bytes, sent last
    // first; and the same with the middle fragment never captured.
    let mut fragmented = whole.clone();
    let parts = fragment_ipv4(&whole[5], 32);
    fragmented.splice(5..6, [2, 0, 1].map(|i| parts[i].clone()));
    out.push(("ipv4-fragments.pcap", pcap(Link::Ethernet, &fragmented)));
    let mut lost_fragment = whole.clone();
    lost_fragment.splice(5..6, [2, 0].map(|i| parts[i].clone()));
    out.push((
        "ipv4-fragment-lost.pcap",
        pcap(Link::Ethernet, &lost_fragment),
    ));
    let mut v6_fragmented = v6.clone();
    let parts = fragment_ipv6(&v6[5], 32);
    v6_fragmented.splice(5..6, [1, 2, 0].map(|i| parts[i].clone()));
    out.push(("ipv6-fragments.pcap", pcap(Link::RawIp, &v6_fragmented)));
    // `tcpdump -i any` on the loopback interface (ARPHRD_LOOPBACK) and on a tun device
    // (ARPHRD_NONE): cooked headers whose hardware type is not Ethernet.
    out.push(("linux-sll-loopback.pcap", pcap(Link::LinuxSll(772), &whole)));
    out.push(("linux-sll-tun.pcap", pcap(Link::LinuxSll(65534), &whole)));
    out.push(("bsd-null-loopback.pcap", pcap(Link::BsdNull, &whole)));
    out.push(("ethernet-vlan.pcap", pcap(Link::EthernetVlan(42), &whole)));

    let mut nanos = PcapWriter::new(Vec::new(), Link::RawIp.linktype(), true).unwrap();
    for (i, p) in whole.iter().enumerate() {
        nanos.packet(T0 + i as u64 * 7 + 1, p).unwrap();
    }
    out.push(("nanosecond-timestamps.pcap", nanos.into_inner()));

    out.push(("two-sections-two-interfaces.pcapng", two_sections()));

    let mut reused = session("10.0.0.1:40001").whole(EXCHANGES);
    reused.extend(
        TcpSession::new(addr("10.0.0.1:40001"), addr("10.0.0.2:1863"), 90_000, 7_000)
            .whole(EXCHANGES),
    );
    out.push(("port-reuse.pcap", pcap(Link::RawIp, &reused)));

    out.push(("many-flows.pcap", many_flows(300)));
    out.push(("connection-idle-for-an-hour.pcap", idle_for_an_hour()));
    out.push(("syn-flood-then-a-session.pcap", syn_flood(1000)));

    let whole_file = pcap(Link::Ethernet, &whole);
    out.push(("err-truncated-header.pcap", whole_file[..14].to_vec()));
    out.push((
        "err-truncated-packet.pcap",
        whole_file[..whole_file.len() - 20].to_vec(),
    ));
    out.push(("err-snaplen-cuts-every-header.pcap", snap_cut(&whole, 20)));
    let mut wifi = PcapWriter::new(Vec::new(), 105, false).unwrap();
    for (i, p) in whole.iter().enumerate() {
        wifi.packet(T0 + i as u64, &Link::Ethernet.frame(p))
            .unwrap();
    }
    out.push(("err-unsupported-link-type.pcap", wifi.into_inner()));
    let mut bad_magic = whole_file.clone();
    bad_magic[..4].copy_from_slice(b"MSNP");
    out.push(("err-not-a-capture.pcap", bad_magic));
    out
}

/// An IPv4 packet's payload split into fragments of `size` bytes (a multiple of 8).
fn fragment_ipv4(packet: &[u8], size: usize) -> Vec<Vec<u8>> {
    let ihl = usize::from(packet[0] & 0x0f) * 4;
    let (header, payload) = packet.split_at(ihl);
    let chunks: Vec<&[u8]> = payload.chunks(size).collect();
    let last = chunks.len() - 1;
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut h = header.to_vec();
            h[2..4].copy_from_slice(&((ihl + chunk.len()) as u16).to_be_bytes());
            h[4..6].copy_from_slice(&0x4242u16.to_be_bytes());
            let more = if i < last { 0x2000 } else { 0 };
            h[6..8].copy_from_slice(&((i * size / 8) as u16 | more).to_be_bytes());
            h[10..12].copy_from_slice(&[0, 0]);
            let sum = h.chunks(2).fold(0u32, |sum, w| {
                sum + u32::from(u16::from_be_bytes([w[0], w[1]]))
            });
            let sum = (sum & 0xffff) + (sum >> 16);
            let sum = (sum & 0xffff) + (sum >> 16);
            h[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
            h.extend_from_slice(chunk);
            h
        })
        .collect()
}

/// An IPv6 packet's payload split into fragments of `size` bytes (a multiple of 8), each
/// behind a fragment header.
fn fragment_ipv6(packet: &[u8], size: usize) -> Vec<Vec<u8>> {
    let (header, payload) = packet.split_at(40);
    let chunks: Vec<&[u8]> = payload.chunks(size).collect();
    let last = chunks.len() - 1;
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut h = header.to_vec();
            h[4..6].copy_from_slice(&((8 + chunk.len()) as u16).to_be_bytes());
            h[6] = 44;
            let field = ((i * size / 8) as u16) << 3 | u16::from(i < last);
            h.extend_from_slice(&[header[6], 0]);
            h.extend_from_slice(&field.to_be_bytes());
            h.extend_from_slice(&0x4242_4242u32.to_be_bytes());
            h.extend_from_slice(chunk);
            h
        })
        .collect()
}

/// Ethernet frames of which only the first `snaplen` bytes were kept: no TCP header survives.
fn snap_cut(packets: &[Vec<u8>], snaplen: usize) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), Link::Ethernet.linktype(), false).unwrap();
    for (i, p) in packets.iter().enumerate() {
        w.packet_truncated(T0 + i as u64 * 1_000_000, &Link::Ethernet.frame(p), snaplen)
            .unwrap();
    }
    w.into_inner()
}

/// The client's CVR sent as two segments that overlap by 10 bytes, the second carrying
/// different bytes in the overlap (the first copy must win).
fn overlapping() -> Vec<Vec<u8>> {
    let mut s = session("10.0.0.1:40001");
    let mut packets = s.open();
    for (i, (from, payload)) in EXCHANGES.iter().enumerate() {
        if i != 2 {
            packets.push(s.data(*from, payload));
            continue;
        }
        let seq = s.seq(Client);
        let ack = Flags::ACK;
        packets.push(s.raw(Client, seq, ack, &payload[..30]));
        let mut second = payload[20..].to_vec();
        second[..10].copy_from_slice(b"XXXXXXXXXX");
        packets.push(s.raw(Client, seq + 20, ack, &second));
        // Advance the client's sequence number past the whole CVR; that packet is not captured.
        let _ = s.next(Client, Flags::default(), payload);
    }
    packets.extend(s.close());
    packets
}

/// The client's CVR (69 bytes) arrives out of order in five segments, three of which carry
/// different bytes (`X`) where an earlier-held copy already has them: a longer copy at the same
/// offset, a copy starting before a held one, and the in-order segment that fills the hole.
/// The first copy of every byte must win.
fn overlapping_held() -> Vec<Vec<u8>> {
    let mut s = session("10.0.0.1:40001");
    let mut packets = s.open();
    for (i, (from, payload)) in EXCHANGES.iter().enumerate() {
        if i != 2 {
            packets.push(s.data(*from, payload));
            continue;
        }
        let seq = s.seq(Client);
        let conflicting = |range: std::ops::Range<usize>, x: std::ops::Range<usize>| {
            let mut bytes = payload[range.clone()].to_vec();
            for b in &mut bytes[x.start - range.start..x.end - range.start] {
                *b = b'X';
            }
            bytes
        };
        let ack = Flags::ACK;
        packets.push(s.raw(Client, seq + 30, ack, &payload[30..50]));
        packets.push(s.raw(Client, seq + 30, ack, &conflicting(30..60, 30..50)));
        packets.push(s.raw(Client, seq + 20, ack, &conflicting(20..40, 30..40)));
        packets.push(s.raw(Client, seq, ack, &conflicting(0..25, 20..25)));
        packets.push(s.raw(Client, seq + 60, ack, &payload[60..]));
        let _ = s.next(Client, Flags::default(), payload);
    }
    packets.extend(s.close());
    packets
}

/// Section 1 declares a raw-IP and an Ethernet interface and spreads one session over both;
/// section 2 declares them again, in the other order, with a second session.
fn two_sections() -> Vec<u8> {
    let mut w = PcapngWriter::new(Vec::new()).unwrap();
    w.interface(Link::RawIp.linktype()).unwrap();
    w.interface(Link::Ethernet.linktype()).unwrap();
    for (i, p) in session("10.0.0.1:40001")
        .whole(EXCHANGES)
        .iter()
        .enumerate()
    {
        let (iface, link) = if i % 2 == 0 {
            (0, Link::RawIp)
        } else {
            (1, Link::Ethernet)
        };
        w.packet(iface, T0 + i as u64, &link.frame(p)).unwrap();
    }
    w.section().unwrap();
    w.interface(Link::Ethernet.linktype()).unwrap();
    w.interface(Link::RawIp.linktype()).unwrap();
    for (i, p) in session("10.0.0.3:40003")
        .whole(EXCHANGES)
        .iter()
        .enumerate()
    {
        let (iface, link) = if i % 2 == 0 {
            (0, Link::Ethernet)
        } else {
            (1, Link::RawIp)
        };
        w.packet(iface, T0 + 1_000 + i as u64, &link.frame(p))
            .unwrap();
    }
    w.into_inner()
}

/// A client that says VER and then nothing for an hour, while another connects and completes
/// its whole session.
fn idle_for_an_hour() -> Vec<u8> {
    let mut quiet = session("10.0.0.9:40009");
    let mut packets: Vec<(u64, Vec<u8>)> = quiet
        .open()
        .into_iter()
        .chain([quiet.data(Client, EXCHANGES[0].1)])
        .enumerate()
        .map(|(i, p)| (T0 + i as u64 * 1_000_000, p))
        .collect();
    let hour = 3_600_000_000_000;
    for (i, p) in session("10.0.0.1:40001")
        .whole(EXCHANGES)
        .into_iter()
        .enumerate()
    {
        packets.push((T0 + hour + i as u64 * 1_000_000, p));
    }
    let mut w = PcapWriter::new(Vec::new(), Link::RawIp.linktype(), false).unwrap();
    for (at, p) in packets {
        w.packet(at, &p).unwrap();
    }
    w.into_inner()
}

/// `n` clients that send a SYN and nothing more, then one whole session.
fn syn_flood(n: u16) -> Vec<u8> {
    let mut packets: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let client = format!("10.1.{}.{}:{}", i / 250, i % 250 + 1, 30_000 + i);
            session(&client).open().swap_remove(0)
        })
        .collect();
    packets.extend(session("10.0.0.1:40001").whole(EXCHANGES));
    pcap(Link::RawIp, &packets)
}

/// One connection: the handshake, then `n` one-byte client segments, each after a one-byte
/// hole that never fills.
pub fn bytes_between_holes(n: u32) -> Vec<u8> {
    let mut s = session("10.0.0.1:40001");
    let mut packets = s.open();
    let base = s.seq(Client);
    for i in 0..n {
        let byte = [b'a' + (i % 26) as u8];
        packets.push(s.raw(Client, base.wrapping_add(2 * i + 1), Flags::ACK, &byte));
    }
    pcap(Link::RawIp, &packets)
}

/// `n` sessions interleaved packet by packet, as a busy server's capture is.
fn many_flows(n: u16) -> Vec<u8> {
    let sessions: Vec<Vec<Vec<u8>>> = (0..n)
        .map(|i| {
            session(&format!("10.0.{}.{}:{}", i / 200, i % 200 + 1, 20_000 + i)).whole(EXCHANGES)
        })
        .collect();
    let mut interleaved = Vec::new();
    for round in 0..sessions[0].len() {
        for s in &sessions {
            interleaved.push(s[round].clone());
        }
    }
    pcap(Link::RawIp, &interleaved)
}
