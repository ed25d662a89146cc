//! The recording proxy: forwards each client connection to the upstream server and writes the
//! session as a capture case and as a pcapng file Wireshark opens.

use super::file::{self, Source};
use super::flows::{End, Event, Flow, MAX_FLOW_BYTES};
use super::output;
use super::pcapng::{Link, PcapngWriter, TcpSession};
use super::stream::Piece;
use crate::dialect::Dialect;
use crate::direction::Direction;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// One recorded session, written.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub case: PathBuf,
    pub pcapng: PathBuf,
    pub messages: usize,
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Proxies connections accepted on `listener` to `upstream`, sending each written session on
/// `done`. Runs until the listener task is dropped.
pub async fn proxy(
    listener: TcpListener,
    upstream: String,
    out: PathBuf,
    dialect: &'static dyn Dialect,
    connect_timeout: Duration,
    done: mpsc::UnboundedSender<Result<Recorded, String>>,
) {
    // Numbered after the sessions an earlier run left in the folder.
    let mut next_id = super::output::next_number(&out).unwrap_or(0);
    while let Ok((client, peer)) = listener.accept().await {
        let id = next_id;
        next_id += 1;
        let (upstream, out, done) = (upstream.clone(), out.clone(), done.clone());
        tokio::spawn(async move {
            let result = session(id, client, peer, &upstream, &out, dialect, connect_timeout).await;
            let _ = done.send(result);
        });
    }
}

async fn session(
    id: u64,
    client: TcpStream,
    peer: SocketAddr,
    upstream: &str,
    out: &Path,
    dialect: &'static dyn Dialect,
    connect_timeout: Duration,
) -> Result<Recorded, String> {
    let server = match tokio::time::timeout(connect_timeout, TcpStream::connect(upstream)).await {
        Ok(Ok(server)) => server,
        Ok(Err(e)) => return Err(format!("cannot reach upstream {upstream}: {e}")),
        Err(_) => {
            return Err(format!(
                "no connection to upstream {upstream} within {connect_timeout:?}"
            ));
        }
    };
    let server_addr = server.peer_addr().map_err(|e| e.to_string())?;
    let first = now_ns();
    let events = Arc::new(Mutex::new(Vec::<Event>::new()));
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let ends = tokio::join!(
        pump(client_read, server_write, Direction::Client, events.clone()),
        pump(server_read, client_write, Direction::Server, events.clone()),
    );
    let end = if ends.0 || ends.1 {
        End::Reset
    } else {
        End::Fin
    };
    let events = std::mem::take(&mut *events.lock().map_err(|_| "recording lock poisoned")?);
    write(id, peer, server_addr, first, events, end, out, dialect)
}

/// Copies one direction, recording each chunk; returns whether it ended in an error (reset).
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    direction: Direction,
    events: Arc<Mutex<Vec<Event>>>,
) -> bool {
    let mut buf = vec![0u8; 16 * 1024];
    let mut kept = 0usize;
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) => {
                let _ = to.shutdown().await;
                return false;
            }
            Ok(n) => n,
            Err(_) => return true,
        };
        if kept < MAX_FLOW_BYTES
            && let Ok(mut events) = events.lock()
        {
            kept += n;
            events.push(Event {
                direction,
                timestamp_ns: now_ns(),
                piece: Piece::Data(buf[..n].to_vec()),
            });
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return true;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write(
    id: u64,
    client: SocketAddr,
    server: SocketAddr,
    first: u64,
    events: Vec<Event>,
    end: End,
    out: &Path,
    dialect: &dyn Dialect,
) -> Result<Recorded, String> {
    let pcapng = session_pcapng(client, server, first, &events).map_err(|e| e.to_string())?;
    let sha256 = hex::encode(Sha256::digest(&pcapng));
    let flow = Flow::observed(id, (client, server), first, events, 0, end);
    let source_name = format!("harness record, {client} → {server}");
    let case = file::from_flow(
        flow,
        dialect,
        &Source {
            name: &source_name,
            sha256: Some(&sha256),
        },
    );
    let (case_path, pcapng_path) = write_pair(out, &case, id, &case.to_toml(), &pcapng)?;
    Ok(Recorded {
        case: case_path,
        pcapng: pcapng_path,
        messages: case.messages.len(),
    })
}

/// Writes the case and its pcapng under one new number: `id` unless another run took it
/// meanwhile, then the next free one. Never over an existing file.
fn write_pair(
    out: &Path,
    case: &file::CaptureFile,
    id: u64,
    toml: &str,
    pcapng: &[u8],
) -> Result<(PathBuf, PathBuf), String> {
    let mut id = id;
    for _ in 0..100 {
        let name = case.file_name(id);
        let pcapng_name = Path::new(&name).with_extension("pcapng");
        let pcapng_name = pcapng_name.to_string_lossy();
        let taken = |e: &std::io::Error| e.kind() == std::io::ErrorKind::AlreadyExists;
        match output::write_new(out, &name, toml.as_bytes(), false) {
            Ok(case_path) => match output::write_new(out, &pcapng_name, pcapng, false) {
                Ok(pcapng_path) => return Ok((case_path, pcapng_path)),
                Err(e) if taken(&e) => {
                    let _ = std::fs::remove_file(&case_path);
                }
                Err(e) => return Err(e.to_string()),
            },
            Err(e) if taken(&e) => {}
            Err(e) => return Err(e.to_string()),
        }
        id = output::next_number(out)
            .map_err(|e| e.to_string())?
            .max(id + 1);
    }
    Err(format!("no free file number in {}", out.display()))
}

/// The session as packets: handshake, each recorded chunk at its time, FINs.
fn session_pcapng(
    client: SocketAddr,
    server: SocketAddr,
    first: u64,
    events: &[Event],
) -> std::io::Result<Vec<u8>> {
    let mut writer = PcapngWriter::new(Vec::new())?;
    writer.interface(Link::RawIp.linktype())?;
    let mut tcp = TcpSession::new(client, server, 1_000, 2_000_000);
    for packet in tcp.open() {
        writer.packet(0, first, &packet)?;
    }
    let mut last = first;
    for event in events {
        if let Piece::Data(bytes) = &event.piece {
            // Keep each packet within an IP datagram.
            for chunk in bytes.chunks(60_000) {
                writer.packet(0, event.timestamp_ns, &tcp.data(event.direction, chunk))?;
            }
            last = event.timestamp_ns;
        }
    }
    for packet in tcp.close() {
        writer.packet(0, last, &packet)?;
    }
    Ok(writer.into_inner())
}
