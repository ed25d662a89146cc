//! `harness judge`: recorded sessions judged by the server's own recorded replies. Each gets
//! the verdict its replies justify (and the one a replay against the same server gives); a
//! session the client abandoned, or one that starts mid-connection, is undecided, never a
//! lockout.

mod common;

use common::*;
use harness::capture::pcapng::{Flags, Link, PcapWriter, TcpSession};
use harness::direction::Direction::{self, Client, Server};
use harness::exit;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;

/// One synthetic connection: the exchanges, then who closes first (`None`: nobody, the
/// capture just ends), and whether the capture starts after its handshake.
struct Session<'a> {
    exchanges: Vec<(Direction, &'a [u8])>,
    closed_first_by: Option<Direction>,
    mid_connection: bool,
}

fn write_pcap(path: &Path, sessions: &[Session]) {
    let file = std::fs::File::create(path).unwrap();
    let mut pcap = PcapWriter::new(file, Link::Ethernet.linktype(), false).unwrap();
    let mut ts = 1_066_262_400_000_000_000u64;
    for (n, session) in sessions.iter().enumerate() {
        let client: SocketAddr = format!("10.0.0.{}:{}", n + 2, 40_000 + n).parse().unwrap();
        let server: SocketAddr = "10.0.0.1:1863".parse().unwrap();
        let mut tcp = TcpSession::new(client, server, 1000 * n as u32, 5000 * n as u32);
        let mut packets = Vec::new();
        let opening = tcp.open();
        if !session.mid_connection {
            packets.extend(opening);
        }
        for (from, payload) in &session.exchanges {
            packets.push(tcp.data(*from, payload));
        }
        if let Some(first) = session.closed_first_by {
            let other = if first == Client { Server } else { Client };
            packets.push(tcp.next(first, Flags::FIN_ACK, &[]));
            packets.push(tcp.next(other, Flags::FIN_ACK, &[]));
            packets.push(tcp.next(first, Flags::ACK, &[]));
        }
        for packet in packets {
            ts += 1_000_000;
            pcap.packet(ts, &Link::Ethernet.frame(&packet)).unwrap();
        }
    }
}

fn judge_json(args: &[&str]) -> (Vec<Value>, String, Option<i32>) {
    let out = harness(&[&["judge"], args, &["--format", "json"]].concat());
    let (results, _) = json_lines(&stdout(&out));
    (results, stderr(&out), out.status.code())
}

fn json_lines(text: &str) -> (Vec<Value>, Option<Value>) {
    let mut results = Vec::new();
    let mut summary = None;
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        match value["type"].as_str() {
            Some("result") => results.push(value),
            _ => summary = Some(value),
        }
    }
    (results, summary)
}

const VER: &[u8] = b"VER 1 MSNP8 CVR0\r\n";
const VER_OK: &[u8] = b"VER 1 MSNP8 CVR0\r\n";
const CVR_OLD: &[u8] =
    b"CVR 2 0x0409 winnt 5.1 i386 MSMSGS 4.7.0041 WindowsMessenger bob@hotmail.com\r\n";
const CVR_REPLY: &[u8] =
    b"CVR 2 4.7.2009 4.7.2009 4.7.2000 http://messenger.msn.com/download/ http://messenger.msn.com\r\n";
const USR: &[u8] = b"USR 3 TWN I bob@hotmail.com\r\n";
const CHALLENGE: &[u8] = b"USR 3 TWN S lc=1033,id=507,tw=40,fs=1,ct=1062764229,kpp=1,kv=5\r\n";

