// School-entry verification: scan or paste the children's tokens, verify the roster in one call (the
// answer says only complete or not, and which doses are missing), refer a child for catch-up, print.

import { imageUrl, post } from "../../core/api.js";
import { h, replace } from "../../core/dom.js";
import { day, number, t } from "../../core/i18n.js";
import { act, badge, errorBox, field, input, loading, page, section, statusArea, table } from "../../core/ui.js";
import { chunks, parseRoster } from "../../lib/roster.js";
import { seriesName } from "../citizen/due.js";

const ROSTER_MAX = 2000;
const TONES = { complete: "ok", not_complete: "warn", not_verifiable: "muted" };

function missingText(result) {
  if (result.status !== "not_complete") return "—";
  return result.missing.map((m) => t("verify.missing_dose", { series: seriesName(m.series), n: m.dose })).join(t("list.and"));
}

function referButton(entry, status) {
  return h(
    "button",
    {
      type: "button",
      class: "secondary no-print",
      onclick: (e) =>
        act({ button: e.currentTarget, status, progress: t("state.saving"), done: t("verify.referred"), work: () => post("/v1/verify/referrals", { token: entry.token }) }),
    },
    t("verify.refer"),
  );
}

function attestationQr(attestation) {
  const figure = h("figure", { class: "qr" }, loading());
  imageUrl(`/v1/verify/attestations/${attestation.id}/qr.svg`)
    .then((url) => replace(figure, h("img", { src: url, width: 200, height: 200, alt: t("verify.attestation_qr") }), h("figcaption", {}, t("verify.attestation_caption"))))
    .catch((error) => replace(figure, errorBox(error)));
  return figure;
}

function resultsView(entries, results, attestation, status) {
  const counts = { complete: 0, not_complete: 0, not_verifiable: 0 };
  results.forEach((r) => (counts[r.status] += 1));
  return [
    h(
      "ul",
      { class: "summary", "aria-label": t("verify.summary") },
      Object.entries(counts).map(([s, n]) => h("li", { class: `tile ${TONES[s]}` }, h("strong", {}, number(n)), h("span", {}, t(`verify.status.${s}`)))),
    ),
    table(
      t("verify.results_caption", { count: results.length, on: day(results.find((r) => r.evaluated_on)?.evaluated_on ?? null) }),
      [
        { label: "#", cell: (r) => r.index + 1 },
        { label: t("verify.label"), cell: (r) => r.entry.label || h("span", { class: "mono small" }, `${r.entry.token.slice(0, 12)}…`) },
        { label: t("verify.result"), cell: (r) => badge(t(`verify.status.${r.status}`), TONES[r.status]) },
        { label: t("verify.missing"), cell: (r) => missingText(r) },
        { label: t("verify.edition"), cell: (r) => r.edition || "—" },
        { label: t("appointments.action"), cell: (r) => (r.status === "not_complete" ? referButton(r.entry, status) : "") },
      ],
      results.map((r, index) => ({ ...r, index, entry: entries[index], __data: { status: r.status } })),
    ),
    attestation
      ? h(
          "p",
          { class: "muted small" },
          t("verify.attestation", { id: attestation.id, key: attestation.key_id }),
        )
      : null,
    attestation?.qr_svg ? attestationQr(attestation) : null,
  ];
}

async function verifyAll(entries, progress) {
  if (entries.length === 1) {
    const one = await post("/v1/verify", { token: entries[0].token });
    return { results: [one], attestation: one.attestation };
  }
  const results = [];
  let attestation = null;
  const slices = chunks(entries, ROSTER_MAX);
  for (const [i, slice] of slices.entries()) {
    const answer = await post("/v1/verify/roster", { tokens: slice.map((e) => e.token) });
    results.push(...answer.results);
    attestation = slices.length === 1 ? answer.attestation : null; // one signature covers one call
    progress(i + 1, slices.length);
  }
  return { results, attestation };
}

export function verifyView() {
  const roster = h("textarea", { name: "roster", rows: 8, class: "mono", spellcheck: false, placeholder: "王小明, VX1-…" });
  const scan = input({
    name: "scan",
    class: "mono",
    autocomplete: "off",
    spellcheck: false,
    onkeydown: (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault(); // a scanner ends each token with Enter: add it to the roster
      const value = scan.value.trim();
      if (value) roster.value = `${roster.value.replace(/\s*$/, "")}${roster.value.trim() ? "\n" : ""}${value}\n`;
      scan.value = "";
      count();
    },
  });
  const counter = h("p", { class: "muted", "aria-live": "polite" });
  const count = () => {
    const { entries, unreadable } = parseRoster(roster.value);
    replace(counter, t("verify.count", { n: entries.length }), unreadable.length ? ` · ${t("verify.unreadable", { lines: unreadable.map((u) => u.line).join(", ") })}` : "");
  };
  roster.addEventListener("input", count);
  const submit = h("button", { type: "submit" }, t("verify.submit"));
  const status = statusArea();
  const results = h("div", { class: "results" });
  const form = h(
    "form",
    {
      class: "stack no-print",
      onsubmit: async (event) => {
        event.preventDefault();
        const { entries } = parseRoster(roster.value);
        if (!entries.length) {
          replace(status, errorBox({ message: t("verify.nothing") }));
          return;
        }
        const answer = await act({
          button: submit,
          status,
          progress: t("verify.progress", { n: entries.length }),
          work: () => verifyAll(entries, (done, total) => replace(counter, t("verify.slices", { done, total }))),
        });
        if (answer) {
          replace(status);
          replace(results, section(t("verify.results"), resultsView(entries, answer.results, answer.attestation, status), h("button", { type: "button", class: "no-print", onclick: () => window.print() }, t("verify.print"))));
          results.querySelector("h2")?.focus();
        }
      },
    },
    field(t("verify.scan"), scan, t("verify.scan_hint")),
    field(t("verify.roster"), roster, t("verify.roster_hint")),
    counter,
    submit,
    status,
  );
  count();
  return page(t("verify.title"), h("p", { class: "lead no-print" }, t("verify.lead")), section(t("verify.input"), form), results);
}
