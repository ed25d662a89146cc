//! `harness serve`: a dialect's reference server on a real address, until interrupted.

use super::Failure;
use crate::cli::ServeArgs;
use crate::date::Date;
use crate::exit;
use crate::server::{self, ServerConfig};

/// Connections held at once unless `--max-connections` says otherwise.
const DEFAULT_MAX_CONNECTIONS: usize = 4096;

pub async fn serve(args: &ServeArgs) -> Result<i32, Failure> {
    let dialect = super::dialect(&args.dialect)?;
    let Some(reference) = dialect.reference_server() else {
        let with: Vec<&str> = crate::dialect::all()
            .into_iter()
            .filter(|d| d.reference_server().is_some())
            .map(|d| d.name())
            .collect();
        return Err(Failure::Usage(format!(
            "the {} dialect has no reference server (dialects with one: {})",
            dialect.name(),
            with.join(", ")
        )));
    };
    let policy = reference
        .load_policy(&args.policy)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let as_of = args.as_of.unwrap_or_else(Date::today);
    let in_force = policy.in_force(as_of).map_err(Failure::Usage)?;
    let listen = args
        .listen
        .clone()
        .unwrap_or_else(|| format!("127.0.0.1:{}", dialect.default_port()));
    let capacity = server::connection_capacity();
    let wanted = args.max_connections.map_or(DEFAULT_MAX_CONNECTIONS, |n| {
        usize::try_from(n).unwrap_or(usize::MAX)
    });
    if wanted > capacity && args.max_connections.is_some() {
        crate::status::say(&format!(
            "--max-connections {wanted} is more than the descriptor limit allows: holding at most {capacity}"
        ));
    }
    let config = ServerConfig {
        policy,
        as_of,
        idle_timeout: args.idle_timeout,
        max_connections: wanted.min(capacity),
        admission_budget: args.admission_budget,
        log: Some(crate::status::Log::stdout(10_000)),
    };
    let running = server::start(&listen, config)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    crate::status::say(&format!(
        "listening on {} — {in_force} as of {as_of}",
        running.addr
    ));
    tokio::select! {
        _ = running.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(exit::SUCCESS)
}
