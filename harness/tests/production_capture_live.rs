//! Issue 20's acceptance, live: real clients of HTTP, SSH and PostgreSQL, several sessions
//! each, captured by tcpdump against a permissive server; the capture imported with
//! `import --group` (one case per distinct client, each named apart and weighed by its
//! sessions) and run against a stricter server; then the same clients, the same number of
//! sessions each, re-sent live to that stricter server under tcpdump and that capture judged.
//! The grouped run's session-weighted shares must be what the stricter server gave the
//! traffic live, and each client's verdict the one its live sessions got.
//!
//! The clients run one session at a time, through the same commands `captures/*/make.sh` runs
//! them with (`run_client` of `captures/FOLDER/common.sh`) where there is one; so the n-th
//! connection of each capture is known to be the n-th session started.

mod common;

use common::live_tls::{Tcpdump, judged, missing_tool, skip};
use common::production::{add_target, assert_shares, import_grouped, run_with_impact, target};
use common::repo_root;
use common::suite_server::{ServerScript, SuiteServer};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

/// A real client: `sessions` runs of `command` (bash, after `captures/FOLDER/common.sh` is
/// sourced, with `$port` and, for HTTP, `$url` set). `same_as` names a client that sends the
/// same bytes before the server decides (drivers on one libpq): one client as the server sees
/// it, so one case.
struct Client {
    name: &'static str,
    sessions: usize,
    command: &'static str,
    same_as: Option<&'static str>,
}

const fn client(name: &'static str, sessions: usize, command: &'static str) -> Client {
    Client {
        name,
        sessions,
        command,
        same_as: None,
    }
}

/// One protocol's traffic: its clients, the capture folder whose `common.sh` runs them, and
/// the server script of a shipped suite in a permissive and a stricter phase.
struct Protocol {
    dialect: &'static str,
    folder: &'static str,
    /// The variable `common.sh` expects to hold its own folder.
    folder_var: &'static str,
    suite: &'static str,
    script: &'static str,
    permissive: &'static str,
    stricter: &'static str,
    /// A line of the server's stderr that says it is ready (else: once its port listens).
    ready_when: Option<&'static str>,
    /// What the stricter target needs in the grouped suite besides its command.
    target_extra: &'static str,
    variables: &'static str,
    tools: &'static [&'static str],
    /// Modules the clients load, as `python3:NAME` or `perl:NAME` (ci/install.sh installs
    /// them from PyPI or Debian).
    modules: &'static [&'static str],
    clients: &'static [Client],
}

impl Protocol {
    fn server(&self, phase: &'static str) -> ServerScript {
        ServerScript {
            suite: self.suite,
            script: self.script,
            phase,
            ready_when: self.ready_when,
        }
    }
}

