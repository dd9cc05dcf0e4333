//! `advkit run`, `snapshot` and `ls` against real engines in a private
//! runtime directory.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use advkit_core::decode_png;
use advkit_ipc::{FrameReader, ReadError};

use crate::util::{Dir, Runtime, wait_loop_runs, wait_until, waiters};

#[test]
fn run_publishes_frames_that_snapshot_and_ls_see_and_stops_cleanly() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let engine = rt.start("default", &["--fps", "60", "--size", "160x90"]);

    let mode = std::fs::metadata(rt.dir())
        .expect("dir")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700, "runtime dir is owner-only");
    let mode = std::fs::metadata(&engine.frames)
        .expect("file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "frame region is owner-only");

    let out = dir.path("snap.png");
    let said = rt
        .advkit(&["snapshot", "--out", &out.display().to_string()])
        .ok();
    assert!(said.starts_with("160x90 frame "), "{said}");
    let frame = decode_png(&std::fs::read(&out).expect("png")).expect("decodes");
    assert_eq!((frame.width(), frame.height()), (160, 90));
    assert!(
        frame.pixels().chunks(4).any(|p| p != frame.pixel(0, 0)),
        "a real picture, not a blank frame"
    );

    let ls = rt.advkit(&["ls"]).ok();
    let line = ls
        .lines()
        .find(|l| l.starts_with("default"))
        .expect("listed");
    assert!(line.contains(&engine.pid().to_string()), "{ls}");
    assert!(
        line.contains("160x90") && line.contains("60") && line.ends_with("running"),
        "{ls}"
    );

    // Frames keep coming: the tick moves on.
    let reader = FrameReader::open(&engine.frames).expect("open");
    let first = reader.latest_frame();
    reader
        .wait_next(first + 3, Duration::from_secs(5))
        .expect("more frames");

    engine.signal("-TERM");
    let frames = engine.frames.clone();
    let (status, stderr) = engine.wait();
    assert!(status.success(), "SIGTERM is a clean stop: {stderr}");
    assert!(
        stderr.contains("engine default stopped at tick"),
        "{stderr}"
    );
    assert!(!frames.exists(), "the region is removed on the way out");
    let ls = rt.advkit(&["ls"]).ok();
    assert!(ls.contains("no engines"), "{ls}");
}

#[test]
fn a_second_engine_with_the_same_name_is_refused() {
    let rt = Runtime::new();
    let first = rt.start("game", &[]);
    let err = rt.advkit(&["run", "--name", "game"]).fails_with(1);
    assert!(
        err.contains(&format!(
            "engine game is already running (pid {}",
            first.pid()
        )),
        "{err}"
    );
    assert!(err.contains("--name"), "says what to do: {err}");
    // Another name is fine alongside.
    let _other = rt.start("other", &[]);
    let ls = rt.advkit(&["ls"]).ok();
    assert_eq!(
        ls.lines().filter(|l| l.ends_with("running")).count(),
        2,
        "{ls}"
    );
}

#[test]
fn kill_9_makes_readers_fail_fast_and_the_name_is_reusable() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let engine = rt.start("default", &["--fps", "30"]);
    let pid = engine.pid();
    let frames = engine.frames.clone();

    // A reader waiting for frames while the engine dies.
    let waiter = std::thread::spawn(move || {
        let reader = FrameReader::open(&frames).expect("open");
        let started = Instant::now();
        let result = reader.wait_next(u64::MAX - 1, Duration::from_secs(30));
        (result, started)
    });
    wait_until("the reader to sleep on the region", || {
        waiters(&engine.frames) > 0
    });
    let killed = Instant::now();
    engine.signal("-9");
    let (result, _) = waiter.join().expect("reader thread");
    let noticed = killed.elapsed();
    match result {
        Err(ReadError::WriterGone { .. }) => {}
        other => panic!("expected the writer to be gone, got {other:?}"),
    }
    // It checks every 250 ms; the bound only tells that from waiting out
    // its 30 s.
    assert!(
        noticed < Duration::from_secs(10),
        "noticed after {noticed:?}"
    );
    let _ = engine.wait();

    let out = dir.path("x.png").display().to_string();
    let err = rt.advkit(&["snapshot", "--out", &out]).fails_with(2);
    assert!(
        err.contains(&format!("engine default is not running (pid {pid} gone)")),
        "{err}"
    );
    let ls = rt.advkit(&["ls"]).ok();
    assert!(
        ls.contains("stale") && ls.contains(&format!("pid {pid} gone")),
        "{ls}"
    );

    // The stale file is replaced by a new engine of the same name.
    let again = rt.start("default", &[]);
    assert_ne!(again.pid(), pid);
    rt.advkit(&["snapshot", "--out", &out]).ok();
}

