"""advkit for asyncio: the same client and frame reader, awaitable.

Thin on purpose: each call runs the Rust client's call in a worker thread
(``asyncio.to_thread``), which releases the GIL while it waits, so the
event loop keeps running. Waits are bounded (a client's ``timeout``, the
events iterator's ``poll``), so a cancelled await leaves no thread behind
for longer than that.

    async with await advkit.aio.connect("mygame") as c:
        print(await c.get("speed"))
        async for ev in c.events(["params"]):
            ...
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, AsyncIterator, Mapping, Optional, Sequence, TypeVar

from advkit import _advkit

__all__ = ["Client", "FrameReader", "connect", "open_frames"]

_Self = TypeVar("_Self", bound="_Closes")


class _Closes:
    """``async with``: ``close()`` at the end."""

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()


class Client(_Closes):
    """``advkit.Client``, awaitable. Make one with :func:`connect`."""

    def __init__(self, client: _advkit.Client) -> None:
        self._client = client

    @property
    def name(self) -> str:
        return self._client.name

    async def call(self, method: str, params: Optional[Mapping[str, Any]] = None) -> Any:
        """Calls any method by name; returns its result."""
        return await asyncio.to_thread(self._client.call, method, params)

    async def get(self, *names: str) -> dict[str, Any]:
        """``params.get``: every value, or the named ones."""
        result: dict[str, Any] = await asyncio.to_thread(self._client.get, *names)
        return result

    async def set(self, **values: Any) -> dict[str, Any]:
        """``params.set``, all or nothing; returns the change."""
        result: dict[str, Any] = await asyncio.to_thread(lambda: self._client.set(**values))
        return result

    async def events(
        self, topics: Optional[Sequence[str]] = None, *, poll: float = 0.5
    ) -> AsyncIterator[dict[str, Any]]:
        """Yields each event (``{"tick", "topic", "event", "data"}``) of
        ``topics`` (all when omitted), until the loop stops iterating.
        ``poll``: seconds each wait in a worker thread lasts at most."""
        events = await asyncio.to_thread(self._client.events, topics, timeout=poll)
        try:
            while True:
                ev = await asyncio.to_thread(next, events, None)
                if ev is not None:
                    yield ev
        finally:
            events.close()

    async def close(self) -> None:
        await asyncio.to_thread(self._client.close)


async def connect(
    name: str = "default",
    *,
    tcp: Optional[str] = None,
    token: Optional[str] = None,
    timeout: float = 5.0,
) -> Client:
    """Connects to engine ``name`` (as ``advkit.Client`` does)."""
    client = await asyncio.to_thread(
        _advkit.Client, name, tcp=tcp, token=token, timeout=timeout
    )
    return Client(client)


class FrameReader(_Closes):
    """``advkit.FrameReader``, awaitable. Make one with :func:`open_frames`."""

    def __init__(self, reader: _advkit.FrameReader) -> None:
        self._reader = reader

    @property
    def width(self) -> int:
        return self._reader.width

    @property
    def height(self) -> int:
        return self._reader.height

    async def wait_next(
        self, timeout: float = 5.0, *, after: Optional[int] = None
    ) -> Optional[_advkit.Frame]:
        """The next frame (a copy), or None after ``timeout`` seconds."""
        return await asyncio.to_thread(self._reader.wait_next, timeout, after=after)

    async def wait_next_into(
        self, buffer: Any, timeout: float = 5.0, *, after: Optional[int] = None
    ) -> Optional[_advkit.FrameInfo]:
        """The next frame copied into ``buffer``, or None after ``timeout``."""
        return await asyncio.to_thread(
            self._reader.wait_next_into, buffer, timeout, after=after
        )

    def read_latest(self) -> _advkit.Frame:
        """The newest frame: a copy, at once (no waiting)."""
        return self._reader.read_latest()

    async def close(self) -> None:
        self._reader.close()


async def open_frames(name: str = "default") -> FrameReader:
    """Opens engine ``name``'s frame region (as ``advkit.FrameReader`` does)."""
    reader = await asyncio.to_thread(_advkit.FrameReader, name)
    return FrameReader(reader)
