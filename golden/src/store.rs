//! The goldens on disk, typed: the one place their layout is spelled.
//!
//! - [`Goldens`]: a scenario's blessed files in `fixtures/golden/<scenario>/`
//!   (`<capture>.png`, variants `<capture>@<variant>.png`, pending
//!   `<capture>.new.png`) and its hash [`Sequence`] (`hashes.txt`,
//!   `states.jsonl`, `frames.bin`; pending: `hashes.new.txt`, …).
//! - [`Artifacts`]: what `golden check` leaves beside a failure in
//!   `target/advkit-golden/<scenario>/` (`<capture>.expected.png`,
//!   `.actual.png`, `.diff.png`, the [`CaptureNumbers`] in `<capture>.json`;
//!   a diverged run's sequence as `hashes.actual.txt`, … and its
//!   [`Divergence`] in `hashes.json`; `report.html`).
//! - [`KeptFrames`]: the frames kept beside a hash sequence.
//! - [`Change`]: accepting or rejecting a result, as files written and
//!   removed together, and put back together ([`Applied::undo`]).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use advkit_frame::{Compression, Frame, Size, decode_png, encode_png};
use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;

/// A scenario's blessed files: `<root>/<scenario>/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Goldens {
    dir: PathBuf,
}

impl Goldens {
    /// The goldens of scenario `name` under `root` (`fixtures/golden`).
    pub fn new(root: &Path, name: &str) -> Goldens {
        Goldens {
            dir: root.join(name),
        }
    }

