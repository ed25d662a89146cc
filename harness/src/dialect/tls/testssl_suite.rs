//! testssl.sh's client simulation file (`etc/client-simulation.txt`) as a TLS suite: one case
//! file per client that the suite loader accepts, what is skipped and why, and the suite.toml
//! beside them. `harness import --from testssl` reads the file and writes what this makes.

use super::testssl::{self, CaseText, Client, Place};
use std::collections::BTreeSet;

/// The suite loader's checks, which this module leaves to its caller (the dialect does not
/// know case files): a case file's stem, and its whole text.
pub trait CaseCheck {
    /// Whether `stem` may name a case file.
    fn stem(&self, stem: &str) -> Result<(), String>;
    /// Whether `text` loads as a TLS case file called `file_name`: else the line, column and
    /// message of the first mistake.
    fn case(&self, file_name: &str, text: &str) -> Result<(), (usize, usize, String)>;
}

/// The clients of a client simulation file and the case files made of them.
pub struct Imported {
    /// How many clients the file has.
    pub clients: usize,
    /// Case files to write: file name, text.
    pub cases: Vec<(String, String)>,
}

/// Every client of `text` (read from `file`, called `source` in the cases' headers) as a case
/// file, each checked as the loader would before any is returned: a value it could not load
/// stops the import, naming the client file's line and column. What is skipped or left out,
/// and the file's warnings, go to `note` as they are found.
pub fn import(
    text: &str,
    file: &str,
    source: &str,
    loader: &dyn CaseCheck,
    note: &mut dyn FnMut(String),
) -> Result<Imported, String> {
    let (clients, warnings) = testssl::parse(text)
        .map_err(|e| format!("{file}:{}:{}: {}", e.line, e.column, e.message))?;
    for w in &warnings {
        note(format!(
            "{file}:{}:{}: warning: {}",
            w.line, w.column, w.message
        ));
    }
    if clients.is_empty() {
        return Err(format!(
            "{file}: no clients (a client's block starts with `names+=(...)`)"
        ));
    }
    let mut cases = Vec::new();
    let mut names = BTreeSet::new();
    for client in &clients {
        let short = client.short();
        let case = match client.case_file(source) {
            Ok(case) => case,
            Err(why) => {
                note(format!("skipped `{short}` (line {}): {why}", client.line));
                continue;
            }
        };
        let file_name = format!("{short}.toml");
        check(client, &case, &file_name, loader).map_err(|(place, message)| {
            format!(
                "{file}:{}:{}: `{}` of client `{short}` cannot be imported: {message}",
                place.line, place.column, place.key
            )
        })?;
        if !names.insert(short.to_string()) {
            note(format!(
                "skipped `{short}` (line {}): a client before it has the same short name",
                client.line
            ));
            continue;
        }
        let unknown = client.unknown_curves();
        if !unknown.is_empty() {
            note(format!(
                "`{short}` (line {}): curves IANA's registry does not name ({}), so its curve constraint is left out",
                client.line,
                unknown.join(", ")
            ));
        }
        cases.push((file_name, case.text));
    }
    Ok(Imported {
        clients: clients.len(),
        cases,
    })
}

/// What the suite loader would say of the case written for `client` as `file_name`, said of
/// the value in the client file it comes from: its checks of a case file's name and contents,
/// and the one value the import reads itself (`current`).
fn check(
    client: &Client,
    case: &CaseText,
    file_name: &str,
    loader: &dyn CaseCheck,
) -> Result<(), (Place, String)> {
    if client.short().is_empty() {
        let message = "it has no short name, which names its case file";
        return Err((client.place("short"), message.into()));
    }
    loader
        .stem(client.short())
        .map_err(|e| (client.place("short"), e))?;
    client.current_value()?;
    loader
        .case(file_name, &case.text)
        .map_err(|(line, column, message)| (client.place_in(case, line, column), message))
}

/// The suite.toml beside `cases` imported cases from `file`.
pub fn suite_toml(file: &str, cases: usize) -> String {
    format!(
        r#"# testssl.sh's simulated clients, imported from {file} by `harness import --from testssl`:
# one case per client, its recorded ClientHello replayed with {{host}} as its server name, its
# constraints (min_dh_bits, requires_sha2, curves, ...) as case variables. Add [[target]]s and
# [expect]ations, or run it against any server with `harness run DIR --target HOST:PORT`.
name = "testssl-clients"
description = "{cases} clients of testssl.sh's client simulation"
dialect = "tls"
cases = "cases"

# The server name every hello carries (an IP address is not a valid one).
[variables]
host = "localhost"
"#
    )
}
