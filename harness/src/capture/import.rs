//! Import: stream a capture file's packets through link decoding and the flow table, frame
//! each finished connection with the dialect, and hand it to a sink (write a case file, print
//! it). Memory has a fixed bound (the flow table's [`Limits`], a few batches in flight), never
//! the file's size or what it holds.

use super::chunks::Feed;
pub use super::digest::sha256_of;
use super::digest::{Alongside, ContentHash};
pub use super::file::Source;
use super::file::{self, CaptureFile};
use super::flows::{Flow, FlowTable, Limits};
use super::fragments::Fragments;
use super::link::{self, Frame};
use super::packets::{self, ReadError};
use crate::dialect::Dialect;
use serde::Serialize;
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What an import saw, counted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub file_bytes: u64,
    pub packets: u64,
    pub tcp_segments: u64,
    pub not_tcp: u64,
    pub undecodable: u64,
    pub unsupported_link: u64,
    pub other_ports: u64,
    pub connections: u64,
    pub empty_connections: u64,
    pub gaps: u64,
    pub retransmitted_bytes: u64,
    /// IP fragments of TCP datagrams, the datagrams put back together from them, and those
    /// given up on (incomplete): their bytes show as gaps.
    pub ip_fragments: u64,
    pub reassembled_datagrams: u64,
    pub incomplete_datagrams: u64,
    pub peak_open_connections: usize,
    /// Connections ended after no packet for the idle timeout (capture time).
    pub ended_idle: u64,
    /// Connections let go early because too many were open at once.
    pub evicted_at_cap: u64,
    /// Connections let go early because the open ones held too much memory.
    pub evicted_for_memory: u64,
    /// Connections whose record was cut at a size bound, and the bytes not kept.
    pub truncated_connections: u64,
    pub omitted_bytes: u64,
    /// The most memory the open connections held at once, as the import counts it.
    pub peak_held_bytes: usize,
    /// Connections opened to ports other than the one imported, by server port.
    pub other_server_ports: Vec<(u16, u64)>,
    /// The link types of the capture's interfaces, each once, in order of first use.
    pub link_types: Vec<i32>,
    #[serde(skip)]
    pub elapsed: Duration,
    /// Why reading stopped early; everything before it was imported.
    #[serde(skip)]
    pub error: Option<ReadError>,
}

impl ImportReport {
    /// Why the capture gave nothing to import, when it held packets but not one of them could
    /// be decoded (a link type not read here, or every header cut short by the snap length).
    pub fn nothing_decoded(&self) -> Option<String> {
        if self.packets == 0 || self.undecodable + self.unsupported_link < self.packets {
            return None;
        }
        let links: Vec<String> = self.link_types.iter().map(|&l| link_name(l)).collect();
        Some(format!(
            "none of its {} packets could be decoded ({} with headers cut short or malformed, {} on link types not read here); its link types: {}",
            self.packets,
            self.undecodable,
            self.unsupported_link,
            links.join(", ")
        ))
    }
}

