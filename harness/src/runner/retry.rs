//! `--retry-busy N`: a case the server turned away for being busy (429, too many
//! connections) runs again, up to N times, after the wait the server asked for (Retry-After)
//! or a doubling backoff, so a rate-limited target still gets judged.

use super::Job;
use super::drive::{CaseRun, Settings, drive};
use std::time::Duration;

/// The longest the harness waits between tries, whatever the server asks: a CI run must end.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// The first wait when the server gave none; it doubles on each try.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Runs `job`, again while the server is busy and tries remain; the verdict of the last try,
/// its reason saying how many tries were made.
pub async fn drive_retrying_busy(job: &Job, settings: &Settings) -> CaseRun {
    let mut run = drive(&job.target, &job.case, &job.variables, settings).await;
    let mut retries = 0;
    while retries < settings.retry_busy
        && let Some(busy) = run.verdict.busy
    {
        tokio::time::sleep(wait(busy.retry_after_secs, retries)).await;
        retries += 1;
        run = drive(&job.target, &job.case, &job.variables, settings).await;
    }
    if retries > 0 {
        let tries = retries + 1;
        run.verdict.reason = match run.verdict.busy {
            Some(_) => format!("{} (busy on all {tries} tries)", run.verdict.reason),
            None => format!(
                "{} (on try {tries}; the server was busy before)",
                run.verdict.reason
            ),
        };
    }
    run
}

/// How long to wait before retry number `retries` (from 0).
fn wait(retry_after_secs: Option<u64>, retries: u32) -> Duration {
    let asked = match retry_after_secs {
        Some(secs) => Duration::from_secs(secs),
        None => FIRST_BACKOFF.saturating_mul(1 << retries.min(16)),
    };
    asked.min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_as_asked_else_doubling_and_never_past_the_cap() {
        assert_eq!(wait(Some(2), 0), Duration::from_secs(2));
        assert_eq!(wait(Some(0), 3), Duration::ZERO);
        assert_eq!(wait(None, 0), FIRST_BACKOFF);
        assert_eq!(wait(None, 2), FIRST_BACKOFF * 4);
        assert_eq!(wait(None, 40), MAX_WAIT);
        assert_eq!(wait(Some(3600), 0), MAX_WAIT);
    }
}
