/** Helpers shared by the `pier model …` commands. */
import { Registry } from "../../registry/index.js";
import { PierError, userError } from "../../shared/index.js";
import { type CommandContext, type ParsedArgs, pierHome } from "../command.js";

/** Opens the registry under the pier home, runs `fn`, and closes it when `fn` is done (awaited, if it returns a promise). */
export function withRegistry<T>(ctx: CommandContext, fn: (registry: Registry) => T): T {
  const registry = Registry.open(pierHome(ctx));
  let result: T;
  try {
    result = fn(registry);
  } catch (error) {
    registry.close();
    throw error;
  }
  if (result instanceof Promise) return result.finally(() => registry.close()) as T;
  registry.close();
  return result;
}

/** Parses repeated `--tag key=value` options. */
export function keyValues(items: readonly string[] | undefined, option: string): Record<string, string> {
  return Object.fromEntries(
    (items ?? []).map((item) => {
      const eq = item.indexOf("=");
      if (eq <= 0)
        throw userError(
          "BadOptionValue",
          `--${option} must look like key=value, got '${item}'`,
          `Pass e.g. --${option} team=risk.`,
        );
      return [item.slice(0, eq), item.slice(eq + 1)];
    }),
  );
}

export function positional(
  args: Pick<ParsedArgs, "positionals">,
  index: number,
  name: string,
  example: string,
): string {
  const value = args.positionals[index];
  if (value === undefined || value === "") {
    throw new PierError({
      code: "MissingArgument",
      summary: `Missing ${name}`,
      fix: `Pass it, e.g. ${example}`,
    });
  }
  return value;
}

export function versionNumber(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw userError(
      "BadOptionValue",
      `'${text}' is not a version number`,
      "Versions are whole numbers from 1, as `pier model list` shows.",
    );
  }
  return Number(text);
}

/** --version N: a model version instead of the model itself. */
export const versionOption = {
  version: { type: "string" as const, valueName: "N", description: "this version instead of the model" },
};
