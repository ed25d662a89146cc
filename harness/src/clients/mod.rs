//! Distinct clients in recorded traffic: sessions whose handshakes are the same once what
//! changes from session to session is set aside are one client ([`ClientKey`]), counted with
//! its traffic ([`Groups`]: sessions, distinct accounts, first and last seen, where they came
//! from) and named apart from its namesakes ([`distinct_names`]). `import --group` writes one
//! case per client from them, and `judge` tallies its traffic by them.

mod groups;
mod key;
mod names;

pub use groups::{Group, Groups, MAX_CLIENTS, MAX_SOURCES, Session};
pub use key::{ClientKey, base_name};
pub use names::distinct_names;
