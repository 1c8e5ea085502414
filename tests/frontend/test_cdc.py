"""A CDC officer with a real cold-chain oracle: a fridge froze (signed readings posted to the daemon, which
raises the alarm and reports the excursion on chain); the officer sees it on the live board and its chart,
and acknowledges it with a comment."""

from __future__ import annotations

import json
import secrets
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from chain.dev import ORACLE_INDEX, dev_account
from oracle import devices
from oracle.devices import DeviceEntry, Registry
from oracle.simulator import Fault, SimulatedSensor
from oracle.validate import encode_message
from tests.backend.live import live_stack
from tests.backend.stack import Stack
from tests.frontend.browser import visit
from tests.oracle.daemon_proc import OracleProcess, wait_for

HOUR_MS = 3_600_000


def post_readings(oracle: OracleProcess, readings: list[Any]) -> None:
    body = b"[" + b",".join(encode_message(r, sig) for r, sig in readings) + b"]"
    request = urllib.request.Request(
        f"{oracle.url}/v1/readings", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert answer["accepted"] == len(readings), answer


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str, OracleProcess, list[Any]]]:
    workdir = tmp_path_factory.mktemp("cdc")
    token = secrets.token_urlsafe(24)
    oracle = OracleProcess(workdir / "oracle", {})  # its port is chosen now: the backend is told it
    (workdir / "oracle").mkdir()
    with live_stack(workdir, oracle.url, oracle_api_token=token) as (stack, base):
        sensor = SimulatedSensor(
            "fridge2-probe",
            stack.fridge2,
            "fridge",
            seed="frontend",
            start_ms=time.time_ns() // 1_000_000 - 4 * HOUR_MS,
            faults=[Fault("freezing", 1800)],  # the thermostat stuck half an hour in: frozen for two hours
        )
        devices.save(
            Registry([DeviceEntry("fridge2-probe", stack.fridge2, "fridge", sensor.public_key.hex(), stack.clinic)]),
            oracle.workdir / "devices.json",
        )
        oracle.env |= {
            "VAXLEDGER_ORACLE_RPC_URL": stack.node.url,
            "VAXLEDGER_ORACLE_MANIFEST": str(workdir / "manifest.json"),
            "VAXLEDGER_ORACLE_KEY": dev_account(ORACLE_INDEX).key.hex(),
            "VAXLEDGER_ORACLE_MQTT_PORT": "0",
            "VAXLEDGER_ORACLE_API_TOKEN": token,
        }
        oracle.start()
        try:
            readings = sensor.run(4 * 3600 - 60)
            post_readings(oracle, readings)
            yield stack, base, oracle, [r for r, _ in readings]
        finally:
            assert oracle.stop() == 0, oracle.log_tail()


def freeze_alarm(stack: Stack) -> dict[str, Any] | None:
    alarms = stack.staff["cdc"].ok("get", f"/v1/cdc/alarms?state=all&equipment={stack.fridge2}")
    return next((a for a in alarms if a["kind"] == "freeze"), None)


def test_a_cdc_officer_acknowledges_a_freeze_alarm(
    platform: tuple[Stack, str, OracleProcess, list[Any]], browser: Browser
) -> None:
    stack, base, oracle, readings = platform
    temps = [r.temp_dc / 10 for r in readings]
    wait_for(lambda: freeze_alarm(stack), 30, "the oracle raised no freeze alarm", oracle.log_tail)

    with visit(browser, base) as v:
        v.sign_in("cdc")
        page = v.page
        row = page.locator(f"tr[data-equipment='{stack.fridge2}']")
        expect(row).to_have_attribute("data-status", "alarm")
        expect(row.get_by_text("冻结")).to_be_visible()
        expect(row.get_by_text("区疾控")).to_be_visible()  # a freeze goes to the district CDC at once
        expect(page.locator("tbody tr").first).to_have_attribute("data-status", "alarm")  # alarms first
        v.shot("cdc-board")

        row.get_by_role("link", name="FRIDGE2 · clinic").click()
        expect(page.get_by_role("heading", name="温度曲线：FRIDGE2 · clinic")).to_be_visible()
        expect(page.locator(".chart canvas")).to_be_visible()
        summary = f"共 {len(temps)} 条记录，最低 {min(temps):.1f} °C，最高 {max(temps):.1f} °C，1 次告警。"
        expect(page.locator(".chart")).to_have_attribute("aria-label", summary)
        alarm = page.locator("li.alarm", has_text="冻结")
        alarm.get_by_role("button", name="确认告警").click()  # no comment: the browser asks for one first
        expect(alarm.get_by_label("处理说明")).to_have_js_property("validity.valueMissing", True)
        alarm.get_by_label("处理说明").fill("温控器故障，已更换；疫苗已隔离待评估")
        v.shot("cdc-equipment-chart")
        alarm.get_by_role("button", name="确认告警").click()
        acked = page.locator("li.alarm", has_text="温控器故障，已更换")
        expect(acked.get_by_text("确认人")).to_be_visible()
        v.shot("cdc-alarm-acked")

    assert freeze_alarm(stack)["ack_comment"] == "温控器故障，已更换；疫苗已隔离待评估"
    assert oracle.status()["alarms"]["unacknowledged"] == 0