#[test]
fn foreign_and_truncated_region_files_give_clear_errors() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let out = dir.path("x.png").display().to_string();
    // Make the runtime directory the way advkit would.
    drop(rt.start("real", &["--size", "64x32"]));
    // Drop kills the engine (SIGKILL), leaving a stale but valid region.
    let real = rt.dir().join("real.frames");
    let bytes = std::fs::read(&real).expect("stale region left behind");

    std::fs::write(rt.dir().join("junk.frames"), b"definitely not frames").expect("write");
    let err = rt
        .advkit(&["snapshot", "--name", "junk", "--out", &out])
        .fails_with(1);
    assert!(err.contains("is not an advkit frame region"), "{err}");

    std::fs::write(rt.dir().join("cut.frames"), &bytes[..6000]).expect("write");
    let err = rt
        .advkit(&["snapshot", "--name", "cut", "--out", &out])
        .fails_with(1);
    assert!(err.contains("is truncated: 6000 bytes"), "{err}");

    let ls = rt.advkit(&["ls"]).ok();
    assert!(ls.contains("junk") && ls.contains("broken"), "{ls}");

    // A foreign file nobody holds is replaced by `advkit run`.
    let _e = rt.start("junk", &[]);
    rt.advkit(&["snapshot", "--name", "junk", "--out", &out])
        .ok();

    let err = rt
        .advkit(&["snapshot", "--name", "nobody", "--out", &out])
        .fails_with(2);
    assert!(err.contains("engine nobody is not running"), "{err}");
    let err = rt.advkit(&["run", "--name", "../escape"]).fails_with(1);
    assert!(err.contains("is not allowed"), "{err}");
}

