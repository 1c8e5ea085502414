// The live cold-chain board: every piece of equipment the oracle knows, its status and latest reading,
// and its open alarms by tier; alarms first. Refreshed every 15 s while the page is open and visible.

import { get } from "../../core/api.js";
import { h, replace } from "../../core/dom.js";
import { celsius, dateTimeMs, number, t, timeOnly } from "../../core/i18n.js";
import { badge, empty, errorBox, every, field, input, loading, page, select, table } from "../../core/ui.js";
import { alarmKind, equipmentName, tierBadge } from "./alarms.js";
import { equipmentIndex, facilities } from "./directory.js";

const REFRESH_S = 15;
const ORDER = { alarm: 0, silent: 1, no_data: 2, ok: 3 };
const TONES = { alarm: "bad", silent: "warn", no_data: "muted", ok: "ok" };

function summary(rows) {
  const counts = { alarm: 0, silent: 0, no_data: 0, ok: 0 };
  for (const r of rows) counts[r.status] = (counts[r.status] || 0) + 1;
  return h(
    "ul",
    { class: "summary", "aria-label": t("board.summary") },
    Object.entries(counts).map(([status, n]) => h("li", { class: `tile ${TONES[status]}` }, h("strong", {}, number(n)), h("span", {}, t(`board.status.${status}`)))),
  );
}

function boardTable(rows, index) {
  return table(
    t("board.caption", { count: rows.length }),
    [
      { label: t("board.status"), cell: (r) => badge(t(`board.status.${r.status}`), TONES[r.status]) },
      { label: t("board.equipment"), cell: (r) => h("a", { href: `#/cdc/equipment/${r.equipment}` }, equipmentName(index, r.equipment)) },
      { label: t("board.kind"), cell: (r) => (r.kind ? t(`equipment.kind.${r.kind}`) : "—") },
      { label: t("board.last"), cell: (r) => [h("strong", {}, celsius(r.last_temp_c)), h("br"), h("span", { class: "muted small" }, dateTimeMs(r.last_ts_ms))] },
      { label: t("board.readings_24h"), cell: (r) => number(r.readings_24h) },
      {
        label: t("board.alarms"),
        cell: (r) => (r.open_alarms.length ? h("ul", { class: "plain" }, r.open_alarms.map((a) => h("li", {}, alarmKind(a.kind), " ", tierBadge(a.tier)))) : "—"),
      },
    ],
    rows.map((r) => ({ ...r, __data: { equipment: r.equipment, status: r.status } })),
  );
}

export async function boardView({ signal }) {
  const index = equipmentIndex(await facilities(signal));
  const content = h("div");
  const updated = h("p", { class: "muted small", "aria-live": "off" });
  const filters = { status: "", text: "" };
  let rows = null;
  const render = () => {
    if (!rows) return;
    const text = filters.text.trim().toLowerCase();
    const shown = rows
      .filter((r) => !filters.status || r.status === filters.status)
      .filter((r) => !text || equipmentName(index, r.equipment).toLowerCase().includes(text))
      .sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.equipment - b.equipment);
    replace(content, summary(rows), shown.length ? boardTable(shown, index) : empty(t("board.none")));
  };
  const statusFilter = select([["", t("board.all")], ...Object.keys(ORDER).map((s) => [s, t(`board.status.${s}`)])], {
    onchange: (e) => { filters.status = e.target.value; render(); },
  });
  const search = input({ type: "search", oninput: (e) => { filters.text = e.target.value; render(); } });
  replace(content, loading());
  every(REFRESH_S, signal, async () => {
    try {
      rows = await get("/v1/cdc/coldchain/board", { signal });
      replace(updated, t("board.updated", { time: timeOnly(Date.now() / 1000), seconds: REFRESH_S }));
      render();
    } catch (error) {
      if (error.name !== "AbortError") replace(content, errorBox(error));
    }
  });
  return page(
    t("board.title"),
    h("div", { class: "toolbar" }, field(t("board.filter_status"), statusFilter), field(t("board.search"), search), h("p", {}, h("a", { href: "#/cdc/alarms" }, t("nav.alarms")))),
    updated,
    content,
  );
}
