"""Locks shared by the processes of one machine, one per name (an account address), for `TxSender`'s
`shared_lock`: several API workers sending from the same custodial key take turns at the nonce.

flock(2) on a file per name: released by the kernel when a process dies, so a crashed worker never leaves
a key locked. Processes on several machines need a lock they all see (a database advisory lock)."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class FileLocks:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._fds: dict[str, int] = {}
        self._guard = threading.Lock()

    def _fd(self, name: str) -> int:
        with self._guard:
            fd = self._fds.get(name)
            if fd is None:
                fd = os.open(self.folder / f"{name.lower()}.lock", os.O_RDWR | os.O_CREAT, 0o600)
                self._fds[name] = fd
            return fd

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        fd = self._fd(name)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
