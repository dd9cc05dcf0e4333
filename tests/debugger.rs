//! The debugger against a real `advkit run`: history, seek (rewind and
//! forward, checked against the frames shown live), branches, run-until
//! checked against an independent replay, watchpoints, and `world.diff`.

use std::time::Duration;

use advkit_ipc::api::{Event, codes, method};
use advkit_ipc::client::{Client, ClientError};
use serde_json::{Value, json};

use crate::util::Runtime;

fn client(rt: &Runtime, name: &str) -> Client {
    let mut c = Client::connect_unix(&rt.dir().join(format!("{name}.sock"))).expect("connect");
    c.set_timeout(Duration::from_secs(60));
    c
}

fn call(c: &mut Client, method: &str, params: Value) -> Value {
    c.call(method, params)
        .unwrap_or_else(|e| panic!("{method}: {e}"))
        .result
}

/// The content hash of the frame the engine shows now.
fn shown_hash(c: &mut Client) -> (u64, String) {
    let r = call(c, method::SNAPSHOT, json!({}));
    (
        r["tick"].as_u64().expect("tick"),
        r["hash"].as_str().expect("hash").to_owned(),
    )
}

fn step(c: &mut Client, n: u64) -> Value {
    call(c, method::STEP, json!({ "count": n }))
}

#[test]
fn rewinding_300_ticks_shows_the_frame_shown_live_and_so_does_seeking_forward_again() {
    let rt = Runtime::new();
    let _engine = rt.start("dbg", &["--paused", "--fps", "60"]);
    let mut c = client(&rt, "dbg");

    // A session with an input, a param change and an entity edit.
    step(&mut c, 40);
    call(
        &mut c,
        method::INPUT,
        json!({"button": "right", "action": "press"}),
    );
    step(&mut c, 30);
    call(
        &mut c,
        method::PARAMS_SET,
        json!({"name": "walk_speed", "value": 3.0}),
    );
    step(&mut c, 30);
    let at_100 = shown_hash(&mut c);
    assert_eq!(at_100.0, 100);
    step(&mut c, 1);
    call(
        &mut c,
        method::WORLD_SET,
        json!({"id": "player", "attrs": {"tile": [20, 20]}}),
    );
    call(
        &mut c,
        method::INPUT,
        json!({"button": "right", "action": "release"}),
    );
    call(
        &mut c,
        method::INPUT,
        json!({"button": "down", "action": "press"}),
    );
    step(&mut c, 99);
    call(
        &mut c,
        method::PARAMS_SET,
        json!({"name": "day_night", "value": 0.6}),
    );
    step(&mut c, 200);
    let at_400 = shown_hash(&mut c);
    assert_eq!(at_400.0, 400);

    let h = call(&mut c, method::HISTORY, json!({}));
    assert_eq!(h["newest"], 400, "{h}");
    assert!(h["oldest"].as_u64().expect("oldest") <= 100, "{h}");
    assert_eq!(h["requests"], 6, "every applied mutating request: {h}");

    let r = call(&mut c, method::SEEK, json!({"by": -300}));
    assert_eq!(r["tick"], 100, "{r}");
    assert_eq!(r["verified"], true, "{r}");
    assert_eq!(r["future"], 300, "{r}");
    assert_eq!(
        shown_hash(&mut c),
        at_100,
        "the rewound frame is the live one"
    );
    let p = call(&mut c, method::PARAMS_GET, json!({"name": "walk_speed"}));
    assert_eq!(p["values"]["walk_speed"], 3.0, "params go back too: {p}");

    let r = call(&mut c, method::SEEK, json!({"tick": 400}));
    assert_eq!(r["verified"], true, "{r}");
    assert_eq!(shown_hash(&mut c), at_400, "forward again: the same frame");
    let p = call(&mut c, method::PARAMS_GET, json!({"name": "day_night"}));
    assert_eq!(p["values"]["day_night"], 0.6, "{p}");

    // Out of the history: refused, nothing moves.
    let err = c
        .call(method::SEEK, json!({"tick": 401}))
        .expect_err("beyond the newest tick");
    assert!(err.to_string().contains("outside the history"), "{err}");
    assert_eq!(shown_hash(&mut c), at_400);
}

