// The facility's stock per piece of cold-chain equipment and lot: available and quarantined doses.

import { get } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { day, number, t } from "../../core/i18n.js";
import { badge, empty, load, page, table } from "../../core/ui.js";

function byEquipment(rows) {
  const groups = new Map();
  for (const row of rows) {
    if (!groups.has(row.equipment_id)) groups.set(row.equipment_id, []);
    groups.get(row.equipment_id).push(row);
  }
  return [...groups.values()];
}

function equipmentCard(rows) {
  const first = rows[0];
  return h(
    "section",
    { class: "card", dataset: { equipment: first.equipment_id } },
    h("h2", {}, first.equipment, " ", h("span", { class: "muted small" }, t(`equipment.kind.${first.equipment_kind}`)), " ", first.under_excursion ? badge(t("stock.under_excursion"), "bad") : null),
    table(
      { text: t("stock.caption", { equipment: first.equipment }), hidden: true },
      [
        { label: t("stock.product"), cell: (r) => r.product },
        { label: t("records.lot"), cell: (r) => [r.lot_number, r.lot_status === "recalled" ? [" ", badge(t("lot.status.recalled"), "bad")] : null] },
        { label: t("records.expiry"), cell: (r) => day(r.expiry) },
        { label: t("stock.available"), cell: (r) => number(r.available) },
        { label: t("stock.quarantined"), cell: (r) => (r.quarantined ? badge(number(r.quarantined), "bad") : "0") },
      ],
      rows,
    ),
  );
}

export function stockView({ signal }) {
  const list = h("div");
  load(list, () => get("/v1/staff/stock", { signal }), (rows) => (rows.length ? byEquipment(rows).map(equipmentCard) : empty(t("stock.empty"))));
  return page(t("stock.title"), list);
}
