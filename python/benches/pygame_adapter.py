#!/usr/bin/env python3
"""advkit.pygame's costs beside baselines measured in the same run
(medians of batches; the machine is small and noisy):

- publishing a 640x480 pygame display surface (32-bit, BGRX in memory,
  reordered to RGBA on the way, one pass) vs `ctypes.memmove` of as many
  bytes into 3 rotating buffers, as the region's slots are: targets
  <= 0.5 ms and <= 1.5x; `pygame.image.tobytes(surface, "RGBA")`
  (the conversion pygame itself offers) beside it;
- the adapter's work per frame while nobody is connected (publish, the
  host's bookkeeping, reading its params, answering nothing), as a share
  of a 60 fps frame's 16.7 ms: target <= 2 %.

    .venv/bin/python python/benches/pygame_adapter.py
"""

import ctypes
import os
import sys
import tempfile

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"

import pygame  # noqa: E402

import advkit.pygame  # noqa: E402

from _measure import BATCHES, median_per_call  # noqa: E402

W, H = 640, 480



def main():
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="advkit-bench-", dir="/dev/shm")
    adapter = advkit.pygame.Adapter("bench-pygame", 60.0, 0, False, True, 0.0)
    adapter.install()
    pygame.init()
    screen = pygame.display.set_mode((W, H))  # starts the engine
    screen.fill((30, 60, 90))
    pygame.draw.circle(screen, (250, 200, 0), (320, 240), 100)
    host = adapter.host
    size = W * H * 4
    src = ctypes.create_string_buffer(size)
    # Three rotating destinations, as the frame region's slots are.
    dsts = [ctypes.create_string_buffer(size) for _ in range(3)]
    turn = [0]

    def memmove3():
        turn[0] = (turn[0] + 1) % 3
        ctypes.memmove(dsts[turn[0]], src, size)

    def publish():
        adapter.tick += 1
        adapter.publish(screen)

    def per_frame():
        # What frame() does besides waiting for the frame's deadline.
        adapter.tick += 1
        adapter.publish(screen)
        host.ticks_due()
        host.param("fps")
        host.param("time_scale")
        host.next_deadline(None)
        host.serve(adapter.handle, None)  # the deadline now: answer what came

    memmove = median_per_call(memmove3, 100)
    warm = median_per_call(lambda: ctypes.memmove(dsts[0], src, size), 100)
    pub = median_per_call(publish, 100)
    tobytes = median_per_call(lambda: pygame.image.tobytes(screen, "RGBA"), 50)
    frame = median_per_call(per_frame, 100)
    print("advkit.pygame, median of %d batches" % BATCHES)
    ratio = pub / memmove
    print("  publish a 640x480 surface    %7.1f µs   ctypes.memmove %6.1f µs   %.2fx   "
          "(targets <= 500 µs, <= 1.5x) %s" % (pub * 1e6, memmove * 1e6, ratio,
                                             "ok" if pub <= 5e-4 and ratio <= 1.5 else "MISS"))
    print("    (memmove into 3 rotating buffers, as the region's slots; into one warm buffer "
          "%.1f µs, %.2fx)" % (warm * 1e6, pub / warm))
    print("  pygame.image.tobytes RGBA    %7.1f µs   (%.2fx memmove; the conversion pygame "
          "offers)" % (tobytes * 1e6, tobytes / memmove))
    share = frame / (1 / 60)
    print("  work per frame, nobody connected %5.1f µs = %.1f %% of a 60 fps frame "
          "(target <= 2 %%) %s" % (frame * 1e6, share * 100, "ok" if share <= 0.02 else "MISS"))
    adapter.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
