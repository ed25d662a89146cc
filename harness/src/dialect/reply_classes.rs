//! Which refusals are the server's policy, which are it being busy, which are its own faults:
//! one table per dialect, keyed by the code its refusals carry (a PostgreSQL SQLSTATE, an SSH
//! disconnect reason, an MSNP error number), with defaults the suite's `[dialect_settings]`
//! can override, as HTTP's status lists do.

use super::SettingError;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a refusal means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalClass {
    /// The server's policy turns this client away: a lockout.
    LockedOut,
    /// The server turns everyone away for now (too many connections, shutting down): an
    /// error counted as busy, never a lockout.
    Busy,
    /// The server failed: an error.
    Error,
}

/// One list of codes a suite can set: its settings key, the class, and its default codes.
pub struct ClassList {
    pub key: &'static str,
    pub class: RefusalClass,
    pub default: &'static [&'static str],
}

/// The three lists every dialect's refusals take: busy, error, and locked out (whose default is
/// empty: what no list names locks out).
pub const fn refusal_lists(
    busy: (&'static str, &'static [&'static str]),
    error: (&'static str, &'static [&'static str]),
    locked_out: &'static str,
) -> [ClassList; 3] {
    [
        ClassList {
            key: busy.0,
            class: RefusalClass::Busy,
            default: busy.1,
        },
        ClassList {
            key: error.0,
            class: RefusalClass::Error,
            default: error.1,
        },
        ClassList {
            key: locked_out,
            class: RefusalClass::LockedOut,
            default: &[],
        },
    ]
}

/// Codes, exact or as a prefix written `53*`, each with its class; a code no list names gets
/// the table's default class. Shared, not copied: every connection's conversation holds one.
#[derive(Debug, Clone)]
pub struct RefusalClasses(Arc<Table>);

#[derive(Debug)]
struct Table {
    exact: BTreeMap<String, RefusalClass>,
    /// Longest prefix first, so `57P0*` outranks `57*`.
    prefixes: Vec<(String, RefusalClass)>,
    otherwise: RefusalClass,
}

impl RefusalClasses {
    /// Reads `lists` from the settings (each list the suite gives replaces that list's
    /// default); `valid` says whether a code (without its `*`) is one the dialect knows, and
    /// `what` names such a code in errors ("a SQLSTATE").
    pub fn from_settings(
        table: &BTreeMap<String, toml::Value>,
        lists: &[ClassList],
        otherwise: RefusalClass,
        valid: fn(&str) -> bool,
        what: &str,
    ) -> Result<RefusalClasses, SettingError> {
        let mut classes = Table {
            exact: BTreeMap::new(),
            prefixes: Vec::new(),
            otherwise,
        };
        let mut owners: BTreeMap<String, &str> = BTreeMap::new();
        // Defaults first, then the suite's lists, so the suite's word wins over a default.
        let (given, defaulted): (Vec<&ClassList>, Vec<&ClassList>) =
            lists.iter().partition(|l| table.contains_key(l.key));
        for list in defaulted.into_iter().chain(given) {
            let codes = match super::string_list(table, list.key)? {
                Some(codes) => codes,
                None => list.default.iter().map(|c| c.to_string()).collect(),
            };
            let from_suite = table.contains_key(list.key);
            for code in codes {
                let normal = code.trim().to_ascii_uppercase();
                let (stem, is_prefix) = match normal.strip_suffix('*') {
                    Some(stem) => (stem.to_string(), true),
                    None => (normal.clone(), false),
                };
                if (!is_prefix && !valid(&stem)) || (is_prefix && stem.is_empty()) {
                    return Err(
                        SettingError::new(list.key, format!("`{code}` is not {what}")).with_help(
                            format!("{what}, or a prefix such as `{}*`", example(lists)),
                        ),
                    );
                }
                if from_suite && let Some(other) = owners.insert(normal.clone(), list.key) {
                    return Err(SettingError::new(
                        list.key,
                        format!("`{code}` is also in {other}"),
                    ));
                }
                if is_prefix {
                    classes.prefixes.retain(|(p, _)| *p != stem);
                    classes.prefixes.push((stem, list.class));
                } else {
                    classes.exact.insert(stem, list.class);
                }
            }
        }
        classes
            .prefixes
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Ok(RefusalClasses(Arc::new(classes)))
    }

    /// The class of a refusal carrying `code`.
    pub fn class(&self, code: &str) -> RefusalClass {
        let table = &self.0;
        let code = code.to_ascii_uppercase();
        if let Some(class) = table.exact.get(&code) {
            return *class;
        }
        table
            .prefixes
            .iter()
            .find(|(prefix, _)| code.starts_with(prefix.as_str()))
            .map_or(table.otherwise, |(_, class)| *class)
    }
}

/// A code from the defaults, to show what a prefix looks like.
fn example(lists: &[ClassList]) -> String {
    lists
        .iter()
        .flat_map(|l| l.default.iter())
        .find_map(|c| c.get(..2))
        .unwrap_or("1")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTS: &[ClassList] = &[
        ClassList {
            key: "busy_codes",
            class: RefusalClass::Busy,
            default: &["53300", "57P0*"],
        },
        ClassList {
            key: "error_codes",
            class: RefusalClass::Error,
            default: &["53*", "XX*"],
        },
        ClassList {
            key: "locked_out_codes",
            class: RefusalClass::LockedOut,
            default: &[],
        },
    ];

    fn valid(code: &str) -> bool {
        code.len() == 5 && code.bytes().all(|b| b.is_ascii_alphanumeric())
    }

    fn classes(text: &str) -> Result<RefusalClasses, SettingError> {
        let table: BTreeMap<String, toml::Value> = toml::from_str(text).unwrap();
        RefusalClasses::from_settings(&table, LISTS, RefusalClass::LockedOut, valid, "a code")
    }

    #[test]
    fn exact_codes_outrank_prefixes_and_longer_prefixes_outrank_shorter() {
        let c = classes("").unwrap();
        assert_eq!(c.class("53300"), RefusalClass::Busy);
        assert_eq!(c.class("53200"), RefusalClass::Error);
        assert_eq!(
            c.class("57p03"),
            RefusalClass::Busy,
            "codes are read in any case"
        );
        assert_eq!(c.class("28P01"), RefusalClass::LockedOut);
    }

    #[test]
    fn the_suite_moves_a_code_between_classes() {
        let c = classes("locked_out_codes = [\"53300\"]").unwrap();
        assert_eq!(c.class("53300"), RefusalClass::LockedOut);
        let c = classes("busy_codes = []").unwrap();
        assert_eq!(
            c.class("57P03"),
            RefusalClass::LockedOut,
            "the list is replaced"
        );
    }

    #[test]
    fn bad_codes_name_their_key() {
        let e = classes("busy_codes = [\"5\"]").unwrap_err();
        assert_eq!(
            (e.key.as_str(), e.message.as_str()),
            ("busy_codes", "`5` is not a code")
        );
        let e = classes("busy_codes = [\"28000\"]\nlocked_out_codes = [\"28000\"]").unwrap_err();
        assert_eq!(e.message, "`28000` is also in busy_codes");
        assert!(classes("busy_codes = \"53300\"").is_err());
    }
}
