// A class roster as a school pastes or scans it: one child a line, the verification token (VX1-...) with,
// if the school likes, its own label for the child before it ("王小明, VX1-..."). Labels stay in the
// browser: only tokens are sent. Pure.

const TOKEN = /VX1-[A-Z2-7]{16,}/i;

export function parseRoster(text) {
  const entries = [];
  const unreadable = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const found = TOKEN.exec(line);
    if (!found) {
      unreadable.push({ line: i + 1, text: line });
      return;
    }
    const label = (line.slice(0, found.index) + line.slice(found.index + found[0].length)).replace(/^[\s,;:|\t-]+|[\s,;:|\t-]+$/g, "");
    entries.push({ label, token: found[0].toUpperCase() });
  });
  return { entries, unreadable };
}

/** The roster in slices the API takes in one call, in order. */
export function chunks(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
