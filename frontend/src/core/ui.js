// The pieces every page is made of: a titled page, loading / empty / error states, labelled fields,
// tables, status badges, and actions that show their progress while the chain mines them.

import { h, replace, uid } from "./dom.js";
import { t, words } from "./i18n.js";

export function page(title, ...content) {
  return h("section", { class: "page" }, h("h1", { tabindex: "-1" }, title), ...content);
}

export function section(title, ...content) {
  return h("section", { class: "card" }, h("h2", { tabindex: "-1" }, title), ...content);
}

export function loading(text = t("state.loading")) {
  return h("p", { class: "state loading", role: "status", "aria-busy": "true" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

export function empty(text) {
  return h("p", { class: "state empty" }, text);
}

export function errorText(error) {
  if (error?.reason === "network") return t("error.network");
  if (error?.pair) return words(error.pair) || error.reason;
  return String(error?.message || error);
}

export function errorBox(error, retry) {
  return h(
    "div",
    { class: "alert error", role: "alert" },
    h("p", { class: "alert-text" }, errorText(error)),
    error?.reason && error.reason !== "network" ? h("p", { class: "muted small" }, t("error.reason", { reason: error.reason })) : null,
    retry ? h("button", { type: "button", class: "secondary", onclick: retry }, t("action.retry")) : null,
  );
}

export function success(text) {
  return h("div", { class: "alert success", role: "status" }, h("p", { class: "alert-text" }, text));
}

/** Fills `container` with what `fetcher` gets, through a loading state, or an error with a retry. */
export async function load(container, fetcher, render) {
  replace(container, loading());
  try {
    const data = await fetcher();
    replace(container, render(data));
    return data;
  } catch (error) {
    if (error?.name === "AbortError") return undefined;
    replace(container, errorBox(error, () => load(container, fetcher, render)));
    return undefined;
  }
}

/**
 * Runs a write: the button is disabled and says so while it runs, `status` shows a progress bar
 * (a write waits for its block), then the outcome. Returns the result, or undefined when it failed.
 */
export async function act({ button, status, work, done, progress = t("state.writing") }) {
  if (button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }
  replace(status, h("div", { class: "progress", role: "status" }, h("progress", { "aria-label": progress }), h("span", {}, progress)));
  try {
    const result = await work();
    replace(status, done ? success(typeof done === "function" ? done(result) : done) : "");
    return result;
  } catch (error) {
    replace(status, errorBox(error));
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }
}

export function statusArea() {
  return h("div", { class: "status-area", "aria-live": "polite" });
}

export function field(label, control, hint) {
  control.id ||= uid();
  const hintId = hint ? uid("hint") : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, label),
    control,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
  );
}

export function input(props) {
  return h("input", { type: "text", ...props });
}

export function select(options, props = {}) {
  return h(
    "select",
    props,
    options.map(([value, label]) => h("option", { value: String(value), selected: String(value) === String(props.value ?? "") }, label)),
  );
}

export function button(label, onclick, props = {}) {
  return h("button", { type: "button", onclick, ...props }, label);
}

/** A table with a caption, headers with scope, and one row per item. */
export function table(caption, columns, rows, props = {}) {
  return h(
    "div",
    { class: "table-wrap", ...props },
    h(
      "table",
      {},
      h("caption", { class: caption.hidden ? "sr-only" : "" }, caption.text ?? caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
      h(
        "tbody",
        {},
        rows.map((row) => h("tr", { dataset: row.__data || {} }, columns.map((c) => h("td", { "data-label": c.label }, c.cell(row))))),
      ),
    ),
  );
}

export function badge(text, tone = "neutral") {
  return h("span", { class: `badge ${tone}` }, text);
}

export function dl(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

/** A yes/no question in a modal dialog (keyboard: Esc says no). */
export function confirm(question, yes = t("action.confirm")) {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-label": question },
      h("p", {}, question),
      h(
        "div",
        { class: "actions" },
        button(t("action.back"), () => dialog.close("no"), { class: "secondary" }),
        button(yes, () => dialog.close("yes"), { class: "danger" }),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "yes");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Runs `work` now and every `seconds` until the page is left (`signal`), skipping while hidden. */
export function every(seconds, signal, work) {
  work();
  const timer = setInterval(() => {
    if (!document.hidden) work();
  }, seconds * 1000);
  signal.addEventListener("abort", () => clearInterval(timer));
}
