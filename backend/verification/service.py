"""What verification keeps per runtime: its settings, the verifier keys, the chain id its messages name,
two bounded caches (a child's verdict on a day, a signed answer), so a child whose record has not
changed is neither evaluated nor signed again that day, and the schools' API keys recently seen.

Made on first use and kept beside the runtime (not on it: the runtime knows nothing of verification),
holding no reference back to it, so the entry goes when the runtime does."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from backend.runtime import Runtime
from backend.verification.records import Verdict
from backend.verification.schools import KeyCache
from backend.verification.settings import VerificationSettings
from backend.verification.verifier_keys import VerifierKeys
from chain.manifest import load as load_manifest

V = TypeVar("V")


class Lru(Generic[V]):
    """A thread-safe LRU map of at most `size` entries (none at 0)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(frozen=True, slots=True)
class Answer:
    """A single verification's signed answer, ready to send again."""

    body: bytes
    outcome: str
    attestation_id: str


class Service:
    def __init__(self, rt: Runtime, settings: VerificationSettings) -> None:
        self.settings = settings
        self._manifest = rt.settings.manifest
        self.keys = VerifierKeys(rt.db, rt.keyring)
        self.verdicts: Lru[Verdict] = Lru(settings.cache_entries)
        self.answers: Lru[Answer] = Lru(settings.cache_entries)
        self.api_keys = KeyCache()
        self._chain_id: int | None = None

    @property
    def chain_id(self) -> int:
        """The deployment's chain id, named in every consent and attestation domain."""
        if self._chain_id is None:
            self._chain_id = load_manifest(self._manifest).chain_id
        return self._chain_id


_services: weakref.WeakKeyDictionary[Runtime, Service] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def service(rt: Runtime) -> Service:
    with _lock:
        found = _services.get(rt)
        if found is None:
            found = _services[rt] = Service(rt, VerificationSettings())
        return found
