//! Load mode's figures, a sink of the result stream: per target, the handshakes per second
//! achieved, the verdict counts and per-stage latency percentiles, as SIPp gives for calls.
//! Only each handshake's verdict and latencies are kept, and only until its target is done.

use super::{CaseResult, Event, Sink};
use crate::verdict::VerdictKind;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

/// What the load asked for, to read the figures against.
pub struct LoadParameters {
    pub repeat: u64,
    pub rate: Option<f64>,
    pub concurrency: usize,
    pub duration: Option<Duration>,
}

struct Sample {
    kind: VerdictKind,
    busy: bool,
    total_ms: f64,
    /// Stage (as the dialect names it) → time from request to its reply.
    stages: Vec<(String, f64)>,
}

pub struct LoadFigures<'a> {
    out: Box<dyn Write + 'a>,
    load: LoadParameters,
    samples: Vec<Sample>,
}

impl<'a> LoadFigures<'a> {
    pub fn new(out: Box<dyn Write + 'a>, load: LoadParameters) -> LoadFigures<'a> {
        LoadFigures {
            out,
            load,
            samples: Vec::new(),
        }
    }

    fn sample(result: &CaseResult) -> Sample {
        Sample {
            kind: result.verdict.kind,
            busy: result.verdict.is_busy(),
            total_ms: result.duration.as_secs_f64() * 1e3,
            stages: result
                .exchanges
                .iter()
                .map(|e| (e.stage.clone(), e.latency.as_secs_f64() * 1e3))
                .collect(),
        }
    }

    fn write(&mut self, target: &str, seconds: f64) -> io::Result<()> {
        let (out, load, samples) = (&mut self.out, &self.load, &self.samples);
        let rate = load
            .rate
            .map_or_else(|| "unpaced".to_string(), |r| format!("rate {r}/s"));
        writeln!(
            out,
            "load against {target}: {} handshakes in {seconds:.2}s = {:.1}/s ({rate}, at most {} at once)",
            samples.len(),
            samples.len() as f64 / seconds.max(1e-9),
            load.concurrency
        )?;
        if (samples.len() as u64) < load.repeat
            && let Some(duration) = load.duration
        {
            writeln!(
                out,
                "  stopped at --duration {duration:?}: {} of {} handshakes started",
                samples.len(),
                load.repeat
            )?;
        }
        let count = |k: VerdictKind| samples.iter().filter(|s| s.kind == k).count();
        let busy = samples.iter().filter(|s| s.busy).count();
        writeln!(
            out,
            "  verdicts: {} admitted, {} warned, {} locked out, {} errors ({busy} busy)",
            count(VerdictKind::Admitted),
            count(VerdictKind::Warned),
            count(VerdictKind::LockedOut),
            count(VerdictKind::Error)
        )?;
        if busy > 0 {
            writeln!(
                out,
                "  busy: the server turned {busy} handshakes away for load (too many connections, rate limits), not by policy; lower --concurrency or --rate, or raise the server's limit"
            )?;
        }
        let mut by_stage: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for s in samples {
            for (stage, ms) in &s.stages {
                by_stage.entry(stage.clone()).or_default().push(*ms);
            }
            by_stage
                .entry("(whole handshake)".to_string())
                .or_default()
                .push(s.total_ms);
        }
        writeln!(
            out,
            "  {:<18} {:>8} {:>9} {:>9} {:>9}",
            "stage", "count", "p50 ms", "p90 ms", "p99 ms"
        )?;
        for (stage, mut values) in by_stage {
            values.sort_by(f64::total_cmp);
            writeln!(
                out,
                "  {:<18} {:>8} {:>9.3} {:>9.3} {:>9.3}",
                stage,
                values.len(),
                percentile(&values, 0.5),
                percentile(&values, 0.9),
                percentile(&values, 0.99)
            )?;
        }
        out.flush()
    }
}

impl Sink for LoadFigures<'_> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        match event {
            Event::CaseFinished(result) => self.samples.push(Self::sample(result)),
            Event::TargetDone { target, elapsed } => {
                self.write(target, elapsed.as_secs_f64())?;
                self.samples.clear();
            }
            Event::Started(_)
            | Event::Impact(_)
            | Event::Traffic(_)
            | Event::Snapshots(_)
            | Event::Finished(_) => {}
        }
        Ok(())
    }
}

/// The value at quantile `q` of sorted samples.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(
            (
                percentile(&v, 0.5),
                percentile(&v, 0.9),
                percentile(&v, 0.99)
            ),
            (50.0, 90.0, 99.0)
        );
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
