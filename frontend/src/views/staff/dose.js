// Recording a dose at the clinic: choose who receives it (a booking from today's list, a person found
// by ID number, or a walk-in registered here), then scan the vial's code. The chain's interlock decides;
// a refusal is shown in the words the API gives for it (Chinese first).

import { get, post, query } from "../../core/api.js";
import { h, replace } from "../../core/dom.js";
import { dateTime, day, t, today } from "../../core/i18n.js";
import { act, dl, field, input, page, section, select, statusArea, success } from "../../core/ui.js";
import { normalizeCode, visibleCode } from "../../lib/codes.js";
import { codeExample, codeField } from "./codefield.js";

function personLabel(p) {
  return `${p.name} · ${day(p.birth_date)}${p.id_number_masked ? ` · ${p.id_number_masked}` : ""}`;
}

function lookupForm(onFound) {
  const idNumber = input({ name: "lookup-id", maxlength: 18, autocomplete: "off", required: true });
  const submit = h("button", { type: "submit" }, t("dose.find"));
  const status = statusArea();
  return h(
    "form",
    {
      class: "stack",
      "aria-label": t("dose.by_id"),
      onsubmit: async (event) => {
        event.preventDefault();
        const person = await act({ button: submit, status, progress: t("state.loading"), work: () => post("/v1/staff/persons/lookup", { id_number: idNumber.value.trim() }) });
        if (person) onFound({ person_id: person.id, label: personLabel(person) });
      },
    },
    field(t("person.id_number"), idNumber),
    submit,
    status,
  );
}

function walkInForm(onFound) {
  const name = input({ name: "walkin-name", required: true, autocomplete: "off" });
  const birth = input({ name: "walkin-birth", type: "date", max: today(), required: true });
  const idNumber = input({ name: "walkin-id", maxlength: 18, autocomplete: "off" });
  const phone = input({ name: "walkin-phone", type: "tel", autocomplete: "off" });
  const submit = h("button", { type: "submit" }, t("dose.register"));
  const status = statusArea();
  const form = h(
    "form",
    {
      class: "stack",
      "aria-label": t("dose.walk_in"),
      onsubmit: async (event) => {
        event.preventDefault();
        const person = await act({
          button: submit,
          status,
          progress: t("state.saving"),
          work: () =>
            post("/v1/staff/persons", {
              name: name.value.trim(),
              birth_date: birth.value,
              sex: form.elements["walkin-sex"].value,
              id_number: idNumber.value.trim() || null,
              phone: phone.value.trim() || null,
            }),
        });
        if (person) onFound({ person_id: person.id, label: personLabel(person) });
      },
    },
    field(t("person.name"), name),
    field(t("person.birth_date"), birth),
    h(
      "fieldset",
      { class: "field inline" },
      h("legend", {}, t("person.sex")),
      ["F", "M"].map((v) => h("label", { class: "choice" }, h("input", { type: "radio", name: "walkin-sex", value: v, required: true }), t(`person.sex.${v}`))),
    ),
    field(t("person.id_number_optional"), idNumber),
    field(t("dose.phone_optional"), phone),
    submit,
    status,
  );
  return form;
}

function recordedCard(result, code) {
  return h(
    "div",
    { class: "alert success", role: "status" },
    h("p", { class: "alert-text" }, t("dose.recorded", { n: result.dose_number })),
    dl([
      [t("code.label"), h("span", { class: "mono" }, visibleCode(code))],
      [t("records.lot"), `#${result.lot_id}`],
      [t("dose.fridge"), `#${result.equipment_id}`],
      [t("records.tx_label"), h("span", { class: "mono small" }, result.tx_hash)],
    ]),
  );
}

function scanForm(recipient, stock) {
  const { control, node } = codeField();
  const lots = [...new Map(stock.map((s) => [s.lot_id, s])).values()];
  const lot = select([["", t("dose.auto")], ...lots.map((s) => [s.lot_id, `${s.product} · ${s.lot_number}`])], { name: "lot" });
  const fridges = [...new Map(stock.map((s) => [s.equipment_id, s])).values()];
  const fridge = select([["", t("dose.auto")], ...fridges.map((s) => [s.equipment_id, s.equipment])], { name: "equipment" });
  const submit = h("button", { type: "submit" }, t("dose.submit"));
  const status = statusArea();
  const form = h(
    "form",
    {
      class: "stack",
      "aria-label": t("dose.scan_title"),
      onsubmit: async (event) => {
        event.preventDefault();
        const code = normalizeCode(control.value);
        const body = { code, ...recipient.body, lot_id: lot.value ? Number(lot.value) : null, equipment_id: fridge.value ? Number(fridge.value) : null };
        const result = await act({ button: submit, status, progress: t("dose.recording"), work: () => post("/v1/staff/doses", body) });
        if (result) replace(status, recordedCard(result, code));
        control.value = "";
        control.focus(); // ready for the next scan
      },
    },
    h("p", {}, t("dose.for", { who: recipient.label })),
    node,
    codeExample(),
    h("details", {}, h("summary", {}, t("dose.manual")), field(t("records.lot"), lot), field(t("dose.fridge"), fridge)),
    submit,
    status,
  );
  control.dataset.autofocus = ""; // ready for the scanner as soon as the form is shown
  return form;
}

export async function doseView({ query: q, signal }) {
  const stock = await get("/v1/staff/stock", { signal });
  const scan = h("div");
  const chosen = h("div");
  const choose = (recipient) => {
    replace(chosen, success(t("dose.recipient", { who: recipient.label })));
    replace(scan, section(t("dose.scan_title"), scanForm(recipient, stock)));
    scan.querySelector("[data-autofocus]")?.focus(); // no-op until the page is shown: the router focuses it then
  };
  if (q.booking) {
    const bookings = await get(`/v1/staff/appointments${query({ day: q.day })}`, { signal });
    const booking = bookings.find((b) => String(b.booking_id) === q.booking);
    const label = booking ? `${booking.person_name || "—"} · ${t("dose.booking", { id: q.booking, when: dateTime(booking.start) })}` : t("dose.booking", { id: q.booking, when: "" });
    choose({ body: { booking_id: Number(q.booking) }, label });
  }
  const pick = (found) => choose({ body: { person_id: found.person_id }, label: found.label });
  return page(
    t("dose.title"),
    h("p", { class: "lead" }, t("dose.lead")),
    chosen,
    scan,
    h("h2", {}, t("dose.choose")),
    h("p", {}, h("a", { href: "#/clinic/appointments" }, t("dose.from_appointments"))),
    h("div", { class: "columns" }, section(t("dose.by_id"), lookupForm(pick)), section(t("dose.walk_in"), walkInForm(pick))),
  );
}
