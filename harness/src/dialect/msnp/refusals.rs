//! What an MSNP error code means (`[dialect_settings]` `busy_error_codes`,
//! `error_error_codes`, `locked_out_error_codes`): by default the codes the 2003 servers used
//! for being busy or down (600, 601, 604, 910-922's "too busy" and "unavailable") are an
//! error counted as busy, 500 is the server's fault, and every other code a lockout.

use crate::dialect::{
    ClassList, FromSettings, RefusalClass, RefusalClasses, SettingError, refusal_lists,
};
use std::collections::BTreeMap;

pub const BUSY: &str = "busy_error_codes";
pub const ERROR: &str = "error_error_codes";
pub const LOCKED_OUT: &str = "locked_out_error_codes";

const LISTS: [ClassList; 3] = refusal_lists(
    (
        BUSY,
        &[
            "600", "601", "604", "910", "912", "914", "915", "916", "918", "919", "921", "922",
        ],
    ),
    (ERROR, &["500"]),
    LOCKED_OUT,
);

/// The MSNP dialect's typed settings.
pub fn from_settings(
    table: &BTreeMap<String, toml::Value>,
) -> Result<RefusalClasses, SettingError> {
    RefusalClasses::from_settings(
        table,
        &LISTS,
        RefusalClass::LockedOut,
        |code| code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()),
        "a three-digit error code",
    )
}

/// The MSNP dialect's settings: what each error code means; by default, [`defaults`].
#[derive(Debug, Clone)]
pub struct Refusals(pub RefusalClasses);

impl FromSettings for Refusals {
    fn from_settings(table: &BTreeMap<String, toml::Value>) -> Result<Refusals, SettingError> {
        from_settings(table).map(Refusals)
    }
}

impl Default for Refusals {
    fn default() -> Self {
        Refusals(defaults())
    }
}

/// The defaults, read once per process: every conversation without a suite's settings
/// takes them.
pub fn defaults() -> RefusalClasses {
    static DEFAULTS: std::sync::LazyLock<RefusalClasses> = std::sync::LazyLock::new(|| {
        from_settings(&BTreeMap::new()).expect("the defaults are valid")
    });
    DEFAULTS.clone()
}
