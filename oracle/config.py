"""The oracle daemon's settings: environment variables VAXLEDGER_ORACLE_*, or an env file.

Every setting has an embedded default that runs against `make up`'s local chain,
broker and state folder; production sets the RPC URL, the key, the broker and
the paths (see docs in README, "Cold-chain oracle")."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chain.dev import DEV_CHAIN_ID, ORACLE_INDEX, dev_account
from oracle.rules import DEFAULT_RULES_PATH

DATA = Path(__file__).resolve().parent / "data"
DEFAULT_TIERS_PATH = DATA / "alarm-tiers-v1.json"


class OracleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VAXLEDGER_ORACLE_", env_file=None, extra="forbid")

    # chain
    rpc_url: str = "http://127.0.0.1:8545"
    manifest: Path | None = None
    """Unset: $VAXLEDGER_MANIFEST, else var/manifest.json (chain.manifest)."""
    key: SecretStr | None = None
    """The oracle account's private key. Unset: Anvil's development key, and only on chain id 31337."""
    poa: bool | None = None
    """Force the PoA extra-data middleware on or off; unset detects it."""
    confirmations: int = Field(0, ge=0)
    """Blocks on top of a transaction's block before a batch counts as confirmed (QBFT is final at 0)."""
    receipt_timeout_s: float = Field(60, gt=0)
    """How long a sent transaction may stay unmined before its same bytes are sent again (a node that
    restarted has forgotten its pool)."""

    # local state
    store: Path = Path("var/oracle/oracle.db")
    synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    devices: Path = Path("var/oracle/devices.json")
    rules: Path = DEFAULT_RULES_PATH
    tiers: Path = DEFAULT_TIERS_PATH

    # transports
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = Field(18830, ge=0, le=65535)
    """0 turns MQTT off."""
    mqtt_topic: str = "vaxledger/readings/#"
    mqtt_client_id: str = "vaxledger-oracle"
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_tls_ca: Path | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(8547, ge=0, le=65535)
    """0 turns the HTTP API (ingest and reads) off."""
    api_token: SecretStr | None = Field(None, min_length=16)
    """Bearer token for the HTTP API's one write, acknowledging an alarm. Unset: acknowledging over HTTP is
    refused (403) and only the CLI acknowledges; the reads need no token."""

    # work rhythm
    ingest_batch: int = Field(500, ge=1)
    """Readings validated and committed together (one transaction, then one MQTT ack each)."""
    ingest_linger_ms: int = Field(50, ge=0)
    """How long the first reading of a batch waits for company before the batch is committed."""
    anchor_every_s: float = Field(3600, gt=0)
    """Every this often all waiting readings are batched (one batch per equipment) and the district's batches
    anchored together in one transaction ..."""
    anchor_max_readings: int = Field(500, ge=1, le=5_000)
    """... and in between, an equipment with this many readings waiting is batched and anchored at once."""
    tick_s: float = Field(5, gt=0)
    """How often silence, escalations and vehicle legs are checked."""
    abandon_after_min: int = Field(24 * 60, ge=1)
    """A sensor still silent this long after its silence alarm has its open alarms closed at its last
    reading, so no excursion stays open forever; its stock stays quarantined until the CDC decides."""
    retry_min_s: float = Field(1, gt=0)
    retry_max_s: float = Field(300, gt=0)

    @model_validator(mode="after")
    def _retry_bounds(self) -> OracleSettings:
        if self.retry_max_s < self.retry_min_s:
            raise ValueError("retry_max_s must not be below retry_min_s")
        return self

    def account(self, chain_id: int) -> LocalAccount:
        """The oracle's signing account; Anvil's well-known key only on the development chain."""
        if self.key is not None:
            return Account.from_key(self.key.get_secret_value())
        if chain_id != DEV_CHAIN_ID:
            raise ValueError(
                f"VAXLEDGER_ORACLE_KEY is not set and chain {chain_id} is not the development chain "
                f"({DEV_CHAIN_ID}): the oracle needs its own key"
            )
        return dev_account(ORACLE_INDEX)
