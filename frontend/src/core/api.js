// Calls to the backend's API on this origin. Every failure becomes an ApiError with the server's
// reason and its words in both languages ({"error": {"reason", "message", "message_zh"}}); an expired
// access token is renewed once with the refresh token before giving up.

import { clear, save, session } from "./session.js";

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || error.reason);
    this.status = status;
    this.reason = error.reason || "error";
    this.message_zh = error.message_zh || error.message || "";
    this.message_en = error.message || error.message_zh || "";
    this.detail = error;
  }

  /** For i18n.words(): the pair of messages. */
  get pair() {
    return { message: this.message_en, message_zh: this.message_zh };
  }
}

const NO_RENEWAL = new Set(["bad_credentials", "not_authenticated", "too_many_attempts"]);
let renewing = null;

async function renew() {
  const refresh = session()?.refresh_token;
  if (!refresh) return false;
  renewing ??= fetch("/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: refresh }),
  })
    .then(async (response) => {
      if (!response.ok) return false;
      const tokens = await response.json();
      save({ access_token: tokens.access_token, refresh_token: tokens.refresh_token });
      return true;
    })
    .catch(() => false)
    .finally(() => {
      renewing = null;
    });
  return renewing;
}

async function send(method, path, { body, signal, headers = {} }) {
  const token = session()?.access_token;
  const init = { method, signal, headers: { Accept: "application/json", ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    return await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { reason: "network" }); // worded by the page, in its language
  }
}

async function failure(response) {
  let error = null;
  try {
    error = (await response.json()).error;
  } catch {
    // not our error shape (a proxy's page): described by its status below
  }
  return new ApiError(
    response.status,
    error || { reason: `http_${response.status}`, message: `HTTP ${response.status}`, message_zh: `HTTP ${response.status}` },
  );
}

/** The response of an API call, renewing the session once if it expired; throws ApiError otherwise. */
export async function request(method, path, options = {}) {
  let response = await send(method, path, options);
  if (response.status === 401 && session()?.refresh_token) {
    const reason = (await response.clone().json().catch(() => ({})))?.error?.reason;
    if (!NO_RENEWAL.has(reason) && (await renew())) response = await send(method, path, options);
    if (response.status === 401) clear();
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export async function api(method, path, options = {}) {
  const response = await request(method, path, options);
  return response.status === 204 ? null : response.json();
}

export const get = (path, options) => api("GET", path, options);
export const post = (path, body, options = {}) => api("POST", path, { ...options, body });
export const del = (path, options) => api("DELETE", path, options);

/** An image the API serves only to the signed-in (a QR code), as a URL an <img> can show. */
export async function imageUrl(path, signal) {
  const response = await request("GET", path, { signal, headers: { Accept: "image/svg+xml" } });
  return URL.createObjectURL(await response.blob());
}

export function query(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return entries.length ? `?${new URLSearchParams(entries)}` : "";
}