const HTTP: Protocol = Protocol {
    dialect: "http",
    folder: "http",
    folder_var: "http_dir",
    suite: "http-sunset",
    script: "nginx.sh",
    permissive: "before",
    // 426 for HTTP/1.0, 410 for /api/v1/, a User-Agent minimum, Sunset for ExampleApp 3.2
    stricter: "retire",
    ready_when: None,
    target_extra: "",
    variables: "",
    tools: &[
        "nginx", "tcpdump", "ss", "curl", "wget", "node", "perl", "python3",
    ],
    modules: &["python3:requests", "perl:LWP::UserAgent"],
    clients: &[
        client("curl", 6, r#"run_client curl "$url""#),
        client("curl --http1.0", 4, r#"run_client curl-http1.0 "$url""#),
        client("curl, API v1", 3, r#"run_client curl "${url/v2/v1}""#),
        client(
            "ExampleApp 2.9.1 (curl -A)",
            2,
            r#"timeout 30 curl -sS -o /dev/null -A "ExampleApp/2.9.1 (Android 9)" "$url""#,
        ),
        client(
            "ExampleApp 3.2.0 (curl -A)",
            5,
            r#"timeout 30 curl -sS -o /dev/null -A "ExampleApp/3.2.0 (Android 14)" "$url""#,
        ),
        client(
            "ExampleApp 3.3.1 (curl -A)",
            3,
            r#"timeout 30 curl -sS -o /dev/null -A "ExampleApp/3.3.1 (Android 14)" "$url""#,
        ),
        client("wget", 2, r#"run_client wget "$url""#),
        client("python urllib", 3, r#"run_client python-urllib "$url""#),
        client("python requests", 4, r#"run_client python-requests "$url""#),
        client(
            "python http.client",
            2,
            r#"timeout 30 python3 -c '
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=20)
conn.request("GET", "/api/v2/status")
print(conn.getresponse().status)' "$port""#,
        ),
        client("node http", 3, r#"run_client node-http "$url""#),
        client("node fetch", 2, r#"run_client node-fetch "$url""#),
        client("perl LWP", 2, r#"run_client perl-lwp "$url""#),
        client("lynx", 2, r#"run_client lynx "$url""#),
        client("w3m", 1, r#"run_client w3m "$url""#),
    ],
};

const SSH: Protocol = Protocol {
    dialect: "ssh",
    folder: "ssh",
    folder_var: "ssh_dir",
    suite: "ssh-hardening",
    script: "sshd.sh",
    permissive: "legacy",
    stricter: "hardened",
    ready_when: None,
    target_extra: "",
    variables: "",
    tools: &["tcpdump", "ss", "ssh", "dbclient", "python3"],
    modules: &["python3:paramiko", "python3:asyncssh"],
    clients: &[
        client("OpenSSH", 4, r#"run_client openssh "$port""#),
        client(
            "OpenSSH, legacy -o",
            2,
            r#"run_client openssh-legacy "$port""#,
        ),
        client(
            "OpenSSH, group1 -o",
            3,
            r#"run_client openssh-group1 "$port""#,
        ),
        client("OpenSSH, gex -o", 1, r#"run_client openssh-gex "$port""#),
        client(
            "OpenSSH, AES-GCM -o",
            2,
            r#"timeout 30 "${openssh_base[@]}" -o Ciphers=aes256-gcm@openssh.com -p "$port" test@127.0.0.1 true"#,
        ),
        client("dropbear dbclient", 3, r#"run_client dbclient "$port""#),
        client("paramiko", 2, r#"run_client paramiko "$port""#),
        client("asyncssh", 1, r#"run_client asyncssh "$port""#),
    ],
};

const POSTGRES: Protocol = Protocol {
    dialect: "postgres",
    folder: "postgres",
    folder_var: "pg_dir",
    suite: "postgres-upgrade",
    script: "postgres.sh",
    permissive: "permissive",
    stricter: "scram-only",
    ready_when: Some("ready to accept connections"),
    target_extra: "ready_when = \"ready to accept connections\"\n",
    variables: "[variables]\nuser = \"harness\"\ndatabase = \"harness\"\n",
    tools: &["tcpdump", "psql", "perl", "python3"],
    modules: &[
        "python3:psycopg2",
        "python3:psycopg",
        "python3:pg8000",
        "python3:asyncpg",
        "perl:DBD::Pg",
    ],
    clients: &[
        client("psql", 3, r#"run_client psql-sslmode-prefer "$port""#),
        client(
            "psql sslmode=disable",
            2,
            r#"run_client psql-sslmode-disable "$port""#,
        ),
        client(
            "psql sslmode=require",
            1,
            r#"run_client psql-sslmode-require "$port""#,
        ),
        client("psycopg2", 3, r#"run_client psycopg2 "$port""#),
        // psycopg 3 and Perl's DBD::Pg speak through libpq as psycopg2 does, and pg8000
        // (pure Python) sends the same bytes too: an SSLRequest, then a 3.0 startup of user and
        // database alone. Until the server decides (MD5 or SCRAM, which all do) they are one
        // client as the server sees it, so one case.
        Client {
            name: "psycopg",
            sessions: 2,
            command: r#"run_client psycopg3 "$port""#,
            same_as: Some("psycopg2"),
        },
        Client {
            name: "pg8000",
            sessions: 4,
            command: r#"run_client pg8000 "$port""#,
            same_as: Some("psycopg2"),
        },
        Client {
            name: "DBD::Pg",
            sessions: 1,
            command: r#"run_client perl-dbd-pg "$port""#,
            same_as: Some("psycopg2"),
        },
        client("asyncpg", 2, r#"run_client asyncpg "$port""#),
    ],
};

/// Runs every client its sessions, one after another, against `port` under tcpdump, into
/// `file`; each session's client, in the order the sessions began.
fn capture_clients(protocol: &Protocol, port: u16, file: &Path, work: &Path) -> Vec<&'static str> {
    let folder = repo_root().join("captures").join(protocol.folder);
    let common_sh = folder.join("common.sh");
    let tcpdump = Tcpdump::start(port, file).unwrap();
    let mut owners = Vec::new();
    for client in protocol.clients {
        for _ in 0..client.sessions {
            let out = Command::new("bash")
                .arg("-c")
                .arg(format!("source \"$common_sh\"\n{}", client.command))
                .env("common_sh", &common_sh)
                .env(protocol.folder_var, &folder)
                .env("work", work)
                .env("port", port.to_string())
                .env("url", format!("http://127.0.0.1:{port}/api/v2/status"))
                .stdin(Stdio::null())
                .output()
                .unwrap();
            // A client refused by the policy exits non-zero (an SSH client's wrong password
            // always): whether its session was captured is checked from the capture.
            let log = format!("{} ({}): ", client.name, out.status);
            std::fs::write(
                work.join(format!(
                    "{}-{:03}.log",
                    file.file_stem().unwrap().to_string_lossy(),
                    owners.len()
                )),
                [log.as_bytes(), &out.stdout, &out.stderr].concat(),
            )
            .unwrap();
            owners.push(client.name);
        }
    }
    tcpdump.stop_after(protocol.dialect, port, owners.len());
    owners
}

/// The first module the clients need that its interpreter cannot load, if one is missing.
fn missing_module(protocol: &Protocol) -> Option<String> {
    protocol.modules.iter().find_map(|module| {
        let (interpreter, name) = module.split_once(':').unwrap();
        let load = match interpreter {
            "perl" => vec![format!("-M{name}"), "-e1".to_string()],
            _ => vec!["-c".to_string(), format!("import {name}")],
        };
        let loaded = Command::new(interpreter)
            .args(load)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        (!loaded).then(|| format!("{interpreter} cannot load {name}"))
    })
}

/// The end of what each client printed, to tell why a session is missing.
fn client_logs(work: &Path) -> String {
    let mut logs: Vec<_> = std::fs::read_dir(work)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort();
    logs.iter()
        .map(|log| {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let tail: String = text
                .chars()
                .rev()
                .take(300)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("{}: {tail}\n", log.file_name().unwrap().to_string_lossy())
        })
        .collect()
}

/// Who a client is as the server sees it: itself, or the client it is wire-identical to.
fn identity(protocol: &Protocol, name: &str) -> &'static str {
    let client = protocol.clients.iter().find(|c| c.name == name).unwrap();
    client.same_as.unwrap_or(client.name)
}

/// The whole acceptance for one protocol; the grouped cases' names and the impact.
fn live_traffic_weighs_as_grouped(protocol: &Protocol) -> Option<(Vec<String>, serde_json::Value)> {
    if let Some(why) = missing_tool(protocol.tools).or_else(|| missing_module(protocol)) {
        skip(&why);
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let note = |what: &str| eprintln!("{}: {what}", protocol.dialect);

    // 1. The traffic, as a permissive server saw it.
    let permissive_capture = dir.path().join("permissive.pcap");
    let (owners, permissive_port) = {
        let server = SuiteServer::start(&protocol.server(protocol.permissive), dir.path());
        let owners = capture_clients(protocol, server.port, &permissive_capture, &work);
        (owners, server.port)
    };
    note(&format!("{} sessions captured", owners.len()));

    // 2. One case per distinct client, with its sessions.
    let grouped = dir.path().join("grouped");
    let cases = import_grouped(
        &permissive_capture,
        protocol.dialect,
        &permissive_port.to_string(),
        &grouped,
    );
    let total: usize = cases.iter().map(|c| c.count).sum();
    assert_eq!(
        total,
        owners.len(),
        "sessions in the cases: {cases:?}\n{}",
        client_logs(&work)
    );
    let mut seen = BTreeSet::new();
    for case in &cases {
        let who: BTreeSet<&str> = case
            .sessions
            .iter()
            .map(|&n| identity(protocol, owners[n]))
            .collect();
        assert_eq!(who.len(), 1, "{} holds sessions of {who:?}", case.name);
        let who = who.into_iter().next().unwrap();
        assert!(seen.insert(who), "{who} is in two cases: {cases:?}");
        let sessions: usize = protocol
            .clients
            .iter()
            .filter(|c| identity(protocol, c.name) == who)
            .map(|c| c.sessions)
            .sum();
        assert_eq!(case.count, sessions, "{} ({who})", case.name);
    }
    let distinct: BTreeSet<&str> = protocol
        .clients
        .iter()
        .map(|c| identity(protocol, c.name))
        .collect();
    assert_eq!(seen, distinct, "one case per distinct client");

    // 3. The grouped suite against the stricter server.
    let stricter = target(
        protocol.stricter,
        protocol.suite,
        protocol.script,
        protocol.stricter,
        protocol.target_extra,
    );
    add_target(&grouped, protocol.variables, &stricter);
    let (verdicts, impact) = run_with_impact(&grouped);
    note(&format!("grouped run: {impact}"));

    // 4. The same traffic re-sent live to the stricter server, and judged.
    let stricter_capture = dir.path().join("stricter.pcap");
    let (live_owners, port) = {
        let server = SuiteServer::start(&protocol.server(protocol.stricter), dir.path());
        let owners = capture_clients(protocol, server.port, &stricter_capture, &work);
        (owners, server.port)
    };
    let (code, results) = judged(&[
        stricter_capture.to_str().unwrap(),
        "--dialect",
        protocol.dialect,
        "--port",
        &port.to_string(),
    ]);
    assert_eq!(code, Some(0), "judge: {results:?}");
    assert_eq!(
        results.len(),
        live_owners.len(),
        "sessions judged\n{}",
        client_logs(&work)
    );
    let mut by_verdict: BTreeMap<String, usize> = BTreeMap::new();
    let mut live: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    // Judge numbers sessions from 1 in the order they began, as import does.
    for (n, (_, result)) in results.iter().enumerate() {
        assert_eq!(result["case_index"], n + 1, "{result}");
        let verdict = result["verdict"].as_str().unwrap().to_string();
        assert_ne!(verdict, "undecided", "{result}");
        *by_verdict.entry(verdict.clone()).or_default() += 1;
        live.entry(identity(protocol, live_owners[n]))
            .or_default()
            .insert(verdict);
    }
    // Each client's replayed verdict is the one all its live sessions got.
    let mut disagree = Vec::new();
    for case in &cases {
        let who = identity(protocol, owners[case.sessions[0]]);
        let replayed = &verdicts[&case.stem];
        if live[who] != BTreeSet::from([replayed.clone()]) {
            disagree.push(format!(
                "{} ({who}): replayed {replayed}, live {:?}",
                case.name, live[who]
            ));
        }
    }
    assert!(disagree.is_empty(), "{disagree:#?}");
    assert_shares(&impact, &by_verdict, protocol.dialect);
    note(&format!("live: {by_verdict:?}"));
    note(&format!(
        "clients: {:?}",
        cases.iter().map(|c| &c.name).collect::<Vec<_>>()
    ));
    Some((cases.into_iter().map(|c| c.name).collect(), impact))
}

#[test]
fn http_clients_captured_live_weigh_against_a_stricter_nginx_as_they_do_live() {
    let Some((names, impact)) = live_traffic_weighs_as_grouped(&HTTP) else {
        return;
    };
    assert!(HTTP.clients.len() >= 10);
    assert!(HTTP.clients.iter().map(|c| c.sessions).sum::<usize>() >= 30);
    // Every kind of verdict the policy gives is in the traffic, each rule of it turning away
    // the clients it is for, with its own status as the reason.
    for share in ["admitted", "warned", "locked_out"] {
        assert!(impact[share].as_f64().unwrap() > 0.0, "{share}: {impact}");
    }
    let turned_away: BTreeMap<&str, (&str, &str)> = impact["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let (name, verdict) = (c["name"].as_str().unwrap(), c["verdict"].as_str().unwrap());
            (name, (verdict, c["reason"].as_str().unwrap()))
        })
        .collect();
    for (client, verdict, says) in [
        ("curl 7.88.1 (HTTP/1.0)", "locked-out", "HTTP/1.1 426"),
        ("w3m 0.5.3+git20230121", "locked-out", "HTTP/1.1 426"),
        ("curl 7.88.1 (API v1)", "locked-out", "HTTP/1.1 410 Gone"),
        (
            "ExampleApp 2.9.1",
            "locked-out",
            "ExampleApp 3.0 or later is required",
        ),
        (
            "HTTP/1.1, API v2 (Accept-Encoding: identity)",
            "locked-out",
            "without a User-Agent",
        ),
        ("ExampleApp 3.2.0", "warned", "Sunset: Thu, 01 Jul 2027"),
    ] {
        let (got, reason) = turned_away
            .get(client)
            .unwrap_or_else(|| panic!("{client} is not turned away: {impact}"));
        assert_eq!(*got, verdict, "{client}: {reason}");
        assert!(reason.contains(says), "{client}: {reason}");
    }
    assert!(!turned_away.contains_key("ExampleApp 3.3.1"), "{impact}");
    // Python's http.client and Node's http send no User-Agent: named by what else they send,
    // not numbered.
    assert!(!names.iter().any(|n| n.contains('#')), "{names:?}");
}

#[test]
fn ssh_clients_captured_live_weigh_against_a_hardened_sshd_as_they_do_live() {
    let Some((names, impact)) = live_traffic_weighs_as_grouped(&SSH) else {
        return;
    };
    for share in ["admitted", "locked_out"] {
        assert!(impact[share].as_f64().unwrap() > 0.0, "{share}: {impact}");
    }
    let openssh = names.iter().filter(|n| n.starts_with("OpenSSH")).count();
    assert_eq!(openssh, 5, "OpenSSH under five settings: {names:?}");
    // The hardened sshd turns away exactly the two OpenSSH settings with SHA-1 key exchanges.
    let turned_away: Vec<(&str, &str)> = impact["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["reason"].as_str().unwrap()))
        .collect();
    let mut names: Vec<&str> = turned_away.iter().map(|(name, _)| *name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "OpenSSH 9.2p1 (kex diffie-hellman-group1-sha1)",
            "OpenSSH 9.2p1 (kex diffie-hellman-group14-sha1)"
        ],
        "{impact}"
    );
    for (name, reason) in turned_away {
        assert!(
            reason.starts_with("no common key exchange method"),
            "{name}: {reason}"
        );
    }
}

#[test]
fn postgres_drivers_captured_live_weigh_against_a_scram_only_server_as_they_do_live() {
    let Some((names, impact)) = live_traffic_weighs_as_grouped(&POSTGRES) else {
        return;
    };
    for share in ["admitted", "locked_out"] {
        assert!(impact[share].as_f64().unwrap() > 0.0, "{share}: {impact}");
    }
    // psql with and without TLS requested, asyncpg, the libpq-like drivers as one, and psql
    // with sslmode=require, of which the server saw no more than that it asked for TLS.
    assert_eq!(names.len(), 5, "{names:?}");
    let turned_away = &impact["clients"];
    assert_eq!(turned_away.as_array().unwrap().len(), 1, "{impact}");
    assert_eq!(turned_away[0]["name"], "TLS requested", "{impact}");
    assert!(
        turned_away[0]["reason"]
            .as_str()
            .unwrap()
            .contains("the server declined TLS, and the client requires it"),
        "{impact}"
    );
    assert!(names.iter().any(|n| n.starts_with("asyncpg")), "{names:?}");
}
