//! `harness dialects`: what each dialect offers, for people (a table) and tools (JSON).

use super::Failure;
use crate::cli::{DialectsArgs, DialectsFormat};
use crate::dialect::{self, Dialect, Doc};
use crate::exit;
use serde::Serialize;

#[derive(Serialize)]
struct Entry {
    name: &'static str,
    summary: &'static str,
    default_port: u16,
    reference_server: bool,
    variables: &'static [&'static str],
    step_kinds: &'static [Doc],
    settings: &'static [Doc],
    /// The dialect file, for a declarative dialect.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

fn entry(d: &dyn Dialect) -> Entry {
    Entry {
        name: d.name(),
        summary: d.summary(),
        default_port: d.default_port(),
        reference_server: d.reference_server().is_some(),
        variables: d.variables(),
        step_kinds: d.step_kinds(),
        settings: d.setting_keys(),
        source: d.source_file().map(|p| p.display().to_string()),
    }
}

pub fn dialects(args: &DialectsArgs) -> Result<i32, Failure> {
    for file in &args.files {
        let name = file.to_string_lossy();
        if !dialect::declarative::is_path(&name) {
            return Err(Failure::Usage(format!(
                "dialects {name}: a dialect file's name ends in .toml"
            )));
        }
        super::dialect(&name)?;
    }
    if let Some(suite) = &args.suite {
        crate::suite::load_suite(suite).map_err(|e| Failure::Usage(e.to_string()))?;
    }
    let entries: Vec<Entry> = dialect::all().into_iter().map(entry).collect();
    match args.format {
        DialectsFormat::Json => {
            crate::outln!(
                "{}",
                serde_json::to_string_pretty(&entries).unwrap_or_default()
            );
        }
        DialectsFormat::Table => {
            for (i, e) in entries.iter().enumerate() {
                if i > 0 {
                    crate::outln!("");
                }
                crate::outln!("{} — {}", e.name, e.summary);
                if let Some(source) = &e.source {
                    crate::outln!("  source file:      {source}");
                }
                crate::outln!("  default port:     {}", e.default_port);
                crate::outln!(
                    "  reference server: {}",
                    if e.reference_server {
                        "yes (harness serve, `policy` targets)"
                    } else {
                        "no"
                    }
                );
                if !e.variables.is_empty() {
                    let names: Vec<String> =
                        e.variables.iter().map(|v| format!("{{{v}}}")).collect();
                    crate::outln!("  its variables:    {}", names.join(", "));
                }
                crate::outln!("  steps:");
                for kind in e.step_kinds {
                    crate::outln!("    {:<18} {}", kind.name, kind.about);
                }
                if e.settings.is_empty() {
                    crate::outln!("  settings: none");
                } else {
                    crate::outln!("  settings ([dialect_settings]):");
                    for key in e.settings {
                        crate::outln!("    {:<18} {}", key.name, key.about);
                    }
                }
            }
        }
    }
    Ok(exit::SUCCESS)
}
