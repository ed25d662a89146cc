//! `harness judge`: every recorded session of a capture judged by the server's own recorded
//! replies, each sent on as a result as its connection ends (in connection order, within a
//! window), with impact counted from the traffic itself; memory stays bounded.

use super::{Failure, reports};
use crate::capture::file::Partly;
use crate::capture::{self, CaptureFile};
use crate::cli::{JudgeArgs, ReportArgs};
use crate::decrypt::{self, KeyLog};
use crate::dialect::{self, Dialect};
use crate::judge::{self, InOrder, Read, TrafficTally};
use crate::report::held_back::{Gate, PLACEHOLDER};
use crate::report::{Header, Outcome, Reporter, RunContext, RunInfo};
use std::path::{Path, PathBuf};

pub fn judge(args: &JudgeArgs) -> Result<i32, Failure> {
    let context = crate::report::RunContext::now();
    let settings = match &args.suite {
        Some(path) => {
            Some(crate::suite::load_suite(path).map_err(|e| Failure::Usage(e.to_string()))?)
        }
        None => None,
    };
    let settings_for = |d: &dyn Dialect| match &settings {
        Some(suite) if suite.dialect.name() == d.name() => suite.dialect_settings.clone(),
        _ => dialect::Settings::none(),
    };
    let keylog = super::keylog(args.keylog.as_deref())?;
    let title = format!("judge {}", args.path.display());
    let mut judged = Sessions::new(&args.reports, title, context, keylog.as_ref());
    let mut damage = None;
    if is_capture_case(&args.path) {
        // A dialect file given is registered first, so the captures that name it find it.
        if let Some(name) = &args.dialect {
            super::dialect(name)?;
        }
        // Capture cases name no one source to wait for.
        judged.gate.open("");
        let mut captures = Vec::new();
        for file in case_files(&args.path)? {
            captures.push((read_case(&file)?, file));
        }
        // In the order the connections began, as a pcap's sessions are.
        captures
            .sort_by(|(a, _), (b, _)| a.capture.first_timestamp.cmp(&b.capture.first_timestamp));
        for (id, (capture, file)) in captures.into_iter().enumerate() {
            let dialect = dialect::by_name(&capture.capture.dialect).ok_or_else(|| {
                Failure::Usage(format!(
                    "{}: {}",
                    file.display(),
                    dialect::unknown(&capture.capture.dialect)
                ))
            })?;
            let whole = Partly {
                case: capture,
                rest: None,
                last_at_ms: None,
            };
            judged.add(id as u64, dialect, whole, &settings_for(dialect));
        }
    } else {
        let Some(name) = &args.dialect else {
            return Err(Failure::Usage(format!(
                "judge {}: give --dialect NAME for a pcap (known: {})",
                args.path.display(),
                dialect::names().join(", ")
            )));
        };
        let dialect = super::dialect(name)?;
        let settings = settings_for(dialect);
        judged.pcap = true;
        let mut sessions = super::import::Sessions::default();
        // The capture's BLAKE3, which the reports' header names, is computed beside the
        // judging rather than before it: until it is known, the results are held back.
        let (report, blake3) = capture::import_hashing_alongside(
            &args.path,
            args.port,
            dialect,
            |id, session, hash| {
                sessions.count(id, &session.case, dialect);
                if let Some(blake3) = hash.ready() {
                    judged.gate.open(blake3);
                }
                judged.add(id, dialect, session, &settings);
                Ok(())
            },
        )
        .map_err(|e| match e {
            capture::ImportError::Open { .. } => Failure::Usage(e.to_string()),
            e => Failure::Runtime(e.to_string()),
        })?;
        judged.hashed(&blake3);
        // What was read before any damage is judged and reported; the damage is then named
        // and the exit code is 2, as import's is.
        damage = match (&report.error, report.nothing_decoded()) {
            (Some(error), _) => Some(format!(
                "{}: {error}; the sessions before it are judged",
                args.path.display()
            )),
            (None, Some(why)) => Some(format!("{}: {why}", args.path.display())),
            (None, None) => report
                .nothing_on_port(
                    dialect.name(),
                    args.port.unwrap_or_else(|| dialect.default_port()),
                    sessions.handshakes(),
                    sessions.seen,
                )
                .map(|why| format!("{}: {why}", args.path.display())),
        };
    }
    let outcome = judged.finish();
    reports::failures(&outcome)?;
    if let Some(damage) = damage {
        return Err(Failure::Usage(damage));
    }
    Ok(outcome.exit_code)
}

