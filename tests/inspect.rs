//! `advkit inspect` end to end: a real engine, the real inspector inside
//! tmux (send-keys, capture-pane), and `advkit send` to check what it did.

use std::time::Duration;

use crate::util::{Runtime, Tmux};

const WAIT: Duration = Duration::from_secs(15);

fn inspector(rt: &Runtime, name: &str) -> Tmux {
    let cmd = format!(
        "XDG_RUNTIME_DIR={} {} inspect --name {name} --colors 256; echo INSPECT-EXIT-$?; sleep 30",
        rt.xdg().display(),
        env!("CARGO_BIN_EXE_advkit")
    );
    Tmux::start(&cmd, 110, 36)
}

#[test]
fn a_param_changed_in_the_inspector_is_seen_by_send_and_it_survives_a_restart() {
    let rt = Runtime::new();
    let engine = rt.start("game", &["--fps", "20"]);
    let tmux = inspector(&rt, "game");
    let screen = tmux.wait_for("● connected", WAIT);
    assert!(
        screen.contains("walk_speed") && screen.contains('▀'),
        "{screen}"
    );

    // walk_speed is selected first: → adds one step (0.25).
    tmux.keys(&["Right"]);
    tmux.wait_for("1.25 px/tick", WAIT);
    let said = rt
        .advkit(&["send", "--name", "game", "get", "walk_speed"])
        .ok();
    assert!(said.contains("1.25"), "{said}");

    // A change by another client shows up in the panel and the event log.
    rt.advkit(&["send", "--name", "game", "set", "walk_mode", "pixel"])
        .ok();
    tmux.wait_for("‹ pixel ›", WAIT);

    // Pause from the inspector.
    tmux.keys(&["p"]);
    tmux.wait_for("PAUSED", WAIT);
    assert!(
        rt.advkit(&["send", "--name", "game", "stats"])
            .ok()
            .contains("PAUSED")
    );

    // The engine dies: the inspector says so and keeps running.
    engine.signal("-9");
    let _ = engine.wait();
    tmux.wait_for("DISCONNECTED", WAIT);
    tmux.wait_for("gone", WAIT);

    // An engine of the same name comes back: the inspector reattaches.
    let _again = rt.start("game", &["--fps", "20"]);
    tmux.wait_for("● connected", WAIT);
    tmux.keys(&["Right"]);
    tmux.wait_for("1.25 px/tick", WAIT);
    assert!(
        rt.advkit(&["send", "--name", "game", "get", "walk_speed"])
            .ok()
            .contains("1.25")
    );

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("INSPECT-EXIT-0", WAIT);
    assert!(
        !screen.contains("● connected"),
        "the terminal is restored:\n{screen}"
    );
}

#[test]
fn with_no_engine_it_says_so_and_attaches_when_one_starts() {
    let rt = Runtime::new();
    let tmux = inspector(&rt, "later");
    let screen = tmux.wait_for("No engine named later is running", WAIT);
    assert!(screen.contains("advkit run --name later"), "{screen}");
    let _engine = rt.start("later", &[]);
    tmux.wait_for("● connected", WAIT);
    // SIGTERM ends it cleanly, with the terminal restored.
    let status = std::process::Command::new("pkill")
        // Anchored on the binary, so the shell running it in tmux is spared.
        .args([
            "-TERM",
            "-f",
            &format!("^{} inspect --name later", env!("CARGO_BIN_EXE_advkit")),
        ])
        .status()
        .expect("pkill");
    assert!(status.success());
    tmux.wait_for("INSPECT-EXIT-0", WAIT);
}
