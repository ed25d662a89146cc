//! PostgreSQL steps: `startup user=... database=... [protocol=3.0|3.2|2.0] [name=value ...]`
//! (a StartupMessage with these parameters), `ssl` (SSLRequest), `gssenc` (GSSENCRequest),
//! `cancel pid=N key=N`, `terminate`. A recorded message is replayed as recorded
//! ([`super::conversation`]).

use super::framing::{CANCEL_REQUEST, GSSENC_REQUEST, SSL_REQUEST};
use crate::dialect::verbs::{key_value, words};
use crate::dialect::{SendError, StepError, StepSource};
use crate::template::Template;
use std::collections::BTreeMap;

#[derive(Debug)]
pub enum PgRequest {
    /// A startup, cancel or other worded step, encoded when sent (its values may use variables).
    Worded(Template),
    /// A startup for the suite's `user` and `database`: in place of one a recording holds
    /// only inside its own TLS session, or never sent.
    SuiteStartup,
}

const VERBS: &[&str] = &["startup", "ssl", "gssenc", "cancel", "terminate"];

pub fn compile(source: &StepSource<'_>) -> Result<PgRequest, StepError> {
    let send = source.send;
    let text = source.text;
    let mut all = words(text, 0);
    let Some((_, verb)) = all.next() else {
        return Err(StepError::at(0, 1, "an empty step"));
    };
    if !VERBS.contains(&verb) {
        return Err(
            StepError::at(0, verb.len(), format!("`{verb}` is not a PostgreSQL step"))
                .unknown(verb, VERBS, "steps"),
        );
    }
    let mut has_user = false;
    for (at, word) in all {
        if ["ssl", "gssenc", "terminate"].contains(&verb) {
            return Err(StepError::at(
                at,
                word.len(),
                format!("`{verb}` takes nothing more"),
            ));
        }
        let (key, value) = key_value(at, word, "name=value")?;
        has_user |= key == "user";
        match (verb, key) {
            ("startup", "protocol") if !value.contains('{') && protocol(value).is_none() => {
                return Err(StepError::at_item(
                    at + key.len() + 1,
                    value.len(),
                    format!("`{value}` is not a protocol version"),
                )
                .with_help("2.0, 3.0 or 3.2"));
            }
            ("cancel", "pid" | "key") if !value.contains('{') && value.parse::<u32>().is_err() => {
                return Err(StepError::at_item(
                    at + key.len() + 1,
                    value.len(),
                    format!("`{value}` is not a number"),
                ));
            }
            ("cancel", "pid" | "key") | ("startup", _) => {}
            ("cancel", _) => {
                return Err(StepError::at(
                    at,
                    key.len(),
                    format!("a cancel takes pid= and key=, not `{key}`"),
                ));
            }
            _ => unreachable!("verbs checked above"),
        }
    }
    if verb == "startup" && !has_user {
        return Err(StepError::at(0, text.len(), "a startup needs user=...")
            .with_help("the server refuses a startup without a user"));
    }
    Ok(PgRequest::Worded(send.clone()))
}

/// `3.0` as (3, 0).
fn protocol(text: &str) -> Option<(u16, u16)> {
    let (major, minor) = text.split_once('.')?;
    let version = (major.parse().ok()?, minor.parse().ok()?);
    [2, 3].contains(&version.0).then_some(version)
}

fn with_length(mut body: Vec<u8>) -> Vec<u8> {
    let length = (body.len() as u32).to_be_bytes();
    body[..4].copy_from_slice(&length);
    body
}

