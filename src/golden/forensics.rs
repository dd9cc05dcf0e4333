//! Why a run left the recorded one: the world at its first divergent
//! frame, and the pictures there beside the nearest blessed capture.

use std::fs;

use advkit_core::{Compression, Frame, Scene};
use advkit_golden::store::{
    Artifacts, Goldens, Picture, Shows, divergence_rank, read_png, write_png,
};
use advkit_golden::{Capture, Scenario, Tolerance, diff_image};

use super::run_scenario;
use crate::{replay, state};

/// Why a run left the recorded one, at its first divergent frame.
#[derive(Debug, Clone)]
pub struct Forensics {
    /// The first tick whose frame hash differs.
    pub tick: u64,
    pub world: World,
    /// Pictures in the artifacts directory.
    pub pictures: Vec<Picture>,
}

/// The world (entities and flags) at the first divergent frame.
#[derive(Debug, Clone, PartialEq)]
pub enum World {
    /// Nothing to compare with, and why.
    Unknown(String),
    /// Recorded and actual states agree: only the pixels differ.
    Agrees,
    /// They differ; the world first differed at tick `since` (at or before
    /// the frame's), and these keys differ at the divergent frame.
    Differs {
        since: u64,
        changes: Vec<state::Change>,
    },
}

impl World {
    /// Lines for the terminal and the report.
    pub fn lines(&self, tick: u64) -> Vec<String> {
        const SHOWN: usize = 12;
        match self {
            World::Unknown(why) => vec![format!("no world state to compare: {why}")],
            World::Agrees => vec![format!(
                "at tick {tick} the world (entities and flags) agrees with the recording: only the pixels differ"
            )],
            World::Differs { since, changes } => {
                let mut out = vec![if *since < tick {
                    format!(
                        "the world first differed at tick {since}, before the frames did; at tick {tick}:"
                    )
                } else {
                    format!("at tick {tick} the world differs too:")
                }];
                out.extend(changes.iter().take(SHOWN).map(|c| format!("  {c}")));
                if changes.len() > SHOWN {
                    out.push(format!("  … {} more", changes.len() - SHOWN));
                }
                out
            }
        }
    }
}

/// Compares the recorded states (`states.jsonl` beside `hashes.txt`) with
/// this run's at `tick`, and finds the first tick they differ. A run
/// with no states is a game that lists no entities.
pub(super) fn world_at(goldens: &Goldens, actual: &[(u64, state::Flat)], tick: u64) -> World {
    if actual.is_empty() {
        return World::Unknown("the game does not list its entities (world.entities)".into());
    }
    let file = goldens.sequence(false).states;
    let log = match fs::read_to_string(&file) {
        Ok(text) => match state::Log::parse(&file.display().to_string(), &text) {
            Ok(log) => log,
            Err(e) => return World::Unknown(e),
        },
        Err(_) => {
            return World::Unknown(format!(
                "{} is missing (bless with `advkit golden check --update` to record it)",
                file.display()
            ));
        }
    };
    let Some(now) = actual.iter().find(|(t, _)| *t == tick).map(|(_, f)| f) else {
        return World::Unknown(format!("the run has no state at tick {tick}"));
    };
    let Some(recorded) = log.at(tick) else {
        return World::Unknown(format!("{} has no state at tick {tick}", file.display()));
    };
    let changes = state::diff(&recorded, now);
    if changes.is_empty() {
        return World::Agrees;
    }
    let since = actual
        .iter()
        .take_while(|(t, _)| *t <= tick)
        .find(|(t, f)| log.at(*t).is_some_and(|r| r != *f))
        .map_or(tick, |(t, _)| *t);
    World::Differs { since, changes }
}