#[test]
fn a_runtime_directory_others_can_reach_is_refused() {
    let rt = Runtime::new();
    std::fs::create_dir(rt.dir()).expect("mkdir");
    std::fs::set_permissions(rt.dir(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let err = rt.advkit(&["run"]).fails_with(1);
    assert!(
        err.contains("mode 0755") && err.contains("chmod 700"),
        "{err}"
    );
    let err = rt.advkit(&["ls"]).fails_with(1);
    assert!(err.contains("mode 0755"), "{err}");
}

#[test]
fn the_python_example_reads_the_same_pixels_as_advkit_snapshot() {
    let rt = Runtime::new();
    let dir = Dir::new();
    // Slow frames and an odd width (row padding) make this a real check.
    let _engine = rt.start("py", &["--fps", "4", "--size", "101x57"]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/python/read_frame.py");
    let py_out = dir.path("py.png");
    let rs_out = dir.path("rs.png");
    for _attempt in 0..5 {
        let py = std::process::Command::new("python3")
            .arg(script)
            .args(["--name", "py", "--out"])
            .arg(&py_out)
            .env("XDG_RUNTIME_DIR", rt.xdg())
            .output()
            .expect("python3 runs");
        let py_said = String::from_utf8_lossy(&py.stdout).into_owned();
        assert!(
            py.status.success(),
            "read_frame.py failed: {py_said}{}",
            String::from_utf8_lossy(&py.stderr)
        );
        let rs_said = rt
            .advkit(&[
                "snapshot",
                "--name",
                "py",
                "--out",
                &rs_out.display().to_string(),
            ])
            .ok();
        let frame_no = |s: &str| s.split_whitespace().nth(2).map(str::to_owned);
        if frame_no(&py_said) != frame_no(&rs_said) {
            continue; // a new frame came between the two reads
        }
        let py_frame =
            decode_png(&std::fs::read(&py_out).expect("py png")).expect("py png decodes");
        let rs_frame =
            decode_png(&std::fs::read(&rs_out).expect("rs png")).expect("rs png decodes");
        assert_eq!((py_frame.width(), py_frame.height()), (101, 57));
        assert!(
            py_frame == rs_frame,
            "same frame {:?}, different pixels",
            frame_no(&py_said)
        );
        // --wait (the polling fallback) takes the next frame, not this one.
        let seen: u64 = frame_no(&py_said)
            .and_then(|n| n.parse().ok())
            .expect("frame number");
        let next = std::process::Command::new("python3")
            .arg(script)
            .args(["--name", "py", "--wait", "5", "--out"])
            .arg(&py_out)
            .env("XDG_RUNTIME_DIR", rt.xdg())
            .output()
            .expect("python3 runs");
        let said = String::from_utf8_lossy(&next.stdout).into_owned();
        assert!(next.status.success(), "read_frame.py --wait failed: {said}");
        let got: u64 = frame_no(&said)
            .and_then(|n| n.parse().ok())
            .expect("frame number");
        assert!(got > seen, "waited for a newer frame: {seen} then {got}");
        return;
    }
    panic!("never caught both readers on the same frame");
}

/// Paused, the demo publishes nothing (readers sleep); a param that changes
/// the picture publishes exactly one new frame at the same tick; and
/// `snapshot --wait` sleeps until the next publish (here, a step) instead
/// of taking the last frame, or says why it timed out.
#[test]
fn a_paused_engine_publishes_only_changes_and_snapshot_wait_takes_the_next_frame() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let _engine = rt.start("default", &["--fps", "60", "--size", "160x90"]);
    rt.advkit(&["send", "pause"]).ok();
    let reader = FrameReader::open(&rt.dir().join("default.frames")).expect("open");
    let paused_at = reader.latest_frame();
    let frames = rt.dir().join("default.frames");
    wait_loop_runs(&frames, Duration::from_millis(400));
    assert_eq!(
        reader.latest_frame(),
        paused_at,
        "paused: no frame published"
    );
    let mut buf = reader.buffer();
    let before = reader.read_latest(&mut buf).expect("read");
    let before_px = buf.as_slice().to_vec();

    rt.advkit(&["send", "set", "show_grid", "true"]).ok();
    let redrawn = reader
        .wait_next(paused_at, Duration::from_secs(5))
        .expect("the changed picture is published");
    wait_loop_runs(&frames, Duration::from_millis(300));
    assert_eq!(reader.latest_frame(), redrawn, "exactly one new frame");
    let after = reader.read_latest(&mut buf).expect("read");
    assert_eq!(after.tick, before.tick, "the same tick, drawn again");
    assert_ne!(buf.as_slice(), &before_px[..], "with the grid on");

    let never = dir.path("never.png").display().to_string();
    let err = rt
        .advkit(&["snapshot", "--wait", "0.3", "--out", &never])
        .fails_with(1);
    assert!(err.contains("timed out") && err.contains("resume"), "{err}");

    let out = dir.path("next.png");
    let waiting = {
        let args = vec![
            "snapshot".to_owned(),
            "--wait".to_owned(),
            "--out".to_owned(),
            out.display().to_string(),
        ];
        let xdg = rt.xdg().to_owned();
        std::thread::spawn(move || {
            crate::util::advkit_env(&[("XDG_RUNTIME_DIR", xdg.to_str())], &args).ok()
        })
    };
    // Let the snapshot fall asleep on the region, then step once.
    wait_until("snapshot --wait to sleep on the region", || {
        waiters(&rt.dir().join("default.frames")) > 0
    });
    rt.advkit(&["send", "step", "1"]).ok();
    let said = waiting.join().expect("snapshot thread");
    assert!(
        said.contains(&format!("tick {}", after.tick + 1)),
        "the stepped frame: {said}"
    );
}

/// `advkit run --paused` stops before the first update (tick 0), so a
/// live engine lines up with a headless run from the start: stepped once it
/// matches walk_tile's first golden (tick 1), and stepped N times it shows
/// exactly what `advkit render --ticks N` draws.
#[test]
fn run_paused_lines_up_with_goldens_and_with_render() {
    let rt = Runtime::new();
    let _engine = rt.start("game", &["--set", "autopilot=off", "--paused"]);
    let golden = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/golden/walk_tile/start.png"
    );
    let dir = Dir::new();
    let start_png = dir.path("start.png").display().to_string();
    let at_start = rt
        .advkit(&["snapshot", "--name", "game", "--out", &start_png])
        .ok();
    assert!(at_start.contains("tick 0 "), "{at_start}");
    rt.advkit(&["send", "--name", "game", "step"]).ok();
    let said = rt
        .advkit(&["snapshot", "--name", "game", "--compare", golden])
        .ok();
    assert!(
        said.contains("tick 1 ") && said.contains("matches"),
        "{said}"
    );

    rt.advkit(&["send", "--name", "game", "step", "9"]).ok();
    let live_png = dir.path("live.png").display().to_string();
    let live = rt
        .advkit(&["snapshot", "--name", "game", "--out", &live_png])
        .ok();
    let out = dir.path("r.png").display().to_string();
    let headless = crate::util::advkit(&[
        "render",
        "--ticks",
        "10",
        "--set",
        "autopilot=off",
        "--out",
        &out,
    ])
    .ok();
    let hash = |s: &str| s.split("hash ").nth(1).map(|h| h[..16].to_owned());
    assert!(live.contains("tick 10 "), "{live}");
    assert_eq!(
        hash(&live),
        hash(&headless),
        "live {live} vs render {headless}"
    );
}

/// The files `S` in the inspector (`advkit-NAME-tickN.png`) and
/// `snapshot --compare` (`advkit-snapshot.diff.png`) leave in the working
/// directory are ignored by git, so they never end up in a commit.
#[test]
fn files_the_tools_drop_in_the_working_directory_are_git_ignored() {
    let root = env!("CARGO_MANIFEST_DIR");
    let Ok(out) = std::process::Command::new("git")
        .args(["-C", root, "check-ignore", "advkit-default-tick5.png"])
        .arg("advkit-snapshot.diff.png")
        .output()
    else {
        return; // no git here: nothing to commit them into either
    };
    if out.status.code() == Some(128) {
        return; // not a git checkout (an unpacked archive)
    }
    let listed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listed.lines().count(), 2, "not ignored: {listed}");
}

