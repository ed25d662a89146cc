//! The report files a CI system or a person reads: JUnit XML with one test case per result and
//! the right failure count, the HTML matrix rendered by headless Chromium with one cell per
//! result, the Markdown matrix, and the population impact line.

mod common;

use common::*;
use std::path::Path;

/// A run of the seed suite writing every report, with `mismatches` expectations changed.
fn reports(mismatches: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    reports_with(mismatches, |_| {})
}

/// The same, after `change` has altered the copied suite.
fn reports_with(
    mismatches: &[&str],
    change: impl Fn(&Path),
) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite");
    copy_dir(&seed_suite(), &suite);
    change(&suite);
    let captures = repo_root().join("captures").display().to_string();
    let mut text = std::fs::read_to_string(suite.join("suite.toml"))
        .unwrap()
        .replace("../../captures", &captures);
    for case in mismatches {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("\"{case}\"")))
            .unwrap()
            .to_string();
        text = text.replace(&line, &line.replacen("\"locked-out\"", "\"admitted\"", 1));
    }
    std::fs::write(suite.join("suite.toml"), text).unwrap();
    let out = harness(&[
        "run",
        &suite.display().to_string(),
        "--report-junit",
        &dir.path().join("out/junit.xml").display().to_string(),
        "--report-html",
        &dir.path().join("out/html").display().to_string(),
        "--report-markdown",
        &dir.path().join("out/pr.md").display().to_string(),
    ]);
    (dir, out)
}

fn results_in_seed_suite() -> usize {
    harness::suite::load_suite(&seed_suite())
        .unwrap()
        .cases
        .len()
        * 3
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn table_names_each_client_then_its_case_file() {
    let (_dir, out) = reports(&[]);
    let text = stdout(&out);
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("CLIENT "), "{text}");
    assert!(header.contains(" CASE "), "{text}");
    let suite = harness::suite::load_suite(&seed_suite()).unwrap();
    for case in &suite.cases {
        let rows = text
            .lines()
            .filter(|line| {
                line.strip_prefix(case.name.as_str())
                    .and_then(|rest| rest.trim_start().strip_prefix(case.id.as_str()))
                    .is_some_and(|rest| rest.starts_with(' '))
            })
            .count();
        assert_eq!(rows, 3, "{} ({}) in\n{text}", case.name, case.id);
    }
}

#[test]
fn sessions_of_clients_without_a_case_are_weighed_as_not_run() {
    // As `import --group` writes it when a capture has more clients than it keeps apart.
    let (dir, out) = reports_with(&[], |suite| {
        let file = suite.join("suite.toml");
        let text = std::fs::read_to_string(&file).unwrap();
        let counted = "population_unit = \"sessions\"\npopulation_not_run = 100\n";
        std::fs::write(&file, format!("{counted}{text}")).unwrap();
    });
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "impact 2003-10-16: 22.0% of sessions admitted, 8.5% warned, 19.5% locked out, 50.0% not run (clients past the 4096 an import keeps apart)"
        ),
        "{text}"
    );
    let md = std::fs::read_to_string(dir.path().join("out/pr.md")).unwrap();
    assert!(md.contains("19.5% of sessions"), "{md}");
    assert!(md.contains("50.0% not run"), "{md}");
}

#[test]
fn junit_has_one_testcase_per_result_and_the_failures() {
    let (dir, out) = reports(&["emesene-2011", "msn-messenger-7.5"]);
    assert_eq!(out.status.code(), Some(harness::exit::MISMATCH));
    let xml = std::fs::read_to_string(dir.path().join("out/junit.xml")).unwrap();
    let results = results_in_seed_suite();
    assert!(xml.starts_with("<?xml"), "{xml}");
    let root = xml.lines().find(|l| l.starts_with("<testsuites ")).unwrap();
    for attribute in [
        format!("tests=\"{results}\""),
        "failures=\"2\"".to_string(),
        "errors=\"0\"".to_string(),
    ] {
        assert!(root.contains(&attribute), "{root}");
    }
    assert_eq!(count(&xml, "<testcase "), results);
    assert_eq!(count(&xml, "<failure "), 2);
    assert!(xml.contains("message=\"expected admitted, got locked-out: no common protocol version: the server answered VER 0 to `MSNP18 MSNP16 MSNP15`\""), "{xml}");
    // Strict consumers want when, how long and where on every test suite.
    let suites: Vec<&str> = xml
        .lines()
        .filter(|l| l.trim_start().starts_with("<testsuite "))
        .collect();
    assert_eq!(suites.len(), 3, "{xml}");
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    for suite in suites {
        assert!(suite.contains(" timestamp=\"20"), "{suite}");
        assert!(suite.contains(" time=\""), "{suite}");
        assert!(
            suite.contains(&format!(" hostname=\"{}\"", hostname.trim())),
            "{suite}"
        );
    }
    // Each target's suite carries the share of users each verdict reaches there.
    assert!(
        xml.contains("<property name=\"impact\" value=\"2003-10-16: 44.0% of users admitted, 17.0% warned, 39.0% locked out\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<system-out>2003-10-16 would lock out 39.0% of users: from 7 clients\nimpact 2003-10-16: 44.0% of users admitted, 17.0% warned, 39.0% locked out\n    locks out "),
        "{xml}"
    );
    // Well-formed: every test case closes and the document ends.
    assert!(xml.trim_end().ends_with("</testsuites>"));
}

