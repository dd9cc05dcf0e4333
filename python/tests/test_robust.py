"""The binding under bad input, threads and Ctrl-C, against real engines:
nothing crashes or hangs, and every refusal names the fix (issue 27)."""

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import advkit
import advkit.aio
from conftest import advkit_bin, wait_for

W, H = 32, 8


def host(name="robust", **kw):
    kw.setdefault("handle_signals", False)
    return advkit.Host(name, W, H, **kw)


# ---------------------------------------------------------------- JSON


def test_a_value_that_contains_itself_or_nests_too_deep_is_a_value_error(runtime):
    cyclic = {"a": 1}
    cyclic["self"] = cyclic
    looped = [1]
    looped.append(looped)
    deep = current = []
    for _ in range(10_000):
        current.append([])
        current = current[0]
    with host(methods=[advkit.Method("game.echo", "")]) as h:
        h.publish(0, bytes(W * H * 4))
        for bad, says in [(cyclic, "dict that contains itself"),
                          (looped, "list that contains itself"),
                          (deep, "nested deeper than 100")]:
            with pytest.raises(ValueError, match=says):
                h.emit("bad", bad)
        # A handler's reply that cannot be sent: -32603 to the client, the
        # host keeps serving.
        replies = iter([cyclic, deep, {"fine": True}])
        c = advkit.Client("robust")
        answers = []

        def ask():
            for _ in range(3):
                try:
                    answers.append(c.call("game.echo"))
                except advkit.RpcError as e:
                    answers.append((e.code, e.message))

        t = threading.Thread(target=ask)
        t.start()
        while t.is_alive():
            h.serve(lambda req: next(replies), time.monotonic() + 0.05)
        assert answers[0][0] == -32603 and "contains itself" in answers[0][1], answers
        assert answers[1][0] == -32603 and "nested deeper" in answers[1][1], answers
        assert answers[2] == {"fine": True}


def test_numpy_scalars_and_arrays_are_json(runtime):
    with host(methods=[advkit.Method("game.stats", "")]) as h:
        h.publish(0, bytes(W * H * 4))
        c = advkit.Client("robust")
        got = []
        t = threading.Thread(target=lambda: got.append(c.call("game.stats")))
        t.start()
        while t.is_alive():
            h.serve(lambda req: {"f": np.float32(1.5), "i": np.int64(7), "b": np.bool_(True),
                                 "a": np.arange(3, dtype=np.uint8)},
                    time.monotonic() + 0.05)
        assert got == [{"f": 1.5, "i": 7, "b": True, "a": [0, 1, 2]}]
        # A param set from the game's side with a NumPy value.
    with host(params=[advkit.Param.float("speed", 0.0, 9.0, 1.0),
                      advkit.Param.bool("on", False)]) as h:
        h.set_param("speed", np.float64(2.5))
        h.set_param("on", np.bool_(True))
        assert h.params == {"speed": 2.5, "on": True}


# ---------------------------------------------------------------- pixels


def test_pixels_of_the_wrong_shape_dtype_or_layout_are_refused_by_their_fix(runtime):
    with host() as h:
        rgba = np.zeros((H, W, 4), np.uint8)
        rgba[0, 1] = (10, 20, 30, 255)
        assert h.publish(1, rgba) == 1
        for bad, kind, says in [
            (np.zeros((W, H, 4), np.uint8), ValueError, "width and height swapped"),
            (np.zeros((H, W, 3), np.uint8), ValueError, "RGB without alpha"),
            (np.zeros((H, W, 4), np.float64), TypeError, "holds float64 .*astype\\(numpy.uint8\\)"),
            (np.zeros((H, 2 * W, 4), np.uint8)[:, ::2], ValueError, "ascontiguousarray"),
            (np.zeros((W, H), np.uint32), ValueError, "width and height swapped"),
            ("pixels", TypeError, "buffer of bytes"),
        ]:
            with pytest.raises(kind, match=says):
                h.publish(2, bad)
        # Packed uint32 RGBA (a view of the same bytes) is the same frame.
        packed = rgba.view(np.uint32).reshape(H, W)
        assert h.publish(3, packed) == 2
        reader = advkit.FrameReader("robust")
        assert reader.read_latest().pixels == rgba.tobytes()


