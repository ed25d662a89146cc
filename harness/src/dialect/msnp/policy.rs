//! The reference server's admission policy: protocol versions, per-client-family minimum and
//! recommended versions, blocked clients, and dated phases saying what happens below the minimum.

use crate::date::{Date, DateText};
use crate::source::{self, SourceError};
use crate::version::ClientVersion;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// What a phase does to a client below its family's minimum or on a protocol below the minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BelowMinimum {
    /// No enforcement: the server makes no upgrade request at all.
    Admitted,
    /// Admitted, with the minimum stated in CVR replies and an upgrade notice before login.
    Warned,
    /// Old protocols get `VER 0` (or the CVQ fallback); old clients are disconnected after CVR.
    LockedOut,
}

impl BelowMinimum {
    pub fn as_str(self) -> &'static str {
        match self {
            BelowMinimum::Admitted => "admitted",
            BelowMinimum::Warned => "warned",
            BelowMinimum::LockedOut => "locked-out",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub path: PathBuf,
    pub name: String,
    pub download_url: String,
    pub info_url: String,
    pub protocols: Protocols,
    pub families: Vec<Family>,
    pub blocked_clients: Vec<String>,
    pub phases: Vec<Phase>,
}

#[derive(Debug, Clone)]
pub struct Protocols {
    /// MSNP version numbers the server speaks at all, e.g. 2..=9.
    pub supported: Vec<u32>,
    /// Versions below this are "below the minimum" for the phase to treat.
    pub minimum: Option<u32>,
    /// Answer `VER t CVR0` to a client with no acceptable version that offered CVR0.
    pub version_query_fallback: bool,
}

/// A client family as named in CVR (`MSNMSGR`, `MSMSGS`, `macmsgs`).
#[derive(Debug, Clone)]
pub struct Family {
    pub client: String,
    pub product: String,
    pub minimum: ClientVersion,
    pub recommended: ClientVersion,
}

#[derive(Debug, Clone)]
pub struct Phase {
    pub name: String,
    pub from: Date,
    pub below_minimum: BelowMinimum,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: String,
    download_url: String,
    info_url: String,
    protocols: RawProtocols,
    #[serde(default, rename = "family")]
    families: Vec<RawFamily>,
    #[serde(default)]
    blocked_clients: Vec<String>,
    #[serde(rename = "phase")]
    phases: Vec<RawPhase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProtocols {
    supported: Vec<Spanned<String>>,
    minimum: Option<Spanned<String>>,
    #[serde(default)]
    version_query_fallback: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFamily {
    client: Spanned<String>,
    product: Option<String>,
    minimum: Spanned<String>,
    recommended: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    name: String,
    from: Spanned<DateText>,
    below_minimum: BelowMinimum,
}

impl Policy {
    pub fn load(path: &Path) -> Result<Policy, SourceError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SourceError::at(path, "", None, format!("cannot read policy file: {e}"))
        })?;
        Policy::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Policy, SourceError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| source::from_toml(path, text, &e))?;
        let at = |span: std::ops::Range<usize>, message: String| {
            SourceError::at(path, text, Some(span), message)
        };
        let protocol = |value: &Spanned<String>| {
            parse_protocol(value.get_ref()).ok_or_else(|| {
                at(
                    value.span(),
                    format!("`{}` is not a protocol version", value.get_ref()),
                )
                .with_help("write MSNP followed by its number, e.g. \"MSNP8\"")
            })
        };
        let version = |value: &Spanned<String>| {
            ClientVersion::parse(value.get_ref()).ok_or_else(|| {
                at(
                    value.span(),
                    format!("`{}` is not a version", value.get_ref()),
                )
                .with_help("write dotted numbers, e.g. \"4.7.2000\"")
            })
        };

