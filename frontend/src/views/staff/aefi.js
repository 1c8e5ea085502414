// Reporting an adverse event following immunization against a recorded dose (scan the unit's code again).
// The report is kept sealed; only its hash goes on chain. The answer says how soon the CDC must have it.

import { post } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { t } from "../../core/i18n.js";
import { act, field, input, page, section, select, statusArea } from "../../core/ui.js";
import { normalizeCode } from "../../lib/codes.js";
import { codeExample, codeField } from "./codefield.js";

const CATEGORIES = ["reaction_common", "reaction_rare", "quality_event", "programme_error", "coincidental", "psychogenic", "unknown"];
const SEVERITIES = ["non_serious", "serious", "death"];

export function aefiView() {
  const { control, node } = codeField("aefi-code");
  const doseNumber = input({ name: "dose-number", type: "number", min: 1, max: 255, value: "1", required: true });
  const category = select(CATEGORIES.map((c) => [c, t(`aefi.category.${c}`)]), { name: "category" });
  const severity = select(SEVERITIES.map((s) => [s, t(`aefi.severity.${s}`)]), { name: "severity" });
  const onset = input({ name: "onset", type: "datetime-local", required: true });
  const description = h("textarea", { name: "description", rows: 4, required: true, maxlength: 4000 });
  const submit = h("button", { type: "submit" }, t("aefi.submit"));
  const status = statusArea();
  const form = h(
    "form",
    {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        const reported = await act({
          button: submit,
          status,
          progress: t("state.writing"),
          done: (r) => t("aefi.reported", { hours: r.report_to_cdc_within_h }),
          work: () =>
            post("/v1/staff/adverse-events", {
              code: normalizeCode(control.value),
              dose_number: Number(doseNumber.value),
              category: category.value,
              severity: severity.value,
              onset: `${onset.value}:00+08:00`,
              report: { description: description.value.trim() },
            }),
        });
        if (reported) form.reset();
      },
    },
    node,
    codeExample(),
    field(t("aefi.dose_number"), doseNumber),
    field(t("aefi.category"), category),
    field(t("aefi.severity"), severity, t("aefi.severity_hint")),
    field(t("aefi.onset"), onset),
    field(t("aefi.description"), description),
    submit,
    status,
  );
  return page(t("aefi.title"), h("p", { class: "lead" }, t("aefi.lead")), section(t("aefi.title"), form));
}