def test_declarations_that_cannot_work_are_refused(runtime):
    p = advkit.Param.int("speed", 1, 8, 2)
    with pytest.raises(ValueError, match='param "speed" is declared twice'):
        advkit.Host("twice", 8, 8, params=[p, p], handle_signals=False)
    with pytest.raises(ValueError, match="not a standard method; they are engine.reboot"):
        advkit.Host("std", 8, 8, standard=["engine.rebot"], handle_signals=False)
    with pytest.raises(ValueError, match="min \\(5\\) must be at most max \\(1\\)"):
        advkit.Arg("x", "integer", min=5, max=1)
    for fps in [0, -1, float("nan")]:
        with pytest.raises(ValueError, match="fps must be above 0"):
            advkit.Host("fps", 8, 8, fps=fps, handle_signals=False)
    with host() as h:
        with pytest.raises(ValueError, match="fps must be above 0"):
            h.set_fps(0)
    with pytest.raises(ValueError, match="declared twice"):
        advkit.Method("m", "", [advkit.Arg("x", "integer"), advkit.Arg("x", "string")])


# ---------------------------------------------------------------- frames


def test_read_into_fills_a_numpy_array_in_place(runtime):
    with host() as h:
        px = np.random.default_rng(1).integers(0, 256, (H, W, 4), dtype=np.uint8)
        h.publish(7, px)
        with advkit.FrameReader("robust") as reader:
            out = np.zeros((H, W, 4), np.uint8)
            info = reader.read_into(out)
            assert (info.frame, info.tick, info.width, info.height) == (1, 7, W, H)
            assert np.array_equal(out, px)
            buf = bytearray(W * H * 4)
            reader.read_into(buf)
            assert bytes(buf) == px.tobytes()
            with pytest.raises(TypeError, match="writable"):
                reader.read_into(bytes(W * H * 4))
            with pytest.raises(ValueError, match="holds 8 bytes"):
                reader.read_into(bytearray(8))
            # The next frame, waited for, into the same array.
            h.publish(8, 255 - px)
            got = reader.wait_next_into(out, 5.0, after=1)
            assert got is not None and got.tick == 8
            assert np.array_equal(out, 255 - px)
        with pytest.raises(advkit.AdvkitError, match="closed"):
            reader.read_latest()


# ---------------------------------------------------------------- threads


def test_a_client_shared_by_8_threads_neither_deadlocks_nor_mixes_replies(demo):
    c = advkit.Client("demo", timeout=20)
    errors, done = [], []

    def work(i):
        try:
            for n in range(25):
                value = 1.0 + (i + n) % 8
                got = c.call("params.get", {"names": ["walk_speed"]})
                assert "walk_speed" in got["values"], got
                assert c.get("walk_speed")["walk_speed"] > 0
                del value
            done.append(i)
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "deadlocked"
    assert errors == [] and sorted(done) == list(range(8))


def test_a_host_is_usable_from_another_thread_and_after_close_says_so(runtime):
    h = host()
    errors = []

    def use():
        try:
            for n in range(50):
                h.publish(n, bytes(W * H * 4))
                h.emit("from_thread", {"n": n})
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=use) for _ in range(3)]
    for t in threads:
        t.start()
    for _ in range(20):
        h.serve(lambda req: None, time.monotonic() + 0.005)
    for t in threads:
        t.join(timeout=30)
    assert errors == [] and h.tick == 49
    h.close()
    failed = []
    t = threading.Thread(target=lambda: failed.append(pytest.raises(
        advkit.AdvkitError, h.publish, 0, bytes(W * H * 4))))
    t.start()
    t.join()
    assert "closed" in str(failed[0].value)


# ---------------------------------------------------------------- Ctrl-C


