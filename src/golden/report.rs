//! `report.html` for one scenario that failed: the divergence, the world
//! at it, and every failed capture as expected, actual and difference.

use std::fmt::Write as _;

use advkit_golden::Scenario;
use advkit_golden::store::{Picture, Shows};
use serde_json::Value as Json;

use super::forensics::World;
use super::output::esc;
use super::{Failure, ScenarioResult, Status};

pub(super) fn report_html(
    result: &ScenarioResult,
    scenario: &Scenario,
    failures: &[Failure],
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><meta charset=utf-8><title>advkit golden: {name}</title>\
         <style>body{{font:14px sans-serif;background:#1b1b22;color:#ddd;margin:24px}}\
         img{{image-rendering:pixelated;width:100%;border:1px solid #444}}\
         .row{{display:grid;grid-template-columns:1fr 1fr 1fr;gap:12px}}\
         h2{{margin-top:32px}} td{{padding:2px 10px}} .bad{{color:#ff7b72}}\
         table.ranges,table.world{{background:#2a2140;border-collapse:collapse}}</style>\
         <h1>{name}</h1><p>{desc}</p><p>scenario: <code>{path}</code></p>",
        name = esc(&result.name),
        desc = esc(&scenario.description),
        path = esc(&result.path.display().to_string()),
    );
    let _ = write!(h, "<p>ran: {}</p>", esc(&result.ran));
    let ranges = result.captures.iter().find_map(|c| match &c.status {
        Status::Diverged { ranges } => Some(ranges),
        _ => None,
    });
    if let (Some(t), Some(ranges)) = (result.first_divergence, ranges) {
        let _ = write!(
            h,
            "<p class=bad>The frame hashes first differ from the recorded run at tick <b>{t}</b>; \
             last applied before it: {}.</p><table class=ranges><tr><th>diverging ticks</th><th>ticks</th></tr>",
            esc(result.applied_before_divergence.as_deref().unwrap_or("-"))
        );
        for (a, b) in ranges {
            let _ = write!(h, "<tr><td>{a} – {b}</td><td>{}</td></tr>", b - a + 1);
        }
        h.push_str("</table>");
    }
    if let Some(f) = &result.forensics {
        let _ = write!(h, "<h2>The world at tick {}</h2>", f.tick);
        match &f.world {
            World::Differs { since, changes } => {
                if *since < f.tick {
                    let _ = write!(
                        h,
                        "<p class=bad>The world first differed at tick <b>{since}</b>, before the frames did.</p>"
                    );
                }
                h.push_str("<table class=world><tr><th>entity.attribute</th><th>recorded</th><th>now</th></tr>");
                let show =
                    |v: &Option<Json>| v.as_ref().map_or("(absent)".to_owned(), Json::to_string);
                for c in changes {
                    let _ = write!(
                        h,
                        "<tr><td>{}</td><td>{}</td><td class=bad>{}</td></tr>",
                        esc(&c.key),
                        esc(&show(&c.recorded)),
                        esc(&show(&c.actual))
                    );
                }
                h.push_str("</table>");
            }
            other => {
                let _ = write!(h, "<p>{}</p>", esc(&other.lines(f.tick).join(" ")));
            }
        }
        // Expected, actual and difference at one tick in a row; the run's
        // own frames at and before the first divergent tick below.
        let (pair, run): (Vec<&Picture>, Vec<&Picture>) = f
            .pictures
            .iter()
            .partition(|p| matches!(p.shows, Shows::Expected | Shows::Actual | Shows::Diff));
        if let Some(p) = pair.first() {
            let _ = write!(
                h,
                "<h2>Expected beside actual at tick {}</h2>{}",
                p.tick,
                if p.tick == f.tick {
                    "<p>The first divergent tick, from the frames kept with the recording.</p>"
                        .to_owned()
                } else {
                    format!(
                        "<p>No frame was kept at the first divergent tick {}: these are the \
                         nearest one that was (after it, where they differ, when there is one), \
                         and the run's own frames at and before tick {} follow.</p>",
                        f.tick, f.tick
                    )
                }
            );
        } else if !run.is_empty() {
            h.push_str(
                "<p>The recording kept no frame to compare with (record again, or bless with \
                 <code>--update</code>, to keep frames beside the hashes): the run's own \
                 frames.</p>",
            );
        }
        for row in [pair, run] {
            if row.is_empty() {
                continue;
            }
            h.push_str("<div class=row>");
            for p in row {
                let _ = write!(
                    h,
                    "<figure><a href=\"{0}\"><img src=\"{0}\"></a><figcaption>{1}</figcaption></figure>",
                    esc(&p.file),
                    esc(&p.caption)
                );
            }
            h.push_str("</div>");
        }
    }
    for f in failures {
        let c = &f.comparison;
        let bbox = c
            .bbox
            .map(|(x0, y0, x1, y1)| format!("{x0},{y0} – {x1},{y1}"))
            .unwrap_or_else(|| "-".into());
        let _ = write!(
            h,
            "<h2 class=bad>{cap} (tick {tick})</h2><table>\
             <tr><td>differing pixels</td><td>{diff} (allowed {allow})</td></tr>\
             <tr><td>largest channel difference</td><td>{max} (allowed per pixel {tol})</td></tr>\
             <tr><td>bounding box</td><td>{bbox}</td></tr></table>\
             <div class=row><figure><a href=\"{cap}.expected.png\"><img src=\"{cap}.expected.png\"></a><figcaption>expected (golden)</figcaption></figure>\
             <figure><a href=\"{cap}.actual.png\"><img src=\"{cap}.actual.png\"></a><figcaption>actual</figcaption></figure>\
             <figure><a href=\"{cap}.diff.png\"><img src=\"{cap}.diff.png\"></a><figcaption>difference</figcaption></figure></div>\
             <p>Each picture links to its full-size PNG.</p>",
            cap = esc(&f.capture),
            tick = f.tick,
            diff = c.differing,
            allow = c.tolerance.allowed(c.total),
            max = c.max_diff,
            tol = c.tolerance.max_diff,
        );
    }
    h.push_str("<p>Accept the new frames with <code>advkit golden check --update</code> or review them with <code>advkit golden review</code>.</p>");
    h
}
