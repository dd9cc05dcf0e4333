//! Method names, and [`Method`]: one type per built-in method tying its
//! name to its params and result, so a client writes
//! `client.request::<method::ParamsGet>(&params)` and gets a typed result.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::types::*;

/// A built-in method: its name and the types that travel with it.
pub trait Method {
    const NAME: &'static str;
    type Params: Serialize + DeserializeOwned;
    type Result: Serialize + DeserializeOwned;
}

macro_rules! methods {
    ($($(#[$doc:meta])* $ty:ident, $konst:ident = $name:literal, $params:ty => $result:ty;)*) => {
        $(
            $(#[$doc])*
            pub const $konst: &str = $name;
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $ty;
            impl Method for $ty {
                const NAME: &'static str = $name;
                type Params = $params;
                type Result = $result;
            }
        )*
    };
}

methods! {
    /// Protocol version, engine, frame region, params and methods.
    Hello, HELLO = "hello", NoParams => HelloResult;
    /// Authenticate a TCP connection.
    Auth, AUTH = "auth", AuthParams => AuthResult;
    /// The methods this engine answers, with their params.
    Discover, DISCOVER = "rpc.discover", NoParams => DiscoverResult;
    /// Every param: spec, value, pending value, and the revision.
    ParamsList, PARAMS_LIST = "params.list", NoParams => ParamsListResult;
    /// Current values, all or some.
    ParamsGet, PARAMS_GET = "params.get", ParamsGetParams => ParamValues;
    /// Set one value or many, atomically.
    ParamsSet, PARAMS_SET = "params.set", ParamsSetParams => ParamsChange;
    /// Back to defaults, one param or all.
    ParamsReset, PARAMS_RESET = "params.reset", ParamsResetParams => ParamsChange;
    /// Write current values to the engine's params file.
    ParamsSave, PARAMS_SAVE = "params.save", NoParams => ParamsSaved;
    /// Read the engine's params file and apply it.
    ParamsLoad, PARAMS_LOAD = "params.load", NoParams => ParamsChange;
    /// Stop ticking.
    Pause, PAUSE = "engine.pause", NoParams => PauseState;
    /// Tick again.
    Resume, RESUME = "engine.resume", NoParams => PauseState;
    /// Advance N ticks while paused.
    Step, STEP = "engine.step", StepParams => StepResult;
    /// Tick, fps, tick times, frames, clients.
    Stats, STATS = "engine.stats", NoParams => StatsResult;
    /// The current frame as PNG.
    Snapshot, SNAPSHOT = "frame.snapshot", SnapshotParams => SnapshotResult;
    /// Receive events on topics.
    Subscribe, SUBSCRIBE = "events.subscribe", TopicsParams => TopicsResult;
    /// Stop receiving topics.
    Unsubscribe, UNSUBSCRIBE = "events.unsubscribe", TopicsParams => TopicsResult;
    /// Stop the engine cleanly.
    Shutdown, SHUTDOWN = "engine.shutdown", NoParams => ShutdownResult;
    /// What the history holds: span, keyframes, bytes.
    History, HISTORY = "engine.history", NoParams => HistoryResult;
    /// Rewind or fast-forward inside the history; pauses there.
    Seek, SEEK = "engine.seek", SeekParams => SeekResult;
    /// Run as fast as the game steps until a condition holds.
    RunUntil, RUN_UNTIL = "engine.run_until", RunUntilParams => RunUntilResult;
    /// Add, remove or list watchpoints that pause the engine.
    Watch, WATCH = "engine.watch", WatchParams => WatchResult;
    /// The world's difference between two ticks of the history.
    WorldDiff, WORLD_DIFF = "world.diff", DiffParams => DiffResult;
    /// Rebuild the game's world (a game method).
    Reboot, REBOOT = "engine.reboot", RebootParams => RebootResult;
    /// Press, release or tap a game input (a game method).
    Input, INPUT = "engine.input", InputParams => InputResult;
    /// Receive frames on this connection, the newest only (docs/protocol.md).
    FramesSubscribe, FRAMES_SUBSCRIBE = "frames.subscribe", FramesSubscribeParams => FramesSubscribed;
    /// Acknowledge frames received, making room for newer ones.
    FramesAck, FRAMES_ACK = "frames.ack", FramesAckParams => FramesAcked;
    /// Stop receiving frames.
    FramesUnsubscribe, FRAMES_UNSUBSCRIBE = "frames.unsubscribe", NoParams => FramesAcked;
    /// Every entity (a game method).
    Entities, ENTITIES = "world.entities", NoParams => EntitiesResult;
    /// One entity (a game method).
    WorldGet, WORLD_GET = "world.get", EntityParams => serde_json::Value;
    /// Change an entity's attributes (a game method).
    WorldSet, WORLD_SET = "world.set", WorldSetParams => serde_json::Value;
    /// What is at a pixel of the frame: tile, entities (a game method).
    WorldPick, WORLD_PICK = "world.pick", PickParams => serde_json::Value;
    /// The game's whole state, to load later (a game method).
    WorldSave, WORLD_SAVE = "world.save", NoParams => WorldState;
    /// Go back to a state `world.save` gave (a game method).
    WorldLoad, WORLD_LOAD = "world.load", WorldLoadParams => WorldLoaded;
}

/// The name of the notification every event travels in.
pub const EVENT: &str = "event";

/// The method name of a frame notification (after `frames.subscribe`).
pub const FRAME: &str = "frame";
