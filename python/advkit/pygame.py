"""Any pygame program as an advkit engine, unmodified:

    python -m advkit.pygame [--name N] [--fps F] [--seed S] [--paused]
                            [--real-time] [--mouse-keys] [--history SECONDS]
                            [--params FILE] script.py [args...]
    python -m advkit.pygame ... -m package.module [args...]

Two processes: this one is the engine (its name, socket, frame region,
params and clients), and runs the program in a child process, headless
(SDL's dummy video and audio drivers, no window). The child hands every
frame over through shared memory and waits in ``flip`` for the engine's
go, so ``advkit inspect``, ``send``, ``snapshot``, ``record`` and
``golden`` work on it:

- frames: every ``pygame.display.flip()``/``update()`` publishes the
  display surface;
- time: ``pause`` holds the program inside ``flip``, ``step N`` lets
  exactly N frames through, ``shutdown`` posts ``QUIT`` (and ends the
  program if it does not quit within two seconds);
- reboot: ``engine.reboot`` (with ``confirm``) ends the program's process
  and starts it again with the same arguments; the engine, its name and
  its clients' subscriptions stay;
- input: ``engine.input`` (``advkit send input press left``) becomes
  ``KEYDOWN``/``KEYUP`` events, and ``pygame.key.get_pressed()`` shows the
  keys held; the method ``pygame.mouse`` (``{"x", "y", "button",
  "action"}``) moves the pointer and presses its buttons; with
  ``--mouse-keys`` the arrows also move the pointer and Space is its left
  button (for games played with the mouse, from the inspector);
- determinism (unless ``--real-time``): the program sees a virtual clock
  that advances exactly one frame per frame (``pygame.time.get_ticks``,
  ``Clock``, ``time.time``/``monotonic``/``perf_counter``,
  ``pygame.time.wait``/``delay``), and ``random`` (and ``numpy.random``)
  is seeded from ``--seed``; frames are paced at ``--fps`` in real time.

See docs/pygame.md.
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import queue
import random
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Optional

import advkit

__all__ = ["Engine", "Program", "PygameClock", "VirtualClock", "load_params", "main", "param"]

# The real clocks, taken before the program's are made virtual.
_monotonic = time.monotonic

#: Button names of advkit's own (the inspector's game focus sends its
#: Space as "action") and the pygame keys they are.
ALIASES = {"action": "space"}

#: How long the program may take to quit after ``shutdown`` posts QUIT,
#: and to end after a reboot closed its channel.
QUIT_GRACE = 2.0

#: The modifier keys (by pygame key name) and their KMOD_ constants.
MODIFIERS = {"left shift": "KMOD_LSHIFT", "right shift": "KMOD_RSHIFT",
             "left ctrl": "KMOD_LCTRL", "right ctrl": "KMOD_RCTRL",
             "left alt": "KMOD_LALT", "right alt": "KMOD_RALT",
             "left meta": "KMOD_LMETA", "right meta": "KMOD_RMETA"}

#: The text of keys whose name is not their character.
TEXT = {"space": " ", "return": "\r", "tab": "\t", "backspace": "\b", "escape": "\x1b"}

#: Pixels the pointer moves a frame while an arrow is held (--mouse-keys).
MOUSE_KEY_STEP = 8

#: The largest message between the processes (inputs of one frame).
MAX_MESSAGE = 1 << 20

_INPUT_HELP = ("a pygame key name (pygame.key.name): left, right, up, down, space, return, "
               "escape, tab, a..z, 0..9, f1..f12, left shift, ...; action: space")


class VirtualClock:
    """The program's time: ``frame`` seconds more at every frame."""

    def __init__(self, fps: float, scale: float = 1.0) -> None:
        self.now = 0.0
        self.fps = fps
        self.scale = scale
        self.epoch = 1_700_000_000.0  # time.time() at frame 0: fixed

    @property
    def frame(self) -> float:
        return self.scale / self.fps

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


