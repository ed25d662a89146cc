//! A target's `max_connections` holds at the server, not only at the harness: a server like
//! dropbear counts a connection until the process serving it has exited, a moment after the
//! client closed it, and refuses connections past its limit. On a slow machine the harness
//! used to open the next case while the last one's server side was still winding down, and
//! the server refused it: an `error` for a client that was admitted.

use harness::case::parse_case;
use harness::dialect;
use harness::runner::{Job, Settings, Target, run_all};
use harness::verdict::VerdictKind;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

const LIMIT: usize = 3;
/// How long the server's side of a connection lives on after the client has closed it.
const WIND_DOWN: Duration = Duration::from_millis(60);

/// Answers each HTTP request with 200 and counts each connection until its own side has
/// closed; past `LIMIT` it closes a new connection at once, as dropbear does past
/// MAX_UNAUTH_PER_IP.
async fn limited_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let live = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let counted = live.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            if counted.fetch_add(1, Ordering::SeqCst) >= LIMIT {
                counted.fetch_sub(1, Ordering::SeqCst);
                refused.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                    .await;
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
                tokio::time::sleep(WIND_DOWN).await;
                drop(socket);
                counted.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (addr, live)
}

#[tokio::test]
async fn a_limited_target_never_has_more_connections_open_at_the_server_than_it_allows() {
    let (addr, _) = limited_server().await;
    let case = Arc::new(
        parse_case(
            Path::new("get.toml"),
            "[[step]]\nsend = \"GET / HTTP/1.1\\r\\nHost: {host}\\r\\n\\r\\n\"\n",
            &BTreeSet::new(),
            dialect::by_name("http").unwrap(),
        )
        .unwrap(),
    );
    let mut target = Target::plain(addr);
    target.connections = Some(Arc::new(Semaphore::new(LIMIT)));
    let target = Arc::new(target);
    let jobs = (0..40)
        .map(|_| Job {
            case: case.clone(),
            target: target.clone(),
            variables: Arc::new(BTreeMap::new()),
        })
        .collect();
    let settings = Settings {
        step_timeout: Duration::from_secs(2),
        ..Settings::default()
    };
    let mut verdicts = Vec::new();
    run_all(jobs, 32, &settings, &mut |_, run| {
        verdicts.push((run.verdict.kind, run.verdict.reason))
    })
    .await;
    assert_eq!(verdicts.len(), 40);
    let not_admitted: Vec<_> = verdicts
        .iter()
        .filter(|(kind, _)| *kind != VerdictKind::Admitted)
        .collect();
    assert!(not_admitted.is_empty(), "{not_admitted:?}");
}
