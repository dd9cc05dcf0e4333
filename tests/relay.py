#!/usr/bin/env python3
"""A slow link between a terminal and a program, for tests and trials.

    relay.py BYTES_PER_SECOND [--delay MS] -- COMMAND [ARG...]

Runs COMMAND on a new pseudo-terminal. What COMMAND writes is read at
once into a buffer without limit (like sshd and the network: a deep
buffer) and passed on to this relay's own terminal at BYTES_PER_SECOND at
most, after --delay milliseconds. What the terminal sends back (keys, and
its answers to status queries) goes to COMMAND at once, after the same
delay. Window size changes are passed on. Exits with COMMAND's status once
everything it wrote has been passed on.
"""

import argparse
import collections
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
import tty


def winsize(fd):
    try:
        return fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    except OSError:
        return struct.pack("HHHH", 24, 80, 0, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rate", type=int)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    if a.rate <= 0 or not command:
        ap.error("a positive rate and a command are needed")
    delay = a.delay / 1000.0

    pid, master = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    fcntl.ioctl(master, termios.TIOCSWINSZ, winsize(0))

    def resized(*_):
        fcntl.ioctl(master, termios.TIOCSWINSZ, winsize(0))
        os.kill(pid, signal.SIGWINCH)

    signal.signal(signal.SIGWINCH, resized)
    saved = termios.tcgetattr(0) if os.isatty(0) else None
    if saved:
        tty.setraw(0)
    down = collections.deque()  # (due time, bytes) toward the terminal
    up = collections.deque()  # (due time, bytes) toward the command
    budget, last = 0.0, time.monotonic()
    child_done = False
    status = 0
    try:
        while True:
            now = time.monotonic()
            budget = min(budget + (now - last) * a.rate, a.rate / 20)
            last = now
            # Toward the terminal, at the rate.
            while down and down[0][0] <= now and budget >= 1:
                due, chunk = down.popleft()
                n = min(len(chunk), int(budget))
                os.write(1, chunk[:n])
                budget -= n
                if n < len(chunk):
                    down.appendleft((due, chunk[n:]))
            while up and up[0][0] <= now:
                _, chunk = up.popleft()
                os.write(master, chunk)
            if child_done and not down:
                break
            fds = [0] + ([] if child_done else [master])
            try:
                ready, _, _ = select.select(fds, [], [], 0.005)
            except InterruptedError:
                continue
            if master in ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    data = b""
                if data:
                    down.append((time.monotonic() + delay, data))
                else:
                    child_done = True
            if 0 in ready:
                data = os.read(0, 4096)
                if data:
                    up.append((time.monotonic() + delay, data))
    finally:
        if saved:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
    _, st = os.waitpid(pid, 0)
    status = os.waitstatus_to_exitcode(st)
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
