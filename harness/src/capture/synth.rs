//! Synthetic captures for benchmarks: many sessions of a dialect's synthetic traffic, 64 in
//! flight at once with their packets interleaved, as on a busy server.

use super::pcapng::{Link, PcapWriter, TcpSession};
use crate::dialect::Dialect;
use std::io::BufWriter;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

const IN_FLIGHT: usize = 64;

/// How much a synthetic capture holds.
#[derive(Debug, Clone, Copy)]
pub enum Amount {
    /// At least this many bytes of whole synthetic sessions.
    Bytes(u64),
    /// This many sessions, each cut to its first `messages` messages (its handshake), for a
    /// capture of many sessions in little room.
    Sessions { count: u64, messages: usize },
}

fn session_packets(dialect: &dyn Dialect, n: u64, messages: usize) -> Vec<Vec<u8>> {
    let client = SocketAddr::new(
        Ipv4Addr::new(10, (n >> 16) as u8, (n >> 8) as u8, n as u8).into(),
        20_000 + (n % 40_000) as u16,
    );
    let server = SocketAddr::new(Ipv4Addr::new(192, 0, 2, 1).into(), dialect.default_port());
    let mut tcp = TcpSession::new(client, server, n as u32 * 7919, n as u32 * 104_729);
    let mut exchanges = dialect.synthetic_session(n);
    exchanges.truncate(messages);
    let borrowed: Vec<_> = exchanges.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    tcp.whole(&borrowed)
        .into_iter()
        .map(|p| Link::Ethernet.frame(&p))
        .collect()
}

/// Writes at least `size` bytes of the dialect's synthetic sessions to `path`; returns the
/// number of sessions (none when the dialect makes no synthetic traffic).
pub fn write_capture(dialect: &dyn Dialect, path: &Path, size: u64) -> std::io::Result<u64> {
    write(dialect, path, Amount::Bytes(size))
}

/// Writes the dialect's synthetic sessions to `path`, as much as `amount` says; returns the
/// number of sessions.
pub fn write(dialect: &dyn Dialect, path: &Path, amount: Amount) -> std::io::Result<u64> {
    let (size, sessions, messages) = match amount {
        Amount::Bytes(size) => (size, u64::MAX, usize::MAX),
        Amount::Sessions { count, messages } => (u64::MAX, count, messages),
    };
    if dialect.synthetic_session(0).is_empty() {
        return Err(std::io::Error::other(format!(
            "the {} dialect makes no synthetic traffic",
            dialect.name()
        )));
    }
    let file = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut pcap = PcapWriter::new(file, Link::Ethernet.linktype(), false)?;
    let mut written = 24u64;
    let mut ts = 1_066_262_400_000_000_000u64;
    let mut next_session = 0u64;
    let mut flights: Vec<std::vec::IntoIter<Vec<u8>>> = Vec::new();
    let mut result = Ok(());
    let more = |written: u64, next: u64| written < size && next < sessions;
    while more(written, next_session) || !flights.is_empty() {
        while flights.len() < IN_FLIGHT && more(written, next_session) {
            flights.push(session_packets(dialect, next_session, messages).into_iter());
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
