//! What the debugger reads: [`Condition`]s for `engine.run_until` and
//! `engine.watch`, evaluated over a [`Sample`] of one tick. The history,
//! seek and diff themselves live in the host (`host/history.rs`,
//! `host/debugger.rs`), which drives the game.

mod condition;

pub use condition::{Condition, ParseError, Sample};
