//! MSNP classification (msnp.md section 3): follows the client's requests and the server's
//! replies and decides admitted, warned or locked out, naming the stage and the server message
//! that decided. Pure and synchronous: fed messages, returns verdicts.

use super::{Message, errors};
use crate::dialect::{Ending, Identity, RefusalClass, RefusalClasses};
use crate::verdict::{Verdict, VerdictKind};
use crate::version::ClientVersion;

/// What one server message meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub answers_request: bool,
    pub verdict: Option<Verdict>,
}

/// The server asked this client to upgrade: a CVR/CVQ reply above its version, or a notice.
#[derive(Debug, Clone)]
struct UpgradeRequest {
    stage: String,
    reason: String,
    message: String,
}

/// The classifier of one MSNP client session.
#[derive(Debug, Clone)]
pub struct Classifier {
    declared: Option<Identity>,
    /// What an error code means: policy, a busy server, a server fault.
    refusals: RefusalClasses,
    /// Client name and version as the client stated them in CVR or CVQ.
    stated: Option<(String, String)>,
    offered: Vec<String>,
    requests: Vec<(u32, String)>,
    outstanding: Option<u32>,
    stage: String,
    upgrade_requests: Vec<UpgradeRequest>,
    pending: Option<Verdict>,
    last_server: Option<(String, String)>,
    /// The last request sent (command, line) and whether the server has answered it.
    last_request: Option<(String, String)>,
    answered: bool,
    /// The client sent `OUT`: a close after it is the client's doing, not the server's.
    client_left: bool,
}

/// The content type the reference server gives its upgrade notice (README, "Reference server").
pub const UPGRADE_NOTICE_TYPE: &str = "text/x-msmsgsupgradenotice";

impl Classifier {
    /// The suite's classes of error codes instead of the defaults.
    pub fn with_refusals(mut self, refusals: RefusalClasses) -> Classifier {
        self.refusals = refusals;
        self
    }

    pub fn new(declared: Option<Identity>) -> Classifier {
        Classifier {
            declared,
            refusals: super::refusals::defaults(),
            stated: None,
            offered: Vec::new(),
            requests: Vec::new(),
            outstanding: None,
            stage: "connect".to_string(),
            upgrade_requests: Vec::new(),
            pending: None,
            last_server: None,
            last_request: None,
            answered: false,
            client_left: false,
        }
    }

    /// The client sent `OUT`.
    pub fn client_left(&self) -> bool {
        self.client_left
    }

    pub fn stage(&self) -> &str {
        &self.stage
    }

    pub fn pending(&self) -> Option<Verdict> {
        self.pending.clone()
    }

    /// Notes a request the client sent.
    pub fn on_sent(&mut self, message: &Message) {
        self.outstanding = message.trid();
        if let Some(trid) = self.outstanding {
            self.requests.push((trid, message.command.clone()));
        }
        self.stage = message.command.clone();
        if message.trid().is_some() {
            self.last_request = Some((message.command.clone(), message.head()));
            self.answered = false;
        }
        match message.command.as_str() {
            "OUT" => self.client_left = true,
            "VER" => self.offered = message.args.iter().skip(1).cloned().collect(),
            // CVR/CVQ fields after the TrID: locale, OS, OS version, CPU, client name, version.
            "CVR" | "CVQ" => {
                if let (Some(name), Some(version)) =
                    (message.arg_after_trid(4), message.arg_after_trid(5))
                {
                    self.stated = Some((name.to_string(), version.to_string()));
                }
            }
            _ => {}
        }
    }

