//! What a whole `golden check` run leaves for people and machines: an
//! index report linking every scenario's, JUnit XML for CI test panels,
//! and JSON.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value as Json, json};

use super::{ScenarioResult, Status};

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The line for a capture that did not pass; `None` for a pass.
fn problem(r: &ScenarioResult, c: &super::CaptureResult) -> Option<String> {
    match &c.status {
        Status::Pass | Status::PassVariant { .. } | Status::Updated { .. } => None,
        _ => Some(r.line(c)),
    }
}

/// The start of an index page, with its styles, titled by `failed` and
/// headed `heading` (a check's, or merged shards').
pub(crate) fn index_head(failed: usize, heading: &str) -> String {
    format!(
        "<!doctype html><meta charset=utf-8><title>advkit golden: {failed} failed</title>\
         <style>body{{font:14px sans-serif;background:#1b1b22;color:#ddd;margin:24px}}\
         td{{padding:3px 12px;vertical-align:top}} a{{color:#8ab4f8}} .bad{{color:#ff7b72}}\
         .new{{color:#e3b341}} .ok{{color:#7ee787}}</style><h1>{}</h1>",
        esc(heading)
    )
}

/// `index.html` in the artifacts directory: one row per scenario, failures
/// first, each linking its `report.html` (relative to `artifacts`).
pub fn index_html(results: &[ScenarioResult], artifacts: &Path) -> String {
    let mut rows: Vec<&ScenarioResult> = results.iter().collect();
    rows.sort_by_key(|r| (!r.failed(), r.pending() == 0, r.name.clone()));
    let failed = results
        .iter()
        .filter(|r| r.failed() && r.error.is_none())
        .count();
    let errors = results.iter().filter(|r| r.error.is_some()).count();
    let pending = results.iter().filter(|r| r.pending() > 0).count();
    let mut h = index_head(failed, "advkit golden check");
    let _ = write!(
        h,
        "<p>{} scenario(s): {failed} failed, {errors} could not run, {pending} pending</p><table>\
         <tr><th>scenario</th><th>verdict</th><th>what</th></tr>",
        results.len()
    );
    for r in rows {
        let (class, verdict) = if r.error.is_some() {
            ("bad", "error")
        } else if r.nondeterministic.is_some() {
            ("bad", "nondeterministic")
        } else if r.failed() {
            ("bad", "FAIL")
        } else if r.pending() > 0 {
            ("new", "pending")
        } else {
            ("ok", "pass")
        };
        let name = match &r.report {
            Some(report) => {
                let rel = report.strip_prefix(artifacts).unwrap_or(report);
                format!(
                    "<a href=\"{}\">{}</a>",
                    esc(&rel.display().to_string()),
                    esc(&r.name)
                )
            }
            None => esc(&r.name),
        };
        let what: Vec<String> = match &r.error {
            Some(e) => vec![e.clone()],
            None => r.captures.iter().filter_map(|c| problem(r, c)).collect(),
        };
        let _ = write!(
            h,
            "<tr><td>{name}</td><td class={class}>{verdict}</td><td>{}</td></tr>",
            what.iter().map(|w| esc(w)).collect::<Vec<_>>().join("<br>")
        );
    }
    h.push_str("</table>");
    h
}

