//! Impact: with population shares per case, the share of users each verdict reaches per target.

use super::CaseResult;
use crate::verdict::VerdictKind;
use std::collections::BTreeMap;

/// Percentages of the population (of the cases that have a share) per verdict, for one target.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Impact {
    pub target: String,
    pub admitted: f64,
    pub warned: f64,
    pub locked_out: f64,
    pub error: f64,
    #[serde(default)]
    pub undecided: f64,
}

impl Impact {
    pub fn sentence(&self) -> String {
        let mut text = format!(
            "{}: {:.1}% of users admitted, {:.1}% warned, {:.1}% locked out",
            self.target, self.admitted, self.warned, self.locked_out
        );
        if self.error > 0.0 {
            text.push_str(&format!(", {:.1}% not judged (errors)", self.error));
        }
        if self.undecided > 0.0 {
            text.push_str(&format!(", {:.1}% undecided", self.undecided));
        }
        text
    }
}

/// The population impact, summed as results arrive: per target (in order of first
/// appearance), the shares of users per verdict. Empty without shares.
#[derive(Debug, Default)]
pub struct ImpactTally {
    shares: BTreeMap<String, f64>,
    targets: Vec<String>,
    sums: BTreeMap<String, [f64; 5]>,
}

impl ImpactTally {
    pub fn new(shares: BTreeMap<String, f64>) -> ImpactTally {
        ImpactTally {
            shares,
            ..ImpactTally::default()
        }
    }

    pub fn add(&mut self, result: &CaseResult) {
        let Some(share) = self.shares.get(&result.case) else {
            return;
        };
        if !self.sums.contains_key(&result.target) {
            self.targets.push(result.target.clone());
        }
        let slot = match result.verdict.kind {
            VerdictKind::Admitted => 0,
            VerdictKind::Warned => 1,
            VerdictKind::LockedOut => 2,
            VerdictKind::Error => 3,
            VerdictKind::Undecided => 4,
        };
        self.sums.entry(result.target.clone()).or_default()[slot] += share;
    }

    /// One line per target.
    pub fn lines(&self) -> Vec<Impact> {
        self.targets
            .iter()
            .map(|target| {
                let s = self.sums[target];
                let total: f64 = s.iter().sum::<f64>().max(f64::MIN_POSITIVE);
                Impact {
                    target: target.clone(),
                    admitted: 100.0 * s[0] / total,
                    warned: 100.0 * s[1] / total,
                    locked_out: 100.0 * s[2] / total,
                    error: 100.0 * s[3] / total,
                    undecided: 100.0 * s[4] / total,
                }
            })
            .collect()
    }
}
