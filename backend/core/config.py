"""The backend's settings: environment variables VAXLEDGER_BACKEND_*, or an env file.

Every setting has a default that runs against `make up`'s local chain, oracle and state folder
(SQLite, a master key generated in var/backend/). Production sets the database URL (PostgreSQL),
the RPC URL, the master keys and the platform keys; the development keys are refused on any chain
but the local one."""

from __future__ import annotations

from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from chain.dev import ADMIN_INDEX, DEV_CHAIN_ID, REGULATOR_INDEX, dev_account


class BackendSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VAXLEDGER_BACKEND_", env_file=None, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=32)
    """API processes. With more than one, `serve` runs the indexer in its own (parent) process and the
    workers take turns at each custodial key's nonce through file locks in `lock_dir`."""
    lock_dir: Path = Path("var/backend/locks")

    # database
    database_url: str = "sqlite:///var/backend/backend.db"
    """SQLAlchemy URL: sqlite:///path (embedded) or postgresql+psycopg://user:pw@host/db."""

    # chain
    rpc_url: str = "http://127.0.0.1:8545"
    manifest: Path | None = None
    """Unset: $VAXLEDGER_MANIFEST, else var/manifest.json (chain.manifest)."""
    poa: bool | None = None
    """Force the PoA extra-data middleware on or off; unset detects it."""
    confirmations: int = Field(0, ge=0)
    """Blocks on top before a write counts as done and before the indexer reads a block (QBFT is final at 0)."""
    receipt_timeout_s: float = Field(60, gt=0)
    """How long a sent transaction may stay unmined before its same bytes are sent again (a node that
    restarted has forgotten its pool)."""
    admin_key: SecretStr | None = None
    """The platform operator's key (registers facilities, admits facility wallets). Unset: Anvil's account 0,
    on the development chain only."""
    regulator_key: SecretStr | None = None
    """The regulator's key (products, batch release, recall). Unset: Anvil's account 1, development chain only."""

    # secrets
    master_keys: SecretStr | None = None
    """Envelope encryption keys, "id:base64(32 bytes)" separated by commas; the first encrypts, all decrypt
    (rotation: put the new key first, run `python -m backend rotate-keys`, then drop the old one). Unset: the
    file `master_key_file`, created on first start on the development chain only."""
    master_key_file: Path = Path("var/backend/master.keys")

    # sessions
    access_token_ttl_s: int = Field(900, ge=30)
    refresh_token_ttl_s: int = Field(7 * 86_400, ge=60)
    login_window_s: int = Field(900, ge=1)
    login_max_failures: int = Field(5, ge=1)
    """Failed logins allowed per account in the window; then that account's logins are refused until it passes."""
    login_max_failures_per_client: int = Field(30, ge=1)
    """Failed logins allowed per client address in the window (many accounts tried from one place)."""
    password_min_length: int = Field(8, ge=6)

    # cold chain
    oracle_url: str = "http://127.0.0.1:8547"
    oracle_timeout_s: float = Field(5, gt=0)
    oracle_api_token: SecretStr | None = None
    """The oracle's VAXLEDGER_ORACLE_API_TOKEN, for acknowledging alarms on a CDC officer's behalf."""
    trip_max_gap_s: int = Field(1800, ge=60)
    """A trip's temperature record is incomplete when it has a gap longer than this (WHO loggers record at
    least every 10 minutes; three missed readings in a row is a missing record)."""

    # indexer
    indexer: bool = True
    """Run the chain indexer in this process (exactly one process per database does; `serve` decides)."""
    indexer_poll_s: float = Field(0.05, gt=0)
    """Between looks at the chain head when idle (writes in this process wake it at once; other workers'
    writes are seen at the next look)."""
    indexer_chunk_blocks: int = Field(2_000, ge=1)
    write_wait_indexed_s: float = Field(10, ge=0)
    """After a write is mined, how long a request waits for the indexer to reach its block (read-your-writes)."""

    # logs
    log_level: str = "INFO"
    log_json: bool = True

    def platform_account(self, role: str, chain_id: int) -> LocalAccount:
        """The operator's ("admin") or the regulator's signing account."""
        key = {"admin": self.admin_key, "regulator": self.regulator_key}[role]
        if key is not None:
            return Account.from_key(key.get_secret_value())
        if chain_id != DEV_CHAIN_ID:
            raise ValueError(
                f"VAXLEDGER_BACKEND_{role.upper()}_KEY is not set and chain {chain_id} is not the development "
                f"chain ({DEV_CHAIN_ID}): the backend needs the platform's own {role} key"
            )
        return dev_account(ADMIN_INDEX if role == "admin" else REGULATOR_INDEX)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
