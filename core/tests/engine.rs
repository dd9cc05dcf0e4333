//! Behaviour of the engine on small hand-made scenes: movement and
//! collision in both walk modes, triggers, talking, reboots, save/restore.

use advkit_core::world::{SUB, TILE_SUB};
use advkit_core::{Button, Engine, InputAction, Progress, Scene, Value, WorldEvent};

/// A 8×6 room: walls around, a pillar at (3,2), a trigger at (5,1),
/// a repeating trigger at (6,4), and Bob standing still at (3,4).
const ROOM: &str = r##"{
  "name": "room",
  "tiles": {
    ".": {"name": "floor", "color": "#808080"},
    "W": {"name": "wall", "color": "#404040", "solid": true}
  },
  "map": [
    "WWWWWWWW",
    "W......W",
    "W..W...W",
    "W......W",
    "W......W",
    "WWWWWWWW"
  ],
  "spawn": [1, 1],
  "npcs": [
    {"name": "Bob", "at": [3, 4], "say": "hello there", "behaviour": {"kind": "wander", "radius": 0}}
  ],
  "triggers": [
    {"at": [5, 1], "message": "a shiny coin", "set_flag": "coin", "once": true},
    {"at": [6, 4], "message": "a puddle"}
  ],
  "params": {"autopilot": false}
}"##;

fn room() -> Engine {
    Engine::new(Scene::parse("room.json", ROOM).expect("room is valid"))
}

fn set(e: &mut Engine, name: &str, v: Value) {
    e.set_param(name, v).expect("valid value");
}

fn hold(e: &mut Engine, b: Button, ticks: u64) {
    e.input(b, InputAction::Press);
    for _ in 0..ticks {
        e.step();
    }
    e.input(b, InputAction::Release);
}

fn idle(e: &mut Engine, ticks: u64) {
    for _ in 0..ticks {
        e.step();
    }
}

fn tile(e: &Engine) -> (i32, i32) {
    e.world().player.tile()
}

fn px(e: &Engine) -> (i32, i32) {
    (e.world().player.x / SUB, e.world().player.y / SUB)
}

#[test]
fn tile_mode_steps_one_whole_tile_per_tap() {
    let mut e = room();
    e.input(Button::Right, InputAction::Tap);
    e.step();
    // Mid-step: the player is between tiles, animated.
    assert_eq!(px(&e), (17, 16));
    idle(&mut e, 20);
    assert_eq!(tile(&e), (2, 1));
    assert_eq!(px(&e), (32, 16), "snapped to the tile");
}

#[test]
fn tile_mode_walk_speed_sets_the_step_time() {
    let mut e = room();
    set(&mut e, "walk_speed", Value::Float(2.0));
    e.input(Button::Down, InputAction::Tap);
    idle(&mut e, 8);
    assert_eq!(px(&e), (16, 32), "16 px at 2 px/tick takes 8 ticks");
}

#[test]
fn tile_mode_collides_with_walls_and_turns_to_face_them() {
    let mut e = room();
    hold(&mut e, Button::Up, 20);
    assert_eq!(tile(&e), (1, 1));
    assert_eq!(e.world().player.facing, advkit_core::world::Dir::Up);
    // Walk to (2,2), then right into the pillar at (3,2).
    hold(&mut e, Button::Right, 16);
    idle(&mut e, 16);
    hold(&mut e, Button::Down, 16);
    idle(&mut e, 16);
    assert_eq!(tile(&e), (2, 2));
    hold(&mut e, Button::Right, 40);
    assert_eq!(tile(&e), (2, 2), "the pillar blocks");
}

#[test]
fn pixel_mode_moves_freely_and_stops_flush_against_walls() {
    let mut e = room();
    set(&mut e, "walk_mode", Value::Text("pixel".into()));
    hold(&mut e, Button::Right, 10);
    assert_eq!(px(&e), (26, 16), "10 px in 10 ticks, not a whole tile");
    hold(&mut e, Button::Right, 200);
    // The collision box is x+2..x+14; the east wall starts at 7*16 = 112.
    assert_eq!(px(&e).0, 112 - 14);
    assert_eq!(e.world().player.x % SUB, 0);
    hold(&mut e, Button::Up, 50);
    // The box starts 4 px below the top of the cell; the north wall ends at 16.
    assert_eq!(px(&e).1, 16 - 4);
}

#[test]
fn pixel_mode_diagonals_are_not_faster() {
    let mut e = room();
    set(&mut e, "walk_mode", Value::Text("pixel".into()));
    set(&mut e, "walk_speed", Value::Float(1.0));
    e.input(Button::Right, InputAction::Press);
    e.input(Button::Down, InputAction::Press);
    idle(&mut e, 10);
    let p = &e.world().player;
    let (dx, dy) = (p.x - TILE_SUB, p.y - TILE_SUB);
    assert_eq!(dx, dy);
    assert_eq!(dx, 10 * 181, "1/sqrt(2) px per tick on each axis");
}