class PygameClock:
    """pygame's ``Clock`` on the virtual time: ``tick()`` never sleeps and
    says one frame passed."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.last = clock.now
        self.dt = 0.0

    def tick(self, framerate: float = 0) -> int:
        self.dt, self.last = self.clock.now - self.last, self.clock.now
        return int(self.dt * 1000)

    tick_busy_loop = tick

    def get_time(self) -> int:
        return int(self.dt * 1000)

    def get_rawtime(self) -> int:
        return int(self.dt * 1000)

    def get_fps(self) -> float:
        return 1.0 / self.clock.frame


class Channel:
    """One end of the socket pair between the engine and the program:
    a message is one JSON object (and, for ``mode``, a file descriptor)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def send(self, message: dict[str, Any], fds: tuple[int, ...] = ()) -> None:
        data = json.dumps(message).encode()
        if fds:
            socket.send_fds(self.sock, [data], list(fds))
        else:
            self.sock.sendall(data)

    def recv(self) -> Optional[tuple[dict[str, Any], list[int]]]:
        """The next message, or None when the other end is gone."""
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, MAX_MESSAGE, 4)
        except (ConnectionResetError, OSError):
            return None
        if not data:
            return None
        return json.loads(data), fds


# ================================================================ program
# The child process: runs the program with pygame rerouted.


