#!/usr/bin/env python3
"""The binding's costs beside stdlib baselines measured in the same run
(medians of batches; the machine is small and noisy):

- publishing a 1280x720 RGBA frame from Python (`Host.publish` of a
  bytearray) vs `ctypes.memmove` of the same bytes into a bytearray:
  target <= 1.5x;
- reading the newest 1280x720 frame of another process's engine
  (`FrameReader.read_latest` into new bytes, `read_into` a NumPy array) vs
  `ctypes.memmove` of as many bytes: target <= 1.5x; the stdlib mmap
  reader of examples/python/read_frame.py beside them;
- waking on a new 1280x720 frame (`wait_next_into`: the futex, the GIL
  released) vs the stdlib reader's 1 ms polling, from the publisher's
  `time.monotonic_ns()` stamped into the frame to the reader holding it:
  target <= the polling reader's latency;
- a `params.get` round trip with `advkit.Client.call` vs the stdlib client
  of examples/python/control.py, both against the same engine (a Python
  host in another process): target <= 0.5x.

    .venv/bin/python python/benches/binding.py
"""

import ctypes
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import advkit

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples" / "python"))
import control  # noqa: E402  (the stdlib client, as documented)
from _measure import BATCHES, median_per_call  # noqa: E402
import read_frame  # noqa: E402  (the stdlib frame reader, as documented)

W, H = 1280, 720



def serve_forever(name):
    """The engine process for the round trips: a Python host, paused."""
    with advkit.Host(name, 64, 36, params=[advkit.Param.int("speed", 1, 8, 2)],
                     paused=True) as host:
        host.publish(0, bytes(64 * 36 * 4))
        while host.running:
            host.serve(lambda req: None, time.monotonic() + 0.5)


def publish_stamped(name, every):
    """The engine process for the reads and wakes: 1280x720 frames, each
    stamped with time.monotonic_ns() in its first 8 bytes, every `every`
    seconds, until shut down."""
    import numpy as np

    with advkit.Host(name, W, H) as host:
        px = np.random.default_rng(3).integers(0, 256, (H, W, 4), dtype=np.uint8)
        stamp = px.reshape(-1).view(np.uint64)
        tick = 0
        while host.running:
            tick += 1
            stamp[0] = time.monotonic_ns()
            host.publish(tick, px)
            host.serve(lambda req: None, time.monotonic() + every)


def start(argv, name, xdg):
    proc = subprocess.Popen([sys.executable, __file__, *argv])
    sock = os.path.join(xdg, "advkit", name + ".sock")
    deadline = time.monotonic() + 15
    while not os.path.exists(sock):
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the bench engine %s did not start" % name)
        time.sleep(0.02)
    time.sleep(0.3)
    return proc


def reads_and_wakes(xdg, memmove_720p):
    import numpy as np

    engine = start(["--stamped", "bench-frames", "0.02"], "bench-frames", xdg)
    try:
        reader = advkit.FrameReader("bench-frames")
        out = np.empty((H, W, 4), np.uint8)
        fd, mm, g = read_frame.open_region(
            os.path.join(xdg, "advkit", "bench-frames.frames"), "bench-frames")
        latest = median_per_call(reader.read_latest, 30)
        into = median_per_call(lambda: reader.read_into(out), 30)
        stdlib = median_per_call(lambda: read_frame.read_latest(mm, g), 30)
        for what, t in [("read_latest (new bytes)", latest), ("read_into (NumPy array)", into)]:
            ratio = t / memmove_720p
            print("  %-31s %8.1f µs   ctypes.memmove %8.1f µs   %.2fx  (target <= 1.5x) %s"
                  % (what + " 720p", t * 1e6, memmove_720p * 1e6, ratio,
                     "ok" if ratio <= 1.5 else "MISS"))
        print("  %-31s %8.1f µs   (%.2fx memmove)" % ("stdlib read_frame.py 720p", stdlib * 1e6,
                                                     stdlib / memmove_720p))

        def latency(wait_and_read):
            samples = []
            for _ in range(60):
                stamped = wait_and_read()
                samples.append(time.monotonic_ns() - stamped)
            return statistics.median(samples) / 1e3

        def woken():
            reader.wait_next_into(out, 5.0)
            return int(out.reshape(-1).view(np.uint64)[0])

        def polled():
            after = read_frame.latest_frame(mm)
            read_frame.wait_next(fd, mm, g, "bench-frames", after, 5.0)
            _, _, _, pixels = read_frame.read_latest(mm, g)
            return int.from_bytes(pixels[:8], "little")

        wake, poll = latency(woken), latency(polled)
        print("  wake on a new 720p frame: wait_next_into %6.0f µs   stdlib 1 ms polling %6.0f µs"
              "   %.2fx  (target <= 1x) %s" % (wake, poll, wake / poll,
                                               "ok" if wake <= poll else "MISS"))
        advkit.Client("bench-frames").call("engine.shutdown")
    finally:
        engine.wait(timeout=10)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve_forever(sys.argv[2])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "--stamped":
        publish_stamped(sys.argv[2], float(sys.argv[3]))
        return 0
    # A tmpfs, as a runtime directory should be (docs/python.md).
    xdg = tempfile.mkdtemp(prefix="advkit-bench-", dir="/dev/shm")
    os.environ["XDG_RUNTIME_DIR"] = xdg
    pixels = bytearray((i * 7) % 251 for i in range(W * H * 4))
    # Three rotating destinations, as the region's three slots are.
    dsts = [bytearray(len(pixels)) for _ in range(3)]
    dst_addrs = [ctypes.addressof((ctypes.c_char * len(d)).from_buffer(d)) for d in dsts]
    src_addr = ctypes.addressof((ctypes.c_char * len(pixels)).from_buffer(pixels))
    turn = [0]

    def memmove():
        turn[0] = (turn[0] + 1) % 3
        ctypes.memmove(dst_addrs[turn[0]], src_addr, len(pixels))

    print("python binding, median of %d batches" % BATCHES)
    with advkit.Host("bench-publish", W, H) as host:
        tick = [0]

        def publish():
            tick[0] += 1
            host.publish(tick[0], pixels)

        baseline = median_per_call(memmove, 50)
        one = median_per_call(lambda: ctypes.memmove(dst_addrs[0], src_addr, len(pixels)), 50)
        pub = median_per_call(publish, 50)
    ratio = pub / baseline
    print("  publish 1280x720 from Python  %8.1f µs   ctypes.memmove %8.1f µs   %.2fx  (target <= 1.5x) %s"
          % (pub * 1e6, baseline * 1e6, ratio, "ok" if ratio <= 1.5 else "MISS"))
    print("    (memmove into 3 rotating buffers, as the region's slots; the host also")
    print("     fingerprints each frame for its history, on by default)")

    # A read goes into one destination: its baseline is a memmove into one.
    reads_and_wakes(xdg, one)

    server = start(["--serve", "bench-rpc"], "bench-rpc", xdg)
    try:
        ours = advkit.Client("bench-rpc")
        stdlib = control.Client(control.socket_path("bench-rpc"))
        for _ in range(200):  # warm both up
            ours.call("params.get")
            stdlib.call("params.get")
        fast = median_per_call(lambda: ours.call("params.get"), 300)
        slow = median_per_call(lambda: stdlib.call("params.get"), 300)
        ratio = fast / slow
        print("  params.get round trip: advkit.Client %6.1f µs   stdlib control.py %6.1f µs   %.2fx  (target <= 0.5x) %s"
              % (fast * 1e6, slow * 1e6, ratio, "ok" if ratio <= 0.5 else "MISS"))
        ours.call("engine.shutdown")
    finally:
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