def interrupted_within(runtime, code, ready_line="waiting"):
    """Runs `code` in a child Python, sends SIGINT once it prints
    `ready_line`, and returns (seconds from the signal to its exit, its
    stderr)."""
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "XDG_RUNTIME_DIR": str(runtime.parent)})
    try:
        assert child.stdout.readline().strip() == ready_line, child.stderr.read()
        time.sleep(0.3)  # well inside the blocking call
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        child.wait(timeout=10)
        return time.monotonic() - sent, child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_ctrl_c_interrupts_wait_next_and_call_within_half_a_second(runtime):
    with host(methods=[advkit.Method("game.never", "")]) as h:
        h.publish(0, bytes(W * H * 4))  # and never again
        took, err = interrupted_within(runtime, """
            import advkit
            r = advkit.FrameReader("robust")
            print("waiting", flush=True)
            r.wait_next(timeout=30)
        """)
        assert took < 0.5 and "KeyboardInterrupt" in err, (took, err)
        took, err = interrupted_within(runtime, """
            import advkit
            c = advkit.Client("robust", timeout=30)
            print("waiting", flush=True)
            c.call("game.never")
        """)
        assert took < 0.5 and "KeyboardInterrupt" in err, (took, err)


def test_ctrl_c_ends_the_documented_loop_cleanly(runtime):
    took, err = interrupted_within(runtime, """
        import time
        import advkit
        host = advkit.Host("docloop", 16, 16)
        tick, deadline = 0, time.monotonic()
        print("waiting", flush=True)
        while host.running:
            for _ in range(host.ticks_due()):
                tick += 1
            host.publish(tick, bytes(16 * 16 * 4))
            deadline = host.next_deadline(deadline)
            host.serve(lambda req: None, deadline)
        host.close()
        print("ended cleanly")
    """)
    assert took < 1.0 and "Traceback" not in err, (took, err)
    assert not (runtime / "docloop.sock").exists()


# ---------------------------------------------------------------- asyncio


def test_the_asyncio_client_and_frame_reader(runtime):
    async def main(h):
        async with await advkit.aio.connect("robust") as c:
            assert await c.get("speed") == {"speed": 2}
            changed = await c.set(speed=5)
            assert changed["values"]["speed"] == 5
            events = c.events(["params"])
            first = asyncio.ensure_future(events.__anext__())
            await asyncio.sleep(0.2)
            await c.set(speed=6)
            ev = await asyncio.wait_for(first, 5)
            assert ev["topic"] == "params" and ev["data"]["values"]["speed"] == 6, ev
            await events.aclose()
        async with await advkit.aio.open_frames("robust") as r:
            assert (r.width, r.height) == (W, H)
            waiting = asyncio.ensure_future(r.wait_next(5.0, after=1))
            await asyncio.sleep(0.05)
            assert not waiting.done(), "the loop runs while the reader waits"
            # The game publishes from a worker thread meanwhile.
            await asyncio.to_thread(h.publish, 1, bytes(range(256)) * (W * H * 4 // 256))
            frame = await asyncio.wait_for(waiting, 5)
            assert frame is not None and frame.tick == 1

    with host(params=[advkit.Param.int("speed", 1, 8, 2)]) as h:
        h.publish(0, bytes(W * H * 4))
        stop = threading.Event()

        def serve():
            while not stop.is_set():
                h.serve(lambda req: None, time.monotonic() + 0.02)

        t = threading.Thread(target=serve)
        t.start()
        try:
            asyncio.run(main(h))
        finally:
            stop.set()
            t.join()


# ---------------------------------------------------------------- the command


def test_the_advkit_command_comes_with_the_package(runtime):
    exe = os.path.join(os.path.dirname(sys.executable), "advkit")
    assert os.access(exe, os.X_OK), "pip install puts advkit in the venv's bin/"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("advkit "), out
    with host(params=[advkit.Param.int("speed", 1, 8, 2)]) as h:
        h.publish(3, bytes(W * H * 4))
        stop = threading.Event()
        t = threading.Thread(target=lambda: [h.serve(lambda r: None, time.monotonic() + 0.02)
                                             for _ in iter(stop.is_set, True)])
        t.start()
        try:
            env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime.parent)}
            got = subprocess.run([exe, "send", "--name", "robust", "get", "speed"],
                                 capture_output=True, text=True, timeout=30, env=env)
            assert got.returncode == 0 and "2" in got.stdout, got
            gone = subprocess.run([exe, "send", "--name", "nosuch", "get"],
                                  capture_output=True, text=True, timeout=30, env=env)
            assert gone.returncode == 2, gone
        finally:
            stop.set()
            t.join()
    assert advkit.__version__ == out.stdout.split()[1]
