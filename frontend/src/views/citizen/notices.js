// Notices to the account: recalls of a lot from which a family member had a dose.

import { get, post } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { dateTime, t, words } from "../../core/i18n.js";
import { act, badge, empty, load, page, statusArea } from "../../core/ui.js";

function notice(n, refresh) {
  const status = statusArea();
  return h(
    "li",
    { class: `card notice ${n.read ? "read" : "unread"}` },
    h("h3", {}, t(`notice.kind.${n.kind}`), " ", n.read ? null : badge(t("notices.new"), "bad")),
    h("p", {}, words(n)),
    h("p", { class: "muted" }, dateTime(n.created_at)),
    n.read
      ? null
      : h("button", {
          type: "button",
          class: "secondary",
          onclick: async (event) => {
            if ((await act({ button: event.currentTarget, status, progress: t("state.saving"), work: () => post(`/v1/me/notifications/${n.id}/read`) })) !== undefined) refresh();
          },
        }, t("notices.mark_read")),
    status,
  );
}

export function noticesView({ signal }) {
  const list = h("div");
  const refresh = () =>
    load(list, () => get("/v1/me/notifications", { signal }), (rows) =>
      rows.length ? h("ul", { class: "cards" }, rows.map((n) => notice(n, refresh))) : empty(t("notices.empty")),
    );
  refresh();
  return page(t("notices.title"), h("p", { class: "lead" }, t("notices.lead")), list);
}
