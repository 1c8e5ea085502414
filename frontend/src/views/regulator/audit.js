// The audit of any lot: its facts, the balance (produced = held + in transit + given + written off), every
// custody step with its cold-chain summary, every chain event with its transaction, and staff actions.

import { get, query } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { celsius, dateTime, day, number, t, tOr } from "../../core/i18n.js";
import { go } from "../../core/router.js";
import { dl, empty, field, input, load, page, section, table } from "../../core/ui.js";
import { lotStatus } from "./lots.js";

function place(p) {
  return p ? [p.equipment, p.facility].filter(Boolean).join(" · ") : "";
}

function stepText(s) {
  const parts = [tOr(`audit.step.${s.step}`, s.step)];
  if (s.quantity) parts.push(t("audit.doses", { n: s.quantity }));
  if (s.at_place) parts.push(place(s.at_place));
  if (s.from) parts.push(`${place(s.from)} → ${s.to_facility || ""}`);
  if (s.into) parts.push(`→ ${place(s.into)}`);
  if (s.leg_cold_chain?.readings) parts.push(t("audit.leg", { min: celsius(s.leg_cold_chain.min_c), max: celsius(s.leg_cold_chain.max_c), n: s.leg_cold_chain.readings }));
  return parts.join(" · ");
}

function auditBody(a) {
  const lot = a.lot;
  const b = a.balance;
  return [
    section(
      t("audit.facts"),
      h("p", {}, lotStatus(lot.status)),
      dl([
        [t("stock.product"), lot.product],
        [t("records.lot"), lot.lot_number],
        [t("records.maker"), lot.manufacturer || "—"],
        [t("records.expiry"), day(lot.expiry)],
        [t("audit.released_at"), dateTime(lot.released_at)],
        lot.recalled_at ? [t("audit.recalled_at"), dateTime(lot.recalled_at)] : null,
        [t("audit.storage_range"), `${lot.storage_range_c[0]} °C – ${lot.storage_range_c[1]} °C`],
      ]),
    ),
    section(
      t("audit.balance"),
      h("p", { class: "balance" }, t("audit.balance_line", { produced: number(b.produced), held: number(b.held), in_transit: number(b.in_transit), administered: number(b.administered), written_off: number(b.written_off) })),
      h("p", { class: b.held + b.in_transit + b.administered + b.written_off === b.produced ? "muted" : "alert error" }, t(b.held + b.in_transit + b.administered + b.written_off === b.produced ? "audit.balanced" : "audit.unbalanced")),
    ),
    section(
      t("audit.steps"),
      a.steps.length ? h("ol", { class: "timeline" }, a.steps.map((s) => h("li", { class: "step" }, h("p", {}, h("strong", {}, dateTime(s.at)), " ", stepText(s))))) : empty(t("audit.no_steps")),
    ),
    section(
      t("audit.storage"),
      a.storage.length
        ? table(t("audit.storage"), [
            { label: t("audit.place"), cell: (s) => place(s) },
            { label: t("audit.period"), cell: (s) => `${dateTime(s.since)} – ${s.until ? dateTime(s.until) : t("timeline.now")}` },
            { label: t("audit.temperatures"), cell: (s) => (s.cold_chain.readings ? `${celsius(s.cold_chain.min_c)} – ${celsius(s.cold_chain.max_c)} (${number(s.cold_chain.readings)})` : t("cold.none")) },
            { label: t("audit.excursions"), cell: (s) => number(s.cold_chain.excursions.length) },
          ], a.storage)
        : empty(t("audit.no_steps")),
    ),
    section(
      t("audit.administered"),
      a.doses_administered.length
        ? table(t("audit.administered"), [
            { label: t("recall.clinic"), cell: (d) => d.facility || `#${d.facility_id}` },
            { label: t("audit.dose_count"), cell: (d) => number(d.doses) },
          ], a.doses_administered)
        : empty(t("audit.no_doses")),
    ),
    section(
      t("audit.events"),
      table(t("audit.events"), [
        { label: t("audit.block"), cell: (e) => number(e.block) },
        { label: t("audit.event"), cell: (e) => e.event },
        { label: t("audit.when"), cell: (e) => dateTime(e.at) },
        { label: t("audit.tx"), cell: (e) => h("span", { class: "mono small", title: e.tx_hash }, `${e.tx_hash.slice(0, 14)}…`) },
      ], a.events),
    ),
    section(
      t("audit.staff_actions"),
      a.staff_actions.length
        ? table(t("audit.staff_actions"), [
            { label: t("audit.when"), cell: (s) => dateTime(s.at) },
            { label: t("audit.role"), cell: (s) => s.role },
            { label: t("audit.action"), cell: (s) => s.action },
            { label: t("audit.result"), cell: (s) => s.status },
          ], a.staff_actions)
        : empty(t("audit.no_actions")),
    ),
  ];
}

export function auditView({ params, query: q, signal }) {
  const lotNumber = input({ name: "audit-lot", type: "search", value: q.number || "", autocomplete: "off" });
  const results = h("div");
  const search = () =>
    load(results, () => get(`/v1/lots${query({ number: lotNumber.value.trim() })}`, { signal }), (lots) =>
      lots.length
        ? table(t("audit.lots"), [
            { label: t("records.lot"), cell: (l) => h("a", { href: `#/regulator/audit/${l.id}` }, l.lot_number) },
            { label: t("stock.product"), cell: (l) => l.product },
            { label: t("audit.status"), cell: (l) => lotStatus(l.status) },
            { label: t("records.expiry"), cell: (l) => day(l.expiry) },
          ], lots)
        : empty(t("recall.no_lots")),
    );
  const form = h(
    "form",
    { class: "toolbar", role: "search", onsubmit: (e) => { e.preventDefault(); go(`/regulator/audit${query({ number: lotNumber.value.trim() })}`); } },
    field(t("recall.lot_number"), lotNumber),
    h("button", { type: "submit" }, t("action.search")),
  );
  if (!params.id) {
    search();
    return page(t("audit.title"), form, results);
  }
  const body = h("div");
  load(body, () => get(`/v1/regulator/lots/${params.id}/audit`, { signal }), auditBody);
  return page(t("audit.title_lot", { id: params.id }), h("p", {}, h("a", { href: "#/regulator/audit" }, t("audit.back"))), body);
}
