//! `harness import FILE --from testssl`: testssl.sh's client simulation file
//! (`etc/client-simulation.txt`, the user's own copy) into a TLS suite: one case per client,
//! its recorded ClientHello and its constraints, beside a suite.toml to add targets to.

use super::Failure;
use crate::capture::output;
use crate::cli::ImportArgs;
use crate::dialect::Dialect;
use crate::dialect::tls::testssl;
use crate::exit;
use std::collections::BTreeSet;
use std::path::Path;

pub fn import_testssl(args: &ImportArgs) -> Result<i32, Failure> {
    if let Some(dialect) = args.dialect.as_deref().filter(|d| *d != "tls") {
        return Err(Failure::Usage(format!(
            "--from testssl makes TLS cases, not {dialect}"
        )));
    }
    let file = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Failure::Usage(format!("cannot read {file}: {e}")))?;
    let (clients, warnings) = testssl::parse(&text)
        .map_err(|e| Failure::Usage(format!("{file}:{}:{}: {}", e.line, e.column, e.message)))?;
    for w in &warnings {
        crate::outln!("{file}:{}:{}: warning: {}", w.line, w.column, w.message);
    }
    if clients.is_empty() {
        return Err(Failure::Usage(format!(
            "{file}: no clients (a client's block starts with `names+=(...)`)"
        )));
    }
    let source = args
        .file
        .file_name()
        .map_or(file.clone(), |n| n.to_string_lossy().into_owned());
    // Every case is made and checked, as `harness check` checks a suite's, before anything
    // is written: a value the suite could not load stops the import with nothing written.
    let tls = crate::dialect::by_name("tls").expect("the tls dialect is built in");
    let mut cases = Vec::new();
    let mut names = BTreeSet::new();
    for client in &clients {
        let short = client.short();
        let case = match client.case_file(&source) {
            Ok(case) => case,
            Err(why) => {
                crate::outln!("skipped `{short}` (line {}): {why}", client.line);
                continue;
            }
        };
        let file_name = format!("{short}.toml");
        check(client, &case, &file_name, tls).map_err(|(place, message)| {
            Failure::Usage(format!(
                "{file}:{}:{}: `{}` of client `{short}` cannot be imported: {message}",
                place.line, place.column, place.key
            ))
        })?;
        if !names.insert(short.to_string()) {
            crate::outln!(
                "skipped `{short}` (line {}): a client before it has the same short name",
                client.line
            );
            continue;
        }
        let unknown = client.unknown_curves();
        if !unknown.is_empty() {
            crate::outln!(
                "`{short}` (line {}): curves IANA's registry does not name ({}), so its curve constraint is left out",
                client.line,
                unknown.join(", ")
            );
        }
        cases.push((file_name, case.text));
    }
    let written = cases.len();
    if let Some(dir) = args.out.as_ref().map(|out| out.join("cases")) {
        std::fs::create_dir_all(&dir)
            .map_err(|e| Failure::Runtime(format!("cannot create {}: {e}", dir.display())))?;
        for (file_name, text) in &cases {
            output::write_new(&dir, file_name, text.as_bytes(), args.force)
                .map_err(|e| write_failure(&dir, e))?;
        }
    }
    crate::outln!(
        "{} clients in {file}: {written} importable, {} skipped",
        clients.len(),
        clients.len() - written
    );
    let Some(out) = &args.out else {
        return Ok(exit::SUCCESS);
    };
    let suite = suite_toml(&file, written);
    // Never replaced, not even with --force: it holds the user's targets and expectations.
    match output::write_new(out, "suite.toml", suite.as_bytes(), false) {
        Ok(path) => crate::outln!("wrote {} and {written} cases", path.display()),
        // The user's own suite.toml, with its targets, is kept.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            crate::outln!("kept {}/suite.toml; wrote {written} cases", out.display())
        }
        Err(e) => return Err(write_failure(out, e)),
    }
    crate::outln!(
        "add [[target]]s to its suite.toml, or run it against any server: harness run {} --target HOST:PORT",
        out.display()
    );
    Ok(exit::SUCCESS)
}

/// What `harness check` would say of the case written for `client` as `file_name`, said of
/// the value in the client file it comes from: the suite loader's own checks of a case file's
/// name and contents, and the one value the import reads itself (`current`).
fn check(
    client: &testssl::Client,
    case: &testssl::CaseText,
    file_name: &str,
    tls: &'static dyn Dialect,
) -> Result<(), (testssl::Place, String)> {
    if client.short().is_empty() {
        let message = "it has no short name, which names its case file";
        return Err((client.place("short"), message.into()));
    }
    // The suite loader's check of a case file's stem, the case's name.
    crate::suite::file_name_part(client.short()).map_err(|e| (client.place("short"), e))?;
    client.current_value()?;
    let known = BTreeSet::new();
    crate::case::parse_case(Path::new(file_name), &case.text, &known, tls)
        .map(|_| ())
        .map_err(|e| (client.place_in(case, e.line, e.column), e.message))
}

fn write_failure(dir: &Path, e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        Failure::Usage(format!("{e} (--force replaces files in {})", dir.display()))
    } else {
        Failure::Runtime(e.to_string())
    }
}

fn suite_toml(file: &str, cases: usize) -> String {
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
