//! The TLS dialect against real servers: the tls-cutoff suite against openssl s_server under
//! three policies, and real clients connecting to the same servers get the verdicts the harness
//! gives their recorded ClientHellos.

mod common;

use common::*;
use std::process::{Command, Stdio};
use std::time::Duration;

fn suite_dir() -> std::path::PathBuf {
    repo_root().join("suites/tls-cutoff")
}

#[test]
fn tls_cutoff_suite_has_every_verdict_and_matches_its_expectations() {
    let out = harness(&["run", &suite_dir().display().to_string()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    for verdict in ["✓ admitted", "✓ warned", "✓ locked-out"] {
        assert!(text.contains(verdict), "no {verdict} in\n{text}");
    }
    assert!(
        text.contains("ServerHello TLSv1 TLS_"),
        "a TLS 1.0 handshake was admitted by the legacy server"
    );
    assert!(text.contains("Alert fatal protocol_version"));
}

/// The acceptance of reading past the ServerHello: against openssl s_server on a 1024-bit DH
/// group, the clients whose declared constraints forbid it are locked out by the
/// ServerKeyExchange, naming the constraint, and the others are admitted, warned of the weak
/// group.
#[test]
fn a_1024_bit_dh_group_locks_out_exactly_the_clients_that_refuse_it() {
    let out = harness(&[
        "run",
        &suite_dir().display().to_string(),
        "--format",
        "json",
    ]);
    let (results, _) = json_lines(&stdout(&out));
    let on_dh1024 = |case: &str| {
        results
            .iter()
            .find(|r| r["case"] == case && r["target"] == "openssl-dh1024")
            .unwrap_or_else(|| panic!("no {case} on openssl-dh1024"))
            .clone()
    };
    for refuses in [
        "tls12-dhe-hardened",
        "curl",
        "python-ssl",
        "openssl-s_client-tls1.2",
    ] {
        let r = on_dh1024(refuses);
        assert_eq!(r["verdict"], "locked-out", "{r}");
        assert_eq!(r["stage"], "ServerKeyExchange", "{r}");
        assert_eq!(
            r["reason"], "the server's DH group has 1024 bits, under the client's minimum of 2048",
            "{r}"
        );
    }
    for accepts in [
        "java7-dhe",
        "java",
        "node",
        "gnutls-cli",
        "openssl-s_client-tls1.0",
    ] {
        let r = on_dh1024(accepts);
        assert_eq!(r["verdict"], "warned", "{r}");
        assert!(
            r["reason"]
                .as_str()
                .unwrap()
                .contains("the DH group has 1024 bits, under 2048"),
            "{r}"
        );
    }
    // Java 7 cannot use the 2048-bit group the legacy server moved to.
    let legacy = results
        .iter()
        .find(|r| r["case"] == "java7-dhe" && r["target"] == "openssl-legacy")
        .unwrap();
    assert_eq!(
        legacy["reason"],
        "the server's DH group has 2048 bits, over the client's maximum of 1024"
    );
}

/// An openssl s_server under `policy` on a free port, killed when dropped.
struct Server(std::process::Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server(policy: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // `nginx`: the strict nginx server; anything else: an openssl s_server policy.
    let args = match policy {
        "nginx" => vec![
            suite_dir().join("servers/nginx.sh").display().to_string(),
            port.to_string(),
        ],
        _ => vec![
            suite_dir().join("servers/openssl.sh").display().to_string(),
            policy.to_string(),
            port.to_string(),
        ],
    };
    let child = Command::new("bash").args(args).spawn().unwrap();
    let server = Server(child, port);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("openssl s_server {policy} did not start"); // dropping `server` kills and reaps it
}

/// Whether the real client completes a handshake with the server.
fn real_client_admitted(client: &str, port: u16) -> bool {
    let addr = format!("127.0.0.1:{port}");
    let s_client = |version: &[&str]| {
        Command::new("openssl")
            .args(["s_client", "-connect", &addr, "-servername", "localhost"])
            .args(version)
            .stdin(Stdio::null())
            .output()
    };
    let status = match client {
        "openssl-s_client-tls1.0" => s_client(&["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"]),
        "openssl-s_client-tls1.2" => s_client(&["-tls1_2"]),
        "curl" => Command::new("curl")
            .args([
                "-sk",
                "-o",
                "/dev/null",
                "--connect-to",
                &format!("localhost:{port}:{addr}"),
                &format!("https://localhost:{port}/"),
            ])
            .output(),
        "python-ssl" => Command::new("python3")
            .args(["-c", &format!("import socket, ssl\nctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE\nctx.wrap_socket(socket.create_connection(('127.0.0.1', {port})), server_hostname='localhost').close()")])
            .output(),
        other => panic!("no real client {other}"),
    }
    .unwrap();
    status.status.success()
}

#[test]
fn real_clients_get_the_verdicts_their_recordings_get() {
    let suite = harness::suite::load_suite(&suite_dir()).unwrap();
    let servers = [
        ("legacy", "openssl-legacy"),
        ("modern", "openssl-modern"),
        ("tls13", "openssl-tls13"),
        ("dh1024", "openssl-dh1024"),
        ("nginx", "nginx-strict"),
    ];
    for (policy, target) in servers {
        let server = server(policy);
        for client in [
            "openssl-s_client-tls1.0",
            "openssl-s_client-tls1.2",
            "curl",
            "python-ssl",
        ] {
            let expected = suite.expected(client, target).unwrap();
            let harness_admits = matches!(
                expected,
                harness::verdict::VerdictKind::Admitted | harness::verdict::VerdictKind::Warned
            );
            assert_eq!(
                real_client_admitted(client, server.1),
                harness_admits,
                "{client} against {target}: the harness says {expected}"
            );
        }
    }
}

#[test]
fn a_server_that_is_not_tls_is_an_error_not_a_lockout() {
    // A plain-text HTTP server on the TLS port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        }
    });
    let out = harness(&[
        "run",
        &suite_dir().display().to_string(),
        "--target",
        &addr,
        "--case",
        "tls13-browser",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(harness::exit::RUNTIME));
    let (results, _) = json_lines(&stdout(&out));
    assert_eq!(results[0]["verdict"], "error");
    assert!(
        results[0]["reason"]
            .as_str()
            .unwrap()
            .contains("not a TLS record"),
        "{}",
        results[0]
    );
}

/// A client the suite has never seen: recorded through the proxy, its pcapng imported with
/// `harness import --dialect tls`, and the imported case replayed against the modern server.
#[test]
fn a_new_clients_hello_imports_and_replays_with_no_code_change() {
    let upstream = server("legacy");
    let out = tempfile::tempdir().unwrap();
    let recorded = out.path().join("recorded");
    let mut recorder = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "record",
            "--dialect",
            "tls",
            "--listen",
            "127.0.0.1:0",
            "--sessions",
            "1",
        ])
        .args([
            "--upstream",
            &format!("127.0.0.1:{}", upstream.1),
            "--out",
            &recorded.display().to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(recorder.stdout.take().unwrap()),
        &mut banner,
    )
    .unwrap();
    let proxy = banner.split_whitespace().nth(2).unwrap().to_string();
    let client = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &proxy,
            "-servername",
            "localhost",
            "-tls1_2",
            "-cipher",
            "ECDHE-RSA-AES128-SHA",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        client.status.success(),
        "{}",
        String::from_utf8_lossy(&client.stderr)
    );
    assert!(recorder.wait().unwrap().success());

    let pcapng = std::fs::read_dir(&recorded)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().unwrap() == "pcapng")
        .unwrap();
    let cases = out.path().join("cases");
    let import = harness(&[
        "import",
        &pcapng.display().to_string(),
        "--dialect",
        "tls",
        "--port",
        &upstream.1.to_string(),
        "--out",
        &cases.display().to_string(),
    ]);
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));

    let suite = out.path().join("suite.toml");
    std::fs::write(
        &suite,
        format!(
            "name = \"new-client\"\ndialect = \"tls\"\ncases = \"{}\"\n[variables]\nhost = \"localhost\"\n[[target]]\nname = \"openssl-modern\"\ncommand = [\"bash\", \"{}\", \"modern\", \"{{port}}\"]\n",
            cases.display(),
            suite_dir().join("servers/openssl.sh").display()
        ),
    )
    .unwrap();
    let run = harness(&["run", &suite.display().to_string(), "--format", "json"]);
    let (results, _) = json_lines(&stdout(&run));
    assert_eq!(results.len(), 1, "{}", stderr(&run));
    assert_eq!(results[0]["verdict"], "warned", "{}", results[0]);
    assert_eq!(
        results[0]["decided_by"],
        "ServerHello TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
    );
}

