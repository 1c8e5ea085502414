"""How far the indexer has got, seen from a process that does not run it (an API worker): one thread
reads the cursor row while requests wait for a block, and wakes them together, instead of each waiting
request polling the database on its own."""

from __future__ import annotations

import threading
import time

from backend.db.engine import Database
from backend.db.models.chainview import ChainCursor

POLL_S = 0.01


class CursorWatcher:
    def __init__(self, db: Database, poll_s: float = POLL_S) -> None:
        self.db = db
        self.poll_s = poll_s
        self._block = -1
        self._read_at = 0.0
        self._waiters = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def block(self, max_age_s: float = 0.0) -> int:
        """The cursor's block, read again when the last read is older than `max_age_s`."""
        if time.monotonic() - self._read_at > max_age_s:
            self._read()
        return self._block

    def wait_for(self, block: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._block >= block:
                return True
            self._waiters += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="cursor-watcher", daemon=True)
                self._thread.start()
            try:
                while self._block < block:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._cond.wait(left)
                return True
            finally:
                self._waiters -= 1

    def _watch(self) -> None:
        while True:
            with self._cond:
                if self._waiters == 0:
                    self._thread = None
                    return
            self._read()
            time.sleep(self.poll_s)

    def _read(self) -> None:
        with self.db.sessions() as s:
            cursor = s.get(ChainCursor, 1)
        block = -1 if cursor is None else cursor.block
        with self._cond:
            self._read_at = time.monotonic()
            if block > self._block:
                self._block = block
                self._cond.notify_all()
