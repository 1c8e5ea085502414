// The frontend's pure logic, on Node's test runner (tests/frontend/test_web.py runs it under pytest).

import assert from "node:assert/strict";
import { test } from "node:test";

import { checkDictionaries } from "../src/i18n/check.js";
import { GS, isGroupSeparatorKey, normalizeCode, visibleCode } from "../src/lib/codes.js";
import { chunks, parseRoster } from "../src/lib/roster.js";
import { temperatureOption } from "../src/lib/chart-option.js";
import { coldChainVerdict, doseSteps } from "../src/lib/timeline.js";

test("both dictionaries have the same keys and placeholders", () => {
  assert.deepEqual(checkDictionaries(), []);
  assert.deepEqual(checkDictionaries({ a: { x: "{n} doses" }, b: { x: "doses", y: "" } }), [
    '"x" has other placeholders in b than in a',
    'a lacks "y"',
  ]);
});

test("a scanned or typed code becomes what the API parses", () => {
  assert.equal(normalizeCode("  ]d20106901234000016173012311010A1<GS>21SN1 "), `]d20106901234000016173012311010A1${GS}21SN1`);
  for (const standIn of ["␝", "{GS}", "[gs]", "\\x1d", "^]"]) assert.equal(normalizeCode(`10A${standIn}21B`), `10A${GS}21B`);
  assert.equal(normalizeCode("(01)06901234000016(21)SN1"), "(01)06901234000016(21)SN1");
  assert.equal(visibleCode(`10A${GS}21B`), "10A␝21B");
  assert.ok(isGroupSeparatorKey({ ctrlKey: true, altKey: false, key: "]" }));
  assert.ok(!isGroupSeparatorKey({ ctrlKey: false, altKey: false, key: "]" }));
});

test("a roster keeps the school's labels and sends only tokens", () => {
  const token = "VX1-ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const { entries, unreadable } = parseRoster(`王小明, ${token.toLowerCase()}\n\n${token}\nno code here\n李四\t${token}`);
  assert.deepEqual(entries, [
    { label: "王小明", token },
    { label: "", token },
    { label: "李四", token },
  ]);
  assert.deepEqual(unreadable, [{ line: 4, text: "no code here" }]);
  assert.deepEqual(chunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
});

test("a leg's or stay's temperatures are judged against the product's range", () => {
  assert.equal(coldChainVerdict(null, [2, 8]).key, "cold.none");
  assert.equal(coldChainVerdict({ readings: 12, min_c: 3.1, max_c: 7.9, excursions: [] }, [2, 8]).tone, "ok");
  assert.equal(coldChainVerdict({ readings: 12, min_c: 3.1, max_c: 8.4, excursions: [] }, [2, 8]).key, "cold.out_of_range");
  assert.equal(coldChainVerdict({ readings: 12, min_c: -1, max_c: 5, excursions: [{ id: 1 }] }, [2, 8]).key, "cold.excursions");
});

test("a dose's provenance reads from the manufacturer to the clinic", () => {
  const place = (equipment, facility) => ({ equipment, facility, equipment_id: 1 });
  const steps = doseSteps({
    lot: { lot_number: "L1", manufacturer: "M", storage_range_c: [2, 8] },
    timeline: [
      { step: "manufactured", at: 1, facility: "M" },
      { step: "batch_released", at: 2, certificate_hash: "0xab" },
      { step: "transport", from: place("CR", "M"), to: place("F", "C"), vehicle: place("VAN", "CDC"), since: 3, until: 4, cold_chain: null },
      { step: "storage", ...place("F", "C"), since: 4, until: null, cold_chain: { readings: 2, min_c: 4, max_c: 5, excursions: [] } },
      { step: "administered", at: 5, facility: "C" },
    ],
  });
  assert.deepEqual(steps.map((s) => s.key), ["timeline.manufactured", "timeline.released", "timeline.transport", "timeline.storage", "timeline.administered"]);
  assert.deepEqual(steps[2].vars, { from: "CR · M", to: "F · C", vehicle: "VAN · CDC" });
  assert.equal(steps[3].cold.tone, "ok");
});

test("the chart draws every reading, the range and each alarm, and keeps the peaks", () => {
  const readings = {
    from_ms: 0,
    to_ms: 100,
    points: [{ ts_ms: 10, temp_c: 4 }, { ts_ms: 11, temp_c: 12.5 }, { ts_ms: 20, temp_c: -1 }],
    alarms: [{ kind: "freeze", opened_at_ms: 20, closed_at_ms: null }],
  };
  const labels = { temperature: "t", low: "low", high: "high", max: "max", min: "min", alarm: (a) => `alarm ${a.kind}` };
  const option = temperatureOption(readings, { range: [2, 8], labels });
  const [series] = option.series;
  assert.deepEqual(series.data, [[10, 4], [11, 12.5], [20, -1]]);
  assert.equal(series.sampling, undefined);
  assert.deepEqual(series.markLine.data.map((d) => d.yAxis), [2, 8]);
  assert.deepEqual(series.markArea.data, [[{ xAxis: 20, name: "alarm freeze" }, { xAxis: 100 }]]);
  assert.deepEqual(series.markPoint.data.map((d) => d.type), ["max", "min"]);
});
