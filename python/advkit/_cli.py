"""The ``advkit`` command of the wheel: ``pip install`` makes a console
script of :func:`main`, which runs the Rust command line in the extension
(the same one as the ``advkit`` binary), so no Rust toolchain is needed."""

from __future__ import annotations

import os
import shutil
import signal
import sys

from advkit._advkit import main as _run


def main() -> None:
    """Runs ``advkit`` with this process's arguments and exits with its status."""
    # The command handles signals itself, as the binary does: Ctrl-C is
    # not a KeyboardInterrupt in Python while it runs.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    exe = shutil.which(sys.argv[0]) or os.path.abspath(sys.argv[0])
    sys.stdout.flush()
    sys.exit(_run(["advkit", *sys.argv[1:]], exe))


if __name__ == "__main__":
    main()
