"""The exceptions advkit raises: one hierarchy under ``AdvkitError``.
Messages are the ones the CLI prints.

- ``NotRunning`` is also a ``ConnectionError``: no engine of that name.
- ``Timeout`` is also a ``TimeoutError``: no reply, event or frame in time.
- ``RpcError``: the engine answered with a JSON-RPC error.

Bad arguments (a wrong shape, an unknown name, a value out of range) are
``ValueError`` or ``TypeError``, as Python's own are.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AdvkitError", "NotRunning", "RpcError", "Timeout"]


class AdvkitError(Exception):
    """Anything advkit reports: a refused start, a closed host, a bad reply."""


class NotRunning(AdvkitError, ConnectionError):
    """No engine of that name is running (no socket, no frame region, or
    its process is gone)."""


class Timeout(AdvkitError, TimeoutError):
    """No reply, event or frame came in time."""


class RpcError(AdvkitError):
    """The engine answered with a JSON-RPC error.

    ``code`` is the JSON-RPC code (-32602: invalid params, -32003: needs
    ``confirm``, ...), ``message`` says what is wrong and what to do, and
    ``data`` carries the details some errors have (``would_lose`` for a
    fresh reboot, for example), or None.
    """

    code: int
    message: str
    data: Any

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__("%s (%d)" % (message, code))
        self.code = code
        self.message = message
        self.data = data
