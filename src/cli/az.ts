/**
 * How `pier az …` reads its command line and prints, as the Azure CLI does. Reading: a long option may
 * be shortened to any prefix that names one option (argparse's rule, which is why Azure's scripts say
 * `--endpoint` for `--endpoint-name`), and an option that takes several values takes the words after
 * it (`--set a=1 b=2`, `--tags team=risk stage=dev`). Printing: `--query` is a JMESPath expression over the result
 * (the JMESPath reference implementation's semantics, as az uses), then `-o` json (the default, two
 * spaces), jsonc, yaml, tsv (values only, tab-separated, one row per item: what `$(az … -o tsv)` reads),
 * table (the scalar fields of each item under their names) or none.
 */
import { createRequire } from "node:module";
import { PierError, userError } from "../shared/index.js";
import type { OptionSpecs } from "./command.js";

// JMESPath and YAML are loaded when an az command prints, not for every `pier` invocation.
const require = createRequire(import.meta.url);
const search = (data: unknown, query: string): unknown =>
  (require("@jmespath-community/jmespath") as typeof import("@jmespath-community/jmespath")).search(
    data as never,
    query,
  );
const stringify = (value: unknown): string => (require("yaml") as typeof import("yaml")).stringify(value);

const AZ_OUTPUTS = ["json", "jsonc", "yaml", "yamlc", "tsv", "table", "none"] as const;
export type AzOutput = (typeof AZ_OUTPUTS)[number];

export function azOutputOf(value: string | undefined): AzOutput {
  if (value === undefined) return "json";
  if ((AZ_OUTPUTS as readonly string[]).includes(value)) return value as AzOutput;
  throw userError(
    "BadOptionValue",
    `argument --output/-o: invalid choice: '${value}' (choose from ${AZ_OUTPUTS.map((o) => `'${o}'`).join(", ")})`,
    "Pass -o json, -o tsv or -o table.",
  );
}

/** The result under a JMESPath query (as `az … --query`). */
export function applyQuery(result: unknown, query: string | undefined): unknown {
  if (query === undefined) return result;
  try {
    return search(JSON.parse(JSON.stringify(result ?? null)), query);
  } catch (error) {
    throw userError(
      "BadOptionValue",
      `argument --query: invalid jmespath_type value: '${query}' (${(error as Error).message})`,
      'Write a JMESPath expression, e.g. --query provisioning_state or --query "[].name".',
    );
  }
}

const scalar = (v: unknown): string =>
  v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);

/** az's tsv: a scalar as it is; an object's scalar values in key order; a list, one line per item. */
function tsv(value: unknown): string {
  const row = (v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.values(v)
          .filter((x) => x === null || typeof x !== "object")
          .map(scalar)
          .join("\t")
      : Array.isArray(v)
        ? v.map(scalar).join("\t")
        : scalar(v);
  return Array.isArray(value) ? value.map(row).join("\n") : row(value);
}

/** Fields az's table output leaves out (knack's rule): long identifiers nobody reads in a table. */
const TABLE_SKIPS = ["id", "type", "etag"];

/** az's table: one column per scalar field of the items (but TABLE_SKIPS), their names as headers. */
function table(value: unknown): string {
  const rows = (Array.isArray(value) ? value : [value]).map((v) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v).filter(
            ([k, x]) => !TABLE_SKIPS.includes(k) && (x === null || typeof x !== "object"),
          ),
        )
      : { Result: v },
  );
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (columns.length === 0) return "";
  const title = (c: string) =>
    c.replace(/(^|_)(\w)/g, (_, sep, ch: string) => (sep ? " " : "") + ch.toUpperCase());
  const cells = rows.map((r) => columns.map((c) => scalar((r as Record<string, unknown>)[c])));
  const widths = columns.map((c, i) => Math.max(title(c).length, ...cells.map((row) => row[i]!.length)));
  const line = (parts: string[]) =>
    parts
      .map((p, i) => p.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(columns.map(title)), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** The result as `-o` says. */
export function formatAz(result: unknown, output: AzOutput): string | undefined {
  switch (output) {
    case "none":
      return undefined;
    case "tsv":
      return tsv(result);
    case "table":
      return table(result);
    case "yaml":
    case "yamlc":
      return stringify(result).trimEnd();
    default:
      return JSON.stringify(result ?? null, null, 2);
  }
}

/**
 * The command line as pier's strict parser reads it: prefixes expanded to the option they name, the
 * words after a many-valued option given to it one by one. Global az options that change nothing
 * here (--verbose, --debug, --only-show-errors) are accepted by every az command.
 */
export function azArgv(options: OptionSpecs, argv: readonly string[]): string[] {
  const names = [...Object.keys(options), "output", "help"];
  const out: string[] = [];
  /** The many-valued option the words now belong to, and whether it has had its first value. */
  let many: { name: string; hadFirst: boolean } | undefined;
  for (const arg of argv) {
    if (!arg.startsWith("-")) {
      if (many?.hadFirst) out.push(`--${many.name}`);
      if (many) many.hadFirst = true;
      out.push(arg);
      continue;
    }
    many = undefined;
    if (!arg.startsWith("--")) {
      out.push(arg);
      continue;
    }
    const at = arg.indexOf("=");
    const given = arg.slice(2, at < 0 ? undefined : at);
    const matches = names.includes(given) ? [given] : names.filter((n) => n.startsWith(given));
    if (matches.length > 1)
      throw new PierError({
        code: "UnknownOption",
        summary: `ambiguous option: --${given} could match ${matches.map((m) => `--${m}`).join(", ")}`,
        fix: "Write the option out in full.",
      });
    const name = matches[0] ?? given;
    out.push(`--${name}${at < 0 ? "" : arg.slice(at)}`);
    if (options[name]?.multiple && at < 0) many = { name, hadFirst: false };
  }
  return out;
}
