//! `harness import FILE --group --out DIR`: a capture of production traffic into a suite
//! folder with one case per distinct client as the server sees it. Each case is one of the
//! client's sessions (a whole one where there is one), named apart from its namesakes, with the
//! traffic it stands for (sessions, distinct accounts, first and last seen, its first
//! sessions); `suite.toml`'s population is the clients' session counts. Memory grows with the
//! distinct clients, not the sessions: each session is glanced at (its client's first
//! messages), and the one kept for a client is written to a file of its own as soon as it is
//! chosen, not held.

use super::Failure;
use super::import::{Encrypted, Sessions, damage, imported_report, print_report};
use crate::capture::file::{Glance, SessionCount, slug};
use crate::capture::{self, CaptureFile, SessionNumber, output};
use crate::cli::ImportArgs;
use crate::clients::{ClientKey, Group, Groups, Session};
use crate::decrypt;
use crate::dialect::Dialect;
use crate::exit;
use crate::suite::edit::{self, NewSuite};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The session kept for a client: in a file of its own, and whether it is whole.
#[derive(Default)]
struct Kept {
    file: Option<PathBuf>,
    whole: bool,
}

/// A private folder (mode 0700, in the temporary folder, not the suite's) holding each
/// client's kept session until the suite is written; removed when the import ends.
struct Pending {
    dir: PathBuf,
}

impl Pending {
    fn new() -> Result<Pending, Failure> {
        let dir = super::private_folder::create("harness-import", 0o700)?;
        Ok(Pending { dir })
    }

    /// Writes `case` as client `hash`'s kept session (over the one kept before).
    fn keep(&self, hash: u128, case: &CaptureFile) -> std::io::Result<PathBuf> {
        let path = self.dir.join(format!("{hash:032x}.toml"));
        std::fs::write(&path, case.to_toml())?;
        Ok(path)
    }

