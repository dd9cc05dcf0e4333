//! The demo adventure's params: their specs (the one place that names
//! them and gives their defaults) and [`Settings`], the form the world and
//! renderer read, derived from the registry.
//!
//! The registry itself ([`Params`]) is advkit-params, shared by every game.

pub use advkit_params::{Applied, Apply, Entry, Kind, ParamError, Params, Spec, Value, show_json};

use crate::scene::Scene;
use crate::world::{SUB, Settings, WalkMode};

pub const WALK_SPEED: &str = "walk_speed";
pub const WALK_MODE: &str = "walk_mode";
pub const NPC_COUNT: &str = "npc_count";
pub const WORLD_SEED: &str = "world_seed";
pub const DAY_NIGHT: &str = "day_night";
pub const SHOW_GRID: &str = "show_grid";
pub const AUTOPILOT: &str = "autopilot";
pub const PLAYER_TAGS: &str = "player_tags";
pub const TICK_RATE: &str = "tick_rate";
pub const ZOOM: &str = "zoom";
pub const SHOW_HUD: &str = "show_hud";
pub const MESSAGE_TICKS: &str = "message_ticks";

/// The demo's params, with `npc_count` defaulting to `npc_count` (the
/// number of NPCs a scene defines).
pub fn for_npc_count(npc_count: usize) -> Params {
    Params::new(specs(npc_count))
}

/// The demo's params with the scene's own defaults applied.
pub fn for_scene(scene: &Scene) -> Params {
    let mut p = for_npc_count(scene.npcs.len());
    for (name, value) in &scene.param_defaults {
        // Validated when the scene was parsed.
        let _ = p.set_default(name, value.clone());
    }
    p
}

impl Settings {
    /// Settings from a registry of the demo's params. A param missing from
    /// `p` (a registry built for something else) takes its spec's default,
    /// so there is no second list of defaults here.
    pub fn from_params(p: &Params) -> Settings {
        // The defaults are built only if a param is missing.
        let defaults = std::cell::OnceCell::new();
        let get = |n: &str| {
            p.get(n)
                .or_else(|| defaults.get_or_init(|| for_npc_count(0)).get(n))
                .cloned()
        };
        let float = |n: &str| get(n).as_ref().and_then(Value::as_f64).unwrap_or(0.0);
        let int = |n: &str| get(n).as_ref().and_then(Value::as_i64).unwrap_or(0);
        let flag = |n: &str| get(n).as_ref().and_then(Value::as_bool).unwrap_or(false);
        Settings {
            walk_speed: ((float(WALK_SPEED) * f64::from(SUB)).round() as i32).max(1),
            walk_mode: match get(WALK_MODE).as_ref().and_then(Value::as_str) {
                Some("pixel") => WalkMode::Pixel,
                _ => WalkMode::Tile,
            },
            npc_count: int(NPC_COUNT).max(0) as usize,
            world_seed: int(WORLD_SEED).max(0) as u64,
            night: (float(DAY_NIGHT).clamp(0.0, 1.0) * 256.0).round() as u32,
            show_grid: flag(SHOW_GRID),
            autopilot: flag(AUTOPILOT),
            player_tags: get(PLAYER_TAGS)
                .as_ref()
                .and_then(Value::as_list)
                .map(<[String]>::to_vec)
                .unwrap_or_default(),
            tick_rate: int(TICK_RATE).clamp(1, 1000) as u32,
            zoom: int(ZOOM).clamp(0, 64) as u32,
            show_hud: flag(SHOW_HUD),
            message_ticks: int(MESSAGE_TICKS).max(1) as u64,
        }
    }
}

/// Upper bound of `npc_count`.
pub const MAX_NPC_COUNT: i64 = 64;

/// The demo's params: the one list of their names, kinds and defaults.
pub fn specs(npc_count: usize) -> Vec<Spec> {
    let npc_default = (npc_count as i64).min(MAX_NPC_COUNT);
    vec![
        Spec::float(WALK_SPEED, 0.25, 8.0, 0.25, "px/tick", 1.0)
            .describe("How fast the player walks, in pixels per tick"),
        Spec::choice(WALK_MODE, &["tile", "pixel"], "tile")
            .describe("tile: step from tile to tile, animated; pixel: move freely"),
        Spec::int(NPC_COUNT, 0, MAX_NPC_COUNT, "", npc_default)
            .describe("NPCs to spawn: the scene's own first, then extra wanderers")
            .on_reboot(),
        Spec::int(WORLD_SEED, 0, u32::MAX.into(), "", 1)
            .describe("Seed of every random stream: wandering, autopilot, extra NPCs")
            .on_reboot(),
        Spec::float(DAY_NIGHT, 0.0, 1.0, 0.05, "", 0.0)
            .describe("Night tint: 0 is full day, 1 is deep night"),
        Spec::boolean(SHOW_GRID, false).describe("Draw tile borders over the map"),
        Spec::boolean(AUTOPILOT, true)
            .describe("Walk the player around by itself while no direction is held"),
        Spec::string_list(PLAYER_TAGS, 8, 16, &["hero"])
            .describe("Labels shown in the HUD for the player"),
        Spec::int(TICK_RATE, 1, 240, "Hz", 30)
            .describe("Simulation ticks per second when run live"),
        Spec::int(ZOOM, 0, 8, "x", 0)
            .describe("Pixel scale of the picture; 0 keeps about 320x180 of the world in view"),
        Spec::boolean(SHOW_HUD, true).describe("Draw the tick counter, tags and messages"),
        Spec::int(MESSAGE_TICKS, 10, 600, "ticks", 90)
            .describe("How long a trigger or NPC message stays on screen"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_settings_follow_them() {
        let p = for_npc_count(6);
        for (spec, value, pending) in p.iter() {
            assert_eq!(p.validate(&spec.name, value.clone()).as_ref(), Ok(value));
            assert!(pending.is_none());
        }
        assert_eq!(p.get(NPC_COUNT), Some(&Value::Int(6)));
        // An empty registry gives the same settings as the defaults: one
        // list of defaults, not two that can disagree.
        let mut from_defaults = Settings::from_params(&for_npc_count(0));
        let from_nothing = Settings::from_params(&Params::new(Vec::new()));
        assert_eq!(from_nothing, from_defaults);
        assert!(from_nothing.autopilot, "autopilot is on by default");
        from_defaults.npc_count = 6;
        assert_eq!(Settings::from_params(&p), from_defaults);
    }
}
