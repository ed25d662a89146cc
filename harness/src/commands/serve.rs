//! `harness serve`: the reference server on a real address, until interrupted.

use super::Failure;
use crate::cli::ServeArgs;
use crate::date::Date;
use crate::exit;
use crate::server::{self, Policy, ServerConfig};
use std::sync::Arc;

pub async fn serve(args: &ServeArgs) -> Result<i32, Failure> {
    let policy = Policy::load(&args.policy).map_err(|e| Failure::Usage(e.to_string()))?;
    let as_of = args.as_of.unwrap_or_else(Date::today);
    let phase = policy.phase_at(as_of).map_err(Failure::Usage)?.clone();
    let config = ServerConfig {
        policy: Arc::new(policy),
        as_of,
        idle_timeout: args.idle_timeout,
        max_connections: args.max_connections,
        log: Some(crate::status::Log::stdout(10_000)),
    };
    let name = config.policy.name.clone();
    let running = server::start(&args.listen, config)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    crate::status::say(&format!(
        "listening on {} — policy \"{name}\", phase \"{}\" (from {}; below the minimum: {}) as of {as_of}",
        running.addr,
        phase.name,
        phase.from,
        phase.below_minimum.as_str()
    ));
    tokio::select! {
        _ = running.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(exit::SUCCESS)
}
