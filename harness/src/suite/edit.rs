//! Writing to suite.toml without losing what people wrote in it (toml_edit keeps comments,
//! order and layout): the population `import --group` counted, and the expectations a
//! reviewed run blesses.

use crate::dialect::Dialect;
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, InlineTable, Item, Table, value};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not TOML: {message}")]
    Parse { path: String, message: String },
}

/// What a suite file written afresh says about itself.
pub struct NewSuite<'a> {
    pub dialect: &'a dyn Dialect,
    pub description: String,
    /// A suite whose `[dialect_settings]` the new file takes (the rules its clients were
    /// told apart by).
    pub settings_from: Option<&'a Path>,
}

/// One client's traffic: its case id, sessions, and distinct accounts where known.
pub type ClientTraffic = (String, u64, Option<usize>);

/// Sets `dir/suite.toml`'s population to the clients' session counts (`population_unit =
/// "sessions"`, and `[population_accounts]` where every client's accounts are known), writing
/// the file afresh when there is none; the rest of an existing file is kept as it is.
pub fn write_population(
    dir: &Path,
    new: &NewSuite<'_>,
    clients: &[ClientTraffic],
    not_run: u64,
) -> Result<PathBuf, EditError> {
    let path = dir.join("suite.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            copy_dialect_file(dir, new.dialect)?;
            new_suite(dir, new, FROM_CAPTURE)
        }
        Err(source) => {
            return Err(EditError::Read {
                path: path.display().to_string(),
                source,
            });
        }
    };
    let mut doc = parse(&path, &text)?;
    if let Some(from) = new.settings_from
        && !doc.contains_table("dialect_settings")
        && let Some(settings) = dialect_settings_of(from)
    {
        doc["dialect_settings"] = Item::Table(settings);
    }
    doc["population_unit"] = value("sessions");
    let mut sessions = Table::new();
    for (case, count, _) in clients {
        sessions[case.as_str()] = value(i64::try_from(*count).unwrap_or(i64::MAX));
    }
    sessions
        .decor_mut()
        .set_prefix("\n# Sessions per client in the capture: impact reads \"% of sessions\".\n");
    doc["population"] = Item::Table(sessions);
    if not_run > 0 {
        doc["population_not_run"] = value(i64::try_from(not_run).unwrap_or(i64::MAX));
        doc["population_not_run"]
            .as_value_mut()
            .unwrap()
            .decor_mut()
            .set_suffix("  # sessions of clients past those kept apart: in every total, never run");
    } else {
        doc.remove("population_not_run");
    }
    if clients.iter().all(|(_, _, accounts)| accounts.is_some()) && !clients.is_empty() {
        let mut accounts = Table::new();
        for (case, _, n) in clients {
            accounts[case.as_str()] = value(n.unwrap_or(0) as i64);
        }
        accounts
            .decor_mut()
            .set_prefix("\n# Distinct accounts per client: impact reads \"% of accounts\" too.\n");
        doc["population_accounts"] = Item::Table(accounts);
    } else {
        doc.remove("population_accounts");
    }
    write(&path, &doc)?;
    Ok(path)
}

/// Writes `dir/suite.toml` afresh (and a file dialect's copy beside it), with no cases yet:
/// what `harness new` starts from when there is no capture. Refuses a suite already there.
pub fn write_new(dir: &Path, new: &NewSuite<'_>) -> Result<PathBuf, EditError> {
    let path = dir.join("suite.toml");
    copy_dialect_file(dir, new.dialect)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|source| EditError::Write {
            path: path.display().to_string(),
            source,
        })?;
    std::io::Write::write_all(&mut file, new_suite(dir, new, NO_CASES_YET).as_bytes()).map_err(
        |source| EditError::Write {
            path: path.display().to_string(),
            source,
        },
    )?;
    Ok(path)
}

/// A server the run starts, as a `[[target]]` of `suite_file`.
pub struct CommandTarget<'a> {
    pub name: &'a str,
    pub command: &'a [&'a str],
    pub ready_when: Option<&'a str>,
    pub max_connections: Option<u32>,
    /// A comment above the table.
    pub about: &'a str,
}

