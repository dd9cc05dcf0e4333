"""Type stubs for the compiled part of advkit (python/src)."""

import builtins
import sys
from os import PathLike
from types import TracebackType
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence, final

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:
    from typing_extensions import Buffer

__all__ = [
    "__version__", "Host", "Request", "Requests", "Waker", "Param", "Arg", "Method", "Client",
    "Events", "FrameReader", "Frame", "FrameInfo", "main",
]

_Json = Any
"""Anything JSON carries: None, bool, int, float, str, lists and dicts
(NumPy scalars and arrays are sent as their ``tolist()``)."""

__version__: str

def main(argv: Sequence[str], exe: str | PathLike[str]) -> int:
    """Runs the ``advkit`` command line ``argv`` and returns its exit status."""

@final
class Param:
    """One tunable parameter of a game: what the inspector shows as a
    slider, toggle or choice, and what ``params.set`` checks values against."""

    @staticmethod
    def int(name: str, min: builtins.int, max: builtins.int, default: builtins.int, *,
            unit: str = "", description: str = "", reboot: builtins.bool = False) -> Param:
        """An integer from ``min`` to ``max``."""
    @staticmethod
    def float(name: str, min: builtins.float, max: builtins.float, default: builtins.float, *,
              step: builtins.float = 0.1, unit: str = "", description: str = "",
              reboot: builtins.bool = False) -> Param:
        """A number from ``min`` to ``max``, in steps of ``step``."""
    @staticmethod
    def bool(name: str, default: builtins.bool, *, description: str = "",
             reboot: builtins.bool = False) -> Param:
        """On or off."""
    @staticmethod
    def choice(name: str, choices: Sequence[str], default: str, *, description: str = "",
               reboot: builtins.bool = False) -> Param:
        """One of ``choices``."""
    @property
    def name(self) -> str:
        """The param's name, as clients set it."""

@final
class Arg:
    """One param of a game method, checked by the server before the game
    sees the request. ``type`` is one of string, integer, number, boolean,
    object, array, any."""

    def __new__(cls, name: str, type: str, description: str = "", *, required: bool = False,
                min: Optional[float] = None, max: Optional[float] = None) -> Arg: ...

@final
class Method:
    """A method of the game's own: its name, what it does, its params."""

    def __new__(cls, name: str, summary: str, params: Sequence[Arg] = ..., *,
                read_only: bool = False, tier: Optional[str] = None) -> Method: ...

@final
class Request:
    """A request only the game can answer, its params already checked
    against the method's schema. Answer it once with ``reply`` or
    ``error``; one dropped unanswered is answered -32603."""

    @property
    def method(self) -> str:
        """The method's name, e.g. ``engine.reboot`` or ``game.spawn``."""
    @property
    def params(self) -> dict[str, _Json]:
        """The params, checked against the method's schema."""
    @property
    def answered(self) -> bool:
        """Whether it has been answered."""
    def reply(self, result: _Json = None) -> None:
        """Answers with ``result`` (anything JSON can carry; None is null)."""
    def error(self, code: int, message: str, data: _Json = None) -> None:
        """Answers with a JSON-RPC error: ``code``, a message a person reads,
        and optional data."""

@final
class Waker:
    """Ends a ``Host``'s wait for requests from another thread."""
    def wake(self) -> None:
        """Makes the host's current (or next) wait in ``serve``/``requests``
        return at once; never blocks, harmless after the host closed."""

@final
class Requests(Iterator[Request]):
    """The iterator ``Host.requests`` returns."""

    def __iter__(self) -> Requests: ...
    def __next__(self) -> Request: ...

