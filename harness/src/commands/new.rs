//! `harness new DIR --dialect D [--from-capture FILE --port P] [--server TEMPLATE]`: a suite
//! folder that runs as written: `suite.toml`, one case per distinct client of a capture (as
//! `import --group` writes them), a server script from a template that keeps the server-script
//! contract with a `[[target]]` that starts it, and the starter workflow for GitHub Actions.
//! Nothing already there is overwritten.

use super::Failure;
use crate::cli::{Cli, Command, NewArgs};
use crate::exit;
use crate::suite::edit::{self, CommandTarget, NewSuite};
use clap::Parser;
use std::path::{Path, PathBuf};

/// A real server a suite can start: its script (and the files beside it it reads), the
/// arguments after the script (`{port}` the free port), and the Debian packages it needs; for
/// a protocol spoken by a dialect file, that file, written to `dialects/DIALECT.toml`.
struct Template {
    name: &'static str,
    dialect: &'static str,
    dialect_file: Option<&'static str>,
    package: &'static str,
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    ready_when: Option<&'static str>,
    max_connections: Option<u32>,
    about: &'static str,
}

/// Fresh templates where a shipped script holds a policy of its own (nginx); the shipped
/// suites' scripts, in their most permissive configuration, where they are already general.
const TEMPLATES: &[Template] = &[
    Template {
        name: "nginx",
        dialect: "http",
        dialect_file: None,
        package: "nginx-light",
        files: &[("nginx.sh", include_str!("../../templates/servers/nginx.sh"))],
        args: &["{port}"],
        ready_when: None,
        max_connections: None,
        about: "nginx admitting every request: put your policy in servers/nginx.sh.",
    },
    Template {
        name: "apache",
        dialect: "http",
        dialect_file: None,
        package: "apache2",
        files: &[(
            "apache.sh",
            include_str!("../../../suites/http-sunset/servers/apache.sh"),
        )],
        args: &["before", "{port}"],
        ready_when: None,
        max_connections: None,
        about: "Apache httpd admitting every request (phase `before`; servers/apache.sh has the others).",
    },
    Template {
        name: "sshd",
        dialect: "ssh",
        dialect_file: None,
        package: "openssh-server",
        files: &[
            (
                "sshd.sh",
                include_str!("../../../suites/ssh-hardening/servers/sshd.sh"),
            ),
            (
                "hostkeys.sh",
                include_str!("../../../suites/ssh-hardening/servers/hostkeys.sh"),
            ),
        ],
        args: &["legacy", "{port}"],
        ready_when: None,
        max_connections: None,
        about: "OpenSSH's sshd with every algorithm it has (policy `legacy`; servers/sshd.sh has the others).",
    },
    Template {
        name: "dropbear",
        dialect: "ssh",
        dialect_file: None,
        package: "dropbear-bin",
        files: &[
            (
                "dropbear.sh",
                include_str!("../../../suites/ssh-hardening/servers/dropbear.sh"),
            ),
            (
                "hostkeys.sh",
                include_str!("../../../suites/ssh-hardening/servers/hostkeys.sh"),
            ),
        ],
        args: &["legacy", "{port}"],
        ready_when: None,
        // Dropbear refuses a sixth unauthenticated connection from one address.
        max_connections: Some(3),
        about: "Dropbear with every host key type it has (policy `legacy`; servers/dropbear.sh has the others).",
    },
    Template {
        name: "postgres",
        dialect: "postgres",
        dialect_file: None,
        package: "postgresql",
        files: &[(
            "postgres.sh",
            include_str!("../../../suites/postgres-upgrade/servers/postgres.sh"),
        )],
        args: &["permissive", "{port}"],
        // PostgreSQL accepts connections while it starts, only to refuse them.
        ready_when: Some("ready to accept connections"),
        max_connections: None,
        about: "PostgreSQL letting every driver reach authentication (configuration `permissive`; servers/postgres.sh has the others).",
    },
    Template {
        name: "postfix",
        dialect: "smtp",
        dialect_file: Some(include_str!(
            "../../../suites/smtp-submission/dialects/smtp.toml"
        )),
        package: "postfix sasl2-bin libsasl2-modules",
        files: &[(
            "postfix.sh",
            include_str!("../../../suites/smtp-submission/servers/postfix.sh"),
        )],
        args: &["today", "{port}"],
        ready_when: Some("daemon started"),
        max_connections: None,
        about: "Postfix submission taking AUTH in the clear too (policy `today`; servers/postfix.sh has the others; needs root).",
    },
    Template {
        name: "dovecot",
        dialect: "imap",
        dialect_file: Some(include_str!(
            "../../../suites/imap-dovecot/dialects/imap.toml"
        )),
        package: "dovecot-imapd socat",
        files: &[(
            "dovecot.sh",
            include_str!("../../../suites/imap-dovecot/servers/dovecot.sh"),
        )],
        args: &["today", "{port}"],
        ready_when: Some("dovecot.sh: ready"),
        max_connections: None,
        about: "Dovecot IMAP taking passwords in the clear too (policy `today`; servers/dovecot.sh has the others; needs root).",
    },
    Template {
        name: "dovecot-pop3",
        dialect: "pop3",
        dialect_file: Some(include_str!(
            "../../../suites/pop3-dovecot/dialects/pop3.toml"
        )),
        package: "dovecot-pop3d socat",
        files: &[(
            "dovecot.sh",
            include_str!("../../../suites/imap-dovecot/servers/dovecot.sh"),
        )],
        args: &["today", "{port}", "pop3"],
        ready_when: Some("dovecot.sh: ready"),
        max_connections: None,
        about: "Dovecot POP3 taking passwords in the clear too (policy `today`; servers/dovecot.sh has the others; needs root).",
    },
];

