import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type EnvironmentRecord, environmentDir } from "../../env/index.js";
import { defineCommand, pierHome } from "../command.js";
import { renderEnvironment } from "../format.js";
import { positional } from "./model-common.js";

export const envShow = defineCommand({
  path: ["env", "show"],
  summary: "Show one environment: its pins, its interpreter and its build log",
  positionals: [
    { name: "HASH", description: "the environment's hash (or its first 4+ characters)", required: true },
  ],
  options: {
    lines: { type: "string", valueName: "N", description: "lines of the build log to show (default 40)" },
  },
  async handler(args, ctx) {
    const dir = environmentDir(pierHome(ctx), positional(args, 0, "HASH", "pier env show 3f2a"));
    const record = JSON.parse(readFileSync(join(dir, "env.json"), "utf8")) as EnvironmentRecord;
    const lines = Number(args.options.lines ?? 40);
    const log = existsSync(join(dir, "build.log"))
      ? readFileSync(join(dir, "build.log"), "utf8").split("\n")
      : [];
    return {
      ...record,
      log: join(dir, "build.log"),
      logTail: log.filter(Boolean).slice(-(Number.isFinite(lines) && lines > 0 ? lines : 40)),
    };
  },
  render(e, ctx) {
    renderEnvironment(e, ctx.out);
    if (e.error) ctx.out(`  ✘ ${e.error.code}: ${e.error.summary}`);
    ctx.out(`  interpreter: ${e.python}`);
    ctx.out(`  packages from: ${e.source}`);
    ctx.out(`  pins: ${e.requirements.join(", ")}`);
    ctx.out(`  build log (${e.log}):`);
    for (const line of e.logTail) ctx.out(`    ${line}`);
  },
});
