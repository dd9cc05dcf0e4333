"""The exceptions advkit raises. Messages are the ones the CLI prints."""


class AdvkitError(Exception):
    """Anything advkit reports: a refused start, a closed host, a bad reply."""


class NotRunning(AdvkitError):
    """No engine of that name is running (no socket, no frame region, or
    its process is gone)."""


class Timeout(AdvkitError):
    """No reply, event or frame came in time."""


class RpcError(AdvkitError):
    """The engine answered with a JSON-RPC error.

    ``code`` is the JSON-RPC code (-32602: invalid params, -32003: needs
    ``confirm``, ...), ``message`` says what is wrong and what to do, and
    ``data`` carries the details some errors have (``would_lose`` for a
    fresh reboot, for example), or None.
    """

    def __init__(self, code, message, data=None):
        super().__init__("%s (%d)" % (message, code))
        self.code = code
        self.message = message
        self.data = data
