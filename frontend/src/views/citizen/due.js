// "Due next": the doses a family member should have within a year (overdue ones first, marked), with a
// way to book each, and where every vaccine series of the national schedule stands.

import { get } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { day, t, tOr } from "../../core/i18n.js";
import { badge, empty, load, page, section, table } from "../../core/ui.js";
import { chosen, family, memberPicker } from "./members.js";
import { vaccineName } from "./sites.js";

const HORIZON_DAYS = 365;
const STATUS_TONES = { complete: "ok", due: "warn", overdue: "bad", missing: "bad", not_yet: "neutral", not_applicable: "muted" };

export function seriesName(series, fallback) {
  return tOr(`series.${series}`, fallback || series);
}

function reminderItem(r, person, products) {
  const vaccines = r.vaccines.map((v) => vaccineName(v, products)).join(t("list.or"));
  return h(
    "li",
    { class: `card reminder ${r.overdue ? "overdue" : ""}` },
    h("h3", {}, seriesName(r.series), " ", t("due.dose", { n: r.dose }), " ", r.overdue ? badge(t("due.overdue"), "bad") : null),
    h("p", {}, t("due.window", { earliest: day(r.earliest), before: day(r.due_before) })),
    h("p", { class: "muted" }, t("due.vaccines", { vaccines })),
    r.requires_tb_test ? h("p", { class: "muted" }, t("due.tb_test")) : null,
    h("a", { class: "button-link", href: `#/citizen/sites?vaccine=${encodeURIComponent(r.vaccines[0])}&person=${person.id}` }, t("due.book")),
  );
}

function seriesTable(schedule) {
  return table(
    t("due.series_caption", { edition: schedule.edition, on: day(schedule.on) }),
    [
      { label: t("due.series"), cell: (s) => seriesName(s.series, s.name) },
      { label: t("due.status"), cell: (s) => badge(t(`series.status.${s.status}`), STATUS_TONES[s.status]) },
      { label: t("due.counted"), cell: (s) => (s.counted.length ? s.counted.map((c) => `${c.dose}: ${day(c.given_on)}`).join("; ") : "—") },
      { label: t("due.next"), cell: (s) => (s.next_due ? t("due.next_dose", { n: s.next_dose, date: day(s.next_due) }) : "—") },
    ],
    schedule.series,
  );
}

export async function dueView({ params, signal }) {
  const [members, products] = await Promise.all([family(signal), get("/v1/products", { signal })]);
  const person = chosen(members, params.id);
  if (!person) return page(t("due.title"), empty(t("family.empty")));
  const next = h("div");
  const series = h("div");
  load(
    next,
    () => get(`/v1/me/family/${person.id}/reminders?horizon_days=${HORIZON_DAYS}`, { signal }),
    (answer) =>
      answer.reminders.length
        ? h("ol", { class: "cards" }, answer.reminders.map((r) => reminderItem(r, person, products)))
        : empty(t("due.none", { name: person.name })),
  );
  load(series, () => get(`/v1/me/family/${person.id}/schedule`, { signal }), seriesTable);
  return page(t("due.title"), memberPicker(members, person, "/citizen/due"), section(t("due.next_title"), next), section(t("due.all_title"), series));
}