    /// The goldens in `dir` itself (`fixtures/golden/<scenario>`).
    pub fn at(dir: &Path) -> Goldens {
        Goldens {
            dir: dir.to_owned(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<capture>.png`: the blessed frame.
    pub fn capture(&self, capture: &str) -> PathBuf {
        self.dir.join(format!("{capture}.png"))
    }

    /// `<capture>.new.png`: a frame with no golden yet, for review.
    pub fn pending(&self, capture: &str) -> PathBuf {
        self.dir.join(format!("{capture}.new.png"))
    }

    /// `<capture>@<variant>.png`: another accepted golden of the capture.
    pub fn variant(&self, capture: &str, variant: &str) -> PathBuf {
        self.dir.join(format!("{capture}@{variant}.png"))
    }

    /// The capture's variants, `(variant, path)` in name order.
    pub fn variants(&self, capture: &str) -> Vec<(String, PathBuf)> {
        let prefix = format!("{capture}@");
        let mut variants: Vec<(String, PathBuf)> = fs::read_dir(&self.dir)
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
        variants
    }

    /// The blessed hash sequence, or the pending one.
    pub fn sequence(&self, pending: bool) -> Sequence {
        let infix = if pending { ".new" } else { "" };
        Sequence {
            hashes: self.dir.join(format!("hashes{infix}.txt")),
            states: self.dir.join(format!("states{infix}.jsonl")),
            frames: self.dir.join(format!("frames{infix}.bin")),
        }
    }

    /// The file names `scenario` has in its directory, blessed or pending
    /// (variants are recognised by [`Goldens::is_variant_of`]).
    pub fn file_names(scenario: &Scenario) -> Vec<String> {
        let mut files: Vec<String> = scenario
            .captures
            .iter()
            .flat_map(|c| [format!("{}.png", c.name), format!("{}.new.png", c.name)])
            .collect();
        if scenario.record_hashes {
            let root = Goldens::new(Path::new(""), "");
            for pending in [false, true] {
                files.extend(
                    root.sequence(pending)
                        .files()
                        .iter()
                        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned)),
                );
            }
        }
        files
    }

    /// Whether `file` (a name) is a variant of one of `files`' captures.
    pub fn is_variant_of(file: &str, files: &[String]) -> bool {
        file.ends_with(".png")
            && file
                .split_once('@')
                .is_some_and(|(stem, _)| files.contains(&format!("{stem}.png")))
    }
}

/// A hash sequence and what goes with it: the frame hash after every
/// update (`<tick> <hex>` lines), the world after each (JSON lines), and
/// the kept frames. Blessed, pending or a diverged run's, the three travel
/// together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sequence {
    pub hashes: PathBuf,
    pub states: PathBuf,
    pub frames: PathBuf,
}

impl Sequence {
    pub fn files(&self) -> [&PathBuf; 3] {
        [&self.hashes, &self.states, &self.frames]
    }

    /// The hashes; `None` when there is no such file.
    pub fn read_hashes(&self) -> Result<Option<Vec<(u64, u64)>>, String> {
        match fs::read_to_string(&self.hashes) {
            Ok(text) => parse_hashes(&self.hashes, &text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", self.hashes.display())),
        }
    }

    /// The kept frames; empty when there are none (a recording made
    /// before frames were kept).
    pub fn read_frames(&self) -> Result<KeptFrames, String> {
        match fs::read(&self.frames) {
            Ok(bytes) => KeptFrames::parse(&self.frames, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(KeptFrames::default()),
            Err(e) => Err(format!("cannot read {}: {e}", self.frames.display())),
        }
    }

    /// Writes all three: `states` (JSON lines) and `frames` are removed
    /// when empty, so no stale file outlives the hashes it went with.
    pub fn write(
        &self,
        hashes: &[(u64, u64)],
        states: &str,
        frames: &KeptFrames,
    ) -> Result<(), String> {
        write_file(&self.hashes, hashes_text(hashes).as_bytes())?;
        self.write_states(states)?;
        if frames.is_empty() {
            remove_file(&self.frames)
        } else {
            write_file(&self.frames, &frames.encode())
        }
    }

    /// Writes (or, when empty, removes) the states alone: they belong to
    /// the hashes already there.
    pub fn write_states(&self, states: &str) -> Result<(), String> {
        if states.is_empty() {
            remove_file(&self.states)
        } else {
            write_file(&self.states, states.as_bytes())
        }
    }

    pub fn remove(&self) {
        for f in self.files() {
            let _ = fs::remove_file(f);
        }
    }

    /// Files a [`Change`] copies from `self` to `to`: each present one
    /// copied, each absent one removed there.
    pub fn copy_to(&self, to: &Sequence, change: Change) -> Change {
        self.files()
            .into_iter()
            .zip(to.files())
            .fold(change, |c, (from, to)| {
                if from.is_file() {
                    c.copy(from, to)
                } else {
                    c.remove(to)
                }
            })
    }
}

/// What `golden check` left for scenario `name`: `<root>/<scenario>/`
/// (`target/advkit-golden` by default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifacts {
    dir: PathBuf,
}

impl Artifacts {
    pub fn new(root: &Path, name: &str) -> Artifacts {
        Artifacts {
            dir: root.join(name),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<capture>.expected.png`: the golden a failed capture was compared
    /// with.
    pub fn expected(&self, capture: &str) -> PathBuf {
        self.dir.join(format!("{capture}.expected.png"))
    }

    /// `<capture>.actual.png`: what the run drew (also CI's frame for a
    /// missing golden).
    pub fn actual(&self, capture: &str) -> PathBuf {
        self.dir.join(format!("{capture}.actual.png"))
    }

    pub fn diff(&self, capture: &str) -> PathBuf {
        self.dir.join(format!("{capture}.diff.png"))
    }

    /// `<capture>.json`: the [`CaptureNumbers`].
    pub fn numbers(&self, capture: &str) -> PathBuf {
        self.dir.join(format!("{capture}.json"))
    }

    /// The diverged run's hash sequence (`hashes.actual.txt`, …).
    pub fn sequence(&self) -> Sequence {
        Sequence {
            hashes: self.dir.join("hashes.actual.txt"),
            states: self.dir.join("states.actual.jsonl"),
            frames: self.dir.join("frames.actual.bin"),
        }
    }

    /// `hashes.json`: the [`Divergence`].
    pub fn divergence(&self) -> PathBuf {
        self.dir.join("hashes.json")
    }

    /// A picture of the divergence ([`Picture::file`]).
    pub fn picture(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// The file name of the divergence picture that `shows` at `tick`.
    /// The run's own frames end in `.actual.png` like a failed capture's,
    /// and start with [`DIVERGED`] to tell them apart.
    pub fn picture_name(shows: Shows, tick: u64) -> String {
        match shows {
            Shows::Expected => format!("expected-tick-{tick}.png"),
            Shows::Actual => format!("actual-tick-{tick}.png"),
            Shows::Diff => format!("diff-tick-{tick}.png"),
            Shows::FirstDivergent | Shows::Before => format!("{DIVERGED}tick-{tick}.actual.png"),
        }
    }

    pub fn report(&self) -> PathBuf {
        self.dir.join("report.html")
    }
}

/// How the run's own frames at a divergence are named
/// ([`Artifacts::picture_name`]).
pub const DIVERGED: &str = "diverged-";

/// What a failed capture measured (`<capture>.json`), for review.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaptureNumbers {
    pub tick: u64,
    pub summary: String,
    /// The differing pixels' box `[x0, y0, x1, y1]`, inclusive.
    #[serde(default)]
    pub bbox: Option<[u32; 4]>,
}

/// Why a hash sequence failed (`hashes.json`): where, the world there, and
/// the pictures of it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// The first divergent tick.
    pub tick: u64,
    pub summary: String,
    /// The world at `tick` against the recorded one, as lines.
    #[serde(default)]
    pub world: Vec<String>,
    #[serde(default)]
    pub pictures: Vec<Picture>,
}

impl Divergence {
    /// The picture that shows `what`, if any.
    pub fn picture(&self, what: Shows) -> Option<&Picture> {
        self.pictures.iter().find(|p| p.shows == what)
    }
}

/// One picture of a divergence, in the artifacts directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Picture {
    pub file: String,
    /// What it is, for a person: "expected (kept frame), tick 120".
    pub caption: String,
    pub shows: Shows,
    pub tick: u64,
}

/// What a [`Picture`] shows. The expected, actual and difference are at
/// one tick (the first divergent one, or the kept frame nearest to it);
/// the others are the run's own frames at and just before the first
/// divergent tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shows {
    Expected,
    Actual,
    Diff,
    FirstDivergent,
    Before,
}

