// Signing in (every role: a phone number or a user name) and citizens' sign-up.

import { post, get } from "../core/api.js";
import { h } from "../core/dom.js";
import { t, today } from "../core/i18n.js";
import { save } from "../core/session.js";
import { act, field, input, page, section, statusArea } from "../core/ui.js";

async function signIn(tokens) {
  save({ access_token: tokens.access_token, refresh_token: tokens.refresh_token });
  const account = await get("/v1/me");
  save({ me: account });
  return account;
}

function loginForm(onDone) {
  const login = input({ name: "login", autocomplete: "username", required: true });
  const password = input({ name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit" }, t("login.submit"));
  const status = statusArea();
  return h(
    "form",
    {
      class: "stack",
      "aria-label": t("login.title"),
      onsubmit: async (event) => {
        event.preventDefault();
        const ok = await act({
          button: submit,
          status,
          progress: t("login.signing_in"),
          work: async () => signIn(await post("/v1/auth/login", { login: login.value.trim(), password: password.value })),
        });
        if (ok) onDone();
      },
    },
    field(t("login.login"), login, t("login.login_hint")),
    field(t("login.password"), password),
    submit,
    status,
  );
}

function sexChoice(name) {
  return h(
    "fieldset",
    { class: "field inline" },
    h("legend", {}, t("person.sex")),
    ["F", "M"].map((value) =>
      h("label", { class: "choice" }, h("input", { type: "radio", name, value, required: true }), t(`person.sex.${value}`)),
    ),
  );
}

function signupForm(onDone) {
  const phone = input({ name: "phone", type: "tel", autocomplete: "tel", inputmode: "tel", required: true });
  const password = input({ name: "new-password", type: "password", autocomplete: "new-password", minlength: 8, required: true });
  const name = input({ name: "name", autocomplete: "name", required: true });
  const birth = input({ name: "birth_date", type: "date", max: today(), required: true });
  const idNumber = input({ name: "id_number", maxlength: 18, autocomplete: "off" });
  const submit = h("button", { type: "submit" }, t("signup.submit"));
  const status = statusArea();
  const form = h(
    "form",
    {
      class: "stack",
      "aria-label": t("signup.title"),
      onsubmit: async (event) => {
        event.preventDefault();
        const ok = await act({
          button: submit,
          status,
          progress: t("signup.creating"),
          work: async () =>
            signIn(
              await post("/v1/auth/register", {
                phone: phone.value.trim(),
                password: password.value,
                name: name.value.trim(),
                birth_date: birth.value,
                sex: form.elements.sex.value,
                id_number: idNumber.value.trim() || null,
              }),
            ),
        });
        if (ok) onDone();
      },
    },
    field(t("signup.phone"), phone),
    field(t("login.password"), password, t("signup.password_hint")),
    field(t("person.name"), name),
    field(t("person.birth_date"), birth),
    sexChoice("sex"),
    field(t("person.id_number_optional"), idNumber, t("person.id_number_hint")),
    submit,
    status,
  );
  return form;
}

export function loginView({ done }) {
  return page(
    t("login.title"),
    h("p", { class: "lead" }, t("login.lead")),
    h(
      "div",
      { class: "columns" },
      section(t("login.title"), loginForm(done)),
      section(t("signup.title"), h("p", { class: "muted" }, t("signup.lead")), signupForm(done)),
    ),
  );
}
