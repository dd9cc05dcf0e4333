"""The binding against real engines: a Python host answering real clients,
the Python client driving the Rust demo, frames read back and compared
with `advkit snapshot`, and a Python game stopped with Ctrl-C."""

import array
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib

import pytest

import advkit
from conftest import ROOT, Process, advkit_bin, run_advkit, wait_for

W, H = 32, 8


def pattern(seed):
    return bytes((i * 7 + seed) % 251 for i in range(W * H * 4))


def serve_while(host, work, handler):
    """Runs `work()` on a thread (clients there) while this thread serves
    the host; returns what `work` returned."""
    result = {}

    def run():
        try:
            result["value"] = work()
        except BaseException as e:  # handed back to the test thread
            result["error"] = e

    t = threading.Thread(target=run)
    t.start()
    while t.is_alive():
        host.serve(handler, time.monotonic() + 0.02)
    t.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def jump_host(name="pyhost"):
    return advkit.Host(
        name, W, H,
        params=[advkit.Param.int("speed", 1, 8, 2, unit="px", description="How fast"),
                advkit.Param.choice("mode", ["a", "b"], "a")],
        methods=[advkit.Method("bar.jump", "Move the bar", [
            advkit.Arg("x", "integer", "where", required=True, min=0, max=31)])],
        engine="pytest host")


def test_a_python_host_answers_its_method_and_bad_params_never_reach_it(runtime):
    seen = []

    def handler(req):
        seen.append((req.method, req.params))
        return {"x": req.params["x"]}

    with jump_host() as host:
        def work():
            c = advkit.Client("pyhost")
            hello = c.call("hello")
            ok = c.call("bar.jump", {"x": 7})
            with pytest.raises(advkit.RpcError) as bad:
                c.call("bar.jump", {"x": 99})
            with pytest.raises(advkit.RpcError) as missing:
                c.call("bar.jump", {})
            with pytest.raises(advkit.RpcError) as param:
                c.set(speed=20)
            changed = c.set(speed=5, mode="b")
            return hello, ok, bad.value, missing.value, param.value, changed

        hello, ok, bad, missing, param, changed = serve_while(host, work, handler)
        assert "bar.jump" in hello["methods"]
        assert hello["engine"] == "pytest host"
        assert ok == {"x": 7}
        assert bad.code == -32602 and "from 0 to 31" in bad.message, bad
        assert missing.code == -32602 and "x" in missing.message
        assert param.code == -32602 and "speed" in param.message
        assert seen == [("bar.jump", {"x": 7})], "bad params never reached Python"
        assert changed["values"]["speed"] == 5
        assert host.params == {"speed": 5, "mode": "b"}
    assert not os.path.exists(runtime / "pyhost.sock"), "closing removes the files"


def test_publish_takes_bytes_bytearray_memoryview_and_arrays(runtime):
    with jump_host() as host:
        reader = advkit.FrameReader("pyhost")
        kinds = [bytes, bytearray, memoryview, lambda b: array.array("B", b)]
        for n, kind in enumerate(kinds, start=1):
            px = pattern(n)
            assert host.publish(10 + n, kind(px)) == n
            f = reader.read_latest()
            assert (f.frame, f.tick, f.width, f.height) == (n, 10 + n, W, H)
            assert f.pixels == px
        with pytest.raises(ValueError, match="hold 256 bytes, but a 32x8 RGBA frame is 1024"):
            host.publish(1, b"\0" * 256)
        with pytest.raises(TypeError, match="buffer of bytes"):
            host.publish(1, [0] * (W * H * 4))
        with pytest.raises(ValueError, match="C-contiguous"):
            host.publish(1, memoryview(pattern(0) * 2)[::2])


def test_publish_copies_a_frame_whose_rows_the_region_pads(runtime):
    """3 pixels wide: 12-byte rows, padded to 64 in the region. The buffer
    protocol copies the frame (never a slice over memory another thread
    may be writing), then the rows go into place."""
    w, h = 3, 2
    px = bytes(range(w * h * 4))
    with advkit.Host("narrow", w, h, handle_signals=False) as host:
        reader = advkit.FrameReader("narrow")
        assert host.publish(5, bytearray(px)) == 1
        f = reader.read_latest()
        assert (f.tick, f.width, f.height) == (5, w, h)
        assert f.pixels == px
        with pytest.raises(ValueError, match="3x2 RGBA frame is 24"):
            host.publish(6, px[:-4])


