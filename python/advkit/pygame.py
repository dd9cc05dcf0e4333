"""Any pygame program as an advkit engine, unmodified:

    python -m advkit.pygame [--name N] [--fps F] [--seed S] [--paused]
                            [--real-time] [--history SECONDS] script.py [args...]
    python -m advkit.pygame ... -m package.module [args...]

The program runs headless (SDL's dummy video and audio drivers, no
window). Its display becomes the engine's frames; `advkit inspect`,
`send`, `snapshot`, `record` and `golden` work on it:

- frames: every ``pygame.display.flip()``/``update()`` publishes the
  display surface;
- time: ``pause`` holds the program inside ``flip``, ``step N`` lets
  exactly N frames through, ``shutdown`` posts ``QUIT`` (and ends the
  process if the program does not quit within two seconds);
- reboot: ``engine.reboot`` (with ``confirm``) restarts the program from
  its start, in this process, keeping the engine's name and clients: its
  script runs again in fresh globals, with time at 0 and random reseeded
  (modules it imported keep their state);
- input: ``engine.input`` (``advkit send input press left``) becomes
  ``KEYDOWN``/``KEYUP`` events, and ``pygame.key.get_pressed()`` shows the
  keys held; the method ``pygame.mouse`` (``{"x", "y", "button",
  "action"}``) moves the pointer and presses its buttons;
- determinism (unless ``--real-time``): the program sees a virtual clock
  that advances exactly one frame per frame (``pygame.time.get_ticks``,
  ``Clock``, ``time.time``/``monotonic``/``perf_counter``,
  ``pygame.time.wait``/``delay``), and ``random`` (and ``numpy.random``)
  is seeded from ``--seed``; frames are paced at ``--fps`` in real time.

See docs/pygame.md.
"""

from __future__ import annotations

import argparse
import os
import random
import runpy
import sys
import time
from typing import Any, Callable, Optional

import advkit

__all__ = ["Adapter", "PygameClock", "VirtualClock", "load_params", "main", "param"]

# The real clocks, taken before the program's are made virtual.
_monotonic = time.monotonic
_sleep = time.sleep

#: Button names of advkit's own (the inspector's game focus sends its
#: Space as "action") and the pygame keys they are.
ALIASES = {"action": "space"}

#: How long the program may take to quit after ``shutdown`` posts QUIT.
QUIT_GRACE = 2.0


class Restart(BaseException):
    """Raised from ``flip`` to unwind the program for ``engine.reboot``:
    a BaseException, so the program's ``except Exception`` lets it by."""


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


