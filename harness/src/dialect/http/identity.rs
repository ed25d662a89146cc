//! Who a recorded HTTP client is: its User-Agent's product and version (a browser by the
//! most specific product it names), the app's own version from a header, and the API version
//! from the request path. By default any `X-...-Version` header and any `/vN/` path segment;
//! a suite may name its own header (`version_header`) and say where in the path the API
//! version is (`api_version_path`, a pattern with one group).

use super::head;
use crate::dialect::{Identity, RecordedIdentity, SettingError};
use regex::Regex;
use std::collections::BTreeMap;

pub const VERSION_HEADER: &str = "version_header";
pub const API_VERSION_PATH: &str = "api_version_path";

/// Where a suite says the identity is; `None` for the conventions.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub version_header: Option<String>,
    pub api_version_path: Option<Regex>,
}

impl Rules {
    pub fn from_settings(table: &BTreeMap<String, toml::Value>) -> Result<Rules, SettingError> {
        let text = |key: &str| -> Result<Option<&str>, SettingError> {
            match table.get(key) {
                None => Ok(None),
                Some(value) => value
                    .as_str()
                    .filter(|v| !v.trim().is_empty())
                    .map(Some)
                    .ok_or_else(|| SettingError::new(key, "expected a non-empty string")),
            }
        };
        let version_header = text(VERSION_HEADER)?.map(str::to_string);
        if let Some(name) = &version_header
            && !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        {
            return Err(SettingError::new(
                VERSION_HEADER,
                format!("`{name}` is not a header name"),
            ));
        }
        let api_version_path = match text(API_VERSION_PATH)? {
            None => None,
            Some(pattern) => {
                let regex = Regex::new(pattern).map_err(|e| {
                    SettingError::new(API_VERSION_PATH, format!("not a pattern: {e}"))
                })?;
                if regex.captures_len() != 2 {
                    return Err(SettingError::new(
                        API_VERSION_PATH,
                        "the pattern needs exactly one group: the API version",
                    )
                    .with_help("e.g. `^/api/(\\d{4}-\\d{2})/` for `/api/2023-10/orders`"));
                }
                Some(regex)
            }
        };
        Ok(Rules {
            version_header,
            api_version_path,
        })
    }

    pub fn is_default(&self) -> bool {
        self.version_header.is_none() && self.api_version_path.is_none()
    }

    /// The API version the request target names, by the suite's pattern or a `/vN/` segment.
    fn api_version<'a>(&self, target: &'a str) -> Option<&'a str> {
        match &self.api_version_path {
            Some(pattern) => pattern
                .captures(target)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str()),
            None => api_version(target),
        }
    }

    /// Whether `name` is the header that says the app's version.
    fn is_version_header(&self, name: &str) -> bool {
        match &self.version_header {
            Some(named) => name.eq_ignore_ascii_case(named),
            None => is_app_version(name),
        }
    }
}

/// The identity in a recorded client's first request.
pub fn read(client_messages: &[&[u8]], rules: &Rules) -> RecordedIdentity {
    let Some(head) = client_messages
        .iter()
        .find_map(|m| head::parse(m, true).ok().flatten())
    else {
        return RecordedIdentity::default();
    };
    let head::Start::Request { minor, target, .. } = &head.start else {
        unreachable!("parsed as a request")
    };
    let versions = match rules.api_version(target) {
        Some(api) => format!("HTTP/1.{minor}, API {api}"),
        None => format!("HTTP/1.{minor}"),
    };
    let mut client = head.header("user-agent").and_then(product);
    // An app whose HTTP library names itself in the User-Agent says its own version in a
    // header of its own.
    if let Some((name, value)) = head
        .headers
        .iter()
        .find(|(n, _)| rules.is_version_header(n))
    {
        let client = client.get_or_insert_with(|| Identity {
            client: "(no User-Agent)".into(),
            version: String::new(),
        });
        client.version = format!("{} ({name} {value})", client.version)
            .trim_start()
            .to_string();
    }
    RecordedIdentity {
        versions: Some(versions),
        client,
        account: None,
    }
}

/// `X-App-Version`, `X-Client-Version` and the like: where mobile and desktop apps put their
/// own version.
pub(super) fn is_app_version(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("x-") && name.ends_with("-version") && name != "x-api-version"
}