impl ImportReport {
    /// Why the import holds nothing of the dialect on `port`: no connection on it (naming the
    /// ports where connections were opened), or no session on it that opens the dialect's
    /// handshake (`sessions` of them, none opening one). `None` when one did.
    pub fn nothing_on_port(
        &self,
        dialect: &str,
        port: u16,
        handshakes: u64,
        sessions: u64,
    ) -> Option<String> {
        if handshakes > 0 {
            return None;
        }
        if self.packets == 0 {
            return Some(format!("it holds no packets, so no {dialect} session"));
        }
        if sessions > 0 {
            return Some(format!(
                "none of the {sessions} sessions on port {port} opens a {dialect} handshake: is it {dialect} traffic? (`harness inspect` shows what they hold)"
            ));
        }
        let mut busiest = self.other_server_ports.clone();
        busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let ports: Vec<String> = busiest
            .iter()
            .take(8)
            .map(|(p, n)| format!("{p} ({n} connection{})", if *n == 1 { "" } else { "s" }))
            .collect();
        let more = busiest.len().saturating_sub(ports.len());
        Some(match ports.is_empty() {
            true => format!(
                "no {dialect} session on port {port}, and no connection opened to another port ({} TCP segments elsewhere)",
                self.other_ports
            ),
            false => format!(
                "no {dialect} session on port {port}; connections were opened to port {}{}: give --port PORT",
                ports.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
        })
    }
}

fn link_name(linktype: i32) -> String {
    let name = match linktype {
        0 => "NULL (BSD loopback)",
        1 => "Ethernet",
        101 => "raw IP",
        108 => "LOOP (BSD loopback)",
        113 => "Linux cooked (SLL)",
        228 => "raw IPv4",
        229 => "raw IPv6",
        276 => "Linux cooked v2 (SLL2)",
        _ => "",
    };
    if name.is_empty() {
        format!("{linktype} (not read here)")
    } else {
        format!("{linktype} {name}")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Open { path: String, source: io::Error },
    #[error("cannot write the imported case: {0}")]
    Sink(io::Error),
}

/// Imports `path`, keeping connections with `port` on one side (the dialect's port by
/// default), and calls `sink` with each connection's case, in order of ending.
pub fn import(
    path: &Path,
    port: Option<u16>,
    dialect: &dyn Dialect,
    sink: impl FnMut(u64, CaptureFile) -> io::Result<()>,
) -> Result<ImportReport, ImportError> {
    import_with(path, port, Limits::default(), dialect, sink)
}

/// [`import_flows`] of the file at `path`, with its sha256 computed beside the import (on a
/// thread of its own) rather than before it: the hash comes back with the report, for a
/// caller that writes its cases at the end (`import --group`).
pub fn import_flows_hashing_alongside(
    path: &Path,
    port: u16,
    limits: Limits,
    mut sink: impl FnMut(Flow) -> io::Result<()>,
) -> Result<(ImportReport, String), ImportError> {
    let started = Instant::now();
    let open_error = |source| ImportError::Open {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(open_error)?;
    let file_bytes = file.metadata().map_err(open_error)?.len();
    std::thread::scope(|threads| {
        let (feed, fed) = Feed::channel();
        let hash = Alongside::of_feed(threads, fed, ContentHash::Sha256);
        let report = read_flows(
            file,
            file_bytes,
            port,
            limits,
            started,
            Some(feed),
            &mut sink,
        );
        let sha256 = hash.into_result().map_err(open_error)?;
        Ok((report?, sha256))
    })
}

/// [`import`] for `judge`, with the file's BLAKE3 (the judged run's name for its capture)
/// computed beside the import rather than before it: each case comes without a source hash
/// (`sha256` unset), framed only as far as its first messages ([`file::from_flow_lazily`]),
/// and `sink` is handed the hash being computed, to ask for it when it needs it (the report's
/// header, held back until then). The hash also comes back with the report.
pub fn import_hashing_alongside<'d>(
    path: &Path,
    port: Option<u16>,
    dialect: &'d dyn Dialect,
    mut sink: impl FnMut(u64, file::Partly<'d>, &mut Alongside) -> io::Result<()>,
) -> Result<(ImportReport, String), ImportError> {
    let started = Instant::now();
    let open_error = |source| ImportError::Open {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(open_error)?;
    let file_bytes = file.metadata().map_err(open_error)?.len();
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let source = Source {
        name: &name,
        sha256: None,
    };
    let port = port.unwrap_or_else(|| dialect.default_port());
    std::thread::scope(|threads| {
        let (feed, fed) = Feed::channel();
        let mut hash = Alongside::of_feed(threads, fed, ContentHash::Blake3);
        let mut cases = |flow: Flow| {
            let id = flow.id;
            sink(
                id,
                file::from_flow_lazily(flow, dialect, &source),
                &mut hash,
            )
        };
        let report = read_flows(
            file,
            file_bytes,
            port,
            Limits::default(),
            started,
            Some(feed),
            &mut cases,
        );
        let blake3 = hash.into_result().map_err(open_error)?;
        Ok((report?, blake3))
    })
}

/// [`import`] within the given bounds on open connections and their memory.
pub fn import_with(
    path: &Path,
    port: Option<u16>,
    limits: Limits,
    dialect: &dyn Dialect,
    sink: impl FnMut(u64, CaptureFile) -> io::Result<()>,
) -> Result<ImportReport, ImportError> {
    import_naming(path, port, limits, dialect, true, sink)
}

/// [`import_with`] for a caller that writes no case, only counts (`import` without `--out`):
/// the file is not hashed first, since nothing will name it, and each case's `sha256` is unset.
pub fn import_counting(
    path: &Path,
    port: Option<u16>,
    limits: Limits,
    dialect: &dyn Dialect,
    sink: impl FnMut(u64, CaptureFile) -> io::Result<()>,
) -> Result<ImportReport, ImportError> {
    import_naming(path, port, limits, dialect, false, sink)
}

/// Imports `path`, its cases naming the file's sha256 (hashed first) when `hashed`.
fn import_naming(
    path: &Path,
    port: Option<u16>,
    limits: Limits,
    dialect: &dyn Dialect,
    hashed: bool,
    mut sink: impl FnMut(u64, CaptureFile) -> io::Result<()>,
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let open_error = |source| ImportError::Open {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(open_error)?;
    let (sha256, file_bytes) = match hashed {
        true => sha256_of(path)
            .map(|(hash, bytes)| (Some(hash), bytes))
            .map_err(open_error)?,
        false => (None, file.metadata().map_err(open_error)?.len()),
    };
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let source = Source {
        name: &name,
        sha256: sha256.as_deref(),
    };
    let scope = Scope { port, limits };
    import_from(
        file, file_bytes, &source, scope, dialect, started, &mut sink,
    )
}

/// Flows handed from the packet reader to the framer at once, and batches in flight: enough
/// to keep both threads busy, few enough that memory stays within the table's bound plus these.
const BATCH_BYTES: usize = 256 << 10;
const BATCH_FLOWS: usize = 64;
const BATCHES_IN_FLIGHT: usize = 4;

/// Which connections to keep, and the bounds to keep them within.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope {
    /// The server port (default: the dialect's).
    pub port: Option<u16>,
    pub limits: Limits,
}

/// Imports a capture read from `input` (`input_len` bytes long).
///
/// Two threads: one reads packets and reassembles connections, the calling thread frames each
/// finished connection with the dialect and hands it to `sink`, in order of ending.
pub fn import_from(
    input: impl Read + Send,
    input_len: u64,
    source: &Source<'_>,
    scope: Scope,
    dialect: &dyn Dialect,
    started: Instant,
    sink: &mut dyn FnMut(u64, CaptureFile) -> io::Result<()>,
) -> Result<ImportReport, ImportError> {
    let port = scope.port.unwrap_or_else(|| dialect.default_port());
    let mut cases = |flow: Flow| sink(flow.id, file::from_flow(flow, dialect, source));
    import_flows(input, input_len, port, scope.limits, started, &mut cases)
}

/// Imports a capture's connections on `port` and hands each, with data, to `sink` as it
/// ends, reassembled but not framed: for a caller that frames only what it needs.
pub fn import_flows(
    input: impl Read + Send,
    input_len: u64,
    port: u16,
    limits: Limits,
    started: Instant,
    sink: &mut dyn FnMut(Flow) -> io::Result<()>,
) -> Result<ImportReport, ImportError> {
    read_flows(input, input_len, port, limits, started, None, sink)
}

/// [`import_flows`], sending every byte of the input on to `feed` (the file's hasher).
fn read_flows(
    input: impl Read + Send,
    input_len: u64,
    port: u16,
    limits: Limits,
    started: Instant,
    feed: Option<Feed>,
    sink: &mut dyn FnMut(Flow) -> io::Result<()>,
) -> Result<ImportReport, ImportError> {
    let (to_framer, batches) = mpsc::sync_channel::<Vec<Flow>>(BATCHES_IN_FLIGHT);
    let mut framed = Framed::default();
    let mut report = std::thread::scope(|scope| {
        let reader =
            scope.spawn(move || read_connections(input, input_len, port, limits, feed, &to_framer));
        // Owned here, so that if framing panics the receiver goes first and the reader's next
        // send fails instead of waiting forever for room.
        let batches = batches;
        for flow in batches.iter().flatten() {
            framed.take(flow, sink);
        }
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    report.file_bytes = input_len;
    report.connections = framed.connections;
    report.empty_connections = framed.empty_connections;
    report.gaps = framed.gaps;
    report.truncated_connections = framed.truncated;
    report.omitted_bytes = framed.omitted_bytes;
    report.elapsed = started.elapsed();
    match framed.sink_error {
        Some(e) => Err(ImportError::Sink(e)),
        None => Ok(report),
    }
}

/// The framing side's counts, and the first error the sink gave (later cases are not sent).
#[derive(Default)]
struct Framed {
    connections: u64,
    empty_connections: u64,
    gaps: u64,
    truncated: u64,
    omitted_bytes: u64,
    sink_error: Option<io::Error>,
}

impl Framed {
    fn take(&mut self, flow: Flow, sink: &mut dyn FnMut(Flow) -> io::Result<()>) {
        self.connections += 1;
        self.gaps += flow.gaps().count() as u64;
        self.truncated += u64::from(flow.truncated());
        self.omitted_bytes += flow.omitted_bytes();
        if !flow.has_data() {
            self.empty_connections += 1;
            return;
        }
        if self.sink_error.is_none()
            && let Err(e) = sink(flow)
        {
            self.sink_error = Some(e);
        }
    }
}

/// The reader thread: packets into connections, sent on in batches as they end.
fn read_connections(
    input: impl Read + Send,
    input_len: u64,
    port: u16,
    limits: Limits,
    feed: Option<Feed>,
    to_framer: &mpsc::SyncSender<Vec<Flow>>,
) -> ImportReport {
    let mut report = ImportReport::default();
    let mut table = FlowTable::new(Some(port), limits);
    let mut batch = Batch::default();
    let mut fragments = Fragments::default();
    let read = packets::for_each_packet(input, input_len, feed, |packet| {
        report.packets += 1;
        if !report.link_types.contains(&packet.linktype.0) && report.link_types.len() < 16 {
            report.link_types.push(packet.linktype.0);
        }
        match link::decode(packet.linktype, packet.data) {
            Frame::Tcp(segment) => {
                let ended = table.segment(packet.timestamp_ns, &segment);
                report.peak_open_connections = report.peak_open_connections.max(table.open_flows());
                // Most segments end nothing: not even an empty batch is gone through for them.
                if !ended.is_empty() {
                    batch.add(ended, to_framer);
                }
            }
            Frame::Fragment(fragment) => {
                let Some(whole) = fragments.add(packet.timestamp_ns, &fragment) else {
                    return;
                };
                match link::reassembled(fragment.src, fragment.dst, &whole) {
                    Frame::Tcp(segment) => {
                        let ended = table.segment(packet.timestamp_ns, &segment);
                        batch.add(ended, to_framer);
                    }
                    _ => report.undecodable += 1,
                }
            }
            Frame::NotTcp => report.not_tcp += 1,
            Frame::Undecodable => report.undecodable += 1,
            Frame::UnsupportedLink => report.unsupported_link += 1,
        }
    });
    report.error = read.err();
    fragments.finish();
    report.ip_fragments = fragments.stats.fragments;
    report.reassembled_datagrams = fragments.stats.reassembled;
    report.incomplete_datagrams = fragments.stats.dropped;
    table.finish(|flow| batch.add([flow], to_framer));
    batch.send(to_framer);
    report.tcp_segments = table.stats.segments;
    report.other_ports = table.stats.other_ports;
    report.retransmitted_bytes = table.stats.retransmitted_bytes;
    report.ended_idle = table.stats.ended_idle;
    report.evicted_at_cap = table.stats.evicted_at_cap;
    report.evicted_for_memory = table.stats.evicted_for_memory;
    report.peak_held_bytes = table.stats.peak_bytes;
    report.other_server_ports = std::mem::take(&mut table.stats.other_server_ports)
        .into_iter()
        .collect();
    report
}

/// Ended connections not yet sent to the framer.
#[derive(Default)]
struct Batch {
    flows: Vec<Flow>,
    bytes: usize,
}

impl Batch {
    fn add(
        &mut self,
        ended: impl IntoIterator<Item = Flow>,
        to_framer: &mpsc::SyncSender<Vec<Flow>>,
    ) {
        for flow in ended {
            self.bytes += flow.kept_bytes();
            self.flows.push(flow);
            if self.bytes >= BATCH_BYTES || self.flows.len() >= BATCH_FLOWS {
                self.send(to_framer);
            }
        }
    }

    fn send(&mut self, to_framer: &mpsc::SyncSender<Vec<Flow>>) {
        if !self.flows.is_empty() {
            // The framer only goes away by panicking, which the caller re-raises.
            let _ = to_framer.send(std::mem::take(&mut self.flows));
            self.bytes = 0;
        }
    }
}
