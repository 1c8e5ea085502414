// The family member a citizen page is about: chosen from the account's family, kept in the address
// ("#/citizen/records/<person id>") so that the page can be reloaded or shared between tabs.

import { get } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { t } from "../../core/i18n.js";
import { go } from "../../core/router.js";
import { field, select } from "../../core/ui.js";

export function family(signal) {
  return get("/v1/me/family", { signal });
}

export function memberLabel(person) {
  return `${person.name}（${t(`person.relation.${person.relation || "self"}`)}）`;
}

/** The person named by the address, else the first child, else the account holder. */
export function chosen(members, id) {
  return members.find((m) => m.id === id) || members.find((m) => m.relation === "child") || members[0];
}

export function memberPicker(members, current, base) {
  const control = select(
    members.map((m) => [m.id, memberLabel(m)]),
    { value: current.id, onchange: (event) => go(`${base}/${event.target.value}`) },
  );
  return h("div", { class: "toolbar" }, field(t("citizen.member"), control));
}
