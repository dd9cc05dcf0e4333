//! The goldens on disk: judging a run's frames, hash sequence and world
//! against them, blessing (and variants), and which files no scenario
//! refers to any more.

use std::fs;
use std::path::{Path, PathBuf};

use advkit_core::{Compression, Frame, decode_png, encode_png};
use advkit_golden::store::{Artifacts, Change, Goldens, remove_file, write_file, write_png};
use advkit_golden::{Comparison, Ran, Scenario, Tolerance, compare, diff_image};
use serde_json::Value as Json;

use super::forensics::{World, world_at};
use super::{Options, Status};
use crate::state;

/// Files and directories in `golden_dir` that no scenario in `scenarios`
/// refers to: a renamed capture's old PNG, a deleted scenario's directory.
pub fn unreferenced(golden_dir: &Path, scenarios: &[PathBuf]) -> Vec<PathBuf> {
    let mut wanted: std::collections::BTreeMap<String, Option<Vec<String>>> = Default::default();
    for path in scenarios {
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let scenario = fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| Scenario::parse("", &t).map_err(|e| e.to_string()));
        // A scenario that does not parse keeps all its files.
        wanted.insert(
            name.to_owned(),
            scenario.ok().map(|s| Goldens::file_names(&s)),
        );
    }
    let mut out = Vec::new();
    let Ok(dirs) = fs::read_dir(golden_dir) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = dirs.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(files) = wanted.get(&name) else {
            out.push(dir);
            continue;
        };
        let Some(files) = files.as_ref().filter(|_| dir.is_dir()) else {
            continue;
        };
        let mut inside: Vec<PathBuf> = fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        inside.sort();
        out.extend(inside.into_iter().filter(|f| {
            let n = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            !files.contains(&n) && !Goldens::is_variant_of(&n, files)
        }));
    }
    out
}

/// Compares one frame with its golden (or deals with its absence): the
/// verdict, and the golden as decoded with the comparison, when there was
/// one to compare with.
pub(super) fn judge(
    goldens: &Goldens,
    capture: &str,
    actual: &Frame,
    tol: Tolerance,
    masks: &[[u32; 4]],
    opts: &Options,
) -> Result<(Status, Option<(Frame, Comparison)>), String> {
    let (golden, pending) = (goldens.capture(capture), goldens.pending(capture));
    let bless = |path: PathBuf| -> Result<Status, String> {
        let png = encode_png(actual, Compression::Best).map_err(|e| e.to_string())?;
        Change::default()
            .write(&path, png)
            .remove(&pending)
            .apply()?;
        Ok(Status::Updated { path })
    };
    let bytes = match fs::read(&golden) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if opts.update {
                return Ok((bless(golden)?, None));
            }
            if opts.ci {
                return Ok((Status::Missing, None));
            }
            write_png(&pending, actual, Compression::Best)?;
            return Ok((Status::Pending { written: pending }, None));
        }
        Err(e) => return Err(format!("cannot read golden {}: {e}", golden.display())),
    };
    let expected = decode_png(&bytes)
        .map_err(|e| format!("golden {} is not a readable PNG: {e}", golden.display()))?;
    let comparison = compare(&expected, actual, tol, masks);
    let status = if comparison.passes() {
        remove_file(&pending)?;
        Status::Pass
    } else if let Some(variant) = matching_variant(goldens, capture, actual, tol, masks)? {
        Status::PassVariant { variant }
    } else if let (true, Some(variant)) = (opts.update, &opts.variant) {
        // Another accepted golden beside the others, not a replacement.
        bless(goldens.variant(capture, variant))?
    } else if opts.update {
        bless(golden)?
    } else {
        Status::Fail { comparison }
    };
    Ok((status, Some((expected, comparison))))
}

/// The name of the first variant golden (`<capture>@<variant>.png`, in
/// name order) that `actual` matches, if any.
fn matching_variant(
    goldens: &Goldens,
    capture: &str,
    actual: &Frame,
    tol: Tolerance,
    masks: &[[u32; 4]],
) -> Result<Option<String>, String> {
    for (variant, path) in goldens.variants(capture) {
        let bytes =
            fs::read(&path).map_err(|e| format!("cannot read golden {}: {e}", path.display()))?;
        let expected = decode_png(&bytes)
            .map_err(|e| format!("golden {} is not a readable PNG: {e}", path.display()))?;
        if compare(&expected, actual, tol, masks).passes() {
            return Ok(Some(variant));
        }
    }
    Ok(None)
}

