// Immunization coverage of the children registered on the platform (not the census), on a chosen day:
// per schedule series, per age, and per clinic of each child's latest dose.

import { get, query } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { number, percent, t, today } from "../../core/i18n.js";
import { go } from "../../core/router.js";
import { badge, dl, empty, field, input, load, page, section, table } from "../../core/ui.js";
import { seriesName } from "../citizen/due.js";

// The meter turns from red to amber at 90 % (the national programme's goal per township) and to green at 95 %.
function rate(fraction) {
  if (fraction === null || fraction === undefined) return percent(fraction);
  return h("span", { class: "rate" }, h("meter", { min: 0, max: 1, low: 0.9, high: 0.95, optimum: 1, value: fraction, "aria-hidden": "true" }), " ", percent(fraction));
}

const rateColumns = () => [
  { label: t("coverage.children"), cell: (r) => number(r.children) },
  { label: t("coverage.up_to_date"), cell: (r) => number(r.up_to_date) },
  { label: t("coverage.rate"), cell: (r) => rate(r.rate) },
];

function report(data) {
  if (!data.children) return empty(t("coverage.none"));
  return h(
    "div",
    {},
    dl([
      [t("coverage.children"), number(data.children)],
      [t("coverage.up_to_date_all"), rate(data.children ? data.up_to_date / data.children : null)],
      [t("coverage.edition"), data.edition],
    ]),
    table(t("coverage.by_series"), [
      { label: t("due.series"), cell: (r) => seriesName(r.series, r.name) },
      { label: t("coverage.eligible"), cell: (r) => number(r.eligible) },
      { label: t("coverage.up_to_date"), cell: (r) => number(r.up_to_date) },
      { label: t("coverage.complete"), cell: (r) => number(r.complete) },
      { label: t("coverage.behind"), cell: (r) => (r.behind ? badge(number(r.behind), "bad") : "0") },
      { label: t("coverage.rate"), cell: (r) => rate(r.rate) },
    ], data.series.filter((r) => r.eligible).map((r) => ({ ...r, __data: { series: r.series } }))),
    table(t("coverage.by_age"), [{ label: t("coverage.age"), cell: (r) => t("coverage.years", { n: r.age }) }, ...rateColumns()], data.ages),
    table(t("coverage.by_clinic"), [{ label: t("district.facility"), cell: (r) => r.facility ?? t("coverage.no_dose") }, ...rateColumns()], data.clinics),
  );
}

export function coverageView({ query: q, signal }) {
  const day = q.on || today();
  const picker = input({ type: "date", name: "on", value: day, max: today(), onchange: (e) => go(`/cdc/coverage${query({ on: e.target.value })}`) });
  const body = h("div");
  load(body, () => get(`/v1/cdc/coverage${query({ on: day })}`, { signal }), report);
  return page(
    t("coverage.title"),
    h("p", { class: "lead" }, t("coverage.lead")),
    h("div", { class: "toolbar" }, field(t("coverage.on"), picker)),
    section(t("coverage.caption", { on: day }), body),
  );
}
