//! The mail suites' replayed verdicts against what the real clients got live: each capture
//! case in captures/{smtp,imap,pop3}, replayed against the server under the policy it was
//! captured against, must agree with that client's row in the folder's results.tsv (admitted
//! or warned ⇔ the client got in; locked out ⇔ it was refused), so the dialect files are
//! checked against real clients, not only against their own snapshots. The clients held to
//! TLS 1.1, whose TLS no replay can speak, are judged from their pcaps instead.

mod common;

use common::{captured_port, harness, json_lines, repo_root, stderr, stdout};
use std::collections::BTreeMap;

/// Failed clients the harness calls `error`, not `locked-out`: each left on its own, without a
/// command the server could refuse, so the replay ends with nothing that decides. What made
/// it leave (an EHLO or CAPABILITY reply offering it no way in it would take) is in the
/// reply, but leaving is the client's choice, which no reply rule can see.
const LEFT_ON_ITS_OWN: &[(&str, &str, &str, &str)] = &[
    (
        "smtp",
        "msmtp",
        "today",
        "closes after EHLO: it will not send a password in the clear, and no TLS was configured",
    ),
    (
        "smtp",
        "perl-net-smtp",
        "transition",
        "closes after an EHLO reply without AUTH (\"500 Command unknown: 'AUTH'\" is its own)",
    ),
    (
        "smtp",
        "perl-net-smtp",
        "strict",
        "closes after an EHLO reply without AUTH",
    ),
    (
        "imap",
        "curl",
        "strict",
        "closes after CAPABILITY shows LOGINDISABLED and no mechanism before STARTTLS",
    ),
    (
        "pop3",
        "curl",
        "strict",
        "closes after CAPA shows no USER and no SASL before STLS",
    ),
];

/// Whether the client got in, from results.tsv: exit 0, or fetchmail's exit 1 for an empty
/// mailbox ("No mail for harness"), which comes after a login.
fn ground_truth(protocol: &str) -> BTreeMap<(String, String), (bool, String)> {
    let path = repo_root().join(format!("captures/{protocol}/results.tsv"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (client, policy, exit, said) = (
        col("client"),
        col("policy"),
        col("exit"),
        col("client_said"),
    );
    lines
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let got_in = f[exit] == "0" || f[said].contains("No mail for harness");
            (
                (f[client].to_string(), f[policy].to_string()),
                (got_in, f[said].to_string()),
            )
        })
        .collect()
}

