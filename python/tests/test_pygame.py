"""`python -m advkit.pygame`: pygame's own examples, unmodified, as
engines (issue 28). Skipped where pygame-ce is not installed."""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import advkit
from conftest import advkit_bin, run_advkit, wait_for

pygame = pytest.importorskip("pygame")
EXAMPLES = os.path.join(os.path.dirname(pygame.__file__), "examples")


@pytest.fixture
def aliens(runtime, spawn):
    """pygame's aliens example under the adapter, paused before its
    first frame is let through."""
    p = spawn([sys.executable, "-m", "advkit.pygame", "--paused", "--seed", "7",
               os.path.join(EXAMPLES, "aliens.py")], runtime / "aliens.sock")
    wait_for(runtime / "aliens.frames")
    return p


def picture(reader):
    f = reader.read_latest()
    return f.tick, np.frombuffer(f.pixels, np.uint8).reshape(f.height, f.width, 4).astype(int)


def tank_x(img):
    """The middle of the player's tank: the grey-green pixels on the
    brown ground (rows 420 to 475)."""
    band = img[420:476]
    r, g = band[..., 0], band[..., 1]
    ys, xs = np.nonzero((abs(r - g) < 15) & (r > 40))
    assert len(xs) > 500, "no tank on the ground"
    return xs.mean()


def test_aliens_is_an_engine_that_steps_takes_keys_and_shuts_down(runtime, aliens):
    c = advkit.Client("aliens")
    hello = c.call("hello")
    assert (hello["frames"]["width"], hello["frames"]["height"]) == (640, 480)
    reader = advkit.FrameReader("aliens")
    c.call("engine.step", {"count": 5})
    tick, img = picture(reader)
    assert tick == 5, "the first frame (tick 0), then exactly 5 more"
    # The program's own picture: dark sky above, brown ground below, the
    # tank in the middle of it.
    sky, ground = img[200, 320], img[440, 600]
    assert sky[:3].max() < 80 and sky[2] > sky[1], sky
    assert ground[0] > ground[1] > ground[2], ground
    start = tank_x(img)
    assert abs(start - 320) < 40, start
    c.call("engine.input", {"button": "left", "action": "press"})
    c.call("engine.step", {"count": 20})
    tick, img = picture(reader)
    assert tick == 25
    moved = tank_x(img)
    assert moved < start - 100, (start, moved)
    c.call("engine.input", {"button": "left", "action": "release"})
    c.call("engine.step", {"count": 10})
    assert abs(tank_x(picture(reader)[1]) - moved) < 2, "released: it stops"
    with pytest.raises(advkit.RpcError, match="not a pygame key name"):
        c.call("engine.input", {"button": "nosuchkey"})
    c.call("engine.shutdown")
    assert aliens.proc.wait(timeout=10) == 0
    assert sorted(os.listdir(runtime)) == [], "shutdown removes the engine's files"


def test_the_same_seed_and_inputs_draw_the_same_frames(runtime, spawn):
    """With the virtual clock and the seeded random, two runs agree frame
    for frame (what recording and golden checks need)."""
    hashes = []
    for run in range(2):
        name = "aliens%d" % run
        p = spawn([sys.executable, "-m", "advkit.pygame", "--paused", "--seed", "3",
                   "--name", name, os.path.join(EXAMPLES, "aliens.py")],
                  runtime / (name + ".sock"))
        wait_for(runtime / (name + ".frames"))
        c = advkit.Client(name)
        reader = advkit.FrameReader(name)
        seen = []
        for n in range(12):
            if n == 4:
                c.call("engine.input", {"button": "right", "action": "press"})
            c.call("engine.step", {"count": 5})
            f = reader.read_latest()
            seen.append((f.tick, f.checksum))
        hashes.append(seen)
        c.call("engine.shutdown")
        p.proc.wait(timeout=10)
    assert hashes[0] == hashes[1]
    assert len({h for _, h in hashes[0]}) > 6, "the frames change"