/// A client whose only suites were outside the dialect's old 32-name table: against a real
/// server that picks one, it is warned by the suite's own policy, the suite named as IANA
/// names it (#5: such clients were admitted, the suite shown as `0x006B`).
#[test]
fn a_suite_outside_the_old_name_table_is_warned_by_a_real_server() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    std::fs::write(
        dir.path().join("cases/dhe-cbc.toml"),
        "name = \"DHE with CBC only\"\n[[step]]\nsend = \"hello versions=TLSv1.2 ciphers=TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA sni={host}\"\n",
    )
    .unwrap();
    let suite = dir.path().join("suite.toml");
    std::fs::write(
        &suite,
        format!(
            "name = \"dhe\"\ndialect = \"tls\"\ncases = \"cases\"\n[variables]\nhost = \"localhost\"\n[dialect_settings]\ndeprecated_ciphers = [\"_CBC_\"]\n[[target]]\nname = \"openssl-legacy\"\ncommand = [\"bash\", \"{}\", \"legacy\", \"{{port}}\"]\n",
            suite_dir().join("servers/openssl.sh").display()
        ),
    )
    .unwrap();
    let run = harness(&["run", &suite.display().to_string(), "--format", "json"]);
    let (results, _) = json_lines(&stdout(&run));
    assert_eq!(results.len(), 1, "{}", stderr(&run));
    assert_eq!(results[0]["verdict"], "warned", "{}", results[0]);
    assert_eq!(
        results[0]["reason"],
        "negotiated TLSv1.2 with TLS_DHE_RSA_WITH_AES_256_CBC_SHA256, RSA 2048-bit certificate (sha256WithRSAEncryption, chain of 1), DHE 2048-bit group, signed rsa_pss_rsae_sha256: TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 is deprecated (_CBC_)"
    );
}

/// A client constraint the harness cannot read is a load error at its line, before anything
/// runs, not a failed run against every target.
#[test]
fn a_constraint_with_a_bad_value_is_a_load_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cases")).unwrap();
    std::fs::write(
        dir.path().join("cases/strict.toml"),
        "name = \"strict\"\n[[step]]\nsend = \"hello ciphers=TLS_AES_128_GCM_SHA256\"\n[variables]\nmin_dh_bits = \"lots\"\ncurves = \"secp256r1:nosuchcurve\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("suite.toml"),
        "name = \"strict\"\ndialect = \"tls\"\ncases = \"cases\"\n",
    )
    .unwrap();
    let out = harness(&["check", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("variable `curves` names unknown curve `nosuchcurve`")
            || text.contains("variable `min_dh_bits` is `lots`, not a number of bits"),
        "{text}"
    );
    assert!(text.contains("strict.toml:"), "{text}");
}
