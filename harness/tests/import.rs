//! The importer against fixture captures named after what they exercise, and against the
//! real tcpdump capture in `captures/msnp-loopback`.

mod common;

use common::fixtures::{self, client_bytes, server_bytes};
use common::repo_root;
use harness::capture::{CaptureFile, ImportReport, import};
use harness::dialect;
use harness::direction::Direction;
use rstest::rstest;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn import_all(path: &Path) -> (Vec<CaptureFile>, ImportReport) {
    let mut cases = Vec::new();
    let report = import(path, None, dialect::by_name("msnp").unwrap(), |_, case| {
        cases.push(case);
        Ok(())
    })
    .unwrap();
    (cases, report)
}

/// The bytes one side sent, gaps shown as `?`.
fn side(case: &CaptureFile, from: Direction) -> Vec<u8> {
    case.messages
        .iter()
        .filter(|m| m.from == from)
        .flat_map(|m| match m.gap {
            Some(n) => vec![b'?'; n as usize],
            None => m.bytes().unwrap(),
        })
        .collect()
}

fn assert_whole_session(case: &CaptureFile) {
    assert_eq!(
        String::from_utf8_lossy(&side(case, Direction::Client)),
        String::from_utf8_lossy(&client_bytes())
    );
    assert_eq!(
        String::from_utf8_lossy(&side(case, Direction::Server)),
        String::from_utf8_lossy(&server_bytes())
    );
    assert_eq!(case.capture.client_name.as_deref(), Some("MSNMSGR"));
    assert_eq!(case.capture.client_version.as_deref(), Some("6.0.0602"));
    assert_eq!(case.capture.versions.as_deref(), Some("MSNP9 MSNP8 CVR0"));
    assert_eq!(case.capture.account.as_deref(), Some("bob@hotmail.com"));
    // Framed per message: three client messages, three server replies.
    assert_eq!(
        case.messages
            .iter()
            .filter(|m| m.from == Direction::Client)
            .count(),
        3
    );
}

#[test]
fn fixtures_are_up_to_date() {
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    for (name, bytes) in fixtures::all() {
        let path = fixture(name);
        if update {
            std::fs::write(&path, &bytes).unwrap();
        } else {
            let on_disk = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{name}: {e}; run with UPDATE_FIXTURES=1"));
            assert!(
                on_disk == bytes,
                "{name} differs from what tests/common/fixtures.rs builds; run with UPDATE_FIXTURES=1"
            );
        }
    }
}

#[rstest]
#[case::ethernet("ethernet-whole-session.pcap")]
#[case::out_of_order("out-of-order-segments.pcap")]
#[case::retransmission("retransmission.pcap")]
#[case::overlap_first_copy_wins("overlapping-segments.pcap")]
#[case::overlap_held_first_copy_wins("overlapping-held-segments.pcap")]
#[case::ipv6("ipv6.pcap")]
#[case::ipv4_fragments("ipv4-fragments.pcap")]
#[case::ipv6_fragments("ipv6-fragments.pcap")]
#[case::linux_sll2("linux-sll2.pcap")]
#[case::linux_sll_loopback("linux-sll-loopback.pcap")]
#[case::linux_sll_tun("linux-sll-tun.pcap")]
#[case::bsd_null_loopback("bsd-null-loopback.pcap")]
#[case::vlan("ethernet-vlan.pcap")]
#[case::nanosecond_timestamps("nanosecond-timestamps.pcap")]
fn reassembles_the_whole_session(#[case] name: &str) {
    let (cases, report) = import_all(&fixture(name));
    assert_eq!(cases.len(), 1, "{report:?}");
    assert_whole_session(&cases[0]);
    assert!(!cases[0].capture.mid_stream);
    assert_eq!(cases[0].capture.ended_by, "fin");
    assert_eq!(report.gaps, 0);
    assert!(report.error.is_none());
    assert_eq!(
        cases[0].capture.server,
        if name.starts_with("ipv6") {
            "[2001:db8::2]:1863"
        } else {
            "10.0.0.2:1863"
        }
    );
}

