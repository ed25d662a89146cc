//! From a capture of production traffic to a decision. The traffic: every real client of
//! captures/http, captures/ssh and captures/postgres (each recorded by tcpdump against nginx,
//! sshd or PostgreSQL), several sessions each, merged into one capture as a busy server would
//! see it. `import --group` makes one case per distinct client, named apart, weighed by its
//! sessions; run against a stricter server of the shipped suites (nginx retiring HTTP/1.0,
//! /api/v1/ and anonymous clients; a hardened sshd; a SCRAM-only PostgreSQL), its
//! session-weighted shares are what the same sessions get when each is replayed live on its
//! own.

mod common;

use common::production::{add_target, assert_shares, import_grouped, run_with_impact, target};
use common::{harness, json_lines, repo_root, stderr, stdout};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Sessions of each client in the made-up production traffic (the rest have 2 each).
const REPEATS: &[(&str, u32)] = &[
    ("curl-http1.0", 5),
    ("python-requests", 4),
    ("node-http", 3),
    ("curl", 6),
];

/// The port nginx listened on when captures/http was made.
const PORT: &str = "37703";

struct Record {
    ts_us: u64,
    header_rest: [u8; 8],
    data: Vec<u8>,
}

/// The records of a little-endian, microsecond legacy pcap, and its global header.
fn read_pcap(path: &Path) -> ([u8; 24], Vec<Record>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes[..4], [0xd4, 0xc3, 0xb2, 0xa1], "{}", path.display());
    let header: [u8; 24] = bytes[..24].try_into().unwrap();
    let mut records = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let word = |i: usize| u32::from_le_bytes(bytes[at + i..at + i + 4].try_into().unwrap());
        let (sec, usec, len) = (word(0), word(4), word(8) as usize);
        records.push(Record {
            ts_us: u64::from(sec) * 1_000_000 + u64::from(usec),
            header_rest: bytes[at + 8..at + 16].try_into().unwrap(),
            data: bytes[at + 16..at + 16 + len].to_vec(),
        });
        at += 16 + len;
    }
    (header, records)
}

/// Every HTTP client's capture, repeated, into one pcap; the number of sessions written.
fn production_capture(out: &Path) -> usize {
    merged_captures("http", out)
}

/// Every client's capture in `captures/FOLDER`, repeated (see [`REPEATS`]), each copy a
/// minute after the last, interleaved by time into one pcap; the number of copies written.
fn merged_captures(folder: &str, out: &Path) -> usize {
    let dir = repo_root().join("captures").join(folder);
    let mut pcaps: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    pcaps.sort();
    assert!(pcaps.len() >= 10, "real clients in {}", dir.display());
    let mut header = None;
    let mut all = Vec::new();
    let mut sessions = 0;
    for pcap in &pcaps {
        let stem = pcap.file_stem().unwrap().to_string_lossy().into_owned();
        let copies = REPEATS
            .iter()
            .find(|(name, _)| *name == stem)
            .map_or(2, |(_, n)| *n);
        let (global, records) = read_pcap(pcap);
        header.get_or_insert(global);
        for copy in 0..copies {
            let shift = u64::from(copy) * 60_000_000;
            all.extend(records.iter().map(|r| Record {
                ts_us: r.ts_us + shift,
                header_rest: r.header_rest,
                data: r.data.clone(),
            }));
        }
        sessions += copies as usize;
    }
    all.sort_by_key(|r| r.ts_us);
    let mut bytes = header.unwrap().to_vec();
    for r in &all {
        bytes.extend(((r.ts_us / 1_000_000) as u32).to_le_bytes());
        bytes.extend(((r.ts_us % 1_000_000) as u32).to_le_bytes());
        bytes.extend(r.header_rest);
        bytes.extend(&r.data);
    }
    std::fs::write(out, bytes).unwrap();
    sessions
}

fn cutoff_target() -> String {
    let script = repo_root().join("suites/http-sunset/servers/nginx.sh");
    format!(
        "\n[[target]]\nname = \"cutoff\"\ncommand = [\"bash\", \"{}\", \"cutoff\", \"{{port}}\"]\n",
        script.canonicalize().unwrap().display()
    )
}