/// Reads a sidecar; `None` when it is absent or not one.
pub fn read_sidecar<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

pub fn write_sidecar<T: Serialize>(path: &Path, value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    write_file(path, text.as_bytes())
}

/// Frames kept beside a hash sequence, by tick.
///
/// Each frame is stored zstd-compressed as it is, or as its difference
/// from the frame kept before it (bytes XORed: mostly zeros where little
/// moved), whichever is smaller. The demo's walking scenarios take ~2.5 KB
/// a frame at 320x180 (~6.5 KB as PNGs), at ~3 ms a frame.
///
/// On disk (`frames.bin`): `advkit-frames 2\n`, then per frame its tick
/// (u64), width and height (u32 each), the length (u32) of what follows,
/// all little-endian; then `0` (as it is) or `1` (difference) and the
/// zstd frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeptFrames {
    /// `tick -> (size, compressed difference)`, in tick order.
    frames: BTreeMap<u64, (Size, Vec<u8>)>,
    /// The last frame kept, the base of the next difference.
    last: Option<Frame>,
}

const KEPT_MAGIC: &[u8] = b"advkit-frames 2\n";
/// zstd's level: measured on the demo's walking scenarios, 3 gives 4.7 KB
/// a frame at 0.4 ms, 9 gives 2.5 KB at 1.5 ms, 15 1.6 KB at 11 ms.
const KEPT_LEVEL: i32 = 9;
const RAW: u8 = 0;
const DELTA: u8 = 1;

