//! Synthetic captures for benchmarks: many MSNP sessions (handshake, then chat traffic),
//! 64 in flight at once with their packets interleaved, as on a busy server.

use super::pcapng::{Link, PcapWriter, TcpSession};
use crate::runner::Direction::{self, Client, Server};
use std::io::BufWriter;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

const IN_FLIGHT: usize = 64;

fn session_packets(n: u64) -> Vec<Vec<u8>> {
    let client = SocketAddr::new(
        Ipv4Addr::new(10, (n >> 16) as u8, (n >> 8) as u8, n as u8).into(),
        20_000 + (n % 40_000) as u16,
    );
    let server = SocketAddr::new(Ipv4Addr::new(207, 46, 106, 118).into(), 1863);
    let mut tcp = TcpSession::new(client, server, n as u32 * 7919, n as u32 * 104_729);
    let email = format!("user{n}@hotmail.com");
    let mut exchanges: Vec<(Direction, Vec<u8>)> = vec![
        (Client, b"VER 1 MSNP9 MSNP8 CVR0\r\n".to_vec()),
        (Server, b"VER 1 MSNP9 CVR0\r\n".to_vec()),
        (Client, format!("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS {email}\r\n").into_bytes()),
        (Server, b"CVR 2 6.0.0602 6.0.0602 5.0 http://messenger.msn.com/download/ http://messenger.msn.com\r\n".to_vec()),
        (Client, format!("USR 3 TWN I {email}\r\n").into_bytes()),
        (Server, b"USR 3 TWN S lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619\r\n".to_vec()),
        (Client, b"USR 4 TWN S t=ticket&p=profile\r\n".to_vec()),
        (Server, format!("USR 4 OK {email} {email} 1 0\r\n").into_bytes()),
    ];
    for i in 0..40u32 {
        let body = format!(
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n\r\nmessage {i} {}",
            "x".repeat(400)
        );
        let trid = 5 + i;
        exchanges.push((
            Client,
            format!("MSG {trid} A {}\r\n{body}", body.len()).into_bytes(),
        ));
        exchanges.push((Server, format!("ACK {trid}\r\n").into_bytes()));
    }
    let borrowed: Vec<_> = exchanges.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    tcp.whole(&borrowed)
        .into_iter()
        .map(|p| Link::Ethernet.frame(&p))
        .collect()
}

/// Writes at least `size` bytes of sessions to `path`; returns the number of sessions.
pub fn write_msnp_capture(path: &Path, size: u64) -> std::io::Result<u64> {
    let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut pcap = PcapWriter::new(file, Link::Ethernet.linktype(), false)?;
    let mut written = 24u64;
    let mut ts = 1_066_262_400_000_000_000u64;
    let mut next_session = 0u64;
    let mut flights: Vec<std::vec::IntoIter<Vec<u8>>> = Vec::new();
    let mut result = Ok(());
    while written < size || !flights.is_empty() {
        while flights.len() < IN_FLIGHT && written < size {
            flights.push(session_packets(next_session).into_iter());
            next_session += 1;
        }
        flights.retain_mut(|packets| match packets.next() {
            Some(packet) => {
                ts += 10_000;
                written += 16 + packet.len() as u64;
                if let Err(e) = pcap.packet(ts, &packet) {
                    result = Err(e);
                }
                true
            }
            None => false,
        });
        result
            .as_ref()
            .map_err(|e| std::io::Error::new(e.kind(), e.to_string()))?;
    }
    pcap.into_inner().into_inner().map_err(|e| e.into_error())?;
    Ok(next_session)
}