#[test]
fn retransmitted_bytes_are_counted_not_repeated() {
    let (_, report) = import_all(&fixture("retransmission.pcap"));
    // The fixture sends the client's VER and CVR segments twice.
    let resent = fixtures::EXCHANGES[0].1.len() + fixtures::EXCHANGES[2].1.len();
    assert_eq!(report.retransmitted_bytes, resent as u64);
}

#[test]
fn capture_starting_mid_connection_is_marked() {
    let (cases, _) = import_all(&fixture("mid-stream-start.pcap"));
    assert_eq!(cases.len(), 1);
    assert!(cases[0].capture.mid_stream);
    assert_whole_session(&cases[0]);
}

#[test]
fn lost_segment_is_a_gap_not_glued_over() {
    let (cases, report) = import_all(&fixture("lost-segment.pcap"));
    let cvr = fixtures::EXCHANGES[2].1;
    let gap: Vec<_> = cases[0]
        .messages
        .iter()
        .filter(|m| m.gap.is_some())
        .collect();
    assert_eq!(gap.len(), 1);
    assert_eq!(
        (gap[0].from, gap[0].gap),
        (Direction::Client, Some(cvr.len() as u64))
    );
    let mut expected = fixtures::EXCHANGES[0].1.to_vec();
    expected.extend(vec![b'?'; cvr.len()]);
    expected.extend(fixtures::EXCHANGES[4].1);
    assert_eq!(side(&cases[0], Direction::Client), expected);
    assert_eq!(report.gaps, 1);
}

/// Each message as `C 3.000 VER` (direction, time in ms, first word or the gap's size).
fn timeline(case: &CaptureFile) -> Vec<String> {
    case.messages
        .iter()
        .map(|m| {
            let from = match m.from {
                Direction::Client => "C",
                Direction::Server => "S",
            };
            let what = match m.gap {
                Some(n) => format!("gap {n}"),
                None => String::from_utf8_lossy(&m.bytes().unwrap())
                    .split(' ')
                    .next()
                    .unwrap()
                    .to_string(),
            };
            format!("{from} {:.3} {what}", m.at_ms)
        })
        .collect()
}

/// Bytes held behind a hole that never fills keep the time of the packet that brought them
/// (fixture packets are 1 ms apart), and both directions stay interleaved as captured.
#[rstest]
#[case::client_gap(
    "lost-segment.pcap",
    &["C 3.000 VER", "S 4.000 VER", "S 5.000 CVR", "C 6.000 gap 69", "C 6.000 USR", "S 7.000 USR"],
)]
#[case::gaps_both_ways(
    "gaps-in-both-directions.pcap",
    &["C 3.000 VER", "S 4.000 gap 18", "S 4.000 CVR", "C 5.000 gap 69", "C 5.000 USR", "S 6.000 USR"],
)]
fn messages_after_a_gap_keep_their_own_time_and_order(
    #[case] name: &str,
    #[case] expected: &[&str],
) {
    let (cases, _) = import_all(&fixture(name));
    assert_eq!(cases.len(), 1);
    assert_eq!(timeline(&cases[0]), expected);
}

/// A fragmented segment missing a fragment is a gap in the stream, and counted.
#[test]
fn a_lost_ip_fragment_is_a_gap_and_counted() {
    let (cases, report) = import_all(&fixture("ipv4-fragment-lost.pcap"));
    assert_eq!(cases.len(), 1);
    let cvr = fixtures::EXCHANGES[2].1;
    let mut expected = fixtures::EXCHANGES[0].1.to_vec();
    expected.extend(vec![b'?'; cvr.len()]);
    expected.extend(fixtures::EXCHANGES[4].1);
    assert_eq!(side(&cases[0], Direction::Client), expected);
    assert_eq!(
        (
            report.ip_fragments,
            report.reassembled_datagrams,
            report.incomplete_datagrams,
            report.gaps
        ),
        (2, 0, 1, 1)
    );
}

/// A connection silent for longer than the idle timeout (capture time) is ended there and
/// written as soon as that is known, not held open to the end of the capture.
#[test]
fn a_connection_idle_past_the_timeout_is_ended_as_idle() {
    let (cases, report) = import_all(&fixture("connection-idle-for-an-hour.pcap"));
    let ends: Vec<(&str, &str)> = cases
        .iter()
        .map(|c| (c.capture.client.as_str(), c.capture.ended_by.as_str()))
        .collect();
    assert_eq!(
        ends,
        [("10.0.0.9:40009", "idle"), ("10.0.0.1:40001", "fin")]
    );
    assert_eq!(report.ended_idle, 1);
    assert_whole_session(&cases[1]);
}

