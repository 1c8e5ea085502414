// The traceability-code field: a scanner types the code and Enter into it; Ctrl+] (the scanner's GS)
// is kept as the GS character, which a text field would otherwise drop.

import { h } from "../../core/dom.js";
import { t } from "../../core/i18n.js";
import { GS, isGroupSeparatorKey } from "../../lib/codes.js";
import { field, input } from "../../core/ui.js";

export function codeField(name = "code") {
  const control = input({
    name,
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: false,
    class: "mono code",
    required: true,
    onkeydown: (event) => {
      if (!isGroupSeparatorKey(event)) return;
      event.preventDefault();
      const { selectionStart: start, selectionEnd: end, value } = control;
      control.value = value.slice(0, start) + GS + value.slice(end);
      control.setSelectionRange(start + 1, start + 1);
    },
  });
  return { control, node: field(t("code.label"), control, t("code.hint")) };
}

export function codeExample() {
  return h("p", { class: "muted small" }, t("code.example"), " ", h("code", {}, "(01)06901234000016(17)301231(10)LOT123(21)SN0001"));
}