#[test]
fn switching_from_pixel_to_tile_settles_on_the_nearest_tile() {
    let mut e = room();
    set(&mut e, "walk_mode", Value::Text("pixel".into()));
    hold(&mut e, Button::Right, 21);
    assert_eq!(px(&e), (37, 16));
    set(&mut e, "walk_mode", Value::Text("tile".into()));
    idle(&mut e, 10);
    assert_eq!(px(&e), (32, 16));
}

#[test]
fn a_once_trigger_sets_its_flag_and_shows_its_message_once() {
    let mut e = room();
    hold(&mut e, Button::Right, 64);
    idle(&mut e, 16);
    assert_eq!(tile(&e), (5, 1));
    assert!(e.world().flags.contains("coin"));
    assert_eq!(
        e.world().message.as_ref().map(|m| m.text.as_str()),
        Some("a shiny coin")
    );
    let events = e.drain_events();
    assert!(
        matches!(&events[..], [WorldEvent::Trigger { index: 0, .. }]),
        "{events:?}"
    );
    // Away and back: it does not fire again.
    hold(&mut e, Button::Right, 16);
    idle(&mut e, 16);
    hold(&mut e, Button::Left, 16);
    idle(&mut e, 16);
    assert_eq!(tile(&e), (5, 1));
    assert!(e.drain_events().is_empty());
}

#[test]
fn messages_expire_after_message_ticks() {
    let mut e = room();
    set(&mut e, "message_ticks", Value::Int(10));
    set(&mut e, "walk_speed", Value::Float(8.0));
    hold(&mut e, Button::Right, 8);
    assert_eq!(tile(&e), (5, 1));
    assert!(e.world().message.is_some());
    idle(&mut e, 10);
    assert!(e.world().message.is_none());
}

#[test]
fn a_repeating_trigger_fires_each_time_it_is_entered() {
    let mut e = room();
    set(&mut e, "walk_mode", Value::Text("pixel".into()));
    set(&mut e, "walk_speed", Value::Float(4.0));
    // To (6,4): down 3 tiles, right 5.
    hold(&mut e, Button::Down, 12);
    hold(&mut e, Button::Right, 20);
    assert_eq!(tile(&e), (6, 4));
    hold(&mut e, Button::Left, 4);
    hold(&mut e, Button::Right, 4);
    let fired = e
        .drain_events()
        .iter()
        .filter(|ev| matches!(ev, WorldEvent::Trigger { index: 1, .. }))
        .count();
    assert_eq!(fired, 2);
}

#[test]
fn action_talks_to_the_npc_in_front() {
    let mut e = room();
    // From (1,1) to (2,4), facing right toward Bob at (3,4).
    hold(&mut e, Button::Down, 48);
    idle(&mut e, 16);
    hold(&mut e, Button::Right, 16);
    idle(&mut e, 16);
    assert_eq!(tile(&e), (2, 4));
    e.input(Button::Action, InputAction::Tap);
    e.step();
    assert_eq!(
        e.world().message.as_ref().map(|m| m.text.as_str()),
        Some("Bob: hello there")
    );
    assert_eq!(
        e.world().npcs[0].actor.facing,
        advkit_core::world::Dir::Left,
        "Bob turns to the player"
    );
}

#[test]
fn reboot_keeps_progress_by_default_and_applies_pending_params() {
    let mut e = room();
    hold(&mut e, Button::Right, 64);
    idle(&mut e, 16);
    assert!(e.world().flags.contains("coin"));
    assert_eq!(
        e.set_param("npc_count", Value::Int(3)),
        Ok(advkit_core::Applied::PendingReboot)
    );
    assert_eq!(e.world().npcs.len(), 1, "not before the reboot");
    set(&mut e, "walk_speed", Value::Float(3.0));
    let tick = e.tick();

    let report = e.reboot(
        Scene::parse("room.json", ROOM).expect("valid"),
        Progress::Keep,
    );
    assert_eq!(report.applied, vec!["npc_count".to_owned()]);
    let carried = report.carried.expect("keep progress");
    assert!(carried.position_kept);
    assert_eq!(carried.flags_kept, 1);
    assert_eq!(tile(&e), (5, 1));
    assert!(e.world().flags.contains("coin"));
    assert_eq!(e.world().npcs.len(), 3, "two extra wanderers");
    assert_eq!(
        e.params().get("walk_speed"),
        Some(&Value::Float(3.0)),
        "tuned values survive"
    );
    assert_eq!(e.tick(), tick, "the tick count goes on");
}

#[test]
fn fresh_reboot_discards_progress() {
    let mut e = room();
    hold(&mut e, Button::Right, 64);
    idle(&mut e, 16);
    let report = e.reboot(
        Scene::parse("room.json", ROOM).expect("valid"),
        Progress::Discard,
    );
    assert!(report.carried.is_none());
    assert_eq!(tile(&e), (1, 1));
    assert!(e.world().flags.is_empty());
}

