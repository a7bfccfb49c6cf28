/**
 * The commands as help and the parser see them, without loading their code: `pier --help` or a
 * mistyped command reads one JSON file written at build time (scripts/build-cli-catalog.mjs) instead of
 * importing every command and all it depends on (the ONNX runtime, SQLite, the schema compilers), and
 * a command's own module is imported only when it runs. Without the file (a build that skipped the
 * script) every command is imported, as before.
 */
import { readFileSync } from "node:fs";
import type { AnyCommand, CommandInfo } from "./command.js";

export interface CatalogEntry extends CommandInfo {
  /** The module under commands/ that defines it, the export, and its place when the export is a list. */
  module?: string;
  exportName?: string;
  index?: number;
  /** The command itself, when the catalog was built by importing them all. */
  loaded?: AnyCommand;
}

export async function loadCatalog(): Promise<CatalogEntry[]> {
  try {
    return JSON.parse(readFileSync(new URL("./catalog.json", import.meta.url), "utf8")) as CatalogEntry[];
  } catch {
    const { COMMANDS } = await import("./registry.js");
    return COMMANDS.map((command) => ({ ...command, loaded: command }));
  }
}

/** The whole command: its module imported now. */
export async function loadCommand(entry: CatalogEntry): Promise<AnyCommand> {
  if (entry.loaded) return entry.loaded;
  const module = (await import(`./commands/${entry.module}`)) as Record<string, AnyCommand | AnyCommand[]>;
  const exported = module[entry.exportName!];
  const command = Array.isArray(exported) ? exported[entry.index!] : exported;
  if (!command || command.path.join(" ") !== entry.path.join(" "))
    throw new Error(`the CLI catalog is stale for '${entry.path.join(" ")}': run npm run build`);
  return command;
}