#[test]
fn a_branch_after_a_rewind_drops_the_old_future_and_says_how_much() {
    let rt = Runtime::new();
    let _engine = rt.start("branch", &["--paused", "--fps", "60"]);
    let mut c = client(&rt, "branch");
    step(&mut c, 120);
    let r = call(&mut c, method::SEEK, json!({"tick": 50}));
    assert_eq!(r["future"], 70, "{r}");
    // Looking around the past keeps the future...
    call(&mut c, method::SEEK, json!({"tick": 60}));
    assert_eq!(call(&mut c, method::HISTORY, json!({}))["newest"], 120);
    // ...stepping from it starts a new branch.
    let s = step(&mut c, 5);
    assert_eq!(s["tick"], 65, "{s}");
    assert_eq!(s["dropped"], 60, "{s}");
    let h = call(&mut c, method::HISTORY, json!({}));
    assert_eq!(h["newest"], 65, "{h}");
    // And so does resuming.
    call(&mut c, method::SEEK, json!({"tick": 55}));
    let r = call(&mut c, method::RESUME, json!({}));
    assert_eq!(r["dropped"], 10, "{r}");
}

#[test]
fn run_until_stops_at_exactly_the_first_tick_an_independent_replay_finds() {
    let cond = "npc:1.tile changed and tick > 20";
    let rt = Runtime::new();
    let _engine = rt.start("until", &["--paused"]);
    let mut c = client(&rt, "until");
    let r = call(
        &mut c,
        method::RUN_UNTIL,
        json!({"condition": cond, "max_ticks": 5000}),
    );
    assert_eq!(r["found"], true, "{r}");
    let found = r["tick"].as_u64().expect("tick");
    let stats = call(&mut c, method::STATS, json!({}));
    assert_eq!(stats["tick"], found, "paused at that tick: {stats}");
    assert_eq!(stats["paused"], true);
    assert!(r["values"]["npc:1.tile (before)"].is_array(), "{r}");

    // The same condition found independently: a fresh engine stepped one
    // tick at a time, its entity read after each.
    let _other = rt.start("replay", &["--paused"]);
    let mut d = client(&rt, "replay");
    let mut before = call(&mut d, method::WORLD_GET, json!({"id": "npc:1"}))["tile"].clone();
    let mut first = None;
    for _ in 0..5000 {
        let tick = step(&mut d, 1)["tick"].as_u64().expect("tick");
        let now = call(&mut d, method::WORLD_GET, json!({"id": "npc:1"}))["tile"].clone();
        if now != before && tick > 20 {
            first = Some(tick);
            break;
        }
        before = now;
    }
    assert_eq!(Some(found), first, "run_until and the replay agree");

    // A condition that never holds: found false at max_ticks; a parse
    // error points at the place.
    let r = call(
        &mut c,
        method::RUN_UNTIL,
        json!({"condition": "player.tile == [0, 0]", "max_ticks": 50}),
    );
    assert_eq!(r["found"], false, "{r}");
    assert_eq!(r["tick"], found + 50, "{r}");
    let err = c
        .call(method::RUN_UNTIL, json!({"condition": "player.hp = 3"}))
        .expect_err("a parse error");
    let ClientError::Rpc(rpc) = err else {
        panic!("an error reply")
    };
    assert_eq!(rpc.code, codes::INVALID_PARAMS);
    assert!(rpc.message.contains("column 11"), "{}", rpc.message);
}