    /// Judges one server message.
    pub fn on_received(&mut self, message: &Message) -> Observation {
        let head = message.head();
        let answers_request = message.trid().is_some() && message.trid() == self.outstanding;
        self.answered |= answers_request;
        let stage = message
            .trid()
            .and_then(|t| self.requests.iter().rev().find(|(r, _)| *r == t))
            .map_or_else(|| self.stage.clone(), |(_, command)| command.clone());
        self.last_server = Some((stage.clone(), head.clone()));
        let verdict = if let Some(code) = message.error_code() {
            let said = format!(
                "error {code} ({}) in reply to {stage}",
                errors::meaning(code)
            );
            Some(match self.refusals.class(&code.to_string()) {
                RefusalClass::LockedOut => {
                    Verdict::new(VerdictKind::LockedOut, &stage, said, Some(head))
                }
                RefusalClass::Busy => Verdict::busy(
                    &stage,
                    format!("the server was busy, not refusing the client: {said}"),
                    Some(head),
                    None,
                ),
                RefusalClass::Error => Verdict::new(
                    VerdictKind::Error,
                    &stage,
                    format!("the server failed: {said}"),
                    Some(head),
                ),
            })
        } else {
            match message.command.as_str() {
                "VER" => self.on_version_reply(message, head),
                "CVR" | "CVQ" => {
                    self.on_client_version_reply(message, &stage, head);
                    None
                }
                "USR" if message.arg_after_trid(1) == Some("S") => {
                    let method = message.arg_after_trid(0).unwrap_or("auth");
                    Some(self.admit("USR", &format!("{method} challenge"), head))
                }
                "USR" if message.arg_after_trid(0) == Some("OK") => {
                    Some(self.admit("USR", "login OK", head))
                }
                "XFR" if message.arg_after_trid(0) == Some("NS") => {
                    Some(self.admit("XFR", "redirected to a notification server", head))
                }
                "OUT" => Some(Verdict::new(
                    VerdictKind::LockedOut,
                    &self.stage,
                    format!("server ended the session with {}", describe_out(message)),
                    Some(head),
                )),
                "MSG" => {
                    self.on_server_message(message, &stage, head);
                    None
                }
                _ => None,
            }
        };
        Observation {
            answers_request,
            verdict,
        }
    }

    /// The verdict when the session ends before a decision.
    pub fn on_end(&mut self, how: Ending) -> Verdict {
        let closed = match how {
            Ending::Closed => "closed",
            Ending::Reset => "reset",
            Ending::ScriptEnded => "",
        };
        if let Some(mut pending) = self.pending.take() {
            if !closed.is_empty() {
                pending
                    .reason
                    .push_str(&format!("; then the server {closed} the connection"));
            }
            return pending;
        }
        if self.client_left && how != Ending::ScriptEnded {
            return Verdict::error(
                &self.stage,
                format!(
                    "the client ended the session (OUT) before the admission point, and the server {closed} the connection as asked: no decision of the server's"
                ),
            );
        }
        let refused = self
            .last_request
            .as_ref()
            .filter(|_| !self.answered && self.last_server.is_some());
        if let (Ending::Closed | Ending::Reset, Some((command, request))) = (how, refused) {
            let mut reason = format!(
                "server {closed} the connection instead of answering `{}`",
                shorten(request)
            );
            if let Some(upgrade) = self.upgrade_requests.first() {
                reason.push_str(&format!(" ({})", upgrade.reason));
            }
            return Verdict::new(
                VerdictKind::LockedOut,
                command,
                reason,
                Some(request.clone()),
            );
        }
        match (how, &self.last_server) {
            (Ending::ScriptEnded, last) => Verdict::error(
                &self.stage,
                match last {
                    Some((_, head)) => format!(
                        "the case's steps ended before the admission point (last reply `{head}`)"
                    ),
                    None => "the case's steps ended before the server replied".to_string(),
                },
            ),
            (Ending::Closed | Ending::Reset, None) => Verdict::error(
                &self.stage,
                format!("server {closed} the connection without a single reply"),
            ),
            (Ending::Closed | Ending::Reset, Some((stage, head))) => {
                let mut reason =
                    format!("server {closed} the connection after `{}`", shorten(head));
                if let Some(request) = self.upgrade_requests.first() {
                    reason.push_str(&format!(" ({})", request.reason));
                }
                Verdict::new(VerdictKind::LockedOut, stage, reason, Some(head.clone()))
            }
        }
    }

    fn on_version_reply(&mut self, message: &Message, head: String) -> Option<Verdict> {
        let chosen: Vec<&str> = message.args.iter().skip(1).map(String::as_str).collect();
        let offered = self.offered.join(" ");
        if chosen == ["0"] {
            return Some(Verdict::new(
                VerdictKind::LockedOut,
                "VER",
                format!("no common protocol version: the server answered VER 0 to `{offered}`"),
                Some(head),
            ));
        }
        let protocol = chosen.iter().find(|v| v.starts_with("MSNP"));
        if protocol.is_none() && chosen.contains(&"CVR0") {
            self.pending = Some(Verdict::new(
                VerdictKind::LockedOut,
                "VER",
                format!(
                    "no common protocol version for `{offered}`: the server offered only the CVR0 version-query fallback"
                ),
                Some(head),
            ));
        }
        None
    }

