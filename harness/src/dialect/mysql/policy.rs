//! What the suite deprecates and how ERR codes read (`[dialect_settings]`): an admission
//! with a plugin in `deprecated_plugins` (default mysql_native_password, mysql_old_password,
//! sha256_password) or over TLS below `min_tls` warns; `busy_errors` (1040 too many
//! connections, 1203 max_user_connections, ...) are a busy server, never a lockout;
//! `error_errors` are the server's faults or the harness's; every other code locks out.
//! `refused_in_clear` reads a 1045 to a client without TLS as MariaDB's refusal of clear text.

use crate::dialect::{
    ClassList, FromSettings, RefusalClass, RefusalClasses, SettingError, refusal_lists,
};
use std::collections::BTreeMap;

pub const DEPRECATED_PLUGINS: &str = "deprecated_plugins";
pub const BUSY: &str = "busy_errors";
pub const ERROR: &str = "error_errors";
pub const LOCKED_OUT: &str = "locked_out_errors";
pub const REFUSED_IN_CLEAR: &str = "refused_in_clear";

/// Too many connections (1040), a shutdown in progress (1053), max_user_connections (1203)
/// and a per-hour resource limit (1226) are the server's state, not its policy on the
/// client. Out of memory (1037, 1041), a bad handshake (1043: the harness's own packet),
/// network errors (1158–1161) and an unknown error (1105) are faults.
const REFUSALS: [ClassList; 3] = refusal_lists(
    (BUSY, &["1040", "1053", "1203", "1226"]),
    (
        ERROR,
        &[
            "1037", "1041", "1043", "1105", "1158", "1159", "1160", "1161",
        ],
    ),
    LOCKED_OUT,
);

#[derive(Debug, Clone)]
pub struct MysqlPolicy {
    pub deprecated_plugins: Vec<String>,
    pub refusals: RefusalClasses,
    /// The server answers a client without TLS with 1045 (MariaDB's require_secure_transport
    /// and `REQUIRE SSL`): a 1045 to a client in the clear that answered with the suite's
    /// password is that refusal. Over TLS a 1045 is always a wrong password.
    pub refused_in_clear: bool,
}

impl Default for MysqlPolicy {
    fn default() -> MysqlPolicy {
        static DEFAULTS: std::sync::LazyLock<MysqlPolicy> = std::sync::LazyLock::new(|| {
            MysqlPolicy::from_settings(&BTreeMap::new()).expect("the defaults are valid")
        });
        DEFAULTS.clone()
    }
}

impl FromSettings for MysqlPolicy {
    fn from_settings(table: &BTreeMap<String, toml::Value>) -> Result<MysqlPolicy, SettingError> {
        let refusals = RefusalClasses::from_settings(
            table,
            &REFUSALS,
            RefusalClass::LockedOut,
            |code| (1..=5).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()),
            "an error number",
        )?;
        let deprecated_plugins = crate::dialect::string_list(table, DEPRECATED_PLUGINS)?
            .unwrap_or_else(|| {
                [
                    "mysql_native_password",
                    "mysql_old_password",
                    "sha256_password",
                ]
                .map(String::from)
                .to_vec()
            });
        let refused_in_clear = match table.get(REFUSED_IN_CLEAR) {
            None => false,
            Some(value) => value
                .as_bool()
                .ok_or_else(|| SettingError::new(REFUSED_IN_CLEAR, "expected true or false"))?,
        };
        Ok(MysqlPolicy {
            deprecated_plugins,
            refusals,
            refused_in_clear,
        })
    }
}
