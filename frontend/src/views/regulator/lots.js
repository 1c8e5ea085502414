// The regulator's batch release (a lot cannot be shipped or given before it) and recall (it stops
// shipments and doses at once; everyone who received a dose of it is listed to be reached).

import { get, post, query } from "../../core/api.js";
import { h, replace } from "../../core/dom.js";
import { dateTime, day, number, t } from "../../core/i18n.js";
import { act, badge, confirm, dl, empty, field, input, load, page, section, statusArea, table } from "../../core/ui.js";

const STATUS_TONES = { registered: "warn", released: "ok", recalled: "bad" };

export function lotStatus(status) {
  return badge(t(`lot.status.${status}`), STATUS_TONES[status] || "neutral");
}

function documentForm({ lot, label, hint, submitLabel, question, progress, path, onDone, danger }) {
  const documentText = h("textarea", { name: "document", rows: 3, required: true, maxlength: 20000 });
  const submit = h("button", { type: "submit", class: danger ? "danger" : "" }, submitLabel);
  const status = statusArea();
  return h(
    "form",
    {
      class: "stack",
      "aria-label": `${submitLabel} ${lot.lot_number}`,
      onsubmit: async (event) => {
        event.preventDefault();
        if (question && !(await confirm(question, submitLabel))) return;
        const result = await act({ button: submit, status, progress, work: () => post(path, { document: documentText.value }) });
        if (result) onDone(result, status);
      },
    },
    field(label, documentText, hint),
    submit,
    status,
  );
}

function lotSummary(lot) {
  return [h("h3", {}, `${lot.product} · ${lot.lot_number} `, lotStatus(lot.status)), dl([[t("records.expiry"), day(lot.expiry)], [t("regulator.doses"), number(lot.doses)]])];
}

export function releaseView({ signal }) {
  const list = h("div");
  const refresh = () =>
    load(list, () => get("/v1/lots?status=registered", { signal }), (lots) =>
      lots.length
        ? h(
            "ul",
            { class: "cards" },
            lots.map((lot) =>
              h(
                "li",
                { class: "card", dataset: { lot: lot.id } },
                lotSummary(lot),
                documentForm({
                  lot,
                  label: t("regulator.certificate"),
                  hint: t("regulator.certificate_hint"),
                  submitLabel: t("regulator.release"),
                  progress: t("state.writing"),
                  path: `/v1/regulator/lots/${lot.id}/release`,
                  onDone: (r, status) => {
                    replace(status, h("div", { class: "alert success", role: "status" }, h("p", {}, t("regulator.released", { lot: lot.lot_number })), h("p", { class: "mono small" }, r.certificate_hash)));
                    setTimeout(refresh, 1500);
                  },
                }),
              ),
            ),
          )
        : empty(t("regulator.none_waiting")),
    );
  refresh();
  return page(t("regulator.release_title"), h("p", { class: "lead" }, t("regulator.release_lead")), list);
}

function recipientsTable(answer) {
  return [
    h("p", { class: "alert error", role: "status" }, t("recall.count", { doses: answer.doses, reachable: answer.reachable, unlinked: answer.unlinked })),
    answer.recipients.length
      ? table(t("recall.recipients"), [
          { label: t("recall.given_at"), cell: (r) => dateTime(r.given_at) },
          { label: t("recall.clinic"), cell: (r) => r.clinic || `#${r.clinic_id}` },
          { label: t("person.name"), cell: (r) => r.name || t("recall.unlinked") },
          { label: t("person.birth_date"), cell: (r) => (r.birth_date ? day(r.birth_date) : "—") },
          { label: t("recall.contact"), cell: (r) => [r.phone, ...(r.guardian_phones || []).map((p) => t("recall.guardian", { phone: p }))].filter(Boolean).join("; ") || "—" },
        ], answer.recipients)
      : empty(t("recall.no_doses")),
  ];
}

export function recallView({ params, query: q, signal }) {
  const number_ = input({ name: "lot-number", type: "search", value: q.number || "", autocomplete: "off" });
  const found = h("div");
  const recipients = h("div");
  const showRecipients = (lotId) => load(recipients, () => get(`/v1/cdc/recalls/${lotId}/recipients`, { signal }), recipientsTable);
  const search = () =>
    load(found, () => get(`/v1/lots${query({ number: number_.value.trim(), status: number_.value.trim() ? undefined : "released" })}`, { signal }), (lots) =>
      lots.length
        ? h(
            "ul",
            { class: "cards" },
            lots.map((lot) =>
              h(
                "li",
                { class: "card", dataset: { lot: lot.id } },
                lotSummary(lot),
                lot.status === "recalled"
                  ? h("button", { type: "button", class: "secondary", onclick: () => showRecipients(lot.id) }, t("recall.show_recipients"))
                  : lot.status === "released"
                    ? documentForm({
                        lot,
                        label: t("recall.notice"),
                        hint: t("recall.notice_hint"),
                        submitLabel: t("recall.submit"),
                        question: t("recall.question", { lot: lot.lot_number }),
                        progress: t("state.writing"),
                        path: `/v1/regulator/lots/${lot.id}/recall`,
                        danger: true,
                        onDone: (r, status) => {
                          replace(status, h("div", { class: "alert success", role: "status" }, t("recall.done", { lot: lot.lot_number, doses: r.doses_given })));
                          showRecipients(lot.id);
                        },
                      })
                    : null,
              ),
            ),
          )
        : empty(t("recall.no_lots")),
    );
  if (params.id) showRecipients(params.id);
  else search();
  return page(
    t("recall.title"),
    h("p", { class: "lead" }, t("recall.lead")),
    h("form", { class: "toolbar", role: "search", onsubmit: (e) => { e.preventDefault(); search(); } }, field(t("recall.lot_number"), number_), h("button", { type: "submit" }, t("action.search"))),
    found,
    section(t("recall.recipients"), recipients),
  );
}
