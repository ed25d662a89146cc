//! Reads a suite folder: `suite.toml`, every case file under its cases folder, and each
//! target's policy. Every file's errors are collected, so one run shows them all.

use super::Suite;
use crate::case::load_case_in;
use crate::date::DateText;
use crate::dialect::{self, Dialect};
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
pub(super) struct RawSuite {
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

impl RawSuite {
    fn population_fields(&self) -> super::population::RawPopulation<'_> {
        super::population::RawPopulation {
            shares: &self.population,
            unit: self.population_unit.as_ref(),
            accounts: &self.population_accounts,
            not_run: self.population_not_run.as_ref(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    pub name: Spanned<String>,
    pub policy: Option<Spanned<String>>,
    pub as_of: Option<Spanned<DateText>>,
    pub command: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub tls: bool,
    pub server_name: Option<String>,
    pub ca: Option<Spanned<String>>,
    pub max_connections: Option<Spanned<usize>>,
    pub ready_when: Option<Spanned<String>>,
}

/// One suite file as it is read: where its errors point, and every error found so far.
pub(super) struct Reading<'a> {
    pub file: &'a Path,
    pub text: &'a str,
    pub dir: &'a Path,
    pub errors: Vec<SourceError>,
}

impl Reading<'_> {
    /// An error at `span` of the suite file.
    pub fn at(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> SourceError {
        SourceError::at(self.file, self.text, Some(span), message.into())
    }

    /// Notes an error at `span` and reads on.
    pub fn error(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        let error = self.at(span, message);
        self.errors.push(error);
    }
}

/// Loads the suite at `path`: a folder holding `suite.toml`, or the file itself. In stages,
/// each noting its errors and reading on, so one load reports every mistake: the file, its
/// dialect (without which nothing else can be checked), settings, targets, cases,
/// expectations, population.
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
    let mut r = Reading {
        file: &file,
        text: &text,
        dir: &dir,
        errors: Vec::new(),
    };
    let dialect = suite_dialect(&r, &raw.dialect)?;
    if let Some(timeout) = &raw.timeout_ms
        && !(1..=86_400_000).contains(timeout.get_ref())
    {
        r.error(
            timeout.span(),
            "a step timeout is more than 0 ms and at most a day (86400000 ms)",
        );
    }
    let dialect_settings = match settings(dialect, &raw.dialect_settings, &|span, message| {
        r.at(span, message)
    }) {
        Ok(settings) => settings,
        Err(mut more) => {
            r.errors.append(&mut more);
            dialect::Settings::none()
        }
    };
    let targets = super::targets::read(&mut r, &raw.targets, dialect);
    let cases_dir = dir.join(raw.cases.as_deref().unwrap_or("cases"));
    let files = case_paths(&mut r, &cases_dir, &raw.include);
    let known: BTreeSet<String> = raw.variables.keys().cloned().collect();
    let (cases, case_names) = read_cases(&mut r, files, &known, dialect, &dialect_settings);
    let expectations = expectations(&mut r, &raw, &case_names, &cases_dir);
    let population = super::population::read(&mut r, &raw.population_fields(), &case_names);

