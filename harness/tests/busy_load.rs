//! Load mode against real servers at their limits: nginx's `limit_req` answering 429 and
//! PostgreSQL at `max_connections` answering 53300 turn handshakes away for load, and the
//! figures count them as busy, never as lockouts.

mod common;

use common::*;
use std::path::Path;

/// `verdicts: A admitted, W warned, L locked out, E errors (B busy)` of load mode's block.
fn load_counts(text: &str) -> [usize; 5] {
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("verdicts: "))
        .unwrap_or_else(|| panic!("no verdict line in {text}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .map(|n| n.parse().unwrap())
        .collect();
    [numbers[0], numbers[1], numbers[2], numbers[3], numbers[4]]
}

fn suite_with(dir: &Path, dialect: &str, case_from: &str, command: &str) {
    std::fs::create_dir(dir.join("cases")).unwrap();
    let case = repo_root().join(case_from);
    std::fs::copy(&case, dir.join("cases").join(case.file_name().unwrap())).unwrap();
    std::fs::write(
        dir.join("suite.toml"),
        format!(
            "name = \"busy\"\ndialect = \"{dialect}\"\ncases = \"cases\"\n[variables]\nuser = \"harness\"\ndatabase = \"harness\"\n[[target]]\nname = \"limited\"\ncommand = {command}\n"
        ),
    )
    .unwrap();
}

#[test]
fn nginx_rate_limiting_is_busy_not_a_lockout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nginx.sh"),
        r#"set -euo pipefail
work=$(mktemp -d)
echo ok > "$work/ok.txt"
cat > "$work/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx.pid;
error_log stderr crit;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    limit_req_zone \$binary_remote_addr zone=one:1m rate=2r/s;
    server {
        listen 127.0.0.1:$1;
        # `return` would answer before limit_req's phase; a file is served after it.
        root $work;
        location / { limit_req zone=one; limit_req_status 429; try_files /ok.txt =404; }
    }
}
CONF
exec "$(command -v nginx || echo /usr/sbin/nginx)" -c "$work/nginx.conf" -p "$work"
"#,
    )
    .unwrap();
    suite_with(
        dir.path(),
        "http",
        "suites/http-sunset/cases/anonymous-client.toml",
        "[\"bash\", \"nginx.sh\", \"{port}\"]",
    );
    let out = harness(&[
        "run",
        dir.path().to_str().unwrap(),
        "--repeat",
        "40",
        "--concurrency",
        "8",
    ]);
    let text = stdout(&out);
    let [admitted, _, locked_out, errors, busy] = load_counts(&text);
    assert_eq!(locked_out, 0, "{text}{}", stderr(&out));
    assert!(busy > 0 && busy == errors, "{text}");
    assert!(admitted > 0, "{text}");
    assert!(text.contains("turned"), "the busy line says why: {text}");
}

#[test]
fn postgres_at_max_connections_is_busy_not_a_lockout() {
    let dir = tempfile::tempdir().unwrap();
    let script = repo_root().join("suites/postgres-upgrade/servers/postgres.sh");
    suite_with(
        dir.path(),
        "postgres",
        "suites/postgres-upgrade/cases/md5-only-driver.toml",
        &format!(
            "[\"bash\", \"{}\", \"permissive\", \"{{port}}\"]",
            script.display()
        ),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", dir.path().to_str().unwrap(), "--repeat", "60"])
        .args(["--concurrency", "20"])
        .env("HARNESS_PG_MAX_CONNECTIONS", "2")
        .output()
        .unwrap();
    let text = stdout(&out);
    let [admitted, warned, locked_out, errors, busy] = load_counts(&text);
    assert_eq!(locked_out, 0, "{text}{}", stderr(&out));
    assert!(admitted + warned > 0, "{text}");
    assert!(busy > 0 && busy == errors, "{text}");
}
