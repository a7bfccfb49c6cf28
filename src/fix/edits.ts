/**
 * Edits to the user's own files, made the way a careful person makes them: a YAML key set in place
 * (comments, key order and the rest of the file kept), a pin put where the package already is in a
 * requirements.txt, conda.yaml (conda spec or its pip list) or python_env.yaml, or a package's line
 * dropped; and the change shown as a unified diff.
 */
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from "yaml";

/** A value as YAML writes it: plain when it reads back the same, quoted otherwise. */
function scalarText(value: string | number): string {
  if (typeof value === "number") return String(value);
  const plain =
    /^[A-Za-z0-9_./:+-][A-Za-z0-9_./:+ -]*$/.test(value) &&
    !/^(true|false|null|~|yes|no|on|off|[-+.\d][\d.e+-]*)$/i.test(value);
  return plain ? value : JSON.stringify(value);
}

const splice = (text: string, start: number, end: number, insert: string) =>
  `${text.slice(0, start)}${insert}${text.slice(end)}`;

/** The column a position is at (its distance from the line's start). */
const columnOf = (text: string, at: number) => at - (text.lastIndexOf("\n", at - 1) + 1);

/** The start of the line after `at` (or the end of the text). */
function nextLineStart(text: string, at: number): number {
  const newline = text.indexOf("\n", at);
  return newline < 0 ? text.length : newline + 1;
}

/**
 * The text with `key` (dotted) set to `value`, changed where it stands: an existing value is
 * replaced in place, a missing key is added at the end of the nearest map that exists, with its
 * indentation. Every other byte of the file (comments, order, spacing) stays. A scalar model: PATH
 * takes model.path as the path itself.
 */
export function setYamlKey(text: string, key: string, value: string | number): string {
  const doc = parseDocument(text);
  const path = key.split(".");
  const model = doc.get("model", true);
  const target = key === "model.path" && isScalar(model) ? model : doc.getIn(path, true);
  if (isScalar(target) && target.range)
    return splice(text, target.range[0], target.range[1], scalarText(value));
  let depth = path.length - 1;
  while (depth > 0 && !isMap(doc.getIn(path.slice(0, depth), true))) depth--;
  const parent = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
  const blocked = doc.getIn(path.slice(0, depth + 1), true);
  const first = isMap(parent) ? (parent as YAMLMap).items[0]?.key : undefined;
  if (
    target !== undefined ||
    blocked !== undefined ||
    !isMap(parent) ||
    !isScalar(first) ||
    !first.range ||
    !parent.range
  ) {
    // A shape a one-line edit cannot reach (a flow map, a scalar where a map must go): rewrite the document.
    doc.setIn(path, value);
    return doc.toString();
  }
  const indent = columnOf(text, first.range[0]);
  const lines = path
    .slice(depth)
    .map(
      (part, k, rest) =>
        `${" ".repeat(indent + 2 * k)}${part}:${k === rest.length - 1 ? ` ${scalarText(value)}` : ""}`,
    );
  const at = depth === 0 ? text.length : parent.range[2];
  const before = at > 0 && text[at - 1] !== "\n" ? "\n" : "";
  return splice(text, at, at, `${before}${lines.join("\n")}\n`);
}

