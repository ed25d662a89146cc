//! Impact: with population shares per case, the share of the population each verdict reaches
//! per target, in the unit the shares count (users given by hand, or sessions counted in
//! traffic, with distinct accounts beside them where known), and the clients each target
//! locks out or warns, largest first, with the reason.

use super::CaseResult;
use crate::verdict::VerdictKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a suite's population shares count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PopulationUnit {
    /// Shares of users, given by hand.
    #[default]
    Users,
    /// Sessions counted in traffic (`import --group`).
    Sessions,
}

impl PopulationUnit {
    pub fn parse(text: &str) -> Option<PopulationUnit> {
        match text {
            "users" => Some(PopulationUnit::Users),
            "sessions" => Some(PopulationUnit::Sessions),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PopulationUnit::Users => "users",
            PopulationUnit::Sessions => "sessions",
        }
    }
}

/// A suite's population: each case's share, in its unit, and its distinct accounts where
/// traffic showed them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Population {
    pub unit: PopulationUnit,
    pub shares: BTreeMap<String, f64>,
    pub accounts: BTreeMap<String, f64>,
    /// Sessions of clients with no case (past the clients an import keeps apart): counted in
    /// every target's total, never run.
    pub not_run: f64,
}

impl Population {
    pub fn is_empty(&self) -> bool {
        self.shares.is_empty()
    }
}

/// Percentages per verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Shares {
    pub admitted: f64,
    pub warned: f64,
    pub locked_out: f64,
    pub error: f64,
    #[serde(default)]
    pub undecided: f64,
    /// Clients with no case, so no verdict (see [`Population::not_run`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_run: f64,
}

fn is_zero(share: &f64) -> bool {
    *share == 0.0
}

impl Shares {
    fn of(sums: &[f64; 5], not_run: f64) -> Shares {
        let total: f64 = (sums.iter().sum::<f64>() + not_run).max(f64::MIN_POSITIVE);
        Shares {
            admitted: 100.0 * sums[0] / total,
            warned: 100.0 * sums[1] / total,
            locked_out: 100.0 * sums[2] / total,
            error: 100.0 * sums[3] / total,
            undecided: 100.0 * sums[4] / total,
            not_run: 100.0 * not_run / total,
        }
    }

    /// `44.0% of users admitted, 17.0% warned, 39.0% locked out`.
    fn sentence(&self, unit: &str) -> String {
        let mut text = format!(
            "{:.1}% of {unit} admitted, {:.1}% warned, {:.1}% locked out",
            self.admitted, self.warned, self.locked_out
        );
        if self.error > 0.0 {
            text.push_str(&format!(", {:.1}% not judged (errors)", self.error));
        }
        if self.undecided > 0.0 {
            text.push_str(&format!(", {:.1}% undecided", self.undecided));
        }
        if self.not_run > 0.0 {
            text.push_str(&format!(
                ", {:.1}% not run (clients past the {} an import keeps apart)",
                self.not_run,
                crate::clients::MAX_CLIENTS
            ));
        }
        text
    }
}

/// A client a target locks out or warns, with its weight in the population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientImpact {
    pub case: String,
    pub name: String,
    pub verdict: VerdictKind,
    /// Its share (sessions, or users' share as given).
    pub weight: f64,
    /// Its percentage of the target's population.
    pub percent: f64,
    pub reason: String,
}

/// One target's impact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Impact {
    pub target: String,
    #[serde(default)]
    pub unit: PopulationUnit,
    #[serde(flatten)]
    pub shares: Shares,
    /// The same shares weighed by each client's distinct accounts, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Shares>,
    /// The weight of all the target's results with a share (sessions: their number).
    #[serde(default)]
    pub total: f64,
    /// The clients it locks out, then those it warns, each the largest first.
    #[serde(default)]
    pub clients: Vec<ClientImpact>,
}

impl Impact {
    /// `2003-10-16: 44.0% of users admitted, 17.0% warned, 39.0% locked out`, and the same by
    /// accounts where known.
    pub fn sentence(&self) -> String {
        let mut text = format!(
            "{}: {}",
            self.target,
            self.shares.sentence(self.unit.as_str())
        );
        // Each client's distinct accounts, added up: an account seen with two clients counts
        // twice, hence "client accounts".
        if let Some(accounts) = &self.accounts {
            text.push_str(&format!("; {}", accounts.sentence("client accounts")));
        }
        text
    }

