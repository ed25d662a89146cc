//! Readers for a suite's `[dialect_settings]` values, and the error that points at a bad one.
//! A dialect reads them into its own [`super::Protocol::Settings`] once, when the suite loads.

/// A dialect's settings, read from a suite's `[dialect_settings]` (its keys already checked
/// against [`super::Wire::setting_keys`]) once, when the suite loads.
pub trait FromSettings: Sized {
    fn from_settings(
        table: &std::collections::BTreeMap<String, toml::Value>,
    ) -> Result<Self, SettingError>;
}

/// A dialect with no settings.
impl FromSettings for () {
    fn from_settings(
        _: &std::collections::BTreeMap<String, toml::Value>,
    ) -> Result<(), SettingError> {
        Ok(())
    }
}

/// The list of strings setting `key` holds: `Ok(None)` when the suite does not give it, an
/// error naming the key when it is not a list of strings.
pub fn string_list(
    table: &std::collections::BTreeMap<String, toml::Value>,
    key: &str,
) -> Result<Option<Vec<String>>, SettingError> {
    let Some(value) = table.get(key) else {
        return Ok(None);
    };
    let not_strings = || SettingError::new(key, "expected a list of strings");
    value
        .as_array()
        .ok_or_else(not_strings)?
        .iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(not_strings))
        .collect::<Result<_, _>>()
        .map(Some)
}

/// The whole number setting `key` holds, from 0 to `u32::MAX`: `Ok(None)` when the suite
/// does not give it.
pub fn whole_number(
    table: &std::collections::BTreeMap<String, toml::Value>,
    key: &str,
) -> Result<Option<u32>, SettingError> {
    let Some(value) = table.get(key) else {
        return Ok(None);
    };
    value
        .as_integer()
        .and_then(|n| u32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| SettingError::new(key, "expected a whole number, 0 or more"))
}

/// A settings value the dialect cannot use; the loader points at that key's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    pub key: String,
    pub message: String,
    pub help: Option<String>,
}

impl SettingError {
    pub fn new(key: &str, message: impl Into<String>) -> SettingError {
        SettingError {
            key: key.to_string(),
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> SettingError {
        self.help = Some(help.into());
        self
    }
}
