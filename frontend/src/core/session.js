// Who is signed in: the tokens (kept for this browser tab only) and the account (GET /v1/me).

const KEY = "vaxledger.session";

let state = JSON.parse(sessionStorage.getItem(KEY) || "null");
const listeners = new Set();

export function session() {
  return state;
}

export function signedIn() {
  return Boolean(state?.access_token);
}

export function role() {
  return state?.me?.role ?? null;
}

export function me() {
  return state?.me ?? null;
}

export function save(next) {
  state = next ? { ...state, ...next } : null;
  if (state) sessionStorage.setItem(KEY, JSON.stringify(state));
  else sessionStorage.removeItem(KEY);
  for (const listener of listeners) listener(state);
}

export function clear() {
  save(null);
}

export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
