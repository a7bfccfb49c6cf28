import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { loadDeploymentFile, loadRolloutFile } from "../../config/index.js";
import { userError } from "../../shared/index.js";
import {
  type CommandContext,
  choiceOption,
  defineCommand,
  FIDELITIES,
  fidelityOption,
  intOption,
} from "../command.js";
import { connect, progressLine } from "./api-common.js";
import { renderRollout, rolloutEndpoint, rolloutEndpointOption } from "./rollout-common.js";
import { followRollout } from "./rollout-status.js";

/** The request bodies of a JSONL file, one a line (checked before the rollout starts). */
function readBodies(file: string): string[] {
  let lines: string[];
  try {
    lines = readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "");
  } catch {
    throw userError(
      "FileNotFound",
      `Cannot read ${file}`,
      "Pass a JSONL file of request bodies: pier data synth --as requests --out requests.jsonl",
    );
  }
  if (lines.length === 0)
    throw userError(
      "BadArgument",
      `${file} has no request bodies`,
      "Write one body a line: pier data synth --as requests --out requests.jsonl",
    );
  return lines;
}

/**
 * Sends the file's request bodies to the endpoint, round and round, four at a time, until stopped: the
 * live traffic a rollout's bakes are judged on, when nobody else sends any.
 */
function sendUntilEnded(ctx: CommandContext, endpoint: string, lines: readonly string[]) {
  const api = connect(ctx);
  const statuses: Record<string, number> = {};
  let total = 0;
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped) {
      const body = lines[next++ % lines.length]!;
      const status = await api.score({ endpoint, body }).then(
        (answer) => String(answer.status),
        () => "unreachable",
      );
      statuses[status] = (statuses[status] ?? 0) + 1;
      total++;
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(workers);
      return { total, statuses };
    },
  };
}

export const rolloutStart = defineCommand({
  path: ["rollout", "start"],
  summary:
    "Move an endpoint to a new deployment step by step: smoke, shadow bake, traffic steps, promote; rolled back by itself on any failed check",
  options: {
    ...rolloutEndpointOption,
    file: {
      type: "string",
      short: "f",
      valueName: "green.yml",
      description: "the new deployment's YAML (created, or updated, at 0 %)",
    },
    deployment: { type: "string", valueName: "NAME", description: "…or a deployment that exists at 0 %" },
    rollout: {
      type: "string",
      short: "r",
      valueName: "rollout.yml",
      description: "the rollout file (strategy, shadow, analysis, smoke)",
    },
    strategy: { type: "string", valueName: "canary|linear|all_at_once", description: "default canary" },
    "canary-size": { type: "string", valueName: "PERCENT", description: "canary step, 1–50 (default 10)" },
    "linear-step": { type: "string", valueName: "PERCENT", description: "linear step, 10–50 (default 25)" },
    wait: { type: "string", valueName: "SECONDS", description: "bake after each step, 0–3600 (default 60)" },
    "shadow-percent": {
      type: "string",
      valueName: "PERCENT",
      description: "live traffic mirrored in the shadow bake, 0–50 (default 20; 0 skips it)",
    },
    "termination-wait": {
      type: "string",
      valueName: "SECONDS",
      description: "keep the old deployment this long after promotion (default 0)",
    },
    "max-time": {
      type: "string",
      valueName: "SECONDS",
      description: "execution timeout: held past it (default 3600)",
    },
    "keep-old": { type: "boolean", description: "keep the old deployment at 0 % after promotion" },
    watch: { type: "boolean", description: "follow the rollout until it ends (exit 1 unless it Succeeded)" },
    send: {
      type: "string",
      valueName: "requests.jsonl",
      description:
        "be the traffic the bakes judge: send these request bodies (one a line, round and round, 4 at a time) to the endpoint until the rollout ends (implies --watch)",
    },
    ...fidelityOption,
  },
  examples: [
    "pier rollout start -e fin-behavior -f green.yml --watch",
    "pier rollout start -e fin-behavior --deployment green --strategy linear --linear-step 25 --wait 120",
    "pier rollout start -e fin-behavior -f green.yml -r rollout.yml",
    "pier rollout start -e fin-behavior -f examples/green-deployment.yml --send requests.jsonl",
  ],
  async handler(args, ctx) {
    const endpoint = rolloutEndpoint(args, "start");
    const o = args.options;
    const seconds = (name: keyof typeof o & string, max: number) =>
      intOption(o[name] as string | undefined, name, { min: 0, max });
    const rollout = loadRolloutFile(
      o.rollout,
      {
        ...(o.strategy !== undefined
          ? { strategy: choiceOption(o.strategy, "strategy", ["canary", "linear", "all_at_once"] as const)! }
          : {}),
        ...(o["canary-size"] !== undefined ? { canarySize: seconds("canary-size", 50) } : {}),
        ...(o["linear-step"] !== undefined ? { linearStepSize: seconds("linear-step", 50) } : {}),
        ...(o.wait !== undefined ? { waitSeconds: seconds("wait", 3600) } : {}),
        ...(o["shadow-percent"] !== undefined ? { shadowPercent: seconds("shadow-percent", 50) } : {}),
        ...(o["termination-wait"] !== undefined
          ? { terminationWaitSeconds: seconds("termination-wait", 3600) }
          : {}),
        ...(o["max-time"] !== undefined ? { maxSeconds: seconds("max-time", 28_800) } : {}),
        ...(o["keep-old"] ? { keepOld: true } : {}),
      },
      ctx.cwd,
    );
    const bodies = o.send ? readBodies(resolve(ctx.cwd, o.send)) : undefined;
    const path = o.file === undefined ? undefined : resolve(ctx.cwd, o.file);
    const loaded = path ? loadDeploymentFile(path) : undefined;
    for (const warning of loaded?.warnings ?? []) ctx.err(`⚠ ${warning}\n`);
    const fidelity = choiceOption(o.fidelity, "fidelity", FIDELITIES);
    const started = await connect(ctx).stream(
      "rollouts.start",
      {
        endpoint,
        body: {
          rollout,
          ...(o.rollout ? { rolloutSource: resolve(ctx.cwd, o.rollout) } : {}),
          ...(loaded && path ? { spec: loaded.document, source: path, specDir: dirname(path) } : {}),
          ...(o.deployment ? { deployment: o.deployment } : {}),
          ...(fidelity ? { fidelity } : {}),
        },
      },
      progressLine(ctx),
    );
    if (!o.send) return o.watch ? followRollout(endpoint, ctx) : started;
    const sending = sendUntilEnded(ctx, endpoint, bodies!);
    try {
      return await followRollout(endpoint, ctx);
    } finally {
      const sent = await sending.stop();
      ctx.err(
        `  sent ${sent.total} requests as a client: ${Object.entries(sent.statuses)
          .map(([status, n]) => `${n} × ${status}`)
          .join(", ")}\n`,
      );
    }
  },
  render: (record, ctx) => renderRollout(record, ctx),
  exitCode: (record) => (record.state === "Running" || record.state === "Succeeded" ? 0 : 1),
});
