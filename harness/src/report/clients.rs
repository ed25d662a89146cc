//! Results grouped by client for people: a client's scripted case and its recordings
//! (`NAME`, `NAME.captured`, `NAME.recorded`) are one row, named by the scripted case, with
//! the client's share of users; rows sorted by share.

use super::{CaseResult, MatrixRow};
use std::collections::BTreeMap;

/// How a case presents its client: written by hand, or replayed from a recording.
pub const ORIGINS: &[(&str, &str)] = &[
    ("", "scripted"),
    (".captured", "captured"),
    (".recorded", "recorded"),
];

/// One client: its results by target, each with where the case came from.
pub struct ClientRow {
    pub name: String,
    pub share: Option<f64>,
    /// Per target (in column order): (origin, index into the results).
    pub cells: Vec<Vec<(&'static str, usize)>>,
}

/// The group a case id belongs to, and how it presents the client.
fn group_of(case: &str) -> (&str, &'static str) {
    for (suffix, origin) in ORIGINS.iter().skip(1) {
        if let Some(stem) = case.strip_suffix(suffix) {
            return (stem, origin);
        }
    }
    (case, ORIGINS[0].1)
}

/// One row per client, the largest share first, from the matrix's rows (one per case; its
/// columns are the matrix's targets).
pub fn client_rows(
    results: &[CaseResult],
    rows: &[MatrixRow],
    shares: &BTreeMap<String, f64>,
) -> Vec<ClientRow> {
    let mut order: Vec<&str> = Vec::new();
    let mut clients: BTreeMap<&str, ClientRow> = BTreeMap::new();
    for (case, cells) in rows {
        let (group, origin) = group_of(case);
        let Some(first) = cells.iter().flatten().next() else {
            continue;
        };
        let name = &results[*first].name;
        let row = clients.entry(group).or_insert_with(|| {
            order.push(group);
            ClientRow {
                name: name.clone(),
                share: None,
                cells: vec![Vec::new(); cells.len()],
            }
        });
        if origin == ORIGINS[0].1 {
            row.name = name.clone();
        }
        if let Some(share) = shares.get(case) {
            row.share = Some(row.share.map_or(*share, |s: f64| s.max(*share)));
        }
        for (column, cell) in cells.iter().enumerate() {
            if let Some(i) = cell {
                row.cells[column].push((origin, *i));
            }
        }
    }
    let total: f64 = clients.values().filter_map(|r| r.share).sum();
    let mut list: Vec<ClientRow> = order
        .into_iter()
        .filter_map(|group| clients.remove(group))
        .map(|mut row| {
            row.share = row.share.filter(|_| total > 0.0).map(|s| 100.0 * s / total);
            row
        })
        .collect();
    // Stable: clients with equal shares keep the suite's order.
    list.sort_by(|a, b| b.share.unwrap_or(0.0).total_cmp(&a.share.unwrap_or(0.0)));
    list
}
