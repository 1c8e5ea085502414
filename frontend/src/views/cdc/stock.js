// The district's stock: doses per facility and vaccine, available and quarantined, with totals.

import { get, query } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { number, t } from "../../core/i18n.js";
import { go } from "../../core/router.js";
import { badge, empty, field, load, page, section, select, table } from "../../core/ui.js";
import { vaccineName } from "../citizen/sites.js";

function totals(rows, products) {
  const sums = new Map();
  for (const r of rows) {
    const s = sums.get(r.vaccine_type) || { available: 0, quarantined: 0, sites: 0 };
    s.available += r.available;
    s.quarantined += r.quarantined;
    s.sites += r.available > 0 ? 1 : 0;
    sums.set(r.vaccine_type, s);
  }
  return table(t("district.totals"), [
    { label: t("sites.vaccine"), cell: ([type]) => vaccineName(type, products) },
    { label: t("stock.available"), cell: ([, s]) => number(s.available) },
    { label: t("stock.quarantined"), cell: ([, s]) => (s.quarantined ? badge(number(s.quarantined), "bad") : "0") },
    { label: t("district.sites_with_stock"), cell: ([, s]) => number(s.sites) },
  ], [...sums.entries()].sort());
}

export async function districtStockView({ query: q, signal }) {
  const products = await get("/v1/products", { signal });
  const types = [...new Set(products.map((p) => p.vaccine_type))];
  const vaccine = select([["", t("sites.any_vaccine")], ...types.map((v) => [v, vaccineName(v, products)])], {
    value: q.vaccine || "",
    onchange: (e) => go(`/cdc/stock${query({ vaccine: e.target.value })}`),
  });
  const sums = h("div");
  const detail = h("div");
  load(detail, () => get(`/v1/cdc/stock${query({ vaccine: q.vaccine })}`, { signal }), (rows) => {
    sums.replaceChildren(rows.length ? totals(rows, products) : "");
    return rows.length
      ? table(t("district.caption"), [
          { label: t("district.facility"), cell: (r) => r.facility },
          { label: t("sites.vaccine"), cell: (r) => vaccineName(r.vaccine_type, products) },
          { label: t("stock.available"), cell: (r) => number(r.available) },
          { label: t("stock.quarantined"), cell: (r) => (r.quarantined ? badge(number(r.quarantined), "bad") : "0") },
        ], rows)
      : empty(t("district.none"));
  });
  return page(t("district.title"), h("div", { class: "toolbar" }, field(t("sites.vaccine"), vaccine)), section(t("district.totals"), sums), section(t("district.caption"), detail));
}
