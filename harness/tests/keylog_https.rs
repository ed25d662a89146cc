//! HTTPS captured live with tcpdump while curl (which honours SSLKEYLOGFILE) asks a real
//! nginx for responses that admit (200), warn (a Sunset header) and lock out (410, 426),
//! under TLS 1.3 (AES-GCM and ChaCha20-Poly1305, and after a HelloRetryRequest) and TLS 1.2 (AES-GCM, ChaCha20-Poly1305 and
//! AES-CBC with HMAC-SHA1, -SHA256 and -SHA384): `judge --dialect http --keylog` gives what
//! nginx's access log says it answered, `inspect --keylog` shows the requests and responses,
//! and without keys every session is undecided. Needs tcpdump (as root), curl, openssl and
//! nginx: skipped with a note without them, except on CI, where that is a failure.

mod common;

use common::live_tls::{Tcpdump, free_port, judged, missing_tool, skip};
use common::{harness, stderr, stdout};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// nginx, killed and waited for when dropped (its folder is the test's temporary one).
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nginx(dir: &Path, port: u16) -> Result<Nginx, String> {
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("openssl cannot run ({e})"))?;
    assert!(made.success());
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
         error_log stderr crit;\nevents {{ worker_connections 64; }}\n\
         http {{\n log_format ports '$remote_port $status';\n access_log {d}/access.log ports;\n\
         client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n fastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
         server {{\n  listen 127.0.0.1:{port} ssl;\n\
         ssl_certificate {d}/cert.pem;\n  ssl_certificate_key {d}/key.pem;\n\
         ssl_protocols TLSv1.2 TLSv1.3;\n  ssl_ecdh_curve X25519:prime256v1;\n\
         ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA384;\n\
         location /v1 {{ add_header Sunset \"Sat, 31 Dec 2027 23:59:59 GMT\" always; return 200 \"ok\\n\"; }}\n\
         location /v0 {{ return 410; }}\n  location /legacy {{ return 426; }}\n\
         location / {{ return 200 \"ok\\n\"; }}\n }}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let binary = ["/usr/sbin/nginx", "nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("nginx");
    let child = Command::new(binary)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-p")
        .arg(dir)
        .spawn()
        .map_err(|e| format!("nginx cannot run ({e})"))?;
    let server = Nginx(child);
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(server);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Err("nginx did not start".into())
}

/// curl with `tls` options for `path`, its keys appended to `keylog`: the status it got.
fn curl(port: u16, tls: &[&str], path: &str, keylog: &Path) -> String {
    let out = Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(tls)
        .arg(format!("https://127.0.0.1:{port}{path}"))
        .env("SSLKEYLOGFILE", keylog)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What each verdict means of a status nginx logged (and the Sunset it sent with /v1).
fn verdict_for(status: &str, path: &str) -> &'static str {
    match (status, path) {
        ("200", "/v1") => "warned",
        ("200", _) => "admitted",
        _ => "locked-out",
    }
}

#[test]
fn judge_with_curls_keys_gives_what_nginx_answered_under_tls_1_2_and_1_3() {
    if let Some(why) = missing_tool(&["curl", "openssl"]) {
        return skip(&why);
    }
    let dir = tempfile::tempdir().unwrap();
    let (keylog, pcap) = (dir.path().join("keys.log"), dir.path().join("https.pcap"));
    let port = free_port();
    let server = match nginx(dir.path(), port) {
        Ok(server) => server,
        Err(why) => return skip(&why),
    };
    let tcpdump = match Tcpdump::start(port, &pcap) {
        Ok(tcpdump) => tcpdump,
        Err(why) => return skip(&why),
    };
    let tls13 = ["--tlsv1.3"];
    let chacha13 = [
        "--tlsv1.3",
        "--tls13-ciphers",
        "TLS_CHACHA20_POLY1305_SHA256",
    ];
    let gcm12 = [
        "--tls-max",
        "1.2",
        "--ciphers",
        "ECDHE-RSA-AES128-GCM-SHA256",
    ];
    let chacha12 = [
        "--tls-max",
        "1.2",
        "--ciphers",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ];
    let cbc_sha1 = ["--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-SHA"];
    let cbc_sha256 = ["--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-SHA256"];
    let cbc_sha384 = ["--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES256-SHA384"];
    // A key share for X448, which the server does not take: it asks again
    // (HelloRetryRequest), and the client's second ClientHello keeps its random.
    let retried = ["--tlsv1.3", "--curves", "X448:P-256"];
    let requests: [(&[&str], &str); 9] = [
        (&tls13, "/"),
        (&chacha13, "/v0"),
        (&gcm12, "/v1"),
        (&chacha12, "/legacy"),
        (&cbc_sha1, "/"),
        (&cbc_sha256, "/v1"),
        (&cbc_sha384, "/v0"),
        (&tls13, "/legacy"),
        (&retried, "/v1"),
    ];
    let mut statuses = Vec::new();
    for (tls, path) in requests {
        statuses.push(curl(port, tls, path, &keylog));
    }
    assert_eq!(
        statuses,
        [
            "200", "410", "200", "426", "200", "200", "410", "426", "200"
        ]
    );
    tcpdump.stop_after("http", port, requests.len());
    drop(server);
    // nginx's access log: the client port and the status, in the order it answered.
    let access = std::fs::read_to_string(dir.path().join("access.log")).unwrap();
    let logged: Vec<(u16, String)> = access
        .lines()
        .map(|l| {
            let (port, status) = l.split_once(' ').unwrap();
            (port.parse().unwrap(), status.to_string())
        })
        .collect();
    assert_eq!(logged.len(), requests.len(), "{access}");

    let (pcap_arg, port_arg) = (pcap.display().to_string(), port.to_string());
    let keylog_arg = keylog.display().to_string();
    let base = [pcap_arg.as_str(), "--dialect", "http", "--port", &port_arg];
    let (code, results) = judged(&[&base[..], &["--keylog", &keylog_arg]].concat());
    assert_eq!(code, Some(0));
    assert_eq!(results.len(), requests.len());
    for ((client_port, status), (_, path)) in logged.iter().zip(requests) {
        let (_, result) = results
            .iter()
            .find(|(p, _)| p == client_port)
            .unwrap_or_else(|| panic!("no session from port {client_port}"));
        assert_eq!(
            result["verdict"],
            verdict_for(status, path),
            "{path}: {result}"
        );
        let decided_by = result["decided_by"].as_str().unwrap();
        assert!(
            decided_by.starts_with(&format!("HTTP/1.1 {status}")),
            "{decided_by}"
        );
        if path == "/v1" {
            assert!(
                decided_by.contains("Sunset: Sat, 31 Dec 2027"),
                "{decided_by}"
            );
        }
    }

    // A key log short of TLS 1.3's server application secrets: the TLS 1.3 sessions are
    // undecided, saying which secret is missing; the TLS 1.2 ones are judged as before.
    let short: String = std::fs::read_to_string(&keylog)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("SERVER_TRAFFIC_SECRET_0"))
        .map(|l| format!("{l}\n"))
        .collect();
    let short_log = dir.path().join("short-keys.log");
    std::fs::write(&short_log, short).unwrap();
    let (code, results) =
        judged(&[&base[..], &["--keylog", &short_log.display().to_string()]].concat());
    assert_eq!(code, Some(0));
    let undecided: Vec<_> = results
        .iter()
        .filter(|(_, r)| r["verdict"] == "undecided")
        .map(|(_, r)| r["reason"].as_str().unwrap().to_string())
        .collect();
    // Four sessions spoke TLS 1.3 (one after a HelloRetryRequest).
    assert_eq!(undecided.len(), 4, "{undecided:?}");
    for reason in undecided {
        assert_eq!(
            reason,
            "the key log short-keys.log has no SERVER_TRAFFIC_SECRET_0 for this session"
        );
    }

    // Without keys: undecided, every one.
    let (code, results) = judged(&base);
    assert_eq!(code, Some(0));
    assert_eq!(results.len(), requests.len());
    for (_, result) in &results {
        assert_eq!(result["verdict"], "undecided", "{result}");
        assert_eq!(
            result["reason"],
            "encrypted from the first byte; --keylog FILE decrypts it"
        );
    }

    // inspect shows the decrypted exchange and how it was decrypted.
    let out = harness(&[&["inspect"], &base[..], &["--keylog", &keylog_arg]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = stdout(&out);
    for decrypted in [
        "TLS: decrypted TLSv1.3 TLS_CHACHA20_POLY1305_SHA256, keys from keys.log",
        "TLS: decrypted TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, keys from keys.log",
        "TLS: decrypted TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, keys from keys.log",
        "C→S GET /legacy HTTP/1.1",
        "S→C HTTP/1.1 410 Gone",
    ] {
        assert!(shown.contains(decrypted), "{decrypted} not in\n{shown}");
    }
    let out = harness(&[&["inspect"], &base[..]].concat());
    assert!(stdout(&out).contains("TLS: encrypted from the first byte; --keylog FILE decrypts it"));
}
