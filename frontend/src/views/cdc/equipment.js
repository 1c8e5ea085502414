// One piece of equipment's temperatures over a chosen range, drawn with each time bucket's lowest and
// highest reading (never an average), its storage range and its alarms; and the alarms to acknowledge.

import { get, query } from "../../core/api.js";
import { h, replace } from "../../core/dom.js";
import { celsius, dateTimeMs, number, t } from "../../core/i18n.js";
import { go } from "../../core/router.js";
import { dl, empty, errorBox, field, loading, page, section, select } from "../../core/ui.js";
import { temperatureOption } from "../../lib/chart-option.js";
import { alarmCard, alarmKind, equipmentName } from "./alarms.js";
import { equipmentIndex, facilities } from "./directory.js";

const HOUR_MS = 3_600_000;
const RANGES = { "6h": 6, "24h": 24, "7d": 24 * 7, "31d": 24 * 31 };
const FREEZER_RANGE = [-50, -15];

function storageRange(kind) {
  return kind === "freezer" ? FREEZER_RANGE : [2, 8];
}

function describe(readings) {
  if (!readings.total) return t("chart.no_readings");
  return t("chart.summary", {
    total: number(readings.total),
    min: celsius(readings.min_c),
    max: celsius(readings.max_c),
    alarms: readings.alarms.length,
  });
}

export async function equipmentView({ params, query: q, signal }) {
  const id = Number(params.id);
  const index = equipmentIndex(await facilities(signal));
  const equipment = index.get(id);
  const span = RANGES[q.range] ? q.range : "24h";
  const to = Date.now();
  const from = to - RANGES[span] * HOUR_MS;
  const range = storageRange(equipment?.kind);
  const chartBox = h("div", { class: "chart", role: "img" });
  const facts = h("div");
  const alarms = h("div");
  const rangeSelect = select(
    Object.keys(RANGES).map((r) => [r, t(`chart.range.${r}`)]),
    { value: span, onchange: (e) => go(`/cdc/equipment/${id}${query({ range: e.target.value })}`) },
  );

  const refreshAlarms = () =>
    get(`/v1/cdc/alarms${query({ state: "all", equipment: id })}`, { signal })
      .then((rows) => replace(alarms, rows.length ? h("ul", { class: "cards" }, rows.map((a) => alarmCard(a, index, refreshAlarms))) : empty(t("alarms.none.all"))))
      .catch((error) => replace(alarms, errorBox(error)));

  replace(chartBox, loading());
  get(`/v1/cdc/coldchain/equipment/${id}/readings${query({ from_ms: from, to_ms: to, max_points: 1000 })}`, { signal })
    .then(async (readings) => {
      const text = describe(readings);
      chartBox.setAttribute("aria-label", text);
      replace(chartBox);
      replace(
        facts,
        h("p", {}, text),
        readings.downsampled ? h("p", { class: "muted small" }, t("chart.downsampled")) : null,
        dl([
          [t("chart.from_to"), `${dateTimeMs(readings.from_ms)} – ${dateTimeMs(readings.to_ms)}`],
          [t("chart.storage_range"), `${range[0]} °C – ${range[1]} °C`],
        ]),
      );
      if (readings.total) {
        const { draw } = await import("../../core/chart.js"); // ECharts comes with the pages that draw
        draw(
          chartBox,
          temperatureOption(readings, {
            range,
            labels: {
              temperature: t("chart.temperature"),
              low: t("chart.low"),
              high: t("chart.high"),
              max: t("chart.max"),
              min: t("chart.min"),
              alarm: (a) => alarmKind(a.kind),
            },
          }),
          signal,
        );
      } else {
        replace(chartBox, empty(t("chart.no_readings")));
      }
    })
    .catch((error) => {
      if (error.name !== "AbortError") replace(chartBox, errorBox(error));
    });
  refreshAlarms();

  return page(
    t("chart.title", { name: equipment ? equipmentName(index, id) : `#${id}` }),
    h("p", {}, h("a", { href: "#/cdc/board" }, t("chart.back"))),
    h("div", { class: "toolbar" }, field(t("chart.range"), rangeSelect)),
    section(t("chart.temperatures"), chartBox, facts),
    section(t("nav.alarms"), alarms),
  );
}
