//! What the recording proxy keeps of a session: each chunk read, with its time, within the
//! per-direction bounds (past them the bytes are counted, and the record says it was cut), then
//! written as a capture case and a pcapng file under a new number.

use super::file::{self, Source};
use super::flows::{End, Flow, MAX_FLOW_BYTES, MAX_FLOW_PIECES};
use super::output;
use super::pcapng::{Link, PcapngWriter, TcpSession};
use crate::dialect::Dialect;
use crate::direction::Direction;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// One recorded session, written.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub case: PathBuf,
    pub pcapng: PathBuf,
    pub messages: usize,
    /// How the record ended, as the case says (`fin`, `idle`, `stopped`, `truncated`, ...).
    pub ended_by: String,
}

/// A session's chunks so far.
#[derive(Debug, Default)]
pub struct Recording {
    /// Each chunk kept: who sent it, when, and its bytes.
    events: Vec<(Direction, u64, Vec<u8>)>,
    /// Bytes kept from the client and from the server.
    kept: [usize; 2],
    omitted: u64,
    /// A bound was reached: nothing more is kept (a record never skips a middle part).
    cut: bool,
    /// Who closed first, and whether with a reset; who reset first.
    closed_by: Option<(Direction, bool)>,
    reset_by: Option<Direction>,
}

impl Recording {
    /// `side` closed its end of the connection (a reset when `reset`): each close is put down
    /// to the side that made it, the first one saying who closed.
    pub fn close(&mut self, side: Direction, reset: bool) {
        self.closed_by.get_or_insert((side, reset));
        if reset {
            self.reset_by.get_or_insert(side);
        }
    }

    /// Keeps a chunk one side sent at `at_ns`, up to the bounds: [`MAX_FLOW_BYTES`] per
    /// direction and [`MAX_FLOW_PIECES`] chunks.
    pub fn chunk(&mut self, from: Direction, at_ns: u64, bytes: &[u8]) {
        let side = usize::from(from == Direction::Server);
        let room = if self.cut || self.events.len() >= MAX_FLOW_PIECES {
            0
        } else {
            MAX_FLOW_BYTES - self.kept[side]
        };
        let keep = bytes.len().min(room);
        if keep > 0 {
            self.kept[side] += keep;
            self.events.push((from, at_ns, bytes[..keep].to_vec()));
        }
        if keep < bytes.len() {
            self.cut = true;
            self.omitted += (bytes.len() - keep) as u64;
        }
    }
}

/// The session's two ends, when it started, and how it ended.
pub struct Session {
    pub id: u64,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub first_ns: u64,
    pub end: End,
}

/// Writes the session as a case and a pcapng file in `out`.
pub fn write(
    session: &Session,
    recording: Recording,
    out: &Path,
    dialect: &dyn Dialect,
    name: Option<&str>,
) -> Result<Recorded, String> {
    let Session {
        id,
        client,
        server,
        first_ns,
        end,
    } = *session;
    // The pcapng shows a close only where the connection closed and the record is whole.
    let closed = matches!(end, End::Fin | End::Reset) && !recording.cut;
    let pcapng = session_pcapng(client, server, first_ns, &recording.events, closed)
        .map_err(|e| e.to_string())?;
    let sha256 = hex::encode(Sha256::digest(&pcapng));
    // Bytes omitted mark the flow truncated, and its case says so.
    let flow = Flow::observed(
        id,
        (client, server),
        first_ns,
        recording
            .events
            .iter()
            .map(|(from, at_ns, bytes)| (*from, *at_ns, bytes.as_slice())),
        recording.omitted,
        end,
    );
    let mut flow = flow;
    if let Some((side, reset)) = recording.closed_by {
        flow.closed_by = Some(side);
        flow.closed_by_reset = reset;
    }
    flow.reset_by = recording.reset_by;
    let source_name = format!("harness record, {client} → {server}");
    let mut case = file::from_flow(
        flow,
        dialect,
        &Source {
            name: &source_name,
            sha256: Some(&sha256),
        },
    );
    case.capture.name = name.map(str::to_string);
    let (case_path, pcapng_path) = write_pair(out, &case, id, &case.to_toml(), &pcapng)?;
    Ok(Recorded {
        case: case_path,
        pcapng: pcapng_path,
        messages: case.messages.len(),
        ended_by: case.capture.ended_by.clone(),
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

/// The session as packets: handshake, each recorded chunk at its time, and FINs when `closed`.
fn session_pcapng(
    client: SocketAddr,
    server: SocketAddr,
    first: u64,
    events: &[(Direction, u64, Vec<u8>)],
    closed: bool,
) -> std::io::Result<Vec<u8>> {
    let mut writer = PcapngWriter::new(Vec::new())?;
    writer.interface(Link::RawIp.linktype())?;
    let mut tcp = TcpSession::new(client, server, 1_000, 2_000_000);
    for packet in tcp.open() {
        writer.packet(0, first, &packet)?;
    }
    let mut last = first;
    for (from, at_ns, bytes) in events {
        // Keep each packet within an IP datagram.
        for chunk in bytes.chunks(60_000) {
            writer.packet(0, *at_ns, &tcp.data(*from, chunk))?;
        }
        last = *at_ns;
    }
    if closed {
        for packet in tcp.close() {
            writer.packet(0, last, &packet)?;
        }
    }
    Ok(writer.into_inner())
}
