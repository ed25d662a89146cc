//! Loading errors (file:line:col, did-you-mean), steps and rules of a small file dialect.

use super::*;
use crate::dialect::{Ending, Settings, text_step};
use crate::verdict::VerdictKind;
use std::collections::BTreeMap;

const MINI: &str = r#"
name = "mini"
port = 2525
speaks_first = "server"
farewell = "QUIT"

[framing]
continues = '^\d{3}-'
max_line = 100

[[verb]]
name = "EHLO"
args = '^\S+$'

[[verb]]
name = "AUTH"
args = '^(PLAIN|LOGIN)( \S+)?$'

[[verb]]
name = "STARTTLS"

[[verb]]
name = "QUIT"

[[rule]]
reply = '^4'
then = "busy"

[[rule]]
reply = '^220 '
stage = ["STARTTLS"]
then = "upgrade-tls"

[[rule]]
reply = '^235 '
then = "admitted"
reason = "authenticated"

[[rule]]
reply = '^530 '
stage = ["AUTH"]
then = "locked-out"
reason = "TLS first"

[[rule]]
reply = '^5'
then = "locked-out"

[[ending]]
stage = ["greeting"]
closed = "error"
reason = "closed before its greeting"

[[warn]]
request = '^AUTH (?P<item>\S+)'
deprecated = ["LOGIN"]
reason = "a retired mechanism"

[identity]
client = '^EHLO (?P<name>\S+)'
"#;

fn mini(text: &str) -> Result<FileDialect, Vec<SourceError>> {
    let spec = load::parse(Path::new("dialects/mini.toml"), text)?;
    Ok(FileDialect {
        spec: Box::leak(Box::new(spec)),
    })
}

fn error(text: &str) -> String {
    let errors = mini(text).unwrap_err();
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_bad_pattern_is_reported_at_its_line_and_column() {
    let text = MINI.replace(r"reply = '^235 '", r"reply = '^235 ('");
    let shown = error(&text);
    let line = text.lines().position(|l| l.contains("^235 (")).unwrap() + 1;
    assert!(
        shown.contains(&format!("dialects/mini.toml:{line}:9")),
        "{shown}"
    );
    assert!(shown.contains("is not a valid pattern"), "{shown}");
}

#[test]
fn an_unknown_verdict_suggests_the_closest() {
    let shown = error(&MINI.replace("then = \"busy\"", "then = \"bussy\""));
    assert!(shown.contains("`bussy` is not a verdict here"), "{shown}");
    assert!(shown.contains("did you mean `busy`?"), "{shown}");
}

#[test]
fn an_unknown_stage_suggests_a_verb() {
    let text = MINI.replace("stage = [\"AUTH\"]", "stage = [\"STARTTLS\", \"AUHT\"]");
    let shown = error(&text);
    let line = text.lines().position(|l| l.contains("AUHT")).unwrap() + 1;
    assert!(
        shown.contains(&format!("mini.toml:{line}:22")),
        "at the name: {shown}"
    );
    assert!(
        shown.contains("`AUHT` is not a stage of this dialect"),
        "{shown}"
    );
    assert!(shown.contains("did you mean `AUTH`?"), "{shown}");
}

#[test]
fn an_unknown_key_suggests_the_closest_and_every_mistake_is_reported() {
    let shown = error(&MINI.replace("farewell", "farewel"));
    assert!(shown.contains("did you mean `farewell`?"), "{shown}");
    let text = MINI
        .replace("port = 2525", "port = 70000")
        .replace("then = \"admitted\"", "then = \"admited\"");
    let errors = mini(&text).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].column), (3, 8));
}

#[test]
fn a_built_in_name_is_refused() {
    let shown = error(&MINI.replace("name = \"mini\"", "name = \"http\""));
    assert!(
        shown.contains("`http` is the name of a built-in dialect"),
        "{shown}"
    );
}

#[test]
fn steps_are_checked_with_did_you_mean() {
    let d = mini(MINI).unwrap();
    let err = text_step(&d, "EHOL client.example").unwrap_err();
    assert_eq!((err.offset, err.len), (0, 4));
    assert_eq!(err.message, "`EHOL` is not a mini verb");
    assert_eq!(err.help.as_deref(), Some("did you mean `EHLO`?"));
    let err = text_step(&d, "AUTH CRAM-MD5").unwrap_err();
    assert_eq!(err.offset, 5, "{err:?}");
    assert!(
        err.message
            .contains("does not match the arguments of `AUTH`")
    );
    let err = text_step(&d, "STARTTLS now").unwrap_err();
    assert_eq!(err.message, "`STARTTLS` takes no arguments");
    assert!(text_step(&d, "ehlo {name}").is_ok(), "a verb in any case");
    assert!(
        text_step(&d, "AUTH {mechanism}").is_ok(),
        "checked when sent"
    );
    assert!(
        text_step(&d, "dGVzdA==").is_err(),
        "no free lines in this file"
    );
}

