//! What the suite deprecates (`[dialect_settings] deprecated_methods`): an admission to one
//! of these authentication methods is a warning.

use crate::dialect::SettingError;
use std::collections::BTreeMap;

pub const DEPRECATED_METHODS: &str = "deprecated_methods";
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

#[derive(Debug, Clone)]
pub struct PgPolicy {
    pub deprecated_methods: Vec<String>,
}

impl Default for PgPolicy {
    /// MD5 (deprecated since PostgreSQL 18) and cleartext passwords.
    fn default() -> PgPolicy {
        PgPolicy {
            deprecated_methods: vec!["md5".into(), "password".into()],
        }
    }
}

impl PgPolicy {
    pub fn from_settings(table: &BTreeMap<String, toml::Value>) -> Result<PgPolicy, SettingError> {
        let Some(methods) = crate::dialect::string_list(table, DEPRECATED_METHODS)? else {
            return Ok(PgPolicy::default());
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
        })
    }
}