    /// `retire-v1 would lock out 36.1% of sessions: 13 of 36, from 6 clients`; it warns when
    /// it locks none out, and admits every one otherwise.
    pub fn headline(&self) -> String {
        let unit = self.unit.as_str();
        let (verb, kind, percent) = if self.shares.locked_out > 0.0 {
            ("lock out", VerdictKind::LockedOut, self.shares.locked_out)
        } else if self.shares.warned > 0.0 {
            ("warn", VerdictKind::Warned, self.shares.warned)
        } else {
            return format!(
                "{} would admit {:.1}% of {unit}",
                self.target, self.shares.admitted
            );
        };
        let clients: Vec<&ClientImpact> =
            self.clients.iter().filter(|c| c.verdict == kind).collect();
        let weight: f64 = clients.iter().map(|c| c.weight).sum();
        let from = match clients.len() {
            1 => "from 1 client".to_string(),
            n => format!("from {n} clients"),
        };
        let count = match self.unit {
            PopulationUnit::Sessions => format!("{weight:.0} of {:.0}, ", self.total),
            PopulationUnit::Users => String::new(),
        };
        let mut headline = format!(
            "{} would {verb} {percent:.1}% of {unit}: {count}{from}",
            self.target
        );
        if self.shares.not_run > 0.0 {
            headline.push_str(&format!("; {:.1}% not run", self.shares.not_run));
        }
        headline
    }

    /// `locks out curl 7.88.1 (HTTP/1.0): 22.2% of sessions (8): the server answered 505`.
    pub fn client_lines(&self) -> Vec<String> {
        let unit = self.unit.as_str();
        self.clients
            .iter()
            .map(|c| {
                let verb = match c.verdict {
                    VerdictKind::LockedOut => "locks out",
                    _ => "warns",
                };
                let count = match self.unit {
                    PopulationUnit::Sessions => format!(" ({:.0})", c.weight),
                    PopulationUnit::Users => String::new(),
                };
                format!(
                    "{verb} {}: {:.1}% of {unit}{count}: {}",
                    c.name, c.percent, c.reason
                )
            })
            .collect()
    }
}

/// Verdicts in the order of [`Shares`]' slots.
fn slot(kind: VerdictKind) -> usize {
    match kind {
        VerdictKind::Admitted => 0,
        VerdictKind::Warned => 1,
        VerdictKind::LockedOut => 2,
        VerdictKind::Error => 3,
        VerdictKind::Undecided => 4,
    }
}

/// The population impact, summed as results arrive: per target (in order of first
/// appearance), the shares per verdict and the clients it locks out or warns. Empty without
/// shares.
#[derive(Debug, Default)]
pub struct ImpactTally {
    population: Population,
    targets: Vec<String>,
    sums: BTreeMap<String, [f64; 5]>,
    account_sums: BTreeMap<String, [f64; 5]>,
    clients: BTreeMap<String, Vec<ClientImpact>>,
}

impl ImpactTally {
    pub fn new(population: Population) -> ImpactTally {
        ImpactTally {
            population,
            ..ImpactTally::default()
        }
    }

    pub fn add(&mut self, result: &CaseResult) {
        let Some(&share) = self.population.shares.get(&result.case) else {
            return;
        };
        if !self.sums.contains_key(&result.target) {
            self.targets.push(result.target.clone());
        }
        let kind = result.verdict.kind;
        self.sums.entry(result.target.clone()).or_default()[slot(kind)] += share;
        if let Some(accounts) = self.population.accounts.get(&result.case) {
            self.account_sums.entry(result.target.clone()).or_default()[slot(kind)] += accounts;
        }
        if matches!(kind, VerdictKind::LockedOut | VerdictKind::Warned) {
            self.clients
                .entry(result.target.clone())
                .or_default()
                .push(ClientImpact {
                    case: result.case.clone(),
                    name: result.name.clone(),
                    verdict: kind,
                    weight: share,
                    percent: 0.0,
                    reason: result.verdict.reason.clone(),
                });
        }
    }

    /// One line per target.
    pub fn lines(&self) -> Vec<Impact> {
        let with_accounts = !self.population.accounts.is_empty()
            && self
                .population
                .shares
                .keys()
                .all(|case| self.population.accounts.contains_key(case));
        self.targets
            .iter()
            .map(|target| {
                let sums = self.sums[target];
                let total: f64 = sums.iter().sum::<f64>() + self.population.not_run;
                let mut clients = self.clients.get(target).cloned().unwrap_or_default();
                for client in &mut clients {
                    client.percent = 100.0 * client.weight / total.max(f64::MIN_POSITIVE);
                }
                clients.sort_by(|a, b| {
                    slot(b.verdict)
                        .cmp(&slot(a.verdict))
                        .then(b.weight.total_cmp(&a.weight))
                        .then(a.name.cmp(&b.name))
                });
                Impact {
                    target: target.clone(),
                    unit: self.population.unit,
                    shares: Shares::of(&sums, self.population.not_run),
                    accounts: with_accounts
                        .then(|| {
                            self.account_sums
                                .get(target)
                                .map(|sums| Shares::of(sums, 0.0))
                        })
                        .flatten(),
                    total,
                    clients,
                }
            })
            .collect()
    }
}