/** A requirement's package name, normalised as pip compares them (PEP 503). */
const packageOf = (requirement: string): string =>
  (requirement.trim().split(/[\s=<>!~;[@]/)[0] ?? "").toLowerCase().replace(/[-_.]+/g, "-");

const versionOf = (requirement: string): string =>
  /(?:===?|~=|>=|<=)\s*([^\s,;]+)/.exec(requirement)?.[1] ?? "";

const isCondaFile = (file: string) => /\.ya?ml$/i.test(file) && !/python_env\.ya?ml$/i.test(file);
const isPythonEnv = (file: string) => /python_env\.ya?ml$/i.test(file);

function pinRequirementsText(text: string, requirement: string, drop: boolean): string | undefined {
  const name = packageOf(requirement);
  const lines = text.split("\n");
  const at = lines.findIndex(
    (line) => !line.trim().startsWith("#") && !line.trim().startsWith("-") && packageOf(line) === name,
  );
  if (at < 0) {
    if (drop) return undefined;
    const body = text.endsWith("\n") || text === "" ? text : `${text}\n`;
    return `${body}${requirement}\n`;
  }
  if (drop) lines.splice(at, 1);
  else {
    const comment = /\s+#.*$/.exec(lines[at]!)?.[0] ?? "";
    lines[at] = `${requirement}${comment}`;
  }
  return lines.join("\n");
}

/** The line holding a node, to drop it whole. */
function withoutLine(text: string, at: number): string {
  const start = text.lastIndexOf("\n", at - 1) + 1;
  return splice(text, start, nextLineStart(text, at), "");
}

/** A new list item after (or before) an existing one, with the same dash and indentation. */
function besideItem(
  text: string,
  item: { range?: [number, number, number] | null },
  value: string,
  after: boolean,
): string {
  const range = item.range!;
  const lineStart = text.lastIndexOf("\n", range[0] - 1) + 1;
  const prefix = text.slice(lineStart, range[0]);
  const at = after ? nextLineStart(text, range[1]) : lineStart;
  const before = after && at > 0 && text[at - 1] !== "\n" ? "\n" : "";
  return splice(text, at, at, `${before}${prefix}${value}\n`);
}

/** conda.yaml: a conda spec (python=3.11, numpy=1.26.4) or a line of its pip list, edited in place. */
function pinCondaText(text: string, requirement: string, drop: boolean): string | undefined {
  const doc = parseDocument(text);
  const dependencies = doc.get("dependencies", true);
  if (!isSeq(dependencies)) return undefined;
  const name = packageOf(requirement);
  const version = versionOf(requirement);
  const seq = dependencies as YAMLSeq;
  const items = seq.items as { range?: [number, number, number] | null; value?: unknown }[];
  const conda = items.find((item) => isScalar(item) && packageOf(String(item.value)) === name);
  if (conda?.range)
    return drop
      ? withoutLine(text, conda.range[0])
      : splice(text, conda.range[0], conda.range[1], `${name}=${version}`);
  const holder = seq.items.find((item) => isMap(item) && (item as YAMLMap).has("pip")) as YAMLMap | undefined;
  const pip = holder?.get("pip", true);
  const pipItems = isSeq(pip)
    ? ((pip as YAMLSeq).items as { range?: [number, number, number] | null; value?: unknown }[])
    : [];
  const listed = pipItems.find((item) => isScalar(item) && packageOf(String(item.value)) === name);
  if (listed?.range)
    return drop
      ? withoutLine(text, listed.range[0])
      : splice(text, listed.range[0], listed.range[1], requirement);
  if (drop) return undefined;
  if (name === "python" && items[0]?.range) return besideItem(text, items[0], `python=${version}`, false);
  const last = pipItems.at(-1);
  if (last?.range) return besideItem(text, last, requirement, true);
  // No pip list to add to: let the YAML library write one.
  if (isSeq(pip)) (pip as YAMLSeq).add(requirement);
  else seq.add(doc.createNode({ pip: [requirement] }));
  return doc.toString();
}

/**
 * The file's text with `requirement` (pip syntax: pandas==2.0.3, python==3.11) in place of the
 * package's present line, or added where such lines go; `drop` removes the package instead. Undefined
 * when the file has nothing to change (a drop of a package it does not list, python in requirements.txt).
 */
export function pinInFile(file: string, text: string, requirement: string, drop = false): string | undefined {
  const name = packageOf(requirement);
  if (isPythonEnv(file))
    return name === "python" ? setYamlKey(text, "python", versionOf(requirement)) : undefined;
  if (isCondaFile(file)) return pinCondaText(text, requirement, drop);
  if (name === "python") return undefined;
  return pinRequirementsText(text, requirement, drop);
}

/** Whether a file lists the package (so that a pin for it belongs there too). */
export function listsPackage(file: string, text: string, requirement: string): boolean {
  const name = packageOf(requirement);
  if (isPythonEnv(file)) return name === "python";
  if (isCondaFile(file))
    return new RegExp(`^\\s*-\\s*${name.replace(/-/g, "[-_.]")}\\s*(?:[=<>!~]|$)`, "im").test(text);
  return text.split("\n").some((line) => !line.trim().startsWith("#") && packageOf(line) === name);
}

/** A unified diff (3 lines of context) of one file's change; empty when nothing changed. */
export function unifiedDiff(path: string, before: string, after: string): string {
  if (before === after) return "";
  const a = before.split("\n");
  const b = after.split("\n");
  // Longest common subsequence, from the end, on files of a few hundred lines at most.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { kind: " " | "-" | "+"; line: string; ai: number; bi: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: " ", line: a[i]!, ai: i++, bi: j++ });
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!))
      ops.push({ kind: "-", line: a[i]!, ai: i++, bi: j });
    else ops.push({ kind: "+", line: b[j]!, ai: i, bi: j++ });
  }
  const out = [`--- ${path}`, `+++ ${path}`];
  const changed = ops.map((op, k) => (op.kind !== " " ? k : -1)).filter((k) => k >= 0);
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - 3);
    let end = Math.min(ops.length, changed[k]! + 4);
    while (k + 1 < changed.length && changed[k + 1]! <= end + 2) {
      k++;
      end = Math.min(ops.length, changed[k]! + 4);
    }
    const hunk = ops.slice(start, end);
    const oldCount = hunk.filter((op) => op.kind !== "+").length;
    const newCount = hunk.filter((op) => op.kind !== "-").length;
    out.push(`@@ -${hunk[0]!.ai + 1},${oldCount} +${hunk[0]!.bi + 1},${newCount} @@`);
    for (const op of hunk) out.push(`${op.kind}${op.line}`);
    k++;
  }
  return out.join("\n");
}