class Program:
    """The program's side: hooks pygame's display, keys, mouse and clocks;
    hands each frame to the engine and waits for its go."""

    def __init__(self, chan: Channel, real_time: bool, mouse_keys: bool) -> None:
        self.chan = chan
        self.real_time = real_time
        self.mouse_keys = mouse_keys
        hello = self.recv()
        self.params: dict[str, Any] = hello["params"]
        self.clock = VirtualClock(hello["fps"], hello["time_scale"])
        self.seed = int(hello["seed"])
        self.size: Optional[tuple[int, int]] = None
        self.shared: Optional[mmap.mmap] = None
        self.publish_next = True  # the engine publishes the next frame
        self.quitting = False
        self.drawn = False  # a frame was drawn
        self.resumed = _monotonic()  # when the program got its frame to draw
        self.held: set[int] = set()  # scancodes of keys held by engine.input
        self.held_keys: set[str] = set()  # their names (for --mouse-keys)
        self.mods = 0  # KMOD_ bits of the modifier keys held
        self.mouse_pos = (0, 0)  # where pygame.mouse says the pointer is
        self.mouse_held: set[int] = set()  # mouse buttons held (1 left, 2, 3)
        self.pygame: Any = None

    def recv(self) -> dict[str, Any]:
        got = self.chan.recv()
        if got is None:
            # The engine ended or rebooted the program: end at once.
            os._exit(0)
        return got[0]

    def install(self) -> None:
        """Headless SDL, then pygame's display, keys and clocks rerouted,
        and random seeded."""
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self.pygame = pygame
        display = pygame.display
        set_mode, flip, update = display.set_mode, display.flip, display.update
        get_pressed = pygame.key.get_pressed

        def set_mode_hooked(*args: Any, **kwargs: Any) -> Any:
            surface = set_mode(*args, **kwargs)
            self.start(surface)
            return surface

        def flip_hooked() -> None:
            flip()
            self.frame()

        def update_hooked(*args: Any, **kwargs: Any) -> None:
            update(*args, **kwargs)
            self.frame()

        def get_pressed_hooked() -> Any:
            state = get_pressed()
            if not self.held:
                return state
            # By scancode: the wrapper's own indexing takes key codes.
            keys = [tuple.__getitem__(state, i) for i in range(tuple.__len__(state))]
            for scancode in self.held:
                if scancode < len(keys):
                    keys[scancode] = True
            return type(state)(keys)

        def mouse_pressed(num_buttons: int = 3) -> tuple[bool, ...]:
            return tuple(b in self.mouse_held for b in range(1, num_buttons + 1))

        display.set_mode = set_mode_hooked
        display.flip = flip_hooked
        display.update = update_hooked
        pygame.key.get_pressed = get_pressed_hooked
        get_mods = pygame.key.get_mods
        pygame.key.get_mods = lambda: get_mods() | self.mods
        # The pointer is advkit's: no real mouse reaches a headless program.
        setattr(pygame.mouse, "get_pos", lambda: self.mouse_pos)
        setattr(pygame.mouse, "get_pressed", mouse_pressed)
        if not self.real_time:
            self.make_time_virtual(pygame)
            random.seed(self.seed)
            # numpy.random too, when numpy is there (imported now to seed
            # it: a program that imports it later gets it seeded).
            import importlib.util

            if importlib.util.find_spec("numpy") is not None:
                import numpy

                numpy.random.seed(self.seed)

    def make_time_virtual(self, pygame: Any) -> None:
        clock = self.clock

        def ms() -> int:
            return int(clock.now * 1000)

        def wait(milliseconds: int) -> int:
            clock.advance(milliseconds / 1000)
            return int(milliseconds)

        def make_clock() -> PygameClock:
            return PygameClock(clock)

        pygame.time.get_ticks = ms
        pygame.time.wait = wait
        pygame.time.delay = wait
        pygame.time.Clock = make_clock
        pygame.Clock = make_clock
        time.monotonic = lambda: clock.now
        time.perf_counter = lambda: clock.now
        time.time = lambda: clock.epoch + clock.now
        time.monotonic_ns = lambda: int(clock.now * 1e9)
        time.perf_counter_ns = lambda: int(clock.now * 1e9)
        time.time_ns = lambda: int((clock.epoch + clock.now) * 1e9)
        time.sleep = lambda seconds: clock.advance(float(seconds))

    def start(self, surface: Any) -> None:
        """The frames' shared memory, at the display's size, on the first
        set_mode; the engine is told (a later size is not published)."""
        width, height = surface.get_size()
        if self.size is not None:
            if (width, height) != self.size:
                self.chan.send({"resized": [width, height]})
            return
        self.size = (width, height)
        # An unlinked file: gone with the last process that maps it.
        with tempfile.TemporaryFile(dir=_shm_dir()) as f:
            f.truncate(width * height * 4)
            self.shared = mmap.mmap(f.fileno(), width * height * 4)
            self.chan.send({"mode": [width, height]}, (f.fileno(),))

    def frame(self) -> None:
        """One frame the program drew: handed over (when the engine will
        publish it), then the program waits for the engine's go."""
        pygame = self.pygame
        surface = pygame.display.get_surface()
        if self.quitting or self.shared is None or surface is None \
                or surface.get_size() != self.size:
            return
        if self.drawn:
            self.clock.advance(self.clock.frame)
        self.drawn = True
        work = _monotonic() - self.resumed
        order = None
        if self.publish_next:
            if surface.get_bitsize() == 32 and surface.get_masks()[:3] == (0xFF0000, 0xFF00, 0xFF):
                order = "BGRX" if surface.get_masks()[3] == 0 else "BGRA"
                self.shared[:] = memoryview(surface.get_buffer())
            else:
                order = "RGBA"
                self.shared[:] = pygame.image.tobytes(surface, "RGBA")
        self.chan.send({"frame": work, "order": order})
        self.go(self.recv())

    def go(self, go: dict[str, Any]) -> None:
        """The engine's answer to a frame: the clock's rate, the params,
        the input to post, whether it publishes the next frame, and quit."""
        self.clock.fps = go["fps"]
        self.clock.scale = go["time_scale"]
        self.params = go["params"]
        self.publish_next = go["publish_next"]
        for event in go["input"]:
            if "key" in event:
                self.key(event["key"], event["down"])
            else:
                self.mouse(tuple(event["mouse"]), event.get("button"), event["action"])
        if self.mouse_keys:
            self.move_pointer_by_keys()
        if go.get("quit"):
            self.quitting = True
            self.pygame.event.post(self.pygame.event.Event(self.pygame.QUIT))
        self.resumed = _monotonic()

    def key(self, name: str, pressed: bool) -> None:
        """A key event with its key, scancode, mod and unicode, and the
        held state ``get_pressed`` shows."""
        pygame = self.pygame
        key = int(pygame.key.key_code(ALIASES.get(name, name)))
        scancode = scancode_of(pygame, key)
        if pressed:
            self.held.add(scancode)
            self.held_keys.add(name)
        else:
            self.held.discard(scancode)
            self.held_keys.discard(name)
        mod = getattr(pygame, MODIFIERS.get(pygame.key.name(key), ""), 0)
        if pressed:
            self.mods |= mod
        else:
            self.mods &= ~mod
        text = TEXT.get(pygame.key.name(key), pygame.key.name(key))
        if len(text) != 1:
            text = ""
        elif self.mods & pygame.KMOD_SHIFT:
            text = text.upper()
        kind = pygame.KEYDOWN if pressed else pygame.KEYUP
        pygame.event.post(pygame.event.Event(kind, key=key, scancode=scancode, mod=self.mods,
                                             unicode=text if pressed else ""))
        # What SDL sends a program with text input on (pygame's default)
        # for a printable key: the character, as TEXTINPUT.
        if pressed and text.isprintable() and text and not self.mods & pygame.KMOD_CTRL:
            pygame.event.post(pygame.event.Event(pygame.TEXTINPUT, text=text))
        if self.mouse_keys and name in ("space", "action"):
            self.mouse(self.mouse_pos, 1, "press" if pressed else "release")

    def mouse(self, pos: tuple[int, ...], button: Optional[int], action: str) -> None:
        """The pointer moved (MOUSEMOTION), and a button pressed or
        released there."""
        pygame = self.pygame
        x, y = pos
        old, self.mouse_pos = self.mouse_pos, (x, y)
        buttons = tuple(b in self.mouse_held for b in (1, 2, 3))
        if (x, y) != old or button is None:
            pygame.event.post(pygame.event.Event(
                pygame.MOUSEMOTION, pos=(x, y), rel=(x - old[0], y - old[1]), buttons=buttons,
                touch=False))
        if button is not None:
            if action in ("press", "tap"):
                self.mouse_held.add(button)
                pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, y),
                                                     button=button, touch=False))
            if action in ("release", "tap"):
                self.mouse_held.discard(button)
                pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(x, y),
                                                     button=button, touch=False))

    def move_pointer_by_keys(self) -> None:
        """--mouse-keys: the arrows held move the pointer a step a frame."""
        assert self.size is not None
        dx = MOUSE_KEY_STEP * (("right" in self.held_keys) - ("left" in self.held_keys))
        dy = MOUSE_KEY_STEP * (("down" in self.held_keys) - ("up" in self.held_keys))
        if dx or dy:
            x = min(max(self.mouse_pos[0] + dx, 0), self.size[0] - 1)
            y = min(max(self.mouse_pos[1] + dy, 0), self.size[1] - 1)
            self.mouse((x, y), None, "tap")


