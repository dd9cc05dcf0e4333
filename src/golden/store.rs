//! The goldens on disk: judging a run's frames, hash sequence and world
//! against them, blessing (and variants), and which files no scenario
//! refers to any more.

use std::fs;
use std::path::{Path, PathBuf};

use advkit_core::{Compression, Frame, decode_png, encode_png};
use advkit_golden::{Comparison, Scenario, Tolerance, compare, diff_image};
use serde_json::Value as Json;

use super::forensics::{World, world_at};
use super::{Options, Status};
use crate::state;

/// Files and directories in `golden_dir` that no scenario in `scenarios`
/// refers to: a renamed capture's old PNG, a deleted scenario's directory.
pub fn unreferenced(golden_dir: &Path, scenarios: &[PathBuf]) -> Vec<PathBuf> {
    let mut wanted: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for path in scenarios {
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let Ok(scenario) = fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| Scenario::parse("", &t).map_err(|e| e.to_string()))
        else {
            // A scenario that does not parse keeps all its files.
            wanted.insert(name.to_owned(), vec!["*".into()]);
            continue;
        };
        let mut files: Vec<String> = scenario
            .captures
            .iter()
            .flat_map(|c| [format!("{}.png", c.name), format!("{}.new.png", c.name)])
            .collect();
        if scenario.record_hashes {
            files.extend(
                [
                    "hashes.txt",
                    "hashes.new.txt",
                    "states.jsonl",
                    "states.new.jsonl",
                ]
                .map(String::from),
            );
        }
        wanted.insert(name.to_owned(), files);
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
        if files.iter().any(|f| f == "*") || !dir.is_dir() {
            continue;
        }
        let mut inside: Vec<PathBuf> = fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        inside.sort();
        out.extend(inside.into_iter().filter(|f| {
            let n = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // `<capture>@<variant>.png`: another accepted golden of it.
            let variant_of = n
                .split_once('@')
                .map(|(stem, _)| format!("{stem}.png"))
                .filter(|_| n.ends_with(".png"));
            !files.contains(&n) && !variant_of.is_some_and(|main| files.contains(&main))
        }));
    }
    out
}

pub(super) fn write_text(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Compares one frame with its golden file (or deals with its absence):
/// the verdict, and the golden as decoded with the comparison, when there
/// was one to compare with.
pub(super) fn judge(
    golden: &Path,
    actual: &Frame,
    tol: Tolerance,
    masks: &[[u32; 4]],
    opts: &Options,
) -> Result<(Status, Option<(Frame, Comparison)>), String> {
    let bless = |path: &Path| -> Result<Status, String> {
        write_png(path, actual, Compression::Best)?;
        let _ = fs::remove_file(path.with_extension("new.png"));
        Ok(Status::Updated {
            path: path.to_owned(),
        })
    };
    let bytes = match fs::read(golden) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if opts.update {
                return Ok((bless(golden)?, None));
            }
            if opts.ci {
                return Ok((Status::Missing, None));
            }
            let pending = golden.with_extension("new.png");
            write_png(&pending, actual, Compression::Best)?;
            return Ok((Status::Pending { written: pending }, None));
        }
        Err(e) => return Err(format!("cannot read golden {}: {e}", golden.display())),
    };
    let expected = decode_png(&bytes)
        .map_err(|e| format!("golden {} is not a readable PNG: {e}", golden.display()))?;
    let comparison = compare(&expected, actual, tol, masks);
    let status = if comparison.passes() {
        let _ = fs::remove_file(golden.with_extension("new.png"));
        Status::Pass
    } else if let Some(variant) = matching_variant(golden, actual, tol, masks)? {
        Status::PassVariant { variant }
    } else if let (true, Some(variant)) = (opts.update, &opts.variant) {
        // Another accepted golden beside the others, not a replacement.
        let path = variant_path(golden, variant);
        write_png(&path, actual, Compression::Best)?;
        Status::Updated { path }
    } else if opts.update {
        bless(golden)?
    } else {
        Status::Fail { comparison }
    };
    Ok((status, Some((expected, comparison))))
}

/// `walk/a@linux-gpu.png` for golden `walk/a.png` and variant `linux-gpu`.
pub(super) fn variant_path(golden: &Path, variant: &str) -> PathBuf {
    let stem = golden
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("capture");
    golden.with_file_name(format!("{stem}@{variant}.png"))
}

