// Stock under quarantine in the district after an excursion: release it back to use after review, or
// dispose of it with a reason (a disposal record, Vaccine Administration Law art. 40); release
// quarantined shipments; let equipment take stock again once its excursion is dealt with.

import { get, post } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { number, t } from "../../core/i18n.js";
import { act, badge, confirm, empty, field, input, load, page, section, select, statusArea, table } from "../../core/ui.js";
import { facilities, facilityName } from "./directory.js";

const DISPOSAL_REASONS = ["excursion", "expired", "damaged", "recalled", "other"];

function decision(row, status, refresh) {
  const quantity = input({ type: "number", name: "quantity", min: 1, max: row.quarantined, value: String(row.quarantined), required: true, class: "narrow" });
  const reason = select(DISPOSAL_REASONS.map((r) => [r, t(`writeoff.${r}`)]), { name: "reason" });
  const body = () => ({ lot_id: row.lot_id, equipment_id: row.equipment_id, quantity: Number(quantity.value) });
  const run = async (button, path, extra, question, done) => {
    if (!(await confirm(question))) return;
    const result = await act({ button, status, progress: t("state.writing"), done, work: () => post(path, { ...body(), ...extra }) });
    if (result) refresh();
  };
  return h(
    "div",
    { class: "decision" },
    field(t("quarantine.quantity"), quantity),
    h("button", {
      type: "button",
      onclick: (e) => run(e.currentTarget, "/v1/cdc/stock/release", {}, t("quarantine.release_question", { n: quantity.value, lot: row.lot_number }), t("quarantine.released")),
    }, t("quarantine.release")),
    field(t("quarantine.reason"), reason),
    h("button", {
      type: "button",
      class: "danger",
      onclick: (e) => run(e.currentTarget, "/v1/cdc/stock/dispose", { reason: reason.value }, t("quarantine.dispose_question", { n: quantity.value, lot: row.lot_number }), t("quarantine.disposed")),
    }, t("quarantine.dispose")),
  );
}

function endExcursionButton(row, status, refresh) {
  return h("button", {
    type: "button",
    class: "secondary",
    onclick: async (e) => {
      if (!(await confirm(t("quarantine.end_question", { equipment: row.equipment })))) return;
      const done = await act({ button: e.currentTarget, status, progress: t("state.writing"), done: t("quarantine.ended"), work: () => post(`/v1/cdc/equipment/${row.equipment_id}/end-excursion`) });
      if (done) refresh();
    },
  }, t("quarantine.end_excursion"));
}

export async function quarantineView({ signal }) {
  const directory = await facilities(signal);
  const status = statusArea();
  const stock = h("div");
  const shipments = h("div");
  const refresh = () =>
    load(stock, () => get("/v1/cdc/quarantine", { signal }), (q) => {
      shipments.replaceChildren(
        q.shipments.length
          ? table(t("quarantine.shipments"), [
              { label: "#", cell: (s) => s.shipment_id },
              { label: t("records.lot"), cell: (s) => `#${s.lot_id}` },
              { label: t("ship.quantity"), cell: (s) => number(s.quantity) },
              { label: t("ship.to"), cell: (s) => facilityName(directory, s.to_facility_id) },
              {
                label: t("appointments.action"),
                cell: (s) =>
                  h("button", {
                    type: "button",
                    onclick: async (e) => {
                      const done = await act({ button: e.currentTarget, status, progress: t("state.writing"), done: t("quarantine.released"), work: () => post(`/v1/cdc/shipments/${s.shipment_id}/release`) });
                      if (done) refresh();
                    },
                  }, t("quarantine.release")),
              },
            ], q.shipments)
          : empty(t("quarantine.no_shipments")),
      );
      return q.stock.length
        ? table(t("quarantine.caption", { count: q.stock.length }), [
            { label: t("quarantine.where"), cell: (r) => [r.facility, h("br"), r.equipment, " ", r.under_excursion ? badge(t("stock.under_excursion"), "bad") : null] },
            { label: t("stock.product"), cell: (r) => `${r.product} · ${r.lot_number}` },
            { label: t("stock.quarantined"), cell: (r) => badge(number(r.quarantined), "bad") },
            { label: t("stock.available"), cell: (r) => number(r.available) },
            { label: t("quarantine.decide"), cell: (r) => [decision(r, status, refresh), r.under_excursion ? endExcursionButton(r, status, refresh) : null] },
          ], q.stock.map((r) => ({ ...r, __data: { lot: r.lot_id, equipment: r.equipment_id } })))
        : empty(t("quarantine.none"));
    });
  refresh();
  return page(t("quarantine.title"), h("p", { class: "lead" }, t("quarantine.lead")), status, section(t("quarantine.stock"), stock), section(t("quarantine.shipments"), shipments));
}
