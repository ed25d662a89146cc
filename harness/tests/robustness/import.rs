//! The pcap/pcapng importer on corrupted fixtures and on noise after a valid header: no
//! panic, and heap bounded by what the input holds, never by what it claims.

use crate::campaign::check_alone;
use crate::common;
use crate::{SERIAL, peak_heap_during};
use harness::capture::{Scope, Source, import_from};
use proptest::prelude::*;
use std::time::Instant;

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

/// Imports `bytes` (whatever they hold, the import itself must not fail: bad bytes become a
/// reported error inside the summary) and checks the heap bound.
pub fn check_capture(bytes: &[u8]) -> Result<(), TestCaseError> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let source = Source {
        name: "fuzz.pcap",
        sha256: None,
    };
    let dialect = harness::dialect::by_name("msnp").unwrap();
    let mut result = None;
    let peak = peak_heap_during(|| {
        result = Some(import_from(
            bytes,
            bytes.len() as u64,
            &source,
            Scope::default(),
            dialect,
            Instant::now(),
            &mut |_, _| Ok(()),
        ));
    });
    prop_assert!(result.is_some_and(|r| r.is_ok()));
    prop_assert!(peak < IMPORT_HEAP_BOUND, "peak heap {peak} bytes");
    Ok(())
}

#[test]
fn corrupted_captures_never_panic_or_balloon() {
    let strategy = (
        0usize..16,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..12),
        any::<prop::sample::Index>(),
    );
    check_alone(
        "corrupted_captures_never_panic_or_balloon",
        file!(),
        strategy,
        |(seed, flips, cut)| {
            let mut bytes = SEEDS[seed % SEEDS.len()].1.clone();
            for (at, value) in flips {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            let len = cut.index(bytes.len() + 1);
            bytes.truncate(len.max(bytes.len() / 2));
            check_capture(&bytes)
        },
    );
}

#[test]
fn noise_after_a_valid_header_never_panics() {
    let strategy = (prop::collection::vec(any::<u8>(), 0..4096), any::<bool>());
    check_alone(
        "noise_after_a_valid_header_never_panics",
        file!(),
        strategy,
        |(noise, ng)| {
            let name = if ng {
                "two-sections-two-interfaces.pcapng"
            } else {
                "ethernet-whole-session.pcap"
            };
            let file = &SEEDS.iter().find(|(n, _)| *n == name).unwrap().1;
            // pcapng: the section header block (28 bytes); pcap: the file header (24 bytes).
            let mut bytes = file[..if ng { 28 } else { 24 }].to_vec();
            bytes.extend(noise);
            check_capture(&bytes)
        },
    );
}
