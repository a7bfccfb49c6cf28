/**
 * Commands are data: a path (noun then verb), options, and a handler that calls the library and
 * returns a result; `render` prints the result for people, `-o json` prints it as JSON.
 */
import { userError } from "../shared/index.js";

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  description: string;
  /** Shown in help as `--name VALUE`. */
  valueName?: string;
  default?: string | boolean;
  multiple?: boolean;
}

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
}

export interface ParsedArgs {
  options: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface CommandDefinition<Result = unknown> {
  path: string[];
  summary: string;
  description?: string;
  positionals?: PositionalSpec[];
  options: Record<string, OptionSpec>;
  examples?: string[];
  handler(args: ParsedArgs, ctx: CommandContext): Promise<Result>;
  render(result: Result, ctx: CommandContext): void;
  /** Exit code for a result that ran to the end (e.g. a failed gate); 0 when absent. */
  exitCode?(result: Result): number;
}

export function defineCommand<Result>(definition: CommandDefinition<Result>): CommandDefinition<Result> {
  return definition;
}

/** Reads an option as an integer within bounds; a clear BadArgument otherwise. */
export function intOption(
  args: ParsedArgs,
  name: string,
  bounds: { min: number; max?: number },
): number | undefined {
  const raw = args.options[name];
  if (raw === undefined) return undefined;
  const text = String(raw);
  const value = Number(text);
  if (
    !/^-?\d+$/.test(text) ||
    !Number.isSafeInteger(value) ||
    value < bounds.min ||
    (bounds.max !== undefined && value > bounds.max)
  ) {
    const range = bounds.max === undefined ? `≥ ${bounds.min}` : `${bounds.min}–${bounds.max}`;
    throw userError(
      "BadOptionValue",
      `--${name} must be a whole number ${range}, got '${text}'`,
      `Pass e.g. --${name} ${bounds.min === 0 ? 10 : bounds.min}.`,
    );
  }
  return value;
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const raw = args.options[name];
  return raw === undefined ? undefined : String(raw);
}

export function requiredOption(args: ParsedArgs, name: string, example: string): string {
  const value = stringOption(args, name);
  if (value === undefined || value === "") {
    throw userError("MissingArgument", `--${name} is required`, `Pass it, e.g. ${example}`);
  }
  return value;
}
