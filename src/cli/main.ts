/**
 * The pier command line: finds the command (noun then verb), parses its options strictly, runs it,
 * and prints its result or its error in one grammar. Help answers at every level (`pier`, `pier
 * model`, `pier model tag`, `pier model tag set --help`); a near miss gets a suggestion. Only this
 * file exits the process. Exit codes come from the code table: 0 ok, 1 a failure the command ran
 * into, 2 a wrong command line, 70 a bug in pier.
 */
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { PIER_VERSION, PierError, toPierError, userError } from "../shared/index.js";
import { applyQuery, azArgv, azOutputOf, formatAz } from "./az.js";
import { type CatalogEntry, loadCatalog, loadCommand } from "./catalog.js";
import type { AnyCommand, CommandContext, CommandInfo, OutputFormat, ParsedArgs } from "./command.js";
import { formatError } from "./format.js";

const COMMANDS = await loadCatalog();

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  interactive: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Asks the person at the terminal; absent when stdin is not one. */
  ask?: (question: string) => Promise<string>;
}

/** The command whose path is the longest prefix of `words`. */
function findCommand(words: string[]): { command: CatalogEntry; rest: string[] } | undefined {
  let best: { command: CatalogEntry; rest: string[] } | undefined;
  for (const command of COMMANDS) {
    const matches = command.path.every((part, i) => words[i] === part);
    if (matches && (!best || command.path.length > best.command.path.length)) {
      best = { command, rest: words.slice(command.path.length) };
    }
  }
  return best;
}

/** The words before the first option: what the user asked for. */
function commandWords(argv: string[]): string[] {
  const firstOption = argv.findIndex((a) => a.startsWith("-"));
  return firstOption < 0 ? argv : argv.slice(0, firstOption);
}

/** Edit distance with adjacent transpositions counted as one edit ("shwo" is one from "show"). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest of `candidates` to `word` (or the one it abbreviates), if it is close enough to be what was meant. */
function nearest(word: string, candidates: readonly string[]): string | undefined {
  const extended = candidates.filter((c) => word.length >= 3 && c.startsWith(word));
  if (extended.length === 1) return extended[0];
  let best: { candidate: string; d: number } | undefined;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (!best || d < best.d) best = { candidate, d };
  }
  return best && best.d <= Math.max(1, Math.floor(best.candidate.length / 3)) ? best.candidate : undefined;
}

/** The commands under a prefix such as ["model", "tag"]. */
const under = (prefix: string[]) => COMMANDS.filter((c) => prefix.every((p, i) => c.path[i] === p));

function listing(commands: readonly CommandInfo[]): string[] {
  const width = Math.max(...commands.map((c) => c.path.join(" ").length));
  return commands.map((c) => `  ${c.path.join(" ").padEnd(width)}  ${c.summary}`);
}

function globalHelp(): string {
  return [
    `pier ${PIER_VERSION}: ML models behind online endpoints on one machine, with every startup failure named.`,
    "",
    "Usage: pier <command> [options]   (-o json for machine-readable output, --help on any command)",
    "",
    "Commands:",
    ...listing(COMMANDS.filter((c) => !c.az)),
    "",
    `Azure's CLI forms (alias az='pier az'): pier az ml online-endpoint|online-deployment|model|environment <verb>; \`pier az ml --help\` lists the ${COMMANDS.filter((c) => c.az).length}.`,
  ].join("\n");
}

function groupHelp(prefix: string[]): string {
  return [
    `pier ${prefix.join(" ")}: ${under(prefix).length} commands`,
    "",
    `Usage: pier ${prefix.join(" ")} <command> [options]   (--help on any command)`,
    "",
    "Commands:",
    ...listing(under(prefix)),
  ].join("\n");
}

function commandHelp(command: CommandInfo): string {
  const flags = Object.entries(command.options).map(([name, spec]) => [
    `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.type === "string" ? ` ${spec.valueName ?? "VALUE"}` : ""}`,
    spec.description,
  ]);
  flags.push(
    command.az
      ? ["-o, --output json|jsonc|yaml|tsv|table|none", "output format, as az's (default json)"]
      : ["-o, --output text|json", "output format (default text)"],
    ["-h, --help", "show this help"],
  );
  const width = Math.max(...flags.map(([f]) => f!.length));
  const positionals = (command.positionals ?? [])
    .map((p) => ` ${p.required ? p.name : `[${p.name}]`}`)
    .join("");
  return [
    `pier ${command.path.join(" ")}: ${command.summary}`,
    "",
    `Usage: pier ${command.path.join(" ")}${positionals} [options]`,
    ...(command.description ? ["", command.description] : []),
    "",
    "Options:",
    ...flags.map(([f, d]) => `  ${f!.padEnd(width)}  ${d}`),
    ...(command.examples?.length ? ["", "Examples:", ...command.examples.map((e) => `  ${e}`)] : []),
  ].join("\n");
}