impl KeptFrames {
    /// Keeps `frame` as the one at `tick`, after every tick kept so far:
    /// as its difference from the last one kept, or as it is when that
    /// compresses smaller (a camera pan).
    pub fn keep(&mut self, tick: u64, frame: &Frame) -> Result<(), String> {
        if self.frames.keys().next_back().is_some_and(|t| *t >= tick) {
            return Err(format!(
                "frames are kept in tick order (tick {tick} came late)"
            ));
        }
        let pack = |bytes: &[u8], how: u8| {
            let mut out = vec![how];
            out.extend(
                zstd::bulk::compress(bytes, KEPT_LEVEL)
                    .map_err(|e| format!("cannot compress the frame at tick {tick}: {e}"))?,
            );
            Ok::<_, String>(out)
        };
        let raw = pack(frame.pixels(), RAW)?;
        let packed = match self.last.as_ref().filter(|b| b.size() == frame.size()) {
            Some(base) => {
                let delta = pack(&xor(base, frame), DELTA)?;
                if delta.len() < raw.len() { delta } else { raw }
            }
            None => raw,
        };
        self.frames.insert(tick, (frame.size(), packed));
        self.last = Some(frame.clone());
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn ticks(&self) -> impl Iterator<Item = u64> + '_ {
        self.frames.keys().copied()
    }

    /// The kept tick to show for a run that first differs at `tick`: the
    /// first at or after it (where the run already differs), else the
    /// last before it ([`divergence_rank`]).
    pub fn nearest(&self, tick: u64) -> Option<u64> {
        self.frames
            .range(tick..)
            .next()
            .or_else(|| self.frames.range(..tick).next_back())
            .map(|(t, _)| *t)
    }

    /// The frame kept at `tick`, rebuilt from the first.
    pub fn frame(&self, tick: u64) -> Result<Option<Frame>, String> {
        if !self.frames.contains_key(&tick) {
            return Ok(None);
        }
        let mut last: Option<Frame> = None;
        for (t, (size, packed)) in self.frames.range(..=tick) {
            let bytes = size.width as usize * size.height as usize * 4;
            let wrong = |why: String| format!("the frame kept at tick {t} {why}");
            let (how, packed) = packed
                .split_first()
                .ok_or_else(|| wrong("is empty".into()))?;
            let mut pixels = zstd::bulk::decompress(packed, bytes)
                .map_err(|e| wrong(format!("does not decompress: {e}")))?;
            if pixels.len() != bytes {
                return Err(wrong(format!("has {} bytes, not {bytes}", pixels.len())));
            }
            match (*how, &last) {
                (RAW, _) => {}
                (DELTA, Some(base)) if base.size() == *size => {
                    pixels
                        .iter_mut()
                        .zip(base.pixels())
                        .for_each(|(p, b)| *p ^= b);
                }
                _ => return Err(wrong("is a difference from no frame of its size".into())),
            }
            last = Some(
                Frame::from_pixels(*size, pixels).ok_or_else(|| wrong("does not fit".into()))?,
            );
        }
        Ok(last)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = KEPT_MAGIC.to_vec();
        for (tick, (size, packed)) in &self.frames {
            out.extend_from_slice(&tick.to_le_bytes());
            out.extend_from_slice(&size.width.to_le_bytes());
            out.extend_from_slice(&size.height.to_le_bytes());
            out.extend_from_slice(&(packed.len() as u32).to_le_bytes());
            out.extend_from_slice(packed);
        }
        out
    }