/// A FIFO planted as `<name>.frames` used to hang `ls` and `snapshot` in
/// `open` for ever, and `run` too, while it held the directory lock so no
/// other engine could start. Each now answers at once (issue 13).
#[test]
fn a_fifo_named_like_a_region_hangs_nothing() {
    let rt = Runtime::new();
    drop(rt.start("real", &["--size", "64x32"])); // makes the runtime directory
    let fifo = rt.dir().join("f.frames");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let started = Instant::now();
    let dir = Dir::new();
    let out = dir.path("x.png").display().to_string();
    let err = rt
        .advkit(&["snapshot", "--name", "f", "--out", &out])
        .fails_with(1);
    assert!(err.contains("not a regular file"), "{err}");
    let ls = rt.advkit(&["ls"]).ok();
    assert!(ls.contains("not a regular file"), "{ls}");
    let err = rt.advkit(&["run", "--name", "f"]).fails_with(1);
    assert!(
        err.contains("is not a regular file") && err.contains("remove it"),
        "{err}"
    );
    // And the directory lock was let go: another engine starts.
    let _other = rt.start("other", &["--size", "64x32"]);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn an_engine_survives_its_region_being_truncated_and_makes_it_anew() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let engine = rt.start("cut", &["--fps", "60", "--size", "160x90"]);
    let before = FrameReader::open(&engine.frames).expect("open");
    let session = before.info().session_id;
    // What `truncate -s 100` does, while the engine draws at 60 fps.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&engine.frames)
        .expect("open")
        .set_len(100)
        .expect("truncate");

    // It used to die of SIGBUS here, leaving a broken region and a stale
    // socket. Now it answers, and its region is back with a new session.
    let deadline = Instant::now() + Duration::from_secs(10);
    let fresh = loop {
        if let Ok(r) = FrameReader::open(&engine.frames)
            && r.info().session_id != session
            && r.latest_frame() > 0
        {
            break r;
        }
        assert!(Instant::now() < deadline, "no new region");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(fresh.info().pid, engine.pid());
    let out = dir.path("after.png").display().to_string();
    rt.advkit(&["snapshot", "--name", "cut", "--out", &out])
        .ok();
    let said = rt.advkit(&["send", "--name", "cut", "stats"]).ok();
    assert!(said.contains("tick"), "{said}");
    let ls = rt.advkit(&["ls"]).ok();
    assert!(
        ls.lines()
            .any(|l| l.starts_with("cut") && l.ends_with("running")),
        "{ls}"
    );
    // The old reader was told, not crashed.
    let mut buf = before.buffer();
    assert!(before.read_latest(&mut buf).is_err() || before.is_replaced());

    engine.signal("-TERM");
    let (status, stderr) = engine.wait();
    assert!(status.success(), "a clean stop afterwards: {stderr}");
    assert!(
        stderr.contains("was truncated by another process; made it anew"),
        "{stderr}"
    );
}

/// Waits until the region at `path` is a new one (not `session`) of the
/// engine `pid` with a frame out.
fn wait_for_new_region(path: &Path, session: u64, pid: u32) -> FrameReader {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(r) = FrameReader::open(path)
            && r.info().session_id != session
            && r.info().pid == pid
            && r.latest_frame() > 0
        {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "no new region at {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_engine_remakes_its_region_when_the_file_is_deleted_or_replaced_by_a_fifo() {
    let rt = Runtime::new();
    let dir = Dir::new();
    let engine = rt.start("keep", &["--fps", "60", "--size", "160x90"]);
    let session = FrameReader::open(&engine.frames)
        .expect("open")
        .info()
        .session_id;
    // Deleted: it kept publishing into the unlinked file, and `ls` and
    // `snapshot` called the live engine not running.
    std::fs::remove_file(&engine.frames).expect("rm");
    let fresh = wait_for_new_region(&engine.frames, session, engine.pid());
    let out = dir.path("a.png").display().to_string();
    rt.advkit(&["snapshot", "--name", "keep", "--out", &out])
        .ok();
    // Replaced by a FIFO.
    std::fs::remove_file(&engine.frames).expect("rm");
    let made = std::process::Command::new("mkfifo")
        .arg(&engine.frames)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    wait_for_new_region(&engine.frames, fresh.info().session_id, engine.pid());
    rt.advkit(&["snapshot", "--name", "keep", "--out", &out])
        .ok();
    let ls = rt.advkit(&["ls"]).ok();
    assert!(
        ls.lines()
            .any(|l| l.starts_with("keep") && l.ends_with("running")),
        "{ls}"
    );
    engine.signal("-TERM");
    let (status, stderr) = engine.wait();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("was deleted or replaced by another process; made it anew"),
        "{stderr}"
    );
}

#[test]
fn a_name_taken_while_an_engines_region_was_gone_is_not_taken_back_nor_its_files_removed() {
    let rt = Runtime::new();
    let first = rt.start("twin", &["--fps", "30"]);
    // Stopped, its file deleted: the name is free, and a second engine
    // takes it (region, socket).
    first.signal("-STOP");
    std::fs::remove_file(&first.frames).expect("rm");
    let second = rt.start("twin", &["--fps", "30"]);
    first.signal("-CONT");
    // The first sees another live engine under its name and leaves it be;
    // the second keeps answering.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let said = rt
            .advkit(&["send", "--name", "twin", "hello", "--json"])
            .ok();
        assert!(
            said.contains(&format!("\"pid\":{}", second.pid())),
            "the second answers: {said}"
        );
        let r = FrameReader::open(&second.frames).expect("the second's region");
        assert_eq!(r.info().pid, second.pid(), "not taken back");
        if Instant::now() > deadline - Duration::from_secs(8) {
            break; // two seconds: the first has looked more than once
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // When the first exits it removes none of the second's files.
    first.signal("-TERM");
    let (status, stderr) = first.wait();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("engine pid {} has taken its name", second.pid())),
        "{stderr}"
    );
    for ext in ["frames", "sock"] {
        assert!(rt.dir().join(format!("twin.{ext}")).exists(), "twin.{ext}");
    }
    let said = rt.advkit(&["send", "--name", "twin", "stats"]).ok();
    assert!(said.contains("tick"), "{said}");
}

