/** A small typed way to build the page: h(tag, attributes, ...children), text escaped by the DOM. */

type Child = Node | string | number | null | undefined | false | Child[];
type Attributes = Record<string, string | number | boolean | EventListener | undefined | null>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
    else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, String(value));
  }
  append(element, children);
  return element;
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `parent` shows. */
export function show(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

const TONES: Record<string, string> = {
  Succeeded: "good",
  Ready: "good",
  pass: "good",
  done: "good",
  firing: "bad",
  Failed: "bad",
  fail: "bad",
  RolledBack: "bad",
  Aborted: "bad",
  CrashLoop: "bad",
  Unready: "warn",
  Held: "warn",
  Running: "info",
  Creating: "info",
  Updating: "info",
  insufficient: "warn",
  pending: "muted",
};

/** The tone a state's badge takes ("Failed" bad, "Succeeded" good…), or muted. */
export const toneOf = (state: string) =>
  (TONES[state] ?? "muted") as "good" | "bad" | "warn" | "info" | "muted";

/** A badge; a name in CamelCase may fold between its words on a narrow screen (its text stays whole). */
export const badge = (text: string, tone?: "good" | "bad" | "warn" | "info" | "muted") =>
  h(
    "span",
    { class: `badge ${tone ?? TONES[text] ?? "muted"}` },
    text.split(/(?<=[a-z])(?=[A-Z])/).flatMap((part, i) => (i ? [h("wbr", {}), part] : [part])),
  );

export const ms = (v: number | null | undefined) =>
  v === null || v === undefined ? "–" : `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`;
export const pct = (v: number) => `${(v * 100).toFixed(v > 0 && v < 0.01 ? 2 : 1)} %`;
export const time = (iso: string) => new Date(iso).toLocaleTimeString();

/** A message for a failed call or an empty state. */
export const note = (text: string, tone: "error" | "info" = "info") =>
  h("p", { class: `note ${tone}`, role: tone === "error" ? "alert" : undefined }, text);

/** A name in a page link or a non-API URL (scoring, reports). */
export const enc = encodeURIComponent;

/**
 * JSON as a person reads it: objects one key per line, and a list of plain values (a row, a column
 * list, probabilities) on one line, so that a request's rows stay in sight instead of one value per line.
 */
export function readableJson(value: unknown, indent = ""): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== "object"))
      return `[${value.map((v) => JSON.stringify(v) ?? "null").join(", ")}]`;
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => inner + readableJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${readableJson(v, inner)}`).join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value) ?? "null";
}
