//! The two faces of a dialect. [`Protocol`] is what a dialect implements: its own step and
//! settings types, compiled when a suite loads and handed back to it typed. [`Dialect`] is what
//! the core holds (`&dyn Dialect`): the same calls with steps as `Box<dyn Request>` and
//! settings as [`Settings`]; every [`Protocol`] is one through [`super::erased`], the only
//! place that turns the erased values back into the dialect's own types.

use super::IdentityInTraffic;
use super::{
    Conversation, FromSettings, Identity, Payload, RecordedIdentity, ReplayEnding, Request,
    SettingError, Settings, Step, StepError, StepSource, Wire,
};
use std::collections::BTreeMap;
use std::fmt::Debug;

/// A protocol the harness can speak as a client, with its own step and settings types.
pub trait Protocol: Wire {
    /// One compiled text step of a case file: the dialect's own forms only (raw bytes and
    /// recorded messages are the core's [`Step`]).
    type Step: Debug + Send + Sync + 'static;
    /// The suite's `[dialect_settings]`, read once; the default is what applies when a suite
    /// gives none (`()` for a dialect with no settings).
    type Settings: FromSettings + Default + Send + Sync + 'static;

    /// Compiles one text step of a case file, checking its syntax before anything runs.
    fn step(&self, source: &StepSource<'_>) -> Result<Self::Step, StepError>;
    /// One connection's client state and classifier.
    fn conversation(
        &self,
        declared: Option<&Identity>,
        settings: &Self::Settings,
    ) -> Box<dyn Conversation<Self::Step>>;
    /// How this dialect finds a client's identity where the suite's settings say it is, if
    /// it does; `Some(self)` from a dialect that implements [`IdentityInTraffic`].
    fn identity_in_traffic(&self) -> Option<&dyn IdentityInTraffic<Self::Settings>> {
        None
    }
    /// A recorded client message as a step, or why it cannot be replayed. By default it is
    /// sent as recorded ([`Step::Recorded`], through [`Conversation::send_recorded`]); a
    /// dialect that rewrites it as a form of its own returns [`Step::Own`] (MSNP renumbers
    /// its TrIDs).
    fn replay(&self, message: &[u8], account: Option<&str>) -> Result<Step<Self::Step>, String> {
        let _ = account;
        Ok(Step::Recorded(message.to_vec()))
    }
    /// What replaying a recording needs beyond its own messages, judged by the client's last
    /// one: what the recording implies of the client (PostgreSQL: one that hung up when refused
    /// TLS requires it), and the steps it would have sent had the server answered otherwise.
    fn replay_ending(&self, last: &[u8]) -> ReplayEnding<Self::Step> {
        let _ = last;
        ReplayEnding::default()
    }
}

/// A protocol as the core holds it: [`Protocol`] with its types erased. Implemented for every
/// [`Protocol`] by [`super::erased`]; a dialect written outside the crate implements
/// [`Protocol`] too.
pub trait Dialect: Wire {
    /// The suite's `[dialect_settings]` as [`Protocol::Settings`] reads them, erased.
    fn settings(&self, table: &BTreeMap<String, toml::Value>) -> Result<Settings, SettingError>;
    /// A case file step compiled: `send_hex` bytes by the core, text by [`Protocol::step`];
    /// erased. `text` is the `send` (or `send_hex`) value as written.
    fn step(&self, payload: &Payload, text: &str) -> Result<Box<dyn Request>, StepError>;
    /// [`Protocol::conversation`], taking the settings [`settings`](Dialect::settings) made.
    fn conversation(
        &self,
        declared: Option<&Identity>,
        settings: &Settings,
    ) -> Box<dyn Conversation>;
    /// [`IdentityInTraffic::identity_in`] through [`Protocol::identity_in_traffic`], erased;
    /// `None` keeps the recording's own identity.
    fn identity_in(
        &self,
        settings: &Settings,
        client_messages: &mut dyn Iterator<Item = Vec<u8>>,
    ) -> Option<RecordedIdentity>;
    /// [`Protocol::replay`], erased.
    fn replay(&self, message: &[u8], account: Option<&str>) -> Result<Box<dyn Request>, String>;
    /// [`Protocol::replay_ending`], erased.
    fn replay_ending(&self, last: &[u8]) -> ReplayEnding;
}
