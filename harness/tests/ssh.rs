//! The SSH dialect against real servers: the ssh-hardening suite against sshd and dropbear
//! under three policies each; every real client's capture, replayed against every server,
//! gets what the client got live (captures/ssh/live-results-*.tsv); and real OpenSSH and
//! dropbear clients run live by this test against differently configured servers agree with
//! the verdicts of their captures, made against another server.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn suite_dir() -> PathBuf {
    repo_root().join("suites/ssh-hardening")
}

/// The suite run once: (case, target) to verdict.
fn suite_verdicts() -> BTreeMap<(String, String), String> {
    suite_results(&suite_dir())
        .into_iter()
        .map(|(key, r)| (key, r["verdict"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn ssh_hardening_suite_replays_what_each_real_client_got_live() {
    let verdicts = suite_verdicts();
    for kind in ["admitted", "warned", "locked-out"] {
        assert!(verdicts.values().any(|v| v == kind), "no {kind}");
    }
    // Ground truth: each real client run live against each server and policy.
    let mut compared = 0;
    for entry in std::fs::read_dir(repo_root().join("captures/ssh")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(target) = name
            .strip_prefix("live-results-")
            .and_then(|n| n.strip_suffix(".tsv"))
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split('\t').collect();
            let case = format!("{}.captured", fields[0]);
            let live_in = fields[1] == "yes";
            let verdict = &verdicts[&(case.clone(), target.to_string())];
            assert_eq!(
                matches!(verdict.as_str(), "admitted" | "warned"),
                live_in,
                "{case} against {target}: the harness says {verdict}, the real client live {}",
                fields[1]
            );
            compared += 1;
        }
    }
    assert_eq!(
        compared,
        14 * 6,
        "every real client against every server and policy"
    );
}

/// A server script of the suite under `policy`, on a free port; killed when dropped.
struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server(script: &str, policy: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("bash")
        .arg(suite_dir().join("servers").join(script))
        .args([policy, &port.to_string()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child, port);
    for _ in 0..400 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("{script} {policy} did not start");
}

/// Whether the real OpenSSH client, with `options`, gets the server's key-exchange reply.
fn openssh_completes_key_exchange(port: u16, options: &[&str]) -> bool {
    let out = Command::new("ssh")
        .args(["-F", "/dev/null", "-v", "-o", "BatchMode=yes"])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args(["-o", "ConnectTimeout=10"])
        .args(options)
        .args(["-p", &port.to_string(), "test@127.0.0.1", "true"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stderr).contains("SSH2_MSG_NEWKEYS received")
}

/// Whether dropbear's client gets the server's key-exchange reply (it then checks the key).
fn dbclient_completes_key_exchange(port: u16) -> bool {
    let out = Command::new("dbclient")
        .args([
            "-y",
            "-y",
            "-p",
            &port.to_string(),
            "test@127.0.0.1",
            "true",
        ])
        .env("DROPBEAR_PASSWORD", "wrong")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stderr).contains("skipping hostkey check")
}

#[test]
fn real_clients_live_agree_with_their_captures_replayed() {
    let verdicts = suite_verdicts();
    let openssh: [(&str, &[&str]); 4] = [
        ("openssh", &[]),
        (
            "openssh-legacy",
            &[
                "-o",
                "KexAlgorithms=diffie-hellman-group14-sha1",
                "-o",
                "HostKeyAlgorithms=ssh-rsa",
                "-o",
                "Ciphers=aes128-cbc",
                "-o",
                "MACs=hmac-sha1",
            ],
        ),
        (
            "openssh-group1",
            &["-o", "KexAlgorithms=diffie-hellman-group1-sha1"],
        ),
        (
            "openssh-gex",
            &["-o", "KexAlgorithms=diffie-hellman-group-exchange-sha256"],
        ),
    ];
    // The captures were made against sshd's legacy policy: these servers differ from it.
    for (script, policy) in [
        ("sshd.sh", "hardened"),
        ("dropbear.sh", "default"),
        ("dropbear.sh", "hardened"),
    ] {
        let server = server(script, policy);
        let target = format!("{}-{policy}", script.trim_end_matches(".sh"));
        for (client, options) in openssh {
            let replayed = &verdicts[&(format!("{client}.captured"), target.clone())];
            assert_eq!(
                openssh_completes_key_exchange(server.1, options),
                matches!(replayed.as_str(), "admitted" | "warned"),
                "{client} live against {target}; its capture replayed: {replayed}"
            );
        }
        let replayed = &verdicts[&("dbclient.captured".to_string(), target.clone())];
        assert_eq!(
            dbclient_completes_key_exchange(server.1),
            matches!(replayed.as_str(), "admitted" | "warned"),
            "dbclient live against {target}; its capture replayed: {replayed}"
        );
    }
}

#[test]
fn a_failed_negotiation_names_the_class_and_both_lists() {
    let out = harness(&[
        "run",
        &suite_dir().display().to_string(),
        "--format",
        "json",
    ]);
    let results = json_lines(&stdout(&out)).0;
    let find = |case: &str, target: &str| {
        results
            .iter()
            .find(|r| r["case"] == case && r["target"] == target)
            .unwrap_or_else(|| panic!("no {case} against {target}"))
            .clone()
    };
    let group1 = find("group1-only", "sshd-hardened");
    assert_eq!(group1["verdict"], "locked-out");
    assert!(
        group1["reason"]
            .as_str()
            .unwrap()
            .starts_with("no common key exchange method: the client offers diffie-hellman-group1-sha1; the server "),
        "{group1}"
    );
    let cbc = find("cbc-only", "sshd-default");
    assert!(
        cbc["reason"]
            .as_str()
            .unwrap()
            .starts_with("no common cipher (client to server)"),
        "{cbc}"
    );
    let legacy = find("ssh-rsa-sha1-only", "sshd-legacy");
    assert_eq!(legacy["verdict"], "warned");
    assert!(
        legacy["reason"]
            .as_str()
            .unwrap()
            .ends_with("deprecated: ssh-rsa"),
        "{legacy}"
    );
    let ssh1 = find("ssh-1.5-client", "dropbear-default");
    assert!(
        ssh1["reason"]
            .as_str()
            .unwrap()
            .starts_with("protocol major versions differ"),
        "{ssh1}"
    );
}
