#!/usr/bin/env python3
"""Conway's Game of Life as an advkit engine, written only against
``advkit.Host`` (install the binding first: ``pip install ./python``).

    python examples/python/life.py &          # engine "pylife"
    advkit inspect --name pylife
    advkit send --name pylife set palette amber
    advkit send --name pylife call life.toggle '{"x": 10, "y": 5}'
    advkit snapshot --name pylife --out pylife.png
    advkit send --name pylife shutdown        # or Ctrl-C

Its params (generation_ticks, palette, wrap, and the reboot-only density
and seed) and its methods (life.toggle, life.clear, life.population) are
declared once, checked by the host before this code sees a request, and
shown by the inspector. It answers world.save and world.load, so the host
keeps its history: ``advkit send --name pylife seek -- -60`` rewinds it.
"""

import argparse
import random
import sys
import time
from typing import Any

import advkit

COLS, ROWS, CELL = 80, 60, 2
W, H = COLS * CELL, ROWS * CELL
DEAD = bytes((12, 14, 24, 255))
PALETTES = {"green": (60, 220, 90), "amber": (255, 176, 0), "ice": (120, 200, 255)}


def params() -> list[advkit.Param]:
    return [
        advkit.Param.int("generation_ticks", 1, 30, 3, unit="ticks",
                         description="Ticks per generation: lower is faster"),
        advkit.Param.choice("palette", list(PALETTES), "green",
                            description="Colour of live cells"),
        advkit.Param.bool("wrap", True, description="Cells at an edge see the opposite edge"),
        advkit.Param.float("density", 0.05, 0.95, 0.3, step=0.05, reboot=True,
                           description="Share of live cells after a fresh reboot"),
        advkit.Param.int("seed", 0, 1_000_000, 42, reboot=True,
                         description="Seed of the board after a fresh reboot"),
    ]


def methods() -> list[advkit.Method]:
    return [
        advkit.Method("life.toggle", "Flip one cell", [
            advkit.Arg("x", "integer", "column", required=True, min=0, max=COLS - 1),
            advkit.Arg("y", "integer", "row", required=True, min=0, max=ROWS - 1),
        ]),
        advkit.Method("life.clear", "Kill every cell"),
        advkit.Method("life.population", "Live cells and the generation", read_only=True),
    ]


class Life:
    def __init__(self, seed: int, density: float) -> None:
        self.cells: list[bool] = []
        self.generation = 0
        self.reset(seed, density)

    def reset(self, seed: int, density: float) -> None:
        """A fresh board: the same seed and density give the same board."""
        rng = random.Random(seed)
        self.cells = [rng.random() < density for _ in range(COLS * ROWS)]
        self.generation = 0

    def step(self, wrap: bool) -> None:
        cells = self.cells

        def alive(x: int, y: int) -> bool:
            if wrap:
                return cells[(y % ROWS) * COLS + (x % COLS)]
            return 0 <= x < COLS and 0 <= y < ROWS and cells[y * COLS + x]

        nxt: list[bool] = []
        for y in range(ROWS):
            for x in range(COLS):
                n = sum(alive(x + dx, y + dy)
                        for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy)
                nxt.append(n == 3 or (n == 2 and cells[y * COLS + x]))
        self.cells = nxt
        self.generation += 1

    def draw(self, palette: str) -> bytearray:
        live = bytes(PALETTES.get(palette, PALETTES["green"]) + (255,))
        out = bytearray()
        for y in range(ROWS):
            row = b"".join((live if c else DEAD) * CELL
                           for c in self.cells[y * COLS:(y + 1) * COLS])
            out += row * CELL
        return out

    def population(self) -> int:
        return sum(self.cells)


def main() -> int:
    ap = argparse.ArgumentParser(description="Game of Life on advkit.Host")
    ap.add_argument("--name", default="pylife", help="engine name (default: pylife)")
    ap.add_argument("--fps", type=float, default=30.0, help="ticks per second (default: 30)")
    ap.add_argument("--paused", action="store_true", help="start paused, before tick 1")
    args = ap.parse_args()
    try:
        host = advkit.Host(args.name, W, H, params=params(), methods=methods(),
                           standard=["engine.reboot", "world.save", "world.load"],
                           fps=args.fps, paused=args.paused,
                           engine="life.py (Python example)")
    except advkit.AdvkitError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    print("life.py running on %s" % host.socket_path, file=sys.stderr)
    life = Life(host.param("seed"), host.param("density"))
    tick = 0

    def handle(req: advkit.Request) -> Any:
        nonlocal tick
        if req.method == "world.save":
            cells = "".join("1" if c else "0" for c in life.cells)
            return {"tick": tick, "state": {"tick": tick, "cells": cells,
                                            "generation": life.generation}}
        if req.method == "world.load":
            state = req.params["state"]
            cells = state.get("cells")
            if not isinstance(cells, str) or len(cells) != COLS * ROWS:
                req.error(-32602, "state: not one life.py's world.save gave; nothing changed")
                return None
            life.cells = [c == "1" for c in cells]
            life.generation = int(state.get("generation", 0))
            tick = int(state.get("tick", tick))
            return {"tick": tick}
        if req.method == "life.toggle":
            i = req.params["y"] * COLS + req.params["x"]
            life.cells[i] = not life.cells[i]
            return {"alive": life.cells[i]}
        if req.method == "life.clear":
            life.cells = [False] * (COLS * ROWS)
            host.log("board cleared")
            return {"cleared": True}
        if req.method == "life.population":
            return {"alive": life.population(), "generation": life.generation}
        if req.method == "engine.reboot":
            keep = req.params.get("keep_progress", True)
            if not keep and not req.params.get("confirm", False):
                # A destructive call says what it would lose, and waits for confirm.
                req.error(-32003,
                          'a fresh reboot reseeds the board; call again with "confirm": true',
                          {"would_lose": {"generation": life.generation,
                                          "live cells": life.population()}})
                return None
            applied = host.apply_pending_params()
            if not keep:
                life.reset(host.param("seed"), host.param("density"))
            return {"tick": tick, "progress": "keep" if keep else "discard",
                    "applied": applied,
                    "carried": {"generation": life.generation} if keep else None}
        req.error(-32601, "unknown method %s" % req.method)
        return None

    deadline = time.monotonic()
    changed, revision = True, host.params_revision
    with host:
        while host.running:
            changed |= host.serve(handle, deadline) > 0
            every = host.param("generation_ticks")
            for _ in range(host.ticks_due()):
                tick += 1
                changed = True
                if tick % every == 0:
                    life.step(host.param("wrap"))
            if host.params_revision != revision:
                changed, revision = True, host.params_revision
            if changed:  # a paused, untouched board publishes nothing
                host.publish(tick, life.draw(host.param("palette")))
                changed = False
            deadline = host.next_deadline(deadline)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
