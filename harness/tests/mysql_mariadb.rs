//! The harness's own MySQL client against a real MariaDB (Debian's mariadb-server, started
//! here on loopback with its own data directory): native and ed25519 accounts authenticated
//! with the suite's password, TLS through the SSLRequest upgrade, an account locked, a wrong
//! password, and `require_secure_transport` refusing a clear-text client.

use harness::case::parse_case;
use harness::dialect;
use harness::runner::{Settings, Target, drive};
use harness::verdict::{Verdict, VerdictKind};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Mariadb {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Mariadb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Mariadb {
    fn sql(&self, statements: &str) {
        let status = Command::new("mariadb")
            .args(["--no-defaults", "-uroot", "-S"])
            .arg(self.dir.path().join("sock"))
            .args(["-e", statements])
            .status()
            .expect("the mariadb client is installed (ci/install.sh)");
        assert!(status.success(), "{statements}");
    }
}

fn start() -> Mariadb {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let user = if rustix::process::geteuid().is_root() {
        "root"
    } else {
        ""
    };
    let mut install = Command::new("mariadb-install-db");
    install
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg("--auth-root-authentication-method=normal")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if !user.is_empty() {
        install.arg("--user=root");
    }
    assert!(
        install
            .status()
            .expect("mariadb-server is installed (ci/install.sh)")
            .success()
    );
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new("mariadbd");
    server
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", dir.path().join("sock").display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!(
            "--ssl-cert={}",
            dir.path().join("cert.pem").display()
        ))
        .arg(format!(
            "--ssl-key={}",
            dir.path().join("key.pem").display()
        ))
        .arg(format!("--pid-file={}", dir.path().join("pid").display()))
        .arg(format!(
            "--log-error={}",
            dir.path().join("err.log").display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if !user.is_empty() {
        server.arg("--user=root");
    }
    let child = server.spawn().unwrap();
    let mariadb = Mariadb { child, dir, port };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "mariadbd did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    mariadb.sql(
        "INSTALL SONAME 'auth_ed25519';
         DROP USER IF EXISTS ''@'localhost';
         CREATE USER nat@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('natpw');
         CREATE USER ed@'%' IDENTIFIED VIA ed25519 USING PASSWORD('edpw');
         CREATE USER retired@'%' IDENTIFIED BY 'x' ACCOUNT LOCK;",
    );
    mariadb
}

async fn run(port: u16, case: &str, settings: &str) -> Verdict {
    let mysql = dialect::by_name("mysql").unwrap();
    let case = parse_case(Path::new("case.toml"), case, &BTreeSet::new(), mysql).unwrap();
    let table: BTreeMap<String, toml::Value> = toml::from_str(settings).unwrap();
    let settings = Settings {
        dialect: mysql.settings(&table).unwrap(),
        ..Settings::default()
    };
    let target = Target::plain(format!("127.0.0.1:{port}"));
    drive(&target, &case, &BTreeMap::new(), &settings)
        .await
        .verdict
}

fn case(password: &str, steps: &[&str]) -> String {
    let mut text = format!(
        "[variables]\npassword = \"{password}\"\nclient_plugins = \"mysql_native_password,client_ed25519\"\n"
    );
    for step in steps {
        text.push_str(&format!("[[step]]\nsend = \"{step}\"\n"));
    }
    text
}

#[tokio::test]
async fn the_harness_authenticates_against_real_mariadb_and_judges_each_refusal() {
    let server = start();
    let port = server.port;
    let native = run(
        port,
        &case(
            "natpw",
            &["handshake user=nat plugin=mysql_native_password"],
        ),
        "",
    )
    .await;
    assert_eq!(native.kind, VerdictKind::Warned, "{native:?}");
    assert!(
        native
            .reason
            .ends_with("mysql_native_password is deprecated")
    );

    let ed = run(
        port,
        &case("edpw", &["handshake user=ed plugin=mysql_native_password"]),
        "",
    )
    .await;
    assert_eq!(
        (ed.kind, ed.decided_by.as_deref()),
        (VerdictKind::Admitted, Some("OK")),
        "{ed:?}"
    );

    let over_tls = run(
        port,
        &case("edpw", &["ssl", "handshake user=ed plugin=client_ed25519"]),
        "",
    )
    .await;
    assert_eq!(over_tls.kind, VerdictKind::Admitted, "{over_tls:?}");

    let wrong = run(
        port,
        &case("nope", &["handshake user=ed plugin=client_ed25519"]),
        "",
    )
    .await;
    assert_eq!(wrong.kind, VerdictKind::Error);
    assert!(
        wrong
            .reason
            .contains("wrong password: the server refused the suite's password")
    );

    let locked = run(
        port,
        &case(
            "x",
            &["handshake user=retired plugin=mysql_native_password"],
        ),
        "",
    )
    .await;
    assert_eq!(locked.kind, VerdictKind::LockedOut);
    assert!(locked.decided_by.unwrap().starts_with("ERR 4151"));

    server.sql("SET GLOBAL require_secure_transport = ON;");
    let clear = run(
        port,
        &case("edpw", &["handshake user=ed plugin=client_ed25519"]),
        "refused_in_clear = true",
    )
    .await;
    assert_eq!(clear.kind, VerdictKind::LockedOut, "{clear:?}");
    assert!(clear.decided_by.unwrap().starts_with("ERR 1045"));
    let still_in = run(
        port,
        &case("edpw", &["ssl", "handshake user=ed plugin=client_ed25519"]),
        "refused_in_clear = true",
    )
    .await;
    assert_eq!(still_in.kind, VerdictKind::Admitted, "{still_in:?}");
}
