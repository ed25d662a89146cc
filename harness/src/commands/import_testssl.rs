//! `harness import FILE --from testssl`: testssl.sh's client simulation file
//! (`etc/client-simulation.txt`, the user's own copy) into a TLS suite, which the TLS dialect
//! makes (`dialect::tls::testssl_suite`); this command reads the file, checks each case as
//! `harness check` would, and writes them beside a suite.toml to add targets to.

use super::Failure;
use crate::capture::output;
use crate::cli::ImportArgs;
use crate::dialect::Dialect;
use crate::dialect::tls::testssl_suite::{self, CaseCheck};
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
    let source = args
        .file
        .file_name()
        .map_or(file.clone(), |n| n.to_string_lossy().into_owned());
    // Every case is made and checked, as `harness check` checks a suite's, before anything
    // is written: a value the suite could not load stops the import with nothing written.
    let tls = crate::dialect::by_name("tls").expect("the tls dialect is built in");
    let imported = testssl_suite::import(&text, &file, &source, &Loader(tls), &mut |line| {
        crate::outln!("{line}")
    })
    .map_err(Failure::Usage)?;
    let (clients, cases) = (imported.clients, imported.cases);
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
        "{clients} clients in {file}: {written} importable, {} skipped",
        clients - written
    );
    let Some(out) = &args.out else {
        return Ok(exit::SUCCESS);
    };
    let suite = testssl_suite::suite_toml(&file, written);
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

/// The suite loader's checks of a case file, for the TLS dialect's import.
struct Loader(&'static dyn Dialect);

impl CaseCheck for Loader {
    fn stem(&self, stem: &str) -> Result<(), String> {
        crate::suite::file_name_part(stem)
    }

    fn case(&self, file_name: &str, text: &str) -> Result<(), (usize, usize, String)> {
        crate::case::parse_case(Path::new(file_name), text, &BTreeSet::new(), self.0)
            .map(|_| ())
            .map_err(|e| (e.line, e.column, e.message))
    }
}

fn write_failure(dir: &Path, e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        Failure::Usage(format!("{e} (--force replaces files in {})", dir.display()))
    } else {
        Failure::Runtime(e.to_string())
    }
}
