//! What the debugger reads: [`Condition`]s for `engine.run_until` and
//! `engine.watch`, evaluated over a [`Sample`] of one tick. The history,
//! seek and diff themselves live in the host (`host/history.rs`,
//! `host/debugger/`), which drives the game. `lex` holds the
//! conditions' tokens.

mod condition;
mod lex;

pub use condition::{Condition, ParseError, Sample};