_PROGRAM: Optional[Program] = None


def param(name: str, default: Any = None) -> Any:
    """The current value of param ``name`` while the program runs under
    ``python -m advkit.pygame`` (its own, declared with ``--params``, or
    the adapter's ``fps``, ``seed``, ``time_scale``); ``default`` when it
    runs on its own, so the program works both ways."""
    if _PROGRAM is None:
        return default
    return _PROGRAM.params.get(name, default)


def scancode_of(pygame: Any, key: int) -> int:
    """The SDL scancode of ``key`` (``K_LEFT`` -> ``KSCAN_LEFT``)."""
    name = pygame.key.name(key).upper().replace(" ", "")
    for candidate in ("KSCAN_" + name, "KSCAN_" + name.replace("KEYPAD", "KP_")):
        code = getattr(pygame, candidate, None)
        if isinstance(code, int):
            return code
    # Keys without a scancode constant of their own: SDL's mapping.
    return int(key) & ~(1 << 30) if key & (1 << 30) else 0


def _shm_dir() -> Optional[str]:
    """Where the frames' shared memory lives: memory, not a disk."""
    for d in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm"):
        if d and os.path.isdir(d) and os.access(d, os.W_OK):
            return d
    return None


def run_program(fd: int, args: argparse.Namespace, run: Callable[[], Any]) -> int:
    """The child: the program, rerouted, until it ends."""
    global _PROGRAM
    chan = Channel(socket.socket(fileno=fd))
    program = Program(chan, args.real_time, args.mouse_keys)
    _PROGRAM = program
    # Run as `python -m advkit.pygame`, this module is __main__: the one the
    # program imports (for param()) is another instance of it.
    import importlib

    setattr(importlib.import_module("advkit.pygame"), "_PROGRAM", program)
    # Ctrl-C in the terminal is the engine's to handle (it ends the
    # program); a program's own SIGINT handling would fight it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    program.install()
    try:
        run()
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            return 1
        return e.code or 0
    return 0


# ================================================================ engine
# This process: the engine, with the program in a child process.

#: What `Engine.next_message` returns when a reboot was asked for, and when
#: the program did not quit in time after QUIT.
REBOOT, GRACE_OVER = object(), object()
#: What `Engine.take` returns when no message came.
NOTHING = object()


