// Words on the pages: every string comes from a dictionary (i18n/zh-CN.js first, i18n/en.js beside it),
// looked up by key with {placeholders}. Chinese is the default; the choice is kept in this browser.

import en from "../i18n/en.js";
import zh from "../i18n/zh-CN.js";

const DICTIONARIES = { "zh-CN": zh, en };
const STORAGE_KEY = "vaxledger.locale";
const TIME_ZONE = "Asia/Shanghai"; // the district's time, whatever the device says

let current = DICTIONARIES[localStorage.getItem(STORAGE_KEY)] ? localStorage.getItem(STORAGE_KEY) : "zh-CN";

export function locale() {
  return current;
}

export function isChinese() {
  return current === "zh-CN";
}

export function setLocale(next) {
  current = DICTIONARIES[next] ? next : "zh-CN";
  localStorage.setItem(STORAGE_KEY, current);
  document.documentElement.lang = current;
}

export function t(key, vars) {
  const text = DICTIONARIES[current][key] ?? zh[key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** A key's text if the dictionary has it, else the fallback (for codes the server may add later). */
export function tOr(key, fallback) {
  return key in DICTIONARIES[current] ? DICTIONARIES[current][key] : fallback;
}

/** The server's words in the page's language: its errors and notices carry both. */
export function words(pair) {
  return (isChinese() ? pair.message_zh : pair.message) || pair.message || pair.message_zh || "";
}

function format(options) {
  return new Intl.DateTimeFormat(current, { timeZone: TIME_ZONE, ...options });
}

export function dateTime(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return format({ dateStyle: "medium", timeStyle: "short" }).format(new Date(seconds * 1000));
}

export function dateTimeMs(ms) {
  return ms === null || ms === undefined ? "—" : dateTime(ms / 1000);
}

export function timeOnly(seconds) {
  return format({ hour: "2-digit", minute: "2-digit" }).format(new Date(seconds * 1000));
}

export function day(isoOrSeconds) {
  if (isoOrSeconds === null || isoOrSeconds === undefined) return "—";
  const date = typeof isoOrSeconds === "number" ? new Date(isoOrSeconds * 1000) : new Date(`${isoOrSeconds}T12:00:00+08:00`);
  return format({ dateStyle: "medium" }).format(date);
}

/** Today in the district, as YYYY-MM-DD. */
export function today() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE }).format(new Date());
}

export function celsius(value) {
  return value === null || value === undefined ? "—" : `${Number(value).toFixed(1)} °C`;
}

export function number(value) {
  return new Intl.NumberFormat(current).format(value ?? 0);
}

/** A fraction (0.953) as a percentage in the current language; a dash when there is none. */
export function percent(fraction) {
  if (fraction === null || fraction === undefined) return "—";
  return new Intl.NumberFormat(current, { style: "percent", maximumFractionDigits: 1 }).format(fraction);
}

setLocale(current);