/// JUnit XML: a test suite per scenario, a test case per capture (and
/// `hashes`, whenever the scenario records them); a scenario that cannot
/// run is one errored case; a pending capture is skipped. A suite's
/// `time` is the scenario's; its cases share it evenly (one run draws all
/// of them).
pub fn junit_xml(results: &[ScenarioResult]) -> String {
    let failures: usize = results
        .iter()
        .flat_map(|r| &r.captures)
        .filter(|c| c.status.is_failure())
        .count();
    let errors = results.iter().filter(|r| r.error.is_some()).count();
    let tests: usize = results.iter().map(|r| r.captures.len().max(1)).sum();
    let skipped: usize = results.iter().map(|r| r.pending()).sum();
    let total: f64 = results.iter().map(|r| r.took.as_secs_f64()).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"advkit golden\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{total:.3}\">"
    );
    for r in results {
        let suite_failures = r.captures.iter().filter(|c| c.status.is_failure()).count();
        let cases = r.captures.len().max(1);
        let took = r.took.as_secs_f64();
        let each = took / cases as f64;
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{cases}\" failures=\"{suite_failures}\" errors=\"{}\" skipped=\"{}\" time=\"{took:.3}\">",
            esc(&r.name),
            usize::from(r.error.is_some()),
            r.pending()
        );
        if let Some(e) = &r.error {
            let _ = writeln!(
                x,
                "    <testcase classname=\"{0}\" name=\"{0}\" file=\"{1}\" time=\"{took:.3}\"><error message=\"{2}\">{2}</error></testcase>",
                esc(&r.name),
                esc(&r.path.display().to_string()),
                esc(e)
            );
        }
        for c in &r.captures {
            let _ = write!(
                x,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"{each:.3}\">",
                esc(&r.name),
                esc(&c.name),
                esc(&r.path.display().to_string())
            );
            if c.status.is_failure() {
                let text = problem(r, c).unwrap_or_default();
                let mut body = r.lines().join("\n");
                if let Some(report) = &r.report {
                    let _ = write!(body, "\nreport: {}", report.display());
                }
                let _ = write!(
                    x,
                    "<failure message=\"{}\">{}</failure>",
                    esc(&text),
                    esc(&body)
                );
            } else if matches!(c.status, Status::Pending { .. }) {
                x.push_str("<skipped message=\"no golden yet (pending review)\"/>");
            } else if let Status::XFail { reason, .. } = &c.status {
                let _ = write!(
                    x,
                    "<skipped message=\"expected failure: {}\"/>",
                    esc(reason)
                );
            }
            x.push_str("</testcase>\n");
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// One scenario as JSON: name, file, verdict, what ran, every capture
/// with its status and numbers, the divergence and the report.
pub fn json(r: &ScenarioResult) -> Json {
    let captures: Vec<Json> = r
        .captures
        .iter()
        .map(|c| {
            let mut o = json!({"name": c.name, "tick": c.tick});
            let (status, extra) = match &c.status {
                Status::Pass => ("pass", json!({})),
                Status::PassVariant { variant } => ("pass", json!({"variant": variant})),
                Status::Fail { comparison: k } => (
                    "fail",
                    json!({
                        "differing": k.differing,
                        "tolerated": k.tolerated,
                        "masked": k.masked,
                        "max_diff": k.max_diff,
                        "bbox": k.bbox.map(|(a, b, c, d)| [a, b, c, d]),
                        "size_mismatch": k.size_mismatch.is_some(),
                    }),
                ),
                Status::Pending { written } => ("pending", json!({"written": written})),
                Status::Missing => ("missing", json!({})),
                Status::Updated { path } => ("updated", json!({"written": path})),
                Status::Diverged { ranges } => ("diverged", json!({"ranges": ranges})),
                Status::XFail { what, reason } => {
                    ("xfail", json!({"failure": what, "reason": reason}))
                }
                Status::XPass { reason } => ("xpass", json!({"reason": reason})),
                Status::WorldDiffers { ranges, first } => {
                    ("world_differs", json!({"ranges": ranges, "first": first}))
                }
            };
            o["status"] = json!(status);
            if let (Json::Object(o), Json::Object(extra)) = (&mut o, extra) {
                o.extend(extra);
            }
            if let Some(n) = &c.note {
                o["note"] = json!(n);
            }
            o
        })
        .collect();
    let verdict = if r.error.is_some() {
        "error"
    } else if r.nondeterministic.is_some() {
        "nondeterministic"
    } else if r.failed() {
        "fail"
    } else if r.pending() > 0 {
        "pending"
    } else {
        "pass"
    };
    json!({
        "name": r.name,
        "file": r.path,
        "verdict": verdict,
        "nondeterministic": r.nondeterministic,
        "ran": r.ran,
        "seconds": r.took.as_secs_f64(),
        "error": r.error,
        "warnings": r.warnings,
        "captures": captures,
        "first_divergence": r.first_divergence,
        "applied_before_divergence": r.applied_before_divergence,
        "world": r.forensics.as_ref().map(|f| f.world.lines(f.tick)),
        "report": r.report,
    })
}