/// Why the real servers cannot run here, if they cannot (on CI they must).
fn servers_missing() -> Option<String> {
    let uid = std::process::Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("Postfix and Dovecot need root".into());
    }
    let found = |cmd: &str| {
        std::process::Command::new("bash")
            .args(["-c", &format!("command -v {cmd} || [ -x {cmd} ]")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    ["/usr/lib/postfix/sbin/master", "dovecot", "socat"]
        .into_iter()
        .find(|c| !found(c))
        .map(|c| format!("{c} is not installed (ci/install.sh installs it)"))
}

fn check(suite: &str, protocol: &str) {
    if let Some(why) = servers_missing() {
        assert!(std::env::var_os("CI").is_none(), "{why}: required on CI");
        eprintln!("note: {why}; skipping {suite}");
        return;
    }
    let truth = ground_truth(protocol);
    // Judged against results.tsv, not the suite's own expectations: a run whose verdicts
    // differ from them (exit 1) is compared all the same.
    let dir = repo_root().join("suites").join(suite);
    let out = harness(&["run", &dir.display().to_string(), "--format", "json"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let results: BTreeMap<(String, String), serde_json::Value> = json_lines(&stdout(&out))
        .0
        .into_iter()
        .map(|r| {
            let key = (
                r["case"].as_str().unwrap().to_string(),
                r["target"].as_str().unwrap().to_string(),
            );
            (key, r)
        })
        .collect();
    let mut compared = 0;
    let mut wrong = Vec::new();
    for ((case, target), result) in &results {
        let Some(session) = case.strip_suffix(".captured") else {
            continue;
        };
        let session = session.split(".conn").next().unwrap();
        let (client, policy) = session.rsplit_once('.').unwrap();
        if target.rsplit_once('-').map(|(_, p)| p) != Some(policy) {
            continue;
        }
        let (got_in, said) = truth
            .get(&(client.to_string(), policy.to_string()))
            .unwrap_or_else(|| panic!("{case}: no row for {client} under {policy} in results.tsv"));
        let verdict = result["verdict"].as_str().unwrap();
        let left = LEFT_ON_ITS_OWN
            .iter()
            .any(|(p, c, pol, _)| (*p, *c, *pol) == (protocol, client, policy));
        let agrees = match verdict {
            "admitted" | "warned" => *got_in,
            "locked-out" => !got_in && !left,
            "error" => {
                left && result["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("before any verdict"))
            }
            _ => false,
        };
        if !agrees {
            wrong.push(format!(
                "{case} at {target}: {verdict} ({}), but the client {} live: {said}",
                result["reason"].as_str().unwrap_or("-"),
                if *got_in { "got in" } else { "failed" },
            ));
        }
        compared += 1;
    }
    let cases = std::fs::read_dir(repo_root().join("captures").join(protocol))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".captured.toml")
        })
        .count();
    assert_eq!(
        compared, cases,
        "every capture case is compared at its own policy"
    );
    assert!(
        wrong.is_empty(),
        "{} of {compared} disagree:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    let verdicts: std::collections::BTreeSet<&str> = results
        .values()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    for v in ["admitted", "warned", "locked-out"] {
        assert!(
            verdicts.contains(v),
            "{suite} shows no {v} verdict: {verdicts:?}"
        );
    }
}

/// The clients held to TLS 1.1 (`CLIENT-tls1.1`), judged from their pcaps with no key log:
/// their TLS cannot be replayed (the harness's own TLS speaks 1.2 and later), so what decides
/// is the clear part of the handshake. Where the server refused the hello (an alert, or a
/// close) they are locked out, as the clients failed live; where it chose TLS 1.1 the rest is
/// encrypted, undecided but warned of the version, as the clients got in.
fn tls11_judged_agree(protocol: &str, dialect: &str, clients: usize) {
    let truth = ground_truth(protocol);
    let dialect = repo_root().join(dialect).display().to_string();
    let folder = repo_root().join("captures").join(protocol);
    let mut judged = 0;
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(session) = name.strip_suffix(".pcap") else {
            continue;
        };
        let (client, policy) = session.rsplit_once('.').unwrap();
        if !client.ends_with("-tls1.1") {
            continue;
        }
        let pcap = path.display().to_string();
        let port = captured_port(&pcap, &dialect);
        let out = harness(&[
            "judge",
            &pcap,
            "--dialect",
            &dialect,
            "--port",
            &port,
            "--format",
            "json",
        ]);
        let (results, _) = json_lines(&stdout(&out));
        let [result] = &results[..] else {
            panic!(
                "{name}: one session, not {}: {}",
                results.len(),
                stderr(&out)
            );
        };
        let (got_in, said) = &truth[&(client.to_string(), policy.to_string())];
        let verdict = result["verdict"].as_str().unwrap();
        let reason = result["reason"].as_str().unwrap_or_default();
        let agrees = if *got_in {
            verdict == "undecided"
                && reason.starts_with("the server chose TLSv1.1 (warned: a retired TLS version")
        } else {
            verdict == "locked-out"
                && result["stage"] == "TLS handshake"
                && reason.contains("the client's TLSv1.1 hello")
        };
        assert!(
            agrees,
            "{name}: {verdict} ({reason}), but the client {} live: {said}",
            if *got_in { "got in" } else { "failed" }
        );
        judged += 1;
    }
    assert_eq!(
        judged,
        3 * clients,
        "each TLS 1.1 client under three policies"
    );
}

#[test]
fn smtp_tls11_clients_are_judged_as_postfix_answered_their_hello() {
    tls11_judged_agree("smtp", "suites/smtp-submission/dialects/smtp.toml", 2);
}

#[test]
fn imap_tls11_clients_are_judged_as_dovecot_answered_their_hello() {
    tls11_judged_agree("imap", "suites/imap-dovecot/dialects/imap.toml", 2);
}

#[test]
fn pop3_tls11_clients_are_judged_as_dovecot_answered_their_hello() {
    tls11_judged_agree("pop3", "suites/pop3-dovecot/dialects/pop3.toml", 1);
}

#[test]
fn smtp_captures_agree_with_what_each_client_got_from_postfix() {
    check("smtp-submission", "smtp");
}

#[test]
fn imap_captures_agree_with_what_each_client_got_from_dovecot() {
    check("imap-dovecot", "imap");
}

#[test]
fn pop3_captures_agree_with_what_each_client_got_from_dovecot() {
    check("pop3-dovecot", "pop3");
}