#[test]
fn each_session_gets_the_verdict_its_recorded_replies_justify() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("traffic.pcap");
    write_pcap(
        &pcap,
        &[
            // Warned: the CVR reply recommends more than 4.7.0041, then a challenge.
            Session {
                exchanges: vec![
                    (Client, VER),
                    (Server, VER_OK),
                    (Client, CVR_OLD),
                    (Server, CVR_REPLY),
                    (Client, USR),
                    (Server, CHALLENGE),
                ],
                closed_first_by: Some(Client),
                mid_connection: false,
            },
            // Locked out: the server closes instead of answering USR.
            Session {
                exchanges: vec![
                    (Client, VER),
                    (Server, VER_OK),
                    (Client, CVR_OLD),
                    (Server, CVR_REPLY),
                    (Client, USR),
                ],
                closed_first_by: Some(Server),
                mid_connection: false,
            },
            // Abandoned: the client leaves after the CVR reply; not the server's decision.
            Session {
                exchanges: vec![(Client, VER), (Server, VER_OK), (Client, CVR_OLD)],
                closed_first_by: Some(Client),
                mid_connection: false,
            },
            // Mid-connection: chat traffic after a login the capture missed.
            Session {
                exchanges: vec![(Client, b"MSG 9 A 2\r\nhi"), (Server, b"ACK 9\r\n")],
                closed_first_by: Some(Server),
                mid_connection: true,
            },
            // Locked out in so many words: no common version.
            Session {
                exchanges: vec![
                    (Client, b"VER 1 MSNP18 MSNP15\r\n"),
                    (Server, b"VER 1 0\r\n"),
                ],
                closed_first_by: Some(Server),
                mid_connection: false,
            },
            // The client signs out before any decision; the server's close is as asked.
            Session {
                exchanges: vec![(Client, VER), (Server, VER_OK), (Client, b"OUT\r\n")],
                closed_first_by: Some(Server),
                mid_connection: false,
            },
        ],
    );
    let (results, err, code) = judge_json(&[&pcap.display().to_string(), "--dialect", "msnp"]);
    assert_eq!(code, Some(exit::SUCCESS), "{err}");
    let verdicts: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r["verdict"].as_str().unwrap(), r["stage"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("warned", "CVR"),
            ("locked-out", "USR"),
            ("undecided", "CVR"),
            ("undecided", "mid-connection"),
            ("locked-out", "VER"),
            ("undecided", "OUT"),
        ],
        "{results:#?}"
    );
    assert!(
        results[2]["reason"]
            .as_str()
            .unwrap()
            .contains("the client left"),
        "{}",
        results[2]["reason"]
    );

    // The same impact in JSON, and two judged runs compare with diff.
    let json = stdout(&harness(&[
        "judge",
        &pcap.display().to_string(),
        "--dialect",
        "msnp",
        "--format",
        "json",
    ]));
    assert!(
        json.contains(
            "{\"type\":\"traffic\",\"client\":\"MSMSGS 4.7.0041\",\"sessions\":3,\"accounts\":1,"
        ),
        "{json}"
    );
    let judged_json = pcap.with_extension("jsonl");
    std::fs::write(&judged_json, &json).unwrap();
    let judged_json = judged_json.display().to_string();
    let diff = harness(&["diff", &judged_json, &judged_json]);
    assert_eq!(diff.status.code(), Some(exit::SUCCESS), "{}", stderr(&diff));
    let table = stdout(&harness(&[
        "judge",
        &pcap.display().to_string(),
        "--dialect",
        "msnp",
    ]));
    assert!(
        table.contains(
            "impact: 3 sessions of MSMSGS 4.7.0041 (1 account): 50.0% warned, 50.0% locked out; 1 undecided"
        ),
        "{table}"
    );
    // Judged rows are clients, each with the share of its sessions the row stands for.
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("CLIENT "), "{table}");
    assert!(header.contains(" SESSIONS "), "{table}");
    let row = table
        .lines()
        .find(|l| l.contains(" warned "))
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        row.starts_with("MSMSGS 4.7.0041 1 of 3 sessions 10.0.0.1:1863 warned"),
        "{table}"
    );

    // The traffic impact in JUnit (a property of the test suite) and in the HTML report.
    let junit = dir.path().join("judged.xml");
    let html = dir.path().join("html");
    let out = harness(&[
        "judge",
        &pcap.display().to_string(),
        "--dialect",
        "msnp",
        "--report-junit",
        &junit.display().to_string(),
        "--report-html",
        &html.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(exit::SUCCESS), "{}", stderr(&out));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<property name=\"traffic impact\" value=\"3 sessions of MSMSGS 4.7.0041 (1 account): 50.0% warned, 50.0% locked out; 1 undecided"),
        "{xml}"
    );
    let page = std::fs::read_to_string(html.join("index.html")).unwrap();
    assert!(
        page.contains("<h2>Impact in the recorded traffic</h2>"),
        "{page}"
    );
    assert!(
        page.contains("<tr><th>MSMSGS 4.7.0041</th><td>3</td><td>1</td><td><span class=\"warned\">50.0% warned</span> <span class=\"locked-out\">50.0% locked-out</span> <span class=\"undecided\">1 undecided</span></td></tr>"),
        "{page}"
    );
}

#[test]
fn a_damaged_capture_is_judged_as_far_as_it_reads_then_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.pcap");
    std::fs::write(&text, "these are notes, not a capture\n").unwrap();
    let (results, err, code) = judge_json(&[&text.display().to_string(), "--dialect", "msnp"]);
    assert_eq!(code, Some(exit::USAGE), "{err}");
    assert!(results.is_empty());
    assert!(err.contains("notes.pcap"), "{err}");
}

#[test]
fn a_pcap_needs_its_dialect_named() {
    let (_, err, code) = judge_json(&["some.pcap"]);
    assert_eq!(code, Some(exit::USAGE));
    assert!(err.contains("give --dialect NAME for a pcap"), "{err}");
}

