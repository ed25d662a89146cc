//! Captures: reading pcap/pcapng files into per-connection capture cases (packets → link →
//! flows/streams → framed messages), and writing sessions back out as pcapng.

mod chunks;
pub mod digest;
mod fast_tcp;
pub mod file;
mod flow;
pub mod flows;
pub mod fragments;
mod framing;
pub mod import;
mod legacy_pcap;
pub mod link;
pub mod output;
pub mod packets;
pub mod pcapng;
pub mod record;
mod recording;
pub mod stream;
pub mod synth;
pub mod time;

pub use file::{CaptureFile, Provenance, RecordedMessage, TlsInside};
pub use flow::{Flow, SessionNumber};
pub use flows::Limits;
pub use import::{
    ImportError, ImportReport, Scope, Source, import, import_counting, import_flows,
    import_flows_hashing_alongside, import_from, import_hashing_alongside, import_with,
};
