// Shipping doses of a released lot from one of the facility's equipment to another site, in one of its
// vehicles; and the facility's shipments still on the road.

import { get, post } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { dateTime, number, t } from "../../core/i18n.js";
import { me } from "../../core/session.js";
import { act, empty, field, input, load, page, section, select, statusArea, table } from "../../core/ui.js";
import { facilities, facilityName } from "../cdc/directory.js";

function shipForm(stock, vehicles, destinations, onShipped) {
  const sources = stock.filter((s) => s.available > 0 && s.lot_status === "released");
  if (!sources.length) return empty(t("ship.no_stock"));
  if (!vehicles.length) return empty(t("ship.no_vehicle"));
  const source = select(
    sources.map((s, i) => [i, t("ship.source_option", { product: s.product, lot: s.lot_number, equipment: s.equipment, n: s.available })]),
    { name: "source" },
  );
  const vehicle = select(vehicles.map((v) => [v.id, v.label]), { name: "vehicle" });
  const to = select(destinations.map((f) => [f.id, f.name]), { name: "to" });
  const quantity = input({ name: "quantity", type: "number", min: 1, step: 1, required: true, inputmode: "numeric" });
  const submit = h("button", { type: "submit" }, t("ship.submit"));
  const status = statusArea();
  return h(
    "form",
    {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        const from = sources[Number(source.value)];
        const shipped = await act({
          button: submit,
          status,
          progress: t("state.writing"),
          done: (r) => t("ship.shipped", { id: r.shipment_id }),
          work: () =>
            post("/v1/staff/shipments", {
              lot_id: from.lot_id,
              from_equipment_id: from.equipment_id,
              vehicle_id: Number(vehicle.value),
              to_facility_id: Number(to.value),
              quantity: Number(quantity.value),
            }),
        });
        if (shipped) onShipped();
      },
    },
    field(t("ship.source"), source),
    field(t("ship.to"), to),
    field(t("ship.vehicle"), vehicle),
    field(t("ship.quantity"), quantity),
    submit,
    status,
  );
}

export async function shipView({ signal }) {
  const [stock, equipment, directory] = await Promise.all([get("/v1/staff/stock", { signal }), get("/v1/staff/equipment", { signal }), facilities(signal)]);
  const mine = me()?.facility_id;
  const destinations = directory.filter((f) => f.id !== mine && f.active && f.kind !== "manufacturer");
  const vehicles = equipment.filter((e) => e.kind === "vehicle" && e.active);
  const outgoing = h("div");
  const refresh = () =>
    load(outgoing, () => get("/v1/staff/shipments?direction=outgoing&status=in_transit", { signal }), (rows) =>
      rows.length
        ? table(t("ship.on_road"), [
            { label: "#", cell: (r) => r.id },
            { label: t("stock.product"), cell: (r) => `${r.product} · ${r.lot_number}` },
            { label: t("ship.quantity"), cell: (r) => number(r.quantity) },
            { label: t("ship.to"), cell: (r) => facilityName(directory, r.to_facility_id) },
            { label: t("receive.shipped_at"), cell: (r) => dateTime(r.shipped_at) },
          ], rows)
        : empty(t("ship.none_on_road")),
    );
  refresh();
  return page(t("ship.title"), section(t("ship.new"), shipForm(stock, vehicles, destinations, refresh)), section(t("ship.on_road"), outgoing));
}