#[test]
fn a_runtime_directory_on_a_disk_is_warned_about_once() {
    // One directory on a disk (cargo's target dir) and one in memory; which
    // is which is asked of `stat -f`, not of advkit.
    let parents = [
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        Path::new("/dev/shm"),
    ];
    let mut warned_on_disk = 0;
    for parent in parents.into_iter().filter(|p| p.is_dir()) {
        let rt = Runtime::in_dir(parent);
        let engine = rt.start("disk", &[]);
        let fs = std::process::Command::new("stat")
            .args(["-f", "-c", "%T"])
            .arg(rt.xdg())
            .output()
            .expect("stat -f");
        let fs = String::from_utf8_lossy(&fs.stdout).trim().to_owned();
        engine.signal("-TERM");
        let (_, stderr) = engine.wait();
        let in_memory = matches!(fs.as_str(), "tmpfs" | "ramfs");
        let warnings = stderr.matches("is on a disk, not in memory").count();
        assert_eq!(
            warnings,
            usize::from(!in_memory),
            "{} on {fs}:\n{stderr}",
            rt.dir().display()
        );
        if !in_memory {
            assert!(
                stderr.contains(&rt.dir().display().to_string())
                    && stderr.contains("XDG_RUNTIME_DIR"),
                "{stderr}"
            );
            warned_on_disk += 1;
        }
    }
    assert!(
        warned_on_disk > 0 || std::env::var_os("CI").is_none(),
        "cargo's target directory is on a disk on every machine we run CI on"
    );
}

