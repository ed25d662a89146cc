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
    }
}

pub fn dialects(args: &DialectsArgs) -> Result<i32, Failure> {
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