def test_an_exception_in_a_handler_is_a_32603_reply_and_the_host_keeps_serving(runtime, capsys):
    def handler(req):
        if req.params["x"] == 13:
            raise RuntimeError("unlucky")
        return {"x": req.params["x"]}

    with jump_host() as host:
        def work():
            c = advkit.Client("pyhost")
            with pytest.raises(advkit.RpcError) as e:
                c.call("bar.jump", {"x": 13})
            return e.value, c.call("bar.jump", {"x": 3})

        err, after = serve_while(host, work, handler)
        assert err.code == -32603 and "unlucky" in err.message, err
        assert after == {"x": 3}
        assert host.running
    assert "RuntimeError: unlucky" in capsys.readouterr().err, "the traceback is printed"


def test_requests_iterator_gives_requests_to_answer_and_drops_become_32603(runtime):
    with jump_host() as host:
        def work():
            c = advkit.Client("pyhost")
            first = c.call("bar.jump", {"x": 1})
            with pytest.raises(advkit.RpcError) as dropped:
                c.call("bar.jump", {"x": 2})
            return first, dropped.value

        answered = []
        result = {}
        t = threading.Thread(target=lambda: result.update(v=work()))
        t.start()
        while t.is_alive():
            for req in host.requests(time.monotonic() + 0.02):
                if req.params["x"] == 1:
                    req.reply({"ok": True})
                    answered.append(req.answered)
                # x == 2: never answered; letting it go answers -32603
                del req
        t.join()
        first, dropped = result["v"]
        assert first == {"ok": True} and answered == [True]
        assert dropped.code == -32603


def test_the_python_client_drives_the_rust_demo(runtime, demo):
    c = advkit.Client("demo")
    events = c.events(["engine"], timeout=5)
    assert c.call("hello")["engine"].startswith("advkit")
    speed = c.get("walk_speed")["walk_speed"]
    c.set(walk_speed=speed + 0.5)
    assert c.get("walk_speed")["walk_speed"] == speed + 0.5
    with pytest.raises(advkit.RpcError) as e:
        c.set(walk_speed=-3)
    assert e.value.code == -32602 and "walk_speed" in e.value.message
    paused = c.call("engine.pause")
    stepped = c.call("engine.step", {"count": 2})
    assert stepped["tick"] == paused["tick"] + 2
    names = []
    for ev in events:
        names.append(ev["event"])
        if ev["event"] == "stepped":
            break
    assert "paused" in names and names[-1] == "stepped", names
    with pytest.raises(advkit.RpcError) as fresh:
        c.call("engine.reboot", {"keep_progress": False})
    assert fresh.value.code == -32003 and "tile" in fresh.value.data["would_lose"]


def test_errors_name_what_is_wrong(runtime):
    with pytest.raises(advkit.NotRunning, match="is `advkit run` running"):
        advkit.Client("nobody")
    with pytest.raises(advkit.NotRunning, match="not running"):
        advkit.FrameReader("nobody")
    with pytest.raises(ValueError):
        advkit.Client("../evil")
    with pytest.raises(ValueError, match="min <= default <= max"):
        advkit.Param.int("speed", 1, 8, 9)
    with pytest.raises(ValueError, match="not one of string"):
        advkit.Arg("x", "int")
    with jump_host():
        with pytest.raises(advkit.AdvkitError, match="already running"):
            jump_host()