        let supported = raw
            .protocols
            .supported
            .iter()
            .map(protocol)
            .collect::<Result<Vec<_>, _>>()?;
        let minimum = raw.protocols.minimum.as_ref().map(protocol).transpose()?;
        let mut families: Vec<Family> = Vec::with_capacity(raw.families.len());
        for family in &raw.families {
            if families
                .iter()
                .any(|f| f.client == *family.client.get_ref())
            {
                return Err(at(
                    family.client.span(),
                    format!(
                        "client family `{}` is listed twice",
                        family.client.get_ref()
                    ),
                ));
            }
            families.push(Family {
                client: family.client.get_ref().clone(),
                product: family
                    .product
                    .clone()
                    .unwrap_or_else(|| family.client.get_ref().clone()),
                minimum: version(&family.minimum)?,
                recommended: version(&family.recommended)?,
            });
        }
        let mut phases: Vec<Phase> = Vec::with_capacity(raw.phases.len());
        for phase in &raw.phases {
            let from = phase
                .from
                .get_ref()
                .to_date()
                .map_err(|message| at(phase.from.span(), message))?;
            if let Some(previous) = phases.last()
                && from <= previous.from
            {
                return Err(at(
                    phase.from.span(),
                    format!(
                        "phase `{}` must start after phase `{}` ({})",
                        phase.name, previous.name, previous.from
                    ),
                ));
            }
            phases.push(Phase {
                name: phase.name.clone(),
                from,
                below_minimum: phase.below_minimum,
            });
        }
        if phases.is_empty() {
            return Err(SourceError::at(
                path,
                text,
                None,
                "a policy needs at least one `[[phase]]`",
            ));
        }
        Ok(Policy {
            path: path.to_path_buf(),
            name: raw.name,
            download_url: raw.download_url,
            info_url: raw.info_url,
            protocols: Protocols {
                supported,
                minimum,
                version_query_fallback: raw.protocols.version_query_fallback,
            },
            families,
            blocked_clients: raw.blocked_clients,
            phases,
        })
    }

    /// The phase in force on `date`: the last one starting on or before it.
    pub fn phase_at(&self, date: Date) -> Result<&Phase, String> {
        self.phases
            .iter()
            .rev()
            .find(|p| p.from <= date)
            .ok_or_else(|| {
                format!(
                    "policy `{}` has no phase in force on {date}: its first phase starts on {}",
                    self.path.display(),
                    self.phases[0].from
                )
            })
    }

    /// The first date after `date` on which clients below the minimum are locked out.
    pub fn lockout_after(&self, date: Date) -> Option<Date> {
        self.phases
            .iter()
            .find(|p| p.from > date && p.below_minimum == BelowMinimum::LockedOut)
            .map(|p| p.from)
    }

    pub fn family(&self, client: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.client == client)
    }
}

/// `MSNP8` → 8.
pub fn parse_protocol(text: &str) -> Option<u32> {
    text.strip_prefix("MSNP")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
name = "test"
download_url = "http://dl"
info_url = "http://info"
[protocols]
supported = ["MSNP7", "MSNP8"]
minimum = "MSNP8"
[[family]]
client = "MSNMSGR"
minimum = "5.0"
recommended = "6.0.0602"
[[phase]]
name = "free"
from = 2003-01-01
below_minimum = "admitted"
[[phase]]
name = "warn"
from = "2003-09-18"
below_minimum = "warned"
[[phase]]
name = "lock"
from = 2003-10-15
below_minimum = "locked-out"
"#;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn picks_the_phase_in_force() {
        let policy = Policy::parse(Path::new("p.toml"), POLICY).unwrap();
        assert_eq!(policy.phase_at(date("2003-09-17")).unwrap().name, "free");
        assert_eq!(policy.phase_at(date("2003-09-18")).unwrap().name, "warn");
        assert_eq!(policy.phase_at(date("2026-01-01")).unwrap().name, "lock");
        assert!(policy.phase_at(date("2002-12-31")).is_err());
        assert_eq!(
            policy.lockout_after(date("2003-09-20")),
            Some(date("2003-10-15"))
        );
        assert_eq!(policy.protocols.minimum, Some(8));
    }

    #[test]
    fn errors_point_into_the_file() {
        let bad = POLICY.replace("\"MSNP7\"", "\"MSN7\"");
        let err = Policy::parse(Path::new("p.toml"), &bad).unwrap_err();
        assert_eq!(err.line, 6);
        assert!(err.message.contains("`MSN7` is not a protocol version"));
        let bad = POLICY.replace("from = 2003-10-15", "from = 2003-09-01");
        assert!(
            Policy::parse(Path::new("p.toml"), &bad)
                .unwrap_err()
                .message
                .contains("must start after")
        );
        let bad = POLICY.replace("\"locked-out\"", "\"banned\"");
        assert!(
            Policy::parse(Path::new("p.toml"), &bad)
                .unwrap_err()
                .message
                .contains("unknown variant")
        );
    }
}