/// captures/msnp-record was recorded against `harness serve` at the 2003-08-01 policy: judged
/// by its recorded replies, each session gets what the suite expects of a replay at that date.
#[test]
fn a_folder_of_capture_cases_is_judged_as_a_replay_at_its_date_would_be() {
    let folder = repo_root().join("captures/msnp-record");
    let (results, err, code) = judge_json(&[&folder.display().to_string()]);
    assert_eq!(code, Some(exit::SUCCESS), "{err}");
    let suite = harness::suite::load_suite(&seed_suite()).unwrap();
    assert_eq!(results.len(), 3, "{results:#?}");
    for r in &results {
        // Each session is the recorded case whose client address it names.
        let client = r["case"].as_str().unwrap().split_once(' ').unwrap().1;
        let case = suite
            .cases
            .iter()
            .find(|c| {
                c.id.ends_with(".recorded")
                    && c.description.as_deref().is_some_and(|d| d.contains(client))
            })
            .unwrap_or_else(|| panic!("no recorded case from {client}"));
        assert_eq!(
            r["verdict"].as_str().unwrap(),
            suite.expected(&case.id, "2003-08-01").unwrap().as_str(),
            "{}: {r}",
            case.id
        );
    }
}

/// tcpdump on loopback, writing `file`, for the ports given; stopped (and its file complete)
/// by `stop`. `None` where tcpdump cannot run (not installed, not root), except on CI.
struct Tcpdump(std::process::Child);

impl Tcpdump {
    fn start(file: &Path, ports: &[String]) -> Option<Tcpdump> {
        let filter = ports
            .iter()
            .map(|p| format!("tcp port {p}"))
            .collect::<Vec<_>>()
            .join(" or ");
        let child = std::process::Command::new("tcpdump")
            .args(["-i", "lo", "--immediate-mode", "-U", "-B", "16384", "-w"])
            .arg(file)
            .arg(filter)
            .stderr(std::process::Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("skipping: tcpdump cannot run here ({e})");
                return None;
            }
            Err(e) => panic!("tcpdump is needed on CI: {e}"),
        };
        // tcpdump says "listening on lo" once it captures.
        let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        use std::io::BufRead;
        while err.read_line(&mut line).unwrap_or(0) > 0 && !line.contains("listening on") {
            line.clear();
        }
        if !line.contains("listening on") {
            assert!(
                std::env::var_os("CI").is_none(),
                "tcpdump did not start on CI"
            );
            eprintln!("skipping: tcpdump did not start");
            return None;
        }
        std::thread::spawn(move || for _ in err.lines() {});
        Some(Tcpdump(child))
    }

    /// Stops once the file has stopped growing (tcpdump has written what it was given).
    fn stop(mut self, file: &Path) {
        let size = || std::fs::metadata(file).map_or(0, |m| m.len());
        let mut last = size();
        for _ in 0..40 {
            std::thread::sleep(std::time::Duration::from_millis(500));
            let now = size();
            if now == last {
                break;
            }
            last = now;
        }
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// The acceptance test of judging: real traffic between the harness's replays and `harness
/// serve` at each policy date, captured by tcpdump, judged with no live target, gives every
/// session the verdict the replay got; a session the client abandons is undecided.
#[test]
fn judged_traffic_agrees_with_the_replays_that_made_it() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("loopback.pcap");
    let policy = seed_suite().display().to_string() + "/policy.toml";
    let dates = ["2003-08-01", "2003-09-18", "2003-10-16"];
    // tcpdump may drop packets on a loaded machine; a capture the importer finds incomplete
    // (a connection missing, a gap) is made again, up to three times.
    for attempt in 1..=3 {
        let servers: Vec<Served> = dates.iter().map(|d| Served::start(&policy, d)).collect();
        let ports: Vec<String> = servers
            .iter()
            .map(|s| s.addr.rsplit_once(':').unwrap().1.to_string())
            .collect();
        let Some(tcpdump) = Tcpdump::start(&pcap, &ports) else {
            return;
        };
        let seed = seed_suite().display().to_string();
        let mut replays = Vec::new();
        for (server, date) in servers.iter().zip(dates) {
            let out = harness(&[
                "run",
                &seed,
                "--target",
                &server.addr,
                "--expect",
                date,
                "--jobs",
                "1",
                "--format",
                "json",
            ]);
            let (results, _) = json_lines(&stdout(&out));
            replays.push(results);
            // A client that says VER and leaves before any answer is read.
            let mut abandon = std::net::TcpStream::connect(&server.addr).unwrap();
            std::io::Write::write_all(&mut abandon, b"VER 1 MSNP8 CVR0\r\n").unwrap();
            drop(abandon);
        }
        tcpdump.stop(&pcap);
        let complete = ports
            .iter()
            .zip(&replays)
            .all(|(port, replayed)| whole_capture(&pcap, port, replayed.len() + 1));
        if !complete && attempt < 3 {
            eprintln!("note: tcpdump lost packets (attempt {attempt}); capturing again");
            continue;
        }
        assert!(complete, "tcpdump lost packets three times");
        for ((port, replayed), date) in ports.iter().zip(&replays).zip(dates) {
            let (judged, err, code) = judge_json(&[
                &pcap.display().to_string(),
                "--dialect",
                "msnp",
                "--port",
                port,
            ]);
            assert_eq!(code, Some(exit::SUCCESS), "{err}");
            assert_eq!(judged.len(), replayed.len() + 1, "{date}: {judged:#?}");
            for (j, r) in judged.iter().zip(replayed) {
                assert_eq!(
                    (j["verdict"].as_str(), j["stage"].as_str()),
                    (r["verdict"].as_str(), r["stage"].as_str()),
                    "{date} {}: judged {} / replayed {}",
                    r["case"],
                    j["reason"],
                    r["reason"]
                );
            }
            let last = judged.last().unwrap();
            assert_eq!(last["verdict"], "undecided", "{date}: {last}");
        }
        return;
    }
}