#[test]
fn a_step_with_variables_is_checked_when_sent() {
    let d = mini(MINI).unwrap();
    let step = text_step(&d, "AUTH {mechanism}").unwrap();
    let mut conversation = Dialect::conversation(&d, None, &Settings::none());
    let values = BTreeMap::from([("mechanism".to_string(), "GSSAPI".to_string())]);
    let err = conversation.send(step.as_ref(), &values).unwrap_err();
    assert!(matches!(err, crate::dialect::SendError::Malformed(m) if m.contains("AUTH")));
    let values = BTreeMap::from([("mechanism".to_string(), "PLAIN".to_string())]);
    let bytes = conversation.send(step.as_ref(), &values).unwrap();
    assert_eq!(&bytes[..], b"AUTH PLAIN\r\n");
}

/// Plays `exchange` (client lines `> `, server replies `< `) and returns the verdict, if any.
fn play(exchange: &[&str]) -> Option<crate::verdict::Verdict> {
    let d = mini(MINI).unwrap();
    let mut c = Dialect::conversation(&d, None, &Settings::none());
    for line in exchange {
        let (side, text) = line.split_at(2);
        let bytes = Bytes::from(format!("{}\r\n", text.replace('|', "\r\n")));
        if side == "> " {
            c.observe_sent(&bytes);
        } else if let Some(v) = c.receive(bytes).verdict {
            return Some(v);
        }
    }
    None
}

#[test]
fn rules_decide_by_reply_and_stage() {
    let v = play(&[
        "< 220 hi",
        "> EHLO me",
        "< 250-hi|250 AUTH PLAIN",
        "> AUTH PLAIN x",
        "< 235 ok",
    ])
    .unwrap();
    assert_eq!(
        (v.kind, v.stage.as_str(), v.reason.as_str()),
        (VerdictKind::Admitted, "AUTH", "authenticated")
    );
    assert_eq!(v.decided_by.as_deref(), Some("235 ok"));

    let v = play(&[
        "< 220 hi",
        "> AUTH PLAIN x",
        "< 530 5.7.0 Must issue a STARTTLS command first",
    ])
    .unwrap();
    assert_eq!(
        (v.kind, v.reason.as_str()),
        (VerdictKind::LockedOut, "TLS first")
    );

    let v = play(&["< 421 too busy"]).unwrap();
    assert!(v.is_busy(), "{v:?}");
    assert_eq!(v.stage, "greeting");

    let v = play(&["< 220 hi", "> EHLO me", "< 550 go away"]).unwrap();
    assert_eq!((v.kind, v.stage.as_str()), (VerdictKind::LockedOut, "EHLO"));
    assert_eq!(v.reason, "the server answered `550 go away`");
}

#[test]
fn a_deprecated_item_turns_an_admission_into_a_warning() {
    let v = play(&[
        "< 220 hi",
        "> AUTH LOGIN",
        "< 334 VXNlcm5hbWU6",
        "> dXNlcg==",
        "< 235 ok",
    ])
    .unwrap();
    assert_eq!(v.kind, VerdictKind::Warned);
    assert_eq!(v.stage, "AUTH", "a free line keeps the stage of its verb");
    assert_eq!(
        v.reason,
        "authenticated; warned: a retired mechanism (LOGIN)"
    );
}

#[test]
fn starttls_asks_for_the_upgrade_and_endings_follow_the_file() {
    let d = mini(MINI).unwrap();
    let mut c = Dialect::conversation(&d, None, &Settings::none());
    assert!(!c.receive(Bytes::from_static(b"220 hi\r\n")).upgrade_to_tls);
    c.observe_sent(b"STARTTLS\r\n");
    let r = c.receive(Bytes::from_static(b"220 go ahead\r\n"));
    assert!(r.upgrade_to_tls && r.verdict.is_none());
    assert_eq!(c.ended(Ending::Closed).kind, VerdictKind::LockedOut);
    assert_eq!(c.ended(Ending::Reset).kind, VerdictKind::Error);
    assert_eq!(c.farewell().as_deref(), Some(&b"QUIT\r\n"[..]));

    let mut c = Dialect::conversation(&d, None, &Settings::none());
    let v = c.ended(Ending::Closed);
    assert_eq!(
        (v.kind, v.reason.as_str()),
        (VerdictKind::Error, "closed before its greeting")
    );
}