class Adapter:
    """Makes the running pygame program an engine (see the module's text)."""

    def __init__(self, name: str, fps: float, seed: int, paused: bool, real_time: bool,
                 history: float) -> None:
        self.name = name
        self.fps = fps
        self.host_fps = fps
        self.seed = seed
        self.paused = paused
        self.real_time = real_time
        self.history = history
        self.clock = VirtualClock(fps)
        self.program_params: list[advkit.Param] = []
        self.host: Optional[advkit.Host] = None
        # The first frame shows tick 0 (a paused engine is at tick 0, as a
        # replay wants it), the next ones 1, 2, ...
        self.tick = -1
        self.budget = 0  # frames a granted step still lets through
        self.deadline = _monotonic()
        self.resumed = _monotonic()  # when the program got its frame to draw
        self.held: set[int] = set()  # scancodes of keys held by engine.input
        self.mouse_pos = (0, 0)  # where pygame.mouse says the pointer is
        self.mouse_held: set[int] = set()  # mouse buttons held (1 left, 2, 3)
        self.release_next: list[str] = []  # keys tapped: released after a frame
        self.quit_at: Optional[float] = None
        self.restart = False
        # Keys asked for after a reboot was, in the same wait: for the
        # restarted program (its tick is the reboot's).
        self.after_restart: list[tuple[str, str]] = []
        self.drawn = False  # a frame of this run of the program was drawn
        self.pygame: Any = None

    # ------------------------------------------------------------ setup

    def install(self) -> None:
        """Headless SDL, then pygame's display, keys and clocks rerouted."""
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
        # The pointer is advkit's: no real mouse reaches a headless program.
        setattr(pygame.mouse, "get_pos", lambda: self.mouse_pos)
        setattr(pygame.mouse, "get_pressed", mouse_pressed)
        if not self.real_time:
            self.make_time_virtual(pygame)
        self.begin()

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
        """The engine, at the display's size (on the first set_mode)."""
        width, height = surface.get_size()
        if self.host is not None:
            if (width, height) != (self.host.width, self.host.height):
                print("advkit.pygame: the display changed size to %dx%d; the engine stays "
                      "%dx%d (frames of another size are not published)"
                      % (width, height, self.host.width, self.host.height), file=sys.stderr)
            return
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
                [advkit.Arg("button", "string",
                            "a pygame key name (pygame.key.name): left, right, up, down, space, "
                            "return, escape, tab, a..z, 0..9, f1..f12, left shift, ...; action: "
                            "space", required=True),
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

    # ------------------------------------------------------------ frames

    def frame(self) -> None:
        """One frame the program drew: published, then held while paused
        (answering requests) and paced to the fps."""
        host = self.host
        if host is None:
            return
        pygame = self.pygame
        surface = pygame.display.get_surface()
        if surface is None or surface.get_size() != (host.width, host.height):
            return
        self.tick += 1
        if self.drawn:
            self.clock.advance(self.clock.frame)
            # The program's own time for this frame (update and draw):
            # engine.stats and the inspector show it.
            host.record_tick_time(_monotonic() - self.resumed)
        self.drawn = True
        # A step of N frames publishes its last (as a game that simulates
        # N ticks and draws once): the host answers the step at a publish.
        if self.budget <= 1:
            self.publish(surface)
        # Taps of the frame before end now.
        released, self.release_next = self.release_next, []
        for key in released:
            self.key(key, pressed=False)
        # Keys asked for while a reboot was under way reach the restarted
        # program after its first frame, as a replay sends them.
        deferred, self.after_restart = self.after_restart, []
        for button, action in deferred:
            self.press(button, action)
        self.wait_for_next_frame()

    def publish(self, surface: Any) -> None:
        assert self.host is not None
        if surface.get_bitsize() == 32 and surface.get_masks()[:3] == (0xFF0000, 0xFF00, 0xFF):
            order = "BGRX" if surface.get_masks()[3] == 0 else "BGRA"
            self.host.publish(self.tick, surface.get_buffer(), order=order)
        else:
            self.host.publish(self.tick, self.pygame.image.tobytes(surface, "RGBA"))

    def wait_for_next_frame(self) -> None:
        """Serves requests until the next frame may be drawn: its deadline
        at the fps, then a grant of frames from the host (1 while running,
        N for ``step N``, none while paused). Once frames are granted
        nothing else asks the host: it would take them as done."""
        host = self.host
        assert host is not None
        if self.budget > 0:
            self.budget -= 1
            if self.budget > 0 and self.quit_at is None:
                self.resumed = _monotonic()
                return  # inside a step: the next frame at once
        if self.quit_at is not None:
            self.quit()
            return
        self.fps = float(host.param("fps"))
        self.clock.fps = self.fps
        self.clock.scale = float(host.param("time_scale"))
        if self.fps != self.host_fps:
            host.set_fps(self.fps)
            self.host_fps = self.fps
        self.deadline = host.next_deadline(self.deadline)
        host.serve(self.handle, self.deadline)
        while self.budget == 0:
            if self.restart:
                raise Restart()
            if not host.running:
                self.quit()
                return
            due = host.ticks_due()
            if due > 0:
                self.budget = due
                self.resumed = _monotonic()
                return
            host.serve(self.handle, _monotonic() + 0.05)

    def quit(self) -> None:
        """``shutdown``: QUIT for the program, and an end if it ignores it."""
        if self.quit_at is None:
            self.quit_at = _monotonic()
            self.pygame.event.post(self.pygame.event.Event(self.pygame.QUIT))
            self.budget = 1 << 30  # let it run to its end
        elif _monotonic() - self.quit_at > QUIT_GRACE:
            print("advkit.pygame: the program did not quit %.0f s after QUIT; ending it"
                  % QUIT_GRACE, file=sys.stderr)
            self.close()
            os._exit(0)

    def close(self) -> None:
        if self.host is not None:
            self.host.close()
            self.host = None

    # ------------------------------------------------------------ input

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
                if self.restart:
                    self.key_code(button)  # checked now, pressed after the restart
                    self.after_restart.append((button, action))
                else:
                    self.press(button, action)
            except ValueError as e:
                req.error(-32602, str(e))
                return None
            return {"button": button, "action": action}
        req.error(-32601, "advkit.pygame answers no %s" % req.method)
        return None

    def reboot(self, req: advkit.Request) -> Any:
        """Restarts the program from its start (always fresh: nothing of a
        running pygame program can be carried over), after confirmation."""
        assert self.host is not None
        if not req.params.get("confirm", False):
            req.error(-32003, "a reboot restarts the program from its start, losing where it "
                      'is; call again with "confirm": true',
                      {"would_lose": {"frames": self.tick}})
            return None
        applied = self.host.apply_pending_params()
        self.restart = True
        return {"tick": self.tick, "progress": "discard", "applied": applied, "carried": None}

    def begin(self) -> None:
        """The state a run of the program starts from: time 0, random
        seeded, no keys held."""
        self.clock.now = 0.0
        self.drawn = False
        self.held.clear()
        self.release_next = []
        self.restart = False
        self.seed = int(self.host.param("seed")) if self.host is not None else self.seed
        random.seed(self.seed)
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            numpy.random.seed(self.seed)
        if self.pygame is not None and self.pygame.get_init():
            self.pygame.event.clear()


    def mouse(self, req: advkit.Request) -> Any:
        """``pygame.mouse``: the pointer moved (MOUSEMOTION), and a button
        pressed or released there."""
        pygame = self.pygame
        x, y = req.params["x"], req.params["y"]
        button = req.params.get("button")
        action = req.params.get("action") or "tap"
        if action not in ("press", "release", "tap"):
            req.error(-32602, "action %r: press, release or tap" % action)
            return None
        old, self.mouse_pos = self.mouse_pos, (x, y)
        buttons = tuple(b in self.mouse_held for b in (1, 2, 3))
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
        return {"pos": [x, y], "buttons": sorted(self.mouse_held)}

    def press(self, button: str, action: str) -> None:
        self.key(button, pressed=action != "release")
        if action == "tap":
            self.release_next.append(button)

    def key_code(self, name: str) -> int:
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

    def key(self, name: str, pressed: bool) -> None:
        """A key event with its key, scancode, mod and unicode, and the
        held state ``get_pressed`` shows."""
        pygame = self.pygame
        key = self.key_code(name)
        scancode = scancode_of(pygame, key)
        if pressed:
            self.held.add(scancode)
        else:
            self.held.discard(scancode)
        kind = pygame.KEYDOWN if pressed else pygame.KEYUP
        text = name if len(name) == 1 else ""
        pygame.event.post(pygame.event.Event(kind, key=key, scancode=scancode, mod=0,
                                             unicode=text if pressed else ""))


_ADAPTER: Optional[Adapter] = None


def param(name: str, default: Any = None) -> Any:
    """The current value of param ``name`` while the program runs under
    ``python -m advkit.pygame`` (its own, declared with ``--params``, or
    the adapter's ``fps``, ``seed``, ``time_scale``); ``default`` when it
    runs on its own, so the program works both ways."""
    if _ADAPTER is None or _ADAPTER.host is None:
        return default
    return _ADAPTER.host.param(name)


def load_params(path: str) -> list[advkit.Param]:
    """The program's own params from a JSON file: a list of
    ``{"name", "type": "int" | "float" | "bool" | "choice", "default", "min",
    "max", "step", "choices", "unit", "description", "reboot"}``."""
    import json

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


def scancode_of(pygame: Any, key: int) -> int:
    """The SDL scancode of ``key`` (``K_LEFT`` -> ``KSCAN_LEFT``)."""
    name = pygame.key.name(key).upper().replace(" ", "")
    for candidate in ("KSCAN_" + name, "KSCAN_" + name.replace("KEYPAD", "KP_")):
        code = getattr(pygame, candidate, None)
        if isinstance(code, int):
            return code
    # Keys without a scancode constant of their own: SDL's mapping.
    return int(key) & ~(1 << 30) if key & (1 << 30) else 0


def parse(argv: list[str]) -> tuple[argparse.Namespace, Callable[[], Any], str]:
    ap = argparse.ArgumentParser(
        prog="python -m advkit.pygame",
        description="Run a pygame program unmodified as an advkit engine (headless).")
    ap.add_argument("--name", help="engine name (default: the script's or module's name)")
    ap.add_argument("--fps", type=float, default=60.0, help="frames per second (default: 60)")
    ap.add_argument("--seed", type=int, default=0, help="seed of random (default: 0)")
    ap.add_argument("--paused", action="store_true", help="start paused, before the first frame")
    ap.add_argument("--real-time", action="store_true",
                    help="the program sees the real clock and unseeded randomness")
    ap.add_argument("--history", type=float, default=60.0,
                    help="seconds of history for seek (default: 60; needs world.save)")
    ap.add_argument("--params", metavar="FILE",
                    help="the program's own params (JSON; see docs/pygame.md), read with "
                         "advkit.pygame.param(name, default)")
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
    args, run, stem = parse(sys.argv[1:] if argv is None else argv)
    global _ADAPTER
    adapter = Adapter(args.name or stem, args.fps, args.seed, args.paused, args.real_time,
                      args.history)
    if args.params:
        adapter.program_params = load_params(args.params)
    _ADAPTER = adapter
    # Run as `python -m advkit.pygame`, this module is __main__: the one the
    # program imports (for param()) is another instance of it.
    import importlib

    setattr(importlib.import_module("advkit.pygame"), "_ADAPTER", adapter)
    adapter.install()
    argv0 = list(sys.argv)
    try:
        while True:
            try:
                run()
                return 0
            except Restart:
                # engine.reboot: the program again from its start, in this
                # process, with the host (its name, clients, subscriptions)
                # kept.
                adapter.pygame.quit()
                sys.argv = list(argv0)
                adapter.begin()
                # The fresh program's first frame shows the reboot's tick
                # (as a game that rebuilds its world at that tick), so a
                # replay that reboots there sees the same frames after it.
                adapter.tick -= 1
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            return 1
        return e.code or 0
    finally:
        adapter.close()


if __name__ == "__main__":
    sys.exit(main())