def decode_png(path):
    """8-bit RGBA, non-interlaced PNG (what advkit writes) to raw bytes."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert (depth, color) == (8, 6), "RGBA8"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, out = zlib.decompress(idat), width * 4, bytearray()
    prev = bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 4] if i >= 4 else 0
            b = prev[i]
            c = prev[i - 4] if i >= 4 else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        out += line
        prev = line
    return width, height, bytes(out)


def test_frame_reader_pixels_equal_advkit_snapshot(runtime, demo, tmp_path):
    run_advkit("send", "--name", "demo", "pause")
    reader = advkit.FrameReader("demo")
    frame = reader.read_latest()
    png = tmp_path / "snap.png"
    said = run_advkit("snapshot", "--name", "demo", "--out", str(png)).stdout
    assert " frame %d " % frame.frame in said, said
    assert decode_png(png) == (160, 90, frame.pixels)
    # wait_next sleeps until the next publish: a step.
    stepper = threading.Timer(0.2, lambda: run_advkit("send", "--name", "demo", "step", "1"))
    stepper.start()
    nxt = reader.wait_next(5.0)
    stepper.join()
    assert nxt is not None and nxt.tick == frame.tick + 1
    assert reader.wait_next(0.2) is None, "paused: nothing new"


def test_life_py_is_an_engine_that_send_and_snapshot_work_on(runtime, life, tmp_path):
    out = run_advkit("send", "--name", "pylife", "set", "palette", "amber").stdout
    assert "palette = amber" in out, out
    c = advkit.Client("pylife")
    assert c.get("palette") == {"palette": "amber"}
    assert c.call("life.toggle", {"x": 3, "y": 4}) in ({"alive": True}, {"alive": False})
    bad = run_advkit("send", "--name", "pylife", "call", "life.toggle", '{"x": 99, "y": 0}',
                     check=False)
    assert bad.returncode == 1 and "from 0 to 79" in bad.stderr, bad.stderr
    png = tmp_path / "life.png"
    run_advkit("snapshot", "--name", "pylife", "--wait", "--out", str(png))
    width, height, px = decode_png(png)
    assert (width, height) == (160, 120)
    amber = bytes((255, 176, 0, 255))
    assert any(px[i:i + 4] == amber for i in range(0, len(px), 4)), "live cells are amber"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
@pytest.mark.parametrize("command", ["cargo-built", "from the venv"])
def test_advkit_inspect_shows_the_python_game(runtime, life, tmp_path, command):
    """`advkit inspect` on a Python game, with the binary cargo built and
    with the command `pip install` put in the venv's bin/ (nothing else)."""
    exe = (advkit_bin() if command == "cargo-built"
           else os.path.join(os.path.dirname(sys.executable), "advkit"))
    # A tmux server of this test's own: one shared with other tests could
    # end under it.
    tmux = ["tmux", "-S", str(tmp_path / "tmux.sock")]
    cmd = "XDG_RUNTIME_DIR=%s %s inspect --name pylife" % (os.environ["XDG_RUNTIME_DIR"], exe)
    subprocess.run([*tmux, "new-session", "-d", "-s", "inspect", "-x", "120", "-y", "40", cmd],
                   check=True)
    try:
        deadline, screen = time.monotonic() + 15, ""
        while time.monotonic() < deadline:
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "inspect"],
                                    capture_output=True, text=True).stdout
            if "generation_ticks" in screen and "connected" in screen:
                break
            time.sleep(0.1)
        assert "pylife 160x120" in screen, screen
        assert "generation_ticks" in screen and "palette" in screen, screen
        assert "life.py (Python example)" in screen, screen
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)


def test_ctrl_c_in_the_python_game_removes_its_files(runtime, life):
    wait_for(runtime / "pylife.frames")
    code = life.stop(signal.SIGINT)
    assert code in (0, 130), code
    left = sorted(os.listdir(runtime))
    assert left == [], "files left behind: %s" % left
    assert ROOT.exists()


NOISY_GAME = '''
import random
import time

import advkit

W, H = 32, 16
host = advkit.Host("noisy", W, H, fps=60.0, engine="noisy (unseeded randomness)")


def frame():
    shade = random.randrange(256)  # never seeded: no two runs alike
    return bytes((shade, shade, shade, 255)) * (W * H)


tick = 0
with host:
    host.publish(tick, frame())
    deadline = time.monotonic()
    while host.running:
        host.serve(lambda req: req.error(-32601, "no methods"), deadline)
        due = host.ticks_due()
        tick += due
        if due:
            host.publish(tick, frame())
        deadline = host.next_deadline(deadline)
'''


