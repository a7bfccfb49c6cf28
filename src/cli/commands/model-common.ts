/** Helpers shared by the `pier model …` commands. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { ModelFacts } from "../../engine/index.js";
import { requireModelFolder, validateModelDir } from "../../model/index.js";
import { listModelFiles, Registry } from "../../registry/index.js";
import { PierError, resolvePierHome, userError } from "../../shared/index.js";
import type { CommandContext, ParsedArgs } from "../command.js";

/** Opens the registry under the pier home, runs `fn`, and always closes it. */
export function withRegistry<T>(ctx: CommandContext, fn: (registry: Registry) => T): T {
  const registry = Registry.open(resolvePierHome(process.env, ctx.cwd));
  try {
    return fn(registry);
  } finally {
    registry.close();
  }
}

/** Parses repeated `--tag key=value` options. */
export function keyValues(args: ParsedArgs, option: string): Record<string, string> {
  const raw = args.options[option];
  const items = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  return Object.fromEntries(
    items.map((item) => {
      const eq = item.indexOf("=");
      if (eq <= 0)
        throw userError(
          "BadArgument",
          `--${option} must look like key=value, got '${item}'`,
          `Pass e.g. --${option} team=risk.`,
        );
      return [item.slice(0, eq), item.slice(eq + 1)];
    }),
  );
}

export function positional(args: ParsedArgs, index: number, name: string, example: string): string {
  const value = args.positionals[index];
  if (value === undefined || value === "") {
    throw new PierError({
      code: "BadArgument",
      summary: `Missing ${name}`,
      fix: `Pass it, e.g. ${example}`,
      kind: "usage",
    });
  }
  return value;
}

export function versionNumber(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw userError(
      "BadArgument",
      `'${text}' is not a version number`,
      "Versions are whole numbers from 1, as `pier model list` shows.",
    );
  }
  return Number(text);
}

const ENV_FILES = ["conda.yaml", "python_env.yaml", "requirements.txt"];

/** What environment building needs from a model folder, read without registering it. */
export function folderFacts(dir: string): ModelFacts {
  const source = requireModelFolder(dir);
  const { mlmodel, findings } = validateModelDir(source);
  if (!mlmodel)
    throw userError(
      "ModelValidationFailed",
      `${source} is not a readable MLflow model: ${findings.map((f) => `${f.code}: ${f.message}`).join("; ")}`,
      `Run \`pier model validate ${dir}\` for the details.`,
    );
  return {
    name: basename(source),
    version: 0,
    flavors: mlmodel.flavors ?? {},
    mlmodel,
    artifacts: listModelFiles(source).map((path) => ({
      path,
      sha256: "",
      size: statSync(join(source, path)).size,
    })),
    envFiles: Object.fromEntries(
      ENV_FILES.filter((f) => existsSync(join(source, f))).map((f) => [
        f,
        readFileSync(join(source, f), "utf8"),
      ]),
    ),
  };
}