    /// Reads `frames.bin` (named `path` in errors); a truncated or foreign
    /// file is an error that says so. Frames are checked when rebuilt
    /// ([`KeptFrames::frame`]).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<KeptFrames, String> {
        let bad = |why: &str| {
            format!(
                "{} is not a file of kept frames ({why}); bless again with `advkit golden check --update`",
                path.display()
            )
        };
        let mut rest = bytes
            .strip_prefix(KEPT_MAGIC)
            .ok_or_else(|| bad("it does not start with `advkit-frames 2`"))?;
        let mut frames = BTreeMap::new();
        let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        while !rest.is_empty() {
            let (head, tail) = rest
                .split_at_checked(20)
                .ok_or_else(|| bad("it ends inside a frame's header"))?;
            let mut tick = [0; 8];
            tick.copy_from_slice(&head[..8]);
            let tick = u64::from_le_bytes(tick);
            let size = Size::new(word(&head[8..12]), word(&head[12..16]))
                .map_err(|e| bad(&format!("the frame at tick {tick}: {e}")))?;
            let (packed, tail) = tail
                .split_at_checked(word(&head[16..20]) as usize)
                .ok_or_else(|| bad(&format!("the frame at tick {tick} is cut short")))?;
            if frames.keys().next_back().is_some_and(|t| *t >= tick) {
                return Err(bad(&format!("tick {tick} is out of order")));
            }
            frames.insert(tick, (size, packed.to_vec()));
            rest = tail;
        }
        Ok(KeptFrames { frames, last: None })
    }
}

/// How well a frame at tick `t` shows a run that first differs at `tick`
/// (smaller is better): one at or after it shows the difference, nearest
/// first; one before it only the last frames alike.
pub fn divergence_rank(t: u64, tick: u64) -> (bool, u64) {
    (t < tick, t.abs_diff(tick))
}

/// `frame`'s bytes XORed with `base`'s (of the same size).
fn xor(base: &Frame, frame: &Frame) -> Vec<u8> {
    base.pixels()
        .iter()
        .zip(frame.pixels())
        .map(|(a, b)| a ^ b)
        .collect()
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

/// Writes `bytes` to `path`, making its directory.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Removes `path`; one that is not there is no error.
pub fn remove_file(path: &Path) -> Result<(), String> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Writes `frame` as a PNG at `path`.
pub fn write_png(path: &Path, frame: &Frame, level: Compression) -> Result<(), String> {
    let png = encode_png(frame, level).map_err(|e| e.to_string())?;
    write_file(path, &png)
}

/// Reads the PNG at `path`; `None` when it is absent or unreadable.
pub fn read_png(path: &Path) -> Option<Frame> {
    decode_png(&fs::read(path).ok()?).ok()
}

/// Files written, copied and removed as one decision (blessing, accepting
/// or rejecting a result): [`Change::apply`] does them all or, when one
/// fails, none, and [`Applied::undo`] puts every file back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    ops: Vec<(PathBuf, Op)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Write(Vec<u8>),
    Copy(PathBuf),
    Remove,
}

impl Change {
    pub fn write(mut self, path: &Path, bytes: Vec<u8>) -> Change {
        self.ops.push((path.to_owned(), Op::Write(bytes)));
        self
    }

    pub fn copy(mut self, from: &Path, to: &Path) -> Change {
        self.ops.push((to.to_owned(), Op::Copy(from.to_owned())));
        self
    }

    pub fn remove(mut self, path: &Path) -> Change {
        self.ops.push((path.to_owned(), Op::Remove));
        self
    }

    /// This change, then `other`.
    pub fn and(mut self, other: Change) -> Change {
        self.ops.extend(other.ops);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Does every step in order. Every file touched is read first, so a
    /// failure puts back those already done and [`Applied::undo`] can put
    /// back all.
    pub fn apply(&self) -> Result<Applied, String> {
        let mut applied = Applied::default();
        for (path, op) in &self.ops {
            if !applied.before.iter().any(|(p, _)| p == path) {
                applied.before.push((path.clone(), fs::read(path).ok()));
            }
            let done = match op {
                Op::Write(bytes) => write_file(path, bytes),
                Op::Copy(from) => fs::read(from)
                    .map_err(|e| format!("cannot read {}: {e}", from.display()))
                    .and_then(|bytes| write_file(path, &bytes)),
                Op::Remove => remove_file(path),
            };
            if let Err(e) = done {
                return Err(match applied.undo() {
                    Ok(()) => e,
                    Err(back) => format!("{e}; and then {back}"),
                });
            }
        }
        Ok(applied)
    }
}

/// What a [`Change`] replaced: each file's bytes before (`None`: it did
/// not exist).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    before: Vec<(PathBuf, Option<Vec<u8>>)>,
}

