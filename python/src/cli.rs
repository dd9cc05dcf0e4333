//! The `advkit` command in the wheel: `pip install` puts a console script
//! in the environment's `bin/` that calls [`main`], which runs the same
//! command line as the Rust binary (`advkit::cli`), so a Python developer
//! needs no Rust toolchain for `advkit inspect`, `send` or `golden`.

use std::path::PathBuf;

use pyo3::prelude::*;

/// Runs the `advkit` command line `argv` (its first word the program) and
/// returns its exit status. `exe` is the command itself (the console
/// script), for the subcommands that start advkit again (`golden check
/// --protocol` runs `advkit run`). The GIL is released throughout.
#[pyfunction]
pub fn main(py: Python<'_>, argv: Vec<String>, exe: PathBuf) -> i32 {
    py.detach(|| advkit::cli::run(argv, exe))
}