const WORKFLOW: &str = include_str!("../../templates/workflow.yml");

/// The starter workflow for a repository whose suites are `suites` (space-separated, relative
/// to the repository), installing the Debian `packages` its servers need.
pub fn starter_workflow(suites: &str, packages: &[&str]) -> String {
    WORKFLOW
        .lines()
        .filter(|line| !(packages.is_empty() && line.contains("{packages}")))
        .map(|line| {
            line.replace("{packages}", &packages.join(" "))
                .replace("{suites}", suites)
                + "\n"
        })
        .collect()
}

pub fn new(args: &NewArgs) -> Result<i32, Failure> {
    if args.server.as_deref() == Some("list") {
        for t in TEMPLATES {
            crate::outln!("{:<10} {:<9} {}", t.name, t.dialect, t.about);
        }
        return Ok(exit::SUCCESS);
    }
    let Some(dir) = &args.dir else {
        return Err(Failure::Usage(
            "give the suite's folder: harness new DIR --dialect D".into(),
        ));
    };
    let template = args.server.as_deref().map(template).transpose()?;
    // A server template says what its clients speak.
    let Some(named) = args.dialect.as_deref().or(template.map(|t| t.dialect)) else {
        return Err(Failure::Usage(
            "give the suite's protocol: --dialect D (`harness dialects` lists them)".into(),
        ));
    };
    if let Some(t) = template
        && t.dialect != named
        && (t.dialect_file.is_some() || t.dialect != super::dialect(named)?.name())
    {
        return Err(Failure::Usage(format!(
            "--server {} speaks {}, and the suite's dialect is {named}",
            t.name, t.dialect,
        )));
    }
    // A template's dialect file is written into the suite and read from there.
    let dialect_file = template
        .and_then(|t| t.dialect_file.map(|text| (t, text)))
        .map(|(t, text)| {
            (
                dir.join("dialects").join(format!("{}.toml", t.dialect)),
                text,
            )
        });
    // Everything that would be overwritten is refused before anything is written.
    let workflow = workflow_place(dir, args.workflow)?;
    let mut written: Vec<PathBuf> = vec![dir.join("suite.toml")];
    written.extend(dialect_file.iter().map(|(path, _)| path.clone()));
    written.extend(template.iter().flat_map(|t| {
        t.files
            .iter()
            .map(|(file, _)| dir.join("servers").join(file))
    }));
    written.extend(workflow.iter().map(|(file, _)| file.clone()));
    if let Some(there) = written.iter().find(|p| p.exists()) {
        return Err(Failure::Usage(format!(
            "{} already exists; harness new writes a new suite and overwrites nothing",
            there.display()
        )));
    }
    let existed = dir.exists();
    std::fs::create_dir_all(dir).map_err(|e| runtime(dir, e))?;
    let dialect_name = match &dialect_file {
        Some((path, text)) => {
            write_file(path, text.as_bytes(), false)?;
            path.display().to_string()
        }
        None => named.to_string(),
    };
    let dialect_name = dialect_name.as_str();
    let dialect = super::dialect(dialect_name)?;
    match &args.from_capture {
        Some(capture) => {
            if let Err(failure) = import_clients(dir, dialect_name, capture, args.port) {
                // What the import created and left empty goes: a failed `new` leaves nothing.
                let _ = std::fs::remove_dir(dir.join("cases"));
                if let Some((path, _)) = &dialect_file {
                    let _ = std::fs::remove_file(path);
                    let _ = std::fs::remove_dir(dir.join("dialects"));
                }
                if !existed {
                    let _ = std::fs::remove_dir(dir);
                }
                return Err(failure);
            }
        }
        None => {
            let new = NewSuite {
                dialect,
                settings_from: None,
                description: format!("{} clients, written by `harness new`", dialect.name()),
            };
            edit::write_new(dir, &new).map_err(|e| Failure::Runtime(e.to_string()))?;
            let cases = dir.join("cases");
            std::fs::create_dir_all(&cases).map_err(|e| runtime(&cases, e))?;
            crate::outln!("wrote {}", dir.join("suite.toml").display());
        }
    }
    if let Some(t) = template {
        write_server(dir, t)?;
    }
    if let Some((file, suites)) = &workflow {
        let packages: Vec<&str> = template.iter().map(|t| t.package).collect();
        write_file(file, starter_workflow(suites, &packages).as_bytes(), false)?;
    }
    if args.from_capture.is_none() {
        crate::outln!(
            "next: add cases to {}/cases (scripted case files, or `harness import FILE --group --out {}`)",
            dir.display(),
            dir.display()
        );
    }
    crate::outln!(
        "then: harness run {dir} --accept   (records the first snapshots; after a change, `harness run {dir}` leaves .snap.new files for `harness review {dir}`)",
        dir = dir.display()
    );
    Ok(exit::SUCCESS)
}

