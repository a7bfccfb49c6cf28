import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { userError } from "../../shared/index.js";
import { defineCommand, required } from "../command.js";
import { connect, nameArgument, nameOption } from "./api-common.js";

export const endpointInvoke = defineCommand({
  path: ["endpoint", "invoke"],
  summary:
    "Send a request file to an endpoint's /score (optionally to one deployment); a .jsonl file is replayed, one request a line",
  positionals: [{ name: "NAME", description: "endpoint name" }],
  options: {
    ...nameOption,
    "request-file": { type: "string", valueName: "FILE.json", description: "request body (required)" },
    "deployment-name": {
      type: "string",
      short: "d",
      valueName: "NAME",
      description: "send to this deployment, whatever its traffic",
    },
  },
  examples: [
    "pier endpoint invoke fin-behavior --request-file sample.json",
    "pier endpoint invoke fin-behavior --request-file sample.json --deployment-name green",
    "pier endpoint invoke fin-behavior --request-file requests.jsonl",
  ],
  async handler(args, ctx) {
    const name = nameArgument(
      args,
      "endpoint",
      "pier endpoint invoke fin-behavior --request-file sample.json",
    );
    const file = resolve(
      ctx.cwd,
      required(args.options["request-file"], "--request-file", "--request-file sample.json"),
    );
    let body: string;
    try {
      body = readFileSync(file, "utf8");
    } catch {
      throw userError(
        "FileNotFound",
        `Cannot read ${file}`,
        "Pass an existing JSON file with --request-file.",
      );
    }
    const api = connect(ctx);
    const deployment = args.options["deployment-name"];
    const send = (text: string) =>
      api.score({ endpoint: name, body: text, ...(deployment ? { deployment } : {}) });
    if (!file.endsWith(".jsonl")) {
      const answer = await send(body);
      let parsed: unknown = answer.text;
      try {
        parsed = JSON.parse(answer.text);
      } catch {}
      return { status: answer.status, deployment: answer.deployment, body: parsed };
    }
    // A JSONL file is a replay: one request a line, four at a time, counted by status and deployment.
    const lines = body.split("\n").filter((line) => line.trim() !== "");
    const statuses: Record<string, number> = {};
    const deployments: Record<string, number> = {};
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < lines.length) {
        const answer = await send(lines[next++]!);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        const served = answer.deployment ?? "(none)";
        deployments[served] = (deployments[served] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, lines.length) }, worker));
    return {
      status: Object.keys(statuses).every((s) => s === "200")
        ? 200
        : Number(Object.keys(statuses).find((s) => s !== "200")),
      deployment: null,
      body: { requests: lines.length, statuses, deployments, seconds: (performance.now() - started) / 1000 },
      replay: true,
    };
  },
  render(result, ctx) {
    if ("replay" in result) {
      const r = result.body as {
        requests: number;
        statuses: Record<string, number>;
        deployments: Record<string, number>;
        seconds: number;
      };
      ctx.out(
        `Sent ${r.requests} requests in ${r.seconds.toFixed(1)} s: ${Object.entries(r.statuses)
          .map(([s, n]) => `${n} × ${s}`)
          .join(", ")}; served by ${Object.entries(r.deployments)
          .map(([d, n]) => `${d} ${n}`)
          .join(", ")}`,
      );
      return;
    }
    ctx.out(typeof result.body === "string" ? result.body : JSON.stringify(result.body));
    if (result.status !== 200)
      ctx.err(`✘ HTTP ${result.status}${result.deployment ? ` from deployment ${result.deployment}` : ""}\n`);
  },
  exitCode: (result) => (result.status === 200 ? 0 : 1),
});
