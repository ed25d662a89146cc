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