fn append(path: &Path, text: &str) {
    let mut old = std::fs::read_to_string(path).unwrap();
    old.push_str(text);
    std::fs::write(path, old).unwrap();
}

/// Imports captures/FOLDER's clients grouped and one case per session, runs both against
/// `target`, and checks that the grouped suite's session-weighted shares are the live
/// replays' and that no two clients share a name; the clients' names and the impact.
fn grouped_shares_match_live(
    folder: &str,
    dialect: &str,
    port: &str,
    variables: &str,
    target: &str,
) -> (BTreeSet<String>, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("production.pcap");
    merged_captures(folder, &capture);
    // One case per session: what the grouped suite's sessions must add up to.
    let each = dir.path().join("each");
    std::fs::create_dir_all(each.join("cases")).unwrap();
    let out = harness(&[
        "import",
        capture.to_str().unwrap(),
        "--dialect",
        dialect,
        "--port",
        port,
        "--out",
        each.join("cases").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sessions = std::fs::read_dir(each.join("cases")).unwrap().count();
    let grouped = dir.path().join("grouped");
    let cases = import_grouped(&capture, dialect, port, &grouped);
    assert_eq!(cases.iter().map(|c| c.count).sum::<usize>(), sessions);
    let names = cases.into_iter().map(|c| c.name).collect();
    add_target(&grouped, variables, target);
    let (_, impact) = run_with_impact(&grouped);
    std::fs::write(
        each.join("suite.toml"),
        format!(
            "name = \"each\"\ndialect = \"{dialect}\"\ncases = \"cases\"\n{variables}\n{target}"
        ),
    )
    .unwrap();
    let live = harness(&["run", each.to_str().unwrap(), "--format", "json"]);
    let (live_results, _) = json_lines(&stdout(&live));
    assert_eq!(live_results.len(), sessions, "{}", stderr(&live));
    let mut by_verdict: BTreeMap<String, usize> = BTreeMap::new();
    for r in &live_results {
        *by_verdict
            .entry(r["verdict"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    // An error (PostgreSQL's GSS encryption, which the harness does not speak) is one in
    // both.
    assert_shares(&impact, &by_verdict, folder);
    (names, impact)
}

#[test]
fn ssh_clients_grouped_against_a_hardened_sshd_weigh_as_their_sessions_do_live() {
    let target = target("hardened", "ssh-hardening", "sshd.sh", "hardened", "");
    let (names, impact) = grouped_shares_match_live("ssh", "ssh", "59469", "", &target);
    assert!(impact["locked_out"].as_f64().unwrap() > 0.0, "{impact}");
    assert!(impact["admitted"].as_f64().unwrap() > 0.0, "{impact}");
    // OpenSSH with four settings: four clients, each named by what it chose differently.
    let openssh: Vec<&String> = names.iter().filter(|n| n.starts_with("OpenSSH")).collect();
    assert_eq!(openssh.len(), 4, "{names:?}");
    assert!(
        names.contains("OpenSSH 9.2p1 (kex diffie-hellman-group1-sha1)"),
        "{names:?}"
    );
    for client in ["dropbear", "paramiko", "AsyncSSH"] {
        assert!(
            names.iter().any(|n| n.starts_with(client)),
            "{client}: {names:?}"
        );
    }
}

#[test]
fn postgres_drivers_grouped_against_a_scram_only_server_weigh_as_their_sessions_do_live() {
    let target = target(
        "scram-only",
        "postgres-upgrade",
        "postgres.sh",
        "scram-only",
        "ready_when = \"ready to accept connections\"\n",
    );
    let variables = "[variables]\nuser = \"harness\"\ndatabase = \"harness\"\n";
    let (names, _) = grouped_shares_match_live("postgres", "postgres", "38623", variables, &target);
    for client in [
        "asyncpg",
        "pgjdbc",
        "postgres.js",
        "psql (TLS requested)",
        "psql (without TLS requested)",
    ] {
        assert!(names.contains(client), "{client}: {names:?}");
    }
}

#[test]
fn http_clients_grouped_against_a_stricter_nginx_weigh_as_their_sessions_do_live() {
    let (names, impact) = grouped_shares_match_live("http", "http", PORT, "", &cutoff_target());
    // One case per real client, curl over HTTP/1.0 and over HTTP/1.1 apart.
    let clients = std::fs::read_dir(repo_root().join("captures/http"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "pcap")
        })
        .count();
    assert_eq!(names.len(), clients, "{names:?}");
    assert!(names.contains("curl 7.88.1 (HTTP/1.0)"), "{names:?}");
    assert!(impact["locked_out"].as_f64().unwrap() > 0.0, "{impact}");

    // The impact names the clients it locks out, the largest first, with the reason.
    let locked: Vec<&serde_json::Value> = impact["clients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["verdict"] == "locked-out")
        .collect();
    assert_eq!(locked[0]["name"], "curl 7.88.1 (HTTP/1.0)", "{impact}");
    assert_eq!(locked[0]["weight"], 5.0);
    assert!(
        locked[0]["reason"].as_str().unwrap().contains("505"),
        "{}",
        locked[0]
    );
}

#[test]
fn blessing_a_reviewed_run_makes_its_verdicts_the_expectations() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("production.pcap");
    production_capture(&capture);
    let grouped = dir.path().join("grouped");
    let import = harness(&[
        "import",
        capture.to_str().unwrap(),
        "--dialect",
        "http",
        "--port",
        PORT,
        "--group",
        "--out",
        grouped.to_str().unwrap(),
    ]);
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
    let suite_file = grouped.join("suite.toml");
    append(&suite_file, &cutoff_target());
    let suite = grouped.to_str().unwrap();

    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", suite, "--bless"])
        .env("CI", "true")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));

    let blessed = harness(&["run", suite, "--bless", "--accept"]);
    assert_eq!(
        blessed.status.code(),
        Some(0),
        "{}{}",
        stdout(&blessed),
        stderr(&blessed)
    );
    let text = std::fs::read_to_string(&suite_file).unwrap();
    assert!(text.contains("[expect]"), "{text}");
    assert!(
        text.contains(r#""curl-7.88.1-http-1.0" = { cutoff = "locked-out" }"#),
        "{text}"
    );
    // The header comment the import wrote is kept.
    assert!(text.starts_with("# "), "{text}");

    // A later change of any client's verdict fails the run.
    let again = harness(&["run", suite]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    let changed = text.replace(
        r#""curl-7.88.1-http-1.0" = { cutoff = "locked-out" }"#,
        r#""curl-7.88.1-http-1.0" = { cutoff = "admitted" }"#,
    );
    std::fs::write(&suite_file, changed).unwrap();
    let mismatch = harness(&["run", suite]);
    assert_eq!(mismatch.status.code(), Some(1), "{}", stdout(&mismatch));
    assert!(
        stdout(&mismatch).contains("the server answered"),
        "the reason is on the row: {}",
        stdout(&mismatch)
    );
}

#[test]
fn an_import_that_finds_nothing_on_its_port_names_the_ports_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("production.pcap");
    production_capture(&capture);
    let capture = capture.to_str().unwrap();
    let out = dir.path().join("g");
    refused(
        &[
            "import",
            capture,
            "--dialect",
            "http",
            "--group",
            "--out",
            out.to_str().unwrap(),
        ],
        "no http session on port 80; connections were opened to port 37703",
    );
    assert!(!out.join("suite.toml").exists());
    // A client's ephemeral port is not a server's.
    refused(
        &["judge", capture, "--dialect", "http", "--port", "38434"],
        "no http session on port 38434; connections were opened to port 37703",
    );
    refused(
        &["judge", capture, "--dialect", "ssh", "--port", PORT],
        "opens a ssh handshake",
    );
}

#[test]
fn judge_keeps_a_row_per_client_and_judged_captures_merge_into_one_traffic_impact() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("production.pcap");
    let sessions = production_capture(&capture);
    let capture = capture.to_str().unwrap();

    // The table: a row per client and verdict, not per session.
    let table = harness(&["judge", capture, "--dialect", "http", "--port", PORT]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(
        text.lines()
            .any(|l| l.starts_with("curl 7.88.1 (HTTP/1.0) ") && l.contains(" 5 of 5 sessions ")),
        "{text}"
    );
    let rows = text.lines().filter(|l| l.contains(" of ")).count();
    assert!(
        rows < sessions,
        "{rows} rows for {sessions} sessions:\n{text}"
    );

    assert!(
        text.contains(&format!("{sessions} sessions judged: ")),
        "{text}"
    );

    // JSON Lines: every session, then the traffic lines; two machines' files merge. The
    // second machine's capture holds the same sessions and one packet more (a retransmission),
    // so it is another capture.
    let second = dir.path().join("second.pcap");
    let mut bytes = std::fs::read(capture).unwrap();
    let (_, records) = read_pcap(Path::new(capture));
    let last = records.last().unwrap();
    bytes.extend(((last.ts_us / 1_000_000) as u32).to_le_bytes());
    bytes.extend(((last.ts_us % 1_000_000) as u32).to_le_bytes());
    bytes.extend(last.header_rest);
    bytes.extend(&last.data);
    std::fs::write(&second, bytes).unwrap();
    let mut files = Vec::new();
    for (name, judged) in [("a.jsonl", capture), ("b.jsonl", second.to_str().unwrap())] {
        let path = dir.path().join(name);
        let judge = |output: &[&str]| {
            let mut args = vec!["judge", judged, "--dialect", "http", "--port", PORT];
            args.extend(output);
            harness(&args)
        };
        let out = judge(&["--report-json", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        // The header names the capture by its BLAKE3, as `b3sum` prints it: how merge tells
        // captures apart. On stdout, held back until the hash is known, it is the same.
        let blake3 = blake3::hash(&std::fs::read(judged).unwrap())
            .to_hex()
            .to_string();
        let header = std::fs::read_to_string(&path).unwrap();
        let header: serde_json::Value =
            serde_json::from_str(header.lines().next().unwrap()).unwrap();
        assert_eq!(header["capture_blake3"], blake3.as_str(), "{header}");
        let on_stdout = judge(&["--format", "json"]);
        let first = stdout(&on_stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        assert!(
            first.contains(&format!("\"capture_blake3\":\"{blake3}\"")),
            "{first}"
        );
        files.push(path.to_str().unwrap().to_string());
    }
    let merged = harness(&["merge", &files[0], &files[1], "--format", "json"]);
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    let traffic: Vec<serde_json::Value> = stdout(&merged)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "traffic")
        .collect();
    let total: u64 = traffic
        .iter()
        .map(|t| t["sessions"].as_u64().unwrap())
        .sum();
    assert_eq!(total as usize, 2 * sessions);
    let curl10 = traffic
        .iter()
        .find(|t| t["client"] == "curl 7.88.1 (HTTP/1.0)")
        .unwrap_or_else(|| panic!("{traffic:?}"));
    assert_eq!(curl10["sessions"], 10);
    // The same capture judged twice would count its sessions twice.
    refused(
        &["merge", &files[0], &files[0]],
        "judged the same capture (blake3 ",
    );

    // A judged capture merges only with judged captures.
    let run = dir.path().join("run.jsonl");
    let out = harness(&[
        "run",
        common::seed_suite().to_str().unwrap(),
        "--report-json",
        run.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    refused(
        &["merge", &files[0], run.to_str().unwrap()],
        "judged captures merge only with each other",
    );
}

#[test]
fn whatif_runs_a_captures_clients_against_a_policy_suite_in_one_command() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("production.pcap");
    let sessions = production_capture(&capture);
    let policy = repo_root().join("suites/http-sunset");
    let kept = dir.path().join("kept");
    let out = harness(&[
        "whatif",
        capture.to_str().unwrap(),
        "--dialect",
        "http",
        "--port",
        PORT,
        "--policy",
        policy.to_str().unwrap(),
        "--out",
        kept.to_str().unwrap(),
        "--format",
        "json",
        "--report-html",
        dir.path().join("html").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // stdout is the report alone; the import's lines went to stderr.
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let impact = |target: &str| {
        lines
            .iter()
            .find(|v| v["type"] == "impact" && v["target"] == target)
            .unwrap_or_else(|| panic!("no impact for {target}"))
            .clone()
    };
    let before = impact("nginx-before");
    assert_eq!(before["unit"], "sessions");
    assert_eq!(before["admitted"], 100.0, "{before}");
    let cutoff = impact("nginx-cutoff");
    assert_eq!(cutoff["total"].as_f64().unwrap() as usize, sessions);
    assert!(cutoff["locked_out"].as_f64().unwrap() > 0.0, "{cutoff}");
    assert!(
        stderr(&out).contains("distinct clients in"),
        "{}",
        stderr(&out)
    );
    assert!(kept.join("suite.toml").exists());

    // The page a product manager decides from, as Chromium renders it.
    let page = dir.path().join("html/index.html");
    let dom = common::chromium_dom(&page).unwrap_or_else(|| {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required on CI"
        );
        std::fs::read_to_string(&page).unwrap()
    });
    let locked = cutoff["locked_out"].as_f64().unwrap();
    let headline = format!("<h2>nginx-cutoff would lock out {locked:.1}% of sessions: ");
    assert!(dom.contains(&headline), "no headline {headline}");
    assert_eq!(
        dom.matches("<svg class=\"shares\"").count(),
        7,
        "a bar per target"
    );
    assert!(dom.contains("client<small>share of sessions</small>"));
    assert!(
        dom.contains("<small class=\"reason\">the server answered HTTP/1.1 505"),
        "no reason in a locked-out cell"
    );
    // Every client's row by a name no other row has.
    let rows: Vec<&str> = dom
        .split("<tr><th>")
        .skip(2)
        .map(|row| row.split('<').next().unwrap())
        .collect();
    let distinct: std::collections::BTreeSet<&&str> = rows.iter().collect();
    assert_eq!(distinct.len(), rows.len(), "{rows:?}");
    assert!(rows.contains(&"curl 7.88.1 (HTTP/1.0)"), "{rows:?}");

    // Against an endpoint, and with nothing of the dialect on the port: exit 2, no report.
    refused(
        &[
            "whatif",
            capture.to_str().unwrap(),
            "--dialect",
            "http",
            "--target",
            "new=127.0.0.1:9",
        ],
        "no http session on port 80",
    );
}

/// `harness ARGS` exits 2, saying `says` on stderr.
fn refused(args: &[&str], says: &str) {
    let out = harness(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
    assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
}

/// A real client's ClientHello, from captures/tls.
fn client_hello(client: &str) -> Vec<u8> {
    let path = repo_root()
        .join("captures/tls")
        .join(format!("{client}.toml"));
    let case: harness::capture::CaptureFile =
        toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    case.first_client_message().unwrap()
}

/// Drivers that use TLS are told apart by their hello, whether they sent it straight away or
/// after the server agreed to their SSLRequest: on a server that speaks TLS, that hello is
/// all that shows of them before the startup, which goes inside TLS.
#[test]
fn postgres_drivers_over_tls_are_told_apart_by_their_hello() {
    let postgres = harness::dialect::by_name("postgres").unwrap();
    let ssl_request = [0, 0, 0, 8, 4, 210, 22, 47];
    let (curl, java) = (client_hello("curl"), client_hello("java"));
    let after_request = |hello: &[u8]| postgres.client_signature(&[ssl_request.as_slice(), hello]);
    assert!(
        after_request(&curl).contains("TLS ClientHello versions="),
        "{}",
        after_request(&curl)
    );
    assert_ne!(after_request(&curl), after_request(&java));
    assert_ne!(
        postgres.client_signature(&[curl.as_slice()]),
        postgres.client_signature(&[java.as_slice()])
    );
    let traits = postgres.distinctions(&[ssl_request.as_slice(), &java]);
    assert!(traits.iter().any(|t| t.starts_with("ja4 ")), "{traits:?}");
}