#[test]
fn ls_tells_a_stopped_engine_from_a_dead_one_and_prune_removes_only_the_dead() {
    let rt = Runtime::new();
    let stopped = rt.start("stopped", &[]);
    let killed = rt.start("killed", &[]);
    let hup = rt.start("hup", &[]);
    std::fs::write(rt.dir().join("junk.frames"), b"not ours").expect("write");

    // SIGHUP (a closed terminal or tmux pane) cleans up like SIGTERM.
    hup.signal("-HUP");
    let (status, stderr) = hup.wait();
    assert!(status.success(), "{stderr}");
    for ext in ["frames", "sock"] {
        assert!(
            !rt.dir().join(format!("hup.{ext}")).exists(),
            "hup.{ext} removed"
        );
    }

    killed.signal("-KILL");
    stopped.signal("-STOP");
    // Its heartbeat goes silent: "not responding" after a second.
    let mut ls = String::new();
    wait_until("ls to call the stopped engine not responding", || {
        ls = rt.advkit(&["ls"]).ok();
        ls.lines()
            .any(|l| l.starts_with("stopped") && l.contains("not responding"))
    });
    let line = |name: &str| {
        ls.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} listed:\n{ls}"))
            .to_owned()
    };
    let pid = stopped.pid().to_string();
    let s = line("stopped");
    assert!(
        s.contains("not responding") && s.contains(&format!("kill -CONT {pid}")),
        "{s}"
    );
    assert!(!s.contains("replaces it"), "run cannot replace it: {s}");
    // `send` says the same at once, with the pid, instead of waiting for
    // a reply that cannot come (it waited 15 s, then said "no reply").
    let err = rt
        .advkit(&["send", "--name", "stopped", "stats"])
        .fails_with(2);
    assert!(
        err.contains(&format!("engine stopped (pid {pid}) is not responding"))
            && err.contains(&format!("kill -CONT {pid}")),
        "{err}"
    );
    let k = line("killed");
    assert!(
        k.contains("stale") && k.contains("advkit ls --prune"),
        "{k}"
    );

    let pruned = rt.advkit(&["ls", "--prune"]);
    let said = pruned.stderr();
    assert!(
        said.contains("killed.frames") && said.contains("killed.sock"),
        "{said}"
    );
    assert!(
        !said.contains("stopped") && !said.contains("junk"),
        "{said}"
    );
    let ls = pruned.ok();
    assert!(!ls.contains("killed"), "{ls}");
    assert!(ls.contains("stopped") && ls.contains("junk"), "{ls}");
    assert!(rt.dir().join("stopped.sock").exists());

    // Resumed, it beats again within its 100 ms wait slice.
    stopped.signal("-CONT");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ls = rt.advkit(&["ls"]).ok();
        if ls
            .lines()
            .any(|l| l.starts_with("stopped") && l.ends_with("running"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still not running:
{ls}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let again = rt.advkit(&["ls", "--prune"]);
    assert!(
        again.stderr().contains("nothing to prune"),
        "{}",
        again.stderr()
    );
}