    fn read(path: &Path) -> Result<CaptureFile, Failure> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Failure::Runtime(format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text)
            .map_err(|e| Failure::Runtime(format!("cannot read {}: {e}", path.display())))
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn import_grouped(args: &ImportArgs, dialect: &'static dyn Dialect) -> Result<i32, Failure> {
    let (clients, sessions) = group(args, dialect)?;
    let out = args.out.as_deref().unwrap_or(Path::new("."));
    crate::outln!(
        "{clients} distinct clients in {sessions} sessions; add [[target]]s to {}/suite.toml, or run it against any server: harness run {} --target HOST:PORT",
        out.display(),
        out.display()
    );
    Ok(exit::SUCCESS)
}

/// Writes the suite of the capture's distinct clients into `--out`: how many clients and
/// sessions. Damage to the capture is the failure, after what was read before it is written.
pub fn group(args: &ImportArgs, dialect: &'static dyn Dialect) -> Result<(usize, u64), Failure> {
    let Some(out) = &args.out else {
        return Err(Failure::Usage(
            "--group writes a suite folder: give --out DIR".into(),
        ));
    };
    let cases_dir = cases_folder(out)?;
    std::fs::create_dir_all(&cases_dir)
        .map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", cases_dir.display())))?;
    // Where a suite says where the identity is (HTTP: an app's version header, the API
    // version's place in the path), clients are told apart by it.
    let settings = match &args.suite {
        Some(path) => super::suite_speaking(path, dialect, "--suite")?.dialect_settings,
        None => crate::dialect::Settings::none(),
    };
    let pending = Pending::new()?;
    let mut groups: Groups<Kept> = Groups::new();
    let mut sessions = Sessions::default();
    let name = args.file.file_name().map_or_else(
        || args.file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    // Each session is glanced at (the client's first messages framed), and framed whole only
    // when it is kept: the first of its client, or the first whole one. The capture's sha256
    // is computed beside the import, not before it: the cases are written at the end.
    let port = args.port.unwrap_or_else(|| dialect.default_port());
    let limits = super::import::limits(args);
    let keylog = super::keylog(args.keylog.as_deref())?;
    let mut encrypted = Encrypted::default();
    let imported = capture::import_flows_hashing_alongside(&args.file, port, limits, |flow| {
        let source = capture::Source {
            name: &name,
            sha256: None,
        };
        // With a key log every session is framed and read through its TLS session, so that
        // clients are told apart by what they said inside it.
        let (id, client, server, first_ns) =
            (flow.id, flow.client, flow.server, flow.first_timestamp_ns);
        let (mut glance, mut framed, mut flow) = match &keylog {
            Some(keylog) => {
                let case = capture::file::from_flow(flow, dialect, &source);
                let case = decrypt::read_through(dialect, case, &settings, Some(keylog));
                (Glance::of_case(&case), Some(case), None)
            }
            None => (Glance::of(&flow, dialect), None, Some(flow)),
        };
        glance.identify_in(dialect, &settings);
        let missing = glance.missing_handshake(dialect);
        if !sessions.count_why(id, &client, &server, missing) {
            return Ok(());
        }
        let refs: Vec<&[u8]> = glance.client_messages.iter().map(|m| m.as_ref()).collect();
        let account = glance.identity.account.as_deref();
        let versions = glance.identity.versions.as_deref();
        let key = ClientKey::from_parts(dialect, glance.base_name(), versions, &refs);
        let started = capture::time::rfc3339(first_ns);
        let source_line = || format!("{} {client} at {started}", SessionNumber(id));
        let session = Session {
            account,
            started: &started,
            source: &source_line,
        };
        let added = groups.add(key, &session);
        if let Some(gone) = groups.take_evicted()
            && let Some(file) = gone.extra.file
        {
            let _ = std::fs::remove_file(file);
        }
        let Some((at, new)) = added else {
            return Ok(());
        };
        let group = groups.get_mut(at);
        if new {
            group.key.traits = ClientKey::traits(dialect, versions, &refs);
        }
        let kept = &group.extra;
        if kept.file.is_none() || (!kept.whole && glance.whole) {
            let case = match (framed.take(), flow.take()) {
                (Some(case), _) => case,
                (None, Some(flow)) => decrypt::read_through(
                    dialect,
                    capture::file::from_flow(flow, dialect, &source),
                    &settings,
                    None,
                ),
                (None, None) => return Ok(()),
            };
            encrypted.note(id, &case);
            let file = pending.keep(group.key.hash, &case)?;
            group.extra = Kept {
                file: Some(file),
                whole: glance.whole,
            };
        }
        Ok(())
    });
    encrypted.print();
    sessions.print(dialect);
    let (report, sha256) = match imported {
        Ok((report, sha256)) => (Ok(report), Some(sha256)),
        Err(e) => (Err(e), None),
    };
    let report = imported_report(report)?;
    print_report(&report);
    // What was read before any damage is written; the damage is then named (exit 2). A
    // capture with no client of the dialect writes no suite.
    let written = match groups.is_empty() {
        true => 0,
        false => write_suite(args, out, dialect, groups, &sessions, sha256.as_deref())?,
    };
    drop(pending);
    if let Some(failure) = damage(args, dialect, &report, &sessions) {
        return Err(failure);
    }
    Ok((written, sessions.handshakes()))
}

/// The cases folder of the suite in `out`: the one its suite.toml names, else `cases`.
fn cases_folder(out: &Path) -> Result<PathBuf, Failure> {
    let file = out.join("suite.toml");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(out.join("cases"));
    };
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| Failure::Usage(crate::source::from_toml(&file, &text, &e).to_string()))?;
    Ok(out.join(
        table
            .get("cases")
            .and_then(|c| c.as_str())
            .unwrap_or("cases"),
    ))
}