fn template(name: &str) -> Result<&'static Template, Failure> {
    TEMPLATES.iter().find(|t| t.name == name).ok_or_else(|| {
        let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
        Failure::Usage(format!(
            "no server template {name}; there are {} (`harness new --server list` says more)",
            names.join(", ")
        ))
    })
}

/// The capture's distinct clients as the suite's cases, exactly as `harness import FILE
/// --group --out DIR` writes them (parsed as that command line, so its defaults are one).
fn import_clients(
    dir: &Path,
    dialect: &str,
    capture: &Path,
    port: Option<u16>,
) -> Result<(), Failure> {
    let port = port.map(|p| p.to_string());
    let mut line: Vec<std::ffi::OsString> = vec!["harness".into(), "import".into()];
    line.extend([capture.as_os_str().into(), "--group".into(), "--out".into()]);
    line.extend([dir.as_os_str().into(), "--dialect".into(), dialect.into()]);
    if let Some(port) = &port {
        line.extend(["--port".into(), port.into()]);
    }
    let parsed = Cli::try_parse_from(line).map_err(|e| Failure::Usage(e.to_string()))?;
    let Command::Import(import) = parsed.command else {
        return Err(Failure::Runtime(
            "the import's command line parsed as another command".into(),
        ));
    };
    let dialect = super::dialect(dialect)?;
    let (clients, sessions) = super::import_grouped::group(&import, dialect)?;
    if clients == 0 {
        return Err(Failure::Usage(format!(
            "{} holds no {} client{}; nothing was written",
            capture.display(),
            dialect.name(),
            port.map_or_else(String::new, |p| format!(" on port {p}"))
        )));
    }
    crate::outln!("{clients} distinct clients in {sessions} sessions");
    Ok(())
}

/// The template's files in `dir/servers/` and the `[[target]]` that starts it.
fn write_server(dir: &Path, t: &Template) -> Result<(), Failure> {
    for (file, text) in t.files {
        write_file(&dir.join("servers").join(file), text.as_bytes(), true)?;
    }
    let script = format!("servers/{}", t.files[0].0);
    let mut command = vec!["bash", script.as_str()];
    command.extend(t.args);
    let target = CommandTarget {
        name: t.name,
        command: &command,
        ready_when: t.ready_when,
        max_connections: t.max_connections,
        about: t.about,
    };
    edit::add_command_target(&dir.join("suite.toml"), &target)
        .map_err(|e| Failure::Runtime(e.to_string()))
}

/// Where the starter workflow goes, and the suite's path from there: DIR itself when it is a
/// repository's root; with `--workflow`, the repository DIR is in.
fn workflow_place(dir: &Path, asked: bool) -> Result<Option<(PathBuf, String)>, Failure> {
    let file = |root: &Path| root.join(".github/workflows/harness.yml");
    if dir.join(".git").exists() {
        return Ok(Some((file(dir), ".".into())));
    }
    if !asked {
        return Ok(None);
    }
    let absolute = std::path::absolute(dir).map_err(|e| runtime(dir, e))?;
    for root in absolute.ancestors().skip(1) {
        if root.join(".git").exists() {
            let suite = absolute.strip_prefix(root).unwrap_or(&absolute);
            return Ok(Some((file(root), suite.display().to_string())));
        }
    }
    Err(Failure::Usage(format!(
        "--workflow: {} is in no git repository (no .git at or above it)",
        dir.display()
    )))
}

fn write_file(path: &Path, bytes: &[u8], executable: bool) -> Result<(), Failure> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| runtime(parent, e))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if executable { 0o755 } else { 0o644 })
        .open(path)
        .map_err(|e| runtime(path, e))?;
    file.write_all(bytes).map_err(|e| runtime(path, e))?;
    crate::outln!("wrote {}", path.display());
    Ok(())
}

fn runtime(path: &Path, e: std::io::Error) -> Failure {
    Failure::Runtime(format!("cannot write {}: {e}", path.display()))
}
