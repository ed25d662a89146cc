//! One client's session on the MSNP reference server: a synchronous state machine that answers MSNP
//! commands as real 2003-era servers did (msnp.md sections 3 and 6) under an admission policy.

use super::policy::{BelowMinimum, Family, Phase, Policy};
use crate::date::Date;
use crate::dialect::msnp::{Message, codec};
use crate::verdict::VerdictKind;
use crate::version::ClientVersion;
use std::hash::{BuildHasher, Hasher};

pub use crate::server::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitingVer,
    /// Offered only the CVR0 fallback: the client may ask CVQ, then is disconnected.
    AwaitingCvq,
    Negotiated,
    Challenged,
    LoggedIn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthMethod {
    Md5,
    Twn,
    Sso,
}

impl AuthMethod {
    fn for_protocol(protocol: u32) -> AuthMethod {
        match protocol {
            0..=7 => AuthMethod::Md5,
            8..=14 => AuthMethod::Twn,
            _ => AuthMethod::Sso,
        }
    }

    fn name(self) -> &'static str {
        match self {
            AuthMethod::Md5 => "MD5",
            AuthMethod::Twn => "TWN",
            AuthMethod::Sso => "SSO",
        }
    }
}

/// The server's own account of a client, for its log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub verdict: VerdictKind,
    pub reason: String,
}

pub struct Session<'a> {
    policy: &'a Policy,
    phase: &'a Phase,
    as_of: Date,
    state: State,
    protocol: Option<u32>,
    client: Option<(String, String)>,
    /// Why this client gets an upgrade notice before its challenge (warning phase only).
    notice: Option<String>,
    /// The CVR reply asked for an upgrade (recommended above the client's version).
    upgrade_recommended: Option<String>,
    decision: Option<Decision>,
    account: String,
    random: u64,
}

