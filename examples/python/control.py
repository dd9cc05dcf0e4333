#!/usr/bin/env python3
"""Talk to a running advkit engine over its control socket (stdlib only).

Written from docs/protocol.md: JSON-RPC 2.0, one object per line.

    python3 control.py hello
    python3 control.py params.set '{"name": "walk_speed", "value": 2}'
    python3 control.py --name game --events 3 events.subscribe '{"topics": ["engine"]}'

Prints the result as JSON (and, with --events N, the next N events) and
exits 0; on an error reply prints it and exits 1; with no engine, or
params that are not a JSON object or array, says so and exits 2.
"""

import argparse
import json
import os
import socket
import sys
from typing import Any

Message = dict[str, Any]


def socket_path(name: str) -> str:
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    base = os.path.join(xdg, "advkit") if xdg else "/dev/shm/advkit-%d" % os.getuid()
    return os.path.join(base, name + ".sock")


class Client:
    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.file = self.sock.makefile("rwb")
        self.next_id = 1
        self.events: list[Message] = []

    def call(self, method: str, params: Any = None) -> Message:
        req = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
        self.next_id += 1
        self.file.write((json.dumps(req) + "\n").encode("utf-8"))
        self.file.flush()
        while True:
            msg = self.read()
            if "method" in msg:  # an event notification
                self.events.append(msg)
                continue
            if msg.get("id") == req["id"]:
                return msg

    def next_event(self) -> Message:
        if self.events:
            return self.events.pop(0)
        while True:
            msg = self.read()
            if "method" in msg:
                return msg

    def read(self) -> Message:
        line = self.file.readline()
        if not line:
            raise ConnectionError("the engine closed the connection")
        msg: Message = json.loads(line)
        return msg


def main() -> int:
    ap = argparse.ArgumentParser(description="Call a method on a running advkit engine.")
    ap.add_argument("--name", default="default")
    ap.add_argument("--events", type=int, default=0, help="then print this many events")
    ap.add_argument("method")
    ap.add_argument("params", nargs="?", default="{}")
    args = ap.parse_args()
    try:
        params = json.loads(args.params)
    except ValueError as e:
        print("error: params must be JSON, e.g. '{\"name\": \"walk_speed\", \"value\": 2}': %s"
              % e, file=sys.stderr)
        return 2
    if not isinstance(params, (dict, list)):
        print("error: params must be a JSON object or array, not %s" % args.params, file=sys.stderr)
        return 2
    try:
        client = Client(socket_path(args.name))
    except OSError as e:
        print("error: no engine %s: %s" % (args.name, e), file=sys.stderr)
        return 2
    try:
        reply = client.call(args.method, params)
    except (OSError, ValueError) as e:
        print("error: the connection to engine %s failed: %s" % (args.name, e), file=sys.stderr)
        return 2
    if "error" in reply:
        print("error: %s (code %d)" % (reply["error"]["message"], reply["error"]["code"]), file=sys.stderr)
        return 1
    print(json.dumps({"tick": reply["tick"], "result": reply["result"]}))
    for _ in range(args.events):
        print(json.dumps(client.next_event()["params"]))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
