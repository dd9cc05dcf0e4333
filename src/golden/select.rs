//! Which scenarios a `golden check` runs: a shard of them (`--shard K/N`,
//! for a CI matrix; balanced by the durations of a previous run when
//! given), those whose name matches (`-k`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::Value as Json;

/// Shard `index` of `total` (1-based, as CI matrices count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub total: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("shard `{s}`: give K/N with 1 <= K <= N, e.g. 2/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, total): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > total {
            return Err(bad());
        }
        Ok(Shard { index, total })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

/// A scenario file's name, as results name it.
pub fn name_of(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario")
        .to_owned()
}

/// The scenarios of `shard`: the longest first, each to the shard with
/// the least time so far (ties to the lowest shard, names in order), so
/// shards take about equally long. A scenario with no known duration
/// counts as the median of the known ones (1 s when none is known, which
/// makes it a plain round-robin over the sorted names). Every machine
/// given the same files and durations computes the same assignment.
pub fn shard(files: &[PathBuf], shard: Shard, durations: &BTreeMap<String, f64>) -> Vec<PathBuf> {
    let mut known: Vec<f64> = files
        .iter()
        .filter_map(|f| durations.get(&name_of(f)).copied())
        .collect();
    known.sort_by(f64::total_cmp);
    let default = known.get(known.len() / 2).copied().unwrap_or(1.0);
    let mut order: Vec<(f64, &PathBuf)> = files
        .iter()
        .map(|f| (durations.get(&name_of(f)).copied().unwrap_or(default), f))
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut load = vec![0.0f64; shard.total];
    let mut mine = Vec::new();
    for (seconds, file) in order {
        let (lightest, _) = load
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1).then(a.0.cmp(&b.0)))
            .unwrap_or((0, &0.0));
        load[lightest] += seconds;
        if lightest + 1 == shard.index {
            mine.push(file.clone());
        }
    }
    mine.sort();
    mine
}

/// Each scenario's `seconds` in a previous `golden check --json` document
/// (or a shard's `results.json`).
pub fn durations(doc: &Json) -> BTreeMap<String, f64> {
    doc["scenarios"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| Some((s["name"].as_str()?.to_owned(), s["seconds"].as_f64()?)))
        .collect()
}

/// Whether `name` matches any of `patterns`: each a substring, or a glob
/// with `*` (`walk_*`, `*night*`). No patterns match everything.
pub fn matches(name: &str, patterns: &[String]) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| glob(p, name))
}

fn glob(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return name.contains(pattern);
    }
    // Wildcard matching of the whole name, `*` any run of characters:
    // on a mismatch, the last `*` takes one character more.
    let (p, s) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((at, from)) = star {
            pi = at + 1;
            si = from + 1;
            star = Some((at, from + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(n: usize) -> Vec<PathBuf> {
        (0..n)
            .map(|i| PathBuf::from(format!("s/{i:03}.json")))
            .collect()
    }

    #[test]
    fn shards_cover_every_scenario_once_and_are_balanced_by_duration() {
        let all = files(10);
        // 000 takes 9 s, the others 1 s; 009's time is not known.
        let mut durations: BTreeMap<String, f64> =
            (1..9).map(|i| (format!("{i:03}"), 1.0)).collect();
        durations.insert("000".to_owned(), 9.0);
        let shards: Vec<Vec<PathBuf>> = (1..=3)
            .map(|k| shard(&all, Shard { index: k, total: 3 }, &durations))
            .collect();
        let mut seen: Vec<PathBuf> = shards.iter().flatten().cloned().collect();
        seen.sort();
        assert_eq!(seen, all, "each scenario in exactly one shard");
        // The 9 s scenario has a shard to itself; the rest share two.
        let heavy = shards
            .iter()
            .find(|s| s.contains(&PathBuf::from("s/000.json")))
            .expect("placed");
        assert_eq!(heavy.len(), 1, "{shards:?}");
        assert_eq!(
            shard(&all, Shard { index: 2, total: 3 }, &durations),
            shards[1],
            "the same on every machine"
        );
    }

    #[test]
    fn shard_and_pattern_syntax() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, total: 4 }));
        for bad in ["0/4", "5/4", "2", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let p = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(matches("walk_tile", &[]));
        assert!(matches("walk_tile", &p(&["tile"])));
        assert!(matches("walk_tile", &p(&["walk_*"])));
        assert!(matches("night_grid", &p(&["*gr*d"])));
        assert!(!matches("walk_tile", &p(&["night", "*pixel"])));
        assert!(!matches("ab", &p(&["a*b*b"])));
    }
}
