//! How a running game was started (its command line and working directory,
//! read from /proc), written so that a scenario starts it again elsewhere.

use std::fs;
use std::path::{Component, Path, PathBuf};

use advkit_golden::EngineSpec;

/// How a scenario starts the game that ran as `command` in `cwd`: a cargo
/// example by its name (built on demand where the scenario is checked); any
/// other program by its path, relative to the game's working directory when
/// under it; a bare name (found on `PATH`) as it is.
pub(crate) fn engine_spec(mut command: Vec<String>, cwd: &Path, scenario_dir: &Path) -> EngineSpec {
    let program = command.first().cloned().unwrap_or_default();
    if program.contains('/')
        && let Some((root, name)) = crate::golden::example::example_of(Path::new(&program), cwd)
    {
        command.remove(0);
        return EngineSpec {
            command,
            example: Some(name),
            cwd: Some(relative_to(&root, scenario_dir).display().to_string()),
        };
    }
    if let Some(program) = command.first_mut()
        && program.contains('/')
    {
        let rel = relative_to(Path::new(program.as_str()), cwd);
        if rel.is_relative() && !rel.starts_with("..") {
            *program = Path::new(".").join(rel).display().to_string();
        }
    }
    EngineSpec {
        command,
        example: None,
        cwd: Some(relative_to(cwd, scenario_dir).display().to_string()),
    }
}

/// `example life` or `` `./game --fast` ``, and where: for messages.
pub(crate) fn describe_engine(spec: &EngineSpec) -> String {
    let what = match &spec.example {
        Some(name) if spec.command.is_empty() => format!("cargo example `{name}`"),
        Some(name) => format!("cargo example `{name}` with `{}`", spec.command.join(" ")),
        None => format!("`{}`", spec.command.join(" ")),
    };
    format!("{what} in {}", spec.cwd.as_deref().unwrap_or("."))
}

/// The command line and working directory of process `pid` (Linux).
pub(crate) fn launched_as(pid: u32) -> Option<(Vec<String>, PathBuf)> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let mut args: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let cwd = fs::read_link(format!("/proc/{pid}/cwd")).ok()?;
    // A relative path is made absolute. A bare name is looked up on the
    // game's own PATH: `python` in an activated virtual environment is the
    // venv's, which a replay without the venv activated would not find.
    // Not /proc/<pid>/exe: for a venv's python that is the base
    // interpreter, which knows none of the venv's packages.
    if let Some(first) = args.first_mut() {
        if first.contains('/') {
            if Path::new(first.as_str()).is_relative() {
                *first = normal(&cwd.join(first.as_str())).display().to_string();
            }
        } else if let Some(found) = on_path_of(pid, first, &cwd) {
            *first = found.display().to_string();
        }
    }
    (!args.is_empty()).then_some((args, cwd))
}

/// Where process `pid`'s own `PATH` finds `name` (its environment, read
/// from /proc), as an absolute path.
fn on_path_of(pid: u32, name: &str, cwd: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let env = fs::read(format!("/proc/{pid}/environ")).ok()?;
    let path = env
        .split(|b| *b == 0)
        .find_map(|kv| kv.strip_prefix(b"PATH="))?;
    String::from_utf8_lossy(path)
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| cwd.join(d).join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
        .map(|p| normal(&p))
}

/// The absolute `--scene` of an `advkit run` command line.
pub(crate) fn scene_arg(args: &[String], cwd: &Path) -> Option<PathBuf> {
    let i = args.iter().position(|a| a == "--scene")?;
    let p = PathBuf::from(args.get(i + 1)?);
    Some(if p.is_absolute() { p } else { cwd.join(p) })
}

/// `path` relative to `base` when they share a directory below the root
/// (one project); otherwise `path` absolute.
pub(crate) fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let abs = |p: &Path| {
        if p.is_absolute() {
            Some(normal(p))
        } else {
            std::env::current_dir().ok().map(|c| normal(&c.join(p)))
        }
    };
    let (Some(path), Some(base)) = (abs(path), abs(base)) else {
        return path.to_owned();
    };
    let common = path
        .components()
        .zip(base.components())
        .take_while(|(a, b)| a == b)
        .count();
    if common < 2 {
        return path;
    }
    let mut out = PathBuf::new();
    for _ in base.components().skip(common) {
        out.push("..");
    }
    for c in path.components().skip(common) {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// `a/./b/../c` as `a/c`, without touching the file system.
fn normal(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_out_of_the_base() {
        assert_eq!(
            relative_to(
                Path::new("/r/fixtures/scenes/a.json"),
                Path::new("/r/fixtures/scenarios")
            ),
            PathBuf::from("../scenes/a.json")
        );
        assert_eq!(
            relative_to(Path::new("/r/x"), Path::new("/r/x")),
            PathBuf::from(".")
        );
        assert_eq!(
            relative_to(Path::new("/r/a/./b/../c"), Path::new("/r")),
            PathBuf::from("a/c")
        );
        assert_eq!(
            relative_to(Path::new("/work/x/a"), Path::new("/tmp/s")),
            PathBuf::from("/work/x/a"),
            "no directory in common: absolute"
        );
    }
}