/// Past `--max-connections`, the least recently active connections are let go (and counted)
/// so the table stays small; a session after the flood is still imported whole.
#[test]
fn open_connections_are_capped_and_the_evictions_reported() {
    let out = tempfile::tempdir().unwrap();
    let run = common::harness(&[
        "import",
        &fixture("syn-flood-then-a-session.pcap")
            .display()
            .to_string(),
        "--dialect",
        "msnp",
        "--max-connections",
        "100",
        "--out",
        &out.path().display().to_string(),
    ]);
    let stdout = common::stdout(&run);
    assert_eq!(run.status.code(), Some(0), "{}", common::stderr(&run));
    assert!(
        stdout.contains("at most 100 connections open at once"),
        "{stdout}"
    );
    let evicted: u64 = stdout
        .split("0 connections ended idle, ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no evictions reported in {stdout}"));
    // 1001 connections, at most 100 of them open when the capture ends.
    assert!((901..=1001).contains(&evicted), "{stdout}");
    let written: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(written.len(), 1);
}

/// One connection of one-byte segments, each after a hole that never fills: kept up to the
/// per-connection bound on pieces, then cut, and the case says so; the case file stays small.
#[test]
fn bytes_between_holes_are_cut_at_the_piece_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bytes-between-holes.pcap");
    let segments = 40_000u32;
    std::fs::write(&path, fixtures::bytes_between_holes(segments)).unwrap();
    let (cases, report) = import_all(&path);
    assert_eq!(cases.len(), 1);
    let case = &cases[0];
    assert_eq!(case.capture.ended_by, "truncated");
    assert!(case.messages.len() <= 16_384, "{}", case.messages.len());
    let kept = side(case, Direction::Client)
        .iter()
        .filter(|b| **b != b'?')
        .count() as u64;
    assert_eq!(kept + case.capture.omitted_bytes, u64::from(segments));
    assert_eq!(report.truncated_connections, 1);
    assert!(case.to_toml().len() < 2 << 20, "{}", case.to_toml().len());
}

/// Past the memory bound, the connections holding the most are let go and counted.
#[test]
fn open_connections_memory_is_bounded() {
    let limits = harness::capture::Limits {
        max_bytes: 64 << 10,
        ..Default::default()
    };
    let mut cases = 0;
    let report = harness::capture::import_with(
        &fixture("many-flows.pcap"),
        None,
        limits,
        dialect::by_name("msnp").unwrap(),
        |_, _| {
            cases += 1;
            Ok(())
        },
    )
    .unwrap();
    assert!(report.evicted_for_memory > 0, "{report:?}");
    // Over the bound by at most the segment that crossed it, before the evictions.
    assert!(report.peak_held_bytes < (64 << 10) + 4096, "{report:?}");
    assert!(cases >= 300);
}

#[test]
fn pcapng_sections_redeclare_interfaces() {
    let (cases, _) = import_all(&fixture("two-sections-two-interfaces.pcapng"));
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0].capture.client, "10.0.0.1:40001");
    assert_eq!(cases[1].capture.client, "10.0.0.3:40003");
    cases.iter().for_each(assert_whole_session);
}

#[test]
fn port_reuse_after_fin_is_a_new_connection() {
    let (cases, _) = import_all(&fixture("port-reuse.pcap"));
    assert_eq!(cases.len(), 2);
    cases.iter().for_each(assert_whole_session);
}

#[test]
fn many_interleaved_flows_each_become_a_case() {
    let (cases, report) = import_all(&fixture("many-flows.pcap"));
    assert_eq!(cases.len(), 300);
    cases.iter().for_each(assert_whole_session);
    assert_eq!(report.peak_open_connections, 300);
}

