//! `advkit inspect` end to end: a real engine, the real inspector inside
//! tmux (send-keys, capture-pane), and `advkit send` to check what it did.

use std::time::Duration;

use crate::util::{Dir, Runtime, Tmux};

const WAIT: Duration = Duration::from_secs(15);

fn inspector(rt: &Runtime, name: &str) -> Tmux {
    start_inspector(rt, name, "", "--colors 256")
}

/// `advkit inspect --name NAME ARGS` in tmux, after `before` (a shell
/// prefix such as `cd DIR && `); the shell stays to show the exit code.
fn start_inspector(rt: &Runtime, name: &str, before: &str, args: &str) -> Tmux {
    let cmd = format!(
        "{before}XDG_RUNTIME_DIR={} {} inspect --name {name} {args}; echo INSPECT-EXIT-$?; sleep 30",
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
    assert!(screen.contains("walk_speed"), "{screen}");
    // The first frame may come a moment after the connection.
    tmux.wait_for("▀", WAIT);

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
    // The hint to start one (wrapped where the pane is narrow), once.
    assert_eq!(screen.matches("run --name later").count(), 1, "{screen}");
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

/// A private sshd on a loopback port, with its own host and user keys.
struct Sshd {
    child: std::process::Child,
    port: u16,
    key: std::path::PathBuf,
    _dir: Dir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sshd() -> Sshd {
    let dir = Dir::new();
    let keygen = |path: &std::path::Path| {
        let ok = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(path)
            .status()
            .expect("ssh-keygen (openssh-client is installed by .ci/run)")
            .success();
        assert!(ok, "ssh-keygen failed");
    };
    let (host_key, user_key) = (dir.path("host_key"), dir.path("user_key"));
    keygen(&host_key);
    keygen(&user_key);
    let authorized = dir.path("authorized_keys");
    std::fs::copy(user_key.with_extension("pub"), &authorized).expect("authorized_keys");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().expect("addr").port()
    };
    std::fs::create_dir_all("/run/sshd").ok(); // privilege separation dir
    let config = dir.write(
        "sshd_config",
        &format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             PermitRootLogin prohibit-password\nStrictModes no\nPidFile {}\n",
            host_key.display(),
            authorized.display(),
            dir.path("sshd.pid").display()
        ),
    );
    let sshd = ["/usr/sbin/sshd", "/usr/bin/sshd"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("sshd (openssh-server is installed by .ci/run)");
    let child = std::process::Command::new(sshd)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start sshd");
    let deadline = std::time::Instant::now() + WAIT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "sshd did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Sshd {
        child,
        port,
        key: user_key,
        _dir: dir,
    }
}

#[test]
fn over_ssh_t_the_inspector_draws_and_tunes() {
    let rt = Runtime::new();
    let _engine = rt.start("remote", &[]);
    let sshd = start_sshd();
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let cmd = format!(
        "ssh -t -p {} -i {} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR {user}@127.0.0.1 \
         'XDG_RUNTIME_DIR={} TERM=xterm-256color {} inspect --name remote'; echo SSH-EXIT-$?; sleep 30",
        sshd.port,
        sshd.key.display(),
        rt.xdg().display(),
        env!("CARGO_BIN_EXE_advkit")
    );
    let tmux = Tmux::start(&cmd, 110, 36);
    tmux.wait_for("● connected", WAIT);
    // Frames are drawn over ssh (the first may come a moment after the
    // connection: wait for it rather than assume it).
    tmux.wait_for("▀", WAIT);
    tmux.keys(&["Down", "Down", "Down", "Down", "Down", "Space"]);
    tmux.wait_for("show_grid=true", WAIT);
    let said = rt
        .advkit(&["send", "--name", "remote", "get", "show_grid"])
        .ok();
    assert!(said.contains("true"), "{said}");
    tmux.keys(&["q"]);
    tmux.wait_for("SSH-EXIT-0", WAIT);
}

#[test]
fn a_hung_up_terminal_ends_the_inspector_instead_of_leaving_it_spinning() {
    let rt = Runtime::new();
    let _engine = rt.start("hangup", &[]);
    let tmux = inspector(&rt, "hangup");
    tmux.wait_for("● connected", WAIT);
    let pattern = format!("^{} inspect --name hangup", env!("CARGO_BIN_EXE_advkit"));
    let running = || {
        std::process::Command::new("pgrep")
            .args(["-f", &pattern])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    assert!(running());
    drop(tmux); // kill-session: the pty goes away, SIGHUP arrives
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while running() {
        assert!(
            std::time::Instant::now() < deadline,
            "the inspector is still running after its terminal hung up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `advkit demo --params FILE` hands the file to its engine, so the
/// inspector's `s` saves there (issue 13: demo had no --params, and `s`
/// could only fail).
#[test]
fn demo_with_a_params_file_saves_with_s() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let file = dir.path("demo-params.json");
    let cmd = format!(
        "XDG_RUNTIME_DIR={} {} demo --params {} --colors 256; echo DEMO-EXIT-$?; sleep 30",
        rt.xdg().display(),
        env!("CARGO_BIN_EXE_advkit"),
        file.display()
    );
    let tmux = Tmux::start(&cmd, 110, 36);
    tmux.wait_for("connected", WAIT);
    tmux.keys(&["s"]);
    tmux.wait_for("params saved to", WAIT);
    let saved = std::fs::read_to_string(&file).expect("the file was written");
    assert!(saved.contains("walk_speed"), "{saved}");
    tmux.keys(&["q"]);
    tmux.wait_for("DEMO-EXIT-0", WAIT);
}

/// An inspector started in `dir` (where Ctrl-R's recordings go:
/// fixtures/scenarios and fixtures/golden).
fn inspector_in(rt: &Runtime, name: &str, dir: &Dir) -> Tmux {
    start_inspector(rt, name, &format!("cd {} && ", dir.path("").display()), "")
}

/// Ctrl-R records a golden scenario while the game runs on: from where
/// the demo is (it saves its state), and for a game that cannot save,
/// from a fresh reboot after asking. Quitting mid-recording still writes
/// it. Both recordings pass `golden check`.
#[test]
fn ctrl_r_records_a_scenario_that_golden_check_passes() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let _engine = rt.start("game", &["--fps", "30"]);
    let tmux = inspector_in(&rt, "game", &dir);
    tmux.wait_for("● connected", WAIT);
    tmux.keys(&["C-r"]);
    tmux.wait_for("● REC", WAIT);
    tmux.keys(&["Right"]);
    tmux.wait_for("1.25 px/tick", WAIT);
    rt.wait_ticks("game", 20);
    tmux.keys(&["C-r"]);
    let screen = tmux.wait_for("recorded fixtures/scenarios/game-1.json", WAIT);
    assert!(
        screen.contains("from its saved state") || screen.contains("replayed headless: all"),
        "{screen}"
    );
    tmux.wait_for("replayed headless: all", WAIT);
    let text =
        std::fs::read_to_string(dir.path("fixtures/scenarios/game-1.json")).expect("a scenario");
    assert!(
        text.contains("\"state\"") && text.contains("walk_speed"),
        "{text}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("INSPECT-EXIT-0", WAIT);

    let _life = rt.start_example_with("life", "life", &["--no-save"]);
    let tmux = inspector_in(&rt, "life", &dir);
    tmux.wait_for("● connected", WAIT);
    tmux.keys(&["C-r"]);
    tmux.wait_for("Record from a fresh reboot?", WAIT);
    tmux.keys(&["y"]);
    tmux.wait_for("● REC", WAIT);
    rt.wait_ticks("life", 15);
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("INSPECT-EXIT-0", WAIT);
    assert!(
        screen.contains("stopping the recording to fixtures/scenarios/life-1.json")
            && screen.contains("replayed headless: all"),
        "{screen}"
    );

    let checked =
        crate::golden_cli::check_in(&dir, "fixtures/scenarios", "fixtures/golden", false, &[]).ok();
    assert!(
        checked.contains("2 scenario(s)") && checked.contains("0 failed scenario(s)"),
        "{checked}"
    );
}

/// Paused, the inspector writes nothing at all to the terminal (the
/// figures settle, the picture does not change), and when the game runs
/// again the picture moves again.
#[test]
fn a_paused_game_costs_not_a_byte_of_terminal_output() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let _engine = rt.start("game", &["--fps", "30"]);
    rt.advkit(&["send", "--name", "game", "pause"]).ok();
    let typescript = dir.path("typescript");
    let cmd = format!(
        "XDG_RUNTIME_DIR={} script -q -f -c '{} inspect --name game --colors 256' {}",
        rt.xdg().display(),
        env!("CARGO_BIN_EXE_advkit"),
        typescript.display()
    );
    let tmux = Tmux::start(&cmd, 100, 30);
    tmux.wait_for("PAUSED", WAIT);
    // The first screens and the figures of the first seconds are drawn;
    // then the figures stay at 0 fps and 0 B/s (the engine's own 0.0 fps
    // follows; at 100 columns a long link figure can push it off the
    // status bar), and nothing moves: wait until a second and a half of
    // the engine's loop passes with nothing written.
    let size = || std::fs::metadata(&typescript).map_or(0, |m| m.len());
    let frames = rt.dir().join("game.frames");
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let was = size();
        crate::util::wait_loop_runs(&frames, Duration::from_millis(1500));
        if size() == was {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the paused inspector never stopped writing"
        );
    }
    tmux.wait_for("inspector 0.0 fps  0 B/s written", WAIT);
    let before = size();
    // Three seconds of the paused engine's loop running, while the
    // inspector must write nothing.
    crate::util::wait_loop_runs(&frames, Duration::from_secs(3));
    let written = std::fs::read(&typescript).expect("typescript");
    assert_eq!(
        written.len() as u64,
        before,
        "bytes written while paused: {:?}",
        String::from_utf8_lossy(&written[before as usize..])
    );
    rt.advkit(&["send", "--name", "game", "resume"]).ok();
    let deadline = std::time::Instant::now() + WAIT;
    while size() < before + 1000 {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing drawn after resume"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What one run behind a throttled link showed.
struct SlowLink {
    rate: u32,
    samples: usize,
    /// The most the picture was behind the engine, in ticks, and what the
    /// bound allowed at that sample.
    worst: (i64, i64),
    max_lag_ms: u64,
    restore: Duration,
}

/// The inspector behind `tests/relay.py` (a pty relay that passes what the
/// inspector writes to tmux at `rate` bytes/s, behind an unlimited buffer,
/// as sshd and the network do), against a demo at 30 fps.
fn behind_a_slow_link(rate: u32) -> SlowLink {
    use advkit_ipc::FrameReader;
    let rt = Runtime::new();
    let _engine = rt.start("slow", &["--fps", "30"]);
    let relay = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/relay.py");
    let cmd = format!(
        "XDG_RUNTIME_DIR={} python3 {relay} {rate} -- {} inspect --name slow --colors 256; echo INSPECT-EXIT-$?; sleep 30",
        rt.xdg().display(),
        env!("CARGO_BIN_EXE_advkit")
    );
    let tmux = Tmux::start(&cmd, 100, 30);
    tmux.wait_for("● connected", WAIT);
    tmux.wait_for(" lag ", WAIT);
    let reader = FrameReader::open(&rt.dir().join("slow.frames")).expect("the frame region");
    let number = |screen: &str, before: &str, after: &str| -> Option<u64> {
        let rest = &screen[screen.find(before)? + before.len()..];
        rest[..rest.find(after)?].trim().parse().ok()
    };
    // Settle: the first screens of a slow link are the full picture; once
    // three ticks have shown, the picture is live.
    let mut ticks_seen = Vec::new();
    tmux.wait_until("the picture to go live", WAIT, |screen| {
        if let Some(t) = number(screen, " tick ", "  ")
            && !ticks_seen.contains(&t)
        {
            ticks_seen.push(t);
        }
        ticks_seen.len() >= 3
    });
    let (mut samples, mut worst, mut max_lag_ms) = (0, (i64::MIN, 0), 0);
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < end {
        let t = std::time::Instant::now();
        let screen = tmux.screen();
        let engine = reader.peek(reader.latest_frame()).map_or(0, |f| f.tick);
        let reading = t.elapsed().as_secs_f64();
        let (Some(shown), Some(lag), Some(fps)) = (
            number(&screen, " tick ", "  "),
            number(&screen, " lag ", " ms"),
            number(&screen, " inspector ", "."),
        ) else {
            continue;
        };
        // Two of the inspector's frames (at the rate the link lets it
        // draw, at most 30 fps) and one round trip, in engine ticks (30
        // fps), plus the time the screen took to read and 2 ticks more
        // (a frame is a tick old when drawn; the two ends are read apart).
        let frame = 1.0 / (fps.clamp(1, 30) as f64);
        let allowed = ((2.0 * frame + lag as f64 / 1000.0 + reading) * 30.0).ceil() as i64 + 2;
        let behind = engine as i64 - shown as i64;
        assert!(
            behind <= allowed,
            "at {rate} B/s the picture shows tick {shown} while the engine is at {engine}: \
             {behind} behind, {allowed} allowed (lag {lag} ms)\n{screen}"
        );
        if behind - allowed > worst.0 - worst.1 {
            worst = (behind, allowed);
        }
        max_lag_ms = max_lag_ms.max(lag);
        samples += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    let t = std::time::Instant::now();
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("INSPECT-EXIT-0", WAIT);
    let restore = t.elapsed();
    assert!(!screen.contains("● connected"), "{screen}");
    SlowLink {
        rate,
        samples,
        worst,
        max_lag_ms,
        restore,
    }
}

#[test]
fn behind_a_slow_link_the_picture_keeps_up_and_q_restores_at_once() {
    let mut runs = Vec::new();
    for rate in [20_000, 50_000, 1_000_000] {
        let r = behind_a_slow_link(rate);
        assert!(r.samples >= 10, "only {} samples at {rate} B/s", r.samples);
        assert!(
            // Draining what the link holds took many seconds.
            r.restore < Duration::from_millis(2500),
            "q took {:?} to restore the terminal at {rate} B/s",
            r.restore
        );
        runs.push(r);
    }
    eprintln!("link B/s  samples  worst behind/allowed (ticks)  max lag  q restored in");
    for r in runs {
        eprintln!(
            "{:>9}  {:>7}  {:>14} / {:<13}  {:>4} ms  {:>5} ms",
            r.rate,
            r.samples,
            r.worst.0,
            r.worst.1,
            r.max_lag_ms,
            r.restore.as_millis()
        );
    }
}

/// Frame focus in a real terminal: the picker reads a pixel, `+` zooms,
/// and the entity panel changes an NPC through `world.set`.
#[test]
fn the_picker_zoom_and_entity_edit_work_end_to_end() {
    let rt = Runtime::new();
    let _engine = rt.start("game", &["--fps", "20"]);
    let tmux = inspector(&rt, "game");
    tmux.wait_for("● connected", WAIT);
    tmux.wait_for("▀", WAIT);

    // Tab: frame focus, the picker in the middle of the picture.
    tmux.keys(&["Tab"]);
    let screen = tmux.wait_for(" #", WAIT);
    let picked = screen
        .lines()
        .find(|l| l.contains(" x ") && l.contains(" #"))
        .expect("the picker's line")
        .to_owned();
    assert!(picked.contains(" y "), "{picked}");
    // The demo answers world.pick: the picker names the tile there.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let screen = tmux.screen();
        let line = screen
            .lines()
            .find(|l| l.contains(" #"))
            .unwrap_or_default();
        let after = line.split_once(" #").map_or("", |(_, rest)| rest);
        if after.contains('(') && after.contains(',') && after.contains(')') {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no tile kind on the picker's line:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    tmux.keys(&["+"]);
    tmux.wait_for("zoom ×2", WAIT);
    tmux.keys(&["+", "+"]);
    tmux.wait_for("zoom ×8", WAIT);
    tmux.keys(&["z"]);
    tmux.wait_for("zoom: the whole frame", WAIT);

    // e: the entity panel; npc:0 is second; Enter changes it.
    tmux.keys(&["e"]);
    tmux.wait_for("entities · ", WAIT);
    tmux.keys(&["Down"]);
    tmux.wait_for("▶ npc:0", WAIT);
    tmux.keys(&["Enter"]);
    tmux.wait_for("Change npc:0", WAIT);
    tmux.keys(&["speed=9", "Enter"]);
    // The demo refuses: the error stays in the dialog.
    let screen = tmux.wait_for("✖ npc:0", WAIT);
    assert!(screen.contains("Change npc:0"), "{screen}");
    for _ in 0.."speed=9".len() {
        tmux.keys(&["BSpace"]);
    }
    tmux.keys(&["speed=2, say=\"Edited in the inspector\"", "Enter"]);
    tmux.wait_for("npc:0 changed", WAIT);
    let entities = rt
        .advkit(&["send", "--name", "game", "entities", "--json"])
        .ok();
    let list: serde_json::Value = serde_json::from_str(&entities).expect("json");
    let npc = list["entities"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["id"] == "npc:0"))
        .expect("npc:0");
    assert_eq!(npc["speed"], 2, "{npc}");
    assert_eq!(npc["say"], "Edited in the inspector", "{npc}");
    tmux.keys(&["q"]);
    tmux.wait_for("INSPECT-EXIT-0", WAIT);
}

#[test]
fn at_80x24_brackets_step_back_and_forward_through_time_and_a_watch_fires() {
    let rt = Runtime::new();
    let _engine = rt.start("time", &["--paused", "--fps", "30"]);
    rt.advkit(&["send", "--name", "time", "step", "60"]).ok();
    let cmd = format!(
        "XDG_RUNTIME_DIR={} {} inspect --name time --colors 256; echo INSPECT-EXIT-$?; sleep 30",
        rt.xdg().display(),
        env!("CARGO_BIN_EXE_advkit")
    );
    let tmux = Tmux::start(&cmd, 80, 24);
    tmux.wait_for("● connected", WAIT);
    // The timeline: the span of history and the tick on screen.
    let screen = tmux.wait_for("now 60", WAIT);
    assert!(
        screen.contains("┃"),
        "the tick on screen is marked:\n{screen}"
    );
    tmux.keys(&["["]);
    tmux.wait_for("now 59 · 1 ahead", WAIT);
    // The status bar follows once the engine has gone there.
    tmux.wait_for("tick 59", WAIT);
    tmux.keys(&["]"]);
    tmux.wait_for("now 60", WAIT);
    tmux.keys(&["Home"]);
    let stats = rt.advkit(&["send", "--name", "time", "history"]).ok();
    let oldest = stats
        .split_whitespace()
        .nth(1)
        .expect("ticks OLDEST to …")
        .to_owned();
    tmux.wait_for(&format!("now {oldest} ·"), WAIT);
    tmux.keys(&["End"]);
    tmux.wait_for("now 60", WAIT);

    // The watch pane: add a condition, resume, and it fires.
    tmux.keys(&["w"]);
    tmux.wait_for("no watchpoints", WAIT);
    tmux.keys(&["a"]);
    tmux.wait_for("Watch", WAIT);
    tmux.keys(&["tick == 75", "Enter"]);
    tmux.wait_for("tick == 75 (0 hits)", WAIT);
    tmux.keys(&["p"]);
    let screen = tmux.wait_for("watch 1 fired at tick 75", WAIT);
    assert!(screen.contains("PAUSED"), "{screen}");
    let stats = rt.advkit(&["send", "--name", "time", "stats"]).ok();
    assert!(
        stats.starts_with("tick 75 ") && stats.contains("PAUSED"),
        "{stats}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("INSPECT-EXIT-0", WAIT);
}

#[test]
fn behind_a_20_kb_link_at_80x24_time_keys_and_a_watch_still_show_at_once() {
    let rt = Runtime::new();
    let _engine = rt.start("slowtime", &["--paused", "--fps", "30"]);
    rt.advkit(&["send", "--name", "slowtime", "step", "60"])
        .ok();
    let relay = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/relay.py");
    let cmd = format!(
        "XDG_RUNTIME_DIR={} python3 {relay} 20000 -- {} inspect --name slowtime --colors 256; echo INSPECT-EXIT-$?; sleep 30",
        rt.xdg().display(),
        env!("CARGO_BIN_EXE_advkit")
    );
    let tmux = Tmux::start(&cmd, 80, 24);
    tmux.wait_for("● connected", WAIT);
    tmux.wait_for("now 60", WAIT);
    let t = std::time::Instant::now();
    tmux.keys(&["[", "[", "["]);
    tmux.wait_for("now 57 · 3 ahead", WAIT);
    let back = t.elapsed();
    tmux.keys(&["]"]);
    tmux.wait_for("now 58 · 2 ahead", WAIT);
    rt.advkit(&["send", "--name", "slowtime", "watch", "add", "tick == 70"])
        .ok();
    tmux.keys(&["p"]);
    // Behind 20 KB/s the terminal is redrawn row by row over a while: the
    // timeline row can show the hit before the status row below it does.
    tmux.wait_until("the hit at 70, paused", WAIT, |s| {
        s.contains("watch 1@70") && s.contains("PAUSED")
    });
    eprintln!("three ticks back behind 20 KB/s shown in {back:?}");
    tmux.keys(&["q"]);
    tmux.wait_for("INSPECT-EXIT-0", WAIT);
}

#[test]
fn fps_is_a_ceiling_though_the_terminal_answers_every_screen() {
    let rt = Runtime::new();
    let _engine = rt.start("capped", &["--fps", "60"]);
    let cmd = format!(
        "XDG_RUNTIME_DIR={} {} inspect --name capped --colors 256 --fps 10; echo INSPECT-EXIT-$?; sleep 30",
        rt.xdg().display(),
        env!("CARGO_BIN_EXE_advkit")
    );
    // tmux answers each screen's CSI 5 n at once: the answers must not
    // pace the drawing (they did: about twice --fps).
    let tmux = Tmux::start(&cmd, 100, 30);
    tmux.wait_for("● connected", WAIT);
    let fps = |screen: &str| -> Option<f64> {
        let rest = &screen[screen.find(" inspector ")? + " inspector ".len()..];
        rest[..rest.find(" fps")?].trim().parse().ok()
    };
    // The figure is measured over each second; wait for a real one.
    let deadline = std::time::Instant::now() + WAIT;
    let mut seen = Vec::new();
    while seen.len() < 4 {
        assert!(
            std::time::Instant::now() < deadline,
            "no fps figures: {seen:?}"
        );
        if let Some(f) = fps(&tmux.screen()).filter(|f| *f > 1.0)
            && seen.last() != Some(&f)
        {
            seen.push(f);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // A second's window can hold 11 draws 100 ms apart, end to end.
    assert!(
        seen.iter().all(|f| *f <= 11.0),
        "--fps 10 drew {seen:?} a second"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("INSPECT-EXIT-0", WAIT);
}
