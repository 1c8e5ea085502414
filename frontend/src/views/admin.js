// The platform operator works through the API (accounts, facilities, equipment, verifier keys); this page
// says where, and shows the audit log's latest entries.

import { get } from "../core/api.js";
import { h } from "../core/dom.js";
import { dateTime, t } from "../core/i18n.js";
import { empty, load, page, section, table } from "../core/ui.js";

export function adminView({ signal }) {
  const log = h("div");
  load(log, () => get("/v1/admin/audit?limit=50", { signal }), (rows) =>
    rows.length
      ? table(t("admin.audit"), [
          { label: t("audit.when"), cell: (r) => dateTime(r.at) },
          { label: t("audit.role"), cell: (r) => r.role },
          { label: t("audit.action"), cell: (r) => r.action },
          { label: t("admin.target"), cell: (r) => r.target },
          { label: t("audit.result"), cell: (r) => r.status },
        ], rows)
      : empty(t("audit.no_actions")),
  );
  return page(t("admin.title"), h("p", {}, t("admin.lead"), " ", h("a", { href: "/docs" }, "/docs")), section(t("admin.audit"), log));
}
