//! What the suite deprecates (`[dialect_settings] deprecated_methods`): an admission to one
//! of these authentication methods is a warning. And which ErrorResponses are the server's
//! policy, which its being busy, which its faults (`busy_sqlstates`, `error_sqlstates`,
//! `locked_out_sqlstates`; any other SQLSTATE locks out).

use crate::dialect::{
    ClassList, FromSettings, RefusalClass, RefusalClasses, SettingError, refusal_lists,
};
use std::collections::BTreeMap;

pub const DEPRECATED_METHODS: &str = "deprecated_methods";
pub const BUSY: &str = "busy_sqlstates";
pub const ERROR: &str = "error_sqlstates";
pub const LOCKED_OUT: &str = "locked_out_sqlstates";
/// The methods a server asks for, as pg_hba.conf names them.
pub const METHODS: &[&str] = &[
    "trust",
    "password",
    "md5",
    "scram-sha-256",
    "gss",
    "sspi",
    "krb5",
    "scm-credential",
];

/// Too many connections (53300), a configuration limit such as
/// `max_connections` per role or database (53400), an administrator or crash shutdown
/// (57P01, 57P02) and a server starting up, shutting down or in recovery (57P03): the server
/// would take the client another time. Resource failures (the rest of class 53), system
/// errors (58) and internal errors (XX) are the server's faults.
const REFUSALS: [ClassList; 3] = refusal_lists(
    (BUSY, &["53300", "53400", "57P01", "57P02", "57P03"]),
    (ERROR, &["53*", "58*", "XX*"]),
    LOCKED_OUT,
);

#[derive(Debug, Clone)]
pub struct PgPolicy {
    pub deprecated_methods: Vec<String>,
    pub refusals: RefusalClasses,
}

impl Default for PgPolicy {
    /// MD5 (deprecated since PostgreSQL 18) and cleartext passwords.
    fn default() -> PgPolicy {
        static DEFAULTS: std::sync::LazyLock<PgPolicy> = std::sync::LazyLock::new(|| {
            PgPolicy::from_settings(&BTreeMap::new()).expect("the defaults are valid")
        });
        DEFAULTS.clone()
    }
}

impl FromSettings for PgPolicy {
    fn from_settings(table: &BTreeMap<String, toml::Value>) -> Result<PgPolicy, SettingError> {
        let refusals = RefusalClasses::from_settings(
            table,
            &REFUSALS,
            RefusalClass::LockedOut,
            is_sqlstate,
            "a SQLSTATE",
        )?;
        let Some(methods) = crate::dialect::string_list(table, DEPRECATED_METHODS)? else {
            return Ok(PgPolicy {
                deprecated_methods: vec!["md5".into(), "password".into()],
                refusals,
            });
        };
        if let Some(bad) = methods.iter().find(|m| !METHODS.contains(&m.as_str())) {
            return Err(SettingError::new(
                DEPRECATED_METHODS,
                format!("`{bad}` is not an authentication method"),
            )
            .with_help(format!("methods: {}", METHODS.join(", "))));
        }
        Ok(PgPolicy {
            deprecated_methods: methods,
            refusals,
        })
    }
}

/// Five digits or capital letters, as `53300` or `57P03`.
fn is_sqlstate(code: &str) -> bool {
    code.len() == 5
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}
