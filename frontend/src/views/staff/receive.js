// Receiving a delivery (Vaccine Administration Law art. 39): the trip's full temperature record is shown
// first; the backend receives the shipment only when the record is complete and in range, and otherwise
// refuses it on chain and says why.

import { get, post } from "../../core/api.js";
import { h, replace } from "../../core/dom.js";
import { celsius, dateTime, dateTimeMs, number, t, words } from "../../core/i18n.js";
import { act, badge, dl, empty, field, load, page, section, select, statusArea, table } from "../../core/ui.js";
import { facilityName, facilities } from "../cdc/directory.js";

function recordFacts(trip) {
  const r = trip.record;
  return h(
    "div",
    { class: `trip ${trip.acceptable ? "ok" : "bad"}` },
    h("p", { class: `alert ${trip.acceptable ? "success" : "error"}`, role: trip.acceptable ? "status" : "alert" }, words(trip)),
    r
      ? dl([
          [t("trip.readings"), number(r.count)],
          [t("trip.range"), `${celsius(r.min_c)} – ${celsius(r.max_c)}`],
          [t("trip.period"), `${dateTimeMs(r.from_ms)} – ${dateTimeMs(r.to_ms)}`],
          [t("trip.complete"), r.complete ? t("common.yes") : t("common.no")],
          [t("trip.gaps"), number(r.gaps?.length || 0)],
          [t("trip.alarms"), number(r.alarms?.length || 0)],
        ])
      : null,
  );
}

function outcome(result) {
  if (result.outcome === "received") {
    return h("div", { class: "alert success", role: "status" }, h("p", { class: "alert-text" }, t("receive.received", { n: result.accepted })));
  }
  return h(
    "div",
    { class: "alert error", role: "alert" },
    h("p", { class: "alert-text" }, t("receive.refused")),
    result.trip ? h("p", {}, words(result.trip)) : null,
  );
}

function shipmentPanel(shipment, storage, ctx) {
  const body = h("div");
  const status = statusArea();
  load(body, () => get(`/v1/staff/shipments/${shipment.id}/trip-record`, { signal: ctx.signal }), (trip) => {
    const into = select(storage.map((e) => [e.id, `${e.label} · ${t(`equipment.kind.${e.kind}`)}`]), { name: "into" });
    const submit = h("button", { type: "submit", class: trip.acceptable ? "" : "danger" }, t(trip.acceptable ? "receive.accept" : "receive.refuse"));
    return h(
      "form",
      {
        class: "stack",
        onsubmit: async (event) => {
          event.preventDefault();
          const result = await act({
            button: submit,
            status,
            progress: t("state.writing"),
            work: () => post(`/v1/staff/shipments/${shipment.id}/receive`, { equipment_id: Number(into.value) }),
          });
          if (result) {
            replace(status, outcome(result));
            ctx.refreshHistory();
          }
        },
      },
      h("h3", {}, t("receive.trip_record")),
      recordFacts(trip),
      trip.acceptable ? field(t("receive.into"), into) : null,
      submit,
    );
  });
  return section(
    t("receive.shipment", { id: shipment.id }),
    dl([
      [t("stock.product"), shipment.product],
      [t("records.lot"), shipment.lot_number],
      [t("ship.quantity"), number(shipment.quantity)],
      [t("receive.from"), facilityName(ctx.directory, shipment.from_facility_id)],
      [t("receive.shipped_at"), dateTime(shipment.shipped_at)],
      shipment.quarantined ? [t("receive.quarantined"), badge(t("common.yes"), "bad")] : null,
    ]),
    body,
    status,
  );
}

const TONES = { in_transit: "warn", received: "ok", refused: "bad" };

export async function receiveView({ signal }) {
  const [equipment, directory] = await Promise.all([get("/v1/staff/equipment", { signal }), facilities(signal)]);
  const storage = equipment.filter((e) => e.kind !== "vehicle" && e.active && !e.under_excursion);
  const incoming = h("div");
  const detail = h("div");
  const history = h("div");
  const ctx = { signal, directory };
  ctx.refreshHistory = () =>
    load(history, () => get("/v1/staff/shipments?direction=incoming", { signal }), (rows) =>
      rows.length
        ? table(t("receive.history"), [
            { label: "#", cell: (r) => r.id },
            { label: t("stock.product"), cell: (r) => `${r.product} · ${r.lot_number}` },
            { label: t("ship.quantity"), cell: (r) => number(r.quantity) },
            { label: t("receive.status"), cell: (r) => badge(t(`shipment.status.${r.status}`), TONES[r.status]) },
            { label: t("receive.accepted"), cell: (r) => (r.accepted ?? "—") },
          ], rows)
        : empty(t("receive.none_history")),
    );
  load(incoming, () => get("/v1/staff/shipments?direction=incoming&status=in_transit", { signal }), (rows) =>
    rows.length
      ? h(
          "ul",
          { class: "cards" },
          rows.map((s) =>
            h(
              "li",
              { class: "card" },
              h("p", {}, h("strong", {}, t("receive.shipment", { id: s.id })), " ", `${s.product} · ${s.lot_number} · ${number(s.quantity)}`),
              h("button", { type: "button", onclick: () => { replace(detail, shipmentPanel(s, storage, ctx)); detail.querySelector("h2")?.focus(); } }, t("receive.check")),
            ),
          ),
        )
      : empty(t("receive.none")),
  );
  ctx.refreshHistory();
  return page(t("receive.title"), h("p", { class: "lead" }, t("receive.lead")), section(t("receive.incoming"), incoming), detail, section(t("receive.history"), history));
}
