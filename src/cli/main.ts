/**
 * The pier command line: finds the command (noun then verb), parses its options strictly, runs it,
 * and prints its result or its error in one grammar. Only this file exits the process.
 */
import { parseArgs } from "node:util";
import { PIER_VERSION, PierError, toPierError, userError } from "../shared/index.js";
import type { CommandContext, CommandDefinition, OutputFormat, ParsedArgs } from "./command.js";
import { formatError } from "./format.js";
import { COMMANDS } from "./registry.js";

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  interactive: boolean;
  cwd: string;
}

/** Exit codes: 0 ok, 1 a user error or failed check, 2 a usage error, 70 a bug in pier. */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 70 } as const;

function findCommand(words: string[]): { command: CommandDefinition<never>; rest: string[] } | undefined {
  let best: { command: CommandDefinition<never>; rest: string[] } | undefined;
  for (const command of COMMANDS) {
    const matches = command.path.every((part, i) => words[i] === part);
    if (matches && (!best || command.path.length > best.command.path.length)) {
      best = { command, rest: words.slice(command.path.length) };
    }
  }
  return best;
}

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(" ").length));
  return [
    `pier ${PIER_VERSION}: ML models behind online endpoints on one machine, with every startup failure named.`,
    "",
    "Usage: pier <command> [options]   (-o json for machine-readable output, --help on any command)",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.path.join(" ").padEnd(width)}  ${c.summary}`),
  ].join("\n");
}

function commandHelp(command: CommandDefinition<never>): string {
  const flags = Object.entries(command.options).map(([name, spec]) => [
    `--${name}${spec.type === "string" ? ` ${spec.valueName ?? "VALUE"}` : ""}`,
    spec.description,
  ]);
  flags.push(["-o, --output text|json", "output format (default text)"], ["-h, --help", "show this help"]);
  const width = Math.max(...flags.map(([f]) => f!.length));
  return [
    `pier ${command.path.join(" ")}: ${command.summary}`,
    ...(command.description ? ["", command.description] : []),
    "",
    "Options:",
    ...flags.map(([f, d]) => `  ${f!.padEnd(width)}  ${d}`),
    ...(command.examples?.length ? ["", "Examples:", ...command.examples.map((e) => `  ${e}`)] : []),
  ].join("\n");
}

function outputFormat(value: string | undefined): OutputFormat {
  if (value === undefined || value === "text") return "text";
  if (value === "json") return "json";
  throw userError(
    "BadOptionValue",
    `-o must be text or json, got '${value}'`,
    "Use -o json or leave it out.",
  );
}

/** Runs pier with `argv` (without node and script); returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const wantsJson =
    argv.some((a, i) => (a === "-o" || a === "--output") && argv[i + 1] === "json") ||
    argv.includes("--output=json");
  try {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
      io.out(globalHelp());
      return EXIT.ok;
    }
    if (argv[0] === "--version" || argv[0] === "-v") {
      io.out(PIER_VERSION);
      return EXIT.ok;
    }
    const found = findCommand(argv);
    if (!found) {
      const words = argv
        .filter((a) => !a.startsWith("-"))
        .slice(0, 2)
        .join(" ");
      const near = COMMANDS.filter((c) => c.path[0] === argv[0]).map((c) => `pier ${c.path.join(" ")}`);
      throw new PierError({
        code: "UnknownCommand",
        summary: `Unknown command '${words}'`,
        fix:
          near.length > 0
            ? `Did you mean: ${near.join(", ")}?`
            : "Run `pier --help` for the list of commands.",
      });
    }
    const { command, rest } = found;
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(commandHelp(command));
      return EXIT.ok;
    }
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: rest,
        allowPositionals: true,
        strict: true,
        options: {
          ...Object.fromEntries(
            Object.entries(command.options).map(([name, spec]) => [
              name,
              {
                type: spec.type,
                ...(spec.short ? { short: spec.short } : {}),
                ...(spec.multiple ? { multiple: true } : {}),
              },
            ]),
          ),
          output: { type: "string", short: "o" },
        },
      });
    } catch (error) {
      throw new PierError({
        code: "UnknownOption",
        summary: (error as Error).message.split("\n")[0] ?? "Invalid arguments",
        fix: `Run \`pier ${command.path.join(" ")} --help\` for its options.`,
      });
    }
    const maxPositionals = command.positionals?.length ?? 0;
    if (parsed.positionals.length > maxPositionals) {
      throw new PierError({
        code: "UnknownOption",
        summary: `Unexpected argument '${parsed.positionals[maxPositionals]}'`,
        fix: `Run \`pier ${command.path.join(" ")} --help\` for its options.`,
      });
    }
    const ctx: CommandContext = {
      output: outputFormat(parsed.values.output as string | undefined),
      out: io.out,
      err: (text) => io.err(text),
      interactive: io.interactive,
      cwd: io.cwd,
    };
    const result = await command.handler(
      { options: parsed.values as ParsedArgs["options"], positionals: parsed.positionals },
      ctx,
    );
    if (ctx.output === "json") io.out(JSON.stringify(result, null, 2));
    else command.render(result, ctx);
    return command.exitCode?.(result) ?? EXIT.ok;
  } catch (thrown) {
    const error = toPierError(thrown);
    if (wantsJson) io.out(JSON.stringify({ error: error.toJSON() }, null, 2));
    else io.err(`${formatError(error)}\n`);
    return error.exitCode;
  }
}

/** Entry point for bin/pier.js. */
export async function main(): Promise<void> {
  // A reader that goes away (`pier … | head`) is not an error worth a stack trace.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT.ok);
    throw error;
  });
  const code = await runCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(text),
    interactive: process.stderr.isTTY === true,
    cwd: process.cwd(),
  });
  process.exitCode = code;
}
