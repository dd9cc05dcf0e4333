//! A scenario's `"engine": {"example": "life"}`: a cargo example of the
//! project, found where cargo puts it for the profile advkit itself was
//! built with, and built on demand, so the scenario runs on a fresh
//! checkout, in release-only CI and with `CARGO_TARGET_DIR` set, where a
//! recorded `./target/debug/examples/life` does not.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

/// The cargo profile whose output directory holds `exe` (advkit's own
/// executable): `debug` (the `dev` profile) or `release` under a target
/// directory, any other profile by its name; `release` for an advkit that
/// is not under a target directory (`cargo install` builds release).
pub fn profile_of(exe: &Path) -> String {
    // A test or an example runs from `PROFILE/deps` or `PROFILE/examples`.
    let dir = exe
        .parent()
        .map(|d| match d.file_name().and_then(|n| n.to_str()) {
            Some("deps" | "examples") => d.parent().unwrap_or(d),
            _ => d,
        });
    let inside_target = dir
        .and_then(Path::parent)
        .is_some_and(|t| t.join(".rustc_info.json").exists() || t.join("CACHEDIR.TAG").exists());
    match dir.and_then(|d| d.file_name()).and_then(|n| n.to_str()) {
        Some(name) if inside_target => name.to_owned(),
        _ => "release".to_owned(),
    }
}

/// Where cargo puts the examples of the project at `root` for `profile`.
fn examples_dir(root: &Path, profile: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    target.join(profile).join("examples")
}

/// The path of example `name` of the project at `root`, built first
/// (`cargo build --example NAME` with advkit's own profile; once per
/// process, and a no-op when it is up to date).
pub fn resolve(name: &str, root: &Path) -> Result<PathBuf, String> {
    /// (project root, example) → what building it gave.
    type Builds = HashMap<(PathBuf, String), Result<PathBuf, String>>;
    static BUILT: Mutex<Option<Builds>> = Mutex::new(None);
    let exe = std::env::current_exe().unwrap_or_default();
    let profile = profile_of(&exe);
    let key = (root.to_owned(), name.to_owned());
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(done) = built.get(&key) {
        return done.clone();
    }
    let path = examples_dir(root, &profile).join(name);
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo.args(["build", "--quiet", "--example", name]);
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cargo.arg("--release");
        }
        other => {
            cargo.args(["--profile", other]);
        }
    }
    let result = match cargo.current_dir(root).output() {
        Ok(out) if out.status.success() && path.is_file() => Ok(path),
        Ok(out) if out.status.success() => Err(format!(
            "`cargo build --example {name}` in {} succeeded, but {} is not there",
            root.display(),
            path.display()
        )),
        Ok(out) => Err(format!(
            "`cargo build --example {name}` ({profile}) in {} failed: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        // No cargo here: an example built before still runs.
        Err(_) if path.is_file() => Ok(path),
        Err(e) => Err(format!(
            "example `{name}` is not built ({} is missing) and cargo cannot be run to build \
             it: {e}",
            path.display()
        )),
    };
    built.insert(key, result.clone());
    result
}

/// The example `program` is, when it is one: `(project root, name)` for a
/// path `ROOT/target/PROFILE/examples/NAME` (or under `CARGO_TARGET_DIR`,
/// whose project is `cwd`), so a recording can name it portably.
pub fn example_of(program: &Path, cwd: &Path) -> Option<(PathBuf, String)> {
    let file = program.file_name()?.to_str()?;
    // `life-0123456789abcdef` is the same build as `life`.
    let name = match file.rsplit_once('-') {
        Some((stem, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            stem
        }
        _ => file,
    }
    .to_owned();
    let examples = program.parent()?;
    if examples.file_name()? != "examples" {
        return None;
    }
    let target = examples.parent()?.parent()?;
    if let Some(custom) = std::env::var_os("CARGO_TARGET_DIR") {
        let custom = PathBuf::from(custom);
        let custom = if custom.is_absolute() {
            custom
        } else {
            cwd.join(custom)
        };
        if custom == target {
            return Some((cwd.to_owned(), name));
        }
    }
    if target.file_name()? != "target" {
        return None;
    }
    let root = target.parent()?;
    root.join("Cargo.toml")
        .is_file()
        .then(|| (root.to_owned(), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_is_read_from_a_target_directory_only() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let target = tmp.path().join("target");
        std::fs::create_dir_all(target.join("release")).expect("mkdir");
        std::fs::write(target.join("CACHEDIR.TAG"), "").expect("tag");
        assert_eq!(profile_of(&target.join("debug/advkit")), "debug");
        assert_eq!(profile_of(&target.join("ci/advkit")), "ci");
        assert_eq!(profile_of(&target.join("debug/deps/golden-0a1b")), "debug");
        assert_eq!(
            profile_of(Path::new("/home/u/.cargo/bin/advkit")),
            "release"
        );
    }

    #[test]
    fn a_cargo_example_is_recognised_by_its_place_under_target() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        std::fs::write(root.join("Cargo.toml"), "").expect("manifest");
        let exe = root.join("target/debug/examples/life");
        assert_eq!(
            example_of(&exe, root),
            Some((root.to_owned(), "life".into()))
        );
        assert_eq!(example_of(&root.join("target/debug/life"), root), None);
        assert_eq!(example_of(Path::new("/usr/bin/python3"), root), None);
    }
}
