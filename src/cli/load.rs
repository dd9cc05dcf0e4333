//! Reading the files a command is given: scenes, input timelines, `--set`,
//! tokens.

use std::path::Path;

use advkit_core::{Params, Scene, Timeline, Value};
use anyhow::{Context, Result, bail};

/// The scene at `path`, or the built-in demo.
pub fn scene(path: Option<&Path>) -> Result<Scene> {
    Ok(crate::live::load_scene(path)?)
}

/// The input timeline at `path`, or an empty one.
pub fn timeline(path: Option<&Path>) -> Result<Timeline> {
    let Some(path) = path else {
        return Ok(Timeline::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read inputs file {}", path.display()))?;
    Timeline::parse(&path.display().to_string(), &text).map_err(|e| {
        anyhow::anyhow!(
            "{e}\n(an inputs file is a JSON list like [{{\"tick\": 10, \"button\": \"right\", \"hold\": 16}}])"
        )
    })
}

/// Parses `NAME=VALUE` for `--set`.
/// A count of ticks or steps: a whole number from 0 up. Negative numbers
/// reach this parser (their arguments allow them) so that `--ticks -1` is
/// a range error, not "unexpected argument '-1'".
pub fn count(s: &str) -> Result<u64, String> {
    match s.trim().parse::<i128>() {
        Ok(n) if n < 0 => Err(format!("{n} is below 0: give a whole number from 0 up")),
        Ok(n) => u64::try_from(n).map_err(|_| format!("{n} is too large (at most {})", u64::MAX)),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

/// A number of seconds, 0 or more (`1.5`).
pub fn seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (0.0..=86_400.0).contains(&x) => Ok(x),
        Ok(x) => Err(format!("{x} is out of range: give seconds from 0 to 86400")),
        Err(_) => Err(format!("`{s}` is not a number of seconds")),
    }
}

/// An engine name as the runtime directory allows it (`../x` is refused
/// before anything touches a path).
pub fn engine_name(s: &str) -> Result<String, String> {
    advkit_ipc::runtime::validate_name(s)
        .map(|_| s.to_owned())
        .map_err(|e| e.to_string())
}

pub fn name_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!(
            "`{s}` should look like NAME=VALUE, e.g. walk_speed=2"
        )),
    }
}

/// Applies `--set` values; reboot-only ones become pending, to be applied
/// when the engine is built.
pub fn apply_sets(params: &mut Params, sets: &[(String, String)]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for (name, text) in sets {
        if !seen.insert(name) {
            bail!("--set {name} is given twice");
        }
        let value = params
            .parse(name, text)
            .with_context(|| format!("--set {name}={text}"))?;
        params
            .set(name, value)
            .with_context(|| format!("--set {name}={text}"))?;
    }
    Ok(())
}

/// The scene's params with `--seed` and `--set` applied.
pub fn params(scene: &Scene, seed: Option<u32>, sets: &[(String, String)]) -> Result<Params> {
    params_over(advkit_core::params::for_scene(scene), seed, sets)
}

/// `params` with `--seed` and `--set` applied on top.
pub fn params_over(
    mut params: Params,
    seed: Option<u32>,
    sets: &[(String, String)],
) -> Result<Params> {
    if let Some(seed) = seed {
        if sets.iter().any(|(n, _)| n == "world_seed") {
            bail!("--seed and --set world_seed=… both set the seed: give one");
        }
        params.set("world_seed", Value::Int(seed.into()))?;
    }
    apply_sets(&mut params, sets)?;
    Ok(params)
}

/// The token in `file`, or in `<runtime dir>/<name>.token` when none is
/// given, for reaching `target` over TCP; a file that cannot be read is an
/// error naming it and `--token-file`.
pub fn token(file: Option<&Path>, name: &str, target: &str) -> Result<String> {
    let file = file.map_or_else(
        || advkit_ipc::RuntimeDir::from_env().token_path(name),
        Path::to_path_buf,
    );
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!(
            "the token for {target}: could not read {} (give --token-file FILE)",
            file.display()
        )
    })?;
    Ok(text.trim().to_owned())
}
