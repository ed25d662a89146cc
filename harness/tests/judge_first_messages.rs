//! `judge` frames a session only as far as its first messages, and the rest only when they
//! decide nothing. What it frames first must be the start of the whole framing, message for
//! message, with the same provenance and identity, and the rest framed later must make it
//! whole: checked for every dialect on every real capture in `captures/`, and on long
//! synthetic sessions (where framing stops early most).

use harness::capture::file::{self, Source};
use harness::capture::{CaptureFile, Flow, Limits, import};
use harness::dialect::{self, Dialect};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The port most connections in `pcap` were opened to.
fn server_port(pcap: &Path) -> Option<u16> {
    let (report, _) =
        import::import_flows_hashing_alongside(pcap, 0, Limits::default(), |_| Ok(())).ok()?;
    report
        .other_server_ports
        .iter()
        .max_by_key(|(port, n)| (*n, *port))
        .map(|(port, _)| *port)
}

fn flows(pcap: &Path, port: u16, mut each: impl FnMut(Flow)) {
    import::import_flows_hashing_alongside(pcap, port, Limits::default(), |flow| {
        each(flow);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{}: {e}", pcap.display()));
}

/// Frames every session of `pcap` whole and first-messages-first; the number of sessions
/// whose framing stopped early.
fn framed_both_ways(pcap: &Path, port: u16, dialect: &'static dyn Dialect) -> usize {
    let source = Source {
        name: "capture",
        sha256: None,
    };
    let mut whole: Vec<CaptureFile> = Vec::new();
    flows(pcap, port, |flow| {
        whole.push(file::from_flow(flow, dialect, &source))
    });
    let mut stopped = 0;
    let mut index = 0;
    flows(pcap, port, |flow| {
        let partly = file::from_flow_lazily(flow, dialect, &source);
        let expected = &whole[index];
        let what = format!("{} session {index} ({})", pcap.display(), dialect.name());
        index += 1;
        let first = &partly.case;
        assert_eq!(first.capture, expected.capture, "{what}: provenance");
        assert_eq!(
            first.messages[..],
            expected.messages[..first.messages.len()],
            "{what}: the first messages are not the start of the whole"
        );
        let mut case = partly.case;
        if let Some(mut rest) = partly.rest {
            stopped += 1;
            assert!(case.messages.len() >= file::FIRST_MESSAGES, "{what}");
            rest.finish(&mut case.messages);
        }
        assert_eq!(&case, expected, "{what}: the rest does not make the whole");
    });
    assert_eq!(index, whole.len());
    stopped
}

/// Each capture folder with its dialect (a name, or a suite's dialect file).
fn capture_folders() -> Vec<(&'static str, String)> {
    let file = |suite: &str, name: &str| {
        repo()
            .join("suites")
            .join(suite)
            .join("dialects")
            .join(name)
            .display()
            .to_string()
    };
    vec![
        ("http", "http".into()),
        ("ssh", "ssh".into()),
        ("tls", "tls".into()),
        ("postgres", "postgres".into()),
        ("mysql", "mysql".into()),
        ("msnp-loopback", "msnp".into()),
        ("msnp-record", "msnp".into()),
        ("smtp", file("smtp-submission", "smtp.toml")),
        ("imap", file("imap-dovecot", "imap.toml")),
        ("pop3", file("pop3-dovecot", "pop3.toml")),
    ]
}

fn dialect_named(name: &str) -> &'static dyn Dialect {
    if name.ends_with(".toml") {
        return dialect::declarative::load(Path::new(name))
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    dialect::by_name(name).unwrap()
}

#[test]
fn every_real_capture_is_framed_alike_first_messages_first_or_whole() {
    let (mut pcaps, mut stopped) = (0, 0);
    for (folder, dialect) in capture_folders() {
        let dialect = dialect_named(&dialect);
        let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("captures").join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "captures/{folder} holds no capture");
        for pcap in files {
            let Some(port) = server_port(&pcap) else {
                continue;
            };
            stopped += framed_both_ways(&pcap, port, dialect);
            pcaps += 1;
        }
    }
    assert!(pcaps > 300, "only {pcaps} captures were read");
    // Real handshakes are short: few sessions here run past their first messages.
    assert!(stopped > 0, "no real session stopped early");
}

#[test]
fn long_synthetic_sessions_stop_early_and_are_made_whole_by_the_rest() {
    for name in ["msnp", "http"] {
        let dialect = dialect::by_name(name).unwrap();
        let pcap = std::env::temp_dir().join(format!(
            "harness-first-messages-{name}-{}.pcap",
            std::process::id()
        ));
        harness::capture::synth::write_capture(dialect, &pcap, 2 << 20).unwrap();
        let stopped = framed_both_ways(&pcap, dialect.default_port(), dialect);
        std::fs::remove_file(&pcap).unwrap();
        if name == "msnp" {
            // 88 messages each: every session stops after its first 32.
            assert!(
                stopped > 50,
                "{name}: only {stopped} sessions stopped early"
            );
        }
    }
}

/// A small deterministic generator (xorshift), so a failure names its seed.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Sessions of `dialect` made long and awkward: the synthetic exchanges repeated, each
/// message cut into up to three segments, segments of the two sides interleaved (a message
/// begun before the other side's reply and finished after it), sometimes a last message cut
/// short, sometimes a packet stamped earlier than the one before it.
fn awkward_capture(dialect: &dyn Dialect, path: &Path, sessions: u64) {
    use harness::capture::pcapng::{Link, PcapWriter, TcpSession};
    use harness::direction::Direction;
    let mut pcap = PcapWriter::new(
        std::fs::File::create(path).unwrap(),
        Link::Ethernet.linktype(),
        true,
    )
    .unwrap();
    let mut ts = 1_066_262_400_000_000_000u64;
    for n in 0..sessions {
        let mut random = Random(0x9e37_79b9_7f4a_7c15 ^ (n + 1));
        let mut exchanges = dialect.synthetic_session(n);
        let tail: Vec<_> = exchanges.iter().skip(2).cloned().collect();
        for _ in 0..random.below(3) {
            exchanges.extend(tail.iter().cloned());
        }
        if random.below(4) == 0
            && let Some((_, last)) = exchanges.last_mut()
        {
            last.truncate(last.len() / 2);
        }
        let mut segments: Vec<(Direction, Vec<u8>)> = Vec::new();
        for (from, bytes) in exchanges {
            let mut rest = &bytes[..];
            for _ in 0..random.below(3) {
                let cut = random.below(rest.len() as u64) as usize;
                segments.push((from, rest[..cut].to_vec()));
                rest = &rest[cut..];
            }
            segments.push((from, rest.to_vec()));
        }
        segments.retain(|(_, s)| !s.is_empty());
        // Swaps of neighbouring segments of different sides keep each side's order.
        for _ in 0..segments.len() / 3 {
            let i = random.below(segments.len() as u64 - 1) as usize;
            if segments[i].0 != segments[i + 1].0 {
                segments.swap(i, i + 1);
            }
        }
        let client = format!("10.1.{}.{}:{}", n / 250, n % 250 + 2, 30_000 + n)
            .parse()
            .unwrap();
        let server = format!("10.0.0.1:{}", dialect.default_port())
            .parse()
            .unwrap();
        let mut tcp = TcpSession::new(client, server, n as u32 * 7919, n as u32 * 104_729);
        let mut packets = tcp.open();
        for (from, payload) in &segments {
            packets.push(tcp.data(*from, payload));
        }
        packets.extend(tcp.close());
        let back_in_time = random.below(5) == 0;
        for (i, packet) in packets.iter().enumerate() {
            ts += 1_000_000;
            let stamp = match back_in_time && i == packets.len() / 2 {
                true => ts - 500_000_000,
                false => ts,
            };
            pcap.packet(stamp, &Link::Ethernet.frame(packet)).unwrap();
        }
    }
}

#[test]
fn awkward_sessions_are_framed_alike_first_messages_first_or_whole() {
    for name in ["msnp", "http"] {
        let dialect = dialect::by_name(name).unwrap();
        let pcap = std::env::temp_dir().join(format!(
            "harness-first-messages-awkward-{name}-{}.pcap",
            std::process::id()
        ));
        awkward_capture(dialect, &pcap, 300);
        let stopped = framed_both_ways(&pcap, dialect.default_port(), dialect);
        std::fs::remove_file(&pcap).unwrap();
        if name == "msnp" {
            assert!(
                stopped > 100,
                "{name}: only {stopped} sessions stopped early"
            );
        }
    }
}
