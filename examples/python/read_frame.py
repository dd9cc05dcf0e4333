#!/usr/bin/env python3
"""Read the newest frame of a running advkit engine and save it.

Standard library only (mmap, struct, zlib). It follows docs/frame-region.md
step by step, so it doubles as a second, independent implementation of the
read protocol.

    python3 read_frame.py                      # engine "default" -> frame.png
    python3 read_frame.py --name game --out f.ppm
    python3 read_frame.py --path /dev/shm/advkit-1000/default.frames
    python3 read_frame.py --wait 2             # the next frame published, not the last

Python has no futex call in its standard library, so --wait uses the
polling fallback of docs/frame-region.md ("Waiting for a frame"): look at
latest_frame every millisecond. Rust readers sleep on the futex instead.

It prints "WIDTHxHEIGHT frame N tick T checksum C -> OUT" and exits 0, or
prints what is wrong and exits 1.
"""

import argparse
import fcntl
import mmap
import os
import struct
import sys
import time
import zlib
Geometry = dict[str, int]

MAGIC = b"ADVKFRM1"
VERSION = 2
HEADER_PAGE = 4096
SLOT_TABLE = 128
SLOT_ENTRY = 64
FORMAT_RGBA8 = 1
MASK = (1 << 64) - 1
HEARTBEAT_TIMEOUT_NS = 1_000_000_000

# Header fields up to heartbeat_ns (offsets 0..104), little-endian.
HEADER = struct.Struct("<8sIIQIIQIIIIQQIIQQQ")
# A slot-table entry: seq, frame, tick, checksum, published_ns.
SLOT = struct.Struct("<QQQQQ")


class ReadError(Exception):
    pass


def runtime_dir() -> str:
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return os.path.join(xdg, "advkit")
    return "/dev/shm/advkit-%d" % os.getuid()


def round_up(n: int, m: int) -> int:
    return (n + m - 1) // m * m


def open_region(path: str, name: str) -> tuple[int, mmap.mmap, Geometry]:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise ReadError("engine %s is not running (no %s)" % (name, path))
    size = os.fstat(fd).st_size
    if size < HEADER_PAGE:
        raise ReadError("%s is not an advkit frame region (%d bytes)" % (path, size))
    head = os.pread(fd, HEADER.size, 0)
    (magic, version, header_size, session_id, pid, pixel_format, start_ticks,
     width, height, stride, slot_count, slot_stride, file_size, fps_milli,
     _waiters, started_ms, latest, heartbeat) = HEADER.unpack(head)
    if magic != MAGIC:
        raise ReadError("%s is not an advkit frame region (magic %r)" % (path, magic))
    if version != VERSION:
        raise ReadError("%s has layout version %d, this reader knows %d" % (path, version, VERSION))
    if pixel_format != FORMAT_RGBA8 or header_size != HEADER_PAGE:
        raise ReadError("%s: unknown pixel format or header size" % path)
    if not (1 <= width <= 7680 and 1 <= height <= 4320 and 1 <= slot_count <= 62):
        raise ReadError("%s: impossible geometry %dx%d" % (path, width, height))
    want_stride = round_up(width * 4, 64)
    want_slot = round_up(want_stride * height, 4096)
    if (stride, slot_stride, file_size) != (want_stride, want_slot, HEADER_PAGE + slot_count * want_slot):
        raise ReadError("%s: sizes in the header disagree" % path)
    if size < file_size:
        raise ReadError("%s is truncated: %d bytes, header describes %d" % (path, size, file_size))
    mm = mmap.mmap(fd, file_size, mmap.MAP_SHARED, mmap.PROT_READ)
    geometry = dict(width=width, height=height, stride=stride, slots=slot_count,
                    slot_stride=slot_stride, pid=pid)
    return fd, mm, geometry


def check_alive(fd: int, mm: mmap.mmap, geometry: Geometry, name: str) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        pass  # the engine holds its lock: alive
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        raise ReadError("engine %s is not running (pid %d gone)" % (name, geometry["pid"]))
    (heartbeat,) = struct.unpack_from("<Q", mm, 96)
    silent = time.clock_gettime_ns(time.CLOCK_MONOTONIC) - heartbeat
    if silent > HEARTBEAT_TIMEOUT_NS:
        raise ReadError("engine %s is not running (pid %d has not responded for %.1f s)"
                        % (name, geometry["pid"], silent / 1e9))


def latest_frame(mm: mmap.mmap) -> int:
    (latest,) = struct.unpack_from("<Q", mm, 88)
    return int(latest)