#[rstest]
#[case::truncated_header("err-truncated-header.pcap", 0, "truncated file header", 0)]
#[case::not_a_capture("err-not-a-capture.pcap", 0, "not a pcap or pcapng file", 0)]
// The last record (16-byte header + a 54-byte ACK frame) starts 70 bytes before the whole file's end.
#[case::truncated_packet("err-truncated-packet.pcap", whole_session_len() - 70, "truncated block", 1)]
fn corrupt_file_names_the_offset_after_importing_what_precedes(
    #[case] name: &str,
    #[case] offset: u64,
    #[case] what: &str,
    #[case] cases_before: usize,
) {
    let (cases, report) = import_all(&fixture(name));
    let error = report.error.expect("an error");
    assert_eq!(error.offset, offset, "{error}");
    assert!(error.what.contains(what), "{error}");
    assert_eq!(cases.len(), cases_before);
    if cases_before == 1 {
        assert_whole_session(&cases[0]);
    }
}

fn whole_session_len() -> u64 {
    std::fs::metadata(fixture("ethernet-whole-session.pcap"))
        .unwrap()
        .len()
}

#[test]
fn import_command_writes_cases_and_reports_corruption_with_exit_2() {
    let out = tempfile::tempdir().unwrap();
    let run = common::harness(&[
        "import",
        &fixture("err-truncated-packet.pcap").display().to_string(),
        "--dialect",
        "msnp",
        "--out",
        &out.path().display().to_string(),
    ]);
    assert_eq!(run.status.code(), Some(harness::exit::USAGE));
    let expected = format!(
        "truncated block (the file ends inside it) at byte offset {}; everything before it was imported",
        whole_session_len() - 70
    );
    assert!(
        common::stderr(&run).contains(&expected),
        "{}",
        common::stderr(&run)
    );
    let written: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(written.len(), 1);
}

/// A capture of which not one packet decodes is an error a user sees (exit 2, the reason on
/// stderr), not "0 connections" and success.
#[rstest]
#[case::snaplen("err-snaplen-cuts-every-header.pcap", "12 with headers cut short")]
#[case::link_type("err-unsupported-link-type.pcap", "105 (not read here)")]
fn a_capture_nothing_decodes_from_is_exit_2(#[case] name: &str, #[case] why: &str) {
    for command in ["import", "inspect"] {
        let run = common::harness(&[
            command,
            &fixture(name).display().to_string(),
            "--dialect",
            "msnp",
        ]);
        let stderr = common::stderr(&run);
        assert_eq!(run.status.code(), Some(harness::exit::USAGE), "{stderr}");
        assert!(
            stderr.contains("none of its 12 packets could be decoded") && stderr.contains(why),
            "{command}: {stderr}"
        );
    }
}

fn import_into(out: &Path, name: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "import".to_string(),
        fixture(name).display().to_string(),
        "--dialect".into(),
        "msnp".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    common::harness(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Two captures imported into one folder keep all their cases, each named after its capture;
/// importing one again refuses to overwrite (exit 2, the file untouched) unless --force.
#[test]
fn imports_into_one_folder_never_overwrite_without_force() {
    let out = tempfile::tempdir().unwrap();
    for name in ["ethernet-whole-session.pcap", "ipv6.pcap"] {
        let run = import_into(out.path(), name, &[]);
        assert_eq!(run.status.code(), Some(0), "{}", common::stderr(&run));
    }
    let names = names_in(out.path());
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[0].starts_with("ethernet-whole-session-"), "{names:?}");
    assert!(names[1].starts_with("ipv6-"), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.ends_with("-0000-MSNMSGR-6.0.0602.toml"))
    );

    let edited = out.path().join(&names[0]);
    std::fs::write(&edited, "reviewed by hand").unwrap();
    let again = import_into(out.path(), "ethernet-whole-session.pcap", &[]);
    assert_eq!(again.status.code(), Some(harness::exit::USAGE));
    let stderr = common::stderr(&again);
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&edited).unwrap(),
        "reviewed by hand"
    );

    let forced = import_into(out.path(), "ethernet-whole-session.pcap", &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", common::stderr(&forced));
    let case: CaptureFile = toml::from_str(&std::fs::read_to_string(&edited).unwrap()).unwrap();
    assert_whole_session(&case);
    assert_eq!(names_in(out.path()), names);
}