/// The API version a request path names: `v2` in `/api/v2/status` or `/v2.1/items`.
pub(super) fn api_version(target: &str) -> Option<&str> {
    let path = target.split(['?', '#']).next()?;
    path.split('/').find(|segment| {
        segment.len() > 1
            && segment.starts_with(['v', 'V'])
            && segment[1..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.')
            && segment.as_bytes()[1].is_ascii_digit()
    })
}

/// Browsers' products, most specific first: a browser's User-Agent names several (Chrome's
/// says Mozilla, AppleWebKit, Chrome and Safari), and the first that appears names it.
const BROWSERS: &[&str] = &[
    "Edg",
    "OPR",
    "SamsungBrowser",
    "Firefox",
    "HeadlessChrome",
    "Chrome",
    "CriOS",
    "FxiOS",
    "Version",
];

/// The client a User-Agent names, and its version: its first product (`curl/8.5.0` in
/// `curl/8.5.0 (x86_64)`), or for a browser's `Mozilla/5.0 (...) ...` the browser's own
/// (Safari's version is in `Version/`).
fn product(agent: &str) -> Option<Identity> {
    let products: Vec<(&str, &str)> = agent
        .split_whitespace()
        .filter(|word| !word.starts_with('(') && !word.ends_with(')') && !word.ends_with(';'))
        .map(|word| word.split_once('/').unwrap_or((word, "")))
        .collect();
    let (client, version) = *products.first()?;
    let browser = (client == "Mozilla")
        .then(|| {
            BROWSERS
                .iter()
                .find_map(|b| products.iter().find(|(name, _)| name == b))
        })
        .flatten();
    let (client, version) = match browser {
        Some(&("Version", version)) => ("Safari", version),
        Some(&found) => found,
        None => (client, version),
    };
    Some(Identity {
        client: client.to_string(),
        version: version.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Recordings;
    use crate::dialect::http::Http;

    #[test]
    fn a_recorded_client_is_its_user_agents_first_product() {
        let request = b"GET / HTTP/1.0\r\nUser-Agent: Wget/1.21.3 (linux-gnu)\r\n\r\n";
        let identity = Http.recorded_identity(&[request]);
        assert_eq!(identity.versions.as_deref(), Some("HTTP/1.0"));
        let client = identity.client.unwrap();
        assert_eq!(
            (client.client.as_str(), client.version.as_str()),
            ("Wget", "1.21.3")
        );
        assert_eq!(
            Http.recorded_identity(&[b"GET / HTTP/1.1\r\n\r\n"]).client,
            None
        );
        let named = |agent: &str| {
            let id = product(agent).unwrap();
            format!("{} {}", id.client, id.version)
        };
        assert_eq!(
            named(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36"
            ),
            "HeadlessChrome 156.0.0.0"
        );
        assert_eq!(
            named(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15"
            ),
            "Safari 17.1"
        );
        assert_eq!(
            named("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
            "Firefox 128.0"
        );
        assert_eq!(named("Python/3.11 aiohttp/3.14.5"), "Python 3.11");
        assert_eq!(named("node"), "node ");
    }

    #[test]
    fn an_apps_own_version_header_and_the_api_version_join_the_identity() {
        let app = b"GET /api/v1/status?x=/v3/ HTTP/1.1\r\nUser-Agent: okhttp/4.12.0\r\nX-App-Version: 2.4.0\r\n\r\n";
        let identity = Http.recorded_identity(&[app]);
        assert_eq!(identity.versions.as_deref(), Some("HTTP/1.1, API v1"));
        assert_eq!(
            identity.client.unwrap().version,
            "4.12.0 (X-App-Version 2.4.0)"
        );
        assert_eq!(api_version("/v2.1/items"), Some("v2.1"));
        assert_eq!(api_version("/video/v/x"), None);
    }

    fn rules(pairs: &[(&str, &str)]) -> Result<Rules, SettingError> {
        let table = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), toml::Value::String(v.to_string())))
            .collect();
        Rules::from_settings(&table)
    }

    #[test]
    fn a_suite_names_its_version_header_and_where_the_api_version_is() {
        let request = b"GET /api/2023-10/orders HTTP/1.1\r\nUser-Agent: okhttp/4.12.0\r\nApp-Build: 812\r\nX-App-Version: 2.4.0\r\n\r\n";
        let by_convention = read(&[request], &Rules::default());
        assert_eq!(by_convention.versions.as_deref(), Some("HTTP/1.1"));
        assert_eq!(
            by_convention.client.unwrap().version,
            "4.12.0 (X-App-Version 2.4.0)"
        );
        let named = rules(&[
            (VERSION_HEADER, "app-build"),
            (API_VERSION_PATH, r"^/api/(\d{4}-\d{2})/"),
        ])
        .unwrap();
        let by_suite = read(&[request], &named);
        assert_eq!(by_suite.versions.as_deref(), Some("HTTP/1.1, API 2023-10"));
        assert_eq!(by_suite.client.unwrap().version, "4.12.0 (App-Build 812)");
    }

    #[test]
    fn rules_the_harness_cannot_use_are_setting_errors() {
        let e = rules(&[(API_VERSION_PATH, "^/api/v[0-9]+/")]).unwrap_err();
        assert!(e.message.contains("exactly one group"), "{}", e.message);
        assert!(rules(&[(API_VERSION_PATH, "(")]).is_err());
        assert!(rules(&[(VERSION_HEADER, "X App")]).is_err());
        assert!(rules(&[]).unwrap().is_default());
    }
}
