//! What a server's fatal alert means (`[dialect_settings]` `busy_alerts`, `error_alerts`,
//! `locked_out_alerts`, by description code): by default internal_error (80) is the server's
//! own fault and every other alert a lockout. A suite whose front end sends, say,
//! user_canceled (90) when it sheds load can call that busy.

use crate::dialect::{ClassList, RefusalClass, RefusalClasses, SettingError, refusal_lists};
use crate::verdict::{Verdict, VerdictKind};
use std::collections::BTreeMap;

pub const BUSY: &str = "busy_alerts";
pub const ERROR: &str = "error_alerts";
pub const LOCKED_OUT: &str = "locked_out_alerts";

const LISTS: [ClassList; 3] = refusal_lists((BUSY, &[]), (ERROR, &["80"]), LOCKED_OUT);

pub fn from_settings(
    table: &BTreeMap<String, toml::Value>,
) -> Result<RefusalClasses, SettingError> {
    RefusalClasses::from_settings(
        table,
        &LISTS,
        RefusalClass::LockedOut,
        |code| code.parse::<u8>().is_ok(),
        "an alert description code (0-255)",
    )
}

/// The defaults, read once per process: every conversation without a suite's settings
/// takes them.
pub fn defaults() -> RefusalClasses {
    static DEFAULTS: std::sync::LazyLock<RefusalClasses> = std::sync::LazyLock::new(|| {
        from_settings(&BTreeMap::new()).expect("the defaults are valid")
    });
    DEFAULTS.clone()
}

/// The lockout an alert gives, moved to its class.
pub fn classed(classes: &RefusalClasses, description: u8, lockout: Verdict) -> Verdict {
    match classes.class(&description.to_string()) {
        RefusalClass::LockedOut => lockout,
        RefusalClass::Busy => Verdict::busy(
            lockout.stage,
            format!(
                "the server was busy, not refusing the client: {}",
                lockout.reason
            ),
            lockout.decided_by,
            None,
        ),
        RefusalClass::Error => Verdict {
            kind: VerdictKind::Error,
            reason: format!("the server failed: {}", lockout.reason),
            ..lockout
        },
    }
}
