//! `advkit golden merge`: the shards of a `golden check --shard K/N` run
//! (each machine's `--artifacts` directory, with its `results.json`,
//! `junit.xml` and reports) made into one run's JSON, JUnit and index, and
//! a shard that is missing named.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};

use super::output::esc;

/// What `golden check` leaves in its artifacts directory for a merge: the
/// `--json` document and the JUnit XML.
pub const RESULTS: &str = "results.json";
pub const JUNIT: &str = "junit.xml";

/// The merged run.
#[derive(Debug)]
pub struct Merged {
    /// One `golden check --json` document for every shard given.
    pub doc: Json,
    pub junit: String,
    /// `shard K/N` for each shard no directory holds.
    pub missing: Vec<String>,
}

/// Merges the shard directories `dirs` into `out` (which receives
/// `results.json`, `junit.xml`, `index.html` and every scenario's report
/// directory).
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Merged, String> {
    let mut shards: BTreeMap<usize, PathBuf> = BTreeMap::new();
    let mut total: Option<usize> = None;
    let mut scenarios: Vec<Json> = Vec::new();
    let mut summary: BTreeMap<String, u64> = BTreeMap::new();
    let mut suites = String::new();
    let mut counts: BTreeMap<&str, f64> = BTreeMap::new();
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    for dir in dirs {
        let file = dir.join(RESULTS);
        let text = fs::read_to_string(&file).map_err(|_| {
            format!(
                "{} holds no {RESULTS}: give the --artifacts directory of each `golden check` \
                 shard",
                dir.display()
            )
        })?;
        let doc: Json = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a golden check's results: {e}", file.display()))?;
        let (index, of) = (
            doc["shard"]["index"].as_u64().unwrap_or(1) as usize,
            doc["shard"]["total"].as_u64().unwrap_or(1) as usize,
        );
        match total {
            Some(t) if t != of => {
                return Err(format!(
                    "{} is shard {index}/{of}, but an earlier directory is of {t} shards: these \
                     are not the shards of one run",
                    dir.display()
                ));
            }
            _ => total = Some(of),
        }
        if let Some(first) = shards.insert(index, dir.clone()) {
            return Err(format!(
                "shard {index}/{of} is given twice: {} and {}",
                first.display(),
                dir.display()
            ));
        }
        for (key, value) in doc["summary"].as_object().into_iter().flatten() {
            *summary.entry(key.clone()).or_default() += value.as_u64().unwrap_or(0);
        }
        for s in doc["scenarios"].as_array().into_iter().flatten() {
            let mut s = s.clone();
            let name = s["name"].as_str().unwrap_or_default().to_owned();
            // The scenario's reports come along, and the links with them.
            let from = dir.join(&name);
            if !name.is_empty() && from.is_dir() {
                let to = out.join(&name);
                copy_dir(&from, &to)?;
                if s["report"].is_string() {
                    s["report"] = json!(to.join("report.html"));
                }
            }
            scenarios.push(s);
        }
        let xml = fs::read_to_string(dir.join(JUNIT)).unwrap_or_default();
        if let Some(root) = xml.lines().find(|l| l.starts_with("<testsuites")) {
            for key in ["tests", "failures", "errors", "skipped", "time"] {
                *counts.entry(key).or_default() += attribute(root, key).unwrap_or(0.0);
            }
        }
        for line in xml.lines().filter(|l| l.starts_with("  ")) {
            suites.push_str(line);
            suites.push('\n');
        }
    }
    let total = total.unwrap_or(1);
    let missing: Vec<String> = (1..=total)
        .filter(|k| !shards.contains_key(k))
        .map(|k| format!("shard {k}/{total}"))
        .collect();
    scenarios.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let doc = json!({
        "scenarios": scenarios,
        "summary": summary,
        "shards": {"total": total, "merged": shards.len(), "missing": missing},
        "index": out.join("index.html"),
    });
    let mut junit = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        junit,
        "<testsuites name=\"advkit golden\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        counts.get("tests").copied().unwrap_or(0.0),
        counts.get("failures").copied().unwrap_or(0.0),
        counts.get("errors").copied().unwrap_or(0.0),
        counts.get("skipped").copied().unwrap_or(0.0),
        counts.get("time").copied().unwrap_or(0.0),
    );
    junit.push_str(&suites);
    junit.push_str("</testsuites>\n");
    let write = |name: &str, text: &str| {
        fs::write(out.join(name), text)
            .map_err(|e| format!("cannot write {}: {e}", out.join(name).display()))
    };
    write(
        RESULTS,
        &serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )?;
    write(JUNIT, &junit)?;
    write("index.html", &index_html(&doc, out))?;
    Ok(Merged {
        doc,
        junit,
        missing,
    })
}

