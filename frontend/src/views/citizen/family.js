// The account's family: the holder and the children they look after, with a way to add a child.

import { post } from "../../core/api.js";
import { h } from "../../core/dom.js";
import { day, t, today } from "../../core/i18n.js";
import { act, empty, field, input, load, page, section, statusArea } from "../../core/ui.js";
import { family, memberLabel } from "./members.js";

function memberCard(person) {
  const links = [
    ["records", "nav.records"],
    ["due", "nav.due"],
    ["school", "nav.school_pass"],
  ];
  return h(
    "li",
    { class: "card member" },
    h("h3", {}, memberLabel(person)),
    h(
      "p",
      { class: "muted" },
      t("person.born_on", { date: day(person.birth_date) }),
      " · ",
      t(`person.sex.${person.sex}`),
      person.id_number_masked ? ` · ${person.id_number_masked}` : "",
    ),
    h(
      "p",
      { class: "links" },
      links.map(([path, key]) => h("a", { href: `#/citizen/${path}/${person.id}`, class: "button-link" }, t(key))),
    ),
  );
}

function addChildForm(onAdded) {
  const name = input({ name: "child-name", required: true, autocomplete: "off" });
  const birth = input({ name: "child-birth", type: "date", max: today(), required: true });
  const idNumber = input({ name: "child-id", maxlength: 18, autocomplete: "off" });
  const submit = h("button", { type: "submit" }, t("family.add"));
  const status = statusArea();
  const form = h(
    "form",
    {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        const added = await act({
          button: submit,
          status,
          progress: t("state.saving"),
          done: (person) => t("family.added", { name: person.name }),
          work: () =>
            post("/v1/me/family", {
              name: name.value.trim(),
              birth_date: birth.value,
              sex: form.elements["child-sex"].value,
              id_number: idNumber.value.trim() || null,
            }),
        });
        if (added) {
          form.reset();
          onAdded();
        }
      },
    },
    field(t("person.name"), name),
    field(t("person.birth_date"), birth),
    h(
      "fieldset",
      { class: "field inline" },
      h("legend", {}, t("person.sex")),
      ["F", "M"].map((v) =>
        h("label", { class: "choice" }, h("input", { type: "radio", name: "child-sex", value: v, required: true }), t(`person.sex.${v}`)),
      ),
    ),
    field(t("person.id_number_optional"), idNumber, t("person.id_number_hint")),
    submit,
    status,
  );
  return form;
}

export function familyView({ signal }) {
  const list = h("div");
  const refresh = () =>
    load(
      list,
      () => family(signal),
      (members) =>
        members.length ? h("ul", { class: "cards", "aria-label": t("family.title") }, members.map(memberCard)) : empty(t("family.empty")),
    );
  refresh();
  return page(t("family.title"), list, section(t("family.add_title"), addChildForm(refresh)));
}
