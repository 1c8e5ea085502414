// Cold-chain alarms with their tier (site → district CDC → regulator). Only an acknowledgement with a
// comment stops an alarm climbing; it is made in the officer's name through the backend.

import { get, post, query } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { celsius, dateTimeMs, t, tOr } from "../../core/i18n.js";
import { act, badge, dl, empty, field, load, page, select, statusArea } from "../../core/ui.js";
import { equipmentIndex, facilities } from "./directory.js";

const TIER_TONES = { site: "warn", cdc: "bad", regulator: "bad" };

export function alarmKind(kind) {
  return tOr(`alarm.kind.${kind}`, kind);
}

export function tierBadge(tier) {
  return badge(tOr(`tier.${tier}`, tier), TIER_TONES[tier] || "neutral");
}

export function equipmentName(index, id) {
  const e = index.get(id);
  return e ? `${e.label} · ${e.facility.name}` : `#${id}`;
}

function ackForm(alarm, onAcked) {
  const comment = h("textarea", { name: "comment", rows: 2, required: true, maxlength: 1000 });
  const submit = h("button", { type: "submit" }, t("alarms.ack"));
  const status = statusArea();
  return h(
    "form",
    {
      class: "stack ack",
      "aria-label": t("alarms.ack_for", { id: alarm.alarm_id.slice(0, 8) }),
      onsubmit: async (event) => {
        event.preventDefault();
        const acked = await act({
          button: submit,
          status,
          progress: t("state.saving"),
          done: t("alarms.acked"),
          work: () => post(`/v1/cdc/alarms/${alarm.alarm_id}/ack`, { comment: comment.value.trim() }),
        });
        if (acked) onAcked();
      },
    },
    field(t("alarms.comment"), comment, t("alarms.comment_hint")),
    submit,
    status,
  );
}

export function alarmCard(alarm, index, onAcked) {
  return h(
    "li",
    { class: `card alarm ${alarm.open ? "open" : "closed"}`, dataset: { alarm: alarm.alarm_id } },
    h("h3", {}, alarmKind(alarm.kind), " ", tierBadge(alarm.tier), " ", badge(t(alarm.open ? "alarms.open" : "alarms.closed"), alarm.open ? "bad" : "neutral")),
    h("p", {}, h("a", { href: `#/cdc/equipment/${alarm.equipment}` }, equipmentName(index, alarm.equipment))),
    dl([
      [t("alarms.opened"), dateTimeMs(alarm.opened_at_ms)],
      alarm.closed_at_ms ? [t("alarms.closed_at"), dateTimeMs(alarm.closed_at_ms)] : null,
      [t("alarms.extremes"), `${celsius(alarm.min_c)} – ${celsius(alarm.max_c)}`],
      alarm.acked_at_ms ? [t("alarms.acked_by"), `${alarm.acked_by} · ${dateTimeMs(alarm.acked_at_ms)}`] : null,
      alarm.ack_comment ? [t("alarms.comment"), alarm.ack_comment] : null,
    ]),
    alarm.acked_at_ms ? null : ackForm(alarm, onAcked),
  );
}

export async function alarmsView({ query: q, signal }) {
  const index = equipmentIndex(await facilities(signal));
  const state = ["unacked", "open", "all"].includes(q.state) ? q.state : "unacked";
  const list = h("div", { "aria-live": "polite" });
  const refresh = () =>
    load(list, () => get(`/v1/cdc/alarms${query({ state })}`, { signal }), (rows) =>
      rows.length ? h("ul", { class: "cards" }, rows.map((a) => alarmCard(a, index, refresh))) : empty(t(`alarms.none.${state}`)),
    );
  const filter = select(
    ["unacked", "open", "all"].map((s) => [s, t(`alarms.state.${s}`)]),
    { value: state, onchange: (e) => { location.hash = `#/cdc/alarms${query({ state: e.target.value })}`; } },
  );
  refresh();
  return page(t("alarms.title"), h("p", { class: "lead" }, t("alarms.lead")), h("div", { class: "toolbar" }, field(t("alarms.show"), filter)), list);
}
