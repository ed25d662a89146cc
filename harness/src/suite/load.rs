//! Reads a suite folder: `suite.toml`, every case file under its cases folder, and each
//! target's policy. Every file's errors are collected, so one run shows them all.

use super::{Suite, SuiteTarget, TargetKind};
use crate::case::load_case_in;
use crate::date::DateText;
use crate::dialect::{self, Dialect};
use crate::report::{Population, PopulationUnit};
use crate::runner::TlsClient;
use crate::source::{self, SourceError, closest};
use crate::verdict::VerdictKind;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use toml::Spanned;

/// Everything wrong with a suite, file by file.
#[derive(Debug)]
pub struct LoadError {
    pub errors: Vec<SourceError>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                // The caller prefixes the first error; each further one gets its own prefix.
                write!(f, "\n\nerror: ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

impl From<SourceError> for LoadError {
    fn from(error: SourceError) -> LoadError {
        LoadError {
            errors: vec![error],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    name: String,
    description: Option<String>,
    dialect: Spanned<String>,
    cases: Option<String>,
    /// More case folders or files, e.g. capture folders under `captures/`.
    #[serde(default)]
    include: Vec<Spanned<String>>,
    timeout_ms: Option<Spanned<u64>>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default, rename = "target")]
    targets: Vec<RawTarget>,
    #[serde(default)]
    expect: BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<String>>>,
    #[serde(default)]
    population: BTreeMap<Spanned<String>, Spanned<f64>>,
    /// What `population` counts: `users` (the default: shares given by hand) or `sessions`
    /// (counted in traffic by `import --group`).
    population_unit: Option<Spanned<String>>,
    /// Distinct accounts per case, where the traffic showed them.
    #[serde(default)]
    population_accounts: BTreeMap<Spanned<String>, Spanned<f64>>,
    /// Sessions of clients an import counted but wrote no case for.
    population_not_run: Option<Spanned<f64>>,
    #[serde(default)]
    dialect_settings: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    name: Spanned<String>,
    policy: Option<Spanned<String>>,
    as_of: Option<Spanned<DateText>>,
    command: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    tls: bool,
    server_name: Option<String>,
    ca: Option<Spanned<String>>,
    max_connections: Option<Spanned<usize>>,
    ready_when: Option<Spanned<String>>,
}

/// Loads the suite at `path`: a folder holding `suite.toml`, or the file itself.
pub fn load_suite(path: &Path) -> Result<Suite, LoadError> {
    let file = if path.is_dir() {
        path.join("suite.toml")
    } else {
        path.to_path_buf()
    };
    let dir = file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let text = std::fs::read_to_string(&file)
        .map_err(|e| SourceError::at(&file, "", None, format!("cannot read suite file: {e}")))?;
    let raw: RawSuite = toml::from_str(&text).map_err(|e| source::from_toml(&file, &text, &e))?;
    let at = |span: std::ops::Range<usize>, message: String| {
        SourceError::at(&file, &text, Some(span), message)
    };
    let mut errors = Vec::new();

    let dialect = if dialect::declarative::is_path(raw.dialect.get_ref()) {
        // A dialect file, relative to the suite: its own mistakes point into it.
        dialect::declarative::load(&dir.join(raw.dialect.get_ref())).map_err(|mut errors| {
            if errors.iter().all(|e| e.message.starts_with("cannot read")) {
                errors = vec![at(
                    raw.dialect.span(),
                    format!("cannot read dialect file `{}`", raw.dialect.get_ref()),
                )];
            }
            LoadError { errors }
        })?
    } else {
        let Some(dialect) = dialect::by_name(raw.dialect.get_ref()) else {
            // Without its dialect no step or setting can be checked.
            return Err(at(
                raw.dialect.span(),
                format!("unknown dialect `{}`", raw.dialect.get_ref()),
            )
            .with_help(format!(
                "known dialects: {}; or a dialect file, `dialects/NAME.toml`",
                dialect::names().join(", ")
            ))
            .into());
        };
        dialect
    };
    if let Some(timeout) = &raw.timeout_ms
        && !(1..=86_400_000).contains(timeout.get_ref())
    {
        errors.push(at(
            timeout.span(),
            "a step timeout is more than 0 ms and at most a day (86400000 ms)".to_string(),
        ));
    }
    let dialect_settings = match settings(dialect, &raw.dialect_settings, &at) {
        Ok(settings) => settings,
        Err(mut more) => {
            errors.append(&mut more);
            dialect::Settings::none()
        }
    };

    let mut targets: Vec<SuiteTarget> = Vec::new();
    for target in &raw.targets {
        if let Err(message) = file_name_part(target.name.get_ref()) {
            errors.push(at(target.name.span(), format!("target name: {message}")));
            continue;
        }
        if targets.iter().any(|t| t.name == *target.name.get_ref()) {
            errors.push(at(
                target.name.span(),
                format!("target `{}` is defined twice", target.name.get_ref()),
            ));
            continue;
        }
        let kind = match (&target.policy, &target.as_of, &target.command) {
            (None, None, Some(command)) => {
                if !command.get_ref().iter().any(|a| a.contains("{port}"))
                    || command.get_ref().is_empty()
                {
                    errors.push(at(
                        command.span(),
                        "a command target must pass `{port}` to the server it starts".to_string(),
                    ));
                    continue;
                }
                let ready_when = match &target.ready_when {
                    Some(pattern) => match regex::Regex::new(pattern.get_ref()) {
                        Ok(regex) => Some(regex),
                        Err(e) => {
                            errors.push(at(pattern.span(), format!("not a pattern: {e}")));
                            continue;
                        }
                    },
                    None => None,
                };
                TargetKind::Command {
                    argv: command.get_ref().clone(),
                    dir: dir.clone(),
                    ready_when,
                }
            }
            _ if target.ready_when.is_some() && target.command.is_none() => {
                let span = target.ready_when.as_ref().map_or(0..0, |r| r.span());
                errors.push(at(span, "ready_when is for a command target".to_string()));
                continue;
            }
            (Some(policy), Some(as_of), None) => {
                let Some(server) = dialect.reference_server() else {
                    errors.push(
                        at(
                            policy.span(),
                            format!(
                                "the {} dialect has no reference server to enforce a policy",
                                dialect.name()
                            ),
                        )
                        .with_help(
                            "point the target at a real server: command = [..., \"{port}\"]",
                        ),
                    );
                    continue;
                };
                let as_of_date = match as_of.get_ref().to_date() {
                    Ok(date) => date,
                    Err(message) => {
                        errors.push(at(as_of.span(), message));
                        continue;
                    }
                };
                let policy_path = dir.join(policy.get_ref());
                if let Err(message) = toml_file(&policy_path) {
                    errors.push(at(policy.span(), message));
                    continue;
                }
                let policy = match server.load_policy(&policy_path) {
                    Ok(policy) => policy,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                if let Err(message) = policy.in_force(as_of_date) {
                    errors.push(at(as_of.span(), message));
                    continue;
                }
                TargetKind::Reference {
                    policy,
                    policy_path,
                    as_of: as_of_date,
                }
            }
            _ => {
                errors.push(
                    at(target.name.span(), format!("target `{}` needs either `policy` and `as_of`, or `command`", target.name.get_ref()))
                        .with_help("policy + as_of: the embedded reference server; command: a real server started with a free {port}"),
                );
                continue;
            }
        };
        let mut tls = match &target.ca {
            Some(ca) => match TlsClient::trusting(&dir.join(ca.get_ref())) {
                Ok(tls) => tls,
                Err(message) => {
                    errors.push(at(ca.span(), message));
                    continue;
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
            errors.push(at(
                limit.span(),
                "max_connections must be at least 1".to_string(),
            ));
            continue;
        }
        targets.push(SuiteTarget {
            name: target.name.get_ref().clone(),
            kind,
            tls_from_start: target.tls,
            tls,
            max_connections: target.max_connections.as_ref().map(|l| *l.get_ref()),
        });
    }

    let cases_dir = dir.join(raw.cases.as_deref().unwrap_or("cases"));
    let known: BTreeSet<String> = raw.variables.keys().cloned().collect();
    let mut cases: Vec<Arc<crate::case::Case>> = Vec::new();
    let mut files = match case_files(&cases_dir) {
        Ok(files) => files,
        Err(e) => {
            errors.push(SourceError::at(
                &cases_dir,
                "",
                None,
                format!("cannot list cases: {e}"),
            ));
            Vec::new()
        }
    };
    for include in &raw.include {
        let path = dir.join(include.get_ref());
        if path.is_dir() {
            match case_files(&path) {
                Ok(more) => files.extend(more),
                Err(e) => errors.push(at(
                    include.span(),
                    format!("cannot list {}: {e}", path.display()),
                )),
            }
        } else if path.is_file() {
            match toml_file(&path) {
                Ok(()) => files.push(path),
                Err(message) => errors.push(at(include.span(), message)),
            }
        } else {
            errors.push(at(
                include.span(),
                format!("no such folder or file: {}", path.display()),
            ));
        }
    }
    // Cases whose files failed to load still exist: no cascade of "unknown case" errors.
    let mut case_names: BTreeSet<String> = BTreeSet::new();
    for case_file in files {
        if let Some(stem) = case_file.file_stem() {
            case_names.insert(stem.to_string_lossy().into_owned());
        }
        let stem = case_file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Err(message) = toml_file(&case_file).and_then(|()| file_name_part(&stem)) {
            errors.push(SourceError::at(&case_file, "", None, message));
            continue;
        }
        match load_case_in(&case_file, &known, dialect, &dialect_settings) {
            Ok(case) if cases.iter().any(|c| c.id == case.id) => errors.push(SourceError::at(
                &case_file,
                "",
                None,
                format!("a case named `{}` is already in the suite: case names (file stems) must be unique", case.id),
            )),
            Ok(case) => cases.push(Arc::new(case)),
            Err(e) => errors.push(e),
        }
    }
    name_recordings_apart(&mut cases);

    let mut expectations = BTreeMap::new();
    for (case, by_target) in &raw.expect {
        if !case_names.contains(case.get_ref()) {
            errors.push(
                at(
                    case.span(),
                    format!("expectation for unknown case `{}`", case.get_ref()),
                )
                .with_help(format!(
                    "cases are named after their files in {}",
                    cases_dir.display()
                )),
            );
        }
        for (target, verdict) in by_target {
            if !raw
                .targets
                .iter()
                .any(|t| t.name.get_ref() == target.get_ref())
            {
                errors.push(at(
                    target.span(),
                    format!("expectation for unknown target `{}`", target.get_ref()),
                ));
            }
            match VerdictKind::parse(verdict.get_ref()) {
                Some(kind) => {
                    expectations.insert((case.get_ref().clone(), target.get_ref().clone()), kind);
                }
                None => errors.push(
                    at(
                        verdict.span(),
                        format!("`{}` is not a verdict", verdict.get_ref()),
                    )
                    .with_help("expected one of: admitted, warned, locked-out, error"),
                ),
            }
        }
    }

    let unit = match &raw.population_unit {
        None => PopulationUnit::Users,
        Some(unit) => PopulationUnit::parse(unit.get_ref()).unwrap_or_else(|| {
            errors.push(
                at(
                    unit.span(),
                    format!("`{}` is not a population unit", unit.get_ref()),
                )
                .with_help("`users` (shares given by hand) or `sessions` (counted in traffic)"),
            );
            PopulationUnit::Users
        }),
    };
    let not_run = match &raw.population_not_run {
        None => 0.0,
        Some(n) if n.get_ref().is_finite() && *n.get_ref() >= 0.0 => *n.get_ref(),
        Some(n) => {
            errors.push(at(
                n.span(),
                "population_not_run is a number of sessions, 0 or more".to_string(),
            ));
            0.0
        }
    };
    let mut shares = |table: &BTreeMap<Spanned<String>, Spanned<f64>>| {
        let mut shares = BTreeMap::new();
        for (case, share) in table {
            if !case_names.contains(case.get_ref()) {
                errors.push(at(
                    case.span(),
                    format!("population share for unknown case `{}`", case.get_ref()),
                ));
            } else if !share.get_ref().is_finite() || *share.get_ref() < 0.0 {
                errors.push(at(
                    share.span(),
                    "a population share is a number of 0 or more".to_string(),
                ));
            } else {
                shares.insert(case.get_ref().clone(), *share.get_ref());
            }
        }
        shares
    };
    let population = Population {
        unit,
        shares: shares(&raw.population),
        accounts: shares(&raw.population_accounts),
        not_run,
    };

    if !errors.is_empty() {
        return Err(LoadError { errors });
    }
    Ok(Suite {
        name: raw.name,
        description: raw.description,
        dir,
        dialect,
        timeout: raw.timeout_ms.map(|t| Duration::from_millis(*t.get_ref())),
        variables: raw.variables,
        cases,
        targets,
        expectations,
        population,
        dialect_settings,
    })
}

/// Recorded clients that go by the same name (two curls, seven OpenSSH 9.2p1 with different
/// settings) are named by what tells them apart: `curl 7.88.1 (HTTP/1.0) (captured)`. Names
/// a case file writes stand as written.
fn name_recordings_apart(cases: &mut [Arc<crate::case::Case>]) {
    const CAPTURED: &str = " (captured)";
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, case) in cases.iter().enumerate() {
        if !case.distinctions.is_empty() {
            by_name.entry(case.name.clone()).or_default().push(i);
        }
    }
    for members in by_name.into_values().filter(|m| m.len() > 1) {
        let clients: Vec<(String, Vec<String>)> = members
            .iter()
            .map(|&i| {
                let name = &cases[i].name;
                let base = name.strip_suffix(CAPTURED).unwrap_or(name);
                (base.to_string(), cases[i].distinctions.clone())
            })
            .collect();
        // The same client recorded twice keeps one name.
        let names = crate::clients::distinct_names(&clients, false);
        for (&i, name) in members.iter().zip(names) {
            let suffix = if cases[i].name.ends_with(CAPTURED) {
                CAPTURED
            } else {
                ""
            };
            Arc::make_mut(&mut cases[i]).name = format!("{name}{suffix}");
        }
    }
}

/// `[dialect_settings]`: every key one the dialect declares (else a did-you-mean), then typed
/// by the dialect, an error pointing at the value it refused.
fn settings(
    dialect: &dyn Dialect,
    raw: &BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    at: &dyn Fn(std::ops::Range<usize>, String) -> SourceError,
) -> Result<dialect::Settings, Vec<SourceError>> {
    let keys: Vec<&str> = dialect.setting_keys().iter().map(|d| d.name).collect();
    let mut errors = Vec::new();
    for key in raw.keys() {
        if keys.contains(&key.get_ref().as_str()) {
            continue;
        }
        let error = at(
            key.span(),
            format!(
                "unknown setting `{}` for the {} dialect",
                key.get_ref(),
                dialect.name()
            ),
        );
        errors.push(match closest(key.get_ref(), keys.iter().copied()) {
            Some(meant) => error.with_help(format!("did you mean `{meant}`?")),
            None if keys.is_empty() => {
                error.with_help(format!("the {} dialect takes no settings", dialect.name()))
            }
            None => error.with_help(format!("its settings: {}", keys.join(", "))),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let table: BTreeMap<String, toml::Value> = raw
        .iter()
        .map(|(k, v)| (k.get_ref().clone(), v.get_ref().clone()))
        .collect();
    dialect.settings(&table).map_err(|e| {
        let span = raw
            .iter()
            .find(|(k, _)| *k.get_ref() == e.key)
            .map_or(0..0, |(_, v)| v.span());
        let error = at(span, e.message);
        vec![match e.help {
            Some(help) => error.with_help(help),
            None => error,
        }]
    })
}

/// A name that becomes part of a file name (snapshots are `CASE@TARGET.snap`): no path
/// separators, no `..`, nothing hidden, nothing unprintable. (`harness import` asks it of the
/// case names it writes.)
pub(crate) fn file_name_part(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains("..")
        || name
            .chars()
            .any(|c| matches!(c, '/' | '\\' | '@' | ':') || c.is_control());
    if bad {
        Err(format!(
            "`{}` cannot name a file: use letters, digits, `-`, `_` and `.` (not first, not `..`)",
            name.escape_debug()
        ))
    } else {
        Ok(())
    }
}

/// A file a suite may read: a `.toml` file, also where a link leads. Anything else (a
/// mistyped `/etc/passwd`) is refused before it is read, so no error shows its contents.
fn toml_file(path: &Path) -> Result<(), String> {
    let is_toml = |p: &Path| p.extension().is_some_and(|e| e == "toml");
    let real = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if is_toml(path) && is_toml(&real) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a .toml file: a suite reads only case, capture and policy files",
            path.display()
        ))
    }
}

/// The `.toml` files directly in `dir`, sorted by name so runs are repeatable.
fn case_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}