class Engine:
    """The engine's side: the host, and the program's process, started
    again at every reboot."""

    def __init__(self, name: str, fps: float, seed: int, paused: bool, history: float,
                 child_argv: list[str], program_params: Optional[list[advkit.Param]] = None,
                 program_defaults: Optional[dict[str, Any]] = None) -> None:
        self.name = name
        self.fps = fps
        self.host_fps = fps
        self.seed = seed
        self.paused = paused
        self.history = history
        self.child_argv = child_argv
        self.program_params = program_params or []
        self.program_defaults = program_defaults or {}
        self.host: Optional[advkit.Host] = None
        self.waker: Optional[advkit.Waker] = None
        self.size: Optional[tuple[int, int]] = None
        self.shared: Optional[mmap.mmap] = None
        self.child: Optional[subprocess.Popen[bytes]] = None
        self.chan: Optional[Channel] = None
        # What the program's process said, with the number of the process
        # (a reboot's old one may still say it ended after the new began).
        self.inbox: queue.Queue[tuple[int, Any]] = queue.Queue()
        self.generation = 0
        self.awaiting = False  # serving while waiting for the program
        # The first frame shows tick 0 (a paused engine is at tick 0, as a
        # replay wants it), the next ones 1, 2, ...
        self.tick = -1
        self.budget = 0  # frames a granted step still lets through
        self.deadline = _monotonic()
        self.input: list[dict[str, Any]] = []  # for the program, at its next go
        self.release_next: list[str] = []  # keys tapped: released a go later
        self.quit_at: Optional[float] = None
        self.restart = False
        self.pygame: Any = None

    # ------------------------------------------------------------ the child

    def spawn(self) -> None:
        """The program in a fresh process, told the params it starts with."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.chan = Channel(ours)
        self.child = subprocess.Popen(
            [sys.executable, "-m", "advkit.pygame", "--_child", str(theirs.fileno()),
             *self.child_argv], pass_fds=(theirs.fileno(),))
        theirs.close()
        self.chan.send({"params": self.param_values(), "fps": self.fps,
                        "time_scale": self.param_value("time_scale", 1.0),
                        "seed": self.param_value("seed", self.seed)})
        self.generation += 1
        inbox, chan, engine, generation = self.inbox, self.chan, self, self.generation

        def read() -> None:
            while True:
                got = chan.recv()
                inbox.put((generation, got))
                # Only a wait for this message is ended: a wake left over
                # would end the next wait, the one that paces the frames.
                if engine.waker is not None and engine.awaiting:
                    engine.waker.wake()
                if got is None:
                    return

        threading.Thread(target=read, name="advkit-pygame-program", daemon=True).start()

    def end_child(self, grace: float = QUIT_GRACE) -> int:
        """Ends the program's process (its channel closed first: a program
        waiting in flip exits at once; killed after ``grace`` seconds); its
        exit status."""
        assert self.child is not None and self.chan is not None
        self.chan.sock.close()
        try:
            code = self.child.wait(grace)
        except subprocess.TimeoutExpired:
            self.child.kill()
            code = self.child.wait()
        return code

    def next_message(self) -> Any:
        """The program's next message, serving the engine's clients
        meanwhile; None when the program's process ended, REBOOT when a
        reboot was asked for, GRACE_OVER when it did not quit in time."""
        while True:
            got = self.take(0)
            if got is not NOTHING:
                return got
            if self.quit_at is not None and _monotonic() - self.quit_at > QUIT_GRACE:
                return GRACE_OVER
            host = self.host
            if host is None or self.budget > 0:
                # No engine yet, or frames granted that the program has not
                # drawn: the host is asked nothing (it would take them as
                # done) until the program's next frame.
                got = self.take(0.25)
                if got is not NOTHING:
                    return got
                continue
            if self.restart:
                return REBOOT
            if not host.running and self.quit_at is None:
                self.quit_at = _monotonic()
            self.awaiting = True
            try:
                host.serve(self.handle, _monotonic() + 0.25)
            finally:
                self.awaiting = False
            # Back early for a step waiting to run, not for a message: the
            # message, when it comes, ends this wait.
            got = self.take(0.002)
            if got is not NOTHING:
                return got

    def take(self, timeout: float) -> Any:
        """The current program's next message within ``timeout`` seconds
        (None: it ended), or NOTHING; what an earlier process said is
        dropped."""
        deadline = _monotonic() + timeout
        while True:
            try:
                generation, got = self.inbox.get(timeout=max(0.0, deadline - _monotonic()))
            except queue.Empty:
                return NOTHING
            if generation == self.generation:
                return got

    # ------------------------------------------------------------ the loop

    def run(self) -> int:
        """The engine until the program ends on its own or by shutdown:
        the program's exit status."""
        self.spawn()
        while True:
            got = self.next_message()
            if got is REBOOT:
                self.reboot_program()
                continue
            if got is GRACE_OVER:
                print("advkit.pygame: the program did not quit %.0f s after QUIT; ending it"
                      % QUIT_GRACE, file=sys.stderr)
                self.end_child(grace=0)
                return 0
            if got is None:
                code = self.end_child()
                return code if code >= 0 else 128 - code
            message, fds = got
            if "mode" in message:
                width, height = message["mode"]
                self.start(width, height, fds[0])
            elif "resized" in message:
                for fd in fds:
                    os.close(fd)
                print("advkit.pygame: the display changed size to %dx%d; the engine stays "
                      "%dx%d (frames of another size are not published)"
                      % (*message["resized"], *(self.size or (0, 0))), file=sys.stderr)
            elif "frame" in message:
                self.frame(message)

    def reboot_program(self) -> None:
        """engine.reboot: the program's process ended, a fresh one started
        with the same arguments; the host (its name, clients and their
        subscriptions) stays."""
        self.end_child()
        self.restart = False
        self.budget = 0
        # The fresh program's first frame shows the reboot's tick (as a
        # game that rebuilds its world at that tick), so a replay that
        # reboots there sees the same frames after it.
        self.tick -= 1
        self.spawn()

    def start(self, width: int, height: int, fd: int) -> None:
        """The engine, at the display's size (on the program's first
        set_mode); a rebooted program's frames come through its own
        shared memory."""
        if self.shared is not None:
            self.shared.close()
        self.shared = mmap.mmap(fd, width * height * 4, prot=mmap.PROT_READ)
        os.close(fd)
        if self.host is not None:
            if (width, height) != self.size:
                print("advkit.pygame: the rebooted program's display is %dx%d; the engine "
                      "stays %dx%d (frames of another size are not published)"
                      % (width, height, *self.size), file=sys.stderr)  # type: ignore[misc]
                self.shared.close()
                self.shared = None
            return
        self.size = (width, height)
        self.host = advkit.Host(
            self.name, width, height,
            params=self.program_params + [
                advkit.Param.int("fps", 1, 240, int(self.fps), unit="Hz",
                                 description="Frames per second, in real time"),
                advkit.Param.int("seed", 0, 2**31 - 1, self.seed, reboot=True,
                                 description="Seed of random (and numpy.random) at the start"),
                advkit.Param.float("time_scale", 0.1, 10.0, 1.0, step=0.1,
                                   description="Program seconds per real second"),
            ],
            standard=["engine.reboot"],
            methods=[advkit.Method(
                "engine.input",
                "Press, release or tap a key: KEYDOWN/KEYUP events, and "
                "pygame.key.get_pressed() shows the keys held",
                [advkit.Arg("button", "string", _INPUT_HELP, required=True),
                 advkit.Arg("action", "string", "press, release or tap (default tap)")]),
                advkit.Method(
                "pygame.mouse",
                "Move the pointer to x, y (pixels of the display), and press, release or tap "
                "a button there: MOUSEMOTION and MOUSEBUTTONDOWN/UP events, and "
                "pygame.mouse.get_pos()/get_pressed() show it",
                [advkit.Arg("x", "integer", "column", required=True, min=0, max=width - 1),
                 advkit.Arg("y", "integer", "row", required=True, min=0, max=height - 1),
                 advkit.Arg("button", "integer", "1 left, 2 middle, 3 right; none: only move",
                            min=1, max=5),
                 advkit.Arg("action", "string", "press, release or tap (default tap)")])],
            fps=self.fps, paused=self.paused, history=self.history,
            engine="%s (pygame, advkit.pygame)" % self.name,
        )
        self.waker = self.host.waker()

    def param_value(self, name: str, default: Any) -> Any:
        return self.host.param(name) if self.host is not None else default

    def param_values(self) -> dict[str, Any]:
        if self.host is not None:
            return dict(self.host.params)
        # Before the program's first set_mode (no host yet): the defaults.
        return dict(self.program_defaults, fps=int(self.fps), seed=self.seed, time_scale=1.0)

    # ------------------------------------------------------------ frames

    def frame(self, message: dict[str, Any]) -> None:
        """A frame the program drew: published, then held while paused
        (answering requests) and paced to the fps; then its go."""
        host, chan = self.host, self.chan
        assert host is not None and chan is not None
        self.tick += 1
        if self.tick > 0:
            # The program's own time for this frame (update and draw):
            # engine.stats and the inspector show it.
            host.record_tick_time(float(message["frame"]))
        # A step of N frames publishes its last (as a game that simulates
        # N ticks and draws once): the host answers the step at a publish.
        if self.budget <= 1 and message.get("order") and self.shared is not None:
            host.publish(self.tick, self.shared, order=message["order"])
        if not self.wait_for_next_frame():
            return  # a reboot: the program is ended, not answered
        go = {"fps": self.fps, "time_scale": float(host.param("time_scale")),
              "params": self.param_values(), "publish_next": self.budget <= 1,
              "input": self.input, "quit": self.quit_at is not None}
        # A key tapped is released at the go after the one that pressed
        # it: the program sees it held for exactly one frame, whenever the
        # tap came.
        self.input = [{"key": k, "down": False} for k in self.release_next]
        self.release_next = []
        try:
            chan.send(go)
        except OSError:
            pass  # the program is gone: its reader says so

    def wait_for_next_frame(self) -> bool:
        """Serves requests until the next frame may be drawn: its deadline
        at the fps, then a grant of frames from the host (1 while running,
        N for ``step N``, none while paused). Once frames are granted
        nothing else asks the host: it would take them as done. False for
        a reboot."""
        host = self.host
        assert host is not None
        if self.budget > 0:
            self.budget -= 1
            if self.budget > 0 and self.quit_at is None:
                return True  # inside a step: the next frame at once
        self.fps = float(host.param("fps"))
        if self.fps != self.host_fps:
            host.set_fps(self.fps)
            self.host_fps = self.fps
        self.deadline = host.next_deadline(self.deadline)
        # What is waiting is answered even when the program runs behind
        # its fps (the deadline already passed: a slow frame must not
        # starve the clients); then until the deadline, whatever ends a
        # wait early (a wake that came late), so the fps holds.
        host.serve(self.handle, self.deadline)
        while _monotonic() < self.deadline and host.running and not self.restart:
            host.serve(self.handle, self.deadline)
        while self.budget == 0:
            if self.restart:
                return False
            if not host.running or self.quit_at is not None:
                if self.quit_at is None:
                    self.quit_at = _monotonic()
                self.budget = 1 << 30  # let it run to its end
                return True
            due = host.ticks_due()
            if due > 0:
                self.budget = due
                return True
            host.serve(self.handle, _monotonic() + 0.05)
        return True

    def close(self) -> None:
        if self.child is not None and self.child.poll() is None:
            self.end_child()
        if self.host is not None:
            self.host.close()
            self.host = None

    # ------------------------------------------------------------ requests

    def handle(self, req: advkit.Request) -> Any:
        if req.method == "engine.reboot":
            return self.reboot(req)
        if req.method == "pygame.mouse":
            return self.mouse(req)
        if req.method == "engine.input":
            button = req.params["button"]
            action = req.params.get("action") or "tap"
            if action not in ("press", "release", "tap"):
                req.error(-32602, "action %r: press, release or tap" % action)
                return None
            try:
                self.key_code(button)
            except ValueError as e:
                req.error(-32602, str(e))
                return None
            self.input.append({"key": button, "down": action != "release"})
            if action == "tap":
                self.release_next.append(button)
            return {"button": button, "action": action}
        req.error(-32601, "advkit.pygame answers no %s" % req.method)
        return None

    def reboot(self, req: advkit.Request) -> Any:
        """Restarts the program from its start in a fresh process (always
        fresh: nothing of a running pygame program can be carried over),
        after confirmation."""
        assert self.host is not None
        if not req.params.get("confirm", False):
            req.error(-32003, "a reboot restarts the program from its start, losing where it "
                      'is; call again with "confirm": true',
                      {"would_lose": {"frames": self.tick}})
            return None
        applied = self.host.apply_pending_params()
        self.restart = True
        # Input asked for before the reboot was the old program's.
        self.input, self.release_next = [], []
        return {"tick": self.tick, "progress": "discard", "applied": applied, "carried": None}

    def mouse(self, req: advkit.Request) -> Any:
        """``pygame.mouse``: the pointer moved, and a button pressed or
        released there (posted at the program's next frame)."""
        x, y = req.params["x"], req.params["y"]
        button = req.params.get("button")
        action = req.params.get("action") or "tap"
        if action not in ("press", "release", "tap"):
            req.error(-32602, "action %r: press, release or tap" % action)
            return None
        self.input.append({"mouse": [x, y], "button": button, "action": action})
        return {"pos": [x, y], "button": button, "action": action}

    def key_code(self, name: str) -> int:
        """The key ``name`` is (checked here, pressed in the program)."""
        if self.pygame is None:
            os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
            os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
            import pygame

            pygame.display.init()  # key names need the video subsystem
            self.pygame = pygame
        pygame = self.pygame
        try:
            key = int(pygame.key.key_code(ALIASES.get(name, name)))
        except ValueError:
            key = pygame.K_UNKNOWN
        if key == pygame.K_UNKNOWN:
            raise ValueError("button %r: not a pygame key name (pygame.key.name gives them: "
                             "left, right, up, down, space, return, escape, a, 1, f1, ...)"
                             % name)
        return key


