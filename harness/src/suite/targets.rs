//! A suite's `[[target]]` tables: each a real server a command starts, or the dialect's
//! reference server enforcing a policy as of a date; with how to reach it (TLS from the first
//! byte, a CA to trust, a server name) and how many connections it takes at once.

use super::load::{RawTarget, Reading, file_name_part, toml_file};
use super::{SuiteTarget, TargetKind};
use crate::dialect::Dialect;
use crate::runner::TlsClient;

/// Every target that reads without error, in order; the errors go to `r`.
pub(super) fn read(
    r: &mut Reading<'_>,
    raw: &[RawTarget],
    dialect: &'static dyn Dialect,
) -> Vec<SuiteTarget> {
    let mut targets: Vec<SuiteTarget> = Vec::new();
    for target in raw {
        if let Err(message) = file_name_part(target.name.get_ref()) {
            r.error(target.name.span(), format!("target name: {message}"));
            continue;
        }
        if targets.iter().any(|t| t.name == *target.name.get_ref()) {
            r.error(
                target.name.span(),
                format!("target `{}` is defined twice", target.name.get_ref()),
            );
            continue;
        }
        if let Some(target) = read_one(r, target, dialect) {
            targets.push(target);
        }
    }
    targets
}

fn read_one(
    r: &mut Reading<'_>,
    target: &RawTarget,
    dialect: &'static dyn Dialect,
) -> Option<SuiteTarget> {
    let kind = kind(r, target, dialect)?;
    let mut tls = match &target.ca {
        Some(ca) => match TlsClient::trusting(&r.dir.join(ca.get_ref())) {
            Ok(tls) => tls,
            Err(message) => {
                r.error(ca.span(), message);
                return None;
            }
        },
        None => TlsClient::default(),
    };
    tls.server_name = target.server_name.clone();
    if let Some(limit) = target
        .max_connections
        .as_ref()
        .filter(|l| *l.get_ref() == 0)
    {
        r.error(limit.span(), "max_connections must be at least 1");
        return None;
    }
    Some(SuiteTarget {
        name: target.name.get_ref().clone(),
        kind,
        tls_from_start: target.tls,
        tls,
        max_connections: target.max_connections.as_ref().map(|l| *l.get_ref()),
    })
}

/// A command target, or a reference server's policy as of a date; never both.
fn kind(
    r: &mut Reading<'_>,
    target: &RawTarget,
    dialect: &'static dyn Dialect,
) -> Option<TargetKind> {
    match (&target.policy, &target.as_of, &target.command) {
        (None, None, Some(command)) => {
            if !command.get_ref().iter().any(|a| a.contains("{port}"))
                || command.get_ref().is_empty()
            {
                r.error(
                    command.span(),
                    "a command target must pass `{port}` to the server it starts",
                );
                return None;
            }
            let ready_when = match &target.ready_when {
                Some(pattern) => match regex::Regex::new(pattern.get_ref()) {
                    Ok(regex) => Some(regex),
                    Err(e) => {
                        r.error(pattern.span(), format!("not a pattern: {e}"));
                        return None;
                    }
                },
                None => None,
            };
            Some(TargetKind::Command {
                argv: command.get_ref().clone(),
                dir: r.dir.to_path_buf(),
                ready_when,
            })
        }
        _ if target.ready_when.is_some() && target.command.is_none() => {
            let span = target.ready_when.as_ref().map_or(0..0, |w| w.span());
            r.error(span, "ready_when is for a command target");
            None
        }
        (Some(policy), Some(as_of), None) => {
            let Some(server) = dialect.reference_server() else {
                let error = r
                    .at(
                        policy.span(),
                        format!(
                            "the {} dialect has no reference server to enforce a policy",
                            dialect.name()
                        ),
                    )
                    .with_help("point the target at a real server: command = [..., \"{port}\"]");
                r.errors.push(error);
                return None;
            };
            let as_of_date = match as_of.get_ref().to_date() {
                Ok(date) => date,
                Err(message) => {
                    r.error(as_of.span(), message);
                    return None;
                }
            };
            let policy_path = r.dir.join(policy.get_ref());
            if let Err(message) = toml_file(&policy_path) {
                r.error(policy.span(), message);
                return None;
            }
            let policy = match server.load_policy(&policy_path) {
                Ok(policy) => policy,
                Err(e) => {
                    r.errors.push(e);
                    return None;
                }
            };
            if let Err(message) = policy.in_force(as_of_date) {
                r.error(as_of.span(), message);
                return None;
            }
            Some(TargetKind::Reference {
                policy,
                policy_path,
                as_of: as_of_date,
            })
        }
        _ => {
            let error = r
                .at(
                    target.name.span(),
                    format!(
                        "target `{}` needs either `policy` and `as_of`, or `command`",
                        target.name.get_ref()
                    ),
                )
                .with_help("policy + as_of: the embedded reference server; command: a real server started with a free {port}");
            r.errors.push(error);
            None
        }
    }
}
