//! `advkit`: run a tile adventure headless, look inside it, guard what it
//! draws. The command line is `advkit::cli` (the Python wheel runs the
//! same); this is its entry point.

#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let exe = std::env::current_exe().unwrap_or_else(|_| "advkit".into());
    let status = advkit::cli::run(std::env::args_os(), exe);
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}
