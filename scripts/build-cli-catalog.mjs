// Writes dist/src/cli/catalog.json: every command's path, summary, options and help text, and the
// module that defines it, so that `pier --help` and the parser load no command code (src/cli/catalog.ts).
import { readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "src", "cli");
const { COMMANDS } = await import(pathToFileURL(join(cli, "registry.js")).href);
const where = new Map();
for (const file of readdirSync(join(cli, "commands")).filter((f) => f.endsWith(".js"))) {
  const module = await import(pathToFileURL(join(cli, "commands", file)).href);
  for (const [exportName, value] of Object.entries(module)) {
    if (Array.isArray(value)) value.forEach((c, index) => where.set(c, { module: file, exportName, index }));
    else where.set(value, { module: file, exportName });
  }
}
const catalog = COMMANDS.map((command) => {
  const place = where.get(command);
  if (!place) throw new Error(`pier ${command.path.join(" ")} is not exported by a module under commands/`);
  const { handler, render, exitCode, ...info } = command;
  return { ...info, ...place };
});
writeFileSync(join(cli, "catalog.json"), JSON.stringify(catalog));
console.log(`cli catalog: ${catalog.length} commands`);
