//! Which dialects exist: the built-in ones, and any a program (or a test) registers.

use super::Dialect;
use std::sync::RwLock;

/// The dialects that ship with harness.
const BUILT_IN: &[&dyn Dialect] = &[
    &super::msnp::Msnp,
    &super::tls::Tls,
    &super::http::Http,
    &super::ssh::Ssh,
    &super::postgres::Postgres,
    &super::mysql::Mysql,
];

/// Dialects registered at run time, after the built-in ones.
static REGISTERED: RwLock<Vec<&'static dyn Dialect>> = RwLock::new(Vec::new());

/// Adds a dialect, so suites, case files and `--dialect` can name it. Registering the same
/// dialect twice is harmless; another dialect under a taken name is refused.
pub fn register(dialect: &'static dyn Dialect) -> Result<(), String> {
    // Checked and added under one lock: two threads registering at once add it once.
    let mut registered = REGISTERED
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let taken = BUILT_IN
        .iter()
        .chain(registered.iter())
        .find(|d| d.name() == dialect.name());
    match taken {
        Some(existing) if std::ptr::addr_eq(*existing, dialect) => Ok(()),
        Some(_) => Err(format!(
            "a dialect named `{}` is already registered",
            dialect.name()
        )),
        None => {
            registered.push(dialect);
            Ok(())
        }
    }
}

/// Every dialect, built-in first, in a stable order.
pub fn all() -> Vec<&'static dyn Dialect> {
    let registered = REGISTERED
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    BUILT_IN
        .iter()
        .copied()
        .chain(registered.iter().copied())
        .collect()
}

/// The dialect named so in suite and case files. Called per case and per result: looks
/// through the built-in ones first, without collecting.
pub fn by_name(name: &str) -> Option<&'static dyn Dialect> {
    if let Some(dialect) = BUILT_IN.iter().find(|d| d.name() == name) {
        return Some(*dialect);
    }
    let registered = REGISTERED
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    registered.iter().copied().find(|d| d.name() == name)
}

/// The names [`by_name`] accepts.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|d| d.name()).collect()
}

/// The error for a name no dialect has.
pub fn unknown(name: &str) -> String {
    format!("unknown dialect `{name}` (known: {})", names().join(", "))
}
