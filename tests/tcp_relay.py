#!/usr/bin/env python3
"""A slow network between a TCP client and a server, for tests and trials.

    tcp_relay.py BYTES_PER_SECOND [--delay MS] --listen PORT --to HOST:PORT

Accepts connections on 127.0.0.1:PORT (0: any free port; the port is
printed as the first line of output) and relays each to HOST:PORT. What the
server sends is read at once into a buffer without limit (like the
network's queues: a deep buffer) and passed on to the client at
BYTES_PER_SECOND at most, shared by all connections, after --delay
milliseconds; what the client sends goes to the server after the same
delay (so a round trip takes twice it). Runs until killed; the bytes
passed toward clients so far are written to --count FILE, if given, each
time they change.
"""

import argparse
import collections
import select
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rate", type=int)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--count")
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    delay = a.delay / 1000.0
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", a.listen))
    lst.listen(64)
    print(lst.getsockname()[1], flush=True)
    # client socket -> [server socket, down queue, up queue]
    pairs = {}
    budget, last, passed, written = 0.0, time.monotonic(), 0, -1
    while True:
        now = time.monotonic()
        budget = min(budget + (now - last) * a.rate, a.rate / 20)
        last = now
        for client, (server, down, up) in list(pairs.items()):
            while down and down[0][0] <= now and budget >= 1:
                due, chunk = down.popleft()
                n = min(len(chunk), int(budget))
                try:
                    sent = client.send(chunk[:n])
                except OSError:
                    sent = len(chunk)
                budget -= sent
                passed += sent
                if sent < len(chunk):
                    down.appendleft((due, chunk[sent:]))
                    break
            while up and up[0][0] <= now:
                _, chunk = up.popleft()
                try:
                    server.sendall(chunk)
                except OSError:
                    pass
        if a.count and passed != written:
            with open(a.count, "w") as f:
                f.write(str(passed))
            written = passed
        socks = [lst] + list(pairs) + [p[0] for p in pairs.values()]
        ready, _, _ = select.select(socks, [], [], 0.005)
        for s in ready:
            if s is lst:
                client, _ = lst.accept()
                try:
                    server = socket.create_connection((host, int(port)))
                except OSError:
                    client.close()  # nothing listens there (yet): as a refusal
                    continue
                pairs[client] = [server, collections.deque(), collections.deque()]
                continue
            for client, (server, down, up) in list(pairs.items()):
                if s is client or s is server:
                    try:
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        client.close()
                        server.close()
                        del pairs[client]
                    elif s is server:
                        down.append((time.monotonic() + delay, data))
                    else:
                        up.append((time.monotonic() + delay, data))
                    break


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
