//! harness: a protocol conformance harness. It replays scripted (and recorded) client
//! handshakes against a server and classifies each client as admitted, warned or locked out,
//! naming the server message that decided.
//!
//! Data flows through the modules in this order: [`case`] and [`suite`] (the files) →
//! [`dialect`] (everything protocol-specific: framing, steps, settings, classification) →
//! [`runner`] (async I/O) → [`verdict`] → [`report`]. [`server`] is the network side of the
//! reference servers dialects bring. Only `dialect` knows any protocol.

#![deny(unsafe_code)]

pub mod bench;
pub mod bundle;
pub mod capture;
pub mod case;
pub mod cli;
pub mod clients;
pub mod commands;
pub mod date;
pub mod decrypt;
pub mod dialect;
pub mod direction;
pub mod exit;
pub mod judge;
pub mod printable;
pub mod render;
pub mod report;
pub mod runner;
pub mod server;
pub mod snapshot;
pub mod source;
pub mod status;
pub mod suite;
pub mod template;
pub mod verdict;
pub mod version;
