// The clinic's appointments on a day (today by default), each with a way to record its dose.

import { get, query } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { day, t, timeOnly, today } from "../../core/i18n.js";
import { go } from "../../core/router.js";
import { badge, empty, field, input, load, page, table } from "../../core/ui.js";

const TONES = { booked: "ok", completed: "neutral", cancelled: "muted", missed: "warn" };

export function appointmentsView({ query: q, signal }) {
  const chosenDay = q.day || today();
  const picker = input({ type: "date", name: "day", value: chosenDay, onchange: (e) => go(`/clinic/appointments${query({ day: e.target.value })}`) });
  const list = h("div");
  load(list, () => get(`/v1/staff/appointments${query({ day: chosenDay })}`, { signal }), (rows) =>
    rows.length
      ? table(
          t("appointments.caption", { day: day(chosenDay), count: rows.length }),
          [
            { label: t("appointments.time"), cell: (r) => `${timeOnly(r.start)}–${timeOnly(r.end)}` },
            { label: t("appointments.person"), cell: (r) => [r.person_name || "—", h("br"), h("span", { class: "muted small" }, r.birth_date ? day(r.birth_date) : "")] },
            { label: t("appointments.vaccine"), cell: (r) => r.vaccine_type },
            { label: t("appointments.status"), cell: (r) => badge(t(`booking.status.${r.status}`), TONES[r.status]) },
            {
              label: t("appointments.action"),
              cell: (r) =>
                r.status === "booked"
                  ? h("a", { class: "button-link", href: `#/clinic/dose${query({ booking: r.booking_id, day: chosenDay })}` }, t("appointments.record"))
                  : "—",
            },
          ],
          rows,
        )
      : empty(t("appointments.none", { day: day(chosenDay) })),
  );
  return page(t("appointments.title"), h("div", { class: "toolbar" }, field(t("appointments.day"), picker)), list);
}
