"""The HTTP ingest endpoint against a fake sink: what reaches the sink, what the client is told."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from oracle.csvlog import COLUMNS
from oracle.http import create_app
from oracle.identity import new_device_key, public_bytes, sign
from oracle.ingest import IngestResult, Refused, refusals
from oracle.reading import Reading
from oracle.simulator import SimulatedSensor, write_csv
from oracle.validate import Device, ReadingValidator, Reason, Rejection, message_fields

JSON = {"Content-Type": "application/json"}
CSV = {"Content-Type": "text/csv"}


class FakeSink:
    """Records every call; stores by (device, seq) so a redelivery counts as a duplicate; refuses what a
    real validator refuses when given one."""

    def __init__(self, validator: ReadingValidator | None = None, fail: Exception | None = None) -> None:
        self.calls: list[tuple[list, str]] = []
        self.stored: dict[tuple[str, int], Reading] = {}
        self.validator = validator
        self.fail = fail

    def ingest(self, items, source):
        self.calls.append((list(items), source))
        if self.fail is not None:
            raise self.fail
        result = IngestResult(refused=refusals(items))
        for i, item in enumerate(items):
            if isinstance(item, Rejection):
                continue
            reading, sig = item
            if (reading.device, reading.seq) in self.stored:
                result.duplicates += 1
                continue
            if self.validator is not None:
                verdict = self.validator.validate(reading, sig, now_ms=reading.ts_ms)
                if not verdict.ok:
                    result.refused.append(Refused(i, verdict.reason, verdict.message))
                    continue
            self.stored[(reading.device, reading.seq)] = reading
            result.accepted += 1
        result.refused.sort(key=lambda r: r.index)
        return result


@pytest.fixture(scope="module")
def sensor_rows():
    s = SimulatedSensor("fridge-12", 12, seed=4)
    return s, s.run(3600)  # 12 readings


@pytest.fixture
def sink(sensor_rows):
    s, _ = sensor_rows
    return FakeSink(ReadingValidator({s.device: Device(s.public_key, s.equipment)}))


@pytest.fixture
def client(sink):
    return TestClient(create_app(sink, status=lambda: {"accepted": len(sink.stored)}))


def fields(rows):
    return [message_fields(r, sig) for r, sig in rows]


def csv_text(rows) -> str:
    buf = io.StringIO()
    write_csv(buf, rows)
    return buf.getvalue()


def test_single_object(client, sink, sensor_rows):
    _, rows = sensor_rows
    r = client.post("/v1/readings", json=fields(rows[:1])[0])
    assert r.status_code == 200
    assert r.json() == {"accepted": 1, "duplicates": 0, "refused": []}
    [(items, source)] = sink.calls
    assert source == "http" and items == [rows[0]]


def test_array_and_redelivery(client, sink, sensor_rows):
    _, rows = sensor_rows
    assert client.post("/v1/readings", json=fields(rows[:5])).json() == {"accepted": 5, "duplicates": 0, "refused": []}
    assert sink.calls[0][0] == rows[:5]
    assert client.post("/v1/readings", json=fields(rows[3:8])).json() == {
        "accepted": 3,
        "duplicates": 2,
        "refused": [],
    }


def test_mixed_elements_refused_by_index(client, sink, sensor_rows):
    _, rows = sensor_rows
    good = fields(rows[:4])
    missing = {k: v for k, v in good[1].items() if k != "sig"}
    wrong_type = {**good[2], "seq": "7"}
    forged_reading = replace(rows[3][0], temp_dc=rows[3][0].temp_dc + 30)
    forged = message_fields(forged_reading, rows[3][1])
    body = [good[0], 42, missing, wrong_type, forged, "x", {**good[0], "sig": "!!"}, good[3]]
    r = client.post("/v1/readings", json=body)
    assert r.status_code == 200
    answer = r.json()
    assert answer["accepted"] == 2 and answer["duplicates"] == 0
    assert [(x["index"], x["reason"]) for x in answer["refused"]] == [
        (1, "malformed_json"),
        (2, "missing_field"),
        (3, "wrong_type"),
        (4, "bad_signature"),
        (5, "malformed_json"),
        (6, "malformed_signature"),
    ]
    assert "sig" in answer["refused"][1]["message"]
    items = sink.calls[0][0]
    assert len(items) == len(body)  # every element reaches the sink, parse failures as Rejections
    assert isinstance(items[1], Rejection) and items[1].reason is Reason.MALFORMED_JSON
    assert items[0] == rows[0] and items[7] == rows[3]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"", "not JSON"),
        (b"{nope", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"3", "got int"),
        (b"null", "NoneType"),
    ],
)
def test_unreadable_json_is_400(client, sink, body, needle):
    r = client.post("/v1/readings", content=body, headers=JSON)
    assert r.status_code == 400
    assert needle in r.json()["detail"]
    assert sink.calls == []


def test_deep_nesting_is_400_not_500(client):
    r = client.post("/v1/readings", content=b"[" * 100_000 + b"]" * 100_000, headers=JSON)
    assert r.status_code == 400


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded", "text/csv"])
def test_wrong_content_type_is_415(client, sink, sensor_rows, ctype):
    _, rows = sensor_rows
    headers = {} if ctype is None else {"Content-Type": ctype}
    r = client.post("/v1/readings", content=json.dumps(fields(rows[:1])), headers=headers)
    assert r.status_code == 415
    assert "application/json" in r.json()["detail"]
    assert sink.calls == []


def test_json_content_type_with_charset(client, sensor_rows):
    _, rows = sensor_rows
    r = client.post(
        "/v1/readings",
        content=json.dumps(fields(rows[:1])),
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert r.status_code == 200


def test_csv_wrong_content_type_is_415(client, sensor_rows):
    _, rows = sensor_rows
    r = client.post("/v1/readings/csv", content=csv_text(rows), headers=JSON)
    assert r.status_code == 415
    assert "text/csv" in r.json()["detail"]
    r = client.post("/v1/readings/csv", content=csv_text(rows), headers={"Content-Type": "text/csv; charset=latin-1"})
    assert r.status_code == 415


def test_too_many_items_is_413(sensor_rows):
    _, rows = sensor_rows
    sink = FakeSink()
    client = TestClient(create_app(sink, max_items=3))
    assert client.post("/v1/readings", json=fields(rows[:3])).status_code == 200
    r = client.post("/v1/readings", json=fields(rows[:4]))
    assert r.status_code == 413 and "4 readings" in r.json()["detail"]
    assert client.post("/v1/readings/csv", content=csv_text(rows[:3]), headers=CSV).status_code == 200
    r = client.post("/v1/readings/csv", content=csv_text(rows[:4]), headers=CSV)
    assert r.status_code == 413
    assert len(sink.calls) == 2


def test_too_big_body_is_413(sensor_rows):
    _, rows = sensor_rows
    sink = FakeSink()
    client = TestClient(create_app(sink, max_body_bytes=1000))
    small = json.dumps(fields(rows[:1])).encode()
    big = json.dumps(fields(rows[:6])).encode()
    assert len(small) < 1000 < len(big)
    assert client.post("/v1/readings", content=small, headers=JSON).status_code == 200
    r = client.post("/v1/readings", content=big, headers=JSON)  # Content-Length says so
    assert r.status_code == 413 and "limit of 1000 bytes" in r.json()["detail"]

    def chunked():  # no Content-Length: counted while reading
        yield big[:600]
        yield big[600:]

    r = client.post("/v1/readings", content=chunked(), headers=JSON)
    assert r.status_code == 413
    r = client.post("/v1/readings/csv", content=csv_text(rows).encode(), headers=CSV)
    assert r.status_code == 413
    assert len(sink.calls) == 1


def test_csv_good(client, sink, sensor_rows):
    _, rows = sensor_rows
    r = client.post("/v1/readings/csv", content=csv_text(rows), headers=CSV)
    assert r.status_code == 200
    assert r.json() == {"accepted": len(rows), "duplicates": 0, "refused": []}
    assert sink.calls[0][0] == rows
    # a spreadsheet's export: BOM, columns reordered and padded, an extra column, CRLF, blank lines
    order = ["sig", "door", "battery", "temp_c", "ts", "seq", "equipment", "device"]
    lines = ["\ufeff" + ",".join([" SIG ", *order[1:], "note"])]
    for reading, sig in rows:
        m = message_fields(reading, sig)
        m["door"] = int(m["door"])
        lines.append(",".join(str(m[c]) for c in order) + ",hello")
        lines.append("")
    body = "\r\n".join(lines).encode()
    r = client.post("/v1/readings/csv", content=body, headers={"Content-Type": "text/csv; charset=UTF-8"})
    assert r.json() == {"accepted": 0, "duplicates": len(rows), "refused": []}


def test_csv_header_missing_columns_is_400(client, sink, sensor_rows):
    _, rows = sensor_rows
    text = csv_text(rows).replace("temp_c", "temperature", 1).replace(",sig", ",signature", 1)
    r = client.post("/v1/readings/csv", content=text, headers=CSV)
    assert r.status_code == 400
    assert "temp_c, sig" in r.json()["detail"]
    for empty in ("", "\n\n"):
        r = client.post("/v1/readings/csv", content=empty, headers=CSV)
        assert r.status_code == 400 and "header" in r.json()["detail"]
    assert sink.calls == []


def test_csv_bad_rows_refused_with_line_numbers(client, sink, sensor_rows):
    _, rows = sensor_rows
    lines = csv_text(rows[:8]).splitlines()
    assert lines[0] == ",".join(COLUMNS)
    cells = lines[2].split(",")
    cells[2] = "two"  # data row 1, line 3: seq not an integer
    lines[2] = ",".join(cells)
    cells = lines[4].split(",")
    cells[2] = '"' + cells[2]  # data row 3: an opening quote swallows the rest of the line (only that line)
    lines[4] = ",".join(cells)
    cells = lines[5].split(",")
    cells[4] = "6_0"  # data row 4: Python's float() would take it
    lines[5] = ",".join(cells)
    lines[6] = b"fridge-12\xff".decode("utf-8", "surrogateescape") + lines[6][9:]  # data row 5: bad byte
    lines.insert(7, "")  # a blank line: not a data row, but it shifts line numbers
    cells = lines[8].split(",")
    cells[6] = "yes"  # data row 6 on line 9: door
    lines[8] = ",".join(cells)
    lines[9] = lines[9][:25]  # data row 7 on line 10: the logger died mid-write
    body = "\n".join(lines).encode("utf-8", "surrogateescape") + b"\n"

    r = client.post("/v1/readings/csv", content=body, headers=CSV)
    assert r.status_code == 200
    answer = r.json()
    got = [(x["index"], x["reason"], x["message"].split(":")[0]) for x in answer["refused"]]
    assert got == [
        (1, "wrong_type", "CSV line 3"),
        (3, "wrong_type", "CSV line 5"),
        (4, "wrong_type", "CSV line 6"),
        (5, "wrong_type", "CSV line 7"),
        (6, "wrong_type", "CSV line 9"),
        (7, "missing_field", "CSV line 10"),
    ]
    messages = [x["message"] for x in answer["refused"]]
    assert "'seq'" in messages[0] and "'seq'" in messages[1] and "'temp_c'" in messages[2]
    assert "'device'" in messages[3] and "'door'" in messages[4] and "'temp_c'" in messages[5]
    # the first refusal reached the sink as a rejection, so a valid row after it still counts
    assert answer["accepted"] == 2 and len(sink.calls[0][0]) == 8
    # a chunk of a bigger file: its first data line is the file's line 1002
    r = client.post("/v1/readings/csv?first_line=1002", content=body, headers=CSV)
    assert [x["message"].split(":")[0] for x in r.json()["refused"]] == [
        f"CSV line {n}" for n in (1003, 1005, 1006, 1007, 1009, 1010)
    ]
    assert r.json()["duplicates"] == 2
    assert client.post("/v1/readings/csv?first_line=zero", content=body, headers=CSV).status_code == 422


def test_csv_header_only_does_not_call_the_sink(client, sink):
    r = client.post("/v1/readings/csv", content=",".join(COLUMNS) + "\n", headers=CSV)
    assert r.json() == {"accepted": 0, "duplicates": 0, "refused": []}
    assert sink.calls == []


def test_sink_failure_is_503_and_logged(sensor_rows, caplog):
    _, rows = sensor_rows
    sink = FakeSink(fail=OSError(28, "No space left on device"))
    client = TestClient(create_app(sink), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="oracle.http"):
        r = client.post("/v1/readings", json=fields(rows[:2]))
    assert r.status_code == 503
    assert "nothing was acknowledged" in r.json()["detail"]
    assert r.headers["retry-after"] == "5"
    assert any("No space left" in (rec.exc_text or "") for rec in caplog.records)
    r = client.post("/v1/readings/csv", content=csv_text(rows[:2]), headers=CSV)
    assert r.status_code == 503


def test_health_and_status(client, sensor_rows):
    _, rows = sensor_rows
    assert client.get("/healthz").json() == {"status": "ok"}
    client.post("/v1/readings", json=fields(rows[:2]))
    assert client.get("/v1/status").json() == {"accepted": 2}
    assert TestClient(create_app(FakeSink())).get("/v1/status").json() == {}

    def broken():
        raise RuntimeError("db locked")

    failing = TestClient(create_app(FakeSink(), status=broken), raise_server_exceptions=False)
    assert failing.get("/v1/status").status_code == 503


def test_random_key_readings(sink):
    """Readings signed with a fresh key the validator does not know are refused, not an error."""
    key = new_device_key()
    reading = Reading("fridge-99", 99, 1, 1_767_225_600_000, 45)
    sink.validator.register("fridge-99", public_bytes(key), 99)
    other = Reading("fridge-99", 98, 2, 1_767_225_600_000, 45)
    client = TestClient(create_app(sink))
    r = client.post("/v1/readings", json=fields([(reading, sign(key, reading)), (other, sign(key, other))]))
    assert r.json()["accepted"] == 1
    assert [(x["index"], x["reason"]) for x in r.json()["refused"]] == [(1, "wrong_equipment")]


def test_openapi_schema(client):
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "vaxledger oracle ingest"
    post = spec["paths"]["/v1/readings"]["post"]
    assert set(post["requestBody"]["content"]) == {"application/json"}
    assert {"200", "400", "413", "415", "503"} <= set(post["responses"])
    ok = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/IngestOut"}
    csv_post = spec["paths"]["/v1/readings/csv"]["post"]
    assert set(csv_post["requestBody"]["content"]) == {"text/csv"}
    assert [p["name"] for p in csv_post["parameters"]] == ["first_line"]
    reasons = spec["components"]["schemas"]["Reason"]["enum"]
    assert set(reasons) == {r.value for r in Reason}
    assert "/healthz" in spec["paths"] and "/v1/status" in spec["paths"]
    assert client.get("/docs").status_code == 200