/// Adds `target` to `suite_file`'s targets, keeping the rest of the file as it is.
pub fn add_command_target(suite_file: &Path, target: &CommandTarget<'_>) -> Result<(), EditError> {
    let text = std::fs::read_to_string(suite_file).map_err(|source| EditError::Read {
        path: suite_file.display().to_string(),
        source,
    })?;
    let mut doc = parse(suite_file, &text)?;
    let mut table = Table::new();
    table["name"] = value(target.name);
    let mut command = toml_edit::Array::new();
    for arg in target.command {
        command.push(*arg);
    }
    table["command"] = value(command);
    if let Some(pattern) = target.ready_when {
        table["ready_when"] = value(pattern);
    }
    if let Some(n) = target.max_connections {
        table["max_connections"] = value(i64::from(n));
    }
    table
        .decor_mut()
        .set_prefix(format!("\n# {}\n", target.about));
    let targets = doc
        .entry("target")
        .or_insert_with(|| Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
    let Some(targets) = targets.as_array_of_tables_mut() else {
        return Err(EditError::Parse {
            path: suite_file.display().to_string(),
            message: "`target` is not an array of tables ([[target]])".into(),
        });
    };
    targets.push(table);
    write(suite_file, &doc)
}

/// Sets the expectations of `suite_file` for the given (case, target) pairs to their
/// verdicts, keeping every other expectation.
pub fn write_expectations(
    suite_file: &Path,
    verdicts: &[(String, String, &'static str)],
) -> Result<(), EditError> {
    let text = std::fs::read_to_string(suite_file).map_err(|source| EditError::Read {
        path: suite_file.display().to_string(),
        source,
    })?;
    let mut doc = parse(suite_file, &text)?;
    // `expect = { ... }` written inline at the top: the same table, made a section.
    if let Some(inline) = doc.get("expect").and_then(Item::as_inline_table) {
        let table = inline.clone().into_table();
        doc["expect"] = Item::Table(table);
    }
    if !doc.contains_table("expect") {
        let mut table = Table::new();
        table.decor_mut().set_prefix(
            "\n# Blessed from a reviewed run (`harness run --bless`): a change fails CI.\n",
        );
        doc["expect"] = Item::Table(table);
    }
    let expect = doc["expect"]
        .as_table_mut()
        .expect("made a table above when it was not one");
    for (case, target, verdict) in verdicts {
        let row = expect
            .entry(case)
            .or_insert_with(|| value(InlineTable::new()));
        if let Some(inline) = row.as_inline_table_mut() {
            inline.insert(target, (*verdict).into());
            inline.fmt();
        } else if let Some(table) = row.as_table_mut() {
            table[target.as_str()] = value(*verdict);
        }
    }
    write(suite_file, &doc)
}

/// The `[dialect_settings]` table of the suite at `path` (a folder or its suite.toml).
fn dialect_settings_of(path: &Path) -> Option<Table> {
    let file = match path.is_dir() {
        true => path.join("suite.toml"),
        false => path.to_path_buf(),
    };
    let doc = std::fs::read_to_string(file)
        .ok()?
        .parse::<DocumentMut>()
        .ok()?;
    doc.get("dialect_settings")?.as_table().cloned()
}

fn parse(path: &Path, text: &str) -> Result<DocumentMut, EditError> {
    text.parse::<DocumentMut>().map_err(|e| EditError::Parse {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn write(path: &Path, doc: &DocumentMut) -> Result<(), EditError> {
    std::fs::write(path, doc.to_string()).map_err(|source| EditError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// The variables a replay of `dialect`'s recordings needs from the suite, with placeholder
/// values and why.
fn replay_variables(dialect: &str) -> &'static str {
    match dialect {
        "msnp" => {
            "\n# The account every replayed session logs in as (the recorded ones are set aside).\n[variables]\nemail = \"harness@hotmail.com\"\n"
        }
        "postgres" => {
            "\n# The user and database a startup sent inside TLS is replayed with.\n[variables]\nuser = \"postgres\"\ndatabase = \"postgres\"\n"
        }
        "tls" => {
            "\n# The server name each hello carries (an IP address is not a valid one).\n[variables]\nhost = \"localhost\"\n"
        }
        _ => "",
    }
}

/// A file dialect goes with the suite written afresh, as `dialects/NAME.toml`: the suite
/// loads wherever it is moved.
fn copy_dialect_file(dir: &Path, dialect: &dyn Dialect) -> Result<(), EditError> {
    let Some(source) = dialect.source_file() else {
        return Ok(());
    };
    let to = dir.join(dialect_path(dialect));
    let write = |source: std::io::Error| EditError::Write {
        path: to.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir.join("dialects")).map_err(write)?;
    let text = std::fs::read(source).map_err(|source| EditError::Read {
        path: source_path(dialect),
        source,
    })?;
    std::fs::write(&to, text).map_err(write)
}

fn source_path(dialect: &dyn Dialect) -> String {
    dialect
        .source_file()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// What a suite's `dialect =` says: the name, or the file dialect's copy beside the suite.
fn dialect_path(dialect: &dyn Dialect) -> String {
    match dialect.source_file() {
        Some(_) => format!("dialects/{}.toml", dialect.name()),
        None => dialect.name().to_string(),
    }
}

/// What a suite written from a capture holds, said at its top.
const FROM_CAPTURE: &str =
    "# One case per distinct client as the server sees it, each weighed by its sessions in the
# capture.";

/// What a suite written with no capture holds, said at its top.
const NO_CASES_YET: &str =
    "# Its cases go in cases/: scripted ones (README \"Writing a scripted client\"), or a
# capture's clients (`harness import FILE --group --out DIR`).
#";

fn new_suite(dir: &Path, new: &NewSuite<'_>, holds: &str) -> String {
    let name = dir
        .file_name()
        .map_or_else(|| "imported".into(), |n| n.to_string_lossy());
    // Strings as TOML writes them (quoted, escaped); the comment without control characters.
    let quoted = |s: &str| value(s).to_string().trim().to_string();
    let comment: String = new
        .description
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        r#"# {comment}.
{holds} Add [[target]]s (a real server the run starts: command = ["bash", "server.sh",
# "{{port}}"]) or run it against any server: harness run DIR --target NAME=HOST:PORT. Once a
# run's verdicts are reviewed, `harness run DIR --bless` makes them the expectations.
name = {name}
description = {description}
dialect = "{dialect}"
cases = "cases"
{variables}"#,
        description = quoted(&new.description),
        name = quoted(&name),
        dialect = dialect_path(new.dialect),
        variables = replay_variables(new.dialect.name()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blessing_keeps_comments_and_other_expectations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suite.toml");
        std::fs::write(
            &path,
            "# mine\nname = \"s\"\ndialect = \"http\"\n\n[expect]\n# a note\n\"a\" = { \"old\" = \"admitted\" }\n",
        )
        .unwrap();
        write_expectations(
            &path,
            &[
                ("a".into(), "new".into(), "locked-out"),
                ("b".into(), "new".into(), "warned"),
            ],
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# mine\n"), "{text}");
        assert!(text.contains("# a note"), "{text}");
        assert!(
            text.contains(r#""a" = { "old" = "admitted", new = "locked-out" }"#),
            "{text}"
        );
        assert!(text.contains(r#"b = { new = "warned" }"#), "{text}");
    }

    #[test]
    fn expectations_written_inline_at_the_top_are_kept_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suite.toml");
        std::fs::write(
            &path,
            "name = \"s\"\nexpect = { a = { t = \"admitted\" }, b = { t = \"locked-out\" } }\n",
        )
        .unwrap();
        write_expectations(&path, &[("a".into(), "t".into(), "warned")]).unwrap();
        let written: toml::Value =
            toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(written["expect"]["a"]["t"].as_str(), Some("warned"));
        assert_eq!(written["expect"]["b"]["t"].as_str(), Some("locked-out"));
    }

    #[test]
    fn a_new_suite_file_is_toml_whatever_the_capture_is_called() {
        let dir = tempfile::tempdir().unwrap();
        let new = NewSuite {
            settings_from: None,
            dialect: crate::dialect::by_name("http").unwrap(),
            description: "2 clients of evil\n[[target]]\nname = \"x\" \"quoted\" \\".into(),
        };
        let path = write_population(dir.path(), &new, &[("a".into(), 2, None)], 0).unwrap();
        let written: toml::Value =
            toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(written.get("target").is_none(), "{written}");
        assert!(written["description"].as_str().unwrap().contains('\n'));
        assert_eq!(written["population"]["a"].as_integer(), Some(2));
    }

    #[test]
    fn sessions_not_run_are_written_and_dropped_when_a_later_import_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let new = NewSuite {
            settings_from: None,
            dialect: crate::dialect::by_name("http").unwrap(),
            description: "clients".into(),
        };
        let read = |path: &Path| -> toml::Value {
            toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        };
        let path = write_population(dir.path(), &new, &[("a".into(), 2, None)], 7).unwrap();
        assert_eq!(read(&path)["population_not_run"].as_integer(), Some(7));
        let path = write_population(dir.path(), &new, &[("a".into(), 2, None)], 0).unwrap();
        assert!(read(&path).get("population_not_run").is_none());
    }
}
