//! A suite's population: each case's share in its unit (users given by hand, or sessions an
//! import counted), distinct accounts where the traffic showed them, and the sessions of
//! clients with no case.

use super::load::Reading;
use crate::report::{Population, PopulationUnit};
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

/// The population's fields of suite.toml, as written.
pub(super) struct RawPopulation<'a> {
    pub shares: &'a BTreeMap<Spanned<String>, Spanned<f64>>,
    pub unit: Option<&'a Spanned<String>>,
    pub accounts: &'a BTreeMap<Spanned<String>, Spanned<f64>>,
    pub not_run: Option<&'a Spanned<f64>>,
}

pub(super) fn read(
    r: &mut Reading<'_>,
    raw: &RawPopulation<'_>,
    case_names: &BTreeSet<String>,
) -> Population {
    let unit = match raw.unit {
        None => PopulationUnit::Users,
        Some(unit) => PopulationUnit::parse(unit.get_ref()).unwrap_or_else(|| {
            let error = r
                .at(
                    unit.span(),
                    format!("`{}` is not a population unit", unit.get_ref()),
                )
                .with_help("`users` (shares given by hand) or `sessions` (counted in traffic)");
            r.errors.push(error);
            PopulationUnit::Users
        }),
    };
    let not_run = match raw.not_run {
        None => 0.0,
        Some(n) if n.get_ref().is_finite() && *n.get_ref() >= 0.0 => *n.get_ref(),
        Some(n) => {
            r.error(
                n.span(),
                "population_not_run is a number of sessions, 0 or more",
            );
            0.0
        }
    };
    Population {
        unit,
        shares: shares(r, raw.shares, case_names),
        accounts: shares(r, raw.accounts, case_names),
        not_run,
    }
}

/// Shares of known cases, each 0 or more.
fn shares(
    r: &mut Reading<'_>,
    table: &BTreeMap<Spanned<String>, Spanned<f64>>,
    case_names: &BTreeSet<String>,
) -> BTreeMap<String, f64> {
    let mut shares = BTreeMap::new();
    for (case, share) in table {
        if !case_names.contains(case.get_ref()) {
            r.error(
                case.span(),
                format!("population share for unknown case `{}`", case.get_ref()),
            );
        } else if !share.get_ref().is_finite() || *share.get_ref() < 0.0 {
            r.error(share.span(), "a population share is a number of 0 or more");
        } else {
            shares.insert(case.get_ref().clone(), *share.get_ref());
        }
    }
    shares
}