impl<'a> Session<'a> {
    pub fn new(policy: &'a Policy, phase: &'a Phase, as_of: Date) -> Session<'a> {
        Session {
            policy,
            phase,
            as_of,
            state: State::AwaitingVer,
            protocol: None,
            client: None,
            notice: None,
            upgrade_recommended: None,
            decision: None,
            account: "user@example.com".to_string(),
            random: std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish(),
        }
    }

    /// `MSNMSGR 6.0.0602` once the client stated it in CVR or CVQ.
    pub fn client(&self) -> Option<String> {
        self.client.as_ref().map(|(n, v)| format!("{n} {v}"))
    }

    pub fn protocol(&self) -> Option<String> {
        self.protocol.map(|p| format!("MSNP{p}"))
    }

    /// The server's verdict on this client; `None` while undecided.
    pub fn decision(&self) -> Option<&Decision> {
        self.decision.as_ref()
    }

    fn decide(&mut self, verdict: VerdictKind, reason: impl Into<String>) {
        if self.decision.is_none() {
            self.decision = Some(Decision {
                verdict,
                reason: reason.into(),
            });
        }
    }

    /// Answers one client message.
    pub fn handle(&mut self, message: &Message) -> Vec<Action> {
        let command = message.command.as_str();
        if command == "OUT" {
            self.decide(VerdictKind::Error, "client left before the admission point");
            return vec![Action::Close];
        }
        if command == "PNG" {
            return vec![line("QNG 50")];
        }
        let Some(trid) = message.trid() else {
            self.decide(
                VerdictKind::Error,
                format!("malformed `{}` without a TrID", message.head()),
            );
            return vec![Action::Close];
        };
        match (self.state, command) {
            (State::AwaitingVer, "VER") => self.negotiate(trid, message),
            (_, "VER") => {
                self.decide(VerdictKind::Error, "second VER on one connection");
                vec![line(&format!("715 {trid}")), Action::Close]
            }
            (State::AwaitingVer, _) => vec![line(&format!("715 {trid}"))],
            (State::AwaitingCvq, "CVQ") => {
                self.note_client(message);
                let reply = self.version_reply("CVQ", trid, true);
                vec![reply, Action::Close]
            }
            (State::AwaitingCvq, _) => vec![Action::Close],
            (State::Negotiated, "CVR") => self.client_version(trid, message),
            (State::Negotiated | State::Challenged | State::LoggedIn, "CVQ") => {
                self.note_client(message);
                self.decide(VerdictKind::Error, "client asked CVQ and was disconnected");
                vec![self.version_reply("CVQ", trid, true), Action::Close]
            }
            (State::Negotiated, "INF") if self.protocol.is_some_and(|p| p <= 7) => {
                vec![line(&format!("INF {trid} MD5"))]
            }
            (State::Negotiated, "USR") => self.authenticate(trid, message),
            (State::Challenged, "USR") => self.login(trid, message),
            (State::LoggedIn, "CHG") => vec![line(&message.head())],
            _ => vec![line(&format!("200 {trid}"))],
        }
    }

    fn negotiate(&mut self, trid: u32, message: &Message) -> Vec<Action> {
        let offered: Vec<&str> = message.args.iter().skip(1).map(String::as_str).collect();
        let offers_cvr0 = offered.contains(&"CVR0");
        let protocols = &self.policy.protocols;
        let minimum = protocols.minimum.unwrap_or(0);
        let acceptable = |p: u32| {
            protocols.supported.contains(&p)
                && (p >= minimum || self.phase.below_minimum != BelowMinimum::LockedOut)
        };
        let chosen = offered
            .iter()
            .filter_map(|v| super::policy::parse_protocol(v))
            .filter(|&p| acceptable(p))
            .max();
        match chosen {
            Some(p) => {
                self.protocol = Some(p);
                self.state = State::Negotiated;
                if p < minimum && self.phase.below_minimum == BelowMinimum::Warned {
                    self.notice = Some(format!(
                        "MSNP{p} is below the minimum protocol MSNP{minimum}"
                    ));
                }
                let echo = if offers_cvr0 { " CVR0" } else { "" };
                vec![line(&format!("VER {trid} MSNP{p}{echo}"))]
            }
            None if offers_cvr0 && protocols.version_query_fallback => {
                self.state = State::AwaitingCvq;
                self.decide(
                    VerdictKind::LockedOut,
                    format!(
                        "no acceptable protocol in `{}`: offered the CVQ fallback",
                        offered.join(" ")
                    ),
                );
                vec![line(&format!("VER {trid} CVR0"))]
            }
            None => {
                self.decide(
                    VerdictKind::LockedOut,
                    format!("no acceptable protocol in `{}`", offered.join(" ")),
                );
                vec![line(&format!("VER {trid} 0")), Action::Close]
            }
        }
    }

    fn note_client(&mut self, message: &Message) {
        if let (Some(name), Some(version)) = (message.arg_after_trid(4), message.arg_after_trid(5))
        {
            self.client = Some((name.to_string(), version.to_string()));
        }
    }

    fn client_version(&mut self, trid: u32, message: &Message) -> Vec<Action> {
        self.note_client(message);
        let Some((name, version_text)) = self.client.clone() else {
            self.decide(
                VerdictKind::LockedOut,
                "CVR without client name and version",
            );
            return vec![line(&format!("201 {trid}")), Action::Close];
        };
        if self.policy.blocked_clients.contains(&name) {
            self.decide(
                VerdictKind::LockedOut,
                format!("client `{name}` is blocked"),
            );
            return vec![line(&format!("710 {trid}")), Action::Close];
        }
        let Some(version) = ClientVersion::parse(&version_text) else {
            self.decide(
                VerdictKind::LockedOut,
                format!("unreadable client version `{version_text}`"),
            );
            return vec![line(&format!("201 {trid}")), Action::Close];
        };
        let family = self.policy.family(&name).cloned();
        let reply = self.version_reply("CVR", trid, false);
        let Some(family) = family else {
            return vec![reply];
        };
        if version < family.recommended && self.phase.below_minimum != BelowMinimum::Admitted {
            self.upgrade_recommended = Some(format!("recommended {}", family.recommended));
        }
        if version >= family.minimum {
            return vec![reply];
        }
        let below = format!(
            "{} {version} is below the minimum {}",
            family.product, family.minimum
        );
        match self.phase.below_minimum {
            BelowMinimum::Admitted => vec![reply],
            BelowMinimum::Warned => {
                self.notice = Some(below);
                vec![reply]
            }
            BelowMinimum::LockedOut => {
                self.decide(VerdictKind::LockedOut, below);
                vec![reply, Action::Close]
            }
        }
    }

    /// `CVR t recommended recommended minimum download-url info-url` (or CVQ). In a phase that
    /// admits everyone the server makes no upgrade request and echoes the client's version, as
    /// some real servers did; unknown clients get recommended 1.0.0000 and their own version as
    /// minimum, as reported of the real network.
    fn version_reply(&self, command: &str, trid: u32, query: bool) -> Action {
        let (name, own) = self.client.clone().unwrap_or_default();
        let family: Option<&Family> = self.policy.family(&name);
        let (recommended, minimum) = match family {
            Some(_) if self.phase.below_minimum == BelowMinimum::Admitted && !query => {
                (own.clone(), own.clone())
            }
            Some(f) => (f.recommended.to_string(), f.minimum.to_string()),
            None => ("1.0.0000".to_string(), own.clone()),
        };
        let minimum = if minimum.is_empty() {
            "1.0.0000".to_string()
        } else {
            minimum
        };
        let recommended = if recommended.is_empty() {
            minimum.clone()
        } else {
            recommended
        };
        line(&format!(
            "{command} {trid} {recommended} {recommended} {minimum} {} {}",
            self.policy.download_url, self.policy.info_url
        ))
    }

    fn authenticate(&mut self, trid: u32, message: &Message) -> Vec<Action> {
        let protocol = self.protocol.unwrap_or(0);
        let expected = AuthMethod::for_protocol(protocol);
        let method = message.arg_after_trid(0).unwrap_or_default();
        if method != expected.name() || message.arg_after_trid(1) != Some("I") {
            // A real server closed silently on the wrong method for the protocol (msnp.md 3.4).
            self.decide(
                VerdictKind::LockedOut,
                format!("USR {method} on MSNP{protocol}: closed silently"),
            );
            return vec![Action::Close];
        }
        if let Some(account) = message.arg_after_trid(2) {
            self.account = account.to_string();
        }
        let mut actions = Vec::new();
        if let Some(reason) = self.notice.clone() {
            actions.push(self.upgrade_notice(&reason));
            self.decide(
                VerdictKind::Warned,
                format!("{reason}; upgrade notice sent"),
            );
        } else if let Some(recommended) = self.upgrade_recommended.clone() {
            self.decide(
                VerdictKind::Warned,
                format!("upgrade to {recommended} requested in CVR reply"),
            );
        } else {
            self.decide(
                VerdictKind::Admitted,
                format!("{} challenge sent", expected.name()),
            );
        }
        self.state = State::Challenged;
        let challenge = match expected {
            AuthMethod::Md5 => format!(
                "USR {trid} MD5 S {}.{}",
                self.random % 10_000_000_000,
                self.random >> 34
            ),
            AuthMethod::Twn => format!(
                "USR {trid} TWN S lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct={},kpp=1,kv=5,ver=2.1.0173.1,tpf={:016x}{:016x}",
                self.random % 1_000_000_000 + 1_000_000_000,
                self.random,
                self.random.rotate_left(32)
            ),
            AuthMethod::Sso => format!("USR {trid} SSO S MBI_KEY_OLD {:016x}", self.random),
        };
        actions.push(line(&challenge));
        actions
    }

    /// Authentication is not admission: any response to the challenge logs in.
    fn login(&mut self, trid: u32, message: &Message) -> Vec<Action> {
        self.state = State::LoggedIn;
        let _response = message.arg_after_trid(2);
        let account = &self.account;
        match self.protocol {
            Some(p) if p >= 8 => vec![line(&format!("USR {trid} OK {account} {account} 1 0"))],
            _ => vec![line(&format!("USR {trid} OK {account} {account}"))],
        }
    }

    /// A system message from Hotmail with the reference server's upgrade-notice content type.
    fn upgrade_notice(&self, reason: &str) -> Action {
        let deadline = self
            .policy
            .lockout_after(self.as_of)
            .map_or_else(String::new, |d| format!(" before {d}"));
        let body = format!(
            "MIME-Version: 1.0\r\nContent-Type: {}; charset=UTF-8\r\n\r\nMessage: {reason}: upgrade{deadline}\r\nDownload-URL: {}\r\n",
            crate::dialect::msnp::UPGRADE_NOTICE_TYPE,
            self.policy.download_url
        );
        Action::Send(codec::encode("MSG Hotmail Hotmail", Some(body.as_bytes())))
    }
}

fn line(text: &str) -> Action {
    Action::Send(codec::encode(text, None))
}
