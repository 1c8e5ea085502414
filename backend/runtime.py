"""Everything a request may need, built once per process: database, keys, wallets, chain, indexer,
the oracle client and the metrics. `Runtime.start()` migrates the database and starts the indexer;
`stop()` ends it. Routes reach it through api/deps.py."""

from __future__ import annotations

import logging

from backend.core.config import BackendSettings
from backend.core.envelope import Keyring
from backend.core.metrics import Metrics
from backend.core.secrets import INDEX_KEY, TOKEN_KEY, load_or_create
from backend.core.throttle import LoginThrottle
from backend.core.tokens import TokenSigner
from backend.db.engine import Database
from backend.indexer.cursor import CursorWatcher
from backend.indexer.follower import Indexer
from backend.ledger.gateway import LedgerProvider
from backend.ledger.wallets import Wallets
from backend.services.answers import BlockCache
from backend.services.coldchain import OracleClient
from backend.services.writes import ChainWriter
from chain.dev import DEV_CHAIN_ID
from chain.errors import ChainError
from chain.manifest import ManifestError
from chain.manifest import load as load_manifest

log = logging.getLogger(__name__)

CURSOR_MAX_AGE_S = 0.05
"""A process without the indexer keys its cached answers by a cursor read at most this long ago."""


class Runtime:
    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.db = Database(settings.database_url)
        self.keyring = _keyring(settings)
        self.wallets = Wallets(self.keyring)
        self.ledgers = LedgerProvider(settings)
        self.indexer = Indexer(
            self.db,
            self.ledgers.get,
            chunk_blocks=settings.indexer_chunk_blocks,
            poll_s=settings.indexer_poll_s,
            metrics=self.metrics,
        )
        self.throttle = LoginThrottle(
            settings.login_window_s, settings.login_max_failures, settings.login_max_failures_per_client
        )
        token = settings.oracle_api_token.get_secret_value() if settings.oracle_api_token else None
        self.oracle = OracleClient(settings.oracle_url, settings.oracle_timeout_s, token)
        self.writer = ChainWriter(self)
        self.cursor = CursorWatcher(self.db)
        # Rendered public answers belong to this runtime's database: a second runtime in the process
        # (tests) must never be served the first one's.
        self.answers = BlockCache()
        self.tokens: TokenSigner | None = None
        self.index_key = b""
        self._started = False

    def start(self) -> None:
        """Migrates, loads the secrets, settles what a crash left pending, starts the indexer. Idempotent."""
        if self._started:
            return
        self._started = True
        self.start_database()
        if self.settings.indexer:  # the one process per database that starts before any request is served
            try:
                settled = self.writer.reconcile()
                if settled:
                    log.info("settled %d audit rows a previous run left pending", settled)
            except (ChainError, ManifestError) as exc:
                log.warning("pending audit rows not settled now (%s)", exc)
            self.indexer.start()

    def start_database(self) -> None:
        """Migrates and loads the secrets kept in the database: all that commands without the chain need."""
        self.db.migrate()
        with self.db.sessions() as s:
            self.tokens = TokenSigner(load_or_create(s, self.keyring, TOKEN_KEY), self.settings.access_token_ttl_s)
            self.index_key = load_or_create(s, self.keyring, INDEX_KEY)

    def stop(self) -> None:
        self.indexer.stop()
        self.oracle.close()
        self.db.dispose()

    def indexed_block(self) -> int:
        """The last block the database has all events of (from this process's indexer, or the cursor)."""
        if self.settings.indexer:
            return self.indexer.block
        return self.cursor.block(max_age_s=CURSOR_MAX_AGE_S)

    def wait_indexed(self, block: int, timeout: float) -> bool:
        """Waits until the database has `block`'s events: read-your-writes for a request."""
        if self.settings.indexer:
            return self.indexer.wait_for(block, timeout)
        return self.cursor.wait_for(block, timeout)

    @property
    def signer(self) -> TokenSigner:
        assert self.tokens is not None, "Runtime.start() first"
        return self.tokens


def _keyring(settings: BackendSettings) -> Keyring:
    if settings.master_keys is not None:
        return Keyring.parse(settings.master_keys.get_secret_value())
    # Generate a key file only for the development chain: production provisions its keys on purpose.
    try:
        dev = load_manifest(settings.manifest).chain_id == DEV_CHAIN_ID
    except ManifestError:
        dev = settings.rpc_url.startswith(("http://127.0.0.1", "http://localhost"))
    return Keyring.from_file(settings.master_key_file, create=dev)
