//! PostgreSQL sessions that upgraded to TLS, captured live with tcpdump while psql (its keys
//! logged by an LD_PRELOAD shim) connects to a real server with ssl = on that admits one
//! database and refuses the rest: `judge --keylog` gives the server log's outcome for every
//! session, the same capture without keys is undecided throughout (never a lockout read from
//! the TLS teardown), a damaged key log is named by line, and the cases imported with the
//! keys replay their recorded startup inside a live TLS session and get the same verdicts.
//! Needs tcpdump (as root), gcc, psql and PostgreSQL: skipped with a note without them,
//! except on CI, where that is a failure.

mod common;

use common::live_tls::{Tcpdump, free_port, judged, keylog_shim, missing_tool, skip};
use common::{harness, repo_root, stderr, stdout};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The suite's PostgreSQL under `tls-split`, logging to a file; stopped (fast shutdown, then
/// waited for: the script removes its folders once the server has gone) when dropped.
struct Postgres(Child);

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn postgres(port: u16, log: &Path) -> Result<Postgres, String> {
    let child = Command::new("bash")
        .arg(repo_root().join("suites/postgres-upgrade/servers/postgres.sh"))
        .args(["tls-split", &port.to_string()])
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .map_err(|e| format!("cannot start postgres.sh ({e})"))?;
    let server = Postgres(child);
    for _ in 0..1200 {
        let ready = Command::new("pg_isready")
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            return Ok(server);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Err(format!(
        "postgres did not start: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    ))
}

/// psql over TLS (at most `tls_max`) to `database`, its keys appended to `keylog`.
fn psql(port: u16, database: &str, tls_max: &str, shim: &Path, keylog: &Path) -> bool {
    Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={port} user=harness dbname={database} sslmode=require gssencmode=disable ssl_max_protocol_version={tls_max} connect_timeout=10"
        ))
        .args(["-XAtc", "select 1"])
        .env("LD_PRELOAD", shim)
        .env("HARNESS_KEYLOG", keylog)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn pg8000_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import pg8000.native"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// pg8000 over TLS (not verifying the test's self-signed certificate) to `database`, its
/// keys appended to `keylog` through SSLKEYLOGFILE.
fn pg8000(dir: &Path, port: u16, database: &str, keylog: &Path) -> bool {
    let script = dir.join("pg8000-connect.py");
    std::fs::write(
        &script,
        "import ssl, sys, pg8000.native\n\
         ctx = ssl.create_default_context()\n\
         ctx.check_hostname = False\n\
         ctx.verify_mode = ssl.CERT_NONE\n\
         c = pg8000.native.Connection('harness', host='127.0.0.1', port=int(sys.argv[1]), database=sys.argv[2], ssl_context=ctx)\n\
         c.run('select 1')\n\
         c.close()\n",
    )
    .unwrap();
    Command::new("python3")
        .arg(&script)
        .args([&port.to_string(), database])
        .env("SSLKEYLOGFILE", keylog)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// What the server's log says of each connection, by client port: `authorized` or the
/// FATAL's text.
fn server_outcomes(log: &str) -> BTreeMap<u16, String> {
    let pid = |line: &str| {
        line.split_once(" [")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(pid, _)| pid.to_string())
    };
    let mut ports = BTreeMap::new();
    let mut outcomes = BTreeMap::new();
    for line in log.lines() {
        let Some(pid) = pid(line) else { continue };
        if let Some((_, port)) = line.split_once("connection received: host=127.0.0.1 port=") {
            ports.insert(pid, port.trim().parse::<u16>().unwrap());
        } else if let Some(port) = ports.get(&pid) {
            if line.contains("connection authorized") {
                outcomes.insert(*port, "authorized".to_string());
            } else if let Some((_, fatal)) = line.split_once("FATAL:") {
                outcomes.insert(*port, fatal.trim().to_string());
            }
        }
    }
    outcomes
}

#[test]
fn judge_with_the_key_log_agrees_with_the_server_log_and_without_it_decides_nothing() {
    if let Some(why) = missing_tool(&["psql", "gcc", "pg_isready"]) {
        return skip(&why);
    }
    let dir = tempfile::tempdir().unwrap();
    let shim = match keylog_shim(dir.path()) {
        Ok(shim) => shim,
        Err(why) => return skip(&why),
    };
    let (keylog, server_log, pcap) = (
        dir.path().join("keys.log"),
        dir.path().join("postgres.log"),
        dir.path().join("pg-tls.pcap"),
    );
    let port = free_port();
    let server = postgres(port, &server_log).unwrap();
    let tcpdump = match Tcpdump::start(port, &pcap) {
        Ok(tcpdump) => tcpdump,
        Err(why) => return skip(&why),
    };
    // Admitted and refused, under TLS 1.3 and TLS 1.2.
    let sessions = [
        ("harness", "TLSv1.3", true),
        ("postgres", "TLSv1.3", false),
        ("harness", "TLSv1.2", true),
        ("postgres", "TLSv1.2", false),
    ];
    for (database, tls_max, admitted) in sessions {
        assert_eq!(
            psql(port, database, tls_max, &shim, &keylog),
            admitted,
            "psql to {database} over {tls_max}"
        );
    }
    // A Python driver, whose keys Python's ssl module logs where SSLKEYLOGFILE says.
    let mut expected_sessions = sessions.len();
    if pg8000_installed() {
        for (database, admitted) in [("harness", true), ("postgres", false)] {
            assert_eq!(
                pg8000(dir.path(), port, database, &keylog),
                admitted,
                "pg8000 to {database}"
            );
            expected_sessions += 1;
        }
    } else {
        eprintln!(
            "note: pg8000 is not installed (ci/install.sh installs it); only psql is checked"
        );
    }
    tcpdump.stop_after("postgres", port, expected_sessions);
    // pg_isready's probes are in the log too, before the capture began.
    let outcomes = server_outcomes(&std::fs::read_to_string(&server_log).unwrap());

    let (pcap_arg, port_arg, keylog_arg) = (
        pcap.display().to_string(),
        port.to_string(),
        keylog.display().to_string(),
    );
    let base = [
        "judge",
        &pcap_arg,
        "--dialect",
        "postgres",
        "--port",
        &port_arg,
    ];
    let (code, results) = judged(&[&base[1..], &["--keylog", &keylog_arg]].concat());
    assert_eq!(code, Some(0));
    assert_eq!(results.len(), expected_sessions);
    for (client_port, result) in &results {
        let logged = &outcomes[client_port];
        assert!(!logged.contains("no encryption"), "{logged}");
        if logged == "authorized" {
            assert_eq!(result["verdict"], "admitted", "{result}");
            assert_eq!(result["decided_by"], "AuthenticationOk", "{result}");
        } else {
            assert_eq!(result["verdict"], "locked-out", "{logged}: {result}");
            let reason = result["reason"].as_str().unwrap();
            assert!(
                reason.contains("pg_hba.conf rejects connection"),
                "{reason}"
            );
            assert!(
                logged.contains(reason.rsplit(": ").next().unwrap()),
                "{logged} / {reason}"
            );
        }
    }

    // Without keys: undecided, every one, and no lockout read from how TLS ended.
    let (code, results) = judged(&base[1..]);
    assert_eq!(code, Some(0));
    assert_eq!(results.len(), expected_sessions);
    for (_, result) in &results {
        assert_eq!(result["verdict"], "undecided", "{result}");
        assert_eq!(
            result["reason"],
            "encrypted after the TLS upgrade; --keylog FILE decrypts it"
        );
    }

    // A key log whose secrets for one session are wrong: that session is undecided, saying
    // a record failed to authenticate; the others are judged.
    let text = std::fs::read_to_string(&keylog).unwrap();
    let random = text.split_whitespace().nth(1).unwrap().to_string();
    let altered: String = text
        .lines()
        .map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [label, r, secret] if r == random => {
                    let flipped = if secret.starts_with('0') { "1" } else { "0" };
                    format!("{label} {r} {flipped}{}\n", &secret[1..])
                }
                _ => format!("{line}\n"),
            },
        )
        .collect();
    let wrong = dir.path().join("wrong-keys.log");
    std::fs::write(&wrong, altered).unwrap();
    let (_, results) = judged(&[&base[1..], &["--keylog", &wrong.display().to_string()]].concat());
    let failed: Vec<_> = results
        .iter()
        .filter(|(_, r)| r["verdict"] == "undecided")
        .collect();
    assert_eq!(failed.len(), 1, "{results:?}");
    let reason = failed[0].1["reason"].as_str().unwrap();
    assert!(reason.contains("failed to authenticate"), "{reason}");
    assert!(results.iter().all(|(_, r)| r["verdict"] != "error"));

    // A malformed key log is refused before anything is judged, naming its line and column.
    let bad = dir.path().join("bad-keys.log");
    std::fs::write(
        &bad,
        format!(
            "# keys\n{}CLIENT_RANDOM zz\n",
            text.lines().next().unwrap().to_owned() + "\n"
        ),
    )
    .unwrap();
    let out = harness(&[&base[..], &["--keylog", &bad.display().to_string()]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("bad-keys.log:3:1"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());

    replay_imported_cases(
        dir.path(),
        &pcap_arg,
        &port_arg,
        &keylog_arg,
        &results_by_port(&base, &keylog_arg),
    );
    drop(server);
}

fn results_by_port(base: &[&str], keylog: &str) -> BTreeMap<u16, String> {
    judged(&[&base[1..], &["--keylog", keylog]].concat())
        .1
        .into_iter()
        .map(|(port, r)| (port, r["verdict"].as_str().unwrap().to_string()))
        .collect()
}

/// The sessions imported with the keys, replayed against the same server: the recorded
/// startup goes inside the live TLS session and gets the verdict the recording got.
fn replay_imported_cases(
    dir: &Path,
    pcap: &str,
    port: &str,
    keylog: &str,
    judged: &BTreeMap<u16, String>,
) {
    let suite = dir.join("suite");
    let cases = suite.join("cases");
    let out = harness(&[
        "import",
        pcap,
        "--dialect",
        "postgres",
        "--port",
        port,
        "--keylog",
        keylog,
        "--out",
        &cases.display().to_string(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        !stdout(&out).contains("TLS not read through"),
        "{}",
        stdout(&out)
    );
    // Grouped, the clients are told apart by what they said inside TLS.
    let grouped = dir.join("grouped");
    let out = harness(&[
        "import",
        pcap,
        "--dialect",
        "postgres",
        "--port",
        port,
        "--keylog",
        keylog,
        "--group",
        "--out",
        &grouped.display().to_string(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let grouped_cases: Vec<_> = std::fs::read_dir(grouped.join("cases")).unwrap().collect();
    assert!(!grouped_cases.is_empty());
    for entry in grouped_cases {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            text.contains("[capture.tls]\ndecrypted = \"TLSv1."),
            "{text}"
        );
        assert!(text.contains("account = \"harness\""), "{text}");
    }
    std::fs::write(
        suite.join("suite.toml"),
        "name = \"pg-tls\"\ndialect = \"postgres\"\ncases = \"cases\"\n[variables]\nuser = \"nobody\"\ndatabase = \"nowhere\"\n",
    )
    .unwrap();
    let mut case_ports = BTreeMap::new();
    for entry in std::fs::read_dir(&cases).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("[capture.tls]\ndecrypted = \"TLSv1."),
            "{text}"
        );
        let case: harness::capture::CaptureFile = toml::from_str(&text).unwrap();
        let client_port: u16 = case
            .capture
            .client
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        case_ports.insert(
            path.file_stem().unwrap().to_string_lossy().into_owned(),
            client_port,
        );
    }
    let out = harness(&[
        "run",
        &suite.display().to_string(),
        "--target",
        &format!("127.0.0.1:{port}"),
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let results = common::json_lines(&stdout(&out)).0;
    assert_eq!(results.len(), judged.len());
    for result in results {
        let case = result["case"].as_str().unwrap();
        let recorded = &judged[&case_ports[case]];
        assert_eq!(
            result["verdict"],
            recorded.as_str(),
            "{case} replayed: {result}"
        );
        // The recorded startup, not the suite's stand-in (user nobody), went to the server.
        assert!(!result.to_string().contains("nobody"), "{result}");
    }
}