def test_record_fails_when_two_replays_of_a_game_disagree(runtime, spawn, tmp_path):
    """A game that reads unseeded randomness is recorded, and the recorder
    says its replays disagree with each other, not only with the session,
    and exits 1: a script must not take it for a recording that replays."""
    script = tmp_path / "noisy.py"
    script.write_text(NOISY_GAME)
    env_paused = dict(os.environ, ADVKIT_PAUSED="1")
    game = subprocess.Popen([sys.executable, str(script)], env=env_paused,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(runtime / "noisy.sock")
        out = tmp_path / "scenarios" / "noisy.json"
        rec = subprocess.Popen([advkit_bin(), "record", "--name", "noisy", "--yes",
                                "--ticks", "20", "--out", str(out),
                                "--golden-dir", str(tmp_path / "golden")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = rec.stderr.readline()  # "recording …": it has its start
        assert first.startswith("recording "), first
        run_advkit("send", "--name", "noisy", "resume")
        stdout, stderr = rec.communicate(timeout=60)
        stderr = first + stderr
        assert rec.returncode == 1, stdout + stderr
        assert "recorded 20 tick(s)" in stdout, stdout + stderr
        assert "two headless replays of the recording disagree with each other" in stderr, \
            stdout + stderr
        assert "not deterministic" in stderr, stderr
        assert "did not verify (nondeterministic)" in stderr, stderr
    finally:
        game.terminate()
        game.wait(timeout=10)



UNSEEDED_SAVING_GAME = '''
import random
import time

import advkit

W, H = 16, 8
host = advkit.Host("unseeded", W, H, fps=60.0, paused=True,
                   standard=["world.save", "world.load"], engine="unseeded (saves its state)")
state = {"tick": 0, "shade": 0}


def handle(req):
    if req.method == "world.save":
        return {"tick": state["tick"], "state": dict(state)}
    if req.method == "world.load":
        state.update(req.params["state"])
        return {"tick": state["tick"]}
    req.error(-32601, "unknown method %s" % req.method)


def frame():
    return bytes((state["shade"], 0, 0, 255)) * (W * H)


with host:
    host.publish(0, frame())
    deadline = time.monotonic()
    while host.running:
        changed = host.serve(handle, deadline) > 0
        for _ in range(host.ticks_due()):
            state["tick"] += 1
            state["shade"] = random.randrange(256)  # never seeded
            changed = True
        if changed:
            host.publish(state["tick"], frame())
        deadline = host.next_deadline(deadline)
'''


def test_seek_in_a_game_with_unseeded_random_says_it_is_not_deterministic(runtime, tmp_path):
    """The history replays the past and compares every frame with the one
    shown live: a game that reads unseeded randomness is caught, with the
    first tick that differs, and the engine stays where it was."""
    script = tmp_path / "unseeded.py"
    script.write_text(UNSEEDED_SAVING_GAME)
    game = subprocess.Popen([sys.executable, str(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(runtime / "unseeded.sock")
        client = advkit.Client("unseeded")
        for _ in range(30):
            client.call("engine.step", {"count": 1})
        history = client.call("engine.history")
        assert history["newest"] == 30, history
        with pytest.raises(advkit.RpcError) as err:
            client.call("engine.seek", {"tick": 20})
        e = err.value
        assert e.code == -32011, e
        assert "not deterministic" in str(e), e
        keyframe = max(k for k in history["keyframes"] if k < 20)
        # A shade drawn again at random can match by chance (1 in 256).
        assert keyframe < e.data["tick"] <= 20, (e.data, history)
        assert client.call("engine.stats")["tick"] == 30, "it stays where it was"
    finally:
        game.terminate()
        game.wait(timeout=10)


def test_life_py_rewinds_to_the_frame_it_showed(runtime, life, tmp_path):
    """examples/python/life.py answers world.save and world.load: a seek
    back shows the very frame shown live then."""
    client = advkit.Client("pylife")
    client.call("engine.pause")
    client.call("engine.step", {"count": 10})
    before = client.call("frame.snapshot")
    client.call("engine.step", {"count": 1})
    client.call("life.toggle", {"x": 1, "y": 1})
    client.call("engine.step", {"count": 20})
    r = client.call("engine.seek", {"by": -21})
    # Replayed from an earlier keyframe, every frame is checked against the
    # live ones; landing on a keyframe itself (keyframes are taken by the
    # clock: on a loaded machine one can fall on tick 10) replays nothing.
    assert r["tick"] == before["tick"], r
    assert r["verified"] or r["simulated"] == 0, r
    assert client.call("frame.snapshot")["hash"] == before["hash"]


def test_a_recording_made_in_an_activated_venv_replays(runtime, tmp_path, monkeypatch):
    """`python life.py` run from an activated virtual environment, in the
    repository (where ./python is the binding's directory): the recording
    names the venv's interpreter, found on the game's PATH, and replays."""
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    monkeypatch.chdir(ROOT)
    script = ROOT / "examples" / "python" / "life.py"
    game = Process(["python", str(script)], runtime / "pylife.sock")
    try:
        out = tmp_path / "scenarios" / "venv.json"
        run_advkit("record", "--name", "pylife", "--yes", "--ticks", "10", "--out", str(out),
                   "--golden-dir", str(tmp_path / "golden"), timeout=120)
        scenario = json.loads(out.read_text())
        program = scenario["engine"]["command"][0]
        assert program != "./python" and program.endswith("/python"), scenario["engine"]
        assert os.path.samefile(program, os.path.join(os.path.dirname(sys.executable), "python"))
        checked = run_advkit("golden", "check", str(tmp_path / "scenarios"),
                             "--golden-dir", str(tmp_path / "golden"),
                             "--artifacts", str(tmp_path / "out"), timeout=120)
        assert "0 failed scenario(s), 0 could not run" in checked.stdout, checked.stdout
    finally:
        game.stop()


SLOW_GAME = '''
import time

import advkit

W, H = 16, 8
host = advkit.Host("slow", W, H, fps=60.0, engine="slow (12 ms a tick)")
tick = 0
with host:
    host.publish(tick, bytes((0, 0, 0, 255)) * (W * H))
    deadline = time.monotonic()
    while host.running:
        host.serve(lambda req: req.error(-32601, "no methods"), deadline)
        due = host.ticks_due()
        for _ in range(due):
            time.sleep(0.012)  # a slow update
        tick += due
        if due:
            shade = tick % 256
            host.publish(tick, bytes((shade, shade, shade, 255)) * (W * H))
        deadline = host.next_deadline(deadline)
'''


def test_a_scenario_starting_after_minutes_of_a_slow_game_replays(tmp_path):
    """Replaying catches up `start_tick` ticks in steps the host answers
    within its 10 s: at 12 ms a tick, one step of all 1,000 took 12 s."""
    script = tmp_path / "slow.py"
    script.write_text(SLOW_GAME)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "slow.json").write_text(json.dumps({
        "engine": {"command": [sys.executable, str(script)]},
        "size": "16x8",
        "start_tick": 1000,
        "captures": [{"name": "a", "tick": 1003}],
    }))
    args = ["golden", "check", str(tmp_path / "scenarios"), "--golden-dir",
            str(tmp_path / "golden"), "--artifacts", str(tmp_path / "out")]
    blessed = run_advkit(*args, "--update", timeout=120)
    assert "1 updated" in blessed.stdout, blessed.stdout + blessed.stderr
    checked = run_advkit(*args, timeout=120)
    assert "0 failed scenario(s), 0 could not run" in checked.stdout, checked.stdout


def test_check_names_a_nondeterministic_game_and_update_refuses_it(tmp_path, monkeypatch):
    """A game that draws unseeded noise: `--update` blesses nothing and
    says why; with a golden in place, `--retries 1` runs it again and calls
    it nondeterministic, with what each run found, instead of failed."""
    monkeypatch.delenv("CI", raising=False)  # a missing golden is pending, not a failure
    script = tmp_path / "noisy.py"
    script.write_text(NOISY_GAME.replace(
        "shade = random.randrange(256)  # never seeded: no two runs alike\n"
        "    return bytes((shade, shade, shade, 255)) * (W * H)",
        "return bytes(b if i % 4 else 255 for i, b in enumerate(random.randbytes(W * H * 4)))"))
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "noisy.json").write_text(json.dumps({
        "engine": {"command": [sys.executable, str(script)]},
        "size": "32x16",
        "captures": [{"name": "a", "tick": 3}],
    }))
    args = ["golden", "check", str(tmp_path / "scenarios"), "--golden-dir",
            str(tmp_path / "golden"), "--artifacts", str(tmp_path / "out")]
    refused = run_advkit(*args, "--update", check=False, timeout=120)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "nondeterministic" in refused.stdout and "nothing is blessed" in refused.stdout, \
        refused.stdout
    assert not (tmp_path / "golden" / "noisy" / "a.png").exists()
    # One run's frame as the golden (as if blessed before the game broke).
    run_advkit(*args, timeout=120)
    (tmp_path / "golden" / "noisy" / "a.new.png").rename(tmp_path / "golden" / "noisy" / "a.png")
    checked = run_advkit(*args, "--retries", "1", check=False, timeout=120)
    assert checked.returncode == 1, checked.stdout
    assert "NONDETERMINISTIC noisy: two runs drew other frames: the first failed a, " \
           "the second failed a" in checked.stdout, checked.stdout
    assert "(1 nondeterministic)" in checked.stdout, checked.stdout


def test_a_python_host_takes_tokens_by_tier_and_its_methods_say_theirs(runtime, tmp_path):
    files = {}
    for tier in ("observe", "drive"):
        f = tmp_path / (tier + ".token")
        f.write_text("%s-python-token-0123456789\n" % tier)
        f.chmod(0o600)
        files[tier] = f
    methods = [advkit.Method("bar.look", "Reads", read_only=True),
               advkit.Method("bar.kick", "Drives", tier="drive"),
               advkit.Method("bar.nuke", "Anything else: admin")]
    host = advkit.Host("tiered", 16, 16, methods=methods, tcp="127.0.0.1:0",
                       tokens={t: str(f) for t, f in files.items()}, handle_signals=False)
    try:
        addr = advkit.Client("tiered").call("hello")["tcp"]  # the server answers hello

        def work():
            out = {}
            for tier in ("observe", "drive"):
                c = advkit.Client("tiered", tcp=addr, token=files[tier].read_text())
                for m in ("bar.look", "bar.kick", "bar.nuke"):
                    try:
                        c.call(m)
                        out[(tier, m)] = "ok"
                    except advkit.RpcError as e:
                        out[(tier, m)] = (e.code, e.message)
            return out

        out = serve_while(host, work, lambda req: {"did": req.method})
        assert out[("observe", "bar.look")] == "ok"
        assert out[("observe", "bar.kick")][0] == -32012
        assert "needs a token of tier drive" in out[("observe", "bar.kick")][1]
        assert out[("drive", "bar.kick")] == "ok"
        assert out[("drive", "bar.nuke")][0] == -32012
        assert "this connection's is drive" in out[("drive", "bar.nuke")][1]
        tiers = {m["name"]: m["tier"] for m in
                 advkit.Client("tiered").call("rpc.discover")["methods"]}
        assert (tiers["bar.look"], tiers["bar.kick"], tiers["bar.nuke"]) == \
            ("observe", "drive", "admin")
    finally:
        host.close()
    (tmp_path / "loose.token").write_text("loose-python-token-0123456789\n")
    (tmp_path / "loose.token").chmod(0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        advkit.Host("loose", 16, 16, tcp="127.0.0.1:0",
                    tokens={"admin": str(tmp_path / "loose.token")})
    with pytest.raises(ValueError, match="unknown tier"):
        advkit.Method("x.y", "bad tier", tier="boss")