/// The name of the first variant golden (`<capture>@<variant>.png`, in
/// name order) that `actual` matches, if any.
pub(super) fn matching_variant(
    golden: &Path,
    actual: &Frame,
    tol: Tolerance,
    masks: &[[u32; 4]],
) -> Result<Option<String>, String> {
    let (Some(dir), Some(stem)) = (golden.parent(), golden.file_stem().and_then(|s| s.to_str()))
    else {
        return Ok(None);
    };
    let prefix = format!("{stem}@");
    let mut variants: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let variant = name.strip_prefix(&prefix)?.strip_suffix(".png")?.to_owned();
            Some((variant, e.path()))
        })
        .collect();
    variants.sort();
    for (variant, path) in variants {
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

/// `<tick> <hash>` per line, as `hashes.txt` holds them.
pub fn hashes_text(hashes: &[(u64, u64)]) -> String {
    hashes
        .iter()
        .map(|(tick, h)| format!("{tick} {h:016x}\n"))
        .collect()
}

/// Reads `hashes.txt`; lines that are not `<tick> <hex>` are errors.
pub fn parse_hashes(path: &Path, text: &str) -> Result<Vec<(u64, u64)>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let mut words = line.split_whitespace();
            let tick = words.next().and_then(|w| w.parse().ok());
            let hash = words.next().and_then(|w| u64::from_str_radix(w, 16).ok());
            match (tick, hash, words.next()) {
                (Some(t), Some(h), None) => Ok((t, h)),
                _ => Err(format!(
                    "{}:{}: expected `<tick> <16 hex digits>`, found `{line}`",
                    path.display(),
                    i + 1
                )),
            }
        })
        .collect()
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

/// Compares the run's frame hashes with `hashes.txt`. The states go with
/// the hashes: `states.jsonl` is blessed, pending (`.new`) or removed
/// together with them.
pub(super) fn judge_hashes(
    dir: &Path,
    hashes: &[(u64, u64)],
    states: &[(u64, state::Flat)],
    opts: &Options,
) -> Result<Status, String> {
    let file = dir.join("hashes.txt");
    let states_file = dir.join("states.jsonl");
    let pending = dir.join("hashes.new.txt");
    let pending_states = dir.join("states.new.jsonl");
    let write = |hashes_to: &Path, states_to: &Path| -> Result<(), String> {
        write_text(hashes_to, &hashes_text(hashes))?;
        if states.is_empty() {
            let _ = fs::remove_file(states_to);
            Ok(())
        } else {
            write_text(states_to, &state::log_text(states))
        }
    };
    let drop_pending = || {
        let _ = fs::remove_file(&pending);
        let _ = fs::remove_file(&pending_states);
    };
    let bless = || -> Result<Status, String> {
        write(&file, &states_file)?;
        drop_pending();
        Ok(Status::Updated { path: file.clone() })
    };
    let recorded = match fs::read_to_string(&file) {
        Ok(t) => parse_hashes(&file, &t)?,
        Err(_) if opts.update => return bless(),
        Err(_) if opts.ci => return Ok(Status::Missing),
        Err(_) => {
            write(&pending, &pending_states)?;
            return Ok(Status::Pending { written: pending });
        }
    };
    let ranges = diverging_ranges(&recorded, hashes);
    if ranges.is_empty() {
        drop_pending();
        // Hashes recorded before states were kept: `--update` adds the
        // states, which belong to these very frames.
        if opts.update && !states.is_empty() && !states_file.exists() {
            write_text(&states_file, &state::log_text(states))?;
            return Ok(Status::Updated { path: states_file });
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
    golden_dir: &Path,
    actual: &[(u64, state::Flat)],
) -> Result<Status, String> {
    if actual.is_empty() {
        return Err(
            "check_world: the game lists no entities (world.entities), so there is no world to \
             compare"
                .into(),
        );
    }
    let file = golden_dir.join("states.jsonl");
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
    let first = match world_at(golden_dir, actual, first_tick) {
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

pub(super) fn write_png(path: &Path, frame: &Frame, level: Compression) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let png = encode_png(frame, level).map_err(|e| e.to_string())?;
    fs::write(path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `<capture>.expected.png`, `.actual.png` and `.diff.png`. Artifacts are
/// written with fast compression: they are made on every failure and read
/// once (a 1080p frame: ~18 ms instead of ~770 ms).
pub(super) fn write_artifacts(
    dir: &Path,
    capture: &str,
    expected: &Frame,
    actual: &Frame,
    tol: Tolerance,
    masks: &[[u32; 4]],
) -> Result<(), String> {
    write_png(
        &dir.join(format!("{capture}.expected.png")),
        expected,
        Compression::Fast,
    )?;
    write_png(
        &dir.join(format!("{capture}.actual.png")),
        actual,
        Compression::Fast,
    )?;
    write_png(
        &dir.join(format!("{capture}.diff.png")),
        &diff_image(expected, actual, tol, masks),
        Compression::Fast,
    )
}