#[test]
fn html_report_renders_in_chromium_for_the_people_who_decide() {
    let (dir, out) = reports_with(&["emesene-2011"], |suite| {
        // A third case of MSN Messenger 4.6 that behaves like 6.0: its row disagrees.
        std::fs::write(
            suite.join("cases/msn-messenger-4.6.recorded.toml"),
            "name = \"MSN Messenger 4.6 (recorded)\"\n[[step]]\nsend = \"VER {trid} MSNP9 MSNP8 CVR0\"\n[[step]]\nsend = \"CVR {trid} 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS {email}\"\n[[step]]\nsend = \"USR {trid} TWN I {email}\"\n",
        )
        .unwrap();
    });
    assert_eq!(
        out.status.code(),
        Some(harness::exit::MISMATCH),
        "{}",
        stderr(&out)
    );
    let page = dir.path().join("out/html/index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("http-equiv") && !html.contains("<script") && !html.contains("src=\"http"),
        "not self-contained"
    );
    let dom = match chromium_dom(&page) {
        Some(dom) => dom,
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "chromium is required on CI"
            );
            eprintln!("note: chromium not installed; checking the HTML text only");
            html
        }
    };
    // One row per client: scripted, captured and recorded cases of a client share it.
    let suite = harness::suite::load_suite(&seed_suite()).unwrap();
    let clients = suite
        .cases
        .iter()
        .filter(|c| !c.id.contains(".captured") && !c.id.contains(".recorded"))
        .count();
    assert_eq!(count(&dom, "<tr><th>") - 1, clients, "one row per client");
    // Rows by human name with the client's share, the largest first.
    let first_row = dom.split("<tbody>").nth(1).unwrap().trim_start();
    assert!(
        first_row.starts_with("<tr><th>MSN Messenger 6.0<small>26.0% of users</small></th>"),
        "{}",
        &first_row[..300.min(first_row.len())]
    );
    assert!(
        dom.contains("scripted</a>, <a href="),
        "agreeing cases are named together"
    );
    // Columns name the target and its policy phase.
    assert!(
        dom.contains("<th>2003-10-16<small>old clients locked out (from 2003-10-15)</small></th>")
    );
    // The row that disagrees says so, case by case.
    assert!(
        dom.contains("<td class=\"verdict disagree\">"),
        "no disagreeing cell"
    );
    assert!(
        dom.contains(">recorded: admitted</a>"),
        "the disagreeing case is named"
    );
    // A mismatch shows the verdict expected.
    assert!(
        dom.contains("✗ expected admitted</span>"),
        "no expected-verdict mark"
    );
    assert_eq!(
        count(&dom, " mismatch\""),
        1,
        "emesene-2011 at its first date"
    );
    // Legend, run date, harness version and suite hash.
    assert!(dom.contains("locked-out: turned away before the admission point"));
    assert!(dom.contains(&format!(
        "· harness {} · suite sha256 <code>",
        env!("CARGO_PKG_VERSION")
    )));
    assert!(dom.contains("class=\"meta\">run 20"));
    assert_eq!(
        count(&dom, "class=\"transcript\""),
        results_in_seed_suite() + 3
    );
    assert!(dom.contains("2003-10-16: 44.0% of users admitted, 17.0% warned, 39.0% locked out"));
    // A headline per target, its shares as a bar, and the reason in every cell that is not an
    // admission.
    assert!(
        dom.contains("<h2>2003-10-16 would lock out 39.0% of users: from "),
        "no headline"
    );
    assert!(dom.contains("<svg class=\"shares\""), "no bar of shares");
    assert!(
        dom.contains("<rect class=\"locked-out\""),
        "no locked-out share"
    );
    assert!(
        dom.contains("locked-out<small class=\"reason\">no common protocol version"),
        "no reason in a locked-out cell"
    );
}

#[test]
fn markdown_matrix_and_impact_for_a_pull_request() {
    let (dir, out) = reports(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let md = std::fs::read_to_string(dir.path().join("out/pr.md")).unwrap();
    assert!(md.contains("| client | 2003-08-01 | 2003-09-18 | 2003-10-16 |"));
    assert!(
        md.contains("| MSN Messenger 4.6 | 🟢 admitted | 🟡 warned | 🔴 locked out |"),
        "{md}"
    );
    assert!(
        md.contains("- **2003-10-16 would lock out 39.0% of users: from 7 clients**: 2003-10-16: 44.0% of users admitted, 17.0% warned, 39.0% locked out"),
        "{md}"
    );
    assert!(
        stdout(&out)
            .contains("impact 2003-09-18: 44.0% of users admitted, 56.0% warned, 0.0% locked out")
    );
}

/// Every report shows a message as its dialect describes it: a TLS hello as its versions and
/// suites and an alert by name, never as hex.
#[test]
fn tls_messages_read_as_their_dialect_describes_them_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let (junit, html) = (dir.path().join("junit.xml"), dir.path().join("html"));
    let suite = repo_root().join("suites/tls-cutoff").display().to_string();
    let out = harness(&[
        "run",
        &suite,
        "--case",
        "openssl-s_client-tls1.2",
        "--report-junit",
        &junit.display().to_string(),
        "--report-html",
        &html.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let html = std::fs::read_to_string(html.join("index.html")).unwrap();
    for report in [&html, &std::fs::read_to_string(&junit).unwrap()] {
        assert!(
            report.contains("&gt; ClientHello versions=TLSv1.2"),
            "{report}"
        );
        assert!(
            report.contains("&lt; Alert fatal protocol_version"),
            "{report}"
        );
        assert!(report.contains("&lt; ServerHello TLSv1.2 TLS_"), "{report}");
        assert!(
            !report.contains("[hex]") && !report.contains("160301"),
            "{report}"
        );
    }
}
