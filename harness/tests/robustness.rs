//! Random and corrupted input never panics and never allocates without bound: pcap import
//! (corrupted fixtures and raw noise), the MSNP framer and the case and policy parsers.
//! The allocation bound is measured by a counting allocator around each import.

mod common;

use bytes::BytesMut;
use harness::capture::{Source, import_from};
use harness::dialect::msnp::{Limits, Sender, codec};
use harness::server::Policy;
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Tracks live and peak heap bytes of this test binary.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to the system allocator unchanged; only counters are added.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Tests in this binary run one at a time so the peak belongs to the import measured.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Imports `bytes` and returns the peak heap growth during the import.
fn import_measured(bytes: &[u8]) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let source = Source {
        name: "fuzz.pcap",
        sha256: None,
    };
    let dialect = harness::dialect::by_name("msnp").unwrap();
    let mut cases = 0usize;
    let result = import_from(
        bytes,
        bytes.len() as u64,
        &source,
        None,
        dialect,
        Instant::now(),
        &mut |_, _| {
            cases += 1;
            Ok(())
        },
    );
    assert!(result.is_ok());
    PEAK.load(Ordering::Relaxed).saturating_sub(base)
}

/// The read buffer (1 MiB), one flow's bytes and the case being built: the bound does not
/// grow with what the input claims, only with what it holds.
const IMPORT_HEAP_BOUND: usize = 4 << 20;

/// Every fixture but the large many-flows one, built once.
static SEEDS: std::sync::LazyLock<Vec<(&'static str, Vec<u8>)>> = std::sync::LazyLock::new(|| {
    common::fixtures::all()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("many-flows"))
        .collect()
});

/// The seed suite's case files, read once.
static CASE_FILES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    let mut files: Vec<_> = std::fs::read_dir(common::seed_suite().join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
});

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn corrupted_captures_never_panic_or_balloon(
        seed in 0usize..16,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
        cut in any::<prop::sample::Index>(),
    ) {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let mut bytes = SEEDS[seed % SEEDS.len()].1.clone();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let len = cut.index(bytes.len() + 1);
        bytes.truncate(len.max(bytes.len() / 2));
        let peak = import_measured(&bytes);
        prop_assert!(peak < IMPORT_HEAP_BOUND, "peak heap {peak} bytes");
    }

    #[test]
    fn noise_after_a_valid_header_never_panics(noise in prop::collection::vec(any::<u8>(), 0..4096), ng in any::<bool>()) {
        let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let name = if ng { "two-sections-two-interfaces.pcapng" } else { "ethernet-whole-session.pcap" };
        let file = &SEEDS.iter().find(|(n, _)| *n == name).unwrap().1;
        // pcapng: the section header block (28 bytes); pcap: the file header (24 bytes).
        let mut bytes = file[..if ng { 28 } else { 24 }].to_vec();
        bytes.extend(noise);
        let peak = import_measured(&bytes);
        prop_assert!(peak < IMPORT_HEAP_BOUND, "peak heap {peak} bytes");
    }

    #[test]
    fn framer_never_panics_and_never_buffers_past_its_limits(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..40),
        server in any::<bool>(),
    ) {
        let sender = if server { Sender::Server } else { Sender::Client };
        let limits = Limits { max_line: 512, max_body: 1024 };
        let mut buf = BytesMut::new();
        for chunk in chunks {
            buf.extend_from_slice(&chunk);
            loop {
                match codec::decode(&mut buf, sender, &limits) {
                    Ok(Some(_)) => continue,
                    Ok(None) => {
                        // Waiting for more only while a message could still fit the limits.
                        prop_assert!(buf.len() <= limits.max_line + 2 + limits.max_body);
                        break;
                    }
                    Err(_) => {
                        buf.clear();
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn framer_accepts_msnp_shaped_noise(
        command in "[A-Z0-9]{3}",
        args in prop::collection::vec("[!-~]{1,12}", 0..6),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let line = std::iter::once(command).chain(args).collect::<Vec<_>>().join(" ");
        let bytes = codec::encode(&line, Some(&body));
        let mut buf = BytesMut::from(&bytes[..]);
        let _ = codec::decode(&mut buf, Sender::Server, &Limits::default());
    }

    #[test]
    fn case_and_policy_parsers_never_panic(text in "[\\[\\]a-z_=\"'{}\\n 0-9.,-]{0,400}") {
        let known = BTreeSet::from(["email".to_string()]);
        let _ = harness::case::parse_case(Path::new("fuzz.toml"), &text, &known);
        let _ = Policy::parse(Path::new("fuzz.toml"), &text);
    }

    #[test]
    fn mutated_seed_case_files_never_panic(
        file in 0usize..20,
        at in any::<prop::sample::Index>(),
        insert in "[\\[\\]{}\"'\\\\=\\n(?<>)a-z0-9 ]{1,8}",
    ) {
        let mut text = CASE_FILES[file % CASE_FILES.len()].clone();
        let mut i = at.index(text.len() + 1);
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        text.insert_str(i, &insert);
        let known = BTreeSet::from(["email".to_string()]);
        if let Err(e) = harness::case::parse_case(Path::new("case.toml"), &text, &known) {
            // Errors always point into the file.
            prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1);
        }
    }
}

proptest! {
    #[test]
    fn tls_framer_and_hello_readers_never_panic(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..20),
        client in any::<bool>(),
    ) {
        use harness::dialect::tls::{hello, record};
        let mut buf = BytesMut::new();
        for chunk in chunks {
            buf.extend_from_slice(&chunk);
            loop {
                match record::decode(&mut buf, client) {
                    Ok(Some(r)) => {
                        let _ = hello::offer(&r.raw);
                        let _ = hello::rewrite_sni(&r.raw, "example.org");
                        let _ = hello::server_answer(&r.fragment);
                        let _ = harness::dialect::tls::describe(harness::dialect::Direction::Server, &r.raw);
                    }
                    Ok(None) => {
                        prop_assert!(buf.len() < 5 + (1 << 14) + 2048 + 1);
                        break;
                    }
                    Err(_) => {
                        buf.clear();
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn mutated_client_hellos_never_panic_and_rewrite_consistently(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        host in "[a-z]{1,40}",
    ) {
        use harness::dialect::tls::hello;
        let mut record = hello::Description::parse("versions=TLSv1.2,TLSv1.3 ciphers=TLS_AES_128_GCM_SHA256 groups=x25519 sni=example.org").unwrap().build();
        for (at, value) in flips {
            let i = at.index(record.len());
            record[i] = value;
        }
        if let Some(rewritten) = hello::rewrite_sni(&record, &host) {
            // When the original read as a ClientHello, the rewrite reads as one with the new name.
            if hello::offer(&record).is_some_and(|o| o.sni.is_some()) {
                prop_assert_eq!(hello::offer(&rewritten).and_then(|o| o.sni), Some(host));
            }
        }
    }
}