#[test]
fn a_client_is_named_from_its_ehlo() {
    let d = mini(MINI).unwrap();
    let id = d.recorded_identity(&[b"EHLO laptop.example\r\n", b"AUTH PLAIN x\r\n"]);
    assert_eq!(id.client.unwrap().client, "laptop.example");
    assert!(d.opens_handshake(b"EHLO x\r\n"));
    assert!(!d.opens_handshake(b"\x16\x03\x01"));
}

#[test]
fn a_rule_may_ask_which_request_it_answers() {
    let text = MINI.replace(
        "[[rule]]\nreply = '^4'",
        "[[rule]]\nreply = '^250 '\nrequest = '^EHLO old\\.'\nthen = \"warned\"\nreason = \"an old client\"\n\n[[rule]]\nreply = '^4'",
    );
    let d = mini(&text).unwrap();
    let mut c = Dialect::conversation(&d, None, &Settings::none());
    c.observe_sent(b"EHLO new.example\r\n");
    assert!(
        c.receive(Bytes::from_static(b"250 hi\r\n"))
            .verdict
            .is_none()
    );
    c.observe_sent(b"EHLO old.example\r\n");
    let v = c
        .receive(Bytes::from_static(b"250 hi\r\n"))
        .verdict
        .unwrap();
    assert_eq!(
        (v.kind, v.reason.as_str()),
        (VerdictKind::Warned, "an old client")
    );
}

#[test]
fn a_file_loaded_again_or_copied_is_the_same_dialect_and_another_under_its_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = MINI.replace("name = \"mini\"", "name = \"mini-registry\"");
    let (first, copy, other) = (
        dir.path().join("a.toml"),
        dir.path().join("b.toml"),
        dir.path().join("c.toml"),
    );
    std::fs::write(&first, &text).unwrap();
    std::fs::write(&copy, &text).unwrap();
    std::fs::write(&other, text.replace("port = 2525", "port = 2526")).unwrap();
    let a = load(&first).unwrap();
    assert!(std::ptr::addr_eq(a, load(&first).unwrap()));
    assert!(
        std::ptr::addr_eq(a, load(&copy).unwrap()),
        "a copy is the same dialect"
    );
    assert!(std::ptr::addr_eq(
        a,
        crate::dialect::by_name("mini-registry").unwrap()
    ));
    let refused = load(&other).unwrap_err();
    let shown = refused[0].to_string();
    assert!(shown.contains("already registered"), "{shown}");
    assert!(
        shown.contains("a.toml"),
        "names the file that has the name: {shown}"
    );
    assert!(shown.contains("c.toml:2:1"), "{shown}");
}

#[test]
fn pipelined_requests_are_answered_oldest_first() {
    let text = MINI.replace(
        "[[verb]]\nname = \"QUIT\"",
        "[[verb]]\nname = \"QUIT\"\n\n[[verb]]\nname = \"MAIL\"\nargs = '.*'\n\n[[verb]]\nname = \"RCPT\"\nargs = '.*'",
    );
    let d = mini(&text).unwrap();
    let mut c = Dialect::conversation(&d, None, &Settings::none());
    assert!(
        c.receive(Bytes::from_static(b"220 hi\r\n"))
            .verdict
            .is_none()
    );
    c.observe_sent(b"MAIL FROM:<a@b>\r\n");
    c.observe_sent(b"RCPT TO:<c@d>\r\n");
    assert_eq!(c.stage(), "MAIL", "the reply awaited is MAIL's");
    let v = c
        .receive(Bytes::from_static(b"530 5.7.0 Authentication required\r\n"))
        .verdict
        .unwrap();
    assert_eq!((v.kind, v.stage.as_str()), (VerdictKind::LockedOut, "MAIL"));
    assert_eq!(c.stage(), "RCPT");
}

#[test]
fn a_close_after_the_clients_farewell_is_no_lockout() {
    let d = mini(MINI).unwrap();
    let mut c = Dialect::conversation(&d, None, &Settings::none());
    c.receive(Bytes::from_static(b"220 hi\r\n"));
    c.observe_sent(b"EHLO me\r\n");
    c.receive(Bytes::from_static(b"250 hi\r\n"));
    assert!(!c.client_left());
    c.observe_sent(b"QUIT\r\n");
    c.receive(Bytes::from_static(b"221 bye\r\n"));
    assert!(c.client_left());
    let v = c.ended(Ending::Closed);
    assert_eq!((v.kind, v.stage.as_str()), (VerdictKind::Error, "QUIT"));
    assert!(
        v.reason.starts_with("the client signed off (QUIT)"),
        "{}",
        v.reason
    );
}