/// A symlink in the output folder where a case goes is never written through, with or
/// without --force: the file it points to, outside the folder, is left alone.
#[test]
fn import_never_writes_through_a_symlink() {
    let scratch = tempfile::tempdir().unwrap();
    import_into(scratch.path(), "ethernet-whole-session.pcap", &[]);
    let name = names_in(scratch.path()).remove(0);

    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "not yours").unwrap();
    let out = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&victim, out.path().join(&name)).unwrap();

    let run = import_into(out.path(), "ethernet-whole-session.pcap", &[]);
    assert_eq!(run.status.code(), Some(harness::exit::USAGE));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not yours");

    let forced = import_into(out.path(), "ethernet-whole-session.pcap", &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", common::stderr(&forced));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not yours");
    let replaced = out.path().join(&name);
    assert!(!replaced.symlink_metadata().unwrap().is_symlink());
    assert!(
        std::fs::read_to_string(&replaced)
            .unwrap()
            .contains("MSNMSGR")
    );
}

/// The committed captures are exactly what the importer makes of the committed tcpdump file,
/// and each names the same client its scripted twin plays.
#[test]
fn tcpdump_capture_imports_into_one_case_per_session_with_the_twins_identity() {
    let dir = repo_root().join("captures/msnp-loopback");
    let (imported, report) = import_all(&dir.join("msnp-loopback.pcap"));
    assert_eq!(imported.len(), 20, "{report:?}");
    assert_eq!(report.gaps, 0);
    let imported: Vec<String> = imported.iter().map(CaptureFile::to_toml).collect();
    for entry in std::fs::read_dir(repo_root().join("suites/msn-2003/cases")).unwrap() {
        let twin = entry
            .unwrap()
            .path()
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let committed = std::fs::read_to_string(dir.join(format!("{twin}.captured.toml"))).unwrap();
        assert!(
            imported.contains(&committed),
            "{twin}.captured.toml is not what the importer makes of the pcap"
        );
        let case: CaptureFile = toml::from_str(&committed).unwrap();
        let script =
            std::fs::read_to_string(repo_root().join(format!("suites/msn-2003/cases/{twin}.toml")))
                .unwrap();
        let ver = script
            .lines()
            .find(|l| l.starts_with("send = \"VER"))
            .unwrap();
        assert!(
            ver.ends_with(&format!("{}\"", case.capture.versions.as_deref().unwrap())),
            "{twin}: {ver}"
        );
        if let Some(version) = &case.capture.client_version {
            assert!(
                script.contains(&format!("version = \"{version}\"")),
                "{twin} is not {version}"
            );
        }
    }
}

/// A sink that panics (a bug) ends the import with that panic; the packet-reading thread does
/// not wait forever to hand over the connections nobody will take.
#[test]
fn a_panicking_sink_does_not_hang_the_import() {
    // Far more connections than the channel between the threads holds.
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("sessions.pcap");
    harness::capture::synth::write_capture(dialect::by_name("msnp").unwrap(), &capture, 8 << 20)
        .unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(|| {
            let _ = import(&capture, None, dialect::by_name("msnp").unwrap(), |_, _| {
                panic!("sink bug")
            });
        });
        let _ = done.send(outcome.is_err());
    });
    let panicked = finished
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the import hung after its sink panicked");
    assert!(panicked, "the sink's panic was swallowed");
}

/// Written cases name their source by its sha256; an import that only counts does not hash
/// the file at all, and its cases name none.
#[test]
fn only_written_cases_name_their_sources_sha256() {
    let path = fixture("many-flows.pcap");
    let (hashed, _) = import_all(&path);
    let (sha256, _) = harness::capture::import::sha256_of(&path).unwrap();
    assert!(!hashed.is_empty());
    assert!(
        hashed
            .iter()
            .all(|c| c.capture.sha256.as_deref() == Some(sha256.as_str()))
    );
    let mut counted = Vec::new();
    let report = harness::capture::import_counting(
        &path,
        None,
        harness::capture::Limits::default(),
        dialect::by_name("msnp").unwrap(),
        |_, case| {
            counted.push(case);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(counted.len(), hashed.len(), "{report:?}");
    assert!(counted.iter().all(|c| c.capture.sha256.is_none()));
    assert_eq!(counted[0].messages, hashed[0].messages);
}