#[test]
fn a_watchpoint_pauses_a_live_engine_the_tick_it_fires_and_sends_its_event() {
    let rt = Runtime::new();
    let _engine = rt.start("watch", &["--fps", "60"]);
    let mut events = client(&rt, "watch");
    call(
        &mut events,
        method::SUBSCRIBE,
        json!({"topics": ["engine"]}),
    );
    let mut c = client(&rt, "watch");
    let w = call(&mut c, method::WATCH, json!({"add": "npc:1.tile changed"}));
    let id = w["id"].as_u64().expect("id");
    let (tick, values) = loop {
        let n = events
            .next_event(Some(Duration::from_secs(30)))
            .expect("events")
            .expect("a watch event within 30 s");
        if let Event::Watch {
            id: fired, values, ..
        } = n.event
        {
            assert_eq!(fired, id);
            break (n.tick, values);
        }
    };
    assert!(values.contains_key("npc:1.tile (before)"), "{values:?}");
    let stats = call(&mut c, method::STATS, json!({}));
    assert_eq!(stats["paused"], true, "{stats}");
    assert_eq!(stats["tick"], tick, "paused at the tick it fired: {stats}");
    let h = call(&mut c, method::HISTORY, json!({}));
    assert!(
        h["watch_hits"]
            .as_array()
            .expect("hits")
            .contains(&json!(tick))
    );
    let list = call(&mut c, method::WATCH, json!({}));
    assert_eq!(list["watches"][0]["hits"], 1, "{list}");
    call(&mut c, method::WATCH, json!({"remove": id}));
    assert_eq!(call(&mut c, method::WATCH, json!({}))["watches"], json!([]));
}

#[test]
fn diff_names_what_changed_between_two_ticks_and_leaves_the_engine_where_it_was() {
    let rt = Runtime::new();
    let _engine = rt.start("diff", &["--paused", "--fps", "60"]);
    let mut c = client(&rt, "diff");
    step(&mut c, 30);
    call(
        &mut c,
        method::WORLD_SET,
        json!({"id": "player", "attrs": {"tile": [20, 20]}}),
    );
    step(&mut c, 30);
    let before = shown_hash(&mut c);
    let r = call(&mut c, method::WORLD_DIFF, json!({"from": 10, "to": 30}));
    let changes = r["changes"].as_array().expect("changes");
    let player = changes
        .iter()
        .find(|ch| ch["key"] == "player.tile")
        .unwrap_or_else(|| panic!("the player moved: {r}"));
    assert_eq!(player["to"], json!([20, 20]), "{r}");
    assert_eq!(r["added"], json!([]));
    assert_eq!(shown_hash(&mut c), before, "back where it was");
    // The CLI prints the same table.
    let out = rt
        .advkit(&["send", "--name", "diff", "diff", "10", "30"])
        .ok();
    assert!(
        out.contains("player.tile") && out.contains("-> [20,20]"),
        "{out}"
    );
}

#[test]
fn the_cli_seeks_runs_until_and_lists_watches_with_the_readmes_exit_codes() {
    let rt = Runtime::new();
    let _engine = rt.start("cli", &["--paused"]);
    let send = |args: &[&str]| {
        let mut all = vec!["send", "--name", "cli"];
        all.extend_from_slice(args);
        rt.advkit(&all)
    };
    send(&["step", "90"]).ok();
    let out = send(&["seek", "--", "-30"]).ok();
    assert!(out.contains("at tick 60 (paused)"), "{out}");
    let out = send(&["seek", "+10"]).ok();
    assert!(out.contains("at tick 70"), "{out}");
    let out = send(&["history"]).ok();
    assert!(out.contains("to 90 (now 70)"), "{out}");
    let out = send(&["until", "tick == 75"]).ok();
    assert!(out.contains("holds at tick 75"), "{out}");
    let err = send(&["until", "player.tile == [0, 0]", "--max", "20"]).fails_with(1);
    assert!(err.contains("did not hold within 20 ticks"), "{err}");
    send(&["watch", "add", "player.tile changed"]).ok();
    let out = send(&["watch", "list"]).ok();
    assert!(out.contains("1  player.tile changed  (0 hits)"), "{out}");
    let err = send(&["watch", "rm", "7"]).fails_with(1);
    assert!(err.contains("no watchpoint 7"), "{err}");
    let err = send(&["watch", "add", "player.tile =="]).fails_with(1);
    assert!(err.contains("at column 15"), "{err}");
}
