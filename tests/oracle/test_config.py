"""Settings from the environment and from an env file (pydantic-settings on Brownie's python-dotenv pin)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from chain.dev import DEV_CHAIN_ID
from oracle.config import OracleSettings


def test_embedded_defaults_run_against_the_local_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    s = OracleSettings()
    assert (s.rpc_url, s.mqtt_host, s.http_host) == ("http://127.0.0.1:8545", "127.0.0.1", "127.0.0.1")
    assert s.account(DEV_CHAIN_ID).address == "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"  # Anvil account 2


def test_the_development_key_is_refused_on_any_other_chain() -> None:
    with pytest.raises(ValueError, match="own key"):
        OracleSettings().account(1337)


def test_an_env_file_and_the_environment_set_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / "oracle.env"
    key = "0x" + "42" * 32
    env.write_text(f"VAXLEDGER_ORACLE_KEY={key}\nVAXLEDGER_ORACLE_ANCHOR_MAX_READINGS=250\n")
    monkeypatch.setenv("VAXLEDGER_ORACLE_MQTT_PORT", "0")

    s = OracleSettings(_env_file=env)

    assert s.anchor_max_readings == 250 and s.mqtt_port == 0
    assert s.account(7).key.hex() == key.removeprefix("0x")
    assert key not in repr(s)  # a secret never shows in a log line


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ANCHOR_MAX_READINGS", "0"),
        ("MQTT_PORT", "70000"),
        ("SYNCHRONOUS", "OFF"),
        ("RETRY_MAX_S", "0.1"),
        ("API_TOKEN", "too-short"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"VAXLEDGER_ORACLE_{name}", value)
    with pytest.raises(ValidationError):
        OracleSettings()


def test_the_api_token_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VAXLEDGER_ORACLE_API_TOKEN", raising=False)
    assert OracleSettings().api_token is None  # acknowledging over HTTP is off until a token is set
    monkeypatch.setenv("VAXLEDGER_ORACLE_API_TOKEN", "a-token-of-24-characters")
    s = OracleSettings()
    assert s.api_token is not None and s.api_token.get_secret_value() == "a-token-of-24-characters"
    assert "a-token-of-24-characters" not in repr(s)
