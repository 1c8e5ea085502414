// What a scanner or a nurse types into the code field, made into what the API parses
// (backend/domain/traceability.py). A GS1 DataMatrix separates variable-length fields with the GS
// character (0x1D); a scanner in keyboard mode sends it as Ctrl+], and people type stand-ins for it.
// The bracketed form printed under the symbol, "(01)...(17)...(10)...(21)...", needs no separator.

export const GS = "\x1d";

const STAND_INS = /␝|<GS>|\{GS\}|\[GS\]|\\x1d|\^\]/gi;

export function normalizeCode(raw) {
  return raw.replace(STAND_INS, GS).trim();
}

/** The code with each GS shown as a visible mark, for reading back what was scanned. */
export function visibleCode(code) {
  return code.replaceAll(GS, "␝");
}

/** Whether a keydown is the scanner's GS (Ctrl+]): the field inserts the character itself. */
export function isGroupSeparatorKey(event) {
  return event.ctrlKey && !event.altKey && (event.key === "]" || event.code === "BracketRight" || event.key === "GroupSeparator");
}
