"""Rendered public answers (sites, a lot's provenance), shared by every request of a runtime: under load
the same few answers are asked for again and again between two blocks."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class BlockCache:
    """Rendered answers keyed by (key, indexed block, minute): a new block or a new minute makes a new
    answer; one thread computes a missing entry while others wait for it rather than all computing it."""

    def __init__(self, size: int = 1_024) -> None:
        self._entries: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self._building: dict[tuple[Any, ...], threading.Event] = {}

    def get(self, key: tuple[Any, ...], build: Callable[[], Any]) -> bytes:
        while True:
            with self._lock:
                hit = self._entries.get(key)
                if hit is not None:
                    self._entries.move_to_end(key)
                    return hit
                waiter = self._building.get(key)
                if waiter is None:
                    self._building[key] = threading.Event()
                    break
            waiter.wait(5)
        try:
            body = json.dumps(build(), ensure_ascii=False, separators=(",", ":")).encode()
            with self._lock:
                self._entries[key] = body
                if len(self._entries) > self._size:
                    self._entries.popitem(last=False)
            return body
        finally:
            with self._lock:
                self._building.pop(key).set()