/// Sessions judged as the importer hands them over. JSON Lines reports get every session's
/// result as it comes, put back in the order connections began (within a bounded window);
/// the table, JUnit, Markdown and HTML get a row per client and verdict at the end (one
/// session's result standing for the others), so that nothing grows with the sessions but
/// the JSON written out.
struct Sessions<'a> {
    /// Every session: the JSON Lines reports (when asked for).
    streaming: Reporter<'a>,
    streams: bool,
    /// A row per client and verdict: the table, JUnit, Markdown and HTML (when asked for).
    by_client: Reporter<'a>,
    rows: bool,
    /// The run's header, sent before the first result: it names the capture's BLAKE3, known
    /// once the first session arrives.
    header: Option<Header>,
    started: Option<Header>,
    order: InOrder<judge::Judged>,
    tally: TrafficTally,
    /// Results sent so far; each is numbered by its place.
    sent: usize,
    /// The header names the pcap's BLAKE3 (a folder of cases has no one source).
    pcap: bool,
    /// Opens when the pcap's BLAKE3 is known: the streaming reports wait for it.
    gate: Gate,
    /// Sessions judged so far.
    added: u64,
    /// Decrypts the TLS sessions inside connections, when given.
    keylog: Option<&'a KeyLog>,
}

impl<'a> Sessions<'a> {
    fn new(
        reports: &'a ReportArgs,
        title: String,
        context: RunContext,
        keylog: Option<&'a KeyLog>,
    ) -> Sessions<'a> {
        // Judged results are not a suite's run: the header says what was judged, and merge
        // takes judged files only with each other. The number of sessions is not known until
        // the end.
        let info = RunInfo::judged(&title);
        let (mut streaming, mut by_client) = (Reporter::new(), Reporter::new());
        let gate = Gate::default();
        let (streams, rows) =
            reports::add_judged_sinks(&mut streaming, &mut by_client, reports, &gate);
        Sessions {
            streaming,
            streams,
            by_client,
            rows,
            header: Some(Header {
                suite: title,
                info: Some(info),
                context,
                expected_results: None,
            }),
            started: None,
            order: InOrder::new(judge::order::WINDOW),
            tally: match rows {
                true => TrafficTally::with_examples(),
                false => TrafficTally::default(),
            },
            sent: 0,
            pcap: false,
            gate,
            added: 0,
            keylog,
        }
    }

    /// Judges connection `id` (numbered by when it began), from its first messages where they
    /// decide it, else from the whole of it.
    fn add(
        &mut self,
        id: u64,
        dialect: &'static dyn Dialect,
        session: Partly<'_>,
        settings: &dialect::Settings,
    ) {
        self.added += 1;
        let Partly {
            case: mut capture,
            mut rest,
            last_at_ms,
        } = session;
        // A key log decrypts the TLS session to its end: it reads the whole connection.
        if self.keylog.is_some()
            && let Some(mut rest) = rest.take()
        {
            rest.finish(&mut capture.messages);
        }
        let mut capture = decrypt::read_through(dialect, capture, settings, self.keylog);
        capture.identify_in(dialect, settings);
        self.start();
        let read = Read {
            whole: rest.is_none(),
            last_at_ms,
        };
        let judged = judge::judge_read(dialect, id as usize, &capture, settings, read);
        let session = match (judged, rest) {
            (Some(session), _) => session,
            (None, rest) => {
                if let Some(mut rest) = rest {
                    rest.finish(&mut capture.messages);
                    // Read through again: where its TLS session starts may lie in the rest.
                    capture.capture.tls = None;
                    capture = decrypt::read_through(dialect, capture, settings, self.keylog);
                }
                let whole = Read {
                    whole: true,
                    last_at_ms,
                };
                judge::judge_read(dialect, id as usize, &capture, settings, whole)
                    .expect("a whole recording needs nothing more")
            }
        };
        self.tally.add(
            session.key.clone(),
            || crate::clients::ClientKey::traits_of(dialect, &capture),
            session.account.as_deref(),
            &session.started,
            &session.result,
        );
        if !self.streams {
            return;
        }
        let (reporter, sent) = (&mut self.streaming, &mut self.sent);
        self.order
            .push(id, session, &mut |session| send(reporter, sent, session));
    }

    /// The streaming reports' header, sent with the first session (a capture that cannot be
    /// read at all leaves no empty report files).
    fn start(&mut self) {
        if let Some(mut header) = self.header.take() {
            // A pcap's BLAKE3, or what stands for it until it is known (a pcap with no
            // session names none).
            if let Some(info) = header.info.as_mut()
                && self.pcap
                && self.added > 0
            {
                info.capture_blake3 = self.gate.value().unwrap_or(PLACEHOLDER).to_string();
            }
            self.streaming.start(&header);
            self.started = Some(header);
        }
    }

    /// The pcap's BLAKE3 is known: the held-back results go out, and the reports started
    /// later name it too.
    fn hashed(&mut self, blake3: &str) {
        self.gate.open(blake3);
        if let Some(info) = self.started.as_mut().and_then(|h| h.info.as_mut())
            && self.added > 0
        {
            info.capture_blake3 = blake3.to_string();
        }
    }

    fn finish(mut self) -> Outcome {
        self.start();
        let (reporter, sent) = (&mut self.streaming, &mut self.sent);
        self.order
            .finish(&mut |session| send(reporter, sent, session));
        let lines = self.tally.lines();
        self.streaming.traffic(lines.clone());
        let streamed = self.streaming.finish();
        if let Some(header) = &self.started {
            self.by_client.start(header);
        }
        for example in self.tally.examples() {
            self.by_client.case(example);
        }
        if self.tally.examples_dropped > 0 {
            eprintln!(
                "{} clients' verdicts have no row of their own (too many clients): the traffic impact counts them",
                self.tally.examples_dropped
            );
        }
        self.by_client.traffic(lines);
        let rows = self.by_client.finish();
        match (self.streams, self.rows) {
            (true, false) => streamed,
            (false, _) => rows,
            (true, true) => Outcome {
                exit_code: streamed.exit_code.max(rows.exit_code),
                snapshots_failed: false,
                failures: [streamed.failures, rows.failures].concat(),
            },
        }
    }
}

/// A session's result, numbered by its place among the results from #1 (`#3 CLIENT`), as
/// import names sessions ([`capture::SessionNumber`]).
fn send(reporter: &mut Reporter<'_>, sent: &mut usize, session: judge::Judged) {
    *sent += 1;
    let mut result = session.result;
    result.case_index = *sent;
    result.case = format!("#{sent} {}", result.case);
    reporter.case(result);
}

/// A folder or a `.toml` file holds capture cases; anything else is a pcap.
fn is_capture_case(path: &Path) -> bool {
    path.is_dir() || path.extension().is_some_and(|e| e == "toml")
}

fn case_files(path: &Path) -> Result<Vec<PathBuf>, Failure> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| Failure::Usage(format!("cannot list {}: {e}", path.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn read_case(path: &Path) -> Result<CaptureFile, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text)
        .map_err(|e| Failure::Usage(crate::source::from_toml(path, &text, &e).to_string()))
}