@final
class Host:
    """A Python game's connection to advkit: the frame region, the control
    socket, params and events. Usable from any thread, one call at a time.
    Close it (or leave its ``with`` block) to stop the server and remove
    its files."""

    def __new__(cls, name: str, width: int, height: int, *, params: Sequence[Param] = ...,
                methods: Sequence[Method] = ..., standard: Sequence[str] = ...,
                fps: float = 30.0, paused: bool = False, engine: Optional[str] = None,
                tcp: Optional[str] = None,
                tokens: Optional[Mapping[str, str | PathLike[str]]] = None,
                allow_remote: bool = False,
                params_file: Optional[str | PathLike[str]] = None,
                handle_signals: bool = True, history: float = 60.0) -> Host: ...
    @property
    def name(self) -> str:
        """The engine's name (what ``advkit ls`` lists and clients connect to)."""
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def socket_path(self) -> str: ...
    @property
    def frames_path(self) -> str: ...
    @property
    def running(self) -> bool:
        """False once a client sent ``engine.shutdown``, on SIGINT, SIGTERM
        or SIGHUP (with ``handle_signals``), or after ``close()``."""
    @property
    def paused(self) -> bool:
        """Whether the game is paused (by a client, or set here)."""
    @paused.setter
    def paused(self, paused: bool) -> None: ...
    @property
    def tick(self) -> int:
        """The tick of the last published frame."""
    @property
    def params(self) -> dict[str, _Json]:
        """The current param values."""
    @property
    def params_revision(self) -> int:
        """A revision number that changes whenever a param does."""
    def ticks_due(self) -> int:
        """How many ticks to simulate now: 1 while running, 0 while paused,
        N after ``engine.step N``."""
    def next_deadline(self, prev: Optional[float] = None) -> float:
        """The next tick's deadline as a ``time.monotonic()`` value."""
    def requests(self, deadline: Optional[float] = None) -> Requests:
        """The game's own requests until ``deadline`` (a ``time.monotonic()``
        value), answering generic ones meanwhile."""
    def serve(self, handler: Callable[[Request], _Json], deadline: Optional[float] = None) -> int:
        """Calls ``handler(request)`` for each request until ``deadline``;
        returns how many it handled."""
    def publish(self, tick: int, pixels: Buffer, *, order: str = "RGBA") -> int:
        """Publishes one RGBA frame shown at ``tick``: (height, width, 4)
        uint8, or (height, width) uint32 packed RGBA. Returns the frame
        number."""
    def param(self, name: str) -> _Json:
        """One param's value."""
    def set_param(self, name: str, value: _Json) -> None:
        """Sets a param from the game's side (checked like ``params.set``)."""
    def apply_pending_params(self) -> list[str]:
        """Applies reboot-only params that are pending; returns their names."""
    def emit(self, kind: str, data: _Json = None) -> None:
        """Sends a ``world`` event to subscribers."""
    def log(self, message: str) -> None:
        """Sends a ``log`` event."""
    def record_tick_time(self, seconds: float) -> None:
        """Records how long one update and render took, for ``engine.stats``."""
    def waker(self) -> Waker:
        """A ``Waker`` whose ``wake()``, from any thread, ends a wait in
        ``serve``/``requests`` at once."""
    def set_fps(self, fps: float) -> None:
        """Changes the tick rate (above 0)."""
    def close(self) -> None:
        """Stops the server and removes its files."""
    def __enter__(self) -> Host: ...
    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType], /) -> bool: ...

@final
class Events(Iterator[dict[str, _Json]]):
    """The iterator ``Client.events`` returns; close it to unsubscribe."""

    def __iter__(self) -> Events: ...
    def __next__(self) -> dict[str, _Json]: ...
    def close(self) -> None:
        """Ends the subscription."""
    def __enter__(self) -> Events: ...
    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType], /) -> bool: ...

@final
class Client:
    """A connection to a running engine: the calls of ``advkit send``.
    Safe to share between threads (calls take turns)."""

    def __new__(cls, name: str = "default", *, tcp: Optional[str] = None,
                token: Optional[str] = None, timeout: float = 5.0) -> Client: ...
    @property
    def name(self) -> str:
        """The engine's name."""
    def call(self, method: str, params: Optional[Mapping[str, _Json]] = None) -> _Json:
        """Calls any method by name; returns its result."""
    def get(self, *names: str) -> dict[str, _Json]:
        """``params.get``: every value, or the named ones."""
    def set(self, **values: _Json) -> dict[str, _Json]:
        """``params.set`` with keyword arguments, all or nothing."""
    def events(self, topics: Optional[Sequence[str]] = None, *,
               timeout: Optional[float] = None) -> Events:
        """Subscribes to ``topics`` (all when omitted) and yields each event."""
    def close(self) -> None:
        """Closes the connection."""
    def __enter__(self) -> Client: ...
    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType], /) -> bool: ...

@final
class Frame:
    """One frame copied out of an engine's frame region."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def frame(self) -> int:
        """The frame number (1 for the first frame of a session)."""
    @property
    def tick(self) -> int:
        """The engine tick it shows."""
    @property
    def checksum(self) -> int:
        """The writer's checksum of the pixels."""
    @property
    def pixels(self) -> bytes:
        """Tight RGBA bytes, rows top to bottom."""

@final
class FrameInfo:
    """What was read into a buffer of yours (``read_into``)."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def frame(self) -> int: ...
    @property
    def tick(self) -> int: ...
    @property
    def checksum(self) -> int: ...

@final
class FrameReader:
    """Reads an engine's frames from its frame region, read-only."""

    def __new__(cls, name: str = "default", *,
                path: Optional[str | PathLike[str]] = None) -> FrameReader: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def latest_frame(self) -> int:
        """The newest published frame number (0: none yet)."""
    def read_latest(self) -> Frame:
        """A copy of the newest frame."""
    def read_into(self, buffer: Buffer) -> FrameInfo:
        """Copies the newest frame into ``buffer`` (writable, width x height
        x 4 bytes), in one copy."""
    def wait_next(self, timeout: float = 5.0, *, after: Optional[int] = None) -> Optional[Frame]:
        """The next frame (a copy), or None after ``timeout`` seconds."""
    def wait_next_into(self, buffer: Buffer, timeout: float = 5.0, *,
                       after: Optional[int] = None) -> Optional[FrameInfo]:
        """``wait_next``, copying into ``buffer``."""
    def close(self) -> None:
        """Unmaps the region."""
    def __enter__(self) -> FrameReader: ...
    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType], /) -> bool: ...
