// School-entry verification for a child: the guardian's consents (one school, or any school until a
// date), each consent's token as a QR code the school scans, revoking, and who has verified the child.

import { del, get, imageUrl, post } from "../../core/api.js";
import { h, replace } from "../../core/dom.js";
import { dateTime, t, today } from "../../core/i18n.js";
import { act, badge, confirm, empty, errorBox, field, input, load, loading, page, section, select, statusArea, table } from "../../core/ui.js";
import { chosen, family, memberPicker } from "./members.js";

const STATUS_TONES = { active: "ok", revoked: "muted", expired: "muted" };
const OUTCOME_TONES = { complete: "ok", not_complete: "warn", not_verifiable: "muted" };

function qrFigure(person, consent, signal) {
  const figure = h("figure", { class: "qr" }, loading());
  imageUrl(`/v1/me/family/${person.id}/consents/${consent.id}/qr.svg`, signal)
    .then((url) =>
      replace(
        figure,
        h("img", { src: url, width: 240, height: 240, alt: t("school_pass.qr_alt", { name: person.name }) }),
        h("figcaption", {}, t("school_pass.qr_caption")),
        consent.token ? h("p", { class: "mono token", "aria-label": t("school_pass.token") }, consent.token) : null,
      ),
    )
    .catch((error) => replace(figure, errorBox(error)));
  return figure;
}

function consentItem(person, consent, ctx) {
  const shown = h("div");
  const active = consent.status === "active";
  return h(
    "li",
    { class: "card consent" },
    h("h3", {}, consent.school ? consent.school.name : t("school_pass.any_school"), " ", badge(t(`consent.status.${consent.status}`), STATUS_TONES[consent.status])),
    h("p", { class: "muted" }, t("school_pass.granted_on", { when: dateTime(consent.created_at) }), consent.valid_until ? ` · ${t("school_pass.until", { when: dateTime(consent.valid_until) })}` : ""),
    active
      ? h(
          "div",
          { class: "actions" },
          h(
            "button",
            {
              type: "button",
              onclick: async () => {
                replace(shown, loading());
                try {
                  const full = await get(`/v1/me/family/${person.id}/consents/${consent.id}`, { signal: ctx.signal });
                  replace(shown, qrFigure(person, full, ctx.signal));
                } catch (error) {
                  replace(shown, errorBox(error));
                }
              },
            },
            t("school_pass.show_qr"),
          ),
          h(
            "button",
            {
              type: "button",
              class: "danger",
              onclick: async (event) => {
                const button = event.currentTarget;
                if (!(await confirm(t("school_pass.revoke_question"), t("school_pass.revoke")))) return;
                const done = await act({
                  button,
                  status: ctx.status,
                  progress: t("state.saving"),
                  done: t("school_pass.revoked"),
                  work: () => del(`/v1/me/family/${person.id}/consents/${consent.id}`),
                });
                if (done !== undefined) ctx.refresh();
              },
            },
            t("school_pass.revoke"),
          ),
        )
      : null,
    shown,
  );
}

function grantForm(person, schools, ctx) {
  const school = select([["", t("school_pass.any_school")], ...schools.map((s) => [s.id, s.name])], { name: "school" });
  const until = input({ type: "date", name: "until", min: today() });
  const submit = h("button", { type: "submit" }, t("school_pass.grant"));
  const result = h("div");
  return h(
    "form",
    {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        const granted = await act({
          button: submit,
          status: ctx.status,
          progress: t("school_pass.signing"),
          done: t("school_pass.granted"),
          work: () => post(`/v1/me/family/${person.id}/consents`, { school_id: school.value || null, valid_until: until.value || null }),
        });
        if (granted) {
          replace(result, qrFigure(person, granted, ctx.signal));
          ctx.refresh();
        }
      },
    },
    field(t("school_pass.school"), school),
    field(t("school_pass.valid_until"), until, t("school_pass.valid_until_hint")),
    submit,
    result,
  );
}

function historyTable(rows) {
  if (!rows.length) return empty(t("school_pass.no_checks"));
  return table(t("school_pass.checks"), [
    { label: t("school_pass.when"), cell: (r) => dateTime(r.at) },
    { label: t("school_pass.school"), cell: (r) => r.school?.name || "—" },
    { label: t("school_pass.outcome"), cell: (r) => badge(t(`verify.status.${r.outcome}`), OUTCOME_TONES[r.outcome] || "neutral") },
    { label: t("school_pass.how"), cell: (r) => t(r.roster ? "school_pass.roster" : "school_pass.single") },
  ], rows);
}

export async function schoolPassView({ params, signal }) {
  const [members, schools] = await Promise.all([family(signal), get("/v1/schools", { signal })]);
  const person = chosen(members, params.id);
  if (!person) return page(t("school_pass.title"), empty(t("family.empty")));
  const consents = h("div");
  const checks = h("div");
  const ctx = { signal, status: statusArea() };
  ctx.refresh = () => {
    load(consents, () => get(`/v1/me/family/${person.id}/consents`, { signal }), (rows) =>
      rows.length ? h("ul", { class: "cards" }, rows.map((c) => consentItem(person, c, ctx))) : empty(t("school_pass.no_consents")),
    );
    load(checks, () => get(`/v1/me/family/${person.id}/verifications`, { signal }), historyTable);
  };
  ctx.refresh();
  return page(
    t("school_pass.title"),
    memberPicker(members, person, "/citizen/school"),
    h("p", { class: "lead" }, t("school_pass.lead")),
    ctx.status,
    section(t("school_pass.new"), grantForm(person, schools, ctx)),
    section(t("school_pass.consents"), consents),
    section(t("school_pass.who_checked"), checks),
  );
}