impl Applied {
    /// Puts every file back as it was: one that did not exist is gone
    /// again, a replaced one is back.
    pub fn undo(self) -> Result<(), String> {
        for (path, bytes) in self.before.into_iter().rev() {
            match bytes {
                Some(bytes) => write_file(&path, &bytes)
                    .map_err(|e| format!("could not put back {}: {e}", path.display()))?,
                None => remove_file(&path)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("advkit-golden-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn kept_frames_round_trip_and_a_cut_file_says_so() {
        let size = Size::new(4, 2).expect("size");
        let mut kept = KeptFrames::default();
        let big = Frame::new(Size::new(6, 2).expect("size"));
        for t in [1, 60, 90, 120] {
            // One of another size in between.
            let f = match t {
                90 => big.clone(),
                t => Frame::from_pixels(size, [t as u8, 0, 0, 255].repeat(8)).expect("frame"),
            };
            kept.keep(t, &f).expect("keep");
        }
        assert!(kept.keep(90, &big).is_err(), "a tick twice");
        let bytes = kept.encode();
        let back = KeptFrames::parse(Path::new("frames.bin"), &bytes).expect("parse");
        assert_eq!(back.ticks().collect::<Vec<_>>(), [1, 60, 90, 120]);
        assert_eq!(back.frame(90).expect("decodes"), Some(big));
        assert_eq!(
            back.frame(120).expect("decodes").expect("kept").pixel(0, 0)[0],
            120
        );
        assert_eq!(
            back.frame(60).expect("decodes").expect("kept").pixel(3, 1)[0],
            60
        );
        assert_eq!(back.frame(61).expect("decodes"), None);
        assert_eq!(
            [0, 1, 2, 60, 61, 91, 120, 200].map(|t| back.nearest(t)),
            [1, 1, 60, 60, 90, 120, 120, 120].map(Some)
        );
        let cut =
            KeptFrames::parse(Path::new("frames.bin"), &bytes[..bytes.len() - 3]).expect_err("cut");
        assert!(cut.contains("tick 120 is cut short"), "{cut}");
        let foreign = KeptFrames::parse(Path::new("f"), b"PNG").expect_err("foreign");
        assert!(foreign.contains("advkit-frames 2"), "{foreign}");
    }

    #[test]
    fn a_change_is_undone_to_the_last_byte_and_a_failed_one_leaves_nothing() {
        let dir = temp("change");
        let (a, b, c) = (dir.join("a"), dir.join("sub/b"), dir.join("c"));
        fs::write(&a, "old a").expect("a");
        fs::write(&c, "old c").expect("c");
        let applied = Change::default()
            .write(&a, b"new a".to_vec())
            .copy(&c, &b)
            .remove(&c)
            .apply()
            .expect("applies");
        assert_eq!(fs::read_to_string(&a).expect("a"), "new a");
        assert_eq!(fs::read_to_string(&b).expect("b"), "old c");
        assert!(!c.exists());
        applied.undo().expect("undo");
        assert_eq!(fs::read_to_string(&a).expect("a"), "old a");
        assert!(!b.exists());
        assert_eq!(fs::read_to_string(&c).expect("c"), "old c");
        // Copying from a file that is not there fails after the write:
        // the write is put back.
        let err = Change::default()
            .write(&a, b"newer".to_vec())
            .copy(&dir.join("absent"), &b)
            .apply()
            .expect_err("fails");
        assert!(err.contains("absent"), "{err}");
        assert_eq!(fs::read_to_string(&a).expect("a"), "old a");
        assert!(!b.exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