/// Whether the capture holds `connections` whole connections on `port`, by the importer's
/// own count (no gaps).
fn whole_capture(pcap: &Path, port: &str, connections: usize) -> bool {
    let out = harness(&[
        "import",
        &pcap.display().to_string(),
        "--dialect",
        "msnp",
        "--port",
        port,
    ]);
    let text = stdout(&out);
    text.contains(&format!(" {connections} connections ")) && text.contains(" 0 gaps")
}

/// A scripted hostile server on loopback, one behaviour for every connection.
fn hostile_server(behaviour: fn(std::net::TcpStream)) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behaviour(stream));
        }
    });
    addr
}

fn read_line(stream: &mut std::net::TcpStream) {
    use std::io::Read;
    let mut buf = [0u8; 512];
    let _ = stream.read(&mut buf);
}

/// Judged traffic against hostile servers gets what the replay got: a reset or a close after
/// VER is the server's refusal at CVR, an error reply a lockout at CVR.
#[test]
fn judged_traffic_of_hostile_servers_agrees_with_the_replays() {
    use std::io::Write;
    let servers: Vec<(&str, String)> = vec![
        (
            "reset after VER",
            hostile_server(|mut s| {
                read_line(&mut s);
                let _ = s.write_all(b"VER 1 MSNP9 CVR0\r\n");
                // Closing with the client's CVR unread makes the kernel send a reset.
                std::thread::sleep(std::time::Duration::from_millis(200));
            }),
        ),
        (
            "closes after VER",
            hostile_server(|mut s| {
                read_line(&mut s);
                let _ = s.write_all(b"VER 1 MSNP9 CVR0\r\n");
                let _ = s.shutdown(std::net::Shutdown::Write);
                std::thread::sleep(std::time::Duration::from_millis(300));
            }),
        ),
        (
            "error 911 to CVR",
            hostile_server(|mut s| {
                read_line(&mut s);
                let _ = s.write_all(b"VER 1 MSNP9 CVR0\r\n");
                read_line(&mut s);
                let _ = s.write_all(b"911 2\r\n");
                std::thread::sleep(std::time::Duration::from_millis(300));
            }),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("hostile.pcap");
    let ports: Vec<String> = servers
        .iter()
        .map(|(_, addr)| addr.rsplit_once(':').unwrap().1.to_string())
        .collect();
    let seed = seed_suite().display().to_string();
    let mut replays = Vec::new();
    for attempt in 1..=3 {
        let Some(tcpdump) = Tcpdump::start(&pcap, &ports) else {
            return;
        };
        replays.clear();
        for (_, addr) in &servers {
            let out = harness(&[
                "run",
                &seed,
                "--target",
                addr,
                "--case",
                "msn-messenger-6.0",
                "--format",
                "json",
                "--timeout",
                "2s",
            ]);
            replays.push(json_lines(&stdout(&out)).0);
        }
        tcpdump.stop(&pcap);
        if ports.iter().all(|port| whole_capture(&pcap, port, 1)) {
            break;
        }
        assert!(attempt < 3, "tcpdump lost packets three times");
    }
    for (((what, _), port), replayed) in servers.iter().zip(&ports).zip(&replays) {
        let (judged, err, _) = judge_json(&[
            &pcap.display().to_string(),
            "--dialect",
            "msnp",
            "--port",
            port,
        ]);
        assert_eq!(judged.len(), 1, "{what}: {err} {judged:#?}");
        assert_eq!(replayed.len(), 1, "{what}");
        assert_eq!(
            (judged[0]["verdict"].as_str(), judged[0]["stage"].as_str()),
            (
                replayed[0]["verdict"].as_str(),
                replayed[0]["stage"].as_str()
            ),
            "{what}: judged {} / replayed {}",
            judged[0]["reason"],
            replayed[0]["reason"]
        );
    }
}