#[test]
fn reboot_onto_an_edited_scene_moves_a_walled_in_player_to_the_spawn() {
    let mut e = room();
    hold(&mut e, Button::Right, 64);
    idle(&mut e, 16);
    assert_eq!(tile(&e), (5, 1));
    let edited = ROOM.replace("\"W......W\",\n    \"W..W", "\"W....W.W\",\n    \"W..W");
    let scene = Scene::parse("room.json", &edited).expect("edited room is valid");
    assert!(!scene.walkable(5, 1));
    let carried = e.reboot(scene, Progress::Keep).carried.expect("keep");
    assert!(!carried.position_kept);
    assert_eq!(tile(&e), (1, 1));
    assert!(e.world().flags.contains("coin"), "flags survive anyway");
}

#[test]
fn save_and_restore_round_trip_continues_identically() {
    let mut e = Engine::new(Scene::builtin());
    idle(&mut e, 50);
    let saved = e.save_state();
    let text = serde_json::to_string(&saved).expect("serializable");
    idle(&mut e, 80);
    let want = e.save_state();

    let mut other = Engine::new(Scene::builtin());
    other
        .restore_state(&serde_json::from_str(&text).expect("valid json"))
        .expect("restores");
    assert_eq!(other.tick(), 50);
    idle(&mut other, 80);
    assert_eq!(other.save_state(), want);
}

#[test]
fn a_state_saved_mid_walk_walks_on_without_firing_action_again() {
    let mut e = Engine::new(Scene::builtin());
    idle(&mut e, 10);
    e.input(Button::Right, InputAction::Press);
    idle(&mut e, 7);
    let saved = e.save_state();
    assert_eq!(saved["held"], serde_json::json!(["right"]));
    idle(&mut e, 30);
    let want = e.save_state();

    let mut other = Engine::new(Scene::builtin());
    other.restore_state(&saved).expect("restores");
    idle(&mut other, 30);
    assert_eq!(other.save_state(), want, "the restored run walks on");
}

#[test]
fn restore_refuses_bad_states_and_changes_nothing() {
    let mut e = room();
    idle(&mut e, 5);
    let before = e.save_state();
    let builtin_state = Engine::new(Scene::builtin()).save_state();
    let err = e.restore_state(&builtin_state).expect_err("other scene");
    assert_eq!(
        err.to_string(),
        "the saved state is for scene `demo`, but the engine runs `room`"
    );
    let mut far = before.clone();
    far["world"]["player"]["x"] = serde_json::json!(100 * TILE_SUB);
    let err = e.restore_state(&far).expect_err("outside");
    assert!(err.to_string().contains("outside the 8x6 map"), "{err}");
    let err = e
        .restore_state(&serde_json::json!({"scene": "room"}))
        .expect_err("junk");
    assert!(
        err.to_string().starts_with("the saved state is not valid"),
        "{err}"
    );
    assert_eq!(e.save_state(), before);
}

#[test]
fn npc_count_beyond_the_scene_adds_wanderers_and_zero_removes_all() {
    let scene = Scene::builtin();
    let mut params = advkit_core::params::for_scene(&scene);
    params.set("npc_count", Value::Int(20)).expect("in range");
    let mut e = Engine::with_params(scene.clone(), params);
    assert_eq!(e.world().npcs.len(), 20);
    assert_eq!(e.world().npcs[19].name, "Villager 20");
    for n in &e.world().npcs {
        let (x, y) = n.actor.tile();
        assert!(scene.walkable(x, y), "{} spawned on a wall", n.name);
    }
    e.set_param("npc_count", Value::Int(0)).expect("in range");
    e.reboot(scene, Progress::Keep);
    assert!(e.world().npcs.is_empty());
}

#[test]
fn npcs_move_and_never_walk_into_walls() {
    let scene = Scene::builtin();
    let mut e = Engine::new(scene.clone());
    let start: Vec<_> = e.world().npcs.iter().map(|n| n.actor.tile()).collect();
    for _ in 0..600 {
        e.step();
        for n in &e.world().npcs {
            let (x, y) = n.actor.tile();
            assert!(
                scene.walkable(x, y),
                "{} is on a wall at {:?}",
                n.name,
                (x, y)
            );
        }
    }
    let moved = e
        .world()
        .npcs
        .iter()
        .zip(&start)
        .filter(|(n, s)| n.actor.tile() != **s)
        .count();
    assert!(moved >= 4, "only {moved} NPCs moved in 600 ticks");
}

#[test]
fn autopilot_walks_the_player_and_stands_down_for_real_input() {
    let mut e = Engine::new(Scene::builtin());
    let start = e.world().player.tile();
    idle(&mut e, 200);
    assert_ne!(e.world().player.tile(), start, "autopilot moved the player");
    e.set_param("autopilot", Value::Bool(false)).expect("bool");
    idle(&mut e, 20);
    let here = e.world().player.tile();
    idle(&mut e, 100);
    assert_eq!(e.world().player.tile(), here);
}
