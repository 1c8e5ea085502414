"""Locks shared by the processes of one machine, one per name (an account address), for `TxSender`'s
`shared_lock`: several API workers sending from the same custodial key take turns at the nonce, and the
lock's file keeps the next nonce the last holder left (`NonceNote`).

Why the note: a node's "pending" transaction count may not yet include a transaction it has just
accepted (Anvil's automine counts it once mined), so the next process, reading the count alone, could
sign another transaction with the same nonce and replace the first. Holding the lock, a sender takes the
larger of the node's count and the note, and leaves the next one in the note.

flock(2) on a file per name: released by the kernel when a process dies, so a crashed worker never leaves
a key locked. Processes on several machines need a lock and a note they all see (a database row)."""

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
    def __call__(self, name: str) -> Iterator[NonceNote]:
        fd = self._fd(name)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield FileNote(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


class NonceNote:
    """The next nonce the last sender left (None: ask the node). Only read or written under the lock."""

    def get(self) -> int | None:
        return None

    def set(self, nonce: int | None) -> None:
        pass


class FileNote(NonceNote):
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def get(self) -> int | None:
        text = os.pread(self.fd, 32, 0).decode("ascii", errors="replace").strip()
        return int(text) if text.isdigit() else None

    def set(self, nonce: int | None) -> None:
        os.ftruncate(self.fd, 0)
        if nonce is not None:
            os.pwrite(self.fd, str(nonce).encode(), 0)
