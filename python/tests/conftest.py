"""Fixtures for the binding's tests: a private runtime directory per test,
the `advkit` CLI (built by `cargo test` or `cargo build`), and real engine
processes."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def advkit_bin():
    path = os.environ.get("ADVKIT_BIN") or str(ROOT / "target" / "debug" / "advkit")
    if not os.path.exists(path):
        subprocess.run(["cargo", "build", "--bin", "advkit"], cwd=ROOT, check=True)
    return path


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    """XDG_RUNTIME_DIR for this test only (advkit wants it owner-only)."""
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(xdg))
    return xdg / "advkit"


def run_advkit(*args, check=True, timeout=20, cwd=None):
    out = subprocess.run([advkit_bin(), *args], capture_output=True, text=True, timeout=timeout,
                         cwd=cwd)
    if check and out.returncode != 0:
        raise AssertionError("advkit %s failed (%d):\n%s%s"
                             % (" ".join(args), out.returncode, out.stdout, out.stderr))
    return out


def wait_for(path, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError("%s never appeared" % path)
        time.sleep(0.02)


class Process:
    """A child process that is always stopped at the end of the test."""

    def __init__(self, argv, ready):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        try:
            wait_for(ready)
        except AssertionError:
            self.stop()
            raise AssertionError("%s did not start:\n%s" % (argv, self.proc.stderr.read()))

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def spawn():
    started = []

    def start(argv, ready):
        p = Process(argv, ready)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def demo(runtime, spawn):
    """The built-in demo engine, `advkit run --name demo`, 160x90."""
    return spawn([advkit_bin(), "run", "--name", "demo", "--size", "160x90", "--fps", "60"],
                 runtime / "demo.sock")


@pytest.fixture
def life(runtime, spawn):
    """examples/python/life.py, engine "pylife"."""
    script = ROOT / "examples" / "python" / "life.py"
    return spawn([sys.executable, str(script)], runtime / "pylife.sock")