def load_params(path: str) -> list[advkit.Param]:
    """The program's own params from a JSON file: a list of
    ``{"name", "type": "int" | "float" | "bool" | "choice", "default", "min",
    "max", "step", "choices", "unit", "description", "reboot"}``."""
    try:
        with open(path, encoding="utf-8") as f:
            entries = json.load(f)
    except (OSError, ValueError) as why:
        raise SystemExit("advkit.pygame: --params %s: %s" % (path, why))
    if not isinstance(entries, list):
        raise SystemExit("advkit.pygame: --params %s: a JSON list of params, e.g. "
                         '[{"name": "speed", "type": "int", "min": 1, "max": 9, "default": 3}]'
                         % path)
    made = []
    for i, e in enumerate(entries):
        try:
            kind, name = e["type"], e["name"]
            common = {"description": e.get("description", ""), "reboot": e.get("reboot", False)}
            if kind == "int":
                made.append(advkit.Param.int(name, e["min"], e["max"], e["default"],
                                             unit=e.get("unit", ""), **common))
            elif kind == "float":
                made.append(advkit.Param.float(name, e["min"], e["max"], e["default"],
                                               step=e.get("step", 0.1), unit=e.get("unit", ""),
                                               **common))
            elif kind == "bool":
                made.append(advkit.Param.bool(name, e["default"], **common))
            elif kind == "choice":
                made.append(advkit.Param.choice(name, e["choices"], e["default"], **common))
            else:
                raise ValueError("type %r is not int, float, bool or choice" % kind)
        except (KeyError, TypeError, ValueError) as err:
            raise SystemExit("advkit.pygame: --params %s: entry %d: %s" % (path, i, err))
    return made


