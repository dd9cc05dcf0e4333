//! advkit's integration tests: the real binary, run as a user would.

mod util;

mod control;
mod debugger;
mod forensics;
mod frames;
mod golden_cli;
mod inspect;
mod record;
mod remote;
mod render;
mod second_game;
mod tiers;