    fn on_client_version_reply(&mut self, message: &Message, stage: &str, head: String) {
        // Reply fields after the TrID: recommended, recommended again, minimum, download URL.
        let recommended = message.arg_after_trid(0).and_then(ClientVersion::parse);
        let minimum = message.arg_after_trid(2).and_then(ClientVersion::parse);
        let url = message.arg_after_trid(3).unwrap_or("no download URL");
        let client = self.client_version();
        if let Some(pending) = &mut self.pending {
            let mut detail = format!(
                "; version query: minimum {}, recommended {}, download {url}",
                minimum.as_ref().map_or("?", ClientVersion::as_str),
                recommended.as_ref().map_or("?", ClientVersion::as_str),
            );
            if let (Some((name, version)), Some(min)) = (&client, &minimum)
                && version < min
            {
                detail.push_str(&format!(" ({name} {version} is below the minimum)"));
            }
            pending.reason.push_str(&detail);
            return;
        }
        let Some((name, version)) = client else {
            return;
        };
        if let Some(min) = minimum.filter(|min| &version < min) {
            self.upgrade_requests.insert(
                0,
                UpgradeRequest {
                    stage: stage.to_string(),
                    reason: format!(
                        "{name} {version} is below the server's stated minimum {min} (download {url})"
                    ),
                    message: head,
                },
            );
        } else if let Some(rec) = recommended.filter(|rec| &version < rec) {
            self.upgrade_requests.push(UpgradeRequest {
                stage: stage.to_string(),
                reason: format!("server recommends {rec} over {name} {version} (download {url})"),
                message: head,
            });
        }
    }

    fn on_server_message(&mut self, message: &Message, stage: &str, head: String) {
        let Some(body) = &message.body else { return };
        let body = String::from_utf8_lossy(body);
        let is_notice = body.lines().any(|line| {
            let line = line.to_ascii_lowercase();
            line.starts_with("content-type:") && line.contains(UPGRADE_NOTICE_TYPE)
        });
        if !is_notice {
            return;
        }
        let said = body
            .lines()
            .find_map(|l| l.strip_prefix("Message: "))
            .unwrap_or("upgrade required");
        self.upgrade_requests.push(UpgradeRequest {
            stage: stage.to_string(),
            reason: format!("upgrade notice: {}", said.trim()),
            message: head,
        });
    }

    fn admit(&mut self, stage: &str, how: &str, head: String) -> Verdict {
        self.pending = None;
        let Some(first) = self.upgrade_requests.first() else {
            return Verdict::new(
                VerdictKind::Admitted,
                stage,
                format!("reached the admission point: {how}"),
                Some(head),
            );
        };
        let below_minimum = first.reason.contains("below the server's stated minimum");
        let mut reasons: Vec<&str> = self
            .upgrade_requests
            .iter()
            .map(|r| r.reason.as_str())
            .collect();
        reasons.dedup();
        let mut reason = reasons.join("; ");
        if below_minimum {
            reason.push_str(&format!(
                "; yet admitted ({how}): the server relies on the client to enforce its minimum"
            ));
        } else {
            reason.push_str(&format!("; admitted ({how})"));
        }
        Verdict::new(
            VerdictKind::Warned,
            &first.stage,
            reason,
            Some(first.message.clone()),
        )
    }

    /// The client's own name and version: as it stated them on the wire, else as the case declares.
    fn client_version(&self) -> Option<(String, ClientVersion)> {
        let (name, version) = match (&self.stated, &self.declared) {
            (Some((name, version)), _) => (name.clone(), version.clone()),
            (None, Some(identity)) => (identity.client.clone(), identity.version.clone()),
            (None, None) => return None,
        };
        ClientVersion::parse(&version).map(|v| (name, v))
    }
}