def wait_next(fd: int, mm: mmap.mmap, g: Geometry, name: str, after: int,
              timeout: float) -> None:
    """Polls latest_frame every millisecond until it passes `after`,
    checking every 250 ms that the engine lives."""
    start = time.monotonic()
    last_check = start
    while latest_frame(mm) <= after:
        now = time.monotonic()
        if now - start >= timeout:
            raise ReadError("timed out after %.1f s waiting for a new frame from engine %s"
                            % (timeout, name))
        if now - last_check >= 0.25:
            check_alive(fd, mm, g, name)
            last_check = now
        time.sleep(0.001)


def read_latest(mm: mmap.mmap, g: Geometry,
                attempts: int = 64) -> tuple[int, int, int, bytes]:
    row_bytes = g["width"] * 4
    for _ in range(attempts):
        (latest,) = struct.unpack_from("<Q", mm, 88)
        if latest == 0:
            raise ReadError("no frame published yet")
        slot = latest % g["slots"]
        entry = SLOT_TABLE + slot * SLOT_ENTRY
        seq_before, frame, tick, checksum, _ = SLOT.unpack_from(mm, entry)
        if seq_before % 2 == 1 or frame != latest:
            continue
        base = HEADER_PAGE + slot * g["slot_stride"]
        if row_bytes == g["stride"]:
            pixels = mm[base:base + row_bytes * g["height"]]
        else:
            pixels = b"".join(mm[base + y * g["stride"]:base + y * g["stride"] + row_bytes]
                              for y in range(g["height"]))
        (seq_after,) = struct.unpack_from("<Q", mm, entry)
        if seq_after == seq_before:
            return frame, tick, checksum, pixels
    raise ReadError("the engine overwrote the slot on every attempt")


def frame_checksum(pixels: bytes, row_bytes: int) -> int:
    padded = row_bytes + (-row_bytes) % 8
    if padded != row_bytes:
        pad = b"\0" * (padded - row_bytes)
        pixels = b"".join(pixels[i:i + row_bytes] + pad for i in range(0, len(pixels), row_bytes))
    words = memoryview(pixels).cast("Q")  # native order: little-endian on x86-64/arm64
    lanes = [sum(words[k::4]) & MASK for k in range(4)]

    def rotl(v: int, r: int) -> int:
        return ((v << r) | (v >> (64 - r))) & MASK

    return lanes[0] ^ rotl(lanes[1], 16) ^ rotl(lanes[2], 32) ^ rotl(lanes[3], 48)


def write_png(path: str, width: int, height: int, rgba: bytes) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    row = width * 4
    raw = b"".join(b"\0" + rgba[y * row:(y + 1) * row] for y in range(height))
    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 1))
           + chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)


def write_ppm(path: str, width: int, height: int, rgba: bytes) -> None:
    rgb = bytearray(width * height * 3)
    rgb[0::3] = rgba[0::4]
    rgb[1::3] = rgba[1::4]
    rgb[2::3] = rgba[2::4]
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (width, height))
        f.write(rgb)


def main() -> int:
    ap = argparse.ArgumentParser(description="Save the newest frame of a running advkit engine.")
    ap.add_argument("--name", default="default", help="engine name (default: default)")
    ap.add_argument("--path", help="the .frames file (default: <runtime dir>/<name>.frames)")
    ap.add_argument("--out", default="frame.png", help="output file: .png, or .ppm (RGB, no alpha)")
    ap.add_argument("--wait", type=float, metavar="SECONDS",
                    help="wait up to SECONDS for the next frame instead of taking the last one")
    args = ap.parse_args()
    if not args.out.endswith((".png", ".ppm")):
        print("error: --out %s: this reader writes .png or .ppm only" % args.out, file=sys.stderr)
        return 1
    path = args.path or os.path.join(runtime_dir(), args.name + ".frames")
    try:
        fd, mm, g = open_region(path, args.name)
        check_alive(fd, mm, g, args.name)
        if args.wait is not None:
            wait_next(fd, mm, g, args.name, latest_frame(mm), args.wait)
        frame, tick, checksum, pixels = read_latest(mm, g)
        if frame_checksum(pixels, g["width"] * 4) != checksum:
            raise ReadError("frame %d does not match its checksum" % frame)
    except ReadError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    try:
        if args.out.endswith(".ppm"):
            write_ppm(args.out, g["width"], g["height"], pixels)
        else:
            write_png(args.out, g["width"], g["height"], pixels)
    except OSError as e:
        print("error: cannot write %s: %s" % (args.out, e.strerror or e), file=sys.stderr)
        return 1
    print("%dx%d frame %d tick %d checksum %016x -> %s"
          % (g["width"], g["height"], frame, tick, checksum, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