/// The ranges of ticks (inclusive) where `actual` differs from `recorded`:
/// a recorded tick the run did not reach counts as different; ticks the
/// recording has no hash for (a recorder that missed a frame) are skipped.
pub fn diverging_ranges(recorded: &[(u64, u64)], actual: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let actual: std::collections::BTreeMap<u64, u64> = actual.iter().copied().collect();
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    let mut prev_recorded: Option<u64> = None;
    for &(tick, hash) in recorded {
        if actual.get(&tick) != Some(&hash) {
            match ranges.last_mut() {
                // Adjacent in the recording: one range, across ticks it has
                // no hash for.
                Some(last) if prev_recorded == Some(last.1) => last.1 = tick,
                _ => ranges.push((tick, tick)),
            }
        }
        prev_recorded = Some(tick);
    }
    ranges
}

/// Compares the run's frame hashes with `hashes.txt`. The states and
/// kept frames go with the hashes: blessed, pending (`.new`) or removed
/// together with them.
pub(super) fn judge_hashes(
    goldens: &Goldens,
    ran: &Ran,
    states: &[(u64, state::Flat)],
    opts: &Options,
) -> Result<Status, String> {
    let (blessed, pending) = (goldens.sequence(false), goldens.sequence(true));
    let states_text = state::log_text(states);
    let bless = || -> Result<Status, String> {
        blessed.write(&ran.hashes, &states_text, &ran.kept)?;
        pending.remove();
        Ok(Status::Updated {
            path: blessed.hashes.clone(),
        })
    };
    let Some(recorded) = blessed.read_hashes()? else {
        if opts.update {
            return bless();
        }
        if opts.ci {
            return Ok(Status::Missing);
        }
        pending.write(&ran.hashes, &states_text, &ran.kept)?;
        return Ok(Status::Pending {
            written: pending.hashes,
        });
    };
    let ranges = diverging_ranges(&recorded, &ran.hashes);
    if ranges.is_empty() {
        pending.remove();
        // Hashes recorded before states or frames were kept: `--update`
        // adds them, as they belong to these very frames.
        let add_states = !states.is_empty() && !blessed.states.exists();
        let add_frames = !ran.kept.is_empty() && !blessed.frames.exists();
        if opts.update && (add_states || add_frames) {
            if add_states {
                blessed.write_states(&states_text)?;
            }
            if add_frames {
                write_file(&blessed.frames, &ran.kept.encode())?;
            }
            return Ok(Status::Updated {
                path: if add_frames {
                    blessed.frames
                } else {
                    blessed.states
                },
            });
        }
        Ok(Status::Pass)
    } else if opts.update {
        bless()
    } else {
        Ok(Status::Diverged { ranges })
    }
}

/// `check_world`: the world after every update against `states.jsonl`
/// (blessed with the hashes): every range of ticks where it differs, and
/// what differed first.
pub(super) fn judge_world(
    goldens: &Goldens,
    actual: &[(u64, state::Flat)],
) -> Result<Status, String> {
    if actual.is_empty() {
        return Err(
            "check_world: the game lists no entities (world.entities), so there is no world to \
             compare"
                .into(),
        );
    }
    let file = goldens.sequence(false).states;
    let text = fs::read_to_string(&file).map_err(|_| {
        format!(
            "check_world: {} is missing; bless with `advkit golden check --update` to record it",
            file.display()
        )
    })?;
    let log = state::Log::parse(&file.display().to_string(), &text)?;
    let differing: Vec<u64> = actual
        .iter()
        .filter(|(t, now)| log.at(*t).as_ref() != Some(now))
        .map(|(t, _)| *t)
        .collect();
    let Some(&first_tick) = differing.first() else {
        return Ok(Status::Pass);
    };
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for t in differing {
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == t => *end = t,
            _ => ranges.push((t, t)),
        }
    }
    let first = match world_at(goldens, actual, first_tick) {
        World::Differs { changes, .. } => changes
            .iter()
            .take(3)
            .map(|c| {
                let show = |v: &Option<Json>| v.as_ref().map_or("(absent)".into(), Json::to_string);
                format!("{} {} -> {}", c.key, show(&c.recorded), show(&c.actual))
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.lines(first_tick).join(" "),
    };
    Ok(Status::WorldDiffers {
        ranges,
        first: format!("at tick {first_tick}: {first}"),
    })
}

/// `<capture>.expected.png`, `.actual.png` and `.diff.png`. Artifacts are
/// written with fast compression: they are made on every failure and read
/// once (a 1080p frame: ~18 ms instead of ~770 ms).
pub(super) fn write_artifacts(
    artifacts: &Artifacts,
    capture: &str,
    expected: &Frame,
    actual: &Frame,
    tol: Tolerance,
    masks: &[[u32; 4]],
) -> Result<(), String> {
    write_png(&artifacts.expected(capture), expected, Compression::Fast)?;
    write_png(&artifacts.actual(capture), actual, Compression::Fast)?;
    write_png(
        &artifacts.diff(capture),
        &diff_image(expected, actual, tol, masks),
        Compression::Fast,
    )
}
