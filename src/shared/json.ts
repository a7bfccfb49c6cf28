/**
 * JSON as Python writes it: the bare tokens NaN, Infinity and -Infinity stand for the non-finite
 * numbers (Python's json module and MLflow's client write them for missing values; JSON.parse
 * refuses them). Parsing is JSON.parse unless the text holds one of those tokens.
 */

const SENTINEL: Record<string, string> = {
  NaN: "\u0000NaN",
  Infinity: "\u0000Inf",
  "-Infinity": "\u0000-Inf",
};
const REVIVED: Record<string, number> = {
  "\u0000NaN": Number.NaN,
  "\u0000Inf": Number.POSITIVE_INFINITY,
  "\u0000-Inf": Number.NEGATIVE_INFINITY,
};

/** The text with each NaN / Infinity / -Infinity token outside strings replaced by a sentinel string. */
function markNonFinite(text: string): string {
  let out = "";
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    for (const token of ["-Infinity", "Infinity", "NaN"]) {
      if (text.startsWith(token, i)) {
        out += `${text.slice(last, i)}${JSON.stringify(SENTINEL[token])}`;
        i += token.length - 1;
        last = i + 1;
        break;
      }
    }
  }
  return out + text.slice(last);
}

/** How deep JSON may nest: deeper is refused before parsing (JSON.parse recurses, and would overflow the stack). */
const MAX_JSON_DEPTH = 512;

/** Whether `text` nests arrays and objects deeper than `max`, outside strings. */
function nestsDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > max) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}

/** A number too large for a double (1e400, 400 digits) reads as Infinity, as Python reads it, not as missing. */
const OVERFLOWS = /[eE]\+?\d{3,}|\d{309,}/;

/**
 * Parses JSON that may hold NaN, Infinity and -Infinity; says whether it did (or holds a number that
 * overflows to Infinity). Throws SyntaxError like JSON.parse, also for nesting deeper than MAX_JSON_DEPTH.
 */
export function parseJson(text: string): { value: unknown; nonFinite: boolean } {
  if (nestsDeeper(text, MAX_JSON_DEPTH))
    throw new SyntaxError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (!text.includes("NaN") && !text.includes("Infinity"))
    return { value: JSON.parse(text), nonFinite: OVERFLOWS.test(text) };
  const marked = markNonFinite(text);
  if (marked === text) return { value: JSON.parse(text), nonFinite: OVERFLOWS.test(text) };
  const value: unknown = JSON.parse(marked, (_key, v: unknown) =>
    typeof v === "string" && v in REVIVED ? REVIVED[v] : v,
  );
  return { value, nonFinite: true };
}

/** JSON.stringify that writes non-finite numbers as NaN / Infinity / -Infinity (as Python does) when `nonFinite` says there may be some. */
export function stringifyJson(value: unknown, nonFinite: boolean): string {
  if (!nonFinite) return JSON.stringify(value);
  const text = JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "number" && !Number.isFinite(v)
      ? Number.isNaN(v)
        ? SENTINEL.NaN
        : v > 0
          ? SENTINEL.Infinity
          : SENTINEL["-Infinity"]
      : v,
  );
  return text.replace(/"\\u0000(NaN|Inf|-Inf)"/g, (_m, t: string) =>
    t === "NaN" ? "NaN" : t === "Inf" ? "Infinity" : "-Infinity",
  );
}
