//! harness beside testssl.sh's client simulation: Debian's testssl.sh client file (installed by
//! ci/install.sh; none ships here) imported with `--from testssl`, its 162 clients run against
//! nine openssl s_server policies, and every verdict compared with what testssl.sh 3.0.8 said
//! against the same policies (captures/tls/testssl/testssl-results.tsv). They must agree on
//! connect / no connect everywhere but where harness checks a constraint testssl.sh does not,
//! and on the version and suite wherever both connect.

mod common;

use common::*;
use std::process::Command;

const CLIENT_FILE: &str = "/etc/testssl/client-simulation.txt";

#[test]
fn harness_agrees_with_testssl_on_every_client_and_policy() {
    assert!(
        std::path::Path::new(CLIENT_FILE).exists(),
        "{CLIENT_FILE} is missing: apt-get install testssl.sh (ci/install.sh does)"
    );
    let out = Command::new("bash")
        .arg(repo_root().join("captures/tls/testssl/compare-harness.sh"))
        .arg(CLIENT_FILE)
        .env("HARNESS", env!("CARGO_BIN_EXE_harness"))
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    // `POLICY: A of N agree on connect / no connect; B of C that connect agree on version and suite`
    let numbers = |line: &str| -> Vec<usize> {
        line.split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect()
    };
    let summaries: Vec<Vec<usize>> = text
        .lines()
        .filter(|l| l.contains(" agree on connect"))
        .map(|l| numbers(l.split_once(": ").unwrap().1))
        .collect();
    assert_eq!(summaries.len(), 9, "{text}");
    let sum = |i: usize| summaries.iter().map(|n| n[i]).sum::<usize>();
    assert_eq!(sum(1), 9 * 162, "{text}");
    // The differences, each a constraint testssl.sh 3.0.8 leaves unchecked.
    let explained: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("explained"))
        .collect();
    assert_eq!(explained.len(), 7, "{text}");
    assert_eq!(sum(0), 9 * 162 - explained.len(), "{text}");
    assert_eq!(
        sum(2),
        sum(3),
        "version and suite, wherever both connect: {text}"
    );
    assert!(sum(3) > 1000, "{text}");
}
