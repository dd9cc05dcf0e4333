"""advkit for Python games and tools.

- ``Host``: make a Python game an advkit engine. ``advkit inspect``,
  ``advkit send``, ``advkit snapshot`` and ``advkit ls`` work on it.
- ``Client``: the calls of ``advkit send``, returning Python values.
- ``FrameReader``: copy frames out of any engine's frame region.

See docs/python.md.
"""

from advkit._advkit import (
    Arg,
    Client,
    Events,
    Frame,
    FrameReader,
    Host,
    Method,
    Param,
    Request,
    Requests,
)
from advkit.errors import AdvkitError, NotRunning, RpcError, Timeout

__all__ = [
    "AdvkitError",
    "Arg",
    "Client",
    "Events",
    "Frame",
    "FrameReader",
    "Host",
    "Method",
    "NotRunning",
    "Param",
    "Request",
    "Requests",
    "RpcError",
    "Timeout",
]
