// Finding a vaccination site with stock of a vaccine and a free slot, by district area, and booking
// the slot for a family member (a dose of the site's stock is held for the booking on chain).

import { get, post, query } from "../../core/api.js";
import { h, replace } from "../../core/dom.js";
import { dateTime, t, timeOnly, tOr } from "../../core/i18n.js";
import { act, empty, field, load, page, select, statusArea } from "../../core/ui.js";
import { chosen, family, memberLabel } from "./members.js";

export function vaccineName(type, products) {
  const product = products.find((p) => p.vaccine_type === type);
  return tOr(`vaccine.${type}`, product?.name || type);
}

export function areaName(code) {
  return tOr(`area.${code}`, code);
}

function slotLabel(slot) {
  return t("sites.slot", { start: dateTime(slot.start), end: timeOnly(slot.end), free: slot.free });
}

function siteCard(site, ctx) {
  const status = statusArea();
  const book = async (slot, button) => {
    const booked = await act({
      button,
      status,
      progress: t("sites.booking"),
      work: () => post("/v1/appointments", { slot_id: slot.id, person_id: ctx.person().id }),
    });
    if (booked) {
      replace(
        status,
        h(
          "div",
          { class: "alert success", role: "status" },
          h("p", {}, t("sites.booked", { name: ctx.person().name, site: site.name, when: dateTime(slot.start) })),
          h("a", { href: "#/citizen/bookings" }, t("nav.bookings")),
        ),
      );
    }
  };
  const stock = Object.entries(site.stock);
  return h(
    "li",
    { class: "card site", dataset: { site: site.id } },
    h("h3", {}, site.name),
    h("p", { class: "muted" }, areaName(site.area_code)),
    stock.length
      ? h("p", {}, t("sites.stock"), " ", stock.map(([type, n]) => h("span", { class: "badge ok" }, `${vaccineName(type, ctx.products)} ${n}`)))
      : h("p", { class: "muted" }, t("sites.no_stock")),
    site.next_slots.length
      ? h(
          "ul",
          { class: "slots", "aria-label": t("sites.slots_at", { site: site.name }) },
          site.next_slots.map((slot) =>
            h(
              "li",
              {},
              h(
                "button",
                {
                  type: "button",
                  class: "slot",
                  "aria-label": `${t("sites.book")} ${vaccineName(slot.vaccine_type, ctx.products)} ${slotLabel(slot)}`,
                  onclick: (event) => book(slot, event.currentTarget),
                },
                h("strong", {}, vaccineName(slot.vaccine_type, ctx.products)),
                " ",
                slotLabel(slot),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("sites.no_slots")),
    status,
  );
}

export async function sitesView({ query: q, signal }) {
  const [members, products, allSites] = await Promise.all([family(signal), get("/v1/products", { signal }), get("/v1/sites", { signal })]);
  const filters = { vaccine: q.vaccine || "", area: q.area || "" };
  let person = chosen(members, q.person);
  const results = h("div", { "aria-live": "polite" });
  const ctx = { products, person: () => person };

  const refresh = () => {
    history.replaceState(null, "", `#/citizen/sites${query({ ...filters, person: person?.id })}`);
    load(
      results,
      () => get(`/v1/sites${query(filters)}`, { signal }),
      (sites) =>
        sites.length
          ? h("ul", { class: "cards", "aria-label": t("sites.results", { count: sites.length }) }, sites.map((s) => siteCard(s, ctx)))
          : empty(t("sites.none")),
    );
  };

  const types = [...new Set(products.map((p) => p.vaccine_type))];
  const areas = [...new Set(allSites.map((s) => s.area_code))].sort();
  const memberSelect = select(
    members.map((m) => [m.id, memberLabel(m)]),
    { value: person?.id, onchange: (e) => { person = members.find((m) => m.id === e.target.value); refresh(); } },
  );
  const vaccineSelect = select(
    [["", t("sites.any_vaccine")], ...types.map((type) => [type, vaccineName(type, products)])],
    { value: filters.vaccine, onchange: (e) => { filters.vaccine = e.target.value; refresh(); } },
  );
  const areaSelect = select(
    [["", t("sites.any_area")], ...areas.map((code) => [code, areaName(code)])],
    { value: filters.area, onchange: (e) => { filters.area = e.target.value; refresh(); } },
  );
  refresh();
  return page(
    t("sites.title"),
    h("p", { class: "lead" }, t("sites.lead")),
    h(
      "div",
      { class: "toolbar", role: "search" },
      field(t("sites.for_whom"), memberSelect),
      field(t("sites.vaccine"), vaccineSelect),
      field(t("sites.area"), areaSelect),
    ),
    results,
  );
}
