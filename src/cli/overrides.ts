/**
 * What a command line says over a YAML file, as az does it: `--name`, `--endpoint-name` and
 * `--set path=value` (a dotted path into the document; the value read as YAML, so 2 is a number and
 * true a boolean). A flag given with -f overrides the file's key; it is never silently dropped.
 */
import { parse } from "yaml";
import { userError } from "../shared/index.js";

/** One `--set` assignment applied to a copy of `document`. */
function setPath(document: Record<string, unknown>, assignment: string): Record<string, unknown> {
  const at = assignment.indexOf("=");
  const path = at < 0 ? "" : assignment.slice(0, at).trim();
  if (!path || !/^[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$./-]*)*$/.test(path))
    throw userError(
      "BadOptionValue",
      `--set '${assignment}' is not a property path and a value`,
      "Pass --set property.path=value, e.g. --set instance_count=2 or --set request_settings.request_timeout_ms=3000.",
    );
  let value: unknown;
  try {
    value = parse(assignment.slice(at + 1));
  } catch {
    value = assignment.slice(at + 1);
  }
  const keys = path.split(".");
  const root: Record<string, unknown> = structuredClone(document);
  let node = root;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null) node[key] = {};
    else if (typeof next !== "object" || Array.isArray(next))
      throw userError(
        "BadOptionValue",
        `--set ${path}: '${key}' is ${Array.isArray(next) ? "a list" : `the value ${JSON.stringify(next)}`}, not an object to set a property of`,
        `Set ${key} itself, e.g. --set ${key}=…`,
      );
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
  return root;
}

export interface Overrides {
  name?: string | undefined;
  endpointName?: string | undefined;
  set?: readonly string[] | undefined;
}

/** The document with the command line's flags applied over it. */
export function withOverrides(document: unknown, overrides: Overrides): Record<string, unknown> {
  let out = { ...(document as Record<string, unknown>) };
  if (overrides.name !== undefined) out.name = overrides.name;
  if (overrides.endpointName !== undefined) out.endpoint_name = overrides.endpointName;
  for (const assignment of overrides.set ?? []) out = setPath(out, assignment);
  return out;
}

/** The options that carry overrides, for a command over a YAML file. */
export const overrideOptions = {
  name: { type: "string", short: "n", valueName: "NAME", description: "the name (overrides the file's)" },
  "endpoint-name": {
    type: "string",
    short: "e",
    valueName: "EP",
    description: "the endpoint (overrides the file's endpoint_name)",
  },
  set: {
    type: "string",
    valueName: "PATH=VALUE",
    description: "set a property of the YAML, as az does (repeatable): --set instance_count=2",
    multiple: true,
  },
} as const;