/// A number attribute of an XML start tag (`tests="4"`).
fn attribute(tag: &str, key: &str) -> Option<f64> {
    let at = tag.find(&format!(" {key}=\""))? + key.len() + 3;
    tag[at..].split('"').next()?.parse().ok()
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    for entry in fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            fs::copy(&path, &target).map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// The merged run's `index.html`: failures first, each linking its report.
fn index_html(doc: &Json, out: &Path) -> String {
    let empty = Vec::new();
    let mut rows: Vec<&Json> = doc["scenarios"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .collect();
    let rank = |s: &Json| match s["verdict"].as_str() {
        Some("error" | "fail" | "nondeterministic") => 0,
        Some("pending") => 1,
        _ => 2,
    };
    rows.sort_by_key(|s| (rank(s), s["name"].as_str().unwrap_or_default().to_owned()));
    let errors = rows
        .iter()
        .filter(|s| s["verdict"].as_str() == Some("error"))
        .count();
    let failed = rows.iter().filter(|s| rank(s) == 0).count() - errors;
    let missing: Vec<&str> = doc["shards"]["missing"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect();
    let mut h = super::output::index_head(
        failed,
        &format!(
            "advkit golden check, {} shard(s) merged",
            doc["shards"]["merged"]
        ),
    );
    let _ = write!(
        h,
        "<p>{} scenario(s): {failed} failed, {errors} could not run</p>",
        rows.len()
    );
    if !missing.is_empty() {
        let _ = write!(
            h,
            "<p class=bad>missing: {} (their scenarios are not in this report)</p>",
            esc(&missing.join(", "))
        );
    }
    h.push_str("<table><tr><th>scenario</th><th>verdict</th><th>what</th></tr>");
    for s in rows {
        let name = esc(s["name"].as_str().unwrap_or_default());
        let verdict = s["verdict"].as_str().unwrap_or_default();
        let class = ["bad", "new", "ok"][rank(s)];
        let link = match s["report"].as_str() {
            Some(report) => {
                let rel = Path::new(report)
                    .strip_prefix(out)
                    .unwrap_or(Path::new(report));
                format!("<a href=\"{}\">{name}</a>", esc(&rel.display().to_string()))
            }
            None => name,
        };
        let mut what: Vec<String> = Vec::new();
        for key in ["error", "nondeterministic"] {
            if let Some(t) = s[key].as_str() {
                what.push(t.to_owned());
            }
        }
        for c in s["captures"].as_array().into_iter().flatten() {
            let status = c["status"].as_str().unwrap_or_default();
            if !matches!(status, "pass" | "updated") {
                what.push(format!(
                    "{} (tick {}): {status}",
                    c["name"].as_str().unwrap_or_default(),
                    c["tick"]
                ));
            }
        }
        let _ = write!(
            h,
            "<tr><td>{link}</td><td class={class}>{verdict}</td><td>{}</td></tr>",
            what.iter().map(|w| esc(w)).collect::<Vec<_>>().join("<br>")
        );
    }
    h.push_str("</table>");
    h
}
