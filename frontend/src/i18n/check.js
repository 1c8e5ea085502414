// Both dictionaries must have the same keys, and each text the same {placeholders}: a key missing in
// one language would show the key itself on a page. Run by the build; plain Node, no browser.

import en from "./en.js";
import zh from "./zh-CN.js";

function placeholders(text) {
  return [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(",");
}

export function checkDictionaries(dictionaries = { "zh-CN": zh, en }) {
  const problems = [];
  const [[firstName, first], ...others] = Object.entries(dictionaries);
  for (const [name, other] of others) {
    for (const key of Object.keys(first)) {
      if (!(key in other)) problems.push(`${name} lacks "${key}"`);
      else if (placeholders(first[key]) !== placeholders(other[key])) problems.push(`"${key}" has other placeholders in ${name} than in ${firstName}`);
    }
    for (const key of Object.keys(other)) if (!(key in first)) problems.push(`${firstName} lacks "${key}"`);
  }
  return problems;
}
