// A family member's doses, each with its provenance as a timeline.

import { get } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { celsius, dateTime, day, t } from "../../core/i18n.js";
import { badge, dl, empty, load, page } from "../../core/ui.js";
import { doseSteps } from "../../lib/timeline.js";
import { chosen, family, memberPicker } from "./members.js";

function coldLine(cold) {
  const vars = { ...cold.vars, min: celsius(cold.vars.min), max: celsius(cold.vars.max) };
  return h("p", { class: `cold ${cold.tone}` }, badge(t(`cold.tone.${cold.tone}`), cold.tone), " ", t(cold.key, vars));
}

function stepItem(step) {
  const when = step.at !== undefined ? dateTime(step.at) : t("timeline.period", { since: dateTime(step.since), until: step.until ? dateTime(step.until) : t("timeline.now") });
  return h(
    "li",
    { class: `step ${step.kind}` },
    h("p", { class: "step-title" }, h("strong", {}, t(`timeline.kind.${step.kind}`)), " ", h("span", { class: "muted" }, when)),
    h("p", {}, t(step.key, step.vars)),
    step.cold ? coldLine(step.cold) : null,
    step.proof ? h("p", { class: "muted small mono" }, t("timeline.certificate", { hash: `${step.proof.slice(0, 18)}…` })) : null,
  );
}

function doseCard(dose) {
  const lot = dose.lot;
  return h(
    "li",
    { class: "card dose" },
    h("h3", {}, lot.product, " ", t("records.dose_number", { n: dose.dose_number })),
    lot.status === "recalled" ? h("p", { class: "alert error", role: "note" }, t("records.recalled")) : null,
    dl([
      [t("records.given_on"), dateTime(dose.at)],
      [t("records.lot"), lot.lot_number],
      [t("records.maker"), lot.manufacturer || "—"],
      [t("records.expiry"), day(lot.expiry)],
    ]),
    h("h4", {}, t("records.provenance")),
    h("ol", { class: "timeline", "aria-label": t("records.provenance_of", { product: lot.product }) }, doseSteps(dose).map(stepItem)),
    dose.path_complete ? null : h("p", { class: "muted" }, t("records.path_incomplete")),
    h("p", { class: "muted small mono" }, t("records.tx", { hash: `${dose.tx_hash.slice(0, 18)}…` })),
  );
}

export async function recordsView({ params, signal }) {
  const members = await family(signal);
  const person = chosen(members, params.id);
  if (!person) return page(t("records.title"), empty(t("family.empty")));
  const list = h("div");
  load(
    list,
    () => get(`/v1/me/family/${person.id}/doses`, { signal }),
    (doses) => (doses.length ? h("ol", { class: "cards doses" }, [...doses].reverse().map(doseCard)) : empty(t("records.empty", { name: person.name }))),
  );
  return page(t("records.title"), memberPicker(members, person, "/citizen/records"), list);
}
