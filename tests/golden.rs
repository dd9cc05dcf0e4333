//! The project's golden frames as `cargo test` cases: every scenario in
//! fixtures/scenarios is its own test (libtest-mimic), checked by the same
//! code as `advkit golden check`, with the same messages and artifacts.
//! `cargo nextest run --partition count:1/2` splits them like any tests.

use std::path::{Path, PathBuf};

use advkit::golden::{Options, check_scenario, find_scenarios};
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenarios = find_scenarios(&[root.join("fixtures/scenarios")]).unwrap_or_else(|e| {
        eprintln!("cannot list fixtures/scenarios: {e}");
        std::process::exit(2)
    });
    let trials = scenarios
        .into_iter()
        .map(|path: PathBuf| {
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("scenario")
                .to_owned();
            let root = root.to_owned();
            Trial::test(format!("golden::{name}"), move || {
                let result = check_scenario(&path, &Options::new(&root));
                let text = result.lines().join("\n");
                if result.failed() || result.pending() > 0 {
                    return Err(Failed::from(format!(
                        "{text}\n(re-bless with `cargo run -- golden check --update` if the change is intended)"
                    )));
                }
                Ok(())
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
