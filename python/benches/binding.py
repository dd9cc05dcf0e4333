#!/usr/bin/env python3
"""The binding's costs beside stdlib baselines measured in the same run
(medians of batches; the machine is small and noisy):

- publishing a 1280x720 RGBA frame from Python (`Host.publish` of a
  bytearray) vs `ctypes.memmove` of the same bytes into a bytearray:
  target <= 1.5x;
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

W, H = 1280, 720
BATCHES = 15


def median_per_call(fn, batch):
    samples = []
    for _ in range(BATCHES):
        t = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - t) / batch)
    return statistics.median(samples)


def serve_forever(name):
    """The engine process for the round trips: a Python host, paused."""
    with advkit.Host(name, 64, 36, params=[advkit.Param.int("speed", 1, 8, 2)],
                     paused=True) as host:
        host.publish(0, bytes(64 * 36 * 4))
        while host.running:
            host.serve(lambda req: None, time.monotonic() + 0.5)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve_forever(sys.argv[2])
        return 0
    xdg = tempfile.mkdtemp(prefix="advkit-bench-")
    os.environ["XDG_RUNTIME_DIR"] = xdg
    pixels = bytearray((i * 7) % 251 for i in range(W * H * 4))
    dst = bytearray(len(pixels))
    dst_addr = ctypes.addressof((ctypes.c_char * len(dst)).from_buffer(dst))
    src_addr = ctypes.addressof((ctypes.c_char * len(pixels)).from_buffer(pixels))

    print("python binding, median of %d batches" % BATCHES)
    with advkit.Host("bench-publish", W, H) as host:
        tick = [0]

        def publish():
            tick[0] += 1
            host.publish(tick[0], pixels)

        memmove = median_per_call(lambda: ctypes.memmove(dst_addr, src_addr, len(pixels)), 50)
        pub = median_per_call(publish, 50)
    ratio = pub / memmove
    print("  publish 1280x720 from Python  %8.1f µs   ctypes.memmove %8.1f µs   %.2fx  (target <= 1.5x) %s"
          % (pub * 1e6, memmove * 1e6, ratio, "ok" if ratio <= 1.5 else "MISS"))

    server = subprocess.Popen([sys.executable, __file__, "--serve", "bench-rpc"])
    try:
        sock = os.path.join(xdg, "advkit", "bench-rpc.sock")
        deadline = time.monotonic() + 15
        while not os.path.exists(sock):
            if time.monotonic() > deadline:
                raise SystemExit("the bench engine did not start")
            time.sleep(0.02)
        time.sleep(0.2)
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