/// The bytes of an expanded worded step.
pub fn encode(text: &str) -> Result<Vec<u8>, SendError> {
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    let verb = words.next().unwrap_or_default();
    let pairs: Vec<(&str, &str)> = words.filter_map(|w| w.split_once('=')).collect();
    let number = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(Ok(0), |(_, v)| v.parse::<u32>())
            .map_err(|_| SendError::Malformed(format!("`{name}` is not a number")))
    };
    Ok(match verb {
        "ssl" => with_length([0u32.to_be_bytes(), SSL_REQUEST.to_be_bytes()].concat()),
        "gssenc" => with_length([0u32.to_be_bytes(), GSSENC_REQUEST.to_be_bytes()].concat()),
        "terminate" => b"X\x00\x00\x00\x04".to_vec(),
        "cancel" => with_length(
            [0u32, CANCEL_REQUEST, number("pid")?, number("key")?]
                .iter()
                .flat_map(|n| n.to_be_bytes())
                .collect(),
        ),
        "startup" => {
            let version = pairs
                .iter()
                .find(|(k, _)| *k == "protocol")
                .map_or(Some((3, 0)), |(_, v)| protocol(v))
                .ok_or_else(|| SendError::Malformed("not a protocol version".into()))?;
            let params: Vec<(&str, &str)> = pairs
                .iter()
                .filter(|(k, _)| *k != "protocol")
                .copied()
                .collect();
            startup(version, &params)
        }
        other => {
            return Err(SendError::Malformed(format!(
                "`{other}` is not a PostgreSQL step"
            )));
        }
    })
}

fn startup((major, minor): (u16, u16), params: &[(&str, &str)]) -> Vec<u8> {
    let mut body = vec![0, 0, 0, 0];
    body.extend_from_slice(&major.to_be_bytes());
    body.extend_from_slice(&minor.to_be_bytes());
    if major == 2 {
        // Protocol 2.0's fixed fields: database 64, user 32, options 64, unused 64, tty 64.
        for (name, width) in [
            ("database", 64),
            ("user", 32),
            ("options", 64),
            ("unused", 64),
            ("tty", 64),
        ] {
            let value = params
                .iter()
                .find(|(k, _)| *k == name)
                .map_or("", |(_, v)| v);
            let mut field = value.as_bytes()[..value.len().min(width - 1)].to_vec();
            field.resize(width, 0);
            body.extend_from_slice(&field);
        }
    } else {
        for (name, value) in params {
            body.extend_from_slice(name.as_bytes());
            body.push(0);
            body.extend_from_slice(value.as_bytes());
            body.push(0);
        }
        body.push(0);
    }
    with_length(body)
}

impl PgRequest {
    pub fn encode(&self, values: &BTreeMap<String, String>) -> Result<Vec<u8>, SendError> {
        match self {
            PgRequest::Worded(template) => {
                encode(&template.expand(values).map_err(SendError::Unset)?)
            }
            PgRequest::SuiteStartup => {
                let user = values.get("user").map_or("postgres", String::as_str);
                let database = values.get("database").map_or(user, String::as_str);
                encode(&format!("startup user={user} database={database}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::postgres::messages::{Opening, opening};
    use crate::dialect::text_step;

    fn compiled(text: &str) -> Result<(), StepError> {
        text_step(&super::super::Postgres, text).map(|_| ())
    }

    #[test]
    fn steps_are_checked_when_the_case_loads() {
        assert!(compiled("startup user=alice database=db application_name={app}").is_ok());
        assert!(compiled("ssl").is_ok());
        let e = compiled("startup user=a protocol=4.0").unwrap_err();
        assert_eq!((e.offset, e.len), (24, 3));
        assert_eq!(
            compiled("startup database=x").unwrap_err().message,
            "a startup needs user=..."
        );
        assert_eq!(
            compiled("startp user=a").unwrap_err().help.as_deref(),
            Some("did you mean `startup`?")
        );
        assert!(compiled("ssl now").is_err());
    }

    #[test]
    fn startups_encode_as_their_protocol_says() {
        for protocol in ["2.0", "3.0", "3.2"] {
            let bytes = encode(&format!(
                "startup user=alice database=db protocol={protocol}"
            ))
            .unwrap();
            let Some(Opening::Startup {
                major,
                minor,
                params,
            }) = opening(&bytes)
            else {
                panic!("{protocol} does not read back");
            };
            assert_eq!(format!("{major}.{minor}"), protocol);
            assert!(params.contains(&("user".to_string(), "alice".to_string())));
        }
        assert_eq!(opening(&encode("ssl").unwrap()), Some(Opening::SslRequest));
    }
}