function unknownCommand(argv: string[]): PierError {
  const words = commandWords(argv);
  // The longest known prefix, and the word after it that is not a command.
  let depth = 0;
  while (depth < words.length && under(words.slice(0, depth + 1)).length > 0) depth++;
  const known = words.slice(0, depth);
  const next = words[depth];
  const options = [
    ...new Set(
      under(known)
        .map((c) => c.path[depth])
        .filter((w): w is string => Boolean(w)),
    ),
  ];
  const guess = next ? nearest(next, options) : undefined;
  // With the misspelt word mended, the rest may name a whole command: suggest all of it.
  const mended = guess ? [...known, guess, ...words.slice(depth + 1)] : [];
  const whole = guess ? findCommand(mended)?.command.path.join(" ") : undefined;
  return new PierError({
    code: "UnknownCommand",
    summary: `Unknown command '${words.join(" ")}'`,
    fix: guess
      ? `Did you mean \`pier ${whole ?? [...known, guess].join(" ")}\`? (\`pier ${known.join(" ")}${known.length ? " " : ""}--help\` lists them)`
      : known.length > 0
        ? `\`pier ${known.join(" ")}\` has: ${options.join(", ")}. Run \`pier ${known.join(" ")} --help\`.`
        : "Run `pier --help` for the list of commands.",
  });
}

/** Parses the command's options strictly; an unknown option gets the nearest known one as a suggestion. */
function parseOptions(command: CommandInfo, rest: string[]): ParsedArgs & { output: string | undefined } {
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
    // Node's message goes on about positionals that start with '-'; the first sentence is the point.
    const message = ((error as Error).message.split("\n")[0] ?? "Invalid arguments").replace(
      /\. To specify a positional argument.*$/,
      "",
    );
    const unknown = /Unknown option '--?([^']+)'/.exec(message)?.[1];
    const guess = unknown ? nearest(unknown, Object.keys(command.options)) : undefined;
    throw new PierError({
      code: "UnknownOption",
      summary: message,
      fix: `${guess ? `Did you mean --${guess}? ` : ""}Run \`pier ${command.path.join(" ")} --help\` for its options.`,
    });
  }
  const maxPositionals = command.positionals?.length ?? 0;
  if (parsed.positionals.length > maxPositionals) {
    throw new PierError({
      code: "UnknownOption",
      summary: `Unexpected argument '${parsed.positionals[maxPositionals]}'`,
      fix: `Run \`pier ${command.path.join(" ")} --help\` for its arguments and options.`,
    });
  }
  const { output, ...options } = parsed.values;
  return {
    options: options as ParsedArgs["options"],
    positionals: parsed.positionals,
    output: output as string | undefined,
  };
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

/** An Azure CLI form: the handler's result under --query, printed as -o says (json by default). */
async function runAz(
  command: AnyCommand,
  args: ParsedArgs,
  output: string | undefined,
  io: CliIo,
): Promise<number> {
  const format = azOutputOf(output);
  const ctx: CommandContext = {
    output: "json",
    out: io.out,
    err: io.err,
    interactive: io.interactive,
    cwd: io.cwd,
    env: io.env,
    ...(io.ask ? { ask: io.ask } : {}),
  };
  const result = await command.handler(args, ctx);
  // An operation with no result (delete, regenerate-keys) prints nothing, as az's.
  if (result === undefined) return command.exitCode?.(result) ?? 0;
  const text = formatAz(applyQuery(result, args.options.query as string | undefined), format);
  if (text !== undefined && text !== "") io.out(text);
  return command.exitCode?.(result) ?? 0;
}

/** Runs pier with `argv` (without node and script); returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const wantsJson =
    argv.some((a, i) => (a === "-o" || a === "--output") && argv[i + 1] === "json") ||
    argv.includes("--output=json");
  const help = argv.includes("--help") || argv.includes("-h");
  try {
    if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
      io.out(globalHelp());
      return 0;
    }
    if (argv[0] === "--version" || argv[0] === "-v") {
      io.out(PIER_VERSION);
      return 0;
    }
    const found = findCommand(argv);
    if (!found) {
      // `pier model` or `pier model tag --help`: the commands under that noun.
      const words = commandWords(argv);
      if (words.length > 0 && under(words).length > 0) {
        if (help) {
          io.out(groupHelp(words));
          return 0;
        }
        io.err(`${groupHelp(words)}\n`);
        return 2;
      }
      throw unknownCommand(argv);
    }
    const { command: entry, rest } = found;
    if (help) {
      io.out(commandHelp(entry));
      return 0;
    }
    const { output, ...args } = parseOptions(entry, entry.az ? azArgv(entry.options, rest) : rest);
    const command = await loadCommand(entry);
    if (command.az) return await runAz(command, args, output, io);
    const ctx: CommandContext = {
      output: outputFormat(output),
      out: io.out,
      err: io.err,
      interactive: io.interactive,
      cwd: io.cwd,
      env: io.env,
      ...(io.ask ? { ask: io.ask } : {}),
    };
    const result = await command.handler(args, ctx);
    if (ctx.output === "json") io.out(JSON.stringify(result, null, 2));
    else command.render(result, ctx);
    return command.exitCode?.(result) ?? 0;
  } catch (thrown) {
    const error = toPierError(thrown);
    if (wantsJson) io.out(JSON.stringify({ error: error.toJSON() }, null, 2));
    else io.err(`${formatError(error)}\n`);
    return error.exitCode;
  }
}

/** One question at the terminal; resolves to the answer. */
function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolveAnswer) =>
    rl.question(question, (answer) => {
      rl.close();
      resolveAnswer(answer);
    }),
  );
}

/** Entry point for bin/pier.js. */
export async function main(): Promise<void> {
  // A reader that goes away (`pier … | head`) is not an error worth a stack trace.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  const code = await runCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(text),
    interactive: process.stderr.isTTY === true,
    cwd: process.cwd(),
    env: process.env,
    ...(process.stdin.isTTY ? { ask } : {}),
  });
  process.exitCode = code;
}