/// Every failure is a picture: a run whose hashes diverge at `tick` is run
/// again, and the expected frame there (kept beside the hashes) is written
/// beside the actual one and their difference. When no frame was kept at
/// `tick`, the first kept frame or blessed capture after it is (else the
/// last before it), beside the actual one at its tick; the run's own frames at `tick` and the tick before are
/// written too. Each picture says which it is.
pub(super) fn divergence_pictures(
    scenario: &Scenario,
    scene: &Scene,
    launch: Option<&replay::Launch>,
    tick: u64,
    goldens: &Goldens,
    artifacts: &Artifacts,
) -> Result<Vec<Picture>, String> {
    let kept = goldens.sequence(false).read_frames()?;
    let capture = scenario
        .captures
        .iter()
        .filter(|c| goldens.capture(&c.name).is_file())
        .min_by_key(|c| divergence_rank(c.tick, tick));
    // The expected frame nearest to `tick`: its tick, what it is, its
    // size (a capture may have its own), and the frame.
    let expected = match (kept.nearest(tick), capture) {
        (Some(k), c)
            if c.is_none_or(|c| divergence_rank(k, tick) <= divergence_rank(c.tick, tick)) =>
        {
            let frame = kept.frame(k)?.ok_or("a kept frame vanished")?;
            Some((k, "kept frame".to_owned(), None, frame))
        }
        (_, Some(c)) => {
            let path = goldens.capture(&c.name);
            let frame = read_png(&path)
                .ok_or_else(|| format!("golden {} is not a readable PNG", path.display()))?;
            Some((
                c.tick,
                format!("golden capture `{}`", c.name),
                c.size.clone(),
                frame,
            ))
        }
        _ => None,
    };
    // The run's frames at these ticks, at these sizes.
    let mut wanted: std::collections::BTreeMap<u64, Option<String>> = Default::default();
    if let Some((k, _, size, _)) = &expected {
        wanted.insert(*k, size.clone());
    }
    for t in [tick, tick.saturating_sub(1)] {
        if t > scenario.start_tick && t >= 1 {
            wanted.entry(t).or_insert(None);
        }
    }
    let mut again = scenario.clone();
    again.record_hashes = false;
    again.keep_frames = None;
    again.check_world = false;
    again.mask.clear();
    again.captures = wanted
        .into_iter()
        .map(|(t, size)| Capture {
            name: format!("tick-{t}"),
            tick: t,
            size,
            tolerance: None,
            mask: Vec::new(),
            xfail: None,
        })
        .collect();
    let mut frames = std::collections::BTreeMap::new();
    run_scenario(&again, scene, launch, false, |c, frame, _| {
        frames.insert(c.tick, frame.clone());
    })?;
    let mut pictures = Vec::new();
    let mut picture = |frame: &Frame, caption: String, shows: Shows, at: u64| {
        let file = Artifacts::picture_name(shows, at);
        write_png(&artifacts.picture(&file), frame, Compression::Fast)?;
        pictures.push(Picture {
            file,
            caption,
            shows,
            tick: at,
        });
        Ok::<(), String>(())
    };
    if let Some((k, what, _, expected)) = &expected
        && let Some(actual) = frames.get(k)
    {
        let when = if *k == tick {
            format!("tick {k}, the first divergent tick")
        } else if *k > tick {
            format!("tick {k}, the first {what} after the first divergent tick {tick}")
        } else {
            format!("tick {k}, the last {what} before the first divergent tick {tick}")
        };
        picture(
            expected,
            format!("expected ({what}), {when}"),
            Shows::Expected,
            *k,
        )?;
        picture(actual, format!("actual, {when}"), Shows::Actual, *k)?;
        picture(
            &diff_image(expected, actual, Tolerance::default(), &[]),
            format!("difference, {when}"),
            Shows::Diff,
            *k,
        )?;
    }
    let shown = expected.as_ref().map(|(k, ..)| *k);
    for (t, frame) in &frames {
        let (shows, caption) = if *t == tick {
            (
                Shows::FirstDivergent,
                format!("actual, tick {t} (first divergent)"),
            )
        } else if *t + 1 == tick {
            (Shows::Before, format!("actual, tick {t} (the tick before)"))
        } else {
            continue;
        };
        // Already shown beside its expected frame.
        if shown == Some(*t) && shows == Shows::FirstDivergent {
            continue;
        }
        picture(frame, caption, shows, *t)?;
    }
    Ok(pictures)
}