/// Writes a case per client and the suite file; the number of cases written. Refuses, before
/// writing anything, a case file already there (unless `--force`).
fn write_suite(
    args: &ImportArgs,
    out: &Path,
    dialect: &dyn Dialect,
    groups: Groups<Kept>,
    sessions: &Sessions,
    sha256: Option<&str>,
) -> Result<usize, Failure> {
    let overflow = groups.overflow_sessions;
    let cases_dir = cases_folder(out)?;
    let mut stems = BTreeSet::new();
    let mut clients: Vec<(String, String, Group<Kept>)> = groups
        .into_named()
        .into_iter()
        .map(|(name, group)| (unique_stem(&mut stems, &name), name, group))
        .collect();
    // The most sessions first, as the suite's population lists them.
    clients.sort_by_key(|c| std::cmp::Reverse(c.2.sessions));
    if !args.force
        && let Some((stem, _, _)) = clients
            .iter()
            .find(|(stem, _, _)| cases_dir.join(format!("{stem}.toml")).exists())
    {
        return Err(Failure::Usage(format!(
            "{} already exists; nothing was written (give --force to replace the cases)",
            cases_dir.join(format!("{stem}.toml")).display()
        )));
    }
    // Cases an earlier import left would lose their share of the population.
    let earlier = cases_without_share(
        &cases_dir,
        &clients
            .iter()
            .map(|(stem, _, _)| (stem.clone(), 0, None))
            .collect::<Vec<_>>(),
    );
    if !args.force && !earlier.is_empty() {
        return Err(Failure::Usage(format!(
            "{} already holds {} cases of another capture ({}), whose share of the population this import would replace; nothing was written (import into a new folder, or give --force)",
            cases_dir.display(),
            earlier.len(),
            earlier.join(", ")
        )));
    }
    let mut population: Vec<(String, u64, Option<usize>)> = Vec::new();
    for (stem, name, group) in clients {
        let Some(file) = &group.extra.file else {
            continue;
        };
        let mut case = Pending::read(file)?;
        case.capture.name = Some(name);
        case.capture.sha256 = sha256.map(str::to_string);
        case.sessions = Some(count(&group));
        let accounts = (group.accounts() > 0).then(|| group.accounts());
        let path = output::write_new(
            &cases_dir,
            &format!("{stem}.toml"),
            case.to_toml().as_bytes(),
            args.force,
        )
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Failure::Usage(e.to_string()),
            _ => Failure::Runtime(e.to_string()),
        })?;
        crate::outln!(
            "wrote {} ({} session{})",
            path.display(),
            group.sessions,
            if group.sessions == 1 { "" } else { "s" }
        );
        population.push((stem, group.sessions, accounts));
    }
    if overflow > 0 {
        crate::outln!(
            "{overflow} sessions of one-off clients past the {} kept apart were counted but not written: the population counts them as not run",
            crate::clients::MAX_CLIENTS
        );
    }
    let source = args.file.display().to_string();
    let path = edit::write_population(
        out,
        &NewSuite {
            dialect,
            settings_from: args.suite.as_deref(),
            description: format!(
                "{} distinct clients in {} sessions of {source}, imported by `harness import --group`",
                population.len(),
                sessions.handshakes()
            ),
        },
        &population,
        overflow,
    )
    .map_err(|e| Failure::Runtime(e.to_string()))?;
    crate::outln!("wrote {}", path.display());
    let stale = cases_without_share(&cases_dir, &population);
    if !stale.is_empty() {
        crate::outln!(
            "{} cases in {} are not from this capture and now have no share of the population: {}",
            stale.len(),
            cases_dir.display(),
            stale.join(", ")
        );
    }
    Ok(population.len())
}

/// Case files in `dir` that this import did not write (an earlier import's), by stem.
fn cases_without_share(dir: &Path, population: &[(String, u64, Option<usize>)]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut stale: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|stem| !population.iter().any(|(s, _, _)| s == stem))
        .collect();
    stale.sort();
    stale
}

fn count<T>(group: &Group<T>) -> SessionCount {
    SessionCount {
        count: group.sessions,
        accounts: (group.accounts() > 0).then(|| group.accounts()),
        accounts_at_least: group.accounts_at_least,
        first_seen: group.first_seen.clone(),
        last_seen: group.last_seen.clone(),
        sources: group.sources.clone(),
        sources_omitted: group.sources_omitted(),
        key: group.key.short(),
    }
}

/// A file stem from the client's name, unique among those already taken.
fn unique_stem(taken: &mut BTreeSet<String>, name: &str) -> String {
    // A stem names a file the suite loader takes: no leading dot, no `..`.
    let mut base = slug(name, 60).to_ascii_lowercase();
    while base.contains("..") {
        base = base.replace("..", ".");
    }
    let base = match base.trim_start_matches(['.', '-']) {
        "" => "unnamed".to_string(),
        rest => rest.to_string(),
    };
    let mut stem = base.clone();
    let mut n = 1;
    while !taken.insert(stem.clone()) {
        n += 1;
        stem = format!("{base}-{n}");
    }
    stem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clients_file_stem_is_one_the_suite_loader_takes_and_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(unique_stem(&mut taken, ".hidden/1.0"), "hidden-1.0");
        assert_eq!(unique_stem(&mut taken, "../../etc/1.0"), "etc-1.0");
        assert_eq!(unique_stem(&mut taken, "App/1..2"), "app-1.2");
        assert_eq!(unique_stem(&mut taken, "app 1.2"), "app-1.2-2");
        assert_eq!(unique_stem(&mut taken, "..."), "unnamed");
    }
}
