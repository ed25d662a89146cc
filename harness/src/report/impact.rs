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

/// One line per target, in order of first appearance; empty without shares.
pub fn impact(results: &[CaseResult], shares: &BTreeMap<String, f64>) -> Vec<Impact> {
    let mut targets: Vec<&str> = Vec::new();
    let mut sums: BTreeMap<&str, [f64; 5]> = BTreeMap::new();
    for result in results {
        let Some(share) = shares.get(&result.case) else {
            continue;
        };
        if !targets.contains(&result.target.as_str()) {
            targets.push(&result.target);
        }
        let slot = match result.verdict.kind {
            VerdictKind::Admitted => 0,
            VerdictKind::Warned => 1,
            VerdictKind::LockedOut => 2,
            VerdictKind::Error => 3,
            VerdictKind::Undecided => 4,
        };
        sums.entry(&result.target).or_default()[slot] += share;
    }
    targets
        .into_iter()
        .map(|target| {
            let s = sums[target];
            let total: f64 = s.iter().sum::<f64>().max(f64::MIN_POSITIVE);
            Impact {
                target: target.to_string(),
                admitted: 100.0 * s[0] / total,
                warned: 100.0 * s[1] / total,
                locked_out: 100.0 * s[2] / total,
                error: 100.0 * s[3] / total,
                undecided: 100.0 * s[4] / total,
            }
        })
        .collect()
}
