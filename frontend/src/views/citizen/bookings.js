// The account's appointments: reschedule to another free slot of the same vaccine at the site, or cancel
// (the held dose goes back to the site's stock).

import { del, get, post, query } from "../../core/api.js";
import { h, replace } from "../../core/dom.js";
import { dateTime, t, timeOnly } from "../../core/i18n.js";
import { act, badge, confirm, empty, errorBox, load, loading, page, statusArea } from "../../core/ui.js";
import { vaccineName } from "./sites.js";

const TONES = { booked: "ok", completed: "neutral", cancelled: "muted", missed: "warn" };

function rescheduler(booking, status, refresh) {
  const box = h("div", { class: "reschedule" }, loading());
  get(`/v1/sites/${booking.site_id}/slots${query({ vaccine: booking.vaccine_type })}`)
    .then((slots) => {
      const others = slots.filter((s) => s.id !== booking.slot_id);
      replace(
        box,
        others.length
          ? h(
              "ul",
              { class: "slots", "aria-label": t("bookings.other_slots") },
              others.map((slot) =>
                h(
                  "li",
                  {},
                  h(
                    "button",
                    {
                      type: "button",
                      class: "slot",
                      onclick: async (event) => {
                        const moved = await act({
                          button: event.currentTarget,
                          status,
                          progress: t("bookings.moving"),
                          done: t("bookings.moved", { when: dateTime(slot.start) }),
                          work: () => post(`/v1/appointments/${booking.booking_id}/reschedule`, { slot_id: slot.id }),
                        });
                        if (moved) refresh();
                      },
                    },
                    t("sites.slot", { start: dateTime(slot.start), end: timeOnly(slot.end), free: slot.free }),
                  ),
                ),
              ),
            )
          : empty(t("bookings.no_other_slots")),
      );
    })
    .catch((error) => replace(box, errorBox(error)));
  return box;
}

function bookingCard(booking, products, status, refresh) {
  const extra = h("div");
  const open = booking.status === "booked";
  return h(
    "li",
    { class: "card booking", dataset: { booking: booking.booking_id } },
    h(
      "h3",
      {},
      vaccineName(booking.vaccine_type, products),
      " ",
      badge(t(`booking.status.${booking.status}`), TONES[booking.status] || "neutral"),
    ),
    h("p", {}, t("bookings.when_where", { when: dateTime(booking.start), site: booking.site })),
    h("p", { class: "muted" }, t("bookings.for", { name: booking.person_name || "—" })),
    open
      ? h(
          "div",
          { class: "actions" },
          h("button", { type: "button", class: "secondary", onclick: () => replace(extra, rescheduler(booking, status, refresh)) }, t("bookings.reschedule")),
          h(
            "button",
            {
              type: "button",
              class: "danger",
              onclick: async (event) => {
                const button = event.currentTarget;
                if (!(await confirm(t("bookings.cancel_question", { when: dateTime(booking.start) }), t("bookings.cancel")))) return;
                const cancelled = await act({
                  button,
                  status,
                  progress: t("bookings.cancelling"),
                  done: t("bookings.cancelled"),
                  work: () => del(`/v1/appointments/${booking.booking_id}`),
                });
                if (cancelled) refresh();
              },
            },
            t("bookings.cancel"),
          ),
        )
      : null,
    extra,
  );
}

export async function bookingsView({ signal }) {
  const products = await get("/v1/products", { signal });
  const list = h("div");
  const status = statusArea(); // above the list, so that an outcome outlives the list's refresh
  const refresh = () =>
    load(
      list,
      () => get("/v1/appointments", { signal }),
      (bookings) =>
        bookings.length
          ? h("ul", { class: "cards" }, bookings.map((b) => bookingCard(b, products, status, refresh)))
          : h("div", {}, empty(t("bookings.empty")), h("a", { href: "#/citizen/sites", class: "button-link" }, t("nav.sites"))),
    );
  refresh();
  return page(t("bookings.title"), status, list);
}
