//! Names that tell clients apart: a client that shares its name with others (two curls, seven
//! OpenSSH 9.2p1 with different settings) gets the fewest of its traits that no namesake
//! shares (`curl 7.88.1 (HTTP/1.0)`, `OpenSSH 9.2p1 (offers diffie-hellman-group1-sha1)`), or
//! that it lacks and they have (`without ...`); a number only where no trait tells them apart.

use std::collections::BTreeMap;

/// At most this many traits in a name.
const MAX_TRAITS: usize = 3;

/// Namesakes told apart by their traits, at most; more (a flood of one name) are numbered:
/// telling each from every other costs the square of their number.
const MAX_TOLD_APART: usize = 64;

/// One name per client, given each one's base name and traits (most telling first). Clients
/// no trait tells apart are numbered (`#2`) when `number` is set (distinct clients that must
/// not share a name), else keep one name (the same client recorded twice).
pub fn distinct_names(clients: &[(String, Vec<String>)], number: bool) -> Vec<String> {
    let mut by_base: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (base, _)) in clients.iter().enumerate() {
        by_base.entry(base.as_str()).or_default().push(i);
    }
    let mut names: Vec<String> = clients.iter().map(|(base, _)| base.clone()).collect();
    for members in by_base
        .values()
        .filter(|m| m.len() > 1 && m.len() <= MAX_TOLD_APART)
    {
        for &i in members {
            let others: Vec<&[String]> = members
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| clients[j].1.as_slice())
                .collect();
            let chosen = telling_traits(&clients[i].1, &others);
            if !chosen.is_empty() {
                names[i] = format!("{} ({})", clients[i].0, chosen.join(", "));
            }
        }
    }
    if number || by_base.values().any(|m| m.len() > MAX_TOLD_APART) {
        number_the_same(&mut names);
    }
    names
}

/// Greedily, the trait (or `without` trait) that tells `mine` from the most namesakes not yet
/// told apart, the earliest on ties, until every one is told apart or [`MAX_TRAITS`] are
/// chosen.
fn telling_traits(mine: &[String], others: &[&[String]]) -> Vec<String> {
    let lacking: Vec<&String> = {
        let mut seen = Vec::new();
        for other in others {
            for t in other.iter() {
                if !mine.contains(t) && !seen.contains(&t) {
                    seen.push(t);
                }
            }
        }
        seen
    };
    // (label, tells me from namesake j)
    let candidates: Vec<(String, Vec<bool>)> = mine
        .iter()
        .map(|t| (t.clone(), others.iter().map(|o| !o.contains(t)).collect()))
        .chain(lacking.iter().map(|t| {
            let label = match t.strip_prefix("offers ") {
                Some(algorithm) => format!("no {algorithm}"),
                None => format!("without {t}"),
            };
            (label, others.iter().map(|o| o.contains(t)).collect())
        }))
        .collect();
    let mut apart = vec![false; others.len()];
    let mut chosen = Vec::new();
    while chosen.len() < MAX_TRAITS && apart.iter().any(|a| !a) {
        let best = candidates
            .iter()
            .map(|(label, tells)| {
                let gain = tells
                    .iter()
                    .zip(&apart)
                    .filter(|(t, a)| **t && !**a)
                    .count();
                (gain, label, tells)
            })
            .filter(|(gain, _, _)| *gain > 0)
            // The most gain; the earliest candidate on ties (max_by keeps the last).
            .rev()
            .max_by_key(|(gain, _, _)| *gain);
        let Some((_, label, tells)) = best else {
            break;
        };
        chosen.push(label.clone());
        for (a, t) in apart.iter_mut().zip(tells) {
            *a |= *t;
        }
    }
    chosen
}

/// Names still shared get `#2`, `#3`, ... after the first, in order.
fn number_the_same(names: &mut [String]) {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for name in names.iter() {
        *count.entry(name.clone()).or_default() += 1;
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for name in names.iter_mut() {
        if count[name.as_str()] > 1 {
            let n = seen.entry(name.clone()).or_default();
            *n += 1;
            if *n > 1 {
                *name = format!("{name} #{n}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str, traits: &[&str]) -> (String, Vec<String>) {
        (
            base.to_string(),
            traits.iter().map(|t| t.to_string()).collect(),
        )
    }

    #[test]
    fn a_client_without_namesakes_keeps_its_name() {
        let names = distinct_names(
            &[client("wget 1.21", &["HTTP/1.1"]), client("curl 8", &[])],
            true,
        );
        assert_eq!(names, ["wget 1.21", "curl 8"]);
    }

    #[test]
    fn namesakes_get_the_traits_that_tell_them_apart() {
        let names = distinct_names(
            &[
                client("curl 7.88.1", &["HTTP/1.1", "API v2"]),
                client("curl 7.88.1", &["HTTP/1.0", "API v2"]),
                client("curl 7.88.1", &["HTTP/1.1", "API v1"]),
            ],
            true,
        );
        assert_eq!(
            names,
            [
                "curl 7.88.1 (HTTP/1.1, API v2)",
                "curl 7.88.1 (HTTP/1.0)",
                "curl 7.88.1 (API v1)"
            ]
        );
    }

    #[test]
    fn a_client_whose_traits_are_all_shared_is_told_by_what_it_lacks() {
        let names = distinct_names(
            &[
                client(
                    "OpenSSH 9.2p1",
                    &["kex curve25519-sha256", "offers ssh-ed25519"],
                ),
                client(
                    "OpenSSH 9.2p1",
                    &[
                        "kex curve25519-sha256",
                        "offers ssh-ed25519",
                        "offers ssh-rsa",
                    ],
                ),
            ],
            true,
        );
        assert_eq!(
            names,
            [
                "OpenSSH 9.2p1 (no ssh-rsa)",
                "OpenSSH 9.2p1 (offers ssh-rsa)"
            ]
        );
    }

    #[test]
    fn clients_no_trait_tells_apart_are_numbered() {
        let same = [
            client("psql", &["protocol 3.0"]),
            client("psql", &["protocol 3.0"]),
        ];
        assert_eq!(distinct_names(&same, true), ["psql", "psql #2"]);
        assert_eq!(distinct_names(&same, false), ["psql", "psql"]);
    }
}
