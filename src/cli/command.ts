/**
 * Commands are data: a path (noun then verb), options, and a handler that calls the library and
 * returns a result; `render` prints the result for people, `-o json` prints it as JSON. Options are
 * typed from their specs: a handler reads `args.options.port` as `string | undefined`, a boolean
 * flag as `boolean | undefined`.
 */
import { resolvePierHome, userError } from "../shared/index.js";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  description: string;
  /** Shown in help as `--name VALUE`. */
  valueName?: string;
  multiple?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** The value a parsed option has, from its spec. */
type OptionValue<S extends OptionSpec> = S["type"] extends "boolean"
  ? boolean | undefined
  : S["multiple"] extends true
    ? string[] | undefined
    : string | undefined;

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
}

export type OutputFormat = "text" | "json";

export interface CommandContext {
  output: OutputFormat;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether progress may redraw one line in place. */
  interactive: boolean;
  cwd: string;
  /** The environment the command runs in (PIER_HOME, PIER_PYTHON, …). */
  env: NodeJS.ProcessEnv;
  /** Asks the person at the terminal (absent when nobody can answer). */
  ask?: (question: string) => Promise<string>;
}

export interface ParsedArgs<O extends OptionSpecs = OptionSpecs> {
  options: { [K in keyof O]: OptionValue<O[K]> };
  positionals: string[];
}

export interface CommandDefinition<O extends OptionSpecs, Result> {
  path: string[];
  summary: string;
  description?: string;
  positionals?: PositionalSpec[];
  options: O;
  examples?: string[];
  handler(args: ParsedArgs<O>, ctx: CommandContext): Promise<Result>;
  render(result: Result, ctx: CommandContext): void;
  /** Exit code for a result that ran to the end (e.g. a failed gate); 0 when absent. */
  exitCode?(result: Result): number;
  /**
   * An Azure CLI form (`pier az …`): printed as az prints, `-o json|jsonc|yaml|tsv|table|none` (json
   * by default) after `--query`; `render` is not used.
   */
  az?: true;
}

/** Any command, as the registry and the parser hold them. */
export interface AnyCommand {
  path: string[];
  summary: string;
  description?: string;
  positionals?: PositionalSpec[];
  options: OptionSpecs;
  examples?: string[];
  handler(args: ParsedArgs, ctx: CommandContext): Promise<unknown>;
  render(result: unknown, ctx: CommandContext): void;
  exitCode?(result: unknown): number;
  az?: true;
}

export function defineCommand<const O extends OptionSpecs, Result>(
  definition: CommandDefinition<O, Result>,
): AnyCommand {
  return definition as unknown as AnyCommand;
}

/** The pier home the command works in: PIER_HOME, else ./.pier. */
export const pierHome = (ctx: CommandContext): string => resolvePierHome(ctx.env, ctx.cwd);

/** An option's value as an integer within bounds; BadOptionValue otherwise. */
export function intOption(
  value: string | undefined,
  name: string,
  bounds: { min: number; max?: number },
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (
    !/^-?\d+$/.test(value) ||
    !Number.isSafeInteger(number) ||
    number < bounds.min ||
    (bounds.max !== undefined && number > bounds.max)
  ) {
    const range = bounds.max === undefined ? `≥ ${bounds.min}` : `${bounds.min}–${bounds.max}`;
    throw userError(
      "BadOptionValue",
      `--${name} must be a whole number ${range}, got '${value}'`,
      `Pass e.g. --${name} ${bounds.min === 0 ? 10 : bounds.min}.`,
    );
  }
  return number;
}

/** An option's value when it is one of `choices`; BadOptionValue otherwise. */
export function choiceOption<const C extends string>(
  value: string | undefined,
  name: string,
  choices: readonly C[],
): C | undefined {
  if (value === undefined) return undefined;
  if ((choices as readonly string[]).includes(value)) return value as C;
  throw userError(
    "BadOptionValue",
    `--${name} must be ${choices.join(" or ")}, got '${value}'`,
    `Pass e.g. --${name} ${choices[0]}.`,
  );
}

/** --fidelity, for the commands that check or build an environment. */
export const fidelityOption = {
  fidelity: {
    type: "string",
    valueName: "cloud|default|local",
    description:
      "how close to the cloud's build the environment must be: cloud makes every difference (a version, the Python) an error; local runs even pins the cloud could not resolve (default: the YAML's PIER_FIDELITY, else default)",
  },
} as const;

export const FIDELITIES = ["cloud", "default", "local"] as const;

/** A value the command cannot run without; MissingArgument otherwise. */
export function required<T>(value: T | undefined, name: string, example: string): T {
  if (value === undefined || value === "") {
    throw userError("MissingArgument", `${name} is required`, `Pass it, e.g. ${example}`);
  }
  return value;
}

/** What help and the option parser need of a command: all of it but its code. */
export type CommandInfo = Omit<AnyCommand, "handler" | "render" | "exitCode">;
