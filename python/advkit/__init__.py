"""advkit for Python games and tools.

- ``Host``: make a Python game an advkit engine. ``advkit inspect``,
  ``advkit send``, ``advkit snapshot`` and ``advkit ls`` work on it.
- ``Client``: the calls of ``advkit send``, returning Python values.
- ``FrameReader``: copy frames out of any engine's frame region.
- ``advkit.aio``: the client and frame reader for asyncio.
- The ``advkit`` command comes with the package (``pip install``).

See docs/python.md.
"""

from advkit._advkit import (
    Arg,
    Client,
    Events,
    Frame,
    FrameInfo,
    FrameReader,
    Host,
    Method,
    Param,
    Request,
    Requests,
    Waker,
    __version__,
)
from advkit.errors import AdvkitError, NotRunning, RpcError, Timeout

__all__ = [
    "AdvkitError",
    "Arg",
    "Client",
    "Events",
    "Frame",
    "FrameInfo",
    "FrameReader",
    "Host",
    "Method",
    "NotRunning",
    "Param",
    "Request",
    "Requests",
    "Waker",
    "RpcError",
    "Timeout",
    "__version__",
]