fn describe_out(message: &Message) -> String {
    match message.args.first().map(String::as_str) {
        Some("OTH") => "OUT OTH (signed in elsewhere)".to_string(),
        Some("SSD") => "OUT SSD (server shutting down)".to_string(),
        Some(other) => format!("OUT {other}"),
        None => "OUT".to_string(),
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 120;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::msnp::codec::{self, Limits, Sender};
    use bytes::BytesMut;

    fn parse(line: &str, sender: Sender) -> Message {
        let mut buf = BytesMut::from(codec::encode(line, None).as_ref());
        codec::decode(&mut buf, sender, &Limits::default())
            .unwrap()
            .unwrap()
            .0
    }

    /// Plays a dialogue: lines starting with `>` are sent, `<` received. Returns the verdict
    /// the classifier reached, or what `end` gives.
    fn play(dialogue: &[&str], end: Ending) -> Verdict {
        let mut c = Classifier::new(None);
        for line in dialogue {
            let (dir, text) = line.split_at(2);
            if dir == "> " {
                c.on_sent(&parse(text, Sender::Client));
            } else if let Some(v) = c.on_received(&parse(text, Sender::Server)).verdict {
                return v;
            }
        }
        c.on_end(end)
    }

    const MSN_50: &[&str] = &[
        "> VER 1 MSNP8 CVR0",
        "< VER 1 MSNP8 CVR0",
        "> CVR 2 0x0409 win 4.10 i386 MSNMSGR 5.0.0544 MSMSGS a@b.c",
    ];

    fn with(prefix: &[&'static str], rest: &[&'static str]) -> Vec<&'static str> {
        prefix.iter().chain(rest).copied().collect()
    }

    #[test]
    fn challenge_with_no_upgrade_request_is_admitted() {
        let v = play(
            &with(
                MSN_50,
                &[
                    "< CVR 2 5.0.0544 5.0.0544 5.0.0544 http://x http://y",
                    "> USR 3 TWN I a@b.c",
                    "< USR 3 TWN S lc=1033,id=507",
                ],
            ),
            Ending::Closed,
        );
        assert_eq!((v.kind, v.stage.as_str()), (VerdictKind::Admitted, "USR"));
        assert_eq!(v.decided_by.as_deref(), Some("USR 3 TWN S lc=1033,id=507"));
    }

    #[test]
    fn recommended_above_client_is_warned_and_names_the_cvr_reply() {
        let cvr = "CVR 2 6.0.0602 6.0.0602 5.0 http://dl http://info";
        let v = play(
            &with(
                MSN_50,
                &[
                    "< CVR 2 6.0.0602 6.0.0602 5.0 http://dl http://info",
                    "> USR 3 TWN I a@b.c",
                    "< USR 3 TWN S x",
                ],
            ),
            Ending::Closed,
        );
        assert_eq!((v.kind, v.stage.as_str()), (VerdictKind::Warned, "CVR"));
        assert_eq!(v.decided_by.as_deref(), Some(cvr));
        assert!(
            v.reason
                .contains("recommends 6.0.0602 over MSNMSGR 5.0.0544"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn below_minimum_yet_admitted_is_warned_with_that_fact() {
        let v = play(
            &with(
                MSN_50,
                &[
                    "< CVR 2 6.0.0602 6.0.0602 5.0.0545 http://dl http://info",
                    "> USR 3 TWN I a@b.c",
                    "< USR 3 OK a@b.c a@b.c 1 0",
                ],
            ),
            Ending::Closed,
        );
        assert_eq!(v.kind, VerdictKind::Warned);
        assert!(
            v.reason
                .contains("below the server's stated minimum 5.0.0545"),
            "{}",
            v.reason
        );
        assert!(v.reason.contains("relies on the client"), "{}", v.reason);
    }

    #[test]
    fn a_close_instead_of_an_answer_is_decided_at_the_request_refused() {
        let v = play(
            &with(
                MSN_50,
                &[
                    "< CVR 2 6.0.0602 6.0.0602 6.0.0602 http://dl http://info",
                    "> USR 3 TWN I a@b.c",
                ],
            ),
            Ending::Closed,
        );
        assert_eq!((v.kind, v.stage.as_str()), (VerdictKind::LockedOut, "USR"));
        assert_eq!(v.decided_by.as_deref(), Some("USR 3 TWN I a@b.c"));
        assert!(
            v.reason
                .contains("closed the connection instead of answering `USR 3 TWN I a@b.c`"),
            "{}",
            v.reason
        );
        assert!(
            v.reason
                .contains("below the server's stated minimum 6.0.0602"),
            "{}",
            v.reason
        );
        let v = play(
            &["> VER 1 MSNP7 CVR0", "< VER 1 MSNP7 CVR0", "> INF 2"],
            Ending::Reset,
        );
        assert_eq!((v.kind, v.stage.as_str()), (VerdictKind::LockedOut, "INF"));
        assert!(
            v.reason
                .contains("reset the connection instead of answering `INF 2`")
        );
    }

    #[test]
    fn a_close_after_the_clients_own_sign_out_is_no_lockout() {
        let v = play(
            &["> VER 1 MSNP18 MSNP15", "< VER 1 MSNP15", "> OUT"],
            Ending::Closed,
        );
        assert_eq!(v.kind, VerdictKind::Error, "{v:?}");
        assert!(
            v.reason.contains("the client ended the session (OUT)"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn ver_zero_is_a_lockout() {
        let v = play(
            &["> VER 1 MSNP18 MSNP16 MSNP15", "< VER 1 0"],
            Ending::Closed,
        );
        assert_eq!((v.kind, v.stage.as_str()), (VerdictKind::LockedOut, "VER"));
        assert_eq!(v.decided_by.as_deref(), Some("VER 1 0"));
    }

    #[test]
    fn cvq_fallback_records_minimum_and_url() {
        let v = play(
            &[
                "> VER 1 MSNP10 MSNP9 CVR0",
                "< VER 1 CVR0",
                "> CVQ 2 0x0409 winnt 5.1 i386 MSNMSGR 6.1.0211 MSMSGS a@b.c",
                "< CVQ 2 7.0.0813 7.0.0813 6.2.0205 http://dl http://messenger.msn.com",
            ],
            Ending::Closed,
        );
        assert_eq!((v.kind, v.stage.as_str()), (VerdictKind::LockedOut, "VER"));
        assert!(v.reason.contains("minimum 6.2.0205"), "{}", v.reason);
        assert!(v.reason.contains("download http://dl"), "{}", v.reason);
        assert!(
            v.reason.contains("6.1.0211 is below the minimum"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn numeric_error_names_the_request_it_answers() {
        let v = play(&with(MSN_50, &["< 710 2"]), Ending::Closed);
        assert_eq!((v.kind, v.stage.as_str()), (VerdictKind::LockedOut, "CVR"));
        assert_eq!(v.reason, "error 710 (bad CVR parameters) in reply to CVR");
    }

    #[test]
    fn out_before_admission_is_a_lockout() {
        let v = play(&with(MSN_50, &["< OUT OTH"]), Ending::Closed);
        assert_eq!(v.kind, VerdictKind::LockedOut);
        assert!(v.reason.contains("signed in elsewhere"));
    }

    #[test]
    fn dispatch_redirect_is_admission() {
        let v = play(
            &[
                "> VER 1 MSNP8 CVR0",
                "< VER 1 MSNP8 CVR0",
                "> USR 2 TWN I a@b.c",
                "< XFR 2 NS 207.46.106.118:1863 0 207.46.104.20:1863",
            ],
            Ending::Closed,
        );
        assert_eq!((v.kind, v.stage.as_str()), (VerdictKind::Admitted, "XFR"));
    }

    #[test]
    fn close_without_any_reply_is_an_error_not_a_lockout() {
        let v = play(&["> VER 1 MSNP8 CVR0"], Ending::Reset);
        assert_eq!(v.kind, VerdictKind::Error);
        assert!(v.reason.contains("without a single reply"));
    }

    #[test]
    fn steps_ending_before_admission_is_an_error() {
        let v = play(
            &["> VER 1 MSNP8 CVR0", "< VER 1 MSNP8 CVR0"],
            Ending::ScriptEnded,
        );
        assert_eq!(v.kind, VerdictKind::Error);
    }

    #[test]
    fn upgrade_notice_message_warns() {
        let mut c = Classifier::new(Some(Identity {
            client: "MSMSGS".into(),
            version: "4.6.0082".into(),
        }));
        c.on_sent(&parse("USR 3 MD5 I a@b.c", Sender::Client));
        let body = format!(
            "MIME-Version: 1.0\r\nContent-Type: {UPGRADE_NOTICE_TYPE}\r\n\r\nMessage: upgrade before 2003-10-15\r\n"
        );
        let mut buf =
            BytesMut::from(codec::encode("MSG Hotmail Hotmail", Some(body.as_bytes())).as_ref());
        let notice = codec::decode(&mut buf, Sender::Server, &Limits::default())
            .unwrap()
            .unwrap()
            .0;
        let observed = c.on_received(&notice);
        assert!(!observed.answers_request && observed.verdict.is_none());
        let v = c
            .on_received(&parse("USR 3 MD5 S 1013928519.693957190", Sender::Server))
            .verdict
            .unwrap();
        assert_eq!(v.kind, VerdictKind::Warned);
        assert!(
            v.reason
                .contains("upgrade notice: upgrade before 2003-10-15"),
            "{}",
            v.reason
        );
    }
}