    if !r.errors.is_empty() {
        return Err(LoadError { errors: r.errors });
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

/// The dialect the suite names: built in, or a dialect file relative to the suite (whose own
/// mistakes point into it). Without it nothing else can be checked, so its error ends the load.
fn suite_dialect(
    r: &Reading<'_>,
    named: &Spanned<String>,
) -> Result<&'static dyn Dialect, LoadError> {
    if dialect::declarative::is_path(named.get_ref()) {
        return dialect::declarative::load(&r.dir.join(named.get_ref())).map_err(|mut errors| {
            if errors.iter().all(|e| e.message.starts_with("cannot read")) {
                errors = vec![r.at(
                    named.span(),
                    format!("cannot read dialect file `{}`", named.get_ref()),
                )];
            }
            LoadError { errors }
        });
    }
    dialect::by_name(named.get_ref()).ok_or_else(|| {
        r.at(
            named.span(),
            format!("unknown dialect `{}`", named.get_ref()),
        )
        .with_help(format!(
            "known dialects: {}; or a dialect file, `dialects/NAME.toml`",
            dialect::names().join(", ")
        ))
        .into()
    })
}

/// The case files: every `.toml` in the cases folder, then what `include` names (folders of
/// them, or single files).
fn case_paths(r: &mut Reading<'_>, cases_dir: &Path, include: &[Spanned<String>]) -> Vec<PathBuf> {
    let mut files = match case_files(cases_dir) {
        Ok(files) => files,
        Err(e) => {
            r.errors.push(SourceError::at(
                cases_dir,
                "",
                None,
                format!("cannot list cases: {e}"),
            ));
            Vec::new()
        }
    };
    for include in include {
        let path = r.dir.join(include.get_ref());
        if path.is_dir() {
            match case_files(&path) {
                Ok(more) => files.extend(more),
                Err(e) => r.error(
                    include.span(),
                    format!("cannot list {}: {e}", path.display()),
                ),
            }
        } else if path.is_file() {
            match toml_file(&path) {
                Ok(()) => files.push(path),
                Err(message) => r.error(include.span(), message),
            }
        } else {
            r.error(
                include.span(),
                format!("no such folder or file: {}", path.display()),
            );
        }
    }
    files
}

/// Every case, and every case name: cases whose files failed to load still have a name, so a
/// broken case file brings no cascade of "unknown case" errors.
fn read_cases(
    r: &mut Reading<'_>,
    files: Vec<PathBuf>,
    known: &BTreeSet<String>,
    dialect: &'static dyn Dialect,
    settings: &dialect::Settings,
) -> (Vec<Arc<crate::case::Case>>, BTreeSet<String>) {
    let mut cases: Vec<Arc<crate::case::Case>> = Vec::new();
    let mut case_names: BTreeSet<String> = BTreeSet::new();
    for case_file in files {
        let stem = case_file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if case_file.file_stem().is_some() {
            case_names.insert(stem.clone());
        }
        if let Err(message) = toml_file(&case_file).and_then(|()| file_name_part(&stem)) {
            r.errors
                .push(SourceError::at(&case_file, "", None, message));
            continue;
        }
        match load_case_in(&case_file, known, dialect, settings) {
            Ok(case) if cases.iter().any(|c| c.id == case.id) => r.errors.push(SourceError::at(
                &case_file,
                "",
                None,
                format!("a case named `{}` is already in the suite: case names (file stems) must be unique", case.id),
            )),
            Ok(case) => cases.push(Arc::new(case)),
            Err(e) => r.errors.push(e),
        }
    }
    name_recordings_apart(&mut cases);
    (cases, case_names)
}

/// `[expect]`: a verdict per known case and target.
fn expectations(
    r: &mut Reading<'_>,
    raw: &RawSuite,
    case_names: &BTreeSet<String>,
    cases_dir: &Path,
) -> BTreeMap<(String, String), VerdictKind> {
    let mut expectations = BTreeMap::new();
    for (case, by_target) in &raw.expect {
        if !case_names.contains(case.get_ref()) {
            let error = r
                .at(
                    case.span(),
                    format!("expectation for unknown case `{}`", case.get_ref()),
                )
                .with_help(format!(
                    "cases are named after their files in {}",
                    cases_dir.display()
                ));
            r.errors.push(error);
        }
        for (target, verdict) in by_target {
            if !raw
                .targets
                .iter()
                .any(|t| t.name.get_ref() == target.get_ref())
            {
                r.error(
                    target.span(),
                    format!("expectation for unknown target `{}`", target.get_ref()),
                );
            }
            match VerdictKind::parse(verdict.get_ref()) {
                Some(kind) => {
                    expectations.insert((case.get_ref().clone(), target.get_ref().clone()), kind);
                }
                None => {
                    let error = r
                        .at(
                            verdict.span(),
                            format!("`{}` is not a verdict", verdict.get_ref()),
                        )
                        .with_help("expected one of: admitted, warned, locked-out, error");
                    r.errors.push(error);
                }
            }
        }
    }
    expectations
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
pub(super) fn toml_file(path: &Path) -> Result<(), String> {
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