def test_a_program_that_does_not_quit_is_ended_after_the_grace(runtime, spawn, tmp_path):
    stubborn = tmp_path / "stubborn.py"
    stubborn.write_text(
        "import pygame\n"
        "pygame.init()\n"
        "screen = pygame.display.set_mode((32, 16))\n"
        "while True:\n"
        "    pygame.event.get()  # QUIT ignored\n"
        "    screen.fill((200, 0, 0))\n"
        "    pygame.display.flip()\n")
    p = spawn([sys.executable, "-m", "advkit.pygame", str(stubborn)], runtime / "stubborn.sock")
    advkit.Client("stubborn").call("engine.shutdown")
    started = time.monotonic()
    assert p.proc.wait(timeout=15) == 0
    assert time.monotonic() - started < 6
    assert "did not quit" in p.proc.stderr.read()


def test_the_adapter_says_what_it_needs(runtime):
    out = subprocess.run([sys.executable, "-m", "advkit.pygame"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 2 and "give a script" in out.stderr, out
    out = subprocess.run([sys.executable, "-m", "advkit.pygame", "nosuch.py"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "no script nosuch.py" in out.stderr, out
    assert "Traceback" not in out.stderr, out


def record(project, name, ticks, drive):
    """`advkit record` of engine `name` for `ticks` ticks into the project
    `project` while `drive(client)` sends it input: its output, once it
    succeeded."""
    out = project / "fixtures" / "scenarios" / (name + ".json")
    out.parent.mkdir(parents=True)
    rec = subprocess.Popen([advkit_bin(), "record", "--name", name, "--yes", "--ticks",
                            str(ticks), "--out", str(out)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=project)
    try:
        assert rec.stderr.readline().startswith("recording "), "the recorder started"
        drive(advkit.Client(name))
        stdout, stderr = rec.communicate(timeout=120)
    finally:
        if rec.poll() is None:
            rec.kill()
    assert rec.returncode == 0, stdout + stderr
    return stdout


def test_a_recorded_session_of_aliens_replays_in_golden_check(runtime, spawn, tmp_path):
    """`advkit record` reboots aliens fresh (the program starts again in a
    fresh process, the recorder stays connected), keys are pressed while
    it records, and the recording replays bit for bit, in its own
    verification and in `golden check`."""
    p = spawn([sys.executable, "-m", "advkit.pygame", os.path.join(EXAMPLES, "aliens.py")],
              runtime / "aliens.sock")
    def drive(c):
        c.call("engine.input", {"button": "right", "action": "press"})
        time.sleep(0.3)
        c.call("engine.input", {"button": "right", "action": "release"})
        c.call("engine.input", {"button": "space", "action": "tap"})

    stdout = record(tmp_path, "aliens", 60, drive)
    assert "(3 request(s)" in stdout, stdout
    # (Frames published faster than the recorder read them, on a busy
    # machine, have no hash and are not compared; the recorder says how
    # many.)
    matched = re.search(r"replayed headless: all (\d+) recorded frame hash\(es\) match", stdout)
    assert matched and int(matched.group(1)) >= 30, stdout
    assert (tmp_path / "fixtures" / "golden" / "aliens" / "hashes.txt").is_file()
    # The live game may have ended by itself meanwhile (aliens does when
    # its tank is hit): the recording is what matters now.
    p.stop()
    checked = run_advkit("golden", "check", cwd=tmp_path, timeout=180)
    assert "0 failed scenario(s), 0 could not run, 0 pending" in checked.stdout, \
        checked.stdout + checked.stderr


def fist(img):
    """The middle of chimp's fist: its skin-coloured pixels."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    ys, xs = np.nonzero((r > 150) & (r > g + 20) & (g > b + 10))
    assert len(xs) > 500, "no fist"
    return xs.mean(), ys.mean()


def test_chimp_follows_the_pointer_advkit_moves_and_shuts_down(runtime, spawn):
    p = spawn([sys.executable, "-m", "advkit.pygame", "--paused",
               os.path.join(EXAMPLES, "chimp.py")], runtime / "chimp.sock")
    wait_for(runtime / "chimp.frames")
    c = advkit.Client("chimp")
    reader = advkit.FrameReader("chimp")
    c.call("pygame.mouse", {"x": 200, "y": 150})
    c.call("engine.step", {"count": 5})
    tick, img = picture(reader)
    assert tick == 5
    # The program's own picture: its green background and banner text.
    assert tuple(img[470, 1200][:3]) == (170, 238, 187), img[470, 1200]
    x1, y1 = fist(img)
    c.call("pygame.mouse", {"x": 900, "y": 300})
    c.call("engine.step", {"count": 5})
    x2, y2 = fist(picture(reader)[1])
    assert x2 - x1 > 500 and y2 - y1 > 40, ((x1, y1), (x2, y2))
    with pytest.raises(advkit.RpcError, match="from 0 to 1279"):
        c.call("pygame.mouse", {"x": 5000, "y": 10})
    c.call("engine.shutdown")
    assert p.proc.wait(timeout=10) == 0
    assert sorted(os.listdir(runtime)) == []


def test_a_recorded_session_of_chimp_with_the_mouse_replays(runtime, spawn, tmp_path):
    p = spawn([sys.executable, "-m", "advkit.pygame", os.path.join(EXAMPLES, "chimp.py")],
              runtime / "chimp.sock")
    def drive(c):
        c.call("pygame.mouse", {"x": 300, "y": 120})
        time.sleep(0.2)
        c.call("pygame.mouse", {"x": 320, "y": 130, "button": 1})  # a punch

    stdout = record(tmp_path, "chimp", 45, drive)
    assert "(2 request(s)" in stdout, stdout
    # The live game may have ended by itself meanwhile (aliens does when
    # its tank is hit): the recording is what matters now.
    p.stop()
    checked = run_advkit("golden", "check", cwd=tmp_path, timeout=180)
    assert "0 failed scenario(s), 0 could not run, 0 pending" in checked.stdout, \
        checked.stdout + checked.stderr


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_advkit_inspect_from_the_venv_shows_aliens_and_sends_it_keys(runtime, spawn, tmp_path):
    p = spawn([sys.executable, "-m", "advkit.pygame", "--paused",
               os.path.join(EXAMPLES, "aliens.py")], runtime / "aliens.sock")
    exe = os.path.join(os.path.dirname(sys.executable), "advkit")
    tmux = ["tmux", "-S", str(tmp_path / "tmux.sock")]
    cmd = "XDG_RUNTIME_DIR=%s %s inspect --name aliens" % (os.environ["XDG_RUNTIME_DIR"], exe)
    subprocess.run([*tmux, "new-session", "-d", "-s", "i", "-x", "80", "-y", "24", cmd],
                   check=True)

    def screen_with(text):
        deadline, screen = time.monotonic() + 15, ""
        while time.monotonic() < deadline:
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "i"],
                                    capture_output=True, text=True).stdout
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError("no %r on the screen:\n%s" % (text, screen))

    try:
        screen = screen_with("connected")
        assert "aliens" in screen and "fps" in screen, screen
        subprocess.run([*tmux, "send-keys", "-t", "i", "g"], check=True)
        screen_with("game focus")
        events = advkit.Client("aliens").events(["applied"], timeout=10)
        subprocess.run([*tmux, "send-keys", "-t", "i", "Left"], check=True)
        ev = next(events)
        assert ev["data"]["method"] == "engine.input", ev
        assert ev["data"]["params"]["button"] == "left", ev
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
        p.stop()


MOVER = '''
import pygame
import advkit.pygame

pygame.init()
screen = pygame.display.set_mode((64, 16))
x = 0
while True:
    if any(e.type == pygame.QUIT for e in pygame.event.get()):
        break
    x += advkit.pygame.param("speed", 1)  # 1 when run on its own
    screen.fill((0, 0, 0))
    pygame.draw.rect(screen, (255, 255, 255), (x % 60, 4, 4, 8))
    pygame.display.flip()
pygame.quit()
'''


def test_a_programs_own_params_from_a_file_are_tuned_live(runtime, spawn, tmp_path):
    script = tmp_path / "mover.py"
    script.write_text(MOVER)
    params = tmp_path / "params.json"
    params.write_text('[{"name": "speed", "type": "int", "min": 1, "max": 9, "default": 2, '
                      '"description": "pixels a frame"}]')
    p = spawn([sys.executable, "-m", "advkit.pygame", "--paused", "--params", str(params),
               str(script)], runtime / "mover.sock")
    wait_for(runtime / "mover.frames")
    c = advkit.Client("mover")
    reader = advkit.FrameReader("mover")

    def square_x():
        img = picture(reader)[1]
        return int(np.nonzero(img[8, :, 0] == 255)[0][0])

    assert c.get("speed") == {"speed": 2}
    c.call("engine.step", {"count": 3})
    assert square_x() == 2 * 4  # frames 0..3 at 2 pixels each
    c.set(speed=5)
    c.call("engine.step", {"count": 2})
    assert square_x() == 8 + 2 * 5
    with pytest.raises(advkit.RpcError, match="allowed 1 to 9"):
        c.set(speed=20)
    # The key names are in engine.input's schema.
    methods = {m["name"]: m for m in c.call("rpc.discover")["methods"]}
    assert "a pygame key name" in json.dumps(methods["engine.input"]), methods["engine.input"]
    c.call("engine.shutdown")
    assert p.proc.wait(timeout=10) == 0

    bad = tmp_path / "bad.json"
    bad.write_text('[{"name": "speed", "type": "int", "min": 9, "max": 1, "default": 2}]')
    out = subprocess.run([sys.executable, "-m", "advkit.pygame", "--params", str(bad),
                          str(script)], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "entry 0: speed: need min <= default <= max" in out.stderr, out


STARTS = '''
import os, sys, pygame
with open(sys.argv[1], "a") as f:
    f.write("%d %s\\n" % (os.getpid(), " ".join(sys.argv[1:])))
pygame.init()
screen = pygame.display.set_mode((32, 16))
while not any(e.type == pygame.QUIT for e in pygame.event.get()):
    screen.fill((0, 90, 0))
    pygame.display.flip()
'''


def test_reboot_starts_the_program_in_a_fresh_process_and_clients_stay_subscribed(
        runtime, spawn, tmp_path):
    script, starts = tmp_path / "starts.py", tmp_path / "starts.txt"
    script.write_text(STARTS)
    p = spawn([sys.executable, "-m", "advkit.pygame", "--paused", str(script), str(starts),
               "two words"], runtime / "starts.sock")
    wait_for(runtime / "starts.frames")
    c = advkit.Client("starts")
    ticks = advkit.Client("starts").events(["tick"], timeout=10)
    c.call("engine.step", {"count": 3})
    with pytest.raises(advkit.RpcError, match="confirm"):
        c.call("engine.reboot", {"keep_progress": False})
    reply = c.call("engine.reboot", {"keep_progress": False, "confirm": True})
    assert reply["tick"] == 3 and reply["progress"] == "discard", reply
    # The fresh program's first frame, then 2 more: the subscriber made
    # before the reboot sees their ticks on its same connection.
    deadline = time.monotonic() + 15
    while len(starts.read_text().splitlines()) < 2:
        assert time.monotonic() < deadline, "the program never started again"
        time.sleep(0.02)
    c.call("engine.step", {"count": 2})
    seen = set()
    for ev in ticks:
        seen.add(ev["tick"])
        if 5 in seen:
            break
    runs = [line.split(" ", 1) for line in starts.read_text().splitlines()]
    assert len(runs) == 2 and runs[0][0] != runs[1][0], "a new process: %s" % runs
    assert runs[0][1] == runs[1][1] == "%s two words" % starts, "the same arguments: %s" % runs
    assert c.call("hello")["name"] == "starts"
    c.call("engine.shutdown")
    assert p.proc.wait(timeout=10) == 0
    assert sorted(os.listdir(runtime)) == []


def test_with_mouse_keys_input_press_left_moves_chimps_fist(runtime, spawn):
    """chimp's fist follows the pointer: with --mouse-keys the arrows held
    move it, so `advkit send input press left` (and the inspector's game
    focus) drive a mouse game."""
    p = spawn([sys.executable, "-m", "advkit.pygame", "--paused", "--mouse-keys",
               os.path.join(EXAMPLES, "chimp.py")], runtime / "chimp.sock")
    wait_for(runtime / "chimp.frames")
    c = advkit.Client("chimp")
    reader = advkit.FrameReader("chimp")
    c.call("pygame.mouse", {"x": 900, "y": 200})
    c.call("engine.step", {"count": 3})
    x1, y1 = fist(picture(reader)[1])
    c.call("engine.input", {"button": "left", "action": "press"})
    c.call("engine.step", {"count": 40})
    c.call("engine.input", {"button": "left", "action": "release"})
    x2, y2 = fist(picture(reader)[1])
    assert x1 - x2 > 200 and abs(y2 - y1) < 20, ((x1, y1), (x2, y2))
    c.call("engine.step", {"count": 5})
    x3, _ = fist(picture(reader)[1])
    assert abs(x3 - x2) < 10, "released: the pointer stays"
    c.call("engine.shutdown")
    assert p.proc.wait(timeout=10) == 0


KEYLOG = '''
import json, sys, pygame
pygame.init()
screen = pygame.display.set_mode((16, 16))
log = open(sys.argv[1], "a")
while True:
    for e in pygame.event.get():
        if e.type == pygame.QUIT:
            sys.exit(0)
        if e.type in (pygame.KEYDOWN, pygame.KEYUP):
            log.write(json.dumps([pygame.event.event_name(e.type), e.key, e.scancode, e.mod,
                                  e.unicode, pygame.key.get_pressed()[e.key],
                                  pygame.key.get_mods()]) + "\\n")
        elif e.type == pygame.TEXTINPUT:
            log.write(json.dumps(["TextInput", e.text]) + "\\n")
    log.flush()
    pygame.display.flip()
'''


def test_keys_arrive_with_their_key_scancode_mod_unicode_and_text(runtime, spawn, tmp_path):
    script, log = tmp_path / "keylog.py", tmp_path / "keys.jsonl"
    script.write_text(KEYLOG)
    p = spawn([sys.executable, "-m", "advkit.pygame", "--paused", str(script), str(log)],
              runtime / "keylog.sock")
    wait_for(runtime / "keylog.frames")
    c = advkit.Client("keylog")
    for button, action in [("left shift", "press"), ("a", "tap"), ("left shift", "release"),
                           ("space", "tap")]:
        c.call("engine.input", {"button": button, "action": action})
        c.call("engine.step", {"count": 2})
    c.call("engine.shutdown")
    assert p.proc.wait(timeout=10) == 0
    seen = [json.loads(line) for line in log.read_text().splitlines()]
    shift = pygame.KMOD_LSHIFT
    assert seen == [
        ["KeyDown", pygame.K_LSHIFT, pygame.KSCAN_LSHIFT, shift, "", True, shift],
        ["KeyDown", pygame.K_a, pygame.KSCAN_A, shift, "A", True, shift],
        ["TextInput", "A"],
        ["KeyUp", pygame.K_a, pygame.KSCAN_A, shift, "", False, shift],
        ["KeyUp", pygame.K_LSHIFT, pygame.KSCAN_LSHIFT, 0, "", False, 0],
        ["KeyDown", pygame.K_SPACE, pygame.KSCAN_SPACE, 0, " ", True, 0],
        ["TextInput", " "],
        ["KeyUp", pygame.K_SPACE, pygame.KSCAN_SPACE, 0, "", False, 0],
    ], seen


SLOW = '''
import pygame
pygame.init()
screen = pygame.display.set_mode((16, 16))
while not any(e.type == pygame.QUIT for e in pygame.event.get()):
    sum(range(3_000_000))  # a frame far longer than 1/60 s
    screen.fill((0, 0, 90))
    pygame.display.flip()
'''


def test_a_program_slower_than_its_fps_still_has_its_requests_answered(runtime, spawn, tmp_path):
    """Behind its deadline at every frame, the engine still answers what
    waits between frames (it used to serve only until the deadline, so a
    slow program starved its clients)."""
    script = tmp_path / "slow.py"
    script.write_text(SLOW)
    p = spawn([sys.executable, "-m", "advkit.pygame", str(script)], runtime / "slow.sock")
    wait_for(runtime / "slow.frames")
    c = advkit.Client("slow")
    # A method of the adapter's own: only its loop's serve answers it.
    assert c.call("engine.input", {"button": "space"}) == {"button": "space", "action": "tap"}
    assert c.call("engine.pause")["paused"] is True
    assert c.call("engine.step", {"count": 2})["stepped"] == 2
    c.call("engine.shutdown")
    assert p.proc.wait(timeout=15) == 0
