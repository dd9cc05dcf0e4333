//! Why a run left the recorded one: the world at its first divergent
//! frame, and the pictures there beside the nearest blessed capture.

use std::fs;
use std::path::Path;

use advkit_core::{Compression, Scene};
use advkit_golden::{Capture, Scenario};

use super::run_scenario;
use super::store::write_png;
use crate::{replay, state};

/// Why a run left the recorded one, at its first divergent frame.
#[derive(Debug, Clone)]
pub struct Forensics {
    /// The first tick whose frame hash differs.
    pub tick: u64,
    pub world: World,
    /// Pictures in the artifacts directory: (file, caption).
    pub pictures: Vec<(String, String)>,
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
pub(super) fn world_at(golden_dir: &Path, actual: &[(u64, state::Flat)], tick: u64) -> World {
    if actual.is_empty() {
        return World::Unknown("the game does not list its entities (world.entities)".into());
    }
    let file = golden_dir.join("states.jsonl");
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

/// Every failure is a picture: a run whose hashes diverge is run again to
/// the first divergent tick, and its frames there and the tick before are
/// written beside the blessed capture nearest to it.
pub(super) fn divergence_pictures(
    scenario: &Scenario,
    scene: &Scene,
    launch: Option<&replay::Launch>,
    tick: u64,
    golden_dir: &Path,
    artifacts: &Path,
) -> Result<Vec<(String, String)>, String> {
    let mut again = scenario.clone();
    again.record_hashes = false;
    again.mask.clear();
    again.captures = (tick.saturating_sub(1).max(scenario.start_tick + 1).max(1)..=tick)
        .map(|t| Capture {
            name: format!("tick-{t}"),
            tick: t,
            size: None,
            tolerance: None,
            mask: Vec::new(),
            xfail: None,
        })
        .collect();
    let mut pictures = Vec::new();
    let mut first_error = None;
    run_scenario(&again, scene, launch, false, |c, frame, _| {
        let file = format!("diverged-{}.actual.png", c.name);
        match write_png(&artifacts.join(&file), frame, Compression::Fast) {
            Ok(()) => pictures.push((
                file,
                if c.tick == tick {
                    format!("actual, tick {} (first divergent)", c.tick)
                } else {
                    format!("actual, tick {} (the tick before)", c.tick)
                },
            )),
            Err(e) => first_error = Some(e),
        }
    })?;
    if let Some(e) = first_error {
        return Err(e);
    }
    let nearest = scenario
        .captures
        .iter()
        .filter(|c| golden_dir.join(format!("{}.png", c.name)).is_file())
        .min_by_key(|c| c.tick.abs_diff(tick));
    if let Some(c) = nearest {
        let file = format!("nearest-{}.golden.png", c.name);
        fs::copy(
            golden_dir.join(format!("{}.png", c.name)),
            artifacts.join(&file),
        )
        .map_err(|e| format!("cannot copy the golden `{}`: {e}", c.name))?;
        pictures.push((
            file,
            format!(
                "golden `{}`, tick {} (the nearest blessed capture)",
                c.name, c.tick
            ),
        ));
    }
    Ok(pictures)
}
