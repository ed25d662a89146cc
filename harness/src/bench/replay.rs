//! Replay throughput: the harness replaying suite cases in a loop against the in-process
//! reference server, beside a minimal raw tokio client and server exchanging the same bytes
//! with no harness logic (the loopback limit for that traffic).

use crate::case::Case;
use crate::direction::Direction;
use crate::render::bytes_of as bytes;
use crate::runner::{Settings, Target, drive};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Handshakes completed in a measured time.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    pub handshakes: u64,
    pub seconds: f64,
}

impl Throughput {
    pub fn per_second(&self) -> f64 {
        self.handshakes as f64 / self.seconds.max(1e-9)
    }
}

/// One case's exchange as raw bytes: each request with the reply bytes that followed it.
pub type Script = Vec<(Vec<u8>, Vec<u8>)>;

/// Runs `cases` in a loop from `concurrency` workers for `duration`; every case runs once
/// first, and those runs' transcripts become the raw baseline's scripts.
pub async fn harness_loop(
    addr: &str,
    cases: &[Arc<Case>],
    variables: &BTreeMap<String, String>,
    duration: Duration,
    concurrency: usize,
) -> (Throughput, Vec<Script>) {
    let settings = Settings::default();
    let target = Arc::new(Target::plain(addr));
    let mut scripts = Vec::new();
    for case in cases {
        let run = drive(&target, case, variables, &settings).await;
        let mut script: Script = Vec::new();
        for entry in &run.transcript.entries {
            match entry.direction {
                Direction::Client => script.push((bytes(&entry.data), Vec::new())),
                Direction::Server => {
                    if let Some(last) = script.last_mut() {
                        last.1.extend(bytes(&entry.data));
                    }
                }
            }
        }
        scripts.push(script);
    }
    let done = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (done, next, cases, variables, settings, target) = (
            done.clone(),
            next.clone(),
            cases.to_vec(),
            variables.clone(),
            settings.clone(),
            target.clone(),
        );
        workers.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize % cases.len();
                drive(&target, &cases[i], &variables, &settings).await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    let throughput = Throughput {
        handshakes: done.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
    };
    (throughput, scripts)
}

/// The same exchanges with no harness logic: one raw server per script answers each request
/// with its recorded reply; raw clients loop over the scripts.
pub async fn raw_loop(
    scripts: &[Script],
    duration: Duration,
    concurrency: usize,
) -> std::io::Result<Throughput> {
    let mut addrs = Vec::new();
    for script in scripts {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        addrs.push(listener.local_addr()?);
        let script = script.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let script = script.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    let mut buf = vec![0u8; 4096];
                    for (request, reply) in &script {
                        if stream
                            .read_exact(&mut buf[..request.len().min(4096)])
                            .await
                            .is_err()
                        {
                            return;
                        }
                        if !reply.is_empty() && stream.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                    let _ = stream.shutdown().await;
                });
            }
        });
    }
    let done = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let scripts = Arc::new(scripts.to_vec());
    let addrs = Arc::new(addrs);
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (done, next, scripts, addrs) =
            (done.clone(), next.clone(), scripts.clone(), addrs.clone());
        workers.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize % scripts.len();
                let Ok(mut stream) = TcpStream::connect(addrs[i]).await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                for (request, reply) in scripts[i].iter() {
                    if stream.write_all(request).await.is_err() {
                        break;
                    }
                    if !reply.is_empty()
                        && stream
                            .read_exact(&mut buf[..reply.len().min(8192)])
                            .await
                            .is_err()
                    {
                        break;
                    }
                }
                let _ = stream.shutdown().await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    Ok(Throughput {
        handshakes: done.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
    })
}
