//! advkit's integration tests: the real binary, run as a user would.

mod util;

mod frames;
mod render;
