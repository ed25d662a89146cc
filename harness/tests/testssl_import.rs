//! `harness import FILE --from testssl`: a client file in testssl.sh's format (written here;
//! no copy of testssl.sh's own ships) becomes a suite, and its clients' constraints decide
//! against a real openssl s_server on a 1024-bit DH group.

mod common;

use common::*;
use harness::dialect::tls::hello::Description;

/// One client block as testssl.sh's etc/client-simulation.txt writes them.
fn block(name: &str, short: &str, hello: &str, min_dh: i32, max_dh: i32, current: bool) -> String {
    let bytes = hex::encode(Description::parse(hello).unwrap().build());
    format!(
        r#"     names+=("{name}")
     short+=("{short}")
     ciphers+=("DHE-RSA-AES128-GCM-SHA256")
     ciphersuites+=("")
     sni+=("$SNI")
     warning+=("")
     handshakebytes+=("{bytes}")
     protos+=("-no_ssl2")
     tlsvers+=("-tls1_2")
     lowest_protocol+=("0x0301")
     highest_protocol+=("0x0303")
     service+=("HTTP,FTP")
     minDhBits+=({min_dh})
     maxDhBits+=({max_dh})
     minRsaBits+=(-1)
     maxRsaBits+=(-1)
     minEcdsaBits+=(-1)
     curves+=("prime256v1:secp384r1")
     requiresSha2+=(false)
     current+=({current})

"#
    )
}

fn client_file() -> String {
    let dhe12 = "versions=TLSv1.2 ciphers=TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 sni=www.example.org";
    let dhe10 = "versions=TLSv1 ciphers=TLS_DHE_RSA_WITH_AES_128_CBC_SHA";
    [
        "# Written for harness's tests in the format of testssl.sh's client file.\n\n".to_string(),
        block("Hardened 1.0", "hardened_10", dhe12, 2048, -1, true),
        block("Old Java 7", "oldjava_7", dhe10, -1, 1024, false),
        block("Plain 2", "plain_2", dhe12, -1, -1, true),
        // testssl.sh's own file has this misspelling once.
        "     names+=(\"Typo 3\")\n     short+=(\"typo_3\")\n     requireseha2+=(true)\n     handshakebytes+=(\"\")\n".to_string(),
    ]
    .concat()
}