def parse(argv: list[str]) -> tuple[argparse.Namespace, Callable[[], Any], str]:
    ap = argparse.ArgumentParser(
        prog="python -m advkit.pygame",
        description="Run a pygame program unmodified as an advkit engine (headless; the "
                    "program in a child process, started again at every reboot).")
    ap.add_argument("--name", help="engine name (default: the script's or module's name)")
    ap.add_argument("--fps", type=float, default=60.0, help="frames per second (default: 60)")
    ap.add_argument("--seed", type=int, default=0, help="seed of random (default: 0)")
    ap.add_argument("--paused", action="store_true", help="start paused, before the first frame")
    ap.add_argument("--real-time", action="store_true",
                    help="the program sees the real clock and unseeded randomness")
    ap.add_argument("--mouse-keys", action="store_true",
                    help="the arrows held also move the pointer (8 pixels a frame) and Space "
                         "is its left button: for mouse games, from the inspector's game focus")
    ap.add_argument("--history", type=float, default=60.0,
                    help="seconds of history for seek (default: 60; needs world.save)")
    ap.add_argument("--params", metavar="FILE",
                    help="the program's own params (JSON; see docs/pygame.md), read with "
                         "advkit.pygame.param(name, default)")
    ap.add_argument("--_child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("-m", dest="module", help="run a module, as python -m does")
    ap.add_argument("script", nargs="?", help="the program's script")
    ap.add_argument("args", nargs=argparse.REMAINDER, help="the program's arguments")
    args = ap.parse_args(argv)
    if args.module:
        if args.script is not None:
            args.args.insert(0, args.script)
        module = args.module
        sys.argv = [module, *args.args]
        return args, lambda: runpy.run_module(module, run_name="__main__", alter_sys=True), \
            module.rsplit(".", 1)[-1]
    if args.script is None:
        ap.error("give a script (script.py) or -m module")
    script = args.script
    if not os.path.isfile(script):
        ap.error("no script %s (give the program's .py file, or -m module)" % script)
    sys.argv = [script, *args.args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    stem = os.path.splitext(os.path.basename(script))[0]
    return args, lambda: runpy.run_path(script, run_name="__main__"), stem


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args, run, stem = parse(argv)
    if args._child is not None:
        return run_program(args._child, args, run)
    program_params, defaults = [], {}
    if args.params:
        program_params = load_params(args.params)
        with open(args.params, encoding="utf-8") as f:
            defaults = {e["name"]: e["default"] for e in json.load(f)}
    engine = Engine(args.name or stem, args.fps, args.seed, args.paused, args.history,
                    child_argv=argv, program_params=program_params, program_defaults=defaults)
    try:
        return engine.run()
    except KeyboardInterrupt:
        return 130
    finally:
        engine.close()


if __name__ == "__main__":
    sys.exit(main())
