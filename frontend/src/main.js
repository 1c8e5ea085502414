// The app: a header with the role's navigation, the language switch and signing out; the page for the
// address below it. Pages are rendered again when the address, the session or the language changes.

import { post } from "./core/api.js";
import { h, replace } from "./core/dom.js";
import { isChinese, setLocale, t } from "./core/i18n.js";
import { compile, go, match } from "./core/router.js";
import { clear, me, onChange, role, signedIn } from "./core/session.js";
import { errorBox, loading, page } from "./core/ui.js";
import { home, navigation, ROUTES } from "./routes.js";
import { loginView } from "./views/login.js";

const routes = compile([...ROUTES, { path: "/login", view: loginView, public: true }]);
const root = document.getElementById("app");
let leaving = null; // aborts the current page's requests and refreshes

function header(current) {
  const account = me();
  return h(
    "header",
    { class: "top no-print" },
    h("a", { class: "brand", href: `#${signedIn() ? home(role()) : "/login"}` }, t("app.name")),
    signedIn()
      ? h(
          "nav",
          { "aria-label": t("nav.label") },
          h(
            "ul",
            {},
            navigation(role()).map((r) =>
              h("li", {}, h("a", { href: `#${r.path}`, "aria-current": current?.startsWith(r.path) ? "page" : null }, t(r.nav))),
            ),
          ),
        )
      : null,
    h(
      "div",
      { class: "account" },
      h("button", { type: "button", class: "link", lang: isChinese() ? "en" : "zh-CN", onclick: () => { setLocale(isChinese() ? "en" : "zh-CN"); render(); } }, t("app.other_language")),
      signedIn()
        ? [
            h("span", { class: "who" }, account?.display_name || account?.person?.name || "", " · ", t(`role.${role()}`)),
            h("button", { type: "button", class: "link", onclick: signOut }, t("app.sign_out")),
          ]
        : null,
    ),
  );
}

async function signOut() {
  try {
    await post("/v1/auth/logout");
  } catch {
    // the session ends here whatever the server says
  }
  clear();
  go("/login");
}

async function render() {
  leaving?.abort();
  const controller = new AbortController();
  leaving = controller;
  const found = match(routes, location.hash);
  if (!signedIn() && !found?.route.public) {
    go("/login");
    return;
  }
  if (!found || (found.route.roles && !found.route.roles.includes(role()))) {
    go(signedIn() ? home(role()) : "/login");
    return;
  }
  if (found.route.public && signedIn()) {
    go(home(role()));
    return;
  }
  const main = h("main", { id: "main", tabindex: "-1" }, loading());
  replace(root, header(found.path), main);
  const context = { params: found.params, query: found.query, signal: controller.signal, done: () => go(home(role())) };
  try {
    const view = await found.route.view(context);
    if (controller.signal.aborted) return;
    replace(main, view);
  } catch (error) {
    if (controller.signal.aborted || error?.name === "AbortError") return;
    replace(main, page(t("error.page"), errorBox(error, render)));
  }
  document.title = `${main.querySelector("h1")?.textContent || ""} · ${t("app.name")}`;
  (main.querySelector("[data-autofocus]") || main.querySelector("h1"))?.focus({ preventScroll: true });
}

document.querySelector(".skip")?.addEventListener("click", (event) => {
  event.preventDefault(); // the address is the router's: move focus instead of following "#main"
  document.getElementById("main")?.focus();
});
window.addEventListener("hashchange", render);
onChange((state) => {
  if (!state) render(); // signed out, or the session expired: back to the login page
});
render();