#[test]
fn a_testssl_client_file_becomes_a_suite_whose_constraints_decide_against_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("client-simulation.txt");
    std::fs::write(&file, client_file()).unwrap();
    let out = dir.path().join("testssl-suite");
    let import = harness(&[
        "import",
        &file.display().to_string(),
        "--from",
        "testssl",
        "--out",
        &out.display().to_string(),
    ]);
    let text = stdout(&import);
    assert_eq!(import.status.code(), Some(0), "{text}{}", stderr(&import));
    assert!(
        text.contains(":68:6: warning: `requireseha2` read as `requiresSha2`"),
        "{text}"
    );
    assert!(
        text.contains("skipped `typo_3` (line 66): it has no handshakebytes"),
        "{text}"
    );
    assert!(text.contains("4 clients in"), "{text}");
    let mut cases: Vec<String> = std::fs::read_dir(out.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert_eq!(
        cases,
        ["hardened_10.toml", "oldjava_7.toml", "plain_2.toml"]
    );

    // The suite the import wrote, with a target added: the tls-cutoff suite's openssl
    // s_server on a 1024-bit DH group.
    let mut suite = std::fs::read_to_string(out.join("suite.toml")).unwrap();
    suite.push_str(&format!(
        "\n[[target]]\nname = \"dh1024\"\ncommand = [\"bash\", \"{}\", \"dh1024\", \"{{port}}\"]\n",
        repo_root()
            .join("suites/tls-cutoff/servers/openssl.sh")
            .display()
    ));
    std::fs::write(out.join("suite.toml"), suite).unwrap();
    let run = harness(&["run", &out.display().to_string(), "--format", "json"]);
    let (results, _) = json_lines(&stdout(&run));
    assert_eq!(results.len(), 3, "{}", stderr(&run));
    let result = |case: &str| {
        results
            .iter()
            .find(|r| r["case"] == case)
            .unwrap_or_else(|| panic!("no {case}"))
            .clone()
    };
    let hardened = result("hardened_10");
    assert_eq!(hardened["verdict"], "locked-out", "{hardened}");
    assert_eq!(
        hardened["reason"],
        "the server's DH group has 1024 bits, under the client's minimum of 2048"
    );
    let transcript = hardened["transcript"].to_string();
    assert!(
        transcript.contains(&hex::encode("localhost"))
            && !transcript.contains(&hex::encode("www.example.org")),
        "the recorded server name is sent as {{host}}: {transcript}"
    );
    for warned in ["oldjava_7", "plain_2"] {
        let r = result(warned);
        assert_eq!(r["verdict"], "warned", "{r}");
        assert!(
            r["reason"]
                .as_str()
                .unwrap()
                .contains("the DH group has 1024 bits, under 2048"),
            "{r}"
        );
    }

    // A second import into the same folder refuses to overwrite, and says how.
    let again = harness(&[
        "import",
        &file.display().to_string(),
        "--from",
        "testssl",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
}

#[test]
fn a_broken_client_file_names_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.txt");
    std::fs::write(&file, "     names+=(\"A\")\n     short+=(\"a\"\n").unwrap();
    let import = harness(&["import", &file.display().to_string(), "--from", "testssl"]);
    assert_eq!(import.status.code(), Some(2));
    assert!(
        stderr(&import).contains("broken.txt:2:17: expected `)` at the end of the value"),
        "{}",
        stderr(&import)
    );
    let pcap_without_dialect = harness(&["import", &file.display().to_string()]);
    assert_eq!(pcap_without_dialect.status.code(), Some(2));
}

/// A client block with every key the import reads, `overrides` replacing (or, given as
/// `None`, removing) a key's whole value as written between the parentheses.
fn block_with(overrides: &[(&str, Option<&str>)]) -> String {
    let hello = hex::encode(
        Description::parse("versions=TLSv1.2 ciphers=TLS_DHE_RSA_WITH_AES_128_GCM_SHA256")
            .unwrap()
            .build(),
    );
    let defaults = [
        ("names", "\"Odd Client 1\"".to_string()),
        ("short", "\"odd_1\"".to_string()),
        ("ciphers", "\"DHE-RSA-AES128-GCM-SHA256\"".to_string()),
        ("handshakebytes", format!("\"{hello}\"")),
        ("lowest_protocol", "\"0x0301\"".to_string()),
        ("highest_protocol", "\"0x0303\"".to_string()),
        ("minDhBits", "-1".to_string()),
        ("maxDhBits", "-1".to_string()),
        ("minRsaBits", "-1".to_string()),
        ("maxRsaBits", "-1".to_string()),
        ("minEcdsaBits", "-1".to_string()),
        ("curves", "\"prime256v1\"".to_string()),
        ("requiresSha2", "false".to_string()),
        ("current", "true".to_string()),
    ];
    let mut text = String::new();
    for (key, value) in defaults {
        let value = match overrides.iter().find(|(k, _)| *k == key) {
            Some((_, Some(value))) => value.to_string(),
            Some((_, None)) => continue,
            None => value,
        };
        text.push_str(&format!("     {key}+=({value})\n"));
    }
    text
}

/// `harness import --from testssl` into a fresh folder: the output and that folder.
fn import_into(text: &str) -> (std::process::Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("client-simulation.txt");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("suite");
    let import = harness(&[
        "import",
        &file.display().to_string(),
        "--from",
        "testssl",
        "--out",
        &out.display().to_string(),
    ]);
    (import, dir)
}

#[test]
fn a_value_harness_check_would_refuse_stops_the_import_at_its_line_and_column() {
    // (key, value as written, the bad text the column points at, the message)
    let bad: &[(&str, Option<&str>, &str, &str)] = &[
        (
            "minDhBits",
            Some("abc"),
            "abc",
            "`minDhBits` of client `odd_1` cannot be imported: variable `min_dh_bits` is `abc`, not a number of bits",
        ),
        (
            "maxDhBits",
            Some("1.5"),
            "1.5",
            "variable `max_dh_bits` is `1.5`, not a number of bits",
        ),
        (
            "minRsaBits",
            Some("-2"),
            "-2",
            "variable `min_rsa_bits` is `-2`, not a number of bits",
        ),
        (
            "maxRsaBits",
            Some("\"4k\""),
            "4k",
            "variable `max_rsa_bits` is `4k`, not a number of bits",
        ),
        (
            "minEcdsaBits",
            Some("\"256 bits\""),
            "256 bits",
            "variable `min_ecdsa_bits` is `256 bits`, not a number of bits",
        ),
        (
            "requiresSha2",
            Some("yes"),
            "yes",
            "`requiresSha2` of client `odd_1` cannot be imported: variable `requires_sha2` is `yes`, not true or false",
        ),
        (
            "lowest_protocol",
            Some("\"TLS1\""),
            "TLS1",
            "variable `lowest_version` is `TLS1`, not a TLS version",
        ),
        (
            "short",
            Some("\".\""),
            ".",
            "`short` of client `.` cannot be imported: `.` cannot name a file",
        ),
        (
            "short",
            Some("\"../x\""),
            "../x",
            "`../x` cannot name a file",
        ),
        ("short", Some("\"a/b\""), "a/b", "`a/b` cannot name a file"),
        (
            "short",
            Some("\".odd\""),
            ".odd",
            "`.odd` cannot name a file",
        ),
        (
            "short",
            None,
            "names+=",
            "`names` of client `` cannot be imported: it has no short name",
        ),
        (
            "handshakebytes",
            Some("\"16030100zz\""),
            "zz",
            "`handshakebytes` of client `odd_1` cannot be imported: not a hex digit",
        ),
        (
            "handshakebytes",
            Some("\"160301002\""),
            "160301002",
            "an odd number of hex digits",
        ),
        (
            "handshakebytes",
            Some("\"1603010000\""),
            "1603010000",
            "not a ClientHello record",
        ),
        (
            "current",
            Some("maybe"),
            "maybe",
            "`current` of client `odd_1` cannot be imported: `maybe` is not true or false",
        ),
    ];
    for (key, value, points_at, message) in bad {
        // A good client first: nothing is written for it either.
        let good = block_with(&[("short", Some("\"good_1\""))]);
        let odd = block_with(&[(key, *value)]);
        let text = format!("# written for this test\n\n{good}\n{odd}");
        let (line, column) = text
            .lines()
            .enumerate()
            .skip(good.lines().count() + 2)
            .find_map(|(i, l)| {
                l.find(points_at)
                    .map(|c| (i + 1, l[..c].chars().count() + 1))
            })
            .unwrap();
        let (import, dir) = import_into(&text);
        let err = stderr(&import);
        assert_eq!(import.status.code(), Some(2), "{key}={value:?}: {err}");
        let at = format!("client-simulation.txt:{line}:{column}: ");
        assert!(
            err.contains(&at) && err.contains(message),
            "{key}={value:?}: wanted `{at}...{message}` in\n{err}"
        );
        assert!(
            !dir.path().join("suite").exists(),
            "{key}={value:?}: the import wrote something"
        );
    }
}

#[test]
fn what_the_import_accepts_harness_check_accepts() {
    let text = [
        // A name TOML must escape (bash would read `\"` as `"`: testssl.sh's own file has no
        // escapes, and its reader takes what is between the quotes as it is); a version code IANA has no name for; a curve list with a
        // name IANA lacks (left out, with a note); `current` left out.
        block_with(&[
            ("names", Some(r#""It's a \ name""#)),
            ("lowest_protocol", Some("\"0x0305\"")),
            ("curves", Some("\"prime256v1:brainpoolP999r1\"")),
            ("requiresSha2", Some("true")),
            ("minDhBits", Some("2048")),
            ("current", None),
        ]),
        "\n".to_string(),
        // The odd spellings testssl.sh's format allows: single quotes, spaces inside the
        // parentheses, a short name with dots and dashes.
        block_with(&[
            ("short", Some(" 'odd.2-b' ")),
            ("lowest_protocol", Some("'0x0200'")),
            ("maxRsaBits", Some(" 4096 ")),
        ]),
    ]
    .concat();
    let (import, dir) = import_into(&text);
    let out = stdout(&import);
    assert_eq!(import.status.code(), Some(0), "{out}{}", stderr(&import));
    assert!(
        out.contains("curves IANA's registry does not name (brainpoolP999r1)"),
        "{out}"
    );
    assert!(out.contains("2 clients in"), "{out}");
    let suite = dir.path().join("suite");
    let check = harness(&["check", &suite.display().to_string()]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    let case = |file: &str| -> toml::Table {
        toml::from_str(&std::fs::read_to_string(suite.join("cases").join(file)).unwrap()).unwrap()
    };
    let odd = case("odd_1.toml");
    assert_eq!(odd["name"].as_str(), Some(r"It's a \ name"));
    let variables = odd["variables"].as_table().unwrap();
    for (variable, value) in [
        ("min_dh_bits", "2048"),
        ("requires_sha2", "true"),
        ("lowest_version", "0x0305"),
        ("current", "false"),
    ] {
        assert_eq!(variables[variable].as_str(), Some(value), "{odd}");
    }
    assert!(!variables.contains_key("curves"), "{odd}");
    let odd = case("odd.2-b.toml");
    let variables = odd["variables"].as_table().unwrap();
    assert_eq!(variables["lowest_version"].as_str(), Some("SSLv2"), "{odd}");
    assert_eq!(variables["max_rsa_bits"].as_str(), Some("4096"), "{odd}");
}
